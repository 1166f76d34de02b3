//! Catching panics inside a VM: a panic becomes a message (with the panicking source location)
//! instead of unwinding through the harness, and nothing is printed for it.

use std::{
    cell::{Cell, RefCell},
    panic::{self, AssertUnwindSafe},
    sync::Once,
};

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`; a panic inside it is returned as `Err(message)`.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let was_catching = CATCHING.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(was_catching);
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-string payload".to_owned());
        match LOCATION.take() {
            Some(location) => format!("{message} (at {location})"),
            None => message,
        }
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
                let location = info.location().map(|location| {
                    format!("{}:{}", crate_relative(location.file()), location.line())
                });
                LOCATION.set(location);
            } else {
                previous(info);
            }
        }));
    });
}

/// `…/registry/src/index.crates.io-…/zk_evm-0.153.8/src/x.rs` → `zk_evm-0.153.8/src/x.rs`, so
/// that messages do not depend on where cargo keeps its registry.
fn crate_relative(file: &str) -> &str {
    match file.find("/registry/src/") {
        Some(start) => {
            let rest = &file[start + "/registry/src/".len()..];
            rest.find('/').map_or(rest, |slash| &rest[slash + 1..])
        }
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_message_with_location() {
        let caught = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(caught.starts_with("boom 7 (at "), "{caught}");
        assert!(caught.contains("panic_guard.rs:"), "{caught}");
        assert_eq!(catch(|| 5), Ok(5));
    }

    #[test]
    fn registry_paths_are_trimmed() {
        assert_eq!(
            crate_relative(
                "/root/.cargo/registry/src/index.crates.io-1949/zk_evm-0.153.8/src/a.rs"
            ),
            "zk_evm-0.153.8/src/a.rs"
        );
        assert_eq!(crate_relative("src/lib.rs"), "src/lib.rs");
    }
}
