//! The `eravm-diff` command line: argument parsing and dispatch; each command lives in
//! `cli/`, and its work in the library.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eravm_diff::support::memory;

use cli::{campaign, engines, explain, fuzz, matrix, minimize, pubdata, run, serve};

#[global_allocator]
static ALLOCATOR: memory::Allocator = memory::Allocator;

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

#[derive(Subcommand)]
enum Command {
    /// Run YAML batch and frame files (or every *.yaml in a directory and its subdirectories)
    /// on both engines and compare.
    ///
    /// Exits 0 when every outcome is as its file expects (equal, unless the file declares a known
    /// divergence), 1 otherwise, 2 on bad input.
    Run(run::RunArgs),
    /// Replay VM dumps (zksync-era's shadow VM format) on both engines and compare.
    ///
    /// Exits 0 when outcomes are equal, 1 on a divergence, 2 on bad input.
    Replay(run::ReplayArgs),
    /// Print one engine's canonical outcome for a batch file, as YAML.
    Outcome(run::OutcomeArgs),
    /// Decode the pubdata one engine publishes for a batch file or VM dump (YAML, or JSON),
    /// and check it with the data-availability oracle: it must match what the VM reported and
    /// rebuild the state from the pre-state alone.
    ///
    /// Exits 0 when the oracle finds nothing wrong, 1 on a violation, 2 on bad input.
    Pubdata(pubdata::PubdataArgs),
    /// Name the cause of a batch's or a frame's divergence: the first instruction where the
    /// engines part ways, with the steps of both around it.
    Explain(explain::ExplainArgs),
    /// Generate batches from a seed and run them on both engines until the budget is spent;
    /// write each divergence with a new cause as a YAML batch to the findings directory.
    ///
    /// Exits 0 when nothing new was found, 1 when there are findings, 2 on bad input.
    Fuzz(fuzz::FuzzArgs),
    /// How often the generator emits each EraVM opcode variant, and how often the reference VM
    /// executes it in generated contracts.
    ///
    /// Exits 0 when every variant was both emitted and executed, 1 otherwise.
    Coverage(fuzz::CoverageArgs),
    /// Minimize a diverging batch or frame (a YAML batch or frame file, or a libFuzzer
    /// `diff_batch` input such as a crash file) to the smallest one whose divergence has the
    /// same cause.
    ///
    /// Exits 0 when the minimized batch was written, 2 on bad input or when the input does not
    /// diverge.
    Minimize(minimize::MinimizeArgs),
    /// A long, resumable campaign: grows a corpus, deduplicates findings by cause,
    /// minimizes new ones, and writes report.json, report.md and report.html next to them.
    /// Run it again with the same directories to resume after an interruption (kill -9
    /// included).
    ///
    /// Exits 0 when the campaign has no unexplained finding, 1 otherwise, 2 on bad input.
    Campaign(campaign::CampaignArgs),
    /// Write report.json, report.md and report.html for a campaign's findings directory.
    Report(campaign::ReportArgs),
    /// Run every batch (files, directories, VM dumps) on every engine and show which engines
    /// agree with which (a letter per outcome class).
    ///
    /// Exits 0 when every engine agrees on every batch, 1 otherwise, 2 on bad input.
    Matrix(matrix::MatrixArgs),
    /// List the engines (in process, other zksync_multivm releases and whether they are built);
    /// `engines build [RELEASE…]` builds release engines ahead of their first use.
    Engines(engines::EnginesArgs),
    /// Serve one engine over the engine protocol on stdin and stdout (the child side of a
    /// process engine; see docs/engines/processes.md).
    ServeEngine(serve::ServeArgs),
}

fn main() -> ExitCode {
    memory::keep_freed_memory();
    let result = match Cli::parse().command {
        Command::Run(args) => args.execute(),
        Command::Replay(args) => args.execute(),
        Command::Outcome(args) => args.execute(),
        Command::Pubdata(args) => args.execute(),
        Command::Explain(args) => args.execute(),
        Command::Fuzz(args) => args.execute(),
        Command::Coverage(args) => args.execute(),
        Command::Minimize(args) => args.execute(),
        Command::Campaign(args) => args.execute(),
        Command::Report(args) => args.execute(),
        Command::Matrix(args) => args.execute(),
        Command::Engines(args) => args.execute(),
        Command::ServeEngine(args) => args.execute(),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::from(2)
    })
}
