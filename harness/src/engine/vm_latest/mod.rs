//! The reference: `vm_latest`, built on zk_evm (the VM the circuits prove).

use std::{cell::RefCell, collections::HashSet, rc::Rc};

use zksync_multivm::{
    tracers::dynamic::vm_1_5_2::DynTracer,
    vm_latest::{
        self, HistoryEnabled, HistoryMode, SimpleMemory, ToTracerPointer, TracerPointer, VmTracer,
    },
    zk_evm_latest::{
        abstractions::MemoryType,
        tracing::{AfterDecodingData, AfterExecutionData, BeforeExecutionData, VmLocalStateData},
        vm_state::{aux_heap_page_from_base, heap_page_from_base, VmLocalState},
        zkevm_opcode_defs::{decoding::EncodingModeProduction, Opcode},
    },
};
use zksync_types::Address;
use zksync_vm_interface::storage::{StoragePtr, WriteStorage};

use super::{run_vm_traced, Engine, Observe, Observed, OpcodeCounts, VmStorage};
use crate::{
    batch::Batch,
    isa::computes,
    outcome::Word,
    steps::{Memory, Registers, Step, StepSink, Stored},
    world::World,
};

mod cells;

pub(super) use self::cells::CellCounter;

type Vm = vm_latest::Vm<VmStorage, HistoryEnabled>;

pub struct VmLatest;

impl VmLatest {
    pub const NAME: &'static str = "vm_latest";
}

impl Engine for VmLatest {
    fn name(&self) -> &str {
        Self::NAME
    }

    /// Counts opcodes by the instruction the VM fetched (before an invalid or forbidden
    /// instruction is turned into a panic); instructions whose condition did not hold are not
    /// counted. Cells are counted likewise ([`CellCounter`]). Neither counts nor steps cover the
    /// block tip.
    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        let (counter, cells) = counters(observe);
        let sink = observe.steps.then(StepSink::default);
        let outcome =
            run_vm_traced::<Vm>(world, batch, observe.last_transaction, &mut |transaction| {
                let mut tracers: Vec<TracerPointer<VmStorage, HistoryEnabled>> = vec![];
                if let Some(counter) = &counter {
                    tracers.push(counter.clone().into_tracer_pointer());
                }
                if let Some(cells) = &cells {
                    tracers.push(cells.clone().into_tracer_pointer());
                }
                if let Some(sink) = &sink {
                    sink.start(transaction);
                    tracers.push(StepRecorder::new(sink.clone()).into_tracer_pointer());
                }
                vm_latest::TracerDispatcher::new(tracers)
            });
        let steps = sink.map(|sink| sink.finish(&outcome));
        Observed {
            outcome,
            opcodes: counter.map(|counter| counter.counts()),
            cells: cells.map(|cells| cells.counts()),
            steps,
        }
    }
}

/// The opcode and cell counters `observe` asks for.
fn counters(observe: &Observe) -> (Option<OpcodeCounter>, Option<CellCounter>) {
    let counter = (observe.opcodes_in.clone()).map(|code_addresses| OpcodeCounter {
        code: CodeFilter::new(code_addresses),
        counts: Rc::default(),
    });
    let cells = (observe.opcodes_in.clone())
        .filter(|_| observe.cells)
        .map(CellCounter::new);
    (counter, cells)
}

/// Tracers of the reference, as zk_evm driven directly runs them (with no storage pointer).
pub(super) type Watchers<H> = Vec<Box<dyn DynTracer<(), SimpleMemory<H>>>>;

/// The tracers that observe what `observe` asks for, for zk_evm driven directly (a frame), and
/// the counters among them, to read when the run is over.
pub(super) fn watchers<H: HistoryMode + 'static>(
    observe: &Observe,
    sink: Option<StepSink>,
) -> (Watchers<H>, Option<OpcodeCounter>, Option<CellCounter>) {
    let (counter, cells) = counters(observe);
    let mut watchers: Watchers<H> = vec![];
    if let Some(counter) = &counter {
        watchers.push(Box::new(counter.clone()));
    }
    if let Some(cells) = &cells {
        watchers.push(Box::new(cells.clone()));
    }
    if let Some(sink) = sink {
        watchers.push(Box::new(StepRecorder::new(sink)));
    }
    (watchers, counter, cells)
}

/// Whether code runs at one of a set of addresses: the set is looked up when the code address
/// changes, not at every instruction.
#[derive(Clone)]
struct CodeFilter {
    addresses: Rc<HashSet<Address>>,
    /// The last code address seen, and whether it is in the set.
    last: Option<(Address, bool)>,
}

impl CodeFilter {
    fn new(addresses: HashSet<Address>) -> Self {
        Self {
            addresses: Rc::new(addresses),
            last: None,
        }
    }

    fn holds(&mut self, address: Address) -> bool {
        match self.last {
            Some((last, held)) if last == address => held,
            _ => {
                let held = self.addresses.contains(&address);
                self.last = Some((address, held));
                held
            }
        }
    }
}

#[derive(Clone)]
pub(super) struct OpcodeCounter {
    code: CodeFilter,
    /// Counts by opcode ([`Opcode::variant_idx`]) and variant within it.
    counts: Rc<RefCell<[[u64; VARIANTS]; VARIANTS]>>,
}

/// More than the opcodes, and than the variants of any opcode.
const VARIANTS: usize = 16;

impl OpcodeCounter {
    pub(super) fn counts(&self) -> OpcodeCounts {
        let counts = self.counts.borrow();
        (crate::isa::opcode_variants().into_iter())
            .map(|opcode| {
                let count = counts[opcode.variant_idx()][opcode.materialize_subvariant_idx()];
                (opcode, count)
            })
            .filter(|&(_, count)| count > 0)
            .collect()
    }
}

impl<S, H: HistoryMode> DynTracer<S, SimpleMemory<H>> for OpcodeCounter {
    fn after_decoding(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterDecodingData,
        _memory: &SimpleMemory<H>,
    ) {
        let in_code = (self.code).holds(state.vm_local_state.callstack.current.code_address);
        if !data.resolved_condition || !in_code {
            return;
        }
        let (variant, _, _) =
            EncodingModeProduction::variant_and_condition_from_u64_word(data.raw_opcode_unmasked);
        let opcode = variant.opcode;
        self.counts.borrow_mut()[opcode.variant_idx()][opcode.materialize_subvariant_idx()] += 1;
    }
}

impl<S: WriteStorage, H: HistoryMode> VmTracer<S, H> for OpcodeCounter {}

/// Records every executed instruction (as executed: `Nop` for a failed condition, `Ret(Panic)`
/// for a panic) into the sink.
struct StepRecorder {
    sink: StepSink,
    before: Option<Before>,
    /// The registers before the next instruction (see vm_fast's recorder).
    registers: Option<Registers>,
}

/// Where an instruction runs, and what it is.
struct Before {
    depth: u16,
    contract: Address,
    pc: u16,
    opcode: Opcode,
    /// The heap and offset a heap store writes to (its first operand).
    store: Option<(Memory, u32)>,
}

impl StepRecorder {
    fn new(sink: StepSink) -> Self {
        Self {
            sink,
            before: None,
            registers: None,
        }
    }
}

fn registers(state: &VmLocalState) -> Registers {
    std::array::from_fn(|index| {
        let register = state.registers[index];
        (register.value, register.is_pointer)
    })
}

impl<S, H: HistoryMode> DynTracer<S, SimpleMemory<H>> for StepRecorder {
    fn before_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        data: BeforeExecutionData,
        _memory: &SimpleMemory<H>,
        _storage: StoragePtr<S>,
    ) {
        let local = state.vm_local_state;
        let frame = &local.callstack.current;
        let opcode = data.opcode.variant.opcode;
        self.registers.get_or_insert_with(|| registers(local));
        self.before = Some(Before {
            depth: local.callstack.depth() as u16,
            contract: frame.code_address,
            pc: frame.pc,
            opcode,
            store: Memory::stored_by(opcode).map(|heap| (heap, data.src0_value.value.low_u32())),
        });
    }

    fn after_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterExecutionData,
        memory: &SimpleMemory<H>,
        _storage: StoragePtr<S>,
    ) {
        let (Some(before), Some(registers)) = (self.before.take(), &mut self.registers) else {
            return;
        };
        let local = state.vm_local_state;
        let frame = &local.callstack.current;
        let writes = Step::writes(registers, |register| {
            let register = local.registers[usize::from(register) - 1];
            (register.value, register.is_pointer)
        });
        // A failing instruction raises a pending exception and writes nothing.
        let stored = if local.pending_exception {
            None
        } else if let Some((heap, offset)) = before.store {
            let page = match heap {
                Memory::AuxHeap => aux_heap_page_from_base(frame.base_memory_page),
                _ => heap_page_from_base(frame.base_memory_page),
            };
            let bytes = memory.read_unaligned_bytes(page.0 as usize, offset as usize, 32);
            Some(Stored {
                memory: heap,
                offset,
                value: Word(bytes.try_into().expect("32 bytes")),
                pointer: false,
            })
        } else {
            // The stack slot an instruction with a stack destination wrote (a `nop` only moves
            // the stack pointer).
            (data.dst0_mem_location)
                .filter(|location| {
                    location.memory_type == MemoryType::Stack && computes(before.opcode)
                })
                .map(|location| {
                    let word =
                        memory.read_slot(location.page.0 as usize, location.index.0 as usize);
                    Stored {
                        memory: Memory::Stack,
                        offset: location.index.0,
                        value: Word::from(word.value),
                        pointer: word.is_pointer,
                    }
                })
        };
        self.sink.push(Step {
            depth: before.depth,
            contract: before.contract,
            pc: Some(before.pc),
            opcode: before.opcode,
            writes,
            stored,
            failed: local.pending_exception,
            flags: [
                local.flags.overflow_or_less_than_flag,
                local.flags.equality_flag,
                local.flags.greater_than_flag,
            ],
            ergs: frame.ergs_remaining,
            sp: frame.sp,
            heap_bound: frame.heap_bound,
            aux_heap_bound: frame.aux_heap_bound,
            pages: [
                heap_page_from_base(frame.base_memory_page).0,
                aux_heap_page_from_base(frame.base_memory_page).0,
            ],
            pubdata: local.pubdata_revert_counter.0,
        });
    }
}

impl<S: WriteStorage, H: HistoryMode> VmTracer<S, H> for StepRecorder {}

#[cfg(test)]
mod tests {
    use super::VARIANTS;

    #[test]
    fn every_opcode_variant_has_a_count() {
        for opcode in crate::isa::opcode_variants() {
            assert!(opcode.variant_idx() < VARIANTS, "{opcode:?}");
            assert!(opcode.materialize_subvariant_idx() < VARIANTS, "{opcode:?}");
        }
    }
}
