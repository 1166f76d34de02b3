//! Chains of L1 batches: the world a sealed batch leaves behind, in which the next batch runs;
//! a prepared file's chain walked batch by batch; where a comparison stands in its chain.

use std::{collections::HashMap, sync::Arc};

use zksync_system_constants::{
    SYSTEM_CONTEXT_ADDRESS, SYSTEM_CONTEXT_BLOCK_INFO_POSITION,
    SYSTEM_CONTEXT_CURRENT_L2_BLOCK_HASHES_POSITION, SYSTEM_CONTEXT_CURRENT_L2_BLOCK_INFO_POSITION,
    SYSTEM_CONTEXT_CURRENT_TX_ROLLING_HASH_POSITION, SYSTEM_CONTEXT_STORED_L2_BLOCK_HASHES,
};
use zksync_types::{
    block::{unpack_block_info, L2BlockHasher},
    bytecode::BytecodeHash,
    h256_to_u256, u256_to_h256,
    web3::{keccak256, keccak256_concat},
    AccountTreeId, L1BatchNumber, L2BlockNumber, StorageKey, H256,
};
use zksync_vm_interface::L2BlockEnv;

use crate::{
    batch::Batch,
    batch_file::PreparedBatch,
    engine::Engine,
    outcome::Outcome,
    pubdata::Pubdata,
    world::{World, WorldStorage},
};

impl World {
    /// The world after `batch` ran in this one with `outcome`, for the next batch of a chain:
    /// - the batch's final storage is committed. Slots written for the first time are numbered
    ///   (enumeration indices) in the order the pubdata publishes them — a node rebuilding the
    ///   state from L1 has nothing else to go by — then any it leaves out, in slot order;
    /// - the factory deps the batch shipped or deployed are known;
    /// - the L1 batch env is the next batch's: number + 1, a later timestamp, a previous batch hash
    ///   that follows this batch's pubdata (a stand-in for the state root), and a first L2
    ///   block that follows the last one the system context recorded (number, and hash from its
    ///   number, timestamp, previous hash and transaction rolling hash).
    ///
    /// An error when the batch was not sealed (an engine panicked).
    pub fn after(&self, batch: &Batch, outcome: &Outcome) -> Result<World, String> {
        let sealed =
            (outcome.batch.as_ref()).ok_or("the batch was not sealed: nothing to chain")?;
        let mut layer = self.storage.flattened();

        // The batch's writes in slot order, by hashed key.
        let writes: Vec<(H256, StorageKey, H256)> = (sealed.final_state.storage_writes.iter())
            .map(|slot| {
                let key = StorageKey::new(AccountTreeId::new(slot.address), H256(slot.key.0));
                (key.hashed_key(), key, H256(slot.value.0))
            })
            .collect();
        let mut written: HashMap<H256, (StorageKey, H256)> = (writes.iter())
            .map(|&(hashed_key, key, value)| (hashed_key, (key, value)))
            .collect();
        let published = (sealed.pubdata_input.as_ref())
            .and_then(|bytes| Pubdata::decode(&bytes.0).ok())
            .map(|pubdata| pubdata.state_diffs.initial)
            .unwrap_or_default();
        let in_slot_order = writes.iter().map(|&(hashed_key, _, _)| hashed_key);
        let published = published.iter().map(|write| H256(write.derived_key.0));
        for hashed_key in published.chain(in_slot_order) {
            let Some((key, value)) = written.remove(&hashed_key) else {
                continue;
            };
            // A slot that was never written and is still zero stays unnumbered.
            if layer.slot(&key).is_some() || !value.is_zero() {
                layer.set(&key, value, None);
            }
        }

        let shipped = batch.blocks.iter().flat_map(|block| &block.transactions);
        for bytecode in shipped.flat_map(|tx| &tx.execute.factory_deps) {
            if zksync_types::bytecode::validate_bytecode(bytecode).is_ok() {
                let hash = BytecodeHash::for_bytecode(bytecode).value();
                layer.store_factory_dep(hash, bytecode.clone());
            }
        }
        for tx in &outcome.transactions {
            for (hash, bytecode) in &tx.execution.dynamic_factory_deps {
                layer.store_factory_dep(H256(hash.0), bytecode.0.clone());
            }
        }

        let context = |position: H256| {
            let key = StorageKey::new(AccountTreeId::new(SYSTEM_CONTEXT_ADDRESS), position);
            layer.slot(&key).map_or_else(H256::zero, |slot| slot.value)
        };
        let (batch_number, batch_timestamp) =
            unpack_block_info(h256_to_u256(context(SYSTEM_CONTEXT_BLOCK_INFO_POSITION)));
        if batch_number != u64::from(self.l1_batch_env.number.0) {
            return Err(format!(
                "the system context records batch {batch_number}, the batch ran as {}",
                self.l1_batch_env.number.0
            ));
        }
        let (block_number, block_timestamp) = unpack_block_info(h256_to_u256(context(
            SYSTEM_CONTEXT_CURRENT_L2_BLOCK_INFO_POSITION,
        )));
        let hash_slot = |number: u64| {
            let base = h256_to_u256(SYSTEM_CONTEXT_CURRENT_L2_BLOCK_HASHES_POSITION);
            let offset = number % u64::from(SYSTEM_CONTEXT_STORED_L2_BLOCK_HASHES);
            u256_to_h256(base + offset)
        };
        let block_hash = L2BlockHasher::hash(
            L2BlockNumber(block_number as u32),
            block_timestamp,
            context(hash_slot(block_number.saturating_sub(1))),
            context(SYSTEM_CONTEXT_CURRENT_TX_ROLLING_HASH_POSITION),
            self.system_env.version,
        );

        let mut world = self.clone();
        let env = &mut world.l1_batch_env;
        // The real previous batch hash is the root of the state tree, which nothing here keeps;
        // a hash that follows the batch's pubdata stands in for it, so that each batch sets a
        // new one, as a sequencer's would.
        let pubdata = sealed
            .pubdata_input
            .as_ref()
            .map_or(&[][..], |bytes| &bytes.0[..]);
        let previous = env.previous_batch_hash.unwrap_or_default();
        env.previous_batch_hash = Some(keccak256_concat(previous, H256(keccak256(pubdata))));
        env.number = L1BatchNumber(env.number.0 + 1);
        env.timestamp = batch_timestamp.max(block_timestamp) + 1;
        env.first_l2_block = L2BlockEnv {
            number: block_number as u32 + 1,
            timestamp: env.timestamp,
            prev_block_hash: block_hash,
            max_virtual_blocks_to_create: 1,
            interop_roots: vec![],
        };
        world.storage = WorldStorage::new(Arc::new(layer), Arc::default());
        Ok(world)
    }
}

impl PreparedBatch {
    /// Runs the chain: `step` runs each L1 batch in the world the one before left behind,
    /// which `outcome` says (the outcome the chain goes on from, or `None` to stop there). Every
    /// step's result, and why the chain stopped before its last batch if a batch could not be
    /// chained (it was not sealed).
    pub fn walk<T>(
        &self,
        mut step: impl FnMut(&World, &Batch) -> T,
        outcome: impl Fn(&T) -> Option<&Outcome>,
    ) -> (Vec<T>, Option<String>) {
        let (mut world, mut batch) = (self.world.clone(), self.batch.clone());
        let mut results = vec![];
        for next in &self.chained {
            let result = step(&world, &batch);
            let after = outcome(&result).map(|outcome| world.after(&batch, outcome));
            results.push(result);
            match after {
                None => return (results, None),
                Some(Err(why)) => return (results, Some(why)),
                Some(Ok(after)) => {
                    batch = next.starting_at(after.l1_batch_env.first_l2_block.timestamp);
                    world = after;
                }
            }
        }
        results.push(step(&world, &batch));
        (results, None)
    }
}

/// Where a comparison stands in its file's chain of L1 batches. The chain runs on while the
/// engines agree (each batch in the world the one before left behind), so a comparison is of
/// the first batch they disagree on, or of the last.
#[derive(Debug, Clone)]
pub struct ChainPosition {
    /// The L1 batch compared (0-based).
    pub batch: usize,
    /// The L1 batches in the file.
    pub batches: usize,
    /// The outcomes of the batches before, on which the engines agreed (the reference's).
    pub earlier: Vec<Outcome>,
    /// Why the chain stopped before its last batch although the engines agreed (a batch both
    /// left unsealed).
    pub stopped: Option<String>,
}

impl ChainPosition {
    /// A batch of its own.
    pub const SINGLE: Self = Self {
        batch: 0,
        batches: 1,
        earlier: vec![],
        stopped: None,
    };
}

/// A prepared file's L1 batches on one engine, each in the world the one before left behind on
/// that engine: every batch run, with its world and outcome, and why the chain stopped early if
/// it did.
pub fn chain_outcomes(
    engine: &dyn Engine,
    prepared: &PreparedBatch,
) -> (Vec<(World, Batch, Outcome)>, Option<String>) {
    prepared.walk(
        |world, batch| (world.clone(), batch.clone(), engine.run(world, batch)),
        |(_, _, outcome)| Some(outcome),
    )
}
