//! Chains of L1 batches in batch files: each batch runs in the world the one before left
//! behind, the engines are compared batch by batch, and a chain stops at the first batch they
//! disagree on.

use std::path::Path;

use eravm_diff::{
    batch_file::{load_batch_file, parse_batch_file},
    chain::chain_outcomes,
    engine::{StepFault, StepFaultyVmFast, VmFast, VmLatest},
    pipeline::{Differential, RunOptions},
    world::default_world,
};

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/chain_three_batches.yaml"
);

#[test]
fn a_chain_runs_batch_after_batch_while_the_engines_agree() {
    let file = load_batch_file(Path::new(CHAIN)).unwrap();
    let differential = Differential::new(default_world(), VmLatest, VmFast);
    let comparison = differential
        .run_file(&file, &RunOptions::CONCURRENT)
        .unwrap();
    assert!(comparison.divergence.is_none() && comparison.da.is_none());
    let chain = &comparison.chain;
    assert_eq!(
        (chain.batch, chain.batches, chain.stopped.as_ref()),
        (2, 3, None)
    );

    // The pipeline's batches are those of the reference running the chain alone.
    let prepared = file.prepare(&default_world()).unwrap();
    let (runs, stopped) = chain_outcomes(&VmLatest, &prepared);
    assert_eq!(stopped, None);
    let digests: Vec<String> = (runs.iter())
        .map(|(_, _, outcome)| outcome.digest())
        .collect();
    let mut compared: Vec<String> = chain
        .earlier
        .iter()
        .map(|outcome| outcome.digest())
        .collect();
    compared.push(comparison.reference.outcome.digest());
    assert_eq!(compared, digests);

    // Each batch follows the one before: the next L1 batch number, nonces that go on (batch 2's
    // transactions from key 1 are all included), and batch 0's writes numbered for batch 1.
    let numbers: Vec<u32> = (runs.iter())
        .map(|(world, _, _)| world.l1_batch_env.number.0)
        .collect();
    assert_eq!(numbers, [numbers[0], numbers[0] + 1, numbers[0] + 2]);
    for (index, (_, _, outcome)) in runs.iter().enumerate() {
        let included = outcome.transactions.iter().all(|tx| tx.included);
        assert!(included, "batches[{index}]: every transaction is included");
    }
    let writer_slot_1 = zksync_types::StorageKey::new(
        zksync_types::AccountTreeId::new(
            "0xc0de000000000000000000000000000000000001"
                .parse()
                .unwrap(),
        ),
        zksync_types::H256::from_low_u64_be(1),
    );
    let numbered = |index: usize| runs[index].0.storage.slot(&writer_slot_1);
    assert!(numbered(0).is_none(), "slot 1 is new in batch 0");
    assert!(
        numbered(1).is_some_and(|slot| slot.enumeration_index.is_some()),
        "batch 1 finds slot 1 numbered: {:?}",
        numbered(1)
    );
}

/// Batch 0 runs no generated code (the step fault stays quiet); batch 1 calls a contract whose
/// first instruction is a `nop`, after which the fault flips r2, which it stores.
#[test]
fn a_chain_stops_at_the_first_batch_the_engines_disagree_on() {
    let file = parse_batch_file(
        "two-batch chain",
        r#"
balances:
  - {account: 1, amount: "1000000000000000000"}
contracts:
  - address: "0xc0de000000000000000000000000000000000002"
    assembly: |
      .text
      __entry:
          nop
          add 1, r0, r4
          sstore r4, r2
          ret.ok r0
batches:
  - blocks:
      - transactions:
          - l2: {from: 1, to: 2, value: "1000", gas_limit: 2000000}
  - blocks:
      - transactions:
          - l2: {from: 1, to: "0xc0de000000000000000000000000000000000002", gas_limit: 2000000}
  - blocks:
      - transactions:
          - l2: {from: 1, to: 2, value: "1000", gas_limit: 2000000}
"#,
    )
    .unwrap();
    let faulty = StepFaultyVmFast(StepFault::Register);
    let differential = Differential::new(default_world(), VmLatest, faulty);
    let comparison = differential
        .run_file(&file, &RunOptions::CONCURRENT)
        .unwrap();
    let chain = &comparison.chain;
    assert_eq!((chain.batch, chain.batches, chain.earlier.len()), (1, 3, 1));
    let divergence = comparison.divergence.expect("batch 1 diverges");
    assert!(
        (divergence.differences.iter()).any(|d| d.path.contains("storage_writes")),
        "{:#?}",
        divergence.differences
    );
}
