//! Real compiled contracts by name: the zksolc builds that crates.io packages ship, embedded by
//! build.rs from cargo's copies (never copied into this repository).
//!
//! A reference is `SOURCE/NAME`:
//! - `basic_test/entry_point`: the compiled test contract of zkevm_test_harness's
//!   `basic_test.json` (keccak and sha256, L1 messages with rollback, ecrecover, P256, transient
//!   storage, the code oracle);
//! - `basic_test/0x…` (an address): a contract that file predeploys there (system contracts and
//!   precompiles, about protocol v28);
//! - `validation_adjacent/0x…` (an address, 40 hex digits): the code deployed at that address in
//!   zksync_multivm's `validation_adjacent_storage_slots.json` (protocol v26: a compiled account
//!   stack, proxies and beacon, and system contracts);
//! - `validation_adjacent/0x…` (a bytecode hash, 64 hex digits): a bytecode that dump holds;
//! - `zk_evm/<test>/<file stem>` (`zk_evm/far_call/simple/entry`, `…/65536`): a program of one of
//!   zkevm_test_harness's assembly tests, assembled here ([`super::zk_evm_programs`]).

use std::sync::OnceLock;

use zksync_types::{get_code_key, AccountTreeId, Address, StorageKey, H256};

use super::zk_evm_programs::zk_evm_tests;

include!(concat!(env!("OUT_DIR"), "/compiled_contracts.rs"));

/// zksync_multivm's `tests/vm_dumps/validation_adjacent_storage_slots.json`.
const VALIDATION_DUMP: &[u8] = include_bytes!(concat!(
    env!("ERAVM_DIFF_VM_DUMPS"),
    "/validation_adjacent_storage_slots.json"
));

/// The sources a reference can name, with what their names are.
pub const SOURCES: &str = "`basic_test/entry_point`, `basic_test/<address>`, \
                           `validation_adjacent/<address or bytecode hash>` or \
                           `zk_evm/<test>/<file stem>`";

/// The bytecode `reference` names, or what is wrong with it.
pub fn compiled(reference: &str) -> Result<Vec<u8>, String> {
    let unknown = || format!("unknown compiled contract `{reference}`: expected {SOURCES}");
    let (source, name) = reference.split_once('/').ok_or_else(unknown)?;
    match source {
        "basic_test" if name == "entry_point" => Ok(COMPILED_ENTRY_POINT.to_vec()),
        "basic_test" => {
            let address =
                parse_address(name).map_err(|problem| format!("`{reference}`: {problem}"))?;
            let address = format!("{address:#x}");
            (COMPILED_CONTRACTS.iter())
                .find(|(predeployed, _)| predeployed.eq_ignore_ascii_case(&address))
                .map(|(_, code)| code.to_vec())
                .ok_or_else(|| {
                    let known: Vec<_> = COMPILED_CONTRACTS.iter().map(|(at, _)| *at).collect();
                    format!(
                        "`{reference}`: basic_test.json predeploys nothing at {address} (it has \
                         entry_point and {})",
                        known.join(", ")
                    )
                })
        }
        "validation_adjacent" => {
            let hex = name.strip_prefix("0x").unwrap_or(name);
            let hash = match hex.len() {
                64 => name
                    .parse::<H256>()
                    .map_err(|err| format!("`{reference}`: not a bytecode hash: {err}"))?,
                _ => {
                    let address = parse_address(name)
                        .map_err(|problem| format!("`{reference}`: {problem}"))?;
                    validation_dump_code_hash(address).ok_or_else(|| {
                        format!("`{reference}`: the validation dump has no code at {address:?}")
                    })?
                }
            };
            validation_dump_bytecode(hash).ok_or_else(|| {
                format!("`{reference}`: the validation dump holds no bytecode with hash {hash:?}")
            })
        }
        "zk_evm" => {
            let (test, stem) = name.rsplit_once('/').ok_or_else(unknown)?;
            let tests = zk_evm_tests();
            let Some(test) = tests.usable.iter().find(|usable| usable.name == test) else {
                return Err(
                    match tests.left_out.iter().find(|(left, _)| *left == test) {
                        Some((_, why)) => {
                            format!("`{reference}`: zk_evm test `{test}` cannot run here: {why}")
                        }
                        None => format!(
                            "`{reference}`: zkevm_test_harness has no assembly test `{test}`"
                        ),
                    },
                );
            };
            (test.contracts.iter())
                .find(|contract| contract.stem == stem)
                .map(|contract| contract.bytecode.clone())
                .ok_or_else(|| {
                    format!(
                        "`{reference}`: zk_evm test `{}` has no `{stem}.asm`",
                        test.name
                    )
                })
        }
        _ => Err(unknown()),
    }
}

fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 40 {
        return Err(format!("`{text}` is not an address (0x and 40 hex digits)"));
    }
    digits
        .parse()
        .map_err(|err| format!("`{text}` is not an address: {err}"))
}

/// The validation dump, parsed once per process.
fn validation_dump() -> &'static serde_json::Value {
    static DUMP: OnceLock<serde_json::Value> = OnceLock::new();
    DUMP.get_or_init(|| {
        serde_json::from_slice(VALIDATION_DUMP)
            .expect("the validation dump embedded at build time is JSON")
    })
}

/// The value of a slot in the validation dump's storage (which it keys by hashed key).
pub fn validation_dump_slot(address: Address, key: H256) -> Option<H256> {
    let key = StorageKey::new(AccountTreeId::new(address), key);
    let hashed = format!("{:?}", key.hashed_key());
    validation_dump()["storage"]["storage"][&hashed][0]
        .as_str()?
        .parse()
        .ok()
}

/// The calldata of the validation dump's one transaction (a call the account stack validates).
pub fn validation_dump_calldata() -> Vec<u8> {
    let calldata = validation_dump()["l2_blocks"][0]["txs"][0]["execute"]["calldata"].as_str();
    let calldata = calldata.expect("the validation dump has a transaction with calldata");
    hex::decode(calldata.trim_start_matches("0x")).expect("the dump's calldata is hex")
}

fn validation_dump_code_hash(address: Address) -> Option<H256> {
    let key = get_code_key(&address);
    validation_dump_slot(*key.address(), *key.key()).filter(|hash| !hash.is_zero())
}

fn validation_dump_bytecode(hash: H256) -> Option<Vec<u8>> {
    let code = validation_dump()["storage"]["factory_deps"][format!("{hash:?}")].as_str()?;
    hex::decode(code.trim_start_matches("0x")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_to_valid_bytecode() {
        for reference in [
            "basic_test/entry_point",
            "basic_test/0x0000000000000000000000000000000000008008",
            "validation_adjacent/0xb1b1ab29b35bd3826ab067982f90f8ba38ffa83b",
            "validation_adjacent/0x0000000000000000000000000000000000008005",
            "validation_adjacent/0x01000e2f76e72fdbceb1592b7012092210579c42f2c637b47e9b2e3c7a3add19",
            "zk_evm/far_call/read_fat_pointer/entry",
            "zk_evm/far_call/read_fat_pointer/65535",
        ] {
            let code = compiled(reference).unwrap();
            zksync_types::bytecode::validate_bytecode(&code)
                .unwrap_or_else(|err| panic!("{reference}: {err}"));
        }
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (reference, says) in [
            ("entry_point", "unknown compiled contract"),
            ("hardhat/entry_point", "unknown compiled contract"),
            ("basic_test/0x12", "is not an address"),
            ("basic_test/0x000000000000000000000000000000000000c0de", "predeploys nothing"),
            ("validation_adjacent/0x000000000000000000000000000000000000c0de", "no code at"),
            ("validation_adjacent/0x01000e2f76e72fdbceb1592b7012092210579c42f2c637b47e9b2e3c7a3add18", "no bytecode"),
            ("zk_evm/entry", "unknown compiled contract"),
            ("zk_evm/far_call/nowhere/entry", "has no assembly test `far_call/nowhere`"),
            ("zk_evm/far_call/read_fat_pointer/65536", "has no `65536.asm`"),
            ("zk_evm/evm_emulator/call_evm_to_zkevm/entry", "cannot run here"),
        ] {
            let problem = compiled(reference).unwrap_err();
            assert!(problem.contains(says), "{reference}: {problem}");
        }
    }
}
