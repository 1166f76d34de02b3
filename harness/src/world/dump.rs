//! VM dumps: the JSON that zksync-era's shadow VM writes when its two VMs diverge
//! (`zksync_vm_interface::utils::VmDump`). A dump gives a world and the batch to replay in it.

use std::{collections::HashMap, path::Path};

use serde::Deserialize;
use zksync_types::{
    block::L2BlockExecutionData, commitment::PubdataParams, l2::L2Tx,
    transaction_request::TransactionRequest, web3::Bytes, ExecuteTransactionCommon, L2ChainId,
    Transaction, H256,
};
use zksync_vm_interface::{L1BatchEnv, SystemEnv};

use super::{system_contracts, Slot, StorageLayer, World};
use crate::{
    batch::{Batch, Block},
    support::error::{read_file, InputError},
};

/// The fields of a `VmDump`, read with our own storage representation (the upstream snapshot
/// type keeps its slots private and panics on slots it does not hold).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DumpFile {
    l1_batch_env: L1BatchEnv,
    system_env: SystemEnv,
    l2_blocks: Vec<L2BlockExecutionData>,
    storage: DumpStorage,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DumpStorage {
    storage: HashMap<H256, Option<(H256, u64)>>,
    factory_deps: HashMap<H256, Bytes>,
}

/// A parsed dump: the world it was taken in, and the batch it recorded.
#[derive(Debug, Clone)]
pub struct Dump {
    pub world: World,
    pub batch: Batch,
}

/// Reads and parses a VM dump file; system contracts the dump lacks are installed (see
/// [`super::SYSTEM_CONTRACTS`]).
pub fn load_dump(path: &Path) -> Result<Dump, InputError> {
    let bytes = read_file(path)?;
    parse_dump(&path.display().to_string(), &bytes)
}

/// Parses VM dump JSON. `origin` names the input in errors and reports.
pub fn parse_dump(origin: &str, json: &[u8]) -> Result<Dump, InputError> {
    let file: DumpFile = serde_json::from_slice(json)
        .map_err(|err| InputError::new(origin, format!("not a VM dump: {err}")))?;
    if file.l2_blocks.is_empty() {
        return Err(InputError::new(origin, "VM dump has no L2 blocks"));
    }
    let first = &file.l2_blocks[0];
    let expected = &file.l1_batch_env.first_l2_block;
    if first.number.0 != expected.number || first.timestamp != expected.timestamp {
        return Err(InputError::new(
            origin,
            format!(
                "first L2 block ({}, timestamp {}) is not the batch's first block ({}, timestamp {})",
                first.number, first.timestamp, expected.number, expected.timestamp
            ),
        ));
    }

    let mut base = StorageLayer::default();
    for (hashed_key, entry) in file.storage.storage {
        let slot = match entry {
            None => continue,
            // Index 0 marks a value without an enumeration index (an uncommitted write).
            Some((value, index)) => Slot {
                value,
                enumeration_index: (index > 0).then_some(index),
            },
        };
        base.insert_hashed(hashed_key, slot);
    }
    for (hash, code) in file.storage.factory_deps {
        base.store_factory_dep(hash, code.0);
    }
    system_contracts::install_missing(&mut base).map_err(|err| err.within(origin))?;

    let chain_id = file.system_env.chain_id;
    let mut blocks = Vec::with_capacity(file.l2_blocks.len());
    for (b, block) in file.l2_blocks.into_iter().enumerate() {
        let expected_number = file.l1_batch_env.first_l2_block.number + b as u32;
        if block.number.0 != expected_number {
            return Err(InputError::new(
                origin,
                format!(
                    "L2 block {b} is numbered {}, expected {expected_number}",
                    block.number
                ),
            ));
        }
        let mut transactions = block.txs;
        for (t, tx) in transactions.iter_mut().enumerate() {
            restore_input(tx, chain_id).map_err(|problem| {
                InputError::new(origin, format!("L2 block {b}, transaction {t}: {problem}"))
            })?;
        }
        blocks.push(Block {
            timestamp: block.timestamp,
            virtual_blocks: block.virtual_blocks,
            prev_block_hash: Some(block.prev_block_hash),
            transactions,
        });
    }
    let batch = Batch { blocks };
    let world = World::new(
        origin.to_owned(),
        file.system_env,
        file.l1_batch_env,
        PubdataParams::default(),
        base,
    );
    Ok(Dump { world, batch })
}

/// Dumps leave out the raw bytes of L2 transactions; the hash (which block hashes and reports
/// need) is recomputed from the signed fields, as the VMs do. The raw bytes are rebuilt when the
/// signature is an ECDSA one; the VMs never read them.
pub(crate) fn restore_input(tx: &mut Transaction, chain_id: L2ChainId) -> Result<(), String> {
    if !matches!(&tx.common_data, ExecuteTransactionCommon::L2(data) if data.input.is_none()) {
        return Ok(());
    }
    let l2_tx = L2Tx::try_from(tx.clone()).map_err(|err| err.to_string())?;
    let mut request = TransactionRequest::from(l2_tx);
    request.chain_id = Some(chain_id.as_u64());
    let hash = request
        .get_tx_hash()
        .map_err(|err| format!("cannot hash: {err}"))?;
    let raw = request
        .get_packed_signature()
        .and_then(|signature| request.get_signed_bytes(&signature))
        .unwrap_or_default();
    if let ExecuteTransactionCommon::L2(data) = &mut tx.common_data {
        data.set_input(raw, hash);
    }
    Ok(())
}
