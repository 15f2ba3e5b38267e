//! A seeded order-flow workload for the engine: market makers quoting around the index,
//! takers sweeping the top of the book, cancels and modifies.
//!
//! # The flow
//! `markets` perpetual markets ([`MarketParams::example`], symbols `SIM00-PERP`, …) with an
//! index that walks a few ticks per block around its start; `accounts` funded accounts, the first
//! `makers` of them market makers ($10M each), the rest takers ($100k each). Every action of a
//! block picks a market uniformly, then its kind by [`Mix`] (default 70 / 15 / 5 / 10 %):
//!
//! | kind | what | sender |
//! |---|---|---|
//! | add | GTC or post-only limit, 1–5 lots, 1–20 ticks (skewed to 1) from the index on the passive side, never crossing the book as it stood at the block's start | a maker |
//! | cancel | a live resting order, chosen uniformly | its owner |
//! | modify | a live resting order away from the top: new size 1–5 lots, half the time a new passive price | its owner |
//! | ioc | IOC 2–24 lots on a random side, limit 0–3 ticks through the opposite best | a taker |
//!
//! The mix adapts to keep the book near `live_orders_per_market` resting orders per market: an
//! add drawn for a full market becomes a cancel; a cancel or modify drawn for an empty market,
//! and an IOC facing an empty side, become adds. The realised mix is in [`FlowStats`].
//!
//! The generator learns order ids and fills from the engine's events ([`Workload::observe`]),
//! as a trading client would, so it never cancels an order it has not seen rest. Everything is
//! a function of the seed and the engine's (deterministic) events: the same seed gives the same
//! actions. No clock, no hashed collections.

use std::collections::BTreeMap;

use novation_book::Event as BookEvent;
use novation_engine::{
    Action, BlockContext, Engine, EngineParams, Event, MarketId, MarketParams, OrderRequest,
    Rejection, TimeInForce, Tx,
};
use novation_types::{AccountId, Address, OrderId, PriceTicks, QtyLots, Quote, Side};

use crate::rng::SplitMix64;

/// Dollars → quote atoms (1e-6 USDC).
pub const fn usd(dollars: i128) -> Quote {
    Quote(dollars * 1_000_000)
}

/// The first market's starting index: $50,000 in ticks of $0.1 (one lot, 0.001, is worth $50).
pub const INDEX_BASE_TICKS: u64 = 500_000;

/// A maker's deposit.
pub const MAKER_DEPOSIT: Quote = usd(10_000_000);

/// A taker's deposit.
pub const TAKER_DEPOSIT: Quote = usd(100_000);

/// Block interval of the simulated chain.
pub const BLOCK_INTERVAL_MS: u64 = 1_000;

/// The largest distance, in ticks, the index walks from its start.
pub const INDEX_EXCURSION_TICKS_MAX: u64 = 2_000;

/// Most blocks the warm-up may take to fill the books.
pub const WARMUP_BLOCKS_MAX: u32 = 1_000;

/// The address of simulated account `i`.
pub fn sim_address(i: u32) -> Address {
    let mut a = [0u8; 20];
    a[..4].copy_from_slice(b"sim:");
    a[16..].copy_from_slice(&i.to_be_bytes());
    Address(a)
}

/// The symbol of simulated market `i`.
pub fn market_symbol(i: u16) -> String {
    format!("SIM{i:02}-PERP")
}

/// The starting index of market `i`, in ticks.
pub fn index_base(i: u16) -> u64 {
    INDEX_BASE_TICKS + 1_000 * u64::from(i)
}

/// An engine with `markets` example markets and no accounts.
pub fn new_engine(markets: u16, params: EngineParams) -> Engine {
    let mut engine = Engine::new(params).expect("engine parameters are valid");
    for i in 0..markets {
        engine.add_market(MarketParams::example(&market_symbol(i))).expect("example market");
    }
    engine
}

/// Block heights and times of the simulated chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Heights {
    /// Height of the last block built.
    pub height: u64,
    /// Its time.
    pub time_ms: u64,
}

impl Heights {
    /// The context of the next block, with an index price for every market.
    pub fn next(&mut self, index: &[u64]) -> BlockContext {
        self.height += 1;
        self.time_ms = 1_700_000_000_000 + self.height * BLOCK_INTERVAL_MS;
        BlockContext {
            height: self.height,
            time_ms: self.time_ms,
            index_prices: index
                .iter()
                .enumerate()
                .map(|(i, &p)| (MarketId(i as u16), PriceTicks(p)))
                .collect(),
        }
    }
}

/// What an action was generated as (for attributing rejections).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    /// A deposit (setup).
    Deposit,
    /// A passive limit order.
    Add,
    /// A cancel.
    Cancel,
    /// A modify.
    Modify,
    /// A marketable IOC order.
    Ioc,
    /// A trade that builds a position (liquidation fixture).
    Setup,
}

impl ActionKind {
    /// Every kind, in display order.
    pub const ALL: [ActionKind; 6] = [
        ActionKind::Deposit,
        ActionKind::Add,
        ActionKind::Cancel,
        ActionKind::Modify,
        ActionKind::Ioc,
        ActionKind::Setup,
    ];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Deposit => "deposit",
            ActionKind::Add => "add",
            ActionKind::Cancel => "cancel",
            ActionKind::Modify => "modify",
            ActionKind::Ioc => "ioc",
            ActionKind::Setup => "setup",
        }
    }

    /// Whether the action is a new order.
    pub fn is_new_order(self) -> bool {
        matches!(self, ActionKind::Add | ActionKind::Ioc | ActionKind::Setup)
    }
}

/// Intended shares of the action kinds, in percent (they sum to 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    pub add_pct: u8,
    pub cancel_pct: u8,
    pub modify_pct: u8,
    pub ioc_pct: u8,
}

impl Mix {
    /// 70 % adds, 15 % cancels, 5 % modifies, 10 % IOCs.
    pub const DEFAULT: Mix = Mix { add_pct: 70, cancel_pct: 15, modify_pct: 5, ioc_pct: 10 };

    fn is_valid(&self) -> bool {
        u32::from(self.add_pct)
            + u32::from(self.cancel_pct)
            + u32::from(self.modify_pct)
            + u32::from(self.ioc_pct)
            == 100
    }
}

/// The shape of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadConfig {
    /// Markets.
    pub markets: u16,
    /// Funded accounts (makers included).
    pub accounts: u32,
    /// The first `makers` accounts quote; the rest take.
    pub makers: u32,
    /// Markets each maker quotes in (maker `i` quotes markets `i mod markets` onward): 1 gives
    /// single-market makers, `markets` makers that quote everywhere (one cross bucket with a
    /// leg in every market, the costlier case for the engine's per-bucket re-evaluation).
    pub maker_markets: u16,
    /// Actions in each generated block.
    pub actions_per_block: u32,
    /// Resting orders per market the flow steers toward.
    pub live_orders_per_market: u32,
    /// Intended mix.
    pub mix: Mix,
    /// Seed.
    pub seed: u64,
}

impl WorkloadConfig {
    /// The benchmark: 10 markets, 100k accounts (200 makers), blocks of 10k actions.
    pub fn benchmark(seed: u64) -> WorkloadConfig {
        WorkloadConfig {
            markets: 10,
            accounts: 100_000,
            makers: 200,
            maker_markets: 10,
            actions_per_block: 10_000,
            live_orders_per_market: 5_000,
            mix: Mix::DEFAULT,
            seed,
        }
    }

    /// A small version for tests.
    pub fn quick(seed: u64) -> WorkloadConfig {
        WorkloadConfig {
            markets: 10,
            accounts: 2_000,
            makers: 40,
            maker_markets: 10,
            actions_per_block: 1_000,
            live_orders_per_market: 300,
            mix: Mix::DEFAULT,
            seed,
        }
    }
}

/// Counts of what the flow generated and what the engine did with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Blocks applied.
    pub blocks: u64,
    /// Actions generated, by kind.
    pub generated: BTreeMap<ActionKind, u64>,
    /// Rejections by (kind, code), with the reason.
    pub rejected: BTreeMap<(ActionKind, u16), (Rejection, u64)>,
    /// Orders the engine accepted (`OrderAccepted`).
    pub orders_accepted: u64,
    /// Fills.
    pub fills: u64,
    /// Lots filled.
    pub filled_lots: u64,
    /// Liquidations started (`LiquidationStarted`).
    pub liquidations_started: u64,
}

impl FlowStats {
    /// Actions generated.
    pub fn actions(&self) -> u64 {
        self.generated.values().sum()
    }

    /// New orders generated (adds, IOCs, setup trades).
    pub fn new_orders(&self) -> u64 {
        self.generated.iter().filter(|(k, _)| k.is_new_order()).map(|(_, n)| n).sum()
    }

    /// Rejections in total.
    pub fn rejections(&self) -> u64 {
        self.rejected.values().map(|(_, n)| n).sum()
    }

    /// Counts the events of one block; `kinds[i]` is what action `i` was generated as.
    pub fn count_events(&mut self, kinds: &[ActionKind], events: &[Event]) {
        self.blocks += 1;
        for &k in kinds {
            *self.generated.entry(k).or_default() += 1;
        }
        for e in events {
            match e {
                Event::Rejected { index, reason } => {
                    let kind = kinds.get(*index as usize).copied().unwrap_or(ActionKind::Setup);
                    self.rejected.entry((kind, reason.code())).or_insert((*reason, 0)).1 += 1;
                }
                Event::OrderAccepted { .. } => self.orders_accepted += 1,
                Event::Book { event: BookEvent::Fill { qty, .. }, .. } => {
                    self.fills += 1;
                    self.filled_lots += qty.0;
                }
                Event::LiquidationStarted { .. } => self.liquidations_started += 1,
                _ => {}
            }
        }
    }
}

/// A resting order the flow knows about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LiveOrder {
    id: OrderId,
    owner: u32,
    side: Side,
    price: u64,
    qty: u64,
}

/// The live orders of one market: a vector for uniform picks, an id index for removal.
#[derive(Clone, Debug, Default)]
struct LiveSet {
    orders: Vec<LiveOrder>,
    slot: BTreeMap<OrderId, usize>,
}

impl LiveSet {
    fn len(&self) -> usize {
        self.orders.len()
    }

    fn upsert(&mut self, order: LiveOrder) {
        match self.slot.get(&order.id) {
            Some(&i) => self.orders[i] = order,
            None => {
                self.slot.insert(order.id, self.orders.len());
                self.orders.push(order);
            }
        }
    }

    fn get_mut(&mut self, id: OrderId) -> Option<&mut LiveOrder> {
        let i = *self.slot.get(&id)?;
        Some(&mut self.orders[i])
    }

    fn remove(&mut self, id: OrderId) -> Option<LiveOrder> {
        let i = self.slot.remove(&id)?;
        let order = self.orders.swap_remove(i);
        if let Some(moved) = self.orders.get(i) {
            self.slot.insert(moved.id, i);
        }
        Some(order)
    }
}

/// The top of a market's book when the block was generated.
#[derive(Clone, Copy, Debug, Default)]
struct Top {
    bid: Option<u64>,
    ask: Option<u64>,
}

/// The account id → simulated account number map (`u32::MAX`: not a simulated account).
const NOT_SIMULATED: u32 = u32::MAX;

/// The order-flow generator. See the module doc.
#[derive(Debug)]
pub struct Workload {
    cfg: WorkloadConfig,
    rng: SplitMix64,
    heights: Heights,
    index: Vec<u64>,
    owner_of: Vec<u32>,
    live: Vec<LiveSet>,
    kinds: Vec<ActionKind>,
    /// What happened so far (reset with [`Workload::reset_stats`]).
    pub stats: FlowStats,
}

impl Workload {
    /// An engine with the markets and funded accounts of `cfg`, and a workload whose books are
    /// filled to the live-order target and then warmed with `warm_blocks` blocks of flow.
    pub fn genesis(cfg: WorkloadConfig, warm_blocks: u32) -> (Workload, Engine) {
        assert!(cfg.mix.is_valid(), "mix must sum to 100 %");
        assert!(cfg.makers > 0 && cfg.makers < cfg.accounts, "need makers and takers");
        assert!(cfg.makers >= u32::from(cfg.markets), "at least one maker per market");
        assert!((1..=cfg.markets).contains(&cfg.maker_markets), "maker markets in 1..=markets");
        let params = EngineParams {
            actions_per_block_max: EngineParams::DEFAULT
                .actions_per_block_max
                .max(cfg.actions_per_block),
            ..EngineParams::DEFAULT
        };
        let mut engine = new_engine(cfg.markets, params);
        let mut w = Workload {
            rng: SplitMix64::new(cfg.seed),
            heights: Heights::default(),
            index: (0..cfg.markets).map(index_base).collect(),
            owner_of: Vec::new(),
            live: vec![LiveSet::default(); usize::from(cfg.markets)],
            kinds: Vec::new(),
            stats: FlowStats::default(),
            cfg,
        };
        w.fund(&mut engine);
        let target = w.cfg.live_orders_per_market as usize;
        for _ in 0..WARMUP_BLOCKS_MAX {
            if w.live.iter().all(|l| l.len() >= target) {
                break;
            }
            let (ctx, txs) = w.next_block_with(&engine, true);
            w.apply(&mut engine, &ctx, &txs);
        }
        for _ in 0..warm_blocks {
            let (ctx, txs) = w.next_block(&engine);
            w.apply(&mut engine, &ctx, &txs);
        }
        (w, engine)
    }

    /// The configuration.
    pub fn config(&self) -> &WorkloadConfig {
        &self.cfg
    }

    /// Resting orders the flow knows about, all markets.
    pub fn live_orders(&self) -> usize {
        self.live.iter().map(LiveSet::len).sum()
    }

    /// Clears [`Workload::stats`].
    pub fn reset_stats(&mut self) {
        self.stats = FlowStats::default();
    }

    /// Applies a block and observes its events (untimed convenience).
    pub fn apply(&mut self, engine: &mut Engine, ctx: &BlockContext, txs: &[Tx]) {
        let events = engine.apply_block(ctx, txs).expect("generated blocks are valid");
        self.observe(&events);
    }

    fn fund(&mut self, engine: &mut Engine) {
        let ctx = self.heights.next(&self.index);
        engine.apply_block(&ctx, &[]).expect("first block");
        let chunk = engine.params().actions_per_block_max;
        let mut next = 0u32;
        while next < self.cfg.accounts {
            let end = next.saturating_add(chunk).min(self.cfg.accounts);
            let txs: Vec<Tx> = (next..end)
                .map(|i| {
                    let amount = if i < self.cfg.makers { MAKER_DEPOSIT } else { TAKER_DEPOSIT };
                    Tx { sender: sim_address(i), action: Action::Deposit { sub: 0, amount } }
                })
                .collect();
            self.kinds = vec![ActionKind::Deposit; txs.len()];
            let ctx = self.heights.next(&self.index);
            self.apply(engine, &ctx, &txs);
            next = end;
        }
        self.owner_of = vec![NOT_SIMULATED; engine.account_count()];
        for i in 0..self.cfg.accounts {
            let id = engine.account_id(sim_address(i), 0).expect("funded");
            self.owner_of[id.0 as usize] = i;
        }
    }

    /// The next block: its context (index prices after this block's walk) and its actions.
    pub fn next_block(&mut self, engine: &Engine) -> (BlockContext, Vec<Tx>) {
        self.next_block_with(engine, false)
    }

    fn next_block_with(&mut self, engine: &Engine, adds_only: bool) -> (BlockContext, Vec<Tx>) {
        self.walk_index();
        let tops: Vec<Top> = engine
            .markets()
            .iter()
            .map(|m| Top {
                bid: m.book.best_bid().map(|l| l.price.0),
                ask: m.book.best_ask().map(|l| l.price.0),
            })
            .collect();
        let n = self.cfg.actions_per_block as usize;
        let mut txs = Vec::with_capacity(n);
        self.kinds.clear();
        for _ in 0..n {
            let m = self.rng.below(u64::from(self.cfg.markets)) as usize;
            let (kind, tx) = self.action(m, tops[m], adds_only);
            self.kinds.push(kind);
            txs.push(tx);
        }
        (self.heights.next(&self.index), txs)
    }

    fn walk_index(&mut self) {
        for (i, p) in self.index.iter_mut().enumerate() {
            let base = index_base(i as u16);
            let step = self.rng.below(7);
            // Steps of -3..=3 ticks, pulled back toward the start at the excursion limit.
            let up =
                if p.abs_diff(base) >= INDEX_EXCURSION_TICKS_MAX { *p < base } else { step > 3 };
            let size = step.abs_diff(3);
            *p = if up { *p + size } else { *p - size };
        }
    }

    fn action(&mut self, m: usize, top: Top, adds_only: bool) -> (ActionKind, Tx) {
        let mix = self.cfg.mix;
        let draw = self.rng.below(100) as u8;
        let full = self.live[m].len() >= self.cfg.live_orders_per_market as usize;
        let mut kind = if adds_only || draw < mix.add_pct {
            ActionKind::Add
        } else if draw < mix.add_pct + mix.cancel_pct {
            ActionKind::Cancel
        } else if draw < mix.add_pct + mix.cancel_pct + mix.modify_pct {
            ActionKind::Modify
        } else {
            ActionKind::Ioc
        };
        if kind == ActionKind::Add && full && !adds_only {
            kind = ActionKind::Cancel;
        }
        let tx = match kind {
            ActionKind::Cancel => self.cancel(m),
            ActionKind::Modify => self.modify(m, top),
            ActionKind::Ioc => self.ioc(m, top),
            _ => None,
        };
        match tx {
            Some(tx) => (kind, tx),
            None => (ActionKind::Add, self.add(m, top)),
        }
    }

    /// 1..=20 ticks, skewed toward 1 (the minimum of two uniforms).
    fn offset_ticks(&mut self) -> u64 {
        1 + self.rng.below(20).min(self.rng.below(20))
    }

    fn passive_price(&mut self, m: usize, side: Side, top: Top) -> u64 {
        let k = self.offset_ticks();
        let index = self.index[m];
        match side {
            Side::Buy => top.ask.map_or(index - k, |a| (index - k).min(a - 1)),
            Side::Sell => top.bid.map_or(index + k, |b| (index + k).max(b + 1)),
        }
    }

    fn side(&mut self) -> Side {
        if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    /// A maker that quotes market `m`.
    fn maker_for(&mut self, m: usize) -> u32 {
        let markets = u32::from(self.cfg.markets);
        let j = self.rng.below(u64::from(self.cfg.maker_markets)) as u32;
        let home = (m as u32 + markets - j) % markets;
        let with_home = (self.cfg.makers - home).div_ceil(markets);
        home + markets * self.rng.below(u64::from(with_home)) as u32
    }

    fn add(&mut self, m: usize, top: Top) -> Tx {
        let maker = self.maker_for(m);
        let side = self.side();
        let price = self.passive_price(m, side, top);
        let qty = self.rng.range(1, 5);
        let mut req = OrderRequest::limit(0, MarketId(m as u16), side, price, qty);
        if self.rng.below(2) == 0 {
            req.tif = TimeInForce::PostOnly;
        }
        Tx { sender: sim_address(maker), action: Action::Place(req) }
    }

    fn cancel(&mut self, m: usize) -> Option<Tx> {
        let live = &mut self.live[m];
        if live.len() == 0 {
            return None;
        }
        let i = self.rng.below(live.len() as u64) as usize;
        let id = live.orders[i].id;
        let order = live.remove(id)?;
        Some(Tx {
            sender: sim_address(order.owner),
            action: Action::Cancel { sub: 0, market: MarketId(m as u16), id },
        })
    }

    fn modify(&mut self, m: usize, top: Top) -> Option<Tx> {
        if self.live[m].len() == 0 {
            return None;
        }
        // Prefer an order away from the top: IOCs of this block may fill those first.
        let mut order = self.live[m].orders[0];
        for _ in 0..4 {
            let i = self.rng.below(self.live[m].len() as u64) as usize;
            order = self.live[m].orders[i];
            let near_top = match order.side {
                Side::Buy => top.bid.is_some_and(|b| order.price + 4 >= b),
                Side::Sell => top.ask.is_some_and(|a| order.price <= a + 4),
            };
            if !near_top {
                break;
            }
        }
        let mut qty = self.rng.range(1, 5);
        let price = if self.rng.below(2) == 0 {
            if qty == order.qty {
                qty += 1;
            }
            order.price
        } else {
            self.passive_price(m, order.side, top)
        };
        Some(Tx {
            sender: sim_address(order.owner),
            action: Action::Modify {
                sub: 0,
                market: MarketId(m as u16),
                id: order.id,
                price: PriceTicks(price),
                qty: QtyLots(qty),
            },
        })
    }

    fn ioc(&mut self, m: usize, top: Top) -> Option<Tx> {
        let side = self.side();
        let best = match side {
            Side::Buy => top.ask? + self.rng.below(5),
            Side::Sell => top.bid? - self.rng.below(5),
        };
        let takers = u64::from(self.cfg.accounts - self.cfg.makers);
        let taker = self.cfg.makers + self.rng.below(takers) as u32;
        let qty = self.rng.range(6, 42);
        Some(Tx {
            sender: sim_address(taker),
            action: Action::Place(OrderRequest::market(0, MarketId(m as u16), side, best, qty)),
        })
    }

    /// Learns order ids, fills and cancellations from a block's events and counts them. Call
    /// once per generated block with the events `apply_block` returned for it.
    pub fn observe(&mut self, events: &[Event]) {
        self.stats.count_events(&self.kinds, events);
        for e in events {
            if let Event::Book { market, event } = e {
                self.observe_book(usize::from(market.0), event);
            }
        }
    }

    fn observe_book(&mut self, m: usize, event: &BookEvent) {
        let Some(live) = self.live.get_mut(m) else { return };
        match *event {
            BookEvent::Resting { id, account, side, price, qty } => {
                let owner = self.owner_of.get(account.0 as usize).copied();
                if let Some(owner) = owner.filter(|&o| o != NOT_SIMULATED) {
                    live.upsert(LiveOrder { id, owner, side, price: price.0, qty: qty.0 });
                }
            }
            BookEvent::Fill { maker_id, maker_remaining, .. } => {
                remaining(live, maker_id, maker_remaining);
            }
            BookEvent::SelfTradeDecrement {
                taker_id,
                maker_id,
                taker_remaining,
                maker_remaining,
                ..
            } => {
                remaining(live, maker_id, maker_remaining);
                remaining(live, taker_id, taker_remaining);
            }
            BookEvent::Cancelled { id, .. } | BookEvent::Expired { id, .. } => {
                live.remove(id);
            }
            BookEvent::Modified { id, price, qty, .. } => {
                if let Some(o) = live.get_mut(id) {
                    o.price = price.0;
                    o.qty = qty.0;
                }
            }
            BookEvent::Accepted { .. } | BookEvent::Rejected { .. } => {}
        }
    }
}

fn remaining(live: &mut LiveSet, id: OrderId, qty: QtyLots) {
    if qty.0 == 0 {
        live.remove(id);
    } else if let Some(o) = live.get_mut(id) {
        o.qty = qty.0;
    }
}

/// The engine account id of simulated account `i`, if funded.
pub fn account_of(engine: &Engine, i: u32) -> Option<AccountId> {
    engine.account_id(sim_address(i), 0)
}
