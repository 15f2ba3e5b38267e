//! The synthetic order flow: generated once from a seed, then replayed unchanged through every
//! book under test.
//!
//! The generator runs the flow through [`Shadow`], a deliberately simple and obviously correct
//! price-time book (`BTreeMap<price, VecDeque<(id, qty)>>` per side). That gives it an exact
//! view of the book at every step, so that
//! * every cancel targets an order that is live at that point,
//! * every passive add lands a few ticks behind the opposite best price and never crosses,
//! * every IOC is marketable, and its size is chosen from the makers it will meet,
//!
//! and it yields the expected fill totals that the books under test must reproduce.
//!
//! # The flow
//! * **Load** (untimed): `resting` GTC orders at 1..=[`LOAD_DEPTH_TICKS`] ticks from
//!   [`CENTER_PRICE`] (bids below, asks above), 1..=100 lots each.
//! * **Timed operations**, each drawn independently:
//!   * 70 % passive limit add: a buy at `best_ask - k` or a sell at `best_bid + k`, `k` in
//!     1..=[`ADD_MAX_TICKS_BEHIND`], 1..=100 lots;
//!   * 25 % cancel of a live order: 80 % of them among the most recently added orders, the rest
//!     uniform over all live orders;
//!   * 5 % marketable IOC: 85 % of them sized to meet 1..=N makers in priority order (the last
//!     one often partially), with a limit price 0..=2 ticks past the last maker's price; 15 % of
//!     them sweep 1..=3 whole price levels and ask for up to 60 lots more than those levels
//!     hold, with the limit at the last swept level, so that the remainder is cancelled.
//!     `N` is steered between 6 and 24 so that the book stays near its loaded size instead of
//!     growing by the ~45 % of operations that are net adds; the IOC side leans towards pulling
//!     the mid back to [`CENTER_PRICE`].
//! * Makers are accounts `1..=1000`, takers `10_001..=10_100`: a taker never meets its own
//!   order, so books without self-trade prevention must produce exactly the same fills.
//! * Order ids are the operation's position in load + timed list, plus one: increasing, unique,
//!   never reused (cancels consume a position but no id).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use novation_book::Side;

use crate::rng::SplitMix64;

/// The price the flow starts around and is steered back to, in ticks.
pub const CENTER_PRICE: u64 = 100_000;
/// Loaded orders rest 1..=this many ticks from [`CENTER_PRICE`].
pub const LOAD_DEPTH_TICKS: u64 = 250;
/// Passive adds rest 1..=this many ticks behind the opposite best price.
pub const ADD_MAX_TICKS_BEHIND: u64 = 5;
/// Maker accounts are `MAKER_BASE..MAKER_BASE + MAKERS`.
pub const MAKER_BASE: u32 = 1;
/// Number of maker accounts.
pub const MAKERS: u32 = 1_000;
/// Taker accounts are `TAKER_BASE..TAKER_BASE + TAKERS`.
pub const TAKER_BASE: u32 = 10_001;
/// Number of taker accounts.
pub const TAKERS: u32 = 100;
/// An IOC never meets more makers than this (well below every book's per-order work bound).
pub const IOC_MAKERS_MAX: usize = 400;

/// One operation of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A passive GTC limit order (it never crosses).
    Add { id: u64, account: u32, side: Side, price: u64, qty: u64 },
    /// Cancel a live order of `account`.
    Cancel { id: u64, account: u32 },
    /// A marketable immediate-or-cancel limit order: trades what it can at `limit` or better,
    /// the remainder is dropped.
    Ioc { id: u64, account: u32, side: Side, limit: u64, qty: u64 },
}

/// The kind of an [`Op`], for per-kind latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add = 0,
    Cancel = 1,
    Ioc = 2,
}

impl OpKind {
    /// All kinds, in report order.
    pub const ALL: [OpKind; 3] = [OpKind::Add, OpKind::Cancel, OpKind::Ioc];

    /// Lower-case name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Cancel => "cancel",
            OpKind::Ioc => "ioc",
        }
    }
}

impl Op {
    /// The kind of this operation.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Add { .. } => OpKind::Add,
            Op::Cancel { .. } => OpKind::Cancel,
            Op::Ioc { .. } => OpKind::Ioc,
        }
    }
}

/// Fill totals: what every book under test must agree on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fills {
    /// Sum of the quantities of all fills, in lots.
    pub qty: u128,
    /// Sum of `price * qty` over all fills, in tick-lots.
    pub notional: u128,
}

impl Fills {
    /// Adds one fill of `qty` lots at `price`.
    #[inline]
    pub fn record(&mut self, price: u64, qty: u64) {
        self.qty += u128::from(qty);
        self.notional += u128::from(price) * u128::from(qty);
    }
}

/// The sizes and seed of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    pub seed: u64,
    /// Orders loaded (untimed) before the timed operations.
    pub resting: usize,
    /// Timed operations.
    pub ops: usize,
}

/// What the generated flow looks like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub adds: u64,
    pub cancels: u64,
    pub iocs: u64,
    /// Cancels among the most recent orders (the rest are uniform over live orders).
    pub recent_cancels: u64,
    /// Maker orders met by all IOCs together (one fill each).
    pub ioc_makers_met: u64,
    /// Makers met by one IOC: median, 99th percentile, maximum.
    pub ioc_makers_p50: u64,
    pub ioc_makers_p99: u64,
    pub ioc_makers_max: u64,
    /// IOCs that traded at two or more price levels.
    pub ioc_multi_level: u64,
    /// IOCs with an unfilled remainder (cancelled).
    pub ioc_with_remainder: u64,
    /// Live orders after the load, and at the end.
    pub live_after_load: u64,
    pub live_at_end: u64,
    /// Price levels (both sides) at the end.
    pub levels_at_end: u64,
    /// Range of the best bid and best ask over the timed operations.
    pub best_bid_min: u64,
    pub best_ask_max: u64,
}

/// A generated flow: the load, the timed operations, and the fills the shadow book produced.
#[derive(Clone, Debug)]
pub struct Flow {
    pub config: FlowConfig,
    /// Loaded untimed, in order, into a fresh book.
    pub resting: Vec<Op>,
    /// Timed, in order, right after the load.
    pub ops: Vec<Op>,
    /// Fill totals of the shadow book over load and operations.
    pub expected: Fills,
    pub stats: FlowStats,
    /// Positions in `ops` of the cancels whose target was drawn uniformly over the live orders
    /// (the rest of the cancels target recent orders), ascending: the latency report splits
    /// cancels by this, since the uniform fifth mostly meets cold memory.
    pub uniform_cancels: Vec<usize>,
}

#[derive(Clone, Copy, Debug)]
struct LiveOrder {
    side: Side,
    price: u64,
    account: u32,
}

/// One price level of the reference book: `(order id, remaining qty)` in time priority.
type Level = VecDeque<(u64, u64)>;

/// The generator's reference book: plain price-time priority, no self-trade handling (the flow
/// never needs it). Slow and simple on purpose.
#[derive(Debug, Default)]
pub struct Shadow {
    bids: BTreeMap<u64, Level>,
    asks: BTreeMap<u64, Level>,
    /// Live orders by id (ids are dense, so a vector).
    orders: Vec<Option<LiveOrder>>,
    /// Ids of live orders, ordered.
    live: BTreeSet<u64>,
    fills: Fills,
}

/// What one IOC did in the shadow book.
#[derive(Clone, Copy, Debug, Default)]
struct IocOutcome {
    makers_met: u64,
    levels: u64,
    remainder: u64,
}

impl Shadow {
    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<u64, Level> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Highest bid price.
    pub fn best_bid(&self) -> Option<u64> {
        self.bids.keys().next_back().copied()
    }

    /// Lowest ask price.
    pub fn best_ask(&self) -> Option<u64> {
        self.asks.keys().next().copied()
    }

    /// Number of live orders.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Fill totals so far.
    pub fn fills(&self) -> Fills {
        self.fills
    }

    /// The price levels of the side opposite to `taker`, best first.
    fn opposite(&self, taker: Side) -> Box<dyn Iterator<Item = (u64, &Level)> + '_> {
        match taker {
            Side::Buy => Box::new(self.asks.iter().map(|(p, q)| (*p, q))),
            Side::Sell => Box::new(self.bids.iter().rev().map(|(p, q)| (*p, q))),
        }
    }

    /// The makers of the side opposite to `taker`, in priority order, as `(price, qty)`.
    fn makers(&self, taker: Side) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.opposite(taker).flat_map(|(price, queue)| queue.iter().map(move |&(_, q)| (price, q)))
    }

    /// The price levels of the side opposite to `taker`, as `(price, total qty, orders)`.
    fn levels(&self, taker: Side) -> impl Iterator<Item = (u64, u64, usize)> + '_ {
        self.opposite(taker)
            .map(|(price, queue)| (price, queue.iter().map(|&(_, q)| q).sum(), queue.len()))
    }

    /// Rests a passive order. Panics if it would cross (a generator bug).
    pub fn add(&mut self, id: u64, account: u32, side: Side, price: u64, qty: u64) {
        match side {
            Side::Buy => assert!(self.best_ask().is_none_or(|a| price < a), "buy add crosses"),
            Side::Sell => assert!(self.best_bid().is_none_or(|b| price > b), "sell add crosses"),
        }
        let slot = usize::try_from(id).expect("id fits usize");
        if self.orders.len() <= slot {
            self.orders.resize(slot + 1, None);
        }
        assert!(self.orders[slot].is_none(), "duplicate id");
        self.orders[slot] = Some(LiveOrder { side, price, account });
        self.live.insert(id);
        self.side_mut(side).entry(price).or_default().push_back((id, qty));
    }

    /// Cancels a live order; returns its account. Panics if it is not live (a generator bug).
    pub fn cancel(&mut self, id: u64) -> u32 {
        let slot = usize::try_from(id).expect("id fits usize");
        let order = self.orders[slot].take().expect("cancel of a live order");
        self.live.remove(&id);
        let book = self.side_mut(order.side);
        let queue = book.get_mut(&order.price).expect("level of a live order");
        let pos = queue.iter().position(|&(i, _)| i == id).expect("order in its level");
        queue.remove(pos);
        if queue.is_empty() {
            book.remove(&order.price);
        }
        order.account
    }

    /// Matches an immediate-or-cancel order; the remainder is dropped.
    fn ioc(&mut self, side: Side, limit: u64, mut qty: u64) -> IocOutcome {
        let mut out = IocOutcome::default();
        while qty > 0 {
            let level = match side {
                Side::Buy => self.asks.first_entry(),
                Side::Sell => self.bids.last_entry(),
            };
            let Some(mut level) = level else { break };
            let price = *level.key();
            let acceptable = match side {
                Side::Buy => price <= limit,
                Side::Sell => price >= limit,
            };
            if !acceptable {
                break;
            }
            out.levels += 1;
            let queue = level.get_mut();
            while qty > 0 {
                let Some(front) = queue.front_mut() else { break };
                let take = qty.min(front.1);
                self.fills.record(price, take);
                out.makers_met += 1;
                qty -= take;
                front.1 -= take;
                if front.1 == 0 {
                    let (id, _) = queue.pop_front().expect("front exists");
                    let slot = usize::try_from(id).expect("id fits usize");
                    self.orders[slot] = None;
                    self.live.remove(&id);
                }
            }
            if queue.is_empty() {
                level.remove();
            }
        }
        out.remainder = qty;
        out
    }

    fn level_count(&self) -> usize {
        self.bids.len() + self.asks.len()
    }
}

/// Generates the flow for `config`. Deterministic: the same config gives the same flow.
pub fn generate(config: FlowConfig) -> Flow {
    let mut rng = SplitMix64::new(config.seed ^ 0x6E6F_7661_7469_6F6E);
    let mut shadow = Shadow::default();
    shadow.orders.reserve(config.resting + config.ops + 2);
    let mut stats = FlowStats { best_bid_min: u64::MAX, ..FlowStats::default() };
    let mut next_id = 1u64;

    let maker = |rng: &mut SplitMix64| MAKER_BASE + rng.range(0, u64::from(MAKERS) - 1) as u32;
    let taker = |rng: &mut SplitMix64| TAKER_BASE + rng.range(0, u64::from(TAKERS) - 1) as u32;

    let mut resting = Vec::with_capacity(config.resting);
    for _ in 0..config.resting {
        let side = if rng.chance(0.5) { Side::Buy } else { Side::Sell };
        let distance = rng.range(1, LOAD_DEPTH_TICKS);
        let price = match side {
            Side::Buy => CENTER_PRICE - distance,
            Side::Sell => CENTER_PRICE + distance,
        };
        let (id, account, qty) = (next_id, maker(&mut rng), rng.range(1, 100));
        next_id += 1;
        shadow.add(id, account, side, price, qty);
        resting.push(Op::Add { id, account, side, price, qty });
    }
    stats.live_after_load = shadow.len() as u64;
    let target_live = config.resting.max(100);

    let mut ops = Vec::with_capacity(config.ops);
    let mut makers_per_ioc = Vec::new();
    let mut uniform_cancels = Vec::new();
    for position in 0..config.ops {
        let id = next_id;
        next_id += 1;
        let roll = rng.unit();
        let want_cancel = (0.70..0.95).contains(&roll) && !shadow.is_empty();
        let want_ioc = roll >= 0.95 && !shadow.is_empty();
        let op = if want_cancel {
            let newest = *shadow.live.last().expect("non-empty");
            let oldest = *shadow.live.first().expect("non-empty");
            let recent = rng.chance(0.8);
            let candidate = if recent {
                let back = (rng.unit().powi(3) * 5_000.0) as u64;
                newest.saturating_sub(back).max(oldest)
            } else {
                rng.range(oldest, newest)
            };
            let target = *shadow.live.range(..=candidate).next_back().expect("oldest <= candidate");
            stats.recent_cancels += u64::from(recent);
            if !recent {
                uniform_cancels.push(position);
            }
            let account = shadow.cancel(target);
            stats.cancels += 1;
            Op::Cancel { id: target, account }
        } else if want_ioc {
            let (bid, ask) = (shadow.best_bid(), shadow.best_ask());
            let mid = match (bid, ask) {
                (Some(b), Some(a)) => (b + a) / 2,
                (Some(b), None) => b,
                (None, Some(a)) => a,
                (None, None) => CENTER_PRICE,
            };
            let pull = ((CENTER_PRICE as f64 - mid as f64) / 200.0).clamp(-0.4, 0.4);
            let mut side = if rng.chance(0.5 + pull) { Side::Buy } else { Side::Sell };
            let opposite_empty = match side {
                Side::Buy => ask.is_none(),
                Side::Sell => bid.is_none(),
            };
            if opposite_empty {
                side = side.opposite();
            }
            let (limit, qty) = ioc_size(&shadow, side, &mut rng, shadow.len(), target_live);
            let account = taker(&mut rng);
            let outcome = shadow.ioc(side, limit, qty);
            stats.iocs += 1;
            stats.ioc_makers_met += outcome.makers_met;
            makers_per_ioc.push(outcome.makers_met);
            stats.ioc_multi_level += u64::from(outcome.levels >= 2);
            stats.ioc_with_remainder += u64::from(outcome.remainder > 0);
            Op::Ioc { id, account, side, limit, qty }
        } else {
            let side = if rng.chance(0.5) { Side::Buy } else { Side::Sell };
            let k = rng.range(1, ADD_MAX_TICKS_BEHIND);
            let price = match side {
                Side::Buy => {
                    let reference = shadow
                        .best_ask()
                        .or(shadow.best_bid().map(|b| b + 1))
                        .unwrap_or(CENTER_PRICE + 1);
                    reference - k
                }
                Side::Sell => {
                    let reference = shadow
                        .best_bid()
                        .or(shadow.best_ask().map(|a| a - 1))
                        .unwrap_or(CENTER_PRICE - 1);
                    reference + k
                }
            };
            assert!(price >= 1);
            let (account, qty) = (maker(&mut rng), rng.range(1, 100));
            shadow.add(id, account, side, price, qty);
            stats.adds += 1;
            Op::Add { id, account, side, price, qty }
        };
        if let Some(b) = shadow.best_bid() {
            stats.best_bid_min = stats.best_bid_min.min(b);
        }
        if let Some(a) = shadow.best_ask() {
            stats.best_ask_max = stats.best_ask_max.max(a);
        }
        ops.push(op);
    }
    makers_per_ioc.sort_unstable();
    let rank = |p: f64| {
        let r = ((p * makers_per_ioc.len() as f64).ceil() as usize)
            .clamp(1, makers_per_ioc.len().max(1));
        makers_per_ioc.get(r - 1).copied().unwrap_or(0)
    };
    stats.ioc_makers_p50 = rank(0.5);
    stats.ioc_makers_p99 = rank(0.99);
    stats.ioc_makers_max = makers_per_ioc.last().copied().unwrap_or(0);
    stats.live_at_end = shadow.len() as u64;
    stats.levels_at_end = shadow.level_count() as u64;
    if stats.best_bid_min == u64::MAX {
        stats.best_bid_min = 0;
    }
    Flow { config, resting, ops, expected: shadow.fills(), stats, uniform_cancels }
}

/// Chooses the limit price and size of a marketable IOC on `side` (see the module docs).
fn ioc_size(
    shadow: &Shadow,
    side: Side,
    rng: &mut SplitMix64,
    live: usize,
    target_live: usize,
) -> (u64, u64) {
    let past = |price: u64, ticks: u64| match side {
        Side::Buy => price + ticks,
        Side::Sell => price.saturating_sub(ticks).max(1),
    };
    // Steer the book towards its loaded size: below it, IOCs are small and never sweep levels;
    // above it, they meet more makers. At the target, an IOC meets about 9 makers on average,
    // which balances the 70 % adds against the 25 % cancels.
    let (sweep_ok, n_max) = if live < target_live - target_live / 20 {
        (false, 4)
    } else if live > target_live + target_live / 20 {
        (true, 30)
    } else {
        (true, 12)
    };
    if sweep_ok && rng.chance(0.15) {
        // Sweep 1..=3 whole levels (fewer if they hold too many makers) and ask for a little
        // more than they hold: the limit stops at the last swept level, so the rest is dropped.
        let wanted = rng.range(1, 3) as usize;
        let mut qty = 0;
        let mut makers = 0;
        let mut last_price = None;
        for (price, level_qty, orders) in shadow.levels(side).take(wanted) {
            if makers + orders > IOC_MAKERS_MAX {
                break;
            }
            makers += orders;
            qty += level_qty;
            last_price = Some(price);
        }
        if let Some(limit) = last_price {
            return (limit, qty + rng.range(0, 60));
        }
    }
    // Meet 1..=n_max makers; the last one is often only partly filled.
    let wanted = rng.range(1, n_max) as usize;
    let mut qty = 0;
    let mut last = (0, 0);
    for (price, maker_qty) in shadow.makers(side).take(wanted) {
        qty += maker_qty;
        last = (price, maker_qty);
    }
    let (last_price, last_qty) = last;
    debug_assert!(last_qty > 0, "the opposite side is not empty");
    if rng.chance(0.5) {
        qty -= rng.range(0, last_qty - 1);
    }
    (past(last_price, rng.range(0, 2)), qty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let config = FlowConfig { seed: 3, resting: 500, ops: 5_000 };
        let (a, b) = (generate(config), generate(config));
        assert_eq!(a.ops, b.ops);
        assert_eq!(a.resting, b.resting);
        assert_eq!(a.expected, b.expected);
        assert!(a.expected.qty > 0);
        assert_eq!(a.uniform_cancels, b.uniform_cancels);
    }

    /// The uniform cancels are exactly the cancels not counted as recent, listed ascending.
    #[test]
    fn uniform_cancels_are_the_non_recent_cancels() {
        let flow = generate(FlowConfig { seed: 5, resting: 500, ops: 20_000 });
        let s = flow.stats;
        assert_eq!(flow.uniform_cancels.len() as u64, s.cancels - s.recent_cancels);
        assert!(!flow.uniform_cancels.is_empty());
        assert!(flow.uniform_cancels.windows(2).all(|w| w[0] < w[1]));
        assert!(flow.uniform_cancels.iter().all(|&i| flow.ops[i].kind() == OpKind::Cancel));
    }

    #[test]
    fn shadow_matches_price_time() {
        let mut s = Shadow::default();
        s.add(1, 1, Side::Sell, 101, 5);
        s.add(2, 2, Side::Sell, 100, 3);
        s.add(3, 3, Side::Sell, 100, 4);
        let out = s.ioc(Side::Buy, 100, 5);
        assert_eq!((out.makers_met, out.levels, out.remainder), (2, 1, 0));
        assert_eq!(s.fills(), Fills { qty: 5, notional: 500 });
        let out = s.ioc(Side::Buy, 101, 20);
        assert_eq!((out.makers_met, out.levels, out.remainder), (2, 2, 13));
        assert_eq!(s.fills(), Fills { qty: 12, notional: 500 + 200 + 505 });
        assert!(s.is_empty());
    }
}
