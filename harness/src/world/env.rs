//! [`World`]: what an engine runs a batch in. Shared with the engine binaries of other
//! zksync_multivm releases (engines/), so it names only what every release has.

use std::sync::Arc;

use zksync_types::commitment::PubdataParams;
use zksync_vm_interface::{L1BatchEnv, SystemEnv, TxExecutionMode};

use super::{StorageLayer, WorldStorage};

/// Everything a VM needs before the first transaction.
#[derive(Clone, Debug)]
pub struct World {
    /// Where the world came from, for reports.
    pub origin: String,
    pub system_env: Arc<SystemEnv>,
    pub l1_batch_env: L1BatchEnv,
    pub pubdata_params: PubdataParams,
    pub storage: WorldStorage,
}

impl World {
    /// A world over `base` storage with no batch set-up applied yet.
    pub fn new(
        origin: String,
        system_env: SystemEnv,
        l1_batch_env: L1BatchEnv,
        pubdata_params: PubdataParams,
        base: StorageLayer,
    ) -> Self {
        Self {
            origin,
            system_env: Arc::new(system_env),
            l1_batch_env,
            pubdata_params,
            storage: WorldStorage::new(Arc::new(base), Arc::default()),
        }
    }

    /// This world in another execution mode.
    pub fn with_execution_mode(&self, mode: TxExecutionMode) -> Self {
        let mut world = self.clone();
        if world.system_env.execution_mode != mode {
            Arc::make_mut(&mut world.system_env).execution_mode = mode;
        }
        world
    }
}
