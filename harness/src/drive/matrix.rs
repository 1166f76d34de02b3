//! The engine matrix: every batch on every engine, which engines agree with which, and each
//! outcome's digest (so that a golden matrix shows any engine's behaviour change, not only a
//! change in who agrees).

use std::fmt::Write;

use crate::{
    batch_file::PreparedBatch, chain::chain_outcomes, engine::Engine, outcome::digest,
    report::html::escape,
};

/// Digest digits shown per outcome class.
const DIGEST_DIGITS: usize = 16;

/// One batch's outcomes on every engine, grouped: engines in one class have byte-identical
/// outcomes (for a chain, the outcomes of every L1 batch, each engine running the chain from its
/// own states).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub batch: String,
    /// Each engine's class: 0 for the first engine's outcome, then by first appearance.
    pub classes: Vec<usize>,
    /// Each class's outcome digest (its first digits): the SHA-256 of its canonical bytes, or
    /// of a chain's outcomes' canonical bytes one after the other.
    pub digests: Vec<String>,
}

impl Row {
    /// Runs `prepared` on every engine (one after the other).
    pub fn run(name: String, prepared: &PreparedBatch, engines: &[Box<dyn Engine>]) -> Self {
        let outcomes: Vec<Vec<u8>> = (engines.iter())
            .map(|engine| {
                let (runs, _) = chain_outcomes(&**engine, prepared);
                let outcomes = runs.iter().map(|(_, _, outcome)| outcome);
                outcomes
                    .flat_map(|outcome| outcome.canonical_bytes())
                    .collect()
            })
            .collect();
        let mut seen: Vec<&[u8]> = vec![];
        let mut digests = vec![];
        let classes = (outcomes.iter())
            .map(|bytes| {
                seen.iter()
                    .position(|other| *other == bytes.as_slice())
                    .unwrap_or_else(|| {
                        seen.push(bytes);
                        digests.push(digest(bytes)[..DIGEST_DIGITS].to_owned());
                        seen.len() - 1
                    })
            })
            .collect();
        Self {
            batch: name,
            classes,
            digests,
        }
    }

    /// Whether every engine agrees.
    pub fn unanimous(&self) -> bool {
        self.classes.iter().all(|&class| class == 0)
    }

    /// An engine's class as a letter: `A` for the first engine's outcome, `B`, … for others.
    pub fn letter(&self, engine: usize) -> char {
        letter(self.classes[engine])
    }

    /// `A 1f2e…, B 9c0d…`: each class's digest.
    pub fn outcomes(&self) -> String {
        let classes = self.digests.iter().enumerate();
        let named: Vec<String> = classes
            .map(|(class, digest)| format!("{} {digest}", letter(class)))
            .collect();
        named.join(", ")
    }
}

fn letter(class: usize) -> char {
    char::from(b'A' + class.min(25) as u8)
}

/// Rows over a list of engines, rendered as text, Markdown or HTML.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub engines: Vec<String>,
    pub rows: Vec<Row>,
}

impl Matrix {
    pub fn unanimous(&self) -> usize {
        self.rows.iter().filter(|row| row.unanimous()).count()
    }

    fn summary(&self) -> String {
        format!(
            "{} batches, {} on which all {} engines agree (same letter: byte-identical outcomes)",
            self.rows.len(),
            self.unanimous(),
            self.engines.len()
        )
    }

    /// A column per engine, the outcome digests last.
    pub fn text(&self) -> String {
        let width = (self.rows.iter())
            .map(|row| row.batch.len())
            .max()
            .unwrap_or(0)
            .max("batch".len());
        let mut text = format!("{:<width$}", "batch");
        for engine in &self.engines {
            let _ = write!(text, "  {engine}");
        }
        text.push_str("  outcomes\n");
        for row in &self.rows {
            let _ = write!(text, "{:<width$}", row.batch);
            for (e, engine) in self.engines.iter().enumerate() {
                let _ = write!(text, "  {:<len$}", row.letter(e), len = engine.len());
            }
            let _ = writeln!(text, "  {}", row.outcomes());
        }
        let _ = writeln!(text, "\n{}", self.summary());
        text
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "| batch | {} | agree | outcomes |\n",
            self.engines.join(" | ")
        );
        let _ = writeln!(md, "|---|{}---|---|", "---|".repeat(self.engines.len()));
        for row in &self.rows {
            let letters: Vec<String> = (0..self.engines.len())
                .map(|e| row.letter(e).to_string())
                .collect();
            let agree = if row.unanimous() { "yes" } else { "no" };
            let _ = writeln!(
                md,
                "| {} | {} | {agree} | {} |",
                row.batch,
                letters.join(" | "),
                row.outcomes()
            );
        }
        let _ = writeln!(md, "\n{}", self.summary());
        md
    }

    /// A page of its own; cells are coloured by class, so that who agrees shows at a glance.
    pub fn html(&self) -> String {
        const COLOURS: [&str; 4] = ["#e8f5e9", "#ffebee", "#fff3e0", "#e3f2fd"];
        let mut html = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>eravm-diff engine matrix</title><style>\
             body{font-family:sans-serif;margin:2em;color:#222}\
             table{border-collapse:collapse}\
             td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}\
             td.class{text-align:center;font-weight:bold}code{font-size:13px}\
             </style></head><body>\n<h1>eravm-diff engine matrix</h1>\n<table><tr><th>batch</th>",
        );
        for engine in &self.engines {
            let _ = write!(html, "<th>{}</th>", escape(engine));
        }
        html.push_str("<th>outcomes</th></tr>\n");
        for row in &self.rows {
            let _ = write!(html, "<tr><td><code>{}</code></td>", escape(&row.batch));
            for (e, &class) in row.classes.iter().enumerate() {
                let colour = COLOURS[class.min(COLOURS.len() - 1)];
                let _ = write!(
                    html,
                    "<td class=\"class\" style=\"background:{colour}\">{}</td>",
                    row.letter(e)
                );
            }
            let _ = writeln!(html, "<td><code>{}</code></td></tr>", row.outcomes());
        }
        let _ = writeln!(html, "</table>\n<p>{}</p>\n</body></html>", self.summary());
        html
    }
}
