//! Which values differ only through page numbers (`page_values`, [`crate::divergence::tolerance::Tolerance::PageValues`]): registers,
//! heap words and stack slots computed or loaded from such values, followed step by step.

use std::collections::{BTreeSet, HashSet};

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{Opcode, UMAOpcode};
use zksync_types::U256;

use super::pages::Pages;
use crate::{
    isa::{computes, operand_registers, stack_slots, Instruction},
    outcome::Word,
    steps::Step,
};

/// What the comparison has learnt from the steps so far: forgotten with an execution that is
/// rolled back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// Each engine's pages, by order of first appearance.
    pub(crate) pages: Pages,
    /// Each engine's registers r1..r15, rebuilt from the steps' writes.
    pub(crate) state: [[(Word, bool); 15]; 2],
    /// The registers whose value or pointer tag differs between the two states (bit `i` for
    /// r`i+1`, as in the other register sets): the comparison looks at these alone.
    pub(crate) differing: u16,
    /// Registers known to differ only through page numbers (tolerated), until either engine
    /// writes them.
    pub(crate) page_dependent: u16,
    /// Heap words known to differ only through page numbers, by the page's order of first
    /// appearance and the word's byte offset (a store of a page-dependent register).
    pub(crate) page_dependent_words: BTreeSet<(usize, u32)>,
    /// Stack slots known to differ only through page numbers, by the order of first appearance
    /// of their frame's heap page (the frame's identity) and the slot.
    pub(crate) page_dependent_slots: HashSet<(usize, u16)>,
}

impl Known {
    /// Whether the results of instruction `step` (`instruction`, decoded) come from values that
    /// differed only through page numbers: for an instruction that computes, a register in
    /// `dependent` or a page-dependent stack slot among its operands; for a load, a byte of a
    /// page-dependent heap word. `registers`, `dependent` and `sp` are as before the step.
    pub(crate) fn reads_from_pages(
        &self,
        step: &Step,
        instruction: &Instruction,
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

/// The page and byte offset that load `step` (`instruction`, decoded) read from, given the
/// registers before it: the frame's heap or aux heap at its first operand, or where the fat
/// pointer it read through points (page in bits 32..64, start + offset).
fn load_address(
    step: &Step,
    instruction: &Instruction,
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

/// The register indices (0 for r1) in a register set, lowest first.
pub(crate) fn registers_in(set: u16) -> impl Iterator<Item = usize> {
    (0..15).filter(move |&index| holds(set, index))
}

/// Whether a register set holds register index `index` (0 for r1).
pub(crate) fn holds(set: u16, index: usize) -> bool {
    set >> index & 1 == 1
}
