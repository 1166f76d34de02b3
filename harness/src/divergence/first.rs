//! Where two outcomes first part ways, and the fingerprint taken there: a panic on one side (by
//! stage and source location), else the first diverging transaction, else the batch sealing.
//! Within that unit only the first field group that differs counts, with indices and keys as
//! `*`: the same bug in another transaction or slot has the same fingerprint, and differences
//! that follow from the first one are reported but do not change it.

use std::collections::BTreeSet;

use super::{Difference, FirstDivergence, Unit};
use crate::outcome::{Outcome, ProcessFault, Stage, VmPanic};

/// The first point of divergence and the signature lines the fingerprint is computed over.
pub(super) fn first_divergence(
    reference: &Outcome,
    candidate: &Outcome,
    differences: &[Difference],
) -> (FirstDivergence, Vec<String>) {
    if reference.panic != candidate.panic {
        let stage = [&reference.panic, &candidate.panic]
            .into_iter()
            .flatten()
            .map(|panic| panic.stage)
            .min()
            .expect("one side panicked");
        let signature = vec![
            panic_line("reference", reference.panic.as_ref()),
            panic_line("candidate", candidate.panic.as_ref()),
        ];
        return (FirstDivergence::Panic { stage }, signature);
    }
    // Without a panic the outcomes differ in a transaction or the batch; run-level differences
    // alone (transaction counts) name the divergence only if nothing else differs.
    let unit = differences
        .iter()
        .map(|difference| difference.unit)
        .filter(|unit| *unit != Unit::Run)
        .min()
        .unwrap_or(Unit::Run);
    let first = match unit {
        Unit::Transaction(index) => FirstDivergence::Transaction(index),
        _ => FirstDivergence::FinishBatch,
    };
    let in_unit = || {
        differences
            .iter()
            .filter(move |difference| difference.unit == unit)
    };
    let group = in_unit()
        .map(|difference| difference.group)
        .min()
        .expect("the first diverging unit has a difference");
    let signature: BTreeSet<String> = in_unit()
        .filter(|difference| difference.group == group)
        .map(|difference| {
            let mut line = format!("{}: {}", difference.pattern, difference.kind);
            if let Some((reference, candidate)) = &difference.variants {
                line.push_str(&format!(" {reference} -> {candidate}"));
            }
            line
        })
        .collect();
    (first, signature.into_iter().collect())
}

/// `reference: panic in transaction at zksync_vm2/src/vm.rs:154`: stage kind and location, never
/// the message (it may hold values).
fn panic_line(side: &str, panic: Option<&VmPanic>) -> String {
    let Some(panic) = panic else {
        return format!("{side}: no panic");
    };
    let stage = match panic.stage {
        Stage::NewVm => "new_vm",
        Stage::Transaction(_) => "transaction",
        Stage::FinishBatch => "finish_batch",
        Stage::EngineProcess(ProcessFault::Exited) => "engine process (exited)",
        Stage::EngineProcess(ProcessFault::Hung) => "engine process (hung)",
        Stage::EngineProcess(ProcessFault::Garbage) => "engine process (garbage)",
    };
    let location = panic
        .location
        .as_ref()
        .map_or_else(|| "unknown location".to_owned(), ToString::to_string);
    format!("{side}: panic in {stage} at {location}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{divergence::compare, support::panic_guard::PanicLocation};

    /// A vm2 panic seen from a registry build, a `[patch]`ed working copy and a git checkout of
    /// the same crate: one fingerprint.
    #[test]
    fn panic_fingerprint_does_not_depend_on_where_the_crate_lives() {
        let roots = [
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/zksync_vm2-0.5.0",
            "/home/me/src/vm2/crates/vm2",
            "/root/.cargo/git/checkouts/vm2-3ab1c0e3f2a1b4d5/457d8a7/crates/vm2",
        ];
        let fingerprints: BTreeSet<String> = roots
            .iter()
            .map(|root| {
                let location = PanicLocation::resolve(
                    &format!("{root}/src/vm.rs"),
                    154,
                    "/work/eravm-diff",
                    &[
                        (root, "zksync_vm2"),
                        ("/work/eravm-diff/harness", "eravm-diff"),
                    ],
                );
                let candidate = Outcome {
                    panic: Some(VmPanic {
                        stage: Stage::Transaction(0),
                        message: "index out of bounds".into(),
                        location: Some(location),
                    }),
                    ..Outcome::default()
                };
                let divergence = compare(&Outcome::default(), &candidate).unwrap();
                assert_eq!(
                    divergence.signature,
                    [
                        "reference: no panic",
                        "candidate: panic in transaction at zksync_vm2/src/vm.rs:154"
                    ]
                );
                divergence.fingerprint
            })
            .collect();
        assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    }
}
