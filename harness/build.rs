//! Locates the zksync_multivm package that cargo downloaded, so that the library can embed the
//! real VM dump it ships (tests/vm_dumps/) without copying it into this repository; embeds the
//! source root of every package in the build, so that panic locations are named by crate; and
//! embeds the known divergences that the regression vectors declare, so that fuzz-target
//! binaries (which may run where the sources are not) know them.

#[path = "build/crate_roots.rs"]
mod crate_roots;

use std::{
    env,
    path::{Path, PathBuf},
};

const PACKAGE: &str = "zksync_multivm";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/crate_roots.rs");
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let metadata = crate_roots::metadata(&manifest_dir);
    let packages = metadata["packages"]
        .as_array()
        .expect("metadata lists packages");
    let manifest_path = packages
        .iter()
        .find(|package| package["name"] == PACKAGE)
        .and_then(|package| package["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("`cargo metadata` does not list the {PACKAGE} package"));
    let package_dir = PathBuf::from(manifest_path)
        .parent()
        .expect("a manifest path has a parent")
        .to_path_buf();
    crate_roots::embed(&metadata);
    let dumps = package_dir.join("tests").join("vm_dumps");
    println!("cargo:rerun-if-changed={}", dumps.display());
    println!("cargo:rustc-env=ERAVM_DIFF_VM_DUMPS={}", dumps.display());
    embed_known_divergences(&manifest_dir.join("../vectors"));
}

/// Writes `$OUT_DIR/known_divergences.rs`: `(cause, why)` of every vector that declares
/// `expect: {cause, why}` (or a symptom: `{divergence, why}`). The same list as
/// `KnownDivergences::declared_in` reads at run time (a build script cannot call the library);
/// a unit test in `findings.rs` checks they agree.
fn embed_known_divergences(vectors: &Path) {
    println!("cargo:rerun-if-changed={}", vectors.display());
    let mut known = vec![];
    if let Ok(entries) = std::fs::read_dir(vectors) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("vectors are readable");
            let value: serde_yaml::Value = serde_yaml::from_str(&text)
                .unwrap_or_else(|err| panic!("{}: not YAML: {err}", file.display()));
            let expect = &value["expect"];
            let key = expect["cause"].as_str().or(expect["divergence"].as_str());
            if let (Some(key), Some(why)) = (key, expect["why"].as_str()) {
                known.push(format!("    ({key:?}, {why:?}),\n"));
            }
        }
    }
    let code = format!(
        "/// `(cause or symptom fingerprint, why)` of the divergences the vectors declared at build time.\n\
         pub const KNOWN_DIVERGENCES: &[(&str, &str)] = &[\n{}];\n",
        known.concat()
    );
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("known_divergences.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
