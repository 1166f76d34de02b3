//! What the shared driver needs from zksync_multivm, in the spelling of the 27.x releases (the
//! harness's `release.rs` has the later one): L2 block envs have no interop roots, and the pubdata
//! builder does not depend on the protocol version; there are no modexp and EC circuits.

use std::rc::Rc;

use zksync_multivm::{
    circuit_sequencer_api_latest::geometry_config::ProtocolGeometry,
    pubdata_builders::pubdata_params_to_builder,
};
use zksync_types::{commitment::PubdataParams, ProtocolVersionId, H256};
use zksync_vm_interface::{pubdata::PubdataBuilder, L2BlockEnv};

use crate::outcome::CircuitStatistic;

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

/// Cycles per circuit of each type in this release's latest circuit geometry: what the VMs
/// divide their cycle counts by to report circuit statistics.
/// 27.x has no modexp and EC circuits: it reports 0 for them, and so do these.
pub fn circuit_capacities() -> CircuitStatistic {
    let geometry = ProtocolGeometry::latest().config();
    CircuitStatistic {
        main_vm: geometry.cycles_per_vm_snapshot.into(),
        ram_permutation: geometry.cycles_per_ram_permutation.into(),
        storage_application: geometry.cycles_per_storage_application.into(),
        storage_sorter: geometry.cycles_per_storage_sorter.into(),
        code_decommitter: geometry.cycles_per_code_decommitter.into(),
        code_decommitter_sorter: geometry.cycles_code_decommitter_sorter.into(),
        log_demuxer: geometry.cycles_per_log_demuxer.into(),
        events_sorter: geometry.cycles_per_events_or_l1_messages_sorter.into(),
        keccak256: geometry.cycles_per_keccak256_circuit.into(),
        ecrecover: geometry.cycles_per_ecrecover_circuit.into(),
        sha256: geometry.cycles_per_sha256_circuit.into(),
        secp256k1_verify: geometry.cycles_per_secp256r1_verify_circuit.into(),
        transient_storage_checker: geometry.cycles_per_transient_storage_sorter.into(),
        modexp: 0,
        ecadd: 0,
        ecmul: 0,
        ecpairing: 0,
    }
}
