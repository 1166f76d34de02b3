//! Read-only world storage: one immutable base layer shared by every run, plus a small overlay
//! holding a batch's own set-up (deployed contracts, balances, storage overrides).

use std::{collections::HashMap, fmt, sync::Arc};

use zksync_types::{StorageKey, StorageValue, H256};
use zksync_vm_interface::storage::ReadStorage;

/// One storage slot of the pre-state: its value and, if it was ever written, its enumeration index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub value: H256,
    pub enumeration_index: Option<u64>,
}

/// Slots (by hashed storage key) and factory dependencies (by bytecode hash).
#[derive(Default, Clone)]
pub struct StorageLayer {
    slots: HashMap<H256, Slot>,
    /// Hashed keys by enumeration index.
    indexed: HashMap<u64, H256>,
    factory_deps: HashMap<H256, Arc<[u8]>>,
    max_enumeration_index: u64,
}

impl fmt::Debug for StorageLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageLayer")
            .field("slots", &self.slots.len())
            .field("factory_deps", &self.factory_deps.len())
            .finish()
    }
}

impl StorageLayer {
    /// Inserts a slot exactly as a dump records it (hashed key, enumeration index or none).
    pub fn insert_hashed(&mut self, hashed_key: H256, slot: Slot) {
        if let Some(index) = slot.enumeration_index {
            self.max_enumeration_index = self.max_enumeration_index.max(index);
            self.indexed.insert(index, hashed_key);
        }
        self.slots.insert(hashed_key, slot);
    }

    /// Sets a slot as committed pre-state, keeping the enumeration index it already has in this
    /// layer or `below`, or assigning the next free one.
    pub fn set(&mut self, key: &StorageKey, value: StorageValue, below: Option<&StorageLayer>) {
        let hashed_key = key.hashed_key();
        let existing = self
            .slots
            .get(&hashed_key)
            .or_else(|| below.and_then(|layer| layer.slots.get(&hashed_key)))
            .and_then(|slot| slot.enumeration_index);
        let index = existing.unwrap_or_else(|| {
            let floor = below.map_or(0, |layer| layer.max_enumeration_index);
            self.max_enumeration_index = self.max_enumeration_index.max(floor) + 1;
            self.max_enumeration_index
        });
        self.insert_hashed(
            hashed_key,
            Slot {
                value,
                enumeration_index: Some(index),
            },
        );
    }

    pub fn store_factory_dep(&mut self, hash: H256, bytecode: Vec<u8>) {
        self.factory_deps.insert(hash, bytecode.into());
    }

    pub fn slot(&self, key: &StorageKey) -> Option<Slot> {
        self.slots.get(&key.hashed_key()).copied()
    }

    pub fn factory_dep(&self, hash: &H256) -> Option<&[u8]> {
        self.factory_deps.get(hash).map(|code| &code[..])
    }

    /// The highest enumeration index a slot has.
    pub fn max_enumeration_index(&self) -> u64 {
        self.max_enumeration_index
    }

    /// Every slot, by hashed key (in no particular order).
    pub fn slots(&self) -> impl Iterator<Item = (H256, Slot)> + '_ {
        self.slots.iter().map(|(&key, &slot)| (key, slot))
    }

    /// Every factory dep, by hash (in no particular order).
    pub fn factory_deps(&self) -> impl Iterator<Item = (H256, &[u8])> + '_ {
        self.factory_deps
            .iter()
            .map(|(&hash, code)| (hash, &code[..]))
    }
}

/// The storage a VM reads: an overlay over a shared base. Cloning it clones two `Arc`s.
/// Slots that neither layer holds read as zero and count as never written.
#[derive(Clone)]
pub struct WorldStorage {
    base: Arc<StorageLayer>,
    overlay: Arc<StorageLayer>,
}

impl fmt::Debug for WorldStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorldStorage")
            .field("base", &self.base)
            .field("overlay", &self.overlay)
            .finish()
    }
}

impl WorldStorage {
    pub fn new(base: Arc<StorageLayer>, overlay: Arc<StorageLayer>) -> Self {
        Self { base, overlay }
    }

    pub fn base(&self) -> &Arc<StorageLayer> {
        &self.base
    }

    /// The batch's own set-up over the base.
    pub fn overlay(&self) -> &Arc<StorageLayer> {
        &self.overlay
    }

    /// The slot as the VMs see it before the batch runs.
    pub fn slot(&self, key: &StorageKey) -> Option<Slot> {
        self.slot_by_hashed_key(&key.hashed_key())
    }

    pub fn value(&self, key: &StorageKey) -> H256 {
        self.slot(key).map_or_else(H256::zero, |slot| slot.value)
    }

    pub fn factory_dep(&self, hash: &H256) -> Option<&[u8]> {
        self.overlay
            .factory_dep(hash)
            .or_else(|| self.base.factory_dep(hash))
    }

    /// The slot with hashed key `hashed_key`, as [`WorldStorage::slot`].
    pub fn slot_by_hashed_key(&self, hashed_key: &H256) -> Option<Slot> {
        self.overlay
            .slots
            .get(hashed_key)
            .or_else(|| self.base.slots.get(hashed_key))
            .copied()
    }

    /// Both layers as one (the overlay's slots and factory deps over the base's).
    pub fn flattened(&self) -> StorageLayer {
        let mut layer = (*self.base).clone();
        for (&hashed_key, &slot) in &self.overlay.slots {
            layer.insert_hashed(hashed_key, slot);
        }
        for (&hash, code) in &self.overlay.factory_deps {
            layer.factory_deps.insert(hash, code.clone());
        }
        layer
    }

    /// The highest enumeration index a slot has.
    pub fn max_enumeration_index(&self) -> u64 {
        (self.base.max_enumeration_index).max(self.overlay.max_enumeration_index)
    }

    /// The hashed key of the slot with enumeration index `index`, if any slot has it.
    pub fn hashed_key_of_index(&self, index: u64) -> Option<H256> {
        self.overlay
            .indexed
            .get(&index)
            .or_else(|| self.base.indexed.get(&index))
            .copied()
    }
}

impl ReadStorage for WorldStorage {
    fn read_value(&mut self, key: &StorageKey) -> StorageValue {
        self.value(key)
    }

    fn is_write_initial(&mut self, key: &StorageKey) -> bool {
        self.get_enumeration_index(key).is_none()
    }

    fn load_factory_dep(&mut self, hash: H256) -> Option<Vec<u8>> {
        self.factory_dep(&hash).map(<[u8]>::to_vec)
    }

    fn get_enumeration_index(&mut self, key: &StorageKey) -> Option<u64> {
        self.slot(key).and_then(|slot| slot.enumeration_index)
    }
}
