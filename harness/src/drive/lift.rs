//! Lifting a frame-level finding to the batch level: the frame's programs deployed as contracts,
//! its entry called by an L2 transaction ([`FrameFile::lift`]), run through the bootloader with
//! every instruction recorded. Whether the same cause shows there tells a bug that user
//! transactions reach from one that only a frame's set-up shows.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use crate::{
    batch_file::{write_batch_file, write_frame_file, BatchFile, FrameFile},
    divergence::cause::Cause,
    pipeline::{Differential, RunOptions},
    support::error::InputError,
};

/// What a lifted frame shows at batch level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The same cause: user transactions reach it.
    Same,
    /// Another cause (its fingerprint and summary).
    Other { cause: String, summary: String },
    /// The engines agree on the batch, steps included.
    Agree,
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Same => f.write_str("the same cause at batch level"),
            Self::Other { cause, summary } => {
                write!(f, "another cause at batch level: {cause} ({summary})")
            }
            Self::Agree => f.write_str("the engines agree at batch level"),
        }
    }
}

/// A frame lifted to a batch, and what the batch shows.
#[derive(Debug, Clone)]
pub struct Lifted {
    pub batch: BatchFile,
    pub reach: Reach,
}

/// Lifts `file`, whose frame-level cause is `key`, and runs it on `differential`.
pub fn lift(
    file: &FrameFile,
    key: &str,
    differential: &Differential,
) -> Result<Lifted, InputError> {
    let mut batch = file.lift();
    let comparison = differential.run_file(&batch, &RunOptions::TRACED)?;
    let reach = match comparison.explanation.map(|explanation| explanation.cause) {
        Some(cause) if cause.fingerprint == key => Reach::Same,
        Some(cause) => Reach::Other {
            summary: cause.summary(),
            cause: cause.fingerprint,
        },
        None => Reach::Agree,
    };
    batch.description = Some(format!("The frame of {key}, lifted to a batch: {reach}."));
    Ok(Lifted { batch, reach })
}

/// Labels `file`, a frame whose divergence `cause` no vector declares, with its origin and the
/// cause, and writes it atomically to `dir` as `<cause>.yaml`; then, if `differential` is given,
/// lifts it and writes the batch beside it as `<cause>.batch.yaml`. Returns the frame file's
/// path and what the batch level shows.
pub fn write_frame_finding(
    dir: &Path,
    file: &mut FrameFile,
    origin: String,
    cause: &Cause,
    differential: Option<&Differential>,
) -> std::io::Result<(PathBuf, Option<Reach>)> {
    file.origin = Some(origin);
    file.description = Some(format!(
        "Unexplained cause {}: {}. Add `expect: {{cause, why}}` with a one-line explanation once \
         it is understood.",
        cause.fingerprint,
        cause.summary()
    ));
    let path = dir.join(format!("{}.yaml", cause.fingerprint));
    write_frame_file(&path, file)?;
    let Some(differential) = differential else {
        return Ok((path, None));
    };
    let lifted = lift(file, &cause.fingerprint, differential).map_err(std::io::Error::other)?;
    let batch = dir.join(format!("{}.batch.yaml", cause.fingerprint));
    write_batch_file(&batch, &lifted.batch)?;
    Ok((path, Some(lifted.reach)))
}
