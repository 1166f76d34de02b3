//! Batches as every engine receives them: ready-to-execute transactions in L2 blocks. The YAML
//! batch files people write are in [`crate::batch_file`].

use serde::{Deserialize, Serialize};
use zksync_types::{Transaction, H256};

/// A batch as every engine receives it: ready-to-execute transactions in L2 blocks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Batch {
    pub blocks: Vec<Block>,
}

/// One L2 block. The first block of a batch runs in the L1 batch env's first L2 block, so its
/// own timestamp, virtual block count and previous hash are not used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub timestamp: u64,
    pub virtual_blocks: u32,
    /// Hash of the previous L2 block as recorded in a dump; `None` derives it from the
    /// transactions that the previous block actually included.
    pub prev_block_hash: Option<H256>,
    pub transactions: Vec<Transaction>,
}

impl Batch {
    pub fn transaction_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| block.transactions.len())
            .sum()
    }

    /// This batch with its blocks' timestamps moved so that the first block starts at
    /// `timestamp` (the spacing between blocks stays).
    pub fn starting_at(&self, timestamp: u64) -> Self {
        let start = self
            .blocks
            .first()
            .map_or(timestamp, |block| block.timestamp);
        let mut batch = self.clone();
        for block in &mut batch.blocks {
            block.timestamp = block.timestamp - start + timestamp;
        }
        batch
    }
}
