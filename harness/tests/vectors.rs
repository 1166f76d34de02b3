//! Every regression vector shows the outcome its file expects: equality, or exactly the declared
//! divergence (a known divergence can only change deliberately). Vectors expected to be equal
//! also seal their batch on both VMs with a successful block tip, pubdata and state diffs.

use std::path::PathBuf;

use eravm_diff::{
    engine::{VmFast, VmLatest},
    outcome::ExecResult,
    pipeline::{Differential, RunOptions},
    spec::{batch_files_in, load_batch_file, Expectation},
    world::default_world,
};

fn vector_files() -> Vec<PathBuf> {
    batch_files_in(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors")).unwrap()
}

#[test]
fn vectors_show_their_expected_outcomes() {
    let files = vector_files();
    assert!(
        files.len() >= 6,
        "at least six vectors, found {}",
        files.len()
    );
    let differential = Differential::new(default_world(), VmLatest, VmFast);
    let mut failures = vec![];
    for path in &files {
        let file = load_batch_file(path).unwrap();
        let comparison = differential
            .run_file(&file, &RunOptions::default())
            .unwrap();
        let expect = file.expect.as_ref().unwrap_or(&Expectation::Equal);
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
        let found = comparison
            .divergence
            .as_ref()
            .map(|d| d.fingerprint.as_str());
        match (expect, found) {
            (Expectation::Equal, None) => {}
            (Expectation::Divergence { fingerprint, .. }, Some(found)) if fingerprint == found => {}
            (expected, found) => failures.push(format!(
                "{}: expected {expected:?}, found {found:?}",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
