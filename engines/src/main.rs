//! An engine binary: one zksync_multivm release's `vm_latest` and `vm_fast` behind the engine
//! protocol (`eravm-engine-<release> vm_latest|vm_fast`, requests on stdin, answers on stdout).
//!
//! Everything but the choice of VM is the harness's own source, compiled here against this
//! release: the driver, outcome capture, world, batch and protocol modules are mounted by path at
//! the places the harness has them, so outcomes are captured and encoded exactly as in-process.
//! What releases spell differently is `crate::support::multivm_compat`: the harness's file for 28.x, and
//! `multivm_compat_27.rs` for 27.x. Steps are not recorded (the step recorders follow 29.13's tracer
//! interfaces); a run asking for them gets its outcome only.

// The mounted modules carry what the harness uses of them too.
#![allow(dead_code)]

#[path = "../../harness/src/batch.rs"]
mod batch;
mod engine;
#[path = "../../harness/src/outcome/mod.rs"]
mod outcome;
mod support;
mod world;

use std::process::ExitCode;

use zksync_multivm::{
    vm_fast,
    vm_latest::{self, HistoryEnabled},
};
use zksync_vm_interface::{
    storage::{ImmutableStorageView, StorageView},
    VmFactory, VmInterfaceHistoryEnabled,
};

use crate::{
    batch::Batch,
    engine::{run_vm_traced, serve_stdio, Served, VmStorage},
    outcome::Outcome,
    world::{World, WorldStorage},
};

/// One of this release's VMs.
struct ReleaseVm {
    name: &'static str,
    run: fn(&World, &Batch, Option<usize>) -> Outcome,
    open: fn(&World) -> Result<(), String>,
}

const VMS: [ReleaseVm; 2] = [
    ReleaseVm {
        name: "vm_latest",
        run: run::<vm_latest::Vm<VmStorage, HistoryEnabled>>,
        open: open::<vm_latest::Vm<VmStorage, HistoryEnabled>>,
    },
    ReleaseVm {
        name: "vm_fast",
        run: run::<vm_fast::Vm<ImmutableStorageView<WorldStorage>>>,
        open: open::<vm_fast::Vm<ImmutableStorageView<WorldStorage>>>,
    },
];

fn run<V: VmFactory<VmStorage> + VmInterfaceHistoryEnabled>(
    world: &World,
    batch: &Batch,
    last_transaction: Option<usize>,
) -> Outcome {
    run_vm_traced::<V>(world, batch, last_transaction, &mut |_| Default::default())
}

/// Creates the VM in `world`: a release refuses a protocol version it cannot run by panicking.
fn open<V: VmFactory<VmStorage>>(world: &World) -> Result<(), String> {
    support::panic_guard::catch(|| {
        let storage = StorageView::new(world.storage.clone()).to_rc_ptr();
        drop(V::new(
            world.l1_batch_env.clone(),
            (*world.system_env).clone(),
            storage,
        ));
    })
    .map_err(|caught| caught.message)
}

impl Served for ReleaseVm {
    fn name(&self) -> String {
        format!("{}@{}", self.name, env!("CARGO_PKG_VERSION"))
    }

    fn refuses(&self, world: &World) -> Option<String> {
        (self.open)(world).err().map(|message| {
            let version = world.system_env.version;
            format!(
                "zksync_multivm {} cannot run protocol {version:?}: {message}",
                env!("CARGO_PKG_VERSION")
            )
        })
    }

    fn run(
        &self,
        world: &World,
        batch: &Batch,
        last_transaction: Option<usize>,
        _steps: bool,
    ) -> (Outcome, Option<Vec<u8>>) {
        ((self.run)(world, batch, last_transaction), None)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names = VMS.map(|vm| vm.name).join("|");
    let [name] = &args[..] else {
        eprintln!("usage: {} {names}", env!("CARGO_BIN_NAME"));
        return ExitCode::from(2);
    };
    let Some(vm) = VMS.iter().find(|vm| vm.name == name) else {
        eprintln!("unknown engine `{name}` (known: {names})");
        return ExitCode::from(2);
    };
    match serve_stdio(vm, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("engine protocol: {err}");
            ExitCode::from(2)
        }
    }
}
