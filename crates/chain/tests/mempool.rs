//! The mempool's rules, one example each, written as tables where they fit: admission checks in
//! precedence order, per-sender and total bounds, which transaction is evicted (the newest
//! non-cancel, never a cancel), proposal order and limits, inclusion, expiry, stable codes.
//! `tests/mempool_model.rs` checks random sequences against a naive model.

use novation_chain::mempool::{
    Admitted, ConfigError, DropReason, Mempool, MempoolConfig, MempoolError, ProposeLimits, TxHash,
    INCLUDED_REMEMBERED_HARD_MAX, TXS_HARD_MAX,
};
use std::collections::BTreeSet;

mod mempool_support;
use mempool_support::{hash, Tx};

/// An order (non-cancel) of 10 bytes; its nonce is its id.
fn order(id: u32, from: u8) -> Tx {
    Tx { id, from, nonce: u64::from(id), cancel: false, size: 10 }
}

/// A cancel of 10 bytes; its nonce is its id.
fn cancel(id: u32, from: u8) -> Tx {
    Tx { cancel: true, ..order(id, from) }
}

fn sized(tx: Tx, size: usize) -> Tx {
    Tx { size, ..tx }
}

fn config() -> MempoolConfig {
    MempoolConfig {
        txs_max: 4,
        bytes_max: 1_000,
        txs_per_sender_max: 3,
        tx_bytes_max: 100,
        ttl_ms: 1_000,
        included_remembered_max: 3,
        evictions_per_insert_max: 3,
    }
}

fn pool(config: MempoolConfig) -> Mempool<Tx> {
    match Mempool::new(config) {
        Ok(p) => p,
        Err(e) => panic!("test config invalid: {e}"),
    }
}

fn all() -> ProposeLimits {
    ProposeLimits { txs_max: usize::MAX, bytes_max: usize::MAX }
}

/// The ids pending, in priority order.
fn ids(p: &Mempool<Tx>) -> Vec<u32> {
    p.iter().map(|t| t.id).collect()
}

fn admit(p: &mut Mempool<Tx>, tx: Tx, now_ms: u64) -> Vec<u32> {
    match p.insert(tx, now_ms) {
        Ok(a) => {
            check(p);
            a.evicted.iter().map(id_of).collect()
        }
        Err(e) => panic!("{tx:?} refused: {e}"),
    }
}

fn id_of(h: &TxHash) -> u32 {
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// Refused with `err`, and nothing changed.
fn refuse(p: &mut Mempool<Tx>, tx: Tx, err: MempoolError) {
    let before = (ids(p), p.len(), p.bytes());
    assert_eq!(p.insert(tx, 0), Err(err), "{tx:?}");
    assert_eq!((ids(p), p.len(), p.bytes()), before, "a refusal changed the pool");
    check(p);
}

fn check(p: &Mempool<Tx>) {
    if let Err(e) = p.check_invariants() {
        panic!("invariant: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration.

#[test]
fn default_config_is_valid() {
    assert_eq!(MempoolConfig::default().validate(), Ok(()));
    assert_eq!(config().validate(), Ok(()));
}

#[test]
fn invalid_configs_are_refused() {
    let c = config();
    let cases: [(MempoolConfig, ConfigError); 11] = [
        (MempoolConfig { txs_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { bytes_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { txs_per_sender_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { tx_bytes_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { ttl_ms: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { included_remembered_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { evictions_per_insert_max: 0, ..c }, ConfigError::Zero),
        (MempoolConfig { txs_max: TXS_HARD_MAX + 1, ..c }, ConfigError::TooManyTxs),
        (
            MempoolConfig { included_remembered_max: INCLUDED_REMEMBERED_HARD_MAX + 1, ..c },
            ConfigError::TooManyRemembered,
        ),
        (MempoolConfig { txs_per_sender_max: 5, ..c }, ConfigError::SenderAboveTotal),
        (MempoolConfig { tx_bytes_max: 1_001, ..c }, ConfigError::TxAboveTotal),
    ];
    for (cfg, err) in cases {
        assert_eq!(cfg.validate(), Err(err), "{cfg:?}");
        assert_eq!(Mempool::<Tx>::new(cfg).err(), Some(err));
    }
}

// ---------------------------------------------------------------------------------------------
// Admission checks.

#[test]
fn admitted_transaction_is_counted_everywhere() {
    let mut p = pool(config());
    assert!(p.is_empty());
    assert_eq!(p.insert(sized(order(1, 7), 42), 5), Ok(Admitted::default()));
    assert_eq!((p.len(), p.bytes(), p.sender_count(&[7; 20])), (1, 42, 1));
    assert!(p.contains(&hash(1)));
    assert_eq!(p.get(&hash(1)).map(|t| t.id), Some(1));
    assert_eq!(p.sender_count(&[8; 20]), 0);
    check(&p);
}

#[test]
fn too_large_reports_size_and_limit() {
    let mut p = pool(config());
    admit(&mut p, sized(order(1, 1), 100), 0);
    refuse(&mut p, sized(order(2, 1), 101), MempoolError::TooLarge { size: 101, max: 100 });
    refuse(
        &mut p,
        sized(cancel(3, 1), usize::MAX),
        MempoolError::TooLarge { size: usize::MAX, max: 100 },
    );
}

#[test]
fn duplicate_hash_is_refused() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    refuse(&mut p, order(1, 1), MempoolError::Duplicate);
    // Same hash, different content: still the same transaction.
    refuse(&mut p, Tx { nonce: 99, from: 2, ..cancel(1, 1) }, MempoolError::Duplicate);
}

#[test]
fn included_hash_is_refused_until_forgotten() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    admit(&mut p, order(2, 1), 0);
    // 1 was pending; 50 never was (a block proposed by another node); 1 is reported twice.
    p.remove_included([hash(1), hash(50), hash(1)]);
    check(&p);
    assert_eq!(ids(&p), [2]);
    assert!(p.is_included(&hash(1)) && p.is_included(&hash(50)));
    refuse(&mut p, order(1, 1), MempoolError::AlreadyIncluded);
    refuse(&mut p, order(50, 2), MempoolError::AlreadyIncluded);
    // Remembered: 1, 50 (the repeat took no slot). Two more push 1 and 50 out (max 3).
    p.remove_included([hash(60)]);
    assert!(p.is_included(&hash(1)));
    p.remove_included([hash(61)]);
    assert!(!p.is_included(&hash(1)) && p.is_included(&hash(50)));
    admit(&mut p, order(1, 1), 0);
    p.remove_included([hash(62)]);
    assert!(!p.is_included(&hash(50)));
    check(&p);
}

#[test]
fn pending_nonce_of_a_sender_is_refused() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    refuse(&mut p, Tx { nonce: 1, ..cancel(2, 1) }, MempoolError::NonceConflict);
    // Another sender may use the nonce.
    admit(&mut p, Tx { nonce: 1, ..order(3, 2) }, 0);
    // Once the first leaves, the nonce is free again.
    assert_eq!(p.remove(&hash(1)).map(|t| t.id), Some(1));
    admit(&mut p, Tx { nonce: 1, ..order(4, 1) }, 0);
}

#[test]
fn checks_apply_in_precedence_order() {
    // Pool: sender 1 at its bound with 1, 2, 3; 4 included. Each case fails several checks.
    let mut p = pool(MempoolConfig { txs_max: 3, ..config() });
    for id in 1..=3 {
        admit(&mut p, order(id, 1), 0);
    }
    p.remove_included([hash(4)]);
    let big = |tx: Tx| sized(tx, 101);
    let cases = [
        (big(order(1, 1)), MempoolError::TooLarge { size: 101, max: 100 }),
        (Tx { nonce: 4, ..order(1, 1) }, MempoolError::Duplicate),
        (Tx { nonce: 2, ..order(4, 1) }, MempoolError::AlreadyIncluded),
        (Tx { nonce: 2, ..order(5, 1) }, MempoolError::NonceConflict),
        (order(6, 1), MempoolError::SenderFull { limit: 3 }),
        (order(7, 2), MempoolError::Full),
    ];
    for (tx, err) in cases {
        refuse(&mut p, tx, err);
    }
}

// ---------------------------------------------------------------------------------------------
// Bounds and eviction.

#[test]
fn sender_at_bound_refuses_orders_and_cancels_evict_its_newest_order() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    admit(&mut p, order(2, 1), 0);
    admit(&mut p, order(3, 2), 0);
    admit(&mut p, cancel(4, 1), 0);
    refuse(&mut p, order(5, 1), MempoolError::SenderFull { limit: 3 });
    // The pool is full too (4 of 4); the cancel evicts sender 1's newest order (2), not the
    // pool's newest (3), not sender 1's oldest (1), not its cancel (4).
    assert_eq!(admit(&mut p, cancel(6, 1), 0), [2]);
    assert_eq!(ids(&p), [4, 6, 1, 3]);
    assert_eq!(admit(&mut p, cancel(7, 1), 0), [1]);
    // Sender 1 holds only cancels now.
    refuse(&mut p, cancel(8, 1), MempoolError::SenderFull { limit: 3 });
    assert_eq!(p.sender_count(&[1; 20]), 3);
}

#[test]
fn full_pool_refuses_orders() {
    let mut p = pool(config());
    for id in 1..=4 {
        admit(&mut p, order(id, id as u8), 0);
    }
    refuse(&mut p, order(5, 5), MempoolError::Full);
}

#[test]
fn full_pool_cancel_evicts_the_newest_order() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    admit(&mut p, cancel(2, 2), 0);
    admit(&mut p, order(3, 3), 0);
    admit(&mut p, order(4, 4), 0);
    assert_eq!(admit(&mut p, cancel(5, 5), 0), [4]);
    assert_eq!(admit(&mut p, cancel(6, 6), 0), [3]);
    assert_eq!(admit(&mut p, cancel(7, 7), 0), [1]);
    assert_eq!(ids(&p), [2, 5, 6, 7]);
    // Only cancels: nothing outranked.
    refuse(&mut p, cancel(8, 8), MempoolError::Full);
    refuse(&mut p, order(9, 9), MempoolError::Full);
}

#[test]
fn full_bytes_cancel_evicts_newest_orders_until_it_fits() {
    let mut p = pool(MempoolConfig { txs_max: 10, bytes_max: 100, ..config() });
    admit(&mut p, sized(order(1, 1), 40), 0);
    admit(&mut p, sized(order(2, 2), 20), 0);
    admit(&mut p, sized(cancel(3, 3), 20), 0);
    admit(&mut p, sized(order(4, 4), 10), 0);
    assert_eq!(p.bytes(), 90);
    refuse(&mut p, sized(order(5, 5), 11), MempoolError::Full);
    admit(&mut p, sized(order(5, 5), 10), 0);
    // 100 bytes: a 35-byte cancel needs 35 free: 5 (10) and 4 (10) are not enough, 2 (20) is.
    assert_eq!(admit(&mut p, sized(cancel(6, 6), 35), 0), [5, 4, 2]);
    assert_eq!((ids(&p), p.bytes()), (vec![3, 6, 1], 95));
}

#[test]
fn eviction_beyond_the_per_insert_limit_refuses_and_evicts_nothing() {
    let cfg = MempoolConfig {
        txs_max: 10,
        bytes_max: 50,
        tx_bytes_max: 50,
        evictions_per_insert_max: 2,
        ..config()
    };
    let mut p = pool(cfg);
    for id in 1..=5 {
        admit(&mut p, order(id, id as u8), 0);
    }
    // 30 bytes need three evictions of 10.
    refuse(&mut p, sized(cancel(6, 6), 30), MempoolError::Full);
    assert_eq!(admit(&mut p, sized(cancel(7, 7), 20), 0), [5, 4]);
}

#[test]
fn own_eviction_counts_against_the_per_insert_limit() {
    let cfg = MempoolConfig {
        txs_max: 10,
        bytes_max: 30,
        tx_bytes_max: 30,
        txs_per_sender_max: 2,
        ..config()
    };
    let mut p = pool(MempoolConfig { evictions_per_insert_max: 1, ..cfg });
    admit(&mut p, order(1, 1), 0);
    admit(&mut p, order(2, 2), 0);
    admit(&mut p, order(3, 2), 0);
    // Sender 2 at bound: its own 3 goes (10 bytes); 20 bytes need one more: over the limit.
    refuse(&mut p, sized(cancel(4, 2), 20), MempoolError::Full);
    // With two allowed: own newest first, then the pool's newest other (2, not 3 again).
    let mut p = pool(MempoolConfig { evictions_per_insert_max: 2, ..cfg });
    admit(&mut p, order(1, 1), 0);
    admit(&mut p, order(2, 2), 0);
    admit(&mut p, order(3, 2), 0);
    assert_eq!(admit(&mut p, sized(cancel(4, 2), 20), 0), [3, 2]);
    assert_eq!(ids(&p), [4, 1]);
}

// ---------------------------------------------------------------------------------------------
// Proposal.

#[test]
fn propose_puts_cancels_first_then_arrival_order_and_reads_only() {
    let mut p = pool(MempoolConfig { txs_max: 10, ..config() });
    let txs = [order(1, 1), cancel(2, 2), order(3, 1), cancel(4, 3), order(5, 2)];
    // Timestamps do not order: arrival does.
    for (tx, now_ms) in txs.into_iter().zip([50, 40, 30, 20, 10]) {
        admit(&mut p, tx, now_ms);
    }
    let first: Vec<u32> = p.propose(all()).iter().map(|t| t.id).collect();
    assert_eq!(first, [2, 4, 1, 3, 5]);
    let again: Vec<u32> = p.propose(all()).iter().map(|t| t.id).collect();
    assert_eq!(again, first);
    assert_eq!(p.len(), 5);
}

#[test]
fn propose_returns_the_longest_prefix_within_limits() {
    let mut p = pool(MempoolConfig { txs_max: 10, ..config() });
    admit(&mut p, sized(cancel(1, 1), 30), 0);
    admit(&mut p, sized(order(2, 2), 30), 0);
    admit(&mut p, sized(order(3, 3), 50), 0);
    admit(&mut p, sized(order(4, 4), 5), 0);
    let cases: [(usize, usize, &[u32]); 7] = [
        (10, 1_000, &[1, 2, 3, 4]),
        (2, 1_000, &[1, 2]),
        (0, 1_000, &[]),
        (10, 0, &[]),
        (10, 29, &[]),
        (10, 60, &[1, 2]),
        // 3 does not fit in 110 - 60; 4 would, but does not overtake it.
        (10, 109, &[1, 2]),
    ];
    for (txs_max, bytes_max, want) in cases {
        let got: Vec<u32> =
            p.propose(ProposeLimits { txs_max, bytes_max }).iter().map(|t| t.id).collect();
        assert_eq!(got, want, "txs_max {txs_max} bytes_max {bytes_max}");
    }
}

#[test]
fn propose_excluding_skips_pending_ancestors_without_stopping() {
    let mut p = pool(MempoolConfig { txs_max: 10, ..config() });
    for tx in [cancel(1, 1), order(2, 2), order(3, 3), order(4, 4)] {
        admit(&mut p, tx, 0);
    }
    let pending: BTreeSet<TxHash> = [hash(1), hash(3), hash(99)].into_iter().collect();
    let limits = ProposeLimits { txs_max: 2, bytes_max: 1_000 };
    let got: Vec<u32> = p.propose_excluding(limits, &pending).iter().map(|t| t.id).collect();
    assert_eq!(got, [2, 4]);
}

// ---------------------------------------------------------------------------------------------
// Leaving the pool.

#[test]
fn expire_drops_at_ttl_oldest_admission_first() {
    let mut p = pool(MempoolConfig { txs_max: 10, ..config() });
    // Admission times out of arrival order (a clock that stepped back).
    admit(&mut p, order(1, 1), 500);
    admit(&mut p, cancel(2, 2), 100);
    admit(&mut p, order(3, 3), 100);
    admit(&mut p, order(4, 4), 2_000);
    assert_eq!(p.expire(0), Vec::<TxHash>::new());
    assert_eq!(p.expire(1_099), Vec::<TxHash>::new());
    assert_eq!(p.expire(1_100), [hash(2), hash(3)]);
    assert_eq!(p.expire(1_499), Vec::<TxHash>::new());
    assert_eq!(p.expire(u64::MAX), [hash(1), hash(4)]);
    assert!(p.is_empty());
    check(&p);
    // Expired is not included: it may come back.
    admit(&mut p, order(1, 1), 0);
}

#[test]
fn remove_returns_the_transaction_and_does_not_remember_it() {
    let mut p = pool(config());
    admit(&mut p, order(1, 1), 0);
    assert_eq!(p.remove(&hash(1)), Some(order(1, 1)));
    assert_eq!(p.remove(&hash(1)), None);
    assert!(!p.is_included(&hash(1)));
    assert_eq!((p.len(), p.bytes(), p.sender_count(&[1; 20])), (0, 0, 0));
    admit(&mut p, order(1, 1), 0);
}

#[test]
fn many_entries_stay_consistent() {
    let cfg = MempoolConfig::default();
    let mut p = pool(cfg);
    let n = cfg.txs_max as u32;
    for id in 0..n {
        let tx = Tx { cancel: id % 7 == 0, ..order(id, (id % 250) as u8) };
        assert!(p.insert(tx, u64::from(id / 1_000)).is_ok());
    }
    assert_eq!(p.len(), cfg.txs_max);
    let first = p.propose(ProposeLimits { txs_max: 3, bytes_max: usize::MAX });
    let first: Vec<u32> = first.iter().map(|t| t.id).collect();
    assert_eq!(first, [0, 7, 14]);
    assert_eq!(p.insert(order(n, 1), 0), Err(MempoolError::Full));
    let evicted = p.insert(cancel(n + 1, 251), 99).map(|a| a.evicted);
    assert_eq!(evicted, Ok(vec![hash(n - 1)]));
    // Admitted at 0: ids below 1_000, included now; at 1: the next 1_000.
    p.remove_included((0..1_000).map(hash));
    let expired = p.expire(1 + cfg.ttl_ms);
    assert_eq!(expired, (1_000..2_000).map(hash).collect::<Vec<_>>());
    check(&p);
}

// ---------------------------------------------------------------------------------------------
// Stable codes and reasons (golden: change only on purpose).

#[test]
fn codes_and_reasons_are_stable() {
    let table: [(MempoolError, u16, &str); 6] = [
        (MempoolError::TooLarge { size: 2, max: 1 }, 1, "too_large"),
        (MempoolError::Duplicate, 2, "duplicate"),
        (MempoolError::AlreadyIncluded, 3, "already_included"),
        (MempoolError::NonceConflict, 4, "nonce_conflict"),
        (MempoolError::SenderFull { limit: 1 }, 5, "sender_full"),
        (MempoolError::Full, 6, "mempool_full"),
    ];
    for (err, code, reason) in table {
        assert_eq!((err.code(), err.reason()), (code, reason));
    }
    assert_eq!(
        MempoolError::TooLarge { size: 2, max: 1 }.to_string(),
        "transaction of 2 bytes exceeds the maximum of 1"
    );
    assert_eq!(
        MempoolError::SenderFull { limit: 3 }.to_string(),
        "the sender has 3 pending transactions, the maximum"
    );
    assert_eq!((DropReason::Evicted.code(), DropReason::Evicted.reason()), (20, "evicted"));
    assert_eq!((DropReason::Expired.code(), DropReason::Expired.reason()), (21, "expired"));
}

// ---------------------------------------------------------------------------------------------
// Layout: removals from the middle leave dead references in the ordered queues; they must be
// compacted (check_invariants bounds every queue by twice its live entries plus a constant),
// and the orders must survive it.

#[test]
fn removals_from_the_middle_are_compacted_and_orders_kept() {
    let cfg = MempoolConfig {
        txs_max: 2_000,
        bytes_max: 1 << 20,
        txs_per_sender_max: 1_000,
        ttl_ms: 1_000,
        ..config()
    };
    let mut p = pool(cfg);
    // Sender 1 holds 800 orders and 100 cancels; sender 2 holds 400 orders. Times rise.
    for id in 0..800 {
        admit(&mut p, order(id, 1), u64::from(id));
    }
    for id in 800..900 {
        admit(&mut p, cancel(id, 1), u64::from(id));
    }
    for id in 900..1_300 {
        admit(&mut p, order(id, 2), u64::from(id));
    }
    // Keep the first and last of each run and one in eight in between.
    let keep = |id: u32| id.is_multiple_of(8) || [0, 799, 800, 899, 900, 1_299].contains(&id);
    for id in 0..1_300 {
        if !keep(id) {
            assert!(p.remove(&hash(id)).is_some());
            check(&p);
        }
    }
    let kept: Vec<u32> = (0..1_300).filter(|&id| keep(id)).collect();
    let cancels: Vec<u32> = kept.iter().copied().filter(|id| (800..900).contains(id)).collect();
    let others: Vec<u32> = kept.iter().copied().filter(|id| !(800..900).contains(id)).collect();
    assert_eq!(ids(&p), [cancels.clone(), others.clone()].concat());
    assert_eq!(p.sender_count(&[1; 20]), kept.iter().filter(|&&id| id < 900).count());
    // Expiry still goes by admission time, oldest first.
    assert_eq!(
        p.expire(1_000 + 400),
        kept.iter().copied().filter(|&id| id <= 400).map(hash).collect::<Vec<_>>()
    );
    check(&p);
    // The sender's own newest order is still found for a cancel at its bound.
    let mut q = pool(MempoolConfig { txs_per_sender_max: 100, ..cfg });
    for id in 0..100 {
        admit(&mut q, order(id, 3), 0);
    }
    for id in 1..99 {
        q.remove(&hash(id));
        check(&q);
    }
    assert_eq!(admit(&mut q, order(500, 3), 0), Vec::<u32>::new());
    assert_eq!(admit(&mut q, cancel(501, 3), 0), Vec::<u32>::new());
    for id in 502..598 {
        admit(&mut q, order(id, 3), 0);
    }
    assert_eq!(q.sender_count(&[3; 20]), 100);
    assert_eq!(admit(&mut q, cancel(600, 3), 0), [597]);
}
