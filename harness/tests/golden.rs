//! Golden outputs: the reference VM's canonical outcome for every regression vector, as YAML
//! (hex for bytes, decoded revert and halt reasons), in insta snapshots under
//! tests/snapshots/. After a dependency upgrade, `cargo insta review` shows every behaviour
//! change; `INSTA_UPDATE=always cargo test --test golden` rewrites them.

use std::path::{Path, PathBuf};

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file},
    chain::chain_outcomes,
    engine::VmLatest,
    outcome::Outcome,
    world::default_world,
};

fn vectors() -> Vec<PathBuf> {
    batch_files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")).unwrap()
}

/// The reference's outcome of every L1 batch of the vector (one, unless it is a chain).
fn reference_outcomes(path: &Path) -> Vec<Outcome> {
    let prepared = load_batch_file(path)
        .unwrap()
        .prepare(&default_world())
        .unwrap();
    let (runs, stopped) = chain_outcomes(&VmLatest, &prepared);
    assert_eq!(stopped, None, "{}", path.display());
    runs.into_iter().map(|(_, _, outcome)| outcome).collect()
}

/// The snapshot body: each outcome as YAML, headed by its digest (and, in a chain, its batch).
fn golden(outcomes: &[Outcome]) -> String {
    let chained = outcomes.len() > 1;
    (outcomes.iter().enumerate())
        .map(|(index, outcome)| {
            format!(
                "# vm_latest outcome{}, canonical digest {}\n{}",
                if chained {
                    format!(" of batches[{index}]")
                } else {
                    String::new()
                },
                outcome.digest(),
                serde_yaml::to_string(outcome).unwrap()
            )
        })
        .collect()
}

fn snapshot_name(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_owned()
}

#[test]
fn reference_outcomes_match_golden_snapshots() {
    for path in vectors() {
        let outcomes = reference_outcomes(&path);
        insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(snapshot_name(&path), golden(&outcomes));
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

    let mut outcomes = reference_outcomes(&path);
    assert_eq!(
        body.trim_end(),
        golden(&outcomes).trim_end(),
        "the snapshot is current"
    );
    let write = &mut outcomes[0].transactions[0].execution.storage_writes[0];
    write.after.0[31] ^= 1;
    let changed = golden(&outcomes);

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
