//! The new VM with one injected fault at a time: each class of output is reported under its own
//! field path, where the outcomes first part ways, with a fingerprint of its own.

use std::{collections::HashSet, path::Path};

use eravm_diff::{
    batch_file::load_batch_file,
    divergence::{compare, FirstDivergence},
    engine::{Engine, Fault, FaultyVmFast, VmLatest},
    world::default_world,
};

/// A vector whose first transaction writes storage, emits events and a user L2->L1 log.
const VECTOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/events_logs_messages.yaml"
);

fn expected_site(fault: Fault) -> (FirstDivergence, &'static str) {
    let tx = FirstDivergence::Transaction(0);
    match fault {
        Fault::Result => (tx, "transactions[0].execution.result.output"),
        Fault::StorageWrite => (tx, "transactions[0].execution.storage_writes["),
        Fault::Event => (tx, "transactions[0].execution.events[0].data"),
        Fault::L2ToL1Log => (tx, "transactions[0].execution.user_l2_to_l1_logs[0].value"),
        Fault::Refund => (tx, "transactions[0].execution.refunds.gas_refunded"),
        // The last byte is a repeated write's operand: named as such, pubdata being decoded.
        Fault::PubdataBytes => (
            FirstDivergence::FinishBatch,
            "batch.pubdata_input.state_diffs.repeated[",
        ),
        Fault::StateDiff => (FirstDivergence::FinishBatch, "batch.state_diffs["),
        Fault::BootloaderMemory => (FirstDivergence::FinishBatch, "batch.bootloader_memory["),
    }
}

#[test]
fn each_fault_class_is_reported_at_its_path_with_a_distinct_fingerprint() {
    let prepared = load_batch_file(Path::new(VECTOR))
        .unwrap()
        .prepare(&default_world())
        .unwrap();
    let reference = VmLatest.run(&prepared.world, &prepared.batch);
    assert_eq!(reference.panic, None);

    let mut fingerprints = HashSet::new();
    for fault in Fault::ALL {
        let candidate = FaultyVmFast(fault).run(&prepared.world, &prepared.batch);
        let divergence = compare(&reference, &candidate)
            .unwrap_or_else(|| panic!("{fault:?}: the fault went unnoticed"));
        let (first, path) = expected_site(fault);
        assert_eq!(divergence.first, first, "{fault:?}");
        let difference = divergence
            .differences
            .iter()
            .find(|difference| difference.path.starts_with(path))
            .unwrap_or_else(|| {
                panic!(
                    "{fault:?}: no difference at {path}: {:#?}",
                    divergence.differences
                )
            });
        assert_ne!(difference.reference, difference.candidate, "{fault:?}");
        assert!(
            divergence.signature.iter().all(|line| !line.contains("0x")),
            "{fault:?}: fingerprints never include values: {:?}",
            divergence.signature
        );
        assert!(
            fingerprints.insert(divergence.fingerprint.clone()),
            "{fault:?}: fingerprint {} already seen",
            divergence.fingerprint
        );
    }
}
