//! Operands: registers, immediates, interesting words, full source and destination operands,
//! predicates and modifiers, heap offsets (fixed, or relative to the live bound), and a register
//! holding a value of a given origin and boundary class.

use arbitrary::{Result, Unstructured};
use zksync_types::U256;

use super::{
    aimed::{Aim, Operand},
    Builder, STACK_SLOTS,
};
use crate::isa::model::{Origin, Value};

impl Builder<'_> {
    pub(super) fn src_reg(u: &mut Unstructured) -> Result<&'static str> {
        Ok(*u.choose(&["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r0"])?)
    }

    pub(super) fn dst_reg(u: &mut Unstructured) -> Result<&'static str> {
        Ok(*u.choose(&["r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"])?)
    }

    pub(super) fn immediate(u: &mut Unstructured) -> Result<u16> {
        Ok(match u.int_in_range(0..=5)? {
            0 => 0,
            1 => 1,
            2 => u16::MAX,
            3 => 32,
            4 => u.int_in_range(0..=255)?,
            _ => u.arbitrary()?,
        })
    }

    pub(super) fn interesting_word(u: &mut Unstructured) -> Result<U256> {
        Ok(match u.int_in_range(0..=7)? {
            0 => U256::zero(),
            1 => U256::one(),
            2 => U256::MAX,
            3 => U256::one() << 255,
            4 => U256::from(u.arbitrary::<u64>()?) << 128,
            5 => U256::from(u32::MAX),
            6 => U256::from(u.arbitrary::<u32>()?),
            _ => U256::from_big_endian(&u.arbitrary::<[u8; 32]>()?),
        })
    }

    /// A "full" source operand: register, immediate, stack slot (absolute, below the stack
    /// pointer, or popped) or code constant.
    pub(super) fn src0(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=10)? {
            0..=4 => Self::src_reg(u)?.to_owned(),
            5 | 6 => Self::immediate(u)?.to_string(),
            7 => format!("stack[{}]", u.int_in_range(2..=STACK_SLOTS - 1)?),
            8 => format!("stack-[{}]", u.int_in_range(1..=4)?),
            9 => format!("stack-=[{}]", u.int_in_range(0..=2)?),
            _ => {
                let value = Self::interesting_word(u)?;
                self.constant(value)
            }
        })
    }

    /// A "full" destination operand: register or stack slot (absolute but never the pointer
    /// slots, below the stack pointer, or pushed).
    pub(super) fn dst0(u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=8)? {
            0..=5 => Self::dst_reg(u)?.to_owned(),
            6 => format!("stack[{}]", u.int_in_range(2..=STACK_SLOTS - 1)?),
            7 => format!("stack-[{}]", u.int_in_range(1..=4)?),
            _ => format!("stack+=[{}]", u.int_in_range(0..=1)?),
        })
    }

    pub(super) fn condition(u: &mut Unstructured) -> Result<&'static str> {
        Ok(match u.int_in_range(0..=15)? {
            0 => ".eq",
            1 => ".ne",
            2 => ".gt",
            3 => ".lt",
            4 => ".ge",
            5 => ".le",
            6 => ".gtlt",
            _ => "",
        })
    }

    pub(super) fn set_flags(u: &mut Unstructured) -> Result<&'static str> {
        Ok(if u.ratio(1, 3)? { "!" } else { "" })
    }

    pub(super) fn swap(u: &mut Unstructured) -> Result<&'static str> {
        Ok(if u.ratio(1, 3)? { ".s" } else { "" })
    }

    /// A heap offset: a small immediate, a register holding one up to past the 4 GiB limit, or
    /// one relative to the heap's bound at run time ([`Self::bound_offset`]).
    pub(super) fn heap_offset(&mut self, u: &mut Unstructured, heap: &str) -> Result<String> {
        if u.ratio(3, 4)? {
            return Ok(u.int_in_range(0..=2048u16)?.to_string());
        }
        if u.arbitrary()? {
            return self.bound_offset(u, heap);
        }
        let offset: u64 = *u.choose(&[
            1 << 16,
            1 << 20,
            1 << 24,
            (1 << 32) - 64,
            (1 << 32) - 33,
            (1 << 32) - 32,
            1 << 32,
            u64::MAX,
        ])?;
        let constant = self.constant(offset.into());
        emit!(self, "add {constant}, r0, r12");
        Ok("r12".into())
    }

    /// An offset near the frame's current bound of `heap` (`1` or `2`), read at run time from
    /// `context.meta` (heap size in bits 64..96, aux heap size in 96..128), in r12: a 32-byte
    /// access there ends inside the bound, in its last word, just past it (the heap grows by
    /// exactly one word) or further.
    pub(super) fn bound_offset(&mut self, u: &mut Unstructured, heap: &str) -> Result<String> {
        let shift = if heap == "1" { 64 } else { 96 };
        let mask = self.constant(U256::from(u32::MAX));
        self.emit("context.meta r12");
        emit!(self, "shr.s {shift}, r12, r12");
        emit!(self, "and {mask}, r12, r12");
        let delta = *u.choose(&[-64i16, -33, -32, -31, -1, 0, 1, 31, 32, 33])?;
        self.add_to_r12(delta);
        Ok("r12".into())
    }

    /// Adds `delta`, which may be negative, to r12 (wrapping).
    pub(super) fn add_to_r12(&mut self, delta: i16) {
        match delta {
            delta if delta < 0 => emit!(self, "sub.s {}, r12, r12", -delta),
            delta => emit!(self, "add {delta}, r12, r12"),
        }
    }

    /// A register holding a value of the aimed origin and boundary class, written into
    /// `scratch` (r12 or r13) where it has to be made.
    pub(super) fn register_of(
        &mut self,
        u: &mut Unstructured,
        operand: Operand,
        scratch: &str,
    ) -> Result<String> {
        let word = match operand.value {
            Some(value) => boundary(u, value)?,
            None => Self::interesting_word(u)?,
        };
        let origin = match operand.origin {
            Some(origin) => origin,
            None => *u.choose(&[
                Origin::Immediate,
                Origin::Code,
                Origin::Stack,
                Origin::Computed,
                Origin::Loaded,
                Origin::Storage,
            ])?,
        };
        let constant = self.constant(word);
        match origin {
            Origin::Zero => return Ok("r0".into()),
            Origin::Calldata => return Ok("r1".into()),
            Origin::Other => return Ok("r14".into()),
            Origin::ReturnedOk | Origin::ReturnedRevert | Origin::ReturnedPanic => {
                // How the call ends is up to the callee: over many samples, every way.
                self.far_call(u, &Aim::default())?;
                return Ok("r1".into());
            }
            Origin::Immediate if word.bits() <= 16 => {
                emit!(self, "add {word}, r0, {scratch}")
            }
            Origin::Immediate => {
                let imm = Self::immediate(u)?;
                emit!(self, "add {imm}, r0, {scratch}");
            }
            Origin::Code => emit!(self, "add {constant}, r0, {scratch}"),
            Origin::Stack => {
                let slot = u.int_in_range(2..=STACK_SLOTS - 1)?;
                emit!(self, "add {constant}, r0, stack[{slot}]");
                emit!(self, "add stack[{slot}], r0, {scratch}");
            }
            Origin::Computed => emit!(self, "or {constant}, r0, {scratch}"),
            Origin::Loaded => {
                let (offset, heap) = (u.int_in_range(0..=2048u16)?, *u.choose(&["1", "2"])?);
                emit!(self, "add {constant}, r0, {scratch}");
                emit!(self, "st.{heap} {offset}, {scratch}");
                emit!(self, "ld.{heap} {offset}, {scratch}");
            }
            Origin::Pointer => {
                let (slot, amount) = (u.int_in_range(0..=1)?, u.int_in_range(1..=64u16)?);
                emit!(self, "add {amount}, r0, {scratch}");
                emit!(self, "ptr.add stack[{slot}], {scratch}, {scratch}");
            }
            Origin::Storage => {
                let (read, write) = *u.choose(&[("sload", "sstore"), ("tload", "tstore")])?;
                emit!(self, "add {}, r0, r11", u.int_in_range(0..=7u16)?);
                if u.arbitrary()? {
                    emit!(self, "add {constant}, r0, {scratch}");
                    emit!(self, "{write} r11, {scratch}");
                }
                emit!(self, "{read} r11, {scratch}");
            }
            Origin::Context => {
                let reader = *u.choose(super::CONTEXT_READERS)?;
                emit!(self, "context.{reader} {scratch}");
            }
        }
        Ok(scratch.into())
    }
}

/// A word of the boundary class `value` (`Other`: any word that is none of them).
pub(super) fn boundary(u: &mut Unstructured, value: Value) -> Result<U256> {
    Ok(match value {
        Value::Zero => U256::zero(),
        Value::One => U256::one(),
        Value::V31 => U256::from(31),
        Value::V32 => U256::from(32),
        Value::V255 => U256::from(255),
        Value::V256 => U256::from(256),
        Value::U32Max => U256::from(u32::MAX),
        Value::Pow32 => U256::one() << 32,
        Value::Pow255 => U256::one() << 255,
        Value::Max => U256::MAX,
        Value::Other => U256::from(u.int_in_range(1000..=60_000u32)?),
    })
}
