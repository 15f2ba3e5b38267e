//! novation's exchange state machine: accounts, perpetual markets, margin, funding, and the
//! liquidation waterfall with insurance funds and auto-deleveraging.
//!
//! ```text
//! engine.apply_block(&BlockContext { height, time_ms, index_prices }, &txs) -> Result<Vec<Event>, BlockError>
//! ```
//!
//! Deterministic: the same engine state and inputs give the same state and events on any
//! machine. No I/O, clock, randomness, threads, floating point or hashed collections; integers
//! only, checked, every rounding named and in the protocol's favour. A bad action is a typed
//! [`Rejection`] with a stable code and changes nothing; a failure inside one market's
//! processing halts that market ([`MarketStatus::Halted`], cause `Fault`), not the engine.
//!
//! # A block, in order
//! 1. the context is checked (height increases, time does not go back, index prices name
//!    known markets once each), else [`BlockError`] and nothing changes;
//! 2. per market (`market.rs`): index, circuit breakers, mark, premium sample, funding
//!    accrual, the liquidation watch's progress counter;
//! 3. per market: expired orders leave the book (bounded);
//! 4. the liquidation pass (`liquidation.rs`): due watch entries are re-evaluated, then each
//!    bucket in the waterfall takes one step (bounded; leftovers continue next block);
//! 5. the actions: first cancels and post-only orders, then everything else, each phase in
//!    submission order (so a maker's cancel is never picked off by a taker sequenced before
//!    it in the same block); the buckets the actions changed are re-evaluated once at the end
//!    (watch entries refreshed, or entry into the waterfall for the next block);
//! 6. in debug builds, [`Engine::check_invariants`].
//!
//! | module | what it specifies |
//! |---|---|
//! | `account` | cash-flow accounting, legs, cross and isolated buckets |
//! | `valuation` | equity, maintenance, initial margin (orders on their worst side), withdrawable |
//! | `trading` | order checks before the book, fill settlement, fees |
//! | `market` | per-block index, mark, funding, breakers |
//! | `liquidation` | the watch that scales with risk, the five-step waterfall, ADL queue |
//! | `invariants` | what is checked after every block |
//! | `snapshot` | the committed state, as plain data for the chain |
//! | `dirty` | which accounts changed since the chain last asked |
//!
//! ADR 0005 (`docs/adr/0005-engine-accounting-and-liquidation.md`) records the decisions.

#![forbid(unsafe_code)]

mod account;
mod action;
mod dirty;
mod engine;
mod event;
mod invariants;
mod liquidation;
mod market;
mod params;
mod snapshot;
mod trading;
mod valuation;

pub use account::{Account, Bucket, Leg};
pub use action::{Action, AuctionId, BlockContext, MarketId, OrderRequest, SubaccountId, Tx};
pub use engine::{BlockError, Engine, INSURANCE_ADDRESS};
pub use event::{BucketId, Event, MarketStatus, Rejection, StatusCause};
pub use liquidation::{AdlEntry, Auction, LiquidationState};
pub use market::Market;
pub use params::{
    BreakerParams, EngineParams, Instrument, LiquidationParams, MarketParams, ParamsError,
    BREAKER_WINDOW_BLOCKS_MAX, SYMBOL_LEN_MAX,
};
pub use snapshot::{
    AccountSnapshot, AuctionSnapshot, BookSummary, BreakerSnapshot, BucketSnapshot, GlobalSnapshot,
    LegSnapshot, LevelSnapshot, LiquidationSnapshot, MarketSnapshot, OrderSnapshot, WatchSnapshot,
};
pub use valuation::{bucket_value, leg_value, LegValue, Valuation};

pub use novation_book::{CancelReason, Expiry, Reject as BookReject, StpMode, TimeInForce};
