//! Differential test: the real [`Mempool`] against a naive reference model (a `Vec` in arrival
//! order, every rule written the obvious way, every query a scan), on random sequences of
//! insert, propose, remove_included, expire and remove, under random small configurations. After
//! every operation: identical return values, identical contents in priority order, identical
//! queries, `check_invariants`, and invariants computed from the public API alone (sums, bounds,
//! priority order of `iter` and of every proposal). A twin pool fed the same sequence must end
//! identical (determinism).
//!
//! `PROPTEST_CASES` sets the number of random sequences (default 256).

use novation_chain::mempool::{Mempool, MempoolConfig, MempoolError, ProposeLimits, TxHash};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const SENDERS: u8 = 5;
const NONCES: u64 = 12;

mod mempool_support;
use mempool_support::{hash, Tx};

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Clone, Debug)]
struct ModelEntry {
    tx: Tx,
    admitted_ms: u64,
}

/// The pool as a list in arrival order and the remembered hashes, oldest first.
#[derive(Clone, Debug)]
struct Model {
    cfg: MempoolConfig,
    entries: Vec<ModelEntry>,
    included: Vec<TxHash>,
}

impl Model {
    fn new(cfg: MempoolConfig) -> Self {
        Model { cfg, entries: Vec::new(), included: Vec::new() }
    }

    /// Cancels in arrival order, then the others in arrival order.
    fn priority(&self) -> Vec<Tx> {
        let cancels = self.entries.iter().filter(|e| e.tx.cancel);
        let others = self.entries.iter().filter(|e| !e.tx.cancel);
        cancels.chain(others).map(|e| e.tx).collect()
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.tx.size).sum()
    }

    fn count(&self, from: u8) -> usize {
        self.entries.iter().filter(|e| e.tx.from == from).count()
    }

    fn insert(&mut self, tx: Tx, now_ms: u64) -> Result<Vec<TxHash>, MempoolError> {
        let c = self.cfg;
        if tx.size > c.tx_bytes_max {
            return Err(MempoolError::TooLarge { size: tx.size, max: c.tx_bytes_max });
        }
        if self.entries.iter().any(|e| e.tx.id == tx.id) {
            return Err(MempoolError::Duplicate);
        }
        if self.included.contains(&hash(tx.id)) {
            return Err(MempoolError::AlreadyIncluded);
        }
        if self.entries.iter().any(|e| e.tx.from == tx.from && e.tx.nonce == tx.nonce) {
            return Err(MempoolError::NonceConflict);
        }
        let mut victims: Vec<u32> = Vec::new();
        if self.count(tx.from) >= c.txs_per_sender_max {
            let full = MempoolError::SenderFull { limit: c.txs_per_sender_max };
            if !tx.cancel {
                return Err(full);
            }
            // The sender's lowest-priority non-cancel: its last in priority order.
            let mut by_priority = self.priority().into_iter().rev();
            let own = by_priority.find(|t| t.from == tx.from && !t.cancel);
            victims.push(own.ok_or(full)?.id);
        }
        loop {
            let kept: Vec<Tx> =
                self.priority().into_iter().filter(|t| !victims.contains(&t.id)).collect();
            let bytes: usize = kept.iter().map(|t| t.size).sum();
            if kept.len() < c.txs_max && bytes + tx.size <= c.bytes_max {
                break;
            }
            if !tx.cancel {
                return Err(MempoolError::Full);
            }
            // The lowest-priority non-cancel left: the last in priority order.
            let Some(victim) = kept.into_iter().rev().find(|t| !t.cancel) else {
                return Err(MempoolError::Full);
            };
            victims.push(victim.id);
            if victims.len() > c.evictions_per_insert_max {
                return Err(MempoolError::Full);
            }
        }
        self.entries.retain(|e| !victims.contains(&e.tx.id));
        self.entries.push(ModelEntry { tx, admitted_ms: now_ms });
        Ok(victims.into_iter().map(hash).collect())
    }

    fn propose(&self, limits: ProposeLimits, pending: &BTreeSet<TxHash>) -> Vec<Tx> {
        let mut out: Vec<Tx> = Vec::new();
        for tx in self.priority() {
            if pending.contains(&hash(tx.id)) {
                continue;
            }
            let bytes: usize = out.iter().map(|t| t.size).sum();
            if out.len() >= limits.txs_max || bytes + tx.size > limits.bytes_max {
                break;
            }
            out.push(tx);
        }
        out
    }

    fn remove_included(&mut self, hashes: &[TxHash]) {
        for h in hashes {
            self.entries.retain(|e| hash(e.tx.id) != *h);
            if !self.included.contains(h) {
                self.included.push(*h);
                if self.included.len() > self.cfg.included_remembered_max {
                    self.included.remove(0);
                }
            }
        }
    }

    fn expire(&mut self, now_ms: u64) -> Vec<TxHash> {
        let ttl = u128::from(self.cfg.ttl_ms);
        let is_expired = |e: &ModelEntry| u128::from(e.admitted_ms) + ttl <= u128::from(now_ms);
        // Stable sort: equal admission times stay in arrival order.
        let mut gone: Vec<ModelEntry> =
            self.entries.iter().filter(|e| is_expired(e)).cloned().collect();
        gone.sort_by_key(|e| e.admitted_ms);
        self.entries.retain(|e| !is_expired(e));
        gone.iter().map(|e| hash(e.tx.id)).collect()
    }

    fn remove(&mut self, h: &TxHash) -> Option<Tx> {
        let i = self.entries.iter().position(|e| hash(e.tx.id) == *h)?;
        Some(self.entries.remove(i).tx)
    }
}

// ---------------------------------------------------------------------------------------------
// Operations, resolved against the model's state when applied.

#[derive(Clone, Copy, Debug)]
enum IdPick {
    /// An id never used before.
    Fresh,
    /// The k-th pending transaction (in arrival order), or fresh if none.
    Pending(usize),
    /// The k-th remembered included hash, or fresh if none.
    Included(usize),
    /// A small raw id (collisions with anything).
    Raw(u32),
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        id: IdPick,
        from: u8,
        nonce: u64,
        cancel: bool,
        size: usize,
        /// Clock step before the insert; negative steps model a clock that goes back.
        dt_ms: i16,
    },
    Propose {
        txs_max: usize,
        bytes_max: usize,
        pending: Vec<IdPick>,
    },
    RemoveIncluded(Vec<IdPick>),
    Expire {
        dt_ms: u16,
    },
    Remove(IdPick),
}

fn id_pick() -> impl Strategy<Value = IdPick> {
    prop_oneof![
        4 => Just(IdPick::Fresh),
        3 => (0usize..16).prop_map(IdPick::Pending),
        1 => (0usize..8).prop_map(IdPick::Included),
        1 => (0u32..6).prop_map(IdPick::Raw),
    ]
}

/// How a case draws its configuration and sizes.
#[derive(Clone, Copy, Debug)]
enum Profile {
    /// Every limit and every check hit now and then.
    Mixed,
    /// A pool full of small orders and large cancels: several evictions per cancel, the
    /// per-insert eviction limit, cancels refused for lack of non-cancels.
    Pressure,
}

fn size(tx_bytes_max: usize, cancel: bool, profile: Profile) -> BoxedStrategy<usize> {
    let small = (tx_bytes_max / 4).max(1);
    match profile {
        Profile::Mixed => prop_oneof![
            6 => 0..=small,
            3 => small..=tx_bytes_max,
            1 => tx_bytes_max + 1..=tx_bytes_max + 3,
        ]
        .boxed(),
        Profile::Pressure if cancel => (small..=tx_bytes_max).boxed(),
        Profile::Pressure => (1..=small).boxed(),
    }
}

fn op(tx_bytes_max: usize, profile: Profile) -> impl Strategy<Value = Op> {
    let cancel_weight = match profile {
        Profile::Mixed => 0.3,
        Profile::Pressure => 0.2,
    };
    let cancel_and_size = prop::bool::weighted(cancel_weight)
        .prop_flat_map(move |cancel| (Just(cancel), size(tx_bytes_max, cancel, profile)));
    let insert = (id_pick(), 0..SENDERS, 0..NONCES, cancel_and_size, -20i16..60).prop_map(
        |(id, from, nonce, (cancel, size), dt_ms)| Op::Insert {
            id,
            from,
            nonce,
            cancel,
            size,
            dt_ms,
        },
    );
    let propose = (0usize..8, 0usize..80, prop::collection::vec(id_pick(), 0..3))
        .prop_map(|(txs_max, bytes_max, pending)| Op::Propose { txs_max, bytes_max, pending });
    let insert_weight = match profile {
        Profile::Mixed => 8,
        Profile::Pressure => 16,
    };
    prop_oneof![
        insert_weight => insert,
        2 => propose,
        2 => prop::collection::vec(id_pick(), 0..4).prop_map(Op::RemoveIncluded),
        1 => (0u16..150).prop_map(|dt_ms| Op::Expire { dt_ms }),
        1 => id_pick().prop_map(Op::Remove),
    ]
}

/// Small bounds so that every limit is hit. Under [`Profile::Mixed`], half the configurations
/// are "wide": one sender may fill at least half the pool and one transaction at least half its
/// bytes; the others may have tight per-sender and per-transaction limits. Under
/// [`Profile::Pressure`], one sender may fill the pool and one transaction all its bytes.
fn config(profile: Profile) -> impl Strategy<Value = MempoolConfig> {
    let (txs_max, bytes_max, evictions) = match profile {
        Profile::Mixed => (1usize..12, 1usize..60, 1usize..5),
        Profile::Pressure => (4usize..12, 10usize..60, 2usize..6),
    };
    (txs_max, bytes_max, 1u64..100, 1usize..5, evictions, any::<bool>()).prop_flat_map(
        move |(txs_max, bytes_max, ttl_ms, remembered, evictions, wide)| {
            let (per_sender_min, tx_bytes_min) = match profile {
                Profile::Mixed if wide => ((txs_max / 2).max(1), (bytes_max / 2).max(1)),
                Profile::Mixed => (1, 1),
                Profile::Pressure => (txs_max, bytes_max),
            };
            (per_sender_min..=txs_max, tx_bytes_min..=bytes_max).prop_map(
                move |(per_sender, tx_bytes_max)| MempoolConfig {
                    txs_max,
                    bytes_max,
                    txs_per_sender_max: per_sender,
                    tx_bytes_max,
                    ttl_ms,
                    included_remembered_max: remembered,
                    evictions_per_insert_max: evictions,
                },
            )
        },
    )
}

fn case(profile: Profile) -> impl Strategy<Value = (MempoolConfig, Vec<Op>)> {
    config(profile).prop_flat_map(move |cfg| {
        (Just(cfg), prop::collection::vec(op(cfg.tx_bytes_max, profile), 1..150))
    })
}

// ---------------------------------------------------------------------------------------------
// The harness.

struct Harness {
    real: Mempool<Tx>,
    twin: Mempool<Tx>,
    model: Model,
    now_ms: u64,
    next_id: u32,
    /// Arrival index of every admitted id (for the independent order checks).
    arrival: BTreeMap<u32, u64>,
    arrivals: u64,
}

impl Harness {
    fn new(cfg: MempoolConfig) -> Result<Self, TestCaseError> {
        let real = Mempool::new(cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        Ok(Harness {
            twin: real.clone(),
            real,
            model: Model::new(cfg),
            now_ms: 1_000,
            next_id: 100,
            arrival: BTreeMap::new(),
            arrivals: 0,
        })
    }

    fn resolve(&mut self, pick: IdPick) -> u32 {
        let fresh = |h: &mut Harness| {
            h.next_id += 1;
            h.next_id
        };
        match pick {
            IdPick::Fresh => fresh(self),
            IdPick::Pending(k) => match self.model.entries.get(k) {
                Some(e) => e.tx.id,
                None => fresh(self),
            },
            IdPick::Included(k) => match self.model.included.get(k) {
                Some(h) => u32::from_be_bytes([h[0], h[1], h[2], h[3]]),
                None => fresh(self),
            },
            IdPick::Raw(id) => id,
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert { id, from, nonce, cancel, size, dt_ms } => {
                self.now_ms = self.now_ms.saturating_add_signed(i64::from(*dt_ms));
                let tx = Tx {
                    id: self.resolve(*id),
                    from: *from,
                    nonce: *nonce,
                    cancel: *cancel,
                    size: *size,
                };
                let real = self.real.insert(tx, self.now_ms).map(|a| a.evicted);
                let twin = self.twin.insert(tx, self.now_ms).map(|a| a.evicted);
                let model = self.model.insert(tx, self.now_ms);
                prop_assert_eq!(&real, &model, "insert {:?}", tx);
                prop_assert_eq!(&real, &twin);
                if let Ok(evicted) = &real {
                    prop_assert!(evicted.len() <= self.model.cfg.evictions_per_insert_max);
                    self.arrival.insert(tx.id, self.arrivals);
                    self.arrivals += 1;
                }
            }
            Op::Propose { txs_max, bytes_max, pending } => {
                let pending: BTreeSet<TxHash> =
                    pending.iter().map(|p| hash(self.resolve(*p))).collect();
                let limits = ProposeLimits { txs_max: *txs_max, bytes_max: *bytes_max };
                let real = if pending.is_empty() {
                    self.real.propose(limits)
                } else {
                    self.real.propose_excluding(limits, &pending)
                };
                prop_assert_eq!(&real, &self.model.propose(limits, &pending));
                self.check_proposal(&real, limits, &pending)?;
            }
            Op::RemoveIncluded(picks) => {
                let hashes: Vec<TxHash> = picks.iter().map(|p| hash(self.resolve(*p))).collect();
                self.real.remove_included(hashes.iter().copied());
                self.twin.remove_included(hashes.iter().copied());
                self.model.remove_included(&hashes);
            }
            Op::Expire { dt_ms } => {
                self.now_ms = self.now_ms.saturating_add(u64::from(*dt_ms));
                let real = self.real.expire(self.now_ms);
                prop_assert_eq!(&real, &self.twin.expire(self.now_ms));
                prop_assert_eq!(real, self.model.expire(self.now_ms));
            }
            Op::Remove(pick) => {
                let h = hash(self.resolve(*pick));
                let real = self.real.remove(&h);
                prop_assert_eq!(&real, &self.twin.remove(&h));
                prop_assert_eq!(real, self.model.remove(&h));
            }
        }
        self.check_state()
    }

    /// Contents and queries equal the model's; invariants from the public API hold.
    fn check_state(&self) -> Result<(), TestCaseError> {
        let (real, model) = (&self.real, &self.model);
        real.check_invariants().map_err(TestCaseError::fail)?;
        let pending: Vec<Tx> = real.iter().copied().collect();
        prop_assert_eq!(&pending, &model.priority());
        prop_assert_eq!((real.len(), real.bytes()), (model.entries.len(), model.bytes()));
        prop_assert_eq!(real.is_empty(), model.entries.is_empty());
        // Independent of the model: sums and bounds.
        let c = real.config();
        prop_assert_eq!(pending.len(), real.len());
        prop_assert_eq!(pending.iter().map(|t| t.size).sum::<usize>(), real.bytes());
        prop_assert!(real.len() <= c.txs_max && real.bytes() <= c.bytes_max);
        for from in 0..SENDERS {
            let count = pending.iter().filter(|t| t.from == from).count();
            prop_assert_eq!(real.sender_count(&[from; 20]), count);
            prop_assert_eq!(count, model.count(from));
            prop_assert!(count <= c.txs_per_sender_max);
        }
        for id in (0..6).chain(100..=self.next_id) {
            let h = hash(id);
            prop_assert_eq!(real.contains(&h), model.entries.iter().any(|e| e.tx.id == id));
            prop_assert_eq!(
                real.get(&h).map(|t| t.id),
                model.entries.iter().find(|e| e.tx.id == id).map(|e| e.tx.id)
            );
            prop_assert_eq!(real.is_included(&h), model.included.contains(&h));
        }
        self.check_order(&pending)
    }

    /// Cancels before others; arrival order within a class.
    fn check_order(&self, txs: &[Tx]) -> Result<(), TestCaseError> {
        for pair in txs.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            prop_assert!(a.cancel || !b.cancel, "a cancel after a non-cancel: {:?}", txs);
            if a.cancel == b.cancel {
                prop_assert!(self.arrival[&a.id] < self.arrival[&b.id], "not FIFO: {:?}", txs);
            }
        }
        Ok(())
    }

    /// Within the limits, in priority order, nothing excluded, and a prefix of the pending
    /// transactions not excluded.
    fn check_proposal(
        &self,
        batch: &[Tx],
        limits: ProposeLimits,
        pending: &BTreeSet<TxHash>,
    ) -> Result<(), TestCaseError> {
        prop_assert!(batch.len() <= limits.txs_max);
        prop_assert!(batch.iter().map(|t| t.size).sum::<usize>() <= limits.bytes_max);
        self.check_order(batch)?;
        let eligible: Vec<Tx> =
            self.real.iter().filter(|t| !pending.contains(&hash(t.id))).copied().collect();
        prop_assert_eq!(batch, &eligible[..batch.len().min(eligible.len())]);
        Ok(())
    }
}

fn run(cfg: MempoolConfig, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new(cfg)?;
    for op in ops {
        h.apply(op)?;
    }
    let real: Vec<Tx> = h.real.iter().copied().collect();
    let twin: Vec<Tx> = h.twin.iter().copied().collect();
    prop_assert_eq!(real, twin);
    Ok(())
}

proptest! {
    #[test]
    fn mempool_matches_model((cfg, ops) in case(Profile::Mixed)) {
        run(cfg, &ops)?;
    }

    #[test]
    fn mempool_matches_model_under_pressure((cfg, ops) in case(Profile::Pressure)) {
        run(cfg, &ops)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The model on the specification's examples (a wrong model would let the real pool be wrong the
// same way).

fn tx(id: u32, from: u8, cancel: bool, size: usize) -> Tx {
    Tx { id, from, nonce: u64::from(id), cancel, size }
}

#[test]
fn model_evicts_the_newest_non_cancel() {
    let cfg = MempoolConfig {
        txs_max: 3,
        bytes_max: 100,
        txs_per_sender_max: 3,
        tx_bytes_max: 100,
        ttl_ms: 10,
        included_remembered_max: 2,
        evictions_per_insert_max: 2,
    };
    let mut m = Model::new(cfg);
    assert_eq!(m.insert(tx(1, 0, false, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(2, 1, true, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(3, 2, false, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(4, 3, false, 10), 0), Err(MempoolError::Full));
    assert_eq!(m.insert(tx(5, 3, true, 10), 0), Ok(vec![hash(3)]));
    let ids: Vec<u32> = m.priority().iter().map(|t| t.id).collect();
    assert_eq!(ids, [2, 5, 1]);
    // A 91-byte cancel: evicting 1 still leaves 111 bytes and no non-cancel; nothing changes.
    assert_eq!(m.insert(tx(6, 3, true, 91), 0), Err(MempoolError::Full));
    assert_eq!(m.entries.len(), 3);
    // An 80-byte cancel fits once 1 is gone.
    assert_eq!(m.insert(tx(7, 3, true, 80), 0), Ok(vec![hash(1)]));
}

#[test]
fn model_sender_bound_evicts_own_newest_order() {
    let cfg = MempoolConfig {
        txs_max: 10,
        bytes_max: 100,
        txs_per_sender_max: 2,
        tx_bytes_max: 100,
        ttl_ms: 10,
        included_remembered_max: 2,
        evictions_per_insert_max: 2,
    };
    let mut m = Model::new(cfg);
    assert_eq!(m.insert(tx(1, 0, false, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(2, 0, false, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(3, 1, false, 10), 0), Ok(vec![]));
    assert_eq!(m.insert(tx(4, 0, false, 10), 0), Err(MempoolError::SenderFull { limit: 2 }));
    assert_eq!(m.insert(tx(5, 0, true, 10), 0), Ok(vec![hash(2)]));
    assert_eq!(m.expire(9), Vec::<TxHash>::new());
    assert_eq!(m.expire(10), [hash(1), hash(3), hash(5)]);
}
