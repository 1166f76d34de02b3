//! The pubdata decoder and the data-availability oracle over real batches: every vector's
//! pubdata, on both engines, decodes, agrees with what the VM reported and rebuilds the state.

use std::path::Path;

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file, Expectation, PreparedBatch},
    chain::chain_outcomes,
    divergence::{compare, DiffKind},
    engine::{Engine, VmFast, VmLatest},
    outcome::{ExecResult, Outcome, Word},
    pubdata::{da, operator_input::FIRST_SLOT, Operation, Pubdata},
    support::bytes::HexBytes,
    world::default_world,
};

/// Every vector, on both engines, every L1 batch of a chain: a sealed batch's pubdata passes the
/// oracle (an engine that panicked published nothing); every vector expected equal is sealed on
/// both.
#[test]
fn every_vector_rebuilds_from_its_pubdata_on_both_engines() {
    let world = default_world();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    for path in batch_files_in(&vectors).unwrap() {
        let file = load_batch_file(&path).unwrap();
        let prepared = file.prepare(&world).unwrap();
        for engine in [&VmLatest as &dyn Engine, &VmFast] {
            let (runs, stopped) = chain_outcomes(engine, &prepared);
            assert_eq!(
                runs.len(),
                prepared.batches(),
                "{}: {stopped:?}",
                path.display()
            );
            for (world, batch, outcome) in &runs {
                let checked = da::check(outcome, world, batch).unwrap_or_else(|violation| {
                    panic!("{} {}: {violation}", path.display(), engine.name())
                });
                if file.expect == Some(Expectation::Equal) {
                    let rebuilt = checked.expect("an equal vector seals its batch");
                    assert!(rebuilt.slots > 0 && rebuilt.bytes > 0);
                    assert_eq!(rebuilt.operator_input_unchecked, None);
                }
            }
        }
    }
}

/// A vector's batch in the default world, its outcome on vm_fast, and that outcome's pubdata.
fn published(name: &str) -> (PreparedBatch, Outcome, Pubdata) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name);
    let prepared = load_batch_file(&path)
        .unwrap()
        .prepare(&default_world())
        .unwrap();
    let outcome = VmFast.run(&prepared.world, &prepared.batch);
    let bytes = &outcome
        .batch
        .as_ref()
        .unwrap()
        .pubdata_input
        .as_ref()
        .unwrap()
        .0;
    let pubdata = Pubdata::decode(bytes).unwrap();
    (prepared, outcome, pubdata)
}

/// `outcome` with `bytes` as its pubdata.
fn with_pubdata(outcome: &Outcome, bytes: Vec<u8>) -> Outcome {
    let mut outcome = outcome.clone();
    outcome.batch.as_mut().unwrap().pubdata_input = Some(HexBytes(bytes));
    outcome
}

/// The element the oracle names in `outcome`, which must violate it.
fn violated(prepared: &PreparedBatch, outcome: &Outcome) -> String {
    da::check(outcome, &prepared.world, &prepared.batch)
        .expect_err("the fault is caught")
        .element
}

/// The element the oracle names when the outcome's pubdata is `pubdata` instead.
fn violation_with(prepared: &PreparedBatch, outcome: &Outcome, pubdata: &Pubdata) -> String {
    violated(prepared, &with_pubdata(outcome, pubdata.encode()))
}

#[test]
fn faulty_pubdata_is_caught_with_the_element_named() {
    let (prepared, outcome, pubdata) = published("storage_writes.yaml");
    assert!(!pubdata.state_diffs.initial.is_empty() && !pubdata.state_diffs.repeated.is_empty());
    assert_eq!(
        da::check(&outcome, &prepared.world, &prepared.batch).map(|r| r.is_some()),
        Ok(true)
    );

    // A flipped compression operation.
    let mut faulty = pubdata.clone();
    let (index, write) = faulty
        .state_diffs
        .repeated
        .iter_mut()
        .enumerate()
        .find(|(_, write)| {
            matches!(write.value.operation, Operation::Add | Operation::Sub)
                && write.value.operand.0.iter().any(|&byte| byte != 0)
        })
        .expect("an add or sub");
    write.value.operation = match write.value.operation {
        Operation::Add => Operation::Sub,
        _ => Operation::Add,
    };
    assert_eq!(
        violation_with(&prepared, &outcome, &faulty),
        format!("state_diffs.repeated[{index}].value")
    );

    // A dropped repeated write.
    let mut faulty = pubdata.clone();
    let last = faulty.state_diffs.repeated.len() - 1;
    faulty.state_diffs.repeated.pop();
    assert_eq!(
        violation_with(&prepared, &outcome, &faulty),
        format!("state_diffs.repeated[{last}]")
    );

    // A wrong enumeration index.
    let mut faulty = pubdata.clone();
    faulty.state_diffs.repeated[0].enumeration_index += 1;
    assert_eq!(
        violation_with(&prepared, &outcome, &faulty),
        "state_diffs.repeated[0].enumeration_index"
    );

    // A wrong derived key.
    let mut faulty = pubdata.clone();
    faulty.state_diffs.initial[0].derived_key.0[31] ^= 1;
    assert_eq!(
        violation_with(&prepared, &outcome, &faulty),
        "state_diffs.initial[0].derived_key"
    );

    // A corrupted bytecode. No vector publishes one uncompressed, so one that a
    // transaction ships is published as is (the pubdata passes; the operator input, not
    // rewritten, no longer carries it), then corrupted.
    let (prepared, outcome, pubdata) = published("factory_deps.yaml");
    let shipped = prepared
        .batch
        .blocks
        .iter()
        .flat_map(|block| &block.transactions)
        .find_map(|tx| tx.execute.factory_deps.first())
        .expect("the vector ships factory deps")
        .clone();
    let mut published_as_is = pubdata.clone();
    published_as_is.bytecodes.push(HexBytes(shipped.clone()));
    let as_is = with_pubdata(&outcome, published_as_is.encode());
    let violation = da::check(&as_is, &prepared.world, &prepared.batch).unwrap_err();
    assert_eq!(violation.element, "operator_input.pubdata");
    let mut faulty = published_as_is;
    faulty.bytecodes[0].0[40] ^= 1;
    assert_eq!(violation_with(&prepared, &outcome, &faulty), "bytecodes[0]");

    // A truncated message.
    let (prepared, outcome, mut faulty) = published("events_logs_messages.yaml");
    faulty.messages[0].0.pop();
    assert_eq!(violation_with(&prepared, &outcome, &faulty), "messages[0]");

    // A block tip that did not succeed published nothing, whatever the pubdata says.
    let mut unpublished = outcome.clone();
    unpublished.batch.as_mut().unwrap().block_tip.result = ExecResult::Revert {
        reason: "the L1 messenger refused".to_owned(),
        data: HexBytes::default(),
    };
    let verdict = da::check(&unpublished, &prepared.world, &prepared.batch);
    assert_eq!(verdict, Ok(None));

    // Bytes that do not decode.
    let mut outcome = outcome.clone();
    let bytes = outcome
        .batch
        .as_mut()
        .unwrap()
        .pubdata_input
        .as_mut()
        .unwrap();
    bytes.0.truncate(bytes.0.len() - 1);
    let violation = da::check(&outcome, &prepared.world, &prepared.batch).unwrap_err();
    assert!(violation.element.starts_with("state_diffs"), "{violation}");
}

/// The element the oracle names when byte `at` of the operator input (the `validatePubdata`
/// call in the bootloader memory) is flipped.
fn operator_input_violation(prepared: &PreparedBatch, outcome: &Outcome, at: usize) -> String {
    let mut outcome = outcome.clone();
    let memory = outcome.batch.as_mut().unwrap().bootloader_memory.as_mut();
    let slot = FIRST_SLOT + 3 + at as u64 / 32;
    let word = memory.unwrap().entry(slot).or_insert(Word([0; 32]));
    word.0[at % 32] ^= 1;
    violated(prepared, &outcome)
}

/// The operator input carries the pubdata, its chained hashes and the VM's state-diff records:
/// a flipped byte in each is caught and named.
#[test]
fn faulty_operator_input_is_caught_with_the_element_named() {
    let (prepared, outcome, pubdata) = published("events_logs_messages.yaml");
    let data = 4 + 6 * 32;
    let records = data + pubdata.encode().len() + 4;
    let named = |at| operator_input_violation(&prepared, &outcome, at);
    assert_eq!(named(0), "operator_input.selector");
    assert_eq!(named(4 + 31), "operator_input.chained_log_hash");
    assert_eq!(named(4 + 32), "operator_input.logs_root");
    assert_eq!(named(4 + 64 + 5), "operator_input.chained_message_hash");
    assert_eq!(named(4 + 96), "operator_input.chained_bytecode_hash");
    assert_eq!(named(data + 20), "operator_input.pubdata");
    assert_eq!(
        named(records + 124),
        "operator_input.state_diffs[0].final_value"
    );
    assert_eq!(
        named(records + 272 + 84 + 7),
        "operator_input.state_diffs[1].enumeration_index"
    );
    assert_eq!(
        named(records + 200),
        "operator_input.state_diffs[0].padding"
    );
}

/// When two engines' pubdata differ, the divergence names the decoded element (section, write
/// and its slot, field) with both values; the signature has the element kind, never an offset.
#[test]
fn pubdata_differences_are_named_by_element() {
    let (_, outcome, pubdata) = published("storage_writes.yaml");
    let differences = |faulty: Vec<u8>| {
        let divergence =
            compare(&outcome, &with_pubdata(&outcome, faulty)).expect("the pubdata differ");
        assert!(divergence.signature.iter().all(|line| !line.contains("0x")));
        divergence.differences
    };

    // A flipped operation: the write, its slot, the field and both operations.
    let mut faulty = pubdata.clone();
    let write = (faulty.state_diffs.repeated.iter_mut())
        .find(|write| write.value.operation == Operation::Add)
        .expect("an add");
    write.value.operation = Operation::Sub;
    let index = write.enumeration_index;
    let found = differences(faulty.encode());
    let [difference] = &found[..] else {
        panic!("one difference: {found:#?}")
    };
    assert_eq!(
        difference.pattern,
        "batch.pubdata_input.state_diffs.repeated[*].value.operation"
    );
    let slot = format!("batch.pubdata_input.state_diffs.repeated[{index} (0x");
    assert!(difference.path.starts_with(&slot), "{}", difference.path);
    assert_eq!(
        (difference.reference.as_str(), difference.candidate.as_str()),
        ("add", "sub")
    );

    // A dropped initial write: missing, by derived key.
    let mut faulty = pubdata.clone();
    let dropped = faulty.state_diffs.initial.remove(0);
    let found = differences(faulty.encode());
    let [difference] = &found[..] else {
        panic!("one difference: {found:#?}")
    };
    assert_eq!(difference.kind, DiffKind::Missing);
    assert!(difference.path.contains(&dropped.derived_key.to_string()));

    // The same writes in another order.
    let mut faulty = pubdata.clone();
    faulty.state_diffs.repeated.swap(0, 1);
    let found = differences(faulty.encode());
    let [difference] = &found[..] else {
        panic!("one difference: {found:#?}")
    };
    assert_eq!(
        difference.path,
        "batch.pubdata_input.state_diffs.repeated.order"
    );

    // Bytes that do not decode: compared as bytes.
    let mut truncated = pubdata.encode();
    truncated.pop();
    let found = differences(truncated);
    assert_eq!(found[0].path, "batch.pubdata_input");

    // A different user log value.
    let (_, outcome, mut faulty) = published("events_logs_messages.yaml");
    faulty.user_logs[0].value.0[31] ^= 1;
    let divergence = compare(&outcome, &with_pubdata(&outcome, faulty.encode())).unwrap();
    assert_eq!(
        divergence.differences[0].path,
        "batch.pubdata_input.user_logs[0].value"
    );
}

/// Batch `n` of the chain: the store contract (deployed by batch 0) writes slot 100 + n for the
/// first time and rewrites slot 99 + n, first written by the batch before.
fn chain_batch(n: u64) -> String {
    let call = |slot: u64, value: u64| {
        format!(
            "      - l2:\n          from: 1\n          to: \"0xc0de000000000000000000000000000000000001\"\n          \
             calldata: \"0x{slot:064x}{value:064x}\"\n          gas_limit: 2000000\n"
        )
    };
    let mut text = String::new();
    if n == 0 {
        text.push_str(concat!(
            "balances:\n  - {account: 1, amount: \"1000000000000000000\"}\n",
            "contracts:\n  - address: \"0xc0de000000000000000000000000000000000001\"\n",
            "    assembly: |\n      .text\n      __entry:\n          ld.inc r1, r2, r1\n",
            "          ld r1, r3\n          sstore r2, r3\n          sload r0, r4\n",
            "          add 1, r4, r4\n          sstore r0, r4\n          ret.ok r0\n",
        ));
    }
    text.push_str("blocks:\n  - transactions:\n");
    text.push_str(&call(100 + n, n + 1));
    if n > 0 {
        text.push_str(&call(99 + n, 1000 + n));
    }
    text
}

/// Ten batches in a chain, each in the world the one before left: every batch's pubdata passes
/// the oracle on both engines, and the state rebuilt from the first pre-state and the ten
/// batches' pubdata alone — initial writes numbered in the order they are published, repeated
/// writes found by those numbers — is the chain's final storage.
#[test]
fn a_chain_of_ten_batches_rebuilds_from_pubdata_alone() {
    use std::collections::HashMap;

    use eravm_diff::{batch_file::parse_batch_file, pubdata::CompressedValue};
    use zksync_types::{h256_to_u256, AccountTreeId, StorageKey, H256, U256};

    let mut world = default_world();
    let mut first: Option<eravm_diff::world::World> = None;
    // The pubdata-only state: values by derived key, derived keys by enumeration index.
    let mut values: HashMap<H256, U256> = HashMap::new();
    let mut keys: HashMap<u64, H256> = HashMap::new();
    let mut next_index = 0;
    let mut changed = HashMap::new();
    let mut repeated_writes = 0;
    for n in 0..10 {
        let file = parse_batch_file(&format!("chain batch {n}"), &chain_batch(n)).unwrap();
        let prepared = file.prepare(&world).unwrap();
        let pre = first.get_or_insert_with(|| prepared.world.clone()).clone();
        if n == 0 {
            next_index = prepared.world.storage.max_enumeration_index() + 1;
        }
        let outcome = VmLatest.run(&prepared.world, &prepared.batch);
        let fast = VmFast.run(&prepared.world, &prepared.batch);
        assert_eq!(outcome, fast, "batch {n}: the engines agree");
        assert!(
            outcome.transactions.iter().all(|tx| tx.included),
            "batch {n}"
        );
        let verdict = da::check(&outcome, &prepared.world, &prepared.batch);
        let rebuilt = verdict.unwrap_or_else(|violation| panic!("batch {n}: {violation}"));
        assert_eq!(rebuilt.unwrap().operator_input_unchecked, None);

        let sealed = outcome.batch.as_ref().unwrap();
        let pubdata = Pubdata::decode(&sealed.pubdata_input.as_ref().unwrap().0).unwrap();
        let value_of = |values: &HashMap<H256, U256>, key: &H256| {
            values.get(key).copied().unwrap_or_else(|| {
                pre.storage
                    .slot_by_hashed_key(key)
                    .map_or_else(U256::zero, |slot| h256_to_u256(slot.value))
            })
        };
        let apply = |values: &mut HashMap<H256, U256>, key: H256, value: &CompressedValue| {
            let new = value.apply(value_of(values, &key));
            values.insert(key, new);
        };
        for write in &pubdata.state_diffs.initial {
            let key = H256(write.derived_key.0);
            keys.insert(next_index, key);
            next_index += 1;
            apply(&mut values, key, &write.value);
        }
        for write in &pubdata.state_diffs.repeated {
            let index = write.enumeration_index;
            let key = keys
                .get(&index)
                .copied()
                .or_else(|| pre.storage.hashed_key_of_index(index))
                .unwrap_or_else(|| panic!("batch {n}: no slot has index {index}"));
            apply(&mut values, key, &write.value);
            repeated_writes += usize::from(keys.contains_key(&index));
        }
        for slot in &sealed.final_state.storage_writes {
            let key = StorageKey::new(AccountTreeId::new(slot.address), H256(slot.key.0));
            changed.insert(key.hashed_key(), (slot.address, key));
        }
        world = prepared.world.after(&prepared.batch, &outcome).unwrap();
    }
    // Repeated writes of slots that the chain itself numbered: one per batch after the first
    // (slot 99 + n), at least.
    assert!(repeated_writes >= 9, "{repeated_writes}");
    let pre = first.unwrap();
    let mut compared = 0;
    for (hashed_key, (address, key)) in &changed {
        let last = world.storage.value(key);
        if address == &zksync_system_constants::L1_MESSENGER_ADDRESS
            || last == pre.storage.value(key)
        {
            continue;
        }
        let rebuilt = values.get(hashed_key).copied();
        assert_eq!(
            rebuilt,
            Some(h256_to_u256(last)),
            "{address:?} {:?}",
            key.key()
        );
        compared += 1;
    }
    assert!(compared >= 20, "{compared}");
}
