//! Process engines: any program speaking the engine protocol ([`super::protocol`]) runs
//! batches in its own process. One long-lived child per worker thread at a time (a pool), the
//! world sent once per child. A child that exits, hangs past the timeout or answers garbage
//! gives an outcome recording it ([`Stage::EngineProcess`]); it is killed, and the next batch
//! starts a fresh one.

use std::{
    ffi::OsString,
    io::{BufRead, BufReader, BufWriter},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError},
        Arc, Mutex,
    },
    time::Duration,
};

use zksync_vm_interface::SystemEnv;

use super::protocol::{
    read_frame, write_frame, BatchMessage, Frame, LayerMessage, Ready, WorldMessage, VERSION,
};
use crate::engine::{Engine, Observe, Observed};
use crate::{
    batch::Batch,
    outcome::{Outcome, ProcessFault, Stage, VmPanic},
    steps::StepTrace,
    world::{StorageLayer, World},
};

/// How long a batch may take in a child before the child counts as hung.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An engine in a child process.
pub struct ProcessEngine {
    name: String,
    program: OsString,
    args: Vec<OsString>,
    timeout: Duration,
    idle: Mutex<Vec<Running>>,
    restarts: AtomicU64,
}

/// A running child, and the world it holds (kept alive, so it is identified by address).
struct Running {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    frames: Receiver<std::io::Result<Frame>>,
    world: Option<(Arc<SystemEnv>, Arc<StorageLayer>)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ProcessEngine {
    /// The engine `name`, run as `program args…`.
    pub fn new(name: impl Into<String>, program: impl Into<OsString>, args: &[&str]) -> Self {
        Self {
            name: name.into(),
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            timeout: DEFAULT_TIMEOUT,
            idle: Mutex::default(),
            restarts: AtomicU64::new(0),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Children killed after a failure (each replaced by a fresh one when next needed).
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// An idle child from the pool, or a fresh one.
    fn take(&self) -> Result<Running, String> {
        let idle = self.idle.lock().expect("the pool is never poisoned").pop();
        idle.map_or_else(|| self.spawn(), Ok)
    }

    /// Returns a child that answered as it should to the pool.
    fn put(&self, running: Running) {
        self.idle
            .lock()
            .expect("the pool is never poisoned")
            .push(running);
    }

    fn spawn(&self) -> Result<Running, String> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {:?}: {err}", self.program))?;
        // The child's stderr is copied line by line to this process's stderr, wherever that
        // goes (a command capturing what VMs print counts these lines too). Inheriting it
        // instead would let idle children hold a capture's pipe open.
        let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("{line}");
            }
        });
        let stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (sender, frames) = mpsc::channel();
        // Frames are read on a thread of their own, so that a silent child can time out.
        std::thread::spawn(move || loop {
            let frame = read_frame(&mut stdout);
            let end = !matches!(frame, Ok(Some(_)));
            let frame = frame
                .and_then(|frame| frame.ok_or_else(|| std::io::ErrorKind::UnexpectedEof.into()));
            if sender.send(frame).is_err() || end {
                break;
            }
        });
        Ok(Running {
            child,
            stdin,
            frames,
            world: None,
        })
    }

    /// Sends a request and waits for the answer.
    fn exchange(&self, running: &mut Running, tag: u8, payload: &[u8]) -> Result<Frame, Failure> {
        write_frame(&mut running.stdin, tag, payload)
            .map_err(|err| Failure(ProcessFault::Exited, format!("cannot write to it: {err}")))?;
        self.receive(running)
    }

    /// Waits for the child's next frame.
    fn receive(&self, running: &mut Running) -> Result<Frame, Failure> {
        match running.frames.recv_timeout(self.timeout) {
            Ok(Ok(frame)) if frame.tag == b'E' => Err(Failure(
                ProcessFault::Garbage,
                format!("it refused: {}", String::from_utf8_lossy(&frame.payload)),
            )),
            Ok(Ok(frame)) => Ok(frame),
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                let status = running
                    .child
                    .wait()
                    .map_or_else(|err| err.to_string(), |s| s.to_string());
                Err(Failure(
                    ProcessFault::Exited,
                    format!("it ended ({status})"),
                ))
            }
            Ok(Err(err)) => Err(Failure(
                ProcessFault::Garbage,
                format!("unreadable frame: {err}"),
            )),
            Err(RecvTimeoutError::Timeout) => Err(Failure(
                ProcessFault::Hung,
                format!("no answer in {:?}", self.timeout),
            )),
            Err(RecvTimeoutError::Disconnected) => Err(Failure(
                ProcessFault::Exited,
                "its output closed".to_owned(),
            )),
        }
    }

    /// Sends `world` to `running` unless it holds it already.
    fn hold(&self, running: &mut Running, world: &World) -> Result<(), Failure> {
        let base = world.storage.base();
        let holds = running.world.as_ref().is_some_and(|(system_env, layer)| {
            Arc::ptr_eq(system_env, &world.system_env) && Arc::ptr_eq(layer, base)
        });
        if !holds {
            let message = WorldMessage {
                origin: world.origin.clone(),
                system_env: (*world.system_env).clone(),
                l1_batch_env: world.l1_batch_env.clone(),
                pubdata_params: world.pubdata_params,
                storage: LayerMessage::of(base),
            };
            let payload = serde_json::to_vec(&message).expect("worlds serialize to JSON");
            let frame = self.exchange(running, b'W', &payload)?;
            let ready: Ready = (frame.tag == b'R')
                .then(|| serde_json::from_slice(&frame.payload).ok())
                .flatten()
                .ok_or_else(|| {
                    Failure(ProcessFault::Garbage, "no ready answer to the world".into())
                })?;
            if ready.protocol != VERSION {
                let problem = format!("it speaks protocol {}, not {VERSION}", ready.protocol);
                return Err(Failure(ProcessFault::Garbage, problem));
            }
            running.world = Some((world.system_env.clone(), base.clone()));
        }
        Ok(())
    }

    /// Runs one batch on `running`, sending the world first if it holds another.
    fn run_on(
        &self,
        running: &mut Running,
        world: &World,
        batch: &Batch,
        observe: &Observe,
    ) -> Result<(Outcome, Option<StepTrace>), Failure> {
        self.hold(running, world)?;
        let message = BatchMessage {
            l1_batch_env: world.l1_batch_env.clone(),
            execution_mode: world.system_env.execution_mode,
            setup: LayerMessage::of(world.storage.overlay()),
            batch: batch.clone(),
            last_transaction: observe.last_transaction,
            steps: observe.steps,
        };
        let payload = serde_json::to_vec(&message).expect("batches serialize to JSON");
        let mut frame = self.exchange(running, b'B', &payload)?;
        let mut steps = None;
        if frame.tag == b'S' {
            let trace = postcard::from_bytes(&frame.payload).map_err(|err| {
                Failure(ProcessFault::Garbage, format!("unreadable steps: {err}"))
            })?;
            steps = Some(trace);
            frame = self.receive(running)?;
        }
        let outcome = (frame.tag == b'O')
            .then(|| postcard::from_bytes(&frame.payload).ok())
            .flatten()
            .ok_or_else(|| {
                let problem = format!(
                    "a {}-byte `{}` frame, not an outcome",
                    frame.payload.len(),
                    frame.tag as char
                );
                Failure(ProcessFault::Garbage, problem)
            })?;
        Ok((outcome, steps))
    }
}

/// Why a child failed a batch.
struct Failure(ProcessFault, String);

impl Engine for ProcessEngine {
    fn name(&self) -> &str {
        &self.name
    }

    /// A child that refuses the world (e.g. its release cannot run the world's protocol
    /// version) says why; a child that accepts it stays in the pool.
    fn check(&self, world: &World) -> Result<(), String> {
        let mut running = self.take()?;
        self.hold(&mut running, world)
            .map_err(|Failure(_, problem)| problem)?;
        self.put(running);
        Ok(())
    }

    /// Steps as far as the child's engine records them; opcodes are not counted.
    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        let result = match self.take() {
            Ok(mut running) => match self.run_on(&mut running, world, batch, observe) {
                Ok(observed) => {
                    self.put(running);
                    Ok(observed)
                }
                // Dropping the child kills it; the next batch starts a fresh one.
                Err(failure) => {
                    self.restarts.fetch_add(1, Ordering::Relaxed);
                    Err(failure)
                }
            },
            Err(problem) => Err(Failure(ProcessFault::Exited, problem)),
        };
        let (outcome, steps) = result.unwrap_or_else(|Failure(fault, problem)| {
            let panic = VmPanic {
                stage: Stage::EngineProcess(fault),
                message: format!("engine process {}: {problem}; it is restarted", self.name),
                location: None,
            };
            let outcome = Outcome {
                panic: Some(panic),
                ..Outcome::default()
            };
            (outcome, None)
        });
        Observed {
            outcome,
            steps,
            opcodes: None,
            cells: None,
        }
    }
}
