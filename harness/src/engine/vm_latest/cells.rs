//! Counting the coverage model's cells ([`crate::isa::model`]) as the reference executes:
//! the fetched instruction's form, predicate, mode and ergs; its operands' origins and boundary
//! classes; where a heap access ends, a pointer's offset, a call's ABI. Where each register's
//! value came from is followed from instruction to instruction, across far calls and returns;
//! so is whether the frame a cell was shown in lived (its effects kept) or died (reverted or
//! panicked).

use std::{cell::RefCell, collections::HashSet, rc::Rc};

use smallvec::{smallvec, SmallVec};
use zksync_multivm::{
    tracers::dynamic::vm_1_5_2::DynTracer,
    vm_latest::{HistoryMode, SimpleMemory, VmTracer},
    zk_evm_latest::{
        tracing::{AfterDecodingData, AfterExecutionData, BeforeExecutionData, VmLocalStateData},
        zkevm_opcode_defs::{
            decoding::EncodingModeProduction, ImmMemHandlerFlags, Opcode, OpcodeVariant, Operand,
            RegOrImmFlags, RetOpcode, UMAOpcode, UMA_INCREMENT_FLAG_IDX,
        },
    },
};
use zksync_types::Address;
use zksync_vm_interface::storage::{StoragePtr, WriteStorage};

use super::CodeFilter;
use crate::{
    engine::CellCounts,
    isa::model::{
        self, Abi, Cell, CellIndex, Ergs, Feature, Form, HeapEnd, Mode, Origin, PointerEnd, Src,
        Value,
    },
};

/// Counts cells in code at `code_addresses`; shared by the tracers of one run.
#[derive(Clone)]
pub struct CellCounter {
    code: CodeFilter,
    state: Rc<RefCell<State>>,
}

struct State {
    positions: Positions,
    /// Executions by cell position.
    counts: Vec<u64>,
    /// Cells shown in a frame whose caller returned: what a kept frame shows.
    living: Bits,
    /// Per open frame (by callstack depth), cells shown in it and not yet living: they live
    /// when every frame up to the run's own ends without reverting or panicking.
    frames: Vec<Bits>,
    /// Where each of r1..r15 got its value.
    origins: [Origin; 15],
    /// The instruction fetched, if it executes (its condition held), with its predicate and
    /// ergs features.
    fetched: Option<(OpcodeVariant, [Feature; 2])>,
    /// What the executing instruction will write, for after it.
    pending: Option<Pending>,
}

/// Cells numbered densely: the model's by their [`CellIndex`] position, any other cell (an
/// encoding the model does not list, say a predicated `invalid` word) after them as first seen.
struct Positions {
    index: &'static CellIndex,
    others: Vec<Cell>,
}

impl Positions {
    fn of(&mut self, cell: Cell) -> usize {
        if let Some(position) = self.index.position(&cell) {
            return position;
        }
        let other = match self.others.iter().position(|other| *other == cell) {
            Some(other) => other,
            None => {
                self.others.push(cell);
                self.others.len() - 1
            }
        };
        self.index.count() + other
    }

    fn cell(&self, position: usize) -> Cell {
        match position.checked_sub(self.index.count()) {
            Some(other) => self.others[other],
            None => self.index.cell(position),
        }
    }
}

/// A set of cell positions.
#[derive(Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn insert(&mut self, position: usize) {
        let word = position / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (position % 64);
    }

    fn contains(&self, position: usize) -> bool {
        (self.0.get(position / 64)).is_some_and(|word| word & (1 << (position % 64)) != 0)
    }

    /// Adds every position of `other`.
    fn union_with(&mut self, other: &Bits) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (word, other) in self.0.iter_mut().zip(&other.0) {
            *word |= other;
        }
    }

    fn clear(&mut self) {
        self.0.fill(0);
    }
}

struct Pending {
    depth: usize,
    opcode: Opcode,
    /// Whether the frame it runs in is a far call's (a return from it ends the call).
    far_frame: bool,
    /// The registers it writes (0 for none), with their origins.
    writes: [(u8, Origin); 2],
}

impl CellCounter {
    pub fn new(code_addresses: HashSet<Address>) -> Self {
        Self {
            code: CodeFilter::new(code_addresses),
            state: Rc::new(RefCell::new(State {
                positions: Positions {
                    index: CellIndex::get(),
                    others: vec![],
                },
                counts: vec![],
                living: Bits::default(),
                frames: vec![],
                origins: [Origin::Other; 15],
                fetched: None,
                pending: None,
            })),
        }
    }

    /// The counts so far; cells of frames still open live (the run ended in them).
    pub fn counts(&self) -> CellCounts {
        let state = self.state.borrow();
        let mut open = Bits::default();
        for frame in &state.frames {
            open.union_with(frame);
        }
        let shown = (state.counts.iter().enumerate()).filter(|(_, &count)| count > 0);
        let mut executions: Vec<(Cell, u64)> = (shown.clone())
            .map(|(position, &count)| (state.positions.cell(position), count))
            .collect();
        let mut dying_only: Vec<Cell> = (shown.map(|(position, _)| position))
            .filter(|&position| !state.living.contains(position) && !open.contains(position))
            .map(|position| state.positions.cell(position))
            .collect();
        // Positions past the model's are numbered as first seen: sorted into cell order here.
        if !state.positions.others.is_empty() {
            executions.sort();
            dying_only.sort();
        }
        CellCounts {
            executions,
            dying_only,
        }
    }
}

/// Where the value of a source operand addressed as `operand` (register `register`) came from.
fn origin_of(operand: Operand, register: u8, origins: &[Origin; 15]) -> Origin {
    match operand {
        Operand::RegOrImm(RegOrImmFlags::UseImm16Only)
        | Operand::Full(ImmMemHandlerFlags::UseImm16Only) => Origin::Immediate,
        Operand::Full(ImmMemHandlerFlags::UseCodePage) => Origin::Code,
        Operand::Full(
            ImmMemHandlerFlags::UseStackWithPushPop
            | ImmMemHandlerFlags::UseStackWithOffset
            | ImmMemHandlerFlags::UseAbsoluteOnStack,
        ) => Origin::Stack,
        _ if register == 0 => Origin::Zero,
        _ => origins[usize::from(register) - 1],
    }
}

fn writes_register(operand: Operand) -> bool {
    matches!(
        operand,
        Operand::RegOnly | Operand::Full(ImmMemHandlerFlags::UseRegOnly)
    )
}

impl<S, H: HistoryMode> DynTracer<S, SimpleMemory<H>> for CellCounter {
    fn after_decoding(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterDecodingData,
        _memory: &SimpleMemory<H>,
    ) {
        let (variant, condition, _) =
            EncodingModeProduction::variant_and_condition_from_u64_word(data.raw_opcode_unmasked);
        let executes = data.resolved_condition && !data.did_skip_cycle;
        // The price is charged after decoding: the frame's ergs are still those before it.
        let remaining = state.vm_local_state.callstack.current.ergs_remaining;
        let ergs = Ergs::of(remaining, variant.ergs_price());
        self.state.borrow_mut().fetched =
            executes.then(|| (variant, [model::predicate(condition), Feature::Ergs(ergs)]));
    }

    fn before_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        data: BeforeExecutionData,
        _memory: &SimpleMemory<H>,
        _storage: StoragePtr<S>,
    ) {
        let local = state.vm_local_state;
        let frame = &local.callstack.current;
        let mut state = self.state.borrow_mut();
        let executed = data.opcode;
        let opcode = executed.variant.opcode;
        let src0 = origin_of(
            executed.variant.src0_operand_type,
            executed.src0_reg_idx,
            &state.origins,
        );
        let src1 = origin_of(Operand::RegOnly, executed.src1_reg_idx, &state.origins);
        // A move (`add x, r0, r`, `ptr.add x, r0, r`) keeps the origin of what it moves.
        let moves = matches!(opcode, Opcode::Add(_) | Opcode::Ptr(_))
            && executed.src1_reg_idx == 0
            && !executed.variant.swap_operands();
        let dst0 = if writes_register(executed.variant.dst0_operand_type) {
            executed.dst0_reg_idx
        } else {
            0
        };
        let written = if moves {
            src0
        } else {
            Origin::written_by(opcode)
        };
        let dst1 = match opcode {
            Opcode::Mul(_) | Opcode::Div(_) => (executed.dst1_reg_idx, Origin::Computed),
            Opcode::UMA(_) if executed.variant.flags[UMA_INCREMENT_FLAG_IDX] => {
                (executed.dst1_reg_idx, Origin::Computed)
            }
            _ => (0, Origin::Other),
        };
        state.pending = Some(Pending {
            depth: local.callstack.depth(),
            opcode,
            far_frame: !frame.is_local_frame,
            writes: [(dst0, written), dst1],
        });

        let Some((variant, [predicate, ergs])) = state.fetched.take() else {
            return;
        };
        if !self.code.holds(frame.code_address) {
            return;
        }
        let fetched = variant.opcode;
        let mut features: SmallVec<[Feature; 20]> =
            smallvec![Feature::Form(Form::of(&variant)), predicate];
        if !matches!(fetched, Opcode::Invalid(_)) {
            features.push(ergs);
        }
        features.push(Feature::Mode(match frame.is_kernel_mode() {
            true => Mode::Kernel,
            false => Mode::User,
        }));
        if frame.is_static {
            features.push(Feature::Mode(Mode::Static));
        }
        // An instruction that fails before it runs executes as a panic: only what was fetched
        // counts.
        if opcode == fetched {
            let (value0, value1) = (data.src0_value.value, data.src1_value.value);
            for &src in model::sources(fetched) {
                let (origin, value) = match src {
                    Src::Src0 => (src0, value0),
                    Src::Src1 => (src1, value1),
                };
                features.push(Feature::Origin(src, origin));
                features.push(Feature::Value(src, Value::of(value)));
            }
            if model::accesses_heap(fetched) {
                let bound = match fetched {
                    Opcode::UMA(UMAOpcode::AuxHeapRead | UMAOpcode::AuxHeapWrite) => {
                        frame.aux_heap_bound
                    }
                    _ => frame.heap_bound,
                };
                features.push(Feature::Heap(HeapEnd::of(value0, bound)));
            }
            if model::takes_pointer(fetched) {
                let pointer = if variant.swap_operands() {
                    value1
                } else {
                    value0
                };
                features.push(Feature::Pointer(PointerEnd::of(pointer)));
            }
            match fetched {
                Opcode::FarCall(_) => features.extend(Abi::of_far_call(value0).map(Feature::Abi)),
                Opcode::Ret(RetOpcode::Ok | RetOpcode::Revert) => {
                    features.push(Feature::Abi(Abi::forwarding(value0)));
                }
                _ => {}
            }
        }
        let depth = local.callstack.depth();
        if state.frames.len() <= depth {
            state.frames.resize_with(depth + 1, Bits::default);
        }
        for feature in features {
            state.show(
                depth,
                Cell {
                    opcode: fetched,
                    feature,
                },
            );
        }
    }

    fn after_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        _data: AfterExecutionData,
        _memory: &SimpleMemory<H>,
        _storage: StoragePtr<S>,
    ) {
        let local = state.vm_local_state;
        let mut state = self.state.borrow_mut();
        let Some(pending) = state.pending.take() else {
            return;
        };
        let depth = local.callstack.depth();
        if depth != pending.depth {
            state.frame_changed(pending.depth, depth, pending.opcode);
        }
        match pending.opcode {
            // The callee's frame starts with the calldata pointer in r1.
            Opcode::FarCall(_) if depth > pending.depth => {
                state.origins = [Origin::Other; 15];
                state.origins[0] = Origin::Calldata;
            }
            // Back in the caller, r1 holds what the callee returned.
            Opcode::Ret(ret) if pending.far_frame && depth < pending.depth => {
                state.origins = [Origin::Other; 15];
                state.origins[0] = Origin::returned(ret);
            }
            _ if local.pending_exception => {}
            _ => {
                for (register, origin) in pending.writes {
                    if register != 0 {
                        state.origins[usize::from(register) - 1] = origin;
                    }
                }
            }
        }
    }
}

impl State {
    /// `cell` shown by an instruction at callstack depth `depth`.
    fn show(&mut self, depth: usize, cell: Cell) {
        let position = self.positions.of(cell);
        if self.counts.len() <= position {
            self.counts
                .resize(position.max(self.positions.index.count()) + 1, 0);
        }
        self.counts[position] += 1;
        if !self.living.contains(position) {
            self.frames[depth].insert(position);
        }
    }

    /// A frame opened (`to` deeper than `from`) or ended by `opcode`: the cells of an ended
    /// frame go to its caller's when it returned, and are dropped when it reverted or panicked.
    fn frame_changed(&mut self, from: usize, to: usize, opcode: Opcode) {
        if to > from {
            if let Some(frame) = self.frames.get_mut(to) {
                frame.clear();
            }
            return;
        }
        // Emptied in place, so that each depth's set keeps its words from frame to frame.
        let Self { frames, living, .. } = self;
        let Some((ended, callers)) = frames.get_mut(..=from).and_then(|f| f.split_last_mut())
        else {
            return;
        };
        if opcode != Opcode::Ret(RetOpcode::Ok) {
            ended.clear();
            return;
        }
        match callers.get_mut(to) {
            Some(caller) => caller.union_with(ended),
            None => living.union_with(ended),
        }
        ended.clear();
    }
}

impl<S: WriteStorage, H: HistoryMode> VmTracer<S, H> for CellCounter {}
