//! What the book reports: an ordered stream of events, and typed rejections.

use novation_types::{AccountId, OrderId, PriceTicks, QtyLots, Side};

/// Why a live order left the book other than by filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CancelReason {
    /// The owner asked (cancel by id, by client id, or cancel-all).
    User = 1,
    /// Self-trade prevention removed it.
    SelfTrade = 2,
    /// The unfilled remainder of an IOC or market order.
    Unfilled = 3,
    /// The incoming order reached [`crate::BookLimits::match_steps_max`]; its remainder is
    /// cancelled rather than left to rest against a book it still crosses.
    MatchLimit = 4,
}

/// A typed rejection. Nothing in the book changed. Stable codes; listed in the order the book
/// checks them (the first that applies is reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u16)]
pub enum Reject {
    /// Size is zero.
    #[error("size must be at least one lot")]
    ZeroQuantity = 1,
    /// Size above [`crate::QTY_LOTS_MAX`].
    #[error("size exceeds the maximum of {} lots", crate::QTY_LOTS_MAX)]
    QuantityTooLarge = 2,
    /// Price is zero.
    #[error("price must be at least one tick")]
    ZeroPrice = 3,
    /// Price above [`crate::PRICE_TICKS_MAX`].
    #[error("price exceeds the maximum of {} ticks", crate::PRICE_TICKS_MAX)]
    PriceTooLarge = 4,
    /// The order's expiry had already passed when it arrived.
    #[error("order is already expired")]
    ExpiredAtEntry = 5,
    /// A live order already has this id.
    #[error("a live order already has this id")]
    DuplicateOrderId = 6,
    /// A live order of the same account already has this client order id.
    #[error("a live order of this account already has this client order id")]
    DuplicateClientOrderId = 7,
    /// A post-only order would take liquidity.
    #[error("post-only order would cross the book")]
    PostOnlyWouldCross = 8,
    /// The account already has [`crate::BookLimits::orders_per_account_max`] resting orders.
    #[error("the account has reached its limit of resting orders")]
    AccountOrderLimit = 9,
    /// The book already holds [`crate::BookLimits::orders_per_book_max`] resting orders.
    #[error("the book has reached its limit of resting orders")]
    BookOrderLimit = 10,
    /// The order would open a new price level and the book already has
    /// [`crate::BookLimits::price_levels_max`].
    #[error("the book has reached its limit of price levels")]
    PriceLevelLimit = 11,
    /// A fill-or-kill order cannot fill its whole size now.
    #[error("fill-or-kill order cannot be filled in full")]
    FokWouldNotFill = 12,
    /// No live order with this id (or this client id for this account).
    #[error("no live order with this id")]
    UnknownOrder = 13,
    /// The order belongs to another account.
    #[error("the order belongs to another account")]
    NotOwner = 14,
    /// The order to modify has expired (it will be removed by the next expiry sweep).
    #[error("the order has expired")]
    OrderExpired = 15,
}

impl Reject {
    /// The stable numeric code of this rejection.
    pub const fn code(self) -> u16 {
        self as u16
    }
}

/// One thing that happened in the book. Operations append events to a caller-owned vector in the
/// order they happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A new order passed every check and is about to match and/or rest. `price` is the price it
    /// will use (a sliding post-only order reports its slid price).
    Accepted { id: OrderId, account: AccountId, side: Side, price: PriceTicks, qty: QtyLots },
    /// A trade, always at the maker's price.
    Fill {
        maker_id: OrderId,
        maker_account: AccountId,
        taker_id: OrderId,
        taker_account: AccountId,
        /// The taker's side.
        taker_side: Side,
        price: PriceTicks,
        qty: QtyLots,
        /// Maker size left after this fill; zero means it left the book.
        maker_remaining: QtyLots,
        /// Taker size left after this fill.
        taker_remaining: QtyLots,
    },
    /// Self-trade prevention with [`crate::StpMode::DecrementAndCancel`]: both orders shrank by
    /// `qty` without a trade. An order whose remaining size is zero has left the book.
    SelfTradeDecrement {
        taker_id: OrderId,
        maker_id: OrderId,
        account: AccountId,
        qty: QtyLots,
        taker_remaining: QtyLots,
        maker_remaining: QtyLots,
    },
    /// The order (or its remainder) now rests in the book.
    Resting { id: OrderId, account: AccountId, side: Side, price: PriceTicks, qty: QtyLots },
    /// The order left the book (or, for an incoming order, its remainder was dropped).
    Cancelled {
        id: OrderId,
        account: AccountId,
        /// The order's side.
        side: Side,
        remaining: QtyLots,
        reason: CancelReason,
    },
    /// A resting order passed its expiry and was removed (by the expiry sweep, or when an
    /// incoming order met it at the top of the book).
    Expired { id: OrderId, account: AccountId, side: Side, remaining: QtyLots },
    /// A resting order was modified. With `kept_priority` the order kept its queue position
    /// (same price, size not increased); otherwise it was re-entered at the back of the queue at
    /// its new price, and may have matched (further events follow).
    Modified {
        id: OrderId,
        account: AccountId,
        price: PriceTicks,
        qty: QtyLots,
        kept_priority: bool,
    },
    /// The operation was rejected and changed nothing. `id` is the order concerned when known.
    Rejected { id: Option<OrderId>, reason: Reject },
}
