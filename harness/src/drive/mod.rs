//! Drivers: everything that loops over batches through the pipeline. `fuzz` (seeded samples),
//! `campaign` (a resumable corpus), `minimize`, `coverage`, `matrix` (N engines), `lift` (frame
//! findings tried at batch level) and the cargo-fuzz target bodies (`libfuzzer`).

pub mod campaign;
pub mod coverage;
pub mod fuzz;
pub mod libfuzzer;
pub mod lift;
pub mod matrix;
pub mod minimize;

use std::time::Duration;

use crate::{findings::KnownDivergences, generate::GeneratorConfig, pipeline::Differential};

/// What the generating drivers (`fuzz`, `campaign`) search with: the pipeline, the divergences
/// the vectors declare (counted, not reported), the generator and the budget.
#[derive(Clone, Copy)]
pub struct Search<'a> {
    pub differential: &'a Differential,
    pub known: &'a KnownDivergences,
    pub generator: &'a GeneratorConfig,
    pub budget: Budget,
}

impl Search<'_> {
    /// Where sample `sample` of `command` came from, for the finding it is written as:
    /// enough to generate it again.
    pub fn origin(&self, command: &str, sample: u64) -> String {
        format!(
            "eravm-diff {command} --seed {} --profile {} (sample {sample}), {}",
            self.budget.seed,
            self.generator.profile,
            self.differential.engines(),
        )
    }
}

/// How much to run, and how: the seed that fixes every sample, the time and sample budgets
/// (whichever is spent first) and the parallel workers.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub seed: u64,
    pub duration: Option<Duration>,
    pub samples: Option<u64>,
    pub jobs: usize,
}
