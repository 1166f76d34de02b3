//! The outcome of running one batch on one engine: everything the VM reports per transaction
//! and at the end of the batch, in canonical form (deduplicated, sorted, bytes as bytes).
//!
//! The canonical encoding is postcard over these types; two outcomes are equal exactly when their
//! canonical bytes are equal, and the digest is the SHA-256 of those bytes.

mod capture;
mod halt;
mod word;

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zksync_types::Address;

pub use self::{
    capture::Capture,
    halt::{HaltKind, HaltReason},
    word::Word,
};
use crate::support::{bytes::HexBytes, panic_guard::PanicLocation};

/// One engine's outcome for one batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub transactions: Vec<TxOutcome>,
    /// `None` when the run stopped (panicked) before the batch was finished.
    pub batch: Option<BatchOutcome>,
    /// A panic inside the VM ends the run; it is recorded here, never propagated.
    pub panic: Option<VmPanic>,
}

/// Where in a run something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Creating the VM.
    NewVm,
    /// Executing transaction `n` (0-based, in batch order).
    Transaction(usize),
    /// `finish_batch`: the block tip and batch sealing.
    FinishBatch,
    /// The process of a process engine failed somewhere in the run (which stage is unknown).
    EngineProcess(ProcessFault),
}

/// How an engine process failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessFault {
    /// It exited or was killed before answering.
    Exited,
    /// It did not answer in time, and was killed.
    Hung,
    /// It answered something that is not an outcome.
    Garbage,
}

/// A panic caught inside a VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmPanic {
    pub stage: Stage,
    pub message: String,
    /// Where it panicked, by crate; `None` if the panic carried no location.
    pub location: Option<PanicLocation>,
}

/// One transaction as the VM executed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxOutcome {
    pub hash: Word,
    /// `false` when the transaction halted and was rolled back, as a sequencer rejects it.
    pub included: bool,
    pub compression: Compression,
    pub execution: Execution,
}

/// Bytecode compression for the transaction's factory deps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Compressed bytecodes, in the order the VM published them.
    Compressed(Vec<HexBytes>),
    /// Compression failed; the transaction was re-executed without it.
    Failed(String),
}

/// What one VM execution step (a transaction, or the block tip) reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub result: ExecResult,
    /// Net storage writes: one per slot (first previous value, last value), no-op writes
    /// dropped, sorted by address then key.
    pub storage_writes: Vec<StorageWrite>,
    pub events: Vec<Event>,
    pub user_l2_to_l1_logs: Vec<L2ToL1Log>,
    pub system_l2_to_l1_logs: Vec<L2ToL1Log>,
    pub refunds: Refunds,
    pub gas_used: u64,
    pub gas_remaining: u32,
    pub computational_gas_used: u32,
    pub pubdata_published: u32,
    pub circuit_statistic: CircuitStatistic,
    /// By bytecode hash.
    pub dynamic_factory_deps: BTreeMap<Word, HexBytes>,
}

/// Execution result, with revert and halt reasons in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecResult {
    Success { output: HexBytes },
    Revert { reason: String, data: HexBytes },
    Halt { reason: HaltReason },
}

/// The kind of an execution result, without its data: `success`, `revert` or `halt:<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResultKind {
    Success,
    Revert,
    Halt(HaltKind),
}

impl fmt::Display for ResultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => f.write_str("success"),
            Self::Revert => f.write_str("revert"),
            Self::Halt(kind) => write!(f, "halt:{kind}"),
        }
    }
}

impl ExecResult {
    pub fn kind(&self) -> ResultKind {
        match self {
            Self::Success { .. } => ResultKind::Success,
            Self::Revert { .. } => ResultKind::Revert,
            Self::Halt { reason } => ResultKind::Halt(reason.kind),
        }
    }
}

impl Default for ExecResult {
    fn default() -> Self {
        Self::Success {
            output: HexBytes::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StorageWrite {
    pub address: Address,
    pub key: Word,
    pub before: Word,
    pub after: Word,
}

/// A storage slot and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotValue {
    pub address: Address,
    pub key: Word,
    pub value: Word,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// L1 batch number and transaction index within it.
    pub location: (u32, u32),
    pub address: Address,
    pub topics: Vec<Word>,
    pub data: HexBytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct L2ToL1Log {
    pub shard_id: u8,
    pub is_service: bool,
    pub tx_number_in_block: u16,
    pub sender: Address,
    pub key: Word,
    pub value: Word,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refunds {
    pub gas_refunded: u64,
    pub operator_suggested_refund: u64,
}

/// Cycles used, per circuit type. The VMs report each count divided by the capacity of one
/// circuit in their release's latest circuit geometry (circuit_sequencer_api's
/// `ProtocolGeometry::latest()`): a constant of the build, not of the batch, which changed from
/// one zksync_multivm release to the next. The capture multiplies the capacity back in, so that
/// engines of different releases compare on what they counted; it is exact below 2^23 cycles
/// of a type (the quotient is the f32 of an integer count over an integer capacity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitStatistic {
    pub main_vm: u64,
    pub ram_permutation: u64,
    pub storage_application: u64,
    pub storage_sorter: u64,
    pub code_decommitter: u64,
    pub code_decommitter_sorter: u64,
    pub log_demuxer: u64,
    pub events_sorter: u64,
    pub keccak256: u64,
    pub ecrecover: u64,
    pub sha256: u64,
    pub secp256k1_verify: u64,
    pub transient_storage_checker: u64,
    pub modexp: u64,
    pub ecadd: u64,
    pub ecmul: u64,
    pub ecpairing: u64,
}

/// What `finish_batch` reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub block_tip: Execution,
    pub final_state: FinalState,
    /// Non-zero words of the bootloader heap, by index.
    pub bootloader_memory: Option<BTreeMap<u64, Word>>,
    pub pubdata_input: Option<HexBytes>,
    pub state_diffs: Option<Vec<StateDiff>>,
}

/// The VM's state after the whole batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    pub events: Vec<Event>,
    /// Final value of every written slot, sorted by address then key.
    pub storage_writes: Vec<SlotValue>,
    pub user_l2_to_l1_logs: Vec<L2ToL1Log>,
    pub system_logs: Vec<L2ToL1Log>,
    pub storage_refunds: Vec<u32>,
    pub pubdata_costs: Vec<i32>,
    /// Sorted and deduplicated.
    pub used_contract_hashes: Vec<Word>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    pub address: Address,
    pub key: Word,
    pub derived_key: Word,
    pub enumeration_index: u64,
    pub initial_value: Word,
    pub final_value: Word,
}

impl Outcome {
    /// The canonical byte encoding: equal outcomes, and only those, have equal bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("outcomes serialize to postcard")
    }

    /// Decodes canonical bytes.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// SHA-256 of the canonical bytes, in hex.
    pub fn digest(&self) -> String {
        digest(&self.canonical_bytes())
    }
}

/// The digest of canonical bytes (one outcome's, or a chain's one after the other): their SHA-256.
pub fn digest(canonical_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical_bytes))
}
