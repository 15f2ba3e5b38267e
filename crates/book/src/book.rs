//! The book: storage, matching and queries. The module doc of the crate is the specification;
//! this file follows it section by section.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::select_unpredictable;

use novation_types::{AccountId, ClientOrderId, Notional, Now, OrderId, PriceTicks, QtyLots, Side};

use crate::index::{AccountIndex, Found, OrderIndex};
use crate::ladder::Ladder;
use crate::{
    CancelReason, Event, Expiry, NewOrder, Reject, StpMode, TimeInForce, ORDERS_PER_BOOK_HARD_MAX,
    PRICE_TICKS_MAX, QTY_LOTS_MAX,
};

/// Named bounds of one book. See the crate doc's "Bounds" table for what happens at each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookLimits {
    /// Resting orders one account may have in this book.
    pub orders_per_account_max: u32,
    /// Resting orders in this book (at most [`ORDERS_PER_BOOK_HARD_MAX`]).
    pub orders_per_book_max: u32,
    /// Distinct price levels, both sides together, in this book.
    pub price_levels_max: u32,
    /// Makers one incoming order may meet (fills, self-trade actions, expired makers removed).
    pub match_steps_max: u32,
}

impl Default for BookLimits {
    fn default() -> Self {
        BookLimits {
            orders_per_account_max: 1_000,
            orders_per_book_max: 1 << 20,
            price_levels_max: 1 << 16,
            match_steps_max: 1_000,
        }
    }
}

impl BookLimits {
    /// Checks that every limit is usable.
    pub fn validate(&self) -> Result<(), LimitsError> {
        let all = [
            self.orders_per_account_max,
            self.orders_per_book_max,
            self.price_levels_max,
            self.match_steps_max,
        ];
        if all.contains(&0) {
            return Err(LimitsError::Zero);
        }
        if self.orders_per_book_max > ORDERS_PER_BOOK_HARD_MAX {
            return Err(LimitsError::TooManyOrders);
        }
        Ok(())
    }
}

/// Invalid [`BookLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    /// A limit is zero.
    #[error("every book limit must be at least 1")]
    Zero,
    /// `orders_per_book_max` above [`ORDERS_PER_BOOK_HARD_MAX`].
    #[error("orders_per_book_max exceeds the hard maximum of {ORDERS_PER_BOOK_HARD_MAX}")]
    TooManyOrders,
}

/// One price level as queries report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelView {
    /// Price of the level.
    pub price: PriceTicks,
    /// Sum of the remaining sizes of the level's orders.
    pub qty: QtyLots,
    /// Number of orders at the level.
    pub orders: u32,
}

/// One resting order as queries report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub id: OrderId,
    pub account: AccountId,
    pub client_id: Option<ClientOrderId>,
    pub side: Side,
    pub price: PriceTicks,
    /// Remaining size.
    pub qty: QtyLots,
    pub tif: TimeInForce,
    pub expiry: Expiry,
    pub reduce_only: bool,
    pub stp: StpMode,
}

/// What a taker of a given notional would meet: the smallest prefix of the opposite side, in
/// priority order and whole lots, whose notional reaches the target. Resting orders count as they
/// stand (expired orders not yet swept included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Impact {
    /// Lots taken.
    pub qty: QtyLots,
    /// Exact notional of the lots taken (tick-lots).
    pub notional: Notional,
    /// Price of the last level reached, if any.
    pub worst: Option<PriceTicks>,
    /// Whether the target notional was reached.
    pub complete: bool,
}

/// "No link" in the intrusive lists and free handles.
const NIL: u32 = u32::MAX;
/// What [`Book::best`] holds for an empty side: 0 for bids, `u64::MAX` for asks. No order has
/// either price (prices are `1..=PRICE_TICKS_MAX`), and neither crosses any price, so the
/// placing path's crossing test needs no emptiness check.
const NO_BEST: [u64; 2] = [0, u64::MAX];
const _: () = assert!(Side::Buy as usize == 0 && Side::Sell as usize == 1);

const HAS_CLIENT_ID: u8 = 1;
const REDUCE_ONLY: u8 = 2;
const EXPIRES_BY_HEIGHT: u8 = 4;
const EXPIRES_BY_TIME: u8 = 8;

/// A resting order: 64 bytes, one cache line, linked into its level's FIFO and listed in its
/// account's entry.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Slot {
    id: u64,
    price: u64,
    qty: u64,
    client_id: u64,
    expires_at: u64,
    /// Handle of the owner's [`AccountOrders`] entry; `NIL` while the slot is free.
    acct: u32,
    level: u32,
    prev: u32,
    next: u32,
    side: Side,
    tif: TimeInForce,
    stp: StpMode,
    bits: u8,
}

impl Slot {
    fn expiry(&self) -> Expiry {
        if self.bits & EXPIRES_BY_HEIGHT != 0 {
            Expiry::Height(self.expires_at)
        } else if self.bits & EXPIRES_BY_TIME != 0 {
            Expiry::TimeMs(self.expires_at)
        } else {
            Expiry::Never
        }
    }

    #[inline]
    fn is_expired(&self, now: Now) -> bool {
        self.bits & (EXPIRES_BY_HEIGHT | EXPIRES_BY_TIME) != 0 && self.expiry().is_expired(now)
    }

    fn client_id(&self) -> Option<ClientOrderId> {
        (self.bits & HAS_CLIENT_ID != 0).then_some(ClientOrderId(self.client_id))
    }

    fn view(&self, account: u32) -> OrderView {
        OrderView {
            id: OrderId(self.id),
            account: AccountId(account),
            client_id: self.client_id(),
            side: self.side,
            price: PriceTicks(self.price),
            qty: QtyLots(self.qty),
            tif: self.tif,
            expiry: self.expiry(),
            reduce_only: self.bits & REDUCE_ONLY != 0,
            stp: self.stp,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Level {
    price: u64,
    total: u64,
    head: u32,
    tail: u32,
    count: u32,
    side: Side,
}

/// The resting orders of one account, listed lazily.
///
/// `orders` holds `(slot handle, slot generation)` pairs. Removing an order does not search the
/// list: it bumps the slot's generation (in the small `Book::generations` array) and decrements
/// `live`, so a fill or a cancel writes no other order's slot (a cancel whose slot is named by
/// the list's newest pair pops that pair, which costs nothing to find). A listed pair is *current* while
/// the slot's generation still matches. Stale pairs are dropped a window at a time: a push that
/// finds the list at `2 * live + ACCOUNT_LIST_SLACK` or longer first examines the next
/// `COMPACT_WINDOW` pairs from `cursor` (wrapping to the front), keeps the current ones in order
/// and closes the gap. More than half of such a list is stale, so a window drops about half its
/// pairs: the work stays O(1) per push amortised, and a push pays at most a window's worth
/// (about 230 instructions on the benchmark's flow, one push in 14) instead of a whole-list
/// pass (about 825, one add in 40), which set the add p99. Should the list still reach
/// `2 * live + ACCOUNT_LIST_SLACK + COMPACT_WINDOW` (live orders left in bulk since the last
/// push, by fills or a one-sided cancel-all, or windows that found only current pairs), the
/// whole list is compacted; so its length never exceeds twice the account's order limit plus
/// `ACCOUNT_LIST_SLACK + COMPACT_WINDOW`. Readers (cancel-all, `orders_of`) also
/// require the slot to still point at this entry and deduplicate handles, so a wrapped
/// generation can never name another account's order.
#[derive(Clone, Debug)]
struct AccountOrders {
    account: u32,
    live: u32,
    /// Where the next compaction window starts (may lie past the end: then at the front).
    cursor: u32,
    orders: Vec<(u32, u32)>,
}

/// Stale pairs an account list may carry beyond twice its live orders before compaction.
const ACCOUNT_LIST_SLACK: usize = 16;

/// Pairs one compaction step examines.
const COMPACT_WINDOW: usize = 32;

/// What callers of `Book::remove` learn about the order that left.
#[derive(Clone, Copy, Debug)]
struct Removed {
    id: u64,
    qty: u64,
    account: u32,
    side: Side,
}

impl Removed {
    /// The event of a removed order cancelled for `reason`.
    fn cancelled(&self, reason: CancelReason) -> Event {
        Event::Cancelled {
            id: OrderId(self.id),
            account: AccountId(self.account),
            side: self.side,
            remaining: QtyLots(self.qty),
            reason,
        }
    }

    /// The event of a removed order that expired.
    fn expired(&self) -> Event {
        Event::Expired {
            id: OrderId(self.id),
            account: AccountId(self.account),
            side: self.side,
            remaining: QtyLots(self.qty),
        }
    }
}

/// How a removal finds the order's id in the id index: looked up again, or where the caller
/// already found it ([`OrderIndex::find`]).
#[derive(Clone, Copy, Debug)]
enum IdAt {
    Lookup,
    Found(Found),
}

/// The incoming side of a match.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: u64,
    account: u32,
    /// The account's entry handle, `NIL` if it has no resting orders.
    acct: u32,
    side: Side,
    limit: u64,
    rem: u64,
    stp: StpMode,
}

impl Taker {
    /// The fill of `qty` lots at `price` against maker `maker_id` (left with `maker_remaining`),
    /// after the taker's remainder was reduced.
    #[inline]
    fn fill(
        &self,
        maker_id: u64,
        maker_account: u32,
        price: u64,
        qty: u64,
        maker_remaining: u64,
    ) -> Event {
        Event::Fill {
            maker_id: OrderId(maker_id),
            maker_account: AccountId(maker_account),
            taker_id: OrderId(self.id),
            taker_account: AccountId(self.account),
            taker_side: self.side,
            price: PriceTicks(price),
            qty: QtyLots(qty),
            maker_remaining: QtyLots(maker_remaining),
            taker_remaining: QtyLots(self.rem),
        }
    }
}

/// How matching ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MatchEnd {
    /// The taker has no size left.
    Filled,
    /// No acceptable maker is left; the taker may rest.
    Exhausted,
    /// Self-trade prevention cancelled the taker (event already emitted).
    Stopped,
    /// `match_steps_max` reached with acceptable makers left.
    StepLimit,
}

/// One market's order book.
#[derive(Clone, Debug)]
pub struct Book {
    limits: BookLimits,
    orders: Vec<Slot>,
    /// Generation of each slot, bumped when its order leaves (see [`AccountOrders`]).
    generations: Vec<u32>,
    free_orders: Vec<u32>,
    len: usize,
    ids: OrderIndex,
    /// (account, client id) -> slot. A `BTreeMap`, not an index table: client ids are chosen by
    /// traders, and a fixed public hash would let them build long probe runs (O(log n) always).
    client_ids: BTreeMap<(u32, u64), u32>,
    accounts: AccountIndex,
    account_orders: Vec<AccountOrders>,
    free_accounts: Vec<u32>,
    levels: Vec<Level>,
    free_levels: Vec<u32>,
    level_count: usize,
    ladder: Ladder,
    /// The best price of each side, indexed by `Side as usize` (bid, ask), or the side's entry
    /// of [`NO_BEST`] when it is empty (see [`Book::best_of`]).
    best: [u64; 2],
    by_height: BTreeSet<(u64, u64)>,
    by_time: BTreeSet<(u64, u64)>,
}

impl Default for Book {
    fn default() -> Self {
        Book::build(BookLimits::default(), 0)
    }
}

impl Book {
    /// An empty book with these limits.
    pub fn new(limits: BookLimits) -> Result<Book, LimitsError> {
        Book::with_capacity(limits, 0)
    }

    /// An empty book with room for `orders` resting orders before any storage grows.
    pub fn with_capacity(limits: BookLimits, orders: usize) -> Result<Book, LimitsError> {
        limits.validate()?;
        Ok(Book::build(limits, orders.min(limits.orders_per_book_max as usize)))
    }

    fn build(limits: BookLimits, orders: usize) -> Book {
        Book {
            limits,
            orders: Vec::with_capacity(orders),
            generations: Vec::with_capacity(orders),
            free_orders: Vec::new(),
            len: 0,
            ids: OrderIndex::new(),
            client_ids: BTreeMap::new(),
            accounts: AccountIndex::new(),
            account_orders: Vec::new(),
            free_accounts: Vec::new(),
            levels: Vec::new(),
            free_levels: Vec::new(),
            level_count: 0,
            ladder: Ladder::new(),
            best: NO_BEST,
            by_height: BTreeSet::new(),
            by_time: BTreeSet::new(),
        }
    }

    /// The book's limits.
    pub fn limits(&self) -> &BookLimits {
        &self.limits
    }

    // ----------------------------------------------------------------------------------------
    // Placing

    /// Places a new order at `now`: checks it (crate doc, "Placing an order"), then matches it
    /// and rests or cancels its remainder. Events go to `out`; on rejection the book is unchanged
    /// and the reason is both returned and appended as [`Event::Rejected`].
    pub fn place(
        &mut self,
        now: Now,
        order: &NewOrder,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if self.try_place_plain(order, out) {
            debug_assert!(self.is_uncrossed(), "book crossed after placing {order:?}");
            return Ok(());
        }
        self.place_checked(now, order, out)
    }

    /// [`Book::place`] for every order the common case does not take: all checks in order,
    /// then matching, resting or cancelling. Out of line, so that the common case keeps its
    /// registers.
    #[inline(never)]
    fn place_checked(
        &mut self,
        now: Now,
        order: &NewOrder,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        match self.check_new(now, order) {
            Ok((price, acct)) => {
                self.execute_new(now, order, (price, acct), out);
                debug_assert!(self.is_uncrossed(), "book crossed after placing {order:?}");
                Ok(())
            }
            Err(reason) => {
                out.push(Event::Rejected { id: Some(order.id), reason });
                Err(reason)
            }
        }
    }

    /// The common case of [`Book::place`] in one pass: a plain GTC limit order (no client id, no
    /// expiry) that passes every check and does not cross rests at once, with the same events
    /// and the same state as the general path ([`Book::check_new`], [`Book::execute_new`]).
    /// Anything else returns `false` having changed nothing (other order types, any check that
    /// fails, an id outside the id window's vacant positions, an account without an entry, a
    /// crossing price), and the general path takes the order from the start. `now` plays no
    /// part: the order cannot be expired and meets no maker.
    #[inline(always)]
    fn try_place_plain(&mut self, order: &NewOrder, out: &mut Vec<Event>) -> bool {
        if order.tif != TimeInForce::Gtc
            || order.client_id.is_some()
            || order.expiry != Expiry::Never
        {
            return false;
        }
        let (side, price, qty) = (order.side, order.price.0, order.qty.0);
        // `1..=MAX` each, as one comparison (zero wraps to `u64::MAX`).
        if qty.wrapping_sub(1) >= QTY_LOTS_MAX || price.wrapping_sub(1) >= PRICE_TICKS_MAX {
            return false;
        }
        let Some(vacancy) = self.ids.vacancy(order.id.0) else { return false };
        let Some(acct) = self.accounts.get(order.account.0) else { return false };
        let (live, len) = (self.account_orders[acct as usize].live, self.len);
        if live >= self.limits.orders_per_account_max
            || len >= self.limits.orders_per_book_max as usize
        {
            return false;
        }
        let level = self.ladder.find(price);
        if level.is_none() && self.level_count >= self.limits.price_levels_max as usize {
            return false;
        }
        // A buy crosses at or above the best ask, a sell at or below the best bid. Computed
        // without a branch on the side: sides arrive in no predictable order, so a branch here
        // was mispredicted about half the time. An empty opposite side's stand-in (`NO_BEST`)
        // never crosses: no price is 0 or above 2^40.
        let buy = side == Side::Buy;
        let opposite = self.best[side as usize ^ 1];
        if (price == opposite) | ((price > opposite) == buy) {
            return false;
        }
        let level = match level {
            Some(level) => level,
            None => self.new_level(side, price),
        };
        let handle = self.link(order, (price, qty), level, (acct, live));
        self.ids.fill(vacancy, handle);
        // Below `orders_per_book_max` (checked above), so no overflow.
        self.len = len + 1;
        out.push(Event::Accepted {
            id: order.id,
            account: order.account,
            side,
            price: PriceTicks(price),
            qty: order.qty,
        });
        out.push(Event::Resting {
            id: order.id,
            account: order.account,
            side,
            price: PriceTicks(price),
            qty: order.qty,
        });
        true
    }

    /// Every check of a new order, in the specified order, without changing anything. Returns the
    /// price the order will use (slid for `PostOnlySlide`).
    /// Also returns the account's entry handle (`NIL` if it has no resting orders), so the hot
    /// path looks the account up once.
    fn check_new(&self, now: Now, order: &NewOrder) -> Result<(u64, u32), Reject> {
        check_size_and_price(order.qty, order.price)?;
        if order.expiry.is_expired(now) {
            return Err(Reject::ExpiredAtEntry);
        }
        if self.ids.get(order.id.0).is_some() {
            return Err(Reject::DuplicateOrderId);
        }
        if let Some(cid) = order.client_id {
            if self.client_ids.contains_key(&(order.account.0, cid.0)) {
                return Err(Reject::DuplicateClientOrderId);
            }
        }
        let price = self.post_only_price(now, order.side, order.tif, order.price.0)?;
        let acct = self.accounts.get(order.account.0).unwrap_or(NIL);
        if order.tif.can_rest() {
            let live = if acct == NIL { 0 } else { self.account_orders[acct as usize].live };
            if live >= self.limits.orders_per_account_max {
                return Err(Reject::AccountOrderLimit);
            }
            if self.len >= self.limits.orders_per_book_max as usize {
                return Err(Reject::BookOrderLimit);
            }
            if self.level_count >= self.limits.price_levels_max as usize
                && self.ladder.get(price).is_none()
            {
                return Err(Reject::PriceLevelLimit);
            }
        }
        if order.tif == TimeInForce::Fok && !self.fok_fillable(now, order) {
            return Err(Reject::FokWouldNotFill);
        }
        Ok((price, acct))
    }

    /// Step 4 of the checks: the price a post-only order will use, or `PostOnlyWouldCross`.
    /// Other orders keep their price.
    fn post_only_price(
        &self,
        now: Now,
        side: Side,
        tif: TimeInForce,
        price: u64,
    ) -> Result<u64, Reject> {
        if !tif.is_post_only() {
            return Ok(price);
        }
        let best = self.effective_opposite_best(now, side).ok_or(Reject::PostOnlyWouldCross)?;
        let Some(best) = best else { return Ok(price) };
        if !side.accepts(PriceTicks(price), PriceTicks(best)) {
            return Ok(price);
        }
        if tif != TimeInForce::PostOnlySlide {
            return Err(Reject::PostOnlyWouldCross);
        }
        let slid = match side {
            Side::Buy => best.checked_sub(1).filter(|&p| p > 0),
            Side::Sell => best.checked_add(1).filter(|&p| p <= PRICE_TICKS_MAX),
        };
        slid.ok_or(Reject::PostOnlyWouldCross)
    }

    /// The price of the first opposite maker, in priority order, that is not expired:
    /// `Some(None)` if there is none, `None` if `match_steps_max` makers were looked at first.
    fn effective_opposite_best(&self, now: Now, side: Side) -> Option<Option<u64>> {
        let mut steps = 0u32;
        let mut price = self.best_of(side.opposite());
        while let Some(p) = price {
            let mut o = self.level_at(p).head;
            while o != NIL {
                if steps >= self.limits.match_steps_max {
                    return None;
                }
                steps += 1;
                let slot = &self.orders[o as usize];
                if !slot.is_expired(now) {
                    return Some(Some(p));
                }
                o = slot.next;
            }
            price = self.next_level_away(side.opposite(), p);
        }
        Some(None)
    }

    /// Dry run of matching for a fill-or-kill order (check 6).
    fn fok_fillable(&self, now: Now, order: &NewOrder) -> bool {
        let mut need = order.qty.0;
        let mut steps = 0u32;
        let maker_side = order.side.opposite();
        let own = self.accounts.get(order.account.0).unwrap_or(NIL);
        let mut price = self.best_of(maker_side);
        while let Some(p) = price {
            if !order.side.accepts(order.price, PriceTicks(p)) {
                return false;
            }
            let mut o = self.level_at(p).head;
            while o != NIL {
                if steps >= self.limits.match_steps_max {
                    return false;
                }
                steps += 1;
                let slot = &self.orders[o as usize];
                o = slot.next;
                if slot.is_expired(now) {
                    continue;
                }
                if slot.acct == own {
                    if order.stp == StpMode::CancelOldest {
                        continue;
                    }
                    return false;
                }
                need -= need.min(slot.qty);
                if need == 0 {
                    return true;
                }
            }
            price = self.next_level_away(maker_side, p);
        }
        false
    }

    /// Runs an accepted new order: `Accepted`, matching, then rest or cancel the remainder.
    /// `price` is the price the checks settled on (slid for `PostOnlySlide`); the order's slot
    /// is written once, from `order`, when (and if) it rests.
    fn execute_new(
        &mut self,
        now: Now,
        order: &NewOrder,
        (price, acct): (u64, u32),
        out: &mut Vec<Event>,
    ) {
        out.push(Event::Accepted {
            id: order.id,
            account: order.account,
            side: order.side,
            price: PriceTicks(price),
            qty: order.qty,
        });
        // Most new orders do not cross: they skip the matching machinery and go straight to
        // the end of matching with nothing matched (the same events as `match_and_finish`).
        let crosses = self
            .best_of(order.side.opposite())
            .is_some_and(|best| order.side.accepts(PriceTicks(price), PriceTicks(best)));
        if crosses {
            self.match_and_finish(now, order, (price, acct), out);
        } else {
            self.finish_unmatched(order, (price, order.qty.0), acct, out);
        }
    }

    /// Matches `order` at `price` as a taker and rests or cancels what is left of it.
    /// `acct` is the account's entry handle as looked up before (`NIL` if none).
    fn match_and_finish(
        &mut self,
        now: Now,
        order: &NewOrder,
        (price, acct): (u64, u32),
        out: &mut Vec<Event>,
    ) {
        let mut taker = Taker {
            id: order.id.0,
            account: order.account.0,
            acct,
            side: order.side,
            limit: price,
            rem: order.qty.0,
            stp: order.stp,
        };
        let end = self.run_match(now, &mut taker, out);
        let cancel = |reason| Event::Cancelled {
            id: OrderId(taker.id),
            account: AccountId(taker.account),
            side: taker.side,
            remaining: QtyLots(taker.rem),
            reason,
        };
        match end {
            MatchEnd::Filled | MatchEnd::Stopped => {}
            MatchEnd::StepLimit => out.push(cancel(CancelReason::MatchLimit)),
            MatchEnd::Exhausted => {
                // Matching may have freed the taker's account entry (by removing its last
                // order); it cannot have handed it to another account.
                let acct = match self.account_orders.get(taker.acct as usize) {
                    Some(entry) if entry.live > 0 => taker.acct,
                    _ => NIL,
                };
                self.finish_unmatched(order, (price, taker.rem), acct, out);
            }
        }
    }

    /// The end of matching when no acceptable maker is left: the remainder `rem` of `order`
    /// rests at `price` if its time in force allows, else it is cancelled as unfilled.
    #[inline(always)]
    fn finish_unmatched(
        &mut self,
        order: &NewOrder,
        (price, rem): (u64, u64),
        acct: u32,
        out: &mut Vec<Event>,
    ) {
        if order.tif.can_rest() {
            self.rest(order, (price, rem), acct);
            out.push(Event::Resting {
                id: order.id,
                account: order.account,
                side: order.side,
                price: PriceTicks(price),
                qty: QtyLots(rem),
            });
        } else {
            out.push(Event::Cancelled {
                id: order.id,
                account: order.account,
                side: order.side,
                remaining: QtyLots(rem),
                reason: CancelReason::Unfilled,
            });
        }
    }

    /// The matching loop of the crate doc ("Matching"). The outer loop moves from level to
    /// level; [`Book::sweep_level`] walks a level's FIFO without looking the level up again.
    fn run_match(&mut self, now: Now, t: &mut Taker, out: &mut Vec<Event>) -> MatchEnd {
        let maker_side = t.side.opposite();
        let mut steps = 0u32;
        loop {
            if t.rem == 0 {
                return MatchEnd::Filled;
            }
            let Some(price) = self.best_of(maker_side) else { return MatchEnd::Exhausted };
            if !t.side.accepts(PriceTicks(t.limit), PriceTicks(price)) {
                return MatchEnd::Exhausted;
            }
            let level = self.ladder.get(price).unwrap_or(NIL);
            if let Some(end) = self.sweep_level(now, t, (level, price), &mut steps, out) {
                return end;
            }
        }
    }

    /// The match steps of taker `t` against `level` (at `price`), from its head in queue order.
    /// Returns how matching ends, or `None` when the level is used up (and dropped).
    ///
    /// Plain trades (a maker neither expired nor the taker's own) are batched: a filled maker
    /// leaves its indexes and account at once ([`Book::retire`]), but the level's head, count
    /// and total, the new head's back link and the book's length are written once for the
    /// whole run ([`Book::settle_head`]), before any other step and at the end. Other steps go
    /// through [`Book::match_head`] on a settled level.
    #[inline]
    fn sweep_level(
        &mut self,
        now: Now,
        t: &mut Taker,
        (level, price): (u32, u64),
        steps: &mut u32,
        out: &mut Vec<Event>,
    ) -> Option<MatchEnd> {
        let mut m = self.levels[level as usize].head;
        // Filled makers not yet settled: how many, and their size.
        let mut gone = (0u32, 0u64);
        let end = loop {
            if t.rem == 0 {
                break Some(MatchEnd::Filled);
            }
            if m == NIL {
                break None;
            }
            if *steps >= self.limits.match_steps_max {
                break Some(MatchEnd::StepLimit);
            }
            *steps += 1;
            let maker = &self.orders[m as usize];
            if maker.is_expired(now) || maker.acct == t.acct {
                self.settle_head(level, m, core::mem::take(&mut gone));
                if let Some(end) = self.match_head(now, t, level, price, out) {
                    return Some(end);
                }
                if self.levels[level as usize].count == 0 {
                    // The level was dropped with its last order.
                    return None;
                }
                m = self.levels[level as usize].head;
                continue;
            }
            let (maker_id, maker_qty, maker_acct, next) =
                (maker.id, maker.qty, maker.acct, maker.next);
            let qty = t.rem.min(maker_qty);
            t.rem -= qty;
            let maker_account = self.account_orders[maker_acct as usize].account;
            if qty == maker_qty {
                self.retire(m, IdAt::Lookup);
                gone = (gone.0 + 1, gone.1 + qty);
                m = next;
            } else {
                self.orders[m as usize].qty -= qty;
                self.levels[level as usize].total -= qty;
            }
            out.push(t.fill(maker_id, maker_account, price, qty, maker_qty - qty));
        };
        self.settle_head(level, m, gone);
        end
    }

    /// Settles a run of makers retired from the head of `level`: `head` is the first order
    /// left (`NIL` if none), `count` and `qty` how many orders and lots left. Drops the level
    /// if it is empty.
    #[inline]
    fn settle_head(&mut self, level: u32, head: u32, (count, qty): (u32, u64)) {
        if count == 0 {
            return;
        }
        let lvl = &mut self.levels[level as usize];
        lvl.head = head;
        lvl.count -= count;
        lvl.total -= qty;
        let emptied = lvl.count == 0;
        if head == NIL {
            lvl.tail = NIL;
        } else {
            self.orders[head as usize].prev = NIL;
        }
        self.len -= count as usize;
        if emptied {
            self.drop_level(level);
        }
    }

    /// One match step against the first order of `level`. Returns how matching ends, or `None`
    /// to go on.
    #[inline]
    fn match_head(
        &mut self,
        now: Now,
        t: &mut Taker,
        level: u32,
        price: u64,
        out: &mut Vec<Event>,
    ) -> Option<MatchEnd> {
        let m = self.levels[level as usize].head;
        let maker = &self.orders[m as usize];
        let (maker_id, maker_qty, maker_acct) = (maker.id, maker.qty, maker.acct);
        if maker.is_expired(now) {
            let removed = self.remove(m);
            out.push(Event::Expired {
                id: OrderId(maker_id),
                account: AccountId(removed.account),
                side: removed.side,
                remaining: QtyLots(maker_qty),
            });
            return None;
        }
        if maker_acct == t.acct {
            return self.self_trade(t, m, level, out);
        }
        let qty = t.rem.min(maker_qty);
        t.rem -= qty;
        let maker_account = self.account_orders[maker_acct as usize].account;
        self.reduce(m, level, qty);
        out.push(t.fill(maker_id, maker_account, price, qty, maker_qty - qty));
        None
    }

    /// Self-trade prevention between taker `t` and its own resting order `m` at `level`.
    /// Returns how matching ends, or `None` to go on.
    fn self_trade(
        &mut self,
        t: &mut Taker,
        m: u32,
        level: u32,
        out: &mut Vec<Event>,
    ) -> Option<MatchEnd> {
        let (maker_id, maker_qty) = (self.orders[m as usize].id, self.orders[m as usize].qty);
        let cancelled = |id: u64, side: Side, remaining: u64| Event::Cancelled {
            id: OrderId(id),
            account: AccountId(t.account),
            side,
            remaining: QtyLots(remaining),
            reason: CancelReason::SelfTrade,
        };
        match t.stp {
            StpMode::CancelNewest => {
                out.push(cancelled(t.id, t.side, t.rem));
                t.rem = 0;
                Some(MatchEnd::Stopped)
            }
            StpMode::CancelOldest => {
                self.remove(m);
                out.push(cancelled(maker_id, t.side.opposite(), maker_qty));
                None
            }
            StpMode::CancelBoth => {
                self.remove(m);
                out.push(cancelled(maker_id, t.side.opposite(), maker_qty));
                out.push(cancelled(t.id, t.side, t.rem));
                t.rem = 0;
                Some(MatchEnd::Stopped)
            }
            StpMode::DecrementAndCancel => {
                let qty = t.rem.min(maker_qty);
                t.rem -= qty;
                self.reduce(m, level, qty);
                out.push(Event::SelfTradeDecrement {
                    taker_id: OrderId(t.id),
                    maker_id: OrderId(maker_id),
                    account: AccountId(t.account),
                    qty: QtyLots(qty),
                    taker_remaining: QtyLots(t.rem),
                    maker_remaining: QtyLots(maker_qty - qty),
                });
                None
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Cancelling, modifying, expiring

    /// Cancels a live order of `account` by id.
    pub fn cancel(
        &mut self,
        account: AccountId,
        id: OrderId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        // The id is looked up once: its removal reuses where it was found.
        let Some((slot, at)) = self.ids.find(id.0) else {
            out.push(Event::Rejected { id: Some(id), reason: Reject::UnknownOrder });
            return Err(Reject::UnknownOrder);
        };
        if self.account_of(slot) != account.0 {
            out.push(Event::Rejected { id: Some(id), reason: Reject::NotOwner });
            return Err(Reject::NotOwner);
        }
        let order = self.remove_inline(slot, IdAt::Found(at));
        out.push(order.cancelled(CancelReason::User));
        Ok(())
    }

    /// Cancels a live order of `account` by its client order id.
    pub fn cancel_by_client_id(
        &mut self,
        account: AccountId,
        client_id: ClientOrderId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let found = self.owned(account, self.client_ids.get(&(account.0, client_id.0)).copied());
        match found {
            Ok(slot) => {
                out.push(self.remove(slot).cancelled(CancelReason::User));
                Ok(())
            }
            Err(reason) => {
                out.push(Event::Rejected { id: None, reason });
                Err(reason)
            }
        }
    }

    fn owned(&self, account: AccountId, slot: Option<u32>) -> Result<u32, Reject> {
        let slot = slot.ok_or(Reject::UnknownOrder)?;
        if self.account_of(slot) != account.0 {
            return Err(Reject::NotOwner);
        }
        Ok(slot)
    }

    /// Cancels every resting order of `account` (on `side` only, if given), in ascending order
    /// id. Returns how many were cancelled.
    pub fn cancel_all(
        &mut self,
        account: AccountId,
        side: Option<Side>,
        out: &mut Vec<Event>,
    ) -> u32 {
        let Some(a) = self.accounts.get(account.0) else { return 0 };
        // Bounded: an account holds at most `orders_per_account_max` orders.
        let mut doomed: Vec<(u64, u32)> = self
            .current_orders(a)
            .into_iter()
            .map(|o| (self.orders[o as usize].id, o))
            .filter(|&(_, o)| side.is_none_or(|s| s == self.orders[o as usize].side))
            .collect();
        doomed.sort_unstable();
        for &(_, o) in &doomed {
            out.push(self.remove(o).cancelled(CancelReason::User));
        }
        doomed.len() as u32
    }

    /// Modifies price and size of a resting order of `account` (crate doc, "Cancel and
    /// modify"). Atomic: on rejection the order is untouched.
    pub fn modify(
        &mut self,
        now: Now,
        account: AccountId,
        id: OrderId,
        price: PriceTicks,
        qty: QtyLots,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        match self.check_modify(now, account, id, price, qty) {
            Ok((slot, new_price, keep)) => {
                self.execute_modify(now, slot, (new_price, qty.0, keep), out);
                debug_assert!(self.is_uncrossed(), "book crossed after modifying {id:?}");
                Ok(())
            }
            Err(reason) => {
                out.push(Event::Rejected { id: Some(id), reason });
                Err(reason)
            }
        }
    }

    fn check_modify(
        &self,
        now: Now,
        account: AccountId,
        id: OrderId,
        price: PriceTicks,
        qty: QtyLots,
    ) -> Result<(u32, u64, bool), Reject> {
        let slot = self.owned(account, self.ids.get(id.0))?;
        check_size_and_price(qty, price)?;
        let order = &self.orders[slot as usize];
        if order.is_expired(now) {
            return Err(Reject::OrderExpired);
        }
        if price.0 == order.price && qty.0 <= order.qty {
            return Ok((slot, price.0, true));
        }
        let new_price = self.post_only_price(now, order.side, order.tif, price.0)?;
        let own_level = &self.levels[order.level as usize];
        let alone = own_level.count == 1;
        let levels_without = self.level_count - usize::from(alone);
        let level_exists = match self.ladder.get(new_price) {
            Some(_) if new_price == order.price => !alone,
            found => found.is_some(),
        };
        if !level_exists && levels_without >= self.limits.price_levels_max as usize {
            return Err(Reject::PriceLevelLimit);
        }
        Ok((slot, new_price, false))
    }

    /// Applies a checked modify: `(price, qty, keep)` as decided by `check_modify` (priority is
    /// kept only when the *requested* price is the current one and the size does not grow; a
    /// post-only order that slides back to its own price still loses its place).
    fn execute_modify(
        &mut self,
        now: Now,
        slot: u32,
        (price, qty, keep): (u64, u64, bool),
        out: &mut Vec<Event>,
    ) {
        let order = self.orders[slot as usize];
        out.push(Event::Modified {
            id: OrderId(order.id),
            account: AccountId(self.account_of(slot)),
            price: PriceTicks(price),
            qty: QtyLots(qty),
            kept_priority: keep,
        });
        if keep {
            self.reduce(slot, order.level, order.qty - qty);
            return;
        }
        // Re-entered as if new, with the order's own attributes.
        let view = self.view(slot);
        self.remove(slot);
        let again = NewOrder {
            id: view.id,
            account: view.account,
            client_id: view.client_id,
            side: view.side,
            price: PriceTicks(price),
            qty: QtyLots(qty),
            tif: view.tif,
            expiry: view.expiry,
            reduce_only: view.reduce_only,
            stp: view.stp,
        };
        let acct = self.accounts.get(view.account.0).unwrap_or(NIL);
        self.match_and_finish(now, &again, (price, acct), out);
    }

    /// Removes up to `limit` expired orders (crate doc, "Expiry"). Returns how many.
    pub fn expire(&mut self, now: Now, limit: u32, out: &mut Vec<Event>) -> u32 {
        let mut removed = 0;
        while removed < limit {
            let next = match self.by_height.first() {
                Some(&(h, id)) if Expiry::Height(h).is_expired(now) => id,
                _ => match self.by_time.first() {
                    Some(&(t, id)) if Expiry::TimeMs(t).is_expired(now) => id,
                    _ => break,
                },
            };
            let Some(slot) = self.ids.get(next) else {
                debug_assert!(false, "expiry index names a missing order");
                break;
            };
            out.push(self.remove(slot).expired());
            removed += 1;
        }
        removed
    }

    // ----------------------------------------------------------------------------------------
    // Storage primitives

    /// The cheap half of the "never crossed" invariant, asserted after every match in debug
    /// builds (the full check is [`Book::check_invariants`]).
    fn is_uncrossed(&self) -> bool {
        match (self.best_of(Side::Buy), self.best_of(Side::Sell)) {
            (Some(b), Some(a)) => b < a,
            _ => true,
        }
    }

    fn best_of(&self, side: Side) -> Option<u64> {
        let best = self.best[side as usize];
        (best != NO_BEST[side as usize]).then_some(best)
    }

    /// The next occupied price after `price` going away from the top of `side`'s book.
    fn next_level_away(&self, side: Side, price: u64) -> Option<u64> {
        match side {
            Side::Buy => self.ladder.at_or_below(price.checked_sub(1)?),
            Side::Sell => self.ladder.at_or_above(price.checked_add(1)?),
        }
    }

    fn level_at(&self, price: u64) -> &Level {
        let handle = self.ladder.get(price).unwrap_or(NIL);
        &self.levels[handle as usize]
    }

    /// Takes `qty` off order `slot` (at level `level`), removing it if nothing is left.
    fn reduce(&mut self, slot: u32, level: u32, qty: u64) {
        let order = &mut self.orders[slot as usize];
        if order.qty == qty {
            self.remove(slot);
        } else {
            order.qty -= qty;
            self.levels[level as usize].total -= qty;
        }
    }

    /// Appends `order` with `qty` lots at `price` to the back of its price level, lists it under
    /// its account and indexes it. The order's slot is written once, here.
    /// `acct` is the account's live entry handle, `NIL` if it has none (the caller checked it
    /// after matching).
    #[inline(always)]
    fn rest(&mut self, order: &NewOrder, (price, qty): (u64, u64), acct: u32) {
        let level = self.level_for(order.side, price);
        let acct = if acct != NIL { acct } else { self.account_entry(order.account.0) };
        let live = self.account_orders[acct as usize].live;
        let handle = self.link(order, (price, qty), level, (acct, live));
        self.ids.insert(order.id.0, handle);
        self.len += 1;
    }

    /// The part of [`Book::rest`] after the level and the account entry are known: writes the
    /// order's slot once, appends it to `level` and to account entry `acct`'s list (whose live
    /// count is `live`, below the account's order limit) and indexes its options. Returns the
    /// slot handle; the caller indexes the id and counts the order in `len`.
    #[inline(always)]
    fn link(
        &mut self,
        order: &NewOrder,
        (price, qty): (u64, u64),
        level: u32,
        (acct, live): (u32, u32),
    ) -> u32 {
        let account = order.account.0;
        let handle = match self.free_orders.pop() {
            Some(h) => h,
            None => self.grow_slab(),
        };
        let generations = &self.generations;
        let entry = &mut self.account_orders[acct as usize];
        debug_assert_eq!(entry.live, live);
        if entry.orders.len() >= 2 * live as usize + ACCOUNT_LIST_SLACK {
            entry.compact_step(generations);
        }
        entry.orders.push((handle, generations[handle as usize]));
        entry.live = live + 1;
        let lvl = &mut self.levels[level as usize];
        let prev = lvl.tail;
        lvl.head = select_unpredictable(prev == NIL, handle, lvl.head);
        lvl.tail = handle;
        lvl.count += 1;
        lvl.total += qty;
        let (bits, expires_at) = option_bits(order);
        let slot = Slot {
            id: order.id.0,
            price,
            qty,
            client_id: order.client_id.map_or(0, |c| c.0),
            expires_at,
            acct,
            level,
            prev,
            next: NIL,
            side: order.side,
            tif: order.tif,
            stp: order.stp,
            bits,
        };
        // The previous tail's forward link, written without a branch on whether the level was
        // empty: then the write goes to the new slot itself, which is written just after.
        self.orders[select_unpredictable(prev == NIL, handle, prev) as usize].next = handle;
        self.orders[handle as usize] = slot;
        if bits & (HAS_CLIENT_ID | EXPIRES_BY_HEIGHT | EXPIRES_BY_TIME) != 0 {
            self.index_options(handle, account);
        }
        handle
    }

    /// A new slot at the end of the slab (free, written by the caller), when the free list is
    /// empty. Out of line: the slab only grows to the book's high-water mark.
    #[cold]
    #[inline(never)]
    fn grow_slab(&mut self) -> u32 {
        let handle = self.orders.len() as u32;
        self.generations.push(0);
        self.orders.push(Slot {
            id: 0,
            price: 0,
            qty: 0,
            client_id: 0,
            expires_at: 0,
            acct: NIL,
            level: NIL,
            prev: NIL,
            next: NIL,
            side: Side::Buy,
            tif: TimeInForce::Gtc,
            stp: StpMode::CancelNewest,
            bits: 0,
        });
        handle
    }

    /// Adds the client-id and expiry index entries of the order just rested in slot `handle`
    /// (owned by `account`). Out of line: orders without those options never come here.
    #[inline(never)]
    fn index_options(&mut self, handle: u32, account: u32) {
        let Slot { id, client_id, expires_at, bits, .. } = self.orders[handle as usize];
        if bits & HAS_CLIENT_ID != 0 {
            self.client_ids.insert((account, client_id), handle);
        }
        if bits & EXPIRES_BY_HEIGHT != 0 {
            self.by_height.insert((expires_at, id));
        } else if bits & EXPIRES_BY_TIME != 0 {
            self.by_time.insert((expires_at, id));
        }
    }

    /// The level at `price` on `side`, created (and the best price updated) if missing.
    #[inline]
    fn level_for(&mut self, side: Side, price: u64) -> u32 {
        match self.ladder.find(price) {
            Some(level) => level,
            None => self.new_level(side, price),
        }
    }

    /// Creates the level at `price` on `side` (none exists) and updates the best price.
    #[inline(never)]
    fn new_level(&mut self, side: Side, price: u64) -> u32 {
        let level = Level { price, total: 0, head: NIL, tail: NIL, count: 0, side };
        let handle = match self.free_levels.pop() {
            Some(h) => {
                self.levels[h as usize] = level;
                h
            }
            None => {
                self.levels.push(level);
                (self.levels.len() - 1) as u32
            }
        };
        self.level_count += 1;
        if self.best_of(side).is_none_or(|b| side.is_better(PriceTicks(price), PriceTicks(b))) {
            self.best[side as usize] = price;
            // A new best outside the ladder's dense window: the market moved, the window
            // follows it (bounded work; see `ladder`).
            if !self.ladder.in_window(price) {
                self.ladder.recentre(price);
            }
        }
        self.ladder.insert(price, handle);
        handle
    }

    /// The handle of `account`'s order list, created if missing.
    #[inline(never)]
    fn account_entry(&mut self, account: u32) -> u32 {
        if let Some(a) = self.accounts.get(account) {
            return a;
        }
        let handle = match self.free_accounts.pop() {
            Some(h) => {
                // Reuse the entry and its list's allocation.
                self.account_orders[h as usize].account = account;
                h
            }
            None => {
                self.account_orders.push(AccountOrders {
                    account,
                    live: 0,
                    cursor: 0,
                    orders: Vec::new(),
                });
                (self.account_orders.len() - 1) as u32
            }
        };
        self.accounts.insert(account, handle);
        handle
    }

    /// The slot handles of account entry `acct`'s orders, in handle order.
    fn current_orders(&self, acct: u32) -> Vec<u32> {
        let mut current: Vec<u32> = self.account_orders[acct as usize]
            .orders
            .iter()
            .filter(|&&(o, g)| {
                self.generations[o as usize] == g && self.orders[o as usize].acct == acct
            })
            .map(|&(o, _)| o)
            .collect();
        current.sort_unstable();
        current.dedup();
        current
    }

    /// The account id owning the order in slot `handle`.
    #[inline]
    fn account_of(&self, handle: u32) -> u32 {
        self.account_orders[self.orders[handle as usize].acct as usize].account
    }

    /// Unlinks and unindexes a resting order, dropping its level and account entry if they
    /// become empty (out of line; the cancel path inlines [`Book::remove_inline`]).
    #[inline(never)]
    fn remove(&mut self, handle: u32) -> Removed {
        self.remove_inline(handle, IdAt::Lookup)
    }

    /// [`Book::remove`], inlined. Reads what it needs of the slot once, before any write, so
    /// that a caller that has just read the slot and its account entry (cancel's owner check)
    /// shares those reads and their bounds checks.
    #[inline(always)]
    fn remove_inline(&mut self, handle: u32, id_at: IdAt) -> Removed {
        let Slot { id, qty, acct, level, prev, next, side, bits, .. } =
            self.orders[handle as usize];
        let entry = &mut self.account_orders[acct as usize];
        let account = entry.account;
        entry.live -= 1;
        let account_emptied = entry.live == 0;
        if account_emptied {
            entry.orders.clear();
        } else {
            // If the account's newest pair names this slot (a cancel of a recent order), it
            // is stale from here on, so it is dropped now rather than left to the compaction.
            // Without a branch on the outcome (it is close to random).
            let newest = entry.orders.last().is_some_and(|&(h, _)| h == handle);
            let len = entry.orders.len() - usize::from(newest);
            entry.orders.truncate(len);
        }
        // Level FIFO. Written without branches on the order's place in its level (near the
        // back for most cancels, but not predictably): a missing neighbour's link is written
        // to the removed slot itself, which is free from here on.
        let lvl = &mut self.levels[level as usize];
        lvl.head = select_unpredictable(prev == NIL, next, lvl.head);
        lvl.tail = select_unpredictable(next == NIL, prev, lvl.tail);
        lvl.count -= 1;
        lvl.total -= qty;
        let level_emptied = lvl.count == 0;
        // The account entry no longer owns the slot (readers check this).
        self.orders[handle as usize].acct = NIL;
        self.orders[select_unpredictable(prev == NIL, handle, prev) as usize].next = next;
        self.orders[select_unpredictable(next == NIL, handle, next) as usize].prev = prev;
        let generation = &mut self.generations[handle as usize];
        *generation = generation.wrapping_add(1);
        self.unindex_and_free(handle, (id, id_at), bits, account);
        self.len -= 1;
        if account_emptied {
            self.accounts.remove(account);
            self.free_accounts.push(acct);
        }
        if level_emptied {
            self.drop_level(level);
        }
        Removed { id, qty, account, side }
    }

    /// Everything of a removal but the level: the account entry (dropped if it becomes
    /// empty), the indexes, the slot's generation, the free list. The caller unlinks the order
    /// from its level and counts it out of `len` (see [`Book::remove`], [`Book::settle_head`]).
    #[inline(always)]
    fn retire(&mut self, handle: u32, id_at: IdAt) -> Removed {
        // Destructure only what removal needs (a whole-slot copy costs a 64-byte memcpy).
        let slot = &mut self.orders[handle as usize];
        let Slot { id, qty, acct, bits, side, .. } = *slot;
        // The account entry no longer owns the slot (readers check this).
        slot.acct = NIL;
        // Account entry: only the live count and the slot's generation change.
        let generation = &mut self.generations[handle as usize];
        *generation = generation.wrapping_add(1);
        let entry = &mut self.account_orders[acct as usize];
        let account = entry.account;
        entry.live -= 1;
        if entry.live == 0 {
            entry.orders.clear();
            self.accounts.remove(account);
            self.free_accounts.push(acct);
        }
        // Indexes.
        self.unindex_and_free(handle, (id, id_at), bits, account);
        Removed { id, qty, account, side }
    }

    /// The index part of a removal: the order's id (looked up again or where the caller found
    /// it), its client-id and expiry entries if it has any, and its slot back on the free list.
    #[inline(always)]
    fn unindex_and_free(&mut self, handle: u32, (id, id_at): (u64, IdAt), bits: u8, account: u32) {
        match id_at {
            IdAt::Lookup => {
                self.ids.remove(id);
            }
            IdAt::Found(at) => self.ids.remove_found(at),
        }
        if bits & (HAS_CLIENT_ID | EXPIRES_BY_HEIGHT | EXPIRES_BY_TIME) != 0 {
            self.unindex_options(handle, account);
        }
        self.free_orders.push(handle);
    }

    /// Removes the client-id and expiry index entries of the order in slot `handle` (owned by
    /// `account`). Out of line: orders without those options never come here.
    #[inline(never)]
    fn unindex_options(&mut self, handle: u32, account: u32) {
        let Slot { id, client_id, expires_at, bits, .. } = self.orders[handle as usize];
        if bits & HAS_CLIENT_ID != 0 {
            self.client_ids.remove(&(account, client_id));
        }
        if bits & EXPIRES_BY_HEIGHT != 0 {
            self.by_height.remove(&(expires_at, id));
        } else if bits & EXPIRES_BY_TIME != 0 {
            self.by_time.remove(&(expires_at, id));
        }
    }

    fn drop_level(&mut self, handle: u32) {
        let Level { price, side, .. } = self.levels[handle as usize];
        self.ladder.remove(price);
        self.free_levels.push(handle);
        self.level_count -= 1;
        if self.best[side as usize] == price {
            let next = self.next_level_away(side, price);
            self.best[side as usize] = next.unwrap_or(NO_BEST[side as usize]);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Queries

    fn level_view(&self, price: u64) -> LevelView {
        let level = self.level_at(price);
        LevelView { price: PriceTicks(price), qty: QtyLots(level.total), orders: level.count }
    }

    /// The best bid level.
    pub fn best_bid(&self) -> Option<LevelView> {
        self.best_of(Side::Buy).map(|p| self.level_view(p))
    }

    /// The best ask level.
    pub fn best_ask(&self) -> Option<LevelView> {
        self.best_of(Side::Sell).map(|p| self.level_view(p))
    }

    /// The first `levels` levels of `side`, best first (L2).
    pub fn depth(&self, side: Side, levels: usize) -> Vec<LevelView> {
        let mut out = Vec::new();
        let mut price = self.best_of(side);
        while let Some(p) = price {
            if out.len() >= levels {
                break;
            }
            out.push(self.level_view(p));
            price = self.next_level_away(side, p);
        }
        out
    }

    /// The orders resting at `price`, in queue order (L3). Empty if no level is there.
    pub fn level_orders(&self, price: PriceTicks) -> Vec<OrderView> {
        let mut out = Vec::new();
        let Some(level) = self.ladder.get(price.0) else { return out };
        let mut o = self.levels[level as usize].head;
        while o != NIL {
            out.push(self.view(o));
            o = self.orders[o as usize].next;
        }
        out
    }

    /// What a `taker_side` order for `notional` would meet (see [`Impact`]).
    pub fn impact(&self, taker_side: Side, notional: Notional) -> Impact {
        let maker_side = taker_side.opposite();
        let mut qty = 0u64;
        let mut got = 0u128;
        let mut worst = None;
        let mut price = self.best_of(maker_side);
        while let Some(p) = price {
            if got >= notional.0 {
                break;
            }
            let level = self.level_at(p);
            let need = (notional.0 - got).div_ceil(u128::from(p));
            let take = need.min(u128::from(level.total)) as u64;
            qty += take;
            got += u128::from(take) * u128::from(p);
            worst = Some(PriceTicks(p));
            price = self.next_level_away(maker_side, p);
        }
        Impact { qty: QtyLots(qty), notional: Notional(got), worst, complete: got >= notional.0 }
    }

    /// A live order by id.
    pub fn order(&self, id: OrderId) -> Option<OrderView> {
        self.ids.get(id.0).map(|s| self.view(s))
    }

    /// A live order by its account and client order id.
    pub fn order_by_client_id(
        &self,
        account: AccountId,
        client_id: ClientOrderId,
    ) -> Option<OrderView> {
        self.client_ids.get(&(account.0, client_id.0)).map(|&s| self.view(s))
    }

    /// An account's resting orders, in ascending order id.
    pub fn orders_of(&self, account: AccountId) -> Vec<OrderView> {
        let Some(a) = self.accounts.get(account.0) else { return Vec::new() };
        let mut out: Vec<OrderView> =
            self.current_orders(a).into_iter().map(|o| self.view(o)).collect();
        out.sort_unstable_by_key(|v| v.id);
        out
    }

    fn view(&self, handle: u32) -> OrderView {
        self.orders[handle as usize].view(self.account_of(handle))
    }

    /// Number of resting orders.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no order rests.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of price levels, both sides.
    pub fn level_count(&self) -> usize {
        self.level_count
    }

    /// Number of resting orders of `account`.
    pub fn account_order_count(&self, account: AccountId) -> u32 {
        self.accounts.get(account.0).map_or(0, |a| self.account_orders[a as usize].live)
    }

    /// Checks every structural invariant; `Err` describes the first violation. O(n): for tests,
    /// fuzzing and debug builds.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_levels()?;
        self.check_orders()?;
        self.check_accounts()?;
        self.ladder.check()
    }
}

/// Size and price checks shared by placing and modifying.
fn check_size_and_price(qty: QtyLots, price: PriceTicks) -> Result<(), Reject> {
    if qty.0 == 0 {
        return Err(Reject::ZeroQuantity);
    }
    if qty.0 > QTY_LOTS_MAX {
        return Err(Reject::QuantityTooLarge);
    }
    if price.0 == 0 {
        return Err(Reject::ZeroPrice);
    }
    if price.0 > PRICE_TICKS_MAX {
        return Err(Reject::PriceTooLarge);
    }
    Ok(())
}

impl AccountOrders {
    /// One compaction step (see [`AccountOrders`]): drops the stale pairs among the
    /// `COMPACT_WINDOW` pairs from `cursor`, keeping the list in push order, and compacts the
    /// whole list if it is still `COMPACT_WINDOW` pairs past its threshold. Generation check
    /// only; readers check ownership too. Out of line (about one push in 14 runs it).
    #[inline(never)]
    fn compact_step(&mut self, generations: &[u32]) {
        let list = &mut self.orders;
        let len = list.len();
        let start = if (self.cursor as usize) < len { self.cursor as usize } else { 0 };
        let end = len.min(start + COMPACT_WINDOW);
        let kept = keep_current(list, start..end, generations);
        // Close the gap: the unexamined rest moves down behind the kept pairs (a few hundred
        // bytes at most), so the newest pair stays last.
        list.drain(kept..end);
        self.cursor = kept as u32;
        if list.len() >= 2 * self.live as usize + ACCOUNT_LIST_SLACK + COMPACT_WINDOW {
            let all = list.len();
            let kept = keep_current(list, 0..all, generations);
            list.truncate(kept);
            self.cursor = 0;
        }
    }
}

/// Moves the current pairs of `list[range]` to the front of that range, in order, and returns
/// the index one past the last one kept. Without a branch on the outcome: whether a pair is
/// stale is close to random (`Vec::retain`'s branch on it was mispredicted about nine times per
/// whole-list pass). Every pair is written at the kept prefix's end, which advances only past a
/// current one.
#[inline(always)]
fn keep_current(
    list: &mut [(u32, u32)],
    range: std::ops::Range<usize>,
    generations: &[u32],
) -> usize {
    let mut kept = range.start;
    for i in range {
        let (o, g) = list[i];
        list[kept] = (o, g);
        kept += usize::from(generations[o as usize] == g);
    }
    kept
}

/// The packed option flags of a new order and its expiry value (0 for `Never`).
#[inline]
fn option_bits(order: &NewOrder) -> (u8, u64) {
    let mut bits = 0;
    if order.client_id.is_some() {
        bits |= HAS_CLIENT_ID;
    }
    if order.reduce_only {
        bits |= REDUCE_ONLY;
    }
    match order.expiry {
        Expiry::Never => (bits, 0),
        Expiry::Height(h) => (bits | EXPIRES_BY_HEIGHT, h),
        Expiry::TimeMs(t) => (bits | EXPIRES_BY_TIME, t),
    }
}

/// Invariant checks (paired with the assertions of the matching path).
impl Book {
    /// Levels: ordered sides, best prices, totals and counts, FIFO links.
    fn check_levels(&self) -> Result<(), String> {
        let prices = self.ladder.prices();
        if prices.len() != self.level_count {
            return Err(format!(
                "{} levels counted, {} in the ladder",
                self.level_count,
                prices.len()
            ));
        }
        let bids: Vec<u64> =
            prices.iter().copied().filter(|&p| self.level_at(p).side == Side::Buy).collect();
        let asks: Vec<u64> =
            prices.iter().copied().filter(|&p| self.level_at(p).side == Side::Sell).collect();
        if let (Some(&b), Some(&a)) = (bids.last(), asks.first()) {
            if b >= a {
                return Err(format!("crossed book: bid {b} >= ask {a}"));
            }
        }
        let (best_bid, best_ask) = (self.best_of(Side::Buy), self.best_of(Side::Sell));
        if bids.last().copied() != best_bid || asks.first().copied() != best_ask {
            return Err(format!(
                "best prices cached as {best_bid:?}/{best_ask:?}, ladder says {:?}/{:?}",
                bids.last(),
                asks.first()
            ));
        }
        let mut orders = 0usize;
        for &p in &prices {
            let handle = self.ladder.get(p).unwrap_or(NIL);
            let level = &self.levels[handle as usize];
            if level.price != p {
                return Err(format!("level at {p} says price {}", level.price));
            }
            let (mut count, mut total, mut prev, mut o) = (0u32, 0u64, NIL, level.head);
            while o != NIL {
                let slot = &self.orders[o as usize];
                if slot.qty == 0
                    || slot.price != p
                    || slot.side != level.side
                    || slot.level != handle
                {
                    return Err(format!("order {} misfiled at level {p}: {slot:?}", slot.id));
                }
                if slot.prev != prev {
                    return Err(format!("order {} has a broken back link", slot.id));
                }
                count += 1;
                total += slot.qty;
                prev = o;
                o = slot.next;
            }
            if prev != level.tail || count != level.count || total != level.total || count == 0 {
                return Err(format!(
                    "level {p}: {count} orders totalling {total}, level says {} totalling {}",
                    level.count, level.total
                ));
            }
            orders += count as usize;
        }
        if orders != self.len {
            return Err(format!("{orders} orders in levels, len says {}", self.len));
        }
        Ok(())
    }

    /// Indexes: every id, client id and expiry entry points at the right live order and back.
    fn check_orders(&self) -> Result<(), String> {
        if self.ids.len() != self.len {
            return Err(format!("{} ids indexed for {} orders", self.ids.len(), self.len));
        }
        let (mut with_cid, mut by_height, mut by_time) = (0, 0, 0);
        for p in self.ladder.prices() {
            for view in self.level_orders(PriceTicks(p)) {
                let handle =
                    self.ids.get(view.id.0).ok_or(format!("order {} not indexed", view.id.0))?;
                if self.orders[handle as usize].id != view.id.0 {
                    return Err(format!("id index of {} points elsewhere", view.id.0));
                }
                if let Some(cid) = view.client_id {
                    with_cid += 1;
                    if self.client_ids.get(&(view.account.0, cid.0)) != Some(&handle) {
                        return Err(format!("client id of {} not indexed", view.id.0));
                    }
                }
                match view.expiry {
                    Expiry::Never => {}
                    Expiry::Height(h) => {
                        by_height += 1;
                        if !self.by_height.contains(&(h, view.id.0)) {
                            return Err(format!("height expiry of {} not indexed", view.id.0));
                        }
                    }
                    Expiry::TimeMs(t) => {
                        by_time += 1;
                        if !self.by_time.contains(&(t, view.id.0)) {
                            return Err(format!("time expiry of {} not indexed", view.id.0));
                        }
                    }
                }
            }
        }
        if with_cid != self.client_ids.len()
            || by_height != self.by_height.len()
            || by_time != self.by_time.len()
        {
            return Err("client-id or expiry index holds stale entries".into());
        }
        Ok(())
    }

    /// Account entries: each lists exactly its account's orders, and each order knows its place.
    fn check_accounts(&self) -> Result<(), String> {
        let mut by_account: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for p in self.ladder.prices() {
            let mut o = self.level_at(p).head;
            while o != NIL {
                by_account.entry(self.account_of(o)).or_default().push(o);
                o = self.orders[o as usize].next;
            }
        }
        for (&account, orders) in &by_account {
            let a = self.accounts.get(account).ok_or(format!("account {account} not indexed"))?;
            let entry = &self.account_orders[a as usize];
            let listed = self.current_orders(a);
            let mut found = orders.clone();
            found.sort_unstable();
            if entry.account != account || listed != found || entry.live as usize != found.len() {
                return Err(format!("account {account} lists {listed:?}, holds {found:?}"));
            }
            let bound = 2 * self.limits.orders_per_account_max as usize
                + ACCOUNT_LIST_SLACK
                + COMPACT_WINDOW;
            if entry.orders.len() > bound {
                return Err(format!("account {account} list grew to {}", entry.orders.len()));
            }
            if orders.len() > self.limits.orders_per_account_max as usize {
                return Err(format!(
                    "account {account} holds {} orders, above its limit",
                    orders.len()
                ));
            }
        }
        if self.accounts.len() != by_account.len() {
            return Err("account index holds stale accounts".into());
        }
        if self.level_count > self.limits.price_levels_max as usize
            || self.len > self.limits.orders_per_book_max as usize
        {
            return Err("book holds more than its limits".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// One compaction step against a plain model: the window's current pairs stay in
        /// order, its stale ones go, the rest of the list is untouched and the cursor ends
        /// after the kept pairs; or, past the hard bound, the whole list is compacted.
        #[test]
        fn compact_step_drops_the_windows_stale_pairs(
            (pairs, generations) in (1u32..=4).prop_flat_map(|g| (
                // With `g` generations a pair is current with odds 1/g: all, half, ... .
                proptest::collection::vec((0u32..64, 0..g), 0..200),
                proptest::collection::vec(0..g, 64),
            )),
            cursor in 0u32..220,
            live in 0u32..100,
        ) {
            let mut entry = AccountOrders { account: 1, live, cursor, orders: pairs.clone() };
            entry.compact_step(&generations);
            let current = |&(o, g): &(u32, u32)| generations[o as usize] == g;
            let len = pairs.len();
            let start = if (cursor as usize) < len { cursor as usize } else { 0 };
            let end = len.min(start + COMPACT_WINDOW);
            let mut windowed: Vec<(u32, u32)> = pairs[..start].to_vec();
            windowed.extend(pairs[start..end].iter().filter(|p| current(p)));
            let kept = windowed.len();
            windowed.extend_from_slice(&pairs[end..]);
            if windowed.len() >= 2 * live as usize + ACCOUNT_LIST_SLACK + COMPACT_WINDOW {
                let all: Vec<(u32, u32)> = pairs.iter().copied().filter(|p| current(p)).collect();
                prop_assert_eq!(&entry.orders, &all);
                prop_assert_eq!(entry.cursor, 0);
            } else {
                prop_assert_eq!(&entry.orders, &windowed);
                prop_assert_eq!(entry.cursor as usize, kept);
            }
        }
    }
}
