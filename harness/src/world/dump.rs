//! VM dumps: the JSON that zksync-era's shadow VM writes when its two VMs diverge
//! (`zksync_vm_interface::utils::VmDump`). A dump gives a world and the batch to replay in it.

use std::{collections::HashMap, path::Path};

use serde::Deserialize;
use zksync_types::{
    block::L2BlockExecutionData, commitment::PubdataParams, web3::Bytes, H256,
};
use zksync_vm_interface::{L1BatchEnv, SystemEnv};

use super::{standins, Slot, StorageLayer, World};
use crate::{
    batch::{Batch, Block},
    error::{read_file, InputError},
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

/// Reads and parses a VM dump file; system contracts the dump lacks get stand-ins.
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
    standins::install_missing(&mut base).map_err(|err| err.within(origin))?;

    let batch = Batch {
        blocks: file
            .l2_blocks
            .into_iter()
            .map(|block| Block {
                timestamp: block.timestamp,
                virtual_blocks: block.virtual_blocks,
                prev_block_hash: Some(block.prev_block_hash),
                transactions: block.txs,
            })
            .collect(),
    };
    let world = World::new(
        origin.to_owned(),
        file.system_env,
        file.l1_batch_env,
        PubdataParams::default(),
        base,
    );
    Ok(Dump { world, batch })
}
