//! Operands as written: registers, immediates, stack addressing, code constants and labels.

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::ImmMemHandlerFlags;

use super::is_name;

/// One operand as written.
#[derive(Clone, Copy)]
pub(super) enum Arg<'a> {
    Reg(u8),
    Imm(u16),
    /// `stack[N]`, `stack-[N]`, `stack+=[N]` or `stack-=[N]`.
    Stack(Stack, u16),
    /// `@K[N]`: word N after the `.rodata` label K.
    Const(&'a str, u16),
    /// `@label`: a code label.
    Label(&'a str),
}

/// Stack addressing, as written: a push and a pop encode alike (the operand's position
/// decides), but `nop stack+=[N]` and `nop stack-=[N]` differ.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Stack {
    Absolute,
    Offset,
    Push,
    Pop,
}

impl Stack {
    pub(super) fn mode(self) -> ImmMemHandlerFlags {
        match self {
            Self::Absolute => ImmMemHandlerFlags::UseAbsoluteOnStack,
            Self::Offset => ImmMemHandlerFlags::UseStackWithOffset,
            Self::Push | Self::Pop => ImmMemHandlerFlags::UseStackWithPushPop,
        }
    }
}

/// A canonical decimal (no sign, no leading zero) below 2^16.
fn decimal(text: &str) -> Option<u16> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// The operand `text` (trimmed) writes, if it is in the subset.
pub(super) fn arg(text: &str) -> Option<Arg<'_>> {
    if let Some(index) = text.strip_prefix('r') {
        return decimal(index)
            .filter(|&n| n < 16)
            .map(|n| Arg::Reg(n as u8));
    }
    if let Some(name) = text.strip_prefix('@') {
        return Some(match name.strip_suffix(']') {
            Some(indexed) => {
                let (label, offset) = indexed.split_once('[')?;
                Arg::Const(is_name(label).then_some(label)?, decimal(offset)?)
            }
            None => Arg::Label(is_name(name).then_some(name)?),
        });
    }
    if let Some(stack) = text.strip_prefix("stack") {
        let (mode, slot) = stack.strip_suffix(']')?.split_once('[')?;
        let mode = match mode {
            "" => Stack::Absolute,
            "-" => Stack::Offset,
            "+=" => Stack::Push,
            "-=" => Stack::Pop,
            _ => return None,
        };
        return Some(Arg::Stack(mode, decimal(slot)?));
    }
    // zkevm-assembly reads a bare 0 as r0.
    decimal(text).map(|n| if n == 0 { Arg::Reg(0) } else { Arg::Imm(n) })
}
