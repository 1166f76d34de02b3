//! Names panic locations by crate, as the harness does (`panic_guard`'s `crate_roots.rs`).

#[path = "../../harness/build/crate_roots.rs"]
mod crate_roots;

fn main() {
    println!("cargo:rerun-if-changed=../src/build.rs");
    println!("cargo:rerun-if-changed=../../harness/build/crate_roots.rs");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    crate_roots::embed(&crate_roots::metadata(manifest_dir.as_ref()));
}
