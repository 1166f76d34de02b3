//! Frame-level outcomes compared, field by field, and the cause of a frame-level divergence:
//! the first diverging instruction, as at batch level, or the first differing field when every
//! instruction agreed.

use std::{collections::BTreeSet, fmt};

use super::{
    cause::{Cause, CauseKind, CodeAt},
    explain::Explanation,
    steps::localize,
    tolerance::Tolerances,
};
use crate::{frame::FrameOutcome, steps::StepTrace};

/// One field in which two frame outcomes differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameDifference {
    /// `result`, `ergs_left`, `storage`, `events`, `l2_to_l1`, `panic`.
    pub field: &'static str,
    /// Where in the field (`[0x…c0de, 0x…01]` for a storage slot, `[2]` for a log).
    pub at: String,
    pub reference: String,
    pub candidate: String,
}

impl fmt::Display for FrameDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: {} vs {}",
            self.field, self.at, self.reference, self.candidate
        )
    }
}

/// Where `reference` and `candidate` differ: the list of what a frame leaves behind.
pub fn compare_frames(reference: &FrameOutcome, candidate: &FrameOutcome) -> Vec<FrameDifference> {
    let mut differences = vec![];
    let mut differ = |field, at: String, a: String, b: String| {
        if a != b {
            differences.push(FrameDifference {
                field,
                at,
                reference: a,
                candidate: b,
            });
        }
    };
    differ(
        "panic",
        String::new(),
        shown(reference.panic.as_ref()),
        shown(candidate.panic.as_ref()),
    );
    let result = |outcome: &FrameOutcome| {
        outcome
            .result
            .as_ref()
            .map_or("none".into(), ToString::to_string)
    };
    differ(
        "result",
        String::new(),
        result(reference),
        result(candidate),
    );
    differ(
        "ergs_left",
        String::new(),
        reference.ergs_left.to_string(),
        candidate.ergs_left.to_string(),
    );
    let slots: BTreeSet<_> = reference
        .storage
        .keys()
        .chain(candidate.storage.keys())
        .collect();
    for slot in slots {
        let (a, b) = (reference.storage.get(slot), candidate.storage.get(slot));
        differ(
            "storage",
            format!("[{:?}, {}]", slot.0, slot.1),
            shown(a),
            shown(b),
        );
    }
    for (field, a, b) in [
        ("events", &reference.events, &candidate.events),
        ("l2_to_l1", &reference.l2_to_l1, &candidate.l2_to_l1),
    ] {
        for index in 0..a.len().max(b.len()) {
            let (x, y) = (a.get(index), b.get(index));
            differ(field, format!("[{index}]"), shown(x), shown(y));
        }
    }
    differences
}

fn shown<T: fmt::Debug>(value: Option<&T>) -> String {
    value.map_or_else(|| "none".to_owned(), |value| format!("{value:?}"))
}

/// The cause of a frame-level divergence: the first step at which the traces differ (after
/// tolerances), else the first differing field of the outcomes; with the aligned steps around
/// the cause. `None` if nothing differs.
pub fn frame_cause(
    traces: (Option<&StepTrace>, Option<&StepTrace>),
    differences: &[FrameDifference],
    tolerances: Tolerances,
    code: CodeAt<'_>,
) -> Option<Explanation> {
    if let (Some(reference), Some(candidate)) = traces {
        let localized = localize(reference, candidate, tolerances, code, None);
        if let Some(cause) = localized.cause {
            return Some(Explanation {
                cause,
                tolerated_only: false,
                window: localized.window,
            });
        }
    }
    let first = differences.first()?;
    Some(Explanation {
        cause: Cause::new("outcome".into(), first.field.into(), CauseKind::Value),
        tolerated_only: false,
        window: vec![],
    })
}
