//! Batches: what the VMs execute (L2 blocks of transactions), and the YAML files people write
//! them in.

mod keys;
mod prepare;
mod spec;
mod values;

use zksync_types::{Transaction, H256};

pub use self::{
    keys::{test_key, test_key_address},
    prepare::{
        batch_files_in, known_divergences, load_batch_file, parse_batch_file, write_batch_file,
        PreparedBatch,
    },
    spec::{
        BalanceSpec, BatchFile, BlockSpec, ContractSpec, Expectation, FactoryDepSpec, L1TxSpec,
        L2TxSpec, Party, StorageSpec, TxSpec,
    },
    values::{HexBytes, Quantity},
};

/// A batch as every engine receives it: ready-to-execute transactions in L2 blocks.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub blocks: Vec<Block>,
}

/// One L2 block. The first block of a batch runs in the L1 batch env's first L2 block, so its
/// own timestamp, virtual block count and previous hash are not used.
#[derive(Debug, Clone)]
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
}
