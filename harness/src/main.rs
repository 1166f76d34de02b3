//! The `eravm-diff` command line.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use eravm_diff::{
    batch::{load_batch_file, Expectation},
    engine::{self, Engine, Fault, ENGINE_NAMES},
    error::InputError,
    report::Report,
    runner::run_both,
    world::{load_dump, WorldSource},
};

#[derive(Parser)]
#[command(
    name = "eravm-diff",
    version,
    about = "Differential testing of EraVM implementations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct EngineArgs {
    /// The reference engine.
    #[arg(long, default_value = "vm_latest", value_parser = engine_name)]
    reference: String,
    /// The engine under test.
    #[arg(long, default_value = "vm_fast", value_parser = engine_name)]
    candidate: String,
    /// Print reports as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run YAML batch files (or every *.yaml in a directory) on both engines and compare.
    ///
    /// Exits 0 when every outcome is as its file expects (equal, unless the file declares a known
    /// divergence), 1 otherwise, 2 on bad input.
    Run {
        /// Batch files or directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The world: `default` (the embedded v26 dump), a VM dump file, or
        /// `zksync-home:DIR` (genesis of a zksync-era checkout; DIR defaults to $ZKSYNC_HOME).
        #[arg(long, default_value = "default")]
        world: WorldSource,
        #[command(flatten)]
        engines: EngineArgs,
    },
    /// Print one engine's canonical outcome for a batch file, as YAML.
    Outcome {
        path: PathBuf,
        #[arg(long, default_value = "default")]
        world: WorldSource,
        #[arg(long, default_value = "vm_latest", value_parser = engine_name)]
        engine: String,
    },
    /// Replay VM dumps (zksync-era's shadow VM format) on both engines and compare.
    ///
    /// Exits 0 when outcomes are equal, 1 on a divergence, 2 on bad input.
    Replay {
        #[arg(required = true)]
        dumps: Vec<PathBuf>,
        #[command(flatten)]
        engines: EngineArgs,
    },
}

fn engine_name(name: &str) -> Result<String, String> {
    engine::by_name(name)
        .map(|_| name.to_owned())
        .ok_or_else(|| {
            format!(
                "unknown engine `{name}` (known: {}, and vm_fast+fault:<{}> for fault injection)",
                ENGINE_NAMES.join(", "),
                Fault::ALL.map(Fault::name).join("|")
            )
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let reports = match cli.command {
        Command::Outcome {
            path,
            world,
            engine,
        } => return print_outcome(&path, &world, &engine),
        Command::Run {
            paths,
            world,
            engines,
        } => run(&paths, &world, &engines),
        Command::Replay { dumps, engines } => replay(&dumps, &engines),
    };
    match reports {
        Ok((reports, json)) => {
            print_reports(&reports, json);
            if reports.iter().all(|report| report.as_expected) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

type Reports = (Vec<Report>, bool);

fn print_outcome(path: &std::path::Path, world: &WorldSource, engine: &str) -> ExitCode {
    let prepared = world.load().and_then(|world| {
        load_batch_file(path)?
            .prepare(&world)
            .map_err(|err| err.within(path.display()))
    });
    match prepared {
        Ok(prepared) => {
            let engine = engine::by_name(engine).expect("engine names are validated by clap");
            let outcome = engine.run(&prepared.world, &prepared.batch);
            print!(
                "{}",
                serde_yaml::to_string(&outcome).expect("outcomes serialize to YAML")
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn run(paths: &[PathBuf], world: &WorldSource, args: &EngineArgs) -> Result<Reports, InputError> {
    let world = world.load()?;
    let files = expand(paths)?;
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
    let (reference, candidate) = engines(args);
    let reports = prepared
        .into_iter()
        .map(|(path, expect, prepared)| {
            let comparison = run_both(&*reference, &*candidate, &prepared.world, &prepared.batch);
            Report::new(
                path.display().to_string(),
                world.origin.clone(),
                &comparison,
                Some(expect.as_ref().unwrap_or(&Expectation::Equal)),
            )
        })
        .collect();
    Ok((reports, args.json))
}

fn replay(dumps: &[PathBuf], args: &EngineArgs) -> Result<Reports, InputError> {
    let loaded = dumps
        .iter()
        .map(|path| load_dump(path).map(|dump| (path, dump)))
        .collect::<Result<Vec<_>, _>>()?;
    let (reference, candidate) = engines(args);
    let reports = loaded
        .into_iter()
        .map(|(path, dump)| {
            let comparison = run_both(&*reference, &*candidate, &dump.world, &dump.batch);
            Report::new(
                path.display().to_string(),
                dump.world.origin.clone(),
                &comparison,
                None,
            )
        })
        .collect();
    Ok((reports, args.json))
}

fn engines(args: &EngineArgs) -> (Box<dyn Engine>, Box<dyn Engine>) {
    let get = |name: &str| engine::by_name(name).expect("engine names are validated by clap");
    (get(&args.reference), get(&args.candidate))
}

/// Files as given, and the `*.yaml` files of directories in name order.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = vec![];
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|err| InputError::at(path, format!("cannot list directory: {err}")))?;
            let mut yaml: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext == "yaml"))
                .collect();
            if yaml.is_empty() {
                return Err(InputError::at(
                    path,
                    "directory holds no *.yaml batch files",
                ));
            }
            yaml.sort();
            files.extend(yaml);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn print_reports(reports: &[Report], json: bool) {
    if json {
        let value = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])
        } else {
            serde_json::to_string_pretty(reports)
        };
        println!("{}", value.expect("reports serialize to JSON"));
    } else {
        for report in reports {
            print!("{}", report.to_text());
        }
        let diverged = reports
            .iter()
            .filter(|report| report.verdict != "equal")
            .count();
        let unexpected = reports.iter().filter(|report| !report.as_expected).count();
        println!(
            "{} batches: {} equal, {} diverged ({} not as expected)",
            reports.len(),
            reports.len() - diverged,
            diverged,
            unexpected
        );
    }
}
