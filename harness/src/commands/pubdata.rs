//! `pubdata`: the pubdata an engine published for a batch, decoded, and what the
//! data-availability oracle says of it.

use std::path::PathBuf;

use eravm_diff::{
    pubdata::{oracle, Pubdata},
    spec::load_batch_file,
    world::{load_dump, WorldSource},
};
use serde::Serialize;

use super::{engine_for, engine_name, status, CommandResult};

#[derive(clap::Args)]
pub struct PubdataArgs {
    /// A batch file, or a VM dump (`*.json`, which brings its own world).
    path: PathBuf,
    /// The world for a batch file.
    #[arg(long, default_value = "default")]
    world: WorldSource,
    /// The engine whose pubdata to decode.
    #[arg(long, default_value = "vm_fast", value_parser = engine_name)]
    engine: String,
    /// Print JSON instead of YAML.
    #[arg(long)]
    json: bool,
}

/// What `pubdata` prints.
#[derive(Serialize)]
struct Decoded {
    batch: String,
    engine: String,
    bytes: usize,
    /// `rebuilt N slots from M bytes, ok`, or the first violation.
    da_oracle: String,
    pubdata: Option<Pubdata>,
}

impl PubdataArgs {
    pub fn execute(self) -> CommandResult {
        let (world, batch) = if self.path.extension().is_some_and(|ext| ext == "json") {
            let dump = load_dump(&self.path)?;
            (dump.world, dump.batch)
        } else {
            let world = self.world.load()?;
            let prepared = load_batch_file(&self.path)?
                .prepare(&world)
                .map_err(|err| err.within(self.path.display()))?;
            (prepared.world, prepared.batch)
        };
        let outcome = engine_for(&self.engine, &world)?.run(&world, &batch);
        let bytes = outcome
            .batch
            .as_ref()
            .and_then(|sealed| sealed.pubdata_input.as_ref())
            .map(|bytes| bytes.0.as_slice());
        let (da_oracle, ok) = match oracle::check(&outcome, &world, &batch) {
            Ok(Some(rebuilt)) => (rebuilt.to_string(), true),
            Ok(None) => (
                "nothing published (the batch was not sealed)".to_owned(),
                true,
            ),
            Err(violation) => (format!("violation: {violation}"), false),
        };
        let decoded = Decoded {
            batch: self.path.display().to_string(),
            engine: self.engine,
            bytes: bytes.map_or(0, <[u8]>::len),
            da_oracle,
            pubdata: bytes.and_then(|bytes| Pubdata::decode(bytes).ok()),
        };
        if self.json {
            let text = serde_json::to_string_pretty(&decoded);
            println!("{}", text.expect("decoded pubdata serializes to JSON"));
        } else {
            let text = serde_yaml::to_string(&decoded);
            print!("{}", text.expect("decoded pubdata serializes to YAML"));
        }
        Ok(status(ok))
    }
}
