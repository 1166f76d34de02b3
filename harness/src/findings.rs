//! Findings: divergences already explained by the regression vectors, and new ones written as
//! batch files that reproduce them.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use crate::{
    divergence::Divergence,
    error::InputError,
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

/// Labels `file` with its origin and a description of `divergence` and its cause, and writes it
/// atomically to `dir` as `<fingerprint>.yaml`.
pub fn write_finding(
    dir: &Path,
    file: &mut BatchFile,
    origin: String,
    divergence: &Divergence,
    cause: &Cause,
) -> std::io::Result<PathBuf> {
    file.origin = Some(origin);
    file.description = Some(describe(divergence, Some(cause)));
    let path = dir.join(format!("{}.yaml", divergence.fingerprint));
    write_batch_file(&path, file)?;
    Ok(path)
}

/// A one-paragraph description of an unexplained divergence (and its cause, if known), for a
/// batch file.
pub fn describe(divergence: &Divergence, cause: Option<&Cause>) -> String {
    let cause = cause.map_or_else(String::new, |cause| {
        format!(" Cause {}: {}.", cause.fingerprint, cause.summary())
    });
    format!(
        "Unexplained divergence {} (first: {:?}): {}.{cause} Add `expect` with a one-line \
         explanation once it is understood.",
        divergence.fingerprint,
        divergence.first,
        divergence.signature.join("; "),
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
