//! Command implementations and what they share.

pub mod campaign;
pub mod explain;
pub mod fuzz;
pub mod matrix;
pub mod minimize;
pub mod pubdata;
pub mod run;
pub mod serve;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use eravm_diff::{
    engine::{self, Engine, Fault, ProcessEngine, StepFault, ENGINE_NAMES},
    error::InputError,
    findings::KnownDivergences,
    generate::GeneratorConfig,
    pipeline::{thread_pool, Differential, Oracle},
    samples::Budget,
    steps::cause::Tolerances,
    vm_output::{OutputSummary, StderrCapture},
    world::{World, WorldSource},
};

/// A command's result: an exit status, or bad input (exit status 2).
pub type CommandResult = Result<ExitCode, InputError>;

/// The reference and candidate engines.
#[derive(clap::Args)]
pub struct EngineArgs {
    /// The reference engine.
    #[arg(long, default_value = "vm_latest", value_parser = engine_name)]
    reference: String,
    /// The engine under test.
    #[arg(long, default_value = "vm_fast", value_parser = engine_name)]
    candidate: String,
    /// Tolerate nothing when naming causes: implementation-defined differences (page ids in fat
    /// pointers) count like any other.
    #[arg(long)]
    strict: bool,
    /// What makes the engines disagree: `outcome` (their outcomes differ) or `steps` (their
    /// outcomes or any executed instruction differ; slower).
    #[arg(long, default_value = "outcome")]
    oracle: Oracle,
}

impl EngineArgs {
    /// The pipeline comparing these engines in `world`, knowing `known`.
    pub fn differential(&self, world: World, known: KnownDivergences) -> Differential {
        Differential {
            world,
            reference: by_name(&self.reference),
            candidate: by_name(&self.candidate),
            known,
            tolerances: if self.strict {
                Tolerances::STRICT
            } else {
                Tolerances::DEFAULT
            },
            oracle: self.oracle,
        }
    }
}

pub fn by_name(name: &str) -> Box<dyn Engine> {
    match name.strip_prefix("process:") {
        Some(served) => {
            let program = std::env::current_exe().expect("the running program has a path");
            let engine = ProcessEngine::new(name, program, &["serve-engine", served]);
            Box::new(engine)
        }
        None => engine::by_name(name).expect("engine names are validated by clap"),
    }
}

pub fn engine_name(name: &str) -> Result<String, String> {
    if let Some(program) = name.strip_prefix("exec:") {
        if !Path::new(program).is_file() {
            return Err(format!("engine program `{program}` is not a file"));
        }
    }
    let in_process = name.strip_prefix("process:").unwrap_or(name);
    engine::by_name(in_process)
        .map(|_| name.to_owned())
        .ok_or_else(|| {
            format!(
                "unknown engine `{name}` (known: {}, vm_fast+fault:<{}> and vm_fast+step_fault:<{}> \
                 for fault injection, process:<engine> for one of them in a child process, \
                 exec:<path> for a program speaking the engine protocol)",
                ENGINE_NAMES.join(", "),
                Fault::ALL.map(Fault::name).join("|"),
                StepFault::ALL.map(StepFault::name).join("|")
            )
        })
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Known divergences declared by the batch files in `vectors` (none if it is not a directory).
pub fn load_known(vectors: &Path) -> Result<KnownDivergences, InputError> {
    if vectors.is_dir() {
        KnownDivergences::declared_in(vectors)
    } else {
        Ok(KnownDivergences::default())
    }
}

/// What the generating commands share: the pipeline (world, engines, the divergences the vectors
/// already explain) and the world's generator.
pub struct Session {
    pub differential: Differential,
    pub generator: GeneratorConfig,
}

/// The arguments of the generating commands (`fuzz`, `campaign`) from which a [`Session`] is
/// loaded, plus their sample budget, seed and parallelism.
#[derive(clap::Args)]
pub struct SessionArgs {
    /// Sample budget (for a campaign, across restarts); stops at whichever budget is spent first.
    #[arg(long)]
    pub samples: Option<u64>,
    /// Sample `i` of seed `s` is always the same batch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Parallel workers.
    #[arg(long, default_value_t = default_jobs())]
    pub jobs: usize,
    /// Batch files whose declared divergences are known (not reported as findings).
    #[arg(long, default_value = "vectors")]
    pub vectors: PathBuf,
    #[arg(long, default_value = "default")]
    pub world: WorldSource,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    pub verbose: bool,
}

impl SessionArgs {
    pub fn load(&self) -> Result<Session, InputError> {
        let world = self.world.load()?;
        Ok(Session {
            generator: GeneratorConfig::for_world(&world),
            differential: self.engines.differential(world, load_known(&self.vectors)?),
        })
    }

    /// The seed, sample budget and jobs, with a time budget.
    pub fn budget(&self, duration: Duration) -> Budget {
        Budget {
            seed: self.seed,
            duration: Some(duration),
            samples: self.samples,
            jobs: self.jobs,
        }
    }

    /// Captures what the VMs print unless `--verbose`; [`finish_capture`] ends it.
    pub fn capture(&self) -> Result<Option<StderrCapture>, InputError> {
        if self.verbose {
            return Ok(None);
        }
        StderrCapture::start()
            .map(Some)
            .map_err(|err| InputError::new("stderr", err))
    }
}

/// Ends a capture: what the VMs printed (nothing without a capture).
pub fn finish_capture(capture: Option<StderrCapture>) -> OutputSummary {
    capture.map(StderrCapture::finish).unwrap_or_default()
}

/// Exit status 0 when `ok`, 1 otherwise.
pub fn status(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A rayon pool of `jobs` threads.
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, InputError> {
    thread_pool(jobs).map_err(|err| InputError::new("thread pool", err))
}
