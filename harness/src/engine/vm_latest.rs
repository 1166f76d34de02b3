//! The reference: `vm_latest`, built on zk_evm (the VM the circuits prove).

use std::{cell::RefCell, collections::HashSet, rc::Rc};

use zksync_multivm::{
    tracers::dynamic::vm_1_5_2::DynTracer,
    vm_latest::{self, HistoryEnabled, HistoryMode, SimpleMemory, ToTracerPointer, VmTracer},
    zk_evm_latest::{
        tracing::{AfterDecodingData, VmLocalStateData},
        zkevm_opcode_defs::{decoding::EncodingModeProduction, Opcode},
    },
};
use zksync_types::Address;
use zksync_vm_interface::storage::WriteStorage;

use super::{run_vm, run_vm_traced, Engine, OpcodeCounts, VmStorage};
use crate::{batch::Batch, outcome::Outcome, world::World};

type Vm = vm_latest::Vm<VmStorage, HistoryEnabled>;

pub struct VmLatest;

impl VmLatest {
    pub const NAME: &'static str = "vm_latest";
}

impl Engine for VmLatest {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, world: &World, batch: &Batch) -> Outcome {
        run_vm::<Vm>(world, batch)
    }

    /// Counts by the opcode the VM fetched (before an invalid or forbidden instruction is turned
    /// into a panic); instructions whose condition did not hold are not counted, and the block
    /// tip is not traced.
    fn run_counting_opcodes(
        &self,
        world: &World,
        batch: &Batch,
        code_addresses: HashSet<Address>,
    ) -> (Outcome, Option<OpcodeCounts>) {
        let counter = OpcodeCounter {
            code_addresses: Rc::new(code_addresses),
            counts: Rc::default(),
        };
        let counts = Rc::clone(&counter.counts);
        let outcome = run_vm_traced::<Vm>(world, batch, &mut || {
            vm_latest::TracerDispatcher::from(counter.clone().into_tracer_pointer())
        });
        let counts = counts.borrow().clone();
        (outcome, Some(counts))
    }
}

#[derive(Clone)]
struct OpcodeCounter {
    code_addresses: Rc<HashSet<Address>>,
    counts: Rc<RefCell<Vec<(Opcode, u64)>>>,
}

impl<S, H: HistoryMode> DynTracer<S, SimpleMemory<H>> for OpcodeCounter {
    fn after_decoding(
        &mut self,
        state: VmLocalStateData<'_>,
        data: AfterDecodingData,
        _memory: &SimpleMemory<H>,
    ) {
        let frame = &state.vm_local_state.callstack.current;
        if !data.resolved_condition || !self.code_addresses.contains(&frame.code_address) {
            return;
        }
        let (variant, _, _) =
            EncodingModeProduction::variant_and_condition_from_u64_word(data.raw_opcode_unmasked);
        let mut counts = self.counts.borrow_mut();
        match counts
            .iter_mut()
            .find(|(opcode, _)| *opcode == variant.opcode)
        {
            Some((_, count)) => *count += 1,
            None => counts.push((variant.opcode, 1)),
        }
    }
}

impl<S: WriteStorage, H: HistoryMode> VmTracer<S, H> for OpcodeCounter {}
