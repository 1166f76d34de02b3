//! One line of the subset as an instruction: its mnemonic, modifiers and operands, encoded as
//! zkevm-assembly encodes them; immediates that name labels are left to the linker.

use smallvec::SmallVec;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    decoding::EncodingModeProduction, AddOpcode, BinopOpcode, Condition, ContextOpcode,
    DecodedOpcode, DivOpcode, FarCallOpcode, ImmMemHandlerFlags, InvalidOpcode, JumpOpcode,
    LogOpcode, MulOpcode, NearCallOpcode, NopOpcode, Opcode, OpcodeVariant, Operand, PtrOpcode,
    RegOrImmFlags, RetOpcode, ShiftOpcode, SubOpcode, UMAOpcode,
};

use super::operand::{arg, Arg, Stack};

pub(super) type Opcode8 = DecodedOpcode<8, EncodingModeProduction>;

/// What an immediate is filled with once labels are placed.
#[derive(Clone, Copy)]
pub(super) enum Fixup<'a> {
    Code(&'a str),
    Data(&'a str, u16),
}

/// An instruction, its immediates possibly still naming labels.
pub(super) struct Instruction<'a> {
    pub opcode: Opcode8,
    pub imm: [Option<Fixup<'a>>; 2],
}

impl<'a> Instruction<'a> {
    pub(super) fn plain(variant: OpcodeVariant) -> Self {
        Self {
            opcode: Opcode8 {
                variant,
                ..Opcode8::default()
            },
            imm: [None, None],
        }
    }
}

pub(super) fn variant(opcode: Opcode, src0: Operand, dst0: Operand) -> OpcodeVariant {
    OpcodeVariant {
        opcode,
        src0_operand_type: src0,
        dst0_operand_type: dst0,
        flags: [false; 2],
    }
}

pub(super) fn ret(kind: RetOpcode, to_label: bool, register: u8) -> Instruction<'static> {
    let mut instruction = Instruction::plain(variant(
        Opcode::Ret(kind),
        Operand::RegOnly,
        Operand::RegOnly,
    ));
    instruction.opcode.variant.flags[0] = to_label;
    instruction.opcode.src0_reg_idx = register;
    instruction
}

/// A mnemonic's modifiers: its condition, and which of `flags` it carries.
struct Modifiers<const N: usize> {
    condition: Condition,
    flags: [bool; N],
}

fn modifiers<const N: usize>(parts: &[&str], flags: [&str; N]) -> Option<Modifiers<N>> {
    let mut found = Modifiers {
        condition: Condition::Always,
        flags: [false; N],
    };
    let mut conditioned = false;
    for &part in parts {
        let condition = match part {
            "gt" => Some(Condition::Gt),
            "lt" => Some(Condition::Lt),
            "eq" => Some(Condition::Eq),
            "ge" => Some(Condition::Ge),
            "le" => Some(Condition::Le),
            "ne" => Some(Condition::Ne),
            "gtlt" => Some(Condition::GtOrLt),
            _ => None,
        };
        match condition {
            Some(condition) if !conditioned => {
                found.condition = condition;
                conditioned = true;
            }
            Some(_) => return None,
            None => {
                let index = flags.iter().position(|&flag| flag == part)?;
                if std::mem::replace(&mut found.flags[index], true) {
                    return None;
                }
            }
        }
    }
    Some(found)
}

/// An instruction being built: its opcode and the fixups of its immediates.
struct Builder<'a> {
    instruction: Instruction<'a>,
}

impl<'a> Builder<'a> {
    fn new(opcode: Opcode, condition: Condition) -> Self {
        let mut instruction =
            Instruction::plain(variant(opcode, Operand::RegOnly, Operand::RegOnly));
        instruction.opcode.condition = condition;
        Self { instruction }
    }

    fn flag(mut self, index: usize, value: bool) -> Self {
        self.instruction.opcode.variant.flags[index] = value;
        self
    }

    /// A full source operand (register, immediate, stack or code constant).
    fn src0(mut self, arg: Arg<'a>) -> Option<Self> {
        let opcode = &mut self.instruction.opcode;
        let mode = match arg {
            Arg::Reg(register) => {
                opcode.src0_reg_idx = register;
                ImmMemHandlerFlags::UseRegOnly
            }
            Arg::Imm(value) => {
                opcode.imm_0 = value;
                ImmMemHandlerFlags::UseImm16Only
            }
            Arg::Stack(stack, slot) => {
                opcode.imm_0 = slot;
                stack.mode()
            }
            Arg::Const(label, offset) => {
                self.instruction.imm[0] = Some(Fixup::Data(label, offset));
                ImmMemHandlerFlags::UseCodePage
            }
            Arg::Label(_) => return None,
        };
        opcode.variant.src0_operand_type = Operand::Full(mode);
        Some(self)
    }

    /// A full destination operand (register or stack).
    fn dst0(mut self, arg: Arg<'a>) -> Option<Self> {
        let opcode = &mut self.instruction.opcode;
        let mode = match arg {
            Arg::Reg(register) => {
                opcode.dst0_reg_idx = register;
                ImmMemHandlerFlags::UseRegOnly
            }
            Arg::Stack(stack, slot) => {
                opcode.imm_1 = slot;
                stack.mode()
            }
            _ => return None,
        };
        opcode.variant.dst0_operand_type = Operand::Full(mode);
        Some(self)
    }

    /// A register or 16-bit immediate source.
    fn src0_reg_or_imm(mut self, arg: Arg<'a>) -> Option<Self> {
        let opcode = &mut self.instruction.opcode;
        let mode = match arg {
            Arg::Reg(register) => {
                opcode.src0_reg_idx = register;
                RegOrImmFlags::UseRegOnly
            }
            Arg::Imm(value) => {
                opcode.imm_0 = value;
                RegOrImmFlags::UseImm16Only
            }
            _ => return None,
        };
        opcode.variant.src0_operand_type = Operand::RegOrImm(mode);
        Some(self)
    }

    /// Register operands: (src0, src1, dst0, dst1), `None` leaving one as it is.
    fn registers(mut self, registers: [Option<Arg<'a>>; 4]) -> Option<Self> {
        let opcode = &mut self.instruction.opcode;
        let fields = [
            &mut opcode.src0_reg_idx,
            &mut opcode.src1_reg_idx,
            &mut opcode.dst0_reg_idx,
            &mut opcode.dst1_reg_idx,
        ];
        for (field, arg) in fields.into_iter().zip(registers) {
            match arg {
                None => {}
                Some(Arg::Reg(register)) => *field = register,
                Some(_) => return None,
            }
        }
        Some(self)
    }

    /// A code label in immediate `slot`.
    fn label(mut self, slot: usize, arg: Arg<'a>) -> Option<Self> {
        let Arg::Label(label) = arg else { return None };
        self.instruction.imm[slot] = Some(Fixup::Code(label));
        Some(self)
    }

    fn done(self) -> Option<Instruction<'a>> {
        Some(self.instruction)
    }
}

/// The instruction `line` (trimmed, without its comment) writes, if it is in the subset.
pub(super) fn instruction(line: &str) -> Option<Instruction<'_>> {
    let (mnemonic, operands) = match line.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((mnemonic, operands)) => (mnemonic, operands.trim_start()),
        None => (line, ""),
    };
    let mut args = [Arg::Reg(0); 4];
    let mut count = 0;
    if !operands.is_empty() {
        for operand in operands.split(',') {
            *args.get_mut(count)? = arg(operand.trim())?;
            count += 1;
        }
    }
    let args = &args[..count];
    let (mnemonic, set_flags) = match mnemonic.strip_suffix('!') {
        Some(mnemonic) => (mnemonic, true),
        None => (mnemonic, false),
    };
    if !mnemonic.is_ascii() || mnemonic.contains('!') {
        return None;
    }
    let parts: SmallVec<[&str; 6]> = mnemonic.split('.').collect();
    let (&base, rest) = parts.split_first()?;
    match base {
        "add" | "sub" | "mul" | "div" | "and" | "or" | "xor" | "shl" | "shr" | "rol" | "ror" => {
            arithmetic(base, rest, set_flags, args)
        }
        // Only arithmetic sets flags.
        _ if set_flags => None,
        "ptr" => pointer(rest, args),
        "nop" => nop(rest, args),
        "jump" => {
            let m = modifiers(rest, [])?;
            let [target] = args else { return None };
            let builder = Builder::new(Opcode::Jump(JumpOpcode), m.condition);
            match target {
                Arg::Label(_) => {
                    let mut builder = builder.label(0, *target)?;
                    let mode = Operand::Full(ImmMemHandlerFlags::UseImm16Only);
                    builder.instruction.opcode.variant.src0_operand_type = mode;
                    builder.done()
                }
                _ => builder.src0(*target)?.done(),
            }
        }
        "context" => context(rest, args),
        "uma" => {
            let (&kind, rest) = rest.split_first()?;
            let kind = match kind {
                "heap_read" => UMAOpcode::HeapRead,
                "heap_write" => UMAOpcode::HeapWrite,
                "aux_heap_read" => UMAOpcode::AuxHeapRead,
                "aux_heap_write" => UMAOpcode::AuxHeapWrite,
                "fat_ptr_read" => UMAOpcode::FatPointerRead,
                "static_read" => UMAOpcode::StaticMemoryRead,
                "static_write" => UMAOpcode::StaticMemoryWrite,
                _ => return None,
            };
            let m = modifiers(rest, ["inc"])?;
            let [a, b, c, d] = args else { return None };
            uma(kind, m, [*a, *b, *c, *d])
        }
        // The shorthands: `ld[.1|.2][.inc] a, b[, c]`, `st.1|.2[.inc] a, b[, c]`.
        "ld" | "st" => {
            let (heap, inc) = match rest {
                [] if base == "ld" => (None, false),
                ["inc"] if base == "ld" => (None, true),
                [heap] => (Some(*heap), false),
                [heap, "inc"] => (Some(*heap), true),
                _ => return None,
            };
            let kind = match (base, heap) {
                ("ld", None) => UMAOpcode::FatPointerRead,
                ("ld", Some("1")) => UMAOpcode::HeapRead,
                ("ld", Some("2")) => UMAOpcode::AuxHeapRead,
                ("st", Some("1")) => UMAOpcode::HeapWrite,
                ("st", Some("2")) => UMAOpcode::AuxHeapWrite,
                _ => return None,
            };
            let r0 = Arg::Reg(0);
            let args = match (base, args, inc) {
                ("ld", [a, b], false) => [*a, r0, *b, r0],
                ("ld", [a, b, c], true) => [*a, r0, *b, *c],
                ("st", [a, b], false) => [*a, *b, r0, r0],
                ("st", [a, b, c], true) => [*a, *b, *c, r0],
                _ => return None,
            };
            let m = Modifiers {
                condition: Condition::Always,
                flags: [inc],
            };
            uma(kind, m, args)
        }
        "log" => {
            let (&kind, rest) = rest.split_first()?;
            let kind = match kind {
                "sread" => LogOpcode::StorageRead,
                "swrite" => LogOpcode::StorageWrite,
                "tread" => LogOpcode::TransientStorageRead,
                "twrite" => LogOpcode::TransientStorageWrite,
                "event" => LogOpcode::Event,
                "to_l1" => LogOpcode::ToL1Message,
                "precompile" => LogOpcode::PrecompileCall,
                "decommit" => LogOpcode::Decommit,
                _ => return None,
            };
            let m = modifiers(rest, ["first"])?;
            let [a, b, c] = args else { return None };
            log(kind, m, [*a, *b, *c])
        }
        // The shorthands: `sload a, b` is `log.sread a, r0, b`, and so on.
        "sload" | "sstore" | "tload" | "tstore" | "to_l1" => {
            let m = match base {
                "to_l1" => modifiers(rest, ["first"])?,
                _ if rest.is_empty() => Modifiers {
                    condition: Condition::Always,
                    flags: [false],
                },
                _ => return None,
            };
            let [a, b] = args else { return None };
            let r0 = Arg::Reg(0);
            let (kind, args) = match base {
                "sload" => (LogOpcode::StorageRead, [*a, r0, *b]),
                "sstore" => (LogOpcode::StorageWrite, [*a, *b, r0]),
                "tload" => (LogOpcode::TransientStorageRead, [*a, r0, *b]),
                "tstore" => (LogOpcode::TransientStorageWrite, [*a, *b, r0]),
                _ => (LogOpcode::ToL1Message, [*a, *b, r0]),
            };
            log(kind, m, args)
        }
        "near_call" => {
            let m = modifiers(rest, [])?;
            let [ergs, sub, handler] = args else {
                return None;
            };
            (Builder::new(Opcode::NearCall(NearCallOpcode), m.condition))
                .registers([Some(*ergs), None, None, None])?
                .label(0, *sub)?
                .label(1, *handler)?
                .done()
        }
        "far_call" => {
            let m = modifiers(rest, ["delegate", "mimic", "static", "shard"])?;
            let [abi, target, handler] = args else {
                return None;
            };
            let kind = match m.flags {
                [false, false, ..] => FarCallOpcode::Normal,
                [true, false, ..] => FarCallOpcode::Delegate,
                [false, true, ..] => FarCallOpcode::Mimic,
                [true, true, ..] => return None,
            };
            (Builder::new(Opcode::FarCall(kind), m.condition))
                .flag(0, m.flags[2])
                .flag(1, m.flags[3])
                .registers([Some(*abi), Some(*target), None, None])?
                .label(0, *handler)?
                .done()
        }
        "ret" => {
            let (&kind, rest) = rest.split_first()?;
            let kind = match kind {
                "ok" => RetOpcode::Ok,
                "revert" => RetOpcode::Revert,
                "panic" => RetOpcode::Panic,
                _ => return None,
            };
            let m = modifiers(rest, ["to_label"])?;
            let builder = Builder::new(Opcode::Ret(kind), m.condition).flag(0, m.flags[0]);
            match (args, m.flags[0]) {
                ([data], false) => builder.registers([Some(*data), None, None, None])?.done(),
                ([data, label], true) => (builder.registers([Some(*data), None, None, None])?)
                    .label(0, *label)?
                    .done(),
                _ => None,
            }
        }
        "invalid" if args.is_empty() => {
            let m = modifiers(rest, [])?;
            Builder::new(Opcode::Invalid(InvalidOpcode), m.condition).done()
        }
        _ => None,
    }
}

/// `add`…`ror`: `src0, src1, dst0` (and `dst1` for `mul` and `div`).
fn arithmetic<'a>(
    base: &str,
    rest: &[&str],
    set_flags: bool,
    args: &[Arg<'a>],
) -> Option<Instruction<'a>> {
    let (opcode, swaps) = match base {
        "add" => (Opcode::Add(AddOpcode::Add), false),
        "sub" => (Opcode::Sub(SubOpcode::Sub), true),
        "mul" => (Opcode::Mul(MulOpcode), false),
        "div" => (Opcode::Div(DivOpcode), true),
        "and" => (Opcode::Binop(BinopOpcode::And), false),
        "or" => (Opcode::Binop(BinopOpcode::Or), false),
        "xor" => (Opcode::Binop(BinopOpcode::Xor), false),
        "shl" => (Opcode::Shift(ShiftOpcode::Shl), true),
        "shr" => (Opcode::Shift(ShiftOpcode::Shr), true),
        "rol" => (Opcode::Shift(ShiftOpcode::Rol), true),
        _ => (Opcode::Shift(ShiftOpcode::Ror), true),
    };
    let m = match swaps {
        true => modifiers(rest, ["s"])?,
        false => modifiers(rest, []).map(|m| Modifiers {
            condition: m.condition,
            flags: [false],
        })?,
    };
    let wide = matches!(opcode, Opcode::Mul(_) | Opcode::Div(_));
    let (src0, src1, dst0, dst1) = match (args, wide) {
        ([a, b, c], false) => (*a, *b, *c, None),
        ([a, b, c, d], true) => (*a, *b, *c, Some(*d)),
        _ => return None,
    };
    (Builder::new(opcode, m.condition))
        .flag(0, set_flags)
        .flag(1, m.flags[0])
        .src0(src0)?
        .dst0(dst0)?
        .registers([None, Some(src1), None, dst1])?
        .done()
}

/// `ptr.add|sub|pack|shrink[.s] src0, src1, dst0`.
fn pointer<'a>(rest: &[&str], args: &[Arg<'a>]) -> Option<Instruction<'a>> {
    let (&kind, rest) = rest.split_first()?;
    let kind = match kind {
        "add" => PtrOpcode::Add,
        "sub" => PtrOpcode::Sub,
        "pack" => PtrOpcode::Pack,
        "shrink" => PtrOpcode::Shrink,
        _ => return None,
    };
    let m = modifiers(rest, ["s"])?;
    let [src0, src1, dst0] = args else {
        return None;
    };
    (Builder::new(Opcode::Ptr(kind), m.condition))
        .flag(0, m.flags[0])
        .src0(*src0)?
        .dst0(*dst0)?
        .registers([None, Some(*src1), None, None])?
        .done()
}

/// `nop`, `nop stack+=[N]`, `nop stack-=[N]` or `nop src0, r0, dst0, r0`.
fn nop<'a>(rest: &[&str], args: &[Arg<'a>]) -> Option<Instruction<'a>> {
    let m = modifiers(rest, [])?;
    let r0 = Arg::Reg(0);
    let (src0, dst0) = match args {
        [] if rest.is_empty() => (r0, r0),
        [push @ Arg::Stack(Stack::Push, _)] if rest.is_empty() => (r0, *push),
        [pop @ Arg::Stack(Stack::Pop, _)] if rest.is_empty() => (*pop, r0),
        // zkevm-assembly reads any line starting `nop stack+=` or `nop stack-=` as the shorthand.
        [Arg::Stack(Stack::Push | Stack::Pop, _), ..] if rest.is_empty() => return None,
        [src0, Arg::Reg(0), dst0, Arg::Reg(0)] => (*src0, *dst0),
        _ => return None,
    };
    if matches!(src0, Arg::Const(..)) {
        return None;
    }
    (Builder::new(Opcode::Nop(NopOpcode), m.condition))
        .src0(src0)?
        .dst0(dst0)?
        .done()
}

/// `context.<reader> dst`, `context.<setter> src` or `context.inc_tx_num`.
fn context<'a>(rest: &[&str], args: &[Arg<'a>]) -> Option<Instruction<'a>> {
    let (&kind, rest) = rest.split_first()?;
    let kind = match kind {
        "this" => ContextOpcode::This,
        "caller" => ContextOpcode::Caller,
        "code_source" => ContextOpcode::CodeAddress,
        "meta" => ContextOpcode::Meta,
        "ergs_left" => ContextOpcode::ErgsLeft,
        "sp" => ContextOpcode::Sp,
        "get_context_u128" => ContextOpcode::GetContextU128,
        "set_context_u128" => ContextOpcode::SetContextU128,
        "set_ergs_per_pubdata" => ContextOpcode::AuxMutating0,
        "inc_tx_num" => ContextOpcode::IncrementTxNumber,
        _ => return None,
    };
    let m = modifiers(rest, [])?;
    let builder = Builder::new(Opcode::Context(kind), m.condition);
    match (kind, args) {
        (ContextOpcode::IncrementTxNumber, []) => builder.done(),
        (ContextOpcode::SetContextU128 | ContextOpcode::AuxMutating0, [src]) => {
            builder.registers([Some(*src), None, None, None])?.done()
        }
        (ContextOpcode::IncrementTxNumber, _)
        | (ContextOpcode::SetContextU128 | ContextOpcode::AuxMutating0, _) => None,
        (_, [dst]) => builder.registers([None, None, Some(*dst), None])?.done(),
        _ => None,
    }
}

/// `uma.<kind>[.inc] src0, src1, dst0, dst1`.
fn uma<'a>(
    kind: UMAOpcode,
    m: Modifiers<1>,
    [src0, src1, dst0, dst1]: [Arg<'a>; 4],
) -> Option<Instruction<'a>> {
    let builder = Builder::new(Opcode::UMA(kind), m.condition).flag(0, m.flags[0]);
    let builder = match kind {
        UMAOpcode::FatPointerRead => builder.registers([Some(src0), None, None, None])?,
        _ => builder.src0_reg_or_imm(src0)?,
    };
    (builder.registers([None, Some(src1), Some(dst0), Some(dst1)])?).done()
}

/// `log.<kind>[.first] src0, src1, dst0`: `.first` only on events and L2→L1 messages.
fn log<'a>(
    kind: LogOpcode,
    m: Modifiers<1>,
    [src0, src1, dst0]: [Arg<'a>; 3],
) -> Option<Instruction<'a>> {
    if m.flags[0] && !matches!(kind, LogOpcode::Event | LogOpcode::ToL1Message) {
        return None;
    }
    (Builder::new(Opcode::Log(kind), m.condition).flag(0, m.flags[0]))
        .registers([Some(src0), Some(src1), Some(dst0), None])?
        .done()
}
