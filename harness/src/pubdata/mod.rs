//! Pubdata read back: a decoder for the pubdata a batch publishes to its settlement layer
//! (`FinishedL1Batch::pubdata_input`), written from the format, and the data-availability
//! oracle ([`da`]) that checks it against what the VM reported and rebuilds the state from
//! it alone.
//!
//! Layout (protocol v26 and later, rollup; every integer big-endian):
//! - user L2→L1 logs: u32 count, then 88 bytes each (shard id u8, is-service u8, transaction
//!   number in block u16, sender 20, key 32, value 32);
//! - L2→L1 messages: u32 count, then each as u32 length and bytes;
//! - published bytecodes: u32 count, then each as u32 length and bytes;
//! - compressed state diffs: version u8 (1), body length u24, enumeration-index size u8 (4),
//!   then the body: u16 count of initial writes, the initial writes (derived key 32 and a
//!   compressed value), then repeated writes up to the end of the body (enumeration index of
//!   the index size and a compressed value). A compressed value is a metadata byte — the length
//!   in its high five bits, the operation in its low three (0 nothing, 1 add, 2 sub,
//!   3 transform) — and that many bytes of a big-endian number; "nothing" is the byte 0 and the
//!   full 32-byte value.

pub mod da;
pub mod operator_input;

use std::fmt;

use serde::Serialize;
use zksync_types::{Address, U256};

use crate::{
    outcome::{L2ToL1Log, Word},
    support::bytes::HexBytes,
};

/// A batch's pubdata, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pubdata {
    /// User L2→L1 logs, as the outcome holds them.
    pub user_logs: Vec<L2ToL1Log>,
    pub messages: Vec<HexBytes>,
    pub bytecodes: Vec<HexBytes>,
    pub state_diffs: StateDiffs,
}

/// The compressed state diffs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateDiffs {
    pub version: u8,
    /// Bytes of an enumeration index in a repeated write.
    pub enumeration_index_size: u8,
    /// Writes to slots never written before, by derived key.
    pub initial: Vec<InitialWrite>,
    /// Writes to slots written before, by enumeration index.
    pub repeated: Vec<RepeatedWrite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitialWrite {
    pub derived_key: Word,
    pub value: CompressedValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatedWrite {
    pub enumeration_index: u64,
    pub value: CompressedValue,
}

/// A slot's new value, relative to its previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompressedValue {
    pub operation: Operation,
    /// The operand: a big-endian number of at most 32 bytes.
    pub operand: HexBytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The new value, uncompressed.
    Nothing,
    /// previous + operand (mod 2^256).
    Add,
    /// previous − operand (mod 2^256).
    Sub,
    /// The operand is the new value.
    Transform,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Nothing => "nothing",
            Self::Add => "add",
            Self::Sub => "sub",
            Self::Transform => "transform",
        })
    }
}

impl fmt::Display for CompressedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.operation, self.operand)
    }
}

impl CompressedValue {
    /// The slot's value after the write, given its value before.
    pub fn apply(&self, previous: U256) -> U256 {
        let operand = U256::from_big_endian(&self.operand.0);
        match self.operation {
            Operation::Nothing | Operation::Transform => operand,
            Operation::Add => previous.overflowing_add(operand).0,
            Operation::Sub => previous.overflowing_sub(operand).0,
        }
    }
}

/// Why bytes are not valid pubdata: where, in which element, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the pubdata.
    pub offset: usize,
    /// The element being read, e.g. `messages[2].length`.
    pub element: String,
    pub problem: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {}: {}",
            self.element, self.offset, self.problem
        )
    }
}

impl std::error::Error for DecodeError {}

/// The only state-diff encoding version there is.
const STATE_DIFFS_VERSION: u8 = 1;
/// Bytes of a packed user log.
const USER_LOG_LEN: usize = 88;

impl Pubdata {
    /// Decodes settlement-layer pubdata; every byte must belong to an element.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let pubdata = reader.pubdata()?;
        if reader.offset != bytes.len() {
            return Err(reader.error(
                "end",
                format!(
                    "{} bytes after the state diffs",
                    bytes.len() - reader.offset
                ),
            ));
        }
        Ok(pubdata)
    }
}

impl Pubdata {
    /// The bytes that decode to `self` (for building faulty pubdata in tests and fuzzing).
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![];
        let count = |bytes: &mut Vec<u8>, count: usize| {
            bytes.extend((count as u32).to_be_bytes());
        };
        count(&mut bytes, self.user_logs.len());
        for log in &self.user_logs {
            bytes.extend(packed_log(log));
        }
        for list in [&self.messages, &self.bytecodes] {
            count(&mut bytes, list.len());
            for element in list {
                count(&mut bytes, element.0.len());
                bytes.extend(&element.0);
            }
        }
        let diffs = &self.state_diffs;
        let mut body = (diffs.initial.len() as u16).to_be_bytes().to_vec();
        let value = |body: &mut Vec<u8>, value: &CompressedValue| {
            let operation = match value.operation {
                Operation::Nothing => 0,
                Operation::Add => 1,
                Operation::Sub => 2,
                Operation::Transform => 3,
            };
            let len = if value.operation == Operation::Nothing {
                0
            } else {
                value.operand.0.len() as u8
            };
            body.push(len << 3 | operation);
            body.extend(&value.operand.0);
        };
        for write in &diffs.initial {
            body.extend(write.derived_key.0);
            value(&mut body, &write.value);
        }
        let index_size = usize::from(diffs.enumeration_index_size);
        for write in &diffs.repeated {
            body.extend(&write.enumeration_index.to_be_bytes()[8 - index_size..]);
            value(&mut body, &write.value);
        }
        bytes.push(diffs.version);
        bytes.extend(&(body.len() as u32).to_be_bytes()[1..]);
        bytes.push(diffs.enumeration_index_size);
        bytes.extend(body);
        bytes
    }
}

/// A user log as the pubdata packs it.
fn packed_log(log: &L2ToL1Log) -> [u8; USER_LOG_LEN] {
    let mut packed = [0; USER_LOG_LEN];
    packed[0] = log.shard_id;
    packed[1] = u8::from(log.is_service);
    packed[2..4].copy_from_slice(&log.tx_number_in_block.to_be_bytes());
    packed[4..24].copy_from_slice(log.sender.as_bytes());
    packed[24..56].copy_from_slice(&log.key.0);
    packed[56..88].copy_from_slice(&log.value.0);
    packed
}

fn word(bytes: &[u8]) -> Word {
    Word(bytes.try_into().expect("32 bytes"))
}

/// Reads elements off the front of the pubdata, never past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    fn error(&self, element: &str, problem: String) -> DecodeError {
        self.error_at(self.offset, element, problem)
    }

    fn error_at(&self, offset: usize, element: &str, problem: String) -> DecodeError {
        DecodeError {
            offset,
            element: element.to_owned(),
            problem,
        }
    }

    /// A 32-byte ABI word that must hold `expected`.
    fn expect_word(&mut self, expected: u64, element: &str) -> Result<(), DecodeError> {
        let at = self.offset;
        let value = U256::from_big_endian(self.take(32, element)?);
        if value != U256::from(expected) {
            return Err(self.error_at(at, element, format!("{value:#x}, expected {expected:#x}")));
        }
        Ok(())
    }

    /// A 32-byte ABI word holding a length.
    fn word_usize(&mut self, element: &str) -> Result<usize, DecodeError> {
        let at = self.offset;
        let value = U256::from_big_endian(self.take(32, element)?);
        if value > U256::from(u32::MAX) {
            return Err(self.error_at(at, element, format!("{value:#x} is not a length")));
        }
        Ok(value.as_usize())
    }

    /// The pubdata's elements, in order.
    fn pubdata(&mut self) -> Result<Pubdata, DecodeError> {
        let user_logs = self.list("user_logs", |reader, element| {
            let start = reader.offset;
            let log = reader.take(USER_LOG_LEN, element)?;
            if log[1] > 1 {
                reader.offset = start + 1;
                return Err(reader.error(
                    &format!("{element}.is_service"),
                    format!("{}, expected 0 or 1", log[1]),
                ));
            }
            Ok(L2ToL1Log {
                shard_id: log[0],
                is_service: log[1] == 1,
                tx_number_in_block: u16::from_be_bytes([log[2], log[3]]),
                sender: Address::from_slice(&log[4..24]),
                key: word(&log[24..56]),
                value: word(&log[56..88]),
            })
        })?;
        let messages = self.list("messages", Reader::length_prefixed)?;
        let bytecodes = self.list("bytecodes", Reader::length_prefixed)?;
        let state_diffs = self.state_diffs()?;
        Ok(Pubdata {
            user_logs,
            messages,
            bytecodes,
            state_diffs,
        })
    }

    fn take(&mut self, len: usize, element: &str) -> Result<&'a [u8], DecodeError> {
        let left = self.bytes.len() - self.offset;
        if len > left {
            return Err(self.error(element, format!("needs {len} bytes, {left} left")));
        }
        let taken = &self.bytes[self.offset..self.offset + len];
        self.offset += len;
        Ok(taken)
    }

    fn uint(&mut self, len: usize, element: &str) -> Result<u64, DecodeError> {
        let bytes = self.take(len, element)?;
        Ok(bytes
            .iter()
            .fold(0, |value, &byte| value << 8 | u64::from(byte)))
    }

    /// A u32 count, then that many elements `name[i]`.
    fn list<T>(
        &mut self,
        name: &str,
        mut element: impl FnMut(&mut Self, &str) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.uint(4, &format!("{name}.count"))?;
        // Every element takes at least 4 bytes: a count past that is not worth allocating for.
        let left = (self.bytes.len() - self.offset) as u64;
        let mut elements = Vec::with_capacity(count.min(left / 4) as usize);
        for index in 0..count {
            elements.push(element(self, &format!("{name}[{index}]"))?);
        }
        Ok(elements)
    }

    fn length_prefixed(&mut self, element: &str) -> Result<HexBytes, DecodeError> {
        let len = self.uint(4, &format!("{element}.length"))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        Ok(HexBytes(self.take(len, element)?.to_vec()))
    }

    fn state_diffs(&mut self) -> Result<StateDiffs, DecodeError> {
        let version = self.uint(1, "state_diffs.version")? as u8;
        if version != STATE_DIFFS_VERSION {
            self.offset -= 1;
            return Err(self.error(
                "state_diffs.version",
                format!("version {version}, expected {STATE_DIFFS_VERSION}"),
            ));
        }
        let body_len = self.uint(3, "state_diffs.length")? as usize;
        let enumeration_index_size = self.uint(1, "state_diffs.enumeration_index_size")? as u8;
        if !(1..=8).contains(&enumeration_index_size) {
            self.offset -= 1;
            return Err(self.error(
                "state_diffs.enumeration_index_size",
                format!("{enumeration_index_size} bytes, expected 1 to 8"),
            ));
        }
        let body_start = self.offset;
        let body = self.take(body_len, "state_diffs.body")?;
        let mut body = Reader {
            bytes: &self.bytes[..body_start + body.len()],
            offset: body_start,
        };
        let initial_count = body.uint(2, "state_diffs.initial.count")?;
        let mut initial = Vec::new();
        for index in 0..initial_count {
            let element = format!("state_diffs.initial[{index}]");
            initial.push(InitialWrite {
                derived_key: word(body.take(32, &format!("{element}.derived_key"))?),
                value: body.compressed_value(&element)?,
            });
        }
        let mut repeated = Vec::new();
        while body.offset < body.bytes.len() {
            let element = format!("state_diffs.repeated[{}]", repeated.len());
            repeated.push(RepeatedWrite {
                enumeration_index: body.uint(
                    enumeration_index_size.into(),
                    &format!("{element}.enumeration_index"),
                )?,
                value: body.compressed_value(&element)?,
            });
        }
        Ok(StateDiffs {
            version,
            enumeration_index_size,
            initial,
            repeated,
        })
    }

    fn compressed_value(&mut self, element: &str) -> Result<CompressedValue, DecodeError> {
        let metadata_element = format!("{element}.value.metadata");
        let metadata = self.uint(1, &metadata_element)? as u8;
        let (operation, len) = match (metadata & 0b111, usize::from(metadata >> 3)) {
            (0, 0) => (Operation::Nothing, 32),
            (0, len) => {
                self.offset -= 1;
                return Err(self.error(
                    &metadata_element,
                    format!("operation nothing with length {len}, expected 0"),
                ));
            }
            (1, len) => (Operation::Add, len),
            (2, len) => (Operation::Sub, len),
            (3, len) => (Operation::Transform, len),
            (operation, _) => {
                self.offset -= 1;
                return Err(self.error(&metadata_element, format!("unknown operation {operation}")));
            }
        };
        let operand = self.take(len, &format!("{element}.value.operand"))?;
        Ok(CompressedValue {
            operation,
            operand: HexBytes(operand.to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pubdata with one log, one message, one bytecode, an initial and a repeated write.
    fn sample() -> Vec<u8> {
        let mut bytes = vec![0, 0, 0, 1];
        bytes.extend([0, 1, 0, 7]);
        bytes.extend([0x11; 20]);
        bytes.extend([0x22; 32]);
        bytes.extend([0x33; 32]);
        bytes.extend([0, 0, 0, 1, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc]);
        bytes.extend([0, 0, 0, 1, 0, 0, 0, 32]);
        bytes.extend([0x44; 32]);
        // body: initial count, initial write (transform to 0x05), repeated write (add 0x0102)
        let mut body = vec![0, 1];
        body.extend([0x55; 32]);
        body.extend([1 << 3 | 3, 0x05]);
        body.extend([0, 0, 0, 9, 2 << 3 | 1, 0x01, 0x02]);
        bytes.extend([1, 0, 0, body.len() as u8, 4]);
        bytes.extend(body);
        bytes
    }

    #[test]
    fn decodes_every_section() {
        let pubdata = Pubdata::decode(&sample()).unwrap();
        assert_eq!(pubdata.encode(), sample());
        assert_eq!(pubdata.user_logs.len(), 1);
        let log = pubdata.user_logs[0];
        assert!(log.is_service);
        assert_eq!(log.tx_number_in_block, 7);
        assert_eq!(log.sender, Address::repeat_byte(0x11));
        assert_eq!(pubdata.messages, [HexBytes(vec![0xaa, 0xbb, 0xcc])]);
        assert_eq!(pubdata.bytecodes, [HexBytes(vec![0x44; 32])]);
        let diffs = &pubdata.state_diffs;
        assert_eq!(diffs.initial[0].derived_key, Word([0x55; 32]));
        assert_eq!(diffs.initial[0].value.apply(U256::from(9)), U256::from(5));
        assert_eq!(diffs.repeated[0].enumeration_index, 9);
        assert_eq!(
            diffs.repeated[0].value.apply(U256::from(1)),
            U256::from(0x0103)
        );
    }

    #[test]
    fn every_truncation_is_an_error_naming_offset_and_element() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let err = Pubdata::decode(&bytes[..len]).unwrap_err();
            assert!(err.offset <= len, "{len}: {err}");
            assert!(!err.element.is_empty());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = Pubdata::decode(&longer).unwrap_err();
        assert_eq!((err.element.as_str(), err.offset), ("end", bytes.len()));
    }

    #[test]
    fn a_bad_operation_is_named() {
        let mut bytes = sample();
        let at = bytes.len() - 3; // the repeated write's metadata
        bytes[at] = 2 << 3 | 5;
        let err = Pubdata::decode(&bytes).unwrap_err();
        assert_eq!(err.element, "state_diffs.repeated[0].value.metadata");
        assert_eq!(err.offset, at);
    }

    proptest::proptest! {
        /// Any bytes: an error, or pubdata that encodes back to them (one form per pubdata).
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Ok(pubdata) = Pubdata::decode(&bytes) {
                proptest::prop_assert_eq!(pubdata.encode(), bytes);
            }
        }

        /// The sample with bytes changed: the same.
        #[test]
        fn mutated_pubdata_decodes_or_fails_cleanly(
            changes in proptest::collection::vec((0..200usize, proptest::prelude::any::<u8>()), 1..4)
        ) {
            let mut bytes = sample();
            for (at, byte) in changes {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            if let Ok(pubdata) = Pubdata::decode(&bytes) {
                proptest::prop_assert_eq!(pubdata.encode(), bytes);
            }
        }
    }
}
