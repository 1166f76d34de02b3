//! zk_evm driven directly: the entry program's code is written into the first frame's code page
//! and the frame pushed as the VM's first context, as zksync_multivm starts its bootloader; the
//! other programs are decommitted by hash. Storage goes through zksync_multivm's storage oracle,
//! so refunds and pubdata are priced as in the reference batch VM; memory is its memory; events,
//! decommits and precompiles are zk_evm's reference implementations.

use std::{cell::RefCell, fmt, rc::Rc};

use zk_evm::{
    aux_structures::{MemoryPage, PubdataCost, Timestamp},
    block_properties::BlockProperties,
    reference_impls::{decommitter::SimpleDecommitter, event_sink::InMemoryEventSink},
    tracing::{
        AfterDecodingData, AfterExecutionData, BeforeExecutionData, Tracer, VmLocalStateData,
    },
    vm_state::{CallStackEntry, PrimitiveValue, Version, VmState},
    witness_trace::DummyTracer,
    zk_evm_abstractions::precompiles::DefaultPrecompilesProcessor,
    zkevm_opcode_defs::{
        system_params::INITIAL_FRAME_FORMAL_EH_LOCATION, FatPointer, BOOTLOADER_CALLDATA_PAGE,
        BOOTLOADER_CODE_PAGE, NEW_FRAME_MEMORY_STIPEND,
    },
};
use zksync_multivm::vm_latest::{HistoryDisabled, SimpleMemory, StorageOracle};
use zksync_types::{h256_to_u256, u256_to_h256, AccountTreeId, StorageKey, U256};
use zksync_vm_interface::storage::{InMemoryStorage, StorageView, WriteStorage};

use super::stopped;
use crate::{
    engine::vm_latest,
    frame::{account_code_hash, Frame, FrameLog, FrameOutcome, FrameResult},
    outcome::Word,
    steps::StepSink,
    support::bytes::HexBytes,
};

/// The memory the reference's tracers read.
pub(super) type Memory = SimpleMemory<HistoryDisabled>;

/// Tracers written for the reference batch VM (zksync_multivm's `DynTracer`), watching a frame.
type Watchers = vm_latest::Watchers<HistoryDisabled>;

/// Runs `frame` on zk_evm with `watchers` watching every instruction. `Err` if zk_evm stopped
/// with an error (a hash its decommitter does not hold).
pub(super) fn run(
    frame: &Frame,
    watchers: Watchers,
    (steps, limit): (&StepSink, usize),
) -> Result<FrameOutcome, String> {
    let initial = frame.initial_storage();
    let mut storage = InMemoryStorage::default();
    for (&(address, key), &value) in &initial {
        let key = StorageKey::new(AccountTreeId::new(address), u256_to_h256(key));
        storage.set_value(key, u256_to_h256(value));
    }
    let view = Rc::new(RefCell::new(StorageView::new(storage)));
    let mut decommitter = SimpleDecommitter::<false>::new();
    decommitter.populate(
        (frame.codes().into_iter())
            .map(|(hash, code)| (h256_to_u256(hash), words(&code)))
            .collect(),
    );
    let account = h256_to_u256(account_code_hash());
    let properties = BlockProperties {
        default_aa_code_hash: account,
        evm_emulator_code_hash: account,
        zkporter_is_available: false,
    };
    let mut vm = VmState::empty_state(
        StorageOracle::<_, HistoryDisabled>::new(view.clone()),
        Memory::default(),
        InMemoryEventSink::new(),
        DefaultPrecompilesProcessor::<false>,
        decommitter,
        DummyTracer,
        properties,
        Version::latest(),
    );
    let entry = &frame.contracts[0];
    let calldata_page = BOOTLOADER_CALLDATA_PAGE;
    vm.memory.populate(
        vec![
            (BOOTLOADER_CODE_PAGE, words(&entry.bytecode.0)),
            (calldata_page, words(&frame.calldata.0)),
        ],
        Timestamp(0),
    );
    vm.local_state.callstack.current.ergs_remaining = frame.ergs;
    vm.push_bootloader_context(
        0,
        CallStackEntry {
            this_address: entry.address,
            msg_sender: frame.caller,
            code_address: entry.address,
            base_memory_page: MemoryPage(BOOTLOADER_CODE_PAGE),
            code_page: MemoryPage(BOOTLOADER_CODE_PAGE),
            sp: 0,
            pc: 0,
            exception_handler_location: INITIAL_FRAME_FORMAL_EH_LOCATION,
            ergs_remaining: frame.ergs,
            this_shard_id: 0,
            caller_shard_id: 0,
            code_shard_id: 0,
            is_static: false,
            is_local_frame: false,
            context_u128_value: frame.value,
            heap_bound: NEW_FRAME_MEMORY_STIPEND,
            aux_heap_bound: NEW_FRAME_MEMORY_STIPEND,
            total_pubdata_spent: PubdataCost(0),
            stipend: 0,
        },
    );
    // r1: the calldata pointer, as a far call passes it.
    let calldata = FatPointer {
        offset: 0,
        memory_page: calldata_page,
        start: 0,
        length: frame.calldata.0.len() as u32,
    };
    vm.local_state.registers[0] = PrimitiveValue {
        value: calldata.to_u256(),
        is_pointer: true,
    };

    let mut tracer = Adapter {
        watchers,
        storage: Rc::new(RefCell::new(())),
    };
    while !vm.execution_has_ended() {
        if steps.recorded() >= limit {
            return Ok(stopped());
        }
        vm.cycle(&mut tracer).map_err(|error| error.to_string())?;
    }

    // The first context, back in charge: pc 0 after a return, the entry's exception handler
    // after a revert or a panic, which also sets the less-than flag.
    let local = &vm.local_state;
    let returned = FatPointer::from_u256(local.registers[0].value);
    let data = || {
        let (start, length) = (
            returned.start + returned.offset,
            returned.length - returned.offset,
        );
        let bytes = vm.memory.read_unaligned_bytes(
            returned.memory_page as usize,
            start as usize,
            length as usize,
        );
        HexBytes(bytes)
    };
    let result = match (
        local.callstack.current.pc,
        local.flags.overflow_or_less_than_flag,
    ) {
        (0, _) => FrameResult::Ok(data()),
        (_, false) => FrameResult::Revert(data()),
        (_, true) => FrameResult::Panic,
    };
    let ergs_left = local.callstack.current.ergs_remaining;
    let storage = (view.borrow().modified_storage_keys().iter())
        .filter(|(key, value)| {
            let before = initial.get(&(*key.address(), h256_to_u256(*key.key())));
            before.copied().unwrap_or_default() != h256_to_u256(**value)
        })
        .map(|(key, value)| ((*key.address(), Word::from(*key.key())), Word::from(*value)))
        .collect();
    let (_, events, messages) = vm.event_sink.flatten();
    let log = |message: &zk_evm::reference_impls::event_sink::EventMessage| FrameLog {
        address: message.address,
        key: Word::from(message.key),
        value: Word::from(message.value),
        first: message.is_first,
    };
    Ok(FrameOutcome {
        result: Some(result),
        ergs_left,
        storage,
        events: events.iter().map(log).collect(),
        l2_to_l1: messages.iter().map(log).collect(),
        panic: None,
    })
}

/// Bytes as 32-byte big-endian words, the last zero-padded.
fn words(bytes: &[u8]) -> Vec<U256> {
    bytes
        .chunks(32)
        .map(|chunk| {
            let mut word = [0; 32];
            word[..chunk.len()].copy_from_slice(chunk);
            U256::from_big_endian(&word)
        })
        .collect()
}

/// zk_evm's tracer interface over the reference batch VM's tracers, which also take a storage
/// pointer (a frame's tracers use none).
struct Adapter {
    watchers: Watchers,
    storage: Rc<RefCell<()>>,
}

impl fmt::Debug for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} watchers", self.watchers.len())
    }
}

impl Tracer for Adapter {
    const CALL_AFTER_DECODING: bool = true;
    const CALL_BEFORE_EXECUTION: bool = true;
    const CALL_AFTER_EXECUTION: bool = true;
    type SupportedMemory = Memory;

    fn before_decoding(&mut self, _state: VmLocalStateData<'_>, _memory: &Memory) {}

    fn after_decoding(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterDecodingData,
        memory: &Memory,
    ) {
        for watcher in &mut self.watchers {
            watcher.after_decoding(state, data, memory);
        }
    }

    fn before_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        data: BeforeExecutionData,
        memory: &Memory,
    ) {
        for watcher in &mut self.watchers {
            watcher.before_execution(state, data, memory, self.storage.clone());
        }
    }

    fn after_execution(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterExecutionData,
        memory: &Memory,
    ) {
        for watcher in &mut self.watchers {
            watcher.after_execution(state, data, memory, self.storage.clone());
        }
    }
}
