//! The command line: exit statuses, and clear errors for bad input (status 2, never a panic).

use std::{path::Path, process::Command};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_eravm-diff");
const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn eravm_diff(args: &[&str]) -> Run {
    let output = Command::new(BIN).args(args).output().unwrap();
    Run {
        status: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn assert_bad_input(run: &Run, file: &str, problem: &str) {
    assert_eq!(
        run.status, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(run.stderr.contains(file), "names {file}: {}", run.stderr);
    assert!(
        run.stderr.contains(problem),
        "says {problem:?}: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn equal_vector_exits_zero_and_json_is_parseable() {
    let run = eravm_diff(&["run", &format!("{VECTORS}/far_calls.yaml"), "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["verdict"], "equal");
    assert_eq!(report["reference"]["engine"], "vm_latest");
    assert_eq!(report["candidate"]["engine"], "vm_fast");
    assert_eq!(report["reference"]["digest"], report["candidate"]["digest"]);
}

#[test]
fn unexpected_divergence_exits_one() {
    // Declaring a divergence that does not happen is a failed expectation, like a real one.
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(format!("{VECTORS}/far_calls.yaml")).unwrap();
    let text = text.replace(
        "expect: equal",
        "expect: {divergence: fp-0000000000000000, why: test}",
    );
    let path = write(&dir, "declared.yaml", &text);
    let run = eravm_diff(&["run", &path]);
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("EQUAL (a divergence was expected)"),
        "{}",
        run.stdout
    );
}

#[test]
fn malformed_batches_exit_two_naming_file_and_problem() {
    let dir = TempDir::new().unwrap();
    let vector = std::fs::read_to_string(format!("{VECTORS}/storage_writes.yaml")).unwrap();
    let deploy = std::fs::read_to_string(format!("{VECTORS}/deploy.yaml")).unwrap();
    let stack = std::fs::read_to_string(format!("{VECTORS}/compiled_account_stack.yaml")).unwrap();
    let chain = std::fs::read_to_string(format!("{VECTORS}/chain_three_batches.yaml")).unwrap();
    let cases = [
        (
            // Batch 2 would start from the state batch 1 leaves, and batch 1 has no blocks.
            "chain_empty_batch.yaml",
            chain.replacen(
                "  - blocks:\n      - transactions:\n          - l2: {from: 2",
                "  - blocks: []\n  - blocks:\n      - transactions:\n          - l2: {from: 2",
                1,
            ),
            "batches[1].blocks: an L1 batch needs at least one block",
        ),
        (
            "chain_and_blocks.yaml",
            chain.replace("batches:\n", "blocks:\n  - transactions: []\nbatches:\n"),
            "give `blocks:` (one L1 batch) or `batches:` (a chain), not both",
        ),
        (
            "chain_bad_transaction.yaml",
            chain.replace(
                "{from: 1, to: \"0x94d3356e96dbf595d64aabeb402f5cbb76cc425a\"",
                "{from: 0, to: \"0x94d3356e96dbf595d64aabeb402f5cbb76cc425a\"",
            ),
            "batches[2].blocks[0].transactions[0]: from: 0 is not a valid test key number",
        ),
        (
            "deploy_two_codes.yaml",
            deploy.replace(
                "            assembly: *counter\n",
                "            assembly: *counter\n            bytecode: \"0x00\"\n",
            ),
            "contract: give exactly one of `assembly`, `bytecode`, `compiled` and `file`",
        ),
        (
            "missing_hex_file.yaml",
            stack.replace(
                "compiled: validation_adjacent/0x185db4e63ff8afdc67b2e44acaa837c104eb22bc",
                "file: absent.hex",
            ),
            "contracts[1] (0x185db4e63ff8afdc67b2e44acaa837c104eb22bc): file: ",
        ),
        (
            "unknown_compiled.yaml",
            stack.replace(
                "compiled: validation_adjacent/0x185db4e63ff8afdc67b2e44acaa837c104eb22bc",
                "compiled: validation_adjacent/0x185db4e63ff8afdc67b2e44acaa837c104eb22bd",
            ),
            "contracts[1] (0x185db4e63ff8afdc67b2e44acaa837c104eb22bc): compiled: \
             `validation_adjacent/0x185db4e63ff8afdc67b2e44acaa837c104eb22bd`: the validation \
             dump has no code at 0x185db4e63ff8afdc67b2e44acaa837c104eb22bd",
        ),
        (
            "malformed_compiled.yaml",
            stack.replace(
                "compiled: validation_adjacent/0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b",
                "compiled: 0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b",
            ),
            "contracts[0] (0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b): compiled: unknown \
             compiled contract `0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b`",
        ),
        (
            "truncated.yaml",
            vector[..vector.len() / 2].to_owned(),
            "not a valid batch",
        ),
        (
            "wrong_type.yaml",
            vector.replace("gas_limit: 2000000", "gas_limit: plenty"),
            "gas_limit",
        ),
        (
            "bad_mnemonic.yaml",
            vector.replace("sstore r2, r3", "frobnicate r2, r3"),
            "contracts[0]",
        ),
        (
            "unknown_field.yaml",
            vector.replace("gas_limit:", "gas_limt:"),
            "unknown field",
        ),
        ("empty.yaml", String::new(), "not a valid batch"),
        (
            "bad_key.yaml",
            vector.replace("{account: 1,", "{account: 0,"),
            "not a valid test key",
        ),
        (
            "short_address.yaml",
            vector.replace(
                "to: \"0xc0de000000000000000000000000000000000001\"",
                "to: \"0xc0de\"",
            ),
            "`0xc0de` is not an account: 4 hex digits where an address has 40; expected an \
             address of 20 bytes (0x and 40 hex digits) or a test key number",
        ),
    ];
    for (name, text, problem) in cases {
        let path = write(&dir, name, &text);
        assert_bad_input(&eravm_diff(&["run", &path]), &path, problem);
    }
    let bad_mnemonic = dir.path().join("bad_mnemonic.yaml");
    let run = eravm_diff(&["run", &bad_mnemonic.display().to_string()]);
    assert!(run.stderr.contains("does not assemble"), "{}", run.stderr);
}

/// Frame files: each malformed program, world or call exits 2 naming the file and the field.
#[test]
fn malformed_frame_files_exit_two_naming_file_and_field() {
    let dir = TempDir::new().unwrap();
    let frame =
        std::fs::read_to_string(format!("{VECTORS}/frames/known_static_memory_user.yaml")).unwrap();
    let cases = [
        (
            "bad_mnemonic.yaml",
            frame.replace("uma.static_read 218, r0, r2, r0", "frobnicate r2, r3"),
            "contracts[1] (0x00000000000000000000000000000000000c0de1): does not assemble",
        ),
        (
            "no_ergs.yaml",
            frame.replace("  ergs: 100000\n", "  calldata: \"0x\"\n"),
            "missing field `ergs`",
        ),
        (
            "bad_calldata.yaml",
            frame.replace("  ergs: 100000\n", "  ergs: 100000\n  calldata: \"0xzz\"\n"),
            "frame.calldata",
        ),
        (
            "unknown_field.yaml",
            frame.replace("  ergs: 100000\n", "  ergs: 100000\n  gas: 1\n"),
            "unknown field `gas`",
        ),
        (
            "kernel_entry.yaml",
            frame.replace(
                "0x00000000000000000000000000000000000c0de0",
                "0x0000000000000000000000000000000000004003",
            ),
            "contracts: the entry program's address",
        ),
        (
            "no_programs.yaml",
            "contracts: []\nframe: {ergs: 1000}\n".to_owned(),
            "contracts: no programs: the first is the entry",
        ),
        (
            "huge_value.yaml",
            frame.replace(
                "  ergs: 100000\n",
                "  ergs: 100000\n  value: \"0x100000000000000000000000000000000\"\n",
            ),
            "frame.value",
        ),
        (
            "truncated.yaml",
            frame[..frame.find("frame:").unwrap() + 8].to_owned(),
            "not a valid frame file",
        ),
    ];
    for (name, text, problem) in cases {
        let path = write(&dir, name, &text);
        for command in ["run", "explain"] {
            assert_bad_input(&eravm_diff(&[command, &path]), &path, problem);
        }
    }
}

#[test]
fn malformed_dumps_and_missing_files_exit_two() {
    let dir = TempDir::new().unwrap();
    let missing_fields = write(
        &dir,
        "partial.json",
        r#"{"l1_batch_env": {}, "l2_blocks": []}"#,
    );
    assert_bad_input(
        &eravm_diff(&["replay", &missing_fields]),
        &missing_fields,
        "missing field",
    );
    let not_json = write(&dir, "garbage.json", "{ this is not json");
    assert_bad_input(
        &eravm_diff(&["replay", &not_json]),
        &not_json,
        "not a VM dump",
    );

    let missing = dir.path().join("absent.yaml").display().to_string();
    assert_bad_input(&eravm_diff(&["run", &missing]), &missing, "cannot read");
    assert_bad_input(&eravm_diff(&["replay", &missing]), &missing, "cannot read");
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let empty_dir = empty_dir.display().to_string();
    assert_bad_input(&eravm_diff(&["run", &empty_dir]), &empty_dir, "no *.yaml");
}

#[test]
fn an_unknown_profile_exits_two_naming_the_flag() {
    for command in ["fuzz", "campaign"] {
        let run = eravm_diff(&[command, "--profile", "solidity", "--samples", "1"]);
        assert_eq!(run.status, 2, "{command}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("invalid value 'solidity' for '--profile <PROFILE>'")
                && run
                    .stderr
                    .contains("[possible values: programs, contracts, mixed]"),
            "{command}: {}",
            run.stderr
        );
    }
}

/// zksync_vm2 prints `Unimplemented instruction: …` to stderr for static-memory instructions
/// (the `programs` profile's first 32 samples of seed 1 have two): `fuzz` captures and
/// summarizes it, `--verbose` shows it.
#[test]
fn fuzz_summarizes_what_the_vms_print_unless_verbose() {
    let dir = TempDir::new().unwrap();
    let findings = dir.path().display().to_string();
    let fuzz = |verbose: bool| {
        // 64 samples of seed 1 hold a static-memory instruction, which vm2 reports on stderr.
        let mut args = vec!["fuzz", "--seed", "1", "--samples", "64", "--jobs", "2"];
        args.extend(["--profile", "programs"]);
        args.extend(["--vectors", VECTORS, "--findings", &findings]);
        if verbose {
            args.push("--verbose");
        }
        let run = eravm_diff(&args);
        assert!(run.status <= 1, "{}{}", run.stdout, run.stderr);
        run
    };
    const LINE: &str = "Unimplemented instruction: UMA(Static";
    let quiet = fuzz(false);
    assert!(!quiet.stderr.contains(LINE), "{}", quiet.stderr);
    assert!(
        quiet.stderr.contains("fuzzing vm_fast against vm_latest"),
        "{}",
        quiet.stderr
    );
    let summary = quiet
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("VM output (captured; --verbose shows it): "))
        .collect::<Vec<_>>();
    assert!(
        summary.iter().skip(1).any(|line| line.contains(LINE)),
        "{}",
        quiet.stdout
    );
    let verbose = fuzz(true);
    assert!(verbose.stderr.contains(LINE), "{}", verbose.stderr);
    assert!(!verbose.stdout.contains("VM output"), "{}", verbose.stdout);
}

/// `run` and `explain` capture and summarize vm2's `Unimplemented instruction: …` lines, of a
/// batch file and of a frame file alike; `--verbose` shows them as printed.
#[test]
fn run_and_explain_summarize_what_the_vms_print_unless_verbose() {
    const LINE: &str = "Unimplemented instruction: UMA(Static";
    const SUMMARY: &str = "VM output (captured; --verbose shows it): ";
    let batch = format!("{VECTORS}/known_static_memory_user.yaml");
    let frame = format!("{VECTORS}/frames/known_static_memory_user.yaml");
    for args in [
        ["run", &batch],
        ["explain", &batch],
        ["run", &frame],
        ["explain", &frame],
    ] {
        let quiet = eravm_diff(&args);
        assert!(
            quiet.status <= 1,
            "{args:?}: {}{}",
            quiet.stdout,
            quiet.stderr
        );
        let summary: Vec<&str> = (quiet.stderr.lines())
            .skip_while(|line| !line.starts_with(SUMMARY))
            .collect();
        assert!(
            summary.iter().skip(1).any(|line| line.contains(LINE)),
            "{args:?}: {}",
            quiet.stderr
        );
        assert!(
            !quiet.stderr.lines().any(|line| line.starts_with(LINE)),
            "{args:?}: {}",
            quiet.stderr
        );
        let verbose = eravm_diff(&[args[0], args[1], "--verbose"]);
        assert!(
            verbose.stderr.lines().any(|line| line.starts_with(LINE)),
            "{args:?}: {}",
            verbose.stderr
        );
        assert!(
            !verbose.stderr.contains(SUMMARY),
            "{args:?}: {}",
            verbose.stderr
        );
    }
}

/// At frame level, `fuzz --minimize` minimizes its findings in place and `campaign` lifts and
/// minimizes them; a batch-level campaign refuses the frame-level directory.
#[test]
fn frame_level_fuzz_and_campaign_minimize_their_findings() {
    let dir = TempDir::new().unwrap();
    let findings = dir.path().join("fuzz").display().to_string();
    let fault = [
        "--candidate",
        "vm_fast+step_fault:register",
        "--vectors",
        VECTORS,
    ];
    let mut args = vec![
        "fuzz",
        "--level",
        "frame",
        "--seed",
        "1",
        "--samples",
        "100",
    ];
    args.extend(fault);
    args.extend(["--minimize", "--findings", &findings]);
    let run = eravm_diff(&args);
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("minimized: 1 programs, 1 instructions"),
        "{}",
        run.stdout
    );

    let corpus = dir.path().join("corpus").display().to_string();
    let findings = dir.path().join("campaign").display().to_string();
    let campaign = |level: &str| {
        let mut args = vec![
            "campaign",
            "--level",
            level,
            "--seed",
            "1",
            "--samples",
            "64",
        ];
        args.extend(fault);
        args.extend(["--corpus", &corpus, "--findings", &findings]);
        eravm_diff(&args)
    };
    let run = campaign("frame");
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let report = std::fs::read_to_string(dir.path().join("campaign/report.md")).unwrap();
    assert!(
        report.contains("lifted: the same cause at batch level"),
        "{report}"
    );
    assert!(report.contains("1 programs, 1 instructions"), "{report}");
    assert_bad_input(&campaign("batch"), &findings, "frame profile");
}

/// `explain` reads its batch like `run`: bad input exits 2 naming the file.
#[test]
fn explain_rejects_bad_input() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "broken.yaml", "blocks: [");
    assert_bad_input(&eravm_diff(&["explain", &path]), &path, "not a valid batch");
    let missing = dir.path().join("missing.yaml").display().to_string();
    let run = eravm_diff(&["explain", &missing]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&missing), "{}", run.stderr);
}

/// `pubdata` decodes a vector's pubdata (JSON for tools) with the DA oracle's verdict, and
/// rejects bad input with status 2.
#[test]
fn pubdata_decodes_and_rejects_bad_input() {
    let vector = format!("{VECTORS}/events_logs_messages.yaml");
    let run = eravm_diff(&["pubdata", &vector, "--engine", "vm_latest", "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let decoded: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(decoded["da_oracle"], "rebuilt 13 slots from 628 bytes, ok");
    assert_eq!(decoded["pubdata"]["messages"].as_array().unwrap().len(), 1);
    assert_eq!(decoded["pubdata"]["state_diffs"]["version"], 1);

    let dir = TempDir::new().unwrap();
    let path = write(&dir, "broken.yaml", "blocks: [");
    assert_bad_input(&eravm_diff(&["pubdata", &path]), &path, "not a valid batch");
    let dump = write(&dir, "broken.json", "{");
    let run = eravm_diff(&["pubdata", &dump]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&dump), "{}", run.stderr);
}

/// A process engine works wherever an engine is named: `run` gives the in-process verdict, and
/// `fuzz`, which captures what VMs print, ends with its children idle (they must not hold the
/// capture open). A missing `exec:` program is bad input.
#[test]
fn process_engines_run_and_fuzz() {
    let vector = format!("{VECTORS}/storage_writes.yaml");
    let run = eravm_diff(&["run", &vector, "--candidate", "process:vm_fast"]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("process:vm_fast: 5 transactions"),
        "{}",
        run.stdout
    );

    let dir = TempDir::new().unwrap();
    let findings = dir.path().join("findings").display().to_string();
    let args = [
        "fuzz",
        "--samples",
        "6",
        "--jobs",
        "2",
        "--reference",
        "vm_fast",
    ];
    let fuzz = eravm_diff(
        &[
            &args[..],
            &["--candidate", "process:vm_fast", "--findings", &findings],
        ]
        .concat(),
    );
    assert_eq!(fuzz.status, 0, "{}{}", fuzz.stdout, fuzz.stderr);
    assert!(
        fuzz.stdout.contains("0 divergent samples"),
        "{}",
        fuzz.stdout
    );

    let missing = eravm_diff(&["run", &vector, "--candidate", "exec:/nonexistent/engine"]);
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("/nonexistent/engine"),
        "{}",
        missing.stderr
    );
}

/// `matrix` letters each engine's outcome class per batch (`A`: the first engine's) and exits 1
/// when some engines disagree.
#[test]
fn matrix_groups_engines_by_outcome() {
    let equal = format!("{VECTORS}/storage_writes.yaml");
    let differ = format!("{VECTORS}/known_page_ids.yaml");
    let engines = "vm_latest,vm_fast,process:vm_fast";
    let dir = TempDir::new().unwrap();
    let html = dir.path().join("matrix.html");
    let run = eravm_diff(&[
        "matrix",
        &equal,
        &differ,
        "--engines",
        engines,
        "--markdown",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<th>process:vm_fast</th>"), "{page}");
    assert!(
        run.stdout
            .contains("| vm_latest | vm_fast | process:vm_fast | agree | outcomes |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("storage_writes.yaml | A | A | A | yes |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("known_page_ids.yaml | A | B | B | no |"),
        "{}",
        run.stdout
    );

    let agree = eravm_diff(&["matrix", &equal, "--engines", "vm_fast,process:vm_fast"]);
    assert_eq!(agree.status, 0, "{}{}", agree.stdout, agree.stderr);
    let unknown = eravm_diff(&["matrix", &equal, "--engines", "vm_latest,nope"]);
    assert_eq!(unknown.status, 2, "{}", unknown.stderr);
}

/// The adapter example (engines/adapter.rs, built with the tests) is a program
/// speaking the engine protocol: as `exec:` it serves vm_latest, equal to the in-process one.
#[test]
fn the_adapter_example_is_an_exec_engine() {
    let examples = Path::new(BIN).parent().unwrap().join("examples");
    let adapter = examples.join("engine_adapter").display().to_string();
    let vector = format!("{VECTORS}/storage_writes.yaml");
    let candidate = format!("exec:{adapter}");
    let run = eravm_diff(&[
        "run",
        &vector,
        "--reference",
        "vm_latest",
        "--candidate",
        &candidate,
    ]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("EQUAL"), "{}", run.stdout);
}

/// A DA violation makes `run` fail even when the engines agree, unless the batch file declares
/// it (`expect: {cause: da-…}`), as any known divergence.
#[test]
fn da_violations_fail_run_unless_declared() {
    let faulty = "vm_fast+fault:state_diff";
    let engines = ["--reference", faulty, "--candidate", faulty, "--json"];
    let vector = format!("{VECTORS}/storage_writes.yaml");
    let run = eravm_diff(&[&["run", &vector][..], &engines].concat());
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["verdict"], "equal");
    let key = report["da_violation"]
        .as_str()
        .expect("a DA violation")
        .to_owned();
    assert!(key.starts_with("da-"), "{key}");

    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(&vector).unwrap().replace(
        "expect: equal",
        &format!(
            "expect: {{cause: {key}, why: both engines publish a state diff they did not write}}"
        ),
    );
    let declared = write(&dir, "declared.yaml", &text);
    let run = eravm_diff(&[&["run", &declared][..], &engines].concat());
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
}

/// A release engine name that names no release, and a world a release cannot run, are bad input:
/// exit status 2 naming the engine, the world and why.
#[test]
fn release_engines_refuse_what_they_cannot_run() {
    let vector = format!("{VECTORS}/storage_writes.yaml");
    let unknown = eravm_diff(&["run", &vector, "--candidate", "vm_fast@1.2.3"]);
    assert_bad_input(
        &unknown,
        "vm_fast@1.2.3",
        "no engine workspace for zksync_multivm 1.2.3",
    );

    let dir = TempDir::new().unwrap();
    let dump = eravm_diff::world::embedded_dump_path(eravm_diff::world::EMBEDDED_DUMP);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dump).unwrap()).unwrap();
    json["system_env"]["version"] = "Version29".into();
    let world = write(&dir, "v29.json", &json.to_string());
    let refused = eravm_diff(&[
        "run",
        &vector,
        "--world",
        &world,
        "--candidate",
        "vm_latest@27.5.1",
    ]);
    assert_bad_input(&refused, "vm_latest@27.5.1", "cannot run world");
    assert!(refused.stderr.contains("Version29"), "{}", refused.stderr);
    assert!(refused.stderr.contains("v29.json"), "{}", refused.stderr);
}
