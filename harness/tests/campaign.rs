//! Campaigns: resuming gives exactly what an uninterrupted run gives; reports are written.

use std::path::Path;

use eravm_diff::{
    drive::{
        campaign::{self, CampaignOptions, CampaignState, EPOCH_SAMPLES},
        Budget, Search,
    },
    engine::{Fault, FaultyVmFast, VmLatest},
    findings::KnownDivergences,
    generate::{GeneratorConfig, Profile},
    pipeline::Differential,
    support::error::InputError,
    world::default_world,
};
use tempfile::TempDir;

/// Runs the campaign in `dir` (refund fault, `profile`) up to `samples` samples.
fn try_run(
    dir: &Path,
    seed: u64,
    profile: Profile,
    samples: u64,
) -> Result<CampaignState, InputError> {
    let world = default_world();
    let generator = GeneratorConfig {
        profile,
        ..GeneratorConfig::for_world(&world)
    };
    let differential = Differential::new(world, VmLatest, FaultyVmFast(Fault::Refund));
    let options = CampaignOptions {
        search: Search {
            differential: &differential,
            known: &KnownDivergences::default(),
            generator: &generator,
            budget: Budget {
                seed,
                duration: None,
                samples: Some(samples),
                jobs: 2,
            },
        },
        corpus: &dir.join("corpus"),
        findings: &dir.join("findings"),
        vm_output: None,
    };
    campaign::run(&options, &|_| {})
}

/// [`try_run`] with seed 3 and the default profile (`mixed`: its seeds are in the corpus).
fn run(dir: &Path, samples: u64) -> CampaignState {
    try_run(dir, 3, Profile::default(), samples).unwrap()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(['c', 'f'])
        })
        .filter(|path| !path.ends_with("campaign.json"))
        .map(|path| {
            (
                path.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_resumed_campaign_ends_as_an_uninterrupted_one() {
    let samples = 2 * EPOCH_SAMPLES;
    let whole = TempDir::new().unwrap();
    let expected = run(whole.path(), samples);
    assert_eq!(expected.executions, samples);
    assert!(!expected.findings.is_empty(), "the planted fault is found");
    assert!(expected.corpus_added > 0);

    let resumed = TempDir::new().unwrap();
    let first = run(resumed.path(), EPOCH_SAMPLES);
    assert_eq!(first.epoch, 1);
    // Leftovers of an epoch interrupted before its commit: an input it added and a finding it
    // wrote. Resuming must ignore the first and not report the second twice.
    std::fs::write(
        resumed.path().join("corpus/c3-e000001-s000000033-deadbeef"),
        b"partial",
    )
    .unwrap();
    let stray = resumed
        .path()
        .join("findings")
        .join(&expected.findings.last().unwrap().file);
    if !stray.exists() {
        std::fs::write(&stray, b"interrupted before the commit").unwrap();
    }
    let state = run(resumed.path(), samples);
    assert_eq!(state.runs, 2);
    std::fs::remove_file(resumed.path().join("corpus/c3-e000001-s000000033-deadbeef")).ok();

    let fingerprints = |state: &CampaignState| -> Vec<String> {
        state
            .findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect()
    };
    assert_eq!(
        fingerprints(&state),
        fingerprints(&expected),
        "same findings, each once"
    );
    assert_eq!(state.executions, expected.executions);
    assert_eq!(state.features, expected.features);
    assert_eq!(state.coverage, expected.coverage);
    assert_eq!(
        files(&resumed.path().join("corpus")),
        files(&whole.path().join("corpus"))
    );
    assert_eq!(
        files(&resumed.path().join("findings")),
        files(&whole.path().join("findings"))
    );
}

#[test]
fn reports_are_written_with_plots() {
    let dir = TempDir::new().unwrap();
    let state = run(dir.path(), EPOCH_SAMPLES);
    let findings = dir.path().join("findings");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(findings.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["executions"], state.executions);
    assert_eq!(json["summary"]["findings"], state.findings.len());
    let markdown = std::fs::read_to_string(findings.join("report.md")).unwrap();
    assert!(
        markdown.contains("| executions |") && markdown.contains(&state.findings[0].fingerprint)
    );
    let html = std::fs::read_to_string(findings.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "four plots");
    assert!(html.contains("Where the time went") && html.contains("Cumulative opcode coverage"));
}

#[test]
fn a_campaign_with_another_seed_or_profile_is_refused() {
    let dir = TempDir::new().unwrap();
    run(dir.path(), 1);
    let err = try_run(dir.path(), 4, Profile::Mixed, 1).unwrap_err();
    assert!(err.problem.contains("seed 3"), "{err}");
    // Its corpus is generator input, which another profile would read as other batches.
    let err = try_run(dir.path(), 3, Profile::Programs, 1).unwrap_err();
    assert!(err.problem.contains("mixed profile"), "{err}");

    std::fs::write(dir.path().join("findings/campaign.json"), b"{ not json").unwrap();
    let err = try_run(dir.path(), 3, Profile::Mixed, 1).unwrap_err();
    assert!(err.problem.contains("not a campaign state"), "{err}");
}

#[test]
fn two_campaigns_never_share_a_directory() {
    let dir = TempDir::new().unwrap();
    let findings = dir.path().join("findings");
    std::fs::create_dir_all(&findings).unwrap();
    let held = std::fs::File::create(findings.join(".campaign.lock")).unwrap();
    held.lock().unwrap();
    let err = try_run(dir.path(), 3, Profile::Mixed, 1).unwrap_err();
    assert!(err.problem.contains("another campaign is running"), "{err}");
    drop(held);
    assert_eq!(run(dir.path(), 1).executions, 1);
}
