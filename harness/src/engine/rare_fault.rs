//! A fault that shows only under a rare condition, to measure how fast fuzzing finds one: the
//! new VM's `gas_refunded` is off by one, but only in a transaction that wrote transient storage
//! and later reverted from a near call.

use std::rc::Rc;

use zksync_multivm::vm_fast::{self, interface as vm2};
use zksync_types::Transaction;
use zksync_vm_interface::{
    pubdata::PubdataBuilder,
    storage::{ImmutableStorageView, StoragePtr},
    BytecodeCompressionResult, FinishedL1Batch, InspectExecutionMode, L1BatchEnv, L2BlockEnv,
    PushTransactionResult, SystemEnv, VmExecutionResultAndLogs, VmFactory, VmInterface,
    VmInterfaceHistoryEnabled,
};

use super::{run_vm, Engine, VmStorage};
use crate::{
    batch::Batch,
    outcome::Outcome,
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

type Traced = vm_fast::Vm<ImmutableStorageView<WorldStorage>, TransientWriteThenNearRevert>;

/// `vm_fast` whose refund is off by one after a transient write and a near-call revert.
#[derive(Debug)]
pub struct RareRefundVm(Traced);

impl VmFactory<VmStorage> for RareRefundVm {
    fn new(batch_env: L1BatchEnv, system_env: SystemEnv, storage: StoragePtr<VmStorage>) -> Self {
        Self(Traced::new(batch_env, system_env, storage))
    }
}

impl VmInterface for RareRefundVm {
    type TracerDispatcher = <Traced as VmInterface>::TracerDispatcher;

    fn push_transaction(&mut self, tx: Transaction) -> PushTransactionResult<'_> {
        self.0.push_transaction(tx)
    }

    fn inspect(
        &mut self,
        dispatcher: &mut Self::TracerDispatcher,
        mode: InspectExecutionMode,
    ) -> VmExecutionResultAndLogs {
        self.0.inspect(dispatcher, mode)
    }

    fn start_new_l2_block(&mut self, env: L2BlockEnv) {
        self.0.start_new_l2_block(env);
    }

    fn inspect_transaction_with_bytecode_compression(
        &mut self,
        tracer: &mut Self::TracerDispatcher,
        tx: Transaction,
        with_compression: bool,
    ) -> (BytecodeCompressionResult<'_>, VmExecutionResultAndLogs) {
        let (compression, mut result) =
            self.0
                .inspect_transaction_with_bytecode_compression(tracer, tx, with_compression);
        if tracer.0.fired {
            result.refunds.gas_refunded += 1;
        }
        (compression, result)
    }

    fn finish_batch(&mut self, pubdata_builder: Rc<dyn PubdataBuilder>) -> FinishedL1Batch {
        self.0.finish_batch(pubdata_builder)
    }
}

impl VmInterfaceHistoryEnabled for RareRefundVm {
    fn make_snapshot(&mut self) {
        self.0.make_snapshot();
    }

    fn rollback_to_the_latest_snapshot(&mut self) {
        self.0.rollback_to_the_latest_snapshot();
    }

    fn pop_snapshot_no_rollback(&mut self) {
        self.0.pop_snapshot_no_rollback();
    }

    fn pop_front_snapshot_no_rollback(&mut self) {
        self.0.pop_front_snapshot_no_rollback();
    }
}

/// The engine `vm_fast+fault:rare_refund`.
pub struct RareRefundVmFast;

impl RareRefundVmFast {
    pub const NAME: &'static str = "vm_fast+fault:rare_refund";
}

impl Engine for RareRefundVmFast {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, world: &World, batch: &Batch) -> Outcome {
        run_vm::<RareRefundVm>(world, batch)
    }
}
