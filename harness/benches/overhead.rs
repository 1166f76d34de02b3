//! Where the time of a differential run goes: the harness's own work (building the world,
//! preparing a batch, encoding and comparing outcomes) against the two VMs; then what naming a
//! divergence's cause costs (both engines run again recording every step, and the steps are
//! compared).
//!
//! Run: `cargo bench -p eravm-diff --bench overhead` (add a number to set iterations per vector).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use eravm_diff::{
    divergence::compare,
    engine::{Engine, VmFast, VmLatest},
    pipeline::{Differential, RunOptions},
    spec::{batch_files_in, load_batch_file},
    world::{embedded_dump_path, load_dump, EMBEDDED_DUMP},
};

fn main() {
    let iterations: u32 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(20);

    let start = Instant::now();
    let world = load_dump(&embedded_dump_path(EMBEDDED_DUMP)).unwrap().world;
    println!(
        "world built from the dump in {:.2} ms (once per process)",
        ms(start.elapsed())
    );
    let start = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(world.clone());
    }
    println!("world clone: {:.3} us", start.elapsed().as_secs_f64() * 1e3);

    let files =
        batch_files_in(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors")).unwrap();

    println!(
        "\n{:<28} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9}",
        "vector (ms per run)", "prepare", "vm_latest", "vm_fast", "encode", "compare", "overhead"
    );
    let mut totals = [Duration::ZERO; 5];
    for path in &files {
        let file = load_batch_file(path).unwrap();
        let mut times = [Duration::ZERO; 5];
        for _ in 0..iterations {
            let start = Instant::now();
            let prepared = file.prepare(&world).unwrap();
            times[0] += start.elapsed();
            let start = Instant::now();
            let reference = VmLatest.run(&prepared.world, &prepared.batch);
            times[1] += start.elapsed();
            let start = Instant::now();
            let candidate = VmFast.run(&prepared.world, &prepared.batch);
            times[2] += start.elapsed();
            let start = Instant::now();
            std::hint::black_box((reference.canonical_bytes(), candidate.canonical_bytes()));
            times[3] += start.elapsed();
            let start = Instant::now();
            std::hint::black_box(compare(&reference, &candidate));
            times[4] += start.elapsed();
        }
        print_row(
            path.file_stem().unwrap().to_str().unwrap(),
            &times,
            iterations,
        );
        for (total, time) in totals.iter_mut().zip(times) {
            *total += time;
        }
    }
    print_row("all vectors", &totals, iterations * files.len() as u32);
    println!(
        "\noverhead = (prepare + compare) / (vm_latest + vm_fast); compare includes encoding both\n\
         outcomes; converting VM results into outcomes happens inside the VM columns."
    );
    localization(&world, &files, iterations.div_ceil(4));
}

/// The cost of naming each divergent vector's cause, against running it untraced.
fn localization(world: &eravm_diff::world::World, files: &[PathBuf], iterations: u32) {
    println!(
        "\n{:<44} {:>9} {:>9} {:>8} {:>9}",
        "divergent vector (ms)", "run", "explain", "ratio", "steps"
    );
    let differential = Differential::new(world.clone(), VmLatest, VmFast);
    let (mut run_total, mut explain_total, mut count) = (0.0, 0.0, 0);
    for path in files {
        let file = load_batch_file(path).unwrap();
        let prepared = file.prepare(world).unwrap();
        let (mut run, mut explain) = (Duration::ZERO, Duration::ZERO);
        let mut steps = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            let comparison =
                differential.run(&prepared.world, &prepared.batch, &RunOptions::default());
            run += start.elapsed();
            if comparison.divergence.is_none() {
                break;
            }
            let start = Instant::now();
            std::hint::black_box(differential.explain(&prepared.world, &prepared.batch));
            explain += start.elapsed();
            let traced = RunOptions {
                steps: true,
                ..RunOptions::default()
            };
            let trace = differential
                .run(&prepared.world, &prepared.batch, &traced)
                .reference
                .steps;
            steps = trace.map_or(0, |trace| {
                trace.segments.iter().map(|s| s.steps.len()).sum()
            });
        }
        if explain.is_zero() {
            continue;
        }
        let (run, explain) = (
            ms(run) / f64::from(iterations),
            ms(explain) / f64::from(iterations),
        );
        println!(
            "{:<44} {run:>9.2} {explain:>9.2} {:>7.1}x {steps:>9}",
            path.file_stem().unwrap().to_str().unwrap(),
            explain / run
        );
        (run_total, explain_total, count) = (run_total + run, explain_total + explain, count + 1);
    }
    println!(
        "{:<44} {:>9.2} {:>9.2} {:>7.1}x",
        format!("mean of {count} divergent vectors"),
        run_total / f64::from(count),
        explain_total / f64::from(count),
        explain_total / run_total
    );
}

fn print_row(name: &str, times: &[Duration; 5], runs: u32) {
    let per_run = |time: Duration| ms(time) / f64::from(runs);
    let overhead =
        (per_run(times[0]) + per_run(times[4])) / (per_run(times[1]) + per_run(times[2]));
    println!(
        "{:<28} {:>9.3} {:>10.3} {:>10.3} {:>9.3} {:>9.3} {:>8.1}%",
        name,
        per_run(times[0]),
        per_run(times[1]),
        per_run(times[2]),
        per_run(times[3]),
        per_run(times[4]),
        overhead * 100.0
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
