//! The operand features of the coverage model: where a source operand's value came from and
//! which boundary it sat on, where a heap access or a pointer ends, the frame's ergs against the
//! price, and a call's ABI.

use serde::Serialize;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{LogOpcode, Opcode, RetOpcode, UMAOpcode};
use zksync_types::U256;

/// A source operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Src {
    Src0,
    Src1,
}

/// Where an operand value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `r0`.
    Zero,
    /// The instruction's immediate.
    Immediate,
    /// A constant in the code page.
    Code,
    /// A stack slot.
    Stack,
    /// A register written by arithmetic, logic, shifts, multiplication or division.
    Computed,
    /// A register loaded from the heap, the aux heap or through a fat pointer.
    Loaded,
    /// The calldata pointer a far call passes (r1 at a frame's entry).
    Calldata,
    /// The return-data pointer of a far call whose callee returned normally, reverted or
    /// panicked (r1 after the call).
    ReturnedOk,
    ReturnedRevert,
    ReturnedPanic,
    /// A register written by `ptr.*`.
    Pointer,
    /// A register read from storage or transient storage.
    Storage,
    /// A register read from the context (`context.*`).
    Context,
    /// Anything else: set at a frame's entry, or written by a jump, a decommit or a precompile.
    Other,
}

impl Origin {
    pub const ALL: [Self; 14] = [
        Self::Zero,
        Self::Immediate,
        Self::Code,
        Self::Stack,
        Self::Computed,
        Self::Loaded,
        Self::Calldata,
        Self::ReturnedOk,
        Self::ReturnedRevert,
        Self::ReturnedPanic,
        Self::Pointer,
        Self::Storage,
        Self::Context,
        Self::Other,
    ];

    /// The origin of the registers an executed `opcode` writes, if it writes any by itself (a
    /// move, `add x, r0, r` or `ptr.add x, r0, r`, keeps the origin of what it moves).
    pub fn written_by(opcode: Opcode) -> Self {
        match opcode {
            Opcode::Add(_)
            | Opcode::Sub(_)
            | Opcode::Mul(_)
            | Opcode::Div(_)
            | Opcode::Shift(_)
            | Opcode::Binop(_) => Self::Computed,
            Opcode::UMA(
                UMAOpcode::HeapRead
                | UMAOpcode::AuxHeapRead
                | UMAOpcode::FatPointerRead
                | UMAOpcode::StaticMemoryRead,
            ) => Self::Loaded,
            Opcode::Ptr(_) => Self::Pointer,
            Opcode::Context(_) => Self::Context,
            Opcode::Log(LogOpcode::StorageRead | LogOpcode::TransientStorageRead) => Self::Storage,
            _ => Self::Other,
        }
    }

    /// The origin of r1 after a far call whose callee ended with `ret`.
    pub fn returned(ret: RetOpcode) -> Self {
        match ret {
            RetOpcode::Ok => Self::ReturnedOk,
            RetOpcode::Revert => Self::ReturnedRevert,
            RetOpcode::Panic => Self::ReturnedPanic,
        }
    }
}

/// The boundary class of a numeric operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Zero,
    One,
    V31,
    V32,
    V255,
    V256,
    /// 2^32 − 1.
    U32Max,
    /// 2^32.
    Pow32,
    /// 2^255.
    Pow255,
    /// 2^256 − 1.
    Max,
    /// None of the above.
    Other,
}

impl Value {
    pub const ALL: [Self; 11] = [
        Self::Zero,
        Self::One,
        Self::V31,
        Self::V32,
        Self::V255,
        Self::V256,
        Self::U32Max,
        Self::Pow32,
        Self::Pow255,
        Self::Max,
        Self::Other,
    ];

    pub fn of(value: U256) -> Self {
        if value == U256::MAX {
            return Self::Max;
        }
        if value == U256::one() << 255 {
            return Self::Pow255;
        }
        if value.bits() > 33 {
            return Self::Other;
        }
        match value.low_u64() {
            0 => Self::Zero,
            1 => Self::One,
            31 => Self::V31,
            32 => Self::V32,
            255 => Self::V255,
            256 => Self::V256,
            0xffff_ffff => Self::U32Max,
            0x1_0000_0000 => Self::Pow32,
            _ => Self::Other,
        }
    }
}

/// Where a heap access (32 bytes at an offset) ends relative to the frame's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapEnd {
    /// At least a word below the bound.
    Inside,
    /// In the last word below the bound (the bound itself included).
    LastWord,
    /// Past the bound by at most one word: the heap grows by a word or less.
    OneWordPast,
    /// Past the bound by more than a word.
    FurtherPast,
    /// An offset beyond what the heap can hold (the instruction fails).
    OutOfRange,
}

impl HeapEnd {
    pub const ALL: [Self; 5] = [
        Self::Inside,
        Self::LastWord,
        Self::OneWordPast,
        Self::FurtherPast,
        Self::OutOfRange,
    ];

    pub fn of(offset: U256, bound: u32) -> Self {
        if offset > U256::from(u32::MAX - 32) {
            return Self::OutOfRange;
        }
        let (end, bound) = (offset.low_u64() + 32, u64::from(bound));
        if end + 32 <= bound {
            Self::Inside
        } else if end <= bound {
            Self::LastWord
        } else if end <= bound + 32 {
            Self::OneWordPast
        } else {
            Self::FurtherPast
        }
    }
}

/// A fat pointer's offset relative to its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointerEnd {
    /// Below `length − 1`.
    Inside,
    /// `length − 1`.
    LastByte,
    /// `length`.
    AtLength,
    /// `length + 1`.
    JustPast,
    /// Beyond `length + 1`.
    FarPast,
}

impl PointerEnd {
    pub const ALL: [Self; 5] = [
        Self::Inside,
        Self::LastByte,
        Self::AtLength,
        Self::JustPast,
        Self::FarPast,
    ];

    /// Of the fat pointer in `word` (offset in bits 0..32, length in bits 96..128).
    pub fn of(word: U256) -> Self {
        let field = |index: usize| (word >> (32 * index)).low_u64() & 0xffff_ffff;
        let (offset, length) = (field(0), field(3));
        match offset.cmp(&length) {
            std::cmp::Ordering::Less if offset + 1 == length => Self::LastByte,
            std::cmp::Ordering::Less => Self::Inside,
            std::cmp::Ordering::Equal => Self::AtLength,
            std::cmp::Ordering::Greater if offset == length + 1 => Self::JustPast,
            std::cmp::Ordering::Greater => Self::FarPast,
        }
    }
}

/// The frame's ergs when an instruction is fetched, relative to its price (its base cost, which
/// the VM charges before it runs the instruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ergs {
    /// More than the price.
    Plenty,
    /// Exactly the price: the instruction runs and leaves none.
    Exact,
    /// One short of the price: the instruction fails for want of ergs.
    OneShort,
    /// Further short.
    FarShort,
}

impl Ergs {
    pub const ALL: [Self; 4] = [Self::Plenty, Self::Exact, Self::OneShort, Self::FarShort];

    pub fn of(remaining: u32, price: u32) -> Self {
        match remaining.cmp(&price) {
            std::cmp::Ordering::Greater => Self::Plenty,
            std::cmp::Ordering::Equal => Self::Exact,
            std::cmp::Ordering::Less if remaining + 1 == price => Self::OneShort,
            std::cmp::Ordering::Less => Self::FarShort,
        }
    }
}

/// The ABI a far call or a return carries in its first operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Abi {
    /// Memory passed from the heap, the aux heap, or as a forwarded fat pointer.
    ForwardHeap,
    ForwardAuxHeap,
    ForwardPointer,
    /// A far call's constructor bit, system bit, and a nonzero shard id.
    Constructor,
    System,
    Shard,
}

impl Abi {
    /// The forwarding mode of an ABI word (byte 28 from the low end).
    pub fn forwarding(word: U256) -> Self {
        match word.byte(28) {
            1 => Self::ForwardPointer,
            2 => Self::ForwardAuxHeap,
            _ => Self::ForwardHeap,
        }
    }

    /// What a far call's ABI word carries.
    pub fn of_far_call(word: U256) -> impl Iterator<Item = Self> {
        let flags = [
            (word.byte(30) != 0, Self::Constructor),
            (word.byte(31) != 0, Self::System),
            (word.byte(29) != 0, Self::Shard),
        ];
        let set = flags.into_iter().filter(|(on, _)| *on).map(|(_, abi)| abi);
        std::iter::once(Self::forwarding(word)).chain(set)
    }
}
