//! What a trader asks the book to do: new orders and their options.

use novation_types::{AccountId, ClientOrderId, Now, OrderId, PriceTicks, QtyLots, Side};

/// How long an order lives and whether it may rest.
#[derive(
    borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq, Hash,
)]
pub enum TimeInForce {
    /// Good till cancelled: matches what it can, rests the remainder.
    Gtc,
    /// Immediate or cancel: matches what it can, the remainder is cancelled
    /// ([`crate::CancelReason::Unfilled`]). A market order is an IOC whose limit price is the
    /// caller's worst acceptable price (see [`NewOrder::market`]).
    Ioc,
    /// Fill or kill: fills its whole size at entry or is rejected
    /// ([`crate::Reject::FokWouldNotFill`]) leaving the book untouched.
    Fok,
    /// Post-only: rejected ([`crate::Reject::PostOnlyWouldCross`]) if it would take liquidity.
    PostOnly,
    /// Post-only that slides: if it would cross, its price is moved to the best non-crossing
    /// price (one tick better than the opposite best, from the opposite side's point of view) and
    /// it rests there.
    PostOnlySlide,
}

impl TimeInForce {
    /// Whether an order with this time in force can rest in the book.
    pub const fn can_rest(self) -> bool {
        matches!(self, TimeInForce::Gtc | TimeInForce::PostOnly | TimeInForce::PostOnlySlide)
    }

    /// Whether this is one of the post-only variants.
    pub const fn is_post_only(self) -> bool {
        matches!(self, TimeInForce::PostOnly | TimeInForce::PostOnlySlide)
    }
}

/// When a resting order stops being fillable.
#[derive(
    borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
pub enum Expiry {
    /// Never expires.
    #[default]
    Never,
    /// Good till block height: fillable in blocks with `height <= h`, expired once
    /// `now.height > h`.
    Height(u64),
    /// Good till time: fillable while `now.time_ms <= t`, expired once `now.time_ms > t`.
    TimeMs(u64),
}

impl Expiry {
    /// Whether an order with this expiry is expired at `now`.
    pub const fn is_expired(self, now: Now) -> bool {
        match self {
            Expiry::Never => false,
            Expiry::Height(h) => now.height > h,
            Expiry::TimeMs(t) => now.time_ms > t,
        }
    }
}

/// Self-trade prevention: what happens when an incoming order (the taker) would trade with a
/// resting order of the same account (the maker). The taker's mode decides. Two orders of one
/// account never trade with each other, whatever the mode.
#[derive(
    borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
pub enum StpMode {
    /// Cancel the rest of the incoming order; the resting order stays. Matching stops.
    #[default]
    CancelNewest,
    /// Cancel the resting order and keep matching the incoming one.
    CancelOldest,
    /// Cancel both; matching stops.
    CancelBoth,
    /// Reduce both by the smaller of their remaining sizes without a trade; whichever reaches zero
    /// is gone (the resting order keeps its queue position if it survives). Matching continues
    /// while the incoming order has size left.
    DecrementAndCancel,
}

/// A new order as the engine submits it to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NewOrder {
    /// Market-wide unique id (assigned by the engine).
    pub id: OrderId,
    /// Owner.
    pub account: AccountId,
    /// Trader-chosen id, unique among the account's live orders.
    pub client_id: Option<ClientOrderId>,
    /// Buy or sell.
    pub side: Side,
    /// Limit price; for a market order, the worst acceptable price.
    pub price: PriceTicks,
    /// Size.
    pub qty: QtyLots,
    /// Time in force.
    pub tif: TimeInForce,
    /// Expiry of the resting remainder.
    pub expiry: Expiry,
    /// Carried for the engine, which enforces it against positions; the book does not interpret it.
    pub reduce_only: bool,
    /// Self-trade prevention mode when this order is the taker.
    pub stp: StpMode,
}

impl NewOrder {
    /// A good-till-cancelled limit order with default options.
    pub fn limit(id: u64, account: u32, side: Side, price: u64, qty: u64) -> Self {
        NewOrder {
            id: OrderId(id),
            account: AccountId(account),
            client_id: None,
            side,
            price: PriceTicks(price),
            qty: QtyLots(qty),
            tif: TimeInForce::Gtc,
            expiry: Expiry::Never,
            reduce_only: false,
            stp: StpMode::CancelNewest,
        }
    }

    /// A market order: immediate-or-cancel with `worst_price` as the slippage bound (the highest
    /// price a buy will pay, the lowest a sell will accept).
    pub fn market(id: u64, account: u32, side: Side, worst_price: u64, qty: u64) -> Self {
        NewOrder { tif: TimeInForce::Ioc, ..NewOrder::limit(id, account, side, worst_price, qty) }
    }

    /// The same order with another time in force.
    pub fn with_tif(self, tif: TimeInForce) -> Self {
        NewOrder { tif, ..self }
    }

    /// The same order with a client order id.
    pub fn with_client_id(self, client_id: u64) -> Self {
        NewOrder { client_id: Some(ClientOrderId(client_id)), ..self }
    }

    /// The same order with an expiry.
    pub fn with_expiry(self, expiry: Expiry) -> Self {
        NewOrder { expiry, ..self }
    }

    /// The same order with a self-trade prevention mode.
    pub fn with_stp(self, stp: StpMode) -> Self {
        NewOrder { stp, ..self }
    }

    /// The same order flagged reduce-only.
    pub fn reduce_only(self) -> Self {
        NewOrder { reduce_only: true, ..self }
    }
}
