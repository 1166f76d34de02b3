//! Frame level: programs straight on zk_evm and zksync_vm2, compared step by step.

use arbitrary::Unstructured;
use eravm_diff::{
    batch_file::{batch_files_in, load_input_file, Expectation, FrameFile, InputFile},
    divergence::tolerance::Tolerances,
    drive::{
        coverage::{measure_frames, Region},
        lift::{lift, Reach},
    },
    engine::{
        fault::StepFault,
        frame::{frame_engine, FrameEngine, ZkEvm, ZksyncVm2},
        Observe,
    },
    findings::KnownDivergences,
    frame::{Frame, FrameContract, FrameResult},
    generate::{frame, seeded::seeded_bytes},
    outcome::Word,
    pipeline::FrameDifferential,
    support::{assembly::assemble, bytes::HexBytes},
    world::generated_contract_address,
};
use zksync_types::{Address, U256};

fn differential(candidate: ZksyncVm2) -> FrameDifferential {
    FrameDifferential {
        reference: Box::new(ZkEvm),
        candidate: Box::new(candidate),
        tolerances: Tolerances::DEFAULT,
    }
}

/// A frame whose one program is `body` (after `__entry:`), at a user-space address.
fn one_program(body: &str) -> Frame {
    let text = format!("\t.text\n\t.globl\t__entry\n__entry:\n{body}");
    Frame {
        contracts: vec![FrameContract {
            address: generated_contract_address(0, false),
            bytecode: HexBytes(assemble(&text).unwrap()),
        }],
        calldata: HexBytes(vec![7; 40]),
        ergs: 100_000,
        caller: Address::from_low_u64_be(0xca11e7),
        value: 5,
        storage: vec![],
    }
}

/// A program that stores, writes its heap and returns it runs alike on both VMs, and what it
/// leaves behind is what it did.
#[test]
fn a_program_runs_alike_on_both_vms() {
    let frame = one_program(
        "\tnop\n\tcontext.get_context_u128 r3\n\tadd 3, r0, r2\n\tsstore r2, r3\n\tst.1 0, r3\n\tadd 32, r0, r1\n\tshl.s 96, r1, r1\n\tret.ok r1\n",
    );
    let comparison = differential(ZksyncVm2(None)).run(&frame, &Observe::default());
    assert_eq!(comparison.differences, vec![]);
    assert_eq!(comparison.cause, None);
    let outcome = &comparison.reference.outcome;
    let mut five = [0; 32];
    five[31] = 5;
    assert_eq!(
        outcome.result,
        Some(FrameResult::Ok(HexBytes(five.to_vec())))
    );
    let slot = (frame.contracts[0].address, Word::from(U256::from(3)));
    assert_eq!(outcome.storage.get(&slot), Some(&Word::from(U256::from(5))));
    assert!(comparison.reference.steps.unwrap().segments[0].steps.len() >= 7);
}

/// Every step fault is named at the instruction it strikes, at frame level too: the heap word at
/// its store.
/// A loop that would run until its ergs are spent stops at the step limit on both VMs, after
/// the same steps, and they agree; a program that ends before the limit is not stopped.
#[test]
fn both_vms_stop_at_the_step_limit() {
    let mut frame = one_program("loop:\n\tadd 1, r2, r2\n\tjump @loop\n");
    frame.ergs = 4_000_000;
    for max_steps in [1, 1000, 1001] {
        let observe = Observe {
            max_steps: Some(max_steps),
            ..Observe::default()
        };
        let comparison = differential(ZksyncVm2(None)).run(&frame, &observe);
        assert_eq!((comparison.differences, comparison.cause), (vec![], None));
        for observed in [&comparison.reference, &comparison.candidate] {
            assert_eq!(observed.outcome.result, Some(FrameResult::StepLimit));
            let steps = observed.steps.as_ref().unwrap();
            assert_eq!(steps.segments[0].steps.len(), max_steps);
        }
    }
    let returns = one_program("\tadd 1, r2, r2\n\tret.ok r0\n");
    let observe = Observe {
        max_steps: Some(2),
        ..Observe::default()
    };
    let comparison = differential(ZksyncVm2(None)).run(&returns, &observe);
    assert!(matches!(
        comparison.reference.outcome.result,
        Some(FrameResult::Ok(_))
    ));
    assert_eq!((comparison.differences, comparison.cause), (vec![], None));
}

/// An instruction that sends the pc out of the program or to its last word's end: vm2 marks it
/// failed (its pc is gone), zk_evm runs an invalid instruction there; both panic next, so no
/// engine fails alone (`fails` is for an instruction one engine completes and goes on from).
#[test]
fn leaving_the_program_fails_alike_in_both_engines() {
    for program in [
        "\tadd 65535, r0, r12\n\tjump r12\n\tret.ok r0\n",
        "\tadd 1, r2, r2\n",
    ] {
        let comparison =
            differential(ZksyncVm2(None)).run(&one_program(program), &Observe::default());
        assert!(
            matches!(
                comparison.reference.outcome.result,
                Some(FrameResult::Panic)
            ),
            "{program}: {:?}",
            comparison.reference.outcome.result
        );
        assert_eq!(
            (comparison.differences, comparison.cause),
            (vec![], None),
            "{program}"
        );
    }
}

#[test]
fn a_step_fault_is_named_at_its_instruction() {
    let frame = one_program("\tnop\n\tadd 9, r0, r3\n\tst.1 64, r3\n\tld.1 64, r4\n\tret.ok r0\n");
    for (fault, instruction, component) in [
        (StepFault::HeapWord, "UMA(HeapWrite)", "stored.value"),
        (StepFault::Register, "Nop(NopOpcode)", "r2"),
        (StepFault::PointerTag, "Nop(NopOpcode)", "r1"),
        (StepFault::Flag, "Nop(NopOpcode)", "flags.eq"),
        (StepFault::Ergs, "Nop(NopOpcode)", "ergs"),
        (StepFault::Failure, "Nop(NopOpcode)", "fails"),
    ] {
        let comparison = differential(ZksyncVm2(Some(fault))).run(&frame, &Observe::default());
        let cause = comparison
            .cause
            .unwrap_or_else(|| panic!("{fault:?}: no cause"));
        assert_eq!(
            (cause.instruction.as_str(), cause.component.as_str()),
            (instruction, component),
            "{fault:?}"
        );
    }
}

/// Generated frames: every one runs on zk_evm without an engine panic (and on vm2 but for its
/// missing static memory), and most agree step for step.
#[test]
fn generated_frames_mostly_agree() {
    let differential = differential(ZksyncVm2(None));
    let (mut agree, mut steps, mut returned) = (0, 0, 0);
    for sample in 0..40 {
        let bytes = seeded_bytes(1, sample, 8192);
        let frame = frame(&mut Unstructured::new(&bytes))
            .unwrap()
            .prepare()
            .unwrap();
        let comparison = differential.run(&frame, &Observe::default());
        let reference = &comparison.reference.outcome;
        assert!(
            reference.result.is_some(),
            "sample {sample}: {:?}",
            reference.panic
        );
        // vm2 panics on static memory, which it lacks (known_static_memory_user): a divergence
        // with its cause, not a failure of the harness.
        let candidate = &comparison.candidate.outcome;
        if let Some(panic) = &candidate.panic {
            assert!(
                panic.contains("Rolling back is only allowed in the bootloader"),
                "sample {sample}: {panic}"
            );
            assert!(comparison.cause.is_some(), "sample {sample}: no cause");
        }
        let trace = comparison.reference.steps.as_ref().unwrap();
        steps += trace.segments[0].steps.len();
        returned += matches!(
            comparison.reference.outcome.result,
            Some(FrameResult::Ok(_))
        ) as usize;
        match &comparison.cause {
            None => agree += 1,
            Some(cause) => eprintln!("sample {sample}: {}", cause.summary()),
        }
    }
    eprintln!("{agree} agree, {returned} returned, {steps} steps");
    assert!(agree >= 20, "only {agree} of 40 generated frames agree");
    // The programs run, and do not all fail at once.
    assert!(steps >= 40 * 30, "{steps} steps in 40 frames");
    assert!(returned >= 5, "{returned} of 40 frames returned");
}

/// Coverage at frame level counts what the reference executed in the frames' programs: opcode
/// variants, cells of the model and instructions, nearly all of them generated code.
#[test]
fn coverage_counts_frames() {
    let coverage = measure_frames(&differential(ZksyncVm2(None)), 1, 40);
    assert_eq!(coverage.samples, 40);
    let (not_emitted, not_executed) = coverage.gaps();
    assert!(not_emitted.len() < 25, "never emitted: {not_emitted:?}");
    assert!(not_executed.len() < 30, "never executed: {not_executed:?}");
    let (_, reached) = coverage.cells_reached();
    assert!(reached.len() > 200, "{} cells reached", reached.len());
    let generated = coverage.regions[&Region::Generated];
    let executed: u64 = coverage.executed.values().sum();
    // Opcodes are counted in the programs only, each instruction once.
    assert!(generated >= 40 * 30, "{generated} generated instructions");
    assert!(executed <= generated, "{executed} counted of {generated}");
}

#[test]
fn frame_engines_are_found_by_name() {
    for name in ["zk_evm", "zksync_vm2", "zksync_vm2+step_fault:heap_word"] {
        assert_eq!(frame_engine(name).unwrap().name(), name);
    }
    assert!(frame_engine("vm_fast").is_none());
}

fn frame_vectors() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/frames");
    batch_files_in(&dir).unwrap()
}

fn load_frame(path: &std::path::Path) -> FrameFile {
    match load_input_file(path).unwrap() {
        InputFile::Frame(file) => file,
        InputFile::Batch(_) => panic!("{}: not a frame file", path.display()),
    }
}

/// Every frame vector shows the cause it declares (or agreement), and a frame vector that shares
/// a cause with a batch vector shares its explanation: the mechanism is the same at both levels.
#[test]
fn frame_vectors_show_their_expected_causes() {
    let files = frame_vectors();
    assert!(files.len() >= 6, "{} frame vectors", files.len());
    let batch_level = KnownDivergences::declared_in(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors"),
    )
    .unwrap();
    let differential = differential(ZksyncVm2(None));
    let mut failures = vec![];
    for path in &files {
        let file = load_frame(path);
        let frame = file.prepare().unwrap();
        let comparison = differential.run(&frame, &Observe::default());
        let found = comparison.cause.as_ref().map(|cause| &cause.fingerprint);
        match (&file.expect, found) {
            (None | Some(Expectation::Equal), None) => {}
            (Some(Expectation::Divergence { key, why }), Some(found)) if key == found => {
                if let Some(known) = batch_level.0.get(key) {
                    assert_eq!(known, why, "{}: another why for {key}", path.display());
                }
            }
            (expected, _) => failures.push(format!(
                "{}: expected {expected:?}, found {:?}",
                path.display(),
                comparison.cause.as_ref().map(|cause| cause.summary())
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Golden outputs of the frame vectors: what zk_evm's entry frame leaves behind, as YAML.
#[test]
fn frame_outcomes_match_golden_snapshots() {
    for path in frame_vectors() {
        let frame = load_frame(&path).prepare().unwrap();
        let observed = ZkEvm.run_frame(&frame, &Observe::default());
        let name = format!("frame_{}", path.file_stem().unwrap().to_str().unwrap());
        insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, serde_yaml::to_string(&observed.outcome).unwrap());
        });
    }
}

/// Lifting: a frame finding whose cause user transactions reach (a user program forwarding the
/// null pointer with `ret.ok`) shows the same cause at batch level; one that only a frame shows
/// does not: a kernel program at 0x4001 emits an event, which zk_evm records and vm2 drops (it
/// records events only at the event writer, 0x800D), while at batch level vm_latest keeps only
/// the event writer's events too, so the engines agree there.
#[test]
fn lifted_findings_say_whether_the_batch_level_shows_them() {
    let world = eravm_diff::world::default_world();
    let batch_level = eravm_diff::pipeline::Differential::new(
        world,
        eravm_diff::engine::VmLatest,
        eravm_diff::engine::VmFast,
    );
    let frames = differential(ZksyncVm2(None));
    let cause_of = |file: &FrameFile| {
        let frame = file.prepare().unwrap();
        let comparison = frames.run(&frame, &Observe::default());
        comparison
            .cause
            .expect("diverges at frame level")
            .fingerprint
    };

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors/frames/known_ret_forward_null_pointer.yaml");
    let reached = load_frame(&path);
    let key = cause_of(&reached);
    let lifted = lift(&reached, &key, &batch_level).unwrap();
    assert_eq!(lifted.reach, Reach::Same, "{key}");

    let mut event = reached.clone();
    event.contracts[1].address = Address::from_low_u64_be(0x4001);
    event.contracts[1].assembly =
        Some("\t.text\n__entry:\n\tlog.event r2, r3, r0\n\tret.ok r0\n".into());
    let entry = event.contracts[0].assembly.take().unwrap();
    event.contracts[0].assembly = Some(entry.replace("789985", "16385"));
    let key = cause_of(&event);
    let lifted = lift(&event, &key, &batch_level).unwrap();
    assert_eq!(lifted.reach, Reach::Agree, "{key}");
    assert!(
        (lifted.batch.description.as_deref().unwrap()).contains("agree at batch level"),
        "{:?}",
        lifted.batch.description
    );
}
