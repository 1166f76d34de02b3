//! The YAML frame format: programs run straight on the VMs, with no bootloader
//! ([`crate::frame`]). A file with a top-level `frame:` key is a frame file; unknown fields are
//! errors, as in batch files.
//!
//! ```yaml
//! origin: hand-written
//! description: one storage write
//! expect: equal                 # or: {cause: <cause fingerprint>, why: <one line>}
//! contracts:                    # the entry program first, at or above 2^16 (user mode)
//!   - address: "0x0000000000000000000000000000000000010000"
//!     assembly: |
//!       ...EraVM assembly...        # or `bytecode: 0x...`, or `compiled: basic_test/entry_point`
//! storage:
//!   - {address: "0x...10000", key: 1, value: 2}
//! frame: {ergs: 1000000, caller: "0x...ca11e7", value: 0, calldata: "0x"}
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use zksync_types::{Address, U256};

use super::{
    file::{
        BalanceSpec, BatchFile, BlockSpec, ContractSpec, Expectation, L1BatchSpec, L2TxSpec, Party,
        StorageSpec, TxSpec,
    },
    prepare::code,
    values::Quantity,
};
use crate::{
    frame::{Frame, FrameContract},
    outcome::Word,
    support::{bytes::HexBytes, error::InputError},
};

/// A whole frame file: the programs, the storage they start with, and how the entry is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameFile {
    /// Where the frame came from (hand-written, or the fuzzing run and minimization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expectation>,
    /// The programs by address, the entry first.
    pub contracts: Vec<ContractSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<StorageSpec>,
    pub frame: FrameCall,
}

/// How the entry program is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameCall {
    pub ergs: u32,
    #[serde(default = "default_caller")]
    pub caller: Address,
    /// The context value (msg.value), at most 2^128 − 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value: Quantity,
    #[serde(default, skip_serializing_if = "no_bytes")]
    pub calldata: HexBytes,
}

/// The caller of a frame that names none.
pub const DEFAULT_CALLER: u64 = 0xca11e7;

fn default_caller() -> Address {
    Address::from_low_u64_be(DEFAULT_CALLER)
}

fn is_zero(value: &Quantity) -> bool {
    value.0.is_zero()
}

fn no_bytes(bytes: &HexBytes) -> bool {
    bytes.0.is_empty()
}

impl FrameFile {
    /// Makes the `file:` paths of contracts relative to `dir` (the frame file's directory)
    /// usable from anywhere.
    pub fn anchor_files(&mut self, dir: &Path) {
        for path in self
            .contracts
            .iter_mut()
            .filter_map(|contract| contract.file.as_mut())
        {
            if path.is_relative() {
                *path = dir.join(&*path);
            }
        }
    }

    /// The frame to run: programs assembled or looked up, storage as words. Errors name the
    /// offending part of the file (the caller adds the file name).
    pub fn prepare(&self) -> Result<Frame, InputError> {
        let contracts = (self.contracts.iter().enumerate())
            .map(|(i, contract)| {
                let bytecode = code(
                    &contract.assembly,
                    &contract.bytecode,
                    &contract.compiled,
                    &contract.file,
                )
                .map_err(|problem| {
                    InputError::new(format!("contracts[{i}] ({:?})", contract.address), problem)
                })?;
                Ok(FrameContract {
                    address: contract.address,
                    bytecode: HexBytes(bytecode),
                })
            })
            .collect::<Result<_, InputError>>()?;
        let value = &self.frame.value.0;
        if *value > U256::from(u128::MAX) {
            return Err(InputError::new(
                "frame.value",
                format!("{value} does not fit the 128-bit context value"),
            ));
        }
        let frame = Frame {
            contracts,
            calldata: self.frame.calldata.clone(),
            ergs: self.frame.ergs,
            caller: self.frame.caller,
            value: value.as_u128(),
            storage: (self.storage.iter())
                .map(|slot| {
                    let word = |quantity: Quantity| Word::from(quantity.to_word());
                    (slot.address, word(slot.key), word(slot.value))
                })
                .collect(),
        };
        frame
            .check()
            .map_err(|problem| InputError::new("contracts", problem))?;
        Ok(frame)
    }
}

/// The test key that sends a lifted frame's transaction.
const LIFT_SENDER: u32 = 1;

/// Gas a lifted transaction spends before its entry program runs (the bootloader's and the
/// account's work), added to the frame's ergs; the entry then starts with about as many.
const LIFT_OVERHEAD_GAS: u64 = 150_000;

impl FrameFile {
    /// The frame as a batch: its programs deployed at their addresses, its storage written, and
    /// one L2 transaction from test key 1 calling the entry with the frame's calldata and value.
    /// The entry runs as a far-called user frame as at frame level, but under the bootloader and
    /// the default account, with about the frame's ergs.
    pub fn lift(&self) -> BatchFile {
        let entry = self.contracts.first().map(|contract| contract.address);
        let gas_limit = u64::from(self.frame.ergs) * 64 / 63 + LIFT_OVERHEAD_GAS;
        let value = self.frame.value;
        BatchFile {
            origin: Some(format!(
                "lifted from the frame file of {}",
                self.origin.as_deref().unwrap_or("unknown origin")
            )),
            description: self.description.clone(),
            expect: None,
            worlds: Default::default(),
            balances: vec![BalanceSpec {
                account: Party::Key(LIFT_SENDER),
                amount: Quantity(value.0 + U256::exp10(19)),
            }],
            contracts: self.contracts.clone(),
            storage: self.storage.clone(),
            batches: vec![L1BatchSpec {
                blocks: vec![BlockSpec {
                    timestamp_delta: 1,
                    virtual_blocks: 1,
                    transactions: vec![TxSpec::L2(L2TxSpec {
                        from: LIFT_SENDER,
                        to: Party::Address(entry.unwrap_or_default()),
                        calldata: self.frame.calldata.clone(),
                        value,
                        gas_limit,
                        nonce: None,
                        max_fee_per_gas: None,
                        gas_per_pubdata_limit: None,
                        factory_deps: vec![],
                    })],
                }],
            }],
        }
    }
}
