//! Aligning two traces: execution by execution (one per transaction run), then step by step
//! within each, up to the first difference.

use super::{compare::Comparer, taint::Known};
use crate::{
    divergence::{
        cause::{Cause, CauseKind, CodeAt},
        tolerance::{Tolerance, Tolerances, Tolerated},
    },
    steps::{Segment, Step, StepTrace},
};

/// The first difference between two step traces, with the aligned steps around it.
#[derive(Debug, Clone)]
pub(crate) struct Localized {
    /// `None` when the traces agree (after tolerances).
    pub(crate) cause: Option<Cause>,
    /// Tolerated differences over the compared steps.
    pub(crate) tolerated: Vec<(Tolerance, u64)>,
    pub(crate) window: Vec<(usize, Option<Step>, Option<Step>)>,
    /// What the comparison learnt: each engine's pages.
    pub(crate) comparer: Comparer,
}

/// Steps shown before and after the cause.
const WINDOW: usize = 6;

/// Compares two traces step by step, up to `last_transaction` if given.
pub(crate) fn localize(
    reference: &StepTrace,
    candidate: &StepTrace,
    tolerances: Tolerances,
    code: CodeAt<'_>,
    last_transaction: Option<usize>,
) -> Localized {
    let mut comparer = Comparer {
        tolerances,
        known: Known::default(),
        tolerated: Tolerated::default(),
    };
    let segments = reference.segments.len().max(candidate.segments.len());
    for index in 0..segments {
        let (a, b) = (reference.segments.get(index), candidate.segments.get(index));
        let past = |segment: Option<&Segment>| {
            segment.is_none_or(|s| last_transaction.is_some_and(|last| s.transaction > last))
        };
        if past(a) && past(b) {
            break;
        }
        let (Some(a), Some(b)) = (a, b) else {
            let (transaction, kind) = match (a, b) {
                (Some(a), _) => (a.transaction, CauseKind::Missing),
                (_, Some(b)) => (b.transaction, CauseKind::Extra),
                _ => unreachable!("one side has the segment"),
            };
            let mut cause = Cause::new("execution".into(), "transaction".into(), kind);
            cause.transaction = Some(transaction);
            return finish(comparer, Some(cause), vec![]);
        };
        if a.transaction != b.transaction {
            // One engine runs a transaction again (or one the other skipped) where the other
            // goes on to the next: named like an execution at the end of one trace.
            let (transaction, kind) = if a.transaction < b.transaction {
                (a.transaction, CauseKind::Missing)
            } else {
                (b.transaction, CauseKind::Extra)
            };
            let mut cause = Cause::new("execution".into(), "transaction".into(), kind);
            cause.transaction = Some(transaction);
            return finish(comparer, Some(cause), vec![]);
        }
        let before = comparer.known.clone();
        for step in 0..a.steps.len().max(b.steps.len()) {
            let (x, y) = (a.steps.get(step), b.steps.get(step));
            let next = (a.steps.get(step + 1), b.steps.get(step + 1));
            // The stack pointer before the step: where the previous one left it.
            let sp = step
                .checked_sub(1)
                .and_then(|i| a.steps.get(i))
                .map(|s| s.sp);
            let Some((instruction, mut component, kind)) = comparer.step((x, y), next, sp, code)
            else {
                continue;
            };
            // A trace cut short by a panic in the engine's code is named by where it panicked.
            if x.is_none() || y.is_none() {
                let ended = if y.is_none() { candidate } else { reference };
                if let Some(at) = &ended.panicked_at {
                    component = format!("trace end (panic at {at})");
                }
            }
            let at = x.or(y).expect("one side has the step");
            let mut cause = Cause::new(instruction, component, kind);
            cause.transaction = Some(a.transaction);
            cause.step = Some(step);
            cause.contract = Some(at.contract);
            cause.pc = at.pc;
            cause.depth = Some(at.depth);
            let window = (step.saturating_sub(WINDOW)..=step + WINDOW)
                .filter(|&i| i < a.steps.len() || i < b.steps.len())
                .map(|i| (i, a.steps.get(i).cloned(), b.steps.get(i).cloned()))
                .collect();
            return finish(comparer, Some(cause), window);
        }
        if a.rolled_back {
            comparer.known = before;
        }
    }
    finish(comparer, None, vec![])
}

/// What the comparison of two traces comes to: the cause if there is one (with the tolerated
/// differences met on the way), and the aligned steps around it.
fn finish(
    comparer: Comparer,
    cause: Option<Cause>,
    window: Vec<(usize, Option<Step>, Option<Step>)>,
) -> Localized {
    let tolerated = comparer.tolerated.list();
    Localized {
        cause: cause.map(|cause| Cause {
            tolerated: tolerated.clone(),
            ..cause
        }),
        tolerated,
        window,
        comparer,
    }
}
