//! Tolerances: differences that are implementation-defined and invisible to user code, each
//! named, documented, counted where it applies and switchable (`--strict` switches every one
//! off). A new tolerance is one variant of [`Tolerance`], its name, and its rule where steps are
//! compared (`divergence/steps/`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Differences that are implementation-defined and invisible to user code, normalized under a
/// name. Each is counted where it applies and can be switched off (`--strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// Memory page numbers in fat pointers (bits 32..64): zk_evm numbers pages from a counter
    /// that grows by 8 per far call, vm2 numbers heaps in allocation order. Only kernel code can
    /// read them (the system contracts do, to build and check pointers). Each engine's pages are
    /// listed in order of first appearance in a pointer; two register values are the same if
    /// they differ by exactly the difference of the n-th page of each engine, at any bit
    /// position (a pointer, or a page number that kernel code shifted, masked or offset). A
    /// pointer's page field holding pages both engines have seen is decided by their order.
    PageIds,
    /// Values computed from page numbers: kernel code that reads a pointer as an integer and
    /// computes with it (multiplies, divides, shifts right, rotates…) gets results that differ
    /// by more than a page field. The registers that an arithmetic, logic, shift or pointer
    /// instruction writes may differ if one of the registers it read differed only through
    /// page numbers (by `page_ids`, or by this rule before); they then count as differing only
    /// through page numbers themselves. Such a register stored to the heap makes the stored word
    /// differ, and so does a load that reads any of its bytes back; a stack slot is followed like
    /// a register (a result written to it, and an instruction that reads it). Nothing else is
    /// excused: flags, calls, returns, storage and what reaches the outcome are compared as
    /// ever. The instruction's operands are decoded from the code at its pc in the world the
    /// batch ran in (code deployed during the batch is not looked up, so the rule does not
    /// apply there).
    PageValues,
    /// Heap bounds of a frame that is about to go: an instruction that cannot pay for the
    /// memory it would reach fails and panics, and zk_evm grows the frame's heap or aux heap
    /// bound before failing, where vm2 leaves it (so does a far call that passes memory it
    /// cannot pay for). When the next step is a panic that removes the frame (a far call's
    /// frame, not a near call's), nothing can see that bound again, and the bounds of that one
    /// step are excused. In a frame that lives on (a near call's panic) the grown bound makes
    /// later memory cheaper, and it is named where it shows.
    DyingFrame,
}

impl Tolerance {
    /// Every tolerance, in declaration order (the order reports list them).
    pub const ALL: [Self; 3] = [Self::PageIds, Self::PageValues, Self::DyingFrame];

    pub fn name(self) -> &'static str {
        match self {
            Self::PageIds => "page_ids",
            Self::PageValues => "page_values",
            Self::DyingFrame => "dying_frame",
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which tolerances apply: a set of [`Tolerance`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerances(u8);

impl Tolerances {
    /// Every tolerance on: the default.
    pub const DEFAULT: Self = Self((1 << Tolerance::ALL.len()) - 1);
    /// None: every difference counts (`--strict`).
    pub const STRICT: Self = Self(0);

    pub const fn allows(self, tolerance: Tolerance) -> bool {
        self.0 >> tolerance as u8 & 1 == 1
    }

    /// This set without `tolerance`.
    pub const fn without(self, tolerance: Tolerance) -> Self {
        Self(self.0 & !(1 << tolerance as u8))
    }
}

impl Default for Tolerances {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How many differences each tolerance excused.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tolerated([u64; Tolerance::ALL.len()]);

impl Tolerated {
    pub fn count(&mut self, tolerance: Tolerance) {
        self.0[tolerance as usize] += 1;
    }

    /// The tolerances that excused anything, with how often.
    pub fn list(&self) -> Vec<(Tolerance, u64)> {
        (Tolerance::ALL.into_iter().zip(self.0))
            .filter(|&(_, count)| count > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tolerance_has_its_own_bit_in_declaration_order() {
        for (index, tolerance) in Tolerance::ALL.into_iter().enumerate() {
            assert_eq!(tolerance as usize, index);
            assert!(Tolerances::DEFAULT.allows(tolerance));
            assert!(!Tolerances::STRICT.allows(tolerance));
            let without = Tolerances::DEFAULT.without(tolerance);
            for other in Tolerance::ALL {
                assert_eq!(without.allows(other), other != tolerance);
            }
        }
    }
}
