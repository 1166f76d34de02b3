//! The data-availability oracle, applied to one engine's outcome on its own: what the batch
//! published must be what the VM reported, and must rebuild the state from the pre-state alone.
//!
//! Checked, in order (the first violation is reported, naming the element):
//! 1. the pubdata decodes;
//! 2. its user logs are the VM's user L2→L1 logs;
//! 3. its messages are the payloads of the L1 messenger's `L1MessageSent` events;
//! 4. every published bytecode is a factory dep of a transaction in the batch;
//! 5. the VM's own state-diff records agree with the world: derived key of (address, key),
//!    enumeration index (none for a slot never written) and previous value;
//! 6. the compressed writes are those records, in order: initial writes by derived key,
//!    repeated writes by enumeration index, each value the record's final value when applied
//!    to its initial value;
//! 7. rebuilt from the pre-state and the pubdata alone (derived keys, enumeration indices and
//!    compressed values), the written slots are exactly the slots the batch changed, with their
//!    final values (the L1 messenger's own slots are not published);
//! 8. the operator input in the bootloader memory names the world's L2 DA validator, carries
//!    the published pubdata, the chained hashes and log root of its logs, messages and
//!    bytecodes, and the VM's own state-diff records (skipped, and said so, on a bootloader
//!    whose layout this harness does not know).

use std::collections::BTreeMap;

use zksync_system_constants::L1_MESSENGER_ADDRESS;
use zksync_types::{h256_to_u256, web3::keccak256, AccountTreeId, StorageKey, H256, U256};

use super::{
    operator_input::{self, OperatorInput},
    CompressedValue, Pubdata,
};
use crate::{
    batch::Batch,
    key::{key, KeyKind},
    outcome::{Outcome, ResultKind, StateDiff, Word},
    world::{Slot, World},
};

/// What a correct batch's pubdata was checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// Slots the pubdata rebuilt.
    pub slots: usize,
    /// Bytes of pubdata.
    pub bytes: usize,
    /// Why the operator input was not checked, when it was not.
    pub operator_input_unchecked: Option<String>,
}

impl std::fmt::Display for Rebuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rebuilt {} slots from {} bytes, ok",
            self.slots, self.bytes
        )?;
        match &self.operator_input_unchecked {
            None => Ok(()),
            Some(reason) => write!(f, " (operator input not checked: {reason})"),
        }
    }
}

/// The first thing the pubdata gets wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The element, e.g. `state_diffs.repeated[3].value`.
    pub element: String,
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.problem)
    }
}

impl Violation {
    /// The element with every index and key as `*`: the same violation at any position or slot.
    pub fn pattern(&self) -> String {
        let mut pattern = String::new();
        let mut depth = 0;
        for c in self.element.chars() {
            match c {
                '[' => {
                    if depth == 0 {
                        pattern.push_str("[*]");
                    }
                    depth += 1;
                }
                ']' => depth -= 1,
                _ if depth == 0 => pattern.push(c),
                _ => {}
            }
        }
        pattern
    }
}

/// The oracle's verdict on one outcome: what was rebuilt (`None`: nothing was published), or the
/// first violation.
pub type Verdict = Result<Option<Rebuilt>, Violation>;

/// The oracle's violations in one differential run (source `oracle:da`): a finding even when
/// the engines agree, since a bug both share, or one a VM is consistent about, passes every
/// comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaFinding {
    /// `da-` and 16 hex digits over which engine violates which element (as a pattern).
    pub fingerprint: String,
    /// By role: `reference` or `candidate`.
    pub violations: Vec<(&'static str, Violation)>,
}

impl DaFinding {
    /// The violations among the reference's and the candidate's verdicts, if any.
    pub fn of([reference, candidate]: [&Verdict; 2]) -> Option<Self> {
        let violations: Vec<_> = [("reference", reference), ("candidate", candidate)]
            .into_iter()
            .filter_map(|(role, verdict)| Some((role, verdict.as_ref().err()?.clone())))
            .collect();
        if violations.is_empty() {
            return None;
        }
        let signature: Vec<_> = (violations.iter())
            .map(|(role, violation)| format!("oracle:da {role} {}", violation.pattern()))
            .collect();
        Some(Self {
            fingerprint: key(KeyKind::Da, &signature),
            violations,
        })
    }

    /// One line per violation: `oracle:da candidate state_diffs.repeated[2].value: …`.
    pub fn lines(&self) -> Vec<String> {
        (self.violations.iter())
            .map(|(role, violation)| format!("oracle:da {role} {violation}"))
            .collect()
    }
}

fn violation(element: impl Into<String>, problem: impl Into<String>) -> Violation {
    Violation {
        element: element.into(),
        problem: problem.into(),
    }
}

/// Checks the pubdata in `outcome` (a run of `batch` in `world`); `Ok(None)` when the batch
/// published nothing: it was not sealed (a panic), or its block tip did not succeed (the L1
/// messenger did not take the pubdata, so a sequencer could not commit the batch).
pub fn check(outcome: &Outcome, world: &World, batch: &Batch) -> Verdict {
    let Some(sealed) = &outcome.batch else {
        return Ok(None);
    };
    if sealed.block_tip.result.kind() != ResultKind::Success {
        return Ok(None);
    }
    let Some(bytes) = &sealed.pubdata_input else {
        return Ok(None);
    };
    let pubdata = Pubdata::decode(&bytes.0).map_err(|err| {
        violation(
            err.element,
            format!("at byte {}: {}", err.offset, err.problem),
        )
    })?;
    let state = &sealed.final_state;

    // 2. User logs.
    check_list(
        "user_logs",
        &pubdata.user_logs,
        &state.user_l2_to_l1_logs,
        |ours, vm| ours == vm,
    )?;

    // 3. Messages.
    let topic = Word(keccak256(b"L1MessageSent(address,bytes32,bytes)"));
    let sent: Vec<Option<&[u8]>> = state
        .events
        .iter()
        .filter(|event| {
            event.address == L1_MESSENGER_ADDRESS && event.topics.first() == Some(&topic)
        })
        .map(|event| abi_bytes(&event.data.0))
        .collect();
    check_list("messages", &pubdata.messages, &sent, |ours, vm| {
        *vm == Some(&ours.0[..])
    })?;

    // 4. Bytecodes.
    for (index, bytecode) in pubdata.bytecodes.iter().enumerate() {
        let shipped = batch
            .blocks
            .iter()
            .flat_map(|block| &block.transactions)
            .any(|tx| tx.execute.factory_deps.contains(&bytecode.0));
        if !shipped {
            return Err(violation(
                format!("bytecodes[{index}]"),
                format!(
                    "{} bytes that no transaction of the batch ships",
                    bytecode.0.len()
                ),
            ));
        }
    }

    // 5. The VM's records against the world.
    let records = sealed.state_diffs.as_deref().unwrap_or_default();
    for record in records {
        let element = || format!("vm_state_diffs[{:?}/{}]", record.address, record.key);
        let key = StorageKey::new(AccountTreeId::new(record.address), H256(record.key.0));
        if record.derived_key.0 != key.hashed_key().0 {
            return Err(violation(
                element(),
                "derived key is not the hash of address and key",
            ));
        }
        let slot = world.storage.slot(&key);
        let index_before = slot.and_then(|slot| slot.enumeration_index).unwrap_or(0);
        let value_before = Word(slot.map_or([0; 32], |slot| slot.value.0));
        let differs = |field: &str, vm: String, before: String| {
            violation(element(), format!("{field} {vm}, the world's is {before}"))
        };
        if record.enumeration_index != index_before {
            let vm = record.enumeration_index.to_string();
            return Err(differs("enumeration index", vm, index_before.to_string()));
        }
        if record.initial_value != value_before {
            let vm = record.initial_value.to_string();
            return Err(differs("initial value", vm, value_before.to_string()));
        }
    }

    // 6. The compressed writes against the records.
    let (initial, repeated): (Vec<&StateDiff>, Vec<&StateDiff>) = records
        .iter()
        .partition(|record| record.enumeration_index == 0);
    let diffs = &pubdata.state_diffs;
    check_count("state_diffs.initial", diffs.initial.len(), initial.len())?;
    check_count("state_diffs.repeated", diffs.repeated.len(), repeated.len())?;
    for (index, (write, record)) in diffs.initial.iter().zip(&initial).enumerate() {
        let element = format!("state_diffs.initial[{index}]");
        if write.derived_key != record.derived_key {
            return Err(violation(
                format!("{element}.derived_key"),
                format!("{}, the VM wrote {}", write.derived_key, record.derived_key),
            ));
        }
        check_value(&element, &write.value, record)?;
    }
    for (index, (write, record)) in diffs.repeated.iter().zip(&repeated).enumerate() {
        let element = format!("state_diffs.repeated[{index}]");
        if write.enumeration_index != record.enumeration_index {
            return Err(violation(
                format!("{element}.enumeration_index"),
                format!(
                    "{}, the VM wrote slot {}",
                    write.enumeration_index, record.enumeration_index
                ),
            ));
        }
        check_value(&element, &write.value, record)?;
    }

    // 7. The state, rebuilt from the pre-state and the pubdata alone.
    let rebuilt = rebuild(world, &pubdata)?;
    let mut changed = BTreeMap::new();
    for slot in &state.storage_writes {
        if slot.address == L1_MESSENGER_ADDRESS {
            continue;
        }
        let key = StorageKey::new(AccountTreeId::new(slot.address), H256(slot.key.0));
        if world.storage.value(&key).0 != slot.value.0 {
            changed.insert(Word(key.hashed_key().0), (slot, slot.value));
        }
    }
    for (derived_key, value) in &rebuilt {
        match changed.get(derived_key) {
            Some((_, expected)) if expected == value => {}
            Some((slot, expected)) => {
                return Err(violation(
                    format!("rebuilt[{:?}/{}]", slot.address, slot.key),
                    format!("{value}, the VM's final value is {expected}"),
                ))
            }
            None => {
                return Err(violation(
                    format!("rebuilt[{derived_key}]"),
                    format!("written with {value}, but the batch did not change it"),
                ))
            }
        }
    }
    if let Some((_, (slot, value))) = changed.iter().find(|(key, _)| !rebuilt.contains_key(key)) {
        return Err(violation(
            format!("rebuilt[{:?}/{}]", slot.address, slot.key),
            format!("missing: the batch changed it to {value}"),
        ));
    }

    // 8. The operator input.
    let unsupported = operator_input::unsupported(world);
    let unchecked = match (&unsupported, &sealed.bootloader_memory) {
        (Some(reason), _) => Some(reason.clone()),
        (None, None) => Some("the engine reports no bootloader memory".to_owned()),
        (None, Some(memory)) => {
            check_operator_input(memory, world, &bytes.0, &pubdata, records)?;
            None
        }
    };
    Ok(Some(Rebuilt {
        slots: rebuilt.len(),
        bytes: bytes.0.len(),
        operator_input_unchecked: unchecked,
    }))
}

fn check_operator_input(
    memory: &BTreeMap<u64, Word>,
    world: &World,
    published: &[u8],
    pubdata: &Pubdata,
    records: &[StateDiff],
) -> Result<(), Violation> {
    let input = OperatorInput::read(memory).map_err(|err| {
        violation(
            format!("operator_input.{}", err.element),
            format!("at byte {}: {}", err.offset, err.problem),
        )
    })?;
    let validator = world.pubdata_params.l2_da_validator_address;
    if input.l2_da_validator != validator {
        return Err(violation(
            "operator_input.l2_da_validator",
            format!("{:?}, the world's is {validator:?}", input.l2_da_validator),
        ));
    }
    if input.pubdata.0 != published {
        let at = (input.pubdata.0.iter().zip(published))
            .position(|(a, b)| a != b)
            .unwrap_or(published.len().min(input.pubdata.0.len()));
        return Err(violation(
            "operator_input.pubdata",
            format!("differs from the published pubdata from byte {at}"),
        ));
    }
    let expected = operator_input::hashes(pubdata)
        .map_err(|index| violation(format!("bytecodes[{index}]"), "not a valid EraVM bytecode"))?;
    let carried = [
        ("chained_log_hash", input.chained_log_hash),
        ("logs_root", input.logs_root),
        ("chained_message_hash", input.chained_message_hash),
        ("chained_bytecode_hash", input.chained_bytecode_hash),
    ];
    for ((name, carried), expected) in carried.into_iter().zip(expected) {
        if carried != expected {
            return Err(violation(
                format!("operator_input.{name}"),
                format!("{carried}, the published pubdata gives {expected}"),
            ));
        }
    }
    let name = "operator_input.state_diffs";
    check_count(name, input.state_diffs.len(), records.len())?;
    for (index, (carried, record)) in input.state_diffs.iter().zip(records).enumerate() {
        let fields = [
            ("address", carried.address.0 != record.address.0),
            ("key", carried.key != record.key),
            ("derived_key", carried.derived_key != record.derived_key),
            (
                "enumeration_index",
                carried.enumeration_index != record.enumeration_index,
            ),
            (
                "initial_value",
                carried.initial_value != record.initial_value,
            ),
            ("final_value", carried.final_value != record.final_value),
        ];
        if let Some((field, _)) = fields.into_iter().find(|(_, differs)| *differs) {
            return Err(violation(
                format!("{name}[{index}].{field}"),
                "differs from the VM's state-diff record",
            ));
        }
    }
    Ok(())
}

/// The slots the pubdata writes, by derived key, with their new values: initial writes from
/// their derived keys, repeated writes from the slot the world numbers with their index, each
/// compressed value applied to the slot's value in the pre-state.
fn rebuild(world: &World, pubdata: &Pubdata) -> Result<BTreeMap<Word, Word>, Violation> {
    let storage = &world.storage;
    let value = |slot: Option<Slot>| slot.map_or_else(U256::zero, |slot| h256_to_u256(slot.value));
    let mut rebuilt = BTreeMap::new();
    let diffs = &pubdata.state_diffs;
    for (index, write) in diffs.initial.iter().enumerate() {
        let slot = storage.slot_by_hashed_key(&H256(write.derived_key.0));
        if let Some(enumeration_index) = slot.and_then(|slot| slot.enumeration_index) {
            return Err(violation(
                format!("state_diffs.initial[{index}].derived_key"),
                format!("the slot was written before (enumeration index {enumeration_index})"),
            ));
        }
        rebuilt.insert(
            write.derived_key,
            Word::from(write.value.apply(value(slot))),
        );
    }
    for (index, write) in diffs.repeated.iter().enumerate() {
        let Some(key) = storage.hashed_key_of_index(write.enumeration_index) else {
            return Err(violation(
                format!("state_diffs.repeated[{index}].enumeration_index"),
                format!("{}: no slot of the world has it", write.enumeration_index),
            ));
        };
        let before = value(storage.slot_by_hashed_key(&key));
        rebuilt.insert(Word(key.0), Word::from(write.value.apply(before)));
    }
    Ok(rebuilt)
}

fn check_count(element: &str, published: usize, written: usize) -> Result<(), Violation> {
    if published == written {
        return Ok(());
    }
    Err(violation(
        format!("{element}[{}]", published.min(written)),
        if published < written {
            format!("missing: {published} published, the VM wrote {written}")
        } else {
            format!("extra: {published} published, the VM wrote {written}")
        },
    ))
}

fn check_list<A, B>(
    name: &str,
    published: &[A],
    reported: &[B],
    same: impl Fn(&A, &B) -> bool,
) -> Result<(), Violation> {
    check_count(name, published.len(), reported.len())?;
    match published
        .iter()
        .zip(reported)
        .position(|(a, b)| !same(a, b))
    {
        Some(index) => Err(violation(
            format!("{name}[{index}]"),
            "differs from what the VM reported",
        )),
        None => Ok(()),
    }
}

/// That `value`, applied to the record's initial value, gives its final value.
fn check_value(
    element: &str,
    value: &CompressedValue,
    record: &StateDiff,
) -> Result<(), Violation> {
    let initial = record.initial_value;
    let applied = Word::from(value.apply(U256::from_big_endian(&initial.0)));
    if applied == record.final_value {
        return Ok(());
    }
    Err(violation(
        format!("{element}.value"),
        format!(
            "{value} on {initial} gives {applied}, the VM's final value is {}",
            record.final_value
        ),
    ))
}

/// The `bytes` argument of ABI-encoded event data (offset, length, bytes); `None` if malformed.
fn abi_bytes(data: &[u8]) -> Option<&[u8]> {
    let word = |at: usize| -> Option<usize> {
        let bytes = data.get(at..at.checked_add(32)?)?;
        let value = U256::from_big_endian(bytes);
        (value <= U256::from(usize::MAX as u64)).then(|| value.as_usize())
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    data.get(start..start.checked_add(len)?)
}
