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
    frame::{Frame, FrameOutcome, FrameResult},
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

/// The most instructions a frame runs on either engine ([`Observe::max_steps`] may set fewer):
/// both stop once they have recorded this many steps, with the result
/// [`FrameResult::StepLimit`]. Generated frames stay far below it
/// (their loops are bounded); it bounds the frames a minimizer makes by removing those bounds,
/// which could otherwise loop until millions of ergs run out.
pub const MAX_FRAME_STEPS: usize = 1 << 18;

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
/// The trace of a run, if `observe` asked for steps.
fn trace(observe: &Observe, sink: StepSink, panicked_at: Option<String>) -> Option<StepTrace> {
    observe.steps.then(|| sink.into_frame_trace(panicked_at))
}

/// Where a frame run records its steps: every run records them, for its step limit.
fn sink() -> StepSink {
    let sink = StepSink::default();
    sink.start(0);
    sink
}

/// The steps a run observing `observe` may take.
fn step_limit(observe: &Observe) -> usize {
    observe
        .max_steps
        .map_or(MAX_FRAME_STEPS, |max| max.min(MAX_FRAME_STEPS))
}

/// The outcome of a run stopped at its step limit: the result alone, as nothing else of a
/// frame in progress is final (its storage and events may still be rolled back).
fn stopped() -> FrameOutcome {
    FrameOutcome {
        result: Some(FrameResult::StepLimit),
        ..FrameOutcome::default()
    }
}

impl FrameEngine for ZkEvm {
    fn name(&self) -> &str {
        FRAME_REFERENCE
    }

    fn run_frame(&self, frame: &Frame, observe: &Observe) -> FrameObserved {
        let sink = sink();
        let (watchers, opcodes, cells) = vm_latest::watchers(observe, Some(sink.clone()));
        let (outcome, panicked_at) =
            caught(|| zk_evm::run(frame, watchers, (&sink, step_limit(observe))));
        FrameObserved {
            steps: trace(observe, sink, panicked_at),
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
            limit: (&StepSink, usize),
        ) -> (FrameOutcome, Option<String>) {
            let tracers = (StepFaultTracer::<FAULT>::default(), recorder);
            caught(|| Ok(vm2::run(frame, tracers, limit)))
        }
        let sink = sink();
        let recorder = vm_fast::StepRecorder::recording(Some(sink.clone()));
        let limit = (&sink, step_limit(observe));
        use StepFault::*;
        let (outcome, panicked_at) = match self.0 {
            None => caught(|| Ok(vm2::run(frame, recorder, limit))),
            Some(Register) => faulty::<{ Register as usize }>(frame, recorder, limit),
            Some(PointerTag) => faulty::<{ PointerTag as usize }>(frame, recorder, limit),
            Some(Flag) => faulty::<{ Flag as usize }>(frame, recorder, limit),
            Some(Ergs) => faulty::<{ Ergs as usize }>(frame, recorder, limit),
            Some(HeapWord) => faulty::<{ HeapWord as usize }>(frame, recorder, limit),
            Some(Failure) => faulty::<{ Failure as usize }>(frame, recorder, limit),
        };
        FrameObserved {
            steps: trace(observe, sink, panicked_at),
            opcodes: None,
            cells: None,
            outcome,
        }
    }
}
