//! Minimizing divergences into regression vectors.

use std::{process::Command, sync::OnceLock};

use eravm_diff::{
    batch_file::load_batch_file,
    drive::minimize::{instruction_count, Minimizer, Size},
    engine::{RareRefundVmFast, VmLatest},
    generate::{
        seeded::{sample_batch, seeded_bytes, INPUT_LEN},
        GeneratorConfig,
    },
    pipeline::{Differential, RunOptions},
    world::default_world,
};
use tempfile::TempDir;

const SEED: u64 = 11;

/// The first sample of seed 11 that is a batch of at least 20 transactions in which the planted
/// fault shows (a transaction writes transient storage and then reverts from a near call, where
/// the fault shifts the refund). Searched for rather than written down, so that the tests keep
/// their meaning when the generator changes.
fn planted_sample() -> u64 {
    static SAMPLE: OnceLock<u64> = OnceLock::new();
    *SAMPLE.get_or_init(|| {
        let world = default_world();
        let config = GeneratorConfig::for_world(&world);
        let differential = Differential::new(world, VmLatest, RareRefundVmFast);
        (0..2000)
            .find(|&sample| {
                let file = sample_batch(&config, SEED, sample);
                Size::of(&file).transactions >= 20
                    && (differential
                        .run_file(&file, &RunOptions::default())
                        .unwrap())
                    .divergence
                    .is_some_and(|divergence| {
                        divergence.signature
                            == ["transactions[*].execution.refunds.gas_refunded: value"]
                    })
            })
            .expect("2000 samples of seed 11 hold a large batch that shows the planted fault")
    })
}

#[test]
fn planted_fault_minimizes_to_two_transactions_and_ten_instructions() {
    let world = default_world();
    let file = sample_batch(&GeneratorConfig::for_world(&world), SEED, planted_sample());
    assert!(Size::of(&file).transactions >= 20, "{}", Size::of(&file));
    let differential = Differential::new(world, VmLatest, RareRefundVmFast);
    let comparison = differential
        .run_file(&file, &RunOptions::default())
        .unwrap();
    let divergence = comparison.divergence.as_ref().expect("the fault shows");
    assert_eq!(
        divergence.signature,
        ["transactions[*].execution.refunds.gas_refunded: value"]
    );

    let minimizer = Minimizer {
        differential: &differential,
        key: comparison.key().expect("a cause").to_owned(),
        progress: &|_| {},
    };
    let minimized = minimizer.minimize(&file);
    assert!(minimized.after.transactions <= 2, "{}", minimized.after);
    for contract in &minimized.file.contracts {
        let instructions = instruction_count(contract.assembly.as_deref().unwrap());
        assert!(instructions <= 10, "{instructions} instructions left");
    }
    assert!(
        minimizer.reproduces(&minimized.file),
        "the same fingerprint remains"
    );
}

#[test]
fn a_libfuzzer_input_becomes_a_vector_with_one_command() {
    let dir = TempDir::new().unwrap();
    let crash = dir.path().join("crash-0123");
    let sample = planted_sample();
    std::fs::write(&crash, seeded_bytes(SEED, sample, INPUT_LEN)).unwrap();
    let world = default_world();
    let size = Size::of(&sample_batch(
        &GeneratorConfig::for_world(&world),
        SEED,
        sample,
    ));
    let vector = dir.path().join("vector.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_eravm-diff"))
        .args([
            "minimize",
            crash.to_str().unwrap(),
            "-o",
            vector.to_str().unwrap(),
        ])
        .args(["--candidate", "vm_fast+fault:rare_refund", "--jobs", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("before: {size}")), "{stdout}");
    let file = load_batch_file(&vector).unwrap();
    assert!(file
        .origin
        .unwrap()
        .starts_with("libFuzzer diff_batch input"));
    let description = file.description.unwrap();
    assert!(
        description.contains("Unexplained cause cause-") && description.contains("Symptom fp-"),
        "{description}"
    );
}

#[test]
fn minimizing_an_equal_batch_is_refused() {
    let dir = TempDir::new().unwrap();
    let vector = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/far_calls.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_eravm-diff"))
        .args([
            "minimize",
            vector,
            "-o",
            dir.path().join("out.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to minimize"));
}
