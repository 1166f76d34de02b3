//! The library's modules are layered as docs/architecture.md lists them: a module imports only
//! from the modules listed before it, so there is no import circle; and that list is the tree.

use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The top-level modules in the order the architecture page's table lists them (rows that
/// start with a module name in backquotes).
fn layers() -> Vec<String> {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/architecture.md");
    let page = std::fs::read_to_string(page).unwrap();
    page.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|row| row.split('`').next())
        .map(|name| name.trim_end_matches('/').to_owned())
        .collect()
}

/// The top-level modules lib.rs declares.
fn declared() -> Vec<String> {
    let lib = std::fs::read_to_string(Path::new(SRC).join("lib.rs")).unwrap();
    let mut modules: Vec<String> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_owned())
        .collect();
    modules.sort();
    modules
}

#[test]
fn the_architecture_page_lists_every_module_once() {
    let mut layers = layers();
    layers.sort();
    assert_eq!(layers, declared());
}

/// Every `.rs` file below `dir`.
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules that `source` names after `crate::`, directly or in a `use crate::{…}`
/// group.
fn crate_references(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = vec![];
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first identifier of each item at the group's own depth.
            let (mut depth, mut item_start) = (1, true);
            for (index, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => {
                        rest = &group[index..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                        let name: String = group[index..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        names.push(name);
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

#[test]
fn modules_import_only_from_modules_declared_before_them() {
    let layers = layers();
    assert!(layers.len() > 5, "lib.rs declares {layers:?}");
    let position = |name: &str| layers.iter().position(|layer| layer == name);
    let mut files_found = vec![];
    files(Path::new(SRC), &mut files_found);
    let mut upward = vec![];
    let mut checked = 0;
    for file in files_found {
        let relative = file.strip_prefix(SRC).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_str().unwrap().trim_end_matches(".rs");
        // The command line (main.rs, cli/) is above every module.
        let Some(own) = position(top) else { continue };
        let source = std::fs::read_to_string(&file).unwrap();
        for name in crate_references(&source) {
            checked += 1;
            match position(&name) {
                Some(other) if other > own => {
                    upward.push(format!("{} imports `{name}`", relative.display()));
                }
                Some(_) => {}
                None => panic!("{}: `crate::{name}` is not in the layers", file.display()),
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} references found: is the parser right?"
    );
    assert!(
        upward.is_empty(),
        "imports from later layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_reference_parser_reads_groups_and_paths() {
    let source = "use crate::{\n    batch::Batch,\n    divergence::{cause::Cause, Divergence},\n    key,\n};\n\
                  // crate::commented\nfn f() { crate::world::default_world(); }";
    assert_eq!(
        crate_references(source),
        ["batch", "divergence", "key", "world"]
    );
}
