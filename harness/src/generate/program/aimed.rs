//! Fragments aimed at the coverage model ([`crate::isa::model`]): a cell drawn uniformly from
//! the model's reachable cells, then an instruction of the cell's opcode variant written to show its feature — an
//! encoding form, a predicate, or an operand of a given origin or boundary class — with the rest
//! drawn at random. Drawn uniformly over cells, a rare form or origin is aimed at as often as a
//! common one. Modes, heap ends, pointer offsets and call ABIs are left to the opcode's family,
//! which draws those against the live state.

use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    BinopOpcode, ContextOpcode, LogOpcode, Opcode, PtrOpcode, RetOpcode, ShiftOpcode, UMAOpcode,
    OPCODES_TABLE,
};
use zksync_types::U256;

use super::{operands::boundary, Builder, Scope, STACK_SLOTS};
use crate::isa::model::{self, Cell, Ergs, Feature, Form, Origin, Src, Value};

/// What an aimed instruction must show; `None` leaves it to chance.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Aim {
    pub form: Option<Form>,
    /// A predicate suffix (`.eq`, …; empty for always).
    pub condition: Option<&'static str>,
    pub operand: Option<Operand>,
}

/// An operand that must come from `origin` or sit on the boundary `value`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Operand {
    pub src: Src,
    pub origin: Option<Origin>,
    pub value: Option<Value>,
}

impl Aim {
    pub(super) fn operand(&self, src: Src) -> Option<Operand> {
        self.operand.filter(|operand| operand.src == src)
    }
}

fn cells() -> &'static [Cell] {
    static CELLS: OnceLock<Vec<Cell>> = OnceLock::new();
    CELLS.get_or_init(model::reachable_cells)
}

/// The encoding forms of `opcode`'s variants.
fn forms(opcode: Opcode) -> Vec<Form> {
    let mut forms: Vec<Form> = (OPCODES_TABLE.iter())
        .filter(|variant| variant.opcode == opcode)
        .map(Form::of)
        .collect();
    forms.sort();
    forms.dedup();
    forms
}

/// The assembly suffix of the predicate numbered as [`Feature::Predicate`] numbers it.
fn condition_suffix(predicate: u8) -> &'static str {
    [".", ".gt", ".lt", ".eq", ".ge", ".le", ".ne", ".gtlt"][usize::from(predicate)]
        .trim_end_matches('.')
}

impl Builder<'_> {
    /// A fragment aimed at a cell drawn from the model.
    pub(super) fn aimed(&mut self, u: &mut Unstructured, scope: Scope) -> Result<()> {
        let cell = *u.choose(cells())?;
        let opcode = cell.opcode;
        // vm2 lacks static memory, so every batch that shows it diverges: aimed at rarely.
        let static_memory = matches!(
            opcode,
            Opcode::UMA(UMAOpcode::StaticMemoryRead | UMAOpcode::StaticMemoryWrite)
        );
        let calls = scope.depth < super::MAX_DEPTH && !scope.in_loop;
        let calling = matches!(
            opcode,
            Opcode::FarCall(_) | Opcode::NearCall(_) | Opcode::Ret(_)
        );
        if (static_memory && !u.ratio(1, 16)?) || (calling && !calls) {
            return self.arithmetic(u);
        }
        let mut aim = Aim::default();
        match cell.feature {
            Feature::Form(form) => aim.form = Some(form),
            Feature::Predicate(predicate) => aim.condition = Some(condition_suffix(predicate)),
            Feature::Origin(src, origin) => {
                aim.operand = Some(Operand {
                    src,
                    origin: Some(origin),
                    value: None,
                })
            }
            Feature::Value(src, value) => {
                aim.operand = Some(Operand {
                    src,
                    origin: None,
                    value: Some(value),
                })
            }
            Feature::Ergs(ergs) if ergs != Ergs::Plenty && calls => {
                return self.aim_ergs(u, opcode, ergs)
            }
            Feature::Mode(_)
            | Feature::Ergs(_)
            | Feature::Heap(_)
            | Feature::Pointer(_)
            | Feature::Abi(_) => return self.family_of(u, opcode, scope),
        }
        // A kernel-only instruction in user space fails before it reads its operands; it
        // still shows its form and predicate, but ends the frame: tried one time in eight.
        if opcode.requires_kernel_mode()
            && !self.cx.is_kernel()
            && (aim.operand.is_some() || !u.ratio(1, 8)?)
        {
            return self.arithmetic(u);
        }
        if let Some(condition) = aim.condition {
            if !condition.is_empty() && u.arbitrary()? {
                let (a, b) = (Self::src_reg(u)?, Self::src_reg(u)?);
                emit!(self, "sub! {a}, {b}, r0");
            }
        }
        self.aim_at(u, opcode, &aim, scope)
    }

    /// The fragment of `opcode`'s family, for features the family draws against live state.
    fn family_of(&mut self, u: &mut Unstructured, opcode: Opcode, scope: Scope) -> Result<()> {
        match opcode {
            Opcode::Add(_) | Opcode::Sub(_) | Opcode::Nop(_) | Opcode::Jump(_) => {
                self.arithmetic(u)
            }
            Opcode::Mul(_) | Opcode::Div(_) => self.mul_div(u),
            Opcode::Shift(_) | Opcode::Binop(_) => self.shift_or_bitwise(u),
            Opcode::UMA(UMAOpcode::FatPointerRead) | Opcode::Ptr(_) => self.pointer(u),
            Opcode::UMA(UMAOpcode::StaticMemoryRead | UMAOpcode::StaticMemoryWrite) => {
                self.static_memory(u)
            }
            Opcode::UMA(_) => self.heap(u),
            Opcode::Context(_) => self.context(u),
            Opcode::Log(LogOpcode::StorageRead | LogOpcode::StorageWrite) => {
                self.storage(u, "sload", "sstore")
            }
            Opcode::Log(LogOpcode::TransientStorageRead | LogOpcode::TransientStorageWrite) => {
                self.storage(u, "tload", "tstore")
            }
            Opcode::Log(_) => self.kernel_log(u),
            Opcode::FarCall(_) => self.far_call(u, &Aim::default()),
            Opcode::NearCall(_) | Opcode::Ret(_) => self.near_call(u, scope, &Aim::default()),
            Opcode::Invalid(_) => {
                self.emit("invalid");
                Ok(())
            }
        }
    }

    fn aim_at(
        &mut self,
        u: &mut Unstructured,
        opcode: Opcode,
        aim: &Aim,
        scope: Scope,
    ) -> Result<()> {
        let condition = match aim.condition {
            Some(condition) => condition,
            None => Self::condition(u)?,
        };
        match opcode {
            Opcode::Add(_)
            | Opcode::Sub(_)
            | Opcode::Mul(_)
            | Opcode::Div(_)
            | Opcode::Shift(_)
            | Opcode::Binop(_)
            | Opcode::Ptr(_)
            | Opcode::Nop(_) => self.aim_two_operand(u, opcode, aim, condition),
            Opcode::UMA(uma) => self.aim_uma(u, uma, aim, condition),
            Opcode::Log(log) => self.aim_log(u, log, aim, condition),
            Opcode::Context(context) => self.aim_context(u, context, aim, condition),
            Opcode::Jump(_) => self.aim_jump(u, aim, condition, scope),
            Opcode::FarCall(_) => self.far_call(
                u,
                &Aim {
                    condition: Some(condition),
                    ..*aim
                },
            ),
            Opcode::NearCall(_) => self.near_call(
                u,
                scope,
                &Aim {
                    condition: Some(condition),
                    ..*aim
                },
            ),
            Opcode::Ret(ret) => self.aim_ret(u, ret, aim, condition, scope),
            Opcode::Invalid(_) => {
                self.emit("invalid");
                Ok(())
            }
        }
    }

    /// The form to write: the aimed one, or one of the opcode's drawn at random, with src0
    /// addressed as an aimed origin requires.
    pub(super) fn form_for(u: &mut Unstructured, opcode: Opcode, aim: &Aim) -> Result<Form> {
        if let Some(form) = aim.form {
            return Ok(form);
        }
        let mut form = *u.choose(&forms(opcode))?;
        if let Some(Operand {
            src: Src::Src0,
            origin: Some(origin),
            ..
        }) = aim.operand
        {
            form.src0 = match origin {
                Origin::Immediate => 4,
                Origin::Code => 5,
                Origin::Stack => u.int_in_range(1..=3)?,
                _ => 0,
            };
        }
        Ok(form)
    }

    /// Arithmetic, logic, shifts, `mul`/`div`, `ptr.*` and `nop`: every addressing of src0 and
    /// dst0 the encoding allows, and the swap and set-flags modifiers.
    fn aim_two_operand(
        &mut self,
        u: &mut Unstructured,
        opcode: Opcode,
        aim: &Aim,
        condition: &str,
    ) -> Result<()> {
        let form = Self::form_for(u, opcode, aim)?;
        let (name, swap, set_flags) = match opcode {
            Opcode::Ptr(ptr) => {
                let name = match ptr {
                    PtrOpcode::Add => "ptr.add",
                    PtrOpcode::Sub => "ptr.sub",
                    PtrOpcode::Pack => "ptr.pack",
                    PtrOpcode::Shrink => "ptr.shrink",
                };
                (name, form.flags[0], false)
            }
            Opcode::Nop(_) => ("nop", false, false),
            _ => {
                let name = match opcode {
                    Opcode::Add(_) => "add",
                    Opcode::Sub(_) => "sub",
                    Opcode::Mul(_) => "mul",
                    Opcode::Div(_) => "div",
                    Opcode::Shift(shift) => shift_name(shift),
                    Opcode::Binop(binop) => binop_name(binop),
                    _ => unreachable!("matched above"),
                };
                (name, form.flags[1], form.flags[0])
            }
        };
        // Pointer instructions get a pointer where they take one, unless the aim says otherwise.
        let pointer_op = matches!(opcode, Opcode::Ptr(_));
        let pack = opcode == Opcode::Ptr(PtrOpcode::Pack);
        let src1 = match aim.operand(Src::Src1) {
            Some(operand) => self.register_of(u, operand, "r13")?,
            None if pointer_op && swap => {
                let slot = u.int_in_range(0..=1)?;
                emit!(self, "ptr.add stack[{slot}], r0, r13");
                "r13".into()
            }
            None if pack => {
                let high = self.constant(U256::from(u.arbitrary::<u64>()?) << 128);
                emit!(self, "add {high}, r0, r13");
                "r13".into()
            }
            None if pointer_op => {
                let amount = u.int_in_range(0..=64u16)?;
                emit!(self, "add {amount}, r0, r13");
                "r13".into()
            }
            None if matches!(opcode, Opcode::Nop(_)) => "r0".into(),
            None => Self::src_reg(u)?.to_owned(),
        };
        // The assembler takes no code constant as a `nop` operand.
        let addressing = match (opcode, form.src0) {
            (Opcode::Nop(_), 5) => 4,
            (_, addressing) => addressing,
        };
        let src0 =
            self.src0_addressed(u, addressing, aim.operand(Src::Src0), pointer_op && !swap)?;
        let dst0 = Self::dst0_addressed(u, form.dst0)?;
        let modifiers = format!(
            "{}{condition}{}",
            if swap { ".s" } else { "" },
            if set_flags { "!" } else { "" }
        );
        match opcode {
            Opcode::Mul(_) | Opcode::Div(_) => {
                let dst1 = Self::dst_reg(u)?;
                emit!(self, "{name}{modifiers} {src0}, {src1}, {dst0}, {dst1}");
            }
            // Unconditional, the assembler reads `nop stack-=[n], …` as its shorthand for
            // `nop stack-=[n]`: set EQ and write `.eq`.
            Opcode::Nop(_) if modifiers.is_empty() && src0.starts_with("stack-=") => {
                self.emit("sub! r0, r0, r0");
                emit!(self, "nop.eq {src0}, r0, {dst0}, r0");
            }
            Opcode::Nop(_) => emit!(self, "nop{modifiers} {src0}, r0, {dst0}, r0"),
            _ => emit!(self, "{name}{modifiers} {src0}, {src1}, {dst0}"),
        }
        Ok(())
    }

    /// src0 text addressed as `addressing` (the model's numbering), holding a value of the aimed
    /// origin or boundary, or a pointer when `pointer` and nothing is aimed.
    fn src0_addressed(
        &mut self,
        u: &mut Unstructured,
        addressing: u8,
        operand: Option<Operand>,
        pointer: bool,
    ) -> Result<String> {
        let operand = operand.unwrap_or(Operand {
            src: Src::Src0,
            origin: pointer.then_some(Origin::Pointer),
            value: None,
        });
        match addressing {
            4 => {
                let value = match operand.value {
                    Some(value) => boundary(u, value)?,
                    None => U256::from(Self::immediate(u)?),
                };
                Ok(match value.bits() <= 16 {
                    true => value.to_string(),
                    false => Self::immediate(u)?.to_string(),
                })
            }
            5 => {
                let value = match operand.value {
                    Some(value) => boundary(u, value)?,
                    None => Self::interesting_word(u)?,
                };
                Ok(self.constant(value))
            }
            0 => self.register_of(u, operand, "r12"),
            _ => {
                let register = self.register_of(u, operand, "r12")?;
                let mover = if pointer { "ptr.add" } else { "add" };
                let (write, read) = match addressing {
                    1 => ("stack+=[1]".to_owned(), "stack-=[1]".to_owned()),
                    2 => {
                        let offset = u.int_in_range(1..=4)?;
                        (format!("stack-[{offset}]"), format!("stack-[{offset}]"))
                    }
                    _ => {
                        let slot = u.int_in_range(2..=STACK_SLOTS - 1)?;
                        (format!("stack[{slot}]"), format!("stack[{slot}]"))
                    }
                };
                emit!(self, "{mover} {register}, r0, {write}");
                Ok(read)
            }
        }
    }

    /// dst0 text addressed as `addressing` (the model's numbering).
    fn dst0_addressed(u: &mut Unstructured, addressing: u8) -> Result<String> {
        Ok(match addressing {
            0 => Self::dst_reg(u)?.to_owned(),
            1 => format!("stack+=[{}]", u.int_in_range(0..=1)?),
            2 => format!("stack-[{}]", u.int_in_range(1..=4)?),
            _ => format!("stack[{}]", u.int_in_range(2..=STACK_SLOTS - 1)?),
        })
    }

    /// Heap, aux heap, fat-pointer and static-memory accesses: src0 is the offset (or the
    /// pointer), src1 the value written.
    fn aim_uma(
        &mut self,
        u: &mut Unstructured,
        uma: UMAOpcode,
        aim: &Aim,
        condition: &str,
    ) -> Result<()> {
        let form = Self::form_for(u, Opcode::UMA(uma), aim)?;
        let inc = if form.flags[0] { ".inc" } else { "" };
        let pointer = uma == UMAOpcode::FatPointerRead;
        let src0 = match (form.src0, aim.operand(Src::Src0)) {
            (4, operand) if !pointer => self.src0_addressed(u, 4, operand, false)?,
            (_, Some(operand)) => self.register_of(u, operand, "r12")?,
            (_, None) if pointer => {
                let slot = u.int_in_range(0..=1)?;
                emit!(self, "ptr.add stack[{slot}], r0, r12");
                "r12".into()
            }
            (_, None) => {
                let offset = u.int_in_range(0..=2048u16)?;
                emit!(self, "add {offset}, r0, r12");
                "r12".into()
            }
        };
        // Canonical forms: the assembler's shorthands (`ld.1`, `st.2.inc`, …) take no predicate.
        let name = match uma {
            UMAOpcode::HeapRead => "heap_read",
            UMAOpcode::HeapWrite => "heap_write",
            UMAOpcode::AuxHeapRead => "aux_heap_read",
            UMAOpcode::AuxHeapWrite => "aux_heap_write",
            UMAOpcode::FatPointerRead => "fat_ptr_read",
            UMAOpcode::StaticMemoryRead => "static_read",
            UMAOpcode::StaticMemoryWrite => "static_write",
        };
        let next = if inc.is_empty() {
            "r0"
        } else {
            Self::dst_reg(u)?
        };
        let line = match uma {
            UMAOpcode::HeapWrite | UMAOpcode::AuxHeapWrite | UMAOpcode::StaticMemoryWrite => {
                let value = self.src1_register(u, aim)?;
                format!("uma.{name}{inc}{condition} {src0}, {value}, {next}, r0")
            }
            _ => {
                let dst = Self::dst_reg(u)?;
                format!("uma.{name}{inc}{condition} {src0}, r0, {dst}, {next}")
            }
        };
        self.emit(line);
        Ok(())
    }

    /// The register src1 reads: the aimed one, or any.
    fn src1_register(&mut self, u: &mut Unstructured, aim: &Aim) -> Result<String> {
        match aim.operand(Src::Src1) {
            Some(operand) => self.register_of(u, operand, "r13"),
            None => Ok(Self::src_reg(u)?.to_owned()),
        }
    }

    /// The src0 register: the aimed one, or any.
    fn src0_register(&mut self, u: &mut Unstructured, aim: &Aim) -> Result<String> {
        match aim.operand(Src::Src0) {
            Some(operand) => self.register_of(u, operand, "r12"),
            None => Ok(Self::src_reg(u)?.to_owned()),
        }
    }

    /// Storage, transient storage, events, messages, precompile calls and decommits.
    fn aim_log(
        &mut self,
        u: &mut Unstructured,
        log: LogOpcode,
        aim: &Aim,
        condition: &str,
    ) -> Result<()> {
        let first = match aim.form {
            Some(form) if form.flags[0] => ".first",
            Some(_) => "",
            None if u.arbitrary()? => ".first",
            None => "",
        };
        let src0 = match aim.operand(Src::Src0) {
            Some(operand) => self.register_of(u, operand, "r12")?,
            None => {
                emit!(self, "add {}, r0, r11", u.int_in_range(0..=7u16)?);
                "r11".into()
            }
        };
        let (src1, dst) = (self.src1_register(u, aim)?, Self::dst_reg(u)?);
        // Canonical forms: the assembler's shorthands (`sload`, …) take no predicate.
        let (name, writes) = match log {
            LogOpcode::StorageRead => ("sread", false),
            LogOpcode::TransientStorageRead => ("tread", false),
            LogOpcode::StorageWrite => ("swrite", true),
            LogOpcode::TransientStorageWrite => ("twrite", true),
            LogOpcode::Event => ("event", true),
            LogOpcode::ToL1Message => ("to_l1", true),
            LogOpcode::PrecompileCall => ("precompile", false),
            LogOpcode::Decommit => ("decommit", false),
        };
        let first = if matches!(log, LogOpcode::Event | LogOpcode::ToL1Message) {
            first
        } else {
            ""
        };
        let (src1, dst) = match (writes, log) {
            (true, _) => (src1, "r0"),
            (false, LogOpcode::StorageRead | LogOpcode::TransientStorageRead) => ("r0".into(), dst),
            (false, _) => (src1, dst),
        };
        emit!(self, "log.{name}{first}{condition} {src0}, {src1}, {dst}");
        Ok(())
    }

    fn aim_context(
        &mut self,
        u: &mut Unstructured,
        context: ContextOpcode,
        aim: &Aim,
        condition: &str,
    ) -> Result<()> {
        let dst = Self::dst_reg(u)?;
        let line = match context {
            ContextOpcode::SetContextU128 => {
                let src = self.src0_register(u, aim)?;
                format!("context.set_context_u128{condition} {src}")
            }
            ContextOpcode::AuxMutating0 => {
                let src = self.src0_register(u, aim)?;
                format!("context.set_ergs_per_pubdata{condition} {src}")
            }
            ContextOpcode::IncrementTxNumber => format!("context.inc_tx_num{condition}"),
            ContextOpcode::This => format!("context.this{condition} {dst}"),
            ContextOpcode::Caller => format!("context.caller{condition} {dst}"),
            ContextOpcode::CodeAddress => format!("context.code_source{condition} {dst}"),
            ContextOpcode::Meta => format!("context.meta{condition} {dst}"),
            ContextOpcode::ErgsLeft => format!("context.ergs_left{condition} {dst}"),
            ContextOpcode::Sp => format!("context.sp{condition} {dst}"),
            ContextOpcode::GetContextU128 => format!("context.get_context_u128{condition} {dst}"),
        };
        self.emit(line);
        Ok(())
    }

    /// A return: the end of a near-called subroutine, so the program goes on after it.
    fn aim_ret(
        &mut self,
        u: &mut Unstructured,
        ret: RetOpcode,
        aim: &Aim,
        condition: &'static str,
        scope: Scope,
    ) -> Result<()> {
        let ending = Aim {
            condition: Some(condition),
            ..*aim
        };
        self.near_call_ending(u, scope, &Aim::default(), Some((ret, ending)))
    }
}

pub(super) fn shift_name(shift: ShiftOpcode) -> &'static str {
    match shift {
        ShiftOpcode::Shl => "shl",
        ShiftOpcode::Shr => "shr",
        ShiftOpcode::Rol => "rol",
        ShiftOpcode::Ror => "ror",
    }
}

pub(super) fn binop_name(binop: BinopOpcode) -> &'static str {
    match binop {
        BinopOpcode::And => "and",
        BinopOpcode::Or => "or",
        BinopOpcode::Xor => "xor",
    }
}
