//! The book: storage, matching, queries. (Skeleton; implementation in progress.)

use novation_types::{AccountId, ClientOrderId, Notional, Now, OrderId, PriceTicks, QtyLots, Side};

use crate::{Event, Expiry, NewOrder, Reject, StpMode, TimeInForce};

/// Named bounds of one book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookLimits {
    /// Resting orders one account may have in this book.
    pub orders_per_account_max: u32,
    /// Resting orders in this book.
    pub orders_per_book_max: u32,
    /// Distinct price levels (both sides together) in this book.
    pub price_levels_max: u32,
    /// Makers one incoming order may meet (fills, self-trade actions and expired makers removed).
    pub match_steps_max: u32,
}

impl Default for BookLimits {
    fn default() -> Self {
        BookLimits {
            orders_per_account_max: 1_000,
            orders_per_book_max: 1 << 20,
            price_levels_max: 1 << 16,
            match_steps_max: 1_000,
        }
    }
}

/// Invalid [`BookLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    /// A limit is zero.
    #[error("every book limit must be at least 1")]
    Zero,
    /// `orders_per_book_max` above [`crate::ORDERS_PER_BOOK_HARD_MAX`].
    #[error("orders_per_book_max exceeds the hard maximum")]
    TooManyOrders,
}

/// One price level as queries report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelView {
    pub price: PriceTicks,
    /// Sum of the remaining sizes of the level's orders.
    pub qty: QtyLots,
    /// Number of orders at the level.
    pub orders: u32,
}

/// One resting order as queries report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub id: OrderId,
    pub account: AccountId,
    pub client_id: Option<ClientOrderId>,
    pub side: Side,
    pub price: PriceTicks,
    /// Remaining size.
    pub qty: QtyLots,
    pub tif: TimeInForce,
    pub expiry: Expiry,
    pub reduce_only: bool,
    pub stp: StpMode,
}

/// What a taker of a given notional would meet: the smallest prefix of the opposite side, in
/// priority order and whole lots, whose notional reaches the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Impact {
    /// Lots taken.
    pub qty: QtyLots,
    /// Exact notional of the lots taken (tick-lots).
    pub notional: Notional,
    /// Price of the last level reached, if any.
    pub worst: Option<PriceTicks>,
    /// Whether the target notional was reached.
    pub complete: bool,
}

/// One market's order book.
#[derive(Debug)]
pub struct Book {
    limits: BookLimits,
}

#[allow(unused_variables, clippy::unimplemented)]
impl Book {
    pub fn new(limits: BookLimits) -> Result<Book, LimitsError> {
        unimplemented!()
    }
    pub fn with_capacity(limits: BookLimits, orders: usize) -> Result<Book, LimitsError> {
        unimplemented!()
    }
    pub fn limits(&self) -> &BookLimits {
        &self.limits
    }
    pub fn place(&mut self, now: Now, order: &NewOrder, out: &mut Vec<Event>) -> Result<(), Reject> {
        unimplemented!()
    }
    pub fn cancel(&mut self, account: AccountId, id: OrderId, out: &mut Vec<Event>) -> Result<(), Reject> {
        unimplemented!()
    }
    pub fn cancel_by_client_id(&mut self, account: AccountId, client_id: ClientOrderId, out: &mut Vec<Event>) -> Result<(), Reject> {
        unimplemented!()
    }
    pub fn cancel_all(&mut self, account: AccountId, side: Option<Side>, out: &mut Vec<Event>) -> u32 {
        unimplemented!()
    }
    pub fn modify(&mut self, now: Now, account: AccountId, id: OrderId, price: PriceTicks, qty: QtyLots, out: &mut Vec<Event>) -> Result<(), Reject> {
        unimplemented!()
    }
    pub fn expire(&mut self, now: Now, limit: u32, out: &mut Vec<Event>) -> u32 {
        unimplemented!()
    }
    pub fn best_bid(&self) -> Option<LevelView> { unimplemented!() }
    pub fn best_ask(&self) -> Option<LevelView> { unimplemented!() }
    pub fn depth(&self, side: Side, levels: usize) -> Vec<LevelView> { unimplemented!() }
    pub fn level_orders(&self, price: PriceTicks) -> Vec<OrderView> { unimplemented!() }
    pub fn impact(&self, taker_side: Side, notional: Notional) -> Impact { unimplemented!() }
    pub fn order(&self, id: OrderId) -> Option<OrderView> { unimplemented!() }
    pub fn order_by_client_id(&self, account: AccountId, client_id: ClientOrderId) -> Option<OrderView> { unimplemented!() }
    pub fn orders_of(&self, account: AccountId) -> Vec<OrderView> { unimplemented!() }
    pub fn len(&self) -> usize { unimplemented!() }
    pub fn is_empty(&self) -> bool { unimplemented!() }
    pub fn level_count(&self) -> usize { unimplemented!() }
    pub fn account_order_count(&self, account: AccountId) -> u32 { unimplemented!() }
    pub fn check_invariants(&self) -> Result<(), String> { unimplemented!() }
}
