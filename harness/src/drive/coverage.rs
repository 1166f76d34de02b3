//! Coverage of the generator: for every EraVM opcode variant (the ground truth is
//! zkevm_opcode_defs, as the reference VM decodes it), how often generated contracts contain it
//! and how often the reference engine executed it in the batch's contracts (or the frame's
//! programs); how often the
//! reference showed each cell of the coverage model there ([`crate::isa::model`]); and where
//! execution went: the instructions the reference executed in each [`Region`].

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write,
};

use rayon::prelude::*;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::Opcode;

use zksync_system_constants::BOOTLOADER_ADDRESS;
use zksync_types::Address;

use crate::{
    batch_file::{BatchFile, ContractSpec},
    engine::{CellCounts, Observe, OpcodeCounts},
    generate::{
        seeded::{sample_batch, sample_frame},
        GeneratorConfig,
    },
    isa::model::{self, Cell, CellIndex, Feature, Src},
    isa::opcode_variants,
    pipeline::{Differential, FrameDifferential, RunOptions},
    report::html::escape,
    steps::StepTrace,
    support::{assembly::assemble_listing, bytes::HexBytes},
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
    /// Cells shown in a frame that lived (see [`CellCounts`](crate::engine::CellCounts)).
    pub living: BTreeSet<Cell>,
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
        self.living.extend(other.living);
        for (region, count) in other.regions {
            *self.regions.entry(region).or_default() += count;
        }
        self
    }

    /// The model's reachable cells, and those the samples reached.
    pub fn cells_reached(&self) -> (Vec<Cell>, Vec<Cell>) {
        let cells = model::reachable_cells();
        let reached = (cells.iter().copied())
            .filter(|cell| self.cells.contains_key(cell))
            .collect();
        (cells, reached)
    }

    /// Cells the samples reached only in frames that reverted or panicked.
    pub fn dying_only(&self) -> Vec<Cell> {
        (self.cells.keys().copied())
            .filter(|cell| !self.living.contains(cell))
            .collect()
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

/// Coverage being summed over samples: the model's cells counted in arrays by their
/// [`CellIndex`] position (a sample shows a few hundred, and summing them in ordered maps cost
/// about 7 % of `coverage --level frame`), anything else in a [`Coverage`].
struct Tally {
    coverage: Coverage,
    cells: Vec<u64>,
    living: Vec<bool>,
}

impl Tally {
    fn new() -> Self {
        let cells = CellIndex::get().count();
        Self {
            coverage: Coverage::default(),
            cells: vec![0; cells],
            living: vec![false; cells],
        }
    }

    /// A sample's `contracts`: counts the opcodes those given as assembly (the generated ones)
    /// contain and gives each its bytecode, so that running them assembles nothing again.
    fn emit(&mut self, contracts: &mut [ContractSpec]) {
        self.coverage.samples += 1;
        for contract in contracts {
            let Some(text) = contract.assembly.take() else {
                continue;
            };
            let (bytecode, mut opcodes) =
                assemble_listing(&text).expect("generated contracts assemble");
            // Sorted, so that each opcode's run is counted with one lookup in the map.
            opcodes.sort_unstable();
            for run in opcodes.chunk_by(|a, b| a == b) {
                *self.coverage.emitted.entry(run[0]).or_default() += run.len() as u64;
            }
            contract.bytecode = Some(HexBytes(bytecode));
        }
    }

    /// Adds what the reference observed in one sample: the opcodes and cells it counted, and
    /// the instructions it executed in each region (`region` of the code's address).
    fn count(
        &mut self,
        opcodes: Option<OpcodeCounts>,
        cells: Option<CellCounts>,
        steps: Option<StepTrace>,
        region: impl Fn(Address) -> Region,
    ) {
        let coverage = &mut self.coverage;
        for (opcode, count) in opcodes.expect("the reference engine counts opcodes") {
            *coverage.executed.entry(opcode).or_default() += count;
        }
        let trace = steps.expect("the reference engine records steps");
        // Steps come in runs of one contract: a lookup per run, not per step.
        for segment in &trace.segments {
            for run in segment.steps.chunk_by(|a, b| a.contract == b.contract) {
                *coverage.regions.entry(region(run[0].contract)).or_default() += run.len() as u64;
            }
        }
        let cells = cells.expect("the reference engine counts cells");
        let index = CellIndex::get();
        for (cell, count) in cells.executions {
            let lived = cells.dying_only.binary_search(&cell).is_err();
            match index.position(&cell) {
                Some(position) => {
                    self.cells[position] += count;
                    self.living[position] |= lived;
                }
                None => {
                    *coverage.cells.entry(cell).or_default() += count;
                    if lived {
                        coverage.living.insert(cell);
                    }
                }
            }
        }
    }

    fn merge(mut self, other: Self) -> Self {
        self.coverage = self.coverage.merge(other.coverage);
        for (count, other) in self.cells.iter_mut().zip(other.cells) {
            *count += other;
        }
        for (lived, other) in self.living.iter_mut().zip(other.living) {
            *lived |= other;
        }
        self
    }

    fn finish(self) -> Coverage {
        let index = CellIndex::get();
        let mut coverage = self.coverage;
        for (position, &count) in self.cells.iter().enumerate() {
            if count > 0 {
                coverage.cells.insert(index.cell(position), count);
            }
            if self.living[position] {
                coverage.living.insert(index.cell(position));
            }
        }
        coverage
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
        .fold(Tally::new, |mut tally, sample| {
            let mut file = sample_batch(generator, seed, sample);
            tally.emit(&mut file.contracts);
            let run = RunOptions {
                steps: true,
                count_cells: true,
                ..RunOptions::counting_opcodes_in(&file)
            };
            let comparison = differential
                .run_file(&file, &run)
                .expect("generated batches are valid");
            let reference = comparison.reference;
            tally.count(
                reference.opcodes,
                reference.cells,
                reference.steps,
                |address| Region::of(address, &file),
            );
            tally
        })
        .reduce(Tally::new, Tally::merge)
        .finish()
}

/// [`measure`] at frame level: `samples` frames of `seed`, as `fuzz --level frame` generates
/// them, run on both frame engines with the reference counting; the instructions the frame's
/// programs execute are [`Region::Generated`], the account stand-in's [`Region::Accounts`].
pub fn measure_frames(differential: &FrameDifferential, seed: u64, samples: u64) -> Coverage {
    (0..samples)
        .into_par_iter()
        .fold(Tally::new, |mut tally, sample| {
            let mut file = sample_frame(seed, sample);
            tally.emit(&mut file.contracts);
            let frame = file.prepare().expect("generated frames are valid");
            let programs = (file.contracts.iter()).map(|contract| contract.address);
            let observe = Observe {
                opcodes_in: Some(programs.collect()),
                cells: true,
                ..Observe::default()
            };
            let reference = differential.run(&frame, &observe).reference;
            tally.count(
                reference.opcodes,
                reference.cells,
                reference.steps,
                |address| match file.contracts.iter().any(|c| c.address == address) {
                    true => Region::Generated,
                    false => Region::Accounts,
                },
            );
            tally
        })
        .reduce(Tally::new, Tally::merge)
        .finish()
}

/// The columns of the HTML matrix: a kind of feature each.
const COLUMNS: [&str; 11] = [
    "form",
    "predicate",
    "mode",
    "ergs",
    "src0 origin",
    "src0 value",
    "src1 origin",
    "src1 value",
    "heap end",
    "pointer offset",
    "abi",
];

fn column(feature: &Feature) -> usize {
    match feature {
        Feature::Form(_) => 0,
        Feature::Predicate(_) => 1,
        Feature::Mode(_) => 2,
        Feature::Ergs(_) => 3,
        Feature::Origin(Src::Src0, _) => 4,
        Feature::Value(Src::Src0, _) => 5,
        Feature::Origin(Src::Src1, _) => 6,
        Feature::Value(Src::Src1, _) => 7,
        Feature::Heap(_) => 8,
        Feature::Pointer(_) => 9,
        Feature::Abi(_) => 10,
    }
}

impl Coverage {
    /// The coverage model as an HTML page: a row per opcode variant, a column per kind of
    /// feature, a square per cell (reached, reached only in dying frames, unreached,
    /// impossible), its name, count or reason in its tooltip.
    pub fn html(&self, title: &str) -> String {
        let (reachable, reached) = self.cells_reached();
        let dying: BTreeSet<Cell> = self.dying_only().into_iter().collect();
        let mut rows: BTreeMap<Opcode, [String; COLUMNS.len()]> = BTreeMap::new();
        for cell in model::cells() {
            let (class, note) = match (self.cells.get(&cell), model::impossible(&cell)) {
                (_, Some(reason)) => ("x", reason.to_owned()),
                (Some(count), _) if dying.contains(&cell) => {
                    ("d", format!("{count} executions, all in dying frames"))
                }
                (Some(count), _) => ("r", format!("{count} executions")),
                (None, _) => ("u", "unreached".to_owned()),
            };
            let row = rows.entry(cell.opcode).or_default();
            let _ = write!(
                row[column(&cell.feature)],
                "<span class=\"{class}\" title=\"{}: {}\"></span>",
                escape(&cell.feature.to_string()),
                escape(&note)
            );
        }
        let mut html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title}</title><style>\
             body{{font-family:sans-serif;margin:2em;color:#222}}\
             table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:2px 4px;font-size:12px;vertical-align:top}}\
             td span{{display:inline-block;width:9px;height:9px;margin:1px}}\
             .r{{background:#2a2}} .d{{background:#e90}} .u{{background:#d22}} .x{{background:#bbb}}\
             </style></head><body>\n<h1>{title}</h1>\n<p>{} of {} reachable cells reached \
             ({} only in dying frames); {} impossible. \
             <span class=\"r\">&nbsp;&nbsp;</span> reached \
             <span class=\"d\">&nbsp;&nbsp;</span> only in dying frames \
             <span class=\"u\">&nbsp;&nbsp;</span> unreached \
             <span class=\"x\">&nbsp;&nbsp;</span> impossible; hover a square for its cell.</p>\n\
             <table><tr><th>opcode variant</th>",
            reached.len(),
            reachable.len(),
            dying.len(),
            model::cells().len() - reachable.len(),
            title = escape(title),
        );
        for name in COLUMNS {
            let _ = write!(html, "<th>{name}</th>");
        }
        html.push_str("</tr>\n");
        for (opcode, columns) in rows {
            let _ = write!(html, "<tr><th>{}</th>", escape(&format!("{opcode:?}")));
            for squares in columns {
                let _ = write!(html, "<td>{squares}</td>");
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n</body></html>\n");
        html
    }
}
