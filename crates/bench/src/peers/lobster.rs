//! `lobster` 0.7.0.
//!
//! API notes: one entry point, `OrderBook::execute(OrderType) -> OrderEvent`, ids are `u128`,
//! no accounts. Constructed with `OrderBook::default()` (arena of 10,000 preallocated orders,
//! price-level queues of initial capacity 10, statistics tracking off).
//!
//! IOC: lobster has no IOC type and its market order has no limit price, so an IOC is its
//! `Limit` order followed, when the result is not `Filled` (i.e. something rested), by a
//! `Cancel` of the same id. Fills are read from the `fills` of `Filled` / `PartiallyFilled`.
//!
//! Quirks seen in its source: a cancel of an unknown id still answers `Canceled` (so cancel
//! failures cannot be counted); a maker filled in full leaves its queue but not its arena slot
//! or id map entry; emptied price levels are never removed from its `BTreeMap`s, and every
//! cancel rescans them to refresh the best price.

use lobster::{OrderBook, OrderEvent, OrderType};
use novation_book::Side;

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

/// A `lobster::OrderBook`.
#[derive(Debug)]
pub struct Lobster {
    book: OrderBook,
    fills: Fills,
}

fn side(side: Side) -> lobster::Side {
    match side {
        Side::Buy => lobster::Side::Bid,
        Side::Sell => lobster::Side::Ask,
    }
}

impl Lobster {
    /// Executes a limit order, records its fills; returns whether it filled completely.
    #[inline]
    fn limit(&mut self, id: u64, side_: Side, price: u64, qty: u64) -> bool {
        let event = self.book.execute(OrderType::Limit {
            id: u128::from(id),
            side: side(side_),
            qty,
            price,
        });
        match event {
            OrderEvent::Filled { fills, .. } => {
                for fill in &fills {
                    self.fills.record(fill.price, fill.qty);
                }
                true
            }
            OrderEvent::PartiallyFilled { fills, .. } => {
                for fill in &fills {
                    self.fills.record(fill.price, fill.qty);
                }
                false
            }
            _ => false,
        }
    }
}

impl BookUnderTest for Lobster {
    fn name() -> &'static str {
        "lobster"
    }

    fn new() -> Self {
        Lobster { book: OrderBook::default(), fills: Fills::default() }
    }

    #[inline]
    fn add(&mut self, id: u64, _account: u32, side: Side, price: u64, qty: u64) {
        self.limit(id, side, price, qty);
    }

    #[inline]
    fn cancel(&mut self, id: u64, _account: u32) {
        self.book.execute(OrderType::Cancel { id: u128::from(id) });
    }

    #[inline]
    fn ioc(&mut self, id: u64, _account: u32, side: Side, limit: u64, qty: u64) {
        if !self.limit(id, side, limit, qty) {
            self.book.execute(OrderType::Cancel { id: u128::from(id) });
        }
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        0
    }
}
