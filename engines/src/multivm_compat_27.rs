//! What the shared driver needs from zksync_multivm, in the spelling of the 27.x releases (the
//! harness's `support/multivm_compat.rs` has the later one): L2 block envs have no interop roots, and the pubdata
//! builder does not depend on the protocol version; there are no modexp and EC circuits.

use std::rc::Rc;

use zksync_multivm::{
    circuit_sequencer_api_latest::geometry_config::{GeometryConfig, ProtocolGeometry},
    pubdata_builders::pubdata_params_to_builder,
};
use zksync_types::{commitment::PubdataParams, ProtocolVersionId, H256};
use zksync_vm_interface::{pubdata::PubdataBuilder, L2BlockEnv};

/// The env of an L2 block to start.
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
    }
}

/// The pubdata builder that seals a batch under `params`.
pub fn pubdata_builder(
    params: PubdataParams,
    _protocol_version: ProtocolVersionId,
) -> Rc<dyn PubdataBuilder> {
    pubdata_params_to_builder(params)
}

/// This release's latest circuit geometry: the VMs report each circuit type's cycles divided
/// by its capacity here.
pub const GEOMETRY: GeometryConfig = ProtocolGeometry::latest().config();

/// 27.x has no modexp, ecadd, ecmul and ecpairing circuits: it reports 0 for them, which stays 0
/// whatever the capacity.
pub const PRECOMPILE_CAPACITIES: [u32; 4] = [0; 4];
