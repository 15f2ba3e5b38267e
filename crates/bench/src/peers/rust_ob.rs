//! `rust_ob` 2.5.3.
//!
//! API notes: `OrderBook<OrderID>` with `rust_decimal::Decimal` prices and sizes (converted
//! from and to integers here, exactly); no accounts. `process_limit_order` returns one
//! `OrderMatch` per maker met followed by one for the incoming order itself (its total quantity
//! and signed cost), which is what is read here.
//!
//! IOC: rust_ob has no IOC type and its market order has no limit price, so an IOC is
//! `process_limit_order` followed, when it did not fill completely, by `cancel_order` of the
//! same id (the pattern its own `process_market_order` uses).

use novation_book::Side;
use rust_ob::{Decimal, OrderBook};

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

/// A `rust_ob::OrderBook<u64>`.
#[derive(Debug)]
pub struct RustOb {
    book: OrderBook<u64>,
    fills: Fills,
    errors: u64,
}

fn side(side: Side) -> rust_ob::Side {
    match side {
        Side::Buy => rust_ob::Side::Buy,
        Side::Sell => rust_ob::Side::Sell,
    }
}

impl RustOb {
    /// Processes a limit order, records its fills; returns the quantity filled.
    #[inline]
    fn limit(&mut self, id: u64, side_: Side, price: u64, qty: u64) -> u64 {
        match self.book.process_limit_order(
            id,
            side(side_),
            Decimal::from(price),
            Decimal::from(qty),
        ) {
            Ok(matches) => match matches.last() {
                Some(own) if own.order == id => {
                    let filled = u64::try_from(own.quantity).expect("integral quantity");
                    self.fills.qty += u128::from(filled);
                    self.fills.notional += u128::try_from(own.cost.abs()).expect("integral cost");
                    filled
                }
                _ => 0,
            },
            Err(_) => {
                self.errors += 1;
                0
            }
        }
    }
}

impl BookUnderTest for RustOb {
    fn name() -> &'static str {
        "rust_ob"
    }

    fn new() -> Self {
        RustOb { book: OrderBook::new(), fills: Fills::default(), errors: 0 }
    }

    #[inline]
    fn add(&mut self, id: u64, _account: u32, side: Side, price: u64, qty: u64) {
        self.limit(id, side, price, qty);
    }

    #[inline]
    fn cancel(&mut self, id: u64, _account: u32) {
        if self.book.cancel_order(id).is_err() {
            self.errors += 1;
        }
    }

    #[inline]
    fn ioc(&mut self, id: u64, _account: u32, side: Side, limit: u64, qty: u64) {
        if self.limit(id, side, limit, qty) < qty && self.book.cancel_order(id).is_err() {
            self.errors += 1;
        }
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}
