//! Batches from fuzzer bytes (crate `arbitrary`): deterministic — the same bytes always give
//! the same batch — and always valid batch files. Running out of bytes gives a smaller batch,
//! never an error.
//!
//! A batch has 1–4 L2 blocks of L2 and L1 transactions with varied gas limits (including too
//! little), values and calldata, sent to 1–4 generated contracts that call each other, to system
//! contracts and to accounts. About a third of the contracts live in kernel space. Some
//! transactions ship factory deps, some batches deploy a copy of one of their contracts through
//! ContractDeployer, and some are chains of L1 batches. That is the `programs` profile; the
//! `contracts` profile calls real compiled contracts instead ([`contracts`]), and `mixed` makes
//! either kind of batch.

mod contracts;
mod dump;
mod frame;
mod program;
pub mod seeded;

use std::{path::Path, sync::Arc};

use arbitrary::{Result, Unstructured};
use zksync_system_constants::{
    ACCOUNT_CODE_STORAGE_ADDRESS, ECRECOVER_PRECOMPILE_ADDRESS, EVENT_WRITER_ADDRESS,
    KECCAK256_PRECOMPILE_ADDRESS, L1_MESSENGER_ADDRESS, L2_BASE_TOKEN_ADDRESS,
    SYSTEM_CONTEXT_ADDRESS,
};
use zksync_types::{get_code_key, Address, H256};

use self::contracts::GAS_LIMITS;
use self::program::{program, ProgramContext};
pub use self::{
    contracts::{selectors, third_party_address, RealContracts},
    dump::mutate_dump,
    frame::frame,
};
use crate::{
    batch_file::{
        files_in, BalanceSpec, BatchFile, BlockSpec, ContractSpec, DeployTxSpec, FactoryDepSpec,
        L1BatchSpec, L1TxSpec, L2TxSpec, Party, Quantity, TxSpec,
    },
    support::{bytes::HexBytes, error::InputError},
    world::{generated_contract_address, read_bytecode_hex, World, ZkEvmTest},
};

/// System contracts that generated contracts call.
const SYSTEM_TARGETS: [Address; 7] = [
    KECCAK256_PRECOMPILE_ADDRESS,
    ECRECOVER_PRECOMPILE_ADDRESS,
    EVENT_WRITER_ADDRESS,
    L1_MESSENGER_ADDRESS,
    SYSTEM_CONTEXT_ADDRESS,
    ACCOUNT_CODE_STORAGE_ADDRESS,
    L2_BASE_TOKEN_ADDRESS,
];

/// Test keys that sign generated L2 transactions; each is funded in the pre-state.
const SENDER_KEYS: u32 = 3;
/// Balance of each sender: enough for any generated fee.
const SENDER_BALANCE: u64 = 10_000_000_000_000_000_000;

/// What the generator may refer to in the world it generates for, and what it makes.
#[derive(Debug, Clone, Default)]
pub struct GeneratorConfig {
    /// Code hashes present in the world, for `decommit`.
    pub code_hashes: Vec<H256>,
    pub profile: Profile,
    /// The real compiled contracts the `contracts` profile calls.
    pub real: Arc<RealContracts>,
}

impl GeneratorConfig {
    /// The default account's and the system contracts' code hashes in `world`, and its real
    /// contracts; the `programs` profile (set `profile` for another).
    pub fn for_world(world: &World) -> Self {
        let mut code_hashes = vec![world.system_env.base_system_smart_contracts.default_aa.hash];
        for address in SYSTEM_TARGETS {
            let hash = world.storage.value(&get_code_key(&address));
            if !hash.is_zero() {
                code_hashes.push(hash);
            }
        }
        Self {
            code_hashes,
            profile: Profile::Programs,
            real: Arc::new(RealContracts::for_world(world)),
        }
    }

    /// Adds every `*.hex` file of `dir` (EraVM bytecode, e.g. third-party compiled contracts) to
    /// the contracts the `contracts` profile places and calls, in name order.
    pub fn with_contracts(mut self, dir: &Path) -> std::result::Result<Self, InputError> {
        let files = files_in(dir, "hex")?;
        if files.is_empty() {
            return Err(InputError::at(dir, "no *.hex contracts in this directory"));
        }
        let real = Arc::make_mut(&mut self.real);
        for (index, path) in files.into_iter().enumerate() {
            let bytecode = read_bytecode_hex(&path)?;
            real.add_third_party(index, path, &bytecode);
        }
        Ok(self)
    }

    /// The profile's seed inputs: for `contracts` and `mixed`, one per zk_evm assembly test that
    /// runs here, named `zk_evm-<test>` (slashes as dashes), its entry program called once; none
    /// for `programs`, whose inputs are all alike.
    pub fn seeds(&self) -> Vec<Seed> {
        let profile: &[u8] = match self.profile {
            Profile::Programs => return vec![],
            Profile::Contracts => &[],
            // `bool` takes a byte's low bit: a contracts batch.
            Profile::Mixed => &[1],
        };
        (self.real.tests.iter().enumerate())
            .map(|(index, test)| Seed {
                name: format!("zk_evm-{}", test.name.replace('/', "-")),
                input: [profile, &zk_evm_test_input(index)].concat(),
            })
            .collect()
    }
}

/// A generator input chosen for what it generates: a starting point for mutation (campaign
/// corpora, `corpora/diff_batch/`) and the first samples of every seeded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub name: String,
    pub input: Vec<u8>,
}

/// What generated batches are made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Generated EraVM assembly programs that call each other and system contracts.
    Programs,
    /// Transactions into real compiled contracts ([`RealContracts`]).
    Contracts,
    /// Either, chosen per batch (half and half).
    #[default]
    Mixed,
}

impl std::fmt::Display for Profile {
    /// The name `--profile` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::support::value_name(self, f)
    }
}

/// Generates a batch file from fuzzer bytes, as the profile says.
pub fn batch(u: &mut Unstructured, config: &GeneratorConfig) -> Result<BatchFile> {
    match config.profile {
        Profile::Programs => programs(u, config),
        Profile::Contracts => real_contracts(u, &config.real),
        Profile::Mixed if u.arbitrary()? => real_contracts(u, &config.real),
        Profile::Mixed => programs(u, config),
    }
}

/// The bytes [`real_contracts`] reads as zk_evm test `index` (of fewer than 256), its entry
/// called once, from sender 1, with no calldata and 20 M gas. Every draw on the way is over
/// fewer than 256 choices, which `arbitrary` takes from one byte, modulo the count.
fn zk_evm_test_input(index: usize) -> Vec<u8> {
    let gas = GAS_LIMITS.iter().position(|&gas| gas == 20_000_000);
    vec![
        0, // ratio(1, 4): a zk_evm test
        index as u8,
        0, // one transaction
        0, // no calldata words
        0, // sender 1
        gas.expect("20 M is a generated gas limit") as u8,
    ]
}

/// A batch of transactions into real compiled contracts, or (one in four) into one of zk_evm's
/// assembly tests.
fn real_contracts(u: &mut Unstructured, real: &RealContracts) -> Result<BatchFile> {
    if !real.tests.is_empty() && u.ratio(1, 4)? {
        let test = u.choose(real.tests)?;
        let transactions = (0..u.int_in_range(1..=4)?)
            .map(|_| real.test_transaction(u, test.entry()))
            .collect::<Result<_>>()?;
        return Ok(BatchFile {
            origin: None,
            description: Some(format!(
                "generated (contracts profile): zk_evm test {}",
                test.name
            )),
            expect: None,
            worlds: Default::default(),
            balances: sender_balances(),
            contracts: zk_evm_contracts(test),
            storage: vec![],
            batches: vec![L1BatchSpec {
                blocks: vec![BlockSpec {
                    timestamp_delta: 1,
                    virtual_blocks: 1,
                    transactions,
                }],
            }],
        });
    }
    let mut blocks = vec![];
    for _ in 0..u.int_in_range(1..=4)? {
        let transactions = (0..u.int_in_range(0..=8)?)
            .map(|_| real.transaction(u))
            .collect::<Result<_>>()?;
        blocks.push(BlockSpec {
            timestamp_delta: u.int_in_range(1..=3)?,
            virtual_blocks: 1,
            transactions,
        });
    }
    Ok(BatchFile {
        origin: None,
        description: Some("generated (contracts profile)".into()),
        expect: None,
        worlds: Default::default(),
        balances: sender_balances(),
        contracts: real.contracts.clone(),
        storage: real.storage.clone(),
        batches: vec![L1BatchSpec { blocks }],
    })
}

fn sender_balances() -> Vec<BalanceSpec> {
    (1..=SENDER_KEYS)
        .map(|key| BalanceSpec {
            account: Party::Key(key),
            amount: SENDER_BALANCE.into(),
        })
        .collect()
}

/// A batch of generated programs.
fn programs(u: &mut Unstructured, config: &GeneratorConfig) -> Result<BatchFile> {
    let contract_count = u.int_in_range(1..=4)?;
    let addresses: Vec<Address> = (0..contract_count)
        .map(|index| Ok(generated_contract_address(index, u.ratio(1, 3)?)))
        .collect::<Result<_>>()?;
    let mut call_targets = addresses.clone();
    call_targets.extend(SYSTEM_TARGETS);
    let contracts: Vec<ContractSpec> = addresses
        .iter()
        .enumerate()
        .map(|(index, &this)| {
            let cx = ProgramContext {
                this,
                call_targets: &call_targets,
                code_hashes: &config.code_hashes,
                guarded_body: false,
            };
            Ok(ContractSpec {
                address: this,
                name: Some(format!("generated_{index}")),
                assembly: Some(program(u, &cx)?),
                bytecode: None,
                compiled: None,
                file: None,
            })
        })
        .collect::<Result<_>>()?;

    let balances = sender_balances();

    let block_count = u.int_in_range(1..=4)?;
    let mut blocks = Vec::with_capacity(block_count);
    for _ in 0..block_count {
        let tx_count = u.int_in_range(0..=8)?;
        let transactions = (0..tx_count)
            .map(|_| transaction(u, &addresses))
            .collect::<Result<_>>()?;
        blocks.push(BlockSpec {
            timestamp_delta: u.int_in_range(1..=3)?,
            virtual_blocks: if u.ratio(1, 10)? { 0 } else { 1 },
            transactions,
        });
    }
    attach_factory_deps(u, &mut blocks)?;
    attach_deployment(u, &contracts, &mut blocks)?;
    Ok(BatchFile {
        origin: None,
        description: Some("generated".into()),
        expect: None,
        worlds: Default::default(),
        balances,
        contracts,
        storage: vec![],
        batches: chain(u, blocks)?,
    })
}

/// In one batch in eight with two blocks or more, the blocks are split into a chain of L1
/// batches (each starting from the state the one before left), from the bytes left over after
/// the deployment, so the transactions stay what the same input generated before.
fn chain(u: &mut Unstructured, mut blocks: Vec<BlockSpec>) -> Result<Vec<L1BatchSpec>> {
    if blocks.len() < 2 || u.int_in_range(0..=7)? != 7 {
        return Ok(vec![L1BatchSpec { blocks }]);
    }
    let mut batches = vec![];
    while blocks.len() > 1 {
        let split = u.int_in_range(1..=blocks.len() - 1)?;
        let rest = blocks.split_off(split);
        batches.push(L1BatchSpec { blocks });
        blocks = rest;
        if u.arbitrary()? {
            break;
        }
    }
    batches.push(L1BatchSpec { blocks });
    Ok(batches)
}

/// In one batch in eight, gives some transactions factory deps from a pool of 1–3 new
/// bytecodes, so a bytecode may be shipped twice in a transaction or again after it was
/// published. Rarely, because vm_fast misreports every failed compression (a known divergence,
/// vectors/known_unpublished_bytecode.yaml) and would mask other divergences in the batch.
/// This comes last, from the bytes left over, so the rest of a batch is what the same input
/// generated before factory deps existed; a used-up input adds none.
fn attach_factory_deps(u: &mut Unstructured, blocks: &mut [BlockSpec]) -> Result<()> {
    if u.int_in_range(0..=7)? != 7 {
        return Ok(());
    }
    let pool: Vec<FactoryDepSpec> = (0..u.int_in_range(1..=3)?)
        .map(|_| {
            Ok(FactoryDepSpec {
                assembly: None,
                bytecode: Some(HexBytes(factory_dep_bytecode(u)?)),
                compiled: None,
                file: None,
            })
        })
        .collect::<Result<_>>()?;
    for tx in blocks.iter_mut().flat_map(|block| &mut block.transactions) {
        if u.int_in_range(0..=2)? != 2 {
            continue;
        }
        *tx.factory_deps_mut() = (0..u.int_in_range(1..=2)?)
            .map(|_| u.choose(&pool).cloned())
            .collect::<Result<_>>()?;
    }
    Ok(())
}

/// In one batch in eight, one more L2 transaction deploys a copy of one of the batch's contracts
/// through ContractDeployer (`create`, or `create2` with a salt), from the bytes left over after
/// the factory deps, so the rest of the batch stays what the same input generated before. The
/// copy gets a constructor that returns no immutables, so the deployment exercises the deployer,
/// the known-codes storage, compression and the immutable simulator; a kernel-space program's
/// copy lands in user space, where its kernel instructions panic at run time only.
fn attach_deployment(
    u: &mut Unstructured,
    contracts: &[ContractSpec],
    blocks: &mut [BlockSpec],
) -> Result<()> {
    if blocks.is_empty() || u.int_in_range(0..=7)? != 7 {
        return Ok(());
    }
    let Some(assembly) = &u.choose(contracts)?.assembly else {
        return Ok(());
    };
    let deploy = DeployTxSpec {
        from: u.int_in_range(1..=SENDER_KEYS)?,
        salt: if u.arbitrary()? {
            Some(Quantity::from(u.arbitrary::<u64>()?))
        } else {
            None
        },
        contract: FactoryDepSpec {
            assembly: Some(with_constructor(assembly)),
            bytecode: None,
            compiled: None,
            file: None,
        },
        calldata: calldata(u)?,
        value: Quantity::default(),
        gas_limit: *u.choose(&[1_500_000, 8_000_000, 30_000_000])?,
        factory_deps: vec![],
    };
    let block = u.choose_index(blocks.len())?;
    blocks[block].transactions.push(TxSpec::Deploy(deploy));
    Ok(())
}

/// `assembly` (a generated program) that, run as a constructor (bit 0 of r2), returns the 64
/// bytes `0x20, 0` (no immutables, as ContractDeployer decodes them) and otherwise runs as before.
fn with_constructor(assembly: &str) -> String {
    const CONSTRUCTOR: &str = "__entry:
    and 1, r2, r3
    sub! r3, r0, r0
    jump.eq @__runtime
    add 32, r0, r3
    st.1 0, r3
    st.1 32, r0
    add 64, r0, r1
    shl.s 96, r1, r1
    ret.ok r1
__runtime:
";
    assembly.replacen("__entry:\n", CONSTRUCTOR, 1)
}

/// A well-formed bytecode (an odd number of 32-byte words, 1–15) that is never run: its 8-byte
/// chunks come from a palette of 1–4, so it compresses.
fn factory_dep_bytecode(u: &mut Unstructured) -> Result<Vec<u8>> {
    let words = 2 * u.int_in_range(0..=7usize)? + 1;
    let palette: Vec<[u8; 8]> = (0..u.int_in_range(1..=4)?)
        .map(|_| u.arbitrary())
        .collect::<Result<_>>()?;
    let mut bytecode = Vec::with_capacity(words * 32);
    for _ in 0..words * 4 {
        bytecode.extend_from_slice(u.choose(&palette)?);
    }
    Ok(bytecode)
}

fn transaction(u: &mut Unstructured, contracts: &[Address]) -> Result<TxSpec> {
    let to = if u.ratio(9, 10)? {
        Party::Address(*u.choose(contracts)?)
    } else if u.arbitrary()? {
        Party::Key(u.int_in_range(1..=SENDER_KEYS + 1)?)
    } else {
        Party::Address(Address::from_low_u64_be(u.arbitrary::<u64>()? | (1 << 40)))
    };
    let calldata = calldata(u)?;
    let value = match u.int_in_range(0..=9)? {
        0 => Quantity::from(u.int_in_range(1..=1_000_000u64)?),
        1 => Quantity::from(u64::MAX),
        _ => Quantity::default(),
    };
    let gas_limit = *u.choose(&[
        50_000, // below the intrinsic cost: rejected
        300_000, 700_000, 1_500_000, 1_500_000, 3_000_000, 8_000_000,
    ])?;
    Ok(if u.ratio(1, 5)? {
        TxSpec::L1(L1TxSpec {
            from: Party::Address(Address::from_low_u64_be(
                0x11_0000 + u.int_in_range(0..=2u64)?,
            )),
            to,
            calldata,
            value,
            gas_limit,
            mint: None,
            refund_recipient: None,
            max_fee_per_gas: None,
            gas_per_pubdata_limit: None,
            factory_deps: vec![],
        })
    } else {
        TxSpec::L2(L2TxSpec {
            from: u.int_in_range(1..=SENDER_KEYS)?,
            to,
            calldata,
            value,
            gas_limit,
            // Now and then a nonce from the future: the bootloader rejects the transaction.
            nonce: if u.ratio(1, 30)? { Some(1_000) } else { None },
            max_fee_per_gas: None,
            gas_per_pubdata_limit: None,
            factory_deps: vec![],
        })
    })
}

/// 0–4 words, mostly small numbers (they steer the generated contracts' branches and offsets).
fn calldata(u: &mut Unstructured) -> Result<HexBytes> {
    let words = u.int_in_range(0..=4)?;
    let mut bytes = Vec::with_capacity(words * 32);
    for _ in 0..words {
        let mut word = [0_u8; 32];
        if u.ratio(1, 4)? {
            word = u.arbitrary()?;
        } else {
            word[30..].copy_from_slice(&u.arbitrary::<[u8; 2]>()?);
        }
        bytes.extend_from_slice(&word);
    }
    Ok(HexBytes(bytes))
}

/// A zk_evm test's contracts as a batch file places them, by name (`compiled: zk_evm/…`).
pub fn zk_evm_contracts(test: &ZkEvmTest) -> Vec<ContractSpec> {
    (test.contracts.iter())
        .map(|contract| ContractSpec {
            address: contract.address,
            name: None,
            assembly: None,
            bytecode: None,
            compiled: Some(format!("zk_evm/{}/{}", test.name, contract.stem)),
            file: None,
        })
        .collect()
}
