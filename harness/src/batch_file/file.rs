//! The YAML batch format. Every field but `blocks` is optional; unknown fields are errors, so a
//! typo never silently changes what runs.
//!
//! ```yaml
//! origin: hand-written
//! description: one storage write, then a revert
//! expect: equal                 # or: {cause: <cause fingerprint>, why: <one line>}
//! worlds:                       # only where a kind of world's verdict differs
//!   genesis: {expect: equal, why: <one line>}
//! balances:
//!   - {account: 1, amount: "1000000000000000000"}      # test key 1, or an address
//! contracts:
//!   - address: "0x000000000000000000000000000000000000c0de"
//!     assembly: |
//!       ...EraVM assembly...        # or `bytecode: 0x...`, `compiled: basic_test/entry_point`,
//!                                   # or `file: contract.hex` (relative to this file)
//! storage:
//!   - {address: "0x...c0de", key: 1, value: 2}
//! blocks:
//!   - transactions:
//!       - l2: {from: 1, to: "0x...c0de", calldata: "0x", gas_limit: 2000000}
//!       - l2:
//!           from: 1
//!           to: "0x...c0de"
//!           gas_limit: 20000000
//!           factory_deps:             # bytecodes shipped with the transaction
//!             - assembly: |
//!                 ...EraVM assembly...  # or `bytecode: 0x...`
//!       - l1: {from: "0x...", to: "0x...c0de", gas_limit: 2000000}
//!   - timestamp_delta: 2
//!     transactions: []
//! ```

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zksync_types::Address;

use super::values::Quantity;
use crate::{support::bytes::HexBytes, world::WorldKind};

/// A whole batch file: one L1 batch (`blocks:`), or a chain of them (`batches:`), each starting
/// from the state the one before left behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBatchFile", into = "RawBatchFile")]
pub struct BatchFile {
    pub origin: Option<String>,
    pub description: Option<String>,
    pub expect: Option<Expectation>,
    /// The verdict in kinds of worlds where it differs from `expect`.
    pub worlds: BTreeMap<WorldKind, WorldExpectation>,
    pub balances: Vec<BalanceSpec>,
    pub contracts: Vec<ContractSpec>,
    pub storage: Vec<StorageSpec>,
    /// The L1 batches, in chain order (one for a file written with `blocks:`); none is empty.
    pub batches: Vec<L1BatchSpec>,
}

/// One L1 batch of a file: its L2 blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1BatchSpec {
    pub blocks: Vec<BlockSpec>,
}

impl BatchFile {
    /// What running the batch in a world of `kind` should show.
    pub fn expectation_in(&self, kind: WorldKind) -> Option<&Expectation> {
        match self.worlds.get(&kind) {
            Some(world) => Some(&world.expect),
            None => self.expect.as_ref(),
        }
    }

    /// Makes the `file:` paths of contracts and factory dependencies relative to `dir` (the
    /// batch file's directory) usable from anywhere.
    pub fn anchor_files(&mut self, dir: &Path) {
        let contracts = self.contracts.iter_mut().map(|contract| &mut contract.file);
        let deps = (self.batches.iter_mut())
            .flat_map(|batch| &mut batch.blocks)
            .flat_map(|block| &mut block.transactions)
            .flat_map(TxSpec::code_mut)
            .map(|dep| &mut dep.file);
        for path in contracts.chain(deps).flatten() {
            if path.is_relative() {
                *path = dir.join(&*path);
            }
        }
    }

    /// Every L2 block, in chain order.
    pub fn blocks(&self) -> impl Iterator<Item = &BlockSpec> {
        self.batches.iter().flat_map(|batch| &batch.blocks)
    }

    pub fn blocks_mut(&mut self) -> impl Iterator<Item = &mut BlockSpec> {
        self.batches.iter_mut().flat_map(|batch| &mut batch.blocks)
    }

    /// Every transaction, in chain order.
    pub fn transactions(&self) -> impl Iterator<Item = &TxSpec> {
        self.blocks().flat_map(|block| &block.transactions)
    }

    pub fn transactions_mut(&mut self) -> impl Iterator<Item = &mut TxSpec> {
        self.blocks_mut().flat_map(|block| &mut block.transactions)
    }
}

/// A batch file as written: `blocks:` for one L1 batch, `batches:` for a chain.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatchFile {
    /// Where the batch came from (hand-written, or the fuzzing run and minimization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expect: Option<Expectation>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    worlds: BTreeMap<WorldKind, WorldExpectation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    balances: Vec<BalanceSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contracts: Vec<ContractSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    storage: Vec<StorageSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    blocks: Vec<BlockSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    batches: Vec<L1BatchSpec>,
}

impl TryFrom<RawBatchFile> for BatchFile {
    type Error = String;

    fn try_from(raw: RawBatchFile) -> Result<Self, String> {
        let batches = match (raw.blocks.is_empty(), raw.batches.is_empty()) {
            (false, true) => vec![L1BatchSpec { blocks: raw.blocks }],
            (true, false) => raw.batches,
            (true, true) => return Err("a batch needs at least one block (`blocks:`)".into()),
            (false, false) => {
                return Err(
                    "give `blocks:` (one L1 batch) or `batches:` (a chain), not both".into(),
                )
            }
        };
        if let Some(empty) = batches.iter().position(|batch| batch.blocks.is_empty()) {
            return Err(format!(
                "batches[{empty}].blocks: an L1 batch needs at least one block"
            ));
        }
        Ok(Self {
            origin: raw.origin,
            description: raw.description,
            expect: raw.expect,
            worlds: raw.worlds,
            balances: raw.balances,
            contracts: raw.contracts,
            storage: raw.storage,
            batches,
        })
    }
}

impl From<BatchFile> for RawBatchFile {
    fn from(mut file: BatchFile) -> Self {
        let (blocks, batches) = match file.batches.len() {
            1 => (file.batches.pop().expect("one batch").blocks, vec![]),
            _ => (vec![], file.batches),
        };
        Self {
            origin: file.origin,
            description: file.description,
            expect: file.expect,
            worlds: file.worlds,
            balances: file.balances,
            contracts: file.contracts,
            storage: file.storage,
            blocks,
            batches,
        }
    }
}

/// The verdict in one kind of world, where it differs from the file's `expect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldExpectation {
    pub expect: Expectation,
    /// Why this world's verdict differs.
    pub why: String,
}

/// What running the batch on both VMs should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Byte-identical outcomes.
    Equal,
    /// A known divergence: its cause's fingerprint (`cause-…`) and a one-line explanation. A
    /// symptom fingerprint (`fp-…`, `expect: {divergence, why}`) from files written before
    /// causes is still accepted.
    Divergence { key: String, why: String },
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawExpectation {
    Word(String),
    Cause { cause: String, why: String },
    Symptom { divergence: String, why: String },
}

impl Serialize for Expectation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Equal => RawExpectation::Word("equal".into()),
            Self::Divergence { key, why } if key.starts_with("fp-") => RawExpectation::Symptom {
                divergence: key.clone(),
                why: why.clone(),
            },
            Self::Divergence { key, why } => RawExpectation::Cause {
                cause: key.clone(),
                why: why.clone(),
            },
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const EXPECTED: &str =
            "`expect` must be `equal` or `{cause: <cause fingerprint>, why: <text>}`";
        match RawExpectation::deserialize(deserializer).map_err(|_| de::Error::custom(EXPECTED))? {
            RawExpectation::Word(word) if word == "equal" => Ok(Self::Equal),
            RawExpectation::Word(_) => Err(de::Error::custom(EXPECTED)),
            RawExpectation::Cause { cause: key, why }
            | RawExpectation::Symptom {
                divergence: key,
                why,
            } => Ok(Self::Divergence { key, why }),
        }
    }
}

/// An account: a test key number (signs L2 transactions) or a plain address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Party {
    Key(u32),
    Address(Address),
}

impl<'de> Deserialize<'de> for Party {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Party;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(PARTY_EXPECTED)
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Party, E> {
                u32::try_from(value).map(Party::Key).map_err(|_| {
                    E::custom(format!("test key {value} is too large; {PARTY_EXPECTED}"))
                })
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Party, E> {
                u64::try_from(value)
                    .map_err(|_| E::custom(format!("{value} is negative; {PARTY_EXPECTED}")))
                    .and_then(|value| self.visit_u64(value))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Party, E> {
                let Some(digits) = text.strip_prefix("0x") else {
                    return Err(E::custom(format!(
                        "`{text}` is not an account; {PARTY_EXPECTED}"
                    )));
                };
                if digits.len() != 40 {
                    return Err(E::custom(format!(
                        "`{text}` is not an account: {} hex digits where an address has 40; \
                         {PARTY_EXPECTED}",
                        digits.len()
                    )));
                }
                digits
                    .parse::<Address>()
                    .map(Party::Address)
                    .map_err(|err| E::custom(format!("`{text}` is not an address: {err}")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

const PARTY_EXPECTED: &str =
    "expected an address of 20 bytes (0x and 40 hex digits) or a test key number";

/// A base-token balance in the pre-state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSpec {
    pub account: Party,
    pub amount: Quantity,
}

/// A contract deployed in the pre-state at a chosen address (below 2^16 for kernel mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSpec {
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// EraVM assembly text (zkevm-assembly syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assembly: Option<String>,
    /// Compiled EraVM bytecode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytecode: Option<HexBytes>,
    /// A real compiled contract by name (see `world::compiled`), e.g. `basic_test/entry_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<String>,
    /// A hex file of EraVM bytecode (a third-party contract, read where it is, never copied in),
    /// relative to the batch file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// A factory dependency: bytecode shipped with a transaction, which the bootloader publishes
/// (compressed when it can) and marks as known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactoryDepSpec {
    /// EraVM assembly text (zkevm-assembly syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assembly: Option<String>,
    /// Compiled EraVM bytecode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytecode: Option<HexBytes>,
    /// A real compiled contract by name (see `world::compiled`), e.g. `basic_test/entry_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<String>,
    /// A hex file of EraVM bytecode (a third-party contract, read where it is, never copied in),
    /// relative to the batch file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// A storage slot in the pre-state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    pub address: Address,
    pub key: Quantity,
    pub value: Quantity,
}

/// An L2 block of the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    /// Seconds after the previous block (ignored for the first block, whose time is the batch's).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub timestamp_delta: u64,
    #[serde(default = "one_u32", skip_serializing_if = "is_one_u32")]
    pub virtual_blocks: u32,
    /// Each written as a one-key map: `l2: {...}` or `l1: {...}`.
    #[serde(default, with = "serde_yaml::with::singleton_map_recursive")]
    pub transactions: Vec<TxSpec>,
}

/// A transaction: an L2 transaction signed by a test key, an L1 priority transaction, or a
/// contract deployment (an L2 transaction into ContractDeployer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TxSpec {
    L2(L2TxSpec),
    L1(L1TxSpec),
    Deploy(DeployTxSpec),
}

impl TxSpec {
    /// The factory deps, which L1 and L2 transactions share.
    pub fn factory_deps(&self) -> &[FactoryDepSpec] {
        match self {
            Self::L2(spec) => &spec.factory_deps,
            Self::L1(spec) => &spec.factory_deps,
            Self::Deploy(spec) => &spec.factory_deps,
        }
    }

    pub fn factory_deps_mut(&mut self) -> &mut Vec<FactoryDepSpec> {
        match self {
            Self::L2(spec) => &mut spec.factory_deps,
            Self::L1(spec) => &mut spec.factory_deps,
            Self::Deploy(spec) => &mut spec.factory_deps,
        }
    }

    /// Every bytecode the transaction brings: its factory deps, and a deployment's contract.
    fn code_mut(&mut self) -> impl Iterator<Item = &mut FactoryDepSpec> {
        let (deployed, deps) = match self {
            Self::L2(spec) => (None, &mut spec.factory_deps),
            Self::L1(spec) => (None, &mut spec.factory_deps),
            Self::Deploy(spec) => (Some(&mut spec.contract), &mut spec.factory_deps),
        };
        deployed.into_iter().chain(deps)
    }
}

/// An EIP-1559 L2 transaction, executed in `VerifyExecute` mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2TxSpec {
    /// Test key that signs the transaction.
    pub from: u32,
    pub to: Party,
    #[serde(default, skip_serializing_if = "is_default")]
    pub calldata: HexBytes,
    #[serde(default, skip_serializing_if = "is_default")]
    pub value: Quantity,
    pub gas_limit: u64,
    /// Defaults to the sender's nonce in the world plus its earlier transactions in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u32>,
    /// Defaults to the batch's base fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<Quantity>,
    /// Defaults to 50000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_per_pubdata_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factory_deps: Vec<FactoryDepSpec>,
}

/// A deployment through ContractDeployer (0x8006): an L2 transaction calling its `create`, or
/// `create2` with a salt, with the contract's versioned bytecode hash and the constructor input;
/// the bytecode is shipped as the first factory dependency, so the bootloader publishes it
/// (compressed when it can) and marks it known. The contract runs first as its own constructor
/// (bit 0 of r2 set) and must then return its immutables ABI-encoded, as ContractDeployer
/// decodes them: the 64 bytes `0x20, 0` for none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployTxSpec {
    /// Test key that signs the transaction.
    pub from: u32,
    /// `create2` with this salt; without one, `create` (the address follows the sender's
    /// deployment nonce).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<Quantity>,
    pub contract: FactoryDepSpec,
    /// The constructor's input.
    #[serde(default, skip_serializing_if = "is_default")]
    pub calldata: HexBytes,
    #[serde(default, skip_serializing_if = "is_default")]
    pub value: Quantity,
    pub gas_limit: u64,
    /// More bytecodes shipped with the deployment (contracts the constructor deploys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factory_deps: Vec<FactoryDepSpec>,
}

/// An L1->L2 priority transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1TxSpec {
    pub from: Party,
    pub to: Party,
    #[serde(default, skip_serializing_if = "is_default")]
    pub calldata: HexBytes,
    #[serde(default, skip_serializing_if = "is_default")]
    pub value: Quantity,
    pub gas_limit: u64,
    /// Base token minted to the sender; defaults to `value + gas_limit * max_fee_per_gas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mint: Option<Quantity>,
    /// Defaults to the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_recipient: Option<Party>,
    /// Defaults to the batch's base fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<Quantity>,
    /// Defaults to 800 (the L1->L2 requirement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_per_pubdata_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factory_deps: Vec<FactoryDepSpec>,
}

fn one() -> u64 {
    1
}

fn is_one(value: &u64) -> bool {
    *value == 1
}

fn one_u32() -> u32 {
    1
}

fn is_one_u32(value: &u32) -> bool {
    *value == 1
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
