//! Per-block index history and the time-weighted average price over block time.
//!
//! [`IndexHistory`] keeps the last `capacity` points `(height, block time, index)` of one
//! asset, one per block that updated it. The index is a step function of block time: a point's
//! price holds from its block's time until the next point's. [`IndexHistory::twap`] integrates
//! that step function over a window `[from_ms, to_ms)` and divides by its length, rounding down
//! (a neutral convention: the caller decides which side a settlement rounds to). A window that
//! starts before the oldest kept point is refused rather than guessed.

use std::collections::VecDeque;

use crate::price::OraclePrice;

/// One point of an asset's index history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexPoint {
    /// The block that set this index.
    pub height: u64,
    /// That block's time.
    pub time_ms: u64,
    /// The index from then on.
    pub price: OraclePrice,
}

/// Why a TWAP could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TwapError {
    #[error("empty window: from {from_ms} ms must be before to {to_ms} ms")]
    EmptyWindow { from_ms: u64, to_ms: u64 },
    #[error("the window starts at {from_ms} ms, before the oldest kept point at {oldest_ms} ms")]
    BeforeHistory { from_ms: u64, oldest_ms: u64 },
    #[error("no history yet")]
    Empty,
}

/// The bounded index history of one asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexHistory {
    points: VecDeque<IndexPoint>,
    capacity: usize,
}

impl IndexHistory {
    /// An empty history keeping at most `capacity` points (at least 1).
    pub fn new(capacity: usize) -> IndexHistory {
        let capacity = capacity.max(1);
        IndexHistory { points: VecDeque::with_capacity(capacity.min(4096)), capacity }
    }

    /// Appends a point; the oldest goes when full. Points must come in increasing height and
    /// non-decreasing time; one that does not is ignored (returns `false`).
    pub fn push(&mut self, point: IndexPoint) -> bool {
        if let Some(last) = self.points.back() {
            if point.height <= last.height || point.time_ms < last.time_ms {
                return false;
            }
        }
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
        true
    }

    /// The number of points kept.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is kept.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The latest point.
    pub fn latest(&self) -> Option<IndexPoint> {
        self.points.back().copied()
    }

    /// Points with `from_height <= height`, oldest first, at most `limit`.
    pub fn since(&self, from_height: u64, limit: usize) -> Vec<IndexPoint> {
        let start = self.points.partition_point(|p| p.height < from_height);
        self.points.iter().skip(start).take(limit).copied().collect()
    }

    /// The time-weighted average index over `[from_ms, to_ms)` (module doc).
    pub fn twap(&self, from_ms: u64, to_ms: u64) -> Result<OraclePrice, TwapError> {
        if from_ms >= to_ms {
            return Err(TwapError::EmptyWindow { from_ms, to_ms });
        }
        let oldest = self.points.front().ok_or(TwapError::Empty)?;
        if from_ms < oldest.time_ms {
            return Err(TwapError::BeforeHistory { from_ms, oldest_ms: oldest.time_ms });
        }
        // Start at the point in force at from_ms.
        let first = self.points.partition_point(|p| p.time_ms <= from_ms) - 1;
        let mut sum: u128 = 0;
        let mut cursor = from_ms;
        let mut price = self.points[first].price;
        for p in self.points.iter().skip(first + 1) {
            if p.time_ms >= to_ms {
                break;
            }
            sum += u128::from(price.0) * u128::from(p.time_ms - cursor);
            cursor = p.time_ms;
            price = p.price;
        }
        sum += u128::from(price.0) * u128::from(to_ms - cursor);
        let avg = sum / u128::from(to_ms - from_ms);
        Ok(OraclePrice(u64::try_from(avg).unwrap_or(u64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(height: u64, time_ms: u64, price: u64) -> IndexPoint {
        IndexPoint { height, time_ms, price: OraclePrice(price) }
    }

    #[test]
    fn twap_integrates_the_step_function() {
        let mut h = IndexHistory::new(10);
        assert_eq!(h.twap(0, 1), Err(TwapError::Empty));
        assert!(h.push(pt(1, 1_000, 100)));
        assert!(h.push(pt(2, 2_000, 200)));
        assert!(h.push(pt(3, 4_000, 50)));
        // [1000, 2000): 100; [2000, 4000): 200; [4000, 5000): 50.
        assert_eq!(h.twap(1_000, 5_000), Ok(OraclePrice((100 + 400 + 50) * 1_000 / 4_000)));
        assert_eq!(h.twap(1_500, 2_500), Ok(OraclePrice(150)));
        assert_eq!(h.twap(4_500, 9_000), Ok(OraclePrice(50)));
        assert_eq!(h.twap(2_000, 2_001), Ok(OraclePrice(200)));
        assert_eq!(h.twap(3, 3), Err(TwapError::EmptyWindow { from_ms: 3, to_ms: 3 }));
        assert_eq!(
            h.twap(999, 2_000),
            Err(TwapError::BeforeHistory { from_ms: 999, oldest_ms: 1_000 })
        );
        // Rounds down.
        let mut h = IndexHistory::new(2);
        h.push(pt(1, 0, 1));
        h.push(pt(2, 1, 2));
        assert_eq!(h.twap(0, 3), Ok(OraclePrice(1)));
    }

    #[test]
    fn bounded_ordered_and_queryable() {
        let mut h = IndexHistory::new(3);
        for i in 1..=5 {
            assert!(h.push(pt(i, i * 100, i * 10)));
        }
        assert_eq!(h.len(), 3);
        assert!(!h.push(pt(5, 600, 1)), "height must increase");
        assert!(!h.push(pt(6, 400, 1)), "time must not go back");
        assert_eq!(h.latest(), Some(pt(5, 500, 50)));
        assert_eq!(h.since(4, 10), vec![pt(4, 400, 40), pt(5, 500, 50)]);
        assert_eq!(h.since(0, 1), vec![pt(3, 300, 30)]);
    }
}
