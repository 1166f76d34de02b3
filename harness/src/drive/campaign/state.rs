//! What a campaign has done so far, saved atomically after every committed epoch
//! (`<findings>/campaign.json`): a killed campaign resumes from it.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use serde::{Deserialize, Serialize};

use crate::{
    divergence::cause::Cause,
    support::{error::InputError, files::write_atomic, vm_output::OutputSummary},
};

fn outcome_oracle() -> String {
    "outcome".to_owned()
}

fn programs_profile() -> String {
    "programs".to_owned()
}

/// File name of the state, in the findings directory.
pub const STATE_FILE: &str = "campaign.json";

/// The most points the series keeps. Past it, every other point is dropped (the first and the
/// last stay), so a campaign of any length keeps a plot-sized history and a small state file.
pub const MAX_SERIES_POINTS: usize = 1024;

/// A campaign's progress, totals and history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignState {
    pub seed: u64,
    pub reference: String,
    pub candidate: String,
    /// The oracle (`outcome` or `steps`; campaigns from before oracles existed used `outcome`).
    #[serde(default = "outcome_oracle")]
    pub oracle: String,
    /// The generator profile (campaigns from before profiles existed generated `programs`): the
    /// corpus holds generator inputs, which another profile reads as other batches.
    #[serde(default = "programs_profile")]
    pub profile: String,
    /// The next epoch to run; every earlier one is committed.
    pub epoch: u64,
    /// Samples committed (the next sample is `epoch * EPOCH_SAMPLES`).
    pub executions: u64,
    /// Samples whose outcomes diverged, known divergences included.
    pub divergent_samples: u64,
    /// Samples that diverged with a fingerprint the vectors declare.
    pub known_divergent_samples: u64,
    /// Seconds of campaign time, across restarts.
    pub elapsed: f64,
    /// How many times the campaign was started (1 + restarts).
    pub runs: u32,
    /// Where the time went, in seconds.
    pub time: TimeSplit,
    /// Features seen (corpus inputs are kept for new ones).
    pub features: BTreeSet<String>,
    /// Executions per opcode variant in generated code (reference VM).
    pub coverage: BTreeMap<String, u64>,
    /// Corpus inputs added by this campaign.
    pub corpus_added: u64,
    /// What each input the campaign added cost to run, by name (the corpus favours cheap ones).
    #[serde(default)]
    pub corpus_costs: BTreeMap<String, u64>,
    /// New divergences, in the order found.
    pub findings: Vec<FindingRecord>,
    /// One point per committed epoch, thinned to at most [`MAX_SERIES_POINTS`].
    pub series: Vec<SeriesPoint>,
    /// What the VMs printed to stderr while capture was on, committed with each epoch.
    #[serde(default)]
    pub vm_output: OutputSummary,
}

/// Seconds spent per phase (summed over workers, so it can exceed wall time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    /// Generating batches from inputs.
    pub generate: f64,
    /// Building each batch's world: deploying contracts, writing storage, signing.
    pub world: f64,
    pub reference: f64,
    pub candidate: f64,
    /// Comparing outcomes, naming the causes of divergences (a traced run of both engines
    /// again) and computing features.
    pub compare: f64,
    pub minimize: f64,
}

impl TimeSplit {
    pub fn add(&mut self, other: &Self) {
        self.generate += other.generate;
        self.world += other.world;
        self.reference += other.reference;
        self.candidate += other.candidate;
        self.compare += other.compare;
        self.minimize += other.minimize;
    }

    /// (phase, seconds), in display order.
    pub fn phases(&self) -> [(&'static str, f64); 6] {
        [
            ("generate", self.generate),
            ("world", self.world),
            ("reference VM", self.reference),
            ("candidate VM", self.candidate),
            ("compare", self.compare),
            ("minimize", self.minimize),
        ]
    }
}

/// A new divergence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub fingerprint: String,
    /// Global sample index that found it.
    pub sample: u64,
    /// Campaign time when it was found, in seconds.
    pub found_at: f64,
    pub first: String,
    pub signature: Vec<String>,
    /// File name in the findings directory.
    pub file: String,
    /// Size of the minimized batch.
    pub minimized: String,
    /// What the divergence comes from (absent in campaigns started before causes existed).
    #[serde(default)]
    pub cause: Option<Cause>,
}

/// The campaign after one committed epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Campaign time, in seconds.
    pub time: f64,
    pub executions: u64,
    /// Executions per second over the epoch.
    pub rate: f64,
    pub findings: usize,
    /// Opcode variants executed at least once so far.
    pub coverage: usize,
    pub corpus: u64,
}

impl CampaignState {
    /// Loads the state of `dir`, or `None` if it has none.
    pub fn load(dir: &Path) -> Result<Option<Self>, InputError> {
        let path = dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|err| InputError::at(&path, format!("not a campaign state: {err}"))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(InputError::at(&path, format!("cannot read: {err}"))),
        }
    }

    /// Saves the state atomically.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&dir.join(STATE_FILE), &json)
    }

    /// Appends the point of a committed epoch, thinning the series when it grows too long.
    pub fn record(&mut self, point: SeriesPoint) {
        self.series.push(point);
        let len = self.series.len();
        if len > MAX_SERIES_POINTS {
            let mut index = 0;
            self.series.retain(|_| {
                let keep = index % 2 == 0 || index == len - 1;
                index += 1;
                keep
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(executions: u64) -> SeriesPoint {
        SeriesPoint {
            time: executions as f64,
            executions,
            rate: 1.0,
            findings: 0,
            coverage: 0,
            corpus: 0,
        }
    }

    #[test]
    fn series_stays_bounded_and_keeps_its_ends() {
        let mut state = CampaignState::default();
        for executions in 0..10 * MAX_SERIES_POINTS as u64 {
            state.record(point(executions));
            assert!(state.series.len() <= MAX_SERIES_POINTS);
            assert_eq!(state.series.last(), Some(&point(executions)));
        }
        assert_eq!(state.series[0], point(0));
        assert!(state.series.len() > MAX_SERIES_POINTS / 4);
        assert!(state
            .series
            .windows(2)
            .all(|w| w[0].executions < w[1].executions));
    }
}
