//! Drives the real [`Book`] and the reference [`Model`] side by side and compares everything
//! observable after every operation; also checks invariants computed only from public queries.
//! Shared by the proptest suites and the cargo-fuzz target.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use novation_book::{
    AccountId, Book, BookLimits, CancelReason, ClientOrderId, Event, Impact, LevelView, Notional,
    Now, Op, OrderId, OrderView, PriceTicks, QtyLots, Reject, Side,
};

use super::Model;

/// The public queries both implementations answer.
pub trait View {
    fn limits_(&self) -> BookLimits;
    fn best_bid(&self) -> Option<LevelView>;
    fn best_ask(&self) -> Option<LevelView>;
    fn depth(&self, side: Side, levels: usize) -> Vec<LevelView>;
    fn level_orders(&self, price: PriceTicks) -> Vec<OrderView>;
    fn impact(&self, taker_side: Side, notional: Notional) -> Impact;
    fn order(&self, id: OrderId) -> Option<OrderView>;
    fn order_by_client_id(&self, account: AccountId, client_id: ClientOrderId)
        -> Option<OrderView>;
    fn orders_of(&self, account: AccountId) -> Vec<OrderView>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn level_count(&self) -> usize;
    fn account_order_count(&self, account: AccountId) -> u32;
}

macro_rules! impl_view {
    ($t:ty) => {
        impl View for $t {
            fn limits_(&self) -> BookLimits {
                *<$t>::limits(self)
            }
            fn best_bid(&self) -> Option<LevelView> {
                <$t>::best_bid(self)
            }
            fn best_ask(&self) -> Option<LevelView> {
                <$t>::best_ask(self)
            }
            fn depth(&self, side: Side, levels: usize) -> Vec<LevelView> {
                <$t>::depth(self, side, levels)
            }
            fn level_orders(&self, price: PriceTicks) -> Vec<OrderView> {
                <$t>::level_orders(self, price)
            }
            fn impact(&self, taker_side: Side, notional: Notional) -> Impact {
                <$t>::impact(self, taker_side, notional)
            }
            fn order(&self, id: OrderId) -> Option<OrderView> {
                <$t>::order(self, id)
            }
            fn order_by_client_id(
                &self,
                account: AccountId,
                client_id: ClientOrderId,
            ) -> Option<OrderView> {
                <$t>::order_by_client_id(self, account, client_id)
            }
            fn orders_of(&self, account: AccountId) -> Vec<OrderView> {
                <$t>::orders_of(self, account)
            }
            fn len(&self) -> usize {
                <$t>::len(self)
            }
            fn is_empty(&self) -> bool {
                <$t>::is_empty(self)
            }
            fn level_count(&self) -> usize {
                <$t>::level_count(self)
            }
            fn account_order_count(&self, account: AccountId) -> u32 {
                <$t>::account_order_count(self, account)
            }
        }
    };
}

impl_view!(Book);
impl_view!(Model);

/// Everything observable about the resting orders: every level of both sides, in priority
/// order, each with its orders in queue order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub bids: Vec<(LevelView, Vec<OrderView>)>,
    pub asks: Vec<(LevelView, Vec<OrderView>)>,
}

impl Snapshot {
    pub fn orders(&self) -> impl Iterator<Item = &OrderView> {
        self.bids.iter().chain(self.asks.iter()).flat_map(|(_, os)| os.iter())
    }
}

pub fn snapshot<V: View>(v: &V) -> Snapshot {
    // Ask for one more level than exist, to see that the side really ends there.
    let n = v.level_count() + 1;
    let side =
        |s| v.depth(s, n).into_iter().map(|l| (l, v.level_orders(l.price))).collect::<Vec<_>>();
    Snapshot { bids: side(Side::Buy), asks: side(Side::Sell) }
}

/// Accounts the generators use; queries are also asked about every account seen in a book.
pub const ACCOUNTS: [AccountId; 6] =
    [AccountId(0), AccountId(1), AccountId(2), AccountId(3), AccountId(9), AccountId(u32::MAX)];

/// Book and model driven in lockstep.
#[derive(Debug)]
pub struct Harness {
    pub book: Book,
    pub model: Model,
    /// Every operation applied so far (for reproducers).
    pub log: Vec<(Now, Op)>,
    /// Events of the last operation (identical for both, once checked).
    pub events: Vec<Event>,
    model_events: Vec<Event>,
    /// Compare every query and check the independent invariants after every `full_every`-th
    /// operation (1: after each). Events, return values, "rejection leaves no trace" and
    /// `check_invariants` are checked after every operation regardless.
    pub full_every: usize,
}

impl Harness {
    pub fn new(limits: BookLimits) -> Result<Harness, String> {
        Harness::with_capacity(limits, None)
    }

    /// With `Some(n)`, the book is made by `Book::with_capacity(limits, n)`.
    pub fn with_capacity(limits: BookLimits, capacity: Option<usize>) -> Result<Harness, String> {
        let book = match capacity {
            None => Book::new(limits),
            Some(n) => Book::with_capacity(limits, n),
        };
        let model = Model::new(limits);
        match (book, model) {
            (Ok(book), Ok(model)) => Ok(Harness {
                book,
                model,
                log: Vec::new(),
                events: Vec::new(),
                model_events: Vec::new(),
                full_every: 1,
            }),
            (b, m) => Err(format!(
                "Book::new and Model::new disagree for {limits:?}: book {:?}, model {:?}",
                b.err(),
                m.err()
            )),
        }
    }

    /// The operations so far as Rust source, for pasting into a regression test
    /// (with `use Op::*, Side::*, TimeInForce::*, Expiry::*, StpMode::*` in scope).
    pub fn reproducer(&self) -> String {
        let mut s = format!("limits: {:?}\nops: vec![\n", self.book.limits());
        for (now, op) in &self.log {
            let _ = writeln!(s, "    (Now::new({}, {}), {op:?}),", now.height, now.time_ms);
        }
        s.push_str("]\n");
        s
    }

    fn fail(&self, what: String) -> String {
        format!("{what}\n--- reproducer ({} ops) ---\n{}", self.log.len(), self.reproducer())
    }

    /// Applies `op` to both, then checks: same events, same return values, rejection leaves no
    /// trace, same answers to every query, `check_invariants`, and the independent invariants.
    pub fn step(&mut self, now: Now, op: &Op) -> Result<(), String> {
        self.log.push((now, *op));
        let before = snapshot(&self.book);
        self.events.clear();
        self.model_events.clear();
        let direct = self.log.len().is_multiple_of(2); // alternate: direct calls and `Book::apply`
        let (rb, rm) = if direct {
            (
                call(&mut self.book, now, op, &mut self.events),
                call_model(&mut self.model, now, op, &mut self.model_events),
            )
        } else {
            self.book.apply(now, op, &mut self.events);
            self.model.apply(now, op, &mut self.model_events);
            (Ret::None, Ret::None)
        };
        if self.events != self.model_events {
            return Err(self.fail(format!(
                "EVENTS DIFFER at op #{} {op:?} ({now:?})\n book:  {:#?}\n model: {:#?}",
                self.log.len() - 1,
                self.events,
                self.model_events
            )));
        }
        if rb != rm {
            return Err(
                self.fail(format!("RETURN VALUES DIFFER for {op:?}: book {rb:?}, model {rm:?}"))
            );
        }
        check_return(&rb, &self.events).map_err(|e| self.fail(format!("book {op:?}: {e}")))?;
        check_event_stream(op, &self.events).map_err(|e| self.fail(format!("{op:?}: {e}")))?;
        if matches!(self.events.as_slice(), [Event::Rejected { .. }]) {
            let after = snapshot(&self.book);
            if after != before {
                return Err(self.fail(format!(
                    "REJECTION LEFT A TRACE: {op:?} -> {:?}\n before: {before:#?}\n after: {after:#?}",
                    self.events
                )));
            }
        }
        self.book
            .check_invariants()
            .map_err(|e| self.fail(format!("book.check_invariants() after {op:?}: {e}")))?;
        if !self.log.len().is_multiple_of(self.full_every.max(1)) {
            return Ok(());
        }
        self.compare(op).map_err(|e| self.fail(format!("after {op:?}: {e}")))?;
        invariants(&self.book)
            .map_err(|e| self.fail(format!("book invariant after {op:?}: {e}")))?;
        invariants(&self.model)
            .map_err(|e| self.fail(format!("MODEL invariant after {op:?}: {e}")))?;
        Ok(())
    }

    /// Every query, asked of both, must answer the same.
    fn compare(&self, op: &Op) -> Result<(), String> {
        let (b, m) = (&self.book, &self.model);
        let sb = snapshot(b);
        let sm = snapshot(m);
        if sb != sm {
            return Err(format!("STATE DIFFERS\n book:  {sb:#?}\n model: {sm:#?}"));
        }
        eq("best_bid", b.best_bid(), m.best_bid())?;
        eq("best_ask", b.best_ask(), m.best_ask())?;
        eq("len", b.len(), m.len())?;
        eq("is_empty", b.is_empty(), m.is_empty())?;
        eq("level_count", b.level_count(), m.level_count())?;
        for side in [Side::Buy, Side::Sell] {
            for n in [0, 1, 2, 3] {
                eq(&format!("depth({side:?}, {n})"), b.depth(side, n), m.depth(side, n))?;
            }
        }
        // Lookups: every id and (account, client id) seen in the state, the op and its events.
        let mut ids: BTreeSet<OrderId> = sm.orders().map(|o| o.id).collect();
        let mut accounts: BTreeSet<AccountId> = ACCOUNTS.into_iter().collect();
        let mut clients: BTreeSet<(AccountId, ClientOrderId)> = BTreeSet::new();
        for o in sm.orders() {
            accounts.insert(o.account);
            if let Some(c) = o.client_id {
                clients.insert((o.account, c));
            }
        }
        let mut prices: BTreeSet<PriceTicks> = [PriceTicks(0), PriceTicks(100)].into();
        match *op {
            Op::Place(o) => {
                ids.insert(o.id);
                accounts.insert(o.account);
                prices.insert(o.price);
                if let Some(c) = o.client_id {
                    clients.insert((o.account, c));
                }
            }
            Op::Cancel { account, id } => {
                ids.insert(id);
                accounts.insert(account);
            }
            Op::CancelByClientId { account, client_id } => {
                clients.insert((account, client_id));
            }
            Op::CancelAll { account, .. } => {
                accounts.insert(account);
            }
            Op::Modify { account, id, price, .. } => {
                ids.insert(id);
                accounts.insert(account);
                prices.insert(price);
            }
            Op::Expire { .. } => {}
        }
        for e in &self.events {
            if let Some(id) = event_order_id(e) {
                ids.insert(id);
            }
        }
        for id in ids {
            eq(&format!("order({id:?})"), b.order(id), m.order(id))?;
        }
        for a in accounts {
            eq(
                &format!("account_order_count({a:?})"),
                b.account_order_count(a),
                m.account_order_count(a),
            )?;
            let mut ob = b.orders_of(a);
            let mut om = m.orders_of(a);
            ob.sort_by_key(|o| o.id);
            om.sort_by_key(|o| o.id);
            eq(&format!("orders_of({a:?}) (as a set)"), ob, om)?;
            for c in [1, 2, 3, 4] {
                clients.insert((a, ClientOrderId(c)));
            }
        }
        for (a, c) in clients {
            eq(
                &format!("order_by_client_id({a:?}, {c:?})"),
                b.order_by_client_id(a, c),
                m.order_by_client_id(a, c),
            )?;
        }
        for p in prices {
            eq(&format!("level_orders({p:?})"), b.level_orders(p), m.level_orders(p))?;
        }
        for side in [Side::Buy, Side::Sell] {
            for n in [0u128, 1, 99, 100, 101, 250, 1_000, 5_000, 50_000, u128::MAX] {
                eq(
                    &format!("impact({side:?}, {n})"),
                    b.impact(side, Notional(n)),
                    m.impact(side, Notional(n)),
                )?;
            }
        }
        Ok(())
    }

    /// Runs a whole sequence, then a final round of queries with extreme arguments.
    pub fn run(limits: BookLimits, ops: &[(Now, Op)]) -> Result<Harness, String> {
        let mut h = Harness::new(limits)?;
        for (now, op) in ops {
            h.step(*now, op)?;
        }
        for side in [Side::Buy, Side::Sell] {
            eq(
                "depth(usize::MAX)",
                h.book.depth(side, usize::MAX),
                h.model.depth(side, usize::MAX),
            )
            .map_err(|e| h.fail(e))?;
        }
        Ok(h)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    None,
    Result(Result<(), Reject>),
    Count(u32),
}

fn call(b: &mut Book, now: Now, op: &Op, out: &mut Vec<Event>) -> Ret {
    match *op {
        Op::Place(o) => Ret::Result(b.place(now, &o, out)),
        Op::Cancel { account, id } => Ret::Result(b.cancel(account, id, out)),
        Op::CancelByClientId { account, client_id } => {
            Ret::Result(b.cancel_by_client_id(account, client_id, out))
        }
        Op::CancelAll { account, side } => Ret::Count(b.cancel_all(account, side, out)),
        Op::Modify { account, id, price, qty } => {
            Ret::Result(b.modify(now, account, id, price, qty, out))
        }
        Op::Expire { limit } => Ret::Count(b.expire(now, limit, out)),
    }
}

fn call_model(b: &mut Model, now: Now, op: &Op, out: &mut Vec<Event>) -> Ret {
    match *op {
        Op::Place(o) => Ret::Result(b.place(now, &o, out)),
        Op::Cancel { account, id } => Ret::Result(b.cancel(account, id, out)),
        Op::CancelByClientId { account, client_id } => {
            Ret::Result(b.cancel_by_client_id(account, client_id, out))
        }
        Op::CancelAll { account, side } => Ret::Count(b.cancel_all(account, side, out)),
        Op::Modify { account, id, price, qty } => {
            Ret::Result(b.modify(now, account, id, price, qty, out))
        }
        Op::Expire { limit } => Ret::Count(b.expire(now, limit, out)),
    }
}

/// A return value must agree with the events it came with.
fn check_return(r: &Ret, events: &[Event]) -> Result<(), String> {
    let rejected = match events {
        [Event::Rejected { reason, .. }] => Some(*reason),
        _ => None,
    };
    if events.iter().filter(|e| matches!(e, Event::Rejected { .. })).count()
        > rejected.iter().count()
    {
        return Err(format!("a Rejected event among others: {events:?}"));
    }
    match *r {
        Ret::None => Ok(()),
        Ret::Result(res) => {
            if res.err() == rejected {
                Ok(())
            } else {
                Err(format!("returned {res:?} with events {events:?}"))
            }
        }
        Ret::Count(n) => {
            if n as usize == events.len() {
                Ok(())
            } else {
                Err(format!("returned count {n} with {} events {events:?}", events.len()))
            }
        }
    }
}

/// Spec facts about one operation's event stream that need no model.
fn check_event_stream(op: &Op, events: &[Event]) -> Result<(), String> {
    for e in events {
        match *e {
            Event::Fill { maker_account, taker_account, qty, .. } => {
                if maker_account == taker_account {
                    return Err(format!("self-trade fill {e:?}"));
                }
                if qty.0 == 0 {
                    return Err(format!("zero fill {e:?}"));
                }
            }
            Event::SelfTradeDecrement { qty, .. } if qty.0 == 0 => {
                return Err(format!("zero decrement {e:?}"));
            }
            _ => {}
        }
    }
    match *op {
        Op::CancelAll { account, .. } => {
            for e in events {
                if !matches!(e, Event::Cancelled { account: a, reason: CancelReason::User, .. } if *a == account)
                {
                    return Err(format!("cancel_all produced {e:?}"));
                }
            }
        }
        Op::Expire { limit }
            if events.len() > limit as usize
                || events.iter().any(|e| !matches!(e, Event::Expired { .. })) =>
        {
            return Err(format!("expire({limit}) produced {events:?}"));
        }
        Op::Place(o) => {
            let first = events.first();
            let ok = matches!(first, Some(Event::Rejected { id: Some(id), .. }) if *id == o.id)
                || matches!(first, Some(Event::Accepted { id, .. }) if *id == o.id);
            if !ok {
                return Err(format!("place did not start with Accepted/Rejected: {events:?}"));
            }
        }
        _ => {}
    }
    Ok(())
}

fn event_order_id(e: &Event) -> Option<OrderId> {
    match *e {
        Event::Accepted { id, .. }
        | Event::Resting { id, .. }
        | Event::Cancelled { id, .. }
        | Event::Expired { id, .. }
        | Event::Modified { id, .. } => Some(id),
        Event::Fill { maker_id, .. } => Some(maker_id),
        Event::SelfTradeDecrement { maker_id, .. } => Some(maker_id),
        Event::Rejected { id, .. } => id,
    }
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, book: T, model: T) -> Result<(), String> {
    if book == model {
        Ok(())
    } else {
        Err(format!("QUERY {what} DIFFERS\n book:  {book:?}\n model: {model:?}"))
    }
}

/// Invariants computed only from public queries.
pub fn invariants<V: View>(v: &V) -> Result<(), String> {
    let limits = v.limits_();
    let s = snapshot(v);
    if let (Some(b), Some(a)) = (v.best_bid(), v.best_ask()) {
        if b.price >= a.price {
            return Err(format!("crossed book: best bid {b:?} >= best ask {a:?}"));
        }
    }
    if v.best_bid() != s.bids.first().map(|l| l.0) || v.best_ask() != s.asks.first().map(|l| l.0) {
        return Err(format!(
            "best bid/ask {:?}/{:?} are not the top of depth",
            v.best_bid(),
            v.best_ask()
        ));
    }
    for (side, levels) in [(Side::Buy, &s.bids), (Side::Sell, &s.asks)] {
        for w in levels.windows(2) {
            if !side.is_better(w[0].0.price, w[1].0.price) {
                return Err(format!("{side:?} depth not strictly in priority order: {:?}", levels));
            }
        }
        for (l, orders) in levels.iter() {
            if orders.is_empty() || l.orders as usize != orders.len() {
                return Err(format!("level {l:?} has orders {orders:?}"));
            }
            let sum: u64 = orders.iter().map(|o| o.qty.0).sum();
            if sum != l.qty.0 {
                return Err(format!("level {l:?} total != sum of its orders {orders:?}"));
            }
            for o in orders {
                if o.qty.0 == 0 || o.price != l.price || o.side != side {
                    return Err(format!("bad order {o:?} at level {l:?}"));
                }
                if !o.tif.can_rest() {
                    return Err(format!("resting order with time in force {:?}: {o:?}", o.tif));
                }
                if v.order(o.id) != Some(*o) {
                    return Err(format!(
                        "order({:?}) = {:?}, level has {o:?}",
                        o.id,
                        v.order(o.id)
                    ));
                }
                if let Some(c) = o.client_id {
                    if v.order_by_client_id(o.account, c) != Some(*o) {
                        return Err(format!(
                            "order_by_client_id({:?}, {c:?}) = {:?}, level has {o:?}",
                            o.account,
                            v.order_by_client_id(o.account, c)
                        ));
                    }
                }
            }
        }
        // depth(side, k) is a prefix of the full depth
        let all: Vec<LevelView> = levels.iter().map(|l| l.0).collect();
        for k in [0, 1, 2] {
            let d = v.depth(side, k);
            if d.as_slice() != &all[..k.min(all.len())] {
                return Err(format!("depth({side:?}, {k}) = {d:?} not a prefix of {all:?}"));
            }
        }
    }
    let orders: Vec<&OrderView> = s.orders().collect();
    if v.len() != orders.len() || v.is_empty() != orders.is_empty() {
        return Err(format!(
            "len {} / is_empty {} but {} orders in the levels",
            v.len(),
            v.is_empty(),
            orders.len()
        ));
    }
    if v.level_count() != s.bids.len() + s.asks.len() {
        return Err(format!(
            "level_count {} but depth shows {}",
            v.level_count(),
            s.bids.len() + s.asks.len()
        ));
    }
    let ids: BTreeSet<OrderId> = orders.iter().map(|o| o.id).collect();
    if ids.len() != orders.len() {
        return Err("two resting orders share an id".into());
    }
    let clients: BTreeSet<(AccountId, ClientOrderId)> =
        orders.iter().filter_map(|o| o.client_id.map(|c| (o.account, c))).collect();
    if clients.len() != orders.iter().filter(|o| o.client_id.is_some()).count() {
        return Err("two resting orders of one account share a client id".into());
    }
    let accounts: BTreeSet<AccountId> = orders.iter().map(|o| o.account).chain(ACCOUNTS).collect();
    for a in accounts {
        let mine: BTreeSet<OrderId> =
            orders.iter().filter(|o| o.account == a).map(|o| o.id).collect();
        let listed = v.orders_of(a);
        let listed_ids: BTreeSet<OrderId> = listed.iter().map(|o| o.id).collect();
        if listed_ids != mine || listed.len() != mine.len() {
            return Err(format!("orders_of({a:?}) = {listed:?}, levels hold {mine:?}"));
        }
        for o in &listed {
            if v.order(o.id) != Some(*o) {
                return Err(format!(
                    "orders_of({a:?}) has {o:?}, order() says {:?}",
                    v.order(o.id)
                ));
            }
        }
        if v.account_order_count(a) as usize != mine.len() {
            return Err(format!(
                "account_order_count({a:?}) = {}, levels hold {}",
                v.account_order_count(a),
                mine.len()
            ));
        }
        if mine.len() > limits.orders_per_account_max as usize {
            return Err(format!("{a:?} holds {} orders > orders_per_account_max", mine.len()));
        }
    }
    if v.len() > limits.orders_per_book_max as usize {
        return Err(format!("{} orders > orders_per_book_max", v.len()));
    }
    if v.level_count() > limits.price_levels_max as usize {
        return Err(format!("{} levels > price_levels_max", v.level_count()));
    }
    // impact: the whole opposite side is what an unbounded taker meets
    for side in [Side::Buy, Side::Sell] {
        let opp = if side == Side::Buy { &s.asks } else { &s.bids };
        let qty: u64 = opp.iter().map(|l| l.0.qty.0).sum();
        let notional: u128 = opp.iter().map(|l| l.0.price.0 as u128 * l.0.qty.0 as u128).sum();
        let i = v.impact(side, Notional(u128::MAX));
        let want = Impact {
            qty: QtyLots(qty),
            notional: Notional(notional),
            worst: opp.last().map(|l| l.0.price),
            complete: false,
        };
        if i != want {
            return Err(format!("impact({side:?}, MAX) = {i:?}, whole side is {want:?}"));
        }
        if notional > 0 {
            let i = v.impact(side, Notional(notional));
            if !i.complete || i.qty.0 != qty || i.notional.0 != notional {
                return Err(format!("impact({side:?}, whole side {notional}) = {i:?}"));
            }
        }
    }
    Ok(())
}
