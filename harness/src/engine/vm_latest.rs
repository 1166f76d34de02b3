//! The reference: `vm_latest`, built on zk_evm (the VM the circuits prove).

use zksync_multivm::vm_latest::{self, HistoryEnabled};

use super::{run_vm, Engine, VmStorage};
use crate::{batch::Batch, outcome::Outcome, world::World};

pub struct VmLatest;

impl Engine for VmLatest {
    fn name(&self) -> &str {
        "vm_latest"
    }

    fn run(&self, world: &World, batch: &Batch) -> Outcome {
        run_vm::<vm_latest::Vm<VmStorage, HistoryEnabled>>(world, batch)
    }
}
