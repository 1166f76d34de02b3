//! Findings: divergences already explained by the regression vectors, and new ones written as
//! batch files that reproduce them.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use crate::{
    divergence::Divergence,
    error::InputError,
    pipeline::{Comparison, Differential},
    spec::{batch_files_in, load_batch_file, write_batch_file, BatchFile, Expectation},
    steps::cause::Cause,
};

/// Divergences the vectors declare: fingerprint → one-line explanation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDivergences(pub HashMap<String, String>);

impl KnownDivergences {
    /// The divergences the batch files in `dir` declare (`expect: {divergence, why}`).
    pub fn declared_in(dir: &Path) -> Result<Self, InputError> {
        let mut known = HashMap::new();
        for path in batch_files_in(dir)? {
            if let Some(Expectation::Divergence { fingerprint, why }) =
                load_batch_file(&path)?.expect
            {
                known.insert(fingerprint, why);
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
                .map(|&(fingerprint, why)| (fingerprint.to_owned(), why.to_owned()))
                .collect(),
        )
    }

    /// The explanation of `divergence`, if it is known.
    pub fn why(&self, divergence: &Divergence) -> Option<&str> {
        self.0.get(&divergence.fingerprint).map(String::as_str)
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.0.contains_key(fingerprint)
    }
}

include!(concat!(env!("OUT_DIR"), "/known_divergences.rs"));

/// Why two engines disagree on a batch.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// What identifies it: the divergence's fingerprint, or, when only the steps differ (the
    /// steps oracle), their cause's.
    pub key: String,
    /// How the outcomes differ, if they do.
    pub divergence: Option<Divergence>,
    /// What it comes from, when known (steps were recorded, or it was explained).
    pub cause: Option<Cause>,
}

impl Disagreement {
    /// The disagreement `comparison` shows, if any.
    pub fn of(comparison: Comparison) -> Option<Self> {
        let key = comparison.key()?.to_owned();
        Some(Self {
            key,
            divergence: comparison.divergence,
            cause: comparison.explanation.map(|explanation| explanation.cause),
        })
    }

    /// With its cause: explained by running `file` again with steps if it has none yet.
    pub fn explained(
        mut self,
        differential: &Differential,
        file: &BatchFile,
    ) -> Result<Self, InputError> {
        if self.cause.is_none() {
            self.cause = differential
                .explain_file(file)?
                .map(|explanation| explanation.cause);
        }
        Ok(self)
    }

    /// Where it shows first: the divergence's first point, or `Steps` when only steps differ.
    pub fn first(&self) -> String {
        self.divergence.as_ref().map_or_else(
            || "Steps".to_owned(),
            |divergence| format!("{:?}", divergence.first),
        )
    }

    /// What the key is computed over: the divergence's signature, or the cause.
    pub fn signature(&self) -> Vec<String> {
        match (&self.divergence, &self.cause) {
            (Some(divergence), _) => divergence.signature.clone(),
            (None, Some(cause)) => vec![cause.summary()],
            (None, None) => vec![],
        }
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
    let path = dir.join(format!("{}.yaml", disagreement.key));
    write_batch_file(&path, file)?;
    Ok(path)
}

/// A one-paragraph description of an unexplained disagreement, for a batch file.
pub fn describe(disagreement: &Disagreement) -> String {
    let cause = disagreement
        .cause
        .as_ref()
        .map_or_else(String::new, |cause| {
            format!(" Cause {}: {}.", cause.fingerprint, cause.summary())
        });
    let what = match &disagreement.divergence {
        Some(divergence) => format!(
            "Unexplained divergence {} (first: {:?}): {}.",
            divergence.fingerprint,
            divergence.first,
            divergence.signature.join("; ")
        ),
        None => format!(
            "Unexplained step difference {} (the outcomes agree).",
            disagreement.key
        ),
    };
    format!("{what}{cause} Add `expect` with a one-line explanation once it is understood.")
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
