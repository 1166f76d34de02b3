//! Fragment families: one family of opcodes each (arithmetic, memory, pointers, context,
//! storage, logs, control flow, near and far calls, returns).

use arbitrary::{Result, Unstructured};
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::RetOpcode;
use zksync_types::{Address, U256};

use super::{aimed::Aim, Builder, Scope};
use crate::isa::model::Src;

impl Builder<'_> {
    pub(super) fn arithmetic(&mut self, u: &mut Unstructured) -> Result<()> {
        let (op, swap) = if u.arbitrary()? {
            ("add", "")
        } else {
            ("sub", Self::swap(u)?)
        };
        let (cond, flags) = (Self::condition(u)?, Self::set_flags(u)?);
        let (src0, src1, dst0) = (self.src0(u)?, Self::src_reg(u)?, Self::dst0(u)?);
        emit!(self, "{op}{swap}{cond}{flags} {src0}, {src1}, {dst0}");
        Ok(())
    }

    pub(super) fn mul_div(&mut self, u: &mut Unstructured) -> Result<()> {
        let (op, swap) = if u.arbitrary()? {
            ("mul", "")
        } else {
            ("div", Self::swap(u)?)
        };
        let (cond, flags) = (Self::condition(u)?, Self::set_flags(u)?);
        let (src0, src1) = (self.src0(u)?, Self::src_reg(u)?);
        let (dst0, dst1) = (Self::dst0(u)?, Self::dst_reg(u)?);
        emit!(
            self,
            "{op}{swap}{cond}{flags} {src0}, {src1}, {dst0}, {dst1}"
        );
        Ok(())
    }

    pub(super) fn shift_or_bitwise(&mut self, u: &mut Unstructured) -> Result<()> {
        let op = *u.choose(&["shl", "shr", "rol", "ror", "and", "or", "xor"])?;
        let swap = if op.len() == 3 && op != "and" && op != "xor" {
            Self::swap(u)?
        } else {
            ""
        };
        let (cond, flags) = (Self::condition(u)?, Self::set_flags(u)?);
        let (src0, src1, dst0) = (self.src0(u)?, Self::src_reg(u)?, Self::dst0(u)?);
        emit!(self, "{op}{swap}{cond}{flags} {src0}, {src1}, {dst0}");
        Ok(())
    }

    pub(super) fn load_constant(&mut self, u: &mut Unstructured) -> Result<()> {
        let value = Self::interesting_word(u)?;
        let constant = self.constant(value);
        let dst = Self::dst_reg(u)?;
        emit!(self, "add {constant}, r0, {dst}");
        Ok(())
    }

    pub(super) fn heap(&mut self, u: &mut Unstructured) -> Result<()> {
        let heap = *u.choose(&["1", "2"])?;
        let offset = self.heap_offset(u, heap)?;
        let inc = u.arbitrary::<bool>()?;
        match (u.arbitrary::<bool>()?, inc) {
            (true, false) => {
                let value = Self::src_reg(u)?;
                emit!(self, "st.{heap} {offset}, {value}");
            }
            (true, true) => {
                let (value, next) = (Self::src_reg(u)?, Self::dst_reg(u)?);
                emit!(self, "st.{heap}.inc {offset}, {value}, {next}");
            }
            (false, false) => {
                let dst = Self::dst_reg(u)?;
                emit!(self, "ld.{heap} {offset}, {dst}");
            }
            (false, true) => {
                let (dst, next) = (Self::dst_reg(u)?, Self::dst_reg(u)?);
                emit!(self, "ld.{heap}.inc {offset}, {dst}, {next}");
            }
        }
        Ok(())
    }

    pub(super) fn pointer(&mut self, u: &mut Unstructured) -> Result<()> {
        if u.ratio(3, 4)? {
            let slot = u.int_in_range(0..=1)?;
            emit!(self, "ptr.add stack[{slot}], r0, r10");
        }
        match u.int_in_range(0..=10)? {
            0 => {
                let dst = Self::dst_reg(u)?;
                emit!(self, "ld r10, {dst}");
            }
            10 => self.pointer_to_its_end(u)?,
            1 => {
                let dst = Self::dst_reg(u)?;
                emit!(self, "ld.inc r10, {dst}, r10");
            }
            2 | 3 => {
                let op = *u.choose(&["add", "sub", "shrink"])?;
                let amount = u.int_in_range(0..=96u16)?;
                emit!(self, "ptr.{op}.s {amount}, r10, r10");
            }
            4 | 5 => {
                let op = *u.choose(&["add", "sub", "shrink"])?;
                let amount = self.src0(u)?;
                emit!(self, "add {amount}, r0, r12");
                emit!(self, "ptr.{op} r10, r12, r10");
            }
            6 => {
                // Packing needs a value whose low 128 bits are zero; sometimes they are not.
                let high = U256::from(u.arbitrary::<u64>()?) << 128;
                let value = if u.ratio(3, 4)? { high } else { high + 1 };
                let constant = self.constant(value);
                emit!(self, "add {constant}, r0, r12");
                self.emit("ptr.pack r10, r12, r10");
            }
            7 => {
                let slot = u.int_in_range(0..=1)?;
                emit!(self, "ptr.add r10, r0, stack[{slot}]");
            }
            8 => {
                // A pointer operation on something that is not a pointer panics the frame.
                let src = Self::src_reg(u)?;
                emit!(self, "ptr.add {src}, r0, r10");
            }
            _ => {
                let dst = Self::dst_reg(u)?;
                emit!(self, "uma.fat_ptr_read r10, r0, {dst}, r0");
            }
        }
        Ok(())
    }

    /// Moves r10's offset to its length, or one before or after, computed at run time from
    /// the pointer (offset in bits 0..32, length in 96..128; r13 scratch), then sometimes reads
    /// through it or moves it again: `ld` and `ptr.*` meet a pointer at its last byte, its end
    /// or just past it.
    fn pointer_to_its_end(&mut self, u: &mut Unstructured) -> Result<()> {
        let mask = self.constant(U256::from(u32::MAX));
        self.emit("shr.s 96, r10, r12");
        emit!(self, "and {mask}, r12, r12");
        emit!(self, "and {mask}, r10, r13");
        self.emit("sub r12, r13, r12");
        let delta = *u.choose(&[-1i16, 0, 1, 2])?;
        self.add_to_r12(delta);
        self.emit("ptr.add r10, r12, r10");
        match u.int_in_range(0..=2)? {
            0 => {
                let dst = Self::dst_reg(u)?;
                emit!(self, "ld r10, {dst}");
            }
            1 => {
                let op = *u.choose(&["add", "sub", "shrink"])?;
                let amount = u.int_in_range(0..=2u16)?;
                emit!(self, "ptr.{op}.s {amount}, r10, r10");
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn context(&mut self, u: &mut Unstructured) -> Result<()> {
        let kernel = self.cx.is_kernel();
        let reader = *u.choose(super::CONTEXT_READERS)?;
        // Kernel-only context writes, occasionally tried from user space too (they panic there).
        if u.ratio(1, if kernel { 3 } else { 12 })? {
            match u.int_in_range(0..=2)? {
                0 => {
                    let src = Self::src_reg(u)?;
                    emit!(self, "context.set_context_u128 {src}");
                }
                1 => self.emit("context.inc_tx_num"),
                _ => {
                    let src = Self::src_reg(u)?;
                    emit!(self, "context.set_ergs_per_pubdata {src}");
                }
            }
            return Ok(());
        }
        let (cond, dst) = (Self::condition(u)?, Self::dst_reg(u)?);
        emit!(self, "context.{reader}{cond} {dst}");
        Ok(())
    }

    pub(super) fn storage(&mut self, u: &mut Unstructured, read: &str, write: &str) -> Result<()> {
        let key = u.int_in_range(0..=7u16)?;
        emit!(self, "add {key}, r0, r11");
        if u.arbitrary()? {
            let value = Self::src_reg(u)?;
            emit!(self, "{write} r11, {value}");
        } else {
            let dst = Self::dst_reg(u)?;
            emit!(self, "{read} r11, {dst}");
        }
        Ok(())
    }

    pub(super) fn kernel_log(&mut self, u: &mut Unstructured) -> Result<()> {
        if !self.cx.is_kernel() && !u.ratio(1, 8)? {
            // Mostly skip kernel-only opcodes in user space; sometimes try them (they panic).
            return self.arithmetic(u);
        }
        let (a, b, dst) = (Self::src_reg(u)?, Self::src_reg(u)?, Self::dst_reg(u)?);
        match u.int_in_range(0..=5)? {
            0 => {
                let first = if u.arbitrary()? { ".first" } else { "" };
                emit!(self, "log.event{first} {a}, {b}, r0");
            }
            1 => {
                let first = if u.arbitrary()? { ".first" } else { "" };
                emit!(self, "to_l1{first} {a}, {b}");
            }
            2 | 3 => {
                // Burns ergs and pubdata (rAUX); outside precompile addresses computes nothing.
                let ergs: u64 = *u.choose(&[0, 100, 10_000, 1 << 24, u32::MAX.into()])?;
                let pubdata: u64 = *u.choose(&[0, 32, 1000])?;
                let aux = self.constant(U256::from(ergs | (pubdata << 32)));
                emit!(self, "add {aux}, r0, r12");
                emit!(self, "log.precompile {a}, r12, {dst}");
            }
            _ => {
                let hash = if !self.cx.code_hashes.is_empty() && u.ratio(3, 4)? {
                    U256::from_big_endian(u.choose(self.cx.code_hashes)?.as_bytes())
                } else {
                    Self::interesting_word(u)?
                };
                let hash = self.constant(hash);
                let cost = u.int_in_range(0..=5000u16)?;
                emit!(self, "add {hash}, r0, r12");
                emit!(self, "add {cost}, r0, {b}");
                emit!(self, "log.decommit r12, {b}, {dst}");
            }
        }
        Ok(())
    }

    pub(super) fn forward_skip(&mut self, u: &mut Unstructured, scope: Scope) -> Result<()> {
        let label = self.fresh_label("skip");
        let cond = *u.choose(&[".eq", ".ne", ".gt", ".lt", ".ge", ".le", ".gtlt", ""])?;
        if u.arbitrary()? {
            // Set flags from a comparison first.
            let (src0, src1) = (self.src0(u)?, Self::src_reg(u)?);
            emit!(self, "sub! {src0}, {src1}, r0");
        }
        emit!(self, "jump{cond} @{label}");
        let inner = Scope {
            depth: scope.depth + 1,
            ..scope
        };
        for _ in 0..u.int_in_range(1..=4)? {
            self.fragment(u, inner)?;
        }
        self.label(&label);
        Ok(())
    }

    pub(super) fn bounded_loop(&mut self, u: &mut Unstructured, scope: Scope) -> Result<()> {
        let label = self.fresh_label("loop");
        let iterations = u.int_in_range(1..=16u16)?;
        emit!(self, "add {iterations}, r0, r15");
        self.label(&label);
        let inner = Scope {
            in_loop: true,
            depth: scope.depth + 1,
        };
        for _ in 0..u.int_in_range(1..=3)? {
            self.fragment(u, inner)?;
        }
        self.emit("sub.s! 1, r15, r15");
        emit!(self, "jump.ne @{label}");
        Ok(())
    }

    pub(super) fn near_call(
        &mut self,
        u: &mut Unstructured,
        scope: Scope,
        aim: &Aim,
    ) -> Result<()> {
        self.near_call_ending(u, scope, aim, None)
    }

    /// A near call (its condition and ergs operand as `aim` says) of a subroutine that ends
    /// with `ending` (a return and its aim), or with a return drawn at random.
    pub(super) fn near_call_ending(
        &mut self,
        u: &mut Unstructured,
        scope: Scope,
        aim: &Aim,
        ending: Option<(RetOpcode, Aim)>,
    ) -> Result<()> {
        let (sub, handler) = (self.fresh_label("sub"), self.fresh_label("handler"));
        let ergs = match aim.operand.filter(|operand| operand.src == Src::Src0) {
            Some(operand) => self.register_of(u, operand, "r12")?,
            None => {
                let ergs: u16 = *u.choose(&[0, 0, 50, 500, 5000, u16::MAX])?;
                emit!(self, "add {ergs}, r0, r12");
                "r12".into()
            }
        };
        let cond = match aim.condition {
            Some(condition) => condition,
            None if u.ratio(1, 6)? => Self::condition(u)?,
            None => "",
        };
        emit!(self, "near_call{cond} {ergs}, @{sub}, @{handler}");
        self.label(&handler);

        // The subroutine is called from this site only, so `to_label` returns go forward.
        self.subroutine(&sub, |this| {
            let inner = Scope {
                in_loop: false,
                depth: scope.depth + 1,
            };
            for _ in 0..u.int_in_range(1..=5)? {
                this.fragment(u, inner)?;
            }
            match ending {
                Some((ret, aim)) => this.near_return(u, ret, &aim, &handler),
                None => {
                    match u.int_in_range(0..=5)? {
                        0 | 1 => this.emit("ret.ok r0"),
                        2 => this.emit("ret.revert r0"),
                        3 => this.emit("ret.panic r0"),
                        4 => emit!(this, "ret.ok.to_label r0, @{handler}"),
                        _ => emit!(this, "ret.revert.to_label r0, @{handler}"),
                    }
                    Ok(())
                }
            }
        })
    }

    /// A subroutine's return `ret` as `aim` says (to `handler` when its form says so); if its
    /// condition does not hold, a plain `ret.ok` follows.
    fn near_return(
        &mut self,
        u: &mut Unstructured,
        ret: RetOpcode,
        aim: &Aim,
        handler: &str,
    ) -> Result<()> {
        let kind = match ret {
            RetOpcode::Ok => "ret.ok",
            RetOpcode::Revert => "ret.revert",
            RetOpcode::Panic => "ret.panic",
        };
        let to_label = match aim.form {
            Some(form) => form.flags[0],
            None => u.arbitrary()?,
        };
        let src0 = match aim.operand.filter(|operand| operand.src == Src::Src0) {
            Some(operand) => self.register_of(u, operand, "r12")?,
            None => "r0".into(),
        };
        let condition = aim.condition.unwrap_or("");
        match to_label {
            true => emit!(self, "{kind}.to_label{condition} {src0}, @{handler}"),
            false => emit!(self, "{kind}{condition} {src0}"),
        }
        if !condition.is_empty() {
            self.emit("ret.ok r0");
        }
        Ok(())
    }

    /// A far call; `aim` may set its condition, its static and shard modifiers (the form's
    /// flags) and where its ABI (src0, r1) or its target address (src1, r2) come from.
    pub(super) fn far_call(&mut self, u: &mut Unstructured, aim: &Aim) -> Result<()> {
        let target = match u.int_in_range(0..=9)? {
            0..=6 if !self.cx.call_targets.is_empty() => *u.choose(self.cx.call_targets)?,
            7 => self.cx.this,
            8 => Address::from_low_u64_be(0x4fff),
            _ => Address::from_low_u64_be(u.arbitrary::<u64>()? | (1 << 40)),
        };
        let mode = *u.choose(&["", "", "", ".delegate", ".mimic"])?;
        let [is_static, shard_call] = match aim.form {
            Some(form) => form.flags,
            None => [u.ratio(1, 5)?, u.ratio(1, 40)?],
        };
        let is_static = if is_static { ".static" } else { "" };
        let shard_call = if shard_call { ".shard" } else { "" };
        let system = u.ratio(1, 3)?;
        let gas: u64 = *u.choose(&[0, 2_000, 30_000, 200_000, 200_000, u32::MAX.into()])?;
        let forward = u.ratio(1, 5)?;
        let forwarding: u64 = if forward {
            1
        } else {
            *u.choose(&[0, 0, 0, 2, 3])?
        };
        let shard: u64 = u64::from(u.ratio(1, 40)?);
        let constructor: u64 = u64::from(u.ratio(1, 30)?);
        let high = (U256::from(gas) << 192)
            | (U256::from(forwarding) << 224)
            | (U256::from(shard) << 232)
            | (U256::from(constructor) << 240)
            | (U256::from(u64::from(system)) << 248);
        let high = self.constant(high);

        // Calldata: a few words written to the heap, or a forwarded pointer.
        if forward {
            let slot = u.int_in_range(0..=1)?;
            emit!(self, "ptr.add stack[{slot}], r0, r1");
            emit!(self, "add {high}, r0, r12");
            self.emit("ptr.pack r1, r12, r1");
        } else {
            let words = u.int_in_range(0..=3u16)?;
            for word in 0..words {
                let value = Self::src_reg(u)?;
                emit!(self, "st.1 {}, {value}", word * 32);
            }
            let length = if u.ratio(1, 8)? {
                u.int_in_range(0..=4096u16)?
            } else {
                words * 32
            };
            emit!(self, "add {length}, r0, r1");
            self.emit("shl.s 96, r1, r1");
            emit!(self, "or {high}, r1, r1");
        }
        if system {
            // Extra ABI registers: topic count and topics for the EventWriter, or anything.
            let topics = u.int_in_range(0..=4u16)?;
            emit!(self, "add {topics}, r0, r3");
            for register in ["r4", "r5"] {
                let value = Self::immediate(u)?;
                emit!(self, "add {value}, r0, {register}");
            }
        }
        if mode == ".mimic" {
            let whom = self.constant(U256::from_big_endian(self.cx.this.as_bytes()));
            emit!(self, "add {whom}, r0, r15");
        }
        let address = self.constant(U256::from_big_endian(target.as_bytes()));
        emit!(self, "add {address}, r0, r2");
        for (src, register, scratch) in [(Src::Src0, "r1", "r12"), (Src::Src1, "r2", "r13")] {
            if let Some(operand) = aim.operand.filter(|operand| operand.src == src) {
                let value = self.register_of(u, operand, scratch)?;
                emit!(self, "add {value}, r0, {register}");
            }
        }
        let failed = self.fresh_label("call_failed");
        let condition = aim.condition.unwrap_or("");
        emit!(
            self,
            "far_call{mode}{is_static}{shard_call}{condition} r1, r2, @{failed}"
        );
        // A call its condition skipped leaves the ABI, no pointer, in r1.
        if condition.is_empty() {
            self.emit("ptr.add r1, r0, stack[1]");
        }
        self.label(&failed);
        Ok(())
    }

    pub(super) fn nop(&mut self, u: &mut Unstructured) -> Result<()> {
        match u.int_in_range(0..=2)? {
            0 => self.emit("nop"),
            1 => emit!(self, "nop stack+=[{}]", u.int_in_range(0..=3)?),
            _ => emit!(self, "nop stack-=[{}]", u.int_in_range(0..=3)?),
        }
        Ok(())
    }

    pub(super) fn static_memory(&mut self, u: &mut Unstructured) -> Result<()> {
        let offset = u.int_in_range(0..=256u16)?;
        if u.arbitrary()? {
            let dst = Self::dst_reg(u)?;
            emit!(self, "uma.static_read {offset}, r0, {dst}, r0");
        } else {
            let value = Self::src_reg(u)?;
            emit!(self, "uma.static_write {offset}, {value}, r0, r0");
        }
        Ok(())
    }

    /// The end of the contract: success or revert with heap data or a forwarded pointer, or a
    /// panic.
    pub(super) fn far_return(&mut self, u: &mut Unstructured) -> Result<()> {
        let kind = *u.choose(&["ret.ok", "ret.ok", "ret.ok", "ret.revert", "ret.panic"])?;
        if kind == "ret.panic" {
            self.emit("ret.panic r0");
            return Ok(());
        }
        if u.ratio(1, 4)? {
            let slot = u.int_in_range(0..=1)?;
            let forward = self.constant(U256::one() << 224);
            emit!(self, "ptr.add stack[{slot}], r0, r1");
            emit!(self, "add {forward}, r0, r12");
            self.emit("ptr.pack r1, r12, r1");
        } else {
            let start = u.int_in_range(0..=128u16)?;
            let any = u.int_in_range(0..=512)?;
            let length = *u.choose(&[0u16, 32, 64, any])?;
            emit!(self, "add {length}, r0, r1");
            self.emit("shl.s 96, r1, r1");
            emit!(self, "add {start}, r0, r12");
            self.emit("shl.s 64, r12, r12");
            self.emit("or r12, r1, r1");
        }
        let cond = if u.ratio(1, 8)? {
            Self::condition(u)?
        } else {
            ""
        };
        emit!(self, "{kind}{cond} r1");
        if !cond.is_empty() {
            self.emit("ret.ok r0");
        }
        Ok(())
    }
}
