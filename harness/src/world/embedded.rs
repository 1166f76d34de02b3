//! The embedded default world: the real protocol-v26 VM dump that the zksync_multivm package
//! ships (bootloader, default account, system contracts and the slots the original run read),
//! compiled into this binary from cargo's copy of the package (see build.rs), plus the system
//! contracts it lacks ([`super::SYSTEM_CONTRACTS`]).

use std::{path::PathBuf, sync::OnceLock};

use zksync_vm_interface::TxExecutionMode;

use super::{parse_dump, World};

/// File name of the embedded dump inside the package's `tests/vm_dumps/`.
pub const EMBEDDED_DUMP: &str = "estimate_fee_for_transfer_to_self.json";

const EMBEDDED_JSON: &[u8] = include_bytes!(concat!(
    env!("ERAVM_DIFF_VM_DUMPS"),
    "/estimate_fee_for_transfer_to_self.json"
));

/// Path of the package's dump directory file `name` (for tests and replay examples).
pub fn embedded_dump_path(name: &str) -> PathBuf {
    PathBuf::from(env!("ERAVM_DIFF_VM_DUMPS")).join(name)
}

/// The default world, in `VerifyExecute` mode (the mode that builds real batches). Parsed once
/// per process; every call returns a cheap clone.
pub fn default_world() -> World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let dump = parse_dump(&format!("embedded {EMBEDDED_DUMP}"), EMBEDDED_JSON)
                .expect("the dump embedded at build time parses");
            dump.world
                .with_execution_mode(TxExecutionMode::VerifyExecute)
        })
        .clone()
}
