//! The cause of a divergence: the first executed instruction at which the two engines' step
//! traces part ways, after the normalizations and named tolerances below; or, when the traces
//! agree, the outcome-level field group (work the VM wrappers do outside instructions: hooks,
//! refunds, compression, pubdata).
//!
//! Normalization of what the two VMs expose differently (not tolerances: neither is a
//! difference in behaviour):
//! - a panic's pc: vm2 has none while a panic unwinds, zk_evm shows the failing pc + 1, so the pc
//!   of a `Ret(Panic)` step is compared only when both engines have one;
//! - a return from the bootloader's own frame (depth 1) ends the execution: vm2 stops there and
//!   leaves its state as it was, zk_evm pops to an empty frame, so only the instruction itself
//!   (opcode, pc) is compared, not the state it leaves.

use std::{
    collections::{hash_map::Entry, BTreeSet, HashMap, HashSet},
    fmt,
};

use serde::{Deserialize, Serialize};
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    decoding::EncodingModeProduction, DecodedOpcode, Opcode, RetOpcode, UMAOpcode,
};
use zksync_types::{Address, U256};

use super::{
    computes, decode, operand_registers, stack_slots, Memory, Segment, Step, StepTrace, Stored,
};
use crate::{
    divergence::{fingerprint, DiffKind, Divergence},
    outcome::Word,
};

/// Differences that are implementation-defined and invisible to user code, normalized under a
/// name. Each is counted where it applies and can be switched off (`--strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// Memory page numbers in fat pointers (bits 32..64): zk_evm numbers pages from a counter
    /// that grows by 8 per far call, vm2 numbers heaps in allocation order. Only kernel code can
    /// read them (the system contracts do, to build and check pointers). Each engine's pages are
    /// listed in order of first appearance in a pointer; two register values are the same if
    /// they differ by exactly the difference of the n-th page of each engine, at any bit
    /// position (a pointer, or a page number that kernel code shifted, masked or offset). A
    /// pointer's page field holding pages both engines have seen is decided by their order.
    PageIds,
    /// Values computed from page numbers: kernel code that reads a pointer as an integer and
    /// computes with it (multiplies, divides, shifts right, rotates…) gets results that differ
    /// by more than a page field. The registers that an arithmetic, logic, shift or pointer
    /// instruction writes may differ if one of the registers it read differed only through
    /// page numbers (by `page_ids`, or by this rule before); they then count as differing only
    /// through page numbers themselves. Such a register stored to the heap makes the stored word
    /// differ, and so does a load that reads any of its bytes back; a stack slot is followed like
    /// a register (a result written to it, and an instruction that reads it). Nothing else is
    /// excused: flags, calls, returns, storage and what reaches the outcome are compared as
    /// ever. The instruction's operands are decoded from the code at its pc in the world the
    /// batch ran in (code deployed during the batch is not looked up, so the rule does not
    /// apply there).
    PageValues,
    /// Heap bounds of a frame that is about to go: an instruction that cannot pay for the
    /// memory it would reach fails and panics, and zk_evm grows the frame's heap or aux heap
    /// bound before failing, where vm2 leaves it (so does a far call that passes memory it
    /// cannot pay for). When the next step is a panic that removes the frame (a far call's
    /// frame, not a near call's), nothing can see that bound again, and the bounds of that one
    /// step are excused. In a frame that lives on (a near call's panic) the grown bound makes
    /// later memory cheaper, and it is named where it shows.
    DyingFrame,
}

impl Tolerance {
    pub fn name(self) -> &'static str {
        match self {
            Self::PageIds => "page_ids",
            Self::PageValues => "page_values",
            Self::DyingFrame => "dying_frame",
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which tolerances apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerances {
    pub page_ids: bool,
    pub page_values: bool,
    pub dying_frame: bool,
}

impl Tolerances {
    /// Every tolerance on: the default.
    pub const DEFAULT: Self = Self {
        page_ids: true,
        page_values: true,
        dying_frame: true,
    };
    /// None: every difference counts (`--strict`).
    pub const STRICT: Self = Self {
        page_ids: false,
        page_values: false,
        dying_frame: false,
    };
}

impl Default for Tolerances {
    fn default() -> Self {
        Self::DEFAULT
    }
}

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
    /// `trace end` (with where the engine panicked, if it did); for an outcome-level cause, its
    /// field group.
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
    fn new(instruction: String, component: String, kind: CauseKind) -> Self {
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
            fingerprint: fingerprint("cause", &lines),
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

/// Why two engines disagree: the cause, with the aligned steps of both engines around it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub cause: Cause,
    /// Whether only tolerated differences separate the engines' steps, so the divergence is
    /// explained by them.
    pub tolerated_only: bool,
    /// (index in the transaction's execution, reference step, candidate step).
    pub window: Vec<(usize, Option<Step>, Option<Step>)>,
}

/// The cause of `divergence` (if the outcomes differ) from the engines' step traces (`None`
/// where an engine could not record them): the first differing step, up to the first diverging
/// transaction (a cause comes before its first effect: a later step that differs follows from
/// work outside instructions, such as a refund, in that transaction); else, if tolerated
/// differences were met and explain the outcomes, those; else the outcome-level field group.
/// `None` when the outcomes agree and so do the steps. `code` finds the programs the steps ran.
pub fn explain(
    traces: (Option<&StepTrace>, Option<&StepTrace>),
    divergence: Option<&Divergence>,
    tolerances: Tolerances,
    code: CodeAt<'_>,
) -> Option<Explanation> {
    let (Some(reference), Some(candidate)) = traces else {
        return divergence.map(|divergence| Explanation {
            cause: Cause::outcome_level(divergence),
            tolerated_only: false,
            window: vec![],
        });
    };
    let last_transaction = divergence.and_then(Divergence::first_transaction);
    let localized = localize(reference, candidate, tolerances, code, last_transaction);
    let Some(divergence) = divergence else {
        return localized.cause.map(|cause| Explanation {
            cause,
            tolerated_only: false,
            window: localized.window,
        });
    };
    // Every instruction agreed, up to tolerated differences: they explain the divergence only
    // if the outcome differs in nothing but words that hold the same pages (a page number that
    // kernel code stored, say); anything else is an outcome-level cause.
    let explained_by_tolerances = !localized.tolerated.is_empty()
        && divergence.first_group().is_some()
        && divergence.first_differences().all(|difference| {
            difference.kind == DiffKind::Value
                && difference.words.as_ref().is_some_and(|(a, b)| {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| x == y || localized.comparer.same_but_page(x, y))
                })
        });
    let (cause, tolerated_only) = match localized.cause {
        Some(cause) => (cause, false),
        None if explained_by_tolerances => {
            let (tolerance, _) = localized.tolerated[0];
            let mut cause = Cause::new(
                "tolerated".into(),
                tolerance.name().into(),
                CauseKind::Value,
            );
            cause.tolerated = localized.tolerated.clone();
            (cause, true)
        }
        None => {
            let mut cause = Cause::outcome_level(divergence);
            cause.tolerated = localized.tolerated.clone();
            (cause, false)
        }
    };
    Some(Explanation {
        cause,
        tolerated_only,
        window: localized.window,
    })
}

/// The first step at which two traces differ, after tolerances (`None` if none does).
pub fn first_difference(
    reference: &StepTrace,
    candidate: &StepTrace,
    tolerances: Tolerances,
    code: CodeAt<'_>,
) -> Option<Cause> {
    localize(reference, candidate, tolerances, code, None).cause
}

/// The first difference between two step traces, with the aligned steps around it.
#[derive(Debug, Clone)]
struct Localized {
    /// `None` when the traces agree (after tolerances).
    cause: Option<Cause>,
    /// Tolerated differences over the compared steps.
    tolerated: Vec<(Tolerance, u64)>,
    window: Vec<(usize, Option<Step>, Option<Step>)>,
    /// What the comparison learnt: each engine's pages.
    comparer: Comparer,
}

/// Steps shown before and after the cause.
const WINDOW: usize = 6;

/// Compares two traces step by step, up to `last_transaction` if given.
fn localize(
    reference: &StepTrace,
    candidate: &StepTrace,
    tolerances: Tolerances,
    code: CodeAt<'_>,
    last_transaction: Option<usize>,
) -> Localized {
    let mut comparer = Comparer {
        tolerances,
        known: Known::default(),
        page_ids: 0,
        page_values: 0,
        dying_frame: 0,
    };
    let segments = reference.segments.len().max(candidate.segments.len());
    for index in 0..segments {
        let (a, b) = (reference.segments.get(index), candidate.segments.get(index));
        let past = |segment: Option<&Segment>| {
            segment.is_none_or(|s| last_transaction.is_some_and(|last| s.transaction > last))
        };
        if past(a) && past(b) {
            break;
        }
        let (Some(a), Some(b)) = (a, b) else {
            let (transaction, kind) = match (a, b) {
                (Some(a), _) => (a.transaction, CauseKind::Missing),
                (_, Some(b)) => (b.transaction, CauseKind::Extra),
                _ => unreachable!("one side has the segment"),
            };
            let mut cause = Cause::new("execution".into(), "transaction".into(), kind);
            cause.transaction = Some(transaction);
            return comparer.finish(Some(cause), vec![]);
        };
        if a.transaction != b.transaction {
            // One engine runs a transaction again (or one the other skipped) where the other
            // goes on to the next: named like an execution at the end of one trace.
            let (transaction, kind) = if a.transaction < b.transaction {
                (a.transaction, CauseKind::Missing)
            } else {
                (b.transaction, CauseKind::Extra)
            };
            let mut cause = Cause::new("execution".into(), "transaction".into(), kind);
            cause.transaction = Some(transaction);
            return comparer.finish(Some(cause), vec![]);
        }
        let before = comparer.known.clone();
        for step in 0..a.steps.len().max(b.steps.len()) {
            let (x, y) = (a.steps.get(step), b.steps.get(step));
            let next = (a.steps.get(step + 1), b.steps.get(step + 1));
            // The stack pointer before the step: where the previous one left it.
            let sp = step
                .checked_sub(1)
                .and_then(|i| a.steps.get(i))
                .map(|s| s.sp);
            let Some((instruction, mut component, kind)) = comparer.step((x, y), next, sp, code)
            else {
                continue;
            };
            // A trace cut short by a panic in the engine's code is named by where it panicked.
            if x.is_none() || y.is_none() {
                let ended = if y.is_none() { candidate } else { reference };
                if let Some(at) = &ended.panicked_at {
                    component = format!("trace end (panic at {at})");
                }
            }
            let at = x.or(y).expect("one side has the step");
            let mut cause = Cause::new(instruction, component, kind);
            cause.transaction = Some(a.transaction);
            cause.step = Some(step);
            cause.contract = Some(at.contract);
            cause.pc = at.pc;
            cause.depth = Some(at.depth);
            let window = (step.saturating_sub(WINDOW)..=step + WINDOW)
                .filter(|&i| i < a.steps.len() || i < b.steps.len())
                .map(|i| (i, a.steps.get(i).cloned(), b.steps.get(i).cloned()))
                .collect();
            return comparer.finish(Some(cause), window);
        }
        if a.rolled_back {
            comparer.known = before;
        }
    }
    comparer.finish(None, vec![])
}

#[derive(Debug, Clone)]
struct Comparer {
    tolerances: Tolerances,
    known: Known,
    /// How many differences each tolerance excused.
    page_ids: u64,
    page_values: u64,
    dying_frame: u64,
}

/// What the comparison has learnt from the steps so far: forgotten with an execution that is
/// rolled back.
#[derive(Debug, Clone, Default)]
struct Known {
    /// Each engine's pages, by order of first appearance.
    pages: Pages,
    /// Each engine's registers r1..r15, rebuilt from the steps' writes.
    state: [[(Word, bool); 15]; 2],
    /// The registers whose value or pointer tag differs between the two states (bit `i` for
    /// r`i+1`, as in the other register sets): the comparison looks at these alone.
    differing: u16,
    /// Registers known to differ only through page numbers (tolerated), until either engine
    /// writes them.
    page_dependent: u16,
    /// Heap words known to differ only through page numbers, by the page's order of first
    /// appearance and the word's byte offset (a store of a page-dependent register).
    page_dependent_words: BTreeSet<(usize, u32)>,
    /// Stack slots known to differ only through page numbers, by the order of first appearance
    /// of their frame's heap page (the frame's identity) and the slot.
    page_dependent_slots: HashSet<(usize, u16)>,
}

impl Known {
    /// Whether the results of instruction `step` (`instruction`, decoded) come from values that
    /// differed only through page numbers: for an instruction that computes, a register in
    /// `dependent` or a page-dependent stack slot among its operands; for a load, a byte of a
    /// page-dependent heap word. `registers`, `dependent` and `sp` are as before the step.
    fn reads_from_pages(
        &self,
        step: &Step,
        instruction: &DecodedOpcode<8, EncodingModeProduction>,
        registers: &[(Word, bool); 15],
        dependent: u16,
        sp: Option<u16>,
    ) -> bool {
        let dependent = |register: u8| register != 0 && holds(dependent, usize::from(register) - 1);
        let value =
            |register: u8| U256::from_big_endian(&registers[usize::from(register) - 1].0 .0);
        if computes(step.opcode) {
            let [src0, src1] = operand_registers(instruction);
            let slot = sp.and_then(|sp| stack_slots(instruction, sp, value)[0]);
            let frame = self.pages.order(0, step.pages[0]);
            return dependent(src0)
                || dependent(src1)
                || frame
                    .zip(slot)
                    .is_some_and(|slot| self.page_dependent_slots.contains(&slot));
        }
        // A load that read a byte of a page-dependent word.
        (load_address(step, instruction, registers))
            .and_then(|(page, offset)| Some((self.pages.order(0, page)?, offset)))
            .is_some_and(|(page, offset)| {
                let (from, to) = (offset.saturating_sub(31), offset.saturating_add(31));
                let mut words = self.page_dependent_words.range((page, from)..=(page, to));
                words.next().is_some()
            })
    }
}

impl Comparer {
    fn finish(
        self,
        cause: Option<Cause>,
        window: Vec<(usize, Option<Step>, Option<Step>)>,
    ) -> Localized {
        let tolerated: Vec<_> = [
            (Tolerance::PageIds, self.page_ids),
            (Tolerance::PageValues, self.page_values),
            (Tolerance::DyingFrame, self.dying_frame),
        ]
        .into_iter()
        .filter(|&(_, count)| count > 0)
        .collect();
        Localized {
            cause: cause.map(|cause| Cause {
                tolerated: tolerated.clone(),
                ..cause
            }),
            tolerated,
            window,
            comparer: self,
        }
    }

    /// The first component in which two aligned steps differ: (instruction, component, kind).
    fn step(
        &mut self,
        (a, b): (Option<&Step>, Option<&Step>),
        next: (Option<&Step>, Option<&Step>),
        sp: Option<u16>,
        code: CodeAt<'_>,
    ) -> Option<(String, String, CauseKind)> {
        let name = |step: &Step| format!("{:?}", step.opcode);
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => return Some((name(a), "trace end".into(), CauseKind::Missing)),
            (None, Some(b)) => return Some((name(b), "trace end".into(), CauseKind::Extra)),
            (None, None) => return None,
        };
        let value = |component: &str| Some((name(a), component.to_owned(), CauseKind::Value));
        if a.opcode != b.opcode {
            return value("opcode");
        }
        if a.depth != b.depth {
            return value("depth");
        }
        if a.contract != b.contract {
            return value("contract");
        }
        if a.pc != b.pc && !(is_panic(a) && (a.pc.is_none() || b.pc.is_none())) {
            return value("pc");
        }
        if a.depth == 1 && matches!(a.opcode, Opcode::Ret(_)) {
            return None;
        }
        let (dependent_before, registers_before) = (self.known.page_dependent, self.known.state[0]);
        let mut written = 0u16;
        for (side, step) in [a, b].into_iter().enumerate() {
            // The frame's own pages first: a pointer into a heap is then numbered as that
            // heap, so a pointer into the caller's heap and one into a fresh page differ.
            self.known.pages.see_frame(side, step.pages);
            if let Some(stored) = step.stored.filter(|stored| stored.pointer) {
                self.known.pages.see(side, page(&stored.value));
            }
            for write in &step.writes {
                if write.pointer {
                    self.known.pages.see(side, page(&write.value));
                }
                let index = usize::from(write.register) - 1;
                self.known.state[side][index] = (write.value, write.pointer);
                written |= 1 << index;
            }
        }
        self.known.page_dependent &= !written;
        for index in registers_in(written) {
            let differs = self.known.state[0][index] != self.known.state[1][index];
            self.known.differing =
                self.known.differing & !(1 << index) | u16::from(differs) << index;
        }
        // An instruction that fails, or a far call whose callee fails at once, is followed by a
        // panic in both engines; zk_evm writes the destination before failing, vm2 does not,
        // and the panic overwrites it: registers are compared after the panic instead. After any
        // other instruction than a far call, the panic must be one the failure raised, not an
        // executed `ret.panic`: vm2 gives a raised panic no pc.
        let panic_follows = match next {
            (Some(x), Some(y)) => {
                is_panic(x)
                    && is_panic(y)
                    && (matches!(a.opcode, Opcode::FarCall(_)) || x.pc.is_none() || y.pc.is_none())
            }
            _ => false,
        };
        // What the instruction read, for `page_values`: decoded only when something differs.
        let page_values = self.tolerances.page_values;
        let instruction = || {
            let pc = a.pc.filter(|_| page_values)?;
            instruction_at(code, a.contract, pc)
        };
        let from_pages = |known: &Known| {
            instruction().is_some_and(|instruction| {
                known.reads_from_pages(a, &instruction, &registers_before, dependent_before, sp)
            })
        };
        if !panic_follows {
            // Decoded only when a register differs beyond what is already tolerated.
            let differs = self.known.differing & !self.known.page_dependent != 0;
            let from_pages = differs && from_pages(&self.known);
            if let Some((component, kind)) = self.registers(from_pages) {
                return Some((name(a), component, kind));
            }
        }
        // A heap store's word comes from the register it stores, a stack slot's from what the
        // instruction read.
        let stores_from_pages = |known: &Known| match a.stored {
            Some(Stored {
                memory: Memory::Stack,
                ..
            }) => from_pages(known),
            _ => instruction().is_some_and(|instruction| {
                let register = operand_registers(&instruction)[1];
                register != 0 && holds(dependent_before, usize::from(register) - 1)
            }),
        };
        if let Some((component, kind)) = self.stored(a, b, stores_from_pages) {
            return Some((name(a), component.into(), kind));
        }
        for (index, flag) in ["lt", "eq", "gt"].into_iter().enumerate() {
            if a.flags[index] != b.flags[index] {
                return value(&format!("flags.{flag}"));
            }
        }
        if a.pubdata != b.pubdata {
            return value("pubdata");
        }
        if a.ergs != b.ergs {
            return value("ergs");
        }
        if a.sp != b.sp {
            return value("sp");
        }
        let bounds_differ = (a.heap_bound, a.aux_heap_bound) != (b.heap_bound, b.aux_heap_bound);
        let frame_removed = match next {
            (Some(x), Some(y)) => {
                is_panic(x) && is_panic(y) && x.pages != a.pages && y.pages != b.pages
            }
            _ => false,
        };
        if bounds_differ && frame_removed && self.tolerances.dying_frame {
            self.dying_frame += 1;
            return None;
        }
        if a.heap_bound != b.heap_bound {
            return value("heap_bound");
        }
        if a.aux_heap_bound != b.aux_heap_bound {
            return value("aux_heap_bound");
        }
        None
    }

    /// The first register whose value or pointer tag differs between the engines' states.
    /// `from_pages` says whether the instruction just compared computed or loaded its results
    /// from values that differed only through page numbers ([`Tolerance::PageValues`]).
    fn registers(&mut self, from_pages: bool) -> Option<(String, CauseKind)> {
        for index in registers_in(self.known.differing) {
            let ((x, x_pointer), (y, y_pointer)) =
                (self.known.state[0][index], self.known.state[1][index]);
            let register = index + 1;
            if x_pointer != y_pointer {
                return Some((format!("r{register}.pointer_tag"), CauseKind::Value));
            }
            if holds(self.known.page_dependent, index) {
                continue;
            }
            if self.tolerances.page_ids && self.same_but_page(&x, &y) {
                self.known.page_dependent |= 1 << index;
                self.page_ids += 1;
                continue;
            }
            if from_pages {
                self.known.page_dependent |= 1 << index;
                self.page_values += 1;
                continue;
            }
            if x_pointer && outside_page(&x) == outside_page(&y) {
                return Some((format!("r{register}.page"), CauseKind::Value));
            }
            return Some((format!("r{register}"), CauseKind::Value));
        }
        None
    }

    /// How the words two instructions wrote to memory differ, if they do (a stored pointer
    /// keeps its page number, so the page-id tolerance applies to the value): heap words are
    /// named `stored`, stack slots `stack`. `stores_from_pages` says whether the word came from
    /// values that differed only through page numbers ([`Tolerance::PageValues`]).
    fn stored(
        &mut self,
        a: &Step,
        b: &Step,
        stores_from_pages: impl Fn(&Known) -> bool,
    ) -> Option<(&'static str, CauseKind)> {
        let names = |stored: &Stored| match stored.memory {
            Memory::Stack => ["stack", "stack.slot", "stack.value", "stack.pointer_tag"],
            _ => [
                "stored",
                "stored.offset",
                "stored.value",
                "stored.pointer_tag",
            ],
        };
        let (x, y) = match (&a.stored, &b.stored) {
            (None, None) => return None,
            (Some(x), None) => return Some((names(x)[0], CauseKind::Missing)),
            (None, Some(y)) => return Some((names(y)[0], CauseKind::Extra)),
            (Some(x), Some(y)) => (x, y),
        };
        let [whole, offset, value, pointer_tag] = names(x);
        if x.memory != y.memory {
            return Some((whole, CauseKind::Value));
        }
        if x.offset != y.offset {
            return Some((offset, CauseKind::Value));
        }
        if x.pointer != y.pointer {
            return Some((pointer_tag, CauseKind::Value));
        }
        // The word by its page's order of appearance (a stack slot by its frame's heap page).
        let page = a.pages[usize::from(x.memory == Memory::AuxHeap)];
        let word = (self.known.pages.order(0, page)).map(|page| (page, x.offset));
        let stack = x.memory == Memory::Stack;
        let depends = |known: &mut Known, on: bool| {
            let Some((page, offset)) = word else { return };
            match (stack, on) {
                (true, true) => known.page_dependent_slots.insert((page, offset as u16)),
                (true, false) => known.page_dependent_slots.remove(&(page, offset as u16)),
                (false, true) => known.page_dependent_words.insert((page, offset)),
                (false, false) => known.page_dependent_words.remove(&(page, offset)),
            };
        };
        if x.value == y.value {
            depends(&mut self.known, false);
            return None;
        }
        if self.tolerances.page_ids && self.same_but_page(&x.value, &y.value) {
            // Instructions that compute read a stack slot as they read a register: like a
            // register, the slot is then page-dependent. A heap word reaches a register through
            // a load first, where this rule applies again.
            if stack {
                depends(&mut self.known, true);
            }
            self.page_ids += 1;
            return None;
        }
        if word.is_some() && stores_from_pages(&self.known) {
            depends(&mut self.known, true);
            self.page_values += 1;
            return None;
        }
        Some((value, CauseKind::Value))
    }

    /// Whether two words differ by exactly the difference of two pages that are the same in
    /// order of first appearance, at one bit position: a pointer's page field (bits 32..64), or a
    /// page number that kernel code shifted, masked, negated or offset (by a constant that may
    /// carry into it).
    fn same_but_page(&self, a: &Word, b: &Word) -> bool {
        // The common case first: a pointer's own page field. Two pages both engines have seen
        // decide it: the same page or not. The pages' differences alone would not (zk_evm's
        // pages run 8 apart, vm2's 1 or 2, so many pairs of pages share one difference).
        if outside_page(a) == outside_page(b) {
            if let (Some(x), Some(y)) = (
                self.known.pages.order(0, page(a)),
                self.known.pages.order(1, page(b)),
            ) {
                return x == y;
            }
        }
        // Directly, or negated (kernel code subtracted the pointer from something): the
        // pages themselves need not show at that position, since kernel code may have added a
        // constant that carries into them (`K - ptr`).
        let (a, b) = (U256::from_big_endian(&a.0), U256::from_big_endian(&b.0));
        self.known.pages.shifted_difference(a.overflowing_sub(b).0)
    }
}

/// The register indices (0 for r1) in a register set, lowest first.
fn registers_in(set: u16) -> impl Iterator<Item = usize> {
    (0..15).filter(move |&index| holds(set, index))
}

/// Whether a register set holds register index `index` (0 for r1).
fn holds(set: u16, index: usize) -> bool {
    set >> index & 1 == 1
}

/// The instruction at `pc` of the code at `contract`, if that code can be found.
fn instruction_at(
    code: CodeAt<'_>,
    contract: Address,
    pc: u16,
) -> Option<DecodedOpcode<8, EncodingModeProduction>> {
    let at = usize::from(pc / 4) * 32;
    let word = code(contract)?.get(at..at + 32)?;
    Some(decode(U256::from_big_endian(word), pc))
}

/// The page and byte offset that load `step` (`instruction`, decoded) read from, given the
/// registers before it: the frame's heap or aux heap at its first operand, or where the fat
/// pointer it read through points (page in bits 32..64, start + offset).
fn load_address(
    step: &Step,
    instruction: &DecodedOpcode<8, EncodingModeProduction>,
    registers: &[(Word, bool); 15],
) -> Option<(u32, u32)> {
    let operand = match operand_registers(instruction)[0] {
        0 if instruction.src0_reg_idx == 0 => U256::from(instruction.imm_0),
        0 => return None,
        register => U256::from_big_endian(&registers[usize::from(register) - 1].0 .0),
    };
    match step.opcode {
        Opcode::UMA(UMAOpcode::HeapRead) => Some((step.pages[0], operand.low_u32())),
        Opcode::UMA(UMAOpcode::AuxHeapRead) => Some((step.pages[1], operand.low_u32())),
        Opcode::UMA(UMAOpcode::FatPointerRead) => {
            let field = |index: usize| (operand >> (32 * index)).low_u32();
            Some((field(1), field(2).wrapping_add(field(0))))
        }
        _ => None,
    }
}

fn is_panic(step: &Step) -> bool {
    step.opcode == Opcode::Ret(RetOpcode::Panic)
}

/// A fat pointer's memory page: bits 32..64 of the word.
fn page(word: &Word) -> u32 {
    u32::from_be_bytes(word.0[24..28].try_into().expect("four bytes"))
}

/// A word with its page field (bits 32..64) cleared.
fn outside_page(word: &Word) -> [u8; 32] {
    let mut rest = word.0;
    rest[24..28].fill(0);
    rest
}

/// Each engine's pages in order of first appearance, and the differences of the pairs of n-th
/// pages, kept so that [`Comparer::same_but_page`] looks a difference up rather than trying
/// every pair: a pair's difference `s * m * 2^t` (`m` odd) shifted left to a word difference
/// `D` means `m * 2^z = ±D (mod 2^256)`, `z` the trailing zeros of `D`, with `t <= z`.
#[derive(Debug, Clone, Default)]
struct Pages {
    engines: [PageMap; 2],
    /// The odd part of each pair's difference, with the fewest trailing zeros it came with.
    odd_differences: HashMap<u32, u32>,
    /// Each engine's last frame pages seen (heap, aux heap): a run of steps in one frame
    /// sees them once.
    frames: [Option<[u32; 2]>; 2],
}

impl Pages {
    /// Sees the heap and aux heap pages of the frame a step left the VM in.
    fn see_frame(&mut self, engine: usize, pages: [u32; 2]) {
        if self.frames[engine] != Some(pages) {
            self.frames[engine] = Some(pages);
            for page in pages {
                self.see(engine, page);
            }
        }
    }

    fn see(&mut self, engine: usize, page: u32) {
        if !self.engines[engine].see(page) {
            return;
        }
        // A new n-th page pairs up if the other engine already has an n-th page.
        let [reference, candidate] = &self.engines;
        let n = self.engines[engine].pages.len() - 1;
        let (Some(&p), Some(&q)) = (reference.pages.get(n), candidate.pages.get(n)) else {
            return;
        };
        let difference = p.abs_diff(q);
        if difference != 0 {
            let zeros = difference.trailing_zeros();
            let fewest = (self.odd_differences)
                .entry(difference >> zeros)
                .or_insert(zeros);
            *fewest = (*fewest).min(zeros);
        }
    }

    fn order(&self, engine: usize, page: u32) -> Option<usize> {
        self.engines[engine].order(page)
    }

    /// Whether a word difference (two's complement) is, up to sign, the difference of a pair
    /// of n-th pages shifted left.
    fn shifted_difference(&self, difference: U256) -> bool {
        if difference.is_zero() {
            return !self.odd_differences.is_empty();
        }
        let zeros = difference.trailing_zeros();
        let width = 256 - zeros as usize;
        let mask = match width {
            256 => U256::MAX,
            width => (U256::one() << width) - 1,
        };
        let odd = difference >> zeros as usize;
        let negated = U256::zero().overflowing_sub(odd).0 & mask;
        let shifts_to = |&fewest: &u32| fewest <= zeros;
        if width >= 32 {
            // A page difference is below 2^32: congruence is equality.
            return [odd, negated].into_iter().any(|odd| {
                odd.bits() <= 32
                    && self
                        .odd_differences
                        .get(&odd.low_u32())
                        .is_some_and(shifts_to)
            });
        }
        (self.odd_differences.iter())
            .filter(|(_, fewest)| shifts_to(fewest))
            .any(|(&key, _)| {
                let key = U256::from(key);
                (key ^ odd) & mask == U256::zero() || (key ^ negated) & mask == U256::zero()
            })
    }
}

/// One engine's page numbers in order of first appearance.
#[derive(Debug, Clone, Default)]
struct PageMap {
    pages: Vec<u32>,
    order: HashMap<u32, usize>,
}

impl PageMap {
    /// Adds `page` if it is new, and says whether it was.
    fn see(&mut self, page: u32) -> bool {
        let Entry::Vacant(entry) = self.order.entry(page) else {
            return false;
        };
        entry.insert(self.pages.len());
        self.pages.push(page);
        true
    }

    fn order(&self, page: u32) -> Option<usize> {
        self.order.get(&page).copied()
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use zksync_types::U256;

    use super::Pages;

    /// The definition: some pair of n-th pages whose difference, shifted left to the word
    /// difference's lowest set bit, is that difference or its negation (mod 2^256).
    fn by_every_pair(pages: &Pages, difference: U256) -> bool {
        let [reference, candidate] = &pages.engines;
        (reference.pages.iter().zip(&candidate.pages)).any(|(&p, &q)| {
            let delta = U256::from(p).overflowing_sub(U256::from(q)).0;
            let negated = U256::zero().overflowing_sub(difference).0;
            [difference, negated].into_iter().any(|difference| {
                if delta.is_zero() || difference.trailing_zeros() < delta.trailing_zeros() {
                    return false;
                }
                let at = difference.trailing_zeros() - delta.trailing_zeros();
                delta << at as usize == difference
            })
        })
    }

    #[test]
    fn a_difference_is_looked_up_as_every_pair_would_find_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for round in 0..200 {
            let mut pages = Pages::default();
            for _ in 0..rng.gen_range(1..40) {
                // zk_evm's pages 8 apart, vm2's 1 or 2, and sometimes anything.
                let engine = rng.gen_range(0..2);
                let page = match rng.gen_range(0..4) {
                    0 => rng.gen(),
                    _ => rng.gen_range(0..4096) * if engine == 0 { 8 } else { 1 },
                };
                pages.see(engine, page);
            }
            let [reference, candidate] = &pages.engines;
            let pairs: Vec<_> = reference.pages.iter().zip(&candidate.pages).collect();
            for _ in 0..200 {
                let difference = match (rng.gen_range(0..3), pairs.is_empty()) {
                    (0, false) => {
                        // A pair's difference, shifted anywhere (the top bits may fall off).
                        let (&p, &q) = pairs[rng.gen_range(0..pairs.len())];
                        let delta = U256::from(p).overflowing_sub(U256::from(q)).0;
                        delta << rng.gen_range(0..256usize)
                    }
                    (1, _) => U256::from(rng.gen::<u64>()) << rng.gen_range(0..256usize),
                    _ => U256::from_big_endian(&rng.gen::<[u8; 32]>()),
                };
                for difference in [difference, U256::zero().overflowing_sub(difference).0] {
                    assert_eq!(
                        pages.shifted_difference(difference),
                        by_every_pair(&pages, difference),
                        "round {round}, difference {difference:#x}"
                    );
                }
            }
        }
    }
}
