//! A local copy of one market's L2 book, kept from the WebSocket book channel.
//!
//! The channel sends a snapshot (the book at `seq`), then deltas, each carrying the `seq` it
//! produces and the `prev_seq` it applies to. [`BookTracker::apply`] replaces the book on a
//! snapshot and applies a delta only if its `prev_seq` is the `seq` held; otherwise a message was
//! missed, the copy is discarded and [`BookUpdate::Gap`] tells the caller to resubscribe for a
//! fresh snapshot (the WebSocket client does this itself, see [`crate::ws`]). Until a snapshot
//! arrives the tracker holds no book ([`BookTracker::is_synced`] is false) and ignores deltas.
//!
//! A delta level replaces the level at its price; size zero removes it.

use std::collections::BTreeMap;

use novation_wire::rest::BookLevel;
use novation_wire::ws::{BookDelta, BookSnapshot, ServerMessage};

/// What applying a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookUpdate {
    /// The book changed (snapshot or delta applied).
    Applied,
    /// A delta did not follow the held `seq`: the copy was discarded; resubscribe.
    Gap {
        /// The `seq` held (`None`: no snapshot yet).
        held: Option<u64>,
        /// The delta's `prev_seq`.
        prev_seq: u64,
    },
    /// Not for this tracker (another market, another channel), or a delta while waiting for a
    /// snapshot.
    Ignored,
}

/// One side's levels: price ticks → (size lots, the wire level).
type Side = BTreeMap<u64, BookLevel>;

/// The book of one market.
#[derive(Clone, Debug)]
pub struct BookTracker {
    market: u16,
    seq: Option<u64>,
    height: u64,
    bids: Side,
    asks: Side,
    /// Whether a gap was reported and no snapshot has arrived since.
    awaiting_snapshot: bool,
}

impl BookTracker {
    /// An empty tracker of market `market` (its id).
    pub fn new(market: u16) -> BookTracker {
        BookTracker {
            market,
            seq: None,
            height: 0,
            bids: Side::new(),
            asks: Side::new(),
            awaiting_snapshot: false,
        }
    }

    /// The market id.
    pub fn market(&self) -> u16 {
        self.market
    }

    /// The sequence number of the book held, if any.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }

    /// Height of the last change applied.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Whether the tracker holds a book.
    pub fn is_synced(&self) -> bool {
        self.seq.is_some()
    }

    /// Forgets the book (e.g. after a reconnection, until the next snapshot).
    pub fn reset(&mut self) {
        self.seq = None;
        self.bids.clear();
        self.asks.clear();
    }

    /// Applies a server message (anything but this market's snapshots and deltas is ignored).
    pub fn apply(&mut self, message: &ServerMessage) -> BookUpdate {
        match message {
            ServerMessage::Snapshot(s) if s.market == self.market => {
                self.apply_snapshot(s);
                BookUpdate::Applied
            }
            ServerMessage::Delta(d) if d.market == self.market => self.apply_delta(d),
            _ => BookUpdate::Ignored,
        }
    }

    /// Replaces the book.
    pub fn apply_snapshot(&mut self, s: &BookSnapshot) {
        self.bids = s.bids.iter().map(|l| (l.price_ticks, l.clone())).collect();
        self.asks = s.asks.iter().map(|l| (l.price_ticks, l.clone())).collect();
        self.bids.retain(|_, l| l.qty_lots > 0);
        self.asks.retain(|_, l| l.qty_lots > 0);
        self.seq = Some(s.seq);
        self.height = s.height;
        self.awaiting_snapshot = false;
    }

    /// Applies a delta if it follows the book held (see the module doc).
    pub fn apply_delta(&mut self, d: &BookDelta) -> BookUpdate {
        if self.awaiting_snapshot {
            return BookUpdate::Ignored;
        }
        if self.seq != Some(d.prev_seq) {
            let held = self.seq;
            self.reset();
            self.awaiting_snapshot = true;
            return BookUpdate::Gap { held, prev_seq: d.prev_seq };
        }
        for (side, levels) in [(&mut self.bids, &d.bids), (&mut self.asks, &d.asks)] {
            for l in levels {
                if l.qty_lots == 0 {
                    side.remove(&l.price_ticks);
                } else {
                    side.insert(l.price_ticks, l.clone());
                }
            }
        }
        self.seq = Some(d.seq);
        self.height = d.height;
        BookUpdate::Applied
    }

    /// Bids, best (highest) first.
    pub fn bids(&self) -> impl Iterator<Item = &BookLevel> {
        self.bids.values().rev()
    }

    /// Asks, best (lowest) first.
    pub fn asks(&self) -> impl Iterator<Item = &BookLevel> {
        self.asks.values()
    }

    /// The best bid.
    pub fn best_bid(&self) -> Option<&BookLevel> {
        self.bids().next()
    }

    /// The best ask.
    pub fn best_ask(&self) -> Option<&BookLevel> {
        self.asks().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(price: u64, qty: u64) -> BookLevel {
        BookLevel {
            price_ticks: price,
            qty_lots: qty,
            price: price.to_string(),
            qty: qty.to_string(),
        }
    }

    fn snapshot(seq: u64, bids: &[(u64, u64)], asks: &[(u64, u64)]) -> ServerMessage {
        ServerMessage::Snapshot(BookSnapshot {
            channel: "book:BTC-PERP".into(),
            market: 0,
            seq,
            height: seq,
            bids: bids.iter().map(|&(p, q)| level(p, q)).collect(),
            asks: asks.iter().map(|&(p, q)| level(p, q)).collect(),
        })
    }

    fn delta(prev: u64, seq: u64, bids: &[(u64, u64)], asks: &[(u64, u64)]) -> ServerMessage {
        ServerMessage::Delta(BookDelta {
            channel: "book:BTC-PERP".into(),
            market: 0,
            seq,
            prev_seq: prev,
            height: seq,
            bids: bids.iter().map(|&(p, q)| level(p, q)).collect(),
            asks: asks.iter().map(|&(p, q)| level(p, q)).collect(),
        })
    }

    /// (price, size) of the best bid and ask.
    type Top = (Option<(u64, u64)>, Option<(u64, u64)>);

    fn top(t: &BookTracker) -> Top {
        (
            t.best_bid().map(|l| (l.price_ticks, l.qty_lots)),
            t.best_ask().map(|l| (l.price_ticks, l.qty_lots)),
        )
    }

    #[test]
    fn snapshot_then_deltas_in_sequence() {
        let mut t = BookTracker::new(0);
        assert_eq!(t.apply(&delta(0, 1, &[], &[])), BookUpdate::Gap { held: None, prev_seq: 0 });
        assert_eq!(t.apply(&snapshot(10, &[(99, 5), (98, 1)], &[(101, 2)])), BookUpdate::Applied);
        assert_eq!(top(&t), (Some((99, 5)), Some((101, 2))));
        assert_eq!(t.apply(&delta(10, 11, &[(99, 0), (100, 3)], &[(101, 7)])), BookUpdate::Applied);
        assert_eq!(top(&t), (Some((100, 3)), Some((101, 7))));
        assert_eq!(t.bids().map(|l| l.price_ticks).collect::<Vec<_>>(), vec![100, 98]);
        assert_eq!(t.seq(), Some(11));
    }

    #[test]
    fn a_missed_delta_is_a_gap_until_the_next_snapshot() {
        let mut t = BookTracker::new(0);
        t.apply(&snapshot(10, &[(99, 5)], &[(101, 2)]));
        // Delta 11 → 12 arrives but 10 → 11 was missed.
        assert_eq!(
            t.apply(&delta(11, 12, &[(99, 1)], &[])),
            BookUpdate::Gap { held: Some(10), prev_seq: 11 }
        );
        assert!(!t.is_synced());
        assert_eq!(top(&t), (None, None), "a stale copy is not shown");
        // Deltas of the old stream are ignored until the fresh snapshot.
        assert_eq!(t.apply(&delta(12, 13, &[(97, 1)], &[])), BookUpdate::Ignored);
        assert_eq!(t.apply(&snapshot(13, &[(97, 1)], &[])), BookUpdate::Applied);
        assert_eq!(t.apply(&delta(13, 14, &[], &[(105, 4)])), BookUpdate::Applied);
        assert_eq!(top(&t), (Some((97, 1)), Some((105, 4))));
    }

    #[test]
    fn a_replayed_delta_is_a_gap_too_and_other_markets_are_ignored() {
        let mut t = BookTracker::new(0);
        t.apply(&snapshot(10, &[], &[]));
        t.apply(&delta(10, 11, &[(1, 1)], &[]));
        assert!(matches!(t.apply(&delta(10, 11, &[(1, 1)], &[])), BookUpdate::Gap { .. }));
        let mut other = BookTracker::new(1);
        assert_eq!(other.apply(&snapshot(10, &[(1, 1)], &[])), BookUpdate::Ignored);
    }
}
