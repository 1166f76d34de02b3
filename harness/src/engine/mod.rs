//! Engines: EraVM implementations behind one small trait. Each engine runs a batch on its own
//! fresh view of the world and reports an [`Outcome`].
//!
//! Any VM implementing zksync_vm_interface's `VmFactory` + `VmInterfaceHistoryEnabled` becomes an
//! engine with one file like `vm_fast.rs`: a unit struct whose `run_observed` calls
//! [`run_vm_traced`] with the VM type and the tracers that observe what is asked, plus a line in
//! the registry ([`by_name`]). Other processes are engines through `remote`, and engines with
//! faults injected on purpose are in `fault`.

mod driver;
pub mod fault;
pub mod frame;
mod registry;
pub mod remote;
mod vm_fast;
mod vm_latest;

pub use self::{
    driver::{run_vm, run_vm_traced, VmStorage},
    fault::{Fault, FaultyVmFast, RareRefundVmFast, StepFault, StepFaultyVmFast},
    registry::{by_name, check_name, ENGINE_NAMES},
    remote::{ProcessEngine, Release, Served, RELEASE_VMS},
    vm_fast::{StepRecorder, VmFast},
    vm_latest::VmLatest,
};
use std::collections::HashSet;

use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::Opcode;
use zksync_types::Address;

use crate::{batch::Batch, isa::model::Cell, outcome::Outcome, steps::StepTrace, world::World};

/// An EraVM implementation under test.
pub trait Engine: Send + Sync {
    /// Short stable name, used in reports (e.g. `vm_latest`).
    fn name(&self) -> &str;

    /// Runs `batch` in `world` and finishes the batch, observing what `observe` asks for as far
    /// as the engine can (what it cannot observe is `None`). Never panics: a panic inside the VM
    /// is part of the returned outcome.
    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed;

    /// Why this engine cannot run batches in `world`, if it cannot (an engine of another release
    /// and the world's protocol version, say). In-process engines run every world.
    fn check(&self, _world: &World) -> Result<(), String> {
        Ok(())
    }

    /// [`Engine::run_observed`], observing nothing.
    fn run(&self, world: &World, batch: &Batch) -> Outcome {
        self.run_observed(world, batch, &Observe::default()).outcome
    }
}

/// What to observe while a batch runs, besides its outcome.
#[derive(Debug, Clone, Default)]
pub struct Observe {
    /// Count the instructions executed in code at these addresses, by opcode variant (counting
    /// the fetched instruction whose condition held).
    pub opcodes_in: Option<HashSet<Address>>,
    /// Also count the coverage model's cells ([`crate::isa::model`]) in that code.
    pub cells: bool,
    /// Record every instruction the transactions execute ([`StepTrace`]).
    pub steps: bool,
    /// Run no transaction after this one (0-based) and leave the batch unsealed: the outcome is
    /// partial. For tracing a known divergence, whose cause is at or before its first diverging
    /// transaction.
    pub last_transaction: Option<usize>,
    /// Frame level: stop after this many steps (at most, and by default,
    /// [`frame::MAX_FRAME_STEPS`]).
    pub max_steps: Option<usize>,
}

/// An outcome, and what was observed on the way.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub outcome: Outcome,
    pub opcodes: Option<OpcodeCounts>,
    pub cells: Option<CellCounts>,
    pub steps: Option<StepTrace>,
}

/// Executed instructions per opcode variant.
pub type OpcodeCounts = Vec<(Opcode, u64)>;

/// Executions per coverage cell, in cell order, and the cells shown only in frames that then
/// reverted or panicked (whose effects were rolled back), in cell order.
#[derive(Debug, Clone, Default)]
pub struct CellCounts {
    pub executions: Vec<(Cell, u64)>,
    pub dying_only: Vec<Cell>,
}

/// Any engine can be served over the engine protocol.
impl<E: Engine + ?Sized> Served for E {
    fn name(&self) -> String {
        Engine::name(self).to_owned()
    }

    fn run(
        &self,
        world: &World,
        batch: &Batch,
        last_transaction: Option<usize>,
        steps: bool,
    ) -> (Outcome, Option<Vec<u8>>) {
        let observe = Observe {
            last_transaction,
            steps,
            ..Observe::default()
        };
        let observed = self.run_observed(world, batch, &observe);
        let steps = observed
            .steps
            .map(|steps| postcard::to_stdvec(&steps).expect("steps serialize to postcard"));
        (observed.outcome, steps)
    }
}
