//! The child side of the engine protocol ([`super::protocol`]): serves one in-process engine
//! on a reader and a writer (`eravm-diff serve-engine NAME` on stdin and stdout). Shared with
//! the engine binaries of other zksync_multivm releases (engines/).

use std::{
    fs::File,
    io::{self, BufWriter, Read, Write},
    os::fd::FromRawFd,
    sync::Arc,
};

use super::protocol::{read_frame, write_frame, BatchMessage, Ready, WorldMessage, VERSION};
use crate::{
    batch::Batch,
    outcome::Outcome,
    world::{World, WorldStorage},
};

/// What [`serve`] asks of the engine it serves.
pub trait Served {
    /// The engine's name, sent in the ready answer.
    fn name(&self) -> String;

    /// Why this engine cannot run batches in `world`, if it cannot (e.g. its protocol version).
    fn refuses(&self, _world: &World) -> Option<String> {
        None
    }

    /// Runs `batch` in `world`, stopping after `last_transaction` if given: the outcome, and the
    /// step trace (postcard of the harness's `StepTrace`) when `steps` asks for it and the
    /// engine records steps.
    fn run(
        &self,
        world: &World,
        batch: &Batch,
        last_transaction: Option<usize>,
        steps: bool,
    ) -> (Outcome, Option<Vec<u8>>);
}

/// [`serve`] on this process's stdin and stdout. Frames go to the original stdout; anything else
/// printing to stdout (a VM's `println!`) goes to stderr instead of corrupting them.
pub fn serve_stdio(engine: &(impl Served + ?Sized), fault: Option<&str>) -> io::Result<()> {
    // SAFETY: plain descriptor calls on descriptors this process owns.
    let protocol = unsafe { libc::dup(1) };
    if protocol < 0 || unsafe { libc::dup2(2, 1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `protocol` is a fresh descriptor that nothing else owns.
    let output = BufWriter::new(unsafe { File::from_raw_fd(protocol) });
    serve(engine, io::stdin().lock(), output, fault)
}

/// Serves `engine` until `input` ends: worlds are built once, batches run in the latest one.
///
/// `fault`, for testing how the harness handles broken engines: `KIND:MARKER` makes the first
/// batch served while file MARKER does not exist `abort` the process, `hang`, or be answered
/// with `garbage`; MARKER is created then, so the restarted child serves normally.
pub fn serve(
    engine: &(impl Served + ?Sized),
    mut input: impl Read,
    mut output: impl Write,
    fault: Option<&str>,
) -> io::Result<()> {
    let mut world: Option<World> = None;
    while let Some(frame) = read_frame(&mut input)? {
        match frame.tag {
            b'W' => match serde_json::from_slice::<WorldMessage>(&frame.payload) {
                Ok(message) => {
                    let offered = World::new(
                        message.origin,
                        message.system_env,
                        message.l1_batch_env,
                        message.pubdata_params,
                        message.storage.into_layer(),
                    );
                    if let Some(problem) = engine.refuses(&offered) {
                        world = None;
                        write_frame(&mut output, b'E', problem.as_bytes())?;
                        continue;
                    }
                    world = Some(offered);
                    let ready = Ready {
                        protocol: VERSION,
                        engine: engine.name(),
                    };
                    let ready = serde_json::to_vec(&ready).expect("ready serializes");
                    write_frame(&mut output, b'R', &ready)?;
                }
                Err(err) => write_frame(
                    &mut output,
                    b'E',
                    format!("cannot read the world: {err}").as_bytes(),
                )?,
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
                let (outcome, steps) = engine.run(
                    &world,
                    &message.batch,
                    message.last_transaction,
                    message.steps,
                );
                if let Some(steps) = steps {
                    write_frame(&mut output, b'S', &steps)?;
                }
                write_frame(&mut output, b'O', &outcome.canonical_bytes())?;
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
