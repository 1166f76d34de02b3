//! `fuzz` and `coverage`: seeded generation without libFuzzer.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use eravm_diff::{
    coverage::{measure, opcode_variants},
    error::InputError,
    fuzz::{fuzz, FuzzOptions},
    generate::GeneratorConfig,
    minimize::Minimizer,
    world::WorldSource,
};

use super::{default_jobs, pool, status, CommandResult, SessionArgs};

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Time budget.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value = "findings")]
    findings: PathBuf,
    /// Minimize each new finding before it is left in the findings directory.
    #[arg(long)]
    minimize: bool,
    #[command(flatten)]
    session: SessionArgs,
}

impl FuzzArgs {
    pub fn execute(self) -> CommandResult {
        let session = self.session.load()?;
        let diff = session.differential();
        let (reference, candidate) = (diff.reference, diff.candidate);
        let options = FuzzOptions {
            diff,
            budget: self.session.budget(Duration::from_secs(self.seconds)),
            findings: &self.findings,
            known: &session.known,
        };
        eprintln!(
            "fuzzing {} against {} with seed {} on {} jobs; findings go to {}",
            candidate.name(),
            reference.name(),
            self.session.seed,
            self.session.jobs,
            self.findings.display()
        );
        let start = Instant::now();
        let progress = |executions: u64, found: usize| {
            let seconds = start.elapsed().as_secs_f64();
            eprintln!(
                "[{seconds:>6.1}s] {executions} executions ({:.1}/s), {found} new findings",
                executions as f64 / seconds
            );
        };
        let summary = fuzz(&options, &progress)
            .map_err(|err| InputError::at(&self.findings, format!("cannot write: {err}")))?;
        println!(
            "{} executions in {:.1} s: {:.1} executions/s; {} divergent samples, {} new fingerprints",
            summary.executions,
            summary.elapsed.as_secs_f64(),
            summary.executions_per_second(),
            summary.divergent_samples,
            summary.findings.len()
        );
        let pool = pool(self.session.jobs)?;
        for finding in &summary.findings {
            let divergence = &finding.divergence;
            println!(
                "  {}  sample {}  {}",
                divergence.fingerprint,
                finding.sample,
                finding.path.display()
            );
            for line in &divergence.signature {
                println!("      {line}");
            }
            if self.minimize {
                let minimizer = Minimizer {
                    world: diff.world,
                    reference,
                    candidate,
                    fingerprint: divergence.fingerprint.clone(),
                    progress: &|line| eprintln!("  {line}"),
                };
                let minimized = pool
                    .install(|| minimizer.minimize_into(&finding.file, &finding.path))
                    .map_err(|err| InputError::at(&finding.path, format!("cannot write: {err}")))?;
                println!("      minimized: {}", minimized.after);
            }
        }
        Ok(status(summary.findings.is_empty()))
    }
}

#[derive(clap::Args)]
pub struct CoverageArgs {
    #[arg(long, default_value_t = 1000)]
    samples: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = default_jobs())]
    jobs: usize,
    #[arg(long, default_value = "default")]
    world: WorldSource,
}

impl CoverageArgs {
    pub fn execute(self) -> CommandResult {
        let world = self.world.load()?;
        let generator = GeneratorConfig::for_world(&world);
        let start = Instant::now();
        let coverage =
            pool(self.jobs)?.install(|| measure(&world, &generator, self.seed, self.samples));
        println!(
            "{:<32} {:>12} {:>12}",
            "opcode variant", "emitted", "executed"
        );
        for opcode in opcode_variants() {
            let count = |counts: &std::collections::BTreeMap<_, u64>| {
                counts.get(&opcode).copied().unwrap_or(0)
            };
            println!(
                "{:<32} {:>12} {:>12}",
                format!("{opcode:?}"),
                count(&coverage.emitted),
                count(&coverage.executed)
            );
        }
        let (not_emitted, not_executed) = coverage.gaps();
        let variants = opcode_variants().len();
        println!(
            "{} samples (seed {}) in {:.1} s: {}/{variants} variants emitted, {}/{variants} executed",
            coverage.samples,
            self.seed,
            start.elapsed().as_secs_f64(),
            variants - not_emitted.len(),
            variants - not_executed.len()
        );
        for (what, gaps) in [
            ("never emitted", &not_emitted),
            ("never executed", &not_executed),
        ] {
            if !gaps.is_empty() {
                println!("{what}: {gaps:?}");
            }
        }
        Ok(status(not_emitted.is_empty() && not_executed.is_empty()))
    }
}
