//! Coverage of the generator: for every EraVM opcode variant (the ground truth is
//! zkevm_opcode_defs, as the reference VM decodes it), how often generated contracts contain it
//! and how often the reference engine executed it in the batch's contracts; how often the
//! reference showed each cell of the coverage model there ([`crate::isa::model`]); and where
//! execution went: the instructions the reference executed in each [`Region`].

use std::collections::BTreeMap;

use rayon::prelude::*;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::Opcode;

use zksync_system_constants::BOOTLOADER_ADDRESS;
use zksync_types::Address;

use crate::{
    batch_file::BatchFile,
    generate::{seeded::sample_batch, GeneratorConfig},
    isa::model::{self, Cell},
    isa::opcode_variants,
    pipeline::{Differential, RunOptions},
    support::assembly::emitted_opcodes,
    world::is_generated_contract,
};

/// Where an instruction ran, by the address of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Region {
    /// Programs the generator wrote.
    Generated,
    /// Real compiled contracts the batch deploys (`compiled:` contracts, and any other contract
    /// the batch file places that the generator did not write).
    Compiled,
    /// System contracts and precompile contracts of the world (kernel space).
    System,
    Bootloader,
    /// Accounts: the default account's code, run for externally owned accounts.
    Accounts,
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::Generated,
        Region::Compiled,
        Region::System,
        Region::Bootloader,
        Region::Accounts,
    ];

    /// The region of code at `address` in a batch of `file`.
    pub fn of(address: Address, file: &BatchFile) -> Self {
        if address == BOOTLOADER_ADDRESS {
            Self::Bootloader
        } else if is_generated_contract(&address) {
            Self::Generated
        } else if file
            .contracts
            .iter()
            .any(|contract| contract.address == address)
        {
            Self::Compiled
        } else if address.as_bytes()[..18].iter().all(|&byte| byte == 0) {
            Self::System
        } else {
            Self::Accounts
        }
    }
}

/// Emitted and executed counts per opcode variant, and executions per cell of the coverage
/// model ([`crate::isa::model`]).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub samples: u64,
    pub emitted: BTreeMap<Opcode, u64>,
    pub executed: BTreeMap<Opcode, u64>,
    pub cells: BTreeMap<Cell, u64>,
    /// Instructions the reference executed in the transactions (not the block tip), by region.
    pub regions: BTreeMap<Region, u64>,
}

impl Coverage {
    fn merge(mut self, other: Self) -> Self {
        self.samples += other.samples;
        for (opcode, count) in other.emitted {
            *self.emitted.entry(opcode).or_default() += count;
        }
        for (opcode, count) in other.executed {
            *self.executed.entry(opcode).or_default() += count;
        }
        for (cell, count) in other.cells {
            *self.cells.entry(cell).or_default() += count;
        }
        for (region, count) in other.regions {
            *self.regions.entry(region).or_default() += count;
        }
        self
    }

    /// The model's cells, and those the samples reached.
    pub fn cells_reached(&self) -> (Vec<Cell>, Vec<Cell>) {
        let cells = model::cells();
        let reached = (cells.iter().copied())
            .filter(|cell| self.cells.contains_key(cell))
            .collect();
        (cells, reached)
    }

    /// Variants never emitted, and variants never executed.
    pub fn gaps(&self) -> (Vec<Opcode>, Vec<Opcode>) {
        let variants = opcode_variants();
        let missing = |counts: &BTreeMap<Opcode, u64>| {
            variants
                .iter()
                .copied()
                .filter(|opcode| counts.get(opcode).copied().unwrap_or(0) == 0)
                .collect()
        };
        (missing(&self.emitted), missing(&self.executed))
    }
}

/// Generates `samples` batches from `seed`, counts the opcodes they contain, the opcodes the
/// reference engine executed in their contracts and the instructions it executed in each region
/// (running them through the whole pipeline, as fuzzing does, recording steps). Parallel over
/// rayon's pool.
pub fn measure(
    differential: &Differential,
    generator: &GeneratorConfig,
    seed: u64,
    samples: u64,
) -> Coverage {
    (0..samples)
        .into_par_iter()
        .map(|sample| {
            let file = sample_batch(generator, seed, sample);
            let mut coverage = Coverage {
                samples: 1,
                ..Coverage::default()
            };
            for contract in &file.contracts {
                let text = contract.assembly.as_deref().unwrap_or_default();
                for opcode in emitted_opcodes(text).expect("generated contracts assemble") {
                    *coverage.emitted.entry(opcode).or_default() += 1;
                }
            }
            let run = RunOptions {
                steps: true,
                count_cells: true,
                ..RunOptions::counting_opcodes_in(&file)
            };
            let comparison = differential
                .run_file(&file, &run)
                .expect("generated batches are valid");
            let reference = comparison.reference;
            coverage
                .executed
                .extend((reference.opcodes).expect("the reference engine counts opcodes"));
            coverage
                .cells
                .extend((reference.cells).expect("the reference engine counts cells"));
            let trace = reference.steps.expect("the reference engine records steps");
            for step in trace.segments.iter().flat_map(|segment| &segment.steps) {
                *coverage
                    .regions
                    .entry(Region::of(step.contract, &file))
                    .or_default() += 1;
            }
            coverage
        })
        .reduce(Coverage::default, Coverage::merge)
}
