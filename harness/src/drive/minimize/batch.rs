//! Minimizing a diverging batch: delta debugging over L1 batches, L2 blocks, transactions,
//! contracts, the lines of each contract, balances, storage, calldata, factory deps, values and
//! gas limits.

use std::{fmt, path::Path, time::Instant};

use arbitrary::Unstructured;

use super::{code_lines, instruction_count, list_pass, minimized_origin, pass, set_code_lines};
use crate::{
    batch_file::{
        load_input_file, write_batch_file, BatchFile, BlockSpec, InputFile, Quantity, TxSpec,
    },
    generate::{batch, GeneratorConfig},
    pipeline::{Differential, RunOptions},
    support::{
        bytes::HexBytes,
        error::{read_file, InputError},
    },
};

/// What a candidate must reproduce, and where.
pub struct Minimizer<'a> {
    /// The engines and the world the batch is prepared in.
    pub differential: &'a Differential,
    /// The cause fingerprint to keep (or a symptom fingerprint, see [`Comparison::shows`]).
    ///
    /// [`Comparison::shows`]: crate::pipeline::Comparison::shows
    pub key: String,
    /// Called with a line of progress after each kept reduction.
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// The size of a batch, as the minimizer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// L1 batches (more than one in a chain).
    pub batches: usize,
    pub blocks: usize,
    pub transactions: usize,
    pub contracts: usize,
    /// Instructions in all contracts (assembly lines that are not labels or directives).
    pub instructions: usize,
    pub calldata_bytes: usize,
    pub factory_deps: usize,
}

impl Size {
    pub fn of(file: &BatchFile) -> Self {
        Self {
            batches: file.batches.len(),
            blocks: file.blocks().count(),
            transactions: file.transactions().count(),
            contracts: file.contracts.len(),
            instructions: file
                .contracts
                .iter()
                .map(|contract| instruction_count(contract.assembly.as_deref().unwrap_or_default()))
                .sum(),
            calldata_bytes: file
                .transactions()
                .map(|tx| {
                    let (calldata, _) = calldata_and_gas(tx);
                    calldata.0.len()
                })
                .sum(),
            factory_deps: file.transactions().map(|tx| tx.factory_deps().len()).sum(),
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.batches > 1 {
            write!(f, "{} L1 batches, ", self.batches)?;
        }
        write!(
            f,
            "{} blocks, {} transactions, {} contracts, {} instructions, {} calldata bytes",
            self.blocks, self.transactions, self.contracts, self.instructions, self.calldata_bytes
        )?;
        if self.factory_deps > 0 {
            write!(f, ", {} factory deps", self.factory_deps)?;
        }
        Ok(())
    }
}

/// An input to minimize: a `.yaml`/`.yml` batch or frame file, or any other file (a libFuzzer
/// crash, say) as `diff_batch` fuzzer input.
pub fn load_input(path: &Path, generator: &GeneratorConfig) -> Result<InputFile, InputError> {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("yaml" | "yml") => load_input_file(path),
        _ => {
            let bytes = read_file(path)?;
            let mut file = batch(&mut Unstructured::new(&bytes), generator)
                .map_err(|err| InputError::at(path, format!("not a diff_batch input: {err}")))?;
            file.origin = Some(format!("libFuzzer diff_batch input {}", path.display()));
            Ok(InputFile::Batch(file))
        }
    }
}

/// The result of a minimization.
#[derive(Debug, Clone)]
pub struct Minimized {
    pub file: BatchFile,
    pub before: Size,
    pub after: Size,
    /// Candidate batches run.
    pub candidates: u64,
}

impl Minimizer<'_> {
    /// Minimizes `file` and writes the result to `path` atomically, its origin extended with
    /// the size it was minimized from.
    pub fn minimize_into(&self, file: &BatchFile, path: &Path) -> std::io::Result<Minimized> {
        let mut minimized = self.minimize(file);
        minimized.file.origin = Some(minimized_origin(
            file.origin.as_deref(),
            &self.differential.engines(),
            &minimized.before,
        ));
        write_batch_file(path, &minimized.file)?;
        Ok(minimized)
    }

    /// Whether `file` still diverges with the cause.
    pub fn reproduces(&self, file: &BatchFile) -> bool {
        self.differential
            .run_file(file, &RunOptions::default())
            .is_ok_and(|comparison| comparison.shows(&self.key))
    }

    /// Minimizes `file`, which must reproduce the cause.
    pub fn minimize(&self, file: &BatchFile) -> Minimized {
        let start = Instant::now();
        let before = Size::of(file);
        let counter = std::sync::atomic::AtomicU64::new(0);
        let test = |candidate: &BatchFile| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.reproduces(candidate)
        };
        let mut file = file.clone();
        loop {
            let size = Size::of(&file);
            file = pass(
                self.progress,
                "L1 batches",
                file,
                &test,
                |f| f.batches.clone(),
                |f, batches| {
                    f.batches = batches;
                    !f.batches.is_empty()
                },
            );
            file = pass(self.progress, "blocks", file, &test, blocks, set_blocks);
            file = pass(
                self.progress,
                "transactions",
                file,
                &test,
                transactions,
                set_transactions,
            );
            file = list_pass(self.progress, "contracts", file, &test, |f| {
                &mut f.contracts
            });
            for index in 0..file.contracts.len() {
                file = pass(
                    self.progress,
                    "contract lines",
                    file,
                    &test,
                    |f| code_lines(&f.contracts[index]),
                    |f, lines| set_code_lines(&mut f.contracts[index], lines),
                );
            }
            file = list_pass(self.progress, "balances", file, &test, |f| &mut f.balances);
            file = list_pass(self.progress, "storage", file, &test, |f| &mut f.storage);
            for tx in 0..transactions(&file).len() {
                file = pass(
                    self.progress,
                    "calldata",
                    file,
                    &test,
                    |f| {
                        let (calldata, _) = calldata_and_gas(transaction(f, tx));
                        calldata.0.clone()
                    },
                    |f, bytes| {
                        set_field(f, tx, |spec| *shared_fields_mut(spec).0 = HexBytes(bytes))
                    },
                );
                file = pass(
                    self.progress,
                    "factory deps",
                    file,
                    &test,
                    |f| transaction(f, tx).factory_deps().to_vec(),
                    |f, deps| set_field(f, tx, |spec| *spec.factory_deps_mut() = deps),
                );
                file = self.simplify_numbers(file, tx, &test);
            }
            if Size::of(&file) == size {
                break;
            }
        }
        let after = Size::of(&file);
        (self.progress)(&format!(
            "minimized in {:.1} s: {before} -> {after}",
            start.elapsed().as_secs_f64()
        ));
        Minimized {
            file,
            before,
            after,
            candidates: counter.into_inner(),
        }
    }

    /// Smaller gas limits (halving) and zero values for transaction `tx`.
    fn simplify_numbers(
        &self,
        mut file: BatchFile,
        tx: usize,
        test: &(dyn Fn(&BatchFile) -> bool + Sync),
    ) -> BatchFile {
        let mut candidate = file.clone();
        set_field(&mut candidate, tx, |spec| {
            *shared_fields_mut(spec).1 = Quantity::default();
        });
        if candidate != file && test(&candidate) {
            (self.progress)(&format!("transaction {tx}: value -> 0"));
            file = candidate;
        }
        loop {
            let gas = calldata_and_gas(transaction(&file, tx)).1;
            if gas < 2 {
                break;
            }
            let mut candidate = file.clone();
            set_field(&mut candidate, tx, |spec| {
                *shared_fields_mut(spec).2 = gas / 2
            });
            if !test(&candidate) {
                break;
            }
            (self.progress)(&format!("transaction {tx}: gas limit {gas} -> {}", gas / 2));
            file = candidate;
        }
        file
    }
}

/// Every block, with the index of its L1 batch.
fn blocks(file: &BatchFile) -> Vec<(usize, BlockSpec)> {
    (file.batches.iter().enumerate())
        .flat_map(|(index, batch)| batch.blocks.iter().map(move |block| (index, block.clone())))
        .collect()
}

/// Keeps `kept` blocks in their L1 batches; batches left empty are dropped.
fn set_blocks(file: &mut BatchFile, kept: Vec<(usize, BlockSpec)>) -> bool {
    for (index, batch) in file.batches.iter_mut().enumerate() {
        batch.blocks = (kept.iter())
            .filter(|(kept_in, _)| *kept_in == index)
            .map(|(_, block)| block.clone())
            .collect();
    }
    file.batches.retain(|batch| !batch.blocks.is_empty());
    !file.batches.is_empty()
}

fn transactions(file: &BatchFile) -> Vec<TxSpec> {
    file.transactions().cloned().collect()
}

/// Keeps `kept` transactions (in order) in their blocks; blocks and L1 batches left empty are
/// dropped.
fn set_transactions(file: &mut BatchFile, kept: Vec<TxSpec>) -> bool {
    let mut kept = kept.into_iter().peekable();
    for block in file.blocks_mut() {
        let original = std::mem::take(&mut block.transactions);
        for tx in original {
            if kept.peek() == Some(&tx) {
                block.transactions.push(kept.next().expect("peeked"));
            }
        }
    }
    for batch in &mut file.batches {
        batch.blocks.retain(|block| !block.transactions.is_empty());
    }
    file.batches.retain(|batch| !batch.blocks.is_empty());
    !file.batches.is_empty()
}

/// Changes transaction `index` (in batch order) of `file`; always applicable.
fn set_field(file: &mut BatchFile, index: usize, change: impl FnOnce(&mut TxSpec)) -> bool {
    let tx = file
        .transactions_mut()
        .nth(index)
        .expect("transaction index in range");
    change(tx);
    true
}

/// Transaction `index` (in batch order) of `file`.
fn transaction(file: &BatchFile, index: usize) -> &TxSpec {
    file.transactions()
        .nth(index)
        .expect("transaction index in range")
}

/// The calldata (a deployment: the constructor input) and gas limit, which every transaction has.
fn calldata_and_gas(tx: &TxSpec) -> (&HexBytes, u64) {
    match tx {
        TxSpec::L2(spec) => (&spec.calldata, spec.gas_limit),
        TxSpec::L1(spec) => (&spec.calldata, spec.gas_limit),
        TxSpec::Deploy(spec) => (&spec.calldata, spec.gas_limit),
    }
}

/// The calldata, value and gas limit, which every transaction has.
fn shared_fields_mut(tx: &mut TxSpec) -> (&mut HexBytes, &mut Quantity, &mut u64) {
    match tx {
        TxSpec::L2(spec) => (&mut spec.calldata, &mut spec.value, &mut spec.gas_limit),
        TxSpec::L1(spec) => (&mut spec.calldata, &mut spec.value, &mut spec.gas_limit),
        TxSpec::Deploy(spec) => (&mut spec.calldata, &mut spec.value, &mut spec.gas_limit),
    }
}
