//! Reports of differential runs: a text form for terminals and a JSON form for tools.

use std::fmt::Write;

use serde::Serialize;

use crate::{
    batch_file::Expectation,
    divergence::{cause::Cause, Difference, Divergence},
    outcome::{ExecResult, Outcome, VmPanic},
    pipeline::{Comparison, EngineRun},
};

/// Longest value shown in text reports; JSON reports carry values in full.
const TEXT_VALUE_LIMIT: usize = 160;
/// Most differences listed in text reports.
const TEXT_DIFFERENCE_LIMIT: usize = 40;

/// The report of one differential run, as JSON shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The batch (a file path, or a description).
    pub batch: String,
    pub world: String,
    pub transactions: usize,
    pub reference: EngineSummary,
    pub candidate: EngineSummary,
    pub verdict: Verdict,
    pub expected: Option<ExpectationSummary>,
    /// Whether the verdict matches the expectation (equality when none is given).
    pub as_expected: bool,
    pub divergence: Option<Divergence>,
    /// What the divergence comes from: the first instruction where the engines part ways.
    pub cause: Option<Cause>,
    /// Whether only tolerated differences (see `cause.tolerated`) separate the engines: the
    /// divergence is explained by them, and `--strict` reports it.
    pub tolerated: bool,
    /// Whether the outcomes agree but the steps do not (steps oracle): not as expected for a
    /// batch expected equal.
    pub steps_differ: bool,
    /// What the data-availability oracle says of each engine's pubdata; a violation makes the
    /// report not as expected.
    pub da_oracle: Vec<String>,
    /// The fingerprint of the oracle's violations, if any (`da-…`).
    pub da_violation: Option<String>,
    /// For a chain of L1 batches: which one this report is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainSummary>,
}

/// Which L1 batch of a chain a report is of: the first the engines disagree on, or the last.
#[derive(Debug, Clone, Serialize)]
pub struct ChainSummary {
    /// The batch (0-based, as in `batches[i]`).
    pub batch: usize,
    pub batches: usize,
    /// Why the chain stopped before its last batch although the engines agreed.
    pub stopped: Option<String>,
}

/// Whether the outcomes are equal (`equal` or `divergence` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Equal,
    Divergence,
}

#[derive(Debug, Clone, Serialize)]
pub struct EngineSummary {
    pub engine: String,
    pub digest: String,
    pub seconds: f64,
    pub included_transactions: usize,
    pub block_tip: Option<String>,
    pub pubdata_bytes: Option<usize>,
    pub panic: Option<VmPanic>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectationSummary {
    Equal,
    /// The cause (or symptom) fingerprint expected, and why.
    Divergence {
        key: String,
        why: String,
    },
}

impl ExpectationSummary {
    pub fn of(expected: &Expectation) -> Self {
        match expected {
            Expectation::Equal => Self::Equal,
            Expectation::Divergence { key, why } => Self::Divergence {
                key: key.clone(),
                why: why.clone(),
            },
        }
    }
}

impl Report {
    /// The report of `comparison`.
    pub fn new(
        batch: String,
        world: String,
        comparison: &Comparison,
        expected: Option<&Expectation>,
    ) -> Self {
        let divergence = comparison.divergence.clone();
        let explanation = comparison.explanation.as_ref();
        let tolerated = explanation.is_some_and(|explanation| explanation.tolerated_only);
        let steps_differ = divergence.is_none() && explanation.is_some();
        // A DA violation is as expected only when it is the one declared.
        let as_expected = match (expected, &divergence, &comparison.da) {
            (None | Some(Expectation::Equal), None, None) => !steps_differ,
            (None | Some(Expectation::Equal), Some(_), None) => tolerated,
            (Some(Expectation::Divergence { key, .. }), _, Some(da)) => da.fingerprint == *key,
            (Some(Expectation::Divergence { key, .. }), Some(_), None) => comparison.shows(key),
            // A cause that only the steps show: the outcomes agree.
            (Some(Expectation::Divergence { key, .. }), None, None) => {
                steps_differ && comparison.shows(key)
            }
            _ => false,
        };
        let runs = [&comparison.reference, &comparison.candidate];
        let da_oracle = (runs.iter().zip(&comparison.pubdata))
            .map(|(run, verdict)| {
                let verdict = match verdict {
                    Ok(Some(rebuilt)) => rebuilt.to_string(),
                    Ok(None) => "nothing published".to_owned(),
                    Err(violation) => format!("VIOLATION {violation}"),
                };
                format!("{}: {verdict}", run.engine)
            })
            .collect();
        Self {
            batch,
            world,
            transactions: comparison.reference.outcome.transactions.len(),
            reference: EngineSummary::new(&comparison.reference),
            candidate: EngineSummary::new(&comparison.candidate),
            verdict: if divergence.is_some() {
                Verdict::Divergence
            } else {
                Verdict::Equal
            },
            expected: expected.map(ExpectationSummary::of),
            as_expected,
            divergence,
            cause: explanation.map(|explanation| explanation.cause.clone()),
            tolerated,
            steps_differ,
            da_oracle,
            da_violation: comparison.da.as_ref().map(|da| da.fingerprint.clone()),
            chain: (comparison.chain.batches > 1).then(|| ChainSummary {
                batch: comparison.chain.batch,
                batches: comparison.chain.batches,
                stopped: comparison.chain.stopped.clone(),
            }),
        }
    }

    /// The report for people: verdict, where the outcomes part ways, each differing field.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let status = match (self.verdict, self.as_expected, self.tolerated) {
            _ if self.da_violation.is_some() && self.as_expected => "DA VIOLATION (expected)",
            _ if self.da_violation.is_some() => "DA VIOLATION",
            (Verdict::Equal, true, _) if self.steps_differ => {
                "EQUAL OUTCOMES, STEPS DIFFER (expected)"
            }
            (Verdict::Equal, false, _) if self.steps_differ => "EQUAL OUTCOMES, STEPS DIFFER",
            (Verdict::Equal, true, _) => "EQUAL",
            (Verdict::Equal, false, _) => "EQUAL (a divergence was expected)",
            (Verdict::Divergence, true, true) => "TOLERATED",
            (Verdict::Divergence, true, false) => "DIVERGENCE (expected)",
            (Verdict::Divergence, false, _) => "DIVERGENCE",
        };
        let (reference, candidate) = (&self.reference, &self.candidate);
        let _ = writeln!(text, "{status}  {}", self.batch);
        let _ = writeln!(text, "  world:        {}", self.world);
        if let Some(chain) = &self.chain {
            let _ = writeln!(
                text,
                "  chain:        batches[{}] of {}, the engines agreed on the {} before it",
                chain.batch, chain.batches, chain.batch
            );
            if let Some(why) = &chain.stopped {
                let _ = writeln!(text, "                the chain stopped here: {why}");
            }
        }
        for summary in [reference, candidate] {
            let _ = writeln!(
                text,
                "  {:<13} {} transactions included of {}, block tip {}, pubdata {} bytes, {:.1} ms, digest {}",
                format!("{}:", summary.engine),
                summary.included_transactions,
                self.transactions,
                summary.block_tip.as_deref().unwrap_or("not reached"),
                summary.pubdata_bytes.map_or_else(|| "-".to_owned(), |bytes| bytes.to_string()),
                summary.seconds * 1e3,
                &summary.digest[..16],
            );
            if let Some(panic) = &summary.panic {
                let _ = writeln!(text, "    panicked in {:?}: {}", panic.stage, panic.message);
            }
        }
        if !self.da_oracle.is_empty() {
            let _ = writeln!(text, "  DA oracle:    {}", self.da_oracle.join("; "));
        }
        if let Some(ExpectationSummary::Divergence { key, why }) = &self.expected {
            let _ = writeln!(text, "  expected:     {key}: {why}");
        }
        if let Some(cause) = &self.cause {
            let _ = writeln!(text, "  cause:        {}", cause.fingerprint);
            let _ = writeln!(text, "                {}", cause.summary());
            if self.tolerated {
                let _ = writeln!(
                    text,
                    "                only tolerated differences: --strict reports them"
                );
            }
        }
        if let Some(divergence) = &self.divergence {
            let _ = writeln!(text, "  symptom:      {}", divergence.fingerprint);
            let _ = writeln!(text, "  first:        {:?}", divergence.first);
            for line in &divergence.signature {
                let _ = writeln!(text, "                {line}");
            }
            let _ = writeln!(text, "  {} differing fields:", divergence.differences.len());
            for difference in divergence.differences.iter().take(TEXT_DIFFERENCE_LIMIT) {
                write_difference(&mut text, difference, &reference.engine, &candidate.engine);
            }
            if divergence.differences.len() > TEXT_DIFFERENCE_LIMIT {
                let _ = writeln!(
                    text,
                    "    … and {} more (use --json for all)",
                    divergence.differences.len() - TEXT_DIFFERENCE_LIMIT
                );
            }
        }
        text
    }
}

fn write_difference(text: &mut String, difference: &Difference, reference: &str, candidate: &str) {
    let _ = writeln!(text, "    {}  ({})", difference.path, difference.kind);
    let width = reference.len().max(candidate.len()) + 1;
    for (engine, value) in [
        (reference, &difference.reference),
        (candidate, &difference.candidate),
    ] {
        let shown = if value.is_empty() {
            "(absent)".to_owned()
        } else {
            shorten(value)
        };
        let _ = writeln!(text, "      {:<width$} {shown}", format!("{engine}:"));
    }
    if let Some(offset) = first_differing_byte(&difference.reference, &difference.candidate) {
        let _ = writeln!(text, "      first differing byte: {offset}");
    }
}

fn shorten(value: &str) -> String {
    match value.char_indices().nth(TEXT_VALUE_LIMIT) {
        None => value.to_owned(),
        Some((end, _)) => format!("{}… ({} characters)", &value[..end], value.chars().count()),
    }
}

/// For two hex byte strings of which at least one is long, the offset of the first differing byte.
fn first_differing_byte(a: &str, b: &str) -> Option<usize> {
    let (a, b) = (a.strip_prefix("0x")?, b.strip_prefix("0x")?);
    if a.len().max(b.len()) <= TEXT_VALUE_LIMIT {
        return None;
    }
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    Some(common / 2)
}

impl EngineSummary {
    fn new(run: &EngineRun) -> Self {
        let outcome: &Outcome = &run.outcome;
        Self {
            engine: run.engine.clone(),
            digest: outcome.digest(),
            seconds: run.elapsed.as_secs_f64(),
            included_transactions: outcome.transactions.iter().filter(|tx| tx.included).count(),
            block_tip: outcome
                .batch
                .as_ref()
                .map(|batch| match &batch.block_tip.result {
                    ExecResult::Success { .. } => "success".to_owned(),
                    ExecResult::Revert { reason, .. } => format!("revert ({reason})"),
                    ExecResult::Halt { reason } => format!("halt ({reason})"),
                }),
            pubdata_bytes: outcome
                .batch
                .as_ref()
                .and_then(|batch| batch.pubdata_input.as_ref())
                .map(|input| input.0.len()),
            panic: outcome.panic.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_at_a_character_boundary() {
        let value = "é".repeat(TEXT_VALUE_LIMIT + 1);
        let shown = shorten(&value);
        assert!(shown.starts_with(&"é".repeat(TEXT_VALUE_LIMIT)), "{shown}");
        assert!(shown.ends_with(&format!("({} characters)", TEXT_VALUE_LIMIT + 1)));
        assert_eq!(shorten("short"), "short");
    }
}
