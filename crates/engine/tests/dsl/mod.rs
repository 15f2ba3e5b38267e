//! A readable table DSL for engine scenarios, over the test harness.
//!
//! Each line is `command [-> expected]`; `//` starts a comment. Every command that sends an
//! action runs it alone in one block (after that block's price step and liquidation pass).
//! Without `-> expected`, an action must be accepted and a query is only evaluated. Money is in
//! dollars with up to 6 decimals (`2014.999999`), prices in ticks, sizes in lots. Accounts are
//! names (subaccount 0); `m=N` picks market `N` (default 0), `iso` the isolated bucket.
//!
//! Actions (render `ok`, or `rejected Reason`):
//! ```text
//! deposit alice 2100 | withdraw alice 100 | transfer alice bob 100
//! place alice buy 1000 @ 1000000 [ioc|fok|post|slide|market] [reduce-only] [m=N] [as NAME]
//! cancel alice NAME | cancel-all alice | modify alice NAME 500 @ 990000
//! isolate alice [m=N] | cross alice [m=N] | adjust alice 100 [m=N]   (negative: out)
//! bid keeper #1 limit 990000
//! ```
//! A placed order renders what happened to it: `fills Q` (all at its limit) or
//! `fills Q @ P` per price level, then `rests Q` / `cancelled Q`, comma-separated.
//!
//! Blocks and prices:
//! ```text
//! index 985000 [m=N] | index none [m=N]   (the index sent from the next block on)
//! governance reduce-only [m=N]            (sets the governance status)
//! blocks 3 [-> events]                    (empty blocks; renders the waterfall events since
//!                                          the last check, and clears them)
//! events -> ...                           (the same without running a block)
//! blocks until funding [m=N]              (empty blocks up to one with a funding accrual)
//! ```
//! Waterfall events render as `liq-start alice`, `orders-cancelled alice 2`,
//! `closed alice 400 penalty 198`, `auction #1 alice long 1000 from 985000 to 980150`,
//! `won #1 keeper 1000 @ 984515`, `auction-closed #1`, `insurance-takes alice 1000 @ 980150`,
//! `adl alice bob 500 @ 980150`, `uncovered alice 12.5`, `liq-end alice`,
//! `status m0 reduce-only index-move`; `nothing` if none.
//!
//! Queries (`query -> value`; a value may be written `> 0`, `<= 12.5`, ...):
//! ```text
//! position alice | cash alice | equity alice | maintenance alice | initial alice
//! withdrawable alice | liquidating alice | insurance | insurance position | fee-pool
//! mark | status | auctions | auction #1 price | adl-queue long | adl-rank alice
//! funding alice   (change of the leg's pending funding since the last `funding alice`)
//! ```
//!
//! Every rejected action is also checked to leave no trace: the whole engine state after its
//! block equals that of a twin rebuilt from scratch and replayed without the action.

use std::collections::BTreeMap;

use novation_engine::{
    Action, AuctionId, BucketId, Event, MarketId, MarketStatus, OrderRequest, StatusCause,
    TimeInForce, Tx,
};
use novation_types::{AccountId, OrderId, PriceTicks, QtyLots, Quote, Side};

use crate::harness::{addr, assert_same_state, dollars, parse_dollars, state_of, Setup, Sim};

/// A scenario: the simulation and how it was built.
pub struct Table {
    pub setup: Setup,
    pub sim: Sim,
    names: Vec<String>,
    orders: BTreeMap<String, (MarketId, OrderId)>,
    pending: Vec<String>,
    funding_seen: BTreeMap<String, i128>,
}

impl Table {
    pub fn new(setup: Setup) -> Table {
        let sim = setup.build();
        Table {
            setup,
            sim,
            names: Vec::new(),
            orders: BTreeMap::new(),
            pending: Vec::new(),
            funding_seen: BTreeMap::new(),
        }
    }

    /// Runs every line of `table`, panicking with the line on a mismatch.
    pub fn run(&mut self, table: &str) {
        for (n, raw) in table.lines().enumerate() {
            let line = raw.split("//").next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (command, expected) = match line.split_once("->") {
                Some((c, e)) => (c.trim(), Some(e.trim())),
                None => (line, None),
            };
            let got = self.execute(command, expected.is_some());
            match expected {
                Some(e) => {
                    assert!(matches(&got, e), "\nline {}: {line}\n   got: {got}", n + 1);
                }
                None => {
                    assert!(!got.starts_with("rejected"), "\nline {}: {line}\n   got: {got}", n + 1)
                }
            }
        }
    }

    fn name_of(&self, account: AccountId) -> String {
        for name in &self.names {
            if self.sim.engine.account_id(addr(name), 0) == Some(account) {
                return name.clone();
            }
        }
        let insurance = self.sim.engine.markets().iter().find(|m| m.insurance == account);
        match insurance {
            Some(m) if m.id.0 == 0 => "insurance".into(),
            Some(m) => format!("insurance{}", m.id.0),
            None => format!("account{}", account.0),
        }
    }

    fn learn(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    fn id(&self, name: &str) -> AccountId {
        self.sim.engine.account_id(addr(name), 0).unwrap_or_else(|| panic!("no account {name}"))
    }

    /// Runs one block and folds its waterfall events into `pending`.
    fn block(&mut self, txs: Vec<Tx>) -> Vec<Event> {
        let events = self.sim.block(txs);
        for e in &events {
            if let Some(r) = self.render_waterfall(e) {
                self.pending.push(r);
            }
        }
        events
    }

    /// One action in its own block; checks a rejection left no trace.
    fn act(&mut self, name: &str, action: Action) -> Result<Vec<Event>, String> {
        self.learn(name);
        let events = self.block(vec![Sim::tx(name, action)]);
        let rejected = events.iter().find_map(|e| match e {
            Event::Rejected { reason, .. } => Some(*reason),
            _ => None,
        });
        match rejected {
            None => Ok(events),
            Some(reason) => {
                let last = self.sim.log.len() - 1;
                let twin = self.setup.replay(&self.sim.log, |b, _| b == last);
                assert_same_state(
                    twin.last().map_or("", String::as_str),
                    &state_of(&self.sim.engine),
                    &format!("rejected action {reason:?} left a trace"),
                );
                Err(format!("rejected {reason:?}"))
            }
        }
    }

    fn execute(&mut self, command: &str, checked: bool) -> String {
        let words: Vec<&str> = command.split_whitespace().collect();
        let market = opt_market(&words);
        let iso = words.contains(&"iso");
        let bucket = if iso { BucketId::Isolated(market) } else { BucketId::Cross };
        let ok = |r: Result<Vec<Event>, String>| r.map_or_else(|e| e, |_| "ok".to_string());
        match words.as_slice() {
            ["deposit", name, amount, ..] => {
                ok(self.act(name, Action::Deposit { sub: 0, amount: parse_dollars(amount) }))
            }
            ["withdraw", name, amount, ..] => {
                ok(self.act(name, Action::Withdraw { sub: 0, amount: parse_dollars(amount) }))
            }
            ["transfer", name, to, amount, ..] => {
                self.learn(to);
                let action = Action::Transfer {
                    sub: 0,
                    to: addr(to),
                    to_sub: 0,
                    amount: parse_dollars(amount),
                };
                ok(self.act(name, action))
            }
            ["place", name, side, qty, "@", price, opts @ ..] => {
                self.place(name, side, qty, price, opts, market)
            }
            ["cancel", name, label] => {
                let (m, id) = self.orders[*label];
                ok(self.act(name, Action::Cancel { sub: 0, market: m, id }))
            }
            ["cancel-all", name, ..] => {
                ok(self.act(name, Action::CancelAll { sub: 0, market: None, side: None }))
            }
            ["modify", name, label, qty, "@", price] => {
                let (m, id) = self.orders[*label];
                let action = Action::Modify {
                    sub: 0,
                    market: m,
                    id,
                    price: PriceTicks(num(price)),
                    qty: QtyLots(num(qty)),
                };
                ok(self.act(name, action))
            }
            ["isolate", name, ..] => {
                ok(self.act(name, Action::SetMarginMode { sub: 0, market, isolated: true }))
            }
            ["cross", name, ..] => {
                ok(self.act(name, Action::SetMarginMode { sub: 0, market, isolated: false }))
            }
            ["adjust", name, amount, ..] => {
                let amount = parse_dollars(amount);
                ok(self.act(name, Action::AdjustIsolatedMargin { sub: 0, market, amount }))
            }
            ["bid", name, auction, "limit", price] => {
                let auction = AuctionId(num(auction.trim_start_matches('#')));
                let action =
                    Action::BidLiquidation { sub: 0, auction, price_limit: PriceTicks(num(price)) };
                ok(self.act(name, action))
            }
            ["index", "none", ..] => {
                self.sim.index[usize::from(market.0)] = None;
                "ok".into()
            }
            ["index", price, ..] => {
                self.sim.set_index(market, num(price));
                "ok".into()
            }
            ["governance", status, ..] => {
                let status = parse_status(status);
                self.sim.engine.set_market_status(market, status).expect("status");
                self.setup.governance.push((self.sim.log.len() - 1, market, status));
                "ok".into()
            }
            ["blocks", n] => {
                for _ in 0..num(n) {
                    self.block(vec![]);
                }
                if checked {
                    self.take_pending()
                } else {
                    self.pending.clear();
                    "ok".into()
                }
            }
            ["blocks", "until", "funding"] => {
                for _ in 0..100_000 {
                    let events = self.block(vec![]);
                    if events
                        .iter()
                        .any(|e| matches!(e, Event::Funding { market: m, .. } if *m == market))
                    {
                        break;
                    }
                }
                self.pending.clear();
                "ok".into()
            }
            ["funding", name, ..] => {
                let pending = self.pending_funding(name, market);
                let before = self.funding_seen.insert(name.to_string(), pending).unwrap_or(0);
                dollars(Quote(pending - before))
            }
            ["events"] => self.take_pending(),
            _ => self.query(&words, market, bucket),
        }
    }

    /// Funding the account's leg in `market` would pay if it settled now (negative: receive).
    fn pending_funding(&self, name: &str, market: MarketId) -> i128 {
        let e = &self.sim.engine;
        let acc = e.account(self.id(name)).expect("account");
        let leg = acc.bucket(acc.bucket_of(market)).and_then(|b| b.leg(market)).copied();
        leg.map_or(0, |l| {
            novation_engine::leg_value(e.market(market).expect("market"), &l)
                .expect("value")
                .funding
        })
    }

    fn take_pending(&mut self) -> String {
        let out = if self.pending.is_empty() { "nothing".into() } else { self.pending.join(", ") };
        self.pending.clear();
        out
    }

    fn place(
        &mut self,
        name: &str,
        side: &str,
        qty: &str,
        price: &str,
        opts: &[&str],
        market: MarketId,
    ) -> String {
        let price = num(price);
        let mut req = OrderRequest::limit(0, market, parse_side(side), price, num(qty));
        let mut label = None;
        let mut it = opts.iter();
        while let Some(o) = it.next() {
            match *o {
                "ioc" | "market" => req.tif = TimeInForce::Ioc,
                "fok" => req.tif = TimeInForce::Fok,
                "post" => req.tif = TimeInForce::PostOnly,
                "slide" => req.tif = TimeInForce::PostOnlySlide,
                "reduce-only" => req.reduce_only = true,
                "as" => label = it.next().map(|s| s.to_string()),
                o if o.starts_with("m=") => {}
                o => panic!("unknown order option {o}"),
            }
        }
        let events = match self.act(name, Action::Place(req)) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let id = events
            .iter()
            .find_map(|e| match e {
                Event::OrderAccepted { id, .. } => Some(*id),
                _ => None,
            })
            .expect("accepted order has an id");
        if let Some(l) = label {
            self.orders.insert(l, (market, id));
        }
        let mut fills: Vec<(u64, u64)> = Vec::new();
        let mut tail = Vec::new();
        for e in &events {
            let Event::Book { event, .. } = e else { continue };
            match *event {
                novation_book::Event::Fill { taker_id, price: p, qty: q, .. } if taker_id == id => {
                    match fills.last_mut() {
                        Some((lp, lq)) if *lp == p.0 => *lq += q.0,
                        _ => fills.push((p.0, q.0)),
                    }
                }
                novation_book::Event::Resting { id: i, qty: q, .. } if i == id => {
                    tail.push(format!("rests {}", q.0));
                }
                novation_book::Event::Cancelled { id: i, remaining, .. } if i == id => {
                    tail.push(format!("cancelled {}", remaining.0));
                }
                _ => {}
            }
        }
        let mut parts: Vec<String> = if fills.iter().all(|(p, _)| *p == price) {
            let total: u64 = fills.iter().map(|(_, q)| q).sum();
            if total > 0 {
                vec![format!("fills {total}")]
            } else {
                vec![]
            }
        } else {
            fills.iter().map(|(p, q)| format!("fills {q} @ {p}")).collect()
        };
        parts.extend(tail);
        if parts.is_empty() {
            "accepted".into()
        } else {
            parts.join(", ")
        }
    }

    fn query(&mut self, words: &[&str], market: MarketId, bucket: BucketId) -> String {
        let e = &self.sim.engine;
        let m = e.market(market).expect("market");
        let value = |name: &str| e.valuation(self.id(name), bucket).expect("valuation");
        match words {
            ["position", name, ..] => {
                let acc = e.account(self.id(name)).expect("account");
                let b = acc.bucket_of(market);
                acc.bucket(b).and_then(|b| b.leg(market)).map_or(0, |l| l.size).to_string()
            }
            ["cash", name, ..] => {
                let acc = e.account(self.id(name)).expect("account");
                dollars(acc.bucket(bucket).map_or(Quote::ZERO, |b| b.cash))
            }
            ["equity", name, ..] => dollars(value(name).equity),
            ["maintenance", name, ..] => dollars(value(name).maintenance),
            ["initial", name, ..] => dollars(value(name).initial),
            ["withdrawable", name, ..] => dollars(e.withdrawable(self.id(name)).expect("account")),
            ["liquidating", name, ..] => {
                if e.in_liquidation(self.id(name), bucket) { "yes" } else { "no" }.into()
            }
            ["insurance", "position", ..] => {
                let fund = e.account(m.insurance).expect("fund");
                fund.cross.leg(market).map_or(0, |l| l.size).to_string()
            }
            ["insurance", ..] => dollars(e.insurance_fund(market).expect("fund")),
            ["fee-pool"] => dollars(e.fee_pool()),
            ["mark", ..] => m.mark.0.to_string(),
            ["status", ..] => status_name(m.status).into(),
            ["auctions"] => e.auctions().count().to_string(),
            ["auction", id, "price"] => {
                let id = AuctionId(num(id.trim_start_matches('#')));
                e.auction_price(id).map_or("none".into(), |p| p.0.to_string())
            }
            ["adl-queue", side, ..] => {
                let side = match *side {
                    "long" => Side::Buy,
                    "short" => Side::Sell,
                    s => panic!("adl-queue long|short, not {s}"),
                };
                let q = e.adl_queue(market, side).expect("adl queue");
                let names: Vec<String> = q.iter().map(|x| self.name_of(x.account)).collect();
                if names.is_empty() {
                    "empty".into()
                } else {
                    names.join(", ")
                }
            }
            ["adl-rank", name, ..] => {
                e.adl_rank(market, self.id(name)).map_or("none".into(), |r| r.to_string())
            }
            _ => panic!("unknown command: {}", words.join(" ")),
        }
    }

    fn render_waterfall(&self, e: &Event) -> Option<String> {
        let n = |a: AccountId| self.name_of(a);
        Some(match *e {
            Event::LiquidationStarted { account, bucket, .. } => {
                format!("liq-start {}{}", n(account), iso_suffix(bucket))
            }
            Event::LiquidationOrdersCancelled { account, orders } if orders > 0 => {
                format!("orders-cancelled {} {orders}", n(account))
            }
            Event::LiquidationClosed { account, qty, penalty, .. } => {
                format!("closed {} {} penalty {}", n(account), qty.0, dollars(penalty))
            }
            Event::AuctionOpened { auction, account, side, qty, start, end, .. } => format!(
                "auction #{} {} {} {} from {} to {}",
                auction.0,
                n(account),
                if side == Side::Buy { "long" } else { "short" },
                qty.0,
                start.0,
                end.0
            ),
            Event::AuctionWon { auction, bidder, price, qty } => {
                format!("won #{} {} {} @ {}", auction.0, n(bidder), qty.0, price.0)
            }
            Event::AuctionClosed { auction } => format!("auction-closed #{}", auction.0),
            Event::InsuranceTakeover { account, qty, price, .. } => {
                format!("insurance-takes {} {} @ {}", n(account), qty.0, price.0)
            }
            Event::Deleveraged { account, counterparty, qty, price, .. } => {
                format!("adl {} {} {} @ {}", n(account), n(counterparty), qty.0, price.0)
            }
            Event::UncoveredDeficit { account, amount } => {
                format!("uncovered {} {}", n(account), dollars(amount))
            }
            Event::LiquidationEnded { account, bucket } => {
                format!("liq-end {}{}", n(account), iso_suffix(bucket))
            }
            Event::MarketStatus { market, status, cause } => format!(
                "status m{} {} {}",
                market.0,
                status_name(status),
                match cause {
                    StatusCause::IndexMove => "index-move",
                    StatusCause::IndexStale => "index-stale",
                    StatusCause::Recovered => "recovered",
                    StatusCause::Governance => "governance",
                    StatusCause::Fault => "fault",
                }
            ),
            _ => return None,
        })
    }
}

fn iso_suffix(b: BucketId) -> &'static str {
    match b {
        BucketId::Cross => "",
        BucketId::Isolated(_) => " iso",
    }
}

fn status_name(s: MarketStatus) -> &'static str {
    match s {
        MarketStatus::Active => "active",
        MarketStatus::PostOnly => "post-only",
        MarketStatus::ReduceOnly => "reduce-only",
        MarketStatus::CancelOnly => "cancel-only",
        MarketStatus::Halted => "halted",
    }
}

fn parse_status(s: &str) -> MarketStatus {
    match s {
        "active" => MarketStatus::Active,
        "post-only" => MarketStatus::PostOnly,
        "reduce-only" => MarketStatus::ReduceOnly,
        "cancel-only" => MarketStatus::CancelOnly,
        "halted" => MarketStatus::Halted,
        s => panic!("unknown status {s}"),
    }
}

fn parse_side(s: &str) -> Side {
    match s {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        s => panic!("side must be buy or sell, not {s}"),
    }
}

fn opt_market(words: &[&str]) -> MarketId {
    words.iter().find_map(|w| w.strip_prefix("m=")).map_or(MarketId(0), |m| MarketId(num(m) as u16))
}

fn num(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

/// `expected` is either the exact rendering or a numeric comparison (`> 0`, `<= 12.5`).
fn matches(got: &str, expected: &str) -> bool {
    for op in [">=", "<=", ">", "<"] {
        if let Some(rhs) = expected.strip_prefix(op) {
            let (g, r) = (parse_dollars(got).0, parse_dollars(rhs.trim()).0);
            return match op {
                ">=" => g >= r,
                "<=" => g <= r,
                ">" => g > r,
                _ => g < r,
            };
        }
    }
    got == expected
}
