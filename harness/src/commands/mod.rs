//! Command implementations and what they share.

pub mod campaign;
pub mod fuzz;
pub mod minimize;
pub mod run;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use eravm_diff::{
    batch::known_divergences,
    engine::{self, Engine, Fault, ENGINE_NAMES},
    error::InputError,
    fuzz::{Budget, Differential},
    generate::GeneratorConfig,
    runner::thread_pool,
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
}

impl EngineArgs {
    pub fn engines(&self) -> (Box<dyn Engine>, Box<dyn Engine>) {
        (by_name(&self.reference), by_name(&self.candidate))
    }
}

pub fn by_name(name: &str) -> Box<dyn Engine> {
    engine::by_name(name).expect("engine names are validated by clap")
}

pub fn engine_name(name: &str) -> Result<String, String> {
    engine::by_name(name)
        .map(|_| name.to_owned())
        .ok_or_else(|| {
            format!(
                "unknown engine `{name}` (known: {}, and vm_fast+fault:<{}> for fault injection)",
                ENGINE_NAMES.join(", "),
                Fault::ALL.map(Fault::name).join("|")
            )
        })
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Known divergences declared by the batch files in `vectors` (none if it is not a directory).
pub fn load_known(vectors: &Path) -> Result<HashMap<String, String>, InputError> {
    if vectors.is_dir() {
        known_divergences(vectors)
    } else {
        Ok(HashMap::new())
    }
}

/// What the generating commands share: the world, its generator, the engines and the
/// divergences the vectors already explain.
pub struct Session {
    pub world: World,
    pub generator: GeneratorConfig,
    pub reference: Box<dyn Engine>,
    pub candidate: Box<dyn Engine>,
    pub known: HashMap<String, String>,
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
}

impl SessionArgs {
    pub fn load(&self) -> Result<Session, InputError> {
        let world = self.world.load()?;
        let (reference, candidate) = self.engines.engines();
        Ok(Session {
            generator: GeneratorConfig::for_world(&world),
            world,
            reference,
            candidate,
            known: load_known(&self.vectors)?,
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
}

impl Session {
    /// The world, generator and engines, borrowed for a run.
    pub fn differential(&self) -> Differential<'_> {
        Differential {
            world: &self.world,
            generator: &self.generator,
            reference: &*self.reference,
            candidate: &*self.candidate,
        }
    }
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
