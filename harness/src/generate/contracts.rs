//! The `contracts` profile: transactions into real compiled contracts — the zksolc-compiled
//! account stack of zksync_multivm's validation dump (deployed at its own addresses, with the
//! dump's proxy and beacon slots), basic_test.json's test contract, the world's compiled
//! system contracts and the third-party contracts of `--contracts DIR` — with calldata built
//! from the selectors found in their code and from the dump's real transaction, and varied
//! values, gas limits, order and senders; or, in one batch in four, one of zk_evm's own assembly
//! tests ([`crate::world::zk_evm_tests`]), its entry program called by 1–4 transactions with
//! varied gas.

use std::path::PathBuf;

use arbitrary::{Result, Unstructured};
use zksync_system_constants::{
    ACCOUNT_CODE_STORAGE_ADDRESS, CODE_ORACLE_ADDRESS, COMPRESSOR_ADDRESS,
    CONTRACT_DEPLOYER_ADDRESS, KNOWN_CODES_STORAGE_ADDRESS, L2_BASE_TOKEN_ADDRESS,
    NONCE_HOLDER_ADDRESS, SYSTEM_CONTEXT_ADDRESS,
};
use zksync_types::{get_code_key, Address, H256, U256};

use super::SENDER_KEYS;
use crate::{
    batch_file::{test_key_address, ContractSpec, L2TxSpec, Party, Quantity, StorageSpec, TxSpec},
    support::bytes::HexBytes,
    world::{
        compiled, validation_dump_calldata, validation_dump_slot, zk_evm_tests, World, ZkEvmTest,
    },
};

/// The validation dump's account stack: a beacon proxy account, its beacon and implementation,
/// and a transparent proxy with its implementation, at their addresses in the dump.
const ACCOUNT_STACK: [&str; 5] = [
    "0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b",
    "0x185db4e63ff8afdc67b2e44acaa837c104eb22bc",
    "0x29175044e6f7d886522a96bc6f8433c65de5ee98",
    "0x272814b0125380dc65a63570abf903d0a434b597",
    "0x204fe852a0a51530da32c5be38ca2754861dcd07",
];

/// The slots that wire the stack together (EIP-1967 beacon, implementation and admin slots, and
/// the beacon's implementation slot), whose values are read from the dump.
const STACK_SLOTS: [(&str, &str); 4] = [
    (
        ACCOUNT_STACK[0],
        "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50",
    ),
    (
        ACCOUNT_STACK[1],
        "0x0000000000000000000000000000000000000000000000000000000000000001",
    ),
    (
        ACCOUNT_STACK[3],
        "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc",
    ),
    (
        ACCOUNT_STACK[3],
        "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103",
    ),
];

/// Where basic_test.json's test contract is placed (kernel space, as it ran as the bootloader
/// there). Every call into it reaches the v28-precompile divergence
/// (vectors/compiled_entry_point.yaml), so it is called rarely.
fn entry_point() -> Address {
    Address::from_low_u64_be(0xc0de)
}

/// The world's compiled system contracts that transactions call directly.
const SYSTEM_CONTRACTS: [Address; 8] = [
    ACCOUNT_CODE_STORAGE_ADDRESS,
    NONCE_HOLDER_ADDRESS,
    KNOWN_CODES_STORAGE_ADDRESS,
    CONTRACT_DEPLOYER_ADDRESS,
    L2_BASE_TOKEN_ADDRESS,
    SYSTEM_CONTEXT_ADDRESS,
    COMPRESSOR_ADDRESS,
    CODE_ORACLE_ADDRESS,
];

/// Where `--contracts` places its contract `index`: user space, apart from generated contracts.
pub fn third_party_address(index: usize) -> Address {
    Address::from_low_u64_be(0x000e_0000 + index as u64)
}

/// Gas limits of generated calls; 300 000 is often too little for a transaction's overhead.
pub(super) const GAS_LIMITS: [u64; 5] = [300_000, 2_000_000, 5_000_000, 20_000_000, 80_000_000];

/// The real contracts of a world, prepared once: what to deploy, and whom to call with what.
#[derive(Debug, Clone, Default)]
pub struct RealContracts {
    /// Contracts the batch deploys (the account stack and the test contract).
    pub contracts: Vec<ContractSpec>,
    pub storage: Vec<StorageSpec>,
    /// Every callable contract with the selectors found in its code.
    pub targets: Vec<(Address, Vec<[u8; 4]>)>,
    /// zk_evm's assembly tests that run here.
    pub tests: &'static [ZkEvmTest],
    /// The calldata of the validation dump's real transaction, a seed for mutation.
    pub dump_calldata: Vec<u8>,
}

impl RealContracts {
    /// The stack, the test contract and `world`'s compiled system contracts.
    pub fn for_world(world: &World) -> Self {
        let mut real = Self {
            tests: &zk_evm_tests().usable,
            dump_calldata: validation_dump_calldata(),
            ..Self::default()
        };
        // Proxies forward every call, so each member of the stack is called with the selectors
        // of all of them.
        let stack = ACCOUNT_STACK.map(|address| address.parse::<Address>().expect("an address"));
        let mut stack_selectors = vec![];
        for address in stack {
            let reference = format!("validation_adjacent/{address:#x}");
            let code = compiled(&reference).expect("the validation dump has the account stack");
            stack_selectors.extend(selectors(&code));
            real.contracts.push(placed(address, reference));
        }
        stack_selectors.sort_unstable();
        stack_selectors.dedup();
        real.targets
            .extend(stack.map(|address| (address, stack_selectors.clone())));
        for (address, key) in STACK_SLOTS {
            let address: Address = address.parse().expect("an address");
            let key: H256 = key.parse().expect("a slot");
            let value = validation_dump_slot(address, key).expect("the dump wires the stack");
            real.storage.push(StorageSpec {
                address,
                key: Quantity(U256::from_big_endian(key.as_bytes())),
                value: Quantity(U256::from_big_endian(value.as_bytes())),
            });
        }
        let reference = "basic_test/entry_point";
        let code = compiled(reference).expect("basic_test.json has its entry point");
        real.targets.push((entry_point(), selectors(&code)));
        real.contracts
            .push(placed(entry_point(), reference.to_owned()));
        for address in SYSTEM_CONTRACTS {
            let hash = world.storage.value(&get_code_key(&address));
            if let Some(code) = world.storage.factory_dep(&hash) {
                real.targets.push((address, selectors(code)));
            }
        }
        real
    }

    /// Adds the third-party contract of the hex file at `path` (`bytecode` is its content) as
    /// target `index` of `--contracts`: placed in every batch, called with its selectors.
    pub fn add_third_party(&mut self, index: usize, path: PathBuf, bytecode: &[u8]) {
        let address = third_party_address(index);
        self.targets.push((address, selectors(bytecode)));
        self.contracts.push(ContractSpec {
            address,
            name: path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned()),
            assembly: None,
            bytecode: None,
            compiled: None,
            file: Some(path),
        });
    }

    /// A transaction that calls `entry` (a zk_evm test's entry program): the program ignores
    /// its input, so what varies is the sender, the gas and the calldata's size.
    pub fn test_transaction(&self, u: &mut Unstructured, entry: Address) -> Result<TxSpec> {
        let calldata = (0..u.int_in_range(0..=2)?)
            .map(|_| self.argument(u))
            .collect::<Result<Vec<_>>>()?
            .concat();
        call(u, entry, calldata, |_| Ok(Quantity::default()))
    }

    /// A transaction into one of the real contracts.
    pub fn transaction(&self, u: &mut Unstructured) -> Result<TxSpec> {
        let (to, selectors) = loop {
            let (to, selectors) = u.choose(&self.targets)?;
            // One call in sixteen into the test contract.
            if *to != entry_point() || u.ratio(1, 16)? {
                break (to, selectors);
            }
        };
        let calldata = match u.int_in_range(0..=15)? {
            0 => mutated(u, &self.dump_calldata)?,
            1 => vec![],
            _ => {
                let mut calldata = match selectors.is_empty() {
                    true => u.arbitrary::<[u8; 4]>()?.to_vec(),
                    false => u.choose(selectors)?.to_vec(),
                };
                for _ in 0..u.int_in_range(0..=4)? {
                    calldata.extend_from_slice(&self.argument(u)?);
                }
                calldata
            }
        };
        call(u, *to, calldata, |u| {
            Ok(match u.int_in_range(0..=7)? {
                0 => Quantity::from(u.int_in_range(1..=1_000_000u64)?),
                _ => Quantity::default(),
            })
        })
    }

    /// An ABI word: a small number, an offset, an address the batch knows, or any word.
    fn argument(&self, u: &mut Unstructured) -> Result<[u8; 32]> {
        let mut word = [0_u8; 32];
        match u.int_in_range(0..=5)? {
            0 | 1 => word[30..].copy_from_slice(&u.arbitrary::<[u8; 2]>()?),
            2 => word[31] = *u.choose(&[0x20, 0x40, 0x60, 0x80])?,
            3 => {
                let (address, _) = u.choose(&self.targets)?;
                word[12..].copy_from_slice(address.as_bytes());
            }
            4 => {
                let key = test_key_address(u.int_in_range(1..=SENDER_KEYS)?).expect("a key");
                word[12..].copy_from_slice(key.as_bytes());
            }
            _ => word = u.arbitrary()?,
        }
        Ok(word)
    }
}

/// A contract placed at `address`, its code the compiled contract `reference` names.
fn placed(address: Address, reference: String) -> ContractSpec {
    ContractSpec {
        address,
        name: None,
        assembly: None,
        bytecode: None,
        compiled: Some(reference),
        file: None,
    }
}

/// An L2 transaction from one of the senders into `to`, with a `value` and one of the
/// [`GAS_LIMITS`] (drawn in that order).
fn call(
    u: &mut Unstructured,
    to: Address,
    calldata: Vec<u8>,
    value: impl FnOnce(&mut Unstructured) -> Result<Quantity>,
) -> Result<TxSpec> {
    Ok(TxSpec::L2(L2TxSpec {
        from: u.int_in_range(1..=SENDER_KEYS)?,
        to: Party::Address(to),
        calldata: HexBytes(calldata),
        value: value(u)?,
        gas_limit: *u.choose(&GAS_LIMITS)?,
        nonce: None,
        max_fee_per_gas: None,
        gas_per_pubdata_limit: None,
        factory_deps: vec![],
    }))
}

/// `bytes` with a few bytes changed.
fn mutated(u: &mut Unstructured, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut bytes = bytes.to_vec();
    for _ in 0..u.int_in_range(0..=3)? {
        let at = u.choose_index(bytes.len())?;
        bytes[at] = u.arbitrary()?;
    }
    Ok(bytes)
}

/// The function selectors a zksolc-compiled contract dispatches on: its constant words that hold
/// four right-aligned bytes, which the dispatcher compares the selector with (a binary search
/// also compares with some neighbours, which fall through to the fallback).
pub fn selectors(bytecode: &[u8]) -> Vec<[u8; 4]> {
    let mut found: Vec<[u8; 4]> = bytecode
        .chunks_exact(32)
        .filter(|word| word[..28].iter().all(|&b| b == 0) && word[28] != 0)
        .map(|word| word[28..].try_into().expect("four bytes"))
        // Masks and bounds, not selectors.
        .filter(|selector: &[u8; 4]| selector[..3] != [0xff; 3])
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}
