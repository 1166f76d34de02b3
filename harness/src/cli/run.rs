//! `run`, `replay` and `outcome`: differential runs of batch files and VM dumps.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file, Expectation},
    chain::chain_outcomes,
    pipeline::RunOptions,
    report::run::{Report, Verdict},
    support::error::InputError,
    world::{load_dump, WorldSource},
};

use super::{engine_for, engine_name, status, CommandResult, EngineArgs};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Batch files or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The world: `default` (the embedded v26 dump), a VM dump file, or `zksync-home:DIR`
    /// (genesis of a zksync-era checkout; DIR defaults to $ZKSYNC_HOME).
    #[arg(long, default_value = "default")]
    world: WorldSource,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print reports as JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    pub fn execute(self) -> CommandResult {
        let world = self.world.load()?;
        let files = expand(&self.paths)?;
        // Prepare every file before running any, so bad input is reported before VMs spend time.
        let prepared = files
            .iter()
            .map(|path| {
                let file = load_batch_file(path)?;
                let batch = file
                    .prepare(&world)
                    .map_err(|err| err.within(path.display()))?;
                Ok((path, file.expect, batch))
            })
            .collect::<Result<Vec<_>, InputError>>()?;
        let origin = world.origin.clone();
        let differential = self.engines.differential(world)?;
        let reports: Vec<Report> = prepared
            .into_iter()
            .map(|(path, expect, prepared)| {
                let comparison =
                    differential.run_prepared(&prepared, &RunOptions::checking(expect.as_ref()));
                Report::new(
                    path.display().to_string(),
                    origin.clone(),
                    &comparison,
                    Some(expect.as_ref().unwrap_or(&Expectation::Equal)),
                )
            })
            .collect();
        print_reports(&reports, self.json);
        Ok(status(reports.iter().all(|report| report.as_expected)))
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
}

impl ReplayArgs {
    pub fn execute(self) -> CommandResult {
        let loaded = self
            .dumps
            .iter()
            .map(|path| load_dump(path).map(|dump| (path, dump)))
            .collect::<Result<Vec<_>, _>>()?;
        let reports: Vec<Report> = loaded
            .into_iter()
            .map(|(path, dump)| {
                let origin = dump.world.origin.clone();
                let differential = self.engines.differential(dump.world)?;
                let comparison =
                    differential.run(&differential.world, &dump.batch, &RunOptions::CONCURRENT);
                Ok(Report::new(
                    path.display().to_string(),
                    origin,
                    &comparison,
                    None,
                ))
            })
            .collect::<Result<_, InputError>>()?;
        print_reports(&reports, self.json);
        Ok(status(reports.iter().all(|report| report.as_expected)))
    }
}

#[derive(clap::Args)]
pub struct OutcomeArgs {
    path: PathBuf,
    #[arg(long, default_value = "default")]
    world: WorldSource,
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

/// Files as given, and the `*.yaml` files of directories in name order.
pub(super) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = vec![];
    for path in paths {
        if path.is_dir() {
            let yaml = batch_files_in(path)?;
            if yaml.is_empty() {
                return Err(InputError::at(
                    path,
                    "directory holds no *.yaml batch files",
                ));
            }
            files.extend(yaml);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn print_reports(reports: &[Report], json: bool) {
    if json {
        let value = match reports {
            [report] => serde_json::to_string_pretty(report),
            _ => serde_json::to_string_pretty(reports),
        };
        println!("{}", value.expect("reports serialize to JSON"));
        return;
    }
    for report in reports {
        print!("{}", report.to_text());
    }
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
