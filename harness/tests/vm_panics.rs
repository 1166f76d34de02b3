//! A panic inside a VM is part of its outcome, never a crash of the harness.

use eravm_diff::{
    batch_file::load_batch_file,
    divergence::{compare, FirstDivergence},
    engine::{
        fault::{Hook, Hooked},
        run_vm, Engine, VmLatest,
    },
    outcome::Stage,
    world::{default_world, WorldStorage},
};
use zksync_multivm::vm_fast;
use zksync_vm_interface::{storage::ImmutableStorageView, FinishedL1Batch};

type Fast = vm_fast::Vm<ImmutableStorageView<WorldStorage>>;

/// Makes the wrapped VM panic when the batch is finished.
#[derive(Default)]
struct PanicAtFinish;

impl Hook<Fast> for PanicAtFinish {
    fn after_batch(&mut self, _: &mut FinishedL1Batch) {
        panic!("injected panic at batch end");
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
    let candidate = run_vm::<Hooked<Fast, PanicAtFinish>>(&prepared.world, &prepared.batch);

    let panic = candidate.panic.as_ref().expect("the panic is recorded");
    assert_eq!(panic.stage, Stage::FinishBatch);
    assert_eq!(panic.message, "injected panic at batch end");
    let location = panic.location.as_ref().expect("the panic has a location");
    assert_eq!(
        (location.krate.as_str(), location.file.as_str()),
        ("eravm-diff", "tests/vm_panics.rs")
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
