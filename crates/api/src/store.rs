//! The API's read models: in-memory views built from the node's finalized blocks
//! ([`FinalizedBlock`]), pure (no I/O, no clock), so they are unit-tested without a network.
//!
//! [`Store::apply`] takes each finalized block in height order and returns the WebSocket
//! [`Push`]es it produces. The store starts from the node's finalized state when the API starts
//! ([`Store::new`] with the markets' views at that height) and holds only what it saw since:
//! histories (trades, candles, funding, liquidations, blocks, transactions, order status,
//! fills) begin at the node's start.
//!
//! ## What it keeps, and its bounds ([`StoreConfig`], oldest evicted first)
//!
//! | model | key | bound |
//! |---|---|---|
//! | recent trades | market | `trades_per_market_max` |
//! | candles (1m 5m 15m 1h 4h 1d, by block time) | market, interval | `candles_per_interval_max` per interval |
//! | funding history | market | `funding_points_max` |
//! | liquidation events | global ring | `liquidations_max` |
//! | blocks (height, digest, root, time, tx hashes) | height | `blocks_max` |
//! | transactions (actions, outcome) | hash | `txs_max` |
//! | order status | (market, order id) | `orders_max` |
//! | fills | account | `fills_per_account_max` per account, `fill_accounts_max` accounts (least recently filled evicted) |
//! | L2 book (top [`BOOK_VIEW_DEPTH`] levels) + sequence number | market | fixed |
//!
//! ## Book sequence numbers
//!
//! Each market's book has a sequence number `seq`, starting at 0 when the store starts and
//! increased by one for every block that changed the market's top-[`BOOK_VIEW_DEPTH`] L2 view.
//! That block's [`BookDelta`] carries `prev_seq` (= `seq - 1`) and the changed levels: every level
//! whose size changed or that appeared, and every level that left the view with size 0. Applying
//! the delta to the view at `prev_seq` gives the view at `seq` exactly.
//!
//! ## Order status
//!
//! From the book's events: `accepted` (OrderAccepted / Accepted) → `resting` (Resting, nothing
//! filled) or `partially_filled` (some filled, the rest resting) → `filled` (remaining 0), or
//! `cancelled` (with the book's reason: `user`, `self_trade`, `unfilled`, `match_limit`),
//! `expired`, `rejected` (the book's rejection). A modify updates price and size.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use novation_book::{CancelReason, Event as BookEvent};
use novation_chain::executor::Level;
use novation_chain::published::{FinalizedBlock, MarketView, TxRecord, BOOK_VIEW_DEPTH};
use novation_chain::state::{ActionOutcome, TxOutcome};
use novation_chain::tx::TxAction;
use novation_engine::{BucketId, Event};
use novation_types::{AccountId, Address, Quote};
use novation_wire::rest::{self as w, Interval};
use novation_wire::ws::{channel_key, BookDelta, BookSnapshot, ChannelKind, ServerMessage};

use crate::convert::{self, hex, MarketMeta};

/// Bounds of the read models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Recent trades kept per market.
    pub trades_per_market_max: usize,
    /// Candles kept per market and interval.
    pub candles_per_interval_max: usize,
    /// Funding points kept per market.
    pub funding_points_max: usize,
    /// Liquidation events kept.
    pub liquidations_max: usize,
    /// Blocks kept.
    pub blocks_max: usize,
    /// Transactions kept (by hash).
    pub txs_max: usize,
    /// Order statuses kept.
    pub orders_max: usize,
    /// Accounts whose fills are kept.
    pub fill_accounts_max: usize,
    /// Fills kept per account.
    pub fills_per_account_max: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            trades_per_market_max: 1_000,
            candles_per_interval_max: 1_000,
            funding_points_max: 1_000,
            liquidations_max: 1_000,
            blocks_max: 1_000,
            txs_max: 20_000,
            orders_max: 100_000,
            fill_accounts_max: 4_096,
            fills_per_account_max: 100,
        }
    }
}

/// An account as the API names it.
pub type AccountKey = (Address, u16);

/// What a WebSocket subscription listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// A market's book deltas.
    Book(u16),
    /// A market's trades.
    Trades(u16),
    /// A market's candles at one interval.
    Candles(u16, Interval),
    /// An account's order updates.
    Orders(AccountKey),
    /// An account's fills.
    Fills(AccountKey),
    /// An account's positions.
    Positions(AccountKey),
    /// Every liquidation event.
    Liquidations,
    /// Every block.
    Blocks,
}

/// One WebSocket message for the subscribers of `topic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// Who receives it.
    pub topic: Topic,
    /// The book sequence number of a delta (subscribers skip deltas their snapshot covers).
    pub seq: Option<u64>,
    /// The message.
    pub message: ServerMessage,
}

/// What applying one block produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The block's height.
    pub height: u64,
    /// Messages, in order.
    pub pushes: Vec<Push>,
    /// Positions that may have changed (fills, liquidations, deleveraging): the account and
    /// the market, or `None` when the event does not say which (every position of the account).
    pub positions: BTreeSet<(AccountKey, Option<u16>)>,
}

/// A map that forgets its oldest insertions beyond `max` entries.
#[derive(Debug)]
struct Bounded<K, V> {
    map: BTreeMap<K, V>,
    order: VecDeque<K>,
    max: usize,
}

impl<K: Ord + Clone, V> Bounded<K, V> {
    fn new(max: usize) -> Self {
        Bounded { map: BTreeMap::new(), order: VecDeque::new(), max: max.max(1) }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.max {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Fills per account, the least recently filled account evicted first.
#[derive(Debug)]
struct Fills {
    per_account: usize,
    accounts_max: usize,
    clock: u64,
    by_account: BTreeMap<AccountKey, (u64, VecDeque<w::Fill>)>,
    recency: BTreeMap<u64, AccountKey>,
}

impl Fills {
    fn push(&mut self, key: AccountKey, fill: w::Fill) {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.by_account.entry(key).or_insert_with(|| (0, VecDeque::new()));
        self.recency.remove(&entry.0);
        entry.0 = clock;
        entry.1.push_front(fill);
        entry.1.truncate(self.per_account.max(1));
        self.recency.insert(clock, key);
        while self.by_account.len() > self.accounts_max.max(1) {
            let Some((_, old)) = self.recency.pop_first() else { break };
            self.by_account.remove(&old);
        }
    }
}

/// A market's book view with its sequence number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookState {
    /// Sequence number (see the module doc).
    pub seq: u64,
    /// Height of the block the view is from.
    pub height: u64,
    /// Bids, best first (price ticks, lots).
    pub bids: Vec<(u64, u64)>,
    /// Asks, best first.
    pub asks: Vec<(u64, u64)>,
}

fn levels(v: &[Level]) -> Vec<(u64, u64)> {
    v.iter().take(BOOK_VIEW_DEPTH).map(|(p, q)| (p.0, *q)).collect()
}

/// The changed levels from `old` to `new` (one side), in `new`'s order then removals.
pub fn side_delta(old: &[(u64, u64)], new: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let before: BTreeMap<u64, u64> = old.iter().copied().collect();
    let after: BTreeMap<u64, u64> = new.iter().copied().collect();
    let mut out: Vec<(u64, u64)> =
        new.iter().filter(|(p, q)| before.get(p) != Some(q)).copied().collect();
    out.extend(old.iter().filter(|(p, _)| !after.contains_key(p)).map(|(p, _)| (*p, 0)));
    out
}

/// Applies a side's delta to a view (used by clients; here for tests and the SDK's reference):
/// `descending` for bids.
pub fn apply_side(view: &[(u64, u64)], delta: &[(u64, u64)], descending: bool) -> Vec<(u64, u64)> {
    let mut m: BTreeMap<u64, u64> = view.iter().copied().collect();
    for &(p, q) in delta {
        if q == 0 {
            m.remove(&p);
        } else {
            m.insert(p, q);
        }
    }
    let mut v: Vec<(u64, u64)> = m.into_iter().collect();
    if descending {
        v.reverse();
    }
    v
}

#[derive(Debug)]
struct MarketState {
    meta: MarketMeta,
    view: Option<MarketView>,
    book: BookState,
    trades: VecDeque<w::Trade>,
    next_trade_id: u64,
    candles: Vec<VecDeque<w::Candle>>,
    funding: VecDeque<w::FundingPoint>,
}

/// An order's status with its owner.
#[derive(Clone, Debug)]
struct OrderRecord {
    owner: Option<AccountKey>,
    order: w::Order,
}

/// The read models.
#[derive(Debug)]
pub struct Store {
    cfg: StoreConfig,
    height: u64,
    time_ms: u64,
    markets: Vec<MarketState>,
    liquidations: VecDeque<w::Liquidation>,
    blocks: VecDeque<w::Block>,
    txs: Bounded<[u8; 32], w::Tx>,
    orders: Bounded<(u16, u64), OrderRecord>,
    fills: Fills,
}

/// A market's starting point: its meta, and its view at the store's start (if the node has
/// executed a block).
#[derive(Clone, Debug)]
pub struct MarketStart {
    /// Formatting data.
    pub meta: MarketMeta,
    /// The view at the start.
    pub view: Option<MarketView>,
}

impl Store {
    /// A store starting at `height` with these markets (by id, in order).
    pub fn new(cfg: StoreConfig, height: u64, time_ms: u64, markets: Vec<MarketStart>) -> Self {
        let markets = markets
            .into_iter()
            .map(|s| {
                let book = match &s.view {
                    Some(v) => {
                        BookState { seq: 0, height, bids: levels(&v.bids), asks: levels(&v.asks) }
                    }
                    None => BookState { height, ..BookState::default() },
                };
                MarketState {
                    meta: s.meta,
                    view: s.view,
                    book,
                    trades: VecDeque::new(),
                    next_trade_id: 1,
                    candles: Interval::ALL.iter().map(|_| VecDeque::new()).collect(),
                    funding: VecDeque::new(),
                }
            })
            .collect();
        Store {
            cfg,
            height,
            time_ms,
            markets,
            liquidations: VecDeque::new(),
            blocks: VecDeque::new(),
            txs: Bounded::new(cfg.txs_max),
            orders: Bounded::new(cfg.orders_max),
            fills: Fills {
                per_account: cfg.fills_per_account_max,
                accounts_max: cfg.fill_accounts_max,
                clock: 0,
                by_account: BTreeMap::new(),
                recency: BTreeMap::new(),
            },
        }
    }

    /// Height of the last block applied (or of the start).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Block time of the last block applied.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }

    /// The markets' formatting data, by id.
    pub fn metas(&self) -> impl Iterator<Item = &MarketMeta> {
        self.markets.iter().map(|m| &m.meta)
    }

    /// The market with this id (decimal) or symbol (case-insensitive).
    pub fn resolve_market(&self, name: &str) -> Option<u16> {
        if let Ok(id) = name.parse::<u16>() {
            return (usize::from(id) < self.markets.len()).then_some(id);
        }
        self.markets.iter().find(|m| m.meta.symbol.eq_ignore_ascii_case(name)).map(|m| m.meta.id)
    }

    fn market(&self, id: u16) -> Option<&MarketState> {
        self.markets.get(usize::from(id))
    }

    /// A market's formatting data.
    pub fn meta(&self, id: u16) -> Option<&MarketMeta> {
        self.market(id).map(|m| &m.meta)
    }

    /// A market's view after the last block.
    pub fn view(&self, id: u16) -> Option<&MarketView> {
        self.market(id)?.view.as_ref()
    }

    /// A market's book state.
    pub fn book(&self, id: u16) -> Option<&BookState> {
        self.market(id).map(|m| &m.book)
    }

    /// The wire book of a market, `depth` levels per side.
    pub fn book_wire(&self, id: u16, depth: usize) -> Option<w::Book> {
        let m = self.market(id)?;
        let side = |v: &[(u64, u64)]| {
            v.iter().take(depth).map(|&(p, q)| m.meta.level(p, q)).collect::<Vec<_>>()
        };
        Some(w::Book {
            market: id,
            symbol: m.meta.symbol.clone(),
            height: m.book.height,
            seq: m.book.seq,
            bids: side(&m.book.bids),
            asks: side(&m.book.asks),
        })
    }

    /// The book channel's snapshot message of a market.
    pub fn book_snapshot(&self, id: u16) -> Option<ServerMessage> {
        let b = self.book_wire(id, BOOK_VIEW_DEPTH)?;
        Some(ServerMessage::Snapshot(BookSnapshot {
            channel: channel_key(ChannelKind::Book, Some(&b.symbol), None, None),
            market: id,
            seq: b.seq,
            height: b.height,
            bids: b.bids,
            asks: b.asks,
        }))
    }

    /// Recent trades, newest first.
    pub fn trades(&self, id: u16, limit: usize) -> Option<Vec<w::Trade>> {
        Some(self.market(id)?.trades.iter().rev().take(limit).cloned().collect())
    }

    /// The newest `limit` candles, oldest first.
    pub fn candles(&self, id: u16, interval: Interval, limit: usize) -> Option<Vec<w::Candle>> {
        let c = self.market(id)?.candles.get(interval_index(interval))?;
        Some(c.iter().skip(c.len().saturating_sub(limit)).cloned().collect())
    }

    /// Funding history, newest first.
    pub fn funding(&self, id: u16, limit: usize) -> Option<Vec<w::FundingPoint>> {
        Some(self.market(id)?.funding.iter().rev().take(limit).cloned().collect())
    }

    /// Liquidation events, newest first, optionally of one market.
    pub fn liquidations(&self, market: Option<u16>, limit: usize) -> Vec<w::Liquidation> {
        self.liquidations
            .iter()
            .rev()
            .filter(|l| market.is_none() || l.market == market)
            .take(limit)
            .cloned()
            .collect()
    }

    /// A recent block.
    pub fn block(&self, height: u64) -> Option<&w::Block> {
        let first = self.blocks.front()?.height;
        let b = self.blocks.get(usize::try_from(height.checked_sub(first)?).ok()?)?;
        (b.height == height)
            .then_some(b)
            .or_else(|| self.blocks.iter().find(|b| b.height == height))
    }

    /// The newest block seen.
    pub fn latest_block(&self) -> Option<&w::Block> {
        self.blocks.back()
    }

    /// A transaction of a recent block.
    pub fn tx(&self, hash: &[u8; 32]) -> Option<&w::Tx> {
        self.txs.get(hash)
    }

    /// An order's status.
    pub fn order(&self, market: u16, id: u64) -> Option<&w::Order> {
        self.orders.get(&(market, id)).map(|r| &r.order)
    }

    /// An account's fills, newest first.
    pub fn fills(&self, key: &AccountKey, limit: usize) -> Vec<w::Fill> {
        self.fills
            .by_account
            .get(key)
            .map(|(_, f)| f.iter().take(limit).cloned().collect())
            .unwrap_or_default()
    }

    /// Sizes of the bounded collections (for tests and metrics): (txs, orders, fill accounts).
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.txs.len(), self.orders.len(), self.fills.by_account.len())
    }

    /// Takes in the next finalized block; returns the pushes it produces.
    pub fn apply(&mut self, b: &FinalizedBlock) -> Applied {
        let mut cx = BlockCx::new(b);
        self.height = b.height;
        self.time_ms = b.time_ms;
        for t in &b.txs {
            self.record_tx(b, t, &mut cx);
        }
        for e in &b.events {
            self.event(e, &mut cx);
        }
        self.flush_fills(&mut cx);
        self.flush_orders(&mut cx);
        self.flush_candles(&mut cx);
        for v in &b.markets {
            self.market_view(v, &mut cx);
        }
        self.record_block(b, &mut cx);
        Applied { height: b.height, pushes: cx.pushes, positions: cx.positions }
    }

    fn record_tx(&mut self, b: &FinalizedBlock, t: &TxRecord, cx: &mut BlockCx) {
        if let TxOutcome::Executed { actions } = &t.outcome {
            for (a, o) in t.actions.iter().zip(actions) {
                if let (TxAction::Place(req), ActionOutcome::OrderPlaced { market, id }) = (a, o) {
                    cx.placed.insert((market.0, id.0), (req.client_id.map(|c| c.0), req.qty.0));
                }
            }
        }
        let tx = w::Tx {
            hash: hex(&t.hash),
            status: w::TxState::Finalized,
            height: Some(b.height),
            time_ms: Some(b.time_ms),
            signer: Some(hex(&t.signer.0)),
            principal: Some(hex(&t.principal.0)),
            nonce: Some(t.nonce),
            actions: t.actions.iter().map(convert::action).collect(),
            outcome: Some(convert::outcome(&t.outcome)),
            reason: None,
            code: None,
        };
        self.txs.insert(t.hash, tx);
    }

    fn record_block(&mut self, b: &FinalizedBlock, cx: &mut BlockCx) {
        let block = w::Block {
            height: b.height,
            digest: b.digest.to_string(),
            state_root: b.state_root.to_string(),
            parent: b.parent.to_string(),
            time_ms: b.time_ms,
            txs: b.txs.iter().map(|t| hex(&t.hash)).collect(),
        };
        self.blocks.push_back(block.clone());
        while self.blocks.len() > self.cfg.blocks_max.max(1) {
            self.blocks.pop_front();
        }
        cx.pushes.push(Push {
            topic: Topic::Blocks,
            seq: None,
            message: ServerMessage::Block {
                channel: ChannelKind::Blocks.as_str().into(),
                data: block,
            },
        });
    }

    fn event(&mut self, e: &Event, cx: &mut BlockCx) {
        match e {
            Event::OrderAccepted { market, id, account, .. } => {
                let owner = cx.owner(*account);
                self.order_touch(cx, market.0, id.0, |o| o.owner = owner.or(o.owner));
            }
            Event::Book { market, event } => self.book_event(market.0, event, cx),
            Event::Fees { market, maker_fee, taker_fee } => {
                cx.pending_fees = Some((market.0, *maker_fee, *taker_fee));
            }
            Event::Funding { market, rate, .. } => {
                let view = cx.block.markets.iter().find(|v| v.id == *market);
                let point = w::FundingPoint {
                    height: cx.block.height,
                    time_ms: cx.block.time_ms,
                    rate_ppb: rate.ppb(),
                    rate: novation_wire::units::ppb_to_decimal(rate.ppb()),
                    mark_ticks: view.map(|v| v.mark.0).unwrap_or(0),
                    index_ticks: view.and_then(|v| v.index.map(|i| i.0)),
                };
                let max = self.cfg.funding_points_max.max(1);
                if let Some(m) = self.markets.get_mut(usize::from(market.0)) {
                    m.funding.push_back(point);
                    while m.funding.len() > max {
                        m.funding.pop_front();
                    }
                }
            }
            _ => {
                if let Some(l) = self.liquidation(e, cx) {
                    self.liquidations.push_back(l.clone());
                    while self.liquidations.len() > self.cfg.liquidations_max.max(1) {
                        self.liquidations.pop_front();
                    }
                    cx.pushes.push(Push {
                        topic: Topic::Liquidations,
                        seq: None,
                        message: ServerMessage::Liquidation {
                            channel: ChannelKind::Liquidations.as_str().into(),
                            data: l,
                        },
                    });
                }
            }
        }
    }

    fn liquidation(&self, e: &Event, cx: &mut BlockCx) -> Option<w::Liquidation> {
        use w::LiquidationKind as K;
        let mut l = w::Liquidation {
            height: cx.block.height,
            time_ms: cx.block.time_ms,
            kind: K::Started,
            address: None,
            sub: None,
            market: None,
            margin: None,
            side: None,
            qty_lots: None,
            price_ticks: None,
            notional_atoms: None,
            penalty_atoms: None,
            amount_atoms: None,
            maintenance_atoms: None,
            auction: None,
            orders: None,
            counterparty_address: None,
            counterparty_sub: None,
        };
        let who = |l: &mut w::Liquidation, a: AccountId, cx: &mut BlockCx| {
            if let Some((addr, sub)) = cx.owner(a) {
                l.address = Some(hex(&addr.0));
                l.sub = Some(sub);
                cx.positions.insert(((addr, sub), None));
            }
        };
        let bucket = |l: &mut w::Liquidation, b: BucketId| {
            l.margin = Some(convert::margin(b));
            if let BucketId::Isolated(m) = b {
                l.market = Some(m.0);
            }
        };
        match *e {
            Event::LiquidationStarted { account, bucket: b, equity, maintenance } => {
                who(&mut l, account, cx);
                bucket(&mut l, b);
                l.amount_atoms = Some(equity.0.to_string());
                l.maintenance_atoms = Some(maintenance.0.to_string());
            }
            Event::LiquidationOrdersCancelled { account, orders } => {
                l.kind = K::OrdersCancelled;
                who(&mut l, account, cx);
                l.orders = Some(orders);
            }
            Event::LiquidationClosed { account, market, qty, notional, penalty } => {
                l.kind = K::Closed;
                who(&mut l, account, cx);
                l.market = Some(market.0);
                l.qty_lots = Some(qty.0);
                l.notional_atoms = Some(notional.0.to_string());
                l.penalty_atoms = Some(penalty.0.to_string());
            }
            Event::AuctionOpened { auction, account, market, side, qty, start, .. } => {
                l.kind = K::AuctionOpened;
                who(&mut l, account, cx);
                l.auction = Some(auction.0);
                l.market = Some(market.0);
                l.side = Some(convert::side(side));
                l.qty_lots = Some(qty.0);
                l.price_ticks = Some(start.0);
            }
            Event::AuctionWon { auction, bidder, price, qty } => {
                l.kind = K::AuctionWon;
                who(&mut l, bidder, cx);
                l.auction = Some(auction.0);
                l.price_ticks = Some(price.0);
                l.qty_lots = Some(qty.0);
            }
            Event::AuctionClosed { auction } => {
                l.kind = K::AuctionClosed;
                l.auction = Some(auction.0);
            }
            Event::InsuranceTakeover { market, account, qty, price } => {
                l.kind = K::InsuranceTakeover;
                who(&mut l, account, cx);
                l.market = Some(market.0);
                l.qty_lots = Some(qty.0);
                l.price_ticks = Some(price.0);
            }
            Event::Deleveraged { market, account, counterparty, qty, price } => {
                l.kind = K::Deleveraged;
                who(&mut l, account, cx);
                if let Some((addr, sub)) = cx.owner(counterparty) {
                    l.counterparty_address = Some(hex(&addr.0));
                    l.counterparty_sub = Some(sub);
                    cx.positions.insert(((addr, sub), Some(market.0)));
                }
                l.market = Some(market.0);
                l.qty_lots = Some(qty.0);
                l.price_ticks = Some(price.0);
            }
            Event::UncoveredDeficit { account, amount } => {
                l.kind = K::UncoveredDeficit;
                who(&mut l, account, cx);
                l.amount_atoms = Some(amount.0.to_string());
            }
            Event::LiquidationEnded { account, bucket: b } => {
                l.kind = K::Ended;
                who(&mut l, account, cx);
                bucket(&mut l, b);
            }
            _ => return None,
        }
        Some(l)
    }

    /// Updates (or creates) the status record of an order and marks it for a push.
    fn order_touch(
        &mut self,
        cx: &mut BlockCx,
        market: u16,
        id: u64,
        f: impl FnOnce(&mut OrderRecord),
    ) {
        let key = (market, id);
        if self.orders.get(&key).is_none() {
            let (client_id, qty) = cx.placed.get(&key).copied().unwrap_or((None, 0));
            let price_fmt = self.meta(market).map(|m| m.price(0)).unwrap_or_default();
            self.orders.insert(
                key,
                OrderRecord {
                    owner: None,
                    order: w::Order {
                        market,
                        id,
                        client_id,
                        address: None,
                        sub: None,
                        side: w::Side::Buy,
                        price_ticks: 0,
                        price: price_fmt,
                        qty_lots: qty,
                        filled_lots: 0,
                        remaining_lots: qty,
                        status: w::OrderState::Accepted,
                        reason: None,
                        created_height: cx.block.height,
                        updated_height: cx.block.height,
                    },
                },
            );
        }
        if let Some(r) = self.orders.get_mut(&key) {
            f(r);
            r.order.updated_height = cx.block.height;
            if let Some((addr, sub)) = r.owner {
                r.order.address = Some(hex(&addr.0));
                r.order.sub = Some(sub);
            }
            cx.touched_orders.insert(key);
        }
    }

    fn book_event(&mut self, market: u16, e: &BookEvent, cx: &mut BlockCx) {
        let Some(meta) = self.meta(market).cloned() else { return };
        match *e {
            BookEvent::Accepted { id, account, side, price, qty } => {
                let owner = cx.owner(account);
                self.order_touch(cx, market, id.0, |r| {
                    r.owner = owner.or(r.owner);
                    r.order.side = convert::side(side);
                    r.order.price_ticks = price.0;
                    r.order.price = meta.price(price.0);
                    r.order.qty_lots = qty.0;
                    r.order.remaining_lots = qty.0;
                });
            }
            BookEvent::Fill {
                maker_id,
                maker_account,
                taker_id,
                taker_account,
                taker_side,
                price,
                qty,
                maker_remaining,
                taker_remaining,
            } => {
                let fill = |r: &mut OrderRecord, remaining: u64| {
                    r.order.filled_lots = r.order.filled_lots.saturating_add(qty.0);
                    r.order.remaining_lots = remaining;
                    r.order.status = if remaining == 0 {
                        w::OrderState::Filled
                    } else {
                        w::OrderState::PartiallyFilled
                    };
                };
                self.order_touch(cx, market, maker_id.0, |r| fill(r, maker_remaining.0));
                self.order_touch(cx, market, taker_id.0, |r| fill(r, taker_remaining.0));
                let (maker_fee, taker_fee) = match cx.pending_fees.take() {
                    Some((m, mf, tf)) if m == market => (mf, tf),
                    _ => (Quote::ZERO, Quote::ZERO),
                };
                let m = &mut self.markets[usize::from(market)];
                let trade = w::Trade {
                    market,
                    id: m.next_trade_id,
                    height: cx.block.height,
                    time_ms: cx.block.time_ms,
                    price_ticks: price.0,
                    price: meta.price(price.0),
                    qty_lots: qty.0,
                    qty: meta.qty(qty.0),
                    taker_side: convert::side(taker_side),
                    maker_order_id: maker_id.0,
                    taker_order_id: taker_id.0,
                };
                m.next_trade_id += 1;
                m.trades.push_back(trade.clone());
                while m.trades.len() > self.cfg.trades_per_market_max.max(1) {
                    m.trades.pop_front();
                }
                cx.candle_trades.push((market, cx.block.time_ms, price.0, qty.0));
                let sides = [
                    (
                        maker_account,
                        maker_id,
                        taker_side.opposite(),
                        w::Liquidity::Maker,
                        maker_fee,
                    ),
                    (taker_account, taker_id, taker_side, w::Liquidity::Taker, taker_fee),
                ];
                for (account, order, side, liquidity, fee) in sides {
                    let Some((addr, sub)) = cx.owner(account) else { continue };
                    cx.positions.insert(((addr, sub), Some(market)));
                    cx.fills.push((
                        (addr, sub),
                        w::Fill {
                            market,
                            trade_id: trade.id,
                            height: trade.height,
                            time_ms: trade.time_ms,
                            address: hex(&addr.0),
                            sub,
                            order_id: order.0,
                            side: convert::side(side),
                            liquidity,
                            price_ticks: price.0,
                            price: trade.price.clone(),
                            qty_lots: qty.0,
                            qty: trade.qty.clone(),
                            fee_atoms: fee.0.to_string(),
                        },
                    ));
                }
                cx.pushes.push(Push {
                    topic: Topic::Trades(market),
                    seq: None,
                    message: ServerMessage::Trade {
                        channel: channel_key(ChannelKind::Trades, Some(&meta.symbol), None, None),
                        data: trade,
                    },
                });
            }
            BookEvent::SelfTradeDecrement {
                taker_id,
                maker_id,
                taker_remaining,
                maker_remaining,
                ..
            } => {
                self.order_touch(cx, market, taker_id.0, |r| {
                    r.order.remaining_lots = taker_remaining.0
                });
                self.order_touch(cx, market, maker_id.0, |r| {
                    r.order.remaining_lots = maker_remaining.0;
                    if maker_remaining.0 == 0 {
                        r.order.status = w::OrderState::Cancelled;
                        r.order.reason = Some("self_trade".into());
                    }
                });
            }
            BookEvent::Resting { id, qty, .. } => {
                self.order_touch(cx, market, id.0, |r| {
                    r.order.remaining_lots = qty.0;
                    r.order.status = if r.order.filled_lots == 0 {
                        w::OrderState::Resting
                    } else {
                        w::OrderState::PartiallyFilled
                    };
                });
            }
            BookEvent::Cancelled { id, reason, .. } => {
                self.order_touch(cx, market, id.0, |r| {
                    r.order.remaining_lots = 0;
                    r.order.status = w::OrderState::Cancelled;
                    r.order.reason = Some(cancel_reason(reason).into());
                });
            }
            BookEvent::Expired { id, .. } => {
                self.order_touch(cx, market, id.0, |r| {
                    r.order.remaining_lots = 0;
                    r.order.status = w::OrderState::Expired;
                });
            }
            BookEvent::Modified { id, price, qty, .. } => {
                self.order_touch(cx, market, id.0, |r| {
                    r.order.price_ticks = price.0;
                    r.order.price = meta.price(price.0);
                    r.order.remaining_lots = qty.0;
                    r.order.qty_lots = r.order.filled_lots.saturating_add(qty.0);
                });
            }
            BookEvent::Rejected { id: Some(id), reason } => {
                self.order_touch(cx, market, id.0, |r| {
                    r.order.remaining_lots = 0;
                    r.order.status = w::OrderState::Rejected;
                    r.order.reason = Some(reason.to_string());
                });
            }
            BookEvent::Rejected { id: None, .. } => {}
        }
    }

    fn flush_fills(&mut self, cx: &mut BlockCx) {
        for (key, fill) in std::mem::take(&mut cx.fills) {
            self.fills.push(key, fill.clone());
            cx.pushes.push(Push {
                topic: Topic::Fills(key),
                seq: None,
                message: ServerMessage::Fill {
                    channel: channel_key(
                        ChannelKind::Fills,
                        None,
                        None,
                        Some((&fill.address, key.1)),
                    ),
                    data: fill,
                },
            });
        }
    }

    fn flush_orders(&mut self, cx: &mut BlockCx) {
        for key in std::mem::take(&mut cx.touched_orders) {
            let Some(r) = self.orders.get(&key) else { continue };
            let Some(owner) = r.owner else { continue };
            cx.pushes.push(Push {
                topic: Topic::Orders(owner),
                seq: None,
                message: ServerMessage::Order {
                    channel: channel_key(
                        ChannelKind::Orders,
                        None,
                        None,
                        Some((&hex(&owner.0 .0), owner.1)),
                    ),
                    data: r.order.clone(),
                },
            });
        }
    }

    fn flush_candles(&mut self, cx: &mut BlockCx) {
        let max = self.cfg.candles_per_interval_max.max(1);
        let mut changed: BTreeSet<(u16, usize)> = BTreeSet::new();
        for &(market, time_ms, price, qty) in &cx.candle_trades {
            let Some(m) = self.markets.get_mut(usize::from(market)) else { continue };
            for (i, interval) in Interval::ALL.into_iter().enumerate() {
                let open = time_ms - time_ms % interval.ms();
                let series = &mut m.candles[i];
                match series.back_mut() {
                    Some(c) if c.open_time_ms >= open => {
                        // Same interval (block time never goes back; a later candle is kept).
                        c.high_ticks = c.high_ticks.max(price);
                        c.low_ticks = c.low_ticks.min(price);
                        c.close_ticks = price;
                        c.volume_lots = c.volume_lots.saturating_add(qty);
                        c.trades += 1;
                    }
                    _ => {
                        series.push_back(w::Candle {
                            market,
                            interval,
                            open_time_ms: open,
                            open_ticks: price,
                            high_ticks: price,
                            low_ticks: price,
                            close_ticks: price,
                            open: String::new(),
                            high: String::new(),
                            low: String::new(),
                            close: String::new(),
                            volume_lots: qty,
                            volume: String::new(),
                            trades: 1,
                        });
                        while series.len() > max {
                            series.pop_front();
                        }
                    }
                }
                changed.insert((market, i));
            }
        }
        for (market, i) in changed {
            let m = &mut self.markets[usize::from(market)];
            let Some(c) = m.candles[i].back_mut() else { continue };
            c.open = m.meta.price(c.open_ticks);
            c.high = m.meta.price(c.high_ticks);
            c.low = m.meta.price(c.low_ticks);
            c.close = m.meta.price(c.close_ticks);
            c.volume = m.meta.qty(c.volume_lots);
            let interval = Interval::ALL[i];
            cx.pushes.push(Push {
                topic: Topic::Candles(market, interval),
                seq: None,
                message: ServerMessage::Candle {
                    channel: channel_key(
                        ChannelKind::Candles,
                        Some(&m.meta.symbol),
                        Some(interval),
                        None,
                    ),
                    data: c.clone(),
                },
            });
        }
    }

    fn market_view(&mut self, v: &MarketView, cx: &mut BlockCx) {
        let Some(m) = self.markets.get_mut(usize::from(v.id.0)) else { return };
        let bids = levels(&v.bids);
        let asks = levels(&v.asks);
        let db = side_delta(&m.book.bids, &bids);
        let da = side_delta(&m.book.asks, &asks);
        m.book.height = cx.block.height;
        m.view = Some(v.clone());
        if db.is_empty() && da.is_empty() {
            return;
        }
        let prev_seq = m.book.seq;
        m.book.seq += 1;
        m.book.bids = bids;
        m.book.asks = asks;
        let lv = |d: Vec<(u64, u64)>| d.into_iter().map(|(p, q)| m.meta.level(p, q)).collect();
        cx.pushes.push(Push {
            topic: Topic::Book(v.id.0),
            seq: Some(m.book.seq),
            message: ServerMessage::Delta(BookDelta {
                channel: channel_key(ChannelKind::Book, Some(&m.meta.symbol), None, None),
                market: v.id.0,
                seq: m.book.seq,
                prev_seq,
                height: cx.block.height,
                bids: lv(db),
                asks: lv(da),
            }),
        });
    }
}

fn cancel_reason(r: CancelReason) -> &'static str {
    match r {
        CancelReason::User => "user",
        CancelReason::SelfTrade => "self_trade",
        CancelReason::Unfilled => "unfilled",
        CancelReason::MatchLimit => "match_limit",
    }
}

fn interval_index(i: Interval) -> usize {
    Interval::ALL.iter().position(|x| *x == i).unwrap_or(0)
}

/// Per-block scratch state of [`Store::apply`].
struct BlockCx<'a> {
    block: &'a FinalizedBlock,
    pushes: Vec<Push>,
    positions: BTreeSet<(AccountKey, Option<u16>)>,
    /// Orders placed by this block's transactions: client id and size.
    placed: BTreeMap<(u16, u64), (Option<u64>, u64)>,
    touched_orders: BTreeSet<(u16, u64)>,
    pending_fees: Option<(u16, Quote, Quote)>,
    fills: Vec<(AccountKey, w::Fill)>,
    candle_trades: Vec<(u16, u64, u64, u64)>,
}

impl<'a> BlockCx<'a> {
    fn new(block: &'a FinalizedBlock) -> Self {
        BlockCx {
            block,
            pushes: Vec::new(),
            positions: BTreeSet::new(),
            placed: BTreeMap::new(),
            touched_orders: BTreeSet::new(),
            pending_fees: None,
            fills: Vec::new(),
            candle_trades: Vec::new(),
        }
    }

    fn owner(&self, a: AccountId) -> Option<AccountKey> {
        self.block.accounts.get(&a).copied()
    }
}

#[cfg(test)]
mod tests;
