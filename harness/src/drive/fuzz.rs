//! Fuzzing without libFuzzer (stable toolchain): sample `i` of a run seeded with `s` is the batch
//! [`sample_batch`] generates, so any finding can be regenerated from its seed and index.
//! Samples run in parallel on a rayon pool until the time or sample budget is spent; each new
//! cause of divergence is written once, as a YAML batch, to the findings directory.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use crate::{
    batch_file::{BatchFile, FrameFile},
    divergence::cause::Cause,
    drive::{
        lift::{write_frame_finding, Reach},
        Budget, Search,
    },
    engine::Observe,
    findings::{write_finding, Disagreement, KnownDivergences, Triage, Triager},
    generate::{
        seeded::{sample_batch, sample_frame},
        GeneratorConfig,
    },
    pipeline::{thread_pool, Differential, FrameDifferential, RunOptions},
};

/// What to fuzz, and for how long.
pub struct FuzzOptions<'a> {
    pub search: Search<'a>,
    /// Where findings go (created if missing).
    pub findings: &'a Path,
}

/// A new divergence found by fuzzing.
#[derive(Debug, Clone)]
pub struct Finding {
    pub sample: u64,
    /// Its cause is always known.
    pub disagreement: Disagreement,
    /// The batch as written to `path`.
    pub file: BatchFile,
    pub path: PathBuf,
}

/// Totals of a fuzzing run.
#[derive(Debug, Clone)]
pub struct FuzzSummary {
    pub executions: u64,
    pub elapsed: Duration,
    /// Samples on which the engines disagreed (known causes included).
    pub divergent_samples: u64,
    pub findings: Vec<Finding>,
}

impl FuzzSummary {
    pub fn executions_per_second(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs the fuzzer; `progress` is called about once a second with (executions, findings).
pub fn fuzz(
    options: &FuzzOptions<'_>,
    progress: &(dyn Fn(u64, usize) + Sync),
) -> std::io::Result<FuzzSummary> {
    std::fs::create_dir_all(options.findings)?;
    let divergent = AtomicU64::new(0);
    let triager = Triager::new(options.search.known, []);
    let findings = Mutex::new(Vec::new());
    let budget = &options.search.budget;
    let (executions, elapsed) = run_samples(
        budget,
        &|executions| progress(executions, findings.lock().unwrap().len()),
        &|sample| {
            let disagreement = run_sample(
                options.search.differential,
                options.search.generator,
                budget.seed,
                sample,
            );
            let Some((mut file, disagreement)) = disagreement else {
                return Ok(());
            };
            divergent.fetch_add(1, Ordering::Relaxed);
            if triager.triage(&disagreement) != Triage::New {
                return Ok(());
            }
            let origin = options.search.origin("fuzz", sample);
            let path = write_finding(options.findings, &mut file, origin, &disagreement)?;
            findings.lock().unwrap().push(Finding {
                sample,
                disagreement,
                file,
                path,
            });
            Ok(())
        },
    )?;
    let mut findings = findings.into_inner().unwrap();
    findings.sort_by_key(|finding| finding.sample);
    Ok(FuzzSummary {
        executions,
        elapsed,
        divergent_samples: divergent.into_inner(),
        findings,
    })
}

/// Runs `sample` for samples 0, 1, … on `budget.jobs` workers until the budget is spent or a
/// sample fails (its error is returned); `progress` is called about once a second with the
/// executions so far. Returns the executions and the time taken.
fn run_samples(
    budget: &Budget,
    progress: &(dyn Fn(u64) + Sync),
    sample: &(dyn Fn(u64) -> std::io::Result<()> + Sync),
) -> std::io::Result<(u64, Duration)> {
    let start = Instant::now();
    let next_sample = AtomicU64::new(0);
    let executions = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failure = Mutex::new(None);
    let pool = thread_pool(budget.jobs).map_err(std::io::Error::other)?;
    pool.in_place_scope(|scope| {
        for _ in 0..budget.jobs.max(1) {
            scope.spawn(|_| {
                while !stop.load(Ordering::Relaxed) {
                    let index = next_sample.fetch_add(1, Ordering::Relaxed);
                    if budget.samples.is_some_and(|limit| index >= limit)
                        || budget
                            .duration
                            .is_some_and(|limit| start.elapsed() >= limit)
                    {
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let result = sample(index);
                    executions.fetch_add(1, Ordering::Relaxed);
                    if let Err(err) = result {
                        *failure.lock().unwrap() = Some(err);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        // Progress from the calling thread, so every pool thread runs samples.
        let mut reported = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if reported.elapsed() >= Duration::from_secs(1) {
                reported = Instant::now();
                progress(executions.load(Ordering::Relaxed));
            }
        }
    });
    match failure.into_inner().unwrap() {
        Some(err) => Err(err),
        None => Ok((executions.into_inner(), start.elapsed())),
    }
}

/// What to fuzz at frame level ([`crate::frame`]), and for how long.
pub struct FrameFuzzOptions<'a> {
    pub differential: &'a FrameDifferential,
    pub known: &'a KnownDivergences,
    pub budget: Budget,
    pub findings: &'a Path,
    /// Where each finding is tried at batch level ([`lift`]), if anywhere.
    pub lift: Option<&'a Differential>,
}

/// A new cause found at frame level, written as a frame file (and, lifted, as a batch file
/// beside it: `<cause>.batch.yaml`).
#[derive(Debug, Clone)]
pub struct FrameFinding {
    pub sample: u64,
    pub cause: Cause,
    /// The frame as written to `path`.
    pub file: FrameFile,
    pub path: PathBuf,
    /// What the finding shows at batch level, if it was lifted.
    pub reach: Option<Reach>,
}

/// Totals of a frame-level fuzzing run.
#[derive(Debug, Clone)]
pub struct FrameFuzzSummary {
    pub executions: u64,
    pub elapsed: Duration,
    /// Samples on which the engines disagreed (known causes included).
    pub divergent_samples: u64,
    /// Instructions the reference executed, over all samples.
    pub instructions: u64,
    pub findings: Vec<FrameFinding>,
}

/// Fuzzes at frame level: sample `i` of seed `s` is the frame generated from the same bytes as
/// batch-level sample `i`'s; every instruction is compared, and each new cause (one no vector
/// declares, not met before in the run) is written once, as `<cause>.yaml`, and lifted to the
/// batch level if `options.lift` says where.
pub fn fuzz_frames(
    options: &FrameFuzzOptions<'_>,
    progress: &(dyn Fn(u64, usize) + Sync),
) -> std::io::Result<FrameFuzzSummary> {
    std::fs::create_dir_all(options.findings)?;
    let divergent = AtomicU64::new(0);
    let instructions = AtomicU64::new(0);
    let seen = Mutex::new(HashSet::new());
    let findings = Mutex::new(Vec::new());
    let budget = &options.budget;
    let (executions, elapsed) = run_samples(
        budget,
        &|executions| progress(executions, findings.lock().unwrap().len()),
        &|sample| {
            let mut file = sample_frame(budget.seed, sample);
            let frame = file.prepare().expect("generated frames are valid");
            let comparison = options.differential.run(&frame, &Observe::default());
            let steps = comparison.reference.steps.as_ref();
            let executed = steps.map_or(0, |trace| {
                trace.segments.iter().map(|s| s.steps.len()).sum()
            });
            instructions.fetch_add(executed as u64, Ordering::Relaxed);
            let Some(cause) = comparison.cause else {
                return Ok(());
            };
            divergent.fetch_add(1, Ordering::Relaxed);
            let known = options.known.0.contains_key(&cause.fingerprint);
            if known || !seen.lock().unwrap().insert(cause.fingerprint.clone()) {
                return Ok(());
            }
            let origin = format!(
                "eravm-diff fuzz --level frame --seed {} (sample {sample}), {}",
                budget.seed,
                options.differential.engines()
            );
            let (path, reach) =
                write_frame_finding(options.findings, &mut file, origin, &cause, options.lift)?;
            findings.lock().unwrap().push(FrameFinding {
                sample,
                cause,
                file,
                path,
                reach,
            });
            Ok(())
        },
    )?;
    let mut findings = findings.into_inner().unwrap();
    findings.sort_by_key(|finding| finding.sample);
    Ok(FrameFuzzSummary {
        executions,
        elapsed,
        divergent_samples: divergent.into_inner(),
        instructions: instructions.into_inner(),
        findings,
    })
}

/// The batch of sample `sample` of a run seeded with `seed`, and the engines' disagreement on
/// it, if any (by the pipeline's oracle).
pub fn run_sample(
    differential: &Differential,
    generator: &GeneratorConfig,
    seed: u64,
    sample: u64,
) -> Option<(BatchFile, Disagreement)> {
    let file = sample_batch(generator, seed, sample);
    let comparison = differential
        .run_file(&file, &RunOptions::default())
        .expect("generated batches are valid in the world they are generated for");
    Disagreement::of(comparison).map(|disagreement| (file, disagreement))
}
