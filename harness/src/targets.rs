//! The bodies of the cargo-fuzz targets (fuzz/fuzz_targets/*.rs call these), kept here so they
//! are unit-tested and usable without libFuzzer.

use std::sync::OnceLock;

use arbitrary::Unstructured;

use crate::{
    assembly::assemble,
    batch::{parse_batch_file, Batch},
    engine::{Engine, VmFast, VmLatest},
    generate::{batch, mutate_dump, GeneratorConfig},
    report::Report,
    runner::run_both,
    world::{default_world, embedded_dump_path, load_dump, parse_dump, Dump, World},
};

include!(concat!(env!("OUT_DIR"), "/known_divergences.rs"));

/// The state every input shares: built once per process.
struct Harness {
    world: World,
    generator: GeneratorConfig,
    dumps: Vec<Dump>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let world = default_world();
        Harness {
            generator: GeneratorConfig::for_world(&world),
            world,
            dumps: [
                "estimate_fee_for_transfer_to_self.json",
                "validation_adjacent_storage_slots.json",
            ]
            .map(|name| load_dump(&embedded_dump_path(name)).expect("the package's dumps load"))
            .into(),
        }
    })
}

/// `diff_batch`: a generated batch on both VMs; an unknown divergence panics with its report.
pub fn diff_batch(data: &[u8]) {
    diff_batch_on(data, &VmLatest, &VmFast);
}

/// [`diff_batch`] with other engines.
pub fn diff_batch_on(data: &[u8], reference: &dyn Engine, candidate: &dyn Engine) {
    let harness = harness();
    let Ok(file) = batch(&mut Unstructured::new(data), &harness.generator) else {
        return;
    };
    let prepared = file
        .prepare(&harness.world)
        .expect("generated batches are valid in the world they are generated for");
    check(
        (reference, candidate),
        "generated batch",
        &prepared.world,
        &prepared.batch,
        || serde_yaml::to_string(&file).expect("batch files serialize"),
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
    check(
        (&VmLatest, &VmFast),
        "mutated dump",
        &dump.world,
        &batch,
        || format!("{:#?}", batch.blocks),
    );
}

/// `load_inputs`: the YAML, dump and assembly loaders return errors, never panic.
pub fn load_inputs(data: &[u8]) {
    let _ = parse_dump("fuzz input", data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = assemble(text);
    if let Ok(file) = parse_batch_file("fuzz input", text) {
        let _ = file.prepare(&harness().world);
    }
}

fn check(
    (reference, candidate): (&dyn Engine, &dyn Engine),
    what: &str,
    world: &World,
    batch: &Batch,
    show_input: impl FnOnce() -> String,
) {
    let comparison = run_both(reference, candidate, world, batch);
    let Some(divergence) = &comparison.divergence else {
        return;
    };
    if KNOWN_DIVERGENCES
        .iter()
        .any(|(fingerprint, _)| *fingerprint == divergence.fingerprint)
    {
        return;
    }
    let report = Report::new(what.to_owned(), world.origin.clone(), &comparison, None);
    panic!(
        "unexplained divergence\n{}\ninput:\n{}",
        report.to_text(),
        show_input()
    );
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path};

    use super::KNOWN_DIVERGENCES;
    use crate::batch::known_divergences;

    #[test]
    fn embedded_known_divergences_match_the_vectors() {
        let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
        let embedded: HashMap<String, String> = KNOWN_DIVERGENCES
            .iter()
            .map(|&(fingerprint, why)| (fingerprint.to_owned(), why.to_owned()))
            .collect();
        assert_eq!(embedded, known_divergences(&vectors).unwrap());
    }
}
