//! The one grammar of engine names, for the library and the command line alike:
//! - `vm_latest`, `vm_fast`, and the in-process fault engines `vm_fast+fault:<class>`
//!   ([`Fault`]), `vm_fast+fault:rare_refund` and `vm_fast+step_fault:<kind>` ([`StepFault`]);
//! - `process:<engine>`: one of those in a child process (this program, as `serve-engine`);
//! - `vm_latest@<release>`, `vm_fast@<release>`: the VMs of another zksync_multivm release
//!   ([`Release`]), built on first use;
//! - `exec:<path>`: any program speaking the engine protocol.

use std::path::Path;

use super::{
    Engine, Fault, FaultyVmFast, ProcessEngine, RareRefundVmFast, Release, StepFault,
    StepFaultyVmFast, VmFast, VmLatest,
};
use crate::engine::remote::parse_release_name;

/// The in-process engines without a parameter.
pub const ENGINE_NAMES: &[&str] = &[VmLatest::NAME, VmFast::NAME, RareRefundVmFast::NAME];

/// An engine name, parsed.
enum Name<'a> {
    InProcess(Box<dyn Engine>),
    /// An in-process engine (validated) served by a child of this program.
    Process(&'a str),
    Release(&'a str, Release),
    Exec(&'a str),
}

fn parse(name: &str) -> Result<Name<'_>, String> {
    if let Some(served) = name.strip_prefix("process:") {
        return in_process(served)
            .map(|_| Name::Process(served))
            .ok_or_else(|| unknown(name));
    }
    if let Some(program) = name.strip_prefix("exec:") {
        return match Path::new(program).is_file() {
            true => Ok(Name::Exec(program)),
            false => Err(format!("engine program `{program}` is not a file")),
        };
    }
    if let Some(release) = parse_release_name(name) {
        return release.map(|(vm, release)| Name::Release(vm, release));
    }
    in_process(name)
        .map(Name::InProcess)
        .ok_or_else(|| unknown(name))
}

fn in_process(name: &str) -> Option<Box<dyn Engine>> {
    match name {
        VmLatest::NAME => Some(Box::new(VmLatest)),
        VmFast::NAME => Some(Box::new(VmFast)),
        RareRefundVmFast::NAME => Some(Box::new(RareRefundVmFast)),
        _ => FaultyVmFast::by_name(name)
            .map(|engine| Box::new(engine) as Box<dyn Engine>)
            .or_else(|| {
                StepFaultyVmFast::by_name(name).map(|engine| Box::new(engine) as Box<dyn Engine>)
            }),
    }
}

fn unknown(name: &str) -> String {
    format!(
        "unknown engine `{name}` (known: {}, vm_fast+fault:<{}> and vm_fast+step_fault:<{}> \
         for fault injection, process:<engine> for one of them in a child process, \
         vm_latest@<release> and vm_fast@<release> for another zksync_multivm release ({}), \
         exec:<path> for a program speaking the engine protocol)",
        ENGINE_NAMES.join(", "),
        Fault::ALL.map(Fault::name).join("|"),
        StepFault::ALL.map(StepFault::name).join("|"),
        (Release::all().into_iter())
            .map(|release| release.version)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Why `name` names no engine, if it does not (nothing is built or started).
pub fn check_name(name: &str) -> Result<(), String> {
    parse(name).map(drop)
}

/// The engine called `name`; a release engine is built first.
pub fn by_name(name: &str) -> Result<Box<dyn Engine>, String> {
    Ok(match parse(name)? {
        Name::InProcess(engine) => engine,
        Name::Process(served) => {
            let program = std::env::current_exe()
                .map_err(|err| format!("cannot locate this program to serve `{served}`: {err}"))?;
            Box::new(ProcessEngine::new(name, program, &["serve-engine", served]))
        }
        Name::Release(vm, release) => Box::new(release.engine(vm)?),
        Name::Exec(program) => Box::new(ProcessEngine::new(name, program, &[])),
    })
}
