//! Lifting a frame-level finding to the batch level: the frame's programs deployed as contracts,
//! its entry called by an L2 transaction ([`FrameFile::lift`]), run through the bootloader with
//! every instruction recorded. Whether the same cause shows there tells a bug that user
//! transactions reach from one that only a frame's set-up shows.

use std::fmt;

use crate::{
    batch_file::{BatchFile, FrameFile},
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
