//! Open-addressing index tables: key -> `u32` handle, for lookups only.
//!
//! The book needs O(1) lookups by order id, by (account, client id), by account and by price
//! page. `std::collections::HashMap` is banned from the deterministic crates because its
//! iteration order is random; this table has a fixed hash function (Fibonacci hashing), linear
//! probing and backward-shift deletion, and offers no iteration at all, so nothing the book emits
//! can depend on hash order (ADR 0002). Its behaviour is a pure function of the sequence of
//! inserts and removes.

use std::hint::select_unpredictable;

/// A key the table can hash: a fixed, platform-independent 64-bit mix.
pub(crate) trait TableKey: Copy + Eq + Default {
    /// A well-mixed 64-bit hash; the table uses its high bits.
    fn hash64(self) -> u64;
}

const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

impl TableKey for u64 {
    #[inline]
    fn hash64(self) -> u64 {
        self.wrapping_mul(FIB)
    }
}

impl TableKey for u32 {
    #[inline]
    fn hash64(self) -> u64 {
        u64::from(self).wrapping_mul(FIB)
    }
}

const EMPTY: u32 = u32::MAX;
const CAPACITY_MIN: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
struct Entry<K> {
    key: K,
    /// `EMPTY` marks a free entry.
    val: u32,
}

/// A map from `K` to `u32` handles (`u32::MAX` is reserved).
#[derive(Clone, Debug)]
pub(crate) struct IndexTable<K: TableKey> {
    entries: Vec<Entry<K>>,
    /// `64 - log2(capacity)`: the hash's high bits select the home entry.
    shift: u32,
    len: usize,
}

impl<K: TableKey> IndexTable<K> {
    /// A table that holds `n` keys without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let capacity = Self::capacity_for(n);
        IndexTable {
            entries: vec![Entry { key: K::default(), val: EMPTY }; capacity],
            shift: 64 - capacity.trailing_zeros(),
            len: 0,
        }
    }

    /// Smallest power of two that keeps the load factor at or below 4/5 with `n` keys.
    fn capacity_for(n: usize) -> usize {
        let needed = n.saturating_mul(5) / 4 + 1;
        needed.next_power_of_two().max(CAPACITY_MIN)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    #[inline]
    fn home(&self, key: K) -> usize {
        (key.hash64() >> self.shift) as usize
    }

    /// The handle stored for `key`.
    #[inline]
    pub(crate) fn get(&self, key: K) -> Option<u32> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = &self.entries[i];
            if e.val == EMPTY {
                return None;
            }
            if e.key == key {
                return Some(e.val);
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts `key -> val`. The caller guarantees `key` is absent and `val != u32::MAX`.
    #[inline]
    pub(crate) fn insert(&mut self, key: K, val: u32) {
        debug_assert!(val != EMPTY);
        debug_assert!(self.get(key).is_none(), "index key inserted twice");
        if (self.len + 1) * 5 > self.entries.len() * 4 {
            self.grow();
        }
        self.insert_unchecked(key, val);
        self.len += 1;
    }

    #[inline]
    fn insert_unchecked(&mut self, key: K, val: u32) {
        let mask = self.mask();
        let mut i = self.home(key);
        while self.entries[i].val != EMPTY {
            i = (i + 1) & mask;
        }
        self.entries[i] = Entry { key, val };
    }

    fn grow(&mut self) {
        let capacity = self.entries.len() * 2;
        let old = core::mem::replace(
            &mut self.entries,
            vec![Entry { key: K::default(), val: EMPTY }; capacity],
        );
        self.shift = 64 - capacity.trailing_zeros();
        for e in old.into_iter().filter(|e| e.val != EMPTY) {
            self.insert_unchecked(e.key, e.val);
        }
    }

    /// The position and handle of `key`, for [`IndexTable::remove_at`].
    #[inline]
    pub(crate) fn find(&self, key: K) -> Option<(usize, u32)> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = &self.entries[i];
            if e.val == EMPTY {
                return None;
            }
            if e.key == key {
                return Some((i, e.val));
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes `key`, returning its handle. Backward-shift deletion keeps every remaining key
    /// reachable from its home entry without tombstones.
    #[inline]
    pub(crate) fn remove(&mut self, key: K) -> Option<u32> {
        let (i, val) = self.find(key)?;
        self.remove_at(i);
        Some(val)
    }

    /// Removes the entry at position `i` (from [`IndexTable::find`], with no change to the
    /// table in between).
    #[inline]
    pub(crate) fn remove_at(&mut self, i: usize) {
        let mask = self.mask();
        debug_assert_ne!(self.entries[i].val, EMPTY);
        // Shift later members of the probe run back into the hole when their home allows it.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let e = self.entries[j];
            if e.val == EMPTY {
                break;
            }
            let home = self.home(e.key);
            // `e` may move to `hole` iff its home is not in the cyclic range (hole, j].
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            // Without a branch on it (close to random): an entry that stays is rewritten in
            // place.
            let moves = dist_home >= dist_hole;
            self.entries[select_unpredictable(moves, hole, j)] = e;
            hole = select_unpredictable(moves, j, hole);
            j = (j + 1) & mask;
        }
        self.entries[hole] = Entry { key: K::default(), val: EMPTY };
        self.len -= 1;
    }
}

/// Account ids below this bound are mapped directly (see [`AccountIndex`]).
pub(crate) const ACCOUNT_DENSE_MAX: u32 = 1 << 20;

/// Account id -> entry handle. The engine interns accounts as dense ids from a counter, so ids
/// below [`ACCOUNT_DENSE_MAX`] are mapped through a plain array (one `u32` per id up to the
/// highest id that ever rested, at most 4 MiB): a lookup is one bounds check and one load, with
/// no hashing and a smaller footprint than the table. Larger ids go to an [`IndexTable`].
/// Lookups only, never iterated.
#[derive(Clone, Debug)]
pub(crate) struct AccountIndex {
    dense: Vec<u32>,
    in_dense: usize,
    table: IndexTable<u32>,
}

impl AccountIndex {
    pub(crate) fn new() -> Self {
        AccountIndex { dense: Vec::new(), in_dense: 0, table: IndexTable::with_capacity(0) }
    }

    pub(crate) fn len(&self) -> usize {
        self.in_dense + self.table.len()
    }

    #[inline]
    pub(crate) fn get(&self, account: u32) -> Option<u32> {
        match self.dense.get(account as usize) {
            Some(&h) => (h != EMPTY).then_some(h),
            None if account >= ACCOUNT_DENSE_MAX => self.table.get(account),
            None => None,
        }
    }

    /// Inserts `account -> handle`; the caller guarantees `account` is absent.
    pub(crate) fn insert(&mut self, account: u32, handle: u32) {
        if account >= ACCOUNT_DENSE_MAX {
            self.table.insert(account, handle);
            return;
        }
        let i = account as usize;
        if i >= self.dense.len() {
            // Grow geometrically (bounded by the dense range) so that growth is amortised.
            let len = (i + 1).next_power_of_two().min(ACCOUNT_DENSE_MAX as usize);
            self.dense.resize(len, EMPTY);
        }
        debug_assert_eq!(self.dense[i], EMPTY, "account inserted twice");
        self.dense[i] = handle;
        self.in_dense += 1;
    }

    pub(crate) fn remove(&mut self, account: u32) -> Option<u32> {
        match self.dense.get_mut(account as usize) {
            Some(h) if *h != EMPTY => {
                self.in_dense -= 1;
                Some(core::mem::replace(h, EMPTY))
            }
            Some(_) => None,
            None => self.table.remove(account),
        }
    }
}

/// A vacant ring position of [`OrderIndex`], from [`OrderIndex::vacancy`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vacancy(usize);

/// Where [`OrderIndex::find`] found an id: its ring position, or its position in the table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Found {
    Ring(usize),
    Table(usize),
}

/// Size of the direct-mapped window of recent ids.
pub(crate) const ID_WINDOW: u64 = 1 << 16;

/// The window moves in steps of this many ids (a divisor of [`ID_WINDOW`]): its base is always a
/// multiple of it, so the ids leaving the window at a slide are one contiguous, aligned run of
/// ring positions.
pub(crate) const ID_WINDOW_STEP: u64 = 1 << 8;

/// Order id -> slot handle, tuned for ids that mostly grow (the engine assigns them from a
/// counter): ids in the window `[base, base + ID_WINDOW)` live in a direct-mapped ring (one
/// `u32` per id, consecutive ids in consecutive memory, so new orders and cancels of recent
/// orders touch warm cache lines); older ids, and ids far outside the window, live in an
/// [`IndexTable`]. When an id above the window arrives the window slides up, in whole steps of
/// [`ID_WINDOW_STEP`] ids (so the newest id is at least `ID_WINDOW - ID_WINDOW_STEP` above the
/// base), and the live entries it leaves behind move to the table: each id position is moved
/// at most once, so sliding is amortised O(1) per id, a slide over consecutive ids scans one
/// step (256 positions) at a time instead of a position per new id (eight positions at a time
/// where none of them is live), and a single jump costs at most `ID_WINDOW` steps.
/// [`OrderIndex::vacancy`] / [`OrderIndex::fill`] and [`OrderIndex::find`] /
/// [`OrderIndex::remove_found`] let placing and cancelling look an id up once. Behaviour is a
/// pure function of the operation sequence; any id works, only speed depends on the pattern.
#[derive(Clone, Debug)]
pub(crate) struct OrderIndex {
    /// A fixed-size array: positions are masked ids, so indexing needs no bounds check.
    ring: Box<[u32; ID_WINDOW as usize]>,
    base: u64,
    /// Live entries in the ring, kept only in debug builds (the invariant checks run after
    /// every operation there); release builds count the ring when asked, so placing and
    /// removing skip the update.
    #[cfg(debug_assertions)]
    in_ring: usize,
    table: IndexTable<u64>,
}

impl OrderIndex {
    pub(crate) fn new() -> Self {
        OrderIndex {
            ring: vec![EMPTY; ID_WINDOW as usize]
                .into_boxed_slice()
                .try_into()
                .expect("a vector of ID_WINDOW entries"),
            base: 0,
            #[cfg(debug_assertions)]
            in_ring: 0,
            table: IndexTable::with_capacity(0),
        }
    }

    #[inline]
    fn in_window(&self, id: u64) -> bool {
        id.wrapping_sub(self.base) < ID_WINDOW
    }

    #[inline]
    fn pos(id: u64) -> usize {
        (id & (ID_WINDOW - 1)) as usize
    }

    pub(crate) fn len(&self) -> usize {
        #[cfg(debug_assertions)]
        let in_ring = self.in_ring;
        #[cfg(not(debug_assertions))]
        let in_ring = self.ring.iter().filter(|&&v| v != EMPTY).count();
        in_ring + self.table.len()
    }

    /// The table only ever holds ids below `base` (the window never moves down), so an id at
    /// or above `base` is answered by the ring alone.
    /// The window case (new and recent ids) is inlined at the call sites; older ids go through
    /// the table out of line.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<u32> {
        if self.in_window(id) {
            let v = self.ring[Self::pos(id)];
            (v != EMPTY).then_some(v)
        } else if id < self.base {
            self.get_old(id)
        } else {
            None
        }
    }

    #[inline(never)]
    fn get_old(&self, id: u64) -> Option<u32> {
        self.table.get(id)
    }

    /// [`OrderIndex::get`], also saying where the id was found, so that
    /// [`OrderIndex::remove_found`] removes it without looking it up again.
    #[inline]
    pub(crate) fn find(&self, id: u64) -> Option<(u32, Found)> {
        if self.in_window(id) {
            let pos = Self::pos(id);
            let v = self.ring[pos];
            (v != EMPTY).then_some((v, Found::Ring(pos)))
        } else if id < self.base {
            self.find_old(id)
        } else {
            None
        }
    }

    #[inline(never)]
    fn find_old(&self, id: u64) -> Option<(u32, Found)> {
        self.table.find(id).map(|(i, v)| (v, Found::Table(i)))
    }

    /// Removes the id [`OrderIndex::find`] found (nothing may touch the index in between).
    #[inline]
    pub(crate) fn remove_found(&mut self, found: Found) {
        match found {
            Found::Ring(pos) => {
                // `pos` is a ring position already; the mask spares the bounds check.
                let pos = pos % ID_WINDOW as usize;
                debug_assert_ne!(self.ring[pos], EMPTY);
                self.ring[pos] = EMPTY;
                #[cfg(debug_assertions)]
                {
                    self.in_ring -= 1;
                }
            }
            Found::Table(i) => self.remove_old_at(i),
        }
    }

    #[inline(never)]
    fn remove_old_at(&mut self, i: usize) {
        self.table.remove_at(i);
    }

    /// Inserts `id -> handle`; the caller guarantees `id` is absent.
    #[inline]
    pub(crate) fn insert(&mut self, id: u64, handle: u32) {
        if !self.in_window(id) {
            if id < self.base {
                self.insert_old(id, handle);
                return;
            }
            self.slide_to(id);
        }
        debug_assert_eq!(self.ring[Self::pos(id)], EMPTY);
        self.ring[Self::pos(id)] = handle;
        #[cfg(debug_assertions)]
        {
            self.in_ring += 1;
        }
    }

    /// `id`'s ring position if `id` is inside the window and absent: then
    /// [`OrderIndex::fill`] inserts it without testing the window again. `None` says nothing
    /// (the id may be live, below the window, or above it); the caller uses
    /// [`OrderIndex::get`] and [`OrderIndex::insert`] instead.
    #[inline]
    pub(crate) fn vacancy(&self, id: u64) -> Option<Vacancy> {
        let pos = Self::pos(id);
        (self.in_window(id) && self.ring[pos] == EMPTY).then_some(Vacancy(pos))
    }

    /// Inserts the id whose [`Vacancy`] this is (nothing may touch the index in between).
    #[inline]
    pub(crate) fn fill(&mut self, Vacancy(pos): Vacancy, handle: u32) {
        // `pos` is a ring position already; the mask spares the bounds check.
        let pos = pos % ID_WINDOW as usize;
        debug_assert_eq!(self.ring[pos], EMPTY);
        self.ring[pos] = handle;
        #[cfg(debug_assertions)]
        {
            self.in_ring += 1;
        }
    }

    #[inline(never)]
    fn insert_old(&mut self, id: u64, handle: u32) {
        self.table.insert(id, handle);
    }

    /// Moves the window up, to the lowest multiple of [`ID_WINDOW_STEP`] that puts `id` inside
    /// it, moving live entries that fall out of it to the table. Out of line: it runs once per
    /// step of new ids.
    #[inline(never)]
    fn slide_to(&mut self, id: u64) {
        // `id >= base + ID_WINDOW`, so neither subtraction underflows, and the rounding up
        // stays below `id`.
        let lowest = id - (ID_WINDOW - 1);
        let new_base = lowest.div_ceil(ID_WINDOW_STEP) * ID_WINDOW_STEP;
        debug_assert!(new_base <= id && id - new_base < ID_WINDOW);
        let leaving_end = new_base.min(self.base.saturating_add(ID_WINDOW));
        let mut step = self.base;
        while step < leaving_end {
            // One aligned step: contiguous ring positions, no wrap inside it.
            let start = Self::pos(step);
            let run = &mut self.ring[start..start + ID_WINDOW_STEP as usize];
            // Sixty-four entries at a time: a mask of the live ones is built without a branch
            // (vectorised compares), then only its set bits are visited, so the only branches
            // are one per live entry and one per group, not one per entry (which live entries
            // fall out of the window is close to random, so those were mostly mispredicted).
            for (g, group) in run.chunks_exact_mut(64).enumerate() {
                let mut live = 0u64;
                for (b, eight) in group.chunks_exact(8).enumerate() {
                    live |= u64::from(live_bits(eight)) << (8 * b);
                }
                while live != 0 {
                    let k = live.trailing_zeros() as usize;
                    live &= live - 1;
                    let handle = core::mem::replace(&mut group[k], EMPTY);
                    self.table.insert(step + (64 * g + k) as u64, handle);
                    #[cfg(debug_assertions)]
                    {
                        self.in_ring -= 1;
                    }
                }
            }
            step += ID_WINDOW_STEP;
        }
        self.base = new_base;
    }

    #[inline]
    pub(crate) fn remove(&mut self, id: u64) -> Option<u32> {
        if self.in_window(id) {
            let slot = &mut self.ring[Self::pos(id)];
            let v = core::mem::replace(slot, EMPTY);
            #[cfg(debug_assertions)]
            if v != EMPTY {
                self.in_ring -= 1;
            }
            (v != EMPTY).then_some(v)
        } else if id < self.base {
            self.remove_old(id)
        } else {
            None
        }
    }

    #[inline(never)]
    fn remove_old(&mut self, id: u64) -> Option<u32> {
        self.table.remove(id)
    }
}

/// Bit `j` set iff `eight[j]` is not `EMPTY` (`eight` holds 8 ring entries): the eight
/// comparisons become one byte each, and one multiplication gathers the bytes' low bits into
/// the top byte (bit `8i + 7(7 - i) + 7 = 56 + i` for byte `i`; no two partial products share a
/// bit, so nothing carries). No branch, and the compiler vectorises the comparisons.
#[inline(always)]
fn live_bits(eight: &[u32]) -> u8 {
    let mut bytes = [0u8; 8];
    for (byte, &v) in bytes.iter_mut().zip(eight) {
        *byte = u8::from(v != EMPTY);
    }
    (u64::from_le_bytes(bytes).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn live_bits_names_every_live_entry() {
        for pattern in 0..=u8::MAX {
            let eight: Vec<u32> =
                (0..8).map(|j| if pattern >> j & 1 == 1 { j * 1_000 } else { EMPTY }).collect();
            assert_eq!(live_bits(&eight), pattern, "pattern {pattern:08b}");
        }
        // Handles of any value count as live, `EMPTY`'s neighbours included.
        assert_eq!(
            live_bits(&[EMPTY - 1, 0, EMPTY, 1, EMPTY, EMPTY, u32::MAX >> 1, 7]),
            0b1100_1011
        );
    }

    #[test]
    fn insert_get_remove() {
        let mut t = IndexTable::<u64>::with_capacity(0);
        for k in 0..1000u64 {
            t.insert(k * 7, k as u32);
        }
        assert_eq!(t.len(), 1000);
        for k in 0..1000u64 {
            assert_eq!(t.get(k * 7), Some(k as u32));
            assert_eq!(t.get(k * 7 + 1), None);
        }
        for k in (0..1000u64).step_by(2) {
            assert_eq!(t.remove(k * 7), Some(k as u32));
        }
        for k in 0..1000u64 {
            let expect = if k % 2 == 0 { None } else { Some(k as u32) };
            assert_eq!(t.get(k * 7), expect);
        }
    }

    proptest! {
        /// The order index against BTreeMap, with ids that mostly grow, jump, and go back.
        #[test]
        fn order_index_matches_btreemap(ops in proptest::collection::vec((0u8..4, 0u64..300_000, 0u32..1000), 0..400)) {
            let mut t = OrderIndex::new();
            let mut m = BTreeMap::new();
            let mut next = 0u64;
            for (kind, x, v) in ops {
                let id = match kind {
                    0 => { next += 1 + x % 5; next }
                    1 => { next += x; next }
                    2 => x,
                    _ => u64::MAX - x,
                };
                // Odd values take the one-lookup paths (`vacancy`/`fill`, `find`/`remove_found`).
                if let std::collections::btree_map::Entry::Vacant(slot) = m.entry(id) {
                    slot.insert(v);
                    match t.vacancy(id) {
                        Some(vacancy) if v % 2 == 1 => t.fill(vacancy, v),
                        _ => t.insert(id, v),
                    }
                } else if v % 2 == 1 {
                    let (handle, at) = t.find(id).expect("a live id is found");
                    prop_assert_eq!(Some(handle), m.remove(&id));
                    t.remove_found(at);
                } else {
                    prop_assert_eq!(t.remove(id), m.remove(&id));
                }
                prop_assert_eq!(t.len(), m.len());
                for (&k, &v) in &m {
                    prop_assert_eq!(t.get(k), Some(v));
                    prop_assert_eq!(t.find(k).map(|(h, _)| h), Some(v));
                    prop_assert!(t.vacancy(k).is_none());
                }
                prop_assert_eq!(t.get(id.wrapping_add(1)), m.get(&id.wrapping_add(1)).copied());
            }
        }

        /// The account index against BTreeMap, with dense ids, ids around the dense bound and
        /// the largest ids.
        #[test]
        fn account_index_matches_btreemap(ops in proptest::collection::vec((0u8..3, 0u32..2000, 0u32..1000), 0..400)) {
            let mut t = AccountIndex::new();
            let mut m = BTreeMap::new();
            for (kind, x, v) in ops {
                let account = match kind {
                    0 => x,
                    1 => ACCOUNT_DENSE_MAX - 1000 + x,
                    _ => u32::MAX - x,
                };
                if let std::collections::btree_map::Entry::Vacant(slot) = m.entry(account) {
                    slot.insert(v);
                    t.insert(account, v);
                } else {
                    prop_assert_eq!(t.remove(account), m.remove(&account));
                }
                prop_assert_eq!(t.len(), m.len());
                for (&k, &v) in &m {
                    prop_assert_eq!(t.get(k), Some(v));
                }
                prop_assert_eq!(t.get(account.wrapping_add(1)), m.get(&account.wrapping_add(1)).copied());
            }
        }

        /// Differential against BTreeMap over random inserts and removes on a small key space
        /// (so probe runs collide and wrap).
        #[test]
        fn matches_btreemap(ops in proptest::collection::vec((any::<bool>(), 0u64..64, 0u32..1000), 0..400)) {
            let mut t = IndexTable::<u64>::with_capacity(0);
            let mut m = BTreeMap::new();
            for (insert, k, v) in ops {
                let key = k.wrapping_mul(0x1000_0000_0000_0001);
                if insert {
                    if let std::collections::btree_map::Entry::Vacant(slot) = m.entry(key) {
                        slot.insert(v);
                        t.insert(key, v);
                    }
                } else {
                    prop_assert_eq!(t.remove(key), m.remove(&key));
                }
                prop_assert_eq!(t.len(), m.len());
                for probe in 0..64u64 {
                    let key = probe.wrapping_mul(0x1000_0000_0000_0001);
                    prop_assert_eq!(t.get(key), m.get(&key).copied());
                }
            }
        }
    }
}
