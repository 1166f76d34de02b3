//! The system contracts the default world gets (compiled, or stand-ins) compute what they must.

use eravm_diff::{
    batch_file::{parse_batch_file, PreparedBatch},
    engine::{Engine, VmFast, VmLatest},
    outcome::{ExecResult, Outcome, TxOutcome, Word},
    world::default_world,
};
use sha2::{Digest, Sha256};
use zksync_types::{
    ethabi::{encode, short_signature, ParamType, Token},
    Address, U256,
};

/// Address of the forwarding contract.
const FORWARDER: &str = "0x0000000000000000000000000000000000004001";

/// A batch of one L2 transaction per calldata to a kernel-space contract that forwards its
/// calldata to `target` in a mimic call as the bootloader (0x8001, the only caller some
/// system contracts accept). The contract stores the first returned word in its slot 1, or counts a
/// revert of the target in its slot 2.
fn forwarding_batch(target: u16, calldatas: &[Vec<u8>]) -> PreparedBatch {
    let transactions: String = calldatas
        .iter()
        .map(|calldata| {
            format!(
                "      - l2: {{from: 1, to: \"{FORWARDER}\", calldata: \"0x{}\", gas_limit: 5000000}}\n",
                hex::encode(calldata)
            )
        })
        .collect();
    let text = format!(
        r#"balances:
  - {{account: 1, amount: "1000000000000000000"}}
contracts:
  - address: "{FORWARDER}"
    assembly: |
      .rodata
      ABI_FORWARD_ALL_GAS:
          .cell 53919893328024177853947349410203471924066622428978789517743185985536
      .text
      __entry:
          add @ABI_FORWARD_ALL_GAS[0], r0, r2
          ptr.pack r1, r2, r1
          add {target}, r0, r2
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
blocks:
  - transactions:
{transactions}"#
    );
    parse_batch_file("forwarding batch", &text)
        .unwrap()
        .prepare(&default_world())
        .unwrap()
}

/// The batch's outcome on each VM, which must not panic.
fn outcomes(prepared: &PreparedBatch) -> Vec<(&'static str, Outcome)> {
    [&VmLatest as &dyn Engine, &VmFast]
        .into_iter()
        .map(|engine| {
            let outcome = engine.run(&prepared.world, &prepared.batch);
            assert!(
                outcome.panic.is_none(),
                "{}: {:?}",
                engine.name(),
                outcome.panic
            );
            (engine.name(), outcome)
        })
        .collect()
}

/// The value the transaction wrote to a slot, if it changed it.
fn written(tx: &TxOutcome, address: &str, key: Word) -> Option<Word> {
    let address: Address = address.parse().unwrap();
    tx.execution
        .storage_writes
        .iter()
        .find(|write| write.address == address && write.key == key)
        .map(|write| write.after)
}

fn word(value: u64) -> Word {
    Word::from(U256::from(value))
}

#[test]
fn sha256_hashes_every_padding_case() {
    // Lengths around the block boundaries: the 0x80 byte and the 8-byte length fit in the
    // last block or need one more.
    let lengths = [0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 200];
    let inputs: Vec<Vec<u8>> = lengths
        .iter()
        .map(|&len| (0..len).map(|i| (i * 7 + len) as u8).collect())
        .collect();
    let prepared = forwarding_batch(0x02, &inputs);
    for (name, outcome) in outcomes(&prepared) {
        for (input, tx) in inputs.iter().zip(&outcome.transactions) {
            assert_eq!(
                written(tx, FORWARDER, word(1)),
                Some(Word(Sha256::digest(input).into())),
                "{name}: sha256 of {} bytes",
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

#[test]
fn compressor_checks_the_compression() {
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
    let calldatas: Vec<Vec<u8>> = cases
        .iter()
        .map(|(_, bytecode, raw, _)| publish_compressed_calldata(bytecode, raw))
        .collect();
    let prepared = forwarding_batch(0x800e, &calldatas);

    let mut versioned_hash: [u8; 32] = Sha256::digest(&bytecode).into();
    versioned_hash[..4].copy_from_slice(&[1, 0, 0, 1]);
    let known_codes_storage = "0x0000000000000000000000000000000000008004";
    for (name, outcome) in outcomes(&prepared) {
        for ((case, _, _, accepted), tx) in cases.iter().zip(&outcome.transactions) {
            assert!(
                matches!(tx.execution.result, ExecResult::Success { .. }),
                "{name}: {case}"
            );
            let returned = written(tx, FORWARDER, word(1));
            let rejected = written(tx, FORWARDER, word(2));
            let marked = written(tx, known_codes_storage, Word(versioned_hash));
            if *accepted {
                assert_eq!(
                    returned,
                    Some(Word(versioned_hash)),
                    "{name}: {case}: returned hash"
                );
                assert_eq!(marked, Some(word(1)), "{name}: {case}: marked published");
                assert_eq!(rejected, None, "{name}: {case}");
            } else {
                assert!(rejected.is_some(), "{name}: {case}: rejected");
                assert_eq!((returned, marked), (None, None), "{name}: {case}");
            }
        }
    }
}
