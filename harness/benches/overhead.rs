//! Where the time of a differential run goes: the harness's own work (building the world,
//! preparing a batch, encoding and comparing outcomes) against the two VMs; then what naming a
//! divergence's cause costs (both engines run again recording every step, and the steps are
//! compared); then how often each instruction-level fault is named at the instruction it
//! perturbed.
//!
//! Run: `cargo bench -p eravm-diff --bench overhead` (add a number to set iterations per vector).

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    time::{Duration, Instant},
};

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file},
    divergence::compare,
    engine::{Engine, StepFault, StepFaultyVmFast, VmFast, VmLatest},
    generate::{seeded::sample_batch, GeneratorConfig},
    pipeline::{Differential, RunOptions},
    pubdata::{da, Pubdata},
    world::{embedded_dump_path, load_dump, World, EMBEDDED_DUMP},
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
    pubdata(&files, &world, iterations);
    localization(&world, &files, iterations.div_ceil(4));
    step_faults(&world, 300);
}

/// What reading the pubdata back costs per batch: decoding it, and the whole DA oracle
/// (decoding included), over every vector's vm_fast outcome.
fn pubdata(files: &[PathBuf], world: &World, iterations: u32) {
    let (mut decode, mut check, mut bytes, mut batches) = (Duration::ZERO, Duration::ZERO, 0, 0);
    for path in files {
        let prepared = load_batch_file(path).unwrap().prepare(world).unwrap();
        let outcome = VmFast.run(&prepared.world, &prepared.batch);
        let Some(published) = outcome
            .batch
            .as_ref()
            .and_then(|b| b.pubdata_input.as_ref())
        else {
            continue;
        };
        for _ in 0..iterations {
            let start = Instant::now();
            std::hint::black_box(Pubdata::decode(&published.0).unwrap());
            decode += start.elapsed();
            let start = Instant::now();
            std::hint::black_box(da::check(&outcome, &prepared.world, &prepared.batch).unwrap());
            check += start.elapsed();
        }
        bytes += published.0.len();
        batches += 1;
    }
    let runs = f64::from(iterations) * f64::from(batches);
    println!(
        "\npubdata of {batches} vectors (mean {} bytes): decode {:.1} us, DA oracle {:.1} us per batch",
        bytes / batches as usize,
        decode.as_secs_f64() * 1e6 / runs,
        check.as_secs_f64() * 1e6 / runs,
    );
}

/// The cost of naming each divergent vector's cause: a run of the pipeline (untraced engines,
/// then both again recording their steps up to the first diverging transaction), against the
/// untraced engines alone; and the step of its transaction the cause is at.
fn localization(world: &World, files: &[PathBuf], iterations: u32) {
    println!(
        "\n{:<44} {:>9} {:>10} {:>8} {:>9}",
        "divergent vector (ms)", "run", "with cause", "ratio", "at step"
    );
    let differential = Differential::new(world.clone(), VmLatest, VmFast);
    let (mut run_total, mut named_total, mut count) = (0.0, 0.0, 0);
    for path in files {
        let file = load_batch_file(path).unwrap();
        let prepared = file.prepare(world).unwrap();
        let (mut run, mut named) = (Duration::ZERO, Duration::ZERO);
        let mut steps = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            let reference = VmLatest.run(&prepared.world, &prepared.batch);
            let candidate = VmFast.run(&prepared.world, &prepared.batch);
            let divergence = compare(&reference, &candidate);
            run += start.elapsed();
            if divergence.is_none() {
                break;
            }
            let start = Instant::now();
            let comparison =
                differential.run(&prepared.world, &prepared.batch, &RunOptions::default());
            named += start.elapsed();
            steps = comparison
                .explanation
                .map_or(0, |explanation| explanation.cause.step.unwrap_or(0));
        }
        if named.is_zero() {
            continue;
        }
        let (run, named) = (
            ms(run) / f64::from(iterations),
            ms(named) / f64::from(iterations),
        );
        println!(
            "{:<44} {run:>9.2} {named:>10.2} {:>7.1}x {steps:>9}",
            path.file_stem().unwrap().to_str().unwrap(),
            named / run
        );
        (run_total, named_total, count) = (run_total + run, named_total + named, count + 1);
    }
    println!(
        "{:<44} {:>9.2} {:>10.2} {:>7.1}x",
        format!("mean of {count} divergent vectors"),
        run_total / f64::from(count),
        named_total / f64::from(count),
        named_total / run_total
    );
}

/// For each instruction-level fault (vm_fast perturbed after a generated contract's first `nop`,
/// or for `heap_word` its first heap store): of the first `samples` batches of seed 2, those on
/// which the unfaulted engines agree step for step; how many of them the fault makes disagree,
/// where the most of those are named (instruction and component), how many are named there, and
/// with how many distinct cause fingerprints.
fn step_faults(world: &World, samples: u64) {
    let generator = GeneratorConfig::for_world(world);
    let unfaulted = Differential::new(world.clone(), VmLatest, VmFast);
    let agreeing: Vec<_> = (0..samples)
        .map(|sample| sample_batch(&generator, 2, sample).prepare(world).unwrap())
        .filter(|prepared| {
            unfaulted
                .explain(&prepared.world, &prepared.batch)
                .is_none()
        })
        .collect();
    println!(
        "\n{:<12} {:>8} {:>9} {:<30} {:>6} {:>13}",
        "step fault", "batches", "disagree", "named at", "there", "fingerprints"
    );
    let mut all = HashSet::new();
    for fault in StepFault::ALL {
        let differential = Differential::new(world.clone(), VmLatest, StepFaultyVmFast(fault));
        let causes: Vec<_> = agreeing
            .iter()
            .filter_map(|prepared| differential.explain(&prepared.world, &prepared.batch))
            .map(|explanation| explanation.cause)
            .collect();
        // (instruction, component) → (batches named there, their cause fingerprints)
        let mut places: HashMap<(String, String), (usize, HashSet<String>)> = HashMap::new();
        for cause in &causes {
            let place = places
                .entry((cause.instruction.clone(), cause.component.clone()))
                .or_default();
            place.0 += 1;
            place.1.insert(cause.fingerprint.clone());
        }
        let top = places.into_iter().max_by_key(|(_, (count, _))| *count);
        let (place, there, fingerprints) = match top {
            Some(((instruction, component), (count, fingerprints))) => {
                let distinct = fingerprints.len();
                all.extend(fingerprints);
                (format!("{instruction} {component}"), count, distinct)
            }
            None => ("-".to_owned(), 0, 0),
        };
        println!(
            "{:<12} {:>8} {:>9} {place:<30} {there:>6} {fingerprints:>13}",
            fault.name(),
            agreeing.len(),
            causes.len(),
        );
    }
    println!(
        "distinct fingerprints where each kind is named: {}",
        all.len()
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
