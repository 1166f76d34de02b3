//! What a divergence comes from ([`Cause`]): the first executed instruction at which the two
//! engines' step traces part ways, after normalization and the named tolerances
//! ([`super::tolerance`]); or, when the traces agree, the outcome-level field group (work the VM
//! wrappers do outside instructions: hooks, refunds, compression, pubdata). How a cause is found
//! is in [`super::explain`].

use std::fmt;

use serde::{Deserialize, Serialize};
use zksync_types::Address;

use super::{tolerance::Tolerance, Divergence};
use crate::key::{key, KeyKind};

/// The code deployed at an address, where the comparison can look it up (to decode the
/// operands of an instruction, for [`Tolerance::PageValues`]).
pub type CodeAt<'a> = &'a dyn Fn(Address) -> Option<&'a [u8]>;

/// How a component differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// Both engines have it, with different values.
    Value,
    /// Only the reference has it (the candidate wrote no such register, ran no such step).
    Missing,
    /// Only the candidate has it.
    Extra,
}

impl fmt::Display for CauseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Value => "value",
            Self::Missing => "missing",
            Self::Extra => "extra",
        })
    }
}

/// What a divergence comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// `cause-` and 16 hex digits over instruction, component and kind: never values,
    /// addresses, pcs or indices (a register counts as `r*`: which register an instruction
    /// writes is the program's choice, not the bug's).
    pub fingerprint: String,
    /// The opcode variant as zkevm_opcode_defs names it (`UMA(HeapRead)`); `execution` when
    /// the engines executed a transaction a different number of times; `outcome` when every
    /// instruction agreed.
    pub instruction: String,
    /// `r3`, `r3.pointer_tag`, `r3.page` (a pointer that differs in its page only),
    /// `stored.value`, `stored.offset`, `stored` (a store on one side only), `flags.eq`,
    /// `pubdata`, `ergs`, `heap_bound`, `aux_heap_bound`, `opcode`, `depth`, `contract`, `pc`,
    /// `fails` (the instruction failed in one engine only: `missing` when in the reference,
    /// `extra` when in the candidate), `trace end` (with where the engine panicked, if it did);
    /// for an outcome-level cause, its field group.
    pub component: String,
    pub kind: CauseKind,
    /// The transaction (0-based, in batch order), if the cause is in one.
    pub transaction: Option<usize>,
    /// The step's position in the transaction's execution.
    pub step: Option<usize>,
    pub contract: Option<Address>,
    pub pc: Option<u16>,
    pub depth: Option<u16>,
    /// Tolerated differences met before the cause (or in the whole trace), by tolerance.
    pub tolerated: Vec<(Tolerance, u64)>,
}

impl Cause {
    pub(crate) fn new(instruction: String, component: String, kind: CauseKind) -> Self {
        let class = match component.strip_prefix('r') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
                format!(
                    "r*{}",
                    rest.trim_start_matches(|c: char| c.is_ascii_digit())
                )
            }
            _ => component.clone(),
        };
        let lines = [instruction.clone(), class, kind.to_string()];
        Self {
            fingerprint: key(KeyKind::Cause, &lines),
            instruction,
            component,
            kind,
            transaction: None,
            step: None,
            contract: None,
            pc: None,
            depth: None,
            tolerated: vec![],
        }
    }

    /// The outcome-level cause of `divergence`: its first field group; for a panic, where each
    /// engine panicked (stage and source location, as in its fingerprint).
    pub fn outcome_level(divergence: &Divergence) -> Self {
        let component = match divergence.first_group() {
            Some(group) => group.name().to_owned(),
            None => divergence.signature.join("; "),
        };
        Self::new("outcome".into(), component, CauseKind::Value)
    }

    /// One line: `UMA(HeapRead) r3: value in transaction 0 at 0x…c0de pc 12 (depth 3)`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} {}: {}", self.instruction, self.component, self.kind);
        if let Some(transaction) = self.transaction {
            line.push_str(&format!(" in transaction {transaction}"));
        }
        if let Some(contract) = self.contract {
            line.push_str(&format!(" at {contract:?}"));
        }
        if let Some(pc) = self.pc {
            line.push_str(&format!(" pc {pc}"));
        }
        if let Some(depth) = self.depth {
            line.push_str(&format!(" (depth {depth})"));
        }
        for (tolerance, count) in &self.tolerated {
            line.push_str(&format!("; tolerated: {tolerance} ×{count}"));
        }
        line
    }
}
