//! Conversion of what the VM interface returns into canonical outcome parts.

use std::collections::BTreeMap;

use zksync_types::{
    l2_to_l1_log::L2ToL1Log as VmL2ToL1Log, writes::StateDiffRecord, StorageLogWithPreviousValue,
};
use zksync_vm_interface::{
    CircuitStatistic as VmCircuitStatistic, CompressedBytecodeInfo, CurrentExecutionState,
    ExecutionResult, FinishedL1Batch, VmEvent, VmExecutionResultAndLogs,
};

use super::{
    BatchOutcome, CircuitStatistic, Compression, Event, ExecResult, Execution, FinalState,
    L2ToL1Log, Refunds, SlotValue, StateDiff, StorageWrite, Word,
};
use crate::support::{bytes::HexBytes, multivm_compat};

/// Conversion of a VM interface type into its canonical outcome form.
pub trait Capture {
    type Canonical;
    fn capture(&self) -> Self::Canonical;
}

impl Capture for VmExecutionResultAndLogs {
    type Canonical = Execution;

    fn capture(&self) -> Execution {
        let dynamic_factory_deps = self
            .dynamic_factory_deps
            .iter()
            .map(|(hash, code)| (Word::from(*hash), HexBytes(code.clone())))
            .collect();
        Execution {
            result: self.result.capture(),
            storage_writes: net_storage_writes(&self.logs.storage_logs),
            events: self.logs.events.iter().map(Capture::capture).collect(),
            user_l2_to_l1_logs: self
                .logs
                .user_l2_to_l1_logs
                .iter()
                .map(|log| log.0.capture())
                .collect(),
            system_l2_to_l1_logs: self
                .logs
                .system_l2_to_l1_logs
                .iter()
                .map(|log| log.0.capture())
                .collect(),
            refunds: Refunds {
                gas_refunded: self.refunds.gas_refunded,
                operator_suggested_refund: self.refunds.operator_suggested_refund,
            },
            gas_used: self.statistics.gas_used,
            gas_remaining: self.statistics.gas_remaining,
            computational_gas_used: self.statistics.computational_gas_used,
            pubdata_published: self.statistics.pubdata_published,
            circuit_statistic: self.statistics.circuit_statistic.capture(),
            dynamic_factory_deps,
        }
    }
}

impl Capture for ExecutionResult {
    type Canonical = ExecResult;

    fn capture(&self) -> ExecResult {
        match self {
            Self::Success { output } => ExecResult::Success {
                output: HexBytes(output.clone()),
            },
            Self::Revert { output } => ExecResult::Revert {
                reason: output.to_string(),
                data: HexBytes(output.encoded_data()),
            },
            Self::Halt { reason } => ExecResult::Halt {
                reason: reason.into(),
            },
        }
    }
}

/// One entry per written slot: the value before the first write and after the last; slots that
/// end where they started are dropped (the legacy VM logs such no-op writes, the fast VM does not).
fn net_storage_writes(logs: &[StorageLogWithPreviousValue]) -> Vec<StorageWrite> {
    let mut writes = BTreeMap::new();
    for log in logs.iter().filter(|log| log.log.is_write()) {
        let key = (*log.log.key.address(), Word::from(*log.log.key.key()));
        writes
            .entry(key)
            .and_modify(|(_, after)| *after = Word::from(log.log.value))
            .or_insert((Word::from(log.previous_value), Word::from(log.log.value)));
    }
    writes
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|((address, key), (before, after))| StorageWrite {
            address,
            key,
            before,
            after,
        })
        .collect()
}

impl Capture for VmEvent {
    type Canonical = Event;

    fn capture(&self) -> Event {
        Event {
            location: (self.location.0 .0, self.location.1),
            address: self.address,
            topics: self
                .indexed_topics
                .iter()
                .copied()
                .map(Word::from)
                .collect(),
            data: HexBytes(self.value.clone()),
        }
    }
}

impl Capture for VmL2ToL1Log {
    type Canonical = L2ToL1Log;

    fn capture(&self) -> L2ToL1Log {
        L2ToL1Log {
            shard_id: self.shard_id,
            is_service: self.is_service,
            tx_number_in_block: self.tx_number_in_block,
            sender: self.sender,
            key: self.key.into(),
            value: self.value.into(),
        }
    }
}

impl Capture for VmCircuitStatistic {
    type Canonical = CircuitStatistic;

    /// Circuits times the release's capacity per circuit: cycles (see [`CircuitStatistic`]).
    fn capture(&self) -> CircuitStatistic {
        let geometry = &multivm_compat::GEOMETRY;
        let [modexp, ecadd, ecmul, ecpairing] = multivm_compat::PRECOMPILE_CAPACITIES;
        let cycles = |circuits: f32, capacity: u32| {
            // A u32 count over a u32 capacity: the product is below 2^64.
            (f64::from(circuits) * f64::from(capacity)).round() as u64
        };
        CircuitStatistic {
            main_vm: cycles(self.main_vm, geometry.cycles_per_vm_snapshot),
            ram_permutation: cycles(self.ram_permutation, geometry.cycles_per_ram_permutation),
            storage_application: cycles(
                self.storage_application,
                geometry.cycles_per_storage_application,
            ),
            storage_sorter: cycles(self.storage_sorter, geometry.cycles_per_storage_sorter),
            code_decommitter: cycles(self.code_decommitter, geometry.cycles_per_code_decommitter),
            code_decommitter_sorter: cycles(
                self.code_decommitter_sorter,
                geometry.cycles_code_decommitter_sorter,
            ),
            log_demuxer: cycles(self.log_demuxer, geometry.cycles_per_log_demuxer),
            events_sorter: cycles(
                self.events_sorter,
                geometry.cycles_per_events_or_l1_messages_sorter,
            ),
            keccak256: cycles(self.keccak256, geometry.cycles_per_keccak256_circuit),
            ecrecover: cycles(self.ecrecover, geometry.cycles_per_ecrecover_circuit),
            sha256: cycles(self.sha256, geometry.cycles_per_sha256_circuit),
            secp256k1_verify: cycles(
                self.secp256k1_verify,
                geometry.cycles_per_secp256r1_verify_circuit,
            ),
            transient_storage_checker: cycles(
                self.transient_storage_checker,
                geometry.cycles_per_transient_storage_sorter,
            ),
            modexp: cycles(self.modexp, modexp),
            ecadd: cycles(self.ecadd, ecadd),
            ecmul: cycles(self.ecmul, ecmul),
            ecpairing: cycles(self.ecpairing, ecpairing),
        }
    }
}

impl Capture for [CompressedBytecodeInfo] {
    type Canonical = Compression;

    fn capture(&self) -> Compression {
        Compression::Compressed(
            self.iter()
                .map(|info| HexBytes(info.compressed.clone()))
                .collect(),
        )
    }
}

impl Capture for CurrentExecutionState {
    type Canonical = FinalState;

    fn capture(&self) -> FinalState {
        let storage_writes: BTreeMap<_, _> = self
            .deduplicated_storage_logs
            .iter()
            .filter(|log| log.is_write())
            .map(|log| {
                (
                    (*log.key.address(), Word::from(*log.key.key())),
                    Word::from(log.value),
                )
            })
            .collect();
        let mut used_contract_hashes: Vec<Word> = self
            .used_contract_hashes
            .iter()
            .copied()
            .map(Word::from)
            .collect();
        used_contract_hashes.sort();
        used_contract_hashes.dedup();
        FinalState {
            events: self.events.iter().map(Capture::capture).collect(),
            storage_writes: storage_writes
                .into_iter()
                .map(|((address, key), value)| SlotValue {
                    address,
                    key,
                    value,
                })
                .collect(),
            user_l2_to_l1_logs: self
                .user_l2_to_l1_logs
                .iter()
                .map(|log| log.0.capture())
                .collect(),
            system_logs: self.system_logs.iter().map(|log| log.0.capture()).collect(),
            storage_refunds: self.storage_refunds.clone(),
            pubdata_costs: self.pubdata_costs.clone(),
            used_contract_hashes,
        }
    }
}

impl Capture for StateDiffRecord {
    type Canonical = StateDiff;

    fn capture(&self) -> StateDiff {
        StateDiff {
            address: self.address,
            key: self.key.into(),
            derived_key: Word(self.derived_key),
            enumeration_index: self.enumeration_index,
            initial_value: self.initial_value.into(),
            final_value: self.final_value.into(),
        }
    }
}

impl Capture for FinishedL1Batch {
    type Canonical = BatchOutcome;

    fn capture(&self) -> BatchOutcome {
        BatchOutcome {
            block_tip: self.block_tip_execution_result.capture(),
            final_state: self.final_execution_state.capture(),
            bootloader_memory: self.final_bootloader_memory.as_ref().map(|memory| {
                // Later entries for the same index win, as in memory; zero words are implicit.
                let words: BTreeMap<u64, Word> = memory
                    .iter()
                    .map(|&(index, value)| (index as u64, Word::from(value)))
                    .collect();
                words
                    .into_iter()
                    .filter(|(_, value)| *value != Word::default())
                    .collect()
            }),
            pubdata_input: self.pubdata_input.clone().map(HexBytes),
            state_diffs: self
                .state_diffs
                .as_ref()
                .map(|diffs| diffs.iter().map(Capture::capture).collect()),
        }
    }
}
