//! Step traces: one canonical record per executed instruction, so that two engines can be
//! compared instruction by instruction and a divergence named by its cause, the first
//! instruction where they part ways ([`cause`]).
//!
//! A record holds where the instruction ran (call depth, code address, pc), which opcode variant
//! executed (as zkevm_opcode_defs names it; an instruction whose condition failed executes as
//! `Nop`, a panic as `Ret(Panic)`, in both VMs) and what it changed: the registers it wrote (value
//! and pointer tag), the heap or stack word it stored, the flags, the pubdata counter, and the
//! ergs left, stack pointer, heap bounds and heap pages of the frame it leaves the VM in.
//! Storage, events and the memory that far calls and precompiles write are not recorded
//! themselves: they reach registers when read back, and their operands are registers written by
//! earlier steps.

use std::{cell::RefCell, collections::HashMap, fmt, rc::Rc, sync::OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{Opcode, UMAOpcode};
use zksync_types::{Address, U256};

use crate::outcome::{Outcome, Word};

/// Registers r1..r15 (r0 is always zero): value and pointer tag.
pub type Registers = [(U256, bool); 15];

/// One executed instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Call frames, near calls included (1 in the bootloader), before the instruction.
    pub depth: u16,
    /// The code address of the frame that executed the instruction.
    pub contract: Address,
    /// The instruction's pc; `None` where the engine has none (vm2, during a panic).
    pub pc: Option<u16>,
    #[serde(serialize_with = "opcode_name", deserialize_with = "opcode_by_name")]
    pub opcode: Opcode,
    /// Registers whose value or pointer tag the instruction changed (most instructions write
    /// at most two: kept inline, so recording a step allocates nothing).
    pub writes: Writes,
    /// The word a heap store (`UMA(HeapWrite)`, `UMA(AuxHeapWrite)`) wrote, or an instruction
    /// with a stack destination (see [`stack_slots`]), read back from memory after it; `None`
    /// for any other instruction, and for one that failed.
    pub stored: Option<Stored>,
    /// Whether the engine raises a panic after the instruction: it failed while it executed (a
    /// pointer operation on a non-pointer, an unpayable memory growth, …); for vm2 also when it
    /// sent the pc out of the program, for zk_evm also when it was a far call whose callee fails
    /// at once. An instruction that fails before it executes (too few ergs for its price, a
    /// kernel-only instruction in user mode) is recorded as the `Ret(Panic)` it becomes.
    #[serde(default)]
    pub failed: bool,
    /// Flags after the instruction: less than (or overflow), equal, greater than.
    pub flags: [bool; 3],
    /// Ergs left in the frame the instruction leaves the VM in.
    pub ergs: u32,
    /// The stack pointer of the frame the instruction leaves the VM in.
    pub sp: u16,
    pub heap_bound: u32,
    pub aux_heap_bound: u32,
    /// The pubdata the transaction has spent so far (storage writes are priced when they
    /// execute; `context.meta` returns it).
    pub pubdata: i32,
    /// The page numbers of the heap and aux heap of the frame the instruction leaves the VM in:
    /// never compared (they are implementation-defined), but they tell the page-id tolerance
    /// which page a pointer points into.
    pub pages: [u32; 2],
}

/// The registers one instruction wrote.
pub type Writes = SmallVec<[RegisterWrite; 2]>;

/// A register an instruction wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterWrite {
    /// 1..=15.
    pub register: u8,
    pub value: Word,
    pub pointer: bool,
}

/// A word an instruction wrote to memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub memory: Memory,
    /// Byte offset in the frame's heap or aux heap; slot in its stack.
    pub offset: u32,
    /// The 32 bytes at `offset` after the store.
    pub value: Word,
    /// The stack slot's pointer tag (heap words have none: always false).
    pub pointer: bool,
}

/// The memory of a frame that an instruction writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Memory {
    Heap,
    AuxHeap,
    Stack,
}

impl Memory {
    /// The heap that `opcode` stores to, if it is a heap store.
    pub fn stored_by(opcode: Opcode) -> Option<Self> {
        match opcode {
            Opcode::UMA(UMAOpcode::HeapWrite) => Some(Self::Heap),
            Opcode::UMA(UMAOpcode::AuxHeapWrite) => Some(Self::AuxHeap),
            _ => None,
        }
    }
}

fn opcode_name<S: Serializer>(opcode: &Opcode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{opcode:?}"))
}

/// The opcode variant `opcode_name` names (for step traces read back from an engine process).
fn opcode_by_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Opcode, D::Error> {
    static BY_NAME: OnceLock<HashMap<String, Opcode>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let variants = crate::isa::opcode_variants().into_iter();
        variants
            .map(|opcode| (format!("{opcode:?}"), opcode))
            .collect()
    });
    let name = String::deserialize(deserializer)?;
    (by_name.get(&name).copied())
        .ok_or_else(|| serde::de::Error::custom(format!("unknown opcode variant `{name}`")))
}

impl fmt::Display for Step {
    /// `depth 3 0x…c0de pc 12 UMA(HeapWrite): r3=0x… [0x40]=0x…, flags -e-, ergs 9812, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pc = self.pc.map_or_else(|| "-".to_owned(), |pc| pc.to_string());
        write!(
            f,
            "depth {} {:?} pc {pc} {:?}:",
            self.depth, self.contract, self.opcode
        )?;
        for write in &self.writes {
            let tag = if write.pointer { "ptr " } else { "" };
            write!(f, " r{}={tag}{}", write.register, write.value)?;
        }
        if let Some(stored) = &self.stored {
            let tag = if stored.pointer { "ptr " } else { "" };
            let (memory, offset) = (stored.memory, stored.offset);
            match memory {
                Memory::Heap => write!(f, " [{offset:#x}]=")?,
                Memory::AuxHeap => write!(f, " aux[{offset:#x}]=")?,
                Memory::Stack => write!(f, " stack[{offset}]=")?,
            }
            write!(f, "{tag}{}", stored.value)?;
        }
        if self.failed {
            f.write_str(" failed")?;
        }
        let [lt, eq, gt] = self.flags;
        let flag = |on: bool, name: char| if on { name } else { '-' };
        write!(
            f,
            ", flags {}{}{}, ergs {}, sp {}, heap {}/{}, pubdata {}",
            flag(lt, 'l'),
            flag(eq, 'e'),
            flag(gt, 'g'),
            self.ergs,
            self.sp,
            self.heap_bound,
            self.aux_heap_bound,
            self.pubdata
        )
    }
}

impl Step {
    /// The registers an instruction wrote: brings `registers` (those before it) up to `now`
    /// (register 1..=15 after it), in place, and returns the ones that changed.
    pub fn writes(registers: &mut Registers, now: impl Fn(u8) -> (U256, bool)) -> Writes {
        let mut writes = Writes::new();
        for (register, before) in (1..).zip(registers.iter_mut()) {
            let after = now(register);
            if *before != after {
                *before = after;
                writes.push(RegisterWrite {
                    register,
                    value: Word::from(after.0),
                    pointer: after.1,
                });
            }
        }
        writes
    }
}

/// The instructions one execution (an `inspect` of one transaction) ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The transaction (0-based, in batch order); a transaction re-run without bytecode
    /// compression has two segments.
    pub transaction: usize,
    /// Whether the VM was rolled back to before this execution (a halted transaction, or a
    /// compressed run that is run again): what it created, pages included, is gone.
    pub rolled_back: bool,
    pub steps: Vec<Step>,
}

impl Drop for Segment {
    /// Keeps the step buffer for the thread's next segment (see [`SPARE_BUFFERS`]).
    fn drop(&mut self) {
        let mut steps = std::mem::take(&mut self.steps);
        if !(SEGMENT_CAPACITY..=MAX_SPARE_CAPACITY).contains(&steps.capacity()) {
            return;
        }
        steps.clear();
        // During the thread's exit the spares are gone: the buffer is freed.
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < SPARE_BUFFERS {
                spare.push(steps);
            }
        });
    }
}

/// Room a segment starts with: a generated frame's steps (most run fewer than 2048), so that
/// recording rarely moves them.
const SEGMENT_CAPACITY: usize = 2048;
/// How many emptied step buffers a thread keeps, and the largest it keeps (in steps, about
/// 12 MiB). A long trace's buffer is megabytes, mapped on its own: taken afresh for every run,
/// its pages were faulted in step by step (a sixth of a frame-level run), and unmapping it
/// interrupted the other threads to flush their TLBs.
const SPARE_BUFFERS: usize = 4;
const MAX_SPARE_CAPACITY: usize = 1 << 16;

thread_local! {
    static SPARE: RefCell<Vec<Vec<Step>>> = const { RefCell::new(Vec::new()) };
}

/// An empty step buffer: a spare one if the thread has one.
fn step_buffer() -> Vec<Step> {
    (SPARE
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten())
    .unwrap_or_else(|| Vec::with_capacity(SEGMENT_CAPACITY))
}

/// Every instruction of a run, transaction by transaction (the block tip is not traced).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTrace {
    pub segments: Vec<Segment>,
    /// Where the engine panicked, if a panic (in the engine's own code, not the VM's `Panic`
    /// return) cut its trace short.
    pub panicked_at: Option<String>,
}

/// Where an engine's step tracer writes: shared by the tracers of one run, one segment per
/// transaction execution.
#[derive(Debug, Clone, Default)]
pub struct StepSink(Rc<RefCell<StepTrace>>);

impl StepSink {
    /// Starts the segment of an execution of `transaction`.
    pub fn start(&self, transaction: usize) {
        self.0.borrow_mut().segments.push(Segment {
            transaction,
            rolled_back: false,
            steps: step_buffer(),
        });
    }

    pub fn push(&self, step: Step) {
        if let Some(segment) = self.0.borrow_mut().segments.last_mut() {
            segment.steps.push(step);
        }
    }

    /// Steps recorded in the current segment.
    pub fn recorded(&self) -> usize {
        self.0.borrow().segments.last().map_or(0, |s| s.steps.len())
    }

    /// The trace of a frame-level run (one execution), cut short where the engine panicked if
    /// it did.
    pub fn into_frame_trace(self, panicked_at: Option<String>) -> StepTrace {
        let mut trace = std::mem::take(&mut *self.0.borrow_mut());
        trace.panicked_at = panicked_at;
        trace
    }

    /// The trace of a run that ended with `outcome`, each execution marked rolled back if it
    /// was run again or its transaction was not included.
    pub fn finish(&self, outcome: &Outcome) -> StepTrace {
        let mut trace = std::mem::take(&mut *self.0.borrow_mut());
        let transactions: Vec<usize> = trace.segments.iter().map(|s| s.transaction).collect();
        for (index, segment) in trace.segments.iter_mut().enumerate() {
            let run_again = transactions.get(index + 1) == Some(&segment.transaction);
            let included = outcome
                .transactions
                .get(segment.transaction)
                .is_some_and(|tx| tx.included);
            segment.rolled_back = run_again || !included;
        }
        trace.panicked_at = outcome.panic.as_ref().map(|panic| match &panic.location {
            Some(location) => location.to_string(),
            None => "an unknown location".to_owned(),
        });
        trace
    }
}
