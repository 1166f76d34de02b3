//! `minimize`: a diverging batch, frame or libFuzzer input to a regression vector.

use std::{fmt::Display, path::PathBuf};

use eravm_diff::{
    batch_file::{FrameFile, InputFile},
    drive::minimize::{load_input, FrameMinimizer, Minimizer},
    engine::Observe,
    findings::{describe, Disagreement},
    generate::GeneratorConfig,
    pipeline::RunOptions,
    support::error::InputError,
};

use super::{default_jobs, pool, status, CommandResult, EngineArgs, WorldArgs};

#[derive(clap::Args)]
pub struct MinimizeArgs {
    /// A `.yaml`/`.yml` batch or frame file, or any other file as `diff_batch` fuzzer bytes.
    input: PathBuf,
    /// Where to write the minimized batch (e.g. vectors/NAME.yaml).
    #[arg(short, long)]
    output: PathBuf,
    /// The cause to keep (default: the one the input shows); a symptom fingerprint (`fp-…`)
    /// keeps that symptom.
    #[arg(long, alias = "fingerprint")]
    key: Option<String>,
    #[arg(long, default_value_t = default_jobs())]
    jobs: usize,
    #[command(flatten)]
    world: WorldArgs,
    #[command(flatten)]
    engines: EngineArgs,
}

impl MinimizeArgs {
    pub fn execute(self) -> CommandResult {
        let input = &self.input;
        let world = self.world.load()?;
        let mut file = match load_input(input, &GeneratorConfig::for_world(&world))? {
            InputFile::Batch(file) => file,
            InputFile::Frame(file) => return self.minimize_frame(file),
        };
        let differential = self.engines.differential(world)?;
        let comparison = differential
            .run_file(&file, &RunOptions::default())
            .map_err(|err| err.within(input.display()))?;
        let Some(shown) = comparison.key() else {
            return Err(InputError::at(
                input,
                "the engines agree on it: nothing to minimize",
            ));
        };
        if let Some(wanted) = self.key.as_ref().filter(|wanted| !comparison.shows(wanted)) {
            return Err(InputError::at(
                input,
                format!("it shows {shown}, not {wanted}"),
            ));
        }
        let disagreement = Disagreement::of(comparison).expect("the engines disagree");
        let key = (self.key.clone()).unwrap_or_else(|| disagreement.key().to_owned());
        if let Some(cause) = &disagreement.cause {
            eprintln!("cause {}: {}", cause.fingerprint, cause.summary());
        }
        if file.expect.is_none() {
            file.description = Some(describe(&disagreement));
        }
        eprintln!("minimizing {key} ({})", disagreement.signature().join("; "));
        let minimizer = Minimizer {
            differential: &differential,
            key: key.clone(),
            progress: &|line| eprintln!("  {line}"),
        };
        let minimized = pool(self.jobs)?
            .install(|| minimizer.minimize_into(&file, &self.output))
            .map_err(|err| InputError::at(&self.output, format!("cannot write: {err}")))?;
        self.report(
            &minimized.before,
            &minimized.after,
            minimized.candidates,
            &key,
        );
        Ok(status(true))
    }

    /// Prints what a minimization did.
    fn report(&self, before: &impl Display, after: &impl Display, candidates: u64, key: &str) {
        println!("before: {before}");
        println!("after:  {after}");
        println!(
            "{candidates} candidates; {} written, keeping {key}",
            self.output.display()
        );
    }

    /// Minimizes a frame file, keeping its cause.
    fn minimize_frame(&self, mut file: FrameFile) -> CommandResult {
        let input = &self.input;
        let frame = file.prepare().map_err(|err| err.within(input.display()))?;
        let differential = self.engines.frame_differential()?;
        let comparison = differential.run(&frame, &Observe::default());
        let Some(cause) = comparison.cause else {
            return Err(InputError::at(
                input,
                "the engines agree on it: nothing to minimize",
            ));
        };
        if let Some(wanted) = self
            .key
            .as_ref()
            .filter(|wanted| **wanted != cause.fingerprint)
        {
            return Err(InputError::at(
                input,
                format!("it shows {}, not {wanted}", cause.fingerprint),
            ));
        }
        eprintln!("minimizing {}: {}", cause.fingerprint, cause.summary());
        if file.expect.is_none() {
            file.description = Some(format!(
                "Unexplained cause {}: {}",
                cause.fingerprint,
                cause.summary()
            ));
        }
        let minimizer = FrameMinimizer {
            differential: &differential,
            key: cause.fingerprint.clone(),
            progress: &|line| eprintln!("  {line}"),
        };
        let minimized = pool(self.jobs)?
            .install(|| minimizer.minimize_into(&file, &self.output))
            .map_err(|err| InputError::at(&self.output, format!("cannot write: {err}")))?;
        let key = &cause.fingerprint;
        self.report(
            &minimized.before,
            &minimized.after,
            minimized.candidates,
            key,
        );
        Ok(status(true))
    }
}
