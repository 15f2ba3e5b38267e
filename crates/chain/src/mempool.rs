//! The mempool: which pending transactions a node keeps, in what order it proposes them, and
//! which it refuses or drops, with a reason for each. Generic over the transaction type
//! ([`PoolTx`]); pure: no clock (time comes in as `now_ms`), no randomness that reaches an
//! answer, no threads, no hashed-collection iteration.
//!
//! # What the caller has done before [`Mempool::insert`]
//! The stateless checks (decoding, encoded size, chain id, signature, batch-verified on all
//! cores) run before a transaction reaches the pool; the pool trusts [`PoolTx::hash`],
//! [`PoolTx::sender`] and [`PoolTx::nonce`], and reads each of them once, at admission. Stateful
//! checks (is the nonce still unused, can the account pay) belong to execution.
//!
//! # Admission: checks, in order
//! The first failing check refuses the transaction with the [`MempoolError`] named, and the pool
//! is left exactly as it was (a refused insert evicts nothing). The variants' [`codes`] follow
//! this order.
//!
//! 1. `TooLarge` if its [`PoolTx::size`] exceeds [`MempoolConfig::tx_bytes_max`];
//! 2. `Duplicate` if a pending transaction has its hash;
//! 3. `AlreadyIncluded` if its hash is among the last
//!    [`MempoolConfig::included_remembered_max`] hashes reported finalized through
//!    [`Mempool::remove_included`] (so a transaction gossiped again after its block is refused
//!    here, not at execution);
//! 4. `NonceConflict` if a pending transaction of the same sender has the same nonce. The
//!    authorisation rule executes each `(signer, nonce)` at most once, so at most one of the two
//!    could ever execute; the first seen keeps its place (there are no fees, so replacing it
//!    would only let a signer churn the pool for free);
//! 5. `SenderFull` if the sender already has [`MempoolConfig::txs_per_sender_max`] pending
//!    transactions, unless the new one is a cancel and the sender has a pending non-cancel: then
//!    the sender's own **newest** non-cancel is evicted to make room;
//! 6. `Full` if, after the eviction of step 5, the pool would hold more than
//!    [`MempoolConfig::txs_max`] transactions or more than [`MempoolConfig::bytes_max`] bytes,
//!    unless the new one is a cancel: then the pool's newest non-cancels are evicted, newest
//!    first, until it fits. If no non-cancel is left, or fitting would take more than
//!    [`MempoolConfig::evictions_per_insert_max`] evictions in all (step 5 included), the cancel
//!    is refused `Full` and nothing is evicted.
//!
//! An admitted transaction gets the next arrival number; [`Admitted::evicted`] lists the hashes
//! evicted for it, in eviction order, so the node can tell their submitters
//! ([`DropReason::Evicted`]).
//!
//! # Priority
//! Two classes: **cancels** ([`PoolTx::is_cancel`]) rank above **everything else**; within a
//! class, the earlier arrival ranks higher (FIFO by arrival number, not by `now_ms`, so equal
//! timestamps or a clock that steps back reorder nothing).
//!
//! Why cancels first: a cancel only removes risk and frees book capacity, it is cheap to execute,
//! and a market maker must be able to pull its quotes when prices move, exactly when the pool is
//! congested. Why FIFO: without fees there is no better signal of worth than arrival, and FIFO
//! is what a submitter can reason about.
//!
//! # Eviction
//! The lowest-priority entry is the newest non-cancel. A new transaction is the newest of its
//! class, so it never outranks a pending transaction of its own class: when the pool is full a
//! new non-cancel is refused (first come, first served; evicting older for newer would let a
//! spammer churn the pool), and a new cancel evicts only non-cancels. A pending cancel is never
//! evicted; it leaves by inclusion, expiry or [`Mempool::remove`]. At a sender's bound the same
//! rule is applied within the sender: a non-cancel is refused, so a sender's earlier transactions
//! keep their place; a cancel displaces the sender's own newest order, which harms no-one else,
//! so an account at its bound can always cancel.
//!
//! A flood of cancels can displace other accounts' orders; each account can hold at most
//! `txs_per_sender_max` of them, and stateful checks before insert (the account exists) raise
//! the cost of many accounts.
//!
//! # Leaving the pool
//! * [`Mempool::remove_included`], once a block holding the transaction is **finalized**; the
//!   hash is remembered (bounded FIFO of `included_remembered_max` hashes, the oldest forgotten
//!   first), whether or not it was pending here: blocks proposed by others hold transactions this
//!   node never saw. A forgotten hash that comes back is admitted again and fails the nonce
//!   check at execution; the remembered set is an early filter, not the replay protection.
//! * [`Mempool::expire`] drops the transactions admitted at least [`MempoolConfig::ttl_ms`]
//!   before `now_ms`, oldest admission first ([`DropReason::Expired`]).
//! * [`Mempool::remove`], by the node (for example, the transaction became invalid).
//! * Never by proposing: a proposal can fail, so [`Mempool::propose`] only reads.
//!
//! # Proposal
//! [`Mempool::propose`] returns the longest **prefix** of the priority order (all cancels in
//! arrival order, then the rest in arrival order) within [`ProposeLimits`]: it stops at the first
//! transaction that would exceed either limit, so nothing overtakes an earlier transaction of its
//! class. With `tx_bytes_max` no larger than a block's byte budget, the head always fits in an
//! empty block, so a large transaction delays the ones behind it for at most one block.
//! [`Mempool::propose_excluding`] skips (without stopping) the transactions already in a
//! proposed but not yet finalized ancestor block, so a proposer building on a notarized parent
//! does not repeat them.
//!
//! # Nonces
//! The pool uses nonces only for `NonceConflict`. It assumes the authorisation rule accepts any
//! unused nonce within a window rather than a strict sequence (novation's nonces are millisecond
//! timestamps checked against a window by the `auth` module), since it moves a sender's cancels
//! ahead of that sender's older orders.
//!
//! # Bounds and cost
//! Every collection is bounded by a [`MempoolConfig`] value: pending entries and their indexes by
//! `txs_max` (and `bytes_max`), the remembered hashes by `included_remembered_max`, evictions per
//! insert by `evictions_per_insert_max`; a config is checked by [`MempoolConfig::validate`]
//! against the hard maxima [`TXS_HARD_MAX`] and [`INCLUDED_REMEMBERED_HARD_MAX`]. Nothing scans
//! the pool.
//!
//! Layout (see [`Mempool`]): entries sit in a slab of slots; the orders the policy needs
//! (priority within each class, each sender's non-cancels for its own eviction, expiry) are
//! queues of `(arrival, slot)` references in arrival order, appended at admission and left to
//! die at removal (a reference is live while its slot holds that arrival). Readers skip dead
//! references; removal drops them at the queues' ends and compacts a queue once its dead
//! references outnumber its live ones (plus a small constant), so each queue stays below
//! twice its live entries and removal is amortised `O(1)`. Arrival order is expiry order
//! while admission times do not step back; an admission timed earlier than a previous one is
//! kept in a B-tree by `(admitted_ms, arrival)` instead, and [`Mempool::expire`] merges the
//! two, so the order of expiry is exactly "oldest admission first, then arrival".
//! `insert` and `remove` cost `O(1)` expected (times the evictions; `O(log n)` for a late
//! admission), `propose` `O(k)` for `k` returned plus the skipped dead or excluded entries,
//! `expire` and `remove_included` `O(1)` per transaction dropped or hash reported.
//!
//! The indexes that are only looked up (slots by transaction hash, remembered included hashes,
//! pending `(sender, nonce)` pairs, per-sender state) are hash tables with std's randomly keyed
//! SipHash (so they cannot be flooded into collisions) and are never iterated where order could
//! matter; every order is a queue in arrival order or a B-tree. Under load (tens of thousands
//! pending, hundreds of thousands remembered) the earlier B-tree indexes by priority, sender
//! and time cost about a sixth of a node's CPU in `novation bench`.
//!
//! [`codes`]: MempoolError::code

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// A transaction's unique id (its hash); duplicates are detected by it.
pub type TxHash = [u8; 32];

/// A signer's address bytes; per-account bounds are counted by it.
pub type Sender = [u8; 20];

/// Hard maximum of [`MempoolConfig::txs_max`].
pub const TXS_HARD_MAX: usize = 1 << 22;

/// Hard maximum of [`MempoolConfig::included_remembered_max`].
pub const INCLUDED_REMEMBERED_HARD_MAX: usize = 1 << 23;

/// What the pool needs to know about a transaction. The values must not change while it is
/// pending (the pool reads them once, at admission, and indexes by them).
pub trait PoolTx: Clone {
    /// Unique id: two transactions with the same hash are the same transaction.
    fn hash(&self) -> TxHash;
    /// The signer's address bytes.
    fn sender(&self) -> Sender;
    /// The signer's nonce.
    fn nonce(&self) -> u64;
    /// Whether it only cancels (prioritised, see the module doc).
    fn is_cancel(&self) -> bool;
    /// Encoded size in bytes.
    fn size(&self) -> usize;
}

/// The pool's bounds and time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Pending transactions in all (at most [`TXS_HARD_MAX`]).
    pub txs_max: usize,
    /// Sum of the pending transactions' sizes.
    pub bytes_max: usize,
    /// Pending transactions of one sender (at most `txs_max`).
    pub txs_per_sender_max: usize,
    /// Size of one transaction (at most `bytes_max`; keep it at most a block's byte budget).
    pub tx_bytes_max: usize,
    /// A transaction admitted at `t` is expired from `t + ttl_ms` on.
    pub ttl_ms: u64,
    /// Finalized hashes remembered to refuse re-gossip (at most
    /// [`INCLUDED_REMEMBERED_HARD_MAX`]).
    pub included_remembered_max: usize,
    /// Transactions one admitted cancel may evict.
    pub evictions_per_insert_max: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            txs_max: 100_000,
            bytes_max: 64 << 20,
            txs_per_sender_max: 1_000,
            tx_bytes_max: 16 << 10,
            ttl_ms: 60_000,
            included_remembered_max: 200_000,
            evictions_per_insert_max: 16,
        }
    }
}

impl MempoolConfig {
    /// Checks that every bound is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let counts = [
            self.txs_max,
            self.bytes_max,
            self.txs_per_sender_max,
            self.tx_bytes_max,
            self.included_remembered_max,
            self.evictions_per_insert_max,
        ];
        if counts.contains(&0) || self.ttl_ms == 0 {
            return Err(ConfigError::Zero);
        }
        if self.txs_max > TXS_HARD_MAX {
            return Err(ConfigError::TooManyTxs);
        }
        if self.included_remembered_max > INCLUDED_REMEMBERED_HARD_MAX {
            return Err(ConfigError::TooManyRemembered);
        }
        if self.txs_per_sender_max > self.txs_max {
            return Err(ConfigError::SenderAboveTotal);
        }
        if self.tx_bytes_max > self.bytes_max {
            return Err(ConfigError::TxAboveTotal);
        }
        Ok(())
    }
}

/// Invalid [`MempoolConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A bound or the time to live is zero.
    #[error("every mempool bound and the ttl must be at least 1")]
    Zero,
    /// `txs_max` above [`TXS_HARD_MAX`].
    #[error("txs_max exceeds the hard maximum of {TXS_HARD_MAX}")]
    TooManyTxs,
    /// `included_remembered_max` above [`INCLUDED_REMEMBERED_HARD_MAX`].
    #[error("included_remembered_max exceeds the hard maximum of {INCLUDED_REMEMBERED_HARD_MAX}")]
    TooManyRemembered,
    /// `txs_per_sender_max` above `txs_max`.
    #[error("txs_per_sender_max exceeds txs_max")]
    SenderAboveTotal,
    /// `tx_bytes_max` above `bytes_max`.
    #[error("tx_bytes_max exceeds bytes_max")]
    TxAboveTotal,
}

/// Why a transaction was refused; nothing changed. Variants in the order of the checks (see the
/// module doc), with stable [`code`](MempoolError::code)s and [`reason`](MempoolError::reason)s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// Larger than [`MempoolConfig::tx_bytes_max`].
    #[error("transaction of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The transaction's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Already pending.
    #[error("transaction already pending")]
    Duplicate,
    /// Recently included in a finalized block.
    #[error("transaction already included in a finalized block")]
    AlreadyIncluded,
    /// The sender has a pending transaction with this nonce.
    #[error("the sender has a pending transaction with this nonce")]
    NonceConflict,
    /// The sender holds its maximum of pending transactions.
    #[error("the sender has {limit} pending transactions, the maximum")]
    SenderFull {
        /// The per-sender limit.
        limit: usize,
    },
    /// The pool is full and the transaction does not outrank anything evictable.
    #[error("the mempool is full")]
    Full,
}

impl MempoolError {
    /// The stable numeric code.
    pub const fn code(self) -> u16 {
        match self {
            MempoolError::TooLarge { .. } => 1,
            MempoolError::Duplicate => 2,
            MempoolError::AlreadyIncluded => 3,
            MempoolError::NonceConflict => 4,
            MempoolError::SenderFull { .. } => 5,
            MempoolError::Full => 6,
        }
    }

    /// The stable machine-readable reason.
    pub const fn reason(self) -> &'static str {
        match self {
            MempoolError::TooLarge { .. } => "too_large",
            MempoolError::Duplicate => "duplicate",
            MempoolError::AlreadyIncluded => "already_included",
            MempoolError::NonceConflict => "nonce_conflict",
            MempoolError::SenderFull { .. } => "sender_full",
            MempoolError::Full => "mempool_full",
        }
    }
}

/// Why an admitted transaction left the pool without being included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    /// Evicted for a higher-priority transaction ([`Admitted::evicted`]).
    #[error("evicted by a higher-priority transaction")]
    Evicted,
    /// Pending for longer than the time to live ([`Mempool::expire`]).
    #[error("expired before inclusion")]
    Expired,
}

impl DropReason {
    /// The stable numeric code (after [`MempoolError`]'s).
    pub const fn code(self) -> u16 {
        match self {
            DropReason::Evicted => 20,
            DropReason::Expired => 21,
        }
    }

    /// The stable machine-readable reason.
    pub const fn reason(self) -> &'static str {
        match self {
            DropReason::Evicted => "evicted",
            DropReason::Expired => "expired",
        }
    }
}

/// A successful [`Mempool::insert`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Admitted {
    /// Hashes evicted to make room, in eviction order (at most
    /// [`MempoolConfig::evictions_per_insert_max`]); their submitters should be told
    /// [`DropReason::Evicted`].
    pub evicted: Vec<TxHash>,
}

/// The limits of one proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposeLimits {
    /// Transactions returned at most.
    pub txs_max: usize,
    /// Sum of the returned transactions' sizes at most.
    pub bytes_max: usize,
}

/// The priority class; the derived order is the priority (cancels first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Cancel,
    Other,
}

impl Class {
    const fn index(self) -> usize {
        match self {
            Class::Cancel => 0,
            Class::Other => 1,
        }
    }
}

/// A reference from an ordered queue to a slot: `(arrival, slot)`. It is live while the slot
/// holds the entry with that arrival number; removing an entry leaves its references dead
/// (see [`DEAD_SLACK`]).
type Ref = (u64, u32);

/// Dead references an ordered queue may hold beyond twice its live ones before it is compacted.
/// Dead references at either end are dropped at once; compaction is amortised `O(1)` per
/// removal and keeps every queue within `2 × live + DEAD_SLACK`.
const DEAD_SLACK: usize = 16;

/// A pending transaction with what the pool read from it at admission.
#[derive(Clone, Debug)]
struct Entry<T> {
    tx: T,
    hash: TxHash,
    sender: Sender,
    nonce: u64,
    class: Class,
    size: usize,
    arrival: u64,
    admitted_ms: u64,
    /// Admitted with a time earlier than an earlier admission's (a clock that stepped back):
    /// kept in [`Mempool::late`] instead of the arrival-ordered expiry queue.
    late: bool,
}

/// One sender's pending transactions: how many, and its non-cancels in arrival order (for the
/// eviction of its own newest order).
#[derive(Clone, Debug, Default)]
struct SenderState {
    count: usize,
    others: VecDeque<Ref>,
    others_live: usize,
}

/// A transaction returned by [`Mempool::propose_detailed`], with what the pool knows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposed<T> {
    /// Its hash.
    pub hash: TxHash,
    /// Its encoded size.
    pub size: usize,
    /// The transaction.
    pub tx: T,
}

/// The mempool (see the module doc for the policy).
///
/// Layout: entries live in a slab of slots (a free list reuses them); a hash table maps hashes
/// to slots. The orders the policy needs (priority per class, each sender's non-cancels,
/// expiry) are queues of `Ref`s in arrival order: admitting appends, removing only frees the
/// slot, and dead references are skipped by readers and dropped at the ends or by compaction.
/// Arrival order is expiry order as long as admission times do not step back; an admission
/// with an earlier time than a previous one goes to a B-tree by `(admitted_ms, arrival)`
/// instead, and expiry merges the two.
#[derive(Clone, Debug)]
pub struct Mempool<T: PoolTx> {
    config: MempoolConfig,
    slots: Vec<Option<Entry<T>>>,
    free: Vec<u32>,
    /// Pending transactions by hash (looked up, never iterated in an order that matters).
    by_hash: HashMap<TxHash, u32>,
    /// Priority order within each class ([`Class::index`]).
    queues: [VecDeque<Ref>; 2],
    class_counts: [usize; 2],
    /// Pending transactions per sender (senders with none are absent).
    senders: HashMap<Sender, SenderState>,
    /// Pending `(sender, nonce)` pairs.
    nonces: HashSet<(Sender, u64)>,
    /// Expiry order of the entries admitted in time order (not `late`).
    in_order: VecDeque<Ref>,
    in_order_live: usize,
    /// The latest admission time among the entries appended to `in_order` since it was last
    /// empty of live references.
    in_order_latest_ms: u64,
    /// Expiry order of the `late` entries: `(admitted_ms, arrival)` to slot.
    late: BTreeMap<(u64, u64), u32>,
    /// Remembered finalized hashes, as a set (looked up, never iterated) and in the order
    /// remembered.
    included: HashSet<TxHash>,
    included_order: VecDeque<TxHash>,
    /// Sum of the pending transactions' sizes.
    bytes: usize,
    /// The next arrival number.
    arrival_next: u64,
}

fn live_entry<T>(slots: &[Option<Entry<T>>], r: Ref) -> Option<&Entry<T>> {
    slots.get(r.1 as usize).and_then(Option::as_ref).filter(|e| e.arrival == r.0)
}

/// Drops dead references at both ends of `queue` and compacts it when dead ones exceed the
/// bound of [`DEAD_SLACK`].
fn trim<T>(slots: &[Option<Entry<T>>], queue: &mut VecDeque<Ref>, live: usize) {
    while queue.front().is_some_and(|r| live_entry(slots, *r).is_none()) {
        queue.pop_front();
    }
    while queue.back().is_some_and(|r| live_entry(slots, *r).is_none()) {
        queue.pop_back();
    }
    if queue.len() > live.saturating_mul(2).saturating_add(DEAD_SLACK) {
        queue.retain(|r| live_entry(slots, *r).is_some());
    }
}

impl<T: PoolTx> Mempool<T> {
    /// An empty pool, if `config` is valid.
    pub fn new(config: MempoolConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Mempool {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_hash: HashMap::new(),
            queues: [VecDeque::new(), VecDeque::new()],
            class_counts: [0, 0],
            senders: HashMap::new(),
            nonces: HashSet::new(),
            in_order: VecDeque::new(),
            in_order_live: 0,
            in_order_latest_ms: 0,
            late: BTreeMap::new(),
            included: HashSet::new(),
            included_order: VecDeque::new(),
            bytes: 0,
            arrival_next: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Admits `tx` at `now_ms` or says why not (see the module doc for the checks). Either way
    /// the answer is for the submitter.
    pub fn insert(&mut self, tx: T, now_ms: u64) -> Result<Admitted, MempoolError> {
        let hash = tx.hash();
        self.insert_hashed(tx, hash, now_ms)
    }

    /// [`insert`](Mempool::insert) with the transaction's hash already computed by the caller
    /// (it must equal [`PoolTx::hash`]; the pool does not recompute it).
    pub fn insert_hashed(
        &mut self,
        tx: T,
        hash: TxHash,
        now_ms: u64,
    ) -> Result<Admitted, MempoolError> {
        let entry = Entry {
            hash,
            sender: tx.sender(),
            nonce: tx.nonce(),
            class: if tx.is_cancel() { Class::Cancel } else { Class::Other },
            size: tx.size(),
            arrival: self.arrival_next,
            admitted_ms: now_ms,
            late: false,
            tx,
        };
        let evicted = self.plan(&entry)?;
        // After 2^64 - 1 admissions (centuries at any rate) the pool refuses rather than reuse
        // an arrival number.
        let Some(arrival_next) = self.arrival_next.checked_add(1) else {
            return Err(MempoolError::Full);
        };
        for victim in &evicted {
            self.take(victim);
        }
        self.arrival_next = arrival_next;
        self.put(entry);
        Ok(Admitted { evicted })
    }

    /// The checks of `insert` and the evictions it needs; changes nothing.
    fn plan(&self, new: &Entry<T>) -> Result<Vec<TxHash>, MempoolError> {
        if new.size > self.config.tx_bytes_max {
            return Err(MempoolError::TooLarge { size: new.size, max: self.config.tx_bytes_max });
        }
        if self.by_hash.contains_key(&new.hash) {
            return Err(MempoolError::Duplicate);
        }
        if self.included.contains(&new.hash) {
            return Err(MempoolError::AlreadyIncluded);
        }
        if self.nonces.contains(&(new.sender, new.nonce)) {
            return Err(MempoolError::NonceConflict);
        }
        let mut evicted = Vec::new();
        let mut txs_after = self.len().saturating_add(1);
        let mut bytes_after = self.bytes.saturating_add(new.size);
        if self.sender_count(&new.sender) >= self.config.txs_per_sender_max {
            let sender_full = MempoolError::SenderFull { limit: self.config.txs_per_sender_max };
            if new.class == Class::Cancel {
                let own = self.sender_newest_other(&new.sender).ok_or(sender_full)?;
                txs_after = txs_after.saturating_sub(1);
                bytes_after = bytes_after.saturating_sub(own.size);
                evicted.push(own.hash);
            } else {
                return Err(sender_full);
            }
        }
        if txs_after <= self.config.txs_max && bytes_after <= self.config.bytes_max {
            return Ok(evicted);
        }
        if new.class != Class::Cancel {
            return Err(MempoolError::Full);
        }
        // Newest non-cancels first; the sender's own victim (if any) is among them, skip it.
        let others = self.queues[Class::Other.index()].iter().rev();
        for victim in others.filter_map(|r| live_entry(&self.slots, *r)) {
            if evicted.len() >= self.config.evictions_per_insert_max {
                break;
            }
            if evicted.contains(&victim.hash) {
                continue;
            }
            txs_after = txs_after.saturating_sub(1);
            bytes_after = bytes_after.saturating_sub(victim.size);
            evicted.push(victim.hash);
            if txs_after <= self.config.txs_max && bytes_after <= self.config.bytes_max {
                return Ok(evicted);
            }
        }
        Err(MempoolError::Full)
    }

    /// The sender's newest pending non-cancel.
    fn sender_newest_other(&self, sender: &Sender) -> Option<&Entry<T>> {
        let state = self.senders.get(sender)?;
        state.others.iter().rev().find_map(|r| live_entry(&self.slots, *r))
    }

    /// Adds an entry to every index. The caller has checked the bounds.
    fn put(&mut self, mut entry: Entry<T>) {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                // At most `txs_max` (≤ TXS_HARD_MAX < 2^32) slots are ever in use at once.
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(None);
                slot
            }
        };
        let r = (entry.arrival, slot);
        let class = entry.class.index();
        self.queues[class].push_back(r);
        self.class_counts[class] = self.class_counts[class].saturating_add(1);
        let state = self.senders.entry(entry.sender).or_default();
        state.count = state.count.saturating_add(1);
        if entry.class == Class::Other {
            state.others.push_back(r);
            state.others_live = state.others_live.saturating_add(1);
        }
        self.nonces.insert((entry.sender, entry.nonce));
        if entry.admitted_ms >= self.in_order_latest_ms {
            self.in_order.push_back(r);
            self.in_order_live = self.in_order_live.saturating_add(1);
            self.in_order_latest_ms = entry.admitted_ms;
        } else {
            entry.late = true;
            self.late.insert((entry.admitted_ms, entry.arrival), slot);
        }
        self.bytes = self.bytes.saturating_add(entry.size);
        self.by_hash.insert(entry.hash, slot);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(entry);
        }
    }

    /// Removes an entry from every index.
    fn take(&mut self, hash: &TxHash) -> Option<T> {
        let slot = self.by_hash.remove(hash)?;
        let entry = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        let class = entry.class.index();
        self.class_counts[class] = self.class_counts[class].saturating_sub(1);
        trim(&self.slots, &mut self.queues[class], self.class_counts[class]);
        if let Some(state) = self.senders.get_mut(&entry.sender) {
            state.count = state.count.saturating_sub(1);
            if state.count == 0 {
                self.senders.remove(&entry.sender);
            } else if entry.class == Class::Other {
                state.others_live = state.others_live.saturating_sub(1);
                trim(&self.slots, &mut state.others, state.others_live);
            }
        }
        self.nonces.remove(&(entry.sender, entry.nonce));
        if entry.late {
            self.late.remove(&(entry.admitted_ms, entry.arrival));
        } else {
            self.in_order_live = self.in_order_live.saturating_sub(1);
            if self.in_order_live == 0 {
                self.in_order.clear();
                self.in_order_latest_ms = 0;
            } else {
                trim(&self.slots, &mut self.in_order, self.in_order_live);
            }
        }
        self.bytes = self.bytes.saturating_sub(entry.size);
        Some(entry.tx)
    }

    /// Live entries in priority order.
    fn entries_in_priority(&self) -> impl Iterator<Item = &Entry<T>> + '_ {
        let [cancels, others] = &self.queues;
        cancels.iter().chain(others.iter()).filter_map(|r| live_entry(&self.slots, *r))
    }

    /// The longest prefix of the priority order within `limits` (see the module doc). Reads
    /// only: transactions leave when their block is finalized.
    pub fn propose(&self, limits: ProposeLimits) -> Vec<T> {
        self.propose_excluding(limits, &BTreeSet::new())
    }

    /// As [`propose`](Mempool::propose), skipping the transactions in `pending` (those of
    /// proposed, not yet finalized, ancestor blocks) without stopping at them.
    pub fn propose_excluding(&self, limits: ProposeLimits, pending: &BTreeSet<TxHash>) -> Vec<T> {
        self.propose_detailed(limits, |h| pending.contains(h)).into_iter().map(|p| p.tx).collect()
    }

    /// As [`propose_excluding`](Mempool::propose_excluding) with the exclusion given as a
    /// predicate, returning each transaction with its hash and size (so the proposer need not
    /// recompute them).
    pub fn propose_detailed(
        &self,
        limits: ProposeLimits,
        excluded: impl Fn(&TxHash) -> bool,
    ) -> Vec<Proposed<T>> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for entry in self.entries_in_priority() {
            if excluded(&entry.hash) {
                continue;
            }
            let bytes_with = bytes.saturating_add(entry.size);
            if batch.len() >= limits.txs_max || bytes_with > limits.bytes_max {
                break;
            }
            bytes = bytes_with;
            batch.push(Proposed { hash: entry.hash, size: entry.size, tx: entry.tx.clone() });
        }
        batch
    }

    /// Removes the transactions of a finalized block and remembers their hashes (all of them,
    /// pending here or not; see the module doc).
    pub fn remove_included(&mut self, hashes: impl IntoIterator<Item = TxHash>) {
        for hash in hashes {
            self.take(&hash);
            self.remember_included(hash);
        }
    }

    fn remember_included(&mut self, hash: TxHash) {
        if !self.included.insert(hash) {
            return;
        }
        self.included_order.push_back(hash);
        while self.included_order.len() > self.config.included_remembered_max {
            if let Some(oldest) = self.included_order.pop_front() {
                self.included.remove(&oldest);
            }
        }
    }

    /// Drops the transactions admitted at least `ttl_ms` before `now_ms` and returns their
    /// hashes, oldest admission first (ties in arrival order; [`DropReason::Expired`]).
    pub fn expire(&mut self, now_ms: u64) -> Vec<TxHash> {
        let mut expired = Vec::new();
        let Some(cutoff_ms) = now_ms.checked_sub(self.config.ttl_ms) else {
            return expired;
        };
        loop {
            let in_order = self
                .in_order
                .iter()
                .find_map(|r| live_entry(&self.slots, *r))
                .map(|e| ((e.admitted_ms, e.arrival), e.hash));
            let late = self.late.iter().next().and_then(|(&key, &slot)| {
                let e = self.slots.get(slot as usize)?.as_ref()?;
                Some((key, e.hash))
            });
            let oldest = match (in_order, late) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            };
            let Some(((admitted_ms, _), hash)) = oldest else { break };
            if admitted_ms > cutoff_ms {
                break;
            }
            self.take(&hash);
            expired.push(hash);
        }
        expired
    }

    /// Removes a pending transaction (not remembered as included).
    pub fn remove(&mut self, hash: &TxHash) -> Option<T> {
        self.take(hash)
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Sum of the pending transactions' sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a transaction with this hash is pending.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pending transaction with this hash.
    pub fn get(&self, hash: &TxHash) -> Option<&T> {
        let slot = *self.by_hash.get(hash)?;
        self.slots.get(slot as usize)?.as_ref().map(|e| &e.tx)
    }

    /// Whether this hash is remembered as included in a finalized block.
    pub fn is_included(&self, hash: &TxHash) -> bool {
        self.included.contains(hash)
    }

    /// Pending transactions of this sender.
    pub fn sender_count(&self, sender: &Sender) -> usize {
        self.senders.get(sender).map_or(0, |s| s.count)
    }

    /// Every pending transaction, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries_in_priority().map(|e| &e.tx)
    }

    /// Checks that the indexes agree with the entries and the bounds hold. `O(n)`: for tests,
    /// fuzzing and after loading, not per block.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_slots()?;
        self.check_queues()?;
        self.check_senders()?;
        self.check_expiry()?;
        self.check_bounds()?;
        self.check_included()
    }

    fn live_entries(&self) -> impl Iterator<Item = (u32, &Entry<T>)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| Some((i as u32, s.as_ref()?)))
    }

    fn check_slots(&self) -> Result<(), String> {
        let live = self.live_entries().count();
        if live != self.by_hash.len() || live.saturating_add(self.free.len()) != self.slots.len() {
            return Err(format!(
                "{live} live slots, {} hashes, {} free of {} slots",
                self.by_hash.len(),
                self.free.len(),
                self.slots.len()
            ));
        }
        let free: BTreeSet<u32> = self.free.iter().copied().collect();
        if free.len() != self.free.len()
            || free.iter().any(|&s| self.slots.get(s as usize).is_none_or(Option::is_some))
        {
            return Err("the free list names a used or missing slot, or one twice".to_string());
        }
        let mut bytes = 0usize;
        for (slot, e) in self.live_entries() {
            if self.by_hash.get(&e.hash) != Some(&slot) {
                return Err(format!("entry {:02x?} is not indexed by its hash", e.hash));
            }
            if !self.nonces.contains(&(e.sender, e.nonce)) {
                return Err(format!("entry {:02x?} is missing from the nonces", e.hash));
            }
            if e.arrival >= self.arrival_next {
                return Err(format!("entry {:02x?} arrived after arrival_next", e.hash));
            }
            if self.included.contains(&e.hash) {
                return Err(format!("entry {:02x?} is pending and included", e.hash));
            }
            bytes = bytes.saturating_add(e.size);
        }
        if self.nonces.len() != live {
            return Err(format!("{} nonces for {live} entries", self.nonces.len()));
        }
        if bytes != self.bytes {
            return Err(format!("bytes {} but entries sum to {bytes}", self.bytes));
        }
        Ok(())
    }

    /// A queue's references: strictly increasing arrivals, its live ones exactly `live` and
    /// satisfying `belongs`, at most `2 × live + DEAD_SLACK` in all.
    fn check_queue(
        &self,
        name: &str,
        queue: &VecDeque<Ref>,
        live: usize,
        belongs: impl Fn(&Entry<T>) -> bool,
    ) -> Result<(), String> {
        if queue.iter().zip(queue.iter().skip(1)).any(|(a, b)| a.0 >= b.0) {
            return Err(format!("{name}: arrivals out of order"));
        }
        let mut found = 0usize;
        for e in queue.iter().filter_map(|r| live_entry(&self.slots, *r)) {
            if !belongs(e) {
                return Err(format!("{name}: holds entry {:02x?} of elsewhere", e.hash));
            }
            found = found.saturating_add(1);
        }
        if found != live {
            return Err(format!("{name}: {found} live references, {live} expected"));
        }
        if queue.len() > live.saturating_mul(2).saturating_add(DEAD_SLACK) {
            return Err(format!("{name}: {} references for {live} live", queue.len()));
        }
        Ok(())
    }

    fn check_queues(&self) -> Result<(), String> {
        for class in [Class::Cancel, Class::Other] {
            let i = class.index();
            let live = self.live_entries().filter(|(_, e)| e.class == class).count();
            if live != self.class_counts[i] {
                return Err(format!("class {class:?}: count {} for {live}", self.class_counts[i]));
            }
            self.check_queue("priority", &self.queues[i], live, |e| e.class == class)?;
        }
        Ok(())
    }

    fn check_senders(&self) -> Result<(), String> {
        let mut counts: BTreeMap<Sender, (usize, usize)> = BTreeMap::new();
        for (_, e) in self.live_entries() {
            let c = counts.entry(e.sender).or_insert((0, 0));
            c.0 = c.0.saturating_add(1);
            if e.class == Class::Other {
                c.1 = c.1.saturating_add(1);
            }
        }
        if counts.len() != self.senders.len() {
            return Err("senders disagree with the entries".to_string());
        }
        for (sender, (count, others)) in &counts {
            let Some(state) = self.senders.get(sender) else {
                return Err(format!("sender {sender:02x?} is missing"));
            };
            if state.count != *count || state.others_live != *others {
                return Err(format!("sender {sender:02x?}: counts disagree with the entries"));
            }
            let mine = |e: &Entry<T>| e.sender == *sender && e.class == Class::Other;
            self.check_queue("sender", &state.others, *others, mine)?;
        }
        Ok(())
    }

    fn check_expiry(&self) -> Result<(), String> {
        let in_order = self.live_entries().filter(|(_, e)| !e.late).count();
        if in_order != self.in_order_live {
            return Err(format!(
                "{} in-order entries counted, {in_order} found",
                self.in_order_live
            ));
        }
        self.check_queue("expiry", &self.in_order, in_order, |e| !e.late)?;
        let times: Vec<u64> = self
            .in_order
            .iter()
            .filter_map(|r| live_entry(&self.slots, *r))
            .map(|e| e.admitted_ms)
            .collect();
        if times.iter().zip(times.iter().skip(1)).any(|(a, b)| a > b) {
            return Err("expiry queue out of admission-time order".to_string());
        }
        if times.last().is_some_and(|&t| t > self.in_order_latest_ms) {
            return Err("expiry queue newer than its latest time".to_string());
        }
        let late = self.live_entries().filter(|(_, e)| e.late).count();
        if late != self.late.len() {
            return Err(format!("{} late keys for {late} late entries", self.late.len()));
        }
        for (&(admitted_ms, arrival), &slot) in &self.late {
            let ok =
                self.slots.get(slot as usize).and_then(Option::as_ref).is_some_and(|e| {
                    e.late && e.admitted_ms == admitted_ms && e.arrival == arrival
                });
            if !ok {
                return Err(format!("late key ({admitted_ms}, {arrival}) names the wrong slot"));
            }
        }
        Ok(())
    }

    fn check_bounds(&self) -> Result<(), String> {
        let c = &self.config;
        if self.len() > c.txs_max || self.bytes > c.bytes_max {
            return Err(format!(
                "{} txs / {} bytes above the bounds {} / {}",
                self.len(),
                self.bytes,
                c.txs_max,
                c.bytes_max
            ));
        }
        if self.senders.values().any(|s| s.count > c.txs_per_sender_max) {
            return Err("a sender is above txs_per_sender_max".to_string());
        }
        if self.live_entries().any(|(_, e)| e.size > c.tx_bytes_max) {
            return Err("a pending transaction is above tx_bytes_max".to_string());
        }
        if self.slots.len() > c.txs_max {
            return Err(format!("{} slots above txs_max {}", self.slots.len(), c.txs_max));
        }
        Ok(())
    }

    fn check_included(&self) -> Result<(), String> {
        let n = self.included_order.len();
        if n != self.included.len() || n > self.config.included_remembered_max {
            return Err(format!(
                "{n} remembered hashes in order, {} in the set, max {}",
                self.included.len(),
                self.config.included_remembered_max
            ));
        }
        if self.included_order.iter().any(|h| !self.included.contains(h)) {
            return Err("included order and set disagree".to_string());
        }
        Ok(())
    }
}
