//! Build-script support shared with the engine binaries (engines/): `cargo metadata` of the
//! package being built, and the source roots that name panic locations by crate
//! (`panic_guard`'s `crate_roots.rs`).

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// `cargo metadata` of the package whose manifest is in `manifest_dir`, for every platform: a
/// package that is only downloaded (a dependency under a never-true `cfg`, for the data it
/// ships) is listed too. Resolving may download dependencies that the build itself has not
/// needed yet, unless cargo runs offline.
pub fn metadata(manifest_dir: &Path) -> serde_json::Value {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["metadata", "--format-version", "1"]);
    if env::var("CARGO_NET_OFFLINE").is_ok_and(|value| value == "true") {
        command.arg("--offline");
    }
    let output = command
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .output()
        .expect("failed to run `cargo metadata`");
    if !output.status.success() {
        panic!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).expect("`cargo metadata` printed invalid JSON")
}

/// Writes `$OUT_DIR/crate_roots.rs`: the workspace root and `(source root, package name)` of every
/// package `cargo metadata` lists, wherever cargo took it from (registry, `[patch]` path, git
/// checkout, vendored directory). Rebuilt when the lockfile changes, e.g. when a `[patch]` is
/// added.
pub fn embed(metadata: &serde_json::Value) {
    let workspace_root = metadata["workspace_root"]
        .as_str()
        .expect("metadata names the workspace root");
    println!("cargo:rerun-if-changed={workspace_root}/Cargo.lock");
    println!("cargo:rerun-if-changed={workspace_root}/Cargo.toml");
    let mut roots: Vec<String> = metadata["packages"]
        .as_array()
        .expect("metadata lists packages")
        .iter()
        .filter_map(|package| {
            let name = package["name"].as_str()?;
            let manifest = Path::new(package["manifest_path"].as_str()?);
            let root = manifest.parent()?.to_str()?;
            Some(format!("    ({root:?}, {name:?}),\n"))
        })
        .collect();
    roots.sort();
    roots.dedup();
    let code = format!(
        "/// The workspace this crate was built in.\n\
         const WORKSPACE_ROOT: &str = {workspace_root:?};\n\
         /// `(source root, package name)` of every package in the build.\n\
         const CRATE_ROOTS: &[(&str, &str)] = &[\n{}];\n",
        roots.concat()
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("crate_roots.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
