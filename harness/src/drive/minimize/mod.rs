//! Minimizing a diverging input while keeping its divergence: delta debugging over the parts
//! of a batch (`batch`) or a frame (`frame`). A reduction is kept only if the divergence keeps
//! the same cause, not merely some divergence.
//!
//! Candidates of one step are evaluated in parallel (rayon); the first one in candidate order
//! that still shows the cause is taken, so the result does not depend on thread timing.

mod batch;
mod frame;

use rayon::prelude::*;

pub use self::{
    batch::{load_input, Minimized, Minimizer, Size},
    frame::{FrameMinimized, FrameMinimizer, FrameSize},
};
use crate::batch_file::ContractSpec;

/// Instructions in assembly text: lines with code that are neither labels nor directives.
pub fn instruction_count(text: &str) -> usize {
    text.lines()
        .map(|line| line.split(';').next().unwrap_or_default().trim())
        .filter(|code| !code.is_empty() && !code.starts_with('.') && !code.ends_with(':'))
        .count()
}

/// Delta debugging over one list of `file`: the items `get` takes out, put back by `set` (which
/// says whether the candidate is well formed). `progress` hears of each kept reduction.
fn pass<F: Clone + Sync, T: Clone + Send + Sync>(
    progress: &(dyn Fn(&str) + Sync),
    what: &str,
    file: F,
    test: &(dyn Fn(&F) -> bool + Sync),
    get: impl Fn(&F) -> Vec<T>,
    set: impl Fn(&mut F, Vec<T>) -> bool + Sync,
) -> F {
    let items = get(&file);
    let before = items.len();
    let build = |items: Vec<T>| {
        let mut candidate = file.clone();
        set(&mut candidate, items).then_some(candidate)
    };
    let kept = ddmin(items, &|items: &[T]| {
        build(items.to_vec()).is_some_and(|c| test(&c))
    });
    if kept.len() < before {
        progress(&format!("{what}: {before} -> {}", kept.len()));
        return build(kept).expect("the kept items were tested");
    }
    file
}

/// [`pass`] over a list of `file` that may shrink to nothing.
fn list_pass<F: Clone + Sync, T: Clone + Send + Sync>(
    progress: &(dyn Fn(&str) + Sync),
    what: &str,
    mut file: F,
    test: &(dyn Fn(&F) -> bool + Sync),
    list: impl Fn(&mut F) -> &mut Vec<T> + Sync,
) -> F {
    let items = list(&mut file).clone();
    pass(
        progress,
        what,
        file,
        test,
        |_| items.clone(),
        |f, kept| {
            *list(f) = kept;
            true
        },
    )
}

/// Delta debugging (complements only): the smallest sublist found for which `test` holds.
/// Complements of one granularity are tested in parallel; the first success in order wins.
fn ddmin<T: Clone + Send + Sync>(
    mut items: Vec<T>,
    test: &(dyn Fn(&[T]) -> bool + Sync),
) -> Vec<T> {
    if !items.is_empty() && test(&[]) {
        return vec![];
    }
    let mut chunks = 2;
    while items.len() >= 2 {
        let size = items.len().div_ceil(chunks);
        let starts: Vec<usize> = (0..items.len()).step_by(size).collect();
        let without = |start: usize| -> Vec<T> {
            let end = (start + size).min(items.len());
            items[..start]
                .iter()
                .chain(&items[end..])
                .cloned()
                .collect()
        };
        let found = starts
            .par_iter()
            .position_first(|&start| test(&without(start)));
        match found {
            Some(index) => {
                items = without(starts[index]);
                chunks = (chunks - 1).max(2);
            }
            None if chunks >= items.len() => break,
            None => chunks = (chunks * 2).min(items.len()),
        }
    }
    items
}

/// The removable lines of a contract's assembly: everything but section directives.
/// The origin of a minimized input: `origin`, then by which `engines` and from what `size`.
fn minimized_origin(origin: Option<&str>, engines: &str, size: &impl std::fmt::Display) -> String {
    format!(
        "{}; minimized ({engines}) from {size}",
        origin.unwrap_or("unknown origin")
    )
}

fn code_lines(contract: &ContractSpec) -> Vec<String> {
    (contract.assembly.as_deref().unwrap_or_default().lines())
        .filter(|line| !is_section(line))
        .map(str::to_owned)
        .collect()
}

/// Rebuilds a contract's assembly from kept lines, with its sections in their original places.
fn set_code_lines(contract: &mut ContractSpec, kept: Vec<String>) -> bool {
    let Some(text) = contract.assembly.as_deref() else {
        return kept.is_empty();
    };
    let mut kept = kept.into_iter().peekable();
    let mut rebuilt = String::new();
    for line in text.lines() {
        if is_section(line) {
            rebuilt.push_str(line);
            rebuilt.push('\n');
        } else if kept.peek().is_some_and(|next| next == line) {
            rebuilt.push_str(&kept.next().expect("peeked"));
            rebuilt.push('\n');
        }
    }
    contract.assembly = Some(rebuilt);
    true
}

fn is_section(line: &str) -> bool {
    let code = line.trim_start();
    code.starts_with(".text") || code.starts_with(".rodata") || code.starts_with(".data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_two_needed_items() {
        let items: Vec<u32> = (0..40).collect();
        let kept = ddmin(items, &|items: &[u32]| {
            items.contains(&3) && items.contains(&31)
        });
        assert_eq!(kept, [3, 31]);
        assert_eq!(ddmin(vec![1, 2], &|_| true), Vec::<u32>::new());
        assert_eq!(ddmin(vec![1, 2], &|items: &[u32]| items.len() == 2), [1, 2]);
    }

    #[test]
    fn instruction_count_skips_labels_directives_and_comments() {
        let text = "    .rodata\nK:\n    .cell 1\n    .text\nmain: ; entry\n    add 1, r0, r2\n; note\n    ret.ok r0\n";
        assert_eq!(instruction_count(text), 2);
    }
}
