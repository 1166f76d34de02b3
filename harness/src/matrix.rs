//! The engine matrix: every batch on every engine, and which engines agree with which.

use crate::{batch::Batch, engine::Engine, outcome::Outcome, world::World};

/// One batch's outcomes on every engine, grouped: engines in one class have byte-identical
/// outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub batch: String,
    /// Each engine's class: 0 for the first engine's outcome, then by first appearance.
    pub classes: Vec<usize>,
}

impl Row {
    /// Runs `batch` in `world` on every engine (one after the other).
    pub fn run(name: String, world: &World, batch: &Batch, engines: &[Box<dyn Engine>]) -> Self {
        let outcomes: Vec<Outcome> = engines
            .iter()
            .map(|engine| engine.run(world, batch))
            .collect();
        Self {
            batch: name,
            classes: classes(&outcomes),
        }
    }

    /// Whether every engine agrees.
    pub fn unanimous(&self) -> bool {
        self.classes.iter().all(|&class| class == 0)
    }

    /// An engine's class as a letter: `A` for the first engine's outcome, `B`, … for others.
    pub fn letter(&self, engine: usize) -> char {
        let class = self.classes[engine].min(25) as u8;
        char::from(b'A' + class)
    }
}

/// Equivalence classes of outcomes by canonical bytes, numbered by first appearance.
fn classes(outcomes: &[Outcome]) -> Vec<usize> {
    let mut seen: Vec<Vec<u8>> = vec![];
    outcomes
        .iter()
        .map(|outcome| {
            let bytes = outcome.canonical_bytes();
            match seen.iter().position(|other| *other == bytes) {
                Some(class) => class,
                None => {
                    seen.push(bytes);
                    seen.len() - 1
                }
            }
        })
        .collect()
}
