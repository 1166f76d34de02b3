//! Comparing two outcomes field by field. Every difference carries its field path, its kind and
//! both values; the fingerprint identifies a divergence by paths and kinds only, never values.
//!
//! The fingerprint is taken from the first place the outcomes part ways: a panic on one side
//! (by stage and source location), else the first diverging transaction, else the batch
//! sealing. Indices and keys in paths are replaced by `*`, so the same bug in another
//! transaction or slot has the same fingerprint; later differences that follow from the first
//! one are reported but do not change it.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zksync_types::Address;

use crate::{
    batch::HexBytes,
    outcome::{
        BatchOutcome, CircuitStatistic, Compression, Event, ExecResult, Execution, FinalState,
        L2ToL1Log, Outcome, SlotValue, Stage, StateDiff, StorageWrite, TxOutcome, VmPanic, Word,
    },
};

/// How two values differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// Both present, different values.
    Value,
    /// Different enum variants (e.g. success vs revert).
    Variant,
    /// Lists of different lengths.
    Length,
    /// Present in the reference only.
    Missing,
    /// Present in the candidate only.
    Extra,
}

impl fmt::Display for DiffKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Value => "value",
            Self::Variant => "variant",
            Self::Length => "length",
            Self::Missing => "missing",
            Self::Extra => "extra",
        })
    }
}

/// One differing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Field path, e.g. `transactions[2].execution.refunds.gas_refunded`.
    pub path: String,
    pub kind: DiffKind,
    /// The reference's value (hex for bytes); empty when missing.
    pub reference: String,
    /// The candidate's value; empty when missing.
    pub candidate: String,
    /// For a `variant` difference, the two variants' names (categories, not values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<(String, String)>,
}

/// Where the outcomes first part ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstDivergence {
    /// One side panicked, or they panicked differently.
    Panic { stage: Stage },
    /// Transaction `n` (0-based, in batch order).
    Transaction(usize),
    /// Only the batch sealing (`finish_batch`) differs.
    FinishBatch,
}

/// The differences between a reference and a candidate outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub first: FirstDivergence,
    /// Stable identity: `fp-` and 16 hex digits over `signature`.
    pub fingerprint: String,
    /// What the fingerprint is computed over: normalized paths and kinds, one per line.
    pub signature: Vec<String>,
    pub differences: Vec<Difference>,
}

/// Compares two outcomes; `None` when their canonical bytes are equal.
pub fn compare(reference: &Outcome, candidate: &Outcome) -> Option<Divergence> {
    if reference.canonical_bytes() == candidate.canonical_bytes() {
        return None;
    }
    let mut diff = Diff::default();
    reference.compare(candidate, &mut diff);
    let differences = diff.differences;
    assert!(
        !differences.is_empty(),
        "outcomes with different canonical bytes must differ in some compared field"
    );
    let (first, signature) = first_divergence(reference, candidate, &differences);
    Some(Divergence {
        fingerprint: fingerprint(&signature),
        first,
        signature,
        differences,
    })
}

fn first_divergence(
    reference: &Outcome,
    candidate: &Outcome,
    differences: &[Difference],
) -> (FirstDivergence, Vec<String>) {
    if reference.panic != candidate.panic {
        let describe = |side: &str, panic: &Option<VmPanic>| match panic {
            None => format!("{side}: no panic"),
            Some(panic) => format!(
                "{side}: panic in {} at {}",
                stage_kind(panic.stage),
                panic_location(&panic.message)
            ),
        };
        let stage = [&reference.panic, &candidate.panic]
            .into_iter()
            .flatten()
            .map(|panic| panic.stage)
            .min()
            .expect("one side panicked");
        let signature = vec![
            describe("reference", &reference.panic),
            describe("candidate", &candidate.panic),
        ];
        return (FirstDivergence::Panic { stage }, signature);
    }
    let first_tx = differences
        .iter()
        .filter_map(|difference| transaction_index(&difference.path))
        .min();
    let (first, prefix) = match first_tx {
        Some(index) => (
            FirstDivergence::Transaction(index),
            format!("transactions[{index}]"),
        ),
        None => (FirstDivergence::FinishBatch, "batch".to_owned()),
    };
    let in_unit: Vec<&Difference> = differences
        .iter()
        .filter(|difference| {
            difference.path == prefix
                || difference.path.starts_with(&format!("{prefix}."))
                || difference.path.starts_with(&format!("{prefix}["))
        })
        .collect();
    let top = in_unit
        .iter()
        .map(|difference| priority(&difference.path[prefix.len()..]))
        .min()
        .expect("the first diverging unit has a difference");
    let signature: BTreeSet<String> = in_unit
        .into_iter()
        .filter(|difference| priority(&difference.path[prefix.len()..]) == top)
        .map(|difference| {
            let mut line = format!("{}: {}", normalize(&difference.path), difference.kind);
            if let Some((reference, candidate)) = &difference.variants {
                line.push_str(&format!(" {reference} -> {candidate}"));
            }
            line
        })
        .collect();
    (first, signature.into_iter().collect())
}

/// Field groups in the order a VM engineer reads them; the fingerprint keeps only the first group
/// that differs, so effects that follow from a difference (a different result moves gas, storage
/// and circuit statistics too) do not split one divergence into many fingerprints.
fn priority(field: &str) -> u8 {
    const GROUPS: [&[&str]; 4] = [
        &[
            ".included",
            ".compression",
            ".execution.result",
            ".block_tip.result",
        ],
        &[
            ".execution.storage_writes",
            ".execution.events",
            ".execution.user_l2_to_l1_logs",
            ".execution.system_l2_to_l1_logs",
            ".execution.dynamic_factory_deps",
            ".block_tip.storage_writes",
            ".block_tip.events",
            ".block_tip.user_l2_to_l1_logs",
            ".block_tip.system_l2_to_l1_logs",
            ".final_state",
        ],
        &[
            ".execution.refunds",
            ".execution.gas_",
            ".execution.computational_gas_used",
            ".execution.pubdata_published",
            ".block_tip",
            ".state_diffs",
            ".pubdata_input",
        ],
        &[".execution.circuit_statistic", ".bootloader_memory"],
    ];
    GROUPS
        .iter()
        .position(|group| group.iter().any(|start| field.starts_with(start)))
        .map_or(GROUPS.len() as u8, |index| index as u8)
}

/// `transactions[12].execution…` → 12.
fn transaction_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("transactions[")?;
    rest[..rest.find(']')?].parse().ok()
}

fn stage_kind(stage: Stage) -> &'static str {
    match stage {
        Stage::NewVm => "new_vm",
        Stage::Transaction(_) => "transaction",
        Stage::FinishBatch => "finish_batch",
    }
}

/// The `(at file:line)` suffix that [`crate::panic_guard`] appends, or `unknown location`.
fn panic_location(message: &str) -> &str {
    message
        .rfind(" (at ")
        .map(|start| message[start + 5..].trim_end_matches(')'))
        .unwrap_or("unknown location")
}

/// Replaces every bracketed index or key with `*`.
fn normalize(path: &str) -> String {
    let mut normalized = String::with_capacity(path.len());
    let mut depth = 0_usize;
    for ch in path.chars() {
        match ch {
            '[' => {
                if depth == 0 {
                    normalized.push_str("[*]");
                }
                depth += 1;
            }
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => normalized.push(ch),
            _ => {}
        }
    }
    normalized
}

fn fingerprint(signature: &[String]) -> String {
    let digest = Sha256::digest(signature.join("\n").as_bytes());
    format!("fp-{}", &hex::encode(digest)[..16])
}

/// Accumulates differences under a growing field path.
#[derive(Default)]
struct Diff {
    path: String,
    differences: Vec<Difference>,
}

impl Diff {
    fn record(&mut self, name: &str, kind: DiffKind, reference: String, candidate: String) {
        self.differences.push(Difference {
            path: self.join(name),
            kind,
            reference,
            candidate,
            variants: None,
        });
    }

    fn join(&self, name: &str) -> String {
        if name.is_empty() {
            self.path.clone()
        } else if self.path.is_empty() || name.starts_with('[') {
            format!("{}{name}", self.path)
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Compares a leaf value.
    fn value<T: Render + ?Sized>(&mut self, name: &str, reference: &T, candidate: &T) {
        if !reference.same(candidate) {
            self.record(
                name,
                DiffKind::Value,
                reference.render(),
                candidate.render(),
            );
        }
    }

    /// Compares a nested structure under `name`.
    fn nested<T: Compare + ?Sized>(&mut self, name: &str, reference: &T, candidate: &T) {
        let path = self.join(name);
        let parent = std::mem::replace(&mut self.path, path);
        reference.compare(candidate, self);
        self.path = parent;
    }

    /// Compares lists element by element, plus their lengths.
    fn list<T: Compare>(&mut self, name: &str, reference: &[T], candidate: &[T]) {
        if reference.len() != candidate.len() {
            self.record(
                name,
                DiffKind::Length,
                reference.len().to_string(),
                candidate.len().to_string(),
            );
        }
        for (index, (a, b)) in reference.iter().zip(candidate).enumerate() {
            self.nested(&format!("{name}[{index}]"), a, b);
        }
    }

    /// Compares collections keyed by `key` (sorted by it): entries on one side only are
    /// missing or extra; shared keys are compared.
    fn keyed<T: Compare, K: Ord + fmt::Display>(
        &mut self,
        name: &str,
        reference: &[T],
        candidate: &[T],
        key: impl Fn(&T) -> K,
    ) {
        let mut candidates = candidate.iter().peekable();
        let mut references = reference.iter().peekable();
        loop {
            let order = match (references.peek(), candidates.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) => key(a).cmp(&key(b)),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let a = references.next().expect("peeked");
                    self.record(
                        &format!("{name}[{}]", key(a)),
                        DiffKind::Missing,
                        a.summary(),
                        String::new(),
                    );
                }
                std::cmp::Ordering::Greater => {
                    let b = candidates.next().expect("peeked");
                    self.record(
                        &format!("{name}[{}]", key(b)),
                        DiffKind::Extra,
                        String::new(),
                        b.summary(),
                    );
                }
                std::cmp::Ordering::Equal => {
                    let (a, b) = (
                        references.next().expect("peeked"),
                        candidates.next().expect("peeked"),
                    );
                    self.nested(&format!("{name}[{}]", key(a)), a, b);
                }
            }
        }
    }

    /// Compares maps: keys on one side only are missing or extra; shared keys are compared.
    fn map<K: Ord + fmt::Display, V: Compare>(
        &mut self,
        name: &str,
        reference: &BTreeMap<K, V>,
        candidate: &BTreeMap<K, V>,
    ) {
        for (key, a) in reference {
            match candidate.get(key) {
                Some(b) => self.nested(&format!("{name}[{key}]"), a, b),
                None => self.record(
                    &format!("{name}[{key}]"),
                    DiffKind::Missing,
                    a.summary(),
                    String::new(),
                ),
            }
        }
        for (key, b) in candidate {
            if !reference.contains_key(key) {
                self.record(
                    &format!("{name}[{key}]"),
                    DiffKind::Extra,
                    String::new(),
                    b.summary(),
                );
            }
        }
    }

    /// Compares optional parts: present on one side only is missing or extra.
    fn option<T: Compare>(&mut self, name: &str, reference: &Option<T>, candidate: &Option<T>) {
        match (reference, candidate) {
            (Some(a), Some(b)) => self.nested(name, a, b),
            (Some(a), None) => self.record(name, DiffKind::Missing, a.summary(), String::new()),
            (None, Some(b)) => self.record(name, DiffKind::Extra, String::new(), b.summary()),
            (None, None) => {}
        }
    }

    fn variant<T: Compare + Variant>(&mut self, name: &str, reference: &T, candidate: &T) {
        self.record(
            name,
            DiffKind::Variant,
            reference.summary(),
            candidate.summary(),
        );
        let last = self.differences.last_mut().expect("just recorded");
        last.variants = Some((reference.variant(), candidate.variant()));
    }
}

/// A structure compared field by field.
trait Compare {
    fn compare(&self, other: &Self, diff: &mut Diff);

    /// One-line description, for entries present on one side only.
    fn summary(&self) -> String;
}

/// An enum whose variant, as a category, may name a divergence.
trait Variant {
    fn variant(&self) -> String;
}

impl Variant for Compression {
    fn variant(&self) -> String {
        match self {
            Self::Compressed(_) => "compressed".into(),
            Self::Failed(_) => "failed".into(),
        }
    }
}

impl Variant for ExecResult {
    fn variant(&self) -> String {
        self.kind()
    }
}

/// A leaf value as shown in reports.
trait Render {
    fn render(&self) -> String;

    fn same(&self, other: &Self) -> bool;
}

macro_rules! render_display {
    ($($ty:ty),*) => {$(
        impl Render for $ty {
            fn render(&self) -> String {
                self.to_string()
            }

            fn same(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

render_display!(u8, u16, u32, u64, i32, usize, bool, String, str, Word, HexBytes);

impl Render for Address {
    fn render(&self) -> String {
        format!("{self:?}")
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Render for f32 {
    fn render(&self) -> String {
        self.to_string()
    }

    /// Bitwise, as the canonical encoding compares.
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl Render for (u32, u32) {
    fn render(&self) -> String {
        format!("({}, {})", self.0, self.1)
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl<T: Render> Compare for T {
    fn compare(&self, other: &Self, diff: &mut Diff) {
        diff.value("", self, other);
    }

    fn summary(&self) -> String {
        self.render()
    }
}

impl Compare for Outcome {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.option("panic", &self.panic, &other.panic);
        d.list("transactions", &self.transactions, &other.transactions);
        d.option("batch", &self.batch, &other.batch);
    }

    fn summary(&self) -> String {
        format!("{} transactions", self.transactions.len())
    }
}

impl Compare for VmPanic {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value(
            "stage",
            &format!("{:?}", self.stage),
            &format!("{:?}", other.stage),
        );
        d.value("message", &self.message, &other.message);
    }

    fn summary(&self) -> String {
        format!("panic in {:?}: {}", self.stage, self.message)
    }
}

impl Compare for TxOutcome {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("hash", &self.hash, &other.hash);
        d.value("included", &self.included, &other.included);
        d.nested("compression", &self.compression, &other.compression);
        d.nested("execution", &self.execution, &other.execution);
    }

    fn summary(&self) -> String {
        format!("transaction {}", self.hash)
    }
}

impl Compare for Compression {
    fn compare(&self, other: &Self, d: &mut Diff) {
        match (self, other) {
            (Self::Compressed(a), Self::Compressed(b)) => d.list("compressed", a, b),
            (Self::Failed(a), Self::Failed(b)) => d.value("failed", a, b),
            _ => d.variant("", self, other),
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::Compressed(bytecodes) => format!("compressed {} bytecodes", bytecodes.len()),
            Self::Failed(reason) => format!("failed: {reason}"),
        }
    }
}

impl Compare for Execution {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.nested("result", &self.result, &other.result);
        d.keyed(
            "storage_writes",
            &self.storage_writes,
            &other.storage_writes,
            |w| SlotKey(w.address, w.key),
        );
        d.list("events", &self.events, &other.events);
        d.list(
            "user_l2_to_l1_logs",
            &self.user_l2_to_l1_logs,
            &other.user_l2_to_l1_logs,
        );
        d.list(
            "system_l2_to_l1_logs",
            &self.system_l2_to_l1_logs,
            &other.system_l2_to_l1_logs,
        );
        d.value(
            "refunds.gas_refunded",
            &self.refunds.gas_refunded,
            &other.refunds.gas_refunded,
        );
        d.value(
            "refunds.operator_suggested_refund",
            &self.refunds.operator_suggested_refund,
            &other.refunds.operator_suggested_refund,
        );
        d.value("gas_used", &self.gas_used, &other.gas_used);
        d.value("gas_remaining", &self.gas_remaining, &other.gas_remaining);
        d.value(
            "computational_gas_used",
            &self.computational_gas_used,
            &other.computational_gas_used,
        );
        d.value(
            "pubdata_published",
            &self.pubdata_published,
            &other.pubdata_published,
        );
        d.nested(
            "circuit_statistic",
            &self.circuit_statistic,
            &other.circuit_statistic,
        );
        d.map(
            "dynamic_factory_deps",
            &self.dynamic_factory_deps,
            &other.dynamic_factory_deps,
        );
    }

    fn summary(&self) -> String {
        self.result.summary()
    }
}

impl Compare for ExecResult {
    fn compare(&self, other: &Self, d: &mut Diff) {
        match (self, other) {
            (Self::Success { output: a }, Self::Success { output: b }) => d.value("output", a, b),
            (
                Self::Revert {
                    reason: ra,
                    data: da,
                },
                Self::Revert {
                    reason: rb,
                    data: db,
                },
            ) => {
                d.value("reason", ra, rb);
                d.value("data", da, db);
            }
            (Self::Halt { reason: a }, Self::Halt { reason: b }) => d.value("reason", a, b),
            _ => d.variant("", self, other),
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::Success { output } => format!("success {output}"),
            Self::Revert { reason, .. } => format!("revert: {reason}"),
            Self::Halt { reason } => format!("halt: {reason}"),
        }
    }
}

/// A storage slot as a path key: `address/key`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SlotKey(Address, Word);

impl fmt::Display for SlotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}/{}", self.0, self.1)
    }
}

impl Compare for StorageWrite {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("before", &self.before, &other.before);
        d.value("after", &self.after, &other.after);
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.before, self.after)
    }
}

impl Compare for Event {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("location", &self.location, &other.location);
        d.value("address", &self.address, &other.address);
        d.list("topics", &self.topics, &other.topics);
        d.value("data", &self.data, &other.data);
    }

    fn summary(&self) -> String {
        format!(
            "event from {:?} with {} topics",
            self.address,
            self.topics.len()
        )
    }
}

impl Compare for L2ToL1Log {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("shard_id", &self.shard_id, &other.shard_id);
        d.value("is_service", &self.is_service, &other.is_service);
        d.value(
            "tx_number_in_block",
            &self.tx_number_in_block,
            &other.tx_number_in_block,
        );
        d.value("sender", &self.sender, &other.sender);
        d.value("key", &self.key, &other.key);
        d.value("value", &self.value, &other.value);
    }

    fn summary(&self) -> String {
        format!("log from {:?}: {} = {}", self.sender, self.key, self.value)
    }
}

impl Compare for CircuitStatistic {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("main_vm", &self.main_vm, &other.main_vm);
        d.value(
            "ram_permutation",
            &self.ram_permutation,
            &other.ram_permutation,
        );
        d.value(
            "storage_application",
            &self.storage_application,
            &other.storage_application,
        );
        d.value(
            "storage_sorter",
            &self.storage_sorter,
            &other.storage_sorter,
        );
        d.value(
            "code_decommitter",
            &self.code_decommitter,
            &other.code_decommitter,
        );
        d.value(
            "code_decommitter_sorter",
            &self.code_decommitter_sorter,
            &other.code_decommitter_sorter,
        );
        d.value("log_demuxer", &self.log_demuxer, &other.log_demuxer);
        d.value("events_sorter", &self.events_sorter, &other.events_sorter);
        d.value("keccak256", &self.keccak256, &other.keccak256);
        d.value("ecrecover", &self.ecrecover, &other.ecrecover);
        d.value("sha256", &self.sha256, &other.sha256);
        d.value(
            "secp256k1_verify",
            &self.secp256k1_verify,
            &other.secp256k1_verify,
        );
        d.value(
            "transient_storage_checker",
            &self.transient_storage_checker,
            &other.transient_storage_checker,
        );
        d.value("modexp", &self.modexp, &other.modexp);
        d.value("ecadd", &self.ecadd, &other.ecadd);
        d.value("ecmul", &self.ecmul, &other.ecmul);
        d.value("ecpairing", &self.ecpairing, &other.ecpairing);
    }

    fn summary(&self) -> String {
        format!("main_vm {}", self.main_vm)
    }
}

impl Compare for BatchOutcome {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.nested("block_tip", &self.block_tip, &other.block_tip);
        d.nested("final_state", &self.final_state, &other.final_state);
        match (&self.bootloader_memory, &other.bootloader_memory) {
            (Some(a), Some(b)) => d.map("bootloader_memory", a, b),
            (a, b) => d.value(
                "bootloader_memory",
                &a.is_some().to_string(),
                &b.is_some().to_string(),
            ),
        }
        d.option("pubdata_input", &self.pubdata_input, &other.pubdata_input);
        match (&self.state_diffs, &other.state_diffs) {
            (Some(a), Some(b)) => {
                d.keyed("state_diffs", a, b, |diff| SlotKey(diff.address, diff.key))
            }
            (a, b) => d.value(
                "state_diffs",
                &a.is_some().to_string(),
                &b.is_some().to_string(),
            ),
        }
    }

    fn summary(&self) -> String {
        format!(
            "batch sealed, block tip {}",
            self.block_tip.result.summary()
        )
    }
}

impl Compare for FinalState {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.list("events", &self.events, &other.events);
        d.keyed(
            "storage_writes",
            &self.storage_writes,
            &other.storage_writes,
            |w| SlotKey(w.address, w.key),
        );
        d.list(
            "user_l2_to_l1_logs",
            &self.user_l2_to_l1_logs,
            &other.user_l2_to_l1_logs,
        );
        d.list("system_logs", &self.system_logs, &other.system_logs);
        d.list(
            "storage_refunds",
            &self.storage_refunds,
            &other.storage_refunds,
        );
        d.list("pubdata_costs", &self.pubdata_costs, &other.pubdata_costs);
        d.list(
            "used_contract_hashes",
            &self.used_contract_hashes,
            &other.used_contract_hashes,
        );
    }

    fn summary(&self) -> String {
        format!("{} events", self.events.len())
    }
}

impl Compare for SlotValue {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("", &self.value, &other.value);
    }

    fn summary(&self) -> String {
        self.value.to_string()
    }
}

impl Compare for StateDiff {
    fn compare(&self, other: &Self, d: &mut Diff) {
        d.value("derived_key", &self.derived_key, &other.derived_key);
        d.value(
            "enumeration_index",
            &self.enumeration_index,
            &other.enumeration_index,
        );
        d.value("initial_value", &self.initial_value, &other.initial_value);
        d.value("final_value", &self.final_value, &other.final_value);
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.initial_value, self.final_value)
    }
}
