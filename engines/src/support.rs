//! The harness's `support` module, as far as the mounted modules use it.

#[path = "../../harness/src/support/bytes.rs"]
pub mod bytes;
#[cfg_attr(feature = "api27", path = "multivm_compat_27.rs")]
#[cfg_attr(feature = "api28", path = "../../harness/src/support/multivm_compat.rs")]
pub mod multivm_compat;
#[path = "../../harness/src/support/panic_guard.rs"]
pub mod panic_guard;
#[path = "../../harness/src/support/vm_output.rs"]
pub mod vm_output;
