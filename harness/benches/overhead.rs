//! Where the time of a differential run goes: the harness's own work (building the world,
//! preparing a batch, encoding and comparing outcomes) against the two VMs.
//!
//! Run: `cargo bench -p eravm-diff --bench overhead` (add a number to set iterations per vector).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use eravm_diff::{
    divergence::compare,
    engine::{Engine, VmFast, VmLatest},
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
