//! The new VM: `vm_fast`, built on zksync_vm2.

use zksync_multivm::vm_fast;
use zksync_vm_interface::storage::ImmutableStorageView;

use super::{run_vm, Engine};
use crate::{
    batch::Batch,
    outcome::Outcome,
    world::{World, WorldStorage},
};

pub struct VmFast;

impl VmFast {
    pub const NAME: &'static str = "vm_fast";
}

impl Engine for VmFast {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, world: &World, batch: &Batch) -> Outcome {
        run_vm::<vm_fast::Vm<ImmutableStorageView<WorldStorage>>>(world, batch)
    }
}
