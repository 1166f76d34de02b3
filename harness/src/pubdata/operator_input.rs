//! The operator input: what the operator hands the L1 messenger when a batch is sealed, read back
//! from the bootloader memory the VM reports. It carries the pubdata together with the chained
//! hashes that the L1 messenger checks it against and the uncompressed state-diff records.
//!
//! Layout (protocol v26 to v28, rollup): the bootloader memory holds, from [`FIRST_SLOT`], the
//! ABI encoding of `(address l2DaValidator, bytes input)`; `input` is a call of
//! `validatePubdata(bytes32, bytes32, bytes32, bytes32, bytes)`: a 4-byte selector, the chained
//! user-log hash, the root of the user-log Merkle tree, the chained message hash, the chained
//! bytecode hash and the ABI-encoded `bytes` argument. That argument is the pubdata followed by a
//! u32 count of state-diff records and the records, each packed into 156 bytes (address, key,
//! derived key, u64 enumeration index, initial value, final value) and zero-padded to 272.
//!
//! A chained hash starts at zero and takes `h = keccak(h ‖ keccak(item))` per item (a packed
//! user log, a message); bytecodes chain their versioned hashes, `h = keccak(h ‖ hash)`. The
//! Merkle tree's leaves are the packed user logs, padded with zero logs to 16 384 leaves.

use std::collections::BTreeMap;

use zksync_types::{
    bytecode::{validate_bytecode, BytecodeHash},
    commitment::PubdataType,
    web3::keccak256,
    Address, ProtocolVersionId,
};

use super::{packed_log, DecodeError, Pubdata, Reader};
use crate::{
    outcome::{L2ToL1Log, StateDiff, Word},
    support::bytes::HexBytes,
    world::World,
};

/// The first bootloader memory slot of the operator input on the v26–v28 bootloaders: past the
/// debug (40), paymaster context (33), transaction hash (2) and factory-dependency call (68)
/// slots, the refunds, overheads and trusted gas limits (10 000 each), the L2 block infos
/// (40 004), the compressed bytecodes (196 608) and the priority-transaction data (2) slots,
/// and one more slot that the bootloader fills with the L1 messenger call's selector.
pub const FIRST_SLOT: u64 = 266_758;
/// Leaves of the user-log Merkle tree from protocol 1.5.0 on.
const LOGS_TREE_LEAVES: usize = 16_384;
/// Bytes of a state-diff record, and of the record padded.
const RECORD_LEN: usize = 156;
const PADDED_RECORD_LEN: usize = 272;

/// The operator input of a sealed batch, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorInput {
    pub l2_da_validator: Address,
    pub chained_log_hash: Word,
    pub logs_root: Word,
    pub chained_message_hash: Word,
    pub chained_bytecode_hash: Word,
    /// The pubdata, as the batch publishes it.
    pub pubdata: HexBytes,
    /// The uncompressed state-diff records.
    pub state_diffs: Vec<StateDiff>,
}

/// Why a world's operator input is not read: its bootloader has another layout.
pub fn unsupported(world: &World) -> Option<String> {
    let version = world.system_env.version;
    let layout = (ProtocolVersionId::Version26..=ProtocolVersionId::Version28).contains(&version);
    if !layout {
        return Some(format!(
            "protocol {version:?} has another bootloader layout"
        ));
    }
    (world.pubdata_params.pubdata_type == PubdataType::NoDA)
        .then(|| "the world publishes no pubdata (NoDA)".to_owned())
}

impl OperatorInput {
    /// Reads the operator input from a sealed batch's bootloader memory (absent slots are zero);
    /// offsets in errors are into the `validatePubdata` call, or into the three head words.
    pub fn read(memory: &BTreeMap<u64, Word>) -> Result<Self, DecodeError> {
        let slot = |at: u64| memory.get(&at).map_or([0; 32], |word| word.0);
        let mut head = Vec::with_capacity(96);
        for at in FIRST_SLOT..FIRST_SLOT + 3 {
            head.extend(slot(at));
        }
        let mut reader = Reader::new(&head);
        let validator = reader.take(32, "l2_da_validator")?;
        if validator[..12] != [0; 12] {
            return Err(reader.error_at(0, "l2_da_validator", "not an address".into()));
        }
        let l2_da_validator = Address::from_slice(&validator[12..]);
        reader.expect_word(0x40, "input.offset")?;
        let len = reader.word_usize("input.length")?;
        // The memory holds at most 1 360 000 words of input; a longer length is not real.
        if len > 1_360_000 * 32 {
            return Err(reader.error_at(64, "input.length", format!("{len} bytes")));
        }
        let mut input = Vec::with_capacity(len.next_multiple_of(32));
        let words = len.div_ceil(32) as u64;
        for at in FIRST_SLOT + 3..FIRST_SLOT + 3 + words {
            input.extend(slot(at));
        }
        input.truncate(len);
        Self::decode(l2_da_validator, &input)
    }

    /// Decodes the `validatePubdata` call; offsets in errors are into `input`.
    fn decode(l2_da_validator: Address, input: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(input);
        let selector = reader.take(4, "selector")?;
        let expected = &keccak256(b"validatePubdata(bytes32,bytes32,bytes32,bytes32,bytes)")[..4];
        if selector != expected {
            return Err(reader.error_at(
                0,
                "selector",
                format!("{}, not validatePubdata", HexBytes(selector.to_vec())),
            ));
        }
        let mut hash = |element| reader.take(32, element).map(super::word);
        let chained_log_hash = hash("chained_log_hash")?;
        let logs_root = hash("logs_root")?;
        let chained_message_hash = hash("chained_message_hash")?;
        let chained_bytecode_hash = hash("chained_bytecode_hash")?;
        reader.expect_word(0xa0, "data.offset")?;
        let len = reader.word_usize("data.length")?;
        let start = reader.offset;
        let end = start.saturating_add(len);
        let Some(padding) = input.get(end..) else {
            return Err(reader.error_at(start, "data", format!("{len} bytes, fewer left")));
        };
        if padding.len() >= 32 || padding.iter().any(|&byte| byte != 0) {
            return Err(reader.error_at(end, "data.padding", "not zero padding".into()));
        }
        let mut reader = Reader::new(&input[..end]);
        reader.offset = start;
        reader.pubdata()?;
        let pubdata = HexBytes(input[start..reader.offset].to_vec());
        let count = reader.uint(4, "state_diffs.count")?;
        let mut state_diffs = Vec::new();
        for index in 0..count {
            let element = format!("state_diffs[{index}]");
            let at = reader.offset;
            let record = reader.take(PADDED_RECORD_LEN, &element)?;
            if record[RECORD_LEN..].iter().any(|&byte| byte != 0) {
                let problem = "not zero padding".to_owned();
                return Err(reader.error_at(
                    at + RECORD_LEN,
                    &format!("{element}.padding"),
                    problem,
                ));
            }
            state_diffs.push(StateDiff {
                address: Address::from_slice(&record[..20]),
                key: super::word(&record[20..52]),
                derived_key: super::word(&record[52..84]),
                enumeration_index: u64::from_be_bytes(record[84..92].try_into().expect("8")),
                initial_value: super::word(&record[92..124]),
                final_value: super::word(&record[124..156]),
            });
        }
        if reader.offset != end {
            let problem = format!("{} bytes after the state-diff records", end - reader.offset);
            return Err(reader.error_at(reader.offset, "data.end", problem));
        }
        Ok(Self {
            l2_da_validator,
            chained_log_hash,
            logs_root,
            chained_message_hash,
            chained_bytecode_hash,
            pubdata,
            state_diffs,
        })
    }
}

/// The chained log hash, log Merkle root, chained message hash and chained bytecode hash of
/// `pubdata`; `Err(i)` when bytecode `i` is not a valid EraVM bytecode (it has no versioned
/// hash).
pub fn hashes(pubdata: &Pubdata) -> Result<[Word; 4], usize> {
    let chain = |hashes: &mut dyn Iterator<Item = [u8; 32]>| {
        Word(hashes.fold([0; 32], |chain, hash| keccak256(&[chain, hash].concat())))
    };
    let mut bytecode_hashes = Vec::with_capacity(pubdata.bytecodes.len());
    for (index, bytecode) in pubdata.bytecodes.iter().enumerate() {
        validate_bytecode(&bytecode.0).map_err(|_| index)?;
        bytecode_hashes.push(BytecodeHash::for_bytecode(&bytecode.0).value().0);
    }
    let log_hashes = || {
        pubdata
            .user_logs
            .iter()
            .map(|log| keccak256(&packed_log(log)))
    };
    Ok([
        chain(&mut log_hashes()),
        logs_root(&pubdata.user_logs),
        chain(&mut pubdata.messages.iter().map(|message| keccak256(&message.0))),
        chain(&mut bytecode_hashes.into_iter()),
    ])
}

/// The root of the Merkle tree over the packed logs, padded with zero logs to at least
/// [`LOGS_TREE_LEAVES`] leaves (a power of two); a node is `keccak(left ‖ right)`.
fn logs_root(logs: &[L2ToL1Log]) -> Word {
    let mut level: Vec<[u8; 32]> = logs.iter().map(|log| keccak256(&packed_log(log))).collect();
    let mut empty = keccak256(&[0; 88]);
    let mut width = LOGS_TREE_LEAVES.max(logs.len().next_power_of_two());
    while width > 1 {
        if level.len() % 2 == 1 {
            level.push(empty);
        }
        level = level
            .chunks(2)
            .map(|pair| keccak256(&[pair[0], pair[1]].concat()))
            .collect();
        empty = keccak256(&[empty, empty].concat());
        width /= 2;
    }
    Word(level.first().copied().unwrap_or(empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_log_tree_has_the_root_of_zero_logs() {
        // Built the slow way: all 16 384 leaves hashed level by level.
        let mut level = vec![keccak256(&[0; 88]); LOGS_TREE_LEAVES];
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| keccak256(&[pair[0], pair[1]].concat()))
                .collect();
        }
        assert_eq!(logs_root(&[]), Word(level[0]));
    }

    /// A valid input carrying empty pubdata and no records.
    fn sample() -> Vec<u8> {
        let pubdata = Pubdata::decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 4, 0, 0])
            .expect("empty pubdata");
        let [logs, root, messages, bytecodes] = hashes(&pubdata).expect("no bytecodes");
        let mut data = pubdata.encode();
        data.extend([0, 0, 0, 0]);
        let mut input =
            keccak256(b"validatePubdata(bytes32,bytes32,bytes32,bytes32,bytes)")[..4].to_vec();
        for hash in [logs, root, messages, bytecodes] {
            input.extend(hash.0);
        }
        input.extend(Word::from(zksync_types::U256::from(0xa0)).0);
        input.extend(Word::from(zksync_types::U256::from(data.len())).0);
        input.extend(&data);
        input.resize(input.len().next_multiple_of(32), 0);
        input
    }

    #[test]
    fn every_truncation_of_an_input_is_an_error() {
        let input = sample();
        let decoded = OperatorInput::decode(Address::zero(), &input).unwrap();
        assert_eq!(decoded.pubdata.0.len(), 19);
        assert_eq!(decoded.logs_root, logs_root(&[]));
        assert!(decoded.state_diffs.is_empty());
        let end = 4 + 6 * 32 + 19 + 4;
        for len in 0..end {
            let err = OperatorInput::decode(Address::zero(), &input[..len]).unwrap_err();
            assert!(err.offset <= len, "{len}: {err}");
        }
    }

    proptest::proptest! {
        /// Any bytes, and the sample with bytes changed: decoded or an error, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = OperatorInput::decode(Address::zero(), &bytes);
        }

        #[test]
        fn mutated_inputs_decode_or_fail_cleanly(
            changes in proptest::collection::vec((0..256usize, proptest::prelude::any::<u8>()), 1..4)
        ) {
            let mut input = sample();
            for (at, byte) in changes {
                let at = at % input.len();
                input[at] = byte;
            }
            let _ = OperatorInput::decode(Address::zero(), &input);
        }
    }
}
