//! zk_evm's own assembly tests as contracts: the programs zkevm_test_harness ships in
//! `src/tests/simple_tests/testdata/` (edge cases of far and near calls, logs, decommits,
//! precompiles, pointers, memory growth, written by the zk_evm authors), embedded by build.rs from
//! cargo's copy. Each test is a directory: `entry.asm`, which zkevm_test_harness runs as the
//! bootloader, and the contracts it calls, named by their address (`65536.asm`). A batch file
//! names one as `compiled: zk_evm/<test>/<file stem>` ([`super::compiled`]).
//!
//! Here the entry program is a kernel-space contract that a transaction calls. The test
//! harness's directives are expanded the way it runs them, minus what only its tracer sees:
//! `revert("…")` panics (`ret.panic r0`); `print(…)`, `printPtr(…)`, `set_storage_cold()` and
//! `set_storage_warm(…)` only talk to that tracer and are dropped; `<N.asm>`, and a `.cell`
//! under the comment "this is the hash of the contract in N.asm", become the code hash of
//! contract N as assembled here; an immediate wider than 16 bits, which zkevm-assembly would
//! truncate, is loaded from a constant. Tests that need more — a template value (`${…}`) or a
//! contract its Rust test places by name — are left out, with the reason.

use std::sync::OnceLock;

use zksync_types::{bytecode::BytecodeHash, h256_to_u256, Address};

use crate::support::assembly::assemble;

include!(concat!(env!("OUT_DIR"), "/zk_evm_tests.rs"));

/// One test: its directory and its contracts, the entry program first.
#[derive(Debug, Clone)]
pub struct ZkEvmTest {
    pub name: &'static str,
    pub contracts: Vec<ZkEvmContract>,
}

/// One file of a test, assembled, and where it is placed.
#[derive(Debug, Clone)]
pub struct ZkEvmContract {
    /// The file name without `.asm`: `entry`, or the address in decimal.
    pub stem: &'static str,
    pub address: Address,
    pub bytecode: Vec<u8>,
}

impl ZkEvmTest {
    /// Where the entry program is placed.
    pub fn entry(&self) -> Address {
        self.contracts[0].address
    }
}

/// The tests, sorted out.
#[derive(Debug)]
pub struct ZkEvmTests {
    /// Every test that can run here.
    pub usable: Vec<ZkEvmTest>,
    /// The name of each other one, with why it cannot.
    pub left_out: Vec<(&'static str, String)>,
}

/// The tests, built once per process.
pub fn zk_evm_tests() -> &'static ZkEvmTests {
    static TESTS: OnceLock<ZkEvmTests> = OnceLock::new();
    TESTS.get_or_init(|| {
        let (mut usable, mut left_out) = (vec![], vec![]);
        for (index, &(name, files)) in ZK_EVM_TESTS.iter().enumerate() {
            // Kernel space, as the entry program ran as the bootloader.
            let entry = Address::from_low_u64_be(0x7000 + index as u64);
            match test(files, entry) {
                Ok(contracts) => usable.push(ZkEvmTest { name, contracts }),
                Err(why) => left_out.push((name, why)),
            }
        }
        ZkEvmTests { usable, left_out }
    })
}

/// The contracts of one test, assembled, the entry program first at `entry`.
fn test(files: &[(&'static str, &str)], entry: Address) -> Result<Vec<ZkEvmContract>, String> {
    let mut contracts = vec![];
    let mut hashes: Vec<(String, String)> = vec![];
    // The called contracts first, so that the entry program can name their code hashes.
    let (entries, called): (Vec<_>, Vec<_>) = files.iter().partition(|(stem, _)| *stem == "entry");
    for &(stem, source) in called.iter().chain(&entries) {
        let address = match stem {
            "entry" => entry,
            _ => stem
                .parse::<u64>()
                .map(Address::from_low_u64_be)
                .map_err(|_| format!("{stem}.asm: a contract its Rust test places by name"))?,
        };
        let text = expand(source, &hashes).map_err(|why| format!("{stem}.asm: {why}"))?;
        let bytecode = assemble(&text).map_err(|why| format!("{stem}.asm: {why}"))?;
        let hash = h256_to_u256(BytecodeHash::for_bytecode(&bytecode).value());
        hashes.push((format!("{stem}.asm"), hash.to_string()));
        contracts.push(ZkEvmContract {
            stem,
            address,
            bytecode,
        });
    }
    contracts.rotate_right(entries.len());
    Ok(contracts)
}

/// The test harness's directives expanded (see the module documentation), line by line; text
/// after a `;` is a comment and stays as it is. `hashes` holds the code hash of each file
/// assembled so far.
fn expand(source: &str, hashes: &[(String, String)]) -> Result<String, String> {
    let mut text = String::with_capacity(source.len());
    let mut constants = vec![];
    // The file whose hash the next `.cell` holds, from the comment above it.
    let mut hash_of: Option<&str> = None;
    for line in source.lines() {
        let (code, comment) = line.split_at(line.find(';').unwrap_or(line.len()));
        if let Some(file) = comment.split("hash of the contract in ").nth(1) {
            hash_of = Some(file.trim());
        }
        if code.contains("${") {
            return Err("a template value (`${…}`) that its Rust test fills in".into());
        }
        let mut code = code.to_owned();
        for (directive, replacement) in [
            ("revert(", "ret.panic r0"),
            ("printPtr(", ""),
            ("print(", ""),
            ("set_storage_cold(", ""),
            ("set_storage_warm(", ""),
        ] {
            while let Some(start) = code.find(directive) {
                // A quoted message may hold parentheses: the call ends after its closing quote.
                let arguments = start + directive.len();
                let after_message = match code[arguments..].starts_with('"') {
                    true => code[arguments + 1..]
                        .find('"')
                        .map(|quote| arguments + quote + 2),
                    false => Some(arguments),
                };
                let end = after_message
                    .and_then(|from| code[from..].find(')').map(|close| from + close))
                    .ok_or_else(|| format!("`{directive}` without its `)`"))?;
                code.replace_range(start..=end, replacement);
            }
        }
        if let Some(file) = hash_of.filter(|_| code.trim_start().starts_with(".cell")) {
            let (_, hash) = (hashes.iter().find(|(linked, _)| linked == file))
                .ok_or_else(|| format!("holds the hash of {file}, which the test does not have"))?;
            code = format!("    .cell {hash}");
            hash_of = None;
        }
        for (file, hash) in hashes {
            code = code.replace(&format!("<{file}>"), hash);
        }
        if code.contains(".asm>") {
            return Err(format!("links a contract the test does not have: {code}"));
        }
        text.push_str(&wide_immediate_from_rodata(&code, &mut constants));
        text.push_str(comment);
        text.push('\n');
    }
    if !constants.is_empty() {
        text.push_str("    .rodata\n");
        for (index, value) in constants.iter().enumerate() {
            text.push_str(&format!(
                "ZK_EVM_TEST_CONSTANT_{index}:\n    .cell {value}\n"
            ));
        }
    }
    Ok(text)
}

/// The tests write immediates wider than 16 bits (`add 100000, r1, r1`), which zkevm-assembly
/// silently truncates; the first operand can be a constant instead, so such an immediate is
/// loaded from a `.rodata` cell appended to the program (numbered in `constants`): the value
/// the author wrote.
fn wide_immediate_from_rodata(code: &str, constants: &mut Vec<u64>) -> String {
    let trimmed = code.trim_start();
    let Some((mnemonic, operands)) = trimmed.split_once(char::is_whitespace) else {
        return code.to_owned();
    };
    let Some((first, rest)) = operands.split_once(',') else {
        return code.to_owned();
    };
    match first.trim().parse::<u64>() {
        Ok(value) if value > u64::from(u16::MAX) => {
            let label = format!("@ZK_EVM_TEST_CONSTANT_{}[0]", constants.len());
            constants.push(value);
            let indent = &code[..code.len() - trimmed.len()];
            format!("{indent}{mnemonic} {label},{rest}")
        }
        _ => code.to_owned(),
    }
}
