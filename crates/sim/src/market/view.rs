//! What a bot sees: a read-only [`Snapshot`] of the markets, of each bot's own account and of
//! the open takeover auctions, captured from an engine after a finalized block.
//!
//! [`Snapshot::capture`] is a pure function of the engine's state and the bots' addresses, so
//! the same code builds the view inside the chain's executor (the devnet driver's one query per
//! block) and in tests against a bare engine. Everything is bounded: [`BOOK_VIEW_LEVELS`] levels
//! per side, [`ORDERS_VIEW_MAX`] orders per account, [`AUCTIONS_VIEW_MAX`] auctions.
//!
//! # Unit helpers
//! Strategies think in basis points of the index and in quote notionals, so that one
//! population fits markets with any tick and lot size; [`MarketView`] turns them into the
//! engine's units:
//!
//! ```text
//! bps_ticks(b)   = max(1, ⌊index × b / 10_000⌋)                    ticks
//! lot_value      = index × a                                        quote atoms per lot (a = atoms per tick-lot)
//! lots_for(N)    = max(qty_min, ⌊N / lot_value⌋)   (0 if N ≤ 0)     lots
//! band           = [index − w, index + w],  w = ⌊index × price_band / 1e9⌋   (the engine's check)
//! ```

use novation_engine::{AuctionId, BucketId, Engine, MarketId, MarketStatus};
use novation_types::{AccountId, Address, OrderId, Quote, Side};

/// Levels per side kept in a [`MarketView`].
pub const BOOK_VIEW_LEVELS: usize = 10;

/// Resting orders kept per [`AccountView`].
pub const ORDERS_VIEW_MAX: usize = 64;

/// Open auctions kept in a [`Snapshot`] (lowest ids first).
pub const AUCTIONS_VIEW_MAX: usize = 64;

/// Blocks between the snapshot and the execution of what a bot decides on it (submission,
/// inclusion): an opening order needs an index still fresh enough by then.
pub const FRESH_MARGIN_BLOCKS: u64 = 2;

const BPS: u128 = 10_000;
const PPB: u128 = 1_000_000_000;

/// One market as a bot sees it. Prices in ticks, sizes in lots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketView {
    /// Its id.
    pub id: MarketId,
    /// Its symbol.
    pub symbol: String,
    /// Effective trading status.
    pub status: MarketStatus,
    /// Index price, once one arrived.
    pub index: Option<u64>,
    /// Blocks since the index last arrived.
    pub index_age_blocks: u64,
    /// Oldest index (in blocks) with which the engine lets a position open or grow.
    pub open_index_age_blocks: u64,
    /// Mark price (zero before the first index).
    pub mark: u64,
    /// Price of one tick in 1e-9 USDC (for display).
    pub tick_size_nano: u64,
    /// Quote atoms per tick-lot.
    pub tick_lot_atoms: u64,
    /// Smallest order size.
    pub qty_min: u64,
    /// Orders further than this fraction (parts per billion) from the index are rejected.
    pub price_band_ppb: u64,
    /// Bids `(price, lots)`, best first, at most [`BOOK_VIEW_LEVELS`].
    pub bids: Vec<(u64, u64)>,
    /// Asks `(price, lots)`, best first, at most [`BOOK_VIEW_LEVELS`].
    pub asks: Vec<(u64, u64)>,
    /// Open interest in lots.
    pub open_interest_lots: u64,
}

impl MarketView {
    /// Whether an order that opens or grows a position, sent now, can be accepted: the market
    /// is active and its index will still be fresh enough when the order executes.
    pub fn can_open(&self) -> bool {
        self.status == MarketStatus::Active
            && self.index.is_some()
            && self.index_age_blocks + FRESH_MARGIN_BLOCKS <= self.open_index_age_blocks
    }

    /// Whether reduce-only orders can trade (active or reduce-only, with an index).
    pub fn can_reduce(&self) -> bool {
        matches!(self.status, MarketStatus::Active | MarketStatus::ReduceOnly)
            && self.index.is_some()
    }

    /// The prices the engine accepts now: `[index − w, index + w]` (lowest price 1 tick).
    pub fn band(&self) -> Option<(u64, u64)> {
        let index = self.index?;
        let w = u128::from(index) * u128::from(self.price_band_ppb) / PPB;
        let w = u64::try_from(w).unwrap_or(u64::MAX);
        Some((index.saturating_sub(w).max(1), index.saturating_add(w)))
    }

    /// Whether `price` lies in [`MarketView::band`].
    pub fn in_band(&self, price: u64) -> bool {
        self.band().is_some_and(|(lo, hi)| (lo..=hi).contains(&price))
    }

    /// `price` moved into the band (`None` without an index).
    pub fn clamp_to_band(&self, price: u64) -> Option<u64> {
        self.band().map(|(lo, hi)| price.clamp(lo, hi))
    }

    /// `b` basis points of the index in ticks, at least one tick.
    pub fn bps_ticks(&self, bps: u32) -> u64 {
        let index = u128::from(self.index.unwrap_or(0));
        u64::try_from(index * u128::from(bps) / BPS).unwrap_or(u64::MAX).max(1)
    }

    /// Quote atoms of one lot at the index (zero without an index).
    pub fn lot_value(&self) -> i128 {
        i128::from(self.index.unwrap_or(0)) * i128::from(self.tick_lot_atoms)
    }

    /// The lots worth about `notional` at the index: at least `qty_min`, zero for a
    /// non-positive notional or without an index.
    pub fn lots_for(&self, notional: Quote) -> u64 {
        let lot = self.lot_value();
        if notional.0 <= 0 || lot <= 0 {
            return 0;
        }
        u64::try_from(notional.0 / lot).unwrap_or(u64::MAX).max(self.qty_min)
    }

    /// The notional of `lots` at the index.
    pub fn notional_of(&self, lots: u64) -> Quote {
        Quote(self.lot_value().saturating_mul(i128::from(lots)))
    }

    /// Best bid price.
    pub fn best_bid(&self) -> Option<u64> {
        self.bids.first().map(|l| l.0)
    }

    /// Best ask price.
    pub fn best_ask(&self) -> Option<u64> {
        self.asks.first().map(|l| l.0)
    }

    /// Mid price, when both sides quote.
    pub fn mid(&self) -> Option<u64> {
        Some((self.best_bid()? + self.best_ask()?) / 2)
    }

    /// Best ask minus best bid, when both sides quote.
    pub fn spread_ticks(&self) -> Option<u64> {
        Some(self.best_ask()?.saturating_sub(self.best_bid()?))
    }
}

/// A position of a bot's cross bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionView {
    /// The market.
    pub market: MarketId,
    /// Signed size in lots (long positive).
    pub size: i64,
    /// Cost basis, quote atoms.
    pub entry_notional: Quote,
}

/// A resting order of a bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnOrder {
    /// The market.
    pub market: MarketId,
    /// Order id.
    pub id: OrderId,
    /// Side.
    pub side: Side,
    /// Price in ticks.
    pub price: u64,
    /// Remaining lots.
    pub qty: u64,
}

/// A bot's own account (subaccount 0, cross margin), or the default (`id: None`) before its
/// first deposit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountView {
    /// The engine's account id, once the account exists.
    pub id: Option<AccountId>,
    /// Equity at mark.
    pub equity: Quote,
    /// Initial margin (resting orders on their worst side).
    pub initial: Quote,
    /// Maintenance margin.
    pub maintenance: Quote,
    /// Non-zero positions, by market.
    pub positions: Vec<PositionView>,
    /// Resting orders, by (market, id), at most [`ORDERS_VIEW_MAX`].
    pub orders: Vec<OwnOrder>,
    /// Whether the cross bucket is in the liquidation waterfall.
    pub in_liquidation: bool,
}

impl AccountView {
    /// Whether the account exists (it received a deposit).
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Signed position in `market` (zero when flat).
    pub fn position(&self, market: MarketId) -> i64 {
        self.positions.iter().find(|p| p.market == market).map_or(0, |p| p.size)
    }

    /// Whether the account holds no position anywhere.
    pub fn is_flat(&self) -> bool {
        self.positions.is_empty()
    }

    /// Resting orders in `market`.
    pub fn orders_in(&self, market: MarketId) -> impl Iterator<Item = &OwnOrder> + '_ {
        self.orders.iter().filter(move |o| o.market == market)
    }

    /// Resting lots in `market`, both sides.
    pub fn resting_lots(&self, market: MarketId) -> u64 {
        self.orders_in(market).map(|o| o.qty).sum()
    }
}

/// An open takeover auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionView {
    /// Its id.
    pub id: AuctionId,
    /// The account whose position is offered.
    pub account: AccountId,
    /// The market.
    pub market: MarketId,
    /// The offered position's side (`Buy`: a long, the bidder buys it).
    pub side: Side,
    /// Lots offered.
    pub qty: u64,
    /// Its price at the snapshot's height.
    pub price: u64,
    /// Its final (bankruptcy) price.
    pub end: u64,
}

/// Everything the bots see after one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Height of the block.
    pub height: u64,
    /// Its time.
    pub time_ms: u64,
    /// Every market, by id.
    pub markets: Vec<MarketView>,
    /// Each bot's account, aligned with the addresses given to [`Snapshot::capture`].
    pub accounts: Vec<AccountView>,
    /// Open auctions, ascending by id, at most [`AUCTIONS_VIEW_MAX`].
    pub auctions: Vec<AuctionView>,
}

impl Snapshot {
    /// The view of `engine` for the bots at `addresses` (subaccount 0 each).
    pub fn capture(engine: &Engine, addresses: &[Address]) -> Snapshot {
        let now = engine.now();
        let markets = engine
            .markets()
            .iter()
            .map(|m| {
                let levels = |side| {
                    m.book
                        .depth(side, BOOK_VIEW_LEVELS)
                        .into_iter()
                        .map(|l| (l.price.0, l.qty.0))
                        .collect::<Vec<_>>()
                };
                MarketView {
                    id: m.id,
                    symbol: m.params.symbol.clone(),
                    status: m.status,
                    index: m.index.map(|p| p.0),
                    index_age_blocks: now.height.saturating_sub(m.index_height),
                    open_index_age_blocks: m.params.breaker.open_index_age_blocks,
                    mark: m.mark.0,
                    tick_size_nano: m.params.tick_size_nano,
                    tick_lot_atoms: m.params.contract.quote_atoms_per_tick_lot(),
                    qty_min: m.params.qty_min.0,
                    price_band_ppb: m.params.price_band.ppb().unsigned_abs(),
                    bids: levels(Side::Buy),
                    asks: levels(Side::Sell),
                    open_interest_lots: m.long_lots,
                }
            })
            .collect();
        let accounts = addresses.iter().map(|a| account_view(engine, *a)).collect();
        let auctions = engine
            .auctions()
            .take(AUCTIONS_VIEW_MAX)
            .map(|(id, a)| AuctionView {
                id: *id,
                account: a.account,
                market: a.market,
                side: a.side,
                qty: a.qty.0,
                price: a.price_at(now.height).0,
                end: a.schedule.end.0,
            })
            .collect();
        Snapshot { height: now.height, time_ms: now.time_ms, markets, accounts, auctions }
    }

    /// A market by id.
    pub fn market(&self, id: MarketId) -> Option<&MarketView> {
        self.markets.get(usize::from(id.0))
    }
}

fn account_view(engine: &Engine, owner: Address) -> AccountView {
    let Some(id) = engine.account_id(owner, 0) else { return AccountView::default() };
    let Some(snap) = engine.account_snapshot(id) else { return AccountView::default() };
    let value = engine.valuation(id, BucketId::Cross).unwrap_or_default();
    AccountView {
        id: Some(id),
        equity: value.equity,
        initial: value.initial,
        maintenance: value.maintenance,
        positions: snap
            .cross
            .legs
            .iter()
            .filter(|l| l.size != 0)
            .map(|l| PositionView {
                market: l.market,
                size: l.size,
                entry_notional: l.entry_notional,
            })
            .collect(),
        orders: snap
            .orders
            .iter()
            .take(ORDERS_VIEW_MAX)
            .map(|o| OwnOrder {
                market: o.market,
                id: o.id,
                side: o.side,
                price: o.price.0,
                qty: o.remaining.0,
            })
            .collect(),
        in_liquidation: snap.liquidating.iter().any(|l| l.bucket == BucketId::Cross),
    }
}

/// A BTC-PERP view at $100,000 for unit tests: ticks of $0.1, lots of 0.001, band 10 %.
#[cfg(test)]
pub(crate) fn test_market() -> MarketView {
    MarketView {
        id: MarketId(0),
        symbol: "BTC-PERP".into(),
        status: MarketStatus::Active,
        index: Some(1_000_000),
        index_age_blocks: 0,
        open_index_age_blocks: 5,
        mark: 1_000_000,
        tick_size_nano: 100_000_000,
        tick_lot_atoms: 100,
        qty_min: 1,
        price_band_ppb: 100_000_000,
        bids: vec![(999_990, 3)],
        asks: vec![(1_000_010, 4)],
        open_interest_lots: 0,
    }
}

/// An existing account with `equity` dollars and a position of `size` lots in market 0.
#[cfg(test)]
pub(crate) fn test_account(equity_usd: i128, size: i64) -> AccountView {
    AccountView {
        id: Some(AccountId(7)),
        equity: Quote(equity_usd * 1_000_000),
        positions: if size == 0 {
            Vec::new()
        } else {
            vec![PositionView { market: MarketId(0), size, entry_notional: Quote::ZERO }]
        },
        ..AccountView::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> MarketView {
        test_market()
    }

    #[test]
    fn unit_helpers_follow_the_engine_units() {
        let m = btc();
        // $100,000 at $0.1 ticks; one lot of 0.001 BTC is worth $100.
        assert_eq!(m.lot_value(), 100_000_000);
        assert_eq!(m.lots_for(Quote(1_000 * 1_000_000)), 10);
        assert_eq!(m.lots_for(Quote(1)), 1, "at least qty_min");
        assert_eq!(m.lots_for(Quote(0)), 0);
        assert_eq!(m.bps_ticks(10), 1_000);
        assert_eq!(m.bps_ticks(0), 1, "at least one tick");
        assert_eq!(m.band(), Some((900_000, 1_100_000)));
        assert!(m.in_band(1_100_000) && !m.in_band(1_100_001));
        assert_eq!(m.clamp_to_band(2_000_000), Some(1_100_000));
        assert_eq!(m.mid(), Some(1_000_000));
        assert_eq!(m.spread_ticks(), Some(20));
        assert!(m.can_open());
        let stale = MarketView { index_age_blocks: 4, ..btc() };
        assert!(!stale.can_open(), "too old by the time an order executes");
        let reduce = MarketView { status: MarketStatus::ReduceOnly, ..btc() };
        assert!(!reduce.can_open() && reduce.can_reduce());
    }
}
