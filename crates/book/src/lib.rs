//! One market's central limit order book: price-time priority, every order type the exchange
//! offers, self-trade prevention, bounded work. Pure: no I/O, no clock (time comes in as
//! [`Now`]), no randomness, no margin knowledge, no hashed-collection iteration.
//!
//! # Units
//! Prices are [`PriceTicks`] in `1..=PRICE_TICKS_MAX`, sizes [`QtyLots`] in
//! `1..=QTY_LOTS_MAX`. Both bounds keep every sum the book forms (level totals, notionals) exact
//! in `u64`/`u128`.
//!
//! # Matching (the specification)
//! Resting orders are ranked by price (highest bid first, lowest ask first), then by the time
//! they took their place in the queue. An incoming order (the *taker*) meets resting orders
//! (*makers*) of the opposite side in that order while it has size left and the maker's price is
//! acceptable (`maker <= limit` for a buy, `maker >= limit` for a sell). Each maker met is one
//! *match step*:
//!
//! 1. a maker that is expired at `now` is removed ([`Event::Expired`]);
//! 2. a maker of the taker's own account is handled by the taker's [`StpMode`]
//!    (never a trade): `CancelNewest` cancels the taker's remainder and stops; `CancelOldest`
//!    cancels the maker and goes on; `CancelBoth` cancels the maker, then the taker, and stops;
//!    `DecrementAndCancel` shrinks both by the smaller remaining size
//!    ([`Event::SelfTradeDecrement`]), removing whichever reaches zero, and goes on while the
//!    taker has size;
//! 3. otherwise they trade `min(taker, maker)` lots at the maker's price ([`Event::Fill`]); a
//!    maker that reaches zero leaves the book.
//!
//! Before a step, if the taker has already taken [`BookLimits::match_steps_max`] steps and a
//! maker is still acceptable, the taker's remainder is cancelled with
//! [`CancelReason::MatchLimit`] (it never rests against a book it would still cross). When no
//! acceptable maker is left, the remainder of a GTC or post-only order rests at the back of its
//! price level ([`Event::Resting`]); that of an IOC/market order is cancelled with
//! [`CancelReason::Unfilled`]. A fully filled taker ends with its last fill.
//!
//! # Placing an order: checks, in order
//! The first failing check rejects the order with the [`Reject`] named, appends
//! [`Event::Rejected`], and leaves the book exactly as it was:
//!
//! 1. size: `ZeroQuantity`, `QuantityTooLarge`; price: `ZeroPrice`, `PriceTooLarge`;
//! 2. `ExpiredAtEntry` if its [`Expiry`] has passed at `now`;
//! 3. `DuplicateOrderId` if a live order has its id; `DuplicateClientOrderId` if a live order of
//!    its account has its client id;
//! 4. post-only: the *effective opposite best* is the price of the first opposite maker, in
//!    priority order, that is not expired (own orders count). If the order's price is acceptable
//!    against it, `PostOnly` is rejected with `PostOnlyWouldCross`, and `PostOnlySlide` is
//!    re-priced to one tick inside it (`best_ask - 1` for a buy, `best_bid + 1` for a sell; a
//!    buy that would slide to price 0, or a sell that would slide above [`PRICE_TICKS_MAX`], is
//!    rejected with `PostOnlyWouldCross`). The search looks at
//!    no more than `match_steps_max` makers; if it finds none that is not expired within that
//!    budget while makers remain, the order is rejected with `PostOnlyWouldCross`;
//! 5. orders that can rest (GTC, post-only): `AccountOrderLimit` if the account already has
//!    `orders_per_account_max` resting orders; `BookOrderLimit` if the book holds
//!    `orders_per_book_max`; `PriceLevelLimit` if no level exists at its (final) price, on either
//!    side, and the book already has `price_levels_max` levels. These are checked before matching
//!    even when the order would fill completely;
//! 6. FOK: a dry run of the matching rules must fill the whole size: it walks makers in priority
//!    order skipping expired ones, skipping own orders under `CancelOldest` and stopping at an own
//!    order under any other mode, counting steps against `match_steps_max`; otherwise
//!    `FokWouldNotFill`.
//!
//! Then [`Event::Accepted`] (with the final price), then the matching events above.
//!
//! # Cancel and modify
//! * [`Book::cancel`] / [`Book::cancel_by_client_id`]: `UnknownOrder` if no live order matches,
//!   `NotOwner` if the order is another account's; else [`Event::Cancelled`] with
//!   [`CancelReason::User`]. An expired order not yet swept can still be cancelled.
//! * [`Book::cancel_all`]: cancels the account's resting orders (optionally one side only), in
//!   ascending order id. Never rejected; bounded by `orders_per_account_max`.
//!   ([`Book::orders_of`] lists an account's orders in the same order.)
//! * [`Book::modify`] changes price and size of a resting order, atomically. Checks in order:
//!   `UnknownOrder`, `NotOwner`, size and price as for placing, `OrderExpired`. Same price and a
//!   size not above the current remaining size: the order keeps its queue place
//!   ([`Event::Modified`] with `kept_priority`). Otherwise the order leaves its place and is
//!   re-entered as if new, with the same id, account, client id, side, time in force, expiry,
//!   reduce-only flag and STP mode: the post-only check (4) and the price-level check (5, counting
//!   the levels as they would be without the order) apply and reject the modify, with the order
//!   untouched; if they pass, [`Event::Modified`] (`kept_priority: false`) is followed by the
//!   order's matching events.
//!
//! # Expiry
//! Orders carry an [`Expiry`] in block height or block time. An expired order never trades: an
//! incoming order that meets one removes it. [`Book::expire`] removes up to `limit` expired
//! orders: first those expiring by height, ascending by (height, order id), then those expiring
//! by time, ascending by (time, order id); the engine calls it at the start of each block and
//! carries leftover work to the next.
//!
//! # Bounds
//! | bound | at the bound |
//! |---|---|
//! | [`QTY_LOTS_MAX`], [`PRICE_TICKS_MAX`] | rejected |
//! | [`BookLimits::orders_per_account_max`] | resting-capable order rejected (`AccountOrderLimit`) |
//! | [`BookLimits::orders_per_book_max`] | resting-capable order rejected (`BookOrderLimit`) |
//! | [`BookLimits::price_levels_max`] | order needing a new level rejected (`PriceLevelLimit`) |
//! | [`BookLimits::match_steps_max`] | remainder cancelled (`MatchLimit`); FOK rejected |
//! | `limit` argument of [`Book::expire`] | the rest waits for the next call |
//!
//! # Layout (why it is fast)
//! Orders live in a slab (`Vec` + free list) of 64-byte slots, one cache line each, linked into
//! a doubly linked FIFO per price level, so cancel is O(1). A resting order's slot is written
//! once, straight from the [`NewOrder`]. The common order, a plain GTC limit order (no client
//! id, no expiry) that passes every check and does not cross, is checked and rested in one pass
//! (each index looked up once); any other order, or one that fails a check or crosses, takes the
//! general path from the start, with the same checks, events and state either way. Each
//! account has a lazily compacted list of its slots (removal writes no other order's slot), so
//! cancel-all is O(orders of the account). Price
//! levels are found through a dense window of 4,096 consecutive ticks (a flat array of level
//! handles and a two-level occupancy bitmap, recentred when a new best level appears outside
//! it) and, outside the window, through pages of 64 consecutive ticks, each page a fixed array
//! of level handles plus a 64-bit occupancy mask, so moving to the next non-empty level is a bit
//! scan; pages are found through an open-addressing index table and the non-empty pages are kept
//! in an ordered set for jumps across gaps. Matching sweeps a level's makers in one pass and
//! writes the level's head, count and total once per run of filled makers. Order ids are found
//! through a direct-mapped window over the most recent ids (the engine assigns ids from a
//! counter, so new orders and cancels of recent orders touch warm memory; the window slides in
//! steps of 256 ids) backed by an index table for older ids; accounts through a direct array
//! for the engine's dense account ids (an index table above 2^20); client ids through a
//! `BTreeMap` (traders choose them). Lookups only, never iterated, so the book's behaviour
//! cannot depend on hash order (ADR 0002).

#![forbid(unsafe_code)]

mod book;
mod event;
mod index;
mod ladder;
mod op;
mod order;

pub use book::{Book, BookLimits, Impact, LevelView, LimitsError, OrderView};
pub use event::{CancelReason, Event, Reject};
pub use op::Op;
pub use order::{Expiry, NewOrder, StpMode, TimeInForce};

pub use novation_types::{
    AccountId, ClientOrderId, Notional, Now, OrderId, PriceTicks, QtyLots, Side,
};

/// The largest order size, in lots. With at most [`ORDERS_PER_BOOK_HARD_MAX`] orders, a level
/// total stays below `2^62`.
pub const QTY_LOTS_MAX: u64 = 1 << 40;

/// The largest order price, in ticks.
pub const PRICE_TICKS_MAX: u64 = 1 << 40;

/// The hard ceiling on [`BookLimits::orders_per_book_max`].
pub const ORDERS_PER_BOOK_HARD_MAX: u32 = 1 << 22;
