//! `serve-engine`: one in-process engine behind the engine protocol, on stdin and stdout (what
//! `process:NAME` runs, and an example of the child side).

use eravm_diff::{engine, support::error::InputError};

use super::{by_name, engine_name, status, CommandResult};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The engine to serve.
    #[arg(value_parser = engine_name)]
    engine: String,
    /// For testing fault handling: `abort|hang|garbage:MARKER` misbehaves on the first batch
    /// served while file MARKER does not exist (and creates it).
    #[arg(long, hide = true)]
    fault: Option<String>,
}

impl ServeArgs {
    pub fn execute(self) -> CommandResult {
        let engine = by_name(&self.engine)?;
        engine::remote::serve_stdio(&*engine, self.fault.as_deref())
            .map_err(|err| InputError::new("the engine protocol", err.to_string()))?;
        Ok(status(true))
    }
}
