//! Faults inside execution, to check that causes name the right instruction: vm_fast with its
//! state perturbed through its tracer's write access, once per transaction in generated code:
//! right after the first `Nop` (every generated contract starts with one), or for a heap word,
//! right after the first heap store (as if the store had written a wrong value).

use std::sync::LazyLock;

use zksync_multivm::vm_fast::{self, interface as vm2, FastValidationTracer};
use zksync_types::U256;
use zksync_vm_interface::storage::ImmutableStorageView;

use crate::engine::{
    vm_fast::{completed, run_stepping, store_offset, StepRecorder},
    Engine, Observe, Observed,
};
use crate::{
    batch::Batch,
    world::{is_generated_contract, World, WorldStorage},
};

/// What a [`StepFault`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepFault {
    /// r2's lowest bit flipped.
    Register,
    /// r1's pointer tag cleared (r1 holds the calldata pointer when a contract starts).
    PointerTag,
    /// The equal flag flipped.
    Flag,
    /// One erg taken from the frame.
    Ergs,
    /// The lowest bit of the word that the first `UMA(HeapWrite)` stored flipped.
    HeapWord,
    /// The `Nop` fails: the frame's pc is sent out of the program, to vm2's invalid
    /// instruction, which panics (as an instruction that ran out of ergs does).
    Failure,
}

impl StepFault {
    pub const ALL: [StepFault; 6] = [
        StepFault::Register,
        StepFault::PointerTag,
        StepFault::Flag,
        StepFault::Ergs,
        StepFault::HeapWord,
        StepFault::Failure,
    ];

    /// Name used in engine names (`vm_fast+step_fault:<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::PointerTag => "pointer_tag",
            Self::Flag => "flag",
            Self::Ergs => "ergs",
            Self::HeapWord => "heap_word",
            Self::Failure => "failure",
        }
    }

    /// The instruction after which the fault strikes.
    fn after(self) -> vm2::Opcode {
        match self {
            Self::HeapWord => vm2::Opcode::HeapWrite,
            _ => vm2::Opcode::Nop,
        }
    }

    /// Perturbs `state` after the instruction; `store` is the offset a heap store wrote to.
    fn perturb<S: vm2::StateInterface>(self, state: &mut S, store: Option<u32>) {
        use vm2::CallframeInterface;
        match self {
            Self::Register => {
                let (value, pointer) = state.read_register(2);
                state.set_register(2, value ^ U256::one(), pointer);
            }
            Self::PointerTag => {
                let (value, _) = state.read_register(1);
                state.set_register(1, value, false);
            }
            Self::Flag => {
                let flags = state.flags();
                state.set_flags(vm2::Flags {
                    equal: !flags.equal,
                    ..flags
                });
            }
            Self::Ergs => {
                let mut frame = state.current_frame();
                let gas = frame.gas();
                frame.set_gas(gas.saturating_sub(1));
            }
            Self::HeapWord => {
                let offset = store.expect("a heap store has an offset");
                let heap = state.current_frame().heap();
                let word = state.read_heap_u256(heap, offset);
                state.write_heap_u256(heap, offset, word ^ U256::one());
            }
            Self::Failure => state.current_frame().set_program_counter(u16::MAX),
        }
    }
}

/// Perturbs the state once per transaction, after the first instruction of the fault's kind
/// ([`StepFault::after`]) that completes in generated code.
#[derive(Debug, Default)]
pub struct StepFaultTracer<const FAULT: usize> {
    fired: bool,
    /// The offset the heap store being executed writes to.
    store: Option<u32>,
}

impl<const FAULT: usize> StepFaultTracer<FAULT> {
    const FAULT: StepFault = StepFault::ALL[FAULT];
}

impl<const FAULT: usize> vm2::Tracer for StepFaultTracer<FAULT> {
    fn before_instruction<OP: vm2::OpcodeType, S: vm2::GlobalStateInterface>(
        &mut self,
        state: &mut S,
    ) {
        if !self.fired && OP::VALUE == Self::FAULT.after() {
            self.store = store_offset::<OP, _>(state);
        }
    }

    fn after_instruction<OP: vm2::OpcodeType, S: vm2::GlobalStateInterface>(
        &mut self,
        state: &mut S,
    ) -> vm2::ShouldStop {
        use vm2::CallframeInterface;
        if self.fired
            || OP::VALUE != Self::FAULT.after()
            || !completed(state)
            || !is_generated_contract(&state.current_frame().code_address())
        {
            return vm2::ShouldStop::Continue;
        }
        self.fired = true;
        Self::FAULT.perturb(state, self.store.take());
        vm2::ShouldStop::Continue
    }
}

type Faulty<const FAULT: usize> =
    vm_fast::Vm<ImmutableStorageView<WorldStorage>, (StepFaultTracer<FAULT>, StepRecorder)>;

/// `vm_fast` with one kind of fault injected into execution, named `vm_fast+step_fault:<kind>`.
pub struct StepFaultyVmFast(pub StepFault);

impl StepFaultyVmFast {
    pub const PREFIX: &'static str = "vm_fast+step_fault:";

    /// The engine called `name`, e.g. `vm_fast+step_fault:flag`.
    pub fn by_name(name: &str) -> Option<Self> {
        let fault = name.strip_prefix(Self::PREFIX)?;
        StepFault::ALL
            .into_iter()
            .find(|f| f.name() == fault)
            .map(Self)
    }
}

impl Engine for StepFaultyVmFast {
    fn name(&self) -> &str {
        static NAMES: LazyLock<[String; StepFault::ALL.len()]> = LazyLock::new(|| {
            StepFault::ALL.map(|fault| format!("{}{}", StepFaultyVmFast::PREFIX, fault.name()))
        });
        &NAMES[self.0 as usize]
    }

    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        fn run<const FAULT: usize>(world: &World, batch: &Batch, observe: &Observe) -> Observed {
            run_stepping::<Faulty<FAULT>>(world, batch, observe, |recorder| {
                (
                    (StepFaultTracer::default(), recorder),
                    FastValidationTracer::default(),
                )
            })
        }
        use StepFault::*;
        match self.0 {
            Register => run::<{ Register as usize }>(world, batch, observe),
            PointerTag => run::<{ PointerTag as usize }>(world, batch, observe),
            Flag => run::<{ Flag as usize }>(world, batch, observe),
            Ergs => run::<{ Ergs as usize }>(world, batch, observe),
            HeapWord => run::<{ HeapWord as usize }>(world, batch, observe),
            Failure => run::<{ Failure as usize }>(world, batch, observe),
        }
    }
}
