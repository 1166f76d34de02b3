//! Minimizing a diverging frame: delta debugging over the programs the entry may call, the lines
//! of each program, storage and calldata; then the value and the ergs.

use std::{fmt, path::Path, time::Instant};

use super::{code_lines, instruction_count, list_pass, minimized_origin, pass, set_code_lines};
use crate::{
    batch_file::{write_frame_file, FrameFile, Quantity},
    engine::Observe,
    pipeline::FrameDifferential,
    support::bytes::HexBytes,
};

/// Steps a candidate may take beyond twice those of the frame it was made from.
const CANDIDATE_EXTRA_STEPS: usize = 1024;

/// What a candidate frame must reproduce.
pub struct FrameMinimizer<'a> {
    pub differential: &'a FrameDifferential,
    /// The cause fingerprint to keep.
    pub key: String,
    /// Called with a line of progress after each kept reduction.
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// The size of a frame, as the minimizer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSize {
    pub contracts: usize,
    /// Instructions in all programs given as assembly.
    pub instructions: usize,
    pub storage: usize,
    pub calldata_bytes: usize,
    pub ergs: u32,
}

impl FrameSize {
    pub fn of(file: &FrameFile) -> Self {
        Self {
            contracts: file.contracts.len(),
            instructions: (file.contracts.iter())
                .map(|contract| instruction_count(contract.assembly.as_deref().unwrap_or_default()))
                .sum(),
            storage: file.storage.len(),
            calldata_bytes: file.frame.calldata.0.len(),
            ergs: file.frame.ergs,
        }
    }
}

impl fmt::Display for FrameSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} programs, {} instructions, {} storage slots, {} calldata bytes, {} ergs",
            self.contracts, self.instructions, self.storage, self.calldata_bytes, self.ergs
        )
    }
}

/// The result of a frame minimization.
#[derive(Debug, Clone)]
pub struct FrameMinimized {
    pub file: FrameFile,
    pub before: FrameSize,
    pub after: FrameSize,
    /// Candidate frames run.
    pub candidates: u64,
}

impl FrameMinimizer<'_> {
    /// Minimizes `file` and writes the result to `path` atomically, its origin extended with
    /// the size it was minimized from.
    pub fn minimize_into(&self, file: &FrameFile, path: &Path) -> std::io::Result<FrameMinimized> {
        let mut minimized = self.minimize(file);
        minimized.file.origin = Some(minimized_origin(
            file.origin.as_deref(),
            &self.differential.engines(),
            &minimized.before,
        ));
        write_frame_file(path, &minimized.file)?;
        Ok(minimized)
    }

    /// Whether `file` still diverges with the cause.
    pub fn reproduces(&self, file: &FrameFile) -> bool {
        self.run(file, None).0
    }

    /// Whether `file`, run for at most `max_steps` steps, diverges with the cause; and the steps
    /// the reference took.
    fn run(&self, file: &FrameFile, max_steps: Option<usize>) -> (bool, usize) {
        let Ok(frame) = file.prepare() else {
            return (false, 0);
        };
        let observe = Observe {
            max_steps,
            ..Observe::default()
        };
        let comparison = self.differential.run(&frame, &observe);
        let steps = (comparison.reference.steps.as_ref()).map_or(0, |trace| {
            trace.segments.iter().map(|s| s.steps.len()).sum()
        });
        let reproduced = (comparison.cause).is_some_and(|cause| cause.fingerprint == self.key);
        (reproduced, steps)
    }

    /// Minimizes `file`, which must reproduce the cause.
    pub fn minimize(&self, file: &FrameFile) -> FrameMinimized {
        let start = Instant::now();
        let before = FrameSize::of(file);
        let counter = std::sync::atomic::AtomicU64::new(0);
        // A candidate may run twice the steps of the frame it comes from, and no more: one that
        // lost the bound of a loop or a recursion could otherwise run up to the frame step limit,
        // and zk_evm's event sink moves every event up at each frame's end, so deep recursion
        // that emits events costs minutes there.
        let max_steps = Some(2 * self.run(file, None).1 + CANDIDATE_EXTRA_STEPS);
        let test = |candidate: &FrameFile| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.run(candidate, max_steps).0
        };
        let progress = self.progress;
        let mut file = file.clone();
        loop {
            let size = FrameSize::of(&file);
            // The entry stays first.
            file = pass(
                progress,
                "programs",
                file,
                &test,
                |f| f.contracts[1..].to_vec(),
                |f, kept| {
                    f.contracts.truncate(1);
                    f.contracts.extend(kept);
                    true
                },
            );
            for index in 0..file.contracts.len() {
                file = pass(
                    progress,
                    "program lines",
                    file,
                    &test,
                    |f| code_lines(&f.contracts[index]),
                    |f, lines| set_code_lines(&mut f.contracts[index], lines),
                );
            }
            file = list_pass(progress, "storage", file, &test, |f| &mut f.storage);
            file = pass(
                progress,
                "calldata",
                file,
                &test,
                |f| f.frame.calldata.0.clone(),
                |f, bytes| {
                    f.frame.calldata = HexBytes(bytes);
                    true
                },
            );
            if FrameSize::of(&file) == size {
                break;
            }
        }
        let mut candidate = file.clone();
        candidate.frame.value = Quantity::default();
        if candidate != file && test(&candidate) {
            progress("value -> 0");
            file = candidate;
        }
        while file.frame.ergs >= 2 {
            let mut candidate = file.clone();
            candidate.frame.ergs /= 2;
            if !test(&candidate) {
                break;
            }
            progress(&format!(
                "ergs {} -> {}",
                file.frame.ergs, candidate.frame.ergs
            ));
            file = candidate;
        }
        let after = FrameSize::of(&file);
        progress(&format!(
            "minimized in {:.1} s: {before} -> {after}",
            start.elapsed().as_secs_f64()
        ));
        FrameMinimized {
            file,
            before,
            after,
            candidates: counter.into_inner(),
        }
    }
}
