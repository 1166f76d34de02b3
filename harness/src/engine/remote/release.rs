//! Engines of other zksync_multivm releases: `vm_latest@27.0.0`, `vm_fast@27.5.1`, … Each release
//! is a cargo workspace of its own under `engines/multivm-<release>/` (its exact pins cannot
//! resolve together with ours), building one engine binary that serves that release's VMs over
//! the engine protocol. A binary is built on first use in a process (cargo's progress on stderr;
//! a no-op when it is up to date), into `target/engines/`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, PoisonError},
};

use super::ProcessEngine;

/// The VMs every release engine serves.
pub const RELEASE_VMS: [&str; 2] = ["vm_latest", "vm_fast"];

/// A zksync_multivm release with an engine workspace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    /// The release, e.g. `27.5.1`.
    pub version: String,
}

impl Release {
    /// Every release with a workspace under `engines/`, oldest first.
    pub fn all() -> Vec<Self> {
        let mut releases: Vec<Self> = std::fs::read_dir(engines_dir())
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let version = name.strip_prefix("multivm-")?.to_owned();
                Some(Self { version })
            })
            .filter(|release| release.manifest().is_file())
            .collect();
        releases.sort_by_key(|release| release.numbers());
        releases
    }

    /// The release called `version`, if it has a workspace.
    pub fn named(version: &str) -> Option<Self> {
        Self::all()
            .into_iter()
            .find(|release| release.version == version)
    }

    fn numbers(&self) -> Vec<u64> {
        self.version
            .split('.')
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    }

    pub fn manifest(&self) -> PathBuf {
        engines_dir()
            .join(format!("multivm-{}", self.version))
            .join("Cargo.toml")
    }

    /// Where the engine binary is built.
    pub fn binary(&self) -> PathBuf {
        target_dir()
            .join("release")
            .join(format!("eravm-engine-{}", self.version.replace('.', "_")))
    }

    pub fn is_built(&self) -> bool {
        self.binary().is_file()
    }

    /// Builds the engine binary (cargo's progress goes to stderr), or says why it cannot.
    /// Cargo runs once per release and process; later calls give the first call's result.
    pub fn build(&self) -> Result<PathBuf, String> {
        static BUILT: Mutex<BTreeMap<String, Result<PathBuf, String>>> =
            Mutex::new(BTreeMap::new());
        let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
        built
            .entry(self.version.clone())
            .or_insert_with(|| self.run_cargo())
            .clone()
    }

    fn run_cargo(&self) -> Result<PathBuf, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--manifest-path"])
            .arg(self.manifest())
            .arg("--target-dir")
            .arg(target_dir())
            .status()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if !status.success() {
            return Err(format!(
                "building the engine of zksync_multivm {} failed ({status}); see cargo's output above",
                self.version
            ));
        }
        Ok(self.binary())
    }

    /// The release engine `vm@version`, built first (on first use it may take minutes).
    pub fn engine(&self, vm: &str) -> Result<ProcessEngine, String> {
        let binary = self.build()?;
        Ok(ProcessEngine::new(
            format!("{vm}@{}", self.version),
            binary,
            &[vm],
        ))
    }
}

/// `vm@release` split, when `vm` is one a release engine serves and `release` has a workspace;
/// `None` for names of another form; an error naming what exists otherwise.
pub fn parse_release_name(name: &str) -> Option<Result<(&str, Release), String>> {
    let (vm, version) = name.split_once('@')?;
    if !RELEASE_VMS.contains(&vm) {
        return Some(Err(format!(
            "`{name}`: release engines are {}, not `{vm}`",
            RELEASE_VMS
                .map(|vm| format!("{vm}@<release>"))
                .join(" and ")
        )));
    }
    Some(
        Release::named(version)
            .map(|release| (vm, release))
            .ok_or_else(|| {
                let known: Vec<_> = Release::all().into_iter().map(|r| r.version).collect();
                format!(
            "`{name}`: no engine workspace for zksync_multivm {version} in {} (there are: {})",
            engines_dir().display(),
            known.join(", ")
        )
            }),
    )
}

/// `engines/` of the checkout this harness was built from.
pub fn engines_dir() -> PathBuf {
    checkout().join("engines")
}

/// `target/engines/`: one target directory for every release, so that they share what they can.
fn target_dir() -> PathBuf {
    checkout().join("target").join("engines")
}

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness is a directory of the checkout")
}
