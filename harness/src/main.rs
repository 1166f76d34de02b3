//! The `eravm-diff` command line.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::{Parser, Subcommand};
use eravm_diff::{
    batch::{known_divergences, load_batch_file, Expectation},
    campaign::{CampaignOptions, CampaignState, STATE_FILE},
    coverage::{measure, opcode_variants},
    divergence::compare,
    engine::{self, Engine, Fault, ENGINE_NAMES},
    error::{read_file, InputError},
    fuzz::{describe, write_batch_file, FuzzOptions},
    generate::{batch as generate_batch, GeneratorConfig},
    minimize::Minimizer,
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
    /// Generate batches from a seed and run them on both engines until the budget is spent;
    /// write each new divergence (by fingerprint) as a YAML batch to the findings directory.
    ///
    /// Exits 0 when nothing new was found, 1 when there are findings, 2 on bad input.
    Fuzz {
        /// Time budget.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Sample budget (stops at whichever budget is spent first).
        #[arg(long)]
        samples: Option<u64>,
        /// Sample `i` of seed `s` is always the same batch.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Parallel workers.
        #[arg(long, default_value_t = default_jobs())]
        jobs: usize,
        #[arg(long, default_value = "findings")]
        findings: PathBuf,
        /// Batch files whose declared divergences are known (not reported again).
        #[arg(long, default_value = "vectors")]
        vectors: PathBuf,
        /// Minimize each new finding before it is left in the findings directory.
        #[arg(long)]
        minimize: bool,
        #[arg(long, default_value = "default")]
        world: WorldSource,
        #[command(flatten)]
        engines: EngineArgs,
    },
    /// Minimize a diverging batch (a YAML batch file, or a libFuzzer `diff_batch` input such as
    /// a crash file) to the smallest batch with the same divergence fingerprint.
    ///
    /// Exits 0 when the minimized batch was written, 2 on bad input or when the input does not
    /// diverge.
    Minimize {
        /// A `.yaml`/`.yml` batch file, or any other file as `diff_batch` fuzzer bytes.
        input: PathBuf,
        /// Where to write the minimized batch (e.g. vectors/NAME.yaml).
        #[arg(short, long)]
        output: PathBuf,
        /// The fingerprint to keep (default: the one the input shows).
        #[arg(long)]
        fingerprint: Option<String>,
        #[arg(long, default_value_t = default_jobs())]
        jobs: usize,
        #[arg(long, default_value = "default")]
        world: WorldSource,
        #[command(flatten)]
        engines: EngineArgs,
    },
    /// A long, resumable campaign: grows a corpus, deduplicates findings by fingerprint,
    /// minimizes new ones, and writes report.json, report.md and report.html next to them.
    /// Run it again with the same directories to resume after an interruption (kill -9
    /// included).
    ///
    /// Exits 0 when the campaign has no unexplained finding, 1 otherwise, 2 on bad input.
    Campaign {
        /// Total campaign time across restarts (e.g. 30m, 2h, 90s).
        #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Total samples across restarts (stops at whichever budget is spent first).
        #[arg(long)]
        samples: Option<u64>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value_t = default_jobs())]
        jobs: usize,
        #[arg(long, default_value = "campaign/corpus")]
        corpus: PathBuf,
        /// Findings, campaign state and reports.
        #[arg(long, default_value = "campaign/findings")]
        findings: PathBuf,
        /// Batch files whose declared divergences are known.
        #[arg(long, default_value = "vectors")]
        vectors: PathBuf,
        #[arg(long, default_value = "default")]
        world: WorldSource,
        #[command(flatten)]
        engines: EngineArgs,
    },
    /// Write report.json, report.md and report.html for a campaign's findings directory.
    Report {
        #[arg(long, default_value = "campaign/findings")]
        findings: PathBuf,
        #[arg(long, default_value = "vectors")]
        vectors: PathBuf,
    },
    /// How often the generator emits each EraVM opcode variant, and how often the reference VM
    /// executes it in generated contracts.
    ///
    /// Exits 0 when every variant was both emitted and executed, 1 otherwise.
    Coverage {
        #[arg(long, default_value_t = 1000)]
        samples: u64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value_t = default_jobs())]
        jobs: usize,
        #[arg(long, default_value = "default")]
        world: WorldSource,
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
        Command::Campaign {
            duration,
            samples,
            seed,
            jobs,
            corpus,
            findings,
            vectors,
            world,
            engines,
        } => {
            let budget = CampaignBudget {
                duration,
                samples,
                seed,
                jobs,
            };
            return campaign(budget, &corpus, &findings, &vectors, &world, &engines);
        }
        Command::Report { findings, vectors } => return report(&findings, &vectors),
        Command::Coverage {
            samples,
            seed,
            jobs,
            world,
        } => return coverage(samples, seed, jobs, &world),
        Command::Fuzz {
            seconds,
            samples,
            seed,
            jobs,
            findings,
            vectors,
            minimize,
            world,
            engines,
        } => {
            let budget = Budget {
                seconds,
                samples,
                seed,
                jobs,
            };
            return fuzz(budget, &findings, &vectors, minimize, &world, &engines);
        }
        Command::Minimize {
            input,
            output,
            fingerprint,
            jobs,
            world,
            engines,
        } => return minimize(&input, &output, fingerprint, jobs, &world, &engines),
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

fn coverage(samples: u64, seed: u64, jobs: usize, world: &WorldSource) -> ExitCode {
    let world = match world.load() {
        Ok(world) => world,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let generator = GeneratorConfig::for_world(&world);
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .expect("a thread pool");
    let coverage = pool.install(|| measure(&world, &generator, seed, samples));
    println!(
        "{:<32} {:>12} {:>12}",
        "opcode variant", "emitted", "executed"
    );
    for opcode in opcode_variants() {
        let count =
            |counts: &std::collections::BTreeMap<_, u64>| counts.get(&opcode).copied().unwrap_or(0);
        println!(
            "{:<32} {:>12} {:>12}",
            format!("{opcode:?}"),
            count(&coverage.emitted),
            count(&coverage.executed)
        );
    }
    let (not_emitted, not_executed) = coverage.gaps();
    let variants = opcode_variants().len();
    println!(
        "{} samples (seed {seed}) in {:.1} s: {}/{variants} variants emitted, {}/{variants} executed",
        coverage.samples,
        start.elapsed().as_secs_f64(),
        variants - not_emitted.len(),
        variants - not_executed.len()
    );
    for (what, gaps) in [
        ("never emitted", &not_emitted),
        ("never executed", &not_executed),
    ] {
        if !gaps.is_empty() {
            println!("{what}: {gaps:?}");
        }
    }
    if not_emitted.is_empty() && not_executed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn minimize(
    input: &Path,
    output: &Path,
    fingerprint: Option<String>,
    jobs: usize,
    world: &WorldSource,
    args: &EngineArgs,
) -> ExitCode {
    let (reference, candidate) = engines(args);
    let setup = world.load().and_then(|world| {
        let file = match input.extension().and_then(|ext| ext.to_str()) {
            Some("yaml" | "yml") => load_batch_file(input)?,
            _ => {
                let bytes = read_file(input)?;
                let generator = GeneratorConfig::for_world(&world);
                let mut file =
                    generate_batch(&mut arbitrary::Unstructured::new(&bytes), &generator).map_err(
                        |err| InputError::at(input, format!("not a diff_batch input: {err}")),
                    )?;
                file.origin = Some(format!("libFuzzer diff_batch input {}", input.display()));
                file
            }
        };
        let prepared = file
            .prepare(&world)
            .map_err(|err| err.within(input.display()))?;
        let divergence = compare(
            &reference.run(&prepared.world, &prepared.batch),
            &candidate.run(&prepared.world, &prepared.batch),
        )
        .ok_or_else(|| InputError::at(input, "the engines agree on it: nothing to minimize"))?;
        if let Some(wanted) = &fingerprint {
            if *wanted != divergence.fingerprint {
                return Err(InputError::at(
                    input,
                    format!("it shows {}, not {wanted}", divergence.fingerprint),
                ));
            }
        }
        Ok((world, file, divergence))
    });
    let (world, file, divergence) = match setup {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "minimizing {} ({})",
        divergence.fingerprint,
        divergence.signature.join("; ")
    );
    let minimizer = Minimizer {
        world: &world,
        reference: &*reference,
        candidate: &*candidate,
        fingerprint: divergence.fingerprint.clone(),
        progress: &|line| eprintln!("  {line}"),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .expect("a thread pool");
    let minimized = pool.install(|| minimizer.minimize(&file));
    let mut vector = minimized.file;
    let source = file.origin.unwrap_or_else(|| input.display().to_string());
    vector.origin = Some(format!(
        "{source}; minimized by eravm-diff minimize ({} vs {}) from {}",
        reference.name(),
        candidate.name(),
        minimized.before
    ));
    if vector.expect.is_none() {
        vector.description = Some(describe(&divergence));
    }
    if let Err(err) = write_batch_file(output, &vector) {
        eprintln!("error: {}: {err}", output.display());
        return ExitCode::from(2);
    }
    println!("before: {}", minimized.before);
    println!("after:  {}", minimized.after);
    println!(
        "{} candidates; {} written, fingerprint {}",
        minimized.candidates,
        output.display(),
        divergence.fingerprint
    );
    ExitCode::SUCCESS
}

struct CampaignBudget {
    duration: Duration,
    samples: Option<u64>,
    seed: u64,
    jobs: usize,
}

fn load_known(vectors: &Path) -> Result<HashMap<String, String>, InputError> {
    if vectors.is_dir() {
        known_divergences(vectors)
    } else {
        Ok(HashMap::new())
    }
}

fn campaign(
    budget: CampaignBudget,
    corpus: &Path,
    findings: &Path,
    vectors: &Path,
    world: &WorldSource,
    args: &EngineArgs,
) -> ExitCode {
    let setup = world
        .load()
        .and_then(|world| Ok((world, load_known(vectors)?)));
    let (world, known) = match setup {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let (reference, candidate) = engines(args);
    let generator = GeneratorConfig::for_world(&world);
    let options = CampaignOptions {
        world: &world,
        generator: &generator,
        reference: &*reference,
        candidate: &*candidate,
        seed: budget.seed,
        duration: Some(budget.duration),
        samples: budget.samples,
        jobs: budget.jobs,
        corpus,
        findings,
        known,
    };
    let show = CampaignProgress::new(budget.duration, budget.samples);
    let result = eravm_diff::campaign::run(&options, &|state| show.update(state));
    show.finish();
    match result {
        Ok(state) => {
            let unexplained = state
                .findings
                .iter()
                .filter(|finding| !options.known.contains_key(&finding.fingerprint))
                .count();
            println!(
                "{} executions in {:.0} s ({:.1}/s) over {} run(s); {} divergent samples ({} known); \
                 {} findings ({unexplained} unexplained); coverage {} variants; reports in {}",
                state.executions,
                state.elapsed,
                state.executions as f64 / state.elapsed.max(1e-9),
                state.runs,
                state.divergent_samples,
                state.known_divergent_samples,
                state.findings.len(),
                state.coverage.len(),
                findings.display()
            );
            if unexplained == 0 {
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

/// A progress bar on a terminal; a plain line every ten seconds otherwise.
struct CampaignProgress {
    bar: Option<indicatif::ProgressBar>,
    by_samples: bool,
    last_line: std::sync::Mutex<Instant>,
}

impl CampaignProgress {
    fn new(duration: Duration, samples: Option<u64>) -> Self {
        use std::io::IsTerminal;
        let by_samples = samples.is_some();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(samples.unwrap_or(duration.as_secs()));
            let unit = if by_samples { "samples" } else { "s" };
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{msg}}"
                ))
                .expect("a valid template"),
            );
            bar
        });
        Self {
            bar,
            by_samples,
            last_line: std::sync::Mutex::new(Instant::now()),
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
                bar.set_position(if self.by_samples {
                    state.executions
                } else {
                    state.elapsed as u64
                });
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

fn report(findings: &Path, vectors: &Path) -> ExitCode {
    let result = load_known(vectors).and_then(|known| {
        let state = CampaignState::load(findings)?.ok_or_else(|| {
            InputError::at(
                findings,
                format!("holds no campaign ({STATE_FILE} is missing)"),
            )
        })?;
        eravm_diff::campaign::report::write(findings, &state, &known)
    });
    match result {
        Ok(()) => {
            println!("reports written to {}", findings.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

struct Budget {
    seconds: u64,
    samples: Option<u64>,
    seed: u64,
    jobs: usize,
}

fn fuzz(
    budget: Budget,
    findings: &Path,
    vectors: &Path,
    minimize: bool,
    world: &WorldSource,
    args: &EngineArgs,
) -> ExitCode {
    let setup = world.load().and_then(|world| {
        let known = if vectors.is_dir() {
            known_divergences(vectors)?
        } else {
            HashMap::new()
        };
        Ok((world, known))
    });
    let (world, known) = match setup {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let (reference, candidate) = engines(args);
    let generator = GeneratorConfig::for_world(&world);
    let options = FuzzOptions {
        world: &world,
        generator: &generator,
        reference: &*reference,
        candidate: &*candidate,
        seed: budget.seed,
        duration: Some(Duration::from_secs(budget.seconds)),
        samples: budget.samples,
        jobs: budget.jobs,
        findings,
        known: known.keys().cloned().collect(),
    };
    eprintln!(
        "fuzzing {} against {} with seed {} on {} jobs; findings go to {}",
        candidate.name(),
        reference.name(),
        budget.seed,
        budget.jobs,
        findings.display()
    );
    let start = Instant::now();
    let progress = |executions: u64, found: usize| {
        let seconds = start.elapsed().as_secs_f64();
        eprintln!(
            "[{seconds:>6.1}s] {executions} executions ({:.1}/s), {found} new findings",
            executions as f64 / seconds
        );
    };
    let summary = match eravm_diff::fuzz::fuzz(&options, &progress) {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("error: {}: {err}", findings.display());
            return ExitCode::from(2);
        }
    };
    println!(
        "{} executions in {:.1} s: {:.1} executions/s; {} divergent samples, {} new fingerprints",
        summary.executions,
        summary.elapsed.as_secs_f64(),
        summary.executions_per_second(),
        summary.divergent_samples,
        summary.findings.len()
    );
    for finding in &summary.findings {
        println!(
            "  {}  sample {}  {}",
            finding.divergence.fingerprint,
            finding.sample,
            finding.path.display()
        );
        for line in &finding.divergence.signature {
            println!("      {line}");
        }
        if minimize {
            let minimizer = Minimizer {
                world: &world,
                reference: &*reference,
                candidate: &*candidate,
                fingerprint: finding.divergence.fingerprint.clone(),
                progress: &|line| eprintln!("  {line}"),
            };
            let result = load_batch_file(&finding.path)
                .map_err(|err| err.to_string())
                .and_then(|file| {
                    let minimized = minimizer.minimize(&file);
                    let mut output = minimized.file;
                    output.origin = file
                        .origin
                        .map(|origin| format!("{origin}; minimized from {}", minimized.before));
                    write_batch_file(&finding.path, &output).map_err(|err| err.to_string())?;
                    Ok(minimized.after)
                });
            match result {
                Ok(after) => println!("      minimized: {after}"),
                Err(err) => {
                    eprintln!("error: {}: {err}", finding.path.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    if summary.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

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
