//! REST request and response bodies (`/v1/...`).
//!
//! Conventions: integer units carry their unit in the name (`_ticks`, `_lots`, `_atoms`,
//! `_ppb`, `_ms`); `i128` amounts (`_atoms`) are decimal strings so that no JSON parser loses
//! precision; the field without a unit suffix is the same value as a human decimal string
//! (`price`, `qty`, `balance`, see [`crate::units`]). Addresses and hashes are lower-case hex
//! without `0x`. Lists that are histories are newest first unless their doc says otherwise.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A side of the book or of a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bid / long.
    Buy,
    /// Ask / short.
    Sell,
}

/// A market's trading status (its circuit breaker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarketStatus {
    /// Everything allowed.
    Active,
    /// Only post-only orders and cancels.
    PostOnly,
    /// Only orders that reduce positions, and cancels.
    ReduceOnly,
    /// Only cancels.
    CancelOnly,
    /// Nothing.
    Halted,
}

/// Cross or isolated margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarginMode {
    /// The account's shared cross-margin bucket.
    Cross,
    /// A position margined on its own.
    Isolated,
}

/// One row of a market's margin tiers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarginTier {
    /// Lowest position notional this row applies to, quote atoms.
    pub notional_lower_atoms: String,
    /// The same in USDC.
    pub notional_lower: String,
    /// Initial margin fraction, parts per billion.
    pub initial_ppb: i64,
    /// Maintenance margin fraction, parts per billion.
    pub maintenance_ppb: i64,
}

/// A market with its parameters and current prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Market {
    /// Market id (routes accept the id or the symbol).
    pub id: u16,
    /// Symbol, e.g. `BTC-PERP`.
    pub symbol: String,
    /// `perpetual` (dated futures and options later).
    pub instrument: String,
    /// Trading status.
    pub status: MarketStatus,
    /// Price of one tick in 10^-9 USDC.
    pub tick_size_nano: u64,
    /// Price of one tick, decimal (round prices to a multiple of this).
    pub tick_size: String,
    /// One lot in 10^-9 base units.
    pub lot_size_nano: u64,
    /// One lot, decimal (round sizes to a multiple of this).
    pub lot_size: String,
    /// Smallest order, lots.
    pub qty_min_lots: u64,
    /// Smallest order, decimal.
    pub qty_min: String,
    /// Maker fee (negative: rebate), parts per billion of notional.
    pub maker_fee_ppb: i64,
    /// Taker fee, parts per billion of notional.
    pub taker_fee_ppb: i64,
    /// Orders priced further than this from the index are rejected, parts per billion.
    pub price_band_ppb: i64,
    /// Length of a funding interval (perpetuals).
    pub funding_interval_ms: Option<u64>,
    /// Cap on the market's long open interest notional, quote atoms.
    pub oi_notional_max_atoms: String,
    /// Cap on one account's position notional, quote atoms.
    pub account_oi_notional_max_atoms: String,
    /// Margin tiers by position notional.
    pub tiers: Vec<MarginTier>,
    /// Mark price, ticks (zero before the first index).
    pub mark_ticks: u64,
    /// Mark price, decimal.
    pub mark: String,
    /// Index price, ticks.
    pub index_ticks: Option<u64>,
    /// Index price, decimal.
    pub index: Option<String>,
    /// Open interest (long = short), lots.
    pub open_interest_lots: u64,
    /// Open interest, decimal base units.
    pub open_interest: String,
    /// Rate of the last funding interval, parts per billion.
    pub funding_last_ppb: i64,
    /// Rate the current interval would pay if it ended now, parts per billion.
    pub funding_predicted_ppb: i64,
}

/// `GET /v1/markets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarketsResponse {
    /// Height of the state read.
    pub height: u64,
    /// Every market, by id.
    pub markets: Vec<Market>,
}

/// One price level of an L2 book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BookLevel {
    /// Price, ticks.
    pub price_ticks: u64,
    /// Total resting size at this price, lots (zero in a delta: the level is gone).
    pub qty_lots: u64,
    /// Price, decimal.
    pub price: String,
    /// Size, decimal.
    pub qty: String,
}

/// `GET /v1/markets/{market}/book`: the L2 book after block `height`, which the WebSocket book
/// channel numbers `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Book {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Height of the block after which the book is shown.
    pub height: u64,
    /// The market's book sequence number at that height (see the WebSocket book channel).
    pub seq: u64,
    /// Bids, best (highest) first.
    pub bids: Vec<BookLevel>,
    /// Asks, best (lowest) first.
    pub asks: Vec<BookLevel>,
}

/// A trade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Trade {
    /// Market id.
    pub market: u16,
    /// Trade number within the market (consecutive from the node's start).
    pub id: u64,
    /// Height of its block.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// Price, ticks (the maker's price).
    pub price_ticks: u64,
    /// Price, decimal.
    pub price: String,
    /// Size, lots.
    pub qty_lots: u64,
    /// Size, decimal.
    pub qty: String,
    /// The taker's side.
    pub taker_side: Side,
    /// The resting order's id.
    pub maker_order_id: u64,
    /// The incoming order's id.
    pub taker_order_id: u64,
}

/// `GET /v1/markets/{market}/trades`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TradesResponse {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Newest first.
    pub trades: Vec<Trade>,
}

/// A candle interval.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Interval {
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// Four hours.
    #[serde(rename = "4h")]
    H4,
    /// One day (UTC).
    #[serde(rename = "1d")]
    D1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 6] =
        [Interval::M1, Interval::M5, Interval::M15, Interval::H1, Interval::H4, Interval::D1];

    /// Its length.
    pub const fn ms(self) -> u64 {
        match self {
            Interval::M1 => 60_000,
            Interval::M5 => 300_000,
            Interval::M15 => 900_000,
            Interval::H1 => 3_600_000,
            Interval::H4 => 14_400_000,
            Interval::D1 => 86_400_000,
        }
    }

    /// Its wire name (`1m`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::M1 => "1m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::H1 => "1h",
            Interval::H4 => "4h",
            Interval::D1 => "1d",
        }
    }

    /// The interval named `name`.
    pub fn parse(name: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == name)
    }
}

/// An OHLCV candle built from trades, by block time. A candle exists only for intervals with at
/// least one trade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Candle {
    /// Market id.
    pub market: u16,
    /// Its interval.
    pub interval: Interval,
    /// Start of the interval (a multiple of its length since the epoch).
    pub open_time_ms: u64,
    /// First trade price, ticks.
    pub open_ticks: u64,
    /// Highest trade price, ticks.
    pub high_ticks: u64,
    /// Lowest trade price, ticks.
    pub low_ticks: u64,
    /// Last trade price, ticks.
    pub close_ticks: u64,
    /// Open, decimal.
    pub open: String,
    /// High, decimal.
    pub high: String,
    /// Low, decimal.
    pub low: String,
    /// Close, decimal.
    pub close: String,
    /// Traded size, lots.
    pub volume_lots: u64,
    /// Traded size, decimal base units.
    pub volume: String,
    /// Number of trades.
    pub trades: u64,
}

/// `GET /v1/markets/{market}/candles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CandlesResponse {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// The interval.
    pub interval: Interval,
    /// Oldest first; the last may still be open.
    pub candles: Vec<Candle>,
}

/// One paid funding interval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FundingPoint {
    /// Height of the block that ended the interval.
    pub height: u64,
    /// Its block time.
    pub time_ms: u64,
    /// Rate paid by longs to shorts (negative: shorts pay), parts per billion of notional.
    pub rate_ppb: i64,
    /// The same as a decimal fraction.
    pub rate: String,
    /// Mark price at the time, ticks.
    pub mark_ticks: u64,
    /// Index price at the time, ticks.
    pub index_ticks: Option<u64>,
}

/// `GET /v1/markets/{market}/funding`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FundingResponse {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Height of the state read.
    pub height: u64,
    /// Funding interval length.
    pub interval_ms: Option<u64>,
    /// Rate of the last interval, parts per billion.
    pub last_rate_ppb: i64,
    /// Rate the current interval would pay if it ended now, parts per billion.
    pub predicted_rate_ppb: i64,
    /// Block time of the last funding accrual.
    pub last_funding_ms: Option<u64>,
    /// Paid intervals seen since the node started, newest first.
    pub history: Vec<FundingPoint>,
}

/// `GET /v1/markets/{market}/open-interest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenInterest {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Height of the state read.
    pub height: u64,
    /// Open interest (long = short), lots.
    pub open_interest_lots: u64,
    /// Open interest, decimal base units.
    pub open_interest: String,
    /// Notional at mark, quote atoms.
    pub notional_atoms: String,
    /// Notional at mark, USDC.
    pub notional: String,
}

/// `GET /v1/markets/{market}/prices`: mark and index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Prices {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Height of the state read.
    pub height: u64,
    /// Mark price, ticks.
    pub mark_ticks: u64,
    /// Mark price, decimal.
    pub mark: String,
    /// Index price, ticks.
    pub index_ticks: Option<u64>,
    /// Index price, decimal.
    pub index: Option<String>,
    /// Height of the block that brought the index.
    pub index_height: u64,
}

/// One market's insurance fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InsuranceFund {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Balance, quote atoms.
    pub balance_atoms: String,
    /// Balance, USDC.
    pub balance: String,
}

/// `GET /v1/insurance`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InsuranceResponse {
    /// Height of the state read.
    pub height: u64,
    /// Every market's fund.
    pub funds: Vec<InsuranceFund>,
}

/// A step of the liquidation waterfall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiquidationKind {
    /// A bucket fell below maintenance.
    Started,
    /// Step 1: its resting orders were cancelled (`orders`).
    OrdersCancelled,
    /// Step 2: part of a position was closed in the book.
    Closed,
    /// Step 3: a takeover auction opened.
    AuctionOpened,
    /// A keeper took over an auctioned position (the keeper is `address`).
    AuctionWon,
    /// An auction closed without a taker.
    AuctionClosed,
    /// Step 4: the insurance fund took the position at bankruptcy price.
    InsuranceTakeover,
    /// Step 5: a counterparty was deleveraged (`counterparty_*`).
    Deleveraged,
    /// A deficit nothing could absorb.
    UncoveredDeficit,
    /// The bucket left the waterfall.
    Ended,
}

/// One liquidation event. Fields not meaningful for its `kind` are absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Liquidation {
    /// Height of its block.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// What happened.
    pub kind: LiquidationKind,
    /// The account concerned (the liquidated one; the bidder for `auction_won`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Its subaccount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<u16>,
    /// The market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<u16>,
    /// The isolated bucket's market, or absent for the cross bucket (`started`, `ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<MarginMode>,
    /// Side of the position (auctions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Size, lots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_lots: Option<u64>,
    /// Price, ticks (auction start, take-over and deleverage price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ticks: Option<u64>,
    /// Notional, quote atoms (`closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notional_atoms: Option<String>,
    /// Penalty to the insurance fund, quote atoms (`closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty_atoms: Option<String>,
    /// Equity at the start, quote atoms (`started`); the deficit (`uncovered_deficit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_atoms: Option<String>,
    /// Maintenance requirement at the start, quote atoms (`started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_atoms: Option<String>,
    /// Auction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auction: Option<u64>,
    /// Orders cancelled (`orders_cancelled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<u32>,
    /// The deleveraged counterparty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_address: Option<String>,
    /// Its subaccount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_sub: Option<u16>,
}

/// `GET /v1/liquidations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LiquidationsResponse {
    /// Newest first.
    pub liquidations: Vec<Liquidation>,
}

/// One position in the auto-deleveraging queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdlEntry {
    /// Queue position, 0 = deleveraged first.
    pub rank: u32,
    /// Owner.
    pub address: String,
    /// Subaccount.
    pub sub: u16,
    /// Which bucket holds the position.
    pub margin: MarginMode,
    /// Position size, lots.
    pub size_lots: u64,
    /// Whether the bucket is itself being liquidated (ranked after all others).
    pub in_liquidation: bool,
}

/// `GET /v1/markets/{market}/adl`: who would be deleveraged first against a bankrupt short
/// (`longs`) or long (`shorts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdlQueue {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Height of the state read.
    pub height: u64,
    /// Long positions, first deleveraged first.
    pub longs: Vec<AdlEntry>,
    /// Short positions, first deleveraged first.
    pub shorts: Vec<AdlEntry>,
}

/// A position with its valuation at mark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Position {
    /// Market id.
    pub market: u16,
    /// Symbol.
    pub symbol: String,
    /// Cross or isolated.
    pub margin: MarginMode,
    /// Long (`buy`) or short (`sell`); absent when flat.
    pub side: Option<Side>,
    /// Size, lots (unsigned; see `side`).
    pub size_lots: u64,
    /// Size, decimal base units.
    pub size: String,
    /// Cost basis of the open size, quote atoms.
    pub entry_notional_atoms: String,
    /// Average entry price, decimal (entry notional / size); absent when flat.
    pub entry_price: Option<String>,
    /// Mark price, ticks.
    pub mark_ticks: u64,
    /// Mark price, decimal.
    pub mark: String,
    /// Notional at mark, quote atoms.
    pub notional_atoms: String,
    /// Unrealised profit and loss at mark, quote atoms (pending funding included).
    pub unrealized_pnl_atoms: String,
    /// The same in USDC.
    pub unrealized_pnl: String,
    /// Mark price at which the bucket would fall below maintenance, ticks.
    pub liquidation_price_ticks: Option<u64>,
    /// The same, decimal.
    pub liquidation_price: Option<String>,
    /// Initial margin of this position, quote atoms.
    pub initial_margin_atoms: String,
    /// Maintenance margin of this position, quote atoms.
    pub maintenance_margin_atoms: String,
    /// Place in the market's ADL queue (0 = first).
    pub adl_rank: Option<u32>,
    /// Lots resting on the buy side.
    pub open_buy_lots: u64,
    /// Lots resting on the sell side.
    pub open_sell_lots: u64,
}

/// A margin bucket (the cross bucket, or one isolated position).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarginSummary {
    /// Cross or isolated.
    pub margin: MarginMode,
    /// The isolated position's market.
    pub market: Option<u16>,
    /// Cash, quote atoms.
    pub cash_atoms: String,
    /// Equity at mark (cash + unrealised PnL + pending funding), quote atoms.
    pub equity_atoms: String,
    /// Equity, USDC.
    pub equity: String,
    /// Initial margin requirement (positions and resting orders), quote atoms.
    pub initial_margin_atoms: String,
    /// Maintenance requirement, quote atoms.
    pub maintenance_margin_atoms: String,
    /// Notional at mark, quote atoms.
    pub notional_atoms: String,
    /// Maintenance / equity, parts per billion (≥ 1e9: liquidatable); absent with no equity.
    pub margin_usage_ppb: Option<u64>,
    /// Equity above initial margin, quote atoms (may be negative).
    pub free_collateral_atoms: String,
    /// Whether the bucket is in the liquidation waterfall.
    pub liquidating: bool,
}

/// `GET /v1/accounts/{address}/{sub}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// Owner.
    pub address: String,
    /// Subaccount.
    pub sub: u16,
    /// Height of the state read.
    pub height: u64,
    /// Cash of every bucket, quote atoms.
    pub balance_atoms: String,
    /// The same in USDC.
    pub balance: String,
    /// Equity of every bucket, quote atoms.
    pub equity_atoms: String,
    /// The same in USDC.
    pub equity: String,
    /// Unrealised PnL of every position, quote atoms.
    pub unrealized_pnl_atoms: String,
    /// The cross bucket first, then isolated positions by market.
    pub margin: Vec<MarginSummary>,
    /// Open positions.
    pub positions: Vec<Position>,
    /// Resting orders.
    pub open_orders: u32,
}

/// What became of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Accepted; it has not rested nor traded yet.
    Accepted,
    /// Resting in the book, nothing filled.
    Resting,
    /// Some filled; the rest rests.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Left the book unfilled or partly filled (`reason`).
    Cancelled,
    /// Its expiry passed.
    Expired,
    /// Refused by the exchange (`reason`).
    Rejected,
}

/// An order and its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    /// Market id.
    pub market: u16,
    /// Order id (unique within the market).
    pub id: u64,
    /// The trader's client order id.
    pub client_id: Option<u64>,
    /// Owner.
    pub address: Option<String>,
    /// Subaccount.
    pub sub: Option<u16>,
    /// Side.
    pub side: Side,
    /// Limit price, ticks.
    pub price_ticks: u64,
    /// Limit price, decimal.
    pub price: String,
    /// Size when accepted (or last modified), lots.
    pub qty_lots: u64,
    /// Filled so far, lots.
    pub filled_lots: u64,
    /// Still resting, lots.
    pub remaining_lots: u64,
    /// Status.
    pub status: OrderState,
    /// Why it was cancelled or rejected.
    pub reason: Option<String>,
    /// Height when first seen.
    pub created_height: u64,
    /// Height of the last change.
    pub updated_height: u64,
}

/// `GET /v1/accounts/{address}/{sub}/orders`: resting orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrdersResponse {
    /// Owner.
    pub address: String,
    /// Subaccount.
    pub sub: u16,
    /// Height of the state read.
    pub height: u64,
    /// By market, then order id.
    pub orders: Vec<Order>,
}

/// Maker or taker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// The resting order.
    Maker,
    /// The incoming order.
    Taker,
}

/// One side of a trade, as one account saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fill {
    /// Market id.
    pub market: u16,
    /// The trade's number within the market.
    pub trade_id: u64,
    /// Height of its block.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// Owner.
    pub address: String,
    /// Subaccount.
    pub sub: u16,
    /// This account's order.
    pub order_id: u64,
    /// This account's side.
    pub side: Side,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Price, ticks.
    pub price_ticks: u64,
    /// Price, decimal.
    pub price: String,
    /// Size, lots.
    pub qty_lots: u64,
    /// Size, decimal.
    pub qty: String,
    /// Fee paid (negative: rebate), quote atoms.
    pub fee_atoms: String,
}

/// `GET /v1/accounts/{address}/{sub}/fills`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FillsResponse {
    /// Owner.
    pub address: String,
    /// Subaccount.
    pub sub: u16,
    /// Newest first (fills seen since the node started, bounded).
    pub fills: Vec<Fill>,
}

/// `GET /v1/blocks/{height}`, `GET /v1/blocks/latest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Block {
    /// Height.
    pub height: u64,
    /// Digest, hex.
    pub digest: String,
    /// State root after it, hex.
    pub state_root: String,
    /// Parent digest, hex.
    pub parent: String,
    /// Block time.
    pub time_ms: u64,
    /// Its transactions' hashes, in block order.
    pub txs: Vec<String>,
}

/// One action of a transaction. Fields not meaningful for its `kind` are absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    /// `place`, `cancel`, `cancel_by_client_id`, `cancel_all`, `modify`, `withdraw`,
    /// `transfer`, `set_margin_mode`, `adjust_isolated_margin`, `bid_liquidation`,
    /// `approve_agent`, `revoke_agent`, `faucet`.
    pub kind: String,
    /// Subaccount acted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<u16>,
    /// Market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<u16>,
    /// Side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Price, ticks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ticks: Option<u64>,
    /// Size, lots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_lots: Option<u64>,
    /// Time in force (`gtc`, `ioc`, `fok`, `post_only`, `post_only_slide`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tif: Option<String>,
    /// Order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<u64>,
    /// Client order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<u64>,
    /// Amount, quote atoms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_atoms: Option<String>,
    /// Counterparty / agent / recipient address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The result of one action of an executed transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionResultKind {
    /// Applied.
    Done,
    /// An order was placed (`market`, `order_id`).
    OrderPlaced,
    /// Refused (`code`, `reason`); nothing changed.
    Rejected,
}

/// The result of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionResult {
    /// What happened.
    pub result: ActionResultKind,
    /// Market of a placed order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<u16>,
    /// Id of a placed order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<u64>,
    /// Stable numeric rejection code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Human reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether a finalized transaction executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Its actions ran (each has its own result).
    Executed,
    /// Refused as a whole (`code`, `reason`): nonce, agent scope, ...
    Refused,
}

/// What a finalized transaction did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxOutcome {
    /// Executed or refused.
    pub status: OutcomeKind,
    /// Refusal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Refusal reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One result per action, in order (executed only).
    pub actions: Vec<ActionResult>,
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// In the mempool.
    Pending,
    /// In a finalized block (`outcome` says what it did).
    Finalized,
    /// Dropped from the mempool without inclusion (`reason`).
    Dropped,
    /// Not known to this node (never seen, or forgotten).
    Unknown,
}

/// `GET /v1/txs/{hash}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tx {
    /// Hash, hex.
    pub hash: String,
    /// Where it stands.
    pub status: TxState,
    /// Height of its block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its block's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// Signer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The account acted for (the signer, or the master of an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Its actions (when the node still holds the finalized record).
    #[serde(default)]
    pub actions: Vec<ActionView>,
    /// What it did (finalized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TxOutcome>,
    /// Why it was dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The refusal code of a transaction dropped by the replay rules (101..=103, as in a
    /// refused outcome); absent for an expiry or an eviction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// `POST /v1/txs` as JSON (the body may also be the bare hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTx {
    /// The signed transaction's encoding, hex.
    pub tx: String,
}

/// `POST /v1/txs` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// The transaction hash, hex.
    pub hash: String,
    /// `pending` at once; with `wait=true`, `finalized` or `dropped` if that happened in time.
    pub status: TxState,
    /// With `wait=true`, the transaction's record once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<Tx>,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// Chain id.
    pub chain_id: u64,
    /// Height of the last executed block.
    pub height: u64,
    /// Its digest, hex.
    pub digest: Option<String>,
    /// State root, hex.
    pub state_root: Option<String>,
    /// Block time.
    pub time_ms: u64,
    /// Transactions waiting in the mempool.
    pub mempool: u64,
    /// WebSocket connections open.
    pub ws_connections: u64,
    /// WebSocket connections closed since start because the client did not keep up.
    #[serde(default)]
    pub ws_closed_slow_consumer: u64,
    /// WebSocket connections closed since start because the client stayed silent.
    #[serde(default)]
    pub ws_closed_idle: u64,
}

/// Query of `POST /v1/txs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// Wait (a bounded time) for the transaction to be finalized or dropped.
    pub wait: Option<bool>,
    /// How long to wait at most, ms (capped by the server).
    pub timeout_ms: Option<u64>,
}

/// Query with a result count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// How many results at most (capped by the server).
    pub limit: Option<u32>,
}

/// Query of the book route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookQuery {
    /// Levels per side (default and most: 100).
    pub depth: Option<u32>,
}

/// Query of the candles route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandlesQuery {
    /// The interval.
    pub interval: Interval,
    /// How many candles at most, the newest (capped by the server).
    pub limit: Option<u32>,
}

/// Query of the liquidations route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiquidationsQuery {
    /// Only this market (id or symbol).
    pub market: Option<String>,
    /// How many at most (capped by the server).
    pub limit: Option<u32>,
}
