//! `explain`: the cause of a batch's divergence, with the steps of both engines around it.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::load_batch_file, divergence::explain::Explanation, pipeline::RunOptions,
    steps::Step, world::WorldSource,
};
use serde::Serialize;

use super::{status, CommandResult, EngineArgs};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A batch file.
    path: PathBuf,
    #[arg(long, default_value = "default")]
    world: WorldSource,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
}

/// What `explain --json` prints.
#[derive(Serialize)]
struct Explained<'a> {
    batch: String,
    /// The symptom: the outcome-level fingerprint and its signature (none when only the steps
    /// differ).
    fingerprint: Option<&'a str>,
    signature: Option<&'a [String]>,
    #[serde(flatten)]
    explanation: &'a Explanation,
}

impl ExplainArgs {
    pub fn execute(self) -> CommandResult {
        let world = self.world.load()?;
        let file = load_batch_file(&self.path)?;
        let prepared = file
            .prepare(&world)
            .map_err(|err| err.within(self.path.display()))?;
        let differential = self.engines.differential(world)?;
        let comparison = differential.run_prepared(&prepared, &RunOptions::TRACED);
        let divergence = comparison.divergence;
        let Some(explanation) = comparison.explanation else {
            println!(
                "EQUAL  {}: outcomes and steps agree, nothing to explain",
                self.path.display()
            );
            return Ok(status(true));
        };
        if self.json {
            let explained = Explained {
                batch: self.path.display().to_string(),
                fingerprint: divergence.as_ref().map(|d| d.fingerprint.as_str()),
                signature: divergence.as_ref().map(|d| d.signature.as_slice()),
                explanation: &explanation,
            };
            let json = serde_json::to_string_pretty(&explained).expect("explanations serialize");
            println!("{json}");
        } else {
            let cause = &explanation.cause;
            println!("CAUSE  {}  {}", cause.fingerprint, self.path.display());
            println!("  {}", cause.summary());
            match &divergence {
                Some(divergence) => println!(
                    "  symptom: {} ({})",
                    divergence.fingerprint,
                    divergence.signature.join("; ")
                ),
                None => println!("  symptom: none: the outcomes agree, only the steps differ"),
            }
            let (reference, candidate) =
                (differential.reference.name(), differential.candidate.name());
            for (index, a, b) in &explanation.window {
                let marker = if Some(*index) == cause.step { ">" } else { " " };
                let show = |step: &Option<Step>| {
                    step.as_ref()
                        .map_or_else(|| "(no step)".to_owned(), ToString::to_string)
                };
                println!("{marker}{index:>7} {reference:<10} {}", show(a));
                println!("{:>8} {candidate:<10} {}", "", show(b));
            }
        }
        Ok(status(explanation.tolerated_only))
    }
}
