//! Each engine's memory pages in order of first appearance, and the page arithmetic the
//! page-id tolerance needs.

use std::collections::{hash_map::Entry, HashMap};

use zksync_types::U256;

use crate::outcome::Word;

/// A fat pointer's memory page: bits 32..64 of the word.
pub(crate) fn page(word: &Word) -> u32 {
    u32::from_be_bytes(word.0[24..28].try_into().expect("four bytes"))
}

/// A word with its page field (bits 32..64) cleared.
pub(crate) fn outside_page(word: &Word) -> [u8; 32] {
    let mut rest = word.0;
    rest[24..28].fill(0);
    rest
}

/// Each engine's pages in order of first appearance, and the differences of the pairs of n-th
/// pages, kept so that [`Comparer::same_but_page`] looks a difference up rather than trying
/// every pair: a pair's difference `s * m * 2^t` (`m` odd) shifted left to a word difference
/// `D` means `m * 2^z = ±D (mod 2^256)`, `z` the trailing zeros of `D`, with `t <= z`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pages {
    engines: [PageMap; 2],
    /// The odd part of each pair's difference, with the fewest trailing zeros it came with.
    odd_differences: HashMap<u32, u32>,
    /// Each engine's last frame pages seen (heap, aux heap): a run of steps in one frame
    /// sees them once.
    frames: [Option<[u32; 2]>; 2],
}

impl Pages {
    /// Sees the heap and aux heap pages of the frame a step left the VM in.
    pub(crate) fn see_frame(&mut self, engine: usize, pages: [u32; 2]) {
        if self.frames[engine] != Some(pages) {
            self.frames[engine] = Some(pages);
            for page in pages {
                self.see(engine, page);
            }
        }
    }

    pub(crate) fn see(&mut self, engine: usize, page: u32) {
        if !self.engines[engine].see(page) {
            return;
        }
        // A new n-th page pairs up if the other engine already has an n-th page.
        let [reference, candidate] = &self.engines;
        let n = self.engines[engine].pages.len() - 1;
        let (Some(&p), Some(&q)) = (reference.pages.get(n), candidate.pages.get(n)) else {
            return;
        };
        let difference = p.abs_diff(q);
        if difference != 0 {
            let zeros = difference.trailing_zeros();
            let fewest = (self.odd_differences)
                .entry(difference >> zeros)
                .or_insert(zeros);
            *fewest = (*fewest).min(zeros);
        }
    }

    pub(crate) fn order(&self, engine: usize, page: u32) -> Option<usize> {
        self.engines[engine].order(page)
    }

    /// Whether a word difference (two's complement) is, up to sign, the difference of a pair
    /// of n-th pages shifted left.
    pub(crate) fn shifted_difference(&self, difference: U256) -> bool {
        if difference.is_zero() {
            return !self.odd_differences.is_empty();
        }
        let zeros = difference.trailing_zeros();
        let width = 256 - zeros as usize;
        let mask = match width {
            256 => U256::MAX,
            width => (U256::one() << width) - 1,
        };
        let odd = difference >> zeros as usize;
        let negated = U256::zero().overflowing_sub(odd).0 & mask;
        let shifts_to = |&fewest: &u32| fewest <= zeros;
        if width >= 32 {
            // A page difference is below 2^32: congruence is equality.
            return [odd, negated].into_iter().any(|odd| {
                odd.bits() <= 32
                    && self
                        .odd_differences
                        .get(&odd.low_u32())
                        .is_some_and(shifts_to)
            });
        }
        (self.odd_differences.iter())
            .filter(|(_, fewest)| shifts_to(fewest))
            .any(|(&key, _)| {
                let key = U256::from(key);
                (key ^ odd) & mask == U256::zero() || (key ^ negated) & mask == U256::zero()
            })
    }
}

/// One engine's page numbers in order of first appearance.
#[derive(Debug, Clone, Default)]
struct PageMap {
    pages: Vec<u32>,
    order: HashMap<u32, usize>,
}

impl PageMap {
    /// Adds `page` if it is new, and says whether it was.
    fn see(&mut self, page: u32) -> bool {
        let Entry::Vacant(entry) = self.order.entry(page) else {
            return false;
        };
        entry.insert(self.pages.len());
        self.pages.push(page);
        true
    }

    fn order(&self, page: u32) -> Option<usize> {
        self.order.get(&page).copied()
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use zksync_types::U256;

    use super::Pages;

    /// The definition: some pair of n-th pages whose difference, shifted left to the word
    /// difference's lowest set bit, is that difference or its negation (mod 2^256).
    fn by_every_pair(pages: &Pages, difference: U256) -> bool {
        let [reference, candidate] = &pages.engines;
        (reference.pages.iter().zip(&candidate.pages)).any(|(&p, &q)| {
            let delta = U256::from(p).overflowing_sub(U256::from(q)).0;
            let negated = U256::zero().overflowing_sub(difference).0;
            [difference, negated].into_iter().any(|difference| {
                if delta.is_zero() || difference.trailing_zeros() < delta.trailing_zeros() {
                    return false;
                }
                let at = difference.trailing_zeros() - delta.trailing_zeros();
                delta << at as usize == difference
            })
        })
    }

    #[test]
    fn a_difference_is_looked_up_as_every_pair_would_find_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for round in 0..200 {
            let mut pages = Pages::default();
            for _ in 0..rng.gen_range(1..40) {
                // zk_evm's pages 8 apart, vm2's 1 or 2, and sometimes anything.
                let engine = rng.gen_range(0..2);
                let page = match rng.gen_range(0..4) {
                    0 => rng.gen(),
                    _ => rng.gen_range(0..4096) * if engine == 0 { 8 } else { 1 },
                };
                pages.see(engine, page);
            }
            let [reference, candidate] = &pages.engines;
            let pairs: Vec<_> = reference.pages.iter().zip(&candidate.pages).collect();
            for _ in 0..200 {
                let difference = match (rng.gen_range(0..3), pairs.is_empty()) {
                    (0, false) => {
                        // A pair's difference, shifted anywhere (the top bits may fall off).
                        let (&p, &q) = pairs[rng.gen_range(0..pairs.len())];
                        let delta = U256::from(p).overflowing_sub(U256::from(q)).0;
                        delta << rng.gen_range(0..256usize)
                    }
                    (1, _) => U256::from(rng.gen::<u64>()) << rng.gen_range(0..256usize),
                    _ => U256::from_big_endian(&rng.gen::<[u8; 32]>()),
                };
                for difference in [difference, U256::zero().overflowing_sub(difference).0] {
                    assert_eq!(
                        pages.shifted_difference(difference),
                        by_every_pair(&pages, difference),
                        "round {round}, difference {difference:#x}"
                    );
                }
            }
        }
    }
}
