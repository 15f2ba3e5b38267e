//! A readable table DSL for order-book scenarios.
//!
//! Each line is `command -> expected`, where `expected` is the comma-separated rendering of the
//! events the command produced (`Accepted` is implied and not written). Orders get ids 1, 2, 3...
//! in placement order unless `id=N` is given; accounts are names.
//!
//! Commands:
//! ```text
//! place alice buy 5 @ 100 [ioc|fok|post|post-slide|market] [cid=N] [gtb=H] [gtt=T]
//!       [stp=newest|oldest|both|decrement] [reduce-only] [id=N]
//! cancel alice #3 | cancel alice cid=7 | cancel-all alice [buy|sell]
//! modify alice #3 4 @ 101
//! expire 10                      (sweep up to 10 expired orders)
//! now height=5 time=1000         (set the block height/time; renders as `ok`)
//! book                           (renders `bids 5@100 3@99 | asks 8@101`)
//! level 100                      (renders `#1 alice 5, #3 carol 2`)
//! impact buy 1000                (renders `qty 10 notional 1000 worst 100 complete|partial`)
//! order #3 | order alice cid=7   (renders `#3 alice buy 5 @ 100` or `none`)
//! ```
//! Event renderings: `fills Q @ P`, `rests Q @ P`, `cancelled #ID Q (reason)`,
//! `expired #ID Q`, `decrements #MAKER by Q`, `modified Q @ P (kept|lost)`,
//! `rejected Reason`; an op with no events renders as `nothing`.

use std::collections::BTreeMap;

use novation_book::{
    AccountId, Book, BookLimits, CancelReason, ClientOrderId, Event, Expiry, NewOrder, Notional,
    Now, OrderId, OrderView, PriceTicks, QtyLots, Side, StpMode, TimeInForce,
};

pub struct Scenario {
    pub book: Book,
    now: Now,
    names: BTreeMap<String, u32>,
    next_id: u64,
}

impl Scenario {
    pub fn new(limits: BookLimits) -> Self {
        Scenario {
            book: Book::new(limits).expect("valid limits"),
            now: Now::new(1, 1_000),
            names: BTreeMap::new(),
            next_id: 1,
        }
    }

    fn account(&mut self, name: &str) -> AccountId {
        let n = self.names.len() as u32 + 1;
        AccountId(*self.names.entry(name.to_string()).or_insert(n))
    }

    fn name(&self, account: AccountId) -> String {
        self.names.iter().find(|(_, &v)| v == account.0).map_or("?".into(), |(k, _)| k.clone())
    }

    /// Runs every `command -> expected` line of `table`, panicking with the line on mismatch.
    pub fn run(&mut self, table: &str) {
        for (n, raw) in table.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (command, expected) = line
                .split_once("->")
                .unwrap_or_else(|| panic!("line {}: missing `->`: {line}", n + 1));
            let before = snapshot(&self.book);
            let (got, rejected) = self.execute(command.trim());
            assert_eq!(got, expected.trim(), "\nline {}: {line}", n + 1);
            if let Err(e) = self.book.check_invariants() {
                panic!("line {}: invariant broken after `{command}`: {e}", n + 1);
            }
            if rejected {
                assert_eq!(
                    before,
                    snapshot(&self.book),
                    "line {}: a rejection changed the book",
                    n + 1
                );
            }
        }
    }

    fn execute(&mut self, command: &str) -> (String, bool) {
        let words: Vec<&str> = command.split_whitespace().collect();
        let mut out = Vec::new();
        match words.as_slice() {
            ["place", name, side, qty, "@", price, opts @ ..] => {
                let order = self.new_order(name, side, qty, price, opts);
                let result = self.book.place(self.now, &order, &mut out);
                if result.is_ok() {
                    assert!(
                        matches!(out.first(), Some(Event::Accepted { .. })),
                        "place must start with Accepted: {out:?}"
                    );
                    out.remove(0);
                }
            }
            ["cancel", name, target] => {
                let account = self.account(name);
                let _ = match target.strip_prefix("cid=") {
                    Some(cid) => {
                        self.book.cancel_by_client_id(account, ClientOrderId(num(cid)), &mut out)
                    }
                    None => self.book.cancel(account, order_ref(target), &mut out),
                };
            }
            ["cancel-all", name, rest @ ..] => {
                let account = self.account(name);
                let side = rest.first().map(|s| side(s));
                self.book.cancel_all(account, side, &mut out);
            }
            ["modify", name, target, qty, "@", price] => {
                let account = self.account(name);
                let _ = self.book.modify(
                    self.now,
                    account,
                    order_ref(target),
                    PriceTicks(num(price)),
                    QtyLots(num(qty)),
                    &mut out,
                );
            }
            ["expire", limit] => {
                self.book.expire(self.now, num(limit) as u32, &mut out);
            }
            ["now", h, t] => {
                self.now = Now::new(
                    num(h.trim_start_matches("height=")),
                    num(t.trim_start_matches("time=")),
                );
                return ("ok".into(), false);
            }
            ["book"] => return (self.render_book(), false),
            ["level", price] => {
                let orders = self.book.level_orders(PriceTicks(num(price)));
                let parts: Vec<String> = orders
                    .iter()
                    .map(|o| format!("#{} {} {}", o.id.0, self.name(o.account), o.qty.0))
                    .collect();
                return (if parts.is_empty() { "empty".into() } else { parts.join(", ") }, false);
            }
            ["impact", s, notional] => {
                let i = self.book.impact(side(s), Notional(u128::from(num(notional))));
                let worst = i.worst.map_or("none".into(), |p| p.0.to_string());
                let done = if i.complete { "complete" } else { "partial" };
                return (
                    format!("qty {} notional {} worst {worst} {done}", i.qty.0, i.notional.0),
                    false,
                );
            }
            ["order", target] => {
                let view = self.book.order(order_ref(target));
                return (self.render_order(view), false);
            }
            ["order", name, cid] => {
                let account = self.account(name);
                let view = self.book.order_by_client_id(
                    account,
                    ClientOrderId(num(cid.trim_start_matches("cid="))),
                );
                return (self.render_order(view), false);
            }
            _ => panic!("unknown command: {command}"),
        }
        let rejected = matches!(out.as_slice(), [Event::Rejected { .. }]);
        (render(&out), rejected)
    }

    fn new_order(
        &mut self,
        name: &str,
        s: &str,
        qty: &str,
        price: &str,
        opts: &[&str],
    ) -> NewOrder {
        let account = self.account(name);
        let mut order = NewOrder::limit(0, account.0, side(s), num(price), num(qty));
        let mut id = None;
        for opt in opts {
            match *opt {
                "ioc" | "market" => order.tif = TimeInForce::Ioc,
                "fok" => order.tif = TimeInForce::Fok,
                "post" => order.tif = TimeInForce::PostOnly,
                "post-slide" => order.tif = TimeInForce::PostOnlySlide,
                "reduce-only" => order.reduce_only = true,
                "stp=newest" => order.stp = StpMode::CancelNewest,
                "stp=oldest" => order.stp = StpMode::CancelOldest,
                "stp=both" => order.stp = StpMode::CancelBoth,
                "stp=decrement" => order.stp = StpMode::DecrementAndCancel,
                o if o.starts_with("cid=") => order.client_id = Some(ClientOrderId(num(&o[4..]))),
                o if o.starts_with("gtb=") => order.expiry = Expiry::Height(num(&o[4..])),
                o if o.starts_with("gtt=") => order.expiry = Expiry::TimeMs(num(&o[4..])),
                o if o.starts_with("id=") => id = Some(num(&o[3..])),
                o => panic!("unknown order option {o}"),
            }
        }
        order.id = OrderId(id.unwrap_or_else(|| {
            let id = self.next_id;
            self.next_id += 1;
            id
        }));
        order
    }

    fn render_book(&self) -> String {
        let side_str = |s| {
            let levels = self.book.depth(s, usize::MAX);
            if levels.is_empty() {
                "-".to_string()
            } else {
                levels
                    .iter()
                    .map(|l| format!("{}@{}", l.qty.0, l.price.0))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        format!("bids {} | asks {}", side_str(Side::Buy), side_str(Side::Sell))
    }

    fn render_order(&self, view: Option<OrderView>) -> String {
        view.map_or("none".into(), |o| {
            format!("#{} {} {} {} @ {}", o.id.0, self.name(o.account), o.side, o.qty.0, o.price.0)
        })
    }
}

fn render(events: &[Event]) -> String {
    if events.is_empty() {
        return "nothing".into();
    }
    let parts: Vec<String> = events
        .iter()
        .map(|e| match *e {
            Event::Accepted { price, qty, .. } => format!("accepted {} @ {}", qty.0, price.0),
            Event::Fill { price, qty, .. } => format!("fills {} @ {}", qty.0, price.0),
            Event::Resting { price, qty, .. } => format!("rests {} @ {}", qty.0, price.0),
            Event::Cancelled { id, remaining, reason, .. } => {
                let reason = match reason {
                    CancelReason::User => "user",
                    CancelReason::SelfTrade => "self-trade",
                    CancelReason::Unfilled => "unfilled",
                    CancelReason::MatchLimit => "match-limit",
                };
                format!("cancelled #{} {} ({reason})", id.0, remaining.0)
            }
            Event::Expired { id, remaining, .. } => format!("expired #{} {}", id.0, remaining.0),
            Event::SelfTradeDecrement { maker_id, qty, .. } => {
                format!("decrements #{} by {}", maker_id.0, qty.0)
            }
            Event::Modified { price, qty, kept_priority, .. } => {
                format!(
                    "modified {} @ {} ({})",
                    qty.0,
                    price.0,
                    if kept_priority { "kept" } else { "lost" }
                )
            }
            Event::Rejected { reason, .. } => format!("rejected {reason:?}"),
        })
        .collect();
    parts.join(", ")
}

/// Everything observable about the book, for "a rejection leaves no trace".
fn snapshot(book: &Book) -> Vec<(u64, Vec<OrderView>)> {
    let mut levels: Vec<u64> =
        book.depth(Side::Buy, usize::MAX).iter().map(|l| l.price.0).collect();
    levels.extend(book.depth(Side::Sell, usize::MAX).iter().map(|l| l.price.0));
    levels.into_iter().map(|p| (p, book.level_orders(PriceTicks(p)))).collect()
}

fn num(s: &str) -> u64 {
    if s == "max" {
        return u64::MAX;
    }
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

fn order_ref(s: &str) -> OrderId {
    OrderId(num(s.trim_start_matches('#')))
}

fn side(s: &str) -> Side {
    match s {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        _ => panic!("not a side: {s}"),
    }
}
