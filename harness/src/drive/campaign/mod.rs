//! Long unattended campaigns: resumable, deterministic, deduplicated.
//!
//! A campaign runs samples in epochs of [`EPOCH_SAMPLES`]. An epoch's samples are evaluated in
//! parallel against the corpus as it stood two epochs before (a [`Snapshot`], so that the next
//! epoch runs while one finishes and is committed), then committed in sample order:
//! inputs with new features join the corpus, divergences with new causes are written as
//! findings and minimized, and the state is saved atomically. Every file is written atomically.
//!
//! Killed at any moment (kill -9 included), a campaign resumes at its last committed epoch and
//! runs the interrupted one again exactly as before, so nothing is lost and nothing is reported
//! twice: the same seed and sample budget give the same findings and corpus whether or not the
//! campaign was interrupted, and whatever `--jobs` is.

mod corpus;
pub mod report;
mod state;

use std::{
    collections::{BTreeMap, BTreeSet},
    panic::{self, AssertUnwindSafe},
    path::Path,
    sync::{mpsc, Arc},
    time::Instant,
};

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::Opcode;

use self::corpus::{Corpus, Snapshot};
pub use self::state::{CampaignState, FindingRecord, SeriesPoint, TimeSplit, STATE_FILE};
use crate::{
    batch_file::BatchFile,
    drive::{minimize::Minimizer, Search},
    engine::OpcodeCounts,
    findings::{self, Disagreement, Triage, Triager},
    generate::seeded::generated,
    isa::model::Cell,
    outcome::Outcome,
    pipeline::{thread_pool, RunOptions},
    support::{error::InputError, vm_output::StderrCapture},
};

/// Samples per epoch (fixed, so results do not depend on the number of jobs).
pub const EPOCH_SAMPLES: u64 = 64;

/// What to run, for how long, and where to keep it.
pub struct CampaignOptions<'a> {
    /// Its budget's duration and samples count the whole campaign, across restarts.
    pub search: Search<'a>,
    pub corpus: &'a Path,
    pub findings: &'a Path,
    /// The capture of what the VMs print, if on: its counts are committed with each epoch (with
    /// what the next epoch's samples printed so far, which a resumed campaign prints again).
    pub vm_output: Option<&'a StderrCapture>,
}

/// Runs (or resumes) the campaign kept in `options.findings` until its budget is spent.
/// `progress` is called with the state after each committed epoch.
pub fn run(
    options: &CampaignOptions<'_>,
    progress: &dyn Fn(&CampaignState),
) -> Result<CampaignState, InputError> {
    let findings = options.findings;
    std::fs::create_dir_all(findings)
        .map_err(|err| InputError::at(findings, format!("cannot create: {err}")))?;
    let _lock = lock(findings)?;
    let mut state = match CampaignState::load(findings)? {
        Some(state) => state,
        None => CampaignState {
            seed: options.search.budget.seed,
            reference: options.search.differential.reference.name().to_owned(),
            candidate: options.search.differential.candidate.name().to_owned(),
            oracle: options.search.differential.oracle.to_string(),
            profile: options.search.generator.profile.to_string(),
            ..CampaignState::default()
        },
    };
    let (oracle, profile) = (
        options.search.differential.oracle.to_string(),
        options.search.generator.profile.to_string(),
    );
    let this = (
        options.search.budget.seed,
        options.search.differential.reference.name(),
        options.search.differential.candidate.name(),
        oracle.as_str(),
        profile.as_str(),
    );
    if (
        state.seed,
        state.reference.as_str(),
        state.candidate.as_str(),
        state.oracle.as_str(),
        state.profile.as_str(),
    ) != this
    {
        return Err(InputError::at(
            findings,
            format!(
                "holds a campaign with seed {} ({} vs {}, {} oracle, {} profile); resume it with the same seed, engines, oracle and profile, or use another directory",
                state.seed, state.reference, state.candidate, state.oracle, state.profile
            ),
        ));
    }
    state.runs += 1;
    let seeds = options.search.generator.seeds();
    let mut corpus = Corpus::load(
        options.corpus,
        options.search.budget.seed,
        state.epoch,
        seeds,
        &state.corpus_costs,
    )?;
    let pool = thread_pool(options.search.budget.jobs)
        .map_err(|err| InputError::new("thread pool", err))?;

    let started = Instant::now();
    let elapsed_before = state.elapsed;
    let elapsed = || elapsed_before + started.elapsed().as_secs_f64();
    // The samples of `epoch`, if the sample budget leaves it any.
    let samples_of = |epoch: u64| {
        let first = epoch * EPOCH_SAMPLES;
        match options.search.budget.samples {
            Some(limit) if first >= limit => None,
            Some(limit) => Some(first..(first + EPOCH_SAMPLES).min(limit)),
            None => Some(first..first + EPOCH_SAMPLES),
        }
    };
    let out_of_time =
        || (options.search.budget.duration).is_some_and(|limit| elapsed() >= limit.as_secs_f64());
    pool.in_place_scope(|scope| -> Result<(), InputError> {
        let (sender, receiver) = mpsc::channel();
        // Epochs from `state.epoch` to `running` (excluded) have their samples running.
        let mut running = state.epoch;
        // Results that came in before their epoch's turn to be committed, by sample.
        let mut arrived = BTreeMap::new();
        let mut epoch_started = Instant::now();
        loop {
            // The next epoch starts before this one is committed: no worker waits for the
            // longest sample of an epoch (its corpus snapshot does not need this one's inputs).
            while running < state.epoch + 2 && !out_of_time() {
                let Some(samples) = samples_of(running) else {
                    break;
                };
                let snapshot = Arc::new(corpus.snapshot(running));
                for sample in samples {
                    let (sender, snapshot) = (sender.clone(), Arc::clone(&snapshot));
                    scope.spawn(move |_| {
                        let result = panic::catch_unwind(AssertUnwindSafe(|| {
                            evaluate(options, &snapshot, sample)
                        }));
                        // The receiver is gone only when the campaign stopped on an error.
                        let _ = sender.send((sample, result));
                    });
                }
                running += 1;
            }
            if running == state.epoch {
                return Ok(());
            }
            let samples = samples_of(state.epoch).expect("a running epoch has samples");
            while !samples.clone().all(|sample| arrived.contains_key(&sample)) {
                let (sample, result) = receiver.recv().expect("this loop holds a sender");
                arrived.insert(sample, result);
            }
            let results = samples.clone().map(|sample| {
                arrived
                    .remove(&sample)
                    .expect("every sample of the epoch arrived")
                    .unwrap_or_else(|panic| panic::resume_unwind(panic))
            });
            commit(options, &pool, &mut state, &mut corpus, results, elapsed())?;

            // Make the epoch durable.
            let epoch_seconds = epoch_started.elapsed().as_secs_f64();
            epoch_started = Instant::now();
            state.elapsed = elapsed();
            state.epoch += 1;
            if let Some(capture) = options.vm_output {
                state.vm_output.merge(&capture.take());
            }
            state.record(SeriesPoint {
                time: state.elapsed,
                executions: state.executions,
                rate: samples.count() as f64 / epoch_seconds.max(1e-9),
                findings: state.findings.len(),
                coverage: state.coverage.len(),
                corpus: corpus.len() as u64,
            });
            state
                .save(findings)
                .map_err(|err| cannot_write(&findings.join(STATE_FILE), err))?;
            progress(&state);
        }
    })?;
    report::write(findings, &state, options.search.known)?;
    Ok(state)
}

/// Commits an epoch's `results`, in sample order: inputs with new features join the corpus,
/// divergences with new causes are written as findings and minimized. `elapsed` is the
/// campaign's time, recorded with its findings.
fn commit(
    options: &CampaignOptions<'_>,
    pool: &rayon::ThreadPool,
    state: &mut CampaignState,
    corpus: &mut Corpus,
    results: impl Iterator<Item = SampleResult>,
    elapsed: f64,
) -> Result<(), InputError> {
    let mut new_findings: Vec<(FindingRecord, BatchFile)> = vec![];
    let recorded = state
        .findings
        .iter()
        .map(|record| record.fingerprint.clone());
    let triager = Triager::new(options.search.known, recorded);
    for result in results {
        state.executions += 1;
        state.time.add(&result.time);
        for (opcode, count) in &result.opcodes {
            *state.coverage.entry(format!("{opcode:?}")).or_default() += count;
        }
        if !result.features.is_subset(&state.features) {
            let name = corpus
                .add(state.epoch, result.sample, result.input, result.cost)
                .map_err(|err| cannot_write(options.corpus, err))?;
            state.corpus_costs.insert(name, result.cost);
            state.corpus_added += 1;
            state.features.extend(result.features);
        }
        let Some((file, disagreement)) = result.disagreement else {
            continue;
        };
        state.divergent_samples += 1;
        match triager.triage(&disagreement) {
            Triage::Known => state.known_divergent_samples += 1,
            Triage::Seen => {}
            Triage::New => new_findings.push(write_finding(
                options,
                result.sample,
                elapsed,
                file,
                disagreement,
            )?),
        }
    }

    // Minimize the new findings.
    for (mut record, file) in new_findings {
        let start = Instant::now();
        let minimizer = Minimizer {
            differential: options.search.differential,
            key: record.fingerprint.clone(),
            progress: &|_| {},
        };
        let path = options.findings.join(&record.file);
        let minimized = pool
            .install(|| minimizer.minimize_into(&file, &path))
            .map_err(|err| cannot_write(&path, err))?;
        record.minimized = minimized.after.to_string();
        state.time.minimize += start.elapsed().as_secs_f64();
        state.findings.push(record);
    }
    Ok(())
}

/// The error for `path`, which could not be written.
fn cannot_write(path: &Path, err: std::io::Error) -> InputError {
    InputError::at(path, format!("cannot write: {err}"))
}

/// Takes the directory's campaign lock for as long as the returned file lives (the OS drops it
/// when the process dies, kill -9 included): two campaigns never share a directory.
fn lock(dir: &Path) -> Result<std::fs::File, InputError> {
    let path = dir.join(".campaign.lock");
    let file = std::fs::File::create(&path)
        .map_err(|err| InputError::at(&path, format!("cannot create: {err}")))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(InputError::at(
            dir,
            "another campaign is running in this directory",
        )),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(InputError::at(&path, format!("cannot lock: {err}")))
        }
    }
}

/// What one sample showed.
struct SampleResult {
    sample: u64,
    input: Vec<u8>,
    features: BTreeSet<String>,
    /// What running it cost, for the corpus to favour cheap inputs.
    cost: u64,
    opcodes: OpcodeCounts,
    disagreement: Option<(BatchFile, Disagreement)>,
    time: TimeSplit,
}

fn evaluate(options: &CampaignOptions<'_>, corpus: &Snapshot, sample: u64) -> SampleResult {
    let mut time = TimeSplit::default();
    let mut clock = Instant::now();
    let mut lap = || {
        let seconds = clock.elapsed().as_secs_f64();
        clock = Instant::now();
        seconds
    };
    let input = corpus.input(sample);
    let file = generated(options.search.generator, &input);
    time.generate = lap();
    let prepared = file
        .prepare(&options.search.differential.world)
        .expect("generated batches are valid in the world they are generated for");
    let run = RunOptions {
        count_cells: true,
        ..RunOptions::counting_opcodes_in(&file)
    };
    time.world = lap();
    let mut comparison = options.search.differential.run_prepared(&prepared, &run);
    time.reference = comparison.reference.elapsed.as_secs_f64();
    time.candidate = comparison.candidate.elapsed.as_secs_f64();
    // The rest of the run: comparing, and naming a divergence's cause.
    let compare_time = lap() - time.reference - time.candidate;
    let features = features(
        comparison.reference.opcodes.as_deref().unwrap_or_default(),
        (comparison.reference.cells.as_ref()).map_or(&[][..], |cells| &cells.executions),
        &comparison.reference.outcome,
        comparison.key(),
    );
    // A divergence's cause is named by running both engines again, traced: about three times
    // the cost of the run alone (`cargo bench --bench overhead`).
    let transactions = comparison.reference.outcome.transactions.iter();
    let gas: u64 = transactions
        .map(|tx| u64::from(tx.execution.computational_gas_used))
        .sum();
    let cost = if comparison.key().is_some() {
        3 * gas
    } else {
        gas
    };
    let opcodes = comparison.reference.opcodes.take().unwrap_or_default();
    let disagreement = Disagreement::of(comparison);
    time.compare = compare_time + lap();
    SampleResult {
        sample,
        input,
        features,
        cost,
        opcodes,
        disagreement: disagreement.map(|disagreement| (file, disagreement)),
        time,
    }
}

/// Counts of executed opcodes are features up to 2^6: beyond that, more volume is not new
/// behaviour, and rewarding it fills the corpus with ever slower inputs. Against 2^10, over 3200
/// samples of seeds 1 and 2: 59.6 and 54.9 exec/s instead of 52.8 and 51.0, the same 50 opcode
/// variants covered and more divergent samples (631 and 565 instead of 602 and 525).
const MAX_COUNT_BUCKET: u32 = 6;

/// What makes an input worth keeping: opcodes executed (by order of magnitude of their count),
/// cells of the coverage model reached, kinds of transaction and block-tip results, panics, and
/// divergence keys (causes).
fn features(
    opcodes: &[(Opcode, u64)],
    cells: &[(Cell, u64)],
    outcome: &Outcome,
    key: Option<&str>,
) -> BTreeSet<String> {
    let mut features = BTreeSet::new();
    features.extend(cells.iter().map(|(cell, _)| format!("cell {cell}")));
    for (opcode, count) in opcodes {
        features.insert(format!(
            "executed {opcode:?} 2^{}",
            count.ilog2().min(MAX_COUNT_BUCKET)
        ));
    }
    for tx in &outcome.transactions {
        features.insert(format!(
            "transaction {} included={}",
            tx.execution.result.kind(),
            tx.included
        ));
    }
    if let Some(batch) = &outcome.batch {
        features.insert(format!("block tip {}", batch.block_tip.result.kind()));
    }
    if let Some(panic) = &outcome.panic {
        features.insert(format!("panic in {:?}", panic.stage));
    }
    if let Some(key) = key {
        features.insert(format!("divergence {key}"));
    }
    features
}

fn write_finding(
    options: &CampaignOptions<'_>,
    sample: u64,
    elapsed: f64,
    mut file: BatchFile,
    disagreement: Disagreement,
) -> Result<(FindingRecord, BatchFile), InputError> {
    let origin = options.search.origin("campaign", sample);
    let path = findings::write_finding(options.findings, &mut file, origin, &disagreement)
        .map_err(|err| {
            InputError::at(options.findings, format!("cannot write a finding: {err}"))
        })?;
    let record = FindingRecord {
        fingerprint: disagreement.key().to_owned(),
        sample,
        found_at: elapsed,
        first: disagreement.first(),
        signature: disagreement.signature(),
        file: format!(
            "{}",
            path.file_name().expect("a finding file").to_string_lossy()
        ),
        minimized: String::new(),
        cause: disagreement.cause,
    };
    Ok((record, file))
}
