//! The price ladder: price -> level handle, and "next non-empty level" in either direction.
//!
//! Prices are grouped in pages of [`PAGE_TICKS`] consecutive ticks. A page holds the level handle
//! of each of its ticks and a 64-bit occupancy mask, so the next non-empty level within a page is
//! one bit scan. Pages are found by page number through an [`IndexTable`], and the numbers of the
//! non-empty pages are kept in a `BTreeSet` to jump across gaps in O(log pages). A page is
//! released as soon as its last level is removed, so memory follows the levels in use, not the
//! price range ever touched.
//!
//! The ladder does not know sides: because the book is never crossed, every occupied price below
//! a bid is a bid and every occupied price above an ask is an ask, so one mask serves both.

use std::collections::BTreeSet;

use crate::index::IndexTable;

const PAGE_BITS: u32 = 6;
/// Ticks per page (one bit each in a `u64` mask).
pub(crate) const PAGE_TICKS: u64 = 1 << PAGE_BITS;
const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Page {
    number: u64,
    occupied: u64,
    levels: [u32; PAGE_TICKS as usize],
}

#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    pages: Vec<Page>,
    free_pages: Vec<u32>,
    index: IndexTable<u64>,
    nonempty: BTreeSet<u64>,
    /// The page last looked up through [`Ladder::find`] or inserted into: (page number, page
    /// handle), the handle `NONE` when unset. New orders mostly land next to the previous
    /// ones, so this saves the index probe on the placing path. Cleared when that page is
    /// freed (its handle may be reused).
    hot: (u64, u32),
}

#[inline]
fn split(price: u64) -> (u64, usize) {
    (price >> PAGE_BITS, (price & (PAGE_TICKS - 1)) as usize)
}

#[inline]
fn join(page: u64, slot: u32) -> u64 {
    (page << PAGE_BITS) | u64::from(slot)
}

impl Ladder {
    pub(crate) fn new() -> Self {
        Ladder {
            pages: Vec::new(),
            free_pages: Vec::new(),
            index: IndexTable::with_capacity(0),
            nonempty: BTreeSet::new(),
            hot: (0, NONE),
        }
    }

    /// The level handle at `price`, if a level exists there.
    #[inline]
    pub(crate) fn get(&self, price: u64) -> Option<u32> {
        let (number, slot) = split(price);
        let page = self.page(number)?;
        let level = self.pages[page as usize].levels[slot];
        (level != NONE).then_some(level)
    }

    /// [`Ladder::get`], remembering the page for the next lookup.
    #[inline]
    pub(crate) fn find(&mut self, price: u64) -> Option<u32> {
        let (number, slot) = split(price);
        let page = self.page(number)?;
        self.hot = (number, page);
        let level = self.pages[page as usize].levels[slot];
        (level != NONE).then_some(level)
    }

    /// The handle of page `number`, if it is in use.
    #[inline]
    fn page(&self, number: u64) -> Option<u32> {
        if self.hot.0 == number && self.hot.1 != NONE {
            return Some(self.hot.1);
        }
        self.index.get(number)
    }

    /// Records `level` at `price`, which must be free.
    pub(crate) fn insert(&mut self, price: u64, level: u32) {
        let (number, slot) = split(price);
        let page = match self.page(number) {
            Some(p) => p,
            None => self.new_page(number),
        };
        self.hot = (number, page);
        let page = &mut self.pages[page as usize];
        debug_assert_eq!(page.levels[slot], NONE);
        page.levels[slot] = level;
        page.occupied |= 1 << slot;
    }

    fn new_page(&mut self, number: u64) -> u32 {
        let fresh = Page { number, occupied: 0, levels: [NONE; PAGE_TICKS as usize] };
        let handle = match self.free_pages.pop() {
            Some(h) => {
                self.pages[h as usize] = fresh;
                h
            }
            None => {
                self.pages.push(fresh);
                (self.pages.len() - 1) as u32
            }
        };
        self.index.insert(number, handle);
        self.nonempty.insert(number);
        handle
    }

    /// Forgets the level at `price`, which must exist.
    pub(crate) fn remove(&mut self, price: u64) {
        let (number, slot) = split(price);
        let Some(handle) = self.page(number) else {
            debug_assert!(false, "ladder remove of a missing page");
            return;
        };
        let page = &mut self.pages[handle as usize];
        debug_assert_ne!(page.levels[slot], NONE);
        page.levels[slot] = NONE;
        page.occupied &= !(1 << slot);
        if page.occupied == 0 {
            if self.hot.0 == number {
                self.hot = (0, NONE);
            }
            self.index.remove(number);
            self.nonempty.remove(&number);
            self.free_pages.push(handle);
        }
    }

    /// The highest occupied price `<= price`.
    #[inline]
    pub(crate) fn at_or_below(&self, price: u64) -> Option<u64> {
        let (number, slot) = split(price);
        if let Some(handle) = self.page(number) {
            let mask = if slot == 63 { u64::MAX } else { (1u64 << (slot + 1)) - 1 };
            let bits = self.pages[handle as usize].occupied & mask;
            if bits != 0 {
                return Some(join(number, 63 - bits.leading_zeros()));
            }
        }
        let below = *self.nonempty.range(..number).next_back()?;
        let bits = self.page_bits(below);
        Some(join(below, 63 - bits.leading_zeros()))
    }

    /// The lowest occupied price `>= price`.
    #[inline]
    pub(crate) fn at_or_above(&self, price: u64) -> Option<u64> {
        let (number, slot) = split(price);
        if let Some(handle) = self.page(number) {
            let bits = self.pages[handle as usize].occupied & (u64::MAX << slot);
            if bits != 0 {
                return Some(join(number, bits.trailing_zeros()));
            }
        }
        let above = *self.nonempty.range(number.checked_add(1)?..).next()?;
        let bits = self.page_bits(above);
        Some(join(above, bits.trailing_zeros()))
    }

    fn page_bits(&self, number: u64) -> u64 {
        self.page(number).map_or(0, |h| self.pages[h as usize].occupied)
    }

    /// Every occupied price, ascending (for invariant checks).
    pub(crate) fn prices(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for &number in &self.nonempty {
            let mut bits = self.page_bits(number);
            while bits != 0 {
                out.push(join(number, bits.trailing_zeros()));
                bits &= bits - 1;
            }
        }
        out
    }

    /// Internal consistency: index, pages and the non-empty set agree.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.hot.1 != NONE && self.index.get(self.hot.0) != Some(self.hot.1) {
            return Err(format!("ladder: remembered page {:?} is not the indexed one", self.hot));
        }
        if self.index.len() != self.nonempty.len() {
            return Err(format!(
                "ladder: {} indexed pages but {} non-empty pages",
                self.index.len(),
                self.nonempty.len()
            ));
        }
        for &number in &self.nonempty {
            let Some(h) = self.index.get(number) else {
                return Err(format!("ladder: non-empty page {number} not indexed"));
            };
            let page = &self.pages[h as usize];
            if page.number != number || page.occupied == 0 {
                return Err(format!("ladder: page {number} empty or misnumbered"));
            }
            for (slot, &level) in page.levels.iter().enumerate() {
                if (level != NONE) != (page.occupied >> slot & 1 == 1) {
                    return Err(format!("ladder: page {number} slot {slot} mask mismatch"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn neighbours_match_a_sorted_set(
            ops in proptest::collection::vec((any::<bool>(), 0u64..2000), 0..300),
            probes in proptest::collection::vec(0u64..2100, 20),
        ) {
            let mut ladder = Ladder::new();
            let mut set = BTreeSet::new();
            for (insert, p) in ops {
                let p = p * 3 + 1;
                prop_assert_eq!(ladder.find(p), set.contains(&p).then_some(p as u32));
                if insert && !set.contains(&p) {
                    ladder.insert(p, p as u32);
                    set.insert(p);
                } else if !insert && set.contains(&p) {
                    ladder.remove(p);
                    set.remove(&p);
                }
                prop_assert!(ladder.check().is_ok());
            }
            for q in probes {
                let q = q * 3;
                prop_assert_eq!(ladder.at_or_below(q), set.range(..=q).next_back().copied());
                prop_assert_eq!(ladder.at_or_above(q), set.range(q..).next().copied());
                prop_assert_eq!(ladder.get(q), set.contains(&q).then_some(q as u32));
                prop_assert_eq!(ladder.find(q), set.contains(&q).then_some(q as u32));
                prop_assert!(ladder.check().is_ok());
            }
            prop_assert_eq!(ladder.prices(), set.iter().copied().collect::<Vec<_>>());
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut ladder = Ladder::new();
        ladder.insert(u64::MAX, 1);
        ladder.insert(0, 2);
        assert_eq!(ladder.at_or_above(u64::MAX), Some(u64::MAX));
        assert_eq!(ladder.at_or_below(0), Some(0));
        assert_eq!(ladder.at_or_above(1), Some(u64::MAX));
        assert_eq!(ladder.at_or_below(u64::MAX - 1), Some(0));
        ladder.remove(u64::MAX);
        assert_eq!(ladder.at_or_above(1), None);
    }
}
