//! The harness's engine side: driver, protocol and serving loop.

#[path = "../../harness/src/engine/driver.rs"]
mod driver;
#[path = "../../harness/src/engine/remote/protocol.rs"]
pub mod protocol;
#[path = "../../harness/src/engine/remote/serve.rs"]
mod serve;

pub use self::{
    driver::{run_vm_traced, VmStorage},
    serve::{serve_stdio, Served},
};
