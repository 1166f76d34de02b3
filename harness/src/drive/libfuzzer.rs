//! The bodies of the cargo-fuzz targets (fuzz/fuzz_targets/*.rs call these), kept here so they
//! are unit-tested and usable without libFuzzer.

use std::sync::OnceLock;

use arbitrary::Unstructured;

use crate::{
    batch_file::{parse_input_file, InputFile, PreparedBatch},
    divergence::tolerance::Tolerances,
    engine::{
        frame::{ZkEvm, ZksyncVm2},
        Observe, VmFast, VmLatest,
    },
    findings::{Disagreement, KnownDivergences},
    generate::{self, batch, mutate_dump, GeneratorConfig, Profile},
    pipeline::{Differential, FrameDifferential, RunOptions},
    pubdata::Pubdata,
    report::run::Report,
    support::assembly::{assemble_directly, assemble_with_zkevm_assembly},
    world::{default_world, embedded_dump_path, load_dump, parse_dump, Dump},
};

/// The state every input shares: built once per process.
struct Harness {
    differential: Differential,
    /// The divergences the vectors declared when the crate was built.
    known: KnownDivergences,
    generator: GeneratorConfig,
    dumps: Vec<Dump>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let world = default_world();
        Harness {
            generator: GeneratorConfig {
                profile: Profile::default(),
                ..GeneratorConfig::for_world(&world)
            },
            differential: Differential::new(world, VmLatest, VmFast),
            known: KnownDivergences::embedded(),
            dumps: [
                "estimate_fee_for_transfer_to_self.json",
                "validation_adjacent_storage_slots.json",
            ]
            .map(|name| load_dump(&embedded_dump_path(name)).expect("the package's dumps load"))
            .into(),
        }
    })
}

/// The generator `diff_batch` reads its inputs with (the default profile); its seeds are the
/// files `corpora/diff_batch/zk_evm-*`.
pub fn diff_batch_generator() -> &'static GeneratorConfig {
    &harness().generator
}

/// `diff_batch`: a generated batch on both VMs; an unknown divergence panics with its report.
pub fn diff_batch(data: &[u8]) {
    let harness = harness();
    diff_batch_on(
        data,
        &harness.differential,
        &harness.known,
        &harness.generator,
    );
}

/// [`diff_batch`] on another pipeline (other engines, another world), knowing `known`.
pub fn diff_batch_on(
    data: &[u8],
    differential: &Differential,
    known: &KnownDivergences,
    generator: &GeneratorConfig,
) {
    let Ok(file) = batch(&mut Unstructured::new(data), generator) else {
        return;
    };
    let prepared = file
        .prepare(&differential.world)
        .expect("generated batches are valid in the world they are generated for");
    check(differential, known, "generated batch", &prepared, || {
        serde_yaml::to_string(&file).expect("batch files serialize")
    });
}

/// `diff_frame`: a generated frame straight on zk_evm and zksync_vm2, every instruction
/// compared; a cause no vector declares panics with the frame file.
pub fn diff_frame(data: &[u8]) {
    static FRAMES: OnceLock<(FrameDifferential, KnownDivergences)> = OnceLock::new();
    let (differential, known) = FRAMES.get_or_init(|| {
        let differential = FrameDifferential {
            reference: Box::new(ZkEvm),
            candidate: Box::new(ZksyncVm2(None)),
            tolerances: Tolerances::DEFAULT,
        };
        (differential, KnownDivergences::embedded())
    });
    let Ok(file) = generate::frame(&mut Unstructured::new(data)) else {
        return;
    };
    let frame = file.prepare().expect("generated frames are valid");
    let comparison = differential.run(&frame, &Observe::default());
    let Some(cause) = comparison.cause else {
        return;
    };
    if known.0.contains_key(&cause.fingerprint) {
        return;
    }
    panic!(
        "unexplained frame divergence {}: {}\n{}\nframe:\n{}",
        cause.fingerprint,
        cause.summary(),
        (comparison.differences.iter())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        serde_yaml::to_string(&file).expect("frame files serialize")
    );
}

/// `diff_dump`: a real dump's transactions, mutated, on both VMs.
pub fn diff_dump(data: &[u8]) {
    let harness = harness();
    let mut u = Unstructured::new(data);
    let Ok(dump) = u.choose(&harness.dumps) else {
        return;
    };
    let Ok(batch) = mutate_dump(&mut u, dump) else {
        return;
    };
    let show_input = || format!("{:#?}", batch.blocks);
    let prepared = PreparedBatch::single(dump.world.clone(), batch.clone());
    let (differential, known) = (&harness.differential, &harness.known);
    check(differential, known, "mutated dump", &prepared, show_input);
}

/// `load_inputs`: the YAML (batch and frame files), dump and assembly loaders return errors,
/// never panic; and text the direct assembler takes assembles to zkevm-assembly's bytes.
pub fn load_inputs(data: &[u8]) {
    let _ = parse_dump("fuzz input", data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let reference = assemble_with_zkevm_assembly(text);
    if let Some(direct) = assemble_directly(text) {
        assert_eq!(
            Ok(direct),
            reference,
            "the direct assembler differs from zkevm-assembly"
        );
    }
    match parse_input_file("fuzz input", text) {
        Ok(InputFile::Batch(file)) => {
            let _ = file.prepare(&harness().differential.world);
        }
        Ok(InputFile::Frame(file)) => {
            let _ = file.prepare();
        }
        Err(_) => {}
    }
}

/// `decode_pubdata`: any bytes decode to an error or to pubdata that encodes back to exactly
/// those bytes (the encoding has one form).
pub fn decode_pubdata(data: &[u8]) {
    if let Ok(pubdata) = Pubdata::decode(data) {
        assert_eq!(
            pubdata.encode(),
            data,
            "decoded pubdata encodes back to its bytes"
        );
    }
}

fn check(
    differential: &Differential,
    known: &KnownDivergences,
    what: &str,
    prepared: &PreparedBatch,
    show_input: impl FnOnce() -> String,
) {
    let comparison = differential.run_prepared(prepared, &RunOptions::CONCURRENT);
    if comparison.divergence.is_none() && comparison.da.is_none() {
        return;
    }
    let origin = prepared.world.origin.clone();
    let report = Report::new(what.to_owned(), origin, &comparison, None);
    let disagreement = Disagreement::of(comparison).expect("a divergence or a DA violation");
    if known.explains(&disagreement) {
        return;
    }
    let kind = match disagreement.da {
        Some(_) => "data-availability violation",
        None => "divergence",
    };
    panic!(
        "unexplained {kind}\n{}\ninput:\n{}",
        report.to_text(),
        show_input()
    );
}
