//! `fuzz` and `coverage`: seeded generation without libFuzzer.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use eravm_diff::{
    console,
    drive::{
        coverage::{measure, measure_frames, Region},
        fuzz::{fuzz, fuzz_frames, FrameFuzzOptions, FuzzOptions},
        minimize::{FrameMinimizer, Minimizer},
    },
    generate::{GeneratorConfig, Profile},
    isa::{model, opcode_variants},
    support::{error::InputError, files::write_atomic},
};

use super::{
    default_jobs, finish_capture, load_known, pool, status, CommandResult, EngineArgs, Level,
    SessionArgs, WorldArgs,
};

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
    /// `batch`: generated batches through the bootloader; `frame`: generated programs straight
    /// on zk_evm and zksync_vm2, every instruction compared (`--profile` and `--world` do not
    /// apply).
    #[arg(long, value_enum, default_value_t)]
    level: Level,
    #[command(flatten)]
    session: SessionArgs,
}

impl FuzzArgs {
    pub fn execute(self) -> CommandResult {
        if self.level == Level::Frame {
            return self.fuzz_frames();
        }
        let session = self.session.load()?;
        let differential = &session.differential;
        let options = FuzzOptions {
            search: session.search(self.session.budget(Duration::from_secs(self.seconds))),
            findings: &self.findings,
        };
        console!(
            "fuzzing {} against {} with seed {} on {} jobs; findings go to {}",
            differential.candidate.name(),
            differential.reference.name(),
            self.session.seed,
            self.session.jobs,
            self.findings.display()
        );
        let progress = progress(Instant::now());
        let capture = self.session.capture()?;
        let summary = fuzz(&options, &progress);
        let vm_output = finish_capture(capture);
        let summary = summary
            .map_err(|err| InputError::at(&self.findings, format!("cannot write: {err}")))?;
        println!(
            "{} executions in {:.1} s: {:.1} executions/s; {} divergent samples, {} new causes",
            summary.executions,
            summary.elapsed.as_secs_f64(),
            summary.executions_per_second(),
            summary.divergent_samples,
            summary.findings.len()
        );
        if vm_output.total() > 0 {
            println!("VM output (captured; --verbose shows it): {vm_output}");
        }
        let pool = pool(self.session.jobs)?;
        for finding in &summary.findings {
            let disagreement = &finding.disagreement;
            println!(
                "  {}  sample {}  {}",
                disagreement.key(),
                finding.sample,
                finding.path.display()
            );
            for line in disagreement.signature() {
                println!("      {line}");
            }
            if self.minimize {
                let minimizer = Minimizer {
                    differential,
                    key: finding.disagreement.key().to_owned(),
                    progress: &|line| console!("  {line}"),
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

impl FuzzArgs {
    fn fuzz_frames(self) -> CommandResult {
        let differential = self.session.engines.frame_differential()?;
        let known = load_known(&self.session.vectors)?;
        let batch_level = self
            .session
            .engines
            .differential(self.session.world.load()?)?;
        let options = FrameFuzzOptions {
            differential: &differential,
            known: &known,
            budget: self.session.budget(Duration::from_secs(self.seconds)),
            findings: &self.findings,
            lift: Some(&batch_level),
        };
        console!(
            "fuzzing frames on {} with seed {} on {} jobs; findings go to {}",
            differential.engines(),
            self.session.seed,
            self.session.jobs,
            self.findings.display()
        );
        let progress = progress(Instant::now());
        let capture = self.session.capture()?;
        let summary = fuzz_frames(&options, &progress);
        let vm_output = finish_capture(capture);
        let summary = summary
            .map_err(|err| InputError::at(&self.findings, format!("cannot write: {err}")))?;
        let seconds = summary.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{} executions in {seconds:.1} s: {:.1} executions/s, {:.0} instructions/s; {} divergent samples, {} new causes",
            summary.executions,
            summary.executions as f64 / seconds,
            summary.instructions as f64 / seconds,
            summary.divergent_samples,
            summary.findings.len()
        );
        if vm_output.total() > 0 {
            println!("VM output (captured; --verbose shows it): {vm_output}");
        }
        let pool = pool(self.session.jobs)?;
        for finding in &summary.findings {
            let (cause, sample) = (&finding.cause, finding.sample);
            println!(
                "  {}  sample {sample}  {}",
                cause.fingerprint,
                finding.path.display()
            );
            println!("      {}", cause.summary());
            if let Some(reach) = &finding.reach {
                println!("      lifted: {reach}");
            }
            if self.minimize {
                let minimizer = FrameMinimizer {
                    differential: &differential,
                    key: cause.fingerprint.clone(),
                    progress: &|line| console!("  {line}"),
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

/// The progress line of a fuzzing run started at `start`: (executions, new findings).
fn progress(start: Instant) -> impl Fn(u64, usize) + Sync {
    move |executions, found| {
        let seconds = start.elapsed().as_secs_f64();
        console!(
            "[{seconds:>6.1}s] {executions} executions ({:.1}/s), {found} new findings",
            executions as f64 / seconds
        );
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
    #[command(flatten)]
    world: WorldArgs,
    /// What generated batches are made of (see `fuzz --profile`).
    #[arg(long, value_enum, default_value_t)]
    profile: Profile,
    /// List the cells of the coverage model that no sample reached, those reached only in
    /// dying frames, and the impossible ones with the reason.
    #[arg(long)]
    unreached: bool,
    /// Write the coverage model's matrix (a square per cell) to this HTML file.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// Print the counts as JSON (`cells.reached`, `cells.reachable`, … for scripts).
    #[arg(long)]
    json: bool,
    /// `batch`, or `frame`: the frames `fuzz --level frame` generates (`--profile` and
    /// `--world` do not apply).
    #[arg(long, value_enum, default_value_t)]
    level: Level,
    #[command(flatten)]
    engines: EngineArgs,
}

impl CoverageArgs {
    pub fn execute(self) -> CommandResult {
        let start = Instant::now();
        let coverage = match self.level {
            Level::Batch => {
                let world = self.world.load()?;
                let generator = GeneratorConfig {
                    profile: self.profile,
                    ..GeneratorConfig::for_world(&world)
                };
                let differential = self.engines.differential(world)?;
                pool(self.jobs)?
                    .install(|| measure(&differential, &generator, self.seed, self.samples))
            }
            Level::Frame => {
                let differential = self.engines.frame_differential()?;
                pool(self.jobs)?.install(|| measure_frames(&differential, self.seed, self.samples))
            }
        };
        let seconds = start.elapsed().as_secs_f64().max(1e-9);
        let (not_emitted, not_executed) = coverage.gaps();
        // Real contracts are not generated programs: only profiles with programs have gaps.
        let complete = not_emitted.is_empty() && not_executed.is_empty();
        let ok = (self.level == Level::Batch && self.profile == Profile::Contracts) || complete;
        let generated = coverage
            .regions
            .get(&Region::Generated)
            .copied()
            .unwrap_or(0);
        let (reachable, reached) = coverage.cells_reached();
        let unreached = || {
            let reached: std::collections::HashSet<_> = reached.iter().collect();
            (reachable.iter()).filter(move |cell| !reached.contains(cell))
        };
        let dying_only = coverage.dying_only();
        let impossible: Vec<_> = (model::cells().into_iter())
            .filter_map(|cell| Some((cell, model::impossible(&cell)?)))
            .collect();
        if let Some(path) = &self.html {
            let title = format!(
                "eravm-diff coverage: {} samples of the {} profile, seed {}",
                coverage.samples, self.profile, self.seed
            );
            write_atomic(path, coverage.html(&title).as_bytes())
                .map_err(|err| InputError::at(path, format!("cannot write: {err}")))?;
        }
        if self.json {
            let json = serde_json::json!({
                "samples": coverage.samples,
                "seed": self.seed,
                "level": format!("{:?}", self.level).to_lowercase(),
                "profile": self.profile.to_string(),
                "seconds": seconds,
                "instructions": {
                    "generated": generated,
                    "generated_per_second": generated as f64 / seconds,
                },
                "variants": {
                    "total": opcode_variants().len(),
                    "never_emitted": not_emitted.iter().map(|op| format!("{op:?}")).collect::<Vec<_>>(),
                    "never_executed": not_executed.iter().map(|op| format!("{op:?}")).collect::<Vec<_>>(),
                },
                "cells": {
                    "reached": reached.len(),
                    "reachable": reachable.len(),
                    "unreached": unreached().map(ToString::to_string).collect::<Vec<_>>(),
                    "dying_only": dying_only.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "impossible": impossible.iter().map(|(cell, reason)| {
                        serde_json::json!({"cell": cell.to_string(), "reason": reason})
                    }).collect::<Vec<_>>(),
                },
            });
            println!("{json:#}");
            return Ok(status(ok));
        }
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
        let variants = opcode_variants().len();
        println!(
            "{} samples (seed {}) in {seconds:.1} s: {}/{variants} variants emitted, {}/{variants} executed",
            coverage.samples,
            self.seed,
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
        println!(
            "cells of the coverage model: {}/{} reachable cells reached ({:.1} %), {} only in dying frames; {} impossible",
            reached.len(),
            reachable.len(),
            100.0 * reached.len() as f64 / reachable.len() as f64,
            dying_only.len(),
            impossible.len(),
        );
        if self.unreached {
            for cell in unreached() {
                println!("  unreached: {cell}");
            }
            for cell in &dying_only {
                println!("  only in dying frames: {cell}");
            }
            for (cell, reason) in &impossible {
                println!("  impossible: {cell}: {reason}");
            }
        }
        let total: u64 = coverage.regions.values().sum();
        println!(
            "instructions executed by the reference (transactions, not the block tip; {:.0} generated per second):",
            generated as f64 / seconds
        );
        for region in Region::ALL {
            let count = coverage.regions.get(&region).copied().unwrap_or(0);
            let share = 100.0 * count as f64 / total.max(1) as f64;
            println!("  {:<12} {count:>14} {share:>6.1} %", format!("{region:?}"));
        }
        Ok(status(ok))
    }
}
