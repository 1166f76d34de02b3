//! An instruction's word, laid out as zkevm_opcode_defs' production encoding lays it out, with
//! the variant's number looked up in a map of our own: the crate's map hashes with SipHash, and
//! checking then encoding each instruction through it was half of assembling.

use std::sync::OnceLock;

use fnv::FnvHashMap;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    OpcodeVariant, CONDITIONAL_BITS_SHIFT, DST_REGS_SHIFT, OPCODE_TO_CANONICAL_INDEX_LOOKUP_MAP,
    SRC_REGS_SHIFT,
};

use super::instruction::Opcode8;

/// Where the two immediates go in the word.
const IMM0_SHIFT: u32 = 32;
const IMM1_SHIFT: u32 = 48;

/// The word `opcode` encodes to; `None` if its variant has no encoding.
pub(super) fn encode(opcode: &Opcode8) -> Option<u64> {
    static NUMBERS: OnceLock<FnvHashMap<OpcodeVariant, u64>> = OnceLock::new();
    let numbers = NUMBERS.get_or_init(|| {
        (OPCODE_TO_CANONICAL_INDEX_LOOKUP_MAP.iter())
            .map(|(variant, &number)| (*variant, number as u64))
            .collect()
    });
    let registers = |low: u8, high: u8| u64::from(low | high << 4);
    Some(
        numbers.get(&opcode.variant)?
            | (opcode.condition.variant_index() as u64) << CONDITIONAL_BITS_SHIFT
            | registers(opcode.src0_reg_idx, opcode.src1_reg_idx) << SRC_REGS_SHIFT
            | registers(opcode.dst0_reg_idx, opcode.dst1_reg_idx) << DST_REGS_SHIFT
            | u64::from(opcode.imm_0) << IMM0_SHIFT
            | u64::from(opcode.imm_1) << IMM1_SHIFT,
    )
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
        Condition, NopOpcode, Opcode, Operand, RegOrImmFlags,
    };

    use super::*;

    #[test]
    fn words_are_what_the_crate_encodes() {
        let conditions = [
            Condition::Always,
            Condition::Gt,
            Condition::Lt,
            Condition::Eq,
            Condition::Ge,
            Condition::Le,
            Condition::Ne,
            Condition::GtOrLt,
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for &variant in OPCODE_TO_CANONICAL_INDEX_LOOKUP_MAP.keys() {
            for _ in 0..8 {
                let opcode = Opcode8 {
                    variant,
                    condition: conditions[rng.gen_range(0..8)],
                    src0_reg_idx: rng.gen_range(0..16),
                    src1_reg_idx: rng.gen_range(0..16),
                    dst0_reg_idx: rng.gen_range(0..16),
                    dst1_reg_idx: rng.gen_range(0..16),
                    imm_0: rng.gen(),
                    imm_1: rng.gen(),
                };
                assert_eq!(encode(&opcode), Some(opcode.serialize_as_integer()));
            }
        }
        // A nop with a register-or-immediate source is no variant of the table.
        let mut unlisted = Opcode8::default();
        unlisted.variant.opcode = Opcode::Nop(NopOpcode);
        unlisted.variant.src0_operand_type = Operand::RegOrImm(RegOrImmFlags::UseRegOnly);
        assert!(!OPCODE_TO_CANONICAL_INDEX_LOOKUP_MAP.contains_key(&unlisted.variant));
        assert_eq!(encode(&unlisted), None);
    }
}
