//! A VM whose reports pass through a hook: the way to observe or alter what any
//! `VmInterface` implementation reports (fault injection, extra tracing) without re-implementing
//! the interface.

use std::rc::Rc;

use zksync_types::Transaction;
use zksync_vm_interface::{
    pubdata::PubdataBuilder, storage::StoragePtr, BytecodeCompressionResult, FinishedL1Batch,
    InspectExecutionMode, L1BatchEnv, L2BlockEnv, PushTransactionResult, SystemEnv,
    VmExecutionResultAndLogs, VmFactory, VmInterface, VmInterfaceHistoryEnabled,
};

use crate::engine::VmStorage;

/// What a [`Hooked`] VM does with the reports of the VM it wraps.
pub trait Hook<V: VmInterface>: Default {
    /// After each execution step (a transaction), with the tracers it ran with.
    fn after_transaction(
        &mut self,
        tracer: &V::TracerDispatcher,
        result: &mut VmExecutionResultAndLogs,
    ) {
        let _ = (tracer, result);
    }

    /// After the batch is finished.
    fn after_batch(&mut self, batch: &mut FinishedL1Batch) {
        let _ = batch;
    }
}

/// VM `V` with hook `H`; an engine like any other (`run_vm::<Hooked<V, H>>`).
#[derive(Debug)]
pub struct Hooked<V, H> {
    inner: V,
    hook: H,
}

impl<V: VmFactory<VmStorage>, H: Hook<V>> VmFactory<VmStorage> for Hooked<V, H> {
    fn new(batch_env: L1BatchEnv, system_env: SystemEnv, storage: StoragePtr<VmStorage>) -> Self {
        Self {
            inner: V::new(batch_env, system_env, storage),
            hook: H::default(),
        }
    }
}

impl<V: VmInterface, H: Hook<V>> VmInterface for Hooked<V, H> {
    type TracerDispatcher = V::TracerDispatcher;

    fn push_transaction(&mut self, tx: Transaction) -> PushTransactionResult<'_> {
        self.inner.push_transaction(tx)
    }

    fn inspect(
        &mut self,
        dispatcher: &mut Self::TracerDispatcher,
        execution_mode: InspectExecutionMode,
    ) -> VmExecutionResultAndLogs {
        let mut result = self.inner.inspect(dispatcher, execution_mode);
        self.hook.after_transaction(dispatcher, &mut result);
        result
    }

    fn start_new_l2_block(&mut self, l2_block_env: L2BlockEnv) {
        self.inner.start_new_l2_block(l2_block_env);
    }

    fn inspect_transaction_with_bytecode_compression(
        &mut self,
        tracer: &mut Self::TracerDispatcher,
        tx: Transaction,
        with_compression: bool,
    ) -> (BytecodeCompressionResult<'_>, VmExecutionResultAndLogs) {
        let Self { inner, hook } = self;
        let (compression, mut result) =
            inner.inspect_transaction_with_bytecode_compression(tracer, tx, with_compression);
        hook.after_transaction(tracer, &mut result);
        (compression, result)
    }

    fn finish_batch(&mut self, pubdata_builder: Rc<dyn PubdataBuilder>) -> FinishedL1Batch {
        let mut batch = self.inner.finish_batch(pubdata_builder);
        self.hook.after_batch(&mut batch);
        batch
    }
}

impl<V: VmInterfaceHistoryEnabled, H: Hook<V>> VmInterfaceHistoryEnabled for Hooked<V, H> {
    fn make_snapshot(&mut self) {
        self.inner.make_snapshot();
    }

    fn rollback_to_the_latest_snapshot(&mut self) {
        self.inner.rollback_to_the_latest_snapshot();
    }

    fn pop_snapshot_no_rollback(&mut self) {
        self.inner.pop_snapshot_no_rollback();
    }

    fn pop_front_snapshot_no_rollback(&mut self) {
        self.inner.pop_front_snapshot_no_rollback();
    }
}
