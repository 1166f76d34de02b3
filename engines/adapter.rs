//! A minimal engine adapter: your EraVM implementation behind the engine protocol, runnable as
//! `--candidate exec:PATH` (docs/engines/processes.md, "Plugging in another implementation"). Copy it into your tree
//! and replace `YourVm` with your VM type; any `VmFactory<VmStorage> + VmInterfaceHistoryEnabled`
//! fits. Built as the harness package's example `engine_adapter`.
//! As written it serves zksync_multivm's vm_latest.
//!
//! ```sh
//! cargo build --release -p eravm-diff --example engine_adapter
//! eravm-diff run vectors/ --candidate exec:target/release/examples/engine_adapter
//! ```

use std::io;

use eravm_diff::{
    batch::Batch,
    engine::{remote::serve_stdio, run_vm_traced, Engine, Observe, Observed, VmStorage},
    world::World,
};
use zksync_multivm::vm_latest::HistoryEnabled;

/// The VM under test.
type YourVm = zksync_multivm::vm_latest::Vm<VmStorage, HistoryEnabled>;

struct Adapter;

impl Engine for Adapter {
    fn name(&self) -> &str {
        "your_vm"
    }

    /// Outcomes only; recording steps (for causes) takes a step recorder, as in
    /// `harness/src/engine/vm_fast.rs`.
    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        let no_tracers = &mut |_| Default::default();
        let outcome = run_vm_traced::<YourVm>(world, batch, observe.last_transaction, no_tracers);
        Observed {
            outcome,
            ..Observed::default()
        }
    }
}

/// Serves on stdin and stdout until the harness closes stdin (anything the VM prints to stdout
/// goes to stderr instead).
fn main() -> io::Result<()> {
    serve_stdio(&Adapter, None)
}
