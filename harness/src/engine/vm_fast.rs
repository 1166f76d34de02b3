//! The new VM: `vm_fast`, built on zksync_vm2; with a step recorder when a run asks for steps.

use zksync_multivm::{
    vm_fast::{self, interface as vm2, FastValidationTracer},
    zk_evm_latest::zkevm_opcode_defs::{
        AddOpcode, BinopOpcode, ContextOpcode, DivOpcode, FarCallOpcode, JumpOpcode, LogOpcode,
        MulOpcode, NearCallOpcode, NopOpcode, Opcode, Operand, PtrOpcode, RegOrImmFlags, RetOpcode,
        ShiftOpcode, SubOpcode, UMAOpcode,
    },
};
use zksync_types::Address;
use zksync_vm_interface::{storage::ImmutableStorageView, VmFactory, VmInterfaceHistoryEnabled};

use super::{run_vm_traced, Engine, Observe, Observed, VmStorage};
use crate::{
    batch::Batch,
    isa::{computes, decode, stack_slots},
    outcome::Word,
    steps::{Memory, Registers, Step, StepSink, Stored},
    world::{World, WorldStorage},
};

/// vm_fast with the step recorder (idle unless given a sink).
pub type Vm = vm_fast::Vm<ImmutableStorageView<WorldStorage>, StepRecorder>;

/// vm_fast without tracers: what runs when no steps are asked for, so that an idle recorder
/// costs nothing per instruction.
type Untraced = vm_fast::Vm<ImmutableStorageView<WorldStorage>>;

pub struct VmFast;

impl VmFast {
    pub const NAME: &'static str = "vm_fast";
}

impl Engine for VmFast {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        if !observe.steps {
            let untraced = &mut |_| Default::default();
            return Observed {
                outcome: run_vm_traced::<Untraced>(
                    world,
                    batch,
                    observe.last_transaction,
                    untraced,
                ),
                ..Observed::default()
            };
        }
        run_stepping::<Vm>(world, batch, observe, |recorder| {
            (recorder, FastValidationTracer::default())
        })
    }
}

/// Runs a vm_fast-based VM `V`, with a [`StepRecorder`] (placed in `V`'s dispatcher by
/// `dispatcher`) recording steps if `observe` asks for them. Opcodes are not counted.
pub fn run_stepping<V>(
    world: &World,
    batch: &Batch,
    observe: &Observe,
    dispatcher: impl Fn(StepRecorder) -> V::TracerDispatcher,
) -> Observed
where
    V: VmFactory<VmStorage> + VmInterfaceHistoryEnabled,
{
    let sink = observe.steps.then(StepSink::default);
    let outcome = run_vm_traced::<V>(world, batch, observe.last_transaction, &mut |transaction| {
        let recorder = StepRecorder::recording(sink.clone());
        if let Some(sink) = &sink {
            sink.start(transaction);
        }
        dispatcher(recorder)
    });
    let steps = sink.map(|sink| sink.finish(&outcome));
    Observed {
        outcome,
        opcodes: None,
        cells: None,
        steps,
    }
}

/// Records every instruction into its sink; idle without one (the default).
#[derive(Debug, Default)]
pub struct StepRecorder {
    sink: Option<StepSink>,
    before: Option<Before>,
    /// The registers before the next instruction: read from the VM before the first, then
    /// kept up to date with each instruction's writes (nothing else writes registers).
    registers: Option<Registers>,
}

impl StepRecorder {
    /// A recorder writing into `sink`, or an idle one.
    pub fn recording(sink: Option<StepSink>) -> Self {
        Self {
            sink,
            before: None,
            registers: None,
        }
    }
}

/// Where an instruction runs.
#[derive(Debug)]
struct Before {
    depth: u16,
    contract: Address,
    pc: Option<u16>,
    /// The heap and offset a heap store writes to, or the stack slot of an instruction with
    /// a stack destination.
    store: Option<(Memory, u32)>,
}

fn registers<S: vm2::StateInterface>(state: &S) -> Registers {
    std::array::from_fn(|index| state.read_register(index as u8 + 1))
}

impl vm2::Tracer for StepRecorder {
    fn before_instruction<OP: vm2::OpcodeType, S: vm2::GlobalStateInterface>(
        &mut self,
        state: &mut S,
    ) {
        use vm2::CallframeInterface;
        if self.sink.is_none() {
            return;
        }
        let depth = state.number_of_callframes() as u16;
        let frame = state.current_frame();
        let (contract, pc) = (frame.code_address(), frame.program_counter());
        drop(frame);
        self.registers.get_or_insert_with(|| registers(state));
        let store = match Memory::stored_by(opcode(OP::VALUE)) {
            Some(heap) => store_offset::<OP, _>(state).map(|offset| (heap, offset)),
            None => stack_destination::<OP, _>(state).map(|slot| (Memory::Stack, u32::from(slot))),
        };
        self.before = Some(Before {
            depth,
            contract,
            pc,
            store,
        });
    }

    fn after_instruction<OP: vm2::OpcodeType, S: vm2::GlobalStateInterface>(
        &mut self,
        state: &mut S,
    ) -> vm2::ShouldStop {
        use vm2::CallframeInterface;
        let (Some(sink), Some(before), Some(registers)) =
            (&self.sink, self.before.take(), &mut self.registers)
        else {
            return vm2::ShouldStop::Continue;
        };
        let writes = Step::writes(registers, |register| state.read_register(register));
        let failed = !completed(state);
        let stored = before
            .store
            .and_then(|(memory, offset)| stored(state, memory, offset));
        let flags = state.flags();
        let pubdata = state.pubdata();
        let frame = state.current_frame();
        sink.push(Step {
            depth: before.depth,
            contract: before.contract,
            pc: before.pc,
            opcode: opcode(OP::VALUE),
            writes,
            stored,
            failed,
            flags: [flags.less_than, flags.equal, flags.greater],
            ergs: frame.gas(),
            sp: frame.stack_pointer(),
            heap_bound: frame.heap_bound(),
            aux_heap_bound: frame.aux_heap_bound(),
            pages: [frame.heap().as_u32(), frame.aux_heap().as_u32()],
            pubdata,
        });
        vm2::ShouldStop::Continue
    }
}

/// The byte offset that a heap store `OP` about to execute writes to, `None` for any other
/// instruction. vm2's tracer interface does not expose operands: the offset is the store's first
/// operand (a register or an immediate), decoded from the instruction at the pc.
pub(super) fn store_offset<OP: vm2::OpcodeType, S: vm2::StateInterface>(
    state: &mut S,
) -> Option<u32> {
    use vm2::CallframeInterface;
    if !matches!(
        OP::VALUE,
        vm2::Opcode::HeapWrite | vm2::Opcode::AuxHeapWrite
    ) {
        return None;
    }
    let frame = state.current_frame();
    let pc = frame.program_counter()?;
    let word = frame.read_contract_code(pc / 4);
    drop(frame);
    let instruction = decode(word, pc);
    Some(match instruction.variant.src0_operand_type {
        Operand::RegOrImm(RegOrImmFlags::UseImm16Only) => u32::from(instruction.imm_0),
        _ if instruction.src0_reg_idx == 0 => 0,
        _ => state.read_register(instruction.src0_reg_idx).0.low_u32(),
    })
}

/// The stack slot that instruction `OP` about to execute writes its result to, if its
/// destination is on the stack (decoded from the instruction at the pc, as for a store).
fn stack_destination<OP: vm2::OpcodeType, S: vm2::StateInterface>(state: &mut S) -> Option<u16> {
    use vm2::CallframeInterface;
    if !computes(opcode(OP::VALUE)) {
        return None;
    }
    let frame = state.current_frame();
    let (pc, sp) = (frame.program_counter()?, frame.stack_pointer());
    let word = frame.read_contract_code(pc / 4);
    drop(frame);
    let [_, write] = stack_slots(&decode(word, pc), sp, |register| {
        state.read_register(register).0
    });
    write
}

/// Whether the instruction just executed completed: a failing one leaves the pc on vm2's panic
/// instruction, outside the program.
pub(super) fn completed<S: vm2::StateInterface>(state: &mut S) -> bool {
    use vm2::CallframeInterface;
    state.current_frame().program_counter().is_some()
}

/// The word an instruction wrote at `offset` of the frame's `memory`, read back; `None` if the
/// instruction failed.
fn stored<S: vm2::StateInterface>(state: &mut S, memory: Memory, offset: u32) -> Option<Stored> {
    use vm2::CallframeInterface;
    if !completed(state) {
        return None;
    }
    let frame = state.current_frame();
    let heap = match memory {
        Memory::Heap => frame.heap(),
        Memory::AuxHeap => frame.aux_heap(),
        Memory::Stack => {
            let (value, pointer) = frame.read_stack(offset as u16);
            return Some(Stored {
                memory,
                offset,
                value: Word::from(value),
                pointer,
            });
        }
    };
    drop(frame);
    Some(Stored {
        memory,
        offset,
        value: Word::from(state.read_heap_u256(heap, offset)),
        pointer: false,
    })
}

/// vm2's opcode as zkevm_opcode_defs names it (the two sets correspond one to one, except that
/// vm2 has no `Invalid`: an invalid instruction executes as `Ret(Panic)` in both VMs).
fn opcode(opcode: vm2::Opcode) -> Opcode {
    use vm2::{CallingMode, Opcode as V, ReturnType};
    match opcode {
        V::Nop => Opcode::Nop(NopOpcode),
        V::Add => Opcode::Add(AddOpcode::Add),
        V::Sub => Opcode::Sub(SubOpcode::Sub),
        V::And => Opcode::Binop(BinopOpcode::And),
        V::Or => Opcode::Binop(BinopOpcode::Or),
        V::Xor => Opcode::Binop(BinopOpcode::Xor),
        V::ShiftLeft => Opcode::Shift(ShiftOpcode::Shl),
        V::ShiftRight => Opcode::Shift(ShiftOpcode::Shr),
        V::RotateLeft => Opcode::Shift(ShiftOpcode::Rol),
        V::RotateRight => Opcode::Shift(ShiftOpcode::Ror),
        V::Mul => Opcode::Mul(MulOpcode),
        V::Div => Opcode::Div(DivOpcode),
        V::NearCall => Opcode::NearCall(NearCallOpcode),
        V::FarCall(CallingMode::Normal) => Opcode::FarCall(FarCallOpcode::Normal),
        V::FarCall(CallingMode::Delegate) => Opcode::FarCall(FarCallOpcode::Delegate),
        V::FarCall(CallingMode::Mimic) => Opcode::FarCall(FarCallOpcode::Mimic),
        V::Ret(ReturnType::Normal) => Opcode::Ret(RetOpcode::Ok),
        V::Ret(ReturnType::Revert) => Opcode::Ret(RetOpcode::Revert),
        V::Ret(ReturnType::Panic) => Opcode::Ret(RetOpcode::Panic),
        V::Jump => Opcode::Jump(JumpOpcode),
        V::Event => Opcode::Log(LogOpcode::Event),
        V::L2ToL1Message => Opcode::Log(LogOpcode::ToL1Message),
        V::Decommit => Opcode::Log(LogOpcode::Decommit),
        V::PrecompileCall => Opcode::Log(LogOpcode::PrecompileCall),
        V::StorageRead => Opcode::Log(LogOpcode::StorageRead),
        V::StorageWrite => Opcode::Log(LogOpcode::StorageWrite),
        V::TransientStorageRead => Opcode::Log(LogOpcode::TransientStorageRead),
        V::TransientStorageWrite => Opcode::Log(LogOpcode::TransientStorageWrite),
        V::This => Opcode::Context(ContextOpcode::This),
        V::Caller => Opcode::Context(ContextOpcode::Caller),
        V::CodeAddress => Opcode::Context(ContextOpcode::CodeAddress),
        V::ErgsLeft => Opcode::Context(ContextOpcode::ErgsLeft),
        V::SP => Opcode::Context(ContextOpcode::Sp),
        V::ContextMeta => Opcode::Context(ContextOpcode::Meta),
        V::ContextU128 => Opcode::Context(ContextOpcode::GetContextU128),
        V::SetContextU128 => Opcode::Context(ContextOpcode::SetContextU128),
        V::IncrementTxNumber => Opcode::Context(ContextOpcode::IncrementTxNumber),
        V::AuxMutating0 => Opcode::Context(ContextOpcode::AuxMutating0),
        V::HeapRead => Opcode::UMA(UMAOpcode::HeapRead),
        V::HeapWrite => Opcode::UMA(UMAOpcode::HeapWrite),
        V::AuxHeapRead => Opcode::UMA(UMAOpcode::AuxHeapRead),
        V::AuxHeapWrite => Opcode::UMA(UMAOpcode::AuxHeapWrite),
        V::PointerRead => Opcode::UMA(UMAOpcode::FatPointerRead),
        V::PointerAdd => Opcode::Ptr(PtrOpcode::Add),
        V::PointerSub => Opcode::Ptr(PtrOpcode::Sub),
        V::PointerPack => Opcode::Ptr(PtrOpcode::Pack),
        V::PointerShrink => Opcode::Ptr(PtrOpcode::Shrink),
    }
}
