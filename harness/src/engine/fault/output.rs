//! Fault injection: the new VM with one class of its reported outputs perturbed, to check that
//! the harness reports each class under the right field path with its own fingerprint.

use std::sync::LazyLock;

use zksync_multivm::vm_fast::FastValidationTracer;
use zksync_types::{
    l2_to_l1_log::{L2ToL1Log, UserL2ToL1Log},
    U256,
};
use zksync_vm_interface::{
    ExecutionResult, FinishedL1Batch, VmEvent, VmExecutionResultAndLogs, VmFactory, VmInterface,
    VmInterfaceHistoryEnabled,
};

use super::hook::{Hook, Hooked};
use crate::engine::{
    vm_fast::{self, run_stepping, StepRecorder},
    Engine, Observe, Observed, VmStorage,
};
use crate::{batch::Batch, world::World};

/// One class of VM output to perturb. Declaration order is the order of [`Fault::ALL`], so
/// `fault as usize` indexes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Every transaction's execution result (output gains a byte, or a failure becomes success).
    Result,
    /// The first storage write of every transaction (value low bit flipped).
    StorageWrite,
    /// The first event of every transaction (data gains a byte; one is added if there is none).
    Event,
    /// The first user L2->L1 log of every transaction (value low bit flipped; added if none).
    L2ToL1Log,
    /// Every transaction's `gas_refunded`, plus one.
    Refund,
    /// The last byte of the batch's pubdata input.
    PubdataBytes,
    /// The first state diff's final value, plus one.
    StateDiff,
    /// The first non-zero word of the final bootloader memory (low bit flipped).
    BootloaderMemory,
}

impl Fault {
    pub const ALL: [Fault; 8] = [
        Fault::Result,
        Fault::StorageWrite,
        Fault::Event,
        Fault::L2ToL1Log,
        Fault::Refund,
        Fault::PubdataBytes,
        Fault::StateDiff,
        Fault::BootloaderMemory,
    ];

    /// Name used in engine names (`vm_fast+fault:<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::Result => "result",
            Fault::StorageWrite => "storage_write",
            Fault::Event => "event",
            Fault::L2ToL1Log => "l2_to_l1_log",
            Fault::Refund => "refund",
            Fault::PubdataBytes => "pubdata_bytes",
            Fault::StateDiff => "state_diff",
            Fault::BootloaderMemory => "bootloader_memory",
        }
    }

    fn perturb_transaction(self, result: &mut VmExecutionResultAndLogs) {
        match self {
            Fault::Result => match &mut result.result {
                ExecutionResult::Success { output } => output.push(0xff),
                other => *other = ExecutionResult::Success { output: vec![] },
            },
            Fault::StorageWrite => {
                if let Some(log) = result
                    .logs
                    .storage_logs
                    .iter_mut()
                    .find(|log| log.log.is_write())
                {
                    log.log.value.0[31] ^= 1;
                }
            }
            Fault::Event => match result.logs.events.first_mut() {
                Some(event) => event.value.push(0xff),
                None => result.logs.events.push(VmEvent::default()),
            },
            Fault::L2ToL1Log => match result.logs.user_l2_to_l1_logs.first_mut() {
                Some(log) => log.0.value.0[31] ^= 1,
                None => result
                    .logs
                    .user_l2_to_l1_logs
                    .push(UserL2ToL1Log(L2ToL1Log::default())),
            },
            Fault::Refund => result.refunds.gas_refunded += 1,
            Fault::PubdataBytes | Fault::StateDiff | Fault::BootloaderMemory => {}
        }
    }

    fn perturb_batch(self, batch: &mut FinishedL1Batch) {
        match self {
            Fault::PubdataBytes => {
                if let Some(byte) = batch
                    .pubdata_input
                    .as_mut()
                    .and_then(|input| input.last_mut())
                {
                    *byte ^= 1;
                }
            }
            Fault::StateDiff => {
                if let Some(diff) = batch
                    .state_diffs
                    .as_mut()
                    .and_then(|diffs| diffs.first_mut())
                {
                    diff.final_value = diff.final_value.overflowing_add(U256::one()).0;
                }
            }
            Fault::BootloaderMemory => {
                let memory = batch.final_bootloader_memory.iter_mut().flatten();
                if let Some((_, word)) = memory.into_iter().find(|(_, word)| !word.is_zero()) {
                    *word ^= U256::one();
                }
            }
            _ => {}
        }
    }
}

/// The hook that injects fault `Fault::ALL[FAULT]`.
#[derive(Debug, Default)]
pub struct FaultHook<const FAULT: usize>;

impl<V: VmInterface, const FAULT: usize> Hook<V> for FaultHook<FAULT> {
    fn after_transaction(
        &mut self,
        _: &V::TracerDispatcher,
        result: &mut VmExecutionResultAndLogs,
    ) {
        Fault::ALL[FAULT].perturb_transaction(result);
    }

    fn after_batch(&mut self, batch: &mut FinishedL1Batch) {
        Fault::ALL[FAULT].perturb_batch(batch);
    }
}

/// VM `V` with fault `Fault::ALL[FAULT]` injected.
pub type FaultyVm<V, const FAULT: usize> = Hooked<V, FaultHook<FAULT>>;

type Fast = vm_fast::Vm;

/// `vm_fast` with one injected fault, named `vm_fast+fault:<fault>`.
pub struct FaultyVmFast(pub Fault);

impl FaultyVmFast {
    pub const PREFIX: &'static str = "vm_fast+fault:";

    /// The engine called `name`, e.g. `vm_fast+fault:refund`.
    pub fn by_name(name: &str) -> Option<Self> {
        let fault = name.strip_prefix(Self::PREFIX)?;
        Fault::ALL.into_iter().find(|f| f.name() == fault).map(Self)
    }
}

impl Engine for FaultyVmFast {
    fn name(&self) -> &str {
        static NAMES: LazyLock<[String; 8]> = LazyLock::new(|| {
            Fault::ALL.map(|fault| format!("{}{}", FaultyVmFast::PREFIX, fault.name()))
        });
        &NAMES[self.0 as usize]
    }

    fn run_observed(&self, world: &World, batch: &Batch, observe: &Observe) -> Observed {
        use Fault::*;
        fn run<V>(world: &World, batch: &Batch, observe: &Observe) -> Observed
        where
            V: VmFactory<VmStorage>
                + VmInterfaceHistoryEnabled<TracerDispatcher = (StepRecorder, FastValidationTracer)>,
        {
            run_stepping::<V>(world, batch, observe, |recorder| {
                (recorder, FastValidationTracer::default())
            })
        }
        match self.0 {
            Result => run::<FaultyVm<Fast, { Result as usize }>>(world, batch, observe),
            StorageWrite => run::<FaultyVm<Fast, { StorageWrite as usize }>>(world, batch, observe),
            Event => run::<FaultyVm<Fast, { Event as usize }>>(world, batch, observe),
            L2ToL1Log => run::<FaultyVm<Fast, { L2ToL1Log as usize }>>(world, batch, observe),
            Refund => run::<FaultyVm<Fast, { Refund as usize }>>(world, batch, observe),
            PubdataBytes => run::<FaultyVm<Fast, { PubdataBytes as usize }>>(world, batch, observe),
            StateDiff => run::<FaultyVm<Fast, { StateDiff as usize }>>(world, batch, observe),
            BootloaderMemory => {
                run::<FaultyVm<Fast, { BootloaderMemory as usize }>>(world, batch, observe)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_indices_follow_all() {
        for (index, fault) in Fault::ALL.into_iter().enumerate() {
            assert_eq!(fault as usize, index, "{fault:?}");
            assert_eq!(
                FaultyVmFast(fault).name(),
                format!("vm_fast+fault:{}", fault.name())
            );
        }
    }
}
