//! What is compared: every field of an outcome, in the order a VM engineer reads them, each with
//! the unit it belongs to and its field group (see [`FieldGroup`]).

use std::fmt;

use zksync_types::Address;

use super::{
    walk::{Compare, Render, Variant, Walker},
    FieldGroup, Unit,
};
use crate::{
    outcome::{
        BatchOutcome, CircuitStatistic, Compression, Event, ExecResult, Execution, FinalState,
        HaltReason, L2ToL1Log, Outcome, SlotValue, StateDiff, StorageWrite, TxOutcome, VmPanic,
        Word,
    },
    support::{bytes::HexBytes, panic_guard::PanicLocation},
};

impl Variant for Compression {
    fn variant(&self) -> String {
        match self {
            Self::Compressed(_) => "compressed".into(),
            Self::Failed(_) => "failed".into(),
        }
    }
}

impl Variant for ExecResult {
    fn variant(&self) -> String {
        self.kind().to_string()
    }
}

macro_rules! render_display {
    ($($ty:ty),*) => {$(
        impl Render for $ty {
            fn render(&self) -> String {
                self.to_string()
            }

            fn same(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

render_display!(
    u8,
    u16,
    u32,
    u64,
    i32,
    usize,
    bool,
    String,
    str,
    HaltReason,
    PanicLocation
);

impl Render for Word {
    fn render(&self) -> String {
        self.to_string()
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }

    fn words(&self) -> Option<Vec<Word>> {
        Some(vec![*self])
    }
}

impl Render for HexBytes {
    fn render(&self) -> String {
        self.to_string()
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }

    /// Event data and messages made of whole words (what kernel code stores).
    fn words(&self) -> Option<Vec<Word>> {
        (!self.0.is_empty() && self.0.len().is_multiple_of(32)).then(|| {
            self.0
                .chunks(32)
                .map(|chunk| Word(chunk.try_into().expect("32 bytes")))
                .collect()
        })
    }
}

impl Render for Address {
    fn render(&self) -> String {
        format!("{self:?}")
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Render for f32 {
    fn render(&self) -> String {
        self.to_string()
    }

    /// Bitwise, as the canonical encoding compares.
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl Render for (u32, u32) {
    fn render(&self) -> String {
        format!("({}, {})", self.0, self.1)
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Compare for Outcome {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.option("panic", &self.panic, &other.panic);
        d.length(
            "transactions",
            self.transactions.len(),
            other.transactions.len(),
        );
        for (index, (a, b)) in self
            .transactions
            .iter()
            .zip(&other.transactions)
            .enumerate()
        {
            d.in_unit(Unit::Transaction(index), |d| {
                d.element("transactions", index, a, b);
            });
        }
        d.in_unit(Unit::Batch, |d| {
            d.option("batch", &self.batch, &other.batch)
        });
    }

    fn summary(&self) -> String {
        format!("{} transactions", self.transactions.len())
    }
}

impl Compare for VmPanic {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value(
            "stage",
            &format!("{:?}", self.stage),
            &format!("{:?}", other.stage),
        );
        d.value("message", &self.message, &other.message);
        d.option("location", &self.location, &other.location);
    }

    fn summary(&self) -> String {
        match &self.location {
            Some(location) => format!("panic in {:?} at {location}: {}", self.stage, self.message),
            None => format!("panic in {:?}: {}", self.stage, self.message),
        }
    }
}

impl Compare for TxOutcome {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("hash", &self.hash, &other.hash);
        d.in_group(FieldGroup::Result, |d| {
            d.value("included", &self.included, &other.included);
            d.nested("compression", &self.compression, &other.compression);
        });
        d.nested("execution", &self.execution, &other.execution);
    }

    fn summary(&self) -> String {
        format!("transaction {}", self.hash)
    }
}

impl Compare for Compression {
    fn compare(&self, other: &Self, d: &mut Walker) {
        match (self, other) {
            (Self::Compressed(a), Self::Compressed(b)) => d.list("compressed", a, b),
            (Self::Failed(a), Self::Failed(b)) => d.value("failed", a, b),
            _ => d.variant(self, other),
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::Compressed(bytecodes) => format!("compressed {} bytecodes", bytecodes.len()),
            Self::Failed(reason) => format!("failed: {reason}"),
        }
    }
}

impl Compare for Execution {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.in_group(FieldGroup::Result, |d| {
            d.nested("result", &self.result, &other.result);
        });
        d.in_group(FieldGroup::Effects, |d| {
            d.keyed(
                "storage_writes",
                &self.storage_writes,
                &other.storage_writes,
                |w| SlotKey(w.address, w.key),
            );
            d.list("events", &self.events, &other.events);
            d.list(
                "user_l2_to_l1_logs",
                &self.user_l2_to_l1_logs,
                &other.user_l2_to_l1_logs,
            );
            d.list(
                "system_l2_to_l1_logs",
                &self.system_l2_to_l1_logs,
                &other.system_l2_to_l1_logs,
            );
        });
        d.in_group(FieldGroup::Costs, |d| {
            d.value(
                "refunds.gas_refunded",
                &self.refunds.gas_refunded,
                &other.refunds.gas_refunded,
            );
            d.value(
                "refunds.operator_suggested_refund",
                &self.refunds.operator_suggested_refund,
                &other.refunds.operator_suggested_refund,
            );
            d.value("gas_used", &self.gas_used, &other.gas_used);
            d.value("gas_remaining", &self.gas_remaining, &other.gas_remaining);
            d.value(
                "computational_gas_used",
                &self.computational_gas_used,
                &other.computational_gas_used,
            );
            d.value(
                "pubdata_published",
                &self.pubdata_published,
                &other.pubdata_published,
            );
        });
        // The block tip's statistics and factory deps are costs of sealing the batch; a
        // transaction's are statistics and effects.
        let block_tip = d.unit() == Unit::Batch;
        let (statistics, factory_deps) = if block_tip {
            (FieldGroup::Costs, FieldGroup::Costs)
        } else {
            (FieldGroup::Statistics, FieldGroup::Effects)
        };
        d.in_group(statistics, |d| {
            d.nested(
                "circuit_statistic",
                &self.circuit_statistic,
                &other.circuit_statistic,
            );
        });
        d.in_group(factory_deps, |d| {
            d.map(
                "dynamic_factory_deps",
                &self.dynamic_factory_deps,
                &other.dynamic_factory_deps,
            );
        });
    }

    fn summary(&self) -> String {
        self.result.summary()
    }
}

impl Compare for ExecResult {
    fn compare(&self, other: &Self, d: &mut Walker) {
        match (self, other) {
            (Self::Success { output: a }, Self::Success { output: b }) => d.value("output", a, b),
            (
                Self::Revert {
                    reason: ra,
                    data: da,
                },
                Self::Revert {
                    reason: rb,
                    data: db,
                },
            ) => {
                d.value("reason", ra, rb);
                d.value("data", da, db);
            }
            (Self::Halt { reason: a }, Self::Halt { reason: b }) => d.value("reason", a, b),
            _ => d.variant(self, other),
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::Success { output } => format!("success {output}"),
            Self::Revert { reason, .. } => format!("revert: {reason}"),
            Self::Halt { reason } => format!("halt: {reason}"),
        }
    }
}

/// A storage slot as a path key: `address/key`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SlotKey(Address, Word);

impl fmt::Display for SlotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}/{}", self.0, self.1)
    }
}

impl Compare for StorageWrite {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("before", &self.before, &other.before);
        d.value("after", &self.after, &other.after);
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.before, self.after)
    }
}

impl Compare for Event {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("location", &self.location, &other.location);
        d.value("address", &self.address, &other.address);
        d.list("topics", &self.topics, &other.topics);
        d.value("data", &self.data, &other.data);
    }

    fn summary(&self) -> String {
        format!(
            "event from {:?} with {} topics",
            self.address,
            self.topics.len()
        )
    }
}

impl Compare for L2ToL1Log {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("shard_id", &self.shard_id, &other.shard_id);
        d.value("is_service", &self.is_service, &other.is_service);
        d.value(
            "tx_number_in_block",
            &self.tx_number_in_block,
            &other.tx_number_in_block,
        );
        d.value("sender", &self.sender, &other.sender);
        d.value("key", &self.key, &other.key);
        d.value("value", &self.value, &other.value);
    }

    fn summary(&self) -> String {
        format!("log from {:?}: {} = {}", self.sender, self.key, self.value)
    }
}

impl Compare for CircuitStatistic {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("main_vm", &self.main_vm, &other.main_vm);
        d.value(
            "ram_permutation",
            &self.ram_permutation,
            &other.ram_permutation,
        );
        d.value(
            "storage_application",
            &self.storage_application,
            &other.storage_application,
        );
        d.value(
            "storage_sorter",
            &self.storage_sorter,
            &other.storage_sorter,
        );
        d.value(
            "code_decommitter",
            &self.code_decommitter,
            &other.code_decommitter,
        );
        d.value(
            "code_decommitter_sorter",
            &self.code_decommitter_sorter,
            &other.code_decommitter_sorter,
        );
        d.value("log_demuxer", &self.log_demuxer, &other.log_demuxer);
        d.value("events_sorter", &self.events_sorter, &other.events_sorter);
        d.value("keccak256", &self.keccak256, &other.keccak256);
        d.value("ecrecover", &self.ecrecover, &other.ecrecover);
        d.value("sha256", &self.sha256, &other.sha256);
        d.value(
            "secp256k1_verify",
            &self.secp256k1_verify,
            &other.secp256k1_verify,
        );
        d.value(
            "transient_storage_checker",
            &self.transient_storage_checker,
            &other.transient_storage_checker,
        );
        d.value("modexp", &self.modexp, &other.modexp);
        d.value("ecadd", &self.ecadd, &other.ecadd);
        d.value("ecmul", &self.ecmul, &other.ecmul);
        d.value("ecpairing", &self.ecpairing, &other.ecpairing);
    }

    fn summary(&self) -> String {
        format!("main_vm {}", self.main_vm)
    }
}

/// A sealed batch's state-diff records (none if it reports none).
fn records(batch: &BatchOutcome) -> &[StateDiff] {
    batch.state_diffs.as_deref().unwrap_or_default()
}

impl Compare for BatchOutcome {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.nested("block_tip", &self.block_tip, &other.block_tip);
        d.in_group(FieldGroup::Effects, |d| {
            d.nested("final_state", &self.final_state, &other.final_state);
        });
        d.in_group(FieldGroup::Statistics, |d| {
            match (&self.bootloader_memory, &other.bootloader_memory) {
                (Some(a), Some(b)) => d.map("bootloader_memory", a, b),
                (a, b) => d.value(
                    "bootloader_memory",
                    &a.is_some().to_string(),
                    &b.is_some().to_string(),
                ),
            }
        });
        d.in_group(FieldGroup::Costs, |d| {
            super::pubdata::compare(
                d,
                "pubdata_input",
                (&self.pubdata_input, records(self)),
                (&other.pubdata_input, records(other)),
            );
            match (&self.state_diffs, &other.state_diffs) {
                (Some(a), Some(b)) => {
                    d.keyed("state_diffs", a, b, |diff| SlotKey(diff.address, diff.key))
                }
                (a, b) => d.value(
                    "state_diffs",
                    &a.is_some().to_string(),
                    &b.is_some().to_string(),
                ),
            }
        });
    }

    fn summary(&self) -> String {
        format!(
            "batch sealed, block tip {}",
            self.block_tip.result.summary()
        )
    }
}

impl Compare for FinalState {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.list("events", &self.events, &other.events);
        d.keyed(
            "storage_writes",
            &self.storage_writes,
            &other.storage_writes,
            |w| SlotKey(w.address, w.key),
        );
        d.list(
            "user_l2_to_l1_logs",
            &self.user_l2_to_l1_logs,
            &other.user_l2_to_l1_logs,
        );
        d.list("system_logs", &self.system_logs, &other.system_logs);
        d.list(
            "storage_refunds",
            &self.storage_refunds,
            &other.storage_refunds,
        );
        d.list("pubdata_costs", &self.pubdata_costs, &other.pubdata_costs);
        d.list(
            "used_contract_hashes",
            &self.used_contract_hashes,
            &other.used_contract_hashes,
        );
    }

    fn summary(&self) -> String {
        format!("{} events", self.events.len())
    }
}

impl Compare for SlotValue {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("", &self.value, &other.value);
    }

    fn summary(&self) -> String {
        self.value.to_string()
    }
}

impl Compare for StateDiff {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value("derived_key", &self.derived_key, &other.derived_key);
        d.value(
            "enumeration_index",
            &self.enumeration_index,
            &other.enumeration_index,
        );
        d.value("initial_value", &self.initial_value, &other.initial_value);
        d.value("final_value", &self.final_value, &other.final_value);
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.initial_value, self.final_value)
    }
}
