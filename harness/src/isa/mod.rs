//! The EraVM instruction set as the reference decodes it (zkevm_opcode_defs): every opcode
//! variant, instruction decoding, and which registers and stack slots an instruction's operands
//! name, and the coverage model over them ([`model`]). A leaf: it knows instructions, not VMs.

pub mod model;

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    decoding::{EncodingModeProduction, VmEncodingMode},
    AddOpcode, BinopOpcode, ContextOpcode, DecodedOpcode, DivOpcode, FarCallOpcode,
    ImmMemHandlerFlags, InvalidOpcode, JumpOpcode, LogOpcode, MulOpcode, NearCallOpcode, NopOpcode,
    Opcode, OpcodeVariantProps, Operand, PtrOpcode, RegOrImmFlags, RetOpcode, ShiftOpcode,
    SubOpcode, UMAOpcode,
};
use zksync_types::U256;

/// A decoded instruction.
pub type Instruction = DecodedOpcode<8, EncodingModeProduction>;

/// Every opcode variant of the ISA version the reference VM runs.
pub fn opcode_variants() -> Vec<Opcode> {
    fn all<T: OpcodeVariantProps>(wrap: fn(T) -> Opcode) -> Vec<Opcode> {
        T::all_variants().into_iter().map(wrap).collect()
    }
    [
        all(Opcode::Invalid as fn(InvalidOpcode) -> Opcode),
        all(Opcode::Nop as fn(NopOpcode) -> Opcode),
        all(Opcode::Add as fn(AddOpcode) -> Opcode),
        all(Opcode::Sub as fn(SubOpcode) -> Opcode),
        all(Opcode::Mul as fn(MulOpcode) -> Opcode),
        all(Opcode::Div as fn(DivOpcode) -> Opcode),
        all(Opcode::Jump as fn(JumpOpcode) -> Opcode),
        all(Opcode::Context as fn(ContextOpcode) -> Opcode),
        all(Opcode::Shift as fn(ShiftOpcode) -> Opcode),
        all(Opcode::Binop as fn(BinopOpcode) -> Opcode),
        all(Opcode::Ptr as fn(PtrOpcode) -> Opcode),
        all(Opcode::NearCall as fn(NearCallOpcode) -> Opcode),
        all(Opcode::Log as fn(LogOpcode) -> Opcode),
        all(Opcode::FarCall as fn(FarCallOpcode) -> Opcode),
        all(Opcode::Ret as fn(RetOpcode) -> Opcode),
        all(Opcode::UMA as fn(UMAOpcode) -> Opcode),
    ]
    .concat()
}

/// The instruction at `pc` in a program whose 32-byte word `pc / 4` is `word`, decoded as
/// EraVM production code is (zkevm_opcode_defs).
pub fn decode(word: U256, pc: u16) -> Instruction {
    let raw = EncodingModeProduction::integer_representaiton_from_u256(word, pc % 4);
    EncodingModeProduction::parse_preliminary_variant_and_absolute_number(raw).0
}

/// The registers (1..=15) `instruction` reads as operands: its first operand if that is a
/// register, and its second. (A first operand on the stack or in the code is read from memory.)
pub fn operand_registers(instruction: &Instruction) -> [u8; 2] {
    let src0_is_register = matches!(
        instruction.variant.src0_operand_type,
        Operand::RegOnly
            | Operand::RegOrImm(RegOrImmFlags::UseRegOnly)
            | Operand::Full(ImmMemHandlerFlags::UseRegOnly)
    );
    let src0 = if src0_is_register {
        instruction.src0_reg_idx
    } else {
        0
    };
    [src0, instruction.src1_reg_idx]
}

/// The stack slots an instruction reads (its first operand) and writes (its destination), if
/// those operands are on the stack, as EraVM addresses them: register + immediate, absolute or
/// below the stack pointer; a pop moves the stack pointer down before the read, a push writes at
/// the stack pointer and moves it up, and the destination is addressed after the pop. `sp` is
/// the stack pointer and `register` the registers' values before the instruction.
pub fn stack_slots(
    instruction: &Instruction,
    mut sp: u16,
    register: impl Fn(u8) -> U256,
) -> [Option<u16>; 2] {
    let address = |index: u8, immediate: u16| {
        let base = if index == 0 {
            0
        } else {
            register(index).low_u32() as u16
        };
        base.wrapping_add(immediate)
    };
    let read = match instruction.variant.src0_operand_type {
        Operand::Full(ImmMemHandlerFlags::UseStackWithPushPop) => {
            sp = sp.wrapping_sub(address(instruction.src0_reg_idx, instruction.imm_0));
            Some(sp)
        }
        Operand::Full(ImmMemHandlerFlags::UseStackWithOffset) => {
            Some(sp.wrapping_sub(address(instruction.src0_reg_idx, instruction.imm_0)))
        }
        Operand::Full(ImmMemHandlerFlags::UseAbsoluteOnStack) => {
            Some(address(instruction.src0_reg_idx, instruction.imm_0))
        }
        _ => None,
    };
    let write = match instruction.variant.dst0_operand_type {
        Operand::Full(ImmMemHandlerFlags::UseStackWithPushPop) => Some(sp),
        Operand::Full(ImmMemHandlerFlags::UseStackWithOffset) => {
            Some(sp.wrapping_sub(address(instruction.dst0_reg_idx, instruction.imm_1)))
        }
        Operand::Full(ImmMemHandlerFlags::UseAbsoluteOnStack) => {
            Some(address(instruction.dst0_reg_idx, instruction.imm_1))
        }
        _ => None,
    };
    [read, write]
}

/// Whether `opcode` writes its result to its destination operand (a register or, with full
/// addressing, a stack slot) and computes it from its operands alone: arithmetic, logic, shifts
/// and pointer arithmetic.
pub fn computes(opcode: Opcode) -> bool {
    matches!(
        opcode,
        Opcode::Add(_)
            | Opcode::Sub(_)
            | Opcode::Mul(_)
            | Opcode::Div(_)
            | Opcode::Shift(_)
            | Opcode::Binop(_)
            | Opcode::Ptr(_)
    )
}

/// The instruction at `pc` in `code`, if the code reaches that far.
pub fn instruction_at(code: &[u8], pc: u16) -> Option<Instruction> {
    let at = usize::from(pc / 4) * 32;
    let word = code.get(at..at + 32)?;
    Some(decode(U256::from_big_endian(word), pc))
}
