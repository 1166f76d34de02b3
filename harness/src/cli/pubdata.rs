//! `pubdata`: the pubdata an engine published for a batch, decoded, and what the
//! data-availability oracle says of it.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::{load_batch_file, PreparedBatch},
    chain::chain_outcomes,
    pubdata::{da, Pubdata},
    world::load_dump,
};
use serde::Serialize;

use super::{engine_for, engine_name, status, CommandResult, WorldArgs};

#[derive(clap::Args)]
pub struct PubdataArgs {
    /// A batch file, or a VM dump (`*.json`, which brings its own world).
    path: PathBuf,
    /// The world for a batch file.
    #[command(flatten)]
    world: WorldArgs,
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
        let prepared = if self.path.extension().is_some_and(|ext| ext == "json") {
            let dump = load_dump(&self.path)?;
            PreparedBatch::single(dump.world, dump.batch)
        } else {
            let world = self.world.load()?;
            load_batch_file(&self.path)?
                .prepare(&world)
                .map_err(|err| err.within(self.path.display()))?
        };
        let engine = engine_for(&self.engine, &prepared.world)?;
        let (runs, _) = chain_outcomes(&*engine, &prepared);
        let mut all_ok = true;
        let decoded: Vec<Decoded> = (runs.iter().enumerate())
            .map(|(index, (world, batch, outcome))| {
                let bytes = (outcome.batch.as_ref())
                    .and_then(|sealed| sealed.pubdata_input.as_ref())
                    .map(|bytes| bytes.0.as_slice());
                let da_oracle = match da::check(outcome, world, batch) {
                    Ok(Some(rebuilt)) => rebuilt.to_string(),
                    Ok(None) => "nothing published (the batch was not sealed)".to_owned(),
                    Err(violation) => {
                        all_ok = false;
                        format!("violation: {violation}")
                    }
                };
                Decoded {
                    batch: match prepared.batches() {
                        1 => self.path.display().to_string(),
                        _ => format!("{} (L1 batch {index})", self.path.display()),
                    },
                    engine: self.engine.clone(),
                    bytes: bytes.map_or(0, <[u8]>::len),
                    da_oracle,
                    pubdata: bytes.and_then(|bytes| Pubdata::decode(bytes).ok()),
                }
            })
            .collect();
        // One document for one L1 batch, a list for a chain.
        let text = match (self.json, decoded.as_slice()) {
            (true, [one]) => serde_json::to_string_pretty(one).expect("pubdata serializes") + "\n",
            (true, all) => serde_json::to_string_pretty(all).expect("pubdata serializes") + "\n",
            (false, [one]) => serde_yaml::to_string(one).expect("pubdata serializes"),
            (false, all) => serde_yaml::to_string(all).expect("pubdata serializes"),
        };
        print!("{text}");
        Ok(status(all_ok))
    }
}
