//! Frame level: programs run straight on a VM, with no bootloader and no system contracts. The
//! entry program runs as a far-called frame (in user mode: its address is at or above 2^16) with
//! the given ergs, caller, value and calldata; the programs it far-calls are decommitted by their
//! versioned hash, which the deployer's storage (0x8002) maps their addresses to, as on a chain.
//! What the run leaves behind is a [`FrameOutcome`].

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};
use zksync_system_constants::ACCOUNT_CODE_STORAGE_ADDRESS;
use zksync_types::{
    bytecode::{validate_bytecode, BytecodeHash},
    Address, H256, U256,
};

use crate::{
    outcome::Word,
    support::{assembly, bytes::HexBytes},
};

/// A program at an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameContract {
    pub address: Address,
    pub bytecode: HexBytes,
}

/// One frame-level run: the programs (the entry first) and the world they run in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub contracts: Vec<FrameContract>,
    pub calldata: HexBytes,
    pub ergs: u32,
    pub caller: Address,
    /// The entry frame's context value (msg.value).
    pub value: u128,
    /// Storage before the run: (address, key, value).
    pub storage: Vec<(Address, Word, Word)>,
}

/// Bytecode a far call to an address without code runs (both VMs fall back to the default
/// account's code there): returns at once, as an account with no code would.
const ACCOUNT_ASSEMBLY: &str = "\t.text\n\t.globl\t__entry\n__entry:\n\tret.ok r0\n";

impl Frame {
    /// The code each of the frame's programs and the account stand-in decommit to, by versioned
    /// hash (one entry per distinct code).
    pub fn codes(&self) -> BTreeMap<H256, Vec<u8>> {
        let mut codes: BTreeMap<H256, Vec<u8>> = (self.contracts.iter())
            .map(|contract| (code_hash(&contract.bytecode.0), contract.bytecode.0.clone()))
            .collect();
        let account = account_code();
        codes.insert(account_code_hash(), account.to_vec());
        codes
    }

    /// Storage before the run, the code hashes in the deployer's storage included.
    pub fn initial_storage(&self) -> BTreeMap<(Address, U256), U256> {
        let mut storage: BTreeMap<(Address, U256), U256> = (self.storage.iter())
            .map(|(address, key, value)| ((*address, word(key)), word(value)))
            .collect();
        for contract in &self.contracts {
            let key = U256::from_big_endian(contract.address.as_bytes());
            let hash = code_hash(&contract.bytecode.0);
            storage.insert(
                (ACCOUNT_CODE_STORAGE_ADDRESS, key),
                U256::from_big_endian(hash.as_bytes()),
            );
        }
        storage
    }

    /// Why the frame cannot run, if it cannot: no entry program, or bytecode that is not a
    /// whole, odd number of 32-byte words.
    pub fn check(&self) -> Result<(), String> {
        let Some(entry) = self.contracts.first() else {
            return Err("no programs: the first is the entry".into());
        };
        if entry.address < Address::from_low_u64_be(1 << 16) {
            return Err(format!(
                "the entry program's address {:?} is in kernel space (below 2^16)",
                entry.address
            ));
        }
        for contract in &self.contracts {
            validate_bytecode(&contract.bytecode.0)
                .map_err(|error| format!("program at {:?}: {error}", contract.address))?;
        }
        Ok(())
    }
}

fn word(word: &Word) -> U256 {
    U256::from_big_endian(&word.0)
}

/// The versioned hash of EraVM bytecode.
pub fn code_hash(bytecode: &[u8]) -> H256 {
    BytecodeHash::for_bytecode(bytecode).value()
}

/// The stand-in for accounts: see [`ACCOUNT_ASSEMBLY`].
pub fn account_code() -> &'static [u8] {
    static CODE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CODE.get_or_init(|| {
        assembly::assemble(ACCOUNT_ASSEMBLY).expect("the account stand-in assembles")
    })
}

/// The versioned hash of [`account_code`].
pub fn account_code_hash() -> H256 {
    static HASH: std::sync::OnceLock<H256> = std::sync::OnceLock::new();
    *HASH.get_or_init(|| code_hash(account_code()))
}

/// How the entry frame ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameResult {
    /// Returned, with the bytes its returned pointer spans.
    Ok(HexBytes),
    Revert(HexBytes),
    Panic,
    /// Stopped after [`crate::engine::frame::MAX_FRAME_STEPS`] instructions, still running.
    StepLimit,
}

/// An event or an L2→L1 message as the VM records it: one (key, value) pair per instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameLog {
    pub address: Address,
    pub key: Word,
    pub value: Word,
    /// Events: the first pair of an event; L2→L1 messages: a service message.
    pub first: bool,
}

/// What a frame-level run leaves behind, as one engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameOutcome {
    /// `None` if the engine panicked before the entry frame ended.
    pub result: Option<FrameResult>,
    /// Ergs the entry frame returned.
    pub ergs_left: u32,
    /// Every slot whose value at the end differs from its value before the run.
    pub storage: BTreeMap<(Address, Word), Word>,
    pub events: Vec<FrameLog>,
    pub l2_to_l1: Vec<FrameLog>,
    /// A panic in the engine itself (not the VM's `Panic` result): its message and location.
    pub panic: Option<String>,
}

impl FrameResult {
    /// `ok`, `revert` or `panic`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ok(_) => "ok",
            Self::Revert(_) => "revert",
            Self::Panic => "panic",
            Self::StepLimit => "step_limit",
        }
    }
}

impl fmt::Display for FrameResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok(data) => write!(f, "ok {data}"),
            Self::Revert(data) => write!(f, "revert {data}"),
            Self::Panic => f.write_str("panic"),
            Self::StepLimit => f.write_str("step limit"),
        }
    }
}
