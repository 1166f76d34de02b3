//! `matrix`: every batch on every engine; which engines agree with which.

use std::path::PathBuf;

use eravm_diff::{
    batch_file::{load_batch_file, PreparedBatch},
    drive::matrix::{Matrix, Row},
    support::{error::InputError, files::write_atomic},
    world::{load_dump, WorldSource},
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
    /// The worlds for batch files, comma-separated: each batch file runs in each (`default`, a
    /// VM dump, `genesis:PATH`, `zksync-home[:DIR]`).
    #[arg(long = "world", value_delimiter = ',', default_value = "default")]
    worlds: Vec<WorldSource>,
    /// Run this bootloader in every world instead of its own (a hex file).
    #[arg(long, value_name = "PATH.hex")]
    bootloader: Option<PathBuf>,
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
        let worlds = (self.worlds.iter())
            .map(|world| {
                let args = WorldArgs {
                    world: world.clone(),
                    bootloader: self.bootloader.clone(),
                };
                let loaded = args.load()?;
                for engine in &engines {
                    check(&**engine, &loaded)?;
                }
                Ok((world, loaded))
            })
            .collect::<Result<Vec<_>, InputError>>()?;
        let rows = summarizing_vm_output(self.verbose, || {
            let mut rows = vec![];
            for path in expand(&self.paths)? {
                let name = path.display().to_string();
                if path.extension().is_some_and(|ext| ext == "json") {
                    let dump = load_dump(&path)?;
                    for engine in &engines {
                        check(&**engine, &dump.world)?;
                    }
                    let prepared = PreparedBatch::single(dump.world, dump.batch);
                    rows.push(Row::run(name, &prepared, &engines));
                    continue;
                }
                let file = load_batch_file(&path)?;
                for (source, world) in &worlds {
                    let prepared = (file.prepare(world))
                        .map_err(|err: InputError| err.within(path.display()))?;
                    // With several worlds, each row says which.
                    let name = match worlds.len() {
                        1 => name.clone(),
                        _ => format!("{name} in {source}"),
                    };
                    rows.push(Row::run(name, &prepared, &engines));
                }
            }
            Ok::<_, InputError>(rows)
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
