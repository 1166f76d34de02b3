//! `engines`: which engines there are, and which release engines are built; `engines build`
//! builds release engines ahead of first use.

use eravm_diff::{
    engine::{Release, ENGINE_NAMES, RELEASE_VMS},
    support::error::InputError,
};

use super::{status, CommandResult};

#[derive(clap::Args)]
pub struct EnginesArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Build the engine binaries of these releases (all when none is given).
    Build { releases: Vec<String> },
}

impl EnginesArgs {
    pub fn execute(self) -> CommandResult {
        match self.action {
            None => {
                println!(
                    "in process (zksync_multivm 29.13.0): {}",
                    ENGINE_NAMES.join(", ")
                );
                for release in Release::all() {
                    let names = RELEASE_VMS.map(|vm| format!("{vm}@{}", release.version));
                    let built = if release.is_built() {
                        "built"
                    } else {
                        "not built"
                    };
                    println!("{}: {built}", names.join(", "));
                }
                println!("any program speaking the engine protocol: exec:<path>");
                Ok(status(true))
            }
            Some(Action::Build { releases }) => {
                let releases = if releases.is_empty() {
                    Release::all()
                } else {
                    (releases.iter())
                        .map(|version| {
                            Release::named(version).ok_or_else(|| {
                                InputError::new(
                                    version,
                                    "no engine workspace for this release under engines/",
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?
                };
                for release in releases {
                    eprintln!("building the engine of zksync_multivm {}", release.version);
                    let binary = (release.build())
                        .map_err(|problem| InputError::new(&release.version, problem))?;
                    println!("{}", binary.display());
                }
                Ok(status(true))
            }
        }
    }
}
