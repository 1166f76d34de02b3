//! The field walker: compares two values field by field under a typed path, and records each
//! difference with its path, the unit it belongs to (a transaction, the batch sealing) and the
//! field group that the field lists in [`super::fields`] assign.

use std::{collections::BTreeMap, fmt};

use super::{DiffKind, Difference, FieldGroup, Unit};
use crate::outcome::Word;

/// A structure compared field by field.
pub(super) trait Compare {
    fn compare(&self, other: &Self, walker: &mut Walker);

    /// One-line description, for entries present on one side only.
    fn summary(&self) -> String;
}

/// An enum whose variant, as a category, may name a divergence.
pub(super) trait Variant {
    fn variant(&self) -> String;
}

/// A leaf value as shown in reports.
pub(super) trait Render {
    fn render(&self) -> String;

    fn same(&self, other: &Self) -> bool;

    /// The value as 32-byte words, if it is made of them (for tolerances that look at words).
    fn words(&self) -> Option<Vec<Word>> {
        None
    }
}

impl<T: Render> Compare for T {
    fn compare(&self, other: &Self, walker: &mut Walker) {
        walker.value("", self, other);
    }

    fn summary(&self) -> String {
        self.render()
    }
}

/// One step of a field path.
#[derive(Clone)]
enum Segment {
    Field(&'static str),
    /// A list index or a collection key, shown in brackets.
    Key(String),
}

/// Accumulates differences under a growing field path.
pub(super) struct Walker {
    path: Vec<Segment>,
    unit: Unit,
    group: FieldGroup,
    pub(super) differences: Vec<Difference>,
}

impl Walker {
    pub(super) fn new() -> Self {
        Self {
            path: vec![],
            unit: Unit::Run,
            group: FieldGroup::Other,
            differences: vec![],
        }
    }

    /// The unit being compared.
    pub(super) fn unit(&self) -> Unit {
        self.unit
    }

    /// The path as reports show it (`transactions[2].execution.gas_used`), or with every index
    /// and key as `*` (`transactions[*].execution.gas_used`).
    fn render(&self, keys: bool) -> String {
        let mut text = String::new();
        for segment in &self.path {
            match segment {
                Segment::Field(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Segment::Key(key) if keys => {
                    text.push('[');
                    text.push_str(key);
                    text.push(']');
                }
                Segment::Key(_) => text.push_str("[*]"),
            }
        }
        text
    }

    /// Runs `f` one level down: under field `name` (none if empty), then key `key` if any.
    fn under<R>(
        &mut self,
        name: &'static str,
        key: Option<String>,
        f: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let depth = self.path.len();
        if !name.is_empty() {
            self.path.push(Segment::Field(name));
        }
        if let Some(key) = key {
            self.path.push(Segment::Key(key));
        }
        let result = f(self);
        self.path.truncate(depth);
        result
    }

    fn record(
        &mut self,
        name: &'static str,
        key: Option<String>,
        kind: DiffKind,
        (reference, candidate): (String, String),
        variants: Option<(String, String)>,
        words: Option<(Vec<Word>, Vec<Word>)>,
    ) {
        self.under(name, key, |walker| {
            let difference = Difference {
                path: walker.render(true),
                pattern: walker.render(false),
                unit: walker.unit,
                group: walker.group,
                kind,
                reference,
                candidate,
                variants,
                words,
            };
            walker.differences.push(difference);
        });
    }

    /// Compares everything `f` compares as part of `unit`.
    pub(super) fn in_unit(&mut self, unit: Unit, f: impl FnOnce(&mut Self)) {
        let parent = std::mem::replace(&mut self.unit, unit);
        f(self);
        self.unit = parent;
    }

    /// Compares everything `f` compares as fields of `group`.
    pub(super) fn in_group(&mut self, group: FieldGroup, f: impl FnOnce(&mut Self)) {
        let parent = std::mem::replace(&mut self.group, group);
        f(self);
        self.group = parent;
    }

    /// Compares a leaf value.
    pub(super) fn value<T: Render + ?Sized>(
        &mut self,
        name: &'static str,
        reference: &T,
        candidate: &T,
    ) {
        if !reference.same(candidate) {
            let values = (reference.render(), candidate.render());
            let words = reference.words().zip(candidate.words());
            self.record(name, None, DiffKind::Value, values, None, words);
        }
    }

    /// Compares a nested structure under `name`.
    pub(super) fn nested<T: Compare + ?Sized>(
        &mut self,
        name: &'static str,
        reference: &T,
        candidate: &T,
    ) {
        self.under(name, None, |walker| reference.compare(candidate, walker));
    }

    /// Compares the element at `key` of the collection `name`.
    pub(super) fn element<T: Compare + ?Sized>(
        &mut self,
        name: &'static str,
        key: impl fmt::Display,
        reference: &T,
        candidate: &T,
    ) {
        self.under(name, Some(key.to_string()), |walker| {
            reference.compare(candidate, walker)
        });
    }

    /// Compares lists element by element, plus their lengths.
    pub(super) fn list<T: Compare>(
        &mut self,
        name: &'static str,
        reference: &[T],
        candidate: &[T],
    ) {
        self.length(name, reference.len(), candidate.len());
        for (index, (a, b)) in reference.iter().zip(candidate).enumerate() {
            self.element(name, index, a, b);
        }
    }

    /// Compares the lengths of two lists.
    pub(super) fn length(&mut self, name: &'static str, reference: usize, candidate: usize) {
        if reference != candidate {
            let values = (reference.to_string(), candidate.to_string());
            self.record(name, None, DiffKind::Length, values, None, None);
        }
    }

    /// Compares collections keyed by `key` (sorted by it): entries on one side only are
    /// missing or extra; shared keys are compared.
    pub(super) fn keyed<T: Compare, K: Ord + fmt::Display>(
        &mut self,
        name: &'static str,
        reference: &[T],
        candidate: &[T],
        key: impl Fn(&T) -> K,
    ) {
        let mut references = reference.iter().peekable();
        let mut candidates = candidate.iter().peekable();
        loop {
            let order = match (references.peek(), candidates.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) => key(a).cmp(&key(b)),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let a = references.next().expect("peeked");
                    self.one_sided(name, key(a), Some(a), None);
                }
                std::cmp::Ordering::Greater => {
                    let b = candidates.next().expect("peeked");
                    self.one_sided(name, key(b), None, Some(b));
                }
                std::cmp::Ordering::Equal => {
                    let (a, b) = (
                        references.next().expect("peeked"),
                        candidates.next().expect("peeked"),
                    );
                    self.element(name, key(a), a, b);
                }
            }
        }
    }

    /// Compares maps: keys on one side only are missing or extra; shared keys are compared.
    pub(super) fn map<K: Ord + fmt::Display, V: Compare>(
        &mut self,
        name: &'static str,
        reference: &BTreeMap<K, V>,
        candidate: &BTreeMap<K, V>,
    ) {
        for (key, a) in reference {
            match candidate.get(key) {
                Some(b) => self.element(name, key, a, b),
                None => self.one_sided(name, key, Some(a), None),
            }
        }
        for (key, b) in candidate {
            if !reference.contains_key(key) {
                self.one_sided(name, key, None, Some(b));
            }
        }
    }

    /// An entry present on one side only: missing (reference only) or extra (candidate only).
    fn one_sided<T: Compare>(
        &mut self,
        name: &'static str,
        key: impl fmt::Display,
        reference: Option<&T>,
        candidate: Option<&T>,
    ) {
        let kind = if reference.is_some() {
            DiffKind::Missing
        } else {
            DiffKind::Extra
        };
        let values = (
            reference.map(Compare::summary).unwrap_or_default(),
            candidate.map(Compare::summary).unwrap_or_default(),
        );
        self.record(name, Some(key.to_string()), kind, values, None, None);
    }

    /// Compares optional parts: present on one side only is missing or extra.
    pub(super) fn option<T: Compare>(
        &mut self,
        name: &'static str,
        reference: &Option<T>,
        candidate: &Option<T>,
    ) {
        match (reference, candidate) {
            (Some(a), Some(b)) => self.nested(name, a, b),
            (Some(_), None) | (None, Some(_)) => {
                let kind = if reference.is_some() {
                    DiffKind::Missing
                } else {
                    DiffKind::Extra
                };
                let values = (
                    reference.as_ref().map(Compare::summary).unwrap_or_default(),
                    candidate.as_ref().map(Compare::summary).unwrap_or_default(),
                );
                self.record(name, None, kind, values, None, None);
            }
            (None, None) => {}
        }
    }

    /// Records two different variants of an enum.
    pub(super) fn variant<T: Compare + Variant>(&mut self, reference: &T, candidate: &T) {
        let values = (reference.summary(), candidate.summary());
        let variants = Some((reference.variant(), candidate.variant()));
        self.record("", None, DiffKind::Variant, values, variants, None);
    }
}
