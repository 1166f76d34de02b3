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
    /// Time spent comparing the outcomes.
    pub compare_elapsed: Duration,
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
    let start = Instant::now();
    let divergence = compare(&reference.outcome, &candidate.outcome);
    Comparison {
        reference,
        candidate,
        divergence,
        compare_elapsed: start.elapsed(),
    }
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
