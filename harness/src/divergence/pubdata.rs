//! Pubdata compared by decoded element: a difference names the section, the element (a state-diff
//! write by its derived key or enumeration index, with the slot the VM's own records give it) and
//! the field, so it reads "`state_diffs.repeated[12 (0x…800a 0x…05)].value.operation`: add → sub"
//! rather than a byte offset, and the fingerprint takes the element kind, not the offset.
//!
//! Nothing is compared less: decoding is exact (every byte belongs to one element, and encoding
//! the decoded pubdata gives the bytes back), so two pubdata that decode are equal exactly when
//! their elements are. Bytes that do not decode on either side are compared as bytes.

use std::{
    cmp::Ordering,
    collections::{BTreeSet, HashMap},
    fmt,
};

use zksync_types::Address;

use super::walk::{Compare, Render, Walker};
use crate::{
    outcome::{StateDiff, Word},
    pubdata::{CompressedValue, Operation, Pubdata},
    support::bytes::HexBytes,
};

/// Compares two batches' pubdata under `name`, each with the state-diff records of its VM.
pub(super) fn compare(
    d: &mut Walker,
    name: &'static str,
    reference: (&Option<HexBytes>, &[StateDiff]),
    candidate: (&Option<HexBytes>, &[StateDiff]),
) {
    fn decode((bytes, records): (&Option<HexBytes>, &[StateDiff])) -> Option<Published> {
        let pubdata = Pubdata::decode(&bytes.as_ref()?.0).ok()?;
        let slot = |record: &StateDiff| (record.address, record.key);
        Some(Published {
            pubdata,
            by_derived_key: records.iter().map(|r| (r.derived_key, slot(r))).collect(),
            by_index: records
                .iter()
                .map(|r| (r.enumeration_index, slot(r)))
                .collect(),
        })
    }
    match (decode(reference), decode(candidate)) {
        (Some(a), Some(b)) => d.nested(name, &a, &b),
        _ => d.option(name, reference.0, candidate.0),
    }
}

/// Decoded pubdata, and the slots (address, key) the VM's records give its writes.
struct Published {
    pubdata: Pubdata,
    by_derived_key: HashMap<Word, (Address, Word)>,
    by_index: HashMap<u64, (Address, Word)>,
}

impl Compare for Published {
    fn compare(&self, other: &Self, d: &mut Walker) {
        let (a, b) = (&self.pubdata, &other.pubdata);
        d.list("user_logs", &a.user_logs, &b.user_logs);
        d.list("messages", &a.messages, &b.messages);
        d.list("bytecodes", &a.bytecodes, &b.bytecodes);
        let (a, b) = (&a.state_diffs, &b.state_diffs);
        d.value("state_diffs.version", &a.version, &b.version);
        d.value(
            "state_diffs.enumeration_index_size",
            &a.enumeration_index_size,
            &b.enumeration_index_size,
        );
        let initial = |published: &Self| -> Vec<Write<Word>> {
            let slot = |key| published.by_derived_key.get(&key).copied();
            let writes = published.pubdata.state_diffs.initial.iter();
            writes
                .map(|write| Write::new(write.derived_key, slot(write.derived_key), &write.value))
                .collect()
        };
        let repeated = |published: &Self| -> Vec<Write<u64>> {
            let slot = |index| published.by_index.get(&index).copied();
            let writes = published.pubdata.state_diffs.repeated.iter();
            writes
                .map(|write| {
                    let index = write.enumeration_index;
                    Write::new(index, slot(index), &write.value)
                })
                .collect()
        };
        let names = ("state_diffs.initial", "state_diffs.initial.order");
        writes(d, names, initial(self), initial(other));
        let names = ("state_diffs.repeated", "state_diffs.repeated.order");
        writes(d, names, repeated(self), repeated(other));
    }

    fn summary(&self) -> String {
        format!("{} bytes of pubdata", self.pubdata.encode().len())
    }
}

/// Compares two sections of writes by key (missing, extra, different values), then, under
/// `order_name`, the order of the writes both sides publish.
fn writes<K: Ord + Copy + fmt::Display>(
    d: &mut Walker,
    (name, order_name): (&'static str, &'static str),
    mut reference: Vec<Write<K>>,
    mut candidate: Vec<Write<K>>,
) {
    let order = |writes: &[Write<K>], other: &[Write<K>]| -> Vec<K> {
        let keys: BTreeSet<K> = other.iter().map(|write| write.key).collect();
        let shared = writes.iter().filter(|write| keys.contains(&write.key));
        shared.map(|write| write.key).collect()
    };
    let orders = (order(&reference, &candidate), order(&candidate, &reference));
    // Keyed comparison walks both sides sorted by key.
    reference.sort_by_key(|write| write.key);
    candidate.sort_by_key(|write| write.key);
    let key = |write: &Write<K>| WriteKey(write.key, write.slot);
    d.keyed(name, &reference, &candidate, key);
    let (a, b) = orders;
    if let Some(at) = a.iter().zip(&b).position(|(a, b)| a != b) {
        let (a, b) = (format!("{} at {at}", a[at]), format!("{} at {at}", b[at]));
        d.value(order_name, &a, &b);
    }
}

/// A compressed state-diff write: by derived key (initial) or enumeration index (repeated).
struct Write<K> {
    key: K,
    slot: Option<(Address, Word)>,
    value: CompressedValue,
}

impl<K> Write<K> {
    fn new(key: K, slot: Option<(Address, Word)>, value: &CompressedValue) -> Self {
        let value = value.clone();
        Self { key, slot, value }
    }
}

impl<K: Copy + fmt::Display> Compare for Write<K> {
    fn compare(&self, other: &Self, d: &mut Walker) {
        d.value(
            "value.operation",
            &self.value.operation,
            &other.value.operation,
        );
        d.value("value.operand", &self.value.operand, &other.value.operand);
    }

    fn summary(&self) -> String {
        format!("{}: {}", WriteKey(self.key, self.slot), self.value)
    }
}

/// A write's key, ordered by the key alone, shown with the write's slot when it is known.
struct WriteKey<K>(K, Option<(Address, Word)>);

impl<K: Ord> Ord for WriteKey<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K: Ord> PartialOrd for WriteKey<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord> PartialEq for WriteKey<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Ord> Eq for WriteKey<K> {}

impl<K: fmt::Display> fmt::Display for WriteKey<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        match self.1 {
            Some((address, key)) => write!(f, " ({address:?} {key})"),
            None => Ok(()),
        }
    }
}

impl Render for Operation {
    fn render(&self) -> String {
        self.to_string()
    }

    fn same(&self, other: &Self) -> bool {
        self == other
    }
}
