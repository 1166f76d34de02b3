//! Frame level: programs straight on zk_evm and zksync_vm2, compared step by step.

use arbitrary::Unstructured;
use eravm_diff::{
    divergence::tolerance::Tolerances,
    engine::{
        fault::StepFault,
        frame::{frame_engine, ZkEvm, ZksyncVm2},
        Observe,
    },
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

/// A step fault is named at the instruction it strikes, at frame level too: the heap word at its
/// store.
#[test]
fn a_step_fault_is_named_at_its_instruction() {
    let frame = one_program("\tnop\n\tadd 9, r0, r3\n\tst.1 64, r3\n\tld.1 64, r4\n\tret.ok r0\n");
    for (fault, instruction, component) in [
        (StepFault::HeapWord, "UMA(HeapWrite)", "stored.value"),
        (StepFault::Register, "Nop(NopOpcode)", "r2"),
        (StepFault::Flag, "Nop(NopOpcode)", "flags.eq"),
        (StepFault::Ergs, "Nop(NopOpcode)", "ergs"),
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

/// Generated frames: every one runs on both engines without an engine panic, and most agree
/// step for step.
#[test]
fn generated_frames_mostly_agree() {
    let differential = differential(ZksyncVm2(None));
    let (mut agree, mut steps, mut returned) = (0, 0, 0);
    for sample in 0..40 {
        let bytes = seeded_bytes(1, sample, 8192);
        let frame = frame(&mut Unstructured::new(&bytes)).unwrap();
        frame.check().unwrap();
        let comparison = differential.run(&frame, &Observe::default());
        for observed in [&comparison.reference, &comparison.candidate] {
            assert!(
                observed.outcome.result.is_some(),
                "sample {sample}: {:?}",
                observed.outcome.panic
            );
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

#[test]
fn frame_engines_are_found_by_name() {
    for name in ["zk_evm", "zksync_vm2", "zksync_vm2+step_fault:heap_word"] {
        assert_eq!(frame_engine(name).unwrap().name(), name);
    }
    assert!(frame_engine("vm_fast").is_none());
}
