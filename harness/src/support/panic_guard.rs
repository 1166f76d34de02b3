//! Catching panics inside a VM: a panic becomes a [`CaughtPanic`] (its message and the source
//! location, by crate) instead of unwinding through the harness, and nothing is printed for it.

use std::{
    cell::{Cell, RefCell},
    fmt,
    panic::{self, AssertUnwindSafe},
    sync::Once,
};

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/crate_roots.rs"));

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<PanicLocation>> = const { RefCell::new(None) };
}

/// A source location named by crate: `zksync_vm2/src/vm.rs:154` whether the crate was built from
/// the registry, a `[patch]`ed working copy, a git checkout or a vendored directory, and without
/// the crate's version, so that neither where a crate lives nor an upgrade renames a panic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PanicLocation {
    /// The package name (`zksync_vm2`); for a file outside every known package, the name of the
    /// directory holding its `src/`, without a `-<version>` suffix (`core` for the standard
    /// library).
    #[serde(rename = "crate")]
    pub krate: String,
    /// The path inside the crate (`src/vm.rs`).
    pub file: String,
    pub line: u32,
}

impl fmt::Display for PanicLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.krate.is_empty() {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}/{}:{}", self.krate, self.file, self.line)
        }
    }
}

impl PanicLocation {
    /// The location of `file:line` as the compiler recorded it, resolved against the packages of
    /// this build (their source roots as `cargo metadata` listed them when this crate was built).
    pub fn of(file: &str, line: u32) -> Self {
        Self::resolve(file, line, WORKSPACE_ROOT, CRATE_ROOTS)
    }

    /// [`PanicLocation::of`] against the given workspace root (for relative paths, which is how
    /// the compiler records workspace members) and `(source root, package name)` pairs.
    pub fn resolve(file: &str, line: u32, workspace_root: &str, roots: &[(&str, &str)]) -> Self {
        let absolute = if file.starts_with('/') {
            file.to_owned()
        } else {
            format!("{}/{file}", workspace_root.trim_end_matches('/'))
        };
        let package = roots
            .iter()
            .filter_map(|&(root, name)| {
                let rest = absolute.strip_prefix(root.trim_end_matches('/'))?;
                Some((root.len(), name, rest.strip_prefix('/')?))
            })
            .max_by_key(|&(length, _, _)| length);
        let (krate, file) = match package {
            Some((_, name, rest)) => (name.to_owned(), rest.to_owned()),
            None => by_directory(&absolute),
        };
        Self { krate, file, line }
    }
}

/// `…/<dir>/src/x.rs` → (`<dir>` without a `-<version>` suffix, `src/x.rs`); a path without a
/// `src/` component is kept whole, with an empty crate name.
fn by_directory(path: &str) -> (String, String) {
    let Some(src) = path.rfind("/src/") else {
        return (String::new(), path.to_owned());
    };
    let dir = &path[..src];
    let dir = &dir[dir.rfind('/').map_or(0, |slash| slash + 1)..];
    let version = dir
        .match_indices('-')
        .map(|(dash, _)| dash)
        .find(|&dash| dir[dash + 1..].starts_with(|c: char| c.is_ascii_digit()));
    let name = &dir[..version.unwrap_or(dir.len())];
    (name.to_owned(), path[src + 1..].to_owned())
}

/// A panic caught by [`catch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtPanic {
    pub message: String,
    pub location: Option<PanicLocation>,
}

impl fmt::Display for CaughtPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match &self.location {
            Some(location) => write!(f, " (at {location})"),
            None => Ok(()),
        }
    }
}

/// Runs `f`; a panic inside it is returned as a [`CaughtPanic`].
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, CaughtPanic> {
    install_hook();
    let was_catching = CATCHING.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(was_catching);
    result.map_err(|payload| CaughtPanic {
        message: payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-string payload".to_owned()),
        location: LOCATION.take(),
    })
}

/// Installs, once per process, a hook that stays silent for panics being caught here and defers
/// to the previous hook (the default one, or libFuzzer's) for every other panic.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                let location = info
                    .location()
                    .map(|location| PanicLocation::of(location.file(), location.line()));
                LOCATION.set(location);
            } else {
                crate::support::vm_output::restore_stderr();
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_is_caught_with_message_and_location() {
        let caught = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert_eq!(caught.message, "boom 7");
        let location = caught.location.unwrap();
        assert_eq!(
            (location.krate.as_str(), location.file.as_str()),
            ("eravm-diff", "src/support/panic_guard.rs")
        );
        assert_eq!(catch(|| 5), Ok(5));
    }

    /// The same file of zksync_vm2 as cargo builds it from the registry, from a working copy
    /// named in `[patch.crates-io]`, from a git checkout (a workspace with the crate in
    /// `crates/vm2`) and from a vendored directory: one location.
    #[test]
    fn one_crate_file_is_one_location_wherever_the_crate_lives() {
        let registry =
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/zksync_vm2-0.5.0";
        let patched = "/home/me/vm2";
        let git = "/root/.cargo/git/checkouts/vm2-3ab1c0e3f2a1b4d5/457d8a7/crates/vm2";
        let vendored = "vendor/zksync_vm2";
        let workspace = "/work/eravm-diff";
        let expected = PanicLocation {
            krate: "zksync_vm2".into(),
            file: "src/vm.rs".into(),
            line: 154,
        };
        for root in [registry, patched, git, vendored] {
            let roots = [
                (workspace, "eravm-diff-workspace"),
                ("/home/me/vm2/crates/other", "unrelated"),
                (root, "zksync_vm2"),
            ];
            let absolute_root = if root.starts_with('/') {
                root.to_owned()
            } else {
                format!("{workspace}/{root}")
            };
            let roots: Vec<(&str, &str)> = roots
                .iter()
                .map(|&(dir, name)| {
                    (
                        if dir == root {
                            absolute_root.as_str()
                        } else {
                            dir
                        },
                        name,
                    )
                })
                .collect();
            let file = format!("{root}/src/vm.rs");
            assert_eq!(
                PanicLocation::resolve(&file, 154, workspace, &roots),
                expected
            );
        }
        assert_eq!(expected.to_string(), "zksync_vm2/src/vm.rs:154");
    }

    #[test]
    fn files_outside_known_packages_are_named_by_directory() {
        let resolve = |file| PanicLocation::resolve(file, 1, "/w", &[]).to_string();
        assert_eq!(
            resolve("/elsewhere/registry/src/index/zk_evm-0.153.8/src/opcodes/log.rs"),
            "zk_evm/src/opcodes/log.rs:1"
        );
        assert_eq!(
            resolve("/r/zksync_multivm-29.13.0-non-semver-compat/src/lib.rs"),
            "zksync_multivm/src/lib.rs:1"
        );
        assert_eq!(
            resolve("/vendor/eravm-diff-0.1.0/src/lib.rs"),
            "eravm-diff/src/lib.rs:1"
        );
        assert_eq!(
            resolve("/rustc/90b35a6/library/core/src/option.rs"),
            "core/src/option.rs:1"
        );
        assert_eq!(resolve("/no/source/dir.rs"), "/no/source/dir.rs:1");
    }
}
