//! The coverage model of the instruction set, as data. A cell is an opcode variant and one
//! feature an execution of it can show:
//! - its encoding form (operand addressing and modifier flags, every form zkevm_opcode_defs'
//!   decoding table holds for the variant) and its predicate;
//! - the mode it ran in (user or kernel space, static context);
//! - the frame's ergs relative to the instruction's price ([`Ergs`]: enough, exactly enough, one
//!   short, further short);
//! - where each operand value came from ([`Origin`]) and which boundary it sat on ([`Value`]);
//! - for heap accesses, where the access ends relative to the frame's heap bound ([`HeapEnd`]);
//!   for fat-pointer reads and `ptr.*`, the pointer's offset relative to its length
//!   ([`PointerEnd`]);
//! - for far calls and returns, the ABI they carry ([`Abi`]).
//!
//! [`cells`] lists every cell of every variant. A feature that cannot apply to a variant is no
//! cell of it (the origin of an operand it does not read, the ABI of an instruction that is no
//! call), so every cell can be shown by some execution: a register can hold an immediate's or a
//! code constant's value through a move, an instruction forbidden in a mode executes there and
//! fails. The few cells generated programs cannot show, because the assembler cannot write
//! them, are [`impossible`] with the reason. Coverage is counted on the reference as it
//! executes.

use std::{fmt, sync::OnceLock};

use fnv::FnvHashMap;

use serde::Serialize;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{
    Condition, ContextOpcode, LogOpcode, Opcode, OpcodeVariant, PtrOpcode, RetOpcode, UMAOpcode,
    OPCODES_TABLE,
};

mod operands;

pub use self::operands::{Abi, Ergs, HeapEnd, Origin, PointerEnd, Src, Value};
use super::opcode_variants;
/// The mode an instruction ran in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    User,
    Kernel,
    Static,
}

/// An encoding form: how the operands are addressed, and the modifier flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Form {
    pub src0: u8,
    pub dst0: u8,
    pub flags: [bool; 2],
}

impl Form {
    pub fn of(variant: &OpcodeVariant) -> Self {
        Self {
            src0: variant.src0_operand_type.variant_idx() as u8,
            dst0: variant.dst0_operand_type.variant_idx() as u8,
            flags: variant.flags,
        }
    }
}

impl fmt::Display for Form {
    /// `src0=stack-offset dst0=reg flags=10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |index: u8| match index {
            0 => "reg",
            1 => "push/pop",
            2 => "stack-offset",
            3 => "stack-absolute",
            4 => "imm",
            _ => "code",
        };
        let [a, b] = self.flags.map(u8::from);
        write!(
            f,
            "src0={} dst0={} flags={a}{b}",
            name(self.src0),
            name(self.dst0)
        )
    }
}

/// What a cell says of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    Form(Form),
    /// The predicate (`Condition` as zkevm_opcode_defs numbers it), and that it held.
    Predicate(u8),
    Mode(Mode),
    Ergs(Ergs),
    Origin(Src, Origin),
    Value(Src, Value),
    Heap(HeapEnd),
    Pointer(PointerEnd),
    Abi(Abi),
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Form(form) => write!(f, "form {form}"),
            Self::Predicate(condition) => {
                let names = ["always", "gt", "lt", "eq", "ge", "le", "ne", "gtlt"];
                write!(f, "predicate {}", names[usize::from(*condition)])
            }
            Self::Mode(mode) => write!(f, "mode {mode:?}"),
            Self::Ergs(ergs) => write!(f, "ergs {ergs:?}"),
            Self::Origin(src, origin) => write!(f, "{src:?} from {origin:?}"),
            Self::Value(src, value) => write!(f, "{src:?} value {value:?}"),
            Self::Heap(end) => write!(f, "heap end {end:?}"),
            Self::Pointer(end) => write!(f, "pointer offset {end:?}"),
            Self::Abi(abi) => write!(f, "abi {abi:?}"),
        }
    }
}

/// An opcode variant and a feature of its execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub opcode: Opcode,
    pub feature: Feature,
}

impl Cell {
    /// A number no other cell has: opcode variant, kind of feature and the feature's fields,
    /// packed (every field is a small enum or number), so that a cell is looked up by hashing
    /// four bytes.
    fn key(&self) -> u32 {
        let opcode =
            (self.opcode.variant_idx() << 4 | self.opcode.materialize_subvariant_idx()) as u32;
        let pair =
            |kind: u32, high: u8, low: u8| kind << 16 | u32::from(high) << 8 | u32::from(low);
        let feature = match self.feature {
            Feature::Form(form) => pair(
                0,
                form.src0 << 4 | form.dst0,
                u8::from(form.flags[0]) << 1 | u8::from(form.flags[1]),
            ),
            Feature::Predicate(condition) => pair(1, 0, condition),
            Feature::Mode(mode) => pair(2, 0, mode as u8),
            Feature::Ergs(ergs) => pair(3, 0, ergs as u8),
            Feature::Origin(src, origin) => pair(4, src as u8, origin as u8),
            Feature::Value(src, value) => pair(5, src as u8, value as u8),
            Feature::Heap(end) => pair(6, 0, end as u8),
            Feature::Pointer(end) => pair(7, 0, end as u8),
            Feature::Abi(abi) => pair(8, 0, abi as u8),
        };
        opcode << 24 | feature
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.opcode, self.feature)
    }
}

/// The sources `opcode` reads as values.
pub fn sources(opcode: Opcode) -> &'static [Src] {
    match opcode {
        Opcode::Invalid(_) | Opcode::Nop(_) => &[],
        Opcode::Context(ContextOpcode::SetContextU128 | ContextOpcode::AuxMutating0) => {
            &[Src::Src0]
        }
        Opcode::Context(_) => &[],
        Opcode::Jump(_) | Opcode::Ret(_) | Opcode::NearCall(_) => &[Src::Src0],
        Opcode::UMA(UMAOpcode::HeapRead | UMAOpcode::AuxHeapRead)
        | Opcode::UMA(UMAOpcode::FatPointerRead | UMAOpcode::StaticMemoryRead) => &[Src::Src0],
        Opcode::Log(LogOpcode::StorageRead | LogOpcode::TransientStorageRead) => &[Src::Src0],
        _ => &[Src::Src0, Src::Src1],
    }
}

/// Whether `opcode` accesses a heap at its first operand (an offset).
pub fn accesses_heap(opcode: Opcode) -> bool {
    matches!(
        opcode,
        Opcode::UMA(
            UMAOpcode::HeapRead
                | UMAOpcode::HeapWrite
                | UMAOpcode::AuxHeapRead
                | UMAOpcode::AuxHeapWrite
        )
    )
}

/// Whether `opcode` takes a fat pointer as its first operand.
pub fn takes_pointer(opcode: Opcode) -> bool {
    matches!(
        opcode,
        Opcode::UMA(UMAOpcode::FatPointerRead)
            | Opcode::Ptr(PtrOpcode::Add | PtrOpcode::Sub | PtrOpcode::Pack | PtrOpcode::Shrink)
    )
}

/// Every cell of every opcode variant, impossible ones included.
pub fn cells() -> Vec<Cell> {
    let mut cells = vec![];
    for opcode in opcode_variants() {
        let mut features: Vec<Feature> = (OPCODES_TABLE.iter())
            .filter(|variant| variant.opcode == opcode)
            .map(|variant| Feature::Form(Form::of(variant)))
            .collect();
        features.sort();
        features.dedup();
        let predicates = match opcode {
            Opcode::Invalid(_) => 1,
            _ => 8,
        };
        features.extend((0..predicates).map(Feature::Predicate));
        features.extend([Mode::User, Mode::Kernel, Mode::Static].map(Feature::Mode));
        // `invalid` costs every erg there is: it is always short.
        if !matches!(opcode, Opcode::Invalid(_)) {
            features.extend(Ergs::ALL.map(Feature::Ergs));
        }
        for &src in sources(opcode) {
            features.extend(Origin::ALL.map(|origin| Feature::Origin(src, origin)));
            features.extend(Value::ALL.map(|value| Feature::Value(src, value)));
        }
        if accesses_heap(opcode) {
            features.extend(HeapEnd::ALL.map(Feature::Heap));
        }
        if takes_pointer(opcode) {
            features.extend(PointerEnd::ALL.map(Feature::Pointer));
        }
        match opcode {
            Opcode::FarCall(_) => features.extend(
                [
                    Abi::ForwardHeap,
                    Abi::ForwardAuxHeap,
                    Abi::ForwardPointer,
                    Abi::Constructor,
                    Abi::System,
                    Abi::Shard,
                ]
                .map(Feature::Abi),
            ),
            Opcode::Ret(RetOpcode::Ok | RetOpcode::Revert) => features.extend(
                [Abi::ForwardHeap, Abi::ForwardAuxHeap, Abi::ForwardPointer].map(Feature::Abi),
            ),
            _ => {}
        }
        cells.extend(features.into_iter().map(|feature| Cell { opcode, feature }));
    }
    cells
}

/// Why no generated program can show `cell`, if it cannot. The generator writes assembly, so
/// an encoding the assembler (zkevm-assembly 0.153.8) refuses is out of its reach.
pub fn impossible(cell: &Cell) -> Option<&'static str> {
    match (cell.opcode, cell.feature) {
        (Opcode::Nop(_), Feature::Form(Form { src0: 5, .. })) => {
            Some("the assembler takes no code constant as a `nop` operand")
        }
        _ => None,
    }
}

/// The cells some generated program can show: [`cells`] without the [`impossible`] ones.
pub fn reachable_cells() -> Vec<Cell> {
    (cells().into_iter())
        .filter(|cell| impossible(cell).is_none())
        .collect()
}

/// Every cell of [`cells`] in cell order, each numbered by its position: counters keep dense
/// arrays indexed by it instead of a map keyed by cell.
pub struct CellIndex {
    cells: Vec<Cell>,
    /// Positions by [`Cell::key`].
    positions: FnvHashMap<u32, u32>,
}

impl CellIndex {
    /// The index of the model's cells, built once.
    pub fn get() -> &'static Self {
        static INDEX: OnceLock<CellIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            let mut cells = cells();
            cells.sort();
            let positions = (cells.iter().enumerate())
                .map(|(position, cell)| (cell.key(), position as u32))
                .collect();
            Self { cells, positions }
        })
    }

    /// How many cells the model holds.
    pub fn count(&self) -> usize {
        self.cells.len()
    }

    /// The position of `cell`; `None` for a cell the model does not hold.
    pub fn position(&self, cell: &Cell) -> Option<usize> {
        (self.positions.get(&cell.key())).map(|&position| position as usize)
    }

    /// The cell at `position`.
    pub fn cell(&self, position: usize) -> Cell {
        self.cells[position]
    }
}

/// The condition `condition` as [`Feature::Predicate`] numbers it.
pub fn predicate(condition: Condition) -> Feature {
    Feature::Predicate(condition as u8)
}

#[cfg(test)]
mod tests {
    use zksync_types::U256;

    use super::*;

    #[test]
    fn every_variant_has_its_forms_predicates_and_modes() {
        let cells = cells();
        assert!(cells.len() > 2000, "{} cells", cells.len());
        for opcode in opcode_variants() {
            let count = |kind: fn(&Feature) -> bool| {
                (cells.iter())
                    .filter(|cell| cell.opcode == opcode && kind(&cell.feature))
                    .count()
            };
            assert!(
                count(|feature| matches!(feature, Feature::Form(_))) > 0,
                "{opcode:?}"
            );
            assert_eq!(count(|feature| matches!(feature, Feature::Mode(_))), 3);
        }
        // context.this reads no operand; context.set_context_u128 reads one.
        let origins = |opcode: Opcode| {
            (cells.iter())
                .filter(|cell| cell.opcode == opcode)
                .filter(|cell| matches!(cell.feature, Feature::Origin(..)))
                .count()
        };
        assert_eq!(origins(Opcode::Context(ContextOpcode::This)), 0);
        assert_eq!(
            origins(Opcode::Context(ContextOpcode::SetContextU128)),
            Origin::ALL.len()
        );
    }

    #[test]
    fn every_cell_has_its_own_key_and_position() {
        let cells = cells();
        let keys: std::collections::HashSet<u32> = cells.iter().map(Cell::key).collect();
        assert_eq!(keys.len(), cells.len());
        let index = CellIndex::get();
        for cell in &cells {
            assert_eq!(index.cell(index.position(cell).unwrap()), *cell);
        }
    }

    #[test]
    fn only_code_constant_nops_are_impossible() {
        let impossible: Vec<Cell> = (cells().into_iter())
            .filter(|cell| impossible(cell).is_some())
            .collect();
        let nop = Opcode::Nop(zksync_multivm::zk_evm_latest::zkevm_opcode_defs::NopOpcode);
        assert!(!impossible.is_empty());
        assert!(impossible.iter().all(|cell| cell.opcode == nop));
        assert_eq!(
            reachable_cells().len() + impossible.len(),
            cells().len(),
            "every cell is reachable or impossible"
        );
    }

    #[test]
    fn boundaries_are_classified() {
        assert_eq!(Value::of(U256::from(32)), Value::V32);
        assert_eq!(Value::of(U256::from(u32::MAX)), Value::U32Max);
        assert_eq!(Value::of(U256::one() << 32), Value::Pow32);
        assert_eq!(Value::of(U256::from(7)), Value::Other);
        assert_eq!(Ergs::of(7, 6), Ergs::Plenty);
        assert_eq!(Ergs::of(6, 6), Ergs::Exact);
        assert_eq!(Ergs::of(5, 6), Ergs::OneShort);
        assert_eq!(Ergs::of(0, 6), Ergs::FarShort);
        assert_eq!(HeapEnd::of(U256::from(64), 128), HeapEnd::Inside);
        assert_eq!(HeapEnd::of(U256::from(96), 128), HeapEnd::LastWord);
        assert_eq!(HeapEnd::of(U256::from(128), 128), HeapEnd::OneWordPast);
        assert_eq!(HeapEnd::of(U256::from(161), 128), HeapEnd::FurtherPast);
        assert_eq!(HeapEnd::of(U256::one() << 32, 128), HeapEnd::OutOfRange);
        let pointer = |offset: u64, length: u64| {
            PointerEnd::of(U256::from(offset) | U256::from(length) << 96)
        };
        assert_eq!(pointer(31, 32), PointerEnd::LastByte);
        assert_eq!(pointer(32, 32), PointerEnd::AtLength);
        assert_eq!(pointer(33, 32), PointerEnd::JustPast);
        assert_eq!(pointer(0, 32), PointerEnd::Inside);
    }
}
