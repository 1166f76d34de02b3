//! Command implementations and what they share.

pub mod campaign;
pub mod engines;
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
    divergence::tolerance::Tolerances,
    drive::{Budget, Search},
    engine::{
        self,
        frame::{frame_engine, FRAME_CANDIDATE, FRAME_REFERENCE},
        Engine,
    },
    findings::KnownDivergences,
    generate::{GeneratorConfig, Profile},
    pipeline::{thread_pool, Differential, FrameDifferential, Oracle},
    support::{
        error::InputError,
        vm_output::{OutputSummary, StderrCapture},
    },
    world::{read_bytecode_hex, World, WorldKind, WorldSource},
};

/// A command's result: an exit status, or bad input (exit status 2).
pub type CommandResult = Result<ExitCode, InputError>;

/// The world batches run in.
#[derive(clap::Args)]
pub struct WorldArgs {
    /// The world: `default` (the embedded v26 dump), a VM dump file, `genesis:PATH` (a genesis
    /// export, zksync-era's core/genesis_export.bin), or `zksync-home[:DIR]` (genesis of a
    /// zksync-era checkout; DIR defaults to $ZKSYNC_HOME).
    #[arg(long, default_value = "default")]
    pub world: WorldSource,
    /// Run this bootloader instead of the world's own (a hex file, like zksync-era's
    /// etc/multivm_bootloaders/*/*.hex).
    #[arg(long, value_name = "PATH.hex")]
    pub bootloader: Option<PathBuf>,
}

impl WorldArgs {
    pub fn load(&self) -> Result<World, InputError> {
        let world = self.world.load()?;
        Ok(match &self.bootloader {
            Some(path) => world.with_bootloader(read_bytecode_hex(path)?),
            None => world,
        })
    }

    pub fn kind(&self) -> Result<WorldKind, InputError> {
        self.world.kind()
    }
}

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
    /// pointers, values kernel code computed from them, heap bounds of a frame its panic
    /// removes) count like any other.
    #[arg(long)]
    strict: bool,
    /// What makes the engines disagree: `outcome` (their outcomes differ) or `steps` (their
    /// outcomes or any executed instruction differ; slower).
    #[arg(long, value_enum, default_value_t)]
    oracle: Oracle,
}

impl EngineArgs {
    /// The pipeline comparing these engines in `world`; an error if either engine cannot be
    /// built or cannot run `world`.
    pub fn differential(&self, world: World) -> Result<Differential, InputError> {
        Ok(Differential {
            reference: engine_for(&self.reference, &world)?,
            candidate: engine_for(&self.candidate, &world)?,
            world,
            tolerances: if self.strict {
                Tolerances::STRICT
            } else {
                Tolerances::DEFAULT
            },
            oracle: self.oracle,
        })
    }

    /// The frame-level pipeline for these engines: `vm_latest` runs as zk_evm, `vm_fast` (with
    /// a step fault, if it has one) as zksync_vm2; other engines have no frame level.
    pub fn frame_differential(&self) -> Result<FrameDifferential, InputError> {
        let frame_engine = |name: &str| {
            let frame_name = match name {
                "vm_latest" => FRAME_REFERENCE.to_owned(),
                _ => name.replacen("vm_fast", FRAME_CANDIDATE, 1),
            };
            frame_engine(&frame_name).ok_or_else(|| InputError::new(name, "has no frame level: frames run on vm_latest (as zk_evm) and vm_fast, with or without a step fault (as zksync_vm2)"))
        };
        Ok(FrameDifferential {
            reference: frame_engine(&self.reference)?,
            candidate: frame_engine(&self.candidate)?,
            tolerances: if self.strict {
                Tolerances::STRICT
            } else {
                Tolerances::DEFAULT
            },
        })
    }
}

/// The engine called `name` (validated by [`engine_name`]); a release engine is built first.
pub fn by_name(name: &str) -> Result<Box<dyn Engine>, InputError> {
    engine::by_name(name).map_err(|problem| InputError::new(name, problem))
}

/// [`by_name`], checked to run `world`.
pub fn engine_for(name: &str, world: &World) -> Result<Box<dyn Engine>, InputError> {
    let engine = by_name(name)?;
    check(&*engine, world)?;
    Ok(engine)
}

/// An error naming the engine and the world if `engine` cannot run `world` (exit status 2).
pub fn check(engine: &dyn Engine, world: &World) -> Result<(), InputError> {
    engine.check(world).map_err(|problem| {
        let problem = format!("cannot run world `{}`: {problem}", world.origin);
        InputError::new(engine.name(), problem)
    })
}

/// `name`, if it names an engine (clap's value parser for engine options).
pub fn engine_name(name: &str) -> Result<String, String> {
    engine::check_name(name).map(|()| name.to_owned())
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
    /// The divergences the vectors declare.
    pub known: KnownDivergences,
    pub generator: GeneratorConfig,
}

impl Session {
    /// What the generating drivers search with, within `budget`.
    pub fn search(&self, budget: Budget) -> Search<'_> {
        Search {
            differential: &self.differential,
            known: &self.known,
            generator: &self.generator,
            budget,
        }
    }
}

/// Where samples run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    #[default]
    Batch,
    Frame,
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
    #[command(flatten)]
    pub world: WorldArgs,
    /// What generated batches are made of: `programs` (generated assembly), `contracts`
    /// (transactions into real compiled contracts) or `mixed` (either, per batch).
    #[arg(long, value_enum, default_value_t)]
    pub profile: Profile,
    /// Hex files of compiled contracts (`DIR/*.hex`) that the `contracts` profile places and
    /// calls too, with calldata drawn from their selectors.
    #[arg(long, value_name = "DIR")]
    pub contracts: Option<PathBuf>,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    pub verbose: bool,
}

impl SessionArgs {
    pub fn load(&self) -> Result<Session, InputError> {
        let world = self.world.load()?;
        let mut generator = GeneratorConfig {
            profile: self.profile,
            ..GeneratorConfig::for_world(&world)
        };
        if let Some(dir) = &self.contracts {
            generator = generator.with_contracts(dir)?;
        }
        Ok(Session {
            generator,
            differential: self.engines.differential(world)?,
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

    /// Captures what the VMs print unless `--verbose`; [`finish_capture`] ends it.
    pub fn capture(&self) -> Result<Option<StderrCapture>, InputError> {
        capture(self.verbose)
    }
}

/// Captures what the VMs print unless `verbose`; [`finish_capture`] ends it.
pub fn capture(verbose: bool) -> Result<Option<StderrCapture>, InputError> {
    if verbose {
        return Ok(None);
    }
    StderrCapture::start()
        .map(Some)
        .map_err(|err| InputError::new("stderr", err))
}

/// Ends a capture: what the VMs printed (nothing without a capture).
pub fn finish_capture(capture: Option<StderrCapture>) -> OutputSummary {
    capture.map(StderrCapture::finish).unwrap_or_default()
}

/// Runs `work` with what the VMs print captured unless `verbose`, then summarizes it on stderr
/// (nothing if they printed nothing).
pub fn summarizing_vm_output<T>(verbose: bool, work: impl FnOnce() -> T) -> Result<T, InputError> {
    let capture = capture(verbose)?;
    let result = work();
    let output = finish_capture(capture);
    if output.total() > 0 {
        eprintln!("VM output (captured; --verbose shows it): {output}");
    }
    Ok(result)
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
