//! `campaign` and `report`: long resumable runs and their reports.

use std::{
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use eravm_diff::{
    console,
    drive::campaign::{self, report, CampaignOptions, CampaignState, STATE_FILE},
    support::{
        error::InputError,
        vm_output::{console_is_terminal, console_status},
    },
};

use super::{finish_capture, load_known, status, CommandResult, Level, SessionArgs};

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
    /// `batch`: generated batches through the bootloader; `frame`: generated programs straight
    /// on zk_evm and zksync_vm2, every instruction compared, each finding lifted to a batch in
    /// `--world` (`--profile` and `--oracle` do not apply).
    #[arg(long, value_enum, default_value_t)]
    level: Level,
    #[command(flatten)]
    session: SessionArgs,
}

impl CampaignArgs {
    pub fn execute(self) -> CommandResult {
        let session = self.session.load()?;
        let frame_level = match self.level {
            Level::Batch => None,
            Level::Frame => Some(self.session.engines.frame_differential()?),
        };
        let capture = self.session.capture()?;
        let options = CampaignOptions {
            search: session.search(self.session.budget(self.duration)),
            level: frame_level
                .as_ref()
                .map_or(campaign::Level::Batch, campaign::Level::Frame),
            corpus: &self.corpus,
            findings: &self.findings,
            vm_output: capture.as_ref(),
        };
        let progress = Progress::new(self.duration, self.session.samples);
        let state = campaign::run(&options, &|state| progress.update(state));
        progress.finish();
        finish_capture(capture);
        let state = state?;
        let summary = report::Report::new(&state, &session.known).summary;
        println!(
            "{} executions in {:.0} s ({:.1}/s) over {} run(s); {} divergent samples ({} known); \
             {} findings ({} unexplained); coverage {} variants; VM output {} lines; reports in {}",
            summary.executions,
            summary.seconds,
            summary.executions_per_second,
            summary.runs,
            summary.divergent_samples,
            summary.known_divergent_samples,
            summary.findings,
            summary.unexplained,
            summary.coverage,
            summary.vm_output_lines,
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

/// A status line with a progress bar on a terminal; a plain line every ten seconds otherwise.
/// Both go to the terminal past the capture of what the VMs print.
struct Progress {
    terminal: bool,
    duration: Duration,
    samples: Option<u64>,
    last_line: Mutex<Instant>,
}

impl Progress {
    fn new(duration: Duration, samples: Option<u64>) -> Self {
        Self {
            terminal: console_is_terminal(),
            duration,
            samples,
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
        if self.terminal {
            let (position, length, unit) = match self.samples {
                Some(samples) => (state.executions, samples, "samples"),
                None => (state.elapsed as u64, self.duration.as_secs(), "s"),
            };
            const WIDTH: u64 = 30;
            let filled = (position.min(length) * WIDTH / length.max(1)) as usize;
            console_status(&format!(
                "[{:>6.0}s] [{}{}] {position}/{length} {unit}  {message}",
                state.elapsed,
                "=".repeat(filled),
                " ".repeat(WIDTH as usize - filled),
            ));
            return;
        }
        let mut last = self.last_line.lock().unwrap();
        if last.elapsed() >= Duration::from_secs(10) {
            *last = Instant::now();
            console!("[{:>6.0}s] {message}", state.elapsed);
        }
    }

    fn finish(&self) {
        if self.terminal {
            console_status("");
        }
    }
}
