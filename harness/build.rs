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
/// Downloaded, never built (a dependency under `cfg(any())`): compiled system contracts.
const TEST_HARNESS: &str = "zkevm_test_harness";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/crate_roots.rs");
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let metadata = crate_roots::metadata(&manifest_dir);
    let packages = metadata["packages"]
        .as_array()
        .expect("metadata lists packages");
    let package_dir = |name: &str| {
        let manifest_path = packages
            .iter()
            .find(|package| package["name"] == name)
            .and_then(|package| package["manifest_path"].as_str())
            .unwrap_or_else(|| panic!("`cargo metadata` does not list the {name} package"));
        PathBuf::from(manifest_path)
            .parent()
            .expect("a manifest path has a parent")
            .to_path_buf()
    };
    crate_roots::embed(&metadata);
    embed_compiled_contracts(&package_dir(TEST_HARNESS));
    embed_zk_evm_tests(&package_dir(TEST_HARNESS));
    let package_dir = package_dir(PACKAGE);
    let dumps = package_dir.join("tests").join("vm_dumps");
    println!("cargo:rerun-if-changed={}", dumps.display());
    println!("cargo:rustc-env=ERAVM_DIFF_VM_DUMPS={}", dumps.display());
    embed_known_divergences(&manifest_dir.join("../vectors"));
}

/// Writes `$OUT_DIR/known_divergences.rs`: `(cause, why)` of every vector (batch vectors, and
/// frame vectors in `frames/`) that declares `expect: {cause, why}` (or a symptom:
/// `{divergence, why}`), in any world. The same list as
/// `KnownDivergences::declared_in` reads at run time (a build script cannot call the library);
/// a unit test in `findings.rs` checks they agree.
fn embed_known_divergences(vectors: &Path) {
    let mut known = vec![];
    // Batch vectors, then frame vectors.
    for dir in [vectors.to_path_buf(), vectors.join("frames")] {
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("vectors are readable");
            let value: serde_yaml::Value = serde_yaml::from_str(&text)
                .unwrap_or_else(|err| panic!("{}: not YAML: {err}", file.display()));
            let in_worlds = value["worlds"].as_mapping().into_iter().flatten();
            let expects = std::iter::once(&value["expect"])
                .chain(in_worlds.map(|(_, world)| &world["expect"]));
            for expect in expects {
                let key = expect["cause"].as_str().or(expect["divergence"].as_str());
                if let (Some(key), Some(why)) = (key, expect["why"].as_str()) {
                    known.push(format!("    ({key:?}, {why:?}),\n"));
                }
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

/// Writes `$OUT_DIR/compiled_contracts.rs`: `COMPILED_CONTRACTS`, `(address, bytecode)` of every
/// contract that zkevm_test_harness's `basic_test.json` predeploys (zksolc-compiled system
/// contracts and precompiles, about protocol v28), and `COMPILED_ENTRY_POINT`, its compiled test
/// contract; each bytecode written to `$OUT_DIR` and included from there.
fn embed_compiled_contracts(package_dir: &Path) {
    let artifact = package_dir.join("src/tests/complex_tests/test_artifacts/basic_test.json");
    println!("cargo:rerun-if-changed={}", artifact.display());
    let text = std::fs::read_to_string(&artifact)
        .unwrap_or_else(|err| panic!("{}: {err}", artifact.display()));
    let test: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{}: not JSON: {err}", artifact.display()));
    let contracts = test["predeployed_contracts"]
        .as_object()
        .unwrap_or_else(|| panic!("{}: no predeployed_contracts", artifact.display()));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut entries = vec![];
    for (address, words) in contracts {
        let bytecode = words_to_bytes(address, words);
        let file = out_dir.join(format!("compiled_{address}.bin"));
        std::fs::write(&file, bytecode).expect("OUT_DIR is writable");
        entries.push(format!(
            "    ({address:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    entries.sort();
    let entry_point = out_dir.join("compiled_entry_point.bin");
    std::fs::write(
        &entry_point,
        words_to_bytes("entry_point_code", &test["entry_point_code"]),
    )
    .expect("OUT_DIR is writable");
    let code = format!(
        "/// `(address, bytecode)` of the contracts zkevm_test_harness's basic_test.json predeploys.\n\
         const COMPILED_CONTRACTS: &[(&str, &[u8])] = &[\n{}];\n\
         /// basic_test.json's `entry_point_code`: the compiled test contract its batch starts in.\n\
         const COMPILED_ENTRY_POINT: &[u8] = include_bytes!({:?});\n",
        entries.concat(),
        entry_point.display().to_string()
    );
    std::fs::write(out_dir.join("compiled_contracts.rs"), code).expect("OUT_DIR is writable");
}

/// A bytecode as basic_test.json writes it: a list of 32-byte words, each a list of byte values.
fn words_to_bytes(what: &str, words: &serde_json::Value) -> Vec<u8> {
    (words.as_array().into_iter().flatten())
        .flat_map(|word| word.as_array().into_iter().flatten())
        .map(|byte| {
            byte.as_u64()
                .and_then(|byte| u8::try_from(byte).ok())
                .unwrap_or_else(|| panic!("{what}: not a byte: {byte}"))
        })
        .collect()
}

/// Writes `$OUT_DIR/zk_evm_tests.rs`: `ZK_EVM_TESTS`, the assembly tests zkevm_test_harness ships
/// in `src/tests/simple_tests/testdata/` (each a directory with `entry.asm` and the contracts it
/// calls), as `(directory, [(file stem, source)])`, included from cargo's copy.
fn embed_zk_evm_tests(package_dir: &Path) {
    let root = package_dir.join("src/tests/simple_tests/testdata");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut tests = vec![];
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        let mut files = vec![];
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "asm") {
                files.push(path);
            }
        }
        if files.iter().any(|file| file.ends_with("entry.asm")) {
            files.sort();
            let name = dir
                .strip_prefix(&root)
                .expect("under the root")
                .display()
                .to_string();
            let files: Vec<String> = (files.iter())
                .map(|file| {
                    let stem = file.file_stem().expect("a name").to_string_lossy();
                    format!("({stem:?}, include_str!({:?}))", file.display().to_string())
                })
                .collect();
            tests.push(format!("    ({name:?}, &[{}]),\n", files.join(", ")));
        }
    }
    tests.sort();
    let code = format!(
        "/// `(test directory, [(file stem, assembly)])` of zkevm_test_harness's assembly tests.\n\
         const ZK_EVM_TESTS: &[(&str, &[(&str, &str)])] = &[\n{}];\n",
        tests.concat()
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("zk_evm_tests.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
