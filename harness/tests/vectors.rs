//! Every regression vector shows the outcome its file expects, in the default world and in
//! zksync-era's genesis world (../shared/real/genesis_export.bin): equality, or exactly the
//! declared cause (a known divergence can only change deliberately). Vectors expected to be
//! equal also seal their batch on both VMs with a successful block tip, pubdata and state diffs.
//! Causes and explanations correspond one to one.

use std::{collections::BTreeMap, path::PathBuf};

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file, Expectation},
    engine::{VmFast, VmLatest},
    outcome::ExecResult,
    pipeline::{Differential, RunOptions},
    world::{default_world, load_genesis, World, WorldKind},
};

fn vector_files() -> Vec<PathBuf> {
    batch_files_in(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors")).unwrap()
}

#[test]
fn vectors_show_their_expected_outcomes() {
    check_vectors(default_world(), WorldKind::Default);
}

/// The genesis world runs the proved-batch bootloader and the real L1Messenger, whose block tip
/// checks the operator's pubdata: every vector expected equal seals its batch there.
#[test]
fn vectors_show_their_expected_outcomes_in_the_genesis_world() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real/genesis_export.bin");
    assert!(
        path.is_file(),
        "{}: the third-party test data is missing",
        path.display()
    );
    check_vectors(load_genesis(&path).unwrap(), WorldKind::Genesis);
}

fn check_vectors(world: World, kind: WorldKind) {
    let files = vector_files();
    assert!(
        files.len() >= 6,
        "at least six vectors, found {}",
        files.len()
    );
    let differential = Differential::new(world, VmLatest, VmFast);
    let mut failures = vec![];
    for path in &files {
        let file = load_batch_file(path).unwrap();
        let declared = file.expectation_in(kind);
        let comparison = differential
            .run_file(&file, &RunOptions::checking(declared))
            .unwrap();
        let expect = declared.unwrap_or(&Expectation::Equal);
        let runs = match expect {
            Expectation::Equal => vec![&comparison.reference, &comparison.candidate],
            Expectation::Divergence { .. } => vec![],
        };
        for run in runs {
            let batch = run.outcome.batch.as_ref().unwrap_or_else(|| {
                panic!(
                    "{}: {} did not finish the batch: {:?}",
                    path.display(),
                    run.engine,
                    run.outcome.panic
                )
            });
            assert!(
                matches!(batch.block_tip.result, ExecResult::Success { .. }),
                "{}: {} block tip {:?}",
                path.display(),
                run.engine,
                batch.block_tip.result
            );
            assert!(
                !batch.pubdata_input.as_ref().unwrap().0.is_empty(),
                "{}",
                path.display()
            );
            assert!(
                !batch.state_diffs.as_ref().unwrap().is_empty(),
                "{}",
                path.display()
            );
        }
        // A divergence, or (for a vector declaring a cause) steps that differ.
        let differs = comparison.divergence.is_some() || comparison.explanation.is_some();
        let found = comparison.key().filter(|_| differs);
        match (expect, found) {
            (Expectation::Equal, None) => {}
            (Expectation::Divergence { key, .. }, Some(found)) if key == found => {}
            (expected, found) => failures.push(format!(
                "{}: expected {expected:?}, found {found:?}",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each known cause has one explanation, and each explanation one cause: two vectors that share
/// a `why` show the same cause, two vectors that show one cause share their `why`. Every vector
/// declares a cause, not a symptom.
#[test]
fn causes_and_explanations_correspond_one_to_one() {
    let mut by_cause: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
    let mut by_why: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
    for path in vector_files() {
        let Some(Expectation::Divergence { key, why }) = load_batch_file(&path).unwrap().expect
        else {
            continue;
        };
        assert!(
            key.starts_with("cause-"),
            "{}: declares {key}, not a cause",
            path.display()
        );
        by_cause
            .entry(key.clone())
            .or_default()
            .push((why.clone(), path.clone()));
        by_why.entry(why).or_default().push((key, path));
    }
    assert!(by_cause.len() >= 8, "{} causes", by_cause.len());
    for (cause, vectors) in &by_cause {
        assert!(
            vectors.iter().all(|(why, _)| *why == vectors[0].0),
            "{cause} has different explanations: {vectors:#?}"
        );
    }
    for (why, vectors) in &by_why {
        assert!(
            vectors.iter().all(|(cause, _)| *cause == vectors[0].0),
            "one explanation, different causes: {why}\n{vectors:#?}"
        );
    }
}
