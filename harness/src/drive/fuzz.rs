//! Fuzzing without libFuzzer (stable toolchain): sample `i` of a run seeded with `s` is the batch
//! [`sample_batch`] generates, so any finding can be regenerated from its seed and index.
//! Samples run in parallel on a rayon pool until the time or sample budget is spent; each new
//! cause of divergence is written once, as a YAML batch, to the findings directory.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use crate::{
    batch_file::BatchFile,
    drive::Search,
    findings::{write_finding, Disagreement, Triage, Triager},
    generate::{seeded::sample_batch, GeneratorConfig},
    pipeline::{thread_pool, Differential, RunOptions},
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
    let start = Instant::now();
    let next_sample = AtomicU64::new(0);
    let executions = AtomicU64::new(0);
    let divergent = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let triager = Triager::new(options.search.known, []);
    let findings = Mutex::new(Vec::new());
    let failure = Mutex::new(None);

    let pool = thread_pool(options.search.budget.jobs).map_err(std::io::Error::other)?;
    pool.in_place_scope(|scope| {
        for _ in 0..options.search.budget.jobs.max(1) {
            scope.spawn(|_| {
                while !stop.load(Ordering::Relaxed) {
                    let sample = next_sample.fetch_add(1, Ordering::Relaxed);
                    let budget = &options.search.budget;
                    if budget.samples.is_some_and(|limit| sample >= limit)
                        || budget
                            .duration
                            .is_some_and(|limit| start.elapsed() >= limit)
                    {
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let disagreement = run_sample(
                        options.search.differential,
                        options.search.generator,
                        options.search.budget.seed,
                        sample,
                    );
                    executions.fetch_add(1, Ordering::Relaxed);
                    let Some((mut file, disagreement)) = disagreement else {
                        continue;
                    };
                    divergent.fetch_add(1, Ordering::Relaxed);
                    if triager.triage(&disagreement) != Triage::New {
                        continue;
                    }
                    let origin = options.search.origin("fuzz", sample);
                    match write_finding(options.findings, &mut file, origin, &disagreement) {
                        Ok(path) => findings.lock().unwrap().push(Finding {
                            sample,
                            disagreement,
                            file,
                            path,
                        }),
                        Err(err) => {
                            *failure.lock().unwrap() = Some(err);
                            stop.store(true, Ordering::Relaxed);
                        }
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
                progress(
                    executions.load(Ordering::Relaxed),
                    findings.lock().unwrap().len(),
                );
            }
        }
    });
    if let Some(err) = failure.into_inner().unwrap() {
        return Err(err);
    }
    let mut findings = findings.into_inner().unwrap();
    findings.sort_by_key(|finding| finding.sample);
    Ok(FuzzSummary {
        executions: executions.into_inner(),
        elapsed: start.elapsed(),
        divergent_samples: divergent.into_inner(),
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
