//! Stand-ins for system contracts that a world lacks but the bootloader needs to finish a batch
//! and to publish factory deps.
//! They are written for this project in EraVM assembly (harness/standins/*.zasm); each file's
//! header says what the stand-in does and what it does not check. They are installed only at
//! addresses without code, so a world with the real contracts keeps them.

use std::sync::OnceLock;

use zksync_system_constants::{
    COMPRESSOR_ADDRESS, KNOWN_CODES_STORAGE_ADDRESS, L1_MESSENGER_ADDRESS,
    SHA256_PRECOMPILE_ADDRESS,
};
use zksync_types::{get_code_key, Address};

use super::{deploy_into, StorageLayer};
use crate::{assembly::assemble, error::InputError};

/// A system contract stand-in.
#[derive(Debug)]
pub struct StandIn {
    pub name: &'static str,
    pub address: Address,
    pub source: &'static str,
    code: OnceLock<Vec<u8>>,
}

/// Every stand-in, in installation order.
pub static STAND_INS: [StandIn; 4] = [
    StandIn {
        name: "L1Messenger",
        address: L1_MESSENGER_ADDRESS,
        source: include_str!("../../standins/l1_messenger.zasm"),
        code: OnceLock::new(),
    },
    StandIn {
        name: "KnownCodesStorage",
        address: KNOWN_CODES_STORAGE_ADDRESS,
        source: include_str!("../../standins/known_codes_storage.zasm"),
        code: OnceLock::new(),
    },
    StandIn {
        name: "Compressor",
        address: COMPRESSOR_ADDRESS,
        source: include_str!("../../standins/compressor.zasm"),
        code: OnceLock::new(),
    },
    StandIn {
        name: "SHA256",
        address: SHA256_PRECOMPILE_ADDRESS,
        source: include_str!("../../standins/sha256.zasm"),
        code: OnceLock::new(),
    },
];

impl StandIn {
    /// The stand-in's bytecode, assembled once per process.
    pub fn bytecode(&self) -> &[u8] {
        self.code.get_or_init(|| {
            assemble(self.source)
                .unwrap_or_else(|err| panic!("stand-in {} does not assemble: {err}", self.name))
        })
    }
}

/// Deploys every stand-in whose address has no code in `layer`.
pub(super) fn install_missing(layer: &mut StorageLayer) -> Result<(), InputError> {
    for stand_in in &STAND_INS {
        let has_code = layer
            .slot(&get_code_key(&stand_in.address))
            .is_some_and(|slot| !slot.value.is_zero());
        if !has_code {
            deploy_into(layer, None, stand_in.address, stand_in.bytecode().to_vec())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_assemble() {
        for stand_in in &STAND_INS {
            assert!(!stand_in.bytecode().is_empty(), "{}", stand_in.name);
        }
    }
}
