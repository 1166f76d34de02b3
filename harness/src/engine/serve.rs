//! The child side of the engine protocol ([`super::protocol`]): serves one in-process engine
//! on a reader and a writer (`eravm-diff serve-engine NAME` on stdin and stdout).

use std::{
    io::{self, Read, Write},
    sync::Arc,
};

use super::{
    protocol::{read_frame, write_frame, BatchMessage, Ready, WorldMessage, VERSION},
    Engine, Observe,
};
use crate::world::{World, WorldStorage};

/// Serves `engine` until `input` ends: worlds are built once, batches run in the latest one.
///
/// `fault`, for testing how the harness handles broken engines: `KIND:MARKER` makes the first
/// batch served while file MARKER does not exist `abort` the process, `hang`, or be answered
/// with `garbage`; MARKER is created then, so the restarted child serves normally.
pub fn serve(
    engine: &dyn Engine,
    mut input: impl Read,
    mut output: impl Write,
    fault: Option<&str>,
) -> io::Result<()> {
    let mut world: Option<World> = None;
    while let Some(frame) = read_frame(&mut input)? {
        match frame.tag {
            b'W' => match serde_json::from_slice::<WorldMessage>(&frame.payload) {
                Ok(message) => {
                    world = Some(World::new(
                        message.origin,
                        message.system_env,
                        message.l1_batch_env,
                        message.pubdata_params,
                        message.storage.into_layer(),
                    ));
                    let ready = Ready {
                        protocol: VERSION,
                        engine: engine.name().to_owned(),
                    };
                    let ready = serde_json::to_vec(&ready).expect("ready serializes");
                    write_frame(&mut output, b'R', &ready)?;
                }
                Err(err) => write_frame(&mut output, b'E', format!("bad world: {err}").as_bytes())?,
            },
            b'B' => {
                let message = match serde_json::from_slice::<BatchMessage>(&frame.payload) {
                    Ok(message) => message,
                    Err(err) => {
                        write_frame(&mut output, b'E', format!("bad batch: {err}").as_bytes())?;
                        continue;
                    }
                };
                let Some(base_world) = &world else {
                    write_frame(&mut output, b'E', b"a batch before any world")?;
                    continue;
                };
                if let Some(fault) = fault {
                    injected_fault(fault, &mut output)?;
                }
                let mut world = base_world.with_execution_mode(message.execution_mode);
                world.l1_batch_env = message.l1_batch_env;
                let setup = Arc::new(message.setup.into_layer());
                world.storage = WorldStorage::new(base_world.storage.base().clone(), setup);
                let observe = Observe {
                    last_transaction: message.last_transaction,
                    steps: message.steps,
                    ..Observe::default()
                };
                let observed = engine.run_observed(&world, &message.batch, &observe);
                if let Some(steps) = &observed.steps {
                    let steps = postcard::to_stdvec(steps).expect("steps serialize to postcard");
                    write_frame(&mut output, b'S', &steps)?;
                }
                write_frame(&mut output, b'O', &observed.outcome.canonical_bytes())?;
            }
            tag => {
                let problem = format!("unknown request tag {tag:#04x}");
                write_frame(&mut output, b'E', problem.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// Carries out `fault` (see [`serve`]), once.
fn injected_fault(fault: &str, output: &mut impl Write) -> io::Result<()> {
    let Some((kind, marker)) = fault.split_once(':') else {
        return Ok(());
    };
    if std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(marker)
        .is_err()
    {
        return Ok(());
    }
    match kind {
        "abort" => std::process::abort(),
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "garbage" => {
            output.write_all(b"\x00\x00\x00\x05Ogarb")?;
            output.flush()
        }
        _ => Ok(()),
    }
}
