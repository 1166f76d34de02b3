//! What the shared engine side (the driver) needs from zksync_multivm that releases spell
//! differently, in the spelling of 29.13 and the 28.x releases. The engine binaries in engines/
//! compile this file, or `engines/src/release_27.rs` for 27.x, as `crate::support::multivm_compat`.

use std::rc::Rc;

use zksync_multivm::{
    circuit_sequencer_api_latest::geometry_config::{GeometryConfig, ProtocolGeometry},
    pubdata_builders::pubdata_params_to_builder,
};
use zksync_types::{commitment::PubdataParams, ProtocolVersionId, H256};
use zksync_vm_interface::{pubdata::PubdataBuilder, L2BlockEnv};

/// The env of an L2 block to start (28.x added interop roots; none are used here).
pub fn l2_block_env(
    number: u32,
    timestamp: u64,
    prev_block_hash: H256,
    max_virtual_blocks_to_create: u32,
) -> L2BlockEnv {
    L2BlockEnv {
        number,
        timestamp,
        prev_block_hash,
        max_virtual_blocks_to_create,
        interop_roots: vec![],
    }
}

/// The pubdata builder that seals a batch under `params`.
pub fn pubdata_builder(
    params: PubdataParams,
    protocol_version: ProtocolVersionId,
) -> Rc<dyn PubdataBuilder> {
    pubdata_params_to_builder(params, protocol_version)
}

/// This release's latest circuit geometry: the VMs report each circuit type's cycles divided
/// by its capacity here.
pub const GEOMETRY: GeometryConfig = ProtocolGeometry::latest().config();

/// Cycles per modexp, ecadd, ecmul and ecpairing circuit, which 27.x does not have.
pub const PRECOMPILE_CAPACITIES: [u32; 4] = [
    GEOMETRY.cycles_per_modexp_circuit,
    GEOMETRY.cycles_per_ecadd_circuit,
    GEOMETRY.cycles_per_ecmul_circuit,
    GEOMETRY.cycles_per_ecpairing_circuit,
];
