//! Drivers: everything that loops over batches through the pipeline. `fuzz` (seeded samples),
//! `campaign` (a resumable corpus), `minimize`, `coverage`, `matrix` (N engines) and the
//! cargo-fuzz target bodies (`libfuzzer`).

pub mod campaign;
pub mod coverage;
pub mod fuzz;
pub mod libfuzzer;
pub mod matrix;
pub mod minimize;

use std::time::Duration;

/// How much to run, and how: the seed that fixes every sample, the time and sample budgets
/// (whichever is spent first) and the parallel workers.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub seed: u64,
    pub duration: Option<Duration>,
    pub samples: Option<u64>,
    pub jobs: usize,
}
