//! `matrix`: every batch on every engine; which engines agree with which.

use std::{fmt::Write, path::PathBuf};

use eravm_diff::{
    error::InputError,
    matrix::Row,
    spec::load_batch_file,
    world::{load_dump, WorldSource},
};

use super::{by_name, check, engine_name, run::expand, status, CommandResult};

#[derive(clap::Args)]
pub struct MatrixArgs {
    /// Batch files, directories of them, or VM dumps (`*.json`, each in its own world).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The engines, comma-separated; the first is the one the others are lettered against.
    #[arg(long, required = true, value_delimiter = ',', value_parser = engine_name)]
    engines: Vec<String>,
    /// The world for batch files.
    #[arg(long, default_value = "default")]
    world: WorldSource,
    /// Print a Markdown table instead of text.
    #[arg(long)]
    markdown: bool,
}

impl MatrixArgs {
    pub fn execute(self) -> CommandResult {
        let engines = (self.engines.iter())
            .map(|name| by_name(name))
            .collect::<Result<Vec<_>, _>>()?;
        let world = self.world.load()?;
        let mut rows = vec![];
        for path in expand(&self.paths)? {
            let name = path.display().to_string();
            let row = if path.extension().is_some_and(|ext| ext == "json") {
                let dump = load_dump(&path)?;
                for engine in &engines {
                    check(&**engine, &dump.world)?;
                }
                Row::run(name, &dump.world, &dump.batch, &engines)
            } else {
                for engine in &engines {
                    check(&**engine, &world)?;
                }
                let prepared = load_batch_file(&path)?
                    .prepare(&world)
                    .map_err(|err: InputError| err.within(path.display()))?;
                Row::run(name, &prepared.world, &prepared.batch, &engines)
            };
            rows.push(row);
        }
        print!("{}", self.table(&rows));
        Ok(status(rows.iter().all(Row::unanimous)))
    }

    /// One line per batch: each engine's outcome class (`A` is the first engine's), and whether
    /// they all agree.
    fn table(&self, rows: &[Row]) -> String {
        let mut text = String::new();
        let unanimous = rows.iter().filter(|row| row.unanimous()).count();
        if self.markdown {
            let _ = writeln!(text, "| batch | {} | agree |", self.engines.join(" | "));
            let _ = writeln!(text, "|---|{}---|", "---|".repeat(self.engines.len()));
            for row in rows {
                let letters: Vec<String> = (0..self.engines.len())
                    .map(|e| row.letter(e).to_string())
                    .collect();
                let agree = if row.unanimous() { "yes" } else { "no" };
                let _ = writeln!(
                    text,
                    "| {} | {} | {agree} |",
                    row.batch,
                    letters.join(" | ")
                );
            }
        } else {
            let width = rows
                .iter()
                .map(|row| row.batch.len())
                .max()
                .unwrap_or(5)
                .max(5);
            let _ = write!(text, "{:<width$}", "batch");
            for engine in &self.engines {
                let _ = write!(text, "  {engine}");
            }
            let _ = writeln!(text);
            for row in rows {
                let mut line = format!("{:<width$}", row.batch);
                for (e, engine) in self.engines.iter().enumerate() {
                    let _ = write!(line, "  {:<len$}", row.letter(e), len = engine.len());
                }
                if !row.unanimous() {
                    line.push_str("  differ");
                }
                let _ = writeln!(text, "{}", line.trim_end());
            }
        }
        let _ = writeln!(
            text,
            "\n{} batches, {unanimous} on which all {} engines agree (same letter: byte-identical outcomes)",
            rows.len(),
            self.engines.len()
        );
        text
    }
}
