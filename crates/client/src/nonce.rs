//! Timestamp nonces.
//!
//! The chain keeps, per signer, the highest 100 nonces it accepted; a new nonce must be above the
//! smallest of them, unused, and within (block time − 2 days, block time + 1 day)
//! (`novation_chain::auth`). So a nonce is a millisecond timestamp: [`NonceSource::next`] returns
//! `max(now_ms, last + 1)`, strictly increasing within the source whatever the clock does, and
//! running ahead of the clock by at most the burst it absorbs (a thousand transactions in one
//! millisecond run one second ahead, well inside the window).
//!
//! Several processes may share one key. Nonces need no order, so they only have to differ:
//! give each process its own lane ([`NonceSource::with_lane`]): lane `k` of `n` uses only nonces
//! `≡ k (mod n)`, so two lanes never collide, at the price of running at most `n − 1` ms ahead of
//! the clock. Without lanes, two processes that pick the same millisecond collide; the node
//! refuses the second (`the sender has a pending transaction with this nonce`, or refusal code
//! 103 once the first is included) without executing it, and [`crate::Trader`] retries with a
//! fresh nonce.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch by the system clock (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Most lanes (a lane runs up to `lanes − 1` ms ahead of the clock).
pub const LANES_MAX: u64 = 1000;

/// A source of strictly increasing timestamp nonces. Shareable between threads.
#[derive(Debug)]
pub struct NonceSource {
    last: AtomicU64,
    lane: u64,
    lanes: u64,
}

impl Default for NonceSource {
    fn default() -> Self {
        NonceSource::new()
    }
}

/// A lane outside `0..lanes`, or `lanes` outside `1..=LANES_MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("nonce lane {lane} of {lanes}: lanes must be 1..={LANES_MAX} and the lane below them")]
pub struct LaneError {
    /// The lane asked for.
    pub lane: u64,
    /// The lane count asked for.
    pub lanes: u64,
}

impl NonceSource {
    /// One process per key: every millisecond is this source's.
    pub const fn new() -> Self {
        NonceSource { last: AtomicU64::new(0), lane: 0, lanes: 1 }
    }

    /// Lane `lane` of `lanes` (see the module doc).
    pub fn with_lane(lane: u64, lanes: u64) -> Result<Self, LaneError> {
        if lanes == 0 || lanes > LANES_MAX || lane >= lanes {
            return Err(LaneError { lane, lanes });
        }
        Ok(NonceSource { last: AtomicU64::new(0), lane, lanes })
    }

    /// The next nonce by the system clock.
    pub fn next(&self) -> u64 {
        self.next_at(now_ms())
    }

    /// The next nonce at clock reading `now_ms`: the smallest value of this lane at or above
    /// both `now_ms` and the last nonce + 1.
    pub fn next_at(&self, now_ms: u64) -> u64 {
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = self.in_lane(now_ms.max(last.saturating_add(1)));
            match self.last.compare_exchange_weak(last, next, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }

    /// Records that `nonce` is taken (e.g. the node said so), so later nonces exceed it.
    pub fn observe(&self, nonce: u64) {
        self.last.fetch_max(nonce, Ordering::SeqCst);
    }

    /// The smallest value `>= n` in this lane.
    fn in_lane(&self, n: u64) -> u64 {
        let offset = (self.lane + self.lanes - n % self.lanes) % self.lanes;
        n.saturating_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_clock_and_never_repeats() {
        let s = NonceSource::new();
        assert_eq!(s.next_at(1_000), 1_000);
        assert_eq!(s.next_at(1_000), 1_001, "same millisecond: next value");
        assert_eq!(s.next_at(999), 1_002, "clock stepped back: still increasing");
        assert_eq!(s.next_at(5_000), 5_000, "back on the clock");
    }

    #[test]
    fn observed_nonces_are_skipped() {
        let s = NonceSource::new();
        s.observe(2_000);
        assert_eq!(s.next_at(1_000), 2_001);
    }

    #[test]
    fn lanes_never_collide_and_stay_near_the_clock() {
        let a = NonceSource::with_lane(0, 4).unwrap();
        let b = NonceSource::with_lane(3, 4).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for t in [1_000u64, 1_000, 1_001, 1_001, 1_002, 5_000] {
            for s in [&a, &b] {
                let n = s.next_at(t);
                assert!(seen.insert(n), "{n} repeated");
                assert!(n >= t);
            }
        }
        assert_eq!(a.next_at(10_000) % 4, 0);
        assert_eq!(b.next_at(10_000), 10_003);
        assert!(NonceSource::with_lane(4, 4).is_err());
        assert!(NonceSource::with_lane(0, 0).is_err());
    }

    #[test]
    fn concurrent_callers_get_distinct_nonces() {
        let s = std::sync::Arc::new(NonceSource::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || (0..1000).map(|_| s.next_at(7)).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u64> =
            handles.into_iter().flat_map(|h| h.join().expect("thread")).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4000);
    }
}
