//! The system contracts a world gets at addresses where it has no code: the real compiled ones
//! where they run with the v26 bootloader, stand-ins where the real one cannot.
//!
//! The compiled ones are zksolc builds (about protocol v28) that the crates.io package
//! zkevm_test_harness ships in `basic_test.json`, and the v26 ImmutableSimulator of the
//! validation dump that zksync_multivm ships; build.rs embeds them from cargo's copies. The
//! stand-ins are written for this project in EraVM assembly (harness/standins/*.zasm); each file's
//! header says what it does and what it does not check. A world with its own contracts (a dump
//! that has them) keeps them.

use std::sync::OnceLock;

use zksync_system_constants::{
    CODE_ORACLE_ADDRESS, COMPRESSOR_ADDRESS, EC_ADD_PRECOMPILE_ADDRESS, EC_MUL_PRECOMPILE_ADDRESS,
    EC_PAIRING_PRECOMPILE_ADDRESS, IMMUTABLE_SIMULATOR_STORAGE_ADDRESS,
    KNOWN_CODES_STORAGE_ADDRESS, L1_MESSENGER_ADDRESS, MODEXP_PRECOMPILE_ADDRESS,
    SECP256R1_VERIFY_PRECOMPILE_ADDRESS, SHA256_PRECOMPILE_ADDRESS,
};
use zksync_types::{get_code_key, Address};

use super::{compiled, deploy_into, StorageLayer};
use crate::support::{assembly::assemble, error::InputError};

/// A system contract a world gets where it has none.
#[derive(Debug)]
pub struct SystemContract {
    pub name: &'static str,
    pub address: Address,
    pub code: Code,
    bytecode: OnceLock<Vec<u8>>,
}

/// Where a system contract's code comes from.
#[derive(Debug, Clone, Copy)]
pub enum Code {
    /// The compiled contract from zkevm_test_harness's `basic_test.json`.
    Compiled,
    /// The contract at the same address in zksync_multivm's validation dump (protocol v26).
    FromValidationDump,
    /// A stand-in: its EraVM assembly, and why the compiled contract is not used.
    StandIn {
        source: &'static str,
        why: &'static str,
    },
}

const fn from_basic_test(name: &'static str, address: Address) -> SystemContract {
    SystemContract {
        name,
        address,
        code: Code::Compiled,
        bytecode: OnceLock::new(),
    }
}

/// Every system contract a world gets, in installation order (a new one goes last, so that the
/// enumeration indices of the others' slots stay as they are).
pub static SYSTEM_CONTRACTS: [SystemContract; 11] = [
    SystemContract {
        name: "L1Messenger",
        address: L1_MESSENGER_ADDRESS,
        code: Code::StandIn {
            source: include_str!("../../standins/l1_messenger.zasm"),
            why: "the compiled one validates the pubdata through the L2 DA validator at the \
                  pubdata parameters' address, which no world here has (the dumps record none): \
                  every batch's block tip halts with \"Failed to publish pubdata via L1Messenger \
                  for: Error function_selector = 0x, data = 0x\"",
        },
        bytecode: OnceLock::new(),
    },
    from_basic_test("KnownCodesStorage", KNOWN_CODES_STORAGE_ADDRESS),
    from_basic_test("Compressor", COMPRESSOR_ADDRESS),
    from_basic_test("CodeOracle", CODE_ORACLE_ADDRESS),
    from_basic_test("SHA256", SHA256_PRECOMPILE_ADDRESS),
    from_basic_test("Modexp", MODEXP_PRECOMPILE_ADDRESS),
    from_basic_test("EcAdd", EC_ADD_PRECOMPILE_ADDRESS),
    from_basic_test("EcMul", EC_MUL_PRECOMPILE_ADDRESS),
    from_basic_test("EcPairing", EC_PAIRING_PRECOMPILE_ADDRESS),
    from_basic_test("P256Verify", SECP256R1_VERIFY_PRECOMPILE_ADDRESS),
    // ContractDeployer sets every new contract's immutables through it; basic_test.json has none.
    SystemContract {
        name: "ImmutableSimulator",
        address: IMMUTABLE_SIMULATOR_STORAGE_ADDRESS,
        code: Code::FromValidationDump,
        bytecode: OnceLock::new(),
    },
];

impl SystemContract {
    /// The contract's bytecode (a stand-in is assembled once per process).
    pub fn bytecode(&self) -> &[u8] {
        self.bytecode.get_or_init(|| match self.code {
            Code::Compiled => compiled::compiled(&format!("basic_test/{:#x}", self.address))
                .unwrap_or_else(|problem| panic!("{}: {problem}", self.name)),
            Code::FromValidationDump => {
                compiled::compiled(&format!("validation_adjacent/{:#x}", self.address))
                    .unwrap_or_else(|problem| panic!("{}: {problem}", self.name))
            }
            Code::StandIn { source, .. } => assemble(source)
                .unwrap_or_else(|err| panic!("stand-in {} does not assemble: {err}", self.name)),
        })
    }
}

/// Deploys every system contract whose address has no code in `layer`.
pub(super) fn install_missing(layer: &mut StorageLayer) -> Result<(), InputError> {
    for contract in &SYSTEM_CONTRACTS {
        let has_code = layer
            .slot(&get_code_key(&contract.address))
            .is_some_and(|slot| !slot.value.is_zero());
        if !has_code {
            deploy_into(layer, None, contract.address, contract.bytecode().to_vec())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_contract_has_valid_code() {
        for contract in &SYSTEM_CONTRACTS {
            let code = contract.bytecode();
            zksync_types::bytecode::validate_bytecode(code)
                .unwrap_or_else(|err| panic!("{}: {err}", contract.name));
        }
    }
}
