//! `explain`: the cause of a batch's or a frame's divergence, with the steps of both engines
//! around it.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::{load_input_file, FrameFile, InputFile},
    divergence::{cause::Cause, explain::Explanation},
    engine::Observe,
    pipeline::RunOptions,
    steps::Step,
};
use serde::Serialize;

use super::{status, summarizing_vm_output, CommandResult, EngineArgs, WorldArgs};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A batch file or a frame file.
    path: PathBuf,
    #[command(flatten)]
    world: WorldArgs,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    verbose: bool,
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
        let file = match load_input_file(&self.path)? {
            InputFile::Batch(file) => file,
            InputFile::Frame(file) => return self.explain_frame(&file),
        };
        let world = self.world.load()?;
        let prepared = file
            .prepare(&world)
            .map_err(|err| err.within(self.path.display()))?;
        let differential = self.engines.differential(world)?;
        let comparison = summarizing_vm_output(self.verbose, || {
            differential.run_prepared(&prepared, &RunOptions::TRACED)
        })?;
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
            let engines = [differential.reference.name(), differential.candidate.name()];
            print_window(engines, cause, &explanation.window);
        }
        Ok(status(explanation.tolerated_only))
    }

    /// The cause of a frame file's divergence, with the steps around it.
    fn explain_frame(&self, file: &FrameFile) -> CommandResult {
        let frame = file
            .prepare()
            .map_err(|err| err.within(self.path.display()))?;
        let differential = self.engines.frame_differential()?;
        let comparison = summarizing_vm_output(self.verbose, || {
            differential.run(&frame, &Observe::default())
        })?;
        let Some(cause) = &comparison.cause else {
            println!(
                "EQUAL  {}: outcomes and steps agree, nothing to explain",
                self.path.display()
            );
            return Ok(status(true));
        };
        let differences: Vec<String> = (comparison.differences.iter())
            .map(ToString::to_string)
            .collect();
        if self.json {
            let explained = ExplainedFrame {
                frame: self.path.display().to_string(),
                differences: &differences,
                explanation: Explanation {
                    cause: cause.clone(),
                    tolerated_only: false,
                    window: comparison.window.clone(),
                },
            };
            let json = serde_json::to_string_pretty(&explained).expect("explanations serialize");
            println!("{json}");
        } else {
            println!("CAUSE  {}  {}", cause.fingerprint, self.path.display());
            println!("  {}", cause.summary());
            match differences.is_empty() {
                true => println!("  symptom: none: the outcomes agree, only the steps differ"),
                false => println!("  symptom: {}", differences.join("; ")),
            }
            let engines = [differential.reference.name(), differential.candidate.name()];
            print_window(engines, cause, &comparison.window);
        }
        Ok(status(false))
    }
}

/// What `explain --json` prints for a frame file.
#[derive(Serialize)]
struct ExplainedFrame<'a> {
    frame: String,
    /// The symptom: each differing field of the outcomes (none when only the steps differ).
    differences: &'a [String],
    #[serde(flatten)]
    explanation: Explanation,
}

/// The aligned steps of both engines, the cause's marked.
fn print_window(
    [reference, candidate]: [&str; 2],
    cause: &Cause,
    window: &[(usize, Option<Step>, Option<Step>)],
) {
    for (index, a, b) in window {
        let marker = if Some(*index) == cause.step { ">" } else { " " };
        let show = |step: &Option<Step>| {
            step.as_ref()
                .map_or_else(|| "(no step)".to_owned(), ToString::to_string)
        };
        println!("{marker}{index:>7} {reference:<10} {}", show(a));
        println!("{:>8} {candidate:<10} {}", "", show(b));
    }
}
