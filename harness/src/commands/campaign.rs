//! `campaign` and `report`: long resumable runs and their reports.

use std::{
    io::IsTerminal,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use eravm_diff::{
    campaign::{self, report, CampaignOptions, CampaignState, STATE_FILE},
    error::InputError,
};

use super::{load_known, status, CommandResult, SessionArgs};

#[derive(clap::Args)]
pub struct CampaignArgs {
    /// Total campaign time across restarts (e.g. 30m, 2h, 90s).
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "campaign/corpus")]
    corpus: PathBuf,
    /// Findings, campaign state and reports.
    #[arg(long, default_value = "campaign/findings")]
    findings: PathBuf,
    #[command(flatten)]
    session: SessionArgs,
}

impl CampaignArgs {
    pub fn execute(self) -> CommandResult {
        let session = self.session.load()?;
        let options = CampaignOptions {
            diff: session.differential(),
            budget: self.session.budget(self.duration),
            corpus: &self.corpus,
            findings: &self.findings,
            known: &session.known,
        };
        let progress = Progress::new(self.duration, self.session.samples);
        let state = campaign::run(&options, &|state| progress.update(state));
        progress.finish();
        let state = state?;
        let summary = report::Report::new(&state, &session.known).summary;
        println!(
            "{} executions in {:.0} s ({:.1}/s) over {} run(s); {} divergent samples ({} known); \
             {} findings ({} unexplained); coverage {} variants; reports in {}",
            summary.executions,
            summary.seconds,
            summary.executions_per_second,
            summary.runs,
            summary.divergent_samples,
            summary.known_divergent_samples,
            summary.findings,
            summary.unexplained,
            summary.coverage,
            self.findings.display()
        );
        Ok(status(summary.unexplained == 0))
    }
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[arg(long, default_value = "campaign/findings")]
    findings: PathBuf,
    #[arg(long, default_value = "vectors")]
    vectors: PathBuf,
}

impl ReportArgs {
    pub fn execute(self) -> CommandResult {
        let known = load_known(&self.vectors)?;
        let state = CampaignState::load(&self.findings)?.ok_or_else(|| {
            InputError::at(
                &self.findings,
                format!("holds no campaign ({STATE_FILE} is missing)"),
            )
        })?;
        report::write(&self.findings, &state, &known)?;
        println!("reports written to {}", self.findings.display());
        Ok(status(true))
    }
}

/// A progress bar on a terminal; a plain line every ten seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    by_samples: bool,
    last_line: Mutex<Instant>,
}

impl Progress {
    fn new(duration: Duration, samples: Option<u64>) -> Self {
        let by_samples = samples.is_some();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(samples.unwrap_or(duration.as_secs()));
            let unit = if by_samples { "samples" } else { "s" };
            let template =
                format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{msg}}");
            bar.set_style(
                indicatif::ProgressStyle::with_template(&template).expect("a valid template"),
            );
            bar
        });
        Self {
            bar,
            by_samples,
            last_line: Mutex::new(Instant::now()),
        }
    }

    fn update(&self, state: &CampaignState) {
        let rate = state.series.last().map_or(0.0, |point| point.rate);
        let message = format!(
            "{} executions ({rate:.0}/s), {} findings, {} known-divergent samples, coverage {}",
            state.executions,
            state.findings.len(),
            state.known_divergent_samples,
            state.coverage.len()
        );
        match &self.bar {
            Some(bar) => {
                let position = if self.by_samples {
                    state.executions
                } else {
                    state.elapsed as u64
                };
                bar.set_position(position);
                bar.set_message(message);
            }
            None => {
                let mut last = self.last_line.lock().unwrap();
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    eprintln!("[{:>6.0}s] {message}", state.elapsed);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
