//! The genesis world: zksync-era's genesis export (../shared/real/genesis_export.bin) loads with
//! its proved-batch bootloader and real system contracts, and its block tips succeed on both VMs
//! with the real L1Messenger; a truncated or foreign file is bad input; `--bootloader` replaces
//! a world's bootloader.

use std::{path::PathBuf, process::Command};

use eravm_diff::{
    batch_file::load_batch_file,
    engine::{VmFast, VmLatest},
    outcome::ExecResult,
    pipeline::{Differential, RunOptions},
    world::{default_world, load_genesis, parse_genesis, read_bytecode_hex},
};
use tempfile::TempDir;
use zksync_system_constants::{L1_MESSENGER_ADDRESS, SYSTEM_CONTEXT_ADDRESS};
use zksync_types::{bytecode::BytecodeHash, get_code_key, AccountTreeId, StorageKey, H256};

const BIN: &str = env!("CARGO_BIN_EXE_eravm-diff");

/// A file of the third-party test data in ../shared/real (see its SOURCES.md).
fn real(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/real")
        .join(name)
}

fn vector(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name)
}

#[test]
fn the_genesis_export_loads_with_its_proved_batch_bootloader() {
    let bytes = std::fs::read(real("genesis_export.bin")).unwrap();
    let genesis = parse_genesis("genesis_export.bin", &bytes).unwrap();
    assert_eq!(genesis.storage_logs.len(), 269);
    assert_eq!(genesis.factory_deps.len(), 53);

    let world = load_genesis(&real("genesis_export.bin")).unwrap();
    let proved = read_bytecode_hex(&real("v26_bootloader_proved_batch.hex")).unwrap();
    let contracts = &world.system_env.base_system_smart_contracts;
    assert_eq!(contracts.bootloader.code, proved);
    assert_eq!(contracts.default_aa.hash, genesis.factory_deps[1].0);
    assert_eq!(world.system_env.chain_id.as_u64(), 500);
    // The real L1Messenger, not the project's stand-in.
    let messenger = read_bytecode_hex(&real("v26_l1_messenger.hex")).unwrap();
    assert_eq!(
        world.storage.value(&get_code_key(&L1_MESSENGER_ADDRESS)),
        BytecodeHash::for_bytecode(&messenger).value()
    );
    let chain_id = StorageKey::new(AccountTreeId::new(SYSTEM_CONTEXT_ADDRESS), H256::zero());
    assert_eq!(world.storage.value(&chain_id), H256::from_low_u64_be(500));
}

/// The block tip runs the real L1Messenger on the operator's pubdata: it succeeds on both VMs
/// with the same pubdata, which the DA oracle rebuilds into the same state.
#[test]
fn block_tips_succeed_on_both_vms_with_the_real_l1_messenger() {
    let world = load_genesis(&real("genesis_export.bin")).unwrap();
    let differential = Differential::new(world, VmLatest, VmFast);
    let file = load_batch_file(&vector("storage_writes.yaml")).unwrap();
    let comparison = differential
        .run_file(&file, &RunOptions::checking(None))
        .unwrap();
    assert!(
        comparison.divergence.is_none(),
        "{:?}",
        comparison.divergence
    );
    for (run, pubdata) in [&comparison.reference, &comparison.candidate]
        .into_iter()
        .zip(&comparison.pubdata)
    {
        let batch = run.outcome.batch.as_ref().expect("the batch is sealed");
        assert!(
            matches!(batch.block_tip.result, ExecResult::Success { .. }),
            "{}: {:?}",
            run.engine,
            batch.block_tip.result
        );
        let rebuilt = pubdata.as_ref().expect("the DA oracle accepts the pubdata");
        assert!(rebuilt.is_some(), "{}: nothing published", run.engine);
    }
}

fn eravm_diff(args: &[&str]) -> (i32, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code().expect("exited, not killed"), stderr)
}

fn assert_bad_world(args: &[&str], file: &str, problem: &str) {
    let (status, stderr) = eravm_diff(args);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains(file), "names {file}: {stderr}");
    assert!(stderr.contains(problem), "says {problem:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Cut anywhere, the file is reported as truncated, naming what could not be read; a file of
/// another kind, trailing bytes and a factory dependency whose hash does not match its bytecode
/// are each named.
#[test]
fn a_truncated_or_foreign_genesis_file_is_bad_input() {
    let bytes = std::fs::read(real("genesis_export.bin")).unwrap();
    for (cut, what) in [
        (4, "the number of storage logs"),
        (8 + 84 * 100, "the number of storage logs"),
        (8 + 84 * 269 + 4, "the number of factory dependencies"),
        (bytes.len() - 1, "factory dependency 52"),
    ] {
        let err = parse_genesis("cut", &bytes[..cut]).unwrap_err();
        assert!(err.problem.contains(what), "cut at {cut}: {err}");
    }
    let err = parse_genesis("json", br#"{"storage_logs": []}"#).unwrap_err();
    assert!(err.problem.contains("not a genesis export"), "{err}");

    let mut longer = bytes.clone();
    longer.extend([0; 3]);
    let err = parse_genesis("longer", &longer).unwrap_err();
    assert!(err.problem.contains("3 bytes after"), "{err}");

    let mut wrong_hash = bytes.clone();
    let first_dep_hash = 8 + 84 * 269 + 8;
    wrong_hash[first_dep_hash + 31] ^= 1;
    let err = parse_genesis("wrong hash", &wrong_hash).unwrap_err();
    assert!(
        err.problem.contains("factory dependency 0: recorded hash"),
        "{err}"
    );

    let dir = TempDir::new().unwrap();
    let truncated = dir.path().join("truncated.bin");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let truncated = truncated.display().to_string();
    let world = format!("genesis:{truncated}");
    let storage_writes = vector("storage_writes.yaml").display().to_string();
    assert_bad_world(
        &["run", &storage_writes, "--world", &world],
        &truncated,
        "truncated",
    );
    let missing = dir.path().join("absent.bin").display().to_string();
    assert_bad_world(
        &[
            "run",
            &storage_writes,
            "--world",
            &format!("genesis:{missing}"),
        ],
        &missing,
        "cannot read",
    );
}

/// `--bootloader` runs another bootloader in any world; a file that is not EraVM bytecode in hex
/// is bad input.
#[test]
fn bootloader_replaces_the_worlds_own() {
    let proved = read_bytecode_hex(&real("v26_bootloader_proved_batch.hex")).unwrap();
    let world = default_world().with_bootloader(proved.clone());
    let bootloader = &world.system_env.base_system_smart_contracts.bootloader;
    assert_eq!(bootloader.code, proved);
    assert_eq!(bootloader.hash, BytecodeHash::for_bytecode(&proved).value());
    assert_ne!(
        bootloader.hash,
        default_world()
            .system_env
            .base_system_smart_contracts
            .bootloader
            .hash
    );

    let dir = TempDir::new().unwrap();
    let storage_writes = vector("storage_writes.yaml").display().to_string();
    for (name, text, problem) in [
        ("odd.hex", "0x0123", "invalid EraVM bytecode"),
        ("text.hex", "hello", "not a hex file"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.display().to_string();
        assert_bad_world(
            &["run", &storage_writes, "--bootloader", &path],
            &path,
            problem,
        );
    }
}
