//! zksync_vm2 driven directly: the entry program is the VM's initial frame; a small world serves
//! storage and decommits programs by hash. The world prices storage writes as vm_fast's world
//! does (vm2 leaves that to its host), so that pubdata counters compare with zk_evm's.

use std::collections::{BTreeMap, HashMap};

use zksync_system_constants::{EVENT_WRITER_ADDRESS, SYSTEM_CONTEXT_ADDRESS};
use zksync_types::{
    writes::{
        compression::compress_with_best_strategy, BYTES_PER_DERIVED_KEY,
        BYTES_PER_ENUMERATION_INDEX,
    },
    Address, U256,
};
use zksync_vm2::{
    interface::{
        CallframeInterface, GlobalStateInterface, OpcodeType, ShouldStop, StateInterface, Tracer,
    },
    ExecutionEnd, Program, Settings, StorageInterface, StorageSlot, VirtualMachine, World,
};

use super::stopped;
use crate::{
    frame::{account_code_hash, code_hash, Frame, FrameLog, FrameOutcome, FrameResult},
    outcome::Word,
    steps::StepSink,
    support::bytes::HexBytes,
};

/// The world a frame runs in, as vm2 asks for it.
struct FrameWorld<T: Tracer> {
    storage: BTreeMap<(Address, U256), U256>,
    programs: HashMap<U256, Program<T, Self>>,
}

impl<T: Tracer> StorageInterface for FrameWorld<T> {
    fn read_storage(&mut self, contract: Address, key: U256) -> StorageSlot {
        match self.storage.get(&(contract, key)) {
            Some(&value) => StorageSlot {
                value,
                is_write_initial: false,
            },
            None => StorageSlot::EMPTY,
        }
    }

    /// Pubdata for a write, as the reference prices it: the key (32 bytes the first time a
    /// slot is written, a 4-byte index after) and the value compressed against the old one.
    fn cost_of_writing_storage(&mut self, initial: StorageSlot, new_value: U256) -> u32 {
        if initial.value == new_value {
            return 0;
        }
        let key = match initial.is_write_initial {
            true => BYTES_PER_DERIVED_KEY,
            false => BYTES_PER_ENUMERATION_INDEX,
        };
        u32::from(key) + compress_with_best_strategy(initial.value, new_value).len() as u32
    }

    /// The system context's slots are free, as in the reference (the bootloader's balance, the
    /// other free slot, is no frame's business).
    fn is_free_storage_slot(&self, contract: &Address, _key: &U256) -> bool {
        *contract == SYSTEM_CONTEXT_ADDRESS
    }
}

impl<T: Tracer> World<T> for FrameWorld<T> {
    /// A hash the world does not hold decommits to an empty program, which panics: the deployer
    /// storage only ever names the frame's own programs.
    fn decommit(&mut self, hash: U256) -> Program<T, Self> {
        (self.programs.get(&hash).cloned()).unwrap_or_else(|| Program::from_words(vec![], false))
    }

    fn decommit_code(&mut self, hash: U256) -> Vec<u8> {
        let program = self.decommit(hash);
        let words = program.code_page().iter();
        words.flat_map(|word| Word::from(*word).0).collect()
    }
}

/// Stops the run once its sink holds as many steps as the limit (checked after the recorder
/// watching before it in the tracer pair recorded the step).
struct StepLimit(StepSink, usize);

impl Tracer for StepLimit {
    fn after_instruction<OP: OpcodeType, S: GlobalStateInterface>(
        &mut self,
        _state: &mut S,
    ) -> ShouldStop {
        match self.0.recorded() >= self.1 {
            true => ShouldStop::Stop,
            false => ShouldStop::Continue,
        }
    }
}

/// Runs `frame` on zksync_vm2 with `tracer` watching every instruction, until `steps` holds
/// `limit` steps.
pub(super) fn run<T: Tracer>(
    frame: &Frame,
    tracer: T,
    (steps, limit): (&StepSink, usize),
) -> FrameOutcome {
    run_limited(frame, &mut (tracer, StepLimit(steps.clone(), limit)))
}

fn run_limited<T: Tracer>(frame: &Frame, tracer: &mut T) -> FrameOutcome {
    let programs: HashMap<U256, Program<T, FrameWorld<T>>> = (frame.codes().into_iter())
        .map(|(hash, code)| (word(hash.as_bytes()), Program::new(&code, false)))
        .collect();
    let mut world = FrameWorld {
        storage: frame.initial_storage(),
        programs,
    };
    let entry = &frame.contracts[0];
    let program = world.decommit(word(code_hash(&entry.bytecode.0).as_bytes()));
    let account = account_code_hash().0;
    let settings = Settings {
        default_aa_code_hash: account,
        evm_interpreter_code_hash: account,
        hook_address: 0,
    };
    let mut vm = VirtualMachine::new(
        entry.address,
        program,
        frame.caller,
        &frame.calldata.0,
        frame.ergs,
        settings,
    );
    vm.current_frame().set_context_u128(frame.value);
    vm.make_snapshot();
    let result = match vm.run(&mut world, tracer) {
        ExecutionEnd::ProgramFinished(data) => FrameResult::Ok(HexBytes(data)),
        ExecutionEnd::Reverted(data) => FrameResult::Revert(HexBytes(data)),
        ExecutionEnd::Panicked => FrameResult::Panic,
        ExecutionEnd::StoppedByTracer => return stopped(),
        end @ ExecutionEnd::SuspendedOnHook(_) => unreachable!("no hooks, yet {end:?}"),
    };
    let ergs_left = vm.current_frame().gas();
    // vm2 leaves the initial frame's changes in place when it fails: its host rolls back.
    match result {
        FrameResult::Ok(_) => vm.pop_snapshot(),
        _ => vm.rollback(),
    }
    let storage = (vm.world_diff().get_storage_changes())
        .map(|((address, key), change)| ((address, Word::from(key)), Word::from(change.after)))
        .collect();
    let events = (vm.events())
        .map(|event| FrameLog {
            address: EVENT_WRITER_ADDRESS,
            key: Word::from(event.key),
            value: Word::from(event.value),
            first: event.is_first,
        })
        .collect();
    let l2_to_l1 = (vm.l2_to_l1_logs())
        .map(|log| FrameLog {
            address: log.address,
            key: Word::from(log.key),
            value: Word::from(log.value),
            first: log.is_service,
        })
        .collect();
    FrameOutcome {
        result: Some(result),
        ergs_left,
        storage,
        events,
        l2_to_l1,
        panic: None,
    }
}

fn word(bytes: &[u8]) -> U256 {
    U256::from_big_endian(bytes)
}
