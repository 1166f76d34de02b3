//! Drives any `VmInterface` implementation through a batch the way a sequencer does: a
//! snapshot before each transaction, bytecode compression with a retry without it, halted
//! transactions rolled back, then `finish_batch`. Shared with the engine binaries of other
//! zksync_multivm releases (engines/): what releases spell differently is in `crate::support::multivm_compat`.

use zksync_types::{block::L2BlockHasher, L2BlockNumber, ProtocolVersionId, Transaction, H256};
use zksync_vm_interface::{
    storage::StorageView, ExecutionResult, VmFactory, VmInterfaceHistoryEnabled,
};

use crate::{
    batch::Batch,
    outcome::{Capture, Compression, Outcome, Stage, TxOutcome, VmPanic, Word},
    support::{multivm_compat, panic_guard},
    world::{World, WorldStorage},
};

/// The storage every engine's VM is created over.
pub type VmStorage = StorageView<WorldStorage>;

/// Runs `batch` in `world` on VM type `V`, catching panics into the outcome.
pub fn run_vm<V>(world: &World, batch: &Batch) -> Outcome
where
    V: VmFactory<VmStorage> + VmInterfaceHistoryEnabled,
{
    run_vm_traced::<V>(world, batch, None, &mut |_| Default::default())
}

/// [`run_vm`] with tracers: `tracer(n)` makes the dispatcher for each execution of transaction
/// `n` (0-based, in batch order). With `last_transaction`, no later transaction runs and the
/// batch is not finished (see [`Observe::last_transaction`](super::Observe)).
pub fn run_vm_traced<V>(
    world: &World,
    batch: &Batch,
    last_transaction: Option<usize>,
    tracer: &mut dyn FnMut(usize) -> V::TracerDispatcher,
) -> Outcome
where
    V: VmFactory<VmStorage> + VmInterfaceHistoryEnabled,
{
    let mut outcome = Outcome::default();
    let mut stage = Stage::NewVm;
    let run = panic_guard::catch(|| {
        drive::<V>(
            world,
            batch,
            last_transaction,
            tracer,
            &mut outcome,
            &mut stage,
        )
    });
    if let Err(caught) = run {
        outcome.panic = Some(VmPanic {
            stage,
            message: caught.message,
            location: caught.location,
        });
    }
    outcome
}

fn drive<V>(
    world: &World,
    batch: &Batch,
    last_transaction: Option<usize>,
    tracer: &mut dyn FnMut(usize) -> V::TracerDispatcher,
    outcome: &mut Outcome,
    stage: &mut Stage,
) where
    V: VmFactory<VmStorage> + VmInterfaceHistoryEnabled,
{
    let storage = StorageView::new(world.storage.clone()).to_rc_ptr();
    let system_env = (*world.system_env).clone();
    let protocol_version = system_env.version;
    let mut vm = V::new(world.l1_batch_env.clone(), system_env, storage);

    let first = &world.l1_batch_env.first_l2_block;
    let mut block = OpenBlock {
        number: first.number,
        timestamp: first.timestamp,
        prev_block_hash: first.prev_block_hash,
        tx_hashes: vec![],
    };
    for (b, spec) in batch.blocks.iter().enumerate() {
        // A sequencer seals an L2 block only once it holds a transaction (the VMs refuse to open a
        // block after an empty one), so after an empty or fully rejected block the next block's
        // transactions join the open one.
        if b > 0 && !block.tx_hashes.is_empty() {
            block = OpenBlock {
                number: block.number + 1,
                timestamp: spec.timestamp,
                prev_block_hash: spec
                    .prev_block_hash
                    .unwrap_or_else(|| block.hash(protocol_version)),
                tx_hashes: vec![],
            };
            vm.start_new_l2_block(multivm_compat::l2_block_env(
                block.number,
                block.timestamp,
                block.prev_block_hash,
                spec.virtual_blocks,
            ));
        }
        for tx in &spec.transactions {
            let index = outcome.transactions.len();
            *stage = Stage::Transaction(index);
            let tx_outcome = execute_transaction(&mut vm, tx, &mut || tracer(index));
            if tx_outcome.included {
                block.tx_hashes.push(tx.hash());
            }
            outcome.transactions.push(tx_outcome);
            if last_transaction == Some(index) {
                return;
            }
        }
    }

    *stage = Stage::FinishBatch;
    let pubdata_builder = multivm_compat::pubdata_builder(world.pubdata_params, protocol_version);
    let finished = vm.finish_batch(pubdata_builder);
    outcome.batch = Some(finished.capture());
}

/// The L2 block being filled, to derive the next block's `prev_block_hash`.
struct OpenBlock {
    number: u32,
    timestamp: u64,
    prev_block_hash: H256,
    tx_hashes: Vec<H256>,
}

impl OpenBlock {
    fn hash(&self, protocol_version: ProtocolVersionId) -> H256 {
        let mut hasher = L2BlockHasher::new(
            L2BlockNumber(self.number),
            self.timestamp,
            self.prev_block_hash,
        );
        for &tx_hash in &self.tx_hashes {
            hasher.push_tx_hash(tx_hash);
        }
        hasher.finalize(protocol_version)
    }
}

fn execute_transaction<V: VmInterfaceHistoryEnabled>(
    vm: &mut V,
    tx: &Transaction,
    tracer: &mut dyn FnMut() -> V::TracerDispatcher,
) -> TxOutcome {
    vm.make_snapshot();
    let (compression, result) = {
        let (compressed, result) =
            vm.inspect_transaction_with_bytecode_compression(&mut tracer(), tx.clone(), true);
        (compressed.map(|bytecodes| bytecodes.capture()), result)
    };
    let (compression, result) = match compression {
        Ok(compression) => (compression, result),
        Err(err) => {
            // As a sequencer does: the compressed bytecodes were not published, so run the
            // transaction again without compression.
            vm.rollback_to_the_latest_snapshot();
            vm.make_snapshot();
            let (_, result) =
                vm.inspect_transaction_with_bytecode_compression(&mut tracer(), tx.clone(), false);
            (Compression::Failed(err.to_string()), result)
        }
    };
    let included = !matches!(result.result, ExecutionResult::Halt { .. });
    if included {
        vm.pop_snapshot_no_rollback();
    } else {
        vm.rollback_to_the_latest_snapshot();
    }
    TxOutcome {
        hash: Word::from(tx.hash()),
        included,
        compression,
        execution: result.capture(),
    }
}
