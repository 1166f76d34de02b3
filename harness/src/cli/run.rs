//! `run`, `replay` and `outcome`: differential runs of batch files, frame files and VM dumps.

use std::path::{Path, PathBuf};

use eravm_diff::{
    batch_file::{
        batch_files_in, load_batch_file, load_input_file, Expectation, InputFile, PreparedBatch,
    },
    chain::chain_outcomes,
    engine::Observe,
    frame::Frame,
    pipeline::RunOptions,
    report::{
        frame::FrameReport,
        run::{Report, Verdict},
    },
    support::error::InputError,
    world::load_dump,
};
use serde::Serialize;

use super::{
    engine_for, engine_name, status, summarizing_vm_output, CommandResult, EngineArgs, WorldArgs,
};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Batch or frame files, or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    world: WorldArgs,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print reports as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    verbose: bool,
}

impl RunArgs {
    pub fn execute(self) -> CommandResult {
        let world = self.world.load()?;
        let kind = self.world.kind()?;
        let files = expand_all(&self.paths)?;
        // Prepare every file before running any, so bad input is reported before VMs spend time.
        let prepared = files
            .iter()
            .map(|path| {
                let within = |err: InputError| err.within(path.display());
                Ok(match load_input_file(path)? {
                    InputFile::Batch(file) => {
                        let expect = file.expectation_in(kind).cloned();
                        Prepared::Batch(file.prepare(&world).map_err(within)?, expect)
                    }
                    InputFile::Frame(file) => {
                        Prepared::Frame(file.prepare().map_err(within)?, file.expect)
                    }
                })
            })
            .collect::<Result<Vec<_>, InputError>>()?;
        let origin = world.origin.clone();
        let has_frames = (prepared.iter()).any(|prepared| matches!(prepared, Prepared::Frame(..)));
        let frames = match has_frames {
            true => Some(self.engines.frame_differential()?),
            false => None,
        };
        let differential = self.engines.differential(world)?;
        let run = || {
            (files.iter().zip(prepared))
                .map(|(path, prepared)| match prepared {
                    Prepared::Batch(prepared, expect) => {
                        let comparison = differential
                            .run_prepared(&prepared, &RunOptions::checking(expect.as_ref()));
                        RunReport::Batch(Box::new(Report::new(
                            path.display().to_string(),
                            origin.clone(),
                            &comparison,
                            Some(expect.as_ref().unwrap_or(&Expectation::Equal)),
                        )))
                    }
                    Prepared::Frame(frame, expect) => {
                        let frames = frames.as_ref().expect("built when a frame file is given");
                        let comparison = frames.run(&frame, &Observe::default());
                        RunReport::Frame(Box::new(FrameReport::new(
                            path.display().to_string(),
                            [frames.reference.name(), frames.candidate.name()],
                            &comparison,
                            Some(expect.as_ref().unwrap_or(&Expectation::Equal)),
                        )))
                    }
                })
                .collect()
        };
        let reports: Vec<RunReport> = summarizing_vm_output(self.verbose, run)?;
        print_reports(&reports, self.json);
        Ok(status(reports.iter().all(RunReport::as_expected)))
    }
}

/// A file made ready to run, with what it expects.
enum Prepared {
    Batch(PreparedBatch, Option<Expectation>),
    Frame(Frame, Option<Expectation>),
}

/// The report of a batch file or a frame file.
#[derive(Serialize)]
#[serde(untagged)]
enum RunReport {
    Batch(Box<Report>),
    Frame(Box<FrameReport>),
}

impl RunReport {
    fn as_expected(&self) -> bool {
        match self {
            Self::Batch(report) => report.as_expected,
            Self::Frame(report) => report.as_expected,
        }
    }
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    #[arg(required = true)]
    dumps: Vec<PathBuf>,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print reports as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    verbose: bool,
}

impl ReplayArgs {
    pub fn execute(self) -> CommandResult {
        let loaded = self
            .dumps
            .iter()
            .map(|path| load_dump(path).map(|dump| (path, dump)))
            .collect::<Result<Vec<_>, _>>()?;
        let replay = || {
            (loaded.into_iter())
                .map(|(path, dump)| {
                    let origin = dump.world.origin.clone();
                    let differential = self.engines.differential(dump.world)?;
                    let comparison =
                        differential.run(&differential.world, &dump.batch, &RunOptions::CONCURRENT);
                    Ok(RunReport::Batch(Box::new(Report::new(
                        path.display().to_string(),
                        origin,
                        &comparison,
                        None,
                    ))))
                })
                .collect::<Result<Vec<_>, InputError>>()
        };
        let reports = summarizing_vm_output(self.verbose, replay)??;
        print_reports(&reports, self.json);
        Ok(status(reports.iter().all(RunReport::as_expected)))
    }
}

#[derive(clap::Args)]
pub struct OutcomeArgs {
    path: PathBuf,
    #[command(flatten)]
    world: WorldArgs,
    #[arg(long, default_value = "vm_latest", value_parser = engine_name)]
    engine: String,
}

impl OutcomeArgs {
    pub fn execute(self) -> CommandResult {
        let world = self.world.load()?;
        let prepared = load_batch_file(&self.path)?
            .prepare(&world)
            .map_err(|err| err.within(self.path.display()))?;
        let engine = engine_for(&self.engine, &world)?;
        let (runs, stopped) = chain_outcomes(&*engine, &prepared);
        for (index, (_, _, outcome)) in runs.iter().enumerate() {
            if prepared.batches() > 1 {
                println!("# L1 batch {index}");
            }
            let yaml = serde_yaml::to_string(outcome).expect("outcomes serialize to YAML");
            print!("{yaml}");
        }
        if let Some(why) = stopped {
            println!(
                "# the chain stopped after L1 batch {}: {why}",
                runs.len() - 1
            );
        }
        Ok(status(true))
    }
}

/// Files as given, and the `*.yaml` files of directories in name order (batch files: the
/// matrix runs no frames).
pub(super) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    expand_with(paths, batch_files_in)
}

/// [`expand`], with the files of subdirectories after those of their directory (frame vectors
/// live in `vectors/frames/`).
fn expand_all(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    expand_with(paths, yaml_files_under)
}

fn expand_with(
    paths: &[PathBuf],
    files_in: fn(&Path) -> Result<Vec<PathBuf>, InputError>,
) -> Result<Vec<PathBuf>, InputError> {
    let mut files = vec![];
    for path in paths {
        if path.is_dir() {
            let found = files_in(path)?;
            if found.is_empty() {
                return Err(InputError::at(path, "directory holds no *.yaml files"));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn yaml_files_under(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files = batch_files_in(dir)?;
    let entries = std::fs::read_dir(dir)
        .map_err(|err| InputError::at(dir, format!("cannot list directory: {err}")))?;
    let mut subdirectories: Vec<PathBuf> = (entries.filter_map(|entry| entry.ok()))
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    subdirectories.sort();
    for subdirectory in subdirectories {
        files.extend(yaml_files_under(&subdirectory)?);
    }
    Ok(files)
}

fn print_reports(reports: &[RunReport], json: bool) {
    if json {
        let value = match reports {
            [report] => serde_json::to_string_pretty(report),
            _ => serde_json::to_string_pretty(reports),
        };
        println!("{}", value.expect("reports serialize to JSON"));
        return;
    }
    let mut batches = vec![];
    let mut frames = vec![];
    for report in reports {
        match report {
            RunReport::Batch(report) => {
                print!("{}", report.to_text());
                batches.push(&**report);
            }
            RunReport::Frame(report) => {
                print!("{}", report.to_text());
                frames.push(&**report);
            }
        }
    }
    if !batches.is_empty() {
        print_batch_totals(&batches);
    }
    if !frames.is_empty() {
        let count = |equal: bool, differ: bool| {
            (frames.iter())
                .filter(|report| (report.equal, report.cause.is_some()) == (equal, differ))
                .count()
        };
        let unexpected = frames.iter().filter(|report| !report.as_expected).count();
        println!(
            "{} frames: {} equal, {} diverged, {} with equal outcomes and differing steps ({unexpected} not as expected)",
            frames.len(),
            count(true, false),
            frames.iter().filter(|report| !report.equal).count(),
            count(true, true),
        );
    }
}

fn print_batch_totals(reports: &[&Report]) {
    let count = |verdict: Verdict, tolerated: bool, steps_differ: bool| {
        (reports.iter())
            .filter(|report| {
                (report.verdict, report.tolerated, report.steps_differ)
                    == (verdict, tolerated, steps_differ)
            })
            .count()
    };
    let unexpected = reports.iter().filter(|report| !report.as_expected).count();
    let steps_differ = match count(Verdict::Equal, false, true) {
        0 => String::new(),
        n => format!(", {n} with equal outcomes and differing steps"),
    };
    println!(
        "{} batches: {} equal, {} tolerated, {} diverged{steps_differ} ({unexpected} not as expected)",
        reports.len(),
        count(Verdict::Equal, false, false),
        count(Verdict::Divergence, true, false),
        count(Verdict::Divergence, false, false),
    );
}
