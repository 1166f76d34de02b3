//! `matrix`: every batch on every engine; which engines agree with which.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::{load_batch_file, PreparedBatch},
    drive::matrix::{Matrix, Row},
    support::{error::InputError, files::write_atomic},
    world::load_dump,
};

use super::{
    by_name, check, engine_name, run::expand, status, summarizing_vm_output, CommandResult,
    WorldArgs,
};

#[derive(clap::Args)]
pub struct MatrixArgs {
    /// Batch files, directories of them, or VM dumps (`*.json`, each in its own world).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The engines, comma-separated; the first is the one the others are lettered against.
    #[arg(long, required = true, value_delimiter = ',', value_parser = engine_name)]
    engines: Vec<String>,
    /// The world for batch files.
    #[command(flatten)]
    world: WorldArgs,
    /// Print a Markdown table instead of text.
    #[arg(long)]
    markdown: bool,
    /// Also write the matrix as an HTML page to this file.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Show what the VMs print while they run (by default it is captured and summarized).
    #[arg(long)]
    verbose: bool,
}

impl MatrixArgs {
    pub fn execute(self) -> CommandResult {
        let engines = (self.engines.iter())
            .map(|name| by_name(name))
            .collect::<Result<Vec<_>, _>>()?;
        let world = self.world.load()?;
        for engine in &engines {
            check(&**engine, &world)?;
        }
        let rows = summarizing_vm_output(self.verbose, || {
            let paths = expand(&self.paths)?;
            (paths.iter())
                .map(|path| {
                    let name = path.display().to_string();
                    if path.extension().is_some_and(|ext| ext == "json") {
                        let dump = load_dump(path)?;
                        for engine in &engines {
                            check(&**engine, &dump.world)?;
                        }
                        let prepared = PreparedBatch::single(dump.world, dump.batch);
                        Ok(Row::run(name, &prepared, &engines))
                    } else {
                        let prepared = load_batch_file(path)?
                            .prepare(&world)
                            .map_err(|err: InputError| err.within(path.display()))?;
                        Ok(Row::run(name, &prepared, &engines))
                    }
                })
                .collect::<Result<Vec<_>, InputError>>()
        })?;
        let matrix = Matrix {
            engines: self.engines,
            rows: rows?,
        };
        if let Some(path) = &self.html {
            write_atomic(path, matrix.html().as_bytes())
                .map_err(|err| InputError::at(path, format!("cannot write: {err}")))?;
        }
        if self.markdown {
            print!("{}", matrix.markdown());
        } else {
            print!("{}", matrix.text());
        }
        Ok(status(matrix.unanimous() == matrix.rows.len()))
    }
}
