//! Engines with faults injected on purpose, to check the harness itself: one class of reported
//! output perturbed (`output`), execution perturbed through the tracer (`step`), a fault under a
//! rare condition (`rare_refund`); `hook` is how a VM's reports are intercepted.

mod hook;
mod output;
mod rare_refund;
mod step;

pub use self::{
    hook::{Hook, Hooked},
    output::{Fault, FaultHook, FaultyVm, FaultyVmFast},
    rare_refund::{RareRefundHook, RareRefundVm, RareRefundVmFast},
    step::{StepFault, StepFaultTracer, StepFaultyVmFast},
};
