//! Reports of frame-level runs ([`crate::frame`]): what each engine's entry frame ended with, the
//! cause, and the fields of the outcomes that differ.

use std::fmt::Write;

use serde::Serialize;

use super::run::ExpectationSummary;
use crate::{
    batch_file::Expectation, divergence::cause::Cause, engine::frame::FrameObserved,
    pipeline::FrameComparison,
};

/// The report of one frame-level run, as JSON shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FrameReport {
    /// The frame file.
    pub frame: String,
    pub reference: FrameSummary,
    pub candidate: FrameSummary,
    /// Whether the outcomes agree.
    pub equal: bool,
    pub expected: Option<ExpectationSummary>,
    /// Whether the cause matches the expectation (agreement, steps included, when none is given).
    pub as_expected: bool,
    /// What the divergence comes from: the first diverging instruction, else the first differing
    /// field.
    pub cause: Option<Cause>,
    /// Each differing field of the outcomes: `field[at]: reference vs candidate`.
    pub differences: Vec<String>,
}

/// How one engine's entry frame ended.
#[derive(Debug, Clone, Serialize)]
pub struct FrameSummary {
    pub engine: String,
    /// `ok 0x…`, `revert 0x…`, `panic`; none if the engine itself panicked.
    pub result: Option<String>,
    pub ergs_left: u32,
    /// Instructions executed.
    pub steps: usize,
    /// Where the engine itself panicked, if it did.
    pub panic: Option<String>,
}

impl FrameReport {
    /// The report of `comparison`, run by the engines named `engines`.
    pub fn new(
        frame: String,
        engines: [&str; 2],
        comparison: &FrameComparison,
        expected: Option<&Expectation>,
    ) -> Self {
        let cause = comparison.cause.clone();
        let as_expected = match (expected, &cause) {
            (None | Some(Expectation::Equal), None) => true,
            (Some(Expectation::Divergence { key, .. }), Some(cause)) => cause.fingerprint == *key,
            _ => false,
        };
        let [reference, candidate] = engines;
        Self {
            frame,
            reference: FrameSummary::new(reference, &comparison.reference),
            candidate: FrameSummary::new(candidate, &comparison.candidate),
            equal: comparison.differences.is_empty(),
            expected: expected.map(ExpectationSummary::of),
            as_expected,
            cause,
            differences: comparison
                .differences
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let status = match (self.equal, &self.cause, self.as_expected) {
            (true, None, true) => "EQUAL",
            (true, None, false) => "EQUAL (a divergence was expected)",
            (true, Some(_), true) => "EQUAL OUTCOMES, STEPS DIFFER (expected)",
            (true, Some(_), false) => "EQUAL OUTCOMES, STEPS DIFFER",
            (false, _, true) => "DIVERGENCE (expected)",
            (false, _, false) => "DIVERGENCE",
        };
        let _ = writeln!(text, "{status}  {}", self.frame);
        let _ = writeln!(text, "  level:        frame");
        for summary in [&self.reference, &self.candidate] {
            let _ = writeln!(
                text,
                "  {:<13} {}, {} ergs left, {} steps",
                format!("{}:", summary.engine),
                summary.result.as_deref().unwrap_or("no result"),
                summary.ergs_left,
                summary.steps,
            );
            if let Some(panic) = &summary.panic {
                let _ = writeln!(text, "    engine panicked: {panic}");
            }
        }
        if let Some(ExpectationSummary::Divergence { key, why }) = &self.expected {
            let _ = writeln!(text, "  expected:     {key}: {why}");
        }
        if let Some(cause) = &self.cause {
            let _ = writeln!(text, "  cause:        {}", cause.fingerprint);
            let _ = writeln!(text, "                {}", cause.summary());
        }
        if !self.differences.is_empty() {
            let _ = writeln!(text, "  {} differing fields:", self.differences.len());
            for difference in &self.differences {
                let _ = writeln!(text, "    {difference}");
            }
        }
        text
    }
}

impl FrameSummary {
    fn new(engine: &str, observed: &FrameObserved) -> Self {
        let outcome = &observed.outcome;
        Self {
            engine: engine.to_owned(),
            result: outcome.result.as_ref().map(ToString::to_string),
            ergs_left: outcome.ergs_left,
            steps: (observed.steps.iter())
                .flat_map(|trace| &trace.segments)
                .map(|segment| segment.steps.len())
                .sum(),
            panic: outcome.panic.clone(),
        }
    }
}
