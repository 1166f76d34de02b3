//! The engine protocol (version [`VERSION`]): how the harness drives an engine in another
//! process. The child reads requests on stdin and writes responses on stdout, one frame each: a
//! u32 big-endian length, a tag byte, and the payload.
//!
//! Requests:
//! - `W` world (JSON [`WorldMessage`]): system env, L1 batch env, pubdata parameters and base
//!   storage.
//!   Sent once per child, and again only when the harness switches worlds. Answered by `R`.
//! - `B` batch (JSON [`BatchMessage`]): the batch, its L1 batch env and execution mode, the
//!   batch's own set-up over the base storage, where to stop, and whether to record steps.
//!   Answered by `S` (when steps were asked for and the engine records them), then `O`.
//!
//! Responses:
//! - `R` ready (JSON [`Ready`]): the protocol version the child speaks and its engine's name.
//! - `S` steps: the step trace (postcard of [`crate::steps::StepTrace`]).
//! - `O` outcome: the outcome in the harness's canonical encoding (postcard), so that equal
//!   outcomes stay equal bytes across processes. A VM panic is part of the outcome.
//! - `E` error (UTF-8): the child could not run the request (e.g. a world it cannot build).
//!
//! JSON carries the inputs because zksync's types (transactions, system env) serialize to it as
//! VM dumps do; the world, the largest part, crosses once per child.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use zksync_types::{commitment::PubdataParams, H256};
use zksync_vm_interface::{L1BatchEnv, SystemEnv, TxExecutionMode};

use crate::{
    batch::Batch,
    support::bytes::HexBytes,
    world::{Slot, StorageLayer},
};

/// The protocol version; a child that answers another one is not used.
pub const VERSION: u32 = 1;
/// Longest frame accepted (the default world is a few MB of JSON).
const MAX_FRAME: u32 = 1 << 26;

/// The base world, as a child builds it.
#[derive(Serialize, Deserialize)]
pub struct WorldMessage {
    pub origin: String,
    pub system_env: SystemEnv,
    /// The world's own L1 batch env (each batch brings the one it runs in).
    pub l1_batch_env: L1BatchEnv,
    pub pubdata_params: PubdataParams,
    pub storage: LayerMessage,
}

/// One storage layer: slots by hashed key, and factory deps by hash.
#[derive(Serialize, Deserialize)]
pub struct LayerMessage {
    pub slots: Vec<(H256, H256, Option<u64>)>,
    pub factory_deps: Vec<(H256, HexBytes)>,
}

impl LayerMessage {
    pub fn of(layer: &StorageLayer) -> Self {
        let mut slots: Vec<_> = (layer.slots())
            .map(|(key, slot)| (key, slot.value, slot.enumeration_index))
            .collect();
        slots.sort();
        let mut factory_deps: Vec<_> = (layer.factory_deps())
            .map(|(hash, code)| (hash, HexBytes(code.to_vec())))
            .collect();
        factory_deps.sort_by_key(|(hash, _)| *hash);
        Self {
            slots,
            factory_deps,
        }
    }

    pub fn into_layer(self) -> StorageLayer {
        let mut layer = StorageLayer::default();
        for (key, value, enumeration_index) in self.slots {
            let slot = Slot {
                value,
                enumeration_index,
            };
            layer.insert_hashed(key, slot);
        }
        for (hash, code) in self.factory_deps {
            layer.store_factory_dep(hash, code.0);
        }
        layer
    }
}

/// One batch to run in the world the child holds.
#[derive(Serialize, Deserialize)]
pub struct BatchMessage {
    pub l1_batch_env: L1BatchEnv,
    pub execution_mode: TxExecutionMode,
    /// The batch's set-up over the base storage.
    pub setup: LayerMessage,
    pub batch: Batch,
    /// Run no transaction after this one and leave the batch unsealed.
    pub last_transaction: Option<usize>,
    /// Record every executed instruction.
    pub steps: bool,
}

/// The child's answer to a world.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ready {
    pub protocol: u32,
    pub engine: String,
}

/// A frame: its tag and payload.
#[derive(Debug)]
pub struct Frame {
    pub tag: u8,
    pub payload: Vec<u8>,
}

/// Writes one frame and flushes it.
pub fn write_frame(out: &mut impl Write, tag: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len() + 1)
        .ok()
        .filter(|&len| len <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(&[tag])?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame; `None` at a clean end of input (before a frame starts).
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut len = [0; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_FRAME {
        let problem = format!("a frame of {len} bytes (1 to {MAX_FRAME})");
        return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
    }
    // Read what arrives rather than allocating what the length claims.
    let mut body = Vec::new();
    input.take(u64::from(len)).read_to_end(&mut body)?;
    if body.len() != len as usize {
        let problem = format!("a frame of {len} bytes ended after {}", body.len());
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, problem));
    }
    let tag = body.remove(0);
    Ok(Some(Frame { tag, payload: body }))
}
