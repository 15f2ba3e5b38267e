//! Replay protection: the nonce window's exact edges, the kept set of 100, eviction, replays,
//! and out-of-order submission from several processes.

mod tx_support;

use novation_chain::auth::{
    nonce_window, Auth, AuthError, NONCES_KEPT, NONCE_FUTURE_MS, NONCE_PAST_MS,
};
use novation_chain::tx::SignedTx;
use tx_support::*;

const DAY: u64 = 86_400_000;
const T: u64 = 10 * DAY;

fn tx(nonce: u64) -> SignedTx {
    signed(&key(1), nonce, None, vec![place(1, 1)])
}

/// Applies and checks that a rejection left everything as it was.
fn apply(auth: &mut Auth, nonce: u64, time_ms: u64) -> Result<(), AuthError> {
    let before = auth.clone();
    let tx = tx(nonce);
    let pure = auth.authorize(&tx, time_ms, None);
    let result = auth.apply(&tx, time_ms, None);
    assert_eq!(pure, result, "authorize and apply disagree");
    if result.is_err() {
        assert_eq!(*auth, before, "a rejection changed the state");
    }
    auth.check_invariants().expect("invariants");
    result.map(|_| ())
}

#[test]
fn window_constants() {
    assert_eq!(NONCE_PAST_MS, 2 * DAY);
    assert_eq!(NONCE_FUTURE_MS, DAY);
    assert_eq!(nonce_window(T), (T - 2 * DAY, T + DAY));
    assert_eq!(nonce_window(5), (0, 5 + DAY));
    assert_eq!(nonce_window(u64::MAX - 3), (u64::MAX - 3 - 2 * DAY, u64::MAX));
}

#[test]
fn window_edges_are_exclusive() {
    let mut auth = Auth::new();
    let (low, high) = (T - 2 * DAY, T + DAY);
    assert_eq!(
        apply(&mut auth, low, T),
        Err(AuthError::NonceOutsideWindow { nonce: low, low, high })
    );
    assert_eq!(
        apply(&mut auth, high, T),
        Err(AuthError::NonceOutsideWindow { nonce: high, low, high })
    );
    assert_eq!(apply(&mut auth, low + 1, T), Ok(()));
    assert_eq!(apply(&mut auth, high - 1, T), Ok(()));
    assert_eq!(apply(&mut auth, 0, T), Err(AuthError::NonceOutsideWindow { nonce: 0, low, high }));
    assert_eq!(auth.nonces(&address(&key(1))), &[low + 1, high - 1]);
}

#[test]
fn window_saturates_near_zero_and_max() {
    let mut auth = Auth::new();
    // Early in time the lower bound is 0, still exclusive.
    assert!(matches!(apply(&mut auth, 0, 1_000), Err(AuthError::NonceOutsideWindow { .. })));
    assert_eq!(apply(&mut auth, 1, 1_000), Ok(()));
    // Near the end of time the upper bound is u64::MAX, still exclusive.
    let late = u64::MAX - 10;
    assert!(matches!(apply(&mut auth, u64::MAX, late), Err(AuthError::NonceOutsideWindow { .. })));
    assert_eq!(apply(&mut auth, u64::MAX - 1, late), Ok(()));
}

#[test]
fn replays_are_rejected() {
    let mut auth = Auth::new();
    assert_eq!(apply(&mut auth, T, T), Ok(()));
    assert_eq!(apply(&mut auth, T, T), Err(AuthError::NonceUsed { nonce: T }));
    // Still rejected later while inside the window, and by the window once outside it.
    assert_eq!(apply(&mut auth, T, T + DAY), Err(AuthError::NonceUsed { nonce: T }));
    assert!(matches!(apply(&mut auth, T, T + 2 * DAY), Err(AuthError::NonceOutsideWindow { .. })));
    // Another signer may use the same number.
    let other = signed(&key(2), T, None, vec![place(1, 1)]);
    assert!(auth.apply(&other, T, None).is_ok());
}

#[test]
fn below_a_hundred_any_unused_nonce_in_the_window_is_fine() {
    let mut auth = Auth::new();
    assert_eq!(apply(&mut auth, T + 50, T), Ok(()));
    assert_eq!(apply(&mut auth, T - DAY, T), Ok(()));
    assert_eq!(apply(&mut auth, T + 10, T), Ok(()));
    assert_eq!(auth.nonces(&address(&key(1))), &[T - DAY, T + 10, T + 50]);
}

#[test]
fn the_101st_nonce_evicts_the_smallest() {
    let mut auth = Auth::new();
    // 100 even nonces.
    for i in 0..NONCES_KEPT as u64 {
        assert_eq!(apply(&mut auth, T + 2 * i, T), Ok(()));
    }
    let me = address(&key(1));
    assert_eq!(auth.nonces(&me).len(), NONCES_KEPT);
    assert_eq!(auth.nonces(&me).first(), Some(&T));
    // Full: a nonce at or below the smallest kept is too low, even if never used.
    assert_eq!(
        apply(&mut auth, T - 1, T),
        Err(AuthError::NonceTooLow { nonce: T - 1, smallest_kept: T })
    );
    assert_eq!(apply(&mut auth, T, T), Err(AuthError::NonceTooLow { nonce: T, smallest_kept: T }));
    // An unused nonce between kept ones is fine and evicts the smallest.
    assert_eq!(apply(&mut auth, T + 3, T), Ok(()));
    assert_eq!(auth.nonces(&me).len(), NONCES_KEPT);
    assert_eq!(auth.nonces(&me).first(), Some(&(T + 2)));
    // The evicted nonce can never come back; a kept one is still "used".
    assert_eq!(
        apply(&mut auth, T, T),
        Err(AuthError::NonceTooLow { nonce: T, smallest_kept: T + 2 })
    );
    assert_eq!(apply(&mut auth, T + 4, T), Err(AuthError::NonceUsed { nonce: T + 4 }));
    // A higher one evicts again.
    assert_eq!(apply(&mut auth, T + 1_000, T), Ok(()));
    assert_eq!(auth.nonces(&me).first(), Some(&(T + 3)));
    assert_eq!(auth.nonces(&me).last(), Some(&(T + 1_000)));
}

/// Three processes of one account, each stamping its own clock (offset by its id), submit
/// in an order none of them controls; every transaction is accepted exactly once.
#[test]
fn several_processes_submit_without_ordering() {
    let mut auth = Auth::new();
    let mut nonces: Vec<u64> =
        (0..3u64).flat_map(|p| (0..60u64).map(move |i| T + i * 10 + p)).collect();
    // A fixed interleaving that is neither sorted nor per-process sorted.
    nonces.sort_by_key(|n| (n * 7919) % 181);
    let mut accepted = 0;
    for &n in &nonces {
        match apply(&mut auth, n, T) {
            Ok(()) => accepted += 1,
            Err(AuthError::NonceTooLow { .. }) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    // Until 100 are kept, everything is accepted; after that only nonces above the smallest.
    assert!(accepted >= NONCES_KEPT, "accepted {accepted}");
    for &n in &nonces {
        assert!(apply(&mut auth, n, T).is_err(), "nonce {n} accepted twice");
    }
}

#[test]
fn nonces_are_per_signer_and_dirty_tracked() {
    let mut auth = Auth::new();
    assert_eq!(apply(&mut auth, T, T), Ok(()));
    let a = address(&key(1));
    assert_eq!(auth.take_dirty(), vec![a]);
    assert_eq!(auth.take_dirty(), vec![]);
    assert!(apply(&mut auth, T, T).is_err());
    assert_eq!(auth.take_dirty(), vec![], "a rejection marks nothing dirty");
    let record = auth.record(a).expect("record");
    assert_eq!(record.nonces, vec![T]);
    assert_eq!(auth.record(address(&key(2))), None);
}
