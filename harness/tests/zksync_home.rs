//! A world from a zksync-era checkout (ZKSYNC_HOME), laid out by the test in zksync-era's
//! artifact layout. Contracts the embedded dump holds are its real bytecode; the rest are the
//! project's stand-ins or a contract that only returns.

use std::path::Path;

use eravm_diff::{
    batch_file::load_batch_file,
    engine::{VmFast, VmLatest},
    outcome::ExecResult,
    pipeline::{Differential, RunOptions},
    support::assembly::assemble,
    world::{default_world, load_zksync_home, World, SYSTEM_CONTRACTS},
};
use tempfile::TempDir;
use zksync_system_constants::{
    ACCOUNT_CODE_STORAGE_ADDRESS, BOOTLOADER_UTILITIES_ADDRESS, CONTRACT_DEPLOYER_ADDRESS,
    ECRECOVER_PRECOMPILE_ADDRESS, EVENT_WRITER_ADDRESS, KECCAK256_PRECOMPILE_ADDRESS,
    L2_BASE_TOKEN_ADDRESS, MSG_VALUE_SIMULATOR_ADDRESS, NONCE_HOLDER_ADDRESS,
    SYSTEM_CONTEXT_ADDRESS,
};
use zksync_types::{
    get_code_key, Address, L2ChainId, ProtocolVersionId, SYSTEM_CONTEXT_CHAIN_ID_POSITION,
};

/// Solidity system contracts: (name, address in the dump, if it has the contract there).
const SOL_CONTRACTS: &[(&str, Option<Address>)] = &[
    ("AccountCodeStorage", Some(ACCOUNT_CODE_STORAGE_ADDRESS)),
    ("NonceHolder", Some(NONCE_HOLDER_ADDRESS)),
    ("KnownCodesStorage", None),
    ("ImmutableSimulator", None),
    ("ContractDeployer", Some(CONTRACT_DEPLOYER_ADDRESS)),
    ("L1Messenger", None),
    ("MsgValueSimulator", Some(MSG_VALUE_SIMULATOR_ADDRESS)),
    ("L2BaseToken", Some(L2_BASE_TOKEN_ADDRESS)),
    ("SystemContext", Some(SYSTEM_CONTEXT_ADDRESS)),
    ("BootloaderUtilities", Some(BOOTLOADER_UTILITIES_ADDRESS)),
    ("Compressor", None),
    ("ComplexUpgrader", None),
    ("EvmPredeploysManager", None),
    ("EvmHashesStorage", None),
    ("EmptyContract", None),
    ("PubdataChunkPublisher", None),
    ("Create2Factory", None),
    ("L2GenesisUpgrade", None),
    ("SloadContract", None),
    ("L2InteropRootStorage", None),
];

/// Yul system contracts (precompiles and the event writer).
const YUL_CONTRACTS: &[(&str, Option<Address>)] = &[
    ("Keccak256", Some(KECCAK256_PRECOMPILE_ADDRESS)),
    ("SHA256", None),
    ("Ecrecover", Some(ECRECOVER_PRECOMPILE_ADDRESS)),
    ("Modexp", None),
    ("EcAdd", None),
    ("EcMul", None),
    ("EcPairing", None),
    ("P256Verify", None),
    ("CodeOracle", None),
    ("Identity", None),
    ("EventWriter", Some(EVENT_WRITER_ADDRESS)),
    ("EvmGasManager", None),
];

/// Contracts that zksync-era keeps with the L1 contracts.
const L1_CONTRACTS: &[&str] = &[
    "Bridgehub",
    "MessageRoot",
    "L2AssetRouter",
    "L2NativeTokenVault",
    "L2WrappedBaseToken",
    "L2MessageVerification",
    "ChainAssetHandler",
];

fn write_artifact(path: &Path, bytecode: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let json = format!(
        r#"{{"bytecode": {{"object": "0x{}"}}}}"#,
        hex::encode(bytecode)
    );
    std::fs::write(path, json).unwrap();
}

fn deployed_code(world: &World, address: Address) -> Vec<u8> {
    let hash = world.storage.value(&get_code_key(&address));
    world.storage.factory_dep(&hash).unwrap().to_vec()
}

fn lay_out_checkout(home: &Path) {
    let dump = default_world();
    let returns = assemble(".text\nmain:\n    ret.ok r0\n").unwrap();
    let code_for = |name: &str, address: Option<Address>| match address {
        Some(address) => deployed_code(&dump, address),
        None => SYSTEM_CONTRACTS
            .iter()
            .find(|contract| contract.name == name)
            .map_or_else(|| returns.clone(), |contract| contract.bytecode().to_vec()),
    };
    let root = home.join("contracts/system-contracts/zkout");
    for &(name, address) in SOL_CONTRACTS {
        write_artifact(
            &root.join(format!("{name}.sol/{name}.json")),
            &code_for(name, address),
        );
    }
    for &(name, address) in YUL_CONTRACTS {
        write_artifact(
            &root.join(format!("{name}.yul/{name}.json")),
            &code_for(name, address),
        );
    }
    for name in L1_CONTRACTS {
        let path = home.join(format!(
            "contracts/l1-contracts/zkout/{name}.sol/{name}.json"
        ));
        write_artifact(&path, &returns);
    }
    let env = &dump.system_env.base_system_smart_contracts;
    write_artifact(
        &root.join("proved_batch.yul/proved_batch.json"),
        &env.bootloader.code,
    );
    write_artifact(
        &root.join("DefaultAccount.sol/DefaultAccount.json"),
        &env.default_aa.code,
    );
}

#[test]
fn genesis_world_from_a_checkout_runs_a_vector() {
    let home = TempDir::new().unwrap();
    lay_out_checkout(home.path());
    let chain_id = L2ChainId::from(271);
    let world = load_zksync_home(home.path(), ProtocolVersionId::Version26, chain_id).unwrap();

    assert!(world.has_code(CONTRACT_DEPLOYER_ADDRESS));
    assert!(world.has_code(EVENT_WRITER_ADDRESS));
    let chain_id_slot = zksync_types::get_system_context_key(SYSTEM_CONTEXT_CHAIN_ID_POSITION);
    assert_eq!(
        world.storage.value(&chain_id_slot),
        zksync_types::H256::from_low_u64_be(271),
        "system context genesis storage"
    );

    let vector = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/storage_writes.yaml"
    );
    let comparison = Differential::new(world, VmLatest, VmFast)
        .run_file(
            &load_batch_file(vector.as_ref()).unwrap(),
            &RunOptions::default(),
        )
        .unwrap();
    assert_eq!(comparison.divergence, None);
    let outcome = &comparison.reference.outcome;
    assert!(outcome.transactions.iter().all(|tx| tx.included));
    let batch = outcome.batch.as_ref().unwrap();
    assert!(
        matches!(batch.block_tip.result, ExecResult::Success { .. }),
        "{:?}",
        batch.block_tip.result
    );
}

#[test]
fn incomplete_checkout_is_an_input_error() {
    let home = TempDir::new().unwrap();
    let err = load_zksync_home(
        home.path(),
        ProtocolVersionId::Version26,
        L2ChainId::from(271),
    )
    .unwrap_err();
    assert!(err.problem.contains("contracts/system-contracts"), "{err}");

    std::fs::create_dir_all(home.path().join("contracts/system-contracts")).unwrap();
    let err = load_zksync_home(
        home.path(),
        ProtocolVersionId::Version26,
        L2ChainId::from(271),
    )
    .unwrap_err();
    assert!(err.problem.contains("cannot load"), "{err}");
}
