//! What the shared engine side (the driver) needs from zksync_multivm that releases spell
//! differently, in the spelling of 29.13 and the 28.x releases. The engine binaries in engines/
//! compile this file, or `engines/src/release_27.rs` for 27.x, as `crate::release`.

use std::rc::Rc;

use zksync_multivm::{
    circuit_sequencer_api_latest::geometry_config::ProtocolGeometry,
    pubdata_builders::pubdata_params_to_builder,
};
use zksync_types::{commitment::PubdataParams, ProtocolVersionId, H256};
use zksync_vm_interface::{pubdata::PubdataBuilder, L2BlockEnv};

use crate::outcome::CircuitStatistic;

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

/// Cycles per circuit of each type in this release's latest circuit geometry: what the VMs
/// divide their cycle counts by to report circuit statistics.
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
        modexp: geometry.cycles_per_modexp_circuit.into(),
        ecadd: geometry.cycles_per_ecadd_circuit.into(),
        ecmul: geometry.cycles_per_ecmul_circuit.into(),
        ecpairing: geometry.cycles_per_ecpairing_circuit.into(),
    }
}
