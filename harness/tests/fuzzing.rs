//! The fuzzing loop and the fuzz-target bodies.

use std::panic;

use eravm_diff::{
    drive::{
        fuzz::{fuzz, run_sample, FuzzOptions},
        libfuzzer, Budget, Search,
    },
    engine::{Fault, FaultyVmFast, RareRefundVmFast, VmFast, VmLatest},
    findings::KnownDivergences,
    generate::{
        seeded::{sample_input, seeded_bytes},
        GeneratorConfig,
    },
    pipeline::Differential,
    world::default_world,
};
use tempfile::TempDir;

/// `samples` samples of seed 1 on 2 jobs, findings written to `findings`.
fn fuzz_seed_1(
    differential: &Differential,
    generator: &GeneratorConfig,
    samples: u64,
    findings: &std::path::Path,
) -> eravm_diff::drive::fuzz::FuzzSummary {
    let options = FuzzOptions {
        search: Search {
            differential,
            known: &KnownDivergences::default(),
            generator,
            budget: Budget {
                seed: 1,
                duration: None,
                samples: Some(samples),
                jobs: 2,
            },
        },
        findings,
    };
    fuzz(&options, &|_, _| {}).unwrap()
}

/// The fault fires only in a transaction that wrote transient storage and then reverted from a
/// near call; a short, fixed-seed run must find it and write it as a finding (seed 1 first shows
/// it at sample 87).
#[test]
fn fuzzing_finds_the_rare_refund_fault() {
    let world = default_world();
    let generator = GeneratorConfig::for_world(&world);
    let findings = TempDir::new().unwrap();
    let differential = Differential::new(world, VmLatest, RareRefundVmFast);
    let summary = fuzz_seed_1(&differential, &generator, 96, findings.path());
    assert_eq!(summary.executions, 96);
    let refund = summary
        .findings
        .iter()
        .find(|finding| {
            finding.disagreement.divergence.as_ref().unwrap().signature
                == ["transactions[*].execution.refunds.gas_refunded: value"]
        })
        .unwrap_or_else(|| panic!("not found; findings: {:#?}", summary.findings));
    let saved = std::fs::read_to_string(&refund.path).unwrap();
    assert!(
        saved.contains(refund.disagreement.key()),
        "the finding names its fingerprint"
    );
    assert!(
        saved.contains(&refund.disagreement.cause.as_ref().unwrap().fingerprint),
        "the finding names its cause"
    );
    let replayed = eravm_diff::batch_file::parse_batch_file("finding", &saved).unwrap();
    assert!(!replayed.contracts.is_empty());
}

/// Equal batches and divergences the vectors declare pass; an unexplained divergence (here a
/// planted fault) aborts with the report. The target reads its inputs as the default profile
/// does, its seeds first.
#[test]
fn diff_batch_aborts_only_on_unexplained_divergences() {
    let world = default_world();
    let generator = libfuzzer::diff_batch_generator();
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");
    let known = KnownDivergences::declared_in(vectors.as_ref()).unwrap();
    let differential = Differential::new(world.clone(), VmLatest, VmFast);
    let (mut equal, mut explained) = (None, None);
    for sample in 0..100 {
        match run_sample(&differential, generator, 3, sample) {
            None => equal = equal.or(Some(sample)),
            Some((_, found)) if known.explains(&found) => {
                explained = explained.or(Some(sample));
            }
            Some((_, found)) => panic!("sample {sample}: unexplained {}", found.key()),
        }
        if equal.is_some() && explained.is_some() {
            break;
        }
    }
    let input = |sample: Option<u64>| sample_input(generator, 3, sample.unwrap());
    let equal = input(equal);
    libfuzzer::diff_batch(&equal);
    libfuzzer::diff_batch(&input(explained));
    let faulty = Differential::new(world, VmLatest, FaultyVmFast(Fault::Refund));
    let nothing_known = KnownDivergences::default();
    let run = || libfuzzer::diff_batch_on(&equal, &faulty, &nothing_known, generator);
    let panic = panic::catch_unwind(panic::AssertUnwindSafe(run))
        .expect_err("an unexplained divergence aborts the target");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("unexplained divergence") && message.contains("gas_refunded"),
        "{message}"
    );
}

/// `corpora/diff_batch/` holds the target's seeds as the generator makes them now (so a change
/// to how the generator reads its bytes cannot leave them stale). `ERAVM_DIFF_WRITE_SEEDS=1`
/// rewrites them.
#[test]
fn diff_batch_corpus_holds_the_generator_seeds() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpora/diff_batch"
    ));
    let seeds = libfuzzer::diff_batch_generator().seeds();
    assert_eq!(seeds.len(), 42);
    let write = std::env::var_os("ERAVM_DIFF_WRITE_SEEDS").is_some();
    if write {
        for seed in &seeds {
            eravm_diff::support::files::write_atomic(&dir.join(&seed.name), &seed.input).unwrap();
        }
    }
    let mut stale = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("zk_evm-") && !seeds.iter().any(|seed| seed.name == name) {
            match write {
                true => std::fs::remove_file(&path).unwrap(),
                false => stale.push(name),
            }
        }
    }
    for seed in &seeds {
        if std::fs::read(dir.join(&seed.name)).ok().as_ref() != Some(&seed.input) {
            stale.push(seed.name.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "corpora/diff_batch/ is not what the generator's seeds are ({stale:?}): \
         rewrite with ERAVM_DIFF_WRITE_SEEDS=1 cargo test -p eravm-diff --test fuzzing"
    );
}

#[test]
fn load_inputs_never_panics() {
    let vector = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/far_calls.yaml"
    ))
    .unwrap();
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"blocks: [".to_vec(),
        b"{\"l1_batch_env\": 5}".to_vec(),
        b"    .text\nmain:\n    add r1, r2, r3 \n".to_vec(),
        b"    .text\nmain:\n    log.sread.first r1, r0, r2\n".to_vec(),
        vector[..vector.len() / 3].to_vec(),
        vector.clone(),
        vec![0xff, 0xfe, 0x00],
    ];
    for input in inputs {
        libfuzzer::load_inputs(&input);
    }
    for sample in 0..64 {
        libfuzzer::load_inputs(&seeded_bytes(9, sample, 512));
    }
}

#[test]
fn diff_dump_runs_mutated_dumps() {
    for sample in 0..8 {
        let result = panic::catch_unwind(|| libfuzzer::diff_dump(&seeded_bytes(5, sample, 1024)));
        if let Err(panic) = result {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                message.contains("unexplained divergence"),
                "harness crash: {message}"
            );
        }
    }
}

/// A data-availability violation is a finding even when the engines agree: here both engines
/// report a state-diff record that their pubdata does not publish.
#[test]
fn da_violations_are_findings_even_when_the_engines_agree() {
    let world = default_world();
    let generator = GeneratorConfig::for_world(&world);
    let findings = TempDir::new().unwrap();
    let faulty = || FaultyVmFast(Fault::StateDiff);
    let differential = Differential::new(world, faulty(), faulty());
    let summary = fuzz_seed_1(&differential, &generator, 4, findings.path());
    let [finding] = &summary.findings[..] else {
        panic!("one finding: {:#?}", summary.findings)
    };
    let disagreement = &finding.disagreement;
    assert!(disagreement.divergence.is_none(), "the engines agree");
    assert!(
        disagreement.key().starts_with("da-"),
        "{}",
        disagreement.key()
    );
    assert_eq!(disagreement.first(), "oracle:da");
    let roles: Vec<_> = (disagreement.da.as_ref().unwrap().violations.iter())
        .map(|(role, violation)| (*role, violation.pattern()))
        .collect();
    assert_eq!(roles[0].0, "reference");
    assert_eq!(roles[1].0, "candidate");
    assert!(roles[0].1.starts_with("state_diffs."), "{roles:?}");
    let saved = std::fs::read_to_string(&finding.path).unwrap();
    assert!(saved.contains("Data-availability violation da-"), "{saved}");
}
