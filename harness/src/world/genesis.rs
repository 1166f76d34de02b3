//! Worlds from a genesis export: zksync-era's `core/genesis_export.bin`, the state a real chain
//! starts from (every storage log and factory dependency of its protocol version).
//!
//! The file is what zksync-era's `custom_genesis_export` writes: bincode of `GenesisState`,
//! that is a u64 little-endian count of storage logs, each a 20-byte address, 32-byte key and
//! 32-byte value, then a u64 count of factory dependencies, each a 32-byte hash, a u64 length
//! and the bytecode. It records neither the bootloader's nor the default account's hash (those
//! are in the chain's genesis.yaml). The export keeps the database's order, in which genesis
//! stored the base system contracts first: factory dependency 0 is taken as the bootloader (the
//! proved-batch one in zksync-era's file) and 1 as the default account, both checked to be code
//! that no account has.

use std::path::Path;

use zksync_contracts::{BaseSystemContracts, SystemContractCode};
use zksync_system_constants::{CONTRACT_DEPLOYER_ADDRESS, SYSTEM_CONTEXT_ADDRESS};
use zksync_types::{
    block::L2BlockHasher,
    bytecode::{validate_bytecode, BytecodeHash},
    commitment::PubdataParams,
    fee_model::{BatchFeeInput, PubdataIndependentBatchFeeModelInput},
    h256_to_u256, AccountTreeId, Address, L1BatchNumber, L2BlockNumber, L2ChainId,
    ProtocolVersionId, StorageKey, H256,
};
use zksync_vm_interface::{L1BatchEnv, L2BlockEnv, SystemEnv, TxExecutionMode};

use super::{StorageLayer, World};
use crate::support::error::{read_file, InputError};

/// Batch timestamp of genesis worlds (fixed, so runs are reproducible).
const GENESIS_TIMESTAMP: u64 = 1_700_000_000;

/// The protocol version of genesis worlds: the file does not record one, and zksync-era's
/// export (and every world here) is of protocol v26.
const GENESIS_PROTOCOL_VERSION: ProtocolVersionId = ProtocolVersionId::Version26;

/// A parsed genesis export.
#[derive(Debug)]
pub struct Genesis {
    pub storage_logs: Vec<(Address, H256, H256)>,
    /// Hash and bytecode, in the file's order (each hash checked against its bytecode).
    pub factory_deps: Vec<(H256, Vec<u8>)>,
}

/// Reads a genesis export and builds its world (in `VerifyExecute` mode).
pub fn load_genesis(path: &Path) -> Result<World, InputError> {
    let bytes = read_file(path)?;
    let origin = path.display().to_string();
    let genesis = parse_genesis(&origin, &bytes)?;
    genesis_world(&origin, genesis).map_err(|problem| InputError::at(path, problem))
}

/// Parses a genesis export. `origin` names the input in errors.
pub fn parse_genesis(origin: &str, bytes: &[u8]) -> Result<Genesis, InputError> {
    let mut reader = Reader { bytes, offset: 0 };
    let mut parse = || -> Result<Genesis, String> {
        let count = reader.count("the number of storage logs", 84)?;
        let mut storage_logs = Vec::with_capacity(count);
        for index in 0..count {
            let what = || format!("storage log {index}");
            let address = Address::from_slice(reader.take(20, &what)?);
            let key = H256::from_slice(reader.take(32, &what)?);
            let value = H256::from_slice(reader.take(32, &what)?);
            storage_logs.push((address, key, value));
        }
        let count = reader.count("the number of factory dependencies", 40)?;
        let mut factory_deps = Vec::with_capacity(count);
        for index in 0..count {
            let what = || format!("factory dependency {index}");
            let hash = H256::from_slice(reader.take(32, &what)?);
            let length = reader.count(&format!("the bytecode length of {}", what()), 1)?;
            let bytecode = reader.take(length, &what)?.to_vec();
            validate_bytecode(&bytecode)
                .map_err(|err| format!("{}: invalid EraVM bytecode: {err}", what()))?;
            let actual = BytecodeHash::for_bytecode(&bytecode).value();
            if actual != hash {
                return Err(format!(
                    "{}: recorded hash {hash:?}, its bytecode hashes to {actual:?}",
                    what()
                ));
            }
            factory_deps.push((hash, bytecode));
        }
        if reader.offset != bytes.len() {
            return Err(format!(
                "{} bytes after the last factory dependency",
                bytes.len() - reader.offset
            ));
        }
        Ok(Genesis {
            storage_logs,
            factory_deps,
        })
    };
    parse().map_err(|problem| {
        InputError::new(
            origin,
            format!("not a genesis export (bincode GenesisState): {problem}"),
        )
    })
}

/// The world a genesis starts: its storage and factory dependencies, its bootloader and default
/// account, its chain id, and batch 1 about to run.
fn genesis_world(origin: &str, genesis: Genesis) -> Result<World, String> {
    let mut base = StorageLayer::default();
    for (address, key, value) in &genesis.storage_logs {
        base.set(
            &StorageKey::new(AccountTreeId::new(*address), *key),
            *value,
            None,
        );
    }
    let deployed: Vec<H256> = genesis
        .storage_logs
        .iter()
        .filter(|(address, _, _)| *address == CONTRACT_DEPLOYER_ADDRESS)
        .map(|(_, _, hash)| *hash)
        .collect();
    let base_contract = |index: usize, what: &str| -> Result<SystemContractCode, String> {
        let (hash, code) = genesis.factory_deps.get(index).ok_or_else(|| {
            format!("has no factory dependency {index}, where a genesis keeps its {what}")
        })?;
        if deployed.contains(hash) {
            return Err(format!(
                "factory dependency {index} ({hash:?}) is an account's code, not the {what}"
            ));
        }
        Ok(SystemContractCode {
            hash: *hash,
            code: code.clone(),
        })
    };
    let bootloader = base_contract(0, "bootloader")?;
    let default_aa = base_contract(1, "default account")?;
    for (hash, bytecode) in genesis.factory_deps {
        base.store_factory_dep(hash, bytecode);
    }

    let chain_id_key = StorageKey::new(AccountTreeId::new(SYSTEM_CONTEXT_ADDRESS), H256::zero());
    let chain_id = base
        .slot(&chain_id_key)
        .map(|slot| h256_to_u256(slot.value))
        .ok_or("has no chain id (SystemContext slot 0)")?;
    let chain_id =
        L2ChainId::new(chain_id.low_u64()).map_err(|err| format!("chain id {chain_id}: {err}"))?;

    let contracts = BaseSystemContracts {
        bootloader,
        default_aa,
        evm_emulator: None,
    };
    let origin = format!("genesis {origin}");
    Ok(first_batch_world(
        origin,
        GENESIS_PROTOCOL_VERSION,
        chain_id,
        contracts,
        base,
    ))
}

/// The world of batch 1 on top of a genesis `base`, with fixed timestamp, fees and operator.
pub(super) fn first_batch_world(
    origin: String,
    version: ProtocolVersionId,
    chain_id: L2ChainId,
    contracts: BaseSystemContracts,
    base: StorageLayer,
) -> World {
    let system_env = SystemEnv {
        zk_porter_available: false,
        version,
        base_system_smart_contracts: contracts,
        bootloader_gas_limit: u32::MAX,
        execution_mode: TxExecutionMode::VerifyExecute,
        default_validation_computational_gas_limit: u32::MAX,
        chain_id,
    };
    World::new(
        origin,
        system_env,
        first_batch_env(),
        PubdataParams::default(),
        base,
    )
}

fn first_batch_env() -> L1BatchEnv {
    L1BatchEnv {
        previous_batch_hash: None,
        number: L1BatchNumber(1),
        timestamp: GENESIS_TIMESTAMP,
        fee_input: BatchFeeInput::PubdataIndependent(PubdataIndependentBatchFeeModelInput {
            fair_l2_gas_price: 100_000_000,
            fair_pubdata_price: 1_280_000_001,
            l1_gas_price: 800_000_000,
        }),
        fee_account: Address::repeat_byte(0xfe),
        enforced_base_fee: None,
        first_l2_block: L2BlockEnv {
            number: 1,
            timestamp: GENESIS_TIMESTAMP,
            prev_block_hash: L2BlockHasher::legacy_hash(L2BlockNumber(0)),
            max_virtual_blocks_to_create: 1,
            interop_roots: vec![],
        },
    }
}

/// Reads a byte string front to back, naming what it reads in errors.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize, what: &dyn Fn() -> String) -> Result<&'a [u8], String> {
        let left = self.bytes.len() - self.offset;
        if length > left {
            return Err(format!(
                "{} at byte {} needs {length} bytes, the file has {left} more (truncated?)",
                what(),
                self.offset
            ));
        }
        let taken = &self.bytes[self.offset..self.offset + length];
        self.offset += length;
        Ok(taken)
    }

    /// A u64 count of items at least `item_size` bytes long each, checked against what is left.
    fn count(&mut self, what: &str, item_size: usize) -> Result<usize, String> {
        let at = self.offset;
        let raw = self.take(8, &|| what.to_owned())?;
        let count = u64::from_le_bytes(raw.try_into().expect("8 bytes"));
        let left = (self.bytes.len() - self.offset) as u64;
        if count.saturating_mul(item_size as u64) > left {
            return Err(format!(
                "{what} (at byte {at}) is {count}, more than the {left} bytes left can hold \
                 (truncated?)"
            ));
        }
        Ok(count as usize)
    }
}
