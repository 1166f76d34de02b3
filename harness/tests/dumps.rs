//! Replaying the real VM dumps shipped in the zksync_multivm package.

use eravm_diff::{
    engine::{VmFast, VmLatest},
    outcome::ExecResult,
    pipeline::{Differential, RunOptions},
    world::{embedded_dump_path, load_dump},
};

#[test]
fn estimate_fee_dump_replays_equal_and_seals_the_batch() {
    let dump = load_dump(&embedded_dump_path(
        "estimate_fee_for_transfer_to_self.json",
    ))
    .unwrap();
    let differential = Differential::new(dump.world.clone(), VmLatest, VmFast);
    let comparison = differential.run(&dump.world, &dump.batch, &RunOptions::default());
    assert_eq!(comparison.divergence, None);
    let outcome = &comparison.reference.outcome;
    assert_eq!(outcome.panic, None);
    assert_eq!(outcome.transactions.len(), 1);
    let batch = outcome.batch.as_ref().expect("the batch was finished");
    assert!(matches!(batch.block_tip.result, ExecResult::Success { .. }));
    assert!(!batch.pubdata_input.as_ref().unwrap().0.is_empty());
}

#[test]
fn validation_adjacent_storage_slots_dump_runs_to_the_end() {
    let dump = load_dump(&embedded_dump_path(
        "validation_adjacent_storage_slots.json",
    ))
    .unwrap();
    let differential = Differential::new(dump.world.clone(), VmLatest, VmFast);
    let comparison = differential.run(&dump.world, &dump.batch, &RunOptions::default());
    for run in [&comparison.reference, &comparison.candidate] {
        assert_eq!(run.outcome.panic, None, "{}", run.engine);
        assert_eq!(
            run.outcome.transactions.len(),
            dump.batch.transaction_count()
        );
        assert!(
            run.outcome.batch.is_some(),
            "{} finished the batch",
            run.engine
        );
    }
}
