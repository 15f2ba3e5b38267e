//! Test harness: named traders, human prices, one-call blocks, invariant checks after every
//! block, and a "rejection leaves no trace" check.
//!
//! Every [`Sim::block`] also checks the **dirty-tracking contract**: each account whose
//! [`AccountSnapshot`] differs from the one taken after the previous block (or that is new) is
//! in `take_dirty_accounts()`, which is sorted, deduplicated and names existing accounts only.
//! Changes made between blocks (insurance seeds, governance) are caught by the next block's
//! check. So every scenario, adversarial and random test checks the contract on its paths:
//! fills, expiries, the watch, the waterfall, auctions, insurance takeovers and ADL.
#![allow(dead_code)]

use novation_engine::{
    AccountSnapshot, Action, BlockContext, BucketId, Engine, EngineParams, Event, GlobalSnapshot,
    MarketId, MarketParams, MarketSnapshot, MarketStatus, OrderRequest, Rejection, Tx, Valuation,
};
use novation_types::{AccountId, Address, PriceTicks, QtyLots, Quote, Side};

/// USDC → quote atoms.
pub fn usd(x: i128) -> Quote {
    Quote(x * 1_000_000)
}

/// A deterministic address for a trader name.
pub fn addr(name: &str) -> Address {
    let mut a = [0u8; 20];
    for (i, b) in name.bytes().enumerate().take(20) {
        a[i] = b;
    }
    Address(a)
}

#[derive(Clone, Debug)]
pub struct Sim {
    pub engine: Engine,
    pub height: u64,
    pub time_ms: u64,
    /// Index per market used for the next block (carried).
    pub index: Vec<Option<PriceTicks>>,
    /// Block interval in ms.
    pub step_ms: u64,
    pub last_events: Vec<Event>,
    /// Every block executed so far, in order (the constructor's first block included), so a
    /// twin engine can be rebuilt by replaying.
    pub log: Vec<(BlockContext, Vec<Tx>)>,
    /// Every account's snapshot after the last block (the dirty-tracking check's baseline).
    pub snapshots: Vec<AccountSnapshot>,
    /// The dirty set the last block returned.
    pub last_dirty: Vec<AccountId>,
}

pub const BTC: MarketId = MarketId(0);

impl Sim {
    /// One BTC-like market (tick-lot = 100 atoms: tick $0.1, lot 0.001), index at `index`
    /// ticks, one block executed.
    pub fn btc(index_ticks: u64) -> Sim {
        Self::with_markets(vec![MarketParams::example("BTC-PERP")], &[index_ticks])
    }

    pub fn with_markets(markets: Vec<MarketParams>, index: &[u64]) -> Sim {
        Self::with(EngineParams::DEFAULT, markets, index)
    }

    pub fn with(params: EngineParams, markets: Vec<MarketParams>, index: &[u64]) -> Sim {
        let mut engine = Engine::new(params).expect("params");
        for m in markets {
            engine.add_market(m).expect("market");
        }
        let mut sim = Sim {
            engine,
            height: 0,
            time_ms: 1_700_000_000_000,
            index: index.iter().map(|&p| Some(PriceTicks(p))).collect(),
            step_ms: 1_000,
            last_events: Vec::new(),
            log: Vec::new(),
            snapshots: Vec::new(),
            last_dirty: Vec::new(),
        };
        sim.block(vec![]);
        sim
    }

    pub fn set_index(&mut self, market: MarketId, ticks: u64) {
        self.index[usize::from(market.0)] = Some(PriceTicks(ticks));
    }

    /// Executes one block with `txs`; checks invariants; returns events.
    pub fn block(&mut self, txs: Vec<Tx>) -> Vec<Event> {
        self.height += 1;
        self.time_ms += self.step_ms;
        let ctx = BlockContext {
            height: self.height,
            time_ms: self.time_ms,
            index_prices: self
                .index
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.map(|p| (MarketId(i as u16), p)))
                .collect(),
        };
        self.log.push((ctx.clone(), txs.clone()));
        let events = self.engine.apply_block(&ctx, &txs).expect("block accepted");
        if let Err(e) = self.engine.check_invariants() {
            panic!("invariant broken at height {}: {e}\nevents: {events:#?}", self.height);
        }
        self.last_dirty = self.take_dirty_checked(&events);
        self.last_events = events.clone();
        events
    }

    /// Takes the engine's dirty set and checks it (module doc) against the snapshots taken at
    /// the last check, which it then replaces; checks the snapshots' consistency with each
    /// other. `block` calls it; call it between blocks to take the set there (`events` is only
    /// printed on failure).
    pub fn take_dirty_checked(&mut self, events: &[Event]) -> Vec<AccountId> {
        let dirty = self.engine.take_dirty_accounts();
        let count = self.engine.account_count();
        assert!(
            dirty.windows(2).all(|w| w[0] < w[1]),
            "dirty set not sorted and deduplicated at height {}: {dirty:?}",
            self.height
        );
        assert!(dirty.iter().all(|a| (a.0 as usize) < count), "dirty set names no account");
        let (accounts, markets, global) = snapshots_of(&self.engine);
        for (i, now) in accounts.iter().enumerate() {
            let id = AccountId(i as u32);
            let before = self.snapshots.get(i);
            if before != Some(now) && dirty.binary_search(&id).is_err() {
                panic!(
                    "account {i} changed at height {} but is not in the dirty set {dirty:?}\n\
                     before: {before:#?}\nafter: {now:#?}\nevents: {events:#?}",
                    self.height
                );
            }
        }
        // The global waterfall list is the union of the accounts' lists; every resting order
        // is listed under its owner, and each leg's resting lots are its orders'.
        let union: Vec<_> = accounts.iter().flat_map(|a| a.liquidating.iter().copied()).collect();
        assert_eq!(union, global.liquidations, "global waterfall != accounts' waterfall states");
        let listed: u64 = accounts.iter().map(|a| a.orders.len() as u64).sum();
        let resting: u64 = markets.iter().map(|m| m.book.orders).sum();
        assert_eq!(listed, resting, "orders listed under accounts != orders in the books");
        for a in &accounts {
            assert!(a.orders.windows(2).all(|w| (w[0].market, w[0].id) < (w[1].market, w[1].id)));
            let buckets = core::iter::once(&a.cross).chain(a.isolated.iter().map(|(_, b)| b));
            for leg in buckets.flat_map(|b| b.legs.iter()) {
                let lots = |side: Side| -> u64 {
                    a.orders
                        .iter()
                        .filter(|o| o.market == leg.market && o.side == side)
                        .map(|o| o.remaining.0)
                        .sum()
                };
                assert_eq!((leg.open_buy, leg.open_sell), (lots(Side::Buy), lots(Side::Sell)));
            }
        }
        assert_eq!(global.accounts as usize, count);
        assert_eq!(global.now.height, self.height);
        self.snapshots = accounts;
        dirty
    }

    /// Runs `n` empty blocks.
    pub fn idle(&mut self, n: u64) -> Vec<Event> {
        let mut all = Vec::new();
        for _ in 0..n {
            all.extend(self.block(vec![]));
        }
        all
    }

    pub fn tx(name: &str, action: Action) -> Tx {
        Tx { sender: addr(name), action }
    }

    /// One action in its own block; returns its rejection, if any.
    pub fn act(&mut self, name: &str, action: Action) -> Result<Vec<Event>, Rejection> {
        let events = self.block(vec![Self::tx(name, action)]);
        match events.iter().find_map(|e| match e {
            Event::Rejected { reason, .. } => Some(*reason),
            _ => None,
        }) {
            Some(r) => Err(r),
            None => Ok(events),
        }
    }

    pub fn deposit(&mut self, name: &str, dollars: i128) {
        self.act(name, Action::Deposit { sub: 0, amount: usd(dollars) }).expect("deposit");
    }

    pub fn order(&mut self, name: &str, req: OrderRequest) -> Result<Vec<Event>, Rejection> {
        self.act(name, Action::Place(req))
    }

    pub fn limit(
        &mut self,
        name: &str,
        side: Side,
        qty: u64,
        price: u64,
    ) -> Result<Vec<Event>, Rejection> {
        self.order(name, OrderRequest::limit(0, BTC, side, price, qty))
    }

    pub fn id(&self, name: &str) -> AccountId {
        self.engine.account_id(addr(name), 0).expect("account exists")
    }

    /// Signed position size in BTC.
    pub fn position(&self, name: &str) -> i64 {
        self.position_in(name, BTC)
    }

    pub fn position_in(&self, name: &str, market: MarketId) -> i64 {
        let acc = self.engine.account(self.id(name)).expect("account");
        let bucket = acc.bucket_of(market);
        acc.bucket(bucket).and_then(|b| b.leg(market)).map_or(0, |l| l.size)
    }

    pub fn value(&self, name: &str) -> Valuation {
        self.engine.valuation(self.id(name), BucketId::Cross).expect("valuation")
    }

    pub fn equity(&self, name: &str) -> Quote {
        self.value(name).equity
    }

    pub fn cash(&self, name: &str) -> Quote {
        self.engine.account(self.id(name)).expect("account").cross.cash
    }

    pub fn mark(&self) -> PriceTicks {
        self.engine.market(BTC).expect("market").mark
    }

    /// Runs `action` alone in a block, asserts it is rejected with `expected`, and compares
    /// account, book and pool state before and after (the block's own price step aside).
    pub fn rejects(&mut self, name: &str, action: Action, expected: Rejection) {
        let before = self.snapshot();
        let got = self.act(name, action);
        assert_eq!(got.err(), Some(expected), "expected rejection {expected:?}");
        let after = self.snapshot();
        assert_eq!(before, after, "rejected action changed state");
    }

    /// Account-level state that an action could change (cash, legs, orders, pools).
    pub fn snapshot(&self) -> String {
        let mut s = String::new();
        for i in 0..self.engine.account_count() {
            let a = self.engine.account(AccountId(i as u32)).expect("account");
            s.push_str(&format!(
                "{:?} {:?} {:?}\n",
                a.cross.cash,
                a.cross
                    .legs
                    .iter()
                    .map(|l| (l.market, l.size, l.entry_notional, l.open_buy, l.open_sell))
                    .collect::<Vec<_>>(),
                a.isolated.iter().map(|(m, b)| (*m, b.cash, b.legs.len())).collect::<Vec<_>>()
            ));
        }
        for m in self.engine.markets() {
            s.push_str(&format!(
                "{} {} {:?} {}\n",
                m.long_lots,
                m.book.len(),
                m.funding_pool,
                m.holders.len()
            ));
        }
        s.push_str(&format!("{:?} {:?}\n", self.engine.fee_pool(), self.engine.flows()));
        s
    }

    pub fn count(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
        events.iter().filter(|e| f(e)).count()
    }
}

pub fn qty(q: u64) -> QtyLots {
    QtyLots(q)
}

/// How a [`Sim`] was built, so that a twin can be rebuilt and replayed.
#[derive(Clone, Debug)]
pub struct Setup {
    pub params: EngineParams,
    pub markets: Vec<MarketParams>,
    pub index: Vec<u64>,
    /// Insurance seeds applied right after construction.
    pub insurance: Vec<(MarketId, Quote)>,
    /// Governance status changes made between blocks: after log entry `.0`.
    pub governance: Vec<(usize, MarketId, MarketStatus)>,
}

impl Setup {
    pub fn new(markets: Vec<MarketParams>, index: &[u64]) -> Setup {
        Setup {
            params: EngineParams::DEFAULT,
            markets,
            index: index.to_vec(),
            insurance: vec![],
            governance: vec![],
        }
    }

    /// A fresh simulation: the constructor's first block, then the insurance seeds.
    pub fn build(&self) -> Sim {
        let mut s = Sim::with(self.params, self.markets.clone(), &self.index);
        for &(m, q) in &self.insurance {
            s.engine.seed_insurance(m, q).expect("seed insurance");
        }
        s
    }

    /// Rebuilds from scratch and replays `log` (after the constructor's block), leaving out
    /// the transactions for which `drop(block, tx)` is true. Returns the engine after each
    /// replayed block as a full `Debug` snapshot.
    pub fn replay(
        &self,
        log: &[(BlockContext, Vec<Tx>)],
        drop: impl Fn(usize, usize) -> bool,
    ) -> Vec<String> {
        let mut twin = self.build();
        let mut out = Vec::new();
        for (b, (ctx, txs)) in log.iter().enumerate().skip(1) {
            let kept: Vec<Tx> = txs
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop(b, *i))
                .map(|(_, t)| t.clone())
                .collect();
            twin.engine.apply_block(ctx, &kept).expect("replayed block accepted");
            for &(_, m, status) in self.governance.iter().filter(|g| g.0 == b) {
                twin.engine.set_market_status(m, status).expect("status");
            }
            out.push(state_of(&twin.engine));
        }
        out
    }
}

/// Every account's, every market's and the global snapshot.
pub fn snapshots_of(
    engine: &Engine,
) -> (Vec<AccountSnapshot>, Vec<MarketSnapshot>, GlobalSnapshot) {
    let accounts = (0..engine.account_count())
        .map(|i| engine.account_snapshot(AccountId(i as u32)).expect("account snapshot"))
        .collect();
    let markets =
        engine.markets().iter().map(|m| engine.market_snapshot(m.id).expect("market")).collect();
    (accounts, markets, engine.global_snapshot())
}

/// The whole engine state as text (the engine derives `Debug`; its per-block scratch buffers
/// are empty between blocks).
pub fn state_of(engine: &Engine) -> String {
    format!("{engine:?}")
}

/// Panics with the first difference between two state renderings (with some context).
pub fn assert_same_state(expected: &str, got: &str, what: &str) {
    if expected == got {
        return;
    }
    let at = expected.bytes().zip(got.bytes()).take_while(|(a, b)| a == b).count();
    let from = at.saturating_sub(300);
    let end = |s: &str| (at + 300).min(s.len());
    panic!(
        "{what}: states differ at byte {at}\nexpected …{}…\n     got …{}…",
        &expected[from..end(expected)],
        &got[from..end(got)]
    );
}

/// Renders quote atoms as dollars, trimming trailing zeros: `2100`, `2099.75`, `-0.000001`.
pub fn dollars(q: Quote) -> String {
    let sign = if q.0 < 0 { "-" } else { "" };
    let a = q.0.unsigned_abs();
    let (whole, frac) = (a / 1_000_000, a % 1_000_000);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{whole}.{}", f.trim_end_matches('0'))
    }
}

/// Parses `2100`, `2099.75` or `-0.000001` dollars into quote atoms.
pub fn parse_dollars(s: &str) -> Quote {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    assert!(frac.len() <= 6, "at most 6 decimals: {s}");
    let whole: i128 = whole.parse().unwrap_or_else(|_| panic!("bad amount {s}"));
    let frac: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().unwrap_or_else(|_| panic!("bad amount {s}"))
    };
    let atoms = whole * 1_000_000 + frac;
    Quote(if neg { -atoms } else { atoms })
}
