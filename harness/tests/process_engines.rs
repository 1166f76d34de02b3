//! Process engines: an engine in a child process gives the same outcome as in-process, and a
//! child that is killed, hangs or writes garbage gives an outcome recording it; the next batch
//! runs on a fresh child.

use std::{path::Path, time::Duration};

use eravm_diff::{
    batch_file::{load_batch_file, PreparedBatch},
    engine::{Engine, Observe, ProcessEngine, VmFast},
    outcome::{ProcessFault, Stage},
    world::default_world,
};
use tempfile::TempDir;

const VECTOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/storage_writes.yaml"
);

/// The vector's batch, prepared in the default world.
fn prepared() -> PreparedBatch {
    load_batch_file(Path::new(VECTOR))
        .unwrap()
        .prepare(&default_world())
        .unwrap()
}

/// vm_fast served by this package's binary, with `extra` arguments.
fn served(extra: &[&str]) -> ProcessEngine {
    let mut args = vec!["serve-engine", "vm_fast"];
    args.extend(extra);
    ProcessEngine::new("process:vm_fast", env!("CARGO_BIN_EXE_eravm-diff"), &args)
        .with_timeout(Duration::from_secs(20))
}

#[test]
fn a_process_engine_gives_the_in_process_outcome() {
    let prepared = prepared();
    let engine = served(&[]);
    let in_process = VmFast.run(&prepared.world, &prepared.batch);
    for _ in 0..3 {
        let outcome = engine.run(&prepared.world, &prepared.batch);
        assert_eq!(outcome.canonical_bytes(), in_process.canonical_bytes());
    }
    assert_eq!(engine.restarts(), 0);
}

#[test]
fn a_broken_child_is_an_outcome_and_the_next_batch_gets_a_fresh_one() {
    let prepared = prepared();
    let expected = VmFast.run(&prepared.world, &prepared.batch);
    let dir = TempDir::new().unwrap();
    for (kind, fault) in [
        ("abort", ProcessFault::Exited),
        ("hang", ProcessFault::Hung),
        ("garbage", ProcessFault::Garbage),
    ] {
        let marker = dir.path().join(kind).display().to_string();
        let engine = served(&["--fault", &format!("{kind}:{marker}")]);
        let engine = if kind == "hang" {
            engine.with_timeout(Duration::from_secs(2))
        } else {
            engine
        };
        let broken = engine.run(&prepared.world, &prepared.batch);
        let panic = broken
            .panic
            .as_ref()
            .expect("the failure is in the outcome");
        assert_eq!(
            panic.stage,
            Stage::EngineProcess(fault),
            "{kind}: {panic:?}"
        );
        assert!(panic.message.contains("restarted"), "{}", panic.message);
        assert_eq!(engine.restarts(), 1, "{kind}");
        let next = engine.run(&prepared.world, &prepared.batch);
        assert_eq!(
            next, expected,
            "{kind}: the next batch runs on a fresh child"
        );
        assert_eq!(engine.restarts(), 1, "{kind}");
    }
}

#[test]
fn a_program_that_cannot_start_is_an_outcome() {
    let prepared = prepared();
    let engine = ProcessEngine::new("exec:/nonexistent", "/nonexistent/engine", &[]);
    let outcome = engine.run(&prepared.world, &prepared.batch);
    let panic = outcome.panic.expect("recorded");
    assert_eq!(panic.stage, Stage::EngineProcess(ProcessFault::Exited));
    assert!(panic.message.contains("cannot start"), "{}", panic.message);
}

/// Steps cross the protocol: a process engine's step trace is the in-process one, so causes are
/// named, and tolerances applied, as in-process.
#[test]
fn steps_cross_the_protocol() {
    let prepared = prepared();
    let observe = Observe {
        steps: true,
        ..Observe::default()
    };
    let in_process = VmFast.run_observed(&prepared.world, &prepared.batch, &observe);
    let served = served(&[]).run_observed(&prepared.world, &prepared.batch, &observe);
    let steps = served.steps.expect("the child records steps");
    assert!(!steps.segments.is_empty());
    assert_eq!(Some(steps), in_process.steps);
    assert_eq!(served.outcome, in_process.outcome);
}
