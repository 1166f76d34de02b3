//! Where a generated frame's time goes, in one thread: generating it, assembling its programs,
//! running it on each frame engine with every step recorded, and comparing the two runs (the
//! whole differential run less the two engine runs). Then the fixed cost of a frame (one that
//! returns at once) and the cost of a step (a frame that loops).
//!
//! Run: `cargo bench -p eravm-diff --bench frame` (add a number to set the frames, default 2000).

use std::time::{Duration, Instant};

use eravm_diff::{
    batch_file::DEFAULT_CALLER,
    divergence::tolerance::Tolerances,
    engine::{frame::frame_engine, Observe},
    frame::{Frame, FrameContract},
    generate::seeded::sample_frame,
    pipeline::FrameDifferential,
    support::{assembly::assemble, bytes::HexBytes, memory},
};
use zksync_types::Address;

#[global_allocator]
static ALLOCATOR: memory::Allocator = memory::Allocator;

const PARTS: [&str; 5] = ["generate", "assemble", "zk_evm", "zksync_vm2", "compare"];

fn main() {
    memory::keep_freed_memory();
    let frames: u64 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2000);
    let differential = FrameDifferential {
        reference: frame_engine("zk_evm").unwrap(),
        candidate: frame_engine("zksync_vm2").unwrap(),
        tolerances: Tolerances::DEFAULT,
    };
    let observe = Observe {
        steps: true,
        ..Observe::default()
    };
    let mut time = [Duration::ZERO; 5];
    let mut steps = 0;
    for sample in 0..frames {
        let mut marks = vec![Instant::now()];
        let file = sample_frame(1, sample);
        marks.push(Instant::now());
        let frame = file.prepare().unwrap();
        marks.push(Instant::now());
        let reference = differential.reference.run_frame(&frame, &observe);
        marks.push(Instant::now());
        differential.candidate.run_frame(&frame, &observe);
        marks.push(Instant::now());
        differential.run(&frame, &Observe::default());
        marks.push(Instant::now());
        steps += step_count(&reference.steps);
        if std::env::var("HIST").is_ok() {
            eprintln!("STEPS {}", step_count(&reference.steps));
        }
        for (part, pair) in marks.windows(2).enumerate() {
            time[part] += pair[1] - pair[0];
        }
        // The comparison is what the whole run adds to the two engine runs.
        time[4] = time[4].saturating_sub(marks[4] - marks[2]);
    }
    let total: Duration = time.iter().sum();
    let per_frame = |spent: Duration| spent.as_secs_f64() * 1e6 / frames as f64;
    println!(
        "{frames} generated frames, {:.0} reference steps per frame",
        steps as f64 / frames as f64
    );
    for (name, spent) in PARTS.iter().zip(time) {
        let share = 100.0 * spent.as_secs_f64() / total.as_secs_f64();
        println!(
            "  {name:<12} {:>7.1} us/frame {share:>5.1} %",
            per_frame(spent)
        );
    }
    println!(
        "  one thread:  {:.0} frames/s",
        frames as f64 / total.as_secs_f64()
    );

    let empty = frame_of("    ret.ok r0\n");
    // Five instructions, 20 000 times.
    let looping = frame_of(
        "    add 20000, r0, r15\nloop:\n    add r1, r2, r3\n    mul r3, r3, r4, r5\n    \
         xor r4, r5, r6\n    sub.s! 1, r15, r15\n    jump.ne @loop\n    ret.ok r0\n",
    );
    let fixed = timed(frames, || differential.run(&empty, &Observe::default()));
    let run = timed(10, || differential.run(&looping, &Observe::default()));
    let looped = step_count(&differential.run(&looping, &observe).reference.steps);
    println!(
        "a frame that returns at once: {:.1} us; a step of a loop: {:.3} us (both engines, compared)",
        fixed * 1e6,
        (run - fixed) * 1e6 / looped as f64
    );
}

/// Seconds per call of `run`, over `times` calls.
fn timed<T>(times: u64, mut run: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    for _ in 0..times {
        std::hint::black_box(run());
    }
    start.elapsed().as_secs_f64() / times as f64
}

fn step_count(trace: &Option<eravm_diff::steps::StepTrace>) -> usize {
    trace.as_ref().map_or(0, |trace| {
        trace
            .segments
            .iter()
            .map(|segment| segment.steps.len())
            .sum()
    })
}

/// A frame whose entry program is `body` (instructions after the label `__entry`).
fn frame_of(body: &str) -> Frame {
    let text = format!("    .text\n__entry:\n{body}");
    Frame {
        contracts: vec![FrameContract {
            address: Address::from_low_u64_be(0xc0de0),
            bytecode: HexBytes(assemble(&text).unwrap()),
        }],
        calldata: HexBytes(vec![]),
        ergs: 4_000_000,
        caller: Address::from_low_u64_be(DEFAULT_CALLER),
        value: 0,
        storage: vec![],
    }
}
