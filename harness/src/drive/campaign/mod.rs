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
mod sample;
mod state;

use std::{
    collections::BTreeMap,
    panic::{self, AssertUnwindSafe},
    path::Path,
    sync::{mpsc, Arc},
    time::Instant,
};

use self::{
    corpus::Corpus,
    sample::{evaluate, Divergent, SampleResult},
};
pub use self::{
    sample::Level,
    state::{CampaignState, FindingRecord, SeriesPoint, TimeSplit, STATE_FILE},
};
use crate::{
    drive::{
        lift::write_frame_finding,
        minimize::{FrameMinimizer, Minimizer},
        Search,
    },
    findings::{self, Disagreement, Triage, Triager},
    pipeline::thread_pool,
    support::{error::InputError, vm_output::StderrCapture},
};

/// Samples per epoch (fixed, so results do not depend on the number of jobs).
pub const EPOCH_SAMPLES: u64 = 64;

/// What to run, for how long, and where to keep it.
pub struct CampaignOptions<'a> {
    /// Its budget's duration and samples count the whole campaign, across restarts.
    pub search: Search<'a>,
    pub level: Level<'a>,
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
    // What a campaign's corpus and findings are bound to.
    let this = identity(options);
    let mut state = match CampaignState::load(findings)? {
        Some(state) => state,
        None => CampaignState {
            seed: this.0,
            reference: this.1.clone(),
            candidate: this.2.clone(),
            oracle: this.3.clone(),
            profile: this.4.clone(),
            ..CampaignState::default()
        },
    };
    if (
        state.seed,
        &state.reference,
        &state.candidate,
        &state.oracle,
        &state.profile,
    ) != (this.0, &this.1, &this.2, &this.3, &this.4)
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
    let seeds = match options.level {
        Level::Batch => options.search.generator.seeds(),
        Level::Frame(_) => vec![],
    };
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
    let mut new_findings: Vec<(FindingRecord, Divergent)> = vec![];
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
        let path = options.findings.join(&record.file);
        let key = record.fingerprint.clone();
        let minimized = match (&file, options.level) {
            (Divergent::Batch(file), _) => {
                let minimizer = Minimizer {
                    differential: options.search.differential,
                    key,
                    progress: &|_| {},
                };
                let minimized = pool.install(|| minimizer.minimize_into(file, &path));
                minimized.map(|minimized| minimized.after.to_string())
            }
            (Divergent::Frame { file, .. }, Level::Frame(differential)) => {
                let minimizer = FrameMinimizer {
                    differential,
                    key,
                    progress: &|_| {},
                };
                let minimized = pool.install(|| minimizer.minimize_into(file, &path));
                minimized.map(|minimized| minimized.after.to_string())
            }
            (Divergent::Frame { .. }, Level::Batch) => {
                unreachable!("batch campaigns run no frames")
            }
        };
        record.minimized = minimized.map_err(|err| cannot_write(&path, err))?;
        state.time.minimize += start.elapsed().as_secs_f64();
        state.findings.push(record);
    }
    Ok(())
}

/// (seed, reference, candidate, oracle, profile): what a campaign's directory holds results of.
/// A frame-level campaign names the frame engines, the steps oracle (every instruction is
/// compared) and the profile `frame` (its generator has one).
fn identity(options: &CampaignOptions<'_>) -> (u64, String, String, String, String) {
    let search = &options.search;
    let seed = search.budget.seed;
    match options.level {
        Level::Batch => (
            seed,
            search.differential.reference.name().to_owned(),
            search.differential.candidate.name().to_owned(),
            search.differential.oracle.to_string(),
            search.generator.profile.to_string(),
        ),
        Level::Frame(differential) => (
            seed,
            differential.reference.name().to_owned(),
            differential.candidate.name().to_owned(),
            "steps".to_owned(),
            "frame".to_owned(),
        ),
    }
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

/// Writes a new finding: a batch as `<key>.yaml`; a frame as `<key>.yaml`, lifted to batch level
/// as `<key>.batch.yaml`, with what the batch level shows as the last line of its signature.
fn write_finding(
    options: &CampaignOptions<'_>,
    sample: u64,
    elapsed: f64,
    mut file: Divergent,
    disagreement: Disagreement,
) -> Result<(FindingRecord, Divergent), InputError> {
    let mut signature = disagreement.signature();
    let mut first = disagreement.first();
    let written = match (&mut file, options.level) {
        (Divergent::Batch(batch), _) => {
            let origin = options.search.origin("campaign", sample);
            findings::write_finding(options.findings, batch, origin, &disagreement)
        }
        (
            Divergent::Frame {
                file: frame,
                first: field,
            },
            Level::Frame(differential),
        ) => {
            first = field.to_string();
            let origin = format!(
                "eravm-diff campaign --level frame --seed {} (sample {sample}), {}",
                options.search.budget.seed,
                differential.engines()
            );
            let cause = (disagreement.cause.as_ref()).expect("a frame divergence has a cause");
            let lift = Some(options.search.differential);
            write_frame_finding(options.findings, frame, origin, cause, lift).map(
                |(path, reach)| {
                    signature.extend(reach.map(|reach| format!("lifted: {reach}")));
                    path
                },
            )
        }
        (Divergent::Frame { .. }, Level::Batch) => unreachable!("batch campaigns run no frames"),
    };
    let path = written.map_err(|err| {
        InputError::at(options.findings, format!("cannot write a finding: {err}"))
    })?;
    let record = FindingRecord {
        fingerprint: disagreement.key().to_owned(),
        sample,
        found_at: elapsed,
        first,
        signature,
        file: format!(
            "{}",
            path.file_name().expect("a finding file").to_string_lossy()
        ),
        minimized: String::new(),
        cause: disagreement.cause,
    };
    Ok((record, file))
}
