//! `orderbook-rs` 0.15.3 (with `pricelevel` 0.10.2 for its order types).
//!
//! API notes: a concurrent book (`&self` methods, lock-free levels, skip lists, dashmaps);
//! prices are `u128`, ids `Id::Sequential(u64)`; no accounts are needed while self-trade
//! prevention is off (its default). Each new order is stamped with the book's clock (the
//! default wall-clock `MonotonicClock`). Adds use `add_limit_order_with_result` (GTC); fills are
//! read from the returned `TradeResult`'s trades.
//!
//! IOC: native — an `OrderType::Standard` with `TimeInForce::Ioc`, submitted through
//! `add_order_with_committed`. An IOC that leaves an unfilled remainder comes back as an
//! `Err(SubmitFailure)` (`InsufficientLiquidity`) whose `committed` field carries the trades it
//! did make; both paths are read.

use novation_book::Side;
use orderbook_rs::{Id, OrderBook, OrderType, TimeInForce, TradeResult};
use pricelevel::{Hash32, Price, Quantity};

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

/// An `orderbook_rs::OrderBook<()>`.
pub struct OrderbookRs {
    book: OrderBook<()>,
    fills: Fills,
    errors: u64,
}

fn side(side: Side) -> orderbook_rs::Side {
    match side {
        Side::Buy => orderbook_rs::Side::Buy,
        Side::Sell => orderbook_rs::Side::Sell,
    }
}

impl std::fmt::Debug for OrderbookRs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderbookRs")
            .field("fills", &self.fills)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl OrderbookRs {
    #[inline]
    fn record(&mut self, result: &TradeResult) {
        for trade in result.match_result.trades().as_vec() {
            let price = u64::try_from(trade.price().as_u128()).expect("flow prices fit u64");
            self.fills.record(price, trade.quantity().as_u64());
        }
    }
}

impl BookUnderTest for OrderbookRs {
    fn name() -> &'static str {
        "orderbook-rs"
    }

    fn new() -> Self {
        OrderbookRs { book: OrderBook::new("BENCH"), fills: Fills::default(), errors: 0 }
    }

    #[inline]
    fn add(&mut self, id: u64, _account: u32, side_: Side, price: u64, qty: u64) {
        let result = self.book.add_limit_order_with_result(
            Id::Sequential(id),
            u128::from(price),
            qty,
            side(side_),
            TimeInForce::Gtc,
            None,
        );
        match result {
            Ok((_, Some(trades))) => self.record(&trades),
            Ok((_, None)) => {}
            Err(_) => self.errors += 1,
        }
    }

    #[inline]
    fn cancel(&mut self, id: u64, _account: u32) {
        if !matches!(self.book.cancel_order(Id::Sequential(id)), Ok(Some(_))) {
            self.errors += 1;
        }
    }

    #[inline]
    fn ioc(&mut self, id: u64, _account: u32, side_: Side, limit: u64, qty: u64) {
        let order = OrderType::Standard {
            id: Id::Sequential(id),
            price: Price::new(u128::from(limit)),
            quantity: Quantity::new(qty),
            side: side(side_),
            user_id: Hash32::zero(),
            timestamp: self.book.clock().now_millis(),
            time_in_force: TimeInForce::Ioc,
            extra_fields: (),
        };
        match self.book.add_order_with_committed(order) {
            Ok((_, Some(trades))) => self.record(&trades),
            Ok((_, None)) => {}
            Err(failure) => {
                if let Some(trades) = failure.committed {
                    self.record(&trades);
                }
            }
        }
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}
