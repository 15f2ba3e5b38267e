//! `bare`: a calibration reference, not a peer and not a candidate design.
//!
//! Issue 2 gives the scale of its throughput target with two reference points measured on this
//! machine: "a bare flat-array book without accounts or self-trade prevention reaches about
//! 4.5x the fastest peer, a BTreeMap-of-queues book about 0.85x". The peers' speed moves with
//! the host's state far more than ours does (matchcore ran at 7.1-11.8 M ops/s over six
//! back-to-back invocations), so a ratio means little without knowing the state it was measured
//! in. This book is the first reference point, written for this flow and nothing else, and run
//! beside the others so that every report says where that ceiling stood in the run.
//!
//! What it is: price levels in one array indexed by price (a FIFO of order nodes each, linked
//! through the node slab, with its total size as any book serving depth keeps it), order nodes
//! in a slab with a free list, order id -> node in one array indexed by id (the flow's ids are
//! dense and never reused), the best price of each side kept and, when its level empties, found
//! again by scanning the array. What it is not: no accounts (so no owner check on cancel, no
//! per-account limits and no self-trade prevention), no events (fills are counted where they
//! happen), no validation beyond what the flow needs, no bound on memory (the id and price
//! arrays grow to the highest id and price seen). It is excluded from `ratio_vs_fastest_peer`.

use novation_book::Side;

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Level {
    head: u32,
    tail: u32,
    total: u64,
}

const EMPTY_LEVEL: Level = Level { head: NIL, tail: NIL, total: 0 };

/// A resting order.
#[derive(Clone, Copy, Debug)]
struct Node {
    qty: u64,
    price: u64,
    id: u64,
    prev: u32,
    next: u32,
}

/// The bare flat-array book.
#[derive(Debug)]
pub struct Bare {
    levels: Vec<Level>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Order id -> node, `NIL` when the id is not live.
    ids: Vec<u32>,
    /// Best bid, 0 when there is none.
    bid: u64,
    /// Best ask, `u64::MAX` when there is none.
    ask: u64,
    fills: Fills,
    errors: u64,
}

impl Bare {
    /// Trades `qty` on `side` against the opposite side up to `limit`; returns the remainder.
    #[inline]
    fn take(&mut self, side: Side, limit: u64, mut qty: u64) -> u64 {
        loop {
            let best = match side {
                Side::Buy if self.ask <= limit => self.ask,
                Side::Sell if self.bid != 0 && self.bid >= limit => self.bid,
                _ => return qty,
            };
            let level = &mut self.levels[best as usize];
            let mut head = level.head;
            while qty > 0 && head != NIL {
                let node = &mut self.nodes[head as usize];
                let traded = qty.min(node.qty);
                qty -= traded;
                node.qty -= traded;
                level.total -= traded;
                self.fills.record(best, traded);
                if node.qty == 0 {
                    self.ids[node.id as usize] = NIL;
                    self.free.push(head);
                    head = node.next;
                }
            }
            level.head = head;
            if head == NIL {
                level.tail = NIL;
                self.advance_best(side.opposite(), best);
            } else {
                self.nodes[head as usize].prev = NIL;
            }
            if qty == 0 {
                return qty;
            }
        }
    }

    /// The level at `price` on `side` just emptied and `price` was that side's best: finds the
    /// next non-empty level away from the spread.
    #[inline(never)]
    fn advance_best(&mut self, side: Side, price: u64) {
        match side {
            Side::Buy => {
                self.bid =
                    (1..price).rev().find(|&p| self.levels[p as usize].head != NIL).unwrap_or(0);
            }
            Side::Sell => {
                self.ask = (price + 1..self.levels.len() as u64)
                    .find(|&p| self.levels[p as usize].head != NIL)
                    .unwrap_or(u64::MAX);
            }
        }
    }

    #[inline]
    fn rest(&mut self, id: u64, side: Side, price: u64, qty: u64) {
        let (i, p) = (id as usize, price as usize);
        if i >= self.ids.len() {
            self.ids.resize((i + 1).next_power_of_two(), NIL);
        }
        if p >= self.levels.len() {
            self.levels.resize((p + 1).next_power_of_two(), EMPTY_LEVEL);
        }
        if self.ids[i] != NIL {
            self.errors += 1;
            return;
        }
        let level = &mut self.levels[p];
        let prev = level.tail;
        let node = Node { qty, price, id, prev, next: NIL };
        let handle = match self.free.pop() {
            Some(h) => {
                self.nodes[h as usize] = node;
                h
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        if prev == NIL {
            level.head = handle;
        } else {
            self.nodes[prev as usize].next = handle;
        }
        level.tail = handle;
        level.total += qty;
        self.ids[i] = handle;
        match side {
            Side::Buy => self.bid = self.bid.max(price),
            Side::Sell => self.ask = self.ask.min(price),
        }
    }
}

impl BookUnderTest for Bare {
    fn name() -> &'static str {
        "bare"
    }

    fn new() -> Self {
        Bare {
            levels: Vec::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            ids: Vec::new(),
            bid: 0,
            ask: u64::MAX,
            fills: Fills::default(),
            errors: 0,
        }
    }

    #[inline]
    fn add(&mut self, id: u64, _account: u32, side: Side, price: u64, qty: u64) {
        let rem = self.take(side, price, qty);
        if rem > 0 {
            self.rest(id, side, price, rem);
        }
    }

    #[inline]
    fn cancel(&mut self, id: u64, _account: u32) {
        let handle = self.ids.get(id as usize).copied().unwrap_or(NIL);
        if handle == NIL {
            self.errors += 1;
            return;
        }
        self.ids[id as usize] = NIL;
        self.free.push(handle);
        let Node { qty, price, prev, next, .. } = self.nodes[handle as usize];
        let level = &mut self.levels[price as usize];
        level.total -= qty;
        if prev == NIL {
            level.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        if level.head == NIL {
            // Which side the order was on follows from the spread: bids rest at or below the
            // best bid, asks at or above the best ask.
            if price == self.bid {
                self.advance_best(Side::Buy, price);
            } else if price == self.ask {
                self.advance_best(Side::Sell, price);
            }
        }
    }

    #[inline]
    fn ioc(&mut self, _id: u64, _account: u32, side: Side, limit: u64, qty: u64) {
        self.take(side, limit, qty);
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}
