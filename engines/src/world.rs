//! The harness's world: envs and layered storage.

#[path = "../../harness/src/world/env.rs"]
mod env;
#[path = "../../harness/src/world/storage.rs"]
mod storage;

pub use self::{
    env::World,
    storage::{Slot, StorageLayer, WorldStorage},
};
