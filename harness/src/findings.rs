//! Findings: divergences already explained by the regression vectors, and new ones written as
//! batch files that reproduce them.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Mutex,
};

use crate::{
    batch_file::{batch_files_in, load_input_file, write_batch_file, BatchFile, Expectation},
    divergence::{cause::Cause, Divergence},
    key,
    pipeline::Comparison,
    pubdata::da::DaFinding,
    support::error::InputError,
};

/// Divergences the vectors declare: cause fingerprint (or, in files written before causes, symptom
/// fingerprint) → one-line explanation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDivergences(pub HashMap<String, String>);

impl KnownDivergences {
    /// The divergences the batch files in `dir` and the frame files in `dir/frames` declare
    /// (`expect: {cause, why}`, in any world).
    pub fn declared_in(dir: &Path) -> Result<Self, InputError> {
        let mut known = HashMap::new();
        let frames = dir.join("frames");
        let mut files = batch_files_in(dir)?;
        if frames.is_dir() {
            files.extend(batch_files_in(&frames)?);
        }
        for path in files {
            for expectation in load_input_file(&path)?.declared() {
                if let Expectation::Divergence { key, why } = expectation {
                    known.insert(key.clone(), why.clone());
                }
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

/// Why two engines disagree on a batch, or why the DA oracle disagrees with them.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// The DA oracle's violations, if any (source `oracle:da`).
    pub da: Option<DaFinding>,
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
            da: comparison.da,
            divergence: comparison.divergence,
            cause: comparison.explanation.map(|explanation| explanation.cause),
        })
    }

    /// What identifies it, as [`Comparison::key`]: the DA violations' fingerprint, else its
    /// cause's (the symptom's only if the cause could not be named).
    pub fn key(&self) -> &str {
        key::by_precedence(
            self.da.as_ref().map(|da| da.fingerprint.as_str()),
            self.cause.as_ref().map(|cause| cause.fingerprint.as_str()),
            (self.divergence.as_ref()).map(|divergence| divergence.fingerprint.as_str()),
        )
        .next()
        .expect("a disagreement has a DA violation, a cause or a divergence")
    }

    /// Where it shows first: `oracle:da` for DA violations, else the divergence's first point,
    /// or `Steps` when only steps differ.
    pub fn first(&self) -> String {
        match (&self.da, &self.divergence) {
            (Some(_), _) => "oracle:da".to_owned(),
            (None, Some(divergence)) => format!("{:?}", divergence.first),
            (None, None) => "Steps".to_owned(),
        }
    }

    /// What it is, one line each: the DA violations, the cause, then the symptom (the outcome
    /// fields that differ), if the outcomes differ.
    pub fn signature(&self) -> Vec<String> {
        let da = self.da.iter().flat_map(DaFinding::lines);
        let cause = self.cause.as_ref().map(|cause| cause.summary());
        let symptom = self.divergence.as_ref().map(|divergence| {
            format!(
                "symptom {}: {}",
                divergence.fingerprint,
                divergence.signature.join("; ")
            )
        });
        da.chain(cause).chain(symptom).collect()
    }
}

/// What a driver makes of a disagreement it met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// A vector declares it: counted, not reported.
    Known,
    /// Its key was met before in this run: not reported again.
    Seen,
    /// A new finding, to write.
    New,
}

/// The keys a run has met and the divergences the vectors declare: what tells a new finding
/// (shared by the threads of a run).
#[derive(Debug)]
pub struct Triager<'a> {
    known: &'a KnownDivergences,
    seen: Mutex<HashSet<String>>,
}

impl<'a> Triager<'a> {
    /// A run that knows `known` and has already met the keys `seen`.
    pub fn new(known: &'a KnownDivergences, seen: impl IntoIterator<Item = String>) -> Self {
        Self {
            known,
            seen: Mutex::new(seen.into_iter().collect()),
        }
    }

    /// Whether `disagreement` is known, seen or new; a new one counts as seen from now on.
    pub fn triage(&self, disagreement: &Disagreement) -> Triage {
        if self.known.explains(disagreement) {
            Triage::Known
        } else if self
            .seen
            .lock()
            .unwrap()
            .insert(disagreement.key().to_owned())
        {
            Triage::New
        } else {
            Triage::Seen
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
    let path = dir.join(format!("{}.yaml", disagreement.key()));
    write_batch_file(&path, file)?;
    Ok(path)
}

/// A one-paragraph description of an unexplained disagreement, for a batch file.
pub fn describe(disagreement: &Disagreement) -> String {
    let mut parts = vec![];
    if let Some(da) = &disagreement.da {
        let lines = da.lines().join("; ");
        parts.push(format!(
            "Data-availability violation {}: {lines}.",
            da.fingerprint
        ));
    }
    match (&disagreement.cause, &disagreement.divergence) {
        (Some(cause), _) => parts.push(format!(
            "Unexplained cause {}: {}.",
            cause.fingerprint,
            cause.summary()
        )),
        (None, Some(divergence)) => parts.push(format!(
            "Unexplained divergence {}.",
            divergence.fingerprint
        )),
        (None, None) => {}
    }
    parts.push(match (&disagreement.divergence, &disagreement.cause) {
        (Some(divergence), _) => format!(
            "Symptom {} (first: {:?}): {}.",
            divergence.fingerprint,
            divergence.first,
            divergence.signature.join("; ")
        ),
        (None, Some(_)) => "The outcomes agree: only the steps differ.".to_owned(),
        (None, None) => "The engines agree with each other.".to_owned(),
    });
    parts.push(
        "Add `expect: {cause, why}` with a one-line explanation once it is understood.".to_owned(),
    );
    parts.join(" ")
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
