//! Minimizing a diverging batch while keeping its divergence: delta debugging over L2 blocks,
//! transactions, contracts, the lines of each contract, calldata, gas limits, values, balances and
//! storage. A reduction is kept only if the divergence keeps the same cause, not merely some
//! divergence.
//!
//! Candidates of one step are evaluated in parallel (rayon); the first one in candidate order
//! that still shows the cause is taken, so the result does not depend on thread timing.

use std::{fmt, path::Path, time::Instant};

use rayon::prelude::*;

use arbitrary::Unstructured;

use crate::{
    batch_file::{load_batch_file, write_batch_file, BatchFile, BlockSpec, Quantity, TxSpec},
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

/// Instructions in assembly text: lines with code that are neither labels nor directives.
pub fn instruction_count(text: &str) -> usize {
    text.lines()
        .map(|line| line.split(';').next().unwrap_or_default().trim())
        .filter(|code| !code.is_empty() && !code.starts_with('.') && !code.ends_with(':'))
        .count()
}

/// A batch to minimize: a `.yaml`/`.yml` batch file, or any other file (a libFuzzer crash, say)
/// as `diff_batch` fuzzer input.
pub fn load_input(path: &Path, generator: &GeneratorConfig) -> Result<BatchFile, InputError> {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("yaml" | "yml") => load_batch_file(path),
        _ => {
            let bytes = read_file(path)?;
            let mut file = batch(&mut Unstructured::new(&bytes), generator)
                .map_err(|err| InputError::at(path, format!("not a diff_batch input: {err}")))?;
            file.origin = Some(format!("libFuzzer diff_batch input {}", path.display()));
            Ok(file)
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
        minimized.file.origin = Some(format!(
            "{}; minimized ({}) from {}",
            file.origin.as_deref().unwrap_or("unknown origin"),
            self.differential.engines(),
            minimized.before
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
            file = self.pass(
                "L1 batches",
                file,
                &test,
                |f| f.batches.clone(),
                |f, batches| {
                    f.batches = batches;
                    !f.batches.is_empty()
                },
            );
            file = self.pass("blocks", file, &test, blocks, set_blocks);
            file = self.pass("transactions", file, &test, transactions, set_transactions);
            file = self.list_pass("contracts", file, &test, |f| &mut f.contracts);
            for index in 0..file.contracts.len() {
                file = self.pass(
                    "contract lines",
                    file,
                    &test,
                    |f| code_lines(f, index),
                    |f, lines| set_code_lines(f, index, lines),
                );
            }
            file = self.list_pass("balances", file, &test, |f| &mut f.balances);
            file = self.list_pass("storage", file, &test, |f| &mut f.storage);
            for tx in 0..transactions(&file).len() {
                file = self.pass(
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
                file = self.pass(
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

    /// Delta debugging over one list in the batch.
    fn pass<T: Clone + Send + Sync>(
        &self,
        what: &str,
        file: BatchFile,
        test: &(dyn Fn(&BatchFile) -> bool + Sync),
        get: impl Fn(&BatchFile) -> Vec<T>,
        set: impl Fn(&mut BatchFile, Vec<T>) -> bool + Sync,
    ) -> BatchFile {
        let items = get(&file);
        let before = items.len();
        let build = |items: Vec<T>| {
            let mut candidate = file.clone();
            set(&mut candidate, items).then_some(candidate)
        };
        let kept = ddmin(items, &|items: &[T]| {
            build(items.to_vec()).is_some_and(|c| test(&c))
        });
        if kept.len() < before {
            (self.progress)(&format!("{what}: {before} -> {}", kept.len()));
            return build(kept).expect("the kept items were tested");
        }
        file
    }

    /// [`Self::pass`] over a list of the batch that may shrink to nothing.
    fn list_pass<T: Clone + Send + Sync>(
        &self,
        what: &str,
        mut file: BatchFile,
        test: &(dyn Fn(&BatchFile) -> bool + Sync),
        list: impl Fn(&mut BatchFile) -> &mut Vec<T> + Sync,
    ) -> BatchFile {
        let items = list(&mut file).clone();
        self.pass(
            what,
            file,
            test,
            |_| items.clone(),
            |f, kept| {
                *list(f) = kept;
                true
            },
        )
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

/// Delta debugging (complements only): the smallest sublist found for which `test` holds.
/// Complements of one granularity are tested in parallel; the first success in order wins.
fn ddmin<T: Clone + Send + Sync>(
    mut items: Vec<T>,
    test: &(dyn Fn(&[T]) -> bool + Sync),
) -> Vec<T> {
    if !items.is_empty() && test(&[]) {
        return vec![];
    }
    let mut chunks = 2;
    while items.len() >= 2 {
        let size = items.len().div_ceil(chunks);
        let starts: Vec<usize> = (0..items.len()).step_by(size).collect();
        let without = |start: usize| -> Vec<T> {
            let end = (start + size).min(items.len());
            items[..start]
                .iter()
                .chain(&items[end..])
                .cloned()
                .collect()
        };
        let found = starts
            .par_iter()
            .position_first(|&start| test(&without(start)));
        match found {
            Some(index) => {
                items = without(starts[index]);
                chunks = (chunks - 1).max(2);
            }
            None if chunks >= items.len() => break,
            None => chunks = (chunks * 2).min(items.len()),
        }
    }
    items
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

/// The removable lines of contract `index`: everything but section directives.
fn code_lines(file: &BatchFile, index: usize) -> Vec<String> {
    file.contracts[index]
        .assembly
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter(|line| !is_section(line))
        .map(str::to_owned)
        .collect()
}

/// Rebuilds contract `index` from kept lines, with its sections in their original places.
fn set_code_lines(file: &mut BatchFile, index: usize, kept: Vec<String>) -> bool {
    let Some(text) = file.contracts[index].assembly.as_deref() else {
        return kept.is_empty();
    };
    let mut kept = kept.into_iter().peekable();
    let mut rebuilt = String::new();
    for line in text.lines() {
        if is_section(line) {
            rebuilt.push_str(line);
            rebuilt.push('\n');
        } else if kept.peek().is_some_and(|next| next == line) {
            rebuilt.push_str(&kept.next().expect("peeked"));
            rebuilt.push('\n');
        }
    }
    file.contracts[index].assembly = Some(rebuilt);
    true
}

fn is_section(line: &str) -> bool {
    let code = line.trim_start();
    code.starts_with(".text") || code.starts_with(".rodata") || code.starts_with(".data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_two_needed_items() {
        let items: Vec<u32> = (0..40).collect();
        let kept = ddmin(items, &|items: &[u32]| {
            items.contains(&3) && items.contains(&31)
        });
        assert_eq!(kept, [3, 31]);
        assert_eq!(ddmin(vec![1, 2], &|_| true), Vec::<u32>::new());
        assert_eq!(ddmin(vec![1, 2], &|items: &[u32]| items.len() == 2), [1, 2]);
    }

    #[test]
    fn instruction_count_skips_labels_directives_and_comments() {
        let text = "    .rodata\nK:\n    .cell 1\n    .text\nmain: ; entry\n    add 1, r0, r2\n; note\n    ret.ok r0\n";
        assert_eq!(instruction_count(text), 2);
    }
}
