//! Golden outputs: the reference VM's canonical outcome for every regression vector, as YAML
//! (hex for bytes, decoded revert and halt reasons), in insta snapshots under
//! tests/snapshots/. After a dependency upgrade, `cargo insta review` shows every behaviour
//! change; `INSTA_UPDATE=always cargo test --test golden` rewrites them.

use std::path::{Path, PathBuf};

use eravm_diff::{
    engine::{Engine, VmLatest},
    outcome::Outcome,
    spec::{batch_files_in, load_batch_file},
    world::default_world,
};

fn vectors() -> Vec<PathBuf> {
    batch_files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")).unwrap()
}

fn reference_outcome(path: &Path) -> Outcome {
    let prepared = load_batch_file(path)
        .unwrap()
        .prepare(&default_world())
        .unwrap();
    VmLatest.run(&prepared.world, &prepared.batch)
}

/// The snapshot body: the outcome as YAML, headed by its digest.
fn golden(outcome: &Outcome) -> String {
    format!(
        "# vm_latest outcome, canonical digest {}\n{}",
        outcome.digest(),
        serde_yaml::to_string(outcome).unwrap()
    )
}

fn snapshot_name(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_owned()
}

#[test]
fn reference_outcomes_match_golden_snapshots() {
    for path in vectors() {
        let outcome = reference_outcome(&path);
        insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(snapshot_name(&path), golden(&outcome));
        });
    }
}

/// One changed byte in a reference outcome changes exactly one line of its snapshot, the line
/// that names the value: the snapshot test fails with a one-line diff.
#[test]
fn a_changed_byte_is_a_one_line_snapshot_diff() {
    let path = vectors()
        .into_iter()
        .find(|path| snapshot_name(path) == "storage_writes")
        .unwrap();
    let stored = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("{}.snap", snapshot_name(&path))),
    )
    .expect("the golden snapshot exists");
    let body = stored.splitn(3, "---\n").nth(2).expect("an insta header");

    let mut outcome = reference_outcome(&path);
    assert_eq!(
        body.trim_end(),
        golden(&outcome).trim_end(),
        "the snapshot is current"
    );
    let write = &mut outcome.transactions[0].execution.storage_writes[0];
    write.after.0[31] ^= 1;
    let changed = golden(&outcome);

    let diff = similar::TextDiff::from_lines(body, changed.as_str());
    let changes: Vec<String> = diff
        .iter_all_changes()
        .filter(|change| change.tag() != similar::ChangeTag::Equal)
        .map(|change| format!("{}{}", change.tag(), change.value().trim_end()))
        .collect();
    // The digest line and the changed value: nothing else moves.
    assert_eq!(changes.len(), 4, "{changes:#?}");
    assert!(changes
        .iter()
        .any(|line| line.starts_with("-# vm_latest outcome")));
    assert!(
        changes
            .iter()
            .any(|line| line.starts_with("+") && line.contains("after:")),
        "{changes:#?}"
    );
}
