//! The price ladder: price -> level handle, and "next non-empty level" in either direction.
//!
//! Two structures share the price axis; every price lives in exactly one of them:
//!
//! * the **window**: [`WINDOW_TICKS`] consecutive ticks (64 pages of 64) starting at a base that
//!   is a multiple of [`PAGE_TICKS`]. A flat array of level handles indexed by `price - base`,
//!   one occupancy bit per tick in 64 words, and one summary word with a bit per non-empty
//!   word. A lookup is a subtraction, a compare and a load; the next non-empty level is at most
//!   two bit scans inside the window. Fixed size (16.5 KiB), allocated once.
//! * the **pages**, for every price outside the window: pages of [`PAGE_TICKS`] consecutive
//!   ticks, each the level handles of its ticks plus a 64-bit occupancy mask, found by page
//!   number through an [`IndexTable`]; the numbers of the non-empty pages are kept in a
//!   `BTreeSet` to jump across gaps in O(log pages). A page is released as soon as its last
//!   level is removed, so memory follows the levels in use, not the price range ever touched.
//!
//! The window follows the market: [`Ladder::recentre`] moves it so that a price sits in its
//! middle, moving the non-empty pages that leave it to the page structure and those that enter
//! it out of the page structure. The book calls it when a new level becomes the best of its side
//! outside the window (the market moved), so the levels that are placed, cancelled and matched
//! most sit in the window. A recentre moves at most 64 non-empty pages each way (bounded work,
//! independent of the number of orders); where the window sits never changes an answer of the
//! ladder, only its speed. Any price in `0..=u64::MAX` works.
//!
//! The ladder does not know sides: because the book is never crossed, every occupied price below
//! a bid is a bid and every occupied price above an ask is an ask, so one mask serves both.

use std::collections::BTreeSet;

use crate::index::IndexTable;

const PAGE_BITS: u32 = 6;
/// Ticks per page (one bit each in a `u64` mask).
pub(crate) const PAGE_TICKS: u64 = 1 << PAGE_BITS;
const NONE: u32 = u32::MAX;

/// Ticks covered by the dense window: 64 pages, one summary bit each.
pub(crate) const WINDOW_TICKS: u64 = PAGE_TICKS * 64;
const WINDOW_PAGES: u64 = WINDOW_TICKS / PAGE_TICKS;
/// The highest base of the window (its last tick is then `u64::MAX - 63`..=`u64::MAX`).
const WINDOW_BASE_MAX: u64 = (u64::MAX - (WINDOW_TICKS - 1)) & !(PAGE_TICKS - 1);

#[derive(Clone, Debug)]
struct Page {
    number: u64,
    occupied: u64,
    levels: [u32; PAGE_TICKS as usize],
}

/// The dense window (module doc). Offsets are `price - base`, in `0..WINDOW_TICKS`; word `w`
/// covers offsets `64 * w..64 * w + 64`, i.e. page `base / 64 + w`.
#[derive(Clone, Debug)]
struct Window {
    base: u64,
    levels: Box<[u32; WINDOW_TICKS as usize]>,
    occupied: [u64; WINDOW_PAGES as usize],
    /// Bit `w` set iff `occupied[w] != 0`.
    summary: u64,
}

impl Window {
    fn new() -> Self {
        Window {
            base: 0,
            levels: vec![NONE; WINDOW_TICKS as usize]
                .into_boxed_slice()
                .try_into()
                .expect("a vector of WINDOW_TICKS entries"),
            occupied: [0; WINDOW_PAGES as usize],
            summary: 0,
        }
    }

    /// The offset of `price` if it is inside the window.
    #[inline]
    fn offset(&self, price: u64) -> Option<usize> {
        let off = price.wrapping_sub(self.base);
        (off < WINDOW_TICKS).then_some(off as usize)
    }

    #[inline]
    fn level(&self, off: usize) -> Option<u32> {
        let level = self.levels[off % WINDOW_TICKS as usize];
        (level != NONE).then_some(level)
    }

    #[inline]
    fn set(&mut self, off: usize, level: u32) {
        let off = off % WINDOW_TICKS as usize;
        debug_assert_eq!(self.levels[off], NONE);
        self.levels[off] = level;
        let w = off / PAGE_TICKS as usize;
        self.occupied[w] |= 1 << (off % PAGE_TICKS as usize);
        self.summary |= 1 << w;
    }

    #[inline]
    fn clear(&mut self, off: usize) {
        let off = off % WINDOW_TICKS as usize;
        debug_assert_ne!(self.levels[off], NONE);
        self.levels[off] = NONE;
        let w = off / PAGE_TICKS as usize;
        self.occupied[w] &= !(1 << (off % PAGE_TICKS as usize));
        if self.occupied[w] == 0 {
            self.summary &= !(1 << w);
        }
    }

    /// The highest occupied offset `<= off`.
    #[inline]
    fn at_or_below(&self, off: usize) -> Option<usize> {
        let off = off % WINDOW_TICKS as usize;
        let (w, bit) = (off / PAGE_TICKS as usize, off % PAGE_TICKS as usize);
        let bits = self.occupied[w] & (u64::MAX >> (63 - bit));
        if bits != 0 {
            return Some(w * PAGE_TICKS as usize + 63 - bits.leading_zeros() as usize);
        }
        let below = self.summary & ((1u64 << w) - 1);
        if below == 0 {
            return None;
        }
        let w = 63 - below.leading_zeros() as usize;
        Some(w * PAGE_TICKS as usize + 63 - self.occupied[w].leading_zeros() as usize)
    }

    /// The lowest occupied offset `>= off`.
    #[inline]
    fn at_or_above(&self, off: usize) -> Option<usize> {
        let off = off % WINDOW_TICKS as usize;
        let (w, bit) = (off / PAGE_TICKS as usize, off % PAGE_TICKS as usize);
        let bits = self.occupied[w] & (u64::MAX << bit);
        if bits != 0 {
            return Some(w * PAGE_TICKS as usize + bits.trailing_zeros() as usize);
        }
        // `w <= 63`: the shift by `w + 1` is done in two steps so that `w = 63` yields 0.
        let above = self.summary & ((u64::MAX << w) << 1);
        if above == 0 {
            return None;
        }
        let w = above.trailing_zeros() as usize;
        Some(w * PAGE_TICKS as usize + self.occupied[w].trailing_zeros() as usize)
    }

    /// The highest / lowest occupied offset.
    fn highest(&self) -> Option<usize> {
        self.at_or_below(WINDOW_TICKS as usize - 1)
    }

    fn lowest(&self) -> Option<usize> {
        self.at_or_above(0)
    }

    /// The first page number the window covers, and the one after its last.
    fn pages(&self) -> (u64, u64) {
        let first = self.base >> PAGE_BITS;
        (first, first + WINDOW_PAGES)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    window: Window,
    pages: Vec<Page>,
    free_pages: Vec<u32>,
    index: IndexTable<u64>,
    nonempty: BTreeSet<u64>,
    /// The page last looked up through [`Ladder::find`] or inserted into: (page number, page
    /// handle), the handle `NONE` when unset. Saves the index probe for prices outside the
    /// window that land next to the previous ones. Cleared when that page is freed (its handle
    /// may be reused).
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
            window: Window::new(),
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
        match self.window.offset(price) {
            Some(off) => self.window.level(off),
            None => self.paged_get(price),
        }
    }

    /// [`Ladder::get`], remembering the page for the next lookup outside the window.
    /// Always inlined: the window case is a few instructions, and a call on the placing path
    /// makes its caller spill.
    #[inline(always)]
    pub(crate) fn find(&mut self, price: u64) -> Option<u32> {
        match self.window.offset(price) {
            Some(off) => self.window.level(off),
            None => self.paged_find(price),
        }
    }

    /// Whether `price` is inside the window.
    #[inline]
    pub(crate) fn in_window(&self, price: u64) -> bool {
        self.window.offset(price).is_some()
    }

    /// Records `level` at `price`, which must be free.
    #[inline]
    pub(crate) fn insert(&mut self, price: u64, level: u32) {
        match self.window.offset(price) {
            Some(off) => self.window.set(off, level),
            None => self.paged_insert(price, level),
        }
    }

    /// Forgets the level at `price`, which must exist.
    #[inline]
    pub(crate) fn remove(&mut self, price: u64) {
        match self.window.offset(price) {
            Some(off) => self.window.clear(off),
            None => self.paged_remove(price),
        }
    }

    /// The highest occupied price `<= price`.
    #[inline]
    pub(crate) fn at_or_below(&self, price: u64) -> Option<u64> {
        let base = self.window.base;
        match self.window.offset(price) {
            Some(off) => match self.window.at_or_below(off) {
                Some(found) => Some(base + found as u64),
                None => self.paged_at_or_below(base.checked_sub(1)?),
            },
            None => self.outside_at_or_below(price),
        }
    }

    /// The lowest occupied price `>= price`.
    #[inline]
    pub(crate) fn at_or_above(&self, price: u64) -> Option<u64> {
        let base = self.window.base;
        match self.window.offset(price) {
            Some(off) => match self.window.at_or_above(off) {
                Some(found) => Some(base + found as u64),
                None => self.paged_at_or_above(base.checked_add(WINDOW_TICKS)?),
            },
            None => self.outside_at_or_above(price),
        }
    }

    /// [`Ladder::at_or_below`] for a price outside the window.
    #[inline(never)]
    fn outside_at_or_below(&self, price: u64) -> Option<u64> {
        let base = self.window.base;
        let paged = self.paged_at_or_below(price);
        if price < base || paged.is_some_and(|p| p > base) {
            // Below the window, or a paged level above it.
            return paged;
        }
        // Above the window with no paged level between it and `price`.
        match self.window.highest() {
            Some(found) => Some(base + found as u64),
            None => paged,
        }
    }

    /// [`Ladder::at_or_above`] for a price outside the window.
    #[inline(never)]
    fn outside_at_or_above(&self, price: u64) -> Option<u64> {
        let base = self.window.base;
        let paged = self.paged_at_or_above(price);
        if price > base || paged.is_some_and(|p| p < base) {
            // Above the window, or a paged level below it.
            return paged;
        }
        // Below the window with no paged level between `price` and it.
        match self.window.lowest() {
            Some(found) => Some(base + found as u64),
            None => paged,
        }
    }

    /// Moves the window so that `price` sits in its middle (as far as the ends of the price
    /// axis allow). Non-empty pages leaving the window move to the page structure, paged pages
    /// inside the new window move into it: at most 64 pages each way. Changes no answer.
    #[inline(never)]
    pub(crate) fn recentre(&mut self, price: u64) {
        let base =
            (price.saturating_sub(WINDOW_TICKS / 2) & !(PAGE_TICKS - 1)).min(WINDOW_BASE_MAX);
        if base == self.window.base {
            return;
        }
        // Out: every non-empty word of the window becomes a page.
        let (first, _) = self.window.pages();
        let mut words = self.window.summary;
        while words != 0 {
            let w = words.trailing_zeros() as usize;
            words &= words - 1;
            let span = w * PAGE_TICKS as usize..(w + 1) * PAGE_TICKS as usize;
            let mut levels = [NONE; PAGE_TICKS as usize];
            levels.copy_from_slice(&self.window.levels[span.clone()]);
            self.window.levels[span].fill(NONE);
            let occupied = core::mem::take(&mut self.window.occupied[w]);
            let handle = self.new_page(first + w as u64);
            let page = &mut self.pages[handle as usize];
            page.occupied = occupied;
            page.levels = levels;
        }
        self.window.summary = 0;
        self.window.base = base;
        // In: every page inside the new window.
        let (first, end) = self.window.pages();
        while let Some(&number) = self.nonempty.range(first..end).next() {
            let Some(handle) = self.index.get(number) else {
                debug_assert!(false, "ladder: non-empty page {number} not indexed");
                break;
            };
            let w = (number - first) as usize;
            let page = &self.pages[handle as usize];
            let span = w * PAGE_TICKS as usize..(w + 1) * PAGE_TICKS as usize;
            self.window.levels[span].copy_from_slice(&page.levels);
            self.window.occupied[w] = page.occupied;
            self.window.summary |= 1 << w;
            self.release_page(number, handle);
        }
    }

    /// Every occupied price, ascending (for invariant checks).
    pub(crate) fn prices(&self) -> Vec<u64> {
        let (first, end) = self.window.pages();
        let mut out = Vec::new();
        let mut push_page = |number: u64, mut bits: u64| {
            while bits != 0 {
                out.push(join(number, bits.trailing_zeros()));
                bits &= bits - 1;
            }
        };
        for &number in self.nonempty.range(..first) {
            push_page(number, self.page_bits(number));
        }
        for (w, &bits) in self.window.occupied.iter().enumerate() {
            push_page(first + w as u64, bits);
        }
        for &number in self.nonempty.range(end..) {
            push_page(number, self.page_bits(number));
        }
        out
    }

    /// Internal consistency: window, index, pages and the non-empty set agree, and no page lies
    /// inside the window.
    pub(crate) fn check(&self) -> Result<(), String> {
        let window = &self.window;
        if !window.base.is_multiple_of(PAGE_TICKS) || window.base > WINDOW_BASE_MAX {
            return Err(format!("ladder: window base {} misaligned", window.base));
        }
        for (w, &bits) in window.occupied.iter().enumerate() {
            if (bits != 0) != (window.summary >> w & 1 == 1) {
                return Err(format!("ladder: window summary bit {w} mismatch"));
            }
            for bit in 0..PAGE_TICKS as usize {
                let level = window.levels[w * PAGE_TICKS as usize + bit];
                if (level != NONE) != (bits >> bit & 1 == 1) {
                    return Err(format!("ladder: window word {w} bit {bit} mismatch"));
                }
            }
        }
        let (first, end) = window.pages();
        if let Some(number) = self.nonempty.range(first..end).next() {
            return Err(format!("ladder: page {number} lies inside the window"));
        }
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

    // ----------------------------------------------------------------------------------------
    // The page structure: prices outside the window only.

    #[inline(never)]
    fn paged_get(&self, price: u64) -> Option<u32> {
        let (number, slot) = split(price);
        let page = self.page(number)?;
        let level = self.pages[page as usize].levels[slot];
        (level != NONE).then_some(level)
    }

    #[inline(never)]
    fn paged_find(&mut self, price: u64) -> Option<u32> {
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

    #[inline(never)]
    fn paged_insert(&mut self, price: u64, level: u32) {
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

    /// A fresh, empty page numbered `number`, indexed and listed as non-empty (the caller
    /// fills it).
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

    /// Unindexes page `number` (handle `handle`) and frees its handle.
    fn release_page(&mut self, number: u64, handle: u32) {
        if self.hot.0 == number {
            self.hot = (0, NONE);
        }
        self.index.remove(number);
        self.nonempty.remove(&number);
        self.free_pages.push(handle);
    }

    #[inline(never)]
    fn paged_remove(&mut self, price: u64) {
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
            self.release_page(number, handle);
        }
    }

    /// The highest paged price `<= price`.
    fn paged_at_or_below(&self, price: u64) -> Option<u64> {
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

    /// The lowest paged price `>= price`.
    fn paged_at_or_above(&self, price: u64) -> Option<u64> {
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

    /// A price strategy that lands inside and outside the window, near its edges, on both
    /// sides of the page containing its base, and at the ends of the price axis.
    fn spread_price() -> impl Strategy<Value = u64> {
        prop_oneof![
            6 => 95_000u64..105_000,
            2 => (0u64..8).prop_map(|k| 100_000 + k * (WINDOW_TICKS / 2) - 3),
            1 => prop_oneof![Just(0u64), Just(1), Just(2), Just(63), Just(64)],
            1 => prop_oneof![
                Just(crate::PRICE_TICKS_MAX),
                Just(crate::PRICE_TICKS_MAX - 1),
                Just(u64::MAX),
                Just(u64::MAX - 64),
                Just(WINDOW_BASE_MAX),
                Just(WINDOW_BASE_MAX - 1),
            ],
        ]
    }

    #[derive(Clone, Copy, Debug)]
    enum WindowOp {
        Insert(u64),
        Remove(u64),
        Recentre(u64),
    }

    fn window_op() -> impl Strategy<Value = WindowOp> {
        prop_oneof![
            5 => spread_price().prop_map(WindowOp::Insert),
            3 => spread_price().prop_map(WindowOp::Remove),
            1 => spread_price().prop_map(WindowOp::Recentre),
        ]
    }

    proptest! {
        /// The window and the pages together against a sorted set, with levels inside and outside
        /// the window, recentring (which must change no answer) and prices at both ends of the
        /// axis; every answer probed around every price touched.
        #[test]
        fn window_and_pages_match_a_sorted_set(
            ops in proptest::collection::vec(window_op(), 0..200),
            probes in proptest::collection::vec(spread_price(), 10),
        ) {
            let mut ladder = Ladder::new();
            let mut set = BTreeSet::new();
            let mut touched = probes.clone();
            for op in ops {
                let (WindowOp::Insert(p) | WindowOp::Remove(p) | WindowOp::Recentre(p)) = op;
                touched.push(p);
                match op {
                    WindowOp::Insert(p) if !set.contains(&p) => {
                        ladder.insert(p, (p % 1_000_000) as u32);
                        set.insert(p);
                    }
                    WindowOp::Remove(p) if set.contains(&p) => {
                        ladder.remove(p);
                        set.remove(&p);
                    }
                    WindowOp::Recentre(p) => {
                        let before = ladder.prices();
                        ladder.recentre(p);
                        prop_assert!(ladder.in_window(p));
                        prop_assert_eq!(ladder.prices(), before);
                    }
                    WindowOp::Insert(_) | WindowOp::Remove(_) => {}
                }
                prop_assert!(ladder.check().is_ok(), "{:?}", ladder.check());
            }
            for &q in &touched {
                for q in [q.saturating_sub(1), q, q.saturating_add(1)] {
                    let expect = set.contains(&q).then_some((q % 1_000_000) as u32);
                    prop_assert_eq!(ladder.at_or_below(q), set.range(..=q).next_back().copied());
                    prop_assert_eq!(ladder.at_or_above(q), set.range(q..).next().copied());
                    prop_assert_eq!(ladder.get(q), expect);
                    prop_assert_eq!(ladder.find(q), expect);
                }
            }
            prop_assert!(ladder.check().is_ok());
            prop_assert_eq!(ladder.prices(), set.iter().copied().collect::<Vec<_>>());
        }
    }

    #[test]
    fn recentre_moves_levels_both_ways() {
        let mut ladder = Ladder::new();
        // Inside the initial window [0, WINDOW_TICKS) and far outside it.
        ladder.insert(5, 1);
        ladder.insert(WINDOW_TICKS - 1, 2);
        ladder.insert(1_000_000, 3);
        ladder.insert(crate::PRICE_TICKS_MAX, 4);
        assert!(ladder.in_window(5) && !ladder.in_window(1_000_000));
        ladder.recentre(1_000_000);
        assert!(!ladder.in_window(5) && ladder.in_window(1_000_000));
        assert!(ladder.check().is_ok());
        assert_eq!(ladder.at_or_below(999_999), Some(WINDOW_TICKS - 1));
        assert_eq!(ladder.at_or_above(6), Some(WINDOW_TICKS - 1));
        assert_eq!(ladder.at_or_above(WINDOW_TICKS), Some(1_000_000));
        assert_eq!(ladder.at_or_above(1_000_001), Some(crate::PRICE_TICKS_MAX));
        assert_eq!(ladder.at_or_below(u64::MAX), Some(crate::PRICE_TICKS_MAX));
        ladder.remove(1_000_000);
        assert_eq!(ladder.at_or_above(6), Some(WINDOW_TICKS - 1));
        assert_eq!(ladder.at_or_above(WINDOW_TICKS), Some(crate::PRICE_TICKS_MAX));
        // To the top of the axis: the window stops at its highest base.
        ladder.recentre(u64::MAX);
        assert!(ladder.in_window(u64::MAX) && ladder.in_window(WINDOW_BASE_MAX));
        ladder.insert(u64::MAX, 5);
        assert_eq!(ladder.at_or_above(crate::PRICE_TICKS_MAX + 1), Some(u64::MAX));
        assert_eq!(ladder.prices(), vec![5, WINDOW_TICKS - 1, crate::PRICE_TICKS_MAX, u64::MAX]);
        assert!(ladder.check().is_ok());
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
