//! One differential run: the same world and batch on a reference and a candidate engine, each on
//! its own thread and its own view of the world, then the comparison.

use std::time::{Duration, Instant};

use crate::{
    batch::Batch,
    divergence::{compare, Divergence},
    engine::Engine,
    outcome::Outcome,
    world::World,
};

/// One engine's part of a differential run.
#[derive(Debug, Clone)]
pub struct EngineRun {
    pub engine: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// Both runs and how they compare.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub reference: EngineRun,
    pub candidate: EngineRun,
    pub divergence: Option<Divergence>,
}

/// Runs `batch` in `world` on both engines concurrently and compares the outcomes.
pub fn run_both(
    reference: &dyn Engine,
    candidate: &dyn Engine,
    world: &World,
    batch: &Batch,
) -> Comparison {
    let (reference, candidate) = std::thread::scope(|scope| {
        let candidate = scope.spawn(|| run_one(candidate, world, batch));
        let reference = run_one(reference, world, batch);
        (reference, candidate.join().expect("engines never panic"))
    });
    let divergence = compare(&reference.outcome, &candidate.outcome);
    Comparison {
        reference,
        candidate,
        divergence,
    }
}

/// Runs `batch` in `world` on both engines one after the other (for callers that are already
/// parallel) and compares the outcomes.
pub fn divergence(
    reference: &dyn Engine,
    candidate: &dyn Engine,
    world: &World,
    batch: &Batch,
) -> Option<Divergence> {
    compare(&reference.run(world, batch), &candidate.run(world, batch))
}

/// A rayon pool of `jobs` threads (at least one).
pub fn thread_pool(jobs: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
}

/// Runs `batch` on one engine, timing it.
pub fn run_one(engine: &dyn Engine, world: &World, batch: &Batch) -> EngineRun {
    let start = Instant::now();
    let outcome = engine.run(world, batch);
    EngineRun {
        engine: engine.name().to_owned(),
        outcome,
        elapsed: start.elapsed(),
    }
}
