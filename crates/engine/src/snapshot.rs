//! Snapshots: the committed state of the engine as plain data, for the chain to encode into its
//! authenticated state database.
//!
//! # What is committed (the specification)
//! The state is split three ways, each a plain struct of integers, bools, addresses, ids, small
//! enums and `Vec`s (money, prices and sizes in their unit newtypes; values of other crates'
//! fixed-point types as integers named with their unit):
//!
//! * one [`AccountSnapshot`] per account id (`0..GlobalSnapshot::accounts`): owner and
//!   subaccount; per bucket (cross, then isolated by market) its cash, its legs (position, entry
//!   notional, funding index at last settlement, resting lots per side) and its liquidation
//!   watch entries; every resting order of the account in every book, by (market, order id);
//!   and the waterfall state of each of its buckets being liquidated. The chain writes the
//!   accounts [`crate::Engine::take_dirty_accounts`] names (see `dirty.rs`);
//! * one [`MarketSnapshot`] per market: status and breaker, index and its history, mark and its
//!   EMA, funding (premium samples, cumulative index, last accrual, pool, residues), open
//!   interest, the watch progress counter, and a summary of the book (best levels, counts);
//! * one [`GlobalSnapshot`]: height and time, pools and flows, id counters, the number of
//!   accounts and markets, the waterfall (its buckets and round-robin cursor) and the open
//!   takeover auctions.
//!
//! Together they determine every future block's events and state, with the exceptions below.
//!
//! # What is not captured
//! * **Parameters**: [`crate::EngineParams`] and each market's [`crate::MarketParams`] (book
//!   limits included) are fixed at genesis and committed once, by whoever commits genesis.
//! * **Queue order inside a price level.** Orders at one price fill in the order they took their
//!   place, which is ascending order id except after a [`crate::Action::Modify`] that changed
//!   the price or raised the size: the order keeps its id but re-enters at the back of its new
//!   level. Snapshots list orders by id, so a book rebuilt from them by id could rank such an
//!   order ahead of orders that arrived before its modify. A restore that must reproduce
//!   priority exactly needs each level's queue (`Book::level_orders`), which is not committed
//!   here (it would make every account at a level dirty whenever the queue ahead moved).
//! * **Indexes derived from the snapshots**: the address directory (account ids are dense, in
//!   creation order, and each snapshot names its owner and subaccount); each market's holder set
//!   (buckets with a non-zero leg there); each market's watch set (the union of the buckets'
//!   watch entries); the book's internal layout (slots, free lists, generations, price pages,
//!   id and client-id indexes, expiry queues), all rebuilt from the orders.
//! * **Caches**: each leg's cached value (`account.rs`), derived from state and never state.
//! * **Work in progress**: a block's scratch lists are empty between blocks; events of
//!   governance calls made between blocks wait in the engine to be reported with the next
//!   block (output, not state); the dirty set.

use novation_book::{Expiry, LevelView, OrderView, StpMode, TimeInForce};
use novation_types::{
    AccountId, Address, ClientOrderId, Now, OrderId, PriceTicks, QtyLots, Quote, Side,
};

use crate::account::{Bucket, Leg};
use crate::action::{AuctionId, MarketId, SubaccountId};
use crate::engine::Engine;
use crate::event::{BucketId, MarketStatus, StatusCause};
use crate::liquidation::{Auction, LiquidationState};
use crate::market::Market;

/// One account's committed state.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// Owner address.
    pub owner: Address,
    /// Subaccount number.
    pub sub: SubaccountId,
    /// The cross-margin bucket.
    pub cross: BucketSnapshot,
    /// Isolated buckets, ascending by market.
    pub isolated: Vec<(MarketId, BucketSnapshot)>,
    /// Every resting order of the account in every book, ascending by (market, order id).
    pub orders: Vec<OrderSnapshot>,
    /// The account's buckets in the liquidation waterfall, ascending by bucket (cross first).
    pub liquidating: Vec<LiquidationSnapshot>,
}

/// A margin bucket.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketSnapshot {
    /// Cash, quote atoms (may be negative).
    pub cash: Quote,
    /// Legs, ascending by market.
    pub legs: Vec<LegSnapshot>,
    /// The bucket's entries in the markets' liquidation watches, in the bucket's order.
    pub watch: Vec<WatchSnapshot>,
}

/// A leg: a position and the resting lots of one bucket in one market (never its cache).
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegSnapshot {
    /// The market.
    pub market: MarketId,
    /// Signed size in lots: positive long, negative short.
    pub size: i64,
    /// Cost basis of the open size, quote atoms.
    pub entry_notional: Quote,
    /// The market's cumulative funding index when the leg last settled, nano-atoms per lot.
    pub funding_entry_nano_per_lot: i128,
    /// Lots resting on the buy side.
    pub open_buy: u64,
    /// Lots resting on the sell side.
    pub open_sell: u64,
}

/// A liquidation-watch entry: the bucket is re-evaluated once the market's watch progress
/// reaches `trigger_nano_per_lot`.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSnapshot {
    /// The market.
    pub market: MarketId,
    /// Trigger, nano-atoms per lot (compared with [`MarketSnapshot::watch_progress_nano_per_lot`]).
    pub trigger_nano_per_lot: u128,
}

/// A resting order, as the book keeps it (the book keeps no original size).
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderSnapshot {
    /// The market.
    pub market: MarketId,
    /// Order id (market-wide unique; assigned from [`GlobalSnapshot::next_order_id`]).
    pub id: OrderId,
    /// The trader's client order id, if any.
    pub client_id: Option<ClientOrderId>,
    /// Buy or sell.
    pub side: Side,
    /// Limit price (a sliding post-only order's slid price).
    pub price: PriceTicks,
    /// Remaining size.
    pub remaining: QtyLots,
    /// Time in force (GTC or a post-only variant: only those rest).
    pub tif: TimeInForce,
    /// When it stops being fillable.
    pub expiry: Expiry,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Self-trade prevention mode (used if a modify re-enters it as a taker).
    pub stp: StpMode,
}

/// A bucket's progress through the liquidation waterfall.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationSnapshot {
    /// The account.
    pub account: AccountId,
    /// Its bucket.
    pub bucket: BucketId,
    /// Step 1 (cancel its orders) done.
    pub orders_cancelled: bool,
    /// Its open takeover auction.
    pub auction: Option<AuctionId>,
    /// The market of the last position closed.
    pub last_market: Option<MarketId>,
}

/// An open takeover auction.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionSnapshot {
    /// Its id.
    pub id: AuctionId,
    /// The account whose position is offered.
    pub account: AccountId,
    /// Its bucket.
    pub bucket: BucketId,
    /// The market.
    pub market: MarketId,
    /// The position's side (`Buy`: a long, the bidder buys it).
    pub side: Side,
    /// Size offered.
    pub qty: QtyLots,
    /// Price when opened (the mark then).
    pub start: PriceTicks,
    /// Price from `duration_blocks` after opening on (the bankruptcy price).
    pub end: PriceTicks,
    /// Blocks from `start` to `end`.
    pub duration_blocks: u64,
    /// Height of the block that opened it.
    pub opened_height: u64,
}

/// A circuit breaker holding a market.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSnapshot {
    /// The cause.
    pub cause: StatusCause,
    /// The last height the cause was observed.
    pub last_height: u64,
}

/// One price level of a book summary.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelSnapshot {
    /// Price.
    pub price: PriceTicks,
    /// Total remaining size at the level.
    pub qty: QtyLots,
    /// Orders at the level.
    pub orders: u32,
}

/// A summary of a market's book (the orders themselves are in the account snapshots).
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookSummary {
    /// Best bid level.
    pub best_bid: Option<LevelSnapshot>,
    /// Best ask level.
    pub best_ask: Option<LevelSnapshot>,
    /// Resting orders.
    pub orders: u64,
    /// Price levels, both sides.
    pub levels: u64,
}

/// A market's committed state (its parameters aside).
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct MarketSnapshot {
    /// Its id.
    pub id: MarketId,
    /// Effective status.
    pub status: MarketStatus,
    /// Status set by governance (the breaker returns to it).
    pub base_status: MarketStatus,
    /// The breaker holding the market, if any.
    pub breaker: Option<BreakerSnapshot>,
    /// The latest index price, if any arrived yet.
    pub index: Option<PriceTicks>,
    /// Height of the block that brought `index`.
    pub index_height: u64,
    /// Index prices of the last breaker window, oldest first.
    pub index_history: Vec<PriceTicks>,
    /// Mark price (zero until the first index).
    pub mark: PriceTicks,
    /// Mark EMA of the clamped basis, nano-ticks.
    pub basis_ema_nano_ticks: i128,
    /// Block time of the last mark EMA update.
    pub mark_last_update_ms: Option<u64>,
    /// Sum of the current funding interval's premium samples, parts per billion.
    pub premium_sum_ppb: i128,
    /// Number of those samples.
    pub premium_samples: u64,
    /// Cumulative funding index, nano-atoms per lot.
    pub funding_index_nano_per_lot: i128,
    /// Block time of the last funding accrual.
    pub funding_last_ms: Option<u64>,
    /// The last interval's funding rate, parts per billion.
    pub funding_last_rate_ppb: i64,
    /// Funding paid in minus paid out, quote atoms.
    pub funding_pool: Quote,
    /// Σ funding settlement residues, nano-atoms.
    pub funding_residue_nano: i128,
    /// Long open interest, lots.
    pub long_lots: u64,
    /// Short open interest, lots.
    pub short_lots: u64,
    /// Liquidation watch progress counter, nano-atoms per lot.
    pub watch_progress_nano_per_lot: u128,
    /// The account of the market's insurance fund.
    pub insurance: AccountId,
    /// The book's summary.
    pub book: BookSummary,
}

/// Engine-wide committed state.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GlobalSnapshot {
    /// Height and time of the last executed block.
    pub now: Now,
    /// Whether a block has been executed (the first block's height is not checked).
    pub started: bool,
    /// Fees collected minus rebates paid, quote atoms.
    pub fee_pool: Quote,
    /// Total deposits (insurance seeds included), quote atoms.
    pub deposits: Quote,
    /// Total withdrawals, quote atoms.
    pub withdrawals: Quote,
    /// The next order id.
    pub next_order_id: u64,
    /// The next auction id.
    pub next_auction_id: u64,
    /// Number of accounts (ids `0..accounts`), insurance funds included.
    pub accounts: u32,
    /// Number of markets (ids `0..markets`).
    pub markets: u16,
    /// The last bucket the waterfall stepped (it resumes after it).
    pub liquidation_cursor: Option<(AccountId, BucketId)>,
    /// Every bucket in the waterfall, ascending by (account, bucket): the union of the
    /// accounts' `liquidating`, kept here so that the waterfall is found without a scan.
    pub liquidations: Vec<LiquidationSnapshot>,
    /// Open takeover auctions, ascending by id.
    pub auctions: Vec<AuctionSnapshot>,
}

impl Engine {
    /// The committed state of account `id`, `None` if there is no such account. Off the hot
    /// path: O(its buckets, legs and orders + markets).
    pub fn account_snapshot(&self, id: AccountId) -> Option<AccountSnapshot> {
        let acc = self.accounts.get(id.0 as usize)?;
        let liquidating = self
            .liquidations
            .range((id, BucketId::Cross)..)
            .take_while(|((a, _), _)| *a == id)
            .map(|(&(account, bucket), s)| liquidation(account, bucket, s))
            .collect();
        Some(AccountSnapshot {
            owner: acc.owner,
            sub: acc.sub,
            cross: bucket(&acc.cross),
            isolated: acc.isolated.iter().map(|(m, b)| (*m, bucket(b))).collect(),
            orders: self.orders_of(id),
            liquidating,
        })
    }

    /// Every resting order of account `id` in every book, ascending by (market, order id).
    pub fn orders_of(&self, id: AccountId) -> Vec<OrderSnapshot> {
        let mut out = Vec::new();
        for m in &self.markets {
            if m.book.account_order_count(id) == 0 {
                continue;
            }
            out.extend(m.book.orders_of(id).iter().map(|o| order(m.id, o)));
        }
        out
    }

    /// The committed state of market `id` (parameters aside), `None` if there is no such market.
    pub fn market_snapshot(&self, id: MarketId) -> Option<MarketSnapshot> {
        self.market(id).map(market)
    }

    /// The engine-wide committed state.
    pub fn global_snapshot(&self) -> GlobalSnapshot {
        GlobalSnapshot {
            now: self.now,
            started: self.started,
            fee_pool: self.fee_pool,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            next_order_id: self.next_order_id,
            next_auction_id: self.next_auction_id,
            // Both counts are bounded by `accounts_max: u32` and `markets_max: u16`.
            accounts: u32::try_from(self.accounts.len()).unwrap_or(u32::MAX),
            markets: u16::try_from(self.markets.len()).unwrap_or(u16::MAX),
            liquidation_cursor: self.liquidation_cursor,
            liquidations: self
                .liquidations
                .iter()
                .map(|(&(account, bucket), s)| liquidation(account, bucket, s))
                .collect(),
            auctions: self.auctions.iter().map(|(&id, a)| auction(id, a)).collect(),
        }
    }
}

fn bucket(b: &Bucket) -> BucketSnapshot {
    BucketSnapshot {
        cash: b.cash,
        legs: b.legs.iter().map(leg).collect(),
        watch: b
            .watch
            .iter()
            .map(|&(market, trigger)| WatchSnapshot { market, trigger_nano_per_lot: trigger })
            .collect(),
    }
}

fn leg(l: &Leg) -> LegSnapshot {
    LegSnapshot {
        market: l.market,
        size: l.size,
        entry_notional: l.entry_notional,
        funding_entry_nano_per_lot: l.funding_entry.0,
        open_buy: l.open_buy,
        open_sell: l.open_sell,
    }
}

fn order(market: MarketId, o: &OrderView) -> OrderSnapshot {
    OrderSnapshot {
        market,
        id: o.id,
        client_id: o.client_id,
        side: o.side,
        price: o.price,
        remaining: o.qty,
        tif: o.tif,
        expiry: o.expiry,
        reduce_only: o.reduce_only,
        stp: o.stp,
    }
}

fn liquidation(account: AccountId, bucket: BucketId, s: &LiquidationState) -> LiquidationSnapshot {
    LiquidationSnapshot {
        account,
        bucket,
        orders_cancelled: s.orders_cancelled,
        auction: s.auction,
        last_market: s.last_market,
    }
}

fn auction(id: AuctionId, a: &Auction) -> AuctionSnapshot {
    AuctionSnapshot {
        id,
        account: a.account,
        bucket: a.bucket,
        market: a.market,
        side: a.side,
        qty: a.qty,
        start: a.schedule.start,
        end: a.schedule.end,
        duration_blocks: a.schedule.duration_blocks,
        opened_height: a.opened_height,
    }
}

fn level(l: LevelView) -> LevelSnapshot {
    LevelSnapshot { price: l.price, qty: l.qty, orders: l.orders }
}

fn market(m: &Market) -> MarketSnapshot {
    MarketSnapshot {
        id: m.id,
        status: m.status,
        base_status: m.base_status,
        breaker: m.breaker.map(|(cause, last_height)| BreakerSnapshot { cause, last_height }),
        index: m.index,
        index_height: m.index_height,
        index_history: m.index_history.iter().copied().collect(),
        mark: m.mark,
        basis_ema_nano_ticks: m.mark_state.basis_ema_nano_ticks(),
        mark_last_update_ms: m.mark_state.last_update_ms(),
        premium_sum_ppb: m.premium.sum_ppb(),
        premium_samples: m.premium.samples(),
        funding_index_nano_per_lot: m.funding_index.0,
        funding_last_ms: m.funding_last_ms,
        funding_last_rate_ppb: m.funding_last_rate.ppb(),
        funding_pool: m.funding_pool,
        funding_residue_nano: m.funding_residue_nano,
        long_lots: m.long_lots,
        short_lots: m.short_lots,
        watch_progress_nano_per_lot: m.watch_progress,
        insurance: m.insurance,
        book: BookSummary {
            best_bid: m.book.best_bid().map(level),
            best_ask: m.book.best_ask().map(level),
            orders: m.book.len() as u64,
            levels: m.book.level_count() as u64,
        },
    }
}
