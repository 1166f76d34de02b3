//! The explain policy: the cause of a divergence from the engines' step traces, compared step
//! by step (`divergence/steps/`), or at outcome level when the traces agree or are missing; and
//! whether tolerated differences alone explain it.

use serde::Serialize;

use super::{
    cause::{Cause, CauseKind, CodeAt},
    steps::localize,
    tolerance::Tolerances,
    DiffKind, Divergence,
};
use crate::steps::{Step, StepTrace};

/// Why two engines disagree: the cause, with the aligned steps of both engines around it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub cause: Cause,
    /// Whether only tolerated differences separate the engines' steps, so the divergence is
    /// explained by them.
    pub tolerated_only: bool,
    /// (index in the transaction's execution, reference step, candidate step).
    pub window: Vec<(usize, Option<Step>, Option<Step>)>,
}

/// The cause of `divergence` (if the outcomes differ) from the engines' step traces (`None`
/// where an engine could not record them): the first differing step, up to the first diverging
/// transaction (a cause comes before its first effect: a later step that differs follows from
/// work outside instructions, such as a refund, in that transaction); else, if tolerated
/// differences were met and explain the outcomes, those; else the outcome-level field group.
/// `None` when the outcomes agree and so do the steps. `code` finds the programs the steps ran.
pub fn explain(
    traces: (Option<&StepTrace>, Option<&StepTrace>),
    divergence: Option<&Divergence>,
    tolerances: Tolerances,
    code: CodeAt<'_>,
) -> Option<Explanation> {
    let (Some(reference), Some(candidate)) = traces else {
        return divergence.map(|divergence| Explanation {
            cause: Cause::outcome_level(divergence),
            tolerated_only: false,
            window: vec![],
        });
    };
    let last_transaction = divergence.and_then(Divergence::first_transaction);
    let localized = localize(reference, candidate, tolerances, code, last_transaction);
    let Some(divergence) = divergence else {
        return localized.cause.map(|cause| Explanation {
            cause,
            tolerated_only: false,
            window: localized.window,
        });
    };
    // Every instruction agreed, up to tolerated differences: they explain the divergence only
    // if the outcome differs in nothing but words that hold the same pages (a page number that
    // kernel code stored, say); anything else is an outcome-level cause.
    let explained_by_tolerances = !localized.tolerated.is_empty()
        && divergence.first_group().is_some()
        && divergence.first_differences().all(|difference| {
            difference.kind == DiffKind::Value
                && difference.words.as_ref().is_some_and(|(a, b)| {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| x == y || localized.comparer.same_but_page(x, y))
                })
        });
    let (cause, tolerated_only) = match localized.cause {
        Some(cause) => (cause, false),
        None if explained_by_tolerances => {
            let (tolerance, _) = localized.tolerated[0];
            let mut cause = Cause::new(
                "tolerated".into(),
                tolerance.name().into(),
                CauseKind::Value,
            );
            cause.tolerated = localized.tolerated.clone();
            (cause, true)
        }
        None => {
            let mut cause = Cause::outcome_level(divergence);
            cause.tolerated = localized.tolerated.clone();
            (cause, false)
        }
    };
    Some(Explanation {
        cause,
        tolerated_only,
        window: localized.window,
    })
}

/// The first step at which two traces differ, after tolerances (`None` if none does).
pub fn first_difference(
    reference: &StepTrace,
    candidate: &StepTrace,
    tolerances: Tolerances,
    code: CodeAt<'_>,
) -> Option<Cause> {
    localize(reference, candidate, tolerances, code, None).cause
}
