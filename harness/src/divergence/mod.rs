//! Every comparison of two engines' runs. Outcomes are compared field by field: every difference
//! carries its field path, the unit it belongs to, its field group, its kind and both values; the
//! fingerprint identifies a divergence by the paths, kinds and variants at its first point, never
//! by values. Step traces are compared instruction by instruction to name the cause.
//!
//! - `fields`: what is compared, field by field (the list of what is compared).
//! - `pubdata`: pubdata compared by decoded element.
//! - `walk`: the walker that records differences under a typed path.
//! - `first`: where the outcomes first part ways, and the fingerprint taken there.
//! - [`cause`]: what a divergence comes from; [`explain`]: how the cause is found, from the
//!   step traces compared step by step (`steps`).
//! - [`tolerance`]: the named differences that are excused, and how to switch them off.

pub mod cause;
pub mod explain;
mod fields;
mod first;
pub mod frame;
mod pubdata;
mod steps;
pub mod tolerance;
mod walk;

use std::fmt;

use serde::{Deserialize, Serialize};

use self::{walk::Compare, walk::Walker};
use crate::{
    key::{key, KeyKind},
    outcome::{Outcome, Stage, Word},
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

/// The part of a run a difference belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// The run as a whole: a panic, the number of transactions.
    Run,
    /// Transaction `n` (0-based, in batch order).
    Transaction(usize),
    /// The batch sealing (`finish_batch`): the block tip and the batch's final state.
    Batch,
}

/// Field groups in the order a VM engineer reads them. A fingerprint keeps only the first group
/// that differs in the first diverging unit, so effects that follow from a difference (a different
/// result moves gas, storage and circuit statistics too) do not split one divergence into many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    /// What happened: inclusion, bytecode compression, the execution result.
    Result,
    /// What it changed: storage writes, events, L2→L1 logs, factory deps, the final state.
    Effects,
    /// What it cost and published: refunds, gas, pubdata, state diffs.
    Costs,
    /// How the VM accounted for it: circuit statistics, bootloader memory.
    Statistics,
    /// Everything else: the transaction hash, a panic, the number of transactions.
    Other,
}

impl FieldGroup {
    pub fn name(self) -> &'static str {
        match self {
            Self::Result => "result",
            Self::Effects => "effects",
            Self::Costs => "costs",
            Self::Statistics => "statistics",
            Self::Other => "other",
        }
    }
}

/// One differing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Field path, e.g. `transactions[2].execution.refunds.gas_refunded`.
    pub path: String,
    /// The path with every index and key as `*`: the same field in any transaction or slot.
    pub pattern: String,
    pub unit: Unit,
    pub group: FieldGroup,
    pub kind: DiffKind,
    /// The reference's value (hex for bytes); empty when missing.
    pub reference: String,
    /// The candidate's value; empty when missing.
    pub candidate: String,
    /// For a `variant` difference, the two variants' names (categories, not values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<(String, String)>,
    /// Both values, when they are made of 32-byte words (for tolerances that look at words).
    #[serde(skip)]
    pub words: Option<(Vec<Word>, Vec<Word>)>,
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

impl Divergence {
    /// The first field group that differs where the outcomes first part ways (`None` for a
    /// panic).
    pub fn first_group(&self) -> Option<FieldGroup> {
        self.in_first_unit()
            .map(|difference| difference.group)
            .min()
    }

    /// The differences the fingerprint is taken from: the first group of the first unit (none
    /// for a panic).
    pub fn first_differences(&self) -> impl Iterator<Item = &Difference> {
        let group = self.first_group();
        self.in_first_unit()
            .filter(move |difference| Some(difference.group) == group)
    }

    /// The first transaction whose outcome differs, or in which an engine panicked; `None` when
    /// the outcomes part ways after every transaction (in the batch's sealing) or before any.
    pub fn first_transaction(&self) -> Option<usize> {
        match self.first {
            FirstDivergence::Transaction(index)
            | FirstDivergence::Panic {
                stage: Stage::Transaction(index),
            } => Some(index),
            FirstDivergence::Panic { .. } | FirstDivergence::FinishBatch => None,
        }
    }

    fn in_first_unit(&self) -> impl Iterator<Item = &Difference> {
        let unit = match self.first {
            FirstDivergence::Panic { .. } => None,
            FirstDivergence::Transaction(index) => Some(Unit::Transaction(index)),
            FirstDivergence::FinishBatch => Some(Unit::Batch),
        };
        self.differences
            .iter()
            .filter(move |difference| Some(difference.unit) == unit)
    }
}

/// Compares two outcomes; `None` when their canonical bytes are equal.
pub fn compare(reference: &Outcome, candidate: &Outcome) -> Option<Divergence> {
    if reference.canonical_bytes() == candidate.canonical_bytes() {
        return None;
    }
    let mut walker = Walker::new();
    reference.compare(candidate, &mut walker);
    let differences = walker.differences;
    assert!(
        !differences.is_empty(),
        "outcomes with different canonical bytes must differ in some compared field"
    );
    let (first, signature) = first::first_divergence(reference, candidate, &differences);
    Some(Divergence {
        fingerprint: key(KeyKind::Symptom, &signature),
        first,
        signature,
        differences,
    })
}
