//! A deliberately naive reference model of the order book, written from the specification in
//! `crates/book/src/lib.rs` alone (not from the real book's code).
//!
//! Storage is one `Vec` of resting orders per side, re-sorted after every insertion by
//! (price, queue sequence number): highest price first for bids, lowest first for asks, then
//! oldest queue place first. Every query and every check is an O(n) scan. Nothing here tries to
//! be fast; everything tries to be obviously the specification.
//!
//! # How ambiguous spec sentences are read (also listed in the final report)
//! * Post-only search budget (check 4): the search looks at the first `match_steps_max` makers
//!   of the opposite side whatever their price; if all of them are expired and at least one more
//!   maker exists (at any price), the order is rejected with `PostOnlyWouldCross` — even if those
//!   makers would not be acceptable at the order's price.
//! * A `PostOnlySlide` sell whose slid price `best_bid + 1` would exceed `PRICE_TICKS_MAX` is
//!   rejected with `PostOnlyWouldCross` (mirror image of a buy that would slide to 0; the spec
//!   has said so explicitly since commit a0f1a8a).
//! * Price-level check (5): "no level exists at its (final) price, on either side" means: neither
//!   a bid level nor an ask level exists at that price. A buy at a price where an ask level exists
//!   therefore never fails `PriceLevelLimit`.
//! * `cancel_by_client_id` looks the client id up among the caller's own orders only (client ids
//!   are unique per account, not globally), so it never reports `NotOwner`; its rejection carries
//!   `id: None` (the order id is not known).
//! * `cancel_all` also cancels orders that are expired but not yet swept (they are still resting
//!   orders of the account), with reason `User`.
//! * `Modified` (re-entry case) reports the final price, i.e. the slid price for a sliding
//!   post-only order (like `Accepted`). Whether priority is kept is decided on the requested
//!   price, before any slide.
//! * A modify that re-enters the order is checked only against checks 4 and 5 (price level): the
//!   account/book order-count limits do not apply (the order is already counted).
//! * The FOK dry run counts every maker it meets as a step (expired ones and own orders it skips
//!   under `CancelOldest` included), exactly as real matching would.
//! * Queries do not know `now`: expired-but-unswept orders are part of depth, level views,
//!   lookups and `impact`.
//! * `impact` with a zero target: the empty prefix reaches it (`qty 0`, `notional 0`,
//!   `worst None`, `complete true`); otherwise `worst` is the price of the last level any lot was
//!   taken from (when the book side runs out: the last level of the side).
//! * `orders_of` order is unspecified; the harness compares it as a set (sorted by id). The model
//!   returns queue-place order.

#![allow(dead_code)]

pub mod decode;
pub mod harness;

use novation_book::{
    AccountId, BookLimits, CancelReason, ClientOrderId, Event, Expiry, Impact, LevelView,
    LimitsError, NewOrder, Notional, Now, Op, OrderId, OrderView, PriceTicks, QtyLots, Reject,
    Side, StpMode, TimeInForce, ORDERS_PER_BOOK_HARD_MAX, PRICE_TICKS_MAX, QTY_LOTS_MAX,
};

/// One resting order and the sequence number of its queue place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resting {
    pub seq: u64,
    pub view: OrderView,
}

/// The incoming order while it matches.
#[derive(Clone, Copy, Debug)]
struct Taker {
    view: OrderView,
}

/// The reference model.
#[derive(Clone, Debug)]
pub struct Model {
    limits: BookLimits,
    /// Highest price first, then lowest `seq` first.
    bids: Vec<Resting>,
    /// Lowest price first, then lowest `seq` first.
    asks: Vec<Resting>,
    next_seq: u64,
}

impl Model {
    pub fn new(limits: BookLimits) -> Result<Model, LimitsError> {
        if limits.orders_per_account_max == 0
            || limits.orders_per_book_max == 0
            || limits.price_levels_max == 0
            || limits.match_steps_max == 0
        {
            return Err(LimitsError::Zero);
        }
        if limits.orders_per_book_max > ORDERS_PER_BOOK_HARD_MAX {
            return Err(LimitsError::TooManyOrders);
        }
        Ok(Model { limits, bids: Vec::new(), asks: Vec::new(), next_seq: 0 })
    }

    pub fn limits(&self) -> &BookLimits {
        &self.limits
    }

    // ----------------------------------------------------------------------------------------
    // storage helpers

    fn side(&self, side: Side) -> &Vec<Resting> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut Vec<Resting> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn sort(&mut self) {
        self.bids.sort_by(|a, b| b.view.price.cmp(&a.view.price).then(a.seq.cmp(&b.seq)));
        self.asks.sort_by(|a, b| a.view.price.cmp(&b.view.price).then(a.seq.cmp(&b.seq)));
    }

    fn all(&self) -> impl Iterator<Item = &Resting> {
        self.bids.iter().chain(self.asks.iter())
    }

    fn find(&self, id: OrderId) -> Option<Resting> {
        self.all().find(|r| r.view.id == id).copied()
    }

    fn remove(&mut self, id: OrderId) -> Resting {
        for side in [Side::Buy, Side::Sell] {
            let v = self.side_mut(side);
            if let Some(i) = v.iter().position(|r| r.view.id == id) {
                return v.remove(i);
            }
        }
        panic!("model: removing unknown order {id:?}");
    }

    /// Puts an order at the back of its price level (a new queue place).
    fn rest(&mut self, view: OrderView) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.side_mut(view.side).push(Resting { seq, view });
        self.sort();
    }

    /// Puts an order back exactly where it was (same queue place).
    fn restore(&mut self, r: Resting) {
        self.side_mut(r.view.side).push(r);
        self.sort();
    }

    fn set_qty(&mut self, id: OrderId, qty: QtyLots) {
        for r in self.bids.iter_mut().chain(self.asks.iter_mut()) {
            if r.view.id == id {
                r.view.qty = qty;
                return;
            }
        }
        panic!("model: resizing unknown order {id:?}");
    }

    fn level_exists(&self, price: PriceTicks) -> bool {
        self.all().any(|r| r.view.price == price)
    }

    fn levels(&self, side: Side) -> Vec<LevelView> {
        let mut out: Vec<LevelView> = Vec::new();
        for r in self.side(side) {
            match out.last_mut() {
                Some(l) if l.price == r.view.price => {
                    l.qty = QtyLots(l.qty.0 + r.view.qty.0);
                    l.orders += 1;
                }
                _ => out.push(LevelView { price: r.view.price, qty: r.view.qty, orders: 1 }),
            }
        }
        out
    }

    // ----------------------------------------------------------------------------------------
    // operations

    pub fn apply(&mut self, now: Now, op: &Op, out: &mut Vec<Event>) {
        match *op {
            Op::Place(order) => {
                let _ = self.place(now, &order, out);
            }
            Op::Cancel { account, id } => {
                let _ = self.cancel(account, id, out);
            }
            Op::CancelByClientId { account, client_id } => {
                let _ = self.cancel_by_client_id(account, client_id, out);
            }
            Op::CancelAll { account, side } => {
                self.cancel_all(account, side, out);
            }
            Op::Modify { account, id, price, qty } => {
                let _ = self.modify(now, account, id, price, qty, out);
            }
            Op::Expire { limit } => {
                self.expire(now, limit, out);
            }
        }
    }

    pub fn place(&mut self, now: Now, o: &NewOrder, out: &mut Vec<Event>) -> Result<(), Reject> {
        let reject = |out: &mut Vec<Event>, reason: Reject| {
            out.push(Event::Rejected { id: Some(o.id), reason });
            Err(reason)
        };
        // 1. size, then price
        if let Err(r) = size_and_price(o.qty, o.price) {
            return reject(out, r);
        }
        // 2. expiry
        if o.expiry.is_expired(now) {
            return reject(out, Reject::ExpiredAtEntry);
        }
        // 3. duplicates
        if self.find(o.id).is_some() {
            return reject(out, Reject::DuplicateOrderId);
        }
        if let Some(c) = o.client_id {
            if self.all().any(|r| r.view.account == o.account && r.view.client_id == Some(c)) {
                return reject(out, Reject::DuplicateClientOrderId);
            }
        }
        // 4. post-only
        let mut price = o.price;
        if o.tif.is_post_only() {
            match self.post_only_price(now, o.side, o.price, o.tif) {
                Ok(p) => price = p,
                Err(r) => return reject(out, r),
            }
        }
        // 5. resting bounds
        if o.tif.can_rest() {
            if self.account_order_count(o.account) >= self.limits.orders_per_account_max {
                return reject(out, Reject::AccountOrderLimit);
            }
            if self.len() >= self.limits.orders_per_book_max as usize {
                return reject(out, Reject::BookOrderLimit);
            }
            if !self.level_exists(price)
                && self.level_count() >= self.limits.price_levels_max as usize
            {
                return reject(out, Reject::PriceLevelLimit);
            }
        }
        // 6. fill-or-kill dry run
        if o.tif == TimeInForce::Fok && !self.fok_fills(now, o) {
            return reject(out, Reject::FokWouldNotFill);
        }
        out.push(Event::Accepted { id: o.id, account: o.account, side: o.side, price, qty: o.qty });
        let view = OrderView {
            id: o.id,
            account: o.account,
            client_id: o.client_id,
            side: o.side,
            price,
            qty: o.qty,
            tif: o.tif,
            expiry: o.expiry,
            reduce_only: o.reduce_only,
            stp: o.stp,
        };
        self.match_and_rest(now, Taker { view }, out);
        Ok(())
    }

    /// Check 4: the price a post-only order will use, or its rejection.
    fn post_only_price(
        &self,
        now: Now,
        side: Side,
        price: PriceTicks,
        tif: TimeInForce,
    ) -> Result<PriceTicks, Reject> {
        let budget = self.limits.match_steps_max as usize;
        let mut best = None;
        for (looked, m) in self.side(side.opposite()).iter().enumerate() {
            if looked >= budget {
                // The budget is spent, all looked-at makers were expired, and makers remain.
                return Err(Reject::PostOnlyWouldCross);
            }
            if !m.view.expiry.is_expired(now) {
                best = Some(m.view.price);
                break;
            }
        }
        let Some(best) = best else { return Ok(price) };
        if !side.accepts(price, best) {
            return Ok(price);
        }
        match tif {
            TimeInForce::PostOnlySlide => match side {
                Side::Buy if best.0 > 1 => Ok(PriceTicks(best.0 - 1)),
                Side::Sell if best.0 < PRICE_TICKS_MAX => Ok(PriceTicks(best.0 + 1)),
                _ => Err(Reject::PostOnlyWouldCross),
            },
            _ => Err(Reject::PostOnlyWouldCross),
        }
    }

    /// Check 6: whether the matching rules would fill the whole size.
    fn fok_fills(&self, now: Now, o: &NewOrder) -> bool {
        let mut need = o.qty.0;
        // `steps_taken` counts every maker met, including skipped expired and own ones.
        for (steps_taken, m) in self.side(o.side.opposite()).iter().enumerate() {
            if need == 0 || !o.side.accepts(o.price, m.view.price) {
                break;
            }
            if steps_taken >= self.limits.match_steps_max as usize {
                return false;
            }
            if m.view.expiry.is_expired(now) {
                continue;
            }
            if m.view.account == o.account {
                if o.stp == StpMode::CancelOldest {
                    continue;
                }
                break;
            }
            need -= need.min(m.view.qty.0);
        }
        need == 0
    }

    /// The matching rules, then rest or cancel the remainder.
    fn match_and_rest(&mut self, now: Now, mut t: Taker, out: &mut Vec<Event>) {
        let mut steps = 0u32;
        let cancel_taker = |out: &mut Vec<Event>, t: &Taker, reason| {
            out.push(Event::Cancelled {
                id: t.view.id,
                account: t.view.account,
                side: t.view.side,
                remaining: t.view.qty,
                reason,
            });
        };
        loop {
            if t.view.qty.0 == 0 {
                return; // fully filled (or decremented to zero): nothing more
            }
            let opp = t.view.side.opposite();
            let Some(m) = self.side(opp).first().copied() else { break };
            if !t.view.side.accepts(t.view.price, m.view.price) {
                break;
            }
            if steps >= self.limits.match_steps_max {
                cancel_taker(out, &t, CancelReason::MatchLimit);
                return;
            }
            steps += 1;
            let mv = m.view;
            // 1. expired maker
            if mv.expiry.is_expired(now) {
                self.remove(mv.id);
                out.push(Event::Expired {
                    id: mv.id,
                    account: mv.account,
                    side: mv.side,
                    remaining: mv.qty,
                });
                continue;
            }
            // 2. self-trade prevention
            if mv.account == t.view.account {
                let cancel_maker = |model: &mut Model, out: &mut Vec<Event>| {
                    model.remove(mv.id);
                    out.push(Event::Cancelled {
                        id: mv.id,
                        account: mv.account,
                        side: mv.side,
                        remaining: mv.qty,
                        reason: CancelReason::SelfTrade,
                    });
                };
                match t.view.stp {
                    StpMode::CancelNewest => {
                        cancel_taker(out, &t, CancelReason::SelfTrade);
                        return;
                    }
                    StpMode::CancelOldest => {
                        cancel_maker(self, out);
                        continue;
                    }
                    StpMode::CancelBoth => {
                        cancel_maker(self, out);
                        cancel_taker(out, &t, CancelReason::SelfTrade);
                        return;
                    }
                    StpMode::DecrementAndCancel => {
                        let q = t.view.qty.0.min(mv.qty.0);
                        t.view.qty = QtyLots(t.view.qty.0 - q);
                        let maker_left = QtyLots(mv.qty.0 - q);
                        if maker_left.0 == 0 {
                            self.remove(mv.id);
                        } else {
                            self.set_qty(mv.id, maker_left);
                        }
                        out.push(Event::SelfTradeDecrement {
                            taker_id: t.view.id,
                            maker_id: mv.id,
                            account: mv.account,
                            qty: QtyLots(q),
                            taker_remaining: t.view.qty,
                            maker_remaining: maker_left,
                        });
                        continue;
                    }
                }
            }
            // 3. trade at the maker's price
            let q = t.view.qty.0.min(mv.qty.0);
            t.view.qty = QtyLots(t.view.qty.0 - q);
            let maker_left = QtyLots(mv.qty.0 - q);
            if maker_left.0 == 0 {
                self.remove(mv.id);
            } else {
                self.set_qty(mv.id, maker_left);
            }
            out.push(Event::Fill {
                maker_id: mv.id,
                maker_account: mv.account,
                taker_id: t.view.id,
                taker_account: t.view.account,
                taker_side: t.view.side,
                price: mv.price,
                qty: QtyLots(q),
                maker_remaining: maker_left,
                taker_remaining: t.view.qty,
            });
        }
        // No acceptable maker left and size remains.
        if t.view.tif.can_rest() {
            out.push(Event::Resting {
                id: t.view.id,
                account: t.view.account,
                side: t.view.side,
                price: t.view.price,
                qty: t.view.qty,
            });
            self.rest(t.view);
        } else {
            // IOC / market (and, unreachably after a passing dry run, FOK).
            cancel_taker(out, &t, CancelReason::Unfilled);
        }
    }

    pub fn cancel(
        &mut self,
        account: AccountId,
        id: OrderId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let Some(r) = self.find(id) else {
            out.push(Event::Rejected { id: Some(id), reason: Reject::UnknownOrder });
            return Err(Reject::UnknownOrder);
        };
        if r.view.account != account {
            out.push(Event::Rejected { id: Some(id), reason: Reject::NotOwner });
            return Err(Reject::NotOwner);
        }
        self.remove(id);
        out.push(Event::Cancelled {
            id,
            account,
            side: r.view.side,
            remaining: r.view.qty,
            reason: CancelReason::User,
        });
        Ok(())
    }

    pub fn cancel_by_client_id(
        &mut self,
        account: AccountId,
        client_id: ClientOrderId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let Some(r) = self.order_by_client_id(account, client_id) else {
            out.push(Event::Rejected { id: None, reason: Reject::UnknownOrder });
            return Err(Reject::UnknownOrder);
        };
        self.cancel(account, r.id, out)
    }

    pub fn cancel_all(
        &mut self,
        account: AccountId,
        side: Option<Side>,
        out: &mut Vec<Event>,
    ) -> u32 {
        let mut mine: Vec<Resting> = self
            .all()
            .filter(|r| r.view.account == account && side.is_none_or(|s| r.view.side == s))
            .copied()
            .collect();
        mine.sort_by_key(|r| r.view.id);
        for r in &mine {
            self.remove(r.view.id);
            out.push(Event::Cancelled {
                id: r.view.id,
                account,
                side: r.view.side,
                remaining: r.view.qty,
                reason: CancelReason::User,
            });
        }
        mine.len() as u32
    }

    pub fn modify(
        &mut self,
        now: Now,
        account: AccountId,
        id: OrderId,
        price: PriceTicks,
        qty: QtyLots,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let reject = |out: &mut Vec<Event>, reason: Reject| {
            out.push(Event::Rejected { id: Some(id), reason });
            Err(reason)
        };
        let Some(r) = self.find(id) else { return reject(out, Reject::UnknownOrder) };
        if r.view.account != account {
            return reject(out, Reject::NotOwner);
        }
        if let Err(e) = size_and_price(qty, price) {
            return reject(out, e);
        }
        if r.view.expiry.is_expired(now) {
            return reject(out, Reject::OrderExpired);
        }
        if price == r.view.price && qty <= r.view.qty {
            self.set_qty(id, qty);
            out.push(Event::Modified { id, account, price, qty, kept_priority: true });
            return Ok(());
        }
        // Re-entry: take the order out, check as if new, put it back untouched on rejection.
        self.remove(id);
        let mut final_price = price;
        if r.view.tif.is_post_only() {
            match self.post_only_price(now, r.view.side, price, r.view.tif) {
                Ok(p) => final_price = p,
                Err(e) => {
                    self.restore(r);
                    return reject(out, e);
                }
            }
        }
        if !self.level_exists(final_price)
            && self.level_count() >= self.limits.price_levels_max as usize
        {
            self.restore(r);
            return reject(out, Reject::PriceLevelLimit);
        }
        out.push(Event::Modified { id, account, price: final_price, qty, kept_priority: false });
        let view = OrderView { price: final_price, qty, ..r.view };
        self.match_and_rest(now, Taker { view }, out);
        Ok(())
    }

    pub fn expire(&mut self, now: Now, limit: u32, out: &mut Vec<Event>) -> u32 {
        let mut due: Vec<((u8, u64, OrderId), Resting)> = self
            .all()
            .filter(|r| r.view.expiry.is_expired(now))
            .map(|r| {
                let key = match r.view.expiry {
                    Expiry::Height(h) => (0, h, r.view.id),
                    Expiry::TimeMs(t) => (1, t, r.view.id),
                    Expiry::Never => unreachable!("a never-expiring order is never expired"),
                };
                (key, *r)
            })
            .collect();
        due.sort_by_key(|(k, _)| *k);
        let mut n = 0;
        for (_, r) in due.into_iter().take(limit as usize) {
            self.remove(r.view.id);
            out.push(Event::Expired {
                id: r.view.id,
                account: r.view.account,
                side: r.view.side,
                remaining: r.view.qty,
            });
            n += 1;
        }
        n
    }

    // ----------------------------------------------------------------------------------------
    // queries

    pub fn best_bid(&self) -> Option<LevelView> {
        self.levels(Side::Buy).first().copied()
    }

    pub fn best_ask(&self) -> Option<LevelView> {
        self.levels(Side::Sell).first().copied()
    }

    pub fn depth(&self, side: Side, levels: usize) -> Vec<LevelView> {
        self.levels(side).into_iter().take(levels).collect()
    }

    pub fn level_orders(&self, price: PriceTicks) -> Vec<OrderView> {
        self.all().filter(|r| r.view.price == price).map(|r| r.view).collect()
    }

    pub fn impact(&self, taker_side: Side, notional: Notional) -> Impact {
        let target = notional.0;
        let mut qty: u64 = 0;
        let mut got: u128 = 0;
        let mut worst = None;
        if target == 0 {
            return Impact { qty: QtyLots(0), notional: Notional(0), worst: None, complete: true };
        }
        for l in self.levels(taker_side.opposite()) {
            let p = l.price.0 as u128;
            let level_notional = p * l.qty.0 as u128;
            worst = Some(l.price);
            if got + level_notional >= target {
                let need = target - got;
                let lots = need.div_ceil(p);
                qty += lots as u64;
                got += lots * p;
                return Impact {
                    qty: QtyLots(qty),
                    notional: Notional(got),
                    worst,
                    complete: true,
                };
            }
            qty += l.qty.0;
            got += level_notional;
        }
        Impact { qty: QtyLots(qty), notional: Notional(got), worst, complete: false }
    }

    pub fn order(&self, id: OrderId) -> Option<OrderView> {
        self.find(id).map(|r| r.view)
    }

    pub fn order_by_client_id(
        &self,
        account: AccountId,
        client_id: ClientOrderId,
    ) -> Option<OrderView> {
        self.all()
            .find(|r| r.view.account == account && r.view.client_id == Some(client_id))
            .map(|r| r.view)
    }

    pub fn orders_of(&self, account: AccountId) -> Vec<OrderView> {
        let mut v: Vec<Resting> =
            self.all().filter(|r| r.view.account == account).copied().collect();
        v.sort_by_key(|r| r.view.id);
        v.into_iter().map(|r| r.view).collect()
    }

    /// Every resting order, by id (for test generators).
    pub fn all_orders(&self) -> Vec<OrderView> {
        let mut v: Vec<OrderView> = self.all().map(|r| r.view).collect();
        v.sort_by_key(|o| o.id);
        v
    }

    pub fn len(&self) -> usize {
        self.bids.len() + self.asks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn level_count(&self) -> usize {
        self.levels(Side::Buy).len() + self.levels(Side::Sell).len()
    }

    pub fn account_order_count(&self, account: AccountId) -> u32 {
        self.all().filter(|r| r.view.account == account).count() as u32
    }
}

/// Check 1 (shared by place and modify): size, then price.
fn size_and_price(qty: QtyLots, price: PriceTicks) -> Result<(), Reject> {
    if qty.0 == 0 {
        Err(Reject::ZeroQuantity)
    } else if qty.0 > QTY_LOTS_MAX {
        Err(Reject::QuantityTooLarge)
    } else if price.0 == 0 {
        Err(Reject::ZeroPrice)
    } else if price.0 > PRICE_TICKS_MAX {
        Err(Reject::PriceTooLarge)
    } else {
        Ok(())
    }
}
