//! Mutations of a real dump's transactions: gas limits, calldata, values, order and repeats.
//! Dumps are replayed in the mode they were taken in (fee estimation for the shipped ones), in
//! which the bootloader does not check signatures, so mutated transactions still execute.

use arbitrary::{Result, Unstructured};
use zksync_types::{ExecuteTransactionCommon, Transaction, U256};

use crate::{
    batch::{Batch, Block},
    world::{restore_input, Dump},
};

/// A batch of the dump's transactions, mutated by fuzzer bytes, in the dump's first L2 block.
pub fn mutate_dump(u: &mut Unstructured, dump: &Dump) -> Result<Batch> {
    let originals: Vec<&Transaction> = dump
        .batch
        .blocks
        .iter()
        .flat_map(|block| &block.transactions)
        .collect();
    let count = u.int_in_range(1..=6)?;
    let mut transactions = Vec::with_capacity(count);
    for _ in 0..count {
        let mut tx = (*u.choose(&originals)?).clone();
        mutate(u, &mut tx)?;
        restore_input(&mut tx, dump.world.system_env.chain_id)
            .expect("a dump's transactions re-encode after field mutations");
        transactions.push(tx);
    }
    let first = &dump.batch.blocks[0];
    Ok(Batch {
        blocks: vec![Block {
            transactions,
            ..first.clone()
        }],
    })
}

fn mutate(u: &mut Unstructured, tx: &mut Transaction) -> Result<()> {
    if u.ratio(1, 2)? {
        let limit = match u.int_in_range(0..=3)? {
            0 => u.int_in_range(0..=100_000u64)?,
            1 => u.int_in_range(100_000..=5_000_000u64)?,
            2 => u64::from(u.arbitrary::<u32>()?),
            _ => u64::MAX,
        };
        match &mut tx.common_data {
            ExecuteTransactionCommon::L2(data) => data.fee.gas_limit = limit.into(),
            ExecuteTransactionCommon::L1(data) => data.gas_limit = limit.into(),
            ExecuteTransactionCommon::ProtocolUpgrade(data) => data.gas_limit = limit.into(),
        }
    }
    if u.ratio(1, 2)? {
        let len = u.int_in_range(0..=256)?;
        tx.execute.calldata = u.bytes(len)?.to_vec();
    }
    if u.ratio(1, 3)? {
        tx.execute.value = match u.int_in_range(0..=2)? {
            0 => U256::zero(),
            1 => U256::from(u.arbitrary::<u64>()?),
            _ => U256::MAX,
        };
    }
    if let ExecuteTransactionCommon::L2(data) = &mut tx.common_data {
        data.input = None;
    }
    Ok(())
}
