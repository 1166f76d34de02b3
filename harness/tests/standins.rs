//! The stand-in system contracts compute what the real ones compute.

use eravm_diff::{
    batch::parse_batch_file,
    engine::{Engine, VmFast, VmLatest},
    outcome::{ExecResult, TxOutcome, Word},
    world::default_world,
};
use sha2::{Digest, Sha256};
use zksync_types::{
    ethabi::{encode, short_signature, ParamType, Token},
    Address, U256,
};

/// A contract that forwards its calldata to the SHA-256 precompile contract (0x02) and stores
/// the returned word in slot 1.
const HASHER: &str = r#"
contracts:
  - address: "0xc0de000000000000000000000000000000000005"
    assembly: |
      .rodata
      ABI_FORWARD_ALL_GAS:
          .cell 53919893328024177853947349410203471924066622428978789517743185985536
      .text
      __entry:
          add @ABI_FORWARD_ALL_GAS[0], r0, r2
          ptr.pack r1, r2, r1
          add 2, r0, r2
          far_call r1, r2, @fail
          ld r1, r3
          add 1, r0, r4
          sstore r4, r3
          ret.ok r0
      fail:
          ret.revert r0
"#;

#[test]
fn sha256_stand_in_hashes_every_padding_case() {
    // Lengths around the block boundaries: the 0x80 byte and the 8-byte length fit in the
    // last block or need one more.
    let lengths = [0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 200];
    let inputs: Vec<Vec<u8>> = lengths
        .iter()
        .map(|&len| (0..len).map(|i| (i * 7 + len) as u8).collect())
        .collect();
    let transactions: String = inputs
        .iter()
        .map(|input| {
            format!(
                "      - l2: {{from: 1, to: \"0xc0de000000000000000000000000000000000005\", calldata: \"0x{}\", gas_limit: 2000000}}\n",
                hex::encode(input)
            )
        })
        .collect();
    let text = format!(
        "balances:\n  - {{account: 1, amount: \"1000000000000000000\"}}\n{HASHER}blocks:\n  - transactions:\n{transactions}"
    );
    let prepared = parse_batch_file("sha256 batch", &text)
        .unwrap()
        .prepare(&default_world())
        .unwrap();

    let hasher: Address = "0xc0de000000000000000000000000000000000005"
        .parse()
        .unwrap();
    for engine in [&VmLatest as &dyn Engine, &VmFast] {
        let outcome = engine.run(&prepared.world, &prepared.batch);
        assert!(
            outcome.panic.is_none(),
            "{}: {:?}",
            engine.name(),
            outcome.panic
        );
        for (input, tx) in inputs.iter().zip(&outcome.transactions) {
            let stored = tx
                .execution
                .storage_writes
                .iter()
                .find(|write| write.address == hasher && write.key == Word::from(U256::one()))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no hash stored for {} bytes",
                        engine.name(),
                        input.len()
                    )
                });
            assert_eq!(
                stored.after.0,
                <[u8; 32]>::from(Sha256::digest(input)),
                "{}: sha256 of {} bytes",
                engine.name(),
                input.len()
            );
        }
    }
}

/// `publishCompressedBytecode(bytecode, raw)` calldata, as the bootloader encodes it.
fn publish_compressed_calldata(bytecode: &[u8], raw: &[u8]) -> Vec<u8> {
    let selector = short_signature(
        "publishCompressedBytecode",
        &[ParamType::Bytes, ParamType::Bytes],
    );
    let arguments = encode(&[Token::Bytes(bytecode.to_vec()), Token::Bytes(raw.to_vec())]);
    [&selector[..], &arguments].concat()
}

/// A kernel-space contract that forwards its calldata to the compressor (0x800e) in a mimic call
/// as the bootloader (0x8001), the only caller the compressor accepts. It stores the returned
/// hash in slot 1, or counts a revert of the compressor in slot 2.
const MIMIC_BOOTLOADER: &str = r#"
contracts:
  - address: "0x0000000000000000000000000000000000004001"
    assembly: |
      .rodata
      ABI_FORWARD_ALL_GAS:
          .cell 53919893328024177853947349410203471924066622428978789517743185985536
      .text
      __entry:
          add @ABI_FORWARD_ALL_GAS[0], r0, r2
          ptr.pack r1, r2, r1
          add 32782, r0, r2
          add 32769, r0, r15
          far_call.mimic r1, r2, @rejected
          ld r1, r3
          add 1, r0, r4
          sstore r4, r3
          ret.ok r0
      rejected:
          add 2, r0, r4
          sload r4, r5
          add 1, r5, r5
          sstore r4, r5
          ret.ok r0
"#;

#[test]
fn compressor_stand_in_checks_the_compression() {
    // One word: four distinct 8-byte chunks, a dictionary of all four.
    let chunks: [[u8; 8]; 4] = [[1; 8], [2; 8], [3; 8], [4; 8]];
    let bytecode = chunks.concat();
    let raw = |dictionary: &[[u8; 8]], indices: &[u16]| -> Vec<u8> {
        let mut raw = (dictionary.len() as u16).to_be_bytes().to_vec();
        raw.extend(dictionary.concat());
        raw.extend(indices.iter().flat_map(|index| index.to_be_bytes()));
        raw
    };
    let cases: [(&str, Vec<u8>, Vec<u8>, bool); 5] = [
        ("valid", bytecode.clone(), raw(&chunks, &[0, 1, 2, 3]), true),
        (
            "indices swapped",
            bytecode.clone(),
            raw(&chunks, &[0, 1, 3, 2]),
            false,
        ),
        (
            "index past the dictionary",
            bytecode.clone(),
            raw(&chunks, &[0, 1, 2, 4]),
            false,
        ),
        (
            "one index missing",
            bytecode.clone(),
            raw(&chunks, &[0, 1, 2]),
            false,
        ),
        (
            "even number of words",
            [bytecode.clone(), bytecode.clone()].concat(),
            raw(&chunks, &[0, 1, 2, 3, 0, 1, 2, 3]),
            false,
        ),
    ];
    let transactions: String = cases
        .iter()
        .map(|(_, bytecode, raw, _)| {
            format!(
                "      - l2: {{from: 1, to: \"0x0000000000000000000000000000000000004001\", calldata: \"0x{}\", gas_limit: 5000000}}\n",
                hex::encode(publish_compressed_calldata(bytecode, raw))
            )
        })
        .collect();
    let text = format!(
        "balances:\n  - {{account: 1, amount: \"1000000000000000000\"}}\n{MIMIC_BOOTLOADER}blocks:\n  - transactions:\n{transactions}"
    );
    let prepared = parse_batch_file("compressor batch", &text)
        .unwrap()
        .prepare(&default_world())
        .unwrap();

    let mut versioned_hash = <[u8; 32]>::from(Sha256::digest(&bytecode));
    versioned_hash[..4].copy_from_slice(&[1, 0, 0, 1]);
    let caller: Address = "0x0000000000000000000000000000000000004001"
        .parse()
        .unwrap();
    let known_codes_storage: Address = "0x0000000000000000000000000000000000008004"
        .parse()
        .unwrap();
    let slot = |tx: &TxOutcome, address: Address, key: Word| {
        tx.execution
            .storage_writes
            .iter()
            .find(|write| write.address == address && write.key == key)
            .map(|write| write.after)
    };
    for engine in [&VmLatest as &dyn Engine, &VmFast] {
        let outcome = engine.run(&prepared.world, &prepared.batch);
        assert!(
            outcome.panic.is_none(),
            "{}: {:?}",
            engine.name(),
            outcome.panic
        );
        for ((case, _, _, accepted), tx) in cases.iter().zip(&outcome.transactions) {
            let name = engine.name();
            assert!(
                matches!(tx.execution.result, ExecResult::Success { .. }),
                "{name}: {case}"
            );
            let returned = slot(tx, caller, Word::from(U256::one()));
            let rejected = slot(tx, caller, Word::from(U256::from(2)));
            let marked = slot(tx, known_codes_storage, Word(versioned_hash));
            if *accepted {
                assert_eq!(
                    returned,
                    Some(Word(versioned_hash)),
                    "{name}: {case}: returned hash"
                );
                assert_eq!(
                    marked,
                    Some(Word::from(U256::one())),
                    "{name}: {case}: marked published"
                );
                assert_eq!(rejected, None, "{name}: {case}");
            } else {
                assert!(rejected.is_some(), "{name}: {case}: rejected");
                assert_eq!((returned, marked), (None, None), "{name}: {case}");
            }
        }
    }
}
