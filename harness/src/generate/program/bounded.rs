//! Code run in a subroutine near-called with a bounded budget of ergs: an instruction fetched
//! with exactly its price, one erg short, or further short (the coverage model's ergs cells,
//! [`Ergs`]), and jumps, which may go anywhere because the budget ends any loop they start.

use arbitrary::{Result, Unstructured};
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    ContextOpcode, FarCallOpcode, JumpOpcode, LogOpcode, Opcode, PtrOpcode, RetOpcode, UMAOpcode,
};
use zksync_types::U256;

use super::{
    aimed::{binop_name, shift_name, Aim, Operand},
    operands::boundary,
    Builder, Scope,
};
use crate::isa::model::{Ergs, Origin, Src, Value};

impl Builder<'_> {
    /// `opcode` fetched with exactly its price in ergs, one erg short, or further short: a
    /// subroutine near-called with that many ergs (the callee gets exactly what a near call
    /// asks for, a nonzero amount) whose first instruction is a bare `opcode` on whatever the
    /// registers hold. It fails, or runs with no ergs left and the next one fails; the call's
    /// panic handler goes on.
    pub(super) fn aim_ergs(
        &mut self,
        u: &mut Unstructured,
        opcode: Opcode,
        ergs: Ergs,
    ) -> Result<()> {
        let price = opcode.ergs_price();
        let budget = match ergs {
            Ergs::Exact => price,
            Ergs::OneShort => price - 1,
            _ => u.int_in_range(1..=price.saturating_sub(2).max(1))?,
        };
        let next = self.fresh_label("next");
        let Some(instruction) = bare(opcode, &next) else {
            return self.arithmetic(u);
        };
        let budget = match u16::try_from(budget) {
            Ok(small) => small.to_string(),
            Err(_) => self.constant(U256::from(budget)),
        };
        self.bounded_subroutine(&budget, |builder| {
            builder.emit(instruction);
            builder.label(&next);
            Ok(())
        })
    }

    /// A jump: forward to a label, or — for src0 addressed otherwise, or an aimed operand — to
    /// a target beyond any generated program (pc 0xffff: the frame panics), so that no jump
    /// goes backwards unbounded.
    pub(super) fn aim_jump(
        &mut self,
        u: &mut Unstructured,
        aim: &Aim,
        condition: &str,
        scope: Scope,
    ) -> Result<()> {
        if let Some(operand) = aim.operand(Src::Src0) {
            if scope.depth < super::MAX_DEPTH && !scope.in_loop {
                return self.wild_jump(u, operand, condition);
            }
        }
        let form = Self::form_for(u, Opcode::Jump(JumpOpcode), aim)?;
        if form.src0 == 4 && aim.operand.is_none() {
            let label = self.fresh_label("skip");
            emit!(self, "jump{condition} @{label}");
            self.label(&label);
            return Ok(());
        }
        // Targets whose low 16 bits are 0xffff.
        let far = [U256::from(0xffffu32), U256::from(u32::MAX), U256::MAX];
        let target = match aim.operand(Src::Src0) {
            Some(Operand {
                value: Some(value @ (Value::U32Max | Value::Max)),
                ..
            }) => boundary(u, value)?,
            _ => *u.choose(&far)?,
        };
        let origin = aim.operand(Src::Src0).and_then(|operand| operand.origin);
        let operand = Operand {
            src: Src::Src0,
            origin: origin.filter(|origin| {
                matches!(
                    origin,
                    Origin::Code | Origin::Stack | Origin::Computed | Origin::Loaded
                )
            }),
            value: None,
        };
        let src0 = match form.src0 {
            5 => self.constant(target),
            4 => "65535".into(),
            addressing => {
                let constant = self.constant(target);
                emit!(self, "add {constant}, r0, r12");
                let register = match operand.origin {
                    Some(Origin::Computed) => {
                        self.emit("or r12, r0, r12");
                        "r12".to_owned()
                    }
                    _ => "r12".to_owned(),
                };
                match addressing {
                    0 => register,
                    1 => {
                        emit!(self, "add {register}, r0, stack+=[1]");
                        "stack-=[1]".into()
                    }
                    2 => {
                        emit!(self, "add {register}, r0, stack-[1]");
                        "stack-[1]".into()
                    }
                    _ => {
                        emit!(self, "add {register}, r0, stack[2]");
                        "stack[2]".into()
                    }
                }
            }
        };
        emit!(self, "jump{condition} {src0}");
        Ok(())
    }

    /// A jump to wherever a register of any origin and value points — backwards too — from a
    /// subroutine near-called with a few thousand ergs: a loop it starts ends when they run
    /// out, and the call's panic handler goes on. Never inside a loop, whose counter the
    /// code jumped to may overwrite.
    fn wild_jump(&mut self, u: &mut Unstructured, operand: Operand, condition: &str) -> Result<()> {
        let ergs = u.int_in_range(200..=4000u16)?.to_string();
        self.bounded_subroutine(&ergs, |builder| {
            let target = builder.register_of(u, operand, "r12")?;
            emit!(builder, "jump{condition} {target}");
            Ok(())
        })
    }

    /// `body` in a subroutine near-called with `ergs` (an operand: an immediate or a constant),
    /// ending in `ret.ok`; the call's panic handler is where the program goes on.
    fn bounded_subroutine(
        &mut self,
        ergs: &str,
        body: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let (sub, handler) = (self.fresh_label("sub"), self.fresh_label("handler"));
        emit!(self, "add {ergs}, r0, r12");
        emit!(self, "near_call r12, @{sub}, @{handler}");
        self.label(&handler);
        self.subroutine(&sub, |this| {
            body(this)?;
            this.emit("ret.ok r0");
            Ok(())
        })
    }
}

/// `opcode` on registers as they are (r2, r3 in; r12, r13 out), jumping or calling to `next`:
/// an instruction to run short of ergs. None for `invalid` (always short) and static memory
/// (aimed at rarely).
fn bare(opcode: Opcode, next: &str) -> Option<String> {
    Some(match opcode {
        Opcode::Invalid(_) => return None,
        Opcode::Nop(_) => "nop".into(),
        Opcode::Add(_) => "add r2, r3, r12".into(),
        Opcode::Sub(_) => "sub r2, r3, r12".into(),
        Opcode::Mul(_) => "mul r2, r3, r12, r13".into(),
        Opcode::Div(_) => "div r2, r3, r12, r13".into(),
        Opcode::Jump(_) => format!("jump @{next}"),
        Opcode::Context(context) => match context {
            ContextOpcode::SetContextU128 => "context.set_context_u128 r2".into(),
            ContextOpcode::AuxMutating0 => "context.set_ergs_per_pubdata r2".into(),
            ContextOpcode::IncrementTxNumber => "context.inc_tx_num".into(),
            ContextOpcode::This => "context.this r12".into(),
            ContextOpcode::Caller => "context.caller r12".into(),
            ContextOpcode::CodeAddress => "context.code_source r12".into(),
            ContextOpcode::Meta => "context.meta r12".into(),
            ContextOpcode::ErgsLeft => "context.ergs_left r12".into(),
            ContextOpcode::Sp => "context.sp r12".into(),
            ContextOpcode::GetContextU128 => "context.get_context_u128 r12".into(),
        },
        Opcode::Shift(shift) => format!("{} r2, r3, r12", shift_name(shift)),
        Opcode::Binop(binop) => format!("{} r2, r3, r12", binop_name(binop)),
        Opcode::Ptr(ptr) => {
            let name = match ptr {
                PtrOpcode::Add => "add",
                PtrOpcode::Sub => "sub",
                PtrOpcode::Pack => "pack",
                PtrOpcode::Shrink => "shrink",
            };
            format!("ptr.{name} r2, r3, r12")
        }
        Opcode::NearCall(_) => format!("near_call r0, @{next}, @{next}"),
        Opcode::Log(log) => match log {
            LogOpcode::StorageRead => "log.sread r2, r0, r12".into(),
            LogOpcode::TransientStorageRead => "log.tread r2, r0, r12".into(),
            LogOpcode::StorageWrite => "log.swrite r2, r3, r0".into(),
            LogOpcode::TransientStorageWrite => "log.twrite r2, r3, r0".into(),
            LogOpcode::Event => "log.event r2, r3, r0".into(),
            LogOpcode::ToL1Message => "log.to_l1 r2, r3, r0".into(),
            LogOpcode::PrecompileCall => "log.precompile r2, r3, r12".into(),
            LogOpcode::Decommit => "log.decommit r2, r3, r12".into(),
        },
        Opcode::FarCall(kind) => {
            let kind = match kind {
                FarCallOpcode::Normal => "",
                FarCallOpcode::Delegate => ".delegate",
                FarCallOpcode::Mimic => ".mimic",
            };
            format!("far_call{kind} r2, r3, @{next}")
        }
        Opcode::Ret(ret) => match ret {
            RetOpcode::Ok => "ret.ok r0".into(),
            RetOpcode::Revert => "ret.revert r0".into(),
            RetOpcode::Panic => "ret.panic r0".into(),
        },
        Opcode::UMA(uma) => match uma {
            UMAOpcode::HeapRead => "uma.heap_read r0, r0, r12, r0".into(),
            UMAOpcode::AuxHeapRead => "uma.aux_heap_read r0, r0, r12, r0".into(),
            UMAOpcode::FatPointerRead => "uma.fat_ptr_read r2, r0, r12, r0".into(),
            UMAOpcode::HeapWrite => "uma.heap_write r0, r2, r0, r0".into(),
            UMAOpcode::AuxHeapWrite => "uma.aux_heap_write r0, r2, r0, r0".into(),
            UMAOpcode::StaticMemoryRead | UMAOpcode::StaticMemoryWrite => return None,
        },
    })
}
