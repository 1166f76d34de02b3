//! Engines in other processes: the engine protocol, its parent side (`process:` and `exec:`
//! engines), its child side (`serve-engine`) and the engines of other zksync_multivm releases.

mod process;
pub mod protocol;
mod release;
mod serve;

pub use self::{
    process::{ProcessEngine, DEFAULT_TIMEOUT},
    release::{engines_dir, parse_release_name, Release, RELEASE_VMS},
    serve::{serve, serve_stdio, Served},
};
