//! Two aligned steps compared component by component, in the order a cause is named by:
//! opcode, depth, contract, pc, whether the instruction failed, registers, the word stored,
//! flags, pubdata, ergs, stack pointer, heap bounds.
//!
//! Normalization of what the two VMs expose differently (not tolerances: neither is a
//! difference in behaviour):
//! - a panic's pc: vm2 has none while a panic unwinds, zk_evm shows the failing pc + 1, so the pc
//!   of a `Ret(Panic)` step is compared only when both engines have one;
//! - a return from the bootloader's own frame (depth 1) ends the execution: vm2 stops there and
//!   leaves its state as it was, zk_evm pops to an empty frame, so only the instruction itself
//!   (opcode, pc) is compared, not the state it leaves.

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{Opcode, RetOpcode};
use zksync_types::U256;

use super::{
    pages::{outside_page, page},
    taint::{holds, registers_in, Known},
};
use crate::{
    divergence::{
        cause::{CauseKind, CodeAt},
        tolerance::{Tolerance, Tolerances, Tolerated},
    },
    isa::{instruction_at, operand_registers},
    outcome::Word,
    steps::{Memory, Step, Stored},
};

/// Compares aligned steps, remembering what it learns.
#[derive(Debug, Clone)]
pub(crate) struct Comparer {
    pub(crate) tolerances: Tolerances,
    pub(crate) known: Known,
    pub(crate) tolerated: Tolerated,
}

impl Comparer {
    /// The first component in which two aligned steps differ: (instruction, component, kind).
    pub(crate) fn step(
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
        // An instruction that fails in one engine while the other goes on to an instruction that
        // is no panic is the cause, not the next step (one engine unwinding, the other not).
        // Where both go on to a panic, they fail alike: vm2 marks as failed an instruction that
        // sends the pc out of the program, where zk_evm runs an invalid instruction next; zk_evm
        // marks a far call whose callee fails at once, where vm2 runs the callee's panic next.
        let goes_on = |next: Option<&Step>| next.is_some_and(|step| !is_panic(step));
        match (a.failed, b.failed) {
            (true, false) if goes_on(next.1) => {
                return Some((name(a), "fails".into(), CauseKind::Missing))
            }
            (false, true) if goes_on(next.0) => {
                return Some((name(a), "fails".into(), CauseKind::Extra))
            }
            _ => {}
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
        let page_values = self.tolerances.allows(Tolerance::PageValues);
        let instruction = || {
            let pc = a.pc.filter(|_| page_values)?;
            code(a.contract).and_then(|code| instruction_at(code, pc))
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
        if bounds_differ && frame_removed && self.tolerances.allows(Tolerance::DyingFrame) {
            self.tolerated.count(Tolerance::DyingFrame);
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
            if self.tolerances.allows(Tolerance::PageIds) && self.same_but_page(&x, &y) {
                self.known.page_dependent |= 1 << index;
                self.tolerated.count(Tolerance::PageIds);
                continue;
            }
            if from_pages {
                self.known.page_dependent |= 1 << index;
                self.tolerated.count(Tolerance::PageValues);
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
        if self.tolerances.allows(Tolerance::PageIds) && self.same_but_page(&x.value, &y.value) {
            // Instructions that compute read a stack slot as they read a register: like a
            // register, the slot is then page-dependent. A heap word reaches a register through
            // a load first, where this rule applies again.
            if stack {
                depends(&mut self.known, true);
            }
            self.tolerated.count(Tolerance::PageIds);
            return None;
        }
        if word.is_some() && stores_from_pages(&self.known) {
            depends(&mut self.known, true);
            self.tolerated.count(Tolerance::PageValues);
            return None;
        }
        Some((value, CauseKind::Value))
    }

    /// Whether two words differ by exactly the difference of two pages that are the same in
    /// order of first appearance, at one bit position: a pointer's page field (bits 32..64), or a
    /// page number that kernel code shifted, masked, negated or offset (by a constant that may
    /// carry into it).
    pub(crate) fn same_but_page(&self, a: &Word, b: &Word) -> bool {
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

fn is_panic(step: &Step) -> bool {
    step.opcode == Opcode::Ret(RetOpcode::Panic)
}
