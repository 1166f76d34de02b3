//! Frame engines: zk_evm and zksync_vm2 driven directly, with no bootloader ([`crate::frame`]).
//! Each records the same step records as its batch-level engine (the recorders are shared), so
//! frame-level divergences get causes as batch-level ones do.

mod vm2;
mod zk_evm;

use std::sync::LazyLock;

use super::{
    fault::{StepFault, StepFaultTracer},
    vm_fast, vm_latest, CellCounts, Observe, OpcodeCounts,
};
use crate::{
    frame::{Frame, FrameOutcome},
    steps::{StepSink, StepTrace},
    support::panic_guard,
};

/// An EraVM implementation that runs frames.
pub trait FrameEngine: Send + Sync {
    /// Short stable name (`zk_evm`, `zksync_vm2`).
    fn name(&self) -> &str;

    /// Runs `frame`, observing what `observe` asks for as far as the engine can (its
    /// `last_transaction` does not apply). Never panics: a panic inside the VM is part of the
    /// outcome.
    fn run_frame(&self, frame: &Frame, observe: &Observe) -> FrameObserved;
}

/// A frame's outcome, and what was observed on the way.
#[derive(Debug, Clone, Default)]
pub struct FrameObserved {
    pub outcome: FrameOutcome,
    pub opcodes: Option<OpcodeCounts>,
    pub cells: Option<CellCounts>,
    pub steps: Option<StepTrace>,
}

/// The reference: zk_evm 0.153.8, as zksync_multivm's `vm_latest` runs it.
pub struct ZkEvm;

/// The new VM: zksync_vm2 0.5.0, as zksync_multivm's `vm_fast` runs it; with a fault injected
/// on purpose if one is given.
pub struct ZksyncVm2(pub Option<StepFault>);

pub const FRAME_REFERENCE: &str = "zk_evm";
pub const FRAME_CANDIDATE: &str = "zksync_vm2";

/// The frame engine called `name`: `zk_evm`, `zksync_vm2`, `zksync_vm2+step_fault:<kind>`.
pub fn frame_engine(name: &str) -> Option<Box<dyn FrameEngine>> {
    match name {
        FRAME_REFERENCE => Some(Box::new(ZkEvm)),
        FRAME_CANDIDATE => Some(Box::new(ZksyncVm2(None))),
        _ => {
            let fault = name
                .strip_prefix(FRAME_CANDIDATE)?
                .strip_prefix("+step_fault:")?;
            let fault = StepFault::ALL.into_iter().find(|f| f.name() == fault)?;
            Some(Box::new(ZksyncVm2(Some(fault))))
        }
    }
}

/// The frame engines' names, faults included.
pub fn frame_engine_names() -> Vec<String> {
    let faults =
        StepFault::ALL.map(|fault| format!("{FRAME_CANDIDATE}+step_fault:{}", fault.name()));
    [FRAME_REFERENCE.to_owned(), FRAME_CANDIDATE.to_owned()]
        .into_iter()
        .chain(faults)
        .collect()
}

/// The outcome of a run, or the engine's own failure as an outcome; with where the engine
/// panicked, named as batch-level traces name it (by location), if it did.
fn caught(run: impl FnOnce() -> Result<FrameOutcome, String>) -> (FrameOutcome, Option<String>) {
    let failed = |panic: String| FrameOutcome {
        panic: Some(panic),
        ..FrameOutcome::default()
    };
    match panic_guard::catch(run) {
        Ok(Ok(outcome)) => (outcome, None),
        Ok(Err(error)) => (failed(error.clone()), Some(error)),
        Err(panic) => {
            let location = (panic.location.as_ref())
                .map_or_else(|| "an unknown location".to_owned(), ToString::to_string);
            (failed(panic.to_string()), Some(location))
        }
    }
}

/// A trace of one execution, its steps recorded into `sink`.
fn trace(sink: Option<StepSink>, panicked_at: Option<String>) -> Option<StepTrace> {
    sink.map(|sink| sink.into_frame_trace(panicked_at))
}

fn sink(observe: &Observe) -> Option<StepSink> {
    observe.steps.then(|| {
        let sink = StepSink::default();
        sink.start(0);
        sink
    })
}

impl FrameEngine for ZkEvm {
    fn name(&self) -> &str {
        FRAME_REFERENCE
    }

    fn run_frame(&self, frame: &Frame, observe: &Observe) -> FrameObserved {
        let sink = sink(observe);
        let (watchers, opcodes, cells) = vm_latest::watchers(observe, sink.clone());
        let (outcome, panicked_at) = caught(|| zk_evm::run(frame, watchers));
        FrameObserved {
            steps: trace(sink, panicked_at),
            opcodes: opcodes.map(|counter| counter.counts()),
            cells: cells.map(|counter| counter.counts()),
            outcome,
        }
    }
}

impl FrameEngine for ZksyncVm2 {
    fn name(&self) -> &str {
        static NAMES: LazyLock<Vec<String>> = LazyLock::new(frame_engine_names);
        match self.0 {
            None => FRAME_CANDIDATE,
            Some(fault) => &NAMES[2 + fault as usize],
        }
    }

    fn run_frame(&self, frame: &Frame, observe: &Observe) -> FrameObserved {
        fn faulty<const FAULT: usize>(
            frame: &Frame,
            recorder: vm_fast::StepRecorder,
        ) -> (FrameOutcome, Option<String>) {
            let mut tracers = (StepFaultTracer::<FAULT>::default(), recorder);
            caught(|| Ok(vm2::run(frame, &mut tracers)))
        }
        let sink = sink(observe);
        let recorder = vm_fast::StepRecorder::recording(sink.clone());
        use StepFault::*;
        let (outcome, panicked_at) = match self.0 {
            None => caught(|| Ok(vm2::run(frame, &mut { recorder }))),
            Some(Register) => faulty::<{ Register as usize }>(frame, recorder),
            Some(PointerTag) => faulty::<{ PointerTag as usize }>(frame, recorder),
            Some(Flag) => faulty::<{ Flag as usize }>(frame, recorder),
            Some(Ergs) => faulty::<{ Ergs as usize }>(frame, recorder),
            Some(HeapWord) => faulty::<{ HeapWord as usize }>(frame, recorder),
        };
        FrameObserved {
            steps: trace(sink, panicked_at),
            opcodes: None,
            cells: None,
            outcome,
        }
    }
}
