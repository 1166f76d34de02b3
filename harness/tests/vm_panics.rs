//! A panic inside a VM is part of its outcome, never a crash of the harness.

use std::rc::Rc;

use eravm_diff::{
    batch::load_batch_file,
    divergence::{compare, FirstDivergence},
    engine::{run_vm, Engine, VmLatest, VmStorage},
    outcome::Stage,
    world::{default_world, WorldStorage},
};
use zksync_multivm::vm_fast;
use zksync_types::Transaction;
use zksync_vm_interface::{
    pubdata::PubdataBuilder,
    storage::{ImmutableStorageView, StoragePtr},
    BytecodeCompressionResult, FinishedL1Batch, InspectExecutionMode, L1BatchEnv, L2BlockEnv,
    PushTransactionResult, SystemEnv, VmExecutionResultAndLogs, VmFactory, VmInterface,
    VmInterfaceHistoryEnabled,
};

type Fast = vm_fast::Vm<ImmutableStorageView<WorldStorage>>;

/// vm_fast that panics when the batch is finished.
struct PanicsAtFinish(Fast);

impl VmFactory<VmStorage> for PanicsAtFinish {
    fn new(batch_env: L1BatchEnv, system_env: SystemEnv, storage: StoragePtr<VmStorage>) -> Self {
        Self(Fast::new(batch_env, system_env, storage))
    }
}

impl VmInterface for PanicsAtFinish {
    type TracerDispatcher = <Fast as VmInterface>::TracerDispatcher;

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
        self.0
            .inspect_transaction_with_bytecode_compression(tracer, tx, with_compression)
    }

    fn finish_batch(&mut self, _: Rc<dyn PubdataBuilder>) -> FinishedL1Batch {
        panic!("injected panic at batch end");
    }
}

impl VmInterfaceHistoryEnabled for PanicsAtFinish {
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

#[test]
fn a_vm_panic_becomes_a_diverging_outcome() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/storage_writes.yaml"
    );
    let prepared = load_batch_file(path.as_ref())
        .unwrap()
        .prepare(&default_world())
        .unwrap();
    let reference = VmLatest.run(&prepared.world, &prepared.batch);
    let candidate = run_vm::<PanicsAtFinish>(&prepared.world, &prepared.batch);

    let panic = candidate.panic.as_ref().expect("the panic is recorded");
    assert_eq!(panic.stage, Stage::FinishBatch);
    assert!(
        panic
            .message
            .starts_with("injected panic at batch end (at "),
        "{}",
        panic.message
    );
    assert!(candidate.batch.is_none());
    assert_eq!(
        candidate.transactions, reference.transactions,
        "transactions before the panic are kept"
    );

    let divergence = compare(&reference, &candidate).expect("a panic on one side diverges");
    assert_eq!(
        divergence.first,
        FirstDivergence::Panic {
            stage: Stage::FinishBatch
        }
    );
    assert!(divergence
        .signature
        .iter()
        .any(|line| line.contains("vm_panics.rs")));
    assert!(divergence.differences.iter().any(|d| d.path == "panic"));
}
