//! A fault that shows only under a rare condition, to measure how fast fuzzing finds one: the
//! new VM's `gas_refunded` is off by one, but only in a transaction that wrote transient storage
//! and later reverted from a near call.

use zksync_multivm::vm_fast::{self, interface as vm2, FastValidationTracer};
use zksync_vm_interface::{storage::ImmutableStorageView, VmExecutionResultAndLogs, VmInterface};

use super::hook::{Hook, Hooked};
use crate::engine::{
    vm_fast::{run_stepping, StepRecorder},
    Engine, Observe, Observed,
};
use crate::{
    batch::Batch,
    world::{World, WorldStorage},
};

/// Watches one transaction for a transient-storage write followed by a near-call revert.
#[derive(Debug, Default)]
pub struct TransientWriteThenNearRevert {
    wrote_transient: bool,
    fired: bool,
}

impl vm2::Tracer for TransientWriteThenNearRevert {
    fn before_instruction<OP: vm2::OpcodeType, S: vm2::GlobalStateInterface>(
        &mut self,
        state: &mut S,
    ) {
        use vm2::{Opcode, ReturnType};
        match OP::VALUE {
            Opcode::TransientStorageWrite => self.wrote_transient = true,
            Opcode::Ret(ReturnType::Revert) if self.wrote_transient => {
                use vm2::CallframeInterface;
                if state.current_frame().is_near_call() {
                    self.fired = true;
                }
            }
            _ => {}
        }
    }
}

type Traced =
    vm_fast::Vm<ImmutableStorageView<WorldStorage>, (TransientWriteThenNearRevert, StepRecorder)>;

/// Shifts the refund of a transaction in which the tracer saw the condition.
#[derive(Debug, Default)]
pub struct RareRefundHook;

impl Hook<Traced> for RareRefundHook {
    fn after_transaction(
        &mut self,
        ((watcher, _), _): &<Traced as VmInterface>::TracerDispatcher,
        result: &mut VmExecutionResultAndLogs,
    ) {
        if watcher.fired {
            result.refunds.gas_refunded += 1;
        }
    }
}

/// `vm_fast` whose refund is off by one after a transient write and a near-call revert.
pub type RareRefundVm = Hooked<Traced, RareRefundHook>;

/// The engine `vm_fast+fault:rare_refund`.
pub struct RareRefundVmFast;

impl RareRefundVmFast {
    pub const NAME: &'static str = "vm_fast+fault:rare_refund";
}

impl Engine for RareRefundVmFast {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        run_stepping::<RareRefundVm>(world, batch, observe, |recorder| {
            (
                (TransientWriteThenNearRevert::default(), recorder),
                FastValidationTracer::default(),
            )
        })
    }
}
