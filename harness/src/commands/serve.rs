//! `serve-engine`: one in-process engine behind the engine protocol, on stdin and stdout (what
//! `process:NAME` runs, and an example of the child side).

use std::{
    fs::File,
    io::{self, BufWriter},
    os::fd::FromRawFd,
};

use eravm_diff::{engine, error::InputError};

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
        // Frames go to the original stdout; anything else printing to stdout (a VM's println!)
        // goes to stderr instead of corrupting them.
        // SAFETY: plain descriptor calls on descriptors this process owns.
        let protocol = unsafe { libc::dup(1) };
        if protocol < 0 || unsafe { libc::dup2(2, 1) } < 0 {
            let err = io::Error::last_os_error();
            return Err(InputError::new("stdout", format!("cannot redirect: {err}")));
        }
        // SAFETY: `protocol` is a fresh descriptor that nothing else owns.
        let output = BufWriter::new(unsafe { File::from_raw_fd(protocol) });
        let engine = by_name(&self.engine);
        engine::serve(&*engine, io::stdin().lock(), output, self.fault.as_deref())
            .map_err(|err| InputError::new("the engine protocol", err.to_string()))?;
        Ok(status(true))
    }
}
