//! Worlds from a zksync-era checkout (ZKSYNC_HOME): the full real genesis — every system
//! contract at its address, the proved-batch bootloader, the default account, and the system
//! context's initial storage.
//!
//! A checkout with `core/genesis_export.bin` is read from that file ([`super::load_genesis`]);
//! otherwise the compiled contracts are found where zksync-era's own loaders look for them
//! (`contracts/system-contracts/zkout/…`, or the older `artifacts-zk/…` layout).

use std::path::Path;

use zksync_contracts::{
    BaseSystemContracts, ContractLanguage, SystemContractCode, SystemContractsRepo,
};
use zksync_types::{
    bytecode::BytecodeHash, get_system_context_init_logs,
    system_contracts::get_system_smart_contracts_from_dir, L2ChainId, ProtocolVersionId,
};

use super::{deploy_into, genesis::first_batch_world, load_genesis, StorageLayer, World};
use crate::support::{error::InputError, panic_guard};

/// Where a zksync-era checkout keeps its genesis export.
const GENESIS_EXPORT: &str = "core/genesis_export.bin";

/// Whether the checkout at `home` has a genesis export.
pub(super) fn has_genesis_export(home: &Path) -> bool {
    home.join(GENESIS_EXPORT).is_file()
}

/// Builds the genesis world of the checkout at `home`: its genesis export when it has one,
/// else its compiled contracts for `protocol_version` and `chain_id`.
pub fn load_zksync_home(
    home: &Path,
    protocol_version: ProtocolVersionId,
    chain_id: L2ChainId,
) -> Result<World, InputError> {
    if has_genesis_export(home) {
        return load_genesis(&home.join(GENESIS_EXPORT));
    }
    let root = home.join("contracts/system-contracts");
    if !root.is_dir() {
        return Err(InputError::at(
            home,
            "not a zksync-era checkout: contracts/system-contracts does not exist",
        ));
    }
    // zksync_contracts' loaders panic on missing or malformed artifacts; report those as input errors.
    let read = |what: &str, load: &dyn Fn() -> Vec<u8>| {
        panic_guard::catch(load)
            .map_err(|panic| InputError::at(home, format!("cannot load {what}: {panic}")))
    };
    let repo = SystemContractsRepo { root: root.clone() };
    let bootloader = read("the proved_batch bootloader", &|| {
        repo.read_sys_contract_bytecode(
            "bootloader",
            "proved_batch",
            Some("Bootloader"),
            ContractLanguage::Yul,
        )
    })?;
    let default_aa = read("DefaultAccount", &|| {
        repo.read_sys_contract_bytecode("", "DefaultAccount", None, ContractLanguage::Sol)
    })?;
    let contracts = panic_guard::catch(|| get_system_smart_contracts_from_dir(root.clone()))
        .map_err(|panic| {
            InputError::at(home, format!("cannot load the system contracts: {panic}"))
        })?;

    let mut base = StorageLayer::default();
    for contract in contracts {
        let address = *contract.account_id.address();
        deploy_into(&mut base, None, address, contract.bytecode)
            .map_err(|err| InputError::at(home, err))?;
    }
    for log in get_system_context_init_logs(chain_id) {
        base.set(&log.key, log.value, None);
    }

    let code = |bytes: Vec<u8>| SystemContractCode {
        hash: BytecodeHash::for_bytecode(&bytes).value(),
        code: bytes,
    };
    for (what, bytes) in [("bootloader", &bootloader), ("DefaultAccount", &default_aa)] {
        zksync_types::bytecode::validate_bytecode(bytes).map_err(|err| {
            InputError::at(home, format!("{what} is not valid EraVM bytecode: {err}"))
        })?;
    }
    let contracts = BaseSystemContracts {
        bootloader: code(bootloader),
        default_aa: code(default_aa),
        evm_emulator: None,
    };
    let origin = format!("genesis of {}", home.display());
    Ok(first_batch_world(
        origin,
        protocol_version,
        chain_id,
        contracts,
        base,
    ))
}
