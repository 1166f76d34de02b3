//! Real chain data from ../shared/real: zksync-era's genesis export loads with its proved-batch
//! bootloader and real system contracts, and its block tips succeed on both VMs with the real
//! L1Messenger; a truncated or foreign file is bad input; `--bootloader` replaces a world's
//! bootloader; third-party contracts run in vectors (real_vectors/) and in the contracts profile.

use std::{path::PathBuf, process::Command};

use eravm_diff::{
    batch_file::{load_batch_file, L2TxSpec, Party, TxSpec},
    engine::{VmFast, VmLatest},
    generate::{batch, third_party_address, GeneratorConfig, Profile},
    outcome::{ExecResult, Word},
    pipeline::{Comparison, Differential, RunOptions},
    world::{
        default_world, load_genesis, parse_genesis, read_bytecode_hex, WorldKind, WorldSource,
    },
};
use tempfile::TempDir;
use zksync_system_constants::{L1_MESSENGER_ADDRESS, SYSTEM_CONTEXT_ADDRESS};
use zksync_types::{
    bytecode::BytecodeHash, get_code_key, AccountTreeId, Address, StorageKey, H256, U256,
};

const BIN: &str = env!("CARGO_BIN_EXE_eravm-diff");

/// A file of the third-party test data in ../shared/real (see its SOURCES.md).
fn real(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real");
    assert!(
        dir.is_dir(),
        "{}: the third-party test data is missing",
        dir.display()
    );
    dir.join(name)
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

/// A zksync-era checkout with `core/genesis_export.bin` is the genesis world of that file.
#[test]
fn a_checkout_with_a_genesis_export_is_that_genesis_world() {
    let home = TempDir::new().unwrap();
    std::fs::create_dir(home.path().join("core")).unwrap();
    std::os::unix::fs::symlink(
        real("genesis_export.bin"),
        home.path().join("core/genesis_export.bin"),
    )
    .unwrap();
    let source = WorldSource::ZksyncHome(Some(home.path().to_owned()));
    assert_eq!(source.kind().unwrap(), WorldKind::Genesis);
    let world = source.load().unwrap();
    let genesis = load_genesis(&real("genesis_export.bin")).unwrap();
    assert_eq!(world.system_env, genesis.system_env);
    assert_eq!(
        world.storage.base().max_enumeration_index(),
        genesis.storage.base().max_enumeration_index()
    );
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
    let (status, _, stderr) = eravm_diff_output(args);
    (status, stderr)
}

fn eravm_diff_output(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (
        output.status.code().expect("exited, not killed"),
        stdout,
        stderr,
    )
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

/// What the real vectors' recorder contract wrote at `slot` (in the reference's outcome).
fn recorded(comparison: &Comparison, slot: u64) -> Option<U256> {
    let recorder: Address = "0xc0de00000000000000000000000000000000000f"
        .parse()
        .unwrap();
    let key = Word::from(U256::from(slot));
    (comparison.reference.outcome.transactions.iter())
        .flat_map(|tx| &tx.execution.storage_writes)
        .find(|write| write.address == recorder && write.key == key)
        .map(|write| U256::from_big_endian(&write.after.0))
}

/// The third-party contracts of ../shared/real run alike on both VMs, in the default and the
/// genesis world, and compute what they should: the Yul precompiles' points (valid and invalid),
/// Identity's echo, the chunk publisher's hash list, Create2Factory's deployment and
/// GasBoundCaller's relayed storage write.
#[test]
fn third_party_contracts_run_alike_and_compute_what_they_should() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../real_vectors");
    let two_g = [
        "0x030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
        "0x15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4",
    ]
    .map(|word| U256::from_str_radix(word, 16).unwrap());
    let one = Some(U256::one());
    for world in [
        default_world(),
        load_genesis(&real("genesis_export.bin")).unwrap(),
    ] {
        let origin = world.origin.clone();
        let differential = Differential::new(world, VmLatest, VmFast);
        let run = |name: &str| {
            let file = load_batch_file(&dir.join(name)).unwrap();
            let comparison = differential
                .run_file(&file, &RunOptions::checking(None))
                .unwrap();
            assert!(
                comparison.divergence.is_none() && comparison.explanation.is_none(),
                "{name} in {origin}: {:?}",
                comparison.key()
            );
            comparison
        };
        let ec = run("ec_precompiles.yaml");
        // EcAdd G+G, EcAdd off the curve, EcMul 2*G, EcMul off the curve, empty pairing, pairs.
        assert_eq!(
            (recorded(&ec, 0), recorded(&ec, 1), recorded(&ec, 2)),
            (one, Some(two_g[0]), Some(two_g[1])),
            "{origin}"
        );
        assert_eq!(recorded(&ec, 16), Some(U256::from(2)), "{origin}");
        assert_eq!(
            (recorded(&ec, 32), recorded(&ec, 33), recorded(&ec, 34)),
            (one, Some(two_g[0]), Some(two_g[1])),
            "{origin}"
        );
        assert_eq!(recorded(&ec, 48), Some(U256::from(2)), "{origin}");
        assert_eq!(
            (recorded(&ec, 64), recorded(&ec, 65)),
            (one, one),
            "{origin}"
        );
        assert_eq!(
            (recorded(&ec, 80), recorded(&ec, 81)),
            (one, one),
            "{origin}"
        );

        let others = run("identity_chunks_create2.yaml");
        let echo = U256::from_big_endian(&hex::decode("c0ffee".repeat(11)).unwrap()[..32]);
        assert_eq!(
            (recorded(&others, 0), recorded(&others, 1)),
            (one, Some(echo)),
            "{origin}"
        );
        // One blob hash: an ABI array at offset 32, of length 1.
        assert_eq!(
            (
                recorded(&others, 16),
                recorded(&others, 17),
                recorded(&others, 18)
            ),
            (one, Some(U256::from(32)), one),
            "{origin}"
        );
        let deployed = recorded(&others, 33).expect("create2 returns the new address");
        let identity = read_bytecode_hex(&real("v28_identity.hex")).unwrap();
        let code_key = get_code_key(&Address::from_low_u64_be(0));
        let code_written = (others.reference.outcome.transactions.iter())
            .flat_map(|tx| &tx.execution.storage_writes)
            .any(|write| {
                write.address == *code_key.address()
                    && U256::from_big_endian(&write.key.0) == deployed
                    && write.after.0 == BytecodeHash::for_bytecode(&identity).value().0
            });
        assert!(
            code_written,
            "{origin}: Create2Factory deployed Identity at {deployed:#x}"
        );

        let relayed = run("gas_bound_caller.yaml");
        let storage_writer: Address = "0xc0de000000000000000000000000000000000001"
            .parse()
            .unwrap();
        let wrote = (relayed.reference.outcome.transactions.iter())
            .flat_map(|tx| &tx.execution.storage_writes)
            .any(|write| {
                write.address == storage_writer
                    && write.key == Word::from(U256::from(7))
                    && write.after == Word::from(U256::from(3))
            });
        assert!(wrote, "{origin}: GasBoundCaller relayed the write");
    }
}

/// `--contracts DIR` places every hex file of DIR in the contracts profile's batches and calls
/// them; a directory without hex files is bad input.
#[test]
fn the_contracts_profile_calls_the_contracts_of_a_directory() {
    let config = GeneratorConfig {
        profile: Profile::Contracts,
        ..GeneratorConfig::for_world(&default_world())
    }
    .with_contracts(&real(""))
    .unwrap();
    let files = std::fs::read_dir(real("")).unwrap();
    let hex_files = files
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|ext| ext == "hex")
        })
        .count();
    let addresses: Vec<Address> = (0..hex_files).map(third_party_address).collect();
    let mut called = std::collections::BTreeSet::new();
    for sample in 0..200u64 {
        let bytes: Vec<u8> = (0..4096u64)
            .map(|i| ((i * 7919 + sample * 104729) >> 3) as u8)
            .collect();
        let file = batch(&mut arbitrary::Unstructured::new(&bytes), &config).unwrap();
        let placed = file
            .contracts
            .iter()
            .filter(|contract| contract.file.is_some())
            .count();
        if file.transactions().any(|tx| matches!(tx, TxSpec::L2(_))) && placed > 0 {
            assert_eq!(placed, hex_files);
        }
        for tx in file.transactions() {
            if let TxSpec::L2(L2TxSpec {
                to: Party::Address(to),
                ..
            }) = tx
            {
                if addresses.contains(to) {
                    called.insert(*to);
                }
            }
        }
    }
    assert!(
        called.len() >= hex_files / 2,
        "{} of {hex_files} called",
        called.len()
    );

    let empty = TempDir::new().unwrap();
    let empty_dir = empty.path().display().to_string();
    let (status, stderr) = eravm_diff(&["fuzz", "--samples", "1", "--contracts", &empty_dir]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains(&empty_dir) && stderr.contains("no *.hex"),
        "{stderr}"
    );
}

/// `fuzz` generates and runs batches in the genesis world with every profile, and `matrix`
/// compares engines in several worlds, one row per batch and world.
#[test]
fn fuzz_and_matrix_run_in_the_genesis_world() {
    let world = format!("genesis:{}", real("genesis_export.bin").display());
    let findings = TempDir::new().unwrap();
    let findings = findings.path().display().to_string();
    for profile in ["programs", "contracts", "mixed"] {
        let args = [
            "fuzz",
            "--world",
            &world,
            "--profile",
            profile,
            "--seed",
            "1",
        ];
        let more = ["--samples", "3", "--findings", &findings];
        let (status, stdout, stderr) = eravm_diff_output(&[&args[..], &more[..]].concat());
        assert!(status <= 1, "{profile}: {stderr}");
        assert!(stdout.contains("3 executions"), "{profile}: {stdout}");
    }

    let vector = vector("compiled_entry_point.yaml").display().to_string();
    let worlds = format!("default,{world}");
    let (status, stdout, stderr) = eravm_diff_output(&[
        "matrix",
        &vector,
        "--engines",
        "vm_latest,vm_fast",
        "--world",
        &worlds,
    ]);
    // Modexp differs in the default world, where vm_fast runs the v28 contract at 0x05.
    assert_eq!(status, 1, "{stderr}");
    let row = |world: &str| {
        (stdout.lines())
            .find(|line| line.contains(&format!("{vector} in {world}")))
            .unwrap_or_else(|| panic!("a row for {world}: {stdout}"))
            .split_whitespace()
            .skip(3)
            .take(2)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("default"), ["A", "B"]);
    assert_eq!(row(&world), ["A", "A"]);
}
