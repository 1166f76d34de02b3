//! Campaigns: resuming gives exactly what an uninterrupted run gives; reports are written.

use std::path::Path;

use eravm_diff::{
    divergence::tolerance::Tolerances,
    drive::{
        campaign::{self, CampaignOptions, CampaignState, Level, EPOCH_SAMPLES},
        Budget, Search,
    },
    engine::{frame::frame_engine, Fault, FaultyVmFast, StepFault, StepFaultyVmFast, VmLatest},
    findings::KnownDivergences,
    generate::{GeneratorConfig, Profile},
    pipeline::{Differential, FrameDifferential},
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
    let differential = Differential::new(default_world(), VmLatest, FaultyVmFast(Fault::Refund));
    try_run_at(Level::Batch, &differential, dir, seed, profile, samples)
}

/// [`try_run`] at `level`, with `differential` at batch level.
fn try_run_at(
    level: Level<'_>,
    differential: &Differential,
    dir: &Path,
    seed: u64,
    profile: Profile,
    samples: u64,
) -> Result<CampaignState, InputError> {
    let generator = GeneratorConfig {
        profile,
        ..GeneratorConfig::for_world(&differential.world)
    };
    let options = CampaignOptions {
        search: Search {
            differential,
            known: &KnownDivergences::default(),
            generator: &generator,
            budget: Budget {
                seed,
                duration: None,
                samples: Some(samples),
                jobs: 2,
            },
        },
        level,
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

/// A frame-level campaign (zksync_vm2 with its heap-word fault, lifted to vm_fast with the same
/// fault) up to `samples` samples.
fn run_frames(dir: &Path, samples: u64) -> Result<CampaignState, InputError> {
    let differential = FrameDifferential {
        reference: frame_engine("zk_evm").unwrap(),
        candidate: frame_engine("zksync_vm2+step_fault:heap_word").unwrap(),
        tolerances: Tolerances::DEFAULT,
    };
    let batch_level = Differential::new(
        default_world(),
        VmLatest,
        StepFaultyVmFast(StepFault::HeapWord),
    );
    try_run_at(
        Level::Frame(&differential),
        &batch_level,
        dir,
        5,
        Profile::default(),
        samples,
    )
}

#[test]
fn a_frame_campaign_resumes_minimizes_and_lifts_its_findings() {
    let samples = 2 * EPOCH_SAMPLES;
    let whole = TempDir::new().unwrap();
    let expected = run_frames(whole.path(), samples).unwrap();
    assert_eq!(
        (expected.reference.as_str(), expected.profile.as_str()),
        ("zk_evm", "frame")
    );
    assert!(expected.corpus_added > 0);
    let finding = (expected.findings.iter())
        .find(|finding| finding.signature[0].contains("UMA(HeapWrite) stored.value"))
        .expect("the planted fault is named at its store");
    assert_eq!(
        finding.signature.last().unwrap(),
        "lifted: the same cause at batch level"
    );
    assert!(
        finding.minimized.starts_with("1 programs, 1 instructions"),
        "{}",
        finding.minimized
    );
    let findings = whole.path().join("findings");
    let stem = finding.file.strip_suffix(".yaml").unwrap();
    assert!(findings.join(format!("{stem}.batch.yaml")).exists());
    let frame = std::fs::read_to_string(findings.join(&finding.file)).unwrap();
    assert!(frame.contains("campaign --level frame --seed 5"), "{frame}");

    let resumed = TempDir::new().unwrap();
    assert_eq!(run_frames(resumed.path(), EPOCH_SAMPLES).unwrap().epoch, 1);
    let state = run_frames(resumed.path(), samples).unwrap();
    assert_eq!(state.runs, 2);
    let findings = |state: &CampaignState| -> Vec<(String, Vec<String>, String)> {
        (state.findings.iter())
            .map(|f| {
                (
                    f.fingerprint.clone(),
                    f.signature.clone(),
                    f.minimized.clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        findings(&state),
        findings(&expected),
        "same findings, each once"
    );
    for dir in ["corpus", "findings"] {
        assert_eq!(
            files(&resumed.path().join(dir)),
            files(&whole.path().join(dir))
        );
    }
    // Its corpus is frame generator input: a batch campaign may not resume it.
    let err = try_run(resumed.path(), 5, Profile::Mixed, 1).unwrap_err();
    assert!(err.problem.contains("frame profile"), "{err}");
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
