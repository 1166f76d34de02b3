//! The differential pipeline: one batch on the reference and the candidate engine, each on its
//! own view of the world, then the comparison. Every driver (`run`, `replay`, `fuzz`, `campaign`,
//! `minimize`, `coverage` and the cargo-fuzz targets) runs batches through [`Differential`];
//! none calls an engine directly, except [`crate::drive::matrix`], which groups N engines' outcomes by
//! their bytes and names no causes.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use zksync_types::{get_code_key, Address};

use crate::{
    batch::Batch,
    batch_file::{BatchFile, Expectation, PreparedBatch},
    chain::ChainPosition,
    divergence::{
        cause::Cause,
        compare,
        explain::{explain, Explanation},
        frame::{compare_frames, frame_cause, FrameDifference},
        tolerance::Tolerances,
        Divergence,
    },
    engine::{
        frame::{FrameEngine, FrameObserved},
        CellCounts, Engine, Observe, OpcodeCounts,
    },
    frame::Frame,
    key,
    outcome::Outcome,
    pubdata::da::{self, DaFinding, Verdict},
    steps::{Step, StepTrace},
    support::error::InputError,
    world::World,
};

/// A world, the engines to compare in it, and how to compare them.
pub struct Differential {
    /// The world batch files are prepared in.
    pub world: World,
    pub reference: Box<dyn Engine>,
    pub candidate: Box<dyn Engine>,
    /// The tolerances causes are named with.
    pub tolerances: Tolerances,
    /// What decides that the engines disagree.
    pub oracle: Oracle,
}

/// What decides that two engines disagree on a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Oracle {
    /// Their outcomes differ.
    #[default]
    Outcome,
    /// Their outcomes differ, or their steps do (every instruction is recorded and compared:
    /// differences that never reach the outcome count too, keyed by their cause).
    Steps,
}

impl std::fmt::Display for Oracle {
    /// The name `--oracle` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::support::value_name(self, f)
    }
}

/// How to run one batch.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run the two engines on two threads, for callers that are not already parallel.
    pub concurrent: bool,
    /// Count the instructions the reference executes in code at these addresses, by opcode.
    pub count_opcodes_in: Option<HashSet<Address>>,
    /// Count the reference's coverage cells in the same code as its opcodes.
    pub count_cells: bool,
    /// Record both engines' step traces.
    pub steps: bool,
}

impl RunOptions {
    /// Both engines at once, nothing counted: for callers that run batches one by one.
    pub const CONCURRENT: Self = Self {
        concurrent: true,
        count_opcodes_in: None,
        count_cells: false,
        steps: false,
    };

    /// Both engines at once, recording their steps: for naming causes.
    pub const TRACED: Self = Self {
        steps: true,
        ..Self::CONCURRENT
    };

    /// How to check a vector that expects `expect`: both engines at once, recording their steps
    /// when it declares a cause, so that a cause only the steps show (the outcomes agree) is
    /// seen too.
    pub fn checking(expect: Option<&Expectation>) -> Self {
        match expect {
            Some(Expectation::Divergence { key, .. }) if key.starts_with("cause-") => Self::TRACED,
            _ => Self::CONCURRENT,
        }
    }

    /// One engine after the other, counting the reference's instructions in `file`'s contracts
    /// (the generated code): for callers that are already parallel.
    pub fn counting_opcodes_in(file: &BatchFile) -> Self {
        Self {
            concurrent: false,
            count_opcodes_in: Some(
                file.contracts
                    .iter()
                    .map(|contract| contract.address)
                    .collect(),
            ),
            count_cells: false,
            steps: false,
        }
    }
}

/// One engine's part of a differential run.
#[derive(Debug, Clone)]
pub struct EngineRun {
    pub engine: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
    /// Executed instructions by opcode, when counted and the engine can count them.
    pub opcodes: Option<OpcodeCounts>,
    /// Executions by coverage cell, likewise.
    pub cells: Option<CellCounts>,
    /// Every executed instruction, when recorded and the engine can record them.
    pub steps: Option<StepTrace>,
}

/// Both runs and how they compare.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub reference: EngineRun,
    pub candidate: EngineRun,
    pub divergence: Option<Divergence>,
    /// The cause of the divergence (always named: a run without steps is run again with them),
    /// or, when steps were recorded, of a difference in steps alone.
    pub explanation: Option<Explanation>,
    /// The data-availability oracle's verdicts on the reference's and the candidate's outcome.
    pub pubdata: [Verdict; 2],
    /// Their violations, if any: a finding of its own, even when the engines agree.
    pub da: Option<DaFinding>,
    /// Which L1 batch of its file's chain this is.
    pub chain: ChainPosition,
}

impl Comparison {
    /// What identifies the disagreement, if there is one: the DA oracle's violations first (an
    /// engine inconsistent with itself), then the divergence's cause, then its symptom.
    pub fn key(&self) -> Option<&str> {
        self.keys().next()
    }

    /// Whether the run shows `key`: as its DA violations, its cause, or (for batch files written
    /// before causes) its symptom fingerprint.
    pub fn shows(&self, key: &str) -> bool {
        self.keys().any(|shown| shown == key)
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        let da = self.da.as_ref().map(|da| da.fingerprint.as_str());
        let cause =
            (self.explanation.as_ref()).map(|explanation| explanation.cause.fingerprint.as_str());
        let symptom = (self.divergence.as_ref()).map(|divergence| divergence.fingerprint.as_str());
        key::by_precedence(da, cause, symptom)
    }
}

impl Differential {
    /// `reference` against `candidate` in `world`, with the default tolerances and oracle.
    pub fn new(
        world: World,
        reference: impl Engine + 'static,
        candidate: impl Engine + 'static,
    ) -> Self {
        Self {
            world,
            reference: Box::new(reference),
            candidate: Box::new(candidate),
            tolerances: Tolerances::DEFAULT,
            oracle: Oracle::Outcome,
        }
    }

    /// Runs `batch` in `world` (the pipeline's world, or one prepared from it) on both engines
    /// and compares the outcomes.
    pub fn run(&self, world: &World, batch: &Batch, options: &RunOptions) -> Comparison {
        let steps = options.steps || self.oracle == Oracle::Steps;
        let observe_reference = Observe {
            opcodes_in: options.count_opcodes_in.clone(),
            cells: options.count_cells,
            steps,
            ..Observe::default()
        };
        let observe_candidate = Observe {
            opcodes_in: None,
            ..observe_reference.clone()
        };
        let (reference, candidate) = self.run_engines(
            world,
            batch,
            [&observe_reference, &observe_candidate],
            options,
        );
        let divergence = compare(&reference.outcome, &candidate.outcome);
        let traces = (reference.steps.as_ref(), candidate.steps.as_ref());
        let explanation = match &divergence {
            _ if steps => explain(traces, divergence.as_ref(), self.tolerances, &|address| {
                code_at(world, address)
            }),
            Some(divergence) => self.name_cause(world, batch, divergence, options),
            None => None,
        };
        let pubdata = [&reference, &candidate].map(|run| da::check(&run.outcome, world, batch));
        Comparison {
            da: DaFinding::of([&pubdata[0], &pubdata[1]]),
            pubdata,
            reference,
            candidate,
            divergence,
            explanation,
            chain: ChainPosition::SINGLE,
        }
    }

    /// Runs a prepared file: its L1 batch, or its chain of batches while the engines agree.
    pub fn run_prepared(&self, prepared: &PreparedBatch, options: &RunOptions) -> Comparison {
        let (mut comparisons, stopped) = prepared.walk(
            |world, batch| self.run(world, batch, options),
            |comparison| match comparison.key() {
                Some(_) => None,
                None => Some(&comparison.reference.outcome),
            },
        );
        let mut comparison = comparisons.pop().expect("a chain runs at least one batch");
        comparison.chain = ChainPosition {
            batch: comparisons.len(),
            batches: prepared.batches(),
            earlier: (comparisons.into_iter())
                .map(|earlier| earlier.reference.outcome)
                .collect(),
            stopped,
        };
        comparison
    }

    /// Names the cause of a divergence seen untraced: both engines run again recording their
    /// steps, up to the first diverging transaction (where [`explain`] stops comparing).
    fn name_cause(
        &self,
        world: &World,
        batch: &Batch,
        divergence: &Divergence,
        options: &RunOptions,
    ) -> Option<Explanation> {
        let observe = Observe {
            opcodes_in: None,
            cells: false,
            steps: true,
            last_transaction: divergence.first_transaction(),
            ..Observe::default()
        };
        let (reference, candidate) = self.run_engines(world, batch, [&observe, &observe], options);
        let traces = (reference.steps.as_ref(), candidate.steps.as_ref());
        explain(traces, Some(divergence), self.tolerances, &|address| {
            code_at(world, address)
        })
    }

    /// Runs the reference and the candidate, observing what each is asked to.
    fn run_engines(
        &self,
        world: &World,
        batch: &Batch,
        [observe_reference, observe_candidate]: [&Observe; 2],
        options: &RunOptions,
    ) -> (EngineRun, EngineRun) {
        if options.concurrent {
            std::thread::scope(|scope| {
                let candidate =
                    scope.spawn(|| run_engine(&*self.candidate, world, batch, observe_candidate));
                let reference = run_engine(&*self.reference, world, batch, observe_reference);
                (reference, candidate.join().expect("engines never panic"))
            })
        } else {
            (
                run_engine(&*self.reference, world, batch, observe_reference),
                run_engine(&*self.candidate, world, batch, observe_candidate),
            )
        }
    }

    /// Prepares `file` in the pipeline's world and runs it.
    pub fn run_file(
        &self,
        file: &BatchFile,
        options: &RunOptions,
    ) -> Result<Comparison, InputError> {
        let prepared = file.prepare(&self.world)?;
        Ok(self.run_prepared(&prepared, options))
    }

    /// Why the engines disagree on `batch` in `world`: both run again recording every
    /// instruction, and their steps are compared. The first differing step, or the divergence's
    /// outcome-level cause; `None` if outcomes and steps agree.
    pub fn explain(&self, world: &World, batch: &Batch) -> Option<Explanation> {
        self.run(world, batch, &RunOptions::TRACED).explanation
    }

    /// `reference vs candidate`, for origins and reports.
    pub fn engines(&self) -> String {
        format!("{} vs {}", self.reference.name(), self.candidate.name())
    }
}

/// The code deployed at `address` in `world`'s pre-state.
fn code_at(world: &World, address: Address) -> Option<&[u8]> {
    let hash = world.storage.value(&get_code_key(&address));
    world.storage.factory_dep(&hash)
}

fn run_engine(engine: &dyn Engine, world: &World, batch: &Batch, observe: &Observe) -> EngineRun {
    let start = Instant::now();
    let observed = engine.run_observed(world, batch, observe);
    EngineRun {
        engine: engine.name().to_owned(),
        outcome: observed.outcome,
        elapsed: start.elapsed(),
        opcodes: observed.opcodes,
        cells: observed.cells,
        steps: observed.steps,
    }
}

/// The frame-level pipeline: a frame on the reference and the candidate frame engine, every
/// instruction recorded and compared, then the outcomes.
pub struct FrameDifferential {
    pub reference: Box<dyn FrameEngine>,
    pub candidate: Box<dyn FrameEngine>,
    pub tolerances: Tolerances,
}

/// Two frame engines' runs of one frame, compared.
#[derive(Debug, Clone)]
pub struct FrameComparison {
    pub reference: FrameObserved,
    pub candidate: FrameObserved,
    /// Where the outcomes differ (empty if they agree).
    pub differences: Vec<FrameDifference>,
    /// What the divergence comes from: `None` if the engines agree, steps included.
    pub cause: Option<Cause>,
    /// The aligned steps of both engines around the cause's instruction.
    pub window: Vec<(usize, Option<Step>, Option<Step>)>,
    /// How long the reference's run and the candidate's took.
    pub elapsed: [Duration; 2],
}

impl FrameDifferential {
    /// Runs `frame` on both engines (steps recorded, and on the reference whatever `observe`
    /// asks for besides) and compares them.
    pub fn run(&self, frame: &Frame, observe: &Observe) -> FrameComparison {
        let observe = Observe {
            steps: true,
            ..observe.clone()
        };
        let start = Instant::now();
        let reference = self.reference.run_frame(frame, &observe);
        let between = Instant::now();
        let candidate = self.candidate.run_frame(
            frame,
            &Observe {
                opcodes_in: None,
                ..observe
            },
        );
        let elapsed = [between - start, between.elapsed()];
        let differences = compare_frames(&reference.outcome, &candidate.outcome);
        let traces = (reference.steps.as_ref(), candidate.steps.as_ref());
        let explanation = frame_cause(traces, &differences, self.tolerances, &|address| {
            (frame.contracts.iter())
                .find(|contract| contract.address == address)
                .map(|contract| contract.bytecode.0.as_slice())
        });
        let (cause, window) = match explanation {
            Some(explanation) => (Some(explanation.cause), explanation.window),
            None => (None, vec![]),
        };
        FrameComparison {
            reference,
            candidate,
            differences,
            cause,
            window,
            elapsed,
        }
    }

    /// `reference vs candidate`, for origins and reports.
    pub fn engines(&self) -> String {
        format!("{} vs {}", self.reference.name(), self.candidate.name())
    }
}

/// A rayon pool of `jobs` threads (at least one).
pub fn thread_pool(jobs: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
}
