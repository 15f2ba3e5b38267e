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
//! against the hard maxima [`TXS_HARD_MAX`] and [`INCLUDED_REMEMBERED_HARD_MAX`]. `insert` and
//! `remove` cost `O(log n)` (times the evictions), `propose` `O(k log n)` for `k` returned (plus
//! the skipped excluded ones), `expire` and `remove_included` `O(log n)` per transaction dropped
//! or hash reported. Nothing scans the pool.
//!
//! The indexes that are only looked up (pending entries and remembered included hashes by
//! transaction hash, pending `(sender, nonce)` pairs, per-sender counts) are hash tables with
//! std's randomly keyed SipHash (so they cannot be flooded into collisions) and are never
//! iterated where order could matter; every ordered view (priority, per sender, expiry) is a
//! B-tree. Under load (tens of thousands pending, hundreds of thousands remembered) B-tree
//! lookups of these keys were over a tenth of a node's CPU.
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

/// A pending transaction with what the pool read from it at admission.
#[derive(Clone, Debug)]
struct Entry<T> {
    tx: T,
    sender: Sender,
    nonce: u64,
    class: Class,
    size: usize,
    arrival: u64,
    admitted_ms: u64,
}

/// The mempool (see the module doc for the policy).
#[derive(Clone, Debug)]
pub struct Mempool<T: PoolTx> {
    config: MempoolConfig,
    /// Pending transactions by hash (looked up, never iterated in an order that matters).
    entries: HashMap<TxHash, Entry<T>>,
    /// Priority order: `(class, arrival)`.
    queue: BTreeMap<(Class, u64), TxHash>,
    /// Per-sender priority order, for the sender's own eviction.
    by_sender: BTreeMap<(Sender, Class, u64), TxHash>,
    /// Pending transactions per sender (senders with none are absent).
    sender_counts: HashMap<Sender, usize>,
    /// Pending `(sender, nonce)` pairs.
    nonces: HashSet<(Sender, u64)>,
    /// Expiry order: `(admitted_ms, arrival)`.
    by_time: BTreeMap<(u64, u64), TxHash>,
    /// Remembered finalized hashes, as a set (looked up, never iterated) and in the order
    /// remembered.
    included: HashSet<TxHash>,
    included_order: VecDeque<TxHash>,
    /// Sum of the pending transactions' sizes.
    bytes: usize,
    /// The next arrival number.
    arrival_next: u64,
}

impl<T: PoolTx> Mempool<T> {
    /// An empty pool, if `config` is valid.
    pub fn new(config: MempoolConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Mempool {
            config,
            entries: HashMap::new(),
            queue: BTreeMap::new(),
            by_sender: BTreeMap::new(),
            sender_counts: HashMap::new(),
            nonces: HashSet::new(),
            by_time: BTreeMap::new(),
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
        let entry = Entry {
            sender: tx.sender(),
            nonce: tx.nonce(),
            class: if tx.is_cancel() { Class::Cancel } else { Class::Other },
            size: tx.size(),
            arrival: self.arrival_next,
            admitted_ms: now_ms,
            tx,
        };
        let evicted = self.plan(&hash, &entry)?;
        // After 2^64 - 1 admissions (centuries at any rate) the pool refuses rather than reuse
        // an arrival number.
        let Some(arrival_next) = self.arrival_next.checked_add(1) else {
            return Err(MempoolError::Full);
        };
        for victim in &evicted {
            self.take(victim);
        }
        self.arrival_next = arrival_next;
        self.put(hash, entry);
        Ok(Admitted { evicted })
    }

    /// The checks of `insert` and the evictions it needs; changes nothing.
    fn plan(&self, hash: &TxHash, new: &Entry<T>) -> Result<Vec<TxHash>, MempoolError> {
        if new.size > self.config.tx_bytes_max {
            return Err(MempoolError::TooLarge { size: new.size, max: self.config.tx_bytes_max });
        }
        if self.entries.contains_key(hash) {
            return Err(MempoolError::Duplicate);
        }
        if self.included.contains(hash) {
            return Err(MempoolError::AlreadyIncluded);
        }
        if self.nonces.contains(&(new.sender, new.nonce)) {
            return Err(MempoolError::NonceConflict);
        }
        let mut evicted = Vec::new();
        let mut txs_after = self.entries.len().saturating_add(1);
        let mut bytes_after = self.bytes.saturating_add(new.size);
        if self.sender_count(&new.sender) >= self.config.txs_per_sender_max {
            let sender_full = MempoolError::SenderFull { limit: self.config.txs_per_sender_max };
            if new.class == Class::Cancel {
                let own = self.sender_newest_other(&new.sender).ok_or(sender_full)?;
                txs_after = txs_after.saturating_sub(1);
                bytes_after = bytes_after.saturating_sub(self.size_of(&own));
                evicted.push(own);
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
        let others = self.queue.range((Class::Other, 0)..).rev();
        for (_, victim) in others {
            if evicted.len() >= self.config.evictions_per_insert_max {
                break;
            }
            if evicted.contains(victim) {
                continue;
            }
            txs_after = txs_after.saturating_sub(1);
            bytes_after = bytes_after.saturating_sub(self.size_of(victim));
            evicted.push(*victim);
            if txs_after <= self.config.txs_max && bytes_after <= self.config.bytes_max {
                return Ok(evicted);
            }
        }
        Err(MempoolError::Full)
    }

    /// The sender's newest pending non-cancel.
    fn sender_newest_other(&self, sender: &Sender) -> Option<TxHash> {
        let range = (*sender, Class::Other, 0)..=(*sender, Class::Other, u64::MAX);
        self.by_sender.range(range).next_back().map(|(_, h)| *h)
    }

    fn size_of(&self, hash: &TxHash) -> usize {
        self.entries.get(hash).map_or(0, |e| e.size)
    }

    /// Adds an entry to every index. The caller has checked the bounds.
    fn put(&mut self, hash: TxHash, entry: Entry<T>) {
        let (class, arrival, sender) = (entry.class, entry.arrival, entry.sender);
        self.queue.insert((class, arrival), hash);
        self.by_sender.insert((sender, class, arrival), hash);
        let count = self.sender_counts.entry(sender).or_insert(0);
        *count = count.saturating_add(1);
        self.nonces.insert((sender, entry.nonce));
        self.by_time.insert((entry.admitted_ms, arrival), hash);
        self.bytes = self.bytes.saturating_add(entry.size);
        self.entries.insert(hash, entry);
    }

    /// Removes an entry from every index.
    fn take(&mut self, hash: &TxHash) -> Option<T> {
        let entry = self.entries.remove(hash)?;
        let (class, arrival, sender) = (entry.class, entry.arrival, entry.sender);
        self.queue.remove(&(class, arrival));
        self.by_sender.remove(&(sender, class, arrival));
        if let Some(count) = self.sender_counts.get_mut(&sender) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.sender_counts.remove(&sender);
            }
        }
        self.nonces.remove(&(sender, entry.nonce));
        self.by_time.remove(&(entry.admitted_ms, arrival));
        self.bytes = self.bytes.saturating_sub(entry.size);
        Some(entry.tx)
    }

    /// The longest prefix of the priority order within `limits` (see the module doc). Reads
    /// only: transactions leave when their block is finalized.
    pub fn propose(&self, limits: ProposeLimits) -> Vec<T> {
        self.propose_excluding(limits, &BTreeSet::new())
    }

    /// As [`propose`](Mempool::propose), skipping the transactions in `pending` (those of
    /// proposed, not yet finalized, ancestor blocks) without stopping at them.
    pub fn propose_excluding(&self, limits: ProposeLimits, pending: &BTreeSet<TxHash>) -> Vec<T> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for hash in self.queue.values() {
            if pending.contains(hash) {
                continue;
            }
            let Some(entry) = self.entries.get(hash) else {
                continue;
            };
            let bytes_with = bytes.saturating_add(entry.size);
            if batch.len() >= limits.txs_max || bytes_with > limits.bytes_max {
                break;
            }
            bytes = bytes_with;
            batch.push(entry.tx.clone());
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
    /// hashes, oldest admission first ([`DropReason::Expired`]).
    pub fn expire(&mut self, now_ms: u64) -> Vec<TxHash> {
        let mut expired = Vec::new();
        let Some(cutoff_ms) = now_ms.checked_sub(self.config.ttl_ms) else {
            return expired;
        };
        while let Some((&(admitted_ms, _), &hash)) = self.by_time.first_key_value() {
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
        self.entries.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of the pending transactions' sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a transaction with this hash is pending.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// The pending transaction with this hash.
    pub fn get(&self, hash: &TxHash) -> Option<&T> {
        self.entries.get(hash).map(|e| &e.tx)
    }

    /// Whether this hash is remembered as included in a finalized block.
    pub fn is_included(&self, hash: &TxHash) -> bool {
        self.included.contains(hash)
    }

    /// Pending transactions of this sender.
    pub fn sender_count(&self, sender: &Sender) -> usize {
        self.sender_counts.get(sender).copied().unwrap_or(0)
    }

    /// Every pending transaction, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.queue.values().filter_map(|h| self.entries.get(h).map(|e| &e.tx))
    }

    /// Checks that the indexes agree with the entries and the bounds hold. `O(n)`: for tests,
    /// fuzzing and after loading, not per block.
    pub fn check_invariants(&self) -> Result<(), String> {
        let n = self.entries.len();
        let sizes = [
            ("queue", self.queue.len()),
            ("by_sender", self.by_sender.len()),
            ("nonces", self.nonces.len()),
            ("by_time", self.by_time.len()),
        ];
        for (name, len) in sizes {
            if len != n {
                return Err(format!("{name} holds {len} keys for {n} entries"));
            }
        }
        self.check_entries()?;
        self.check_bounds()?;
        self.check_included()
    }

    fn check_entries(&self) -> Result<(), String> {
        let mut bytes = 0usize;
        let mut counts: HashMap<Sender, usize> = HashMap::new();
        for (hash, e) in &self.entries {
            let indexed = self.queue.get(&(e.class, e.arrival)) == Some(hash)
                && self.by_sender.get(&(e.sender, e.class, e.arrival)) == Some(hash)
                && self.by_time.get(&(e.admitted_ms, e.arrival)) == Some(hash)
                && self.nonces.contains(&(e.sender, e.nonce));
            if !indexed {
                return Err(format!("entry {hash:02x?} is missing from an index"));
            }
            if e.arrival >= self.arrival_next {
                return Err(format!("entry {hash:02x?} arrived after arrival_next"));
            }
            if self.included.contains(hash) {
                return Err(format!("entry {hash:02x?} is pending and included"));
            }
            bytes = bytes.saturating_add(e.size);
            let count = counts.entry(e.sender).or_insert(0);
            *count = count.saturating_add(1);
        }
        if bytes != self.bytes {
            return Err(format!("bytes {} but entries sum to {bytes}", self.bytes));
        }
        if counts != self.sender_counts {
            return Err("sender counts disagree with the entries".to_string());
        }
        Ok(())
    }

    fn check_bounds(&self) -> Result<(), String> {
        let c = &self.config;
        if self.entries.len() > c.txs_max || self.bytes > c.bytes_max {
            return Err(format!(
                "{} txs / {} bytes above the bounds {} / {}",
                self.entries.len(),
                self.bytes,
                c.txs_max,
                c.bytes_max
            ));
        }
        if self.sender_counts.values().any(|&k| k > c.txs_per_sender_max) {
            return Err("a sender is above txs_per_sender_max".to_string());
        }
        if self.entries.values().any(|e| e.size > c.tx_bytes_max) {
            return Err("a pending transaction is above tx_bytes_max".to_string());
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
