//! Findings: divergences already explained by the regression vectors, and new ones written as
//! batch files that reproduce them.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use crate::{
    divergence::Divergence,
    error::InputError,
    pipeline::Comparison,
    spec::{batch_files_in, load_batch_file, write_batch_file, BatchFile, Expectation},
    steps::cause::Cause,
};

/// Divergences the vectors declare: cause fingerprint (or, in files written before causes, symptom
/// fingerprint) → one-line explanation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDivergences(pub HashMap<String, String>);

impl KnownDivergences {
    /// The divergences the batch files in `dir` declare (`expect: {cause, why}`).
    pub fn declared_in(dir: &Path) -> Result<Self, InputError> {
        let mut known = HashMap::new();
        for path in batch_files_in(dir)? {
            if let Some(Expectation::Divergence { key, why }) = load_batch_file(&path)?.expect {
                known.insert(key, why);
            }
        }
        Ok(Self(known))
    }

    /// The divergences the vectors declared when this crate was built (for fuzz-target binaries,
    /// which may run where the sources are not).
    pub fn embedded() -> Self {
        Self(
            KNOWN_DIVERGENCES
                .iter()
                .map(|&(key, why)| (key.to_owned(), why.to_owned()))
                .collect(),
        )
    }

    /// The explanation of `disagreement`, if it is known: by its cause, or by its symptom.
    pub fn why(&self, disagreement: &Disagreement) -> Option<&str> {
        let symptom = disagreement
            .divergence
            .as_ref()
            .map(|divergence| divergence.fingerprint.as_str());
        [Some(disagreement.key()), symptom]
            .into_iter()
            .flatten()
            .find_map(|key| self.0.get(key))
            .map(String::as_str)
    }

    /// Whether a vector declares `disagreement` (by its cause, or by its symptom).
    pub fn explains(&self, disagreement: &Disagreement) -> bool {
        self.why(disagreement).is_some()
    }
}

include!(concat!(env!("OUT_DIR"), "/known_divergences.rs"));

/// Why two engines disagree on a batch.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// How the outcomes differ, if they do (its fingerprint names the symptom).
    pub divergence: Option<Divergence>,
    /// What it comes from: named for every divergence (see [`Comparison::explanation`]).
    pub cause: Option<Cause>,
}

impl Disagreement {
    /// The disagreement `comparison` shows, if any.
    pub fn of(comparison: Comparison) -> Option<Self> {
        comparison.key()?;
        Some(Self {
            divergence: comparison.divergence,
            cause: comparison.explanation.map(|explanation| explanation.cause),
        })
    }

    /// What identifies it: its cause's fingerprint (the symptom's only if the cause could not
    /// be named, as [`Comparison::key`]).
    pub fn key(&self) -> &str {
        match (&self.cause, &self.divergence) {
            (Some(cause), _) => &cause.fingerprint,
            (None, Some(divergence)) => &divergence.fingerprint,
            (None, None) => unreachable!("a disagreement has a cause or a divergence"),
        }
    }

    /// Where it shows first: the divergence's first point, or `Steps` when only steps differ.
    pub fn first(&self) -> String {
        self.divergence.as_ref().map_or_else(
            || "Steps".to_owned(),
            |divergence| format!("{:?}", divergence.first),
        )
    }

    /// What it is, one line each: the cause, then the symptom (the outcome fields that differ),
    /// if the outcomes differ.
    pub fn signature(&self) -> Vec<String> {
        let cause = self.cause.as_ref().map(|cause| cause.summary());
        let symptom = self.divergence.as_ref().map(|divergence| {
            format!(
                "symptom {}: {}",
                divergence.fingerprint,
                divergence.signature.join("; ")
            )
        });
        cause.into_iter().chain(symptom).collect()
    }
}

/// Labels `file` with its origin and a description of `disagreement`, and writes it atomically
/// to `dir` as `<key>.yaml`.
pub fn write_finding(
    dir: &Path,
    file: &mut BatchFile,
    origin: String,
    disagreement: &Disagreement,
) -> std::io::Result<PathBuf> {
    file.origin = Some(origin);
    file.description = Some(describe(disagreement));
    let path = dir.join(format!("{}.yaml", disagreement.key()));
    write_batch_file(&path, file)?;
    Ok(path)
}

/// A one-paragraph description of an unexplained disagreement, for a batch file.
pub fn describe(disagreement: &Disagreement) -> String {
    let cause = disagreement.cause.as_ref().map_or_else(
        || format!("Unexplained divergence {}", disagreement.key()),
        |cause| {
            format!(
                "Unexplained cause {}: {}",
                cause.fingerprint,
                cause.summary()
            )
        },
    );
    let symptom = match &disagreement.divergence {
        Some(divergence) => format!(
            "Symptom {} (first: {:?}): {}.",
            divergence.fingerprint,
            divergence.first,
            divergence.signature.join("; ")
        ),
        None => "The outcomes agree: only the steps differ.".to_owned(),
    };
    format!(
        "{cause}. {symptom} Add `expect: {{cause, why}}` with a one-line explanation once it is \
         understood."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_known_divergences_match_the_vectors() {
        let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
        assert_eq!(
            KnownDivergences::embedded(),
            KnownDivergences::declared_in(&vectors).unwrap()
        );
    }
}
