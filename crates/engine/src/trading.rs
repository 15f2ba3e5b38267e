//! Orders: the engine's checks before the book, and settlement of what the book did.
//!
//! # Checks before matching (first failure reported, state untouched)
//! 1. market exists; its status admits the order (`Halted`, `CancelOnly` refuse; `PostOnly`
//!    needs a post-only order; `ReduceOnly` a reduce-only one);
//! 2. the account exists and the bucket trading this market is not being liquidated;
//! 3. the market has an index; size at least `qty_min`; price within `price_band` of the index;
//! 4. reduce-only: IOC or FOK only (a resting reduce-only order could outlive the position it
//!    reduces; dYdX v4 made the same choice), on the side opposite the position, at most its
//!    size, and filled in full at its limit it must leave the bucket at or above maintenance;
//! 5. otherwise open-interest caps: the market's long open interest plus what the order could
//!    add, and the account's worst-case position, both as notional at mark;
//! 6. otherwise initial margin: `IM ≤ equity` with the order resting on its side, minus the loss
//!    of filling at the limit beyond mark and the taker fee (see `valuation.rs`);
//! 7. the book's own checks (its rejection codes, `100 +`).
//!
//! # Settlement of a fill of `q` lots at `P` (maker's price)
//! For the maker and the taker bucket: settle pending funding into the market's funding pool;
//! update size and entry notional; move `q·P·a` cash from buyer to seller; charge the fee
//! (`⌈notional × rate⌉`, so a negative maker rate rebates the floor) into the fee pool; update
//! open interest and the market's holder set. The maker's resting lots shrink by `q`.

use novation_book::{Event as BookEvent, NewOrder, TimeInForce};
use novation_risk::{settle_funding, MathError, TryArith};
use novation_types::{
    AccountId, Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side,
};

use crate::account::Leg;
use crate::action::{MarketId, OrderRequest, SubaccountId};
use crate::engine::Engine;
use crate::event::{BucketId, Event, MarketStatus, Rejection};
use crate::valuation::{bucket_value, initial_of, leg_value_cached, refresh, sum_bucket, LegValue};

impl Engine {
    fn tradable_market(&self, market: MarketId) -> Result<usize, Rejection> {
        let i = usize::from(market.0);
        let m = self.markets.get(i).ok_or(Rejection::UnknownMarket)?;
        match m.status {
            MarketStatus::Halted => Err(Rejection::MarketHalted),
            _ => Ok(i),
        }
    }

    fn trader(
        &self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
    ) -> Result<(AccountId, BucketId), Rejection> {
        let account = self.lookup(owner, sub)?;
        let bucket = self.accounts[account.0 as usize].bucket_of(market);
        Ok((account, bucket))
    }

    pub(crate) fn place(
        &mut self,
        index: u32,
        owner: Address,
        req: &OrderRequest,
    ) -> Result<(), Rejection> {
        let mi = self.tradable_market(req.market)?;
        let m = &self.markets[mi];
        match m.status {
            MarketStatus::CancelOnly => return Err(Rejection::MarketCancelOnly),
            MarketStatus::PostOnly if !req.tif.is_post_only() => {
                return Err(Rejection::MarketPostOnly)
            }
            MarketStatus::ReduceOnly if !req.reduce_only => {
                return Err(Rejection::MarketReduceOnly)
            }
            _ => {}
        }
        let (account, bucket) = self.trader(owner, req.sub, req.market)?;
        if self.liquidations.contains_key(&(account, bucket)) {
            return Err(Rejection::AccountInLiquidation);
        }
        // Bring the bucket's cached leg values up to date (a no-op within a block once done),
        // so the margin check values only the leg the order changes.
        if let Some(b) =
            self.accounts.get_mut(account.0 as usize).and_then(|a| a.bucket_mut(bucket))
        {
            refresh(&self.markets, b)?;
        }
        let m = &self.markets[mi];
        let index_price = m.index.ok_or(Rejection::NoIndexPrice)?;
        if req.qty < m.params.qty_min {
            return Err(Rejection::BelowMinimumSize);
        }
        self.check_band(mi, req.price, index_price)?;
        let b = self.bucket_ref(account, bucket).ok_or(Rejection::UnknownAccount)?;
        let leg = match b.leg(req.market) {
            Some(l) => *l,
            None => {
                let legs = self.accounts[account.0 as usize].leg_count();
                if legs >= usize::from(self.params.legs_per_account_max) {
                    return Err(Rejection::TooManyMarkets);
                }
                Leg::new(req.market, m.funding_index)
            }
        };
        if req.reduce_only {
            if !matches!(req.tif, TimeInForce::Ioc | TimeInForce::Fok) {
                return Err(Rejection::ReduceOnlyMustNotRest);
            }
            if leg.side() != Some(req.side.opposite()) || req.qty > leg.qty() {
                return Err(Rejection::ReduceOnlyWouldIncrease);
            }
            self.check_reduce_only_margin(mi, account, bucket, &leg, req)?;
        } else {
            if !self.markets[mi].index_fresh_for_opening(self.now.height) {
                return Err(Rejection::IndexTooOld);
            }
            self.check_open_interest(mi, &leg, req.side, req.qty)?;
            self.check_order_margin(
                mi,
                account,
                bucket,
                &leg,
                req.side,
                req.price,
                req.qty,
                !req.tif.is_post_only(),
            )?;
        }
        let id = OrderId(self.next_order_id);
        let order = NewOrder {
            id,
            account,
            client_id: req.client_id,
            side: req.side,
            price: req.price,
            qty: req.qty,
            tif: req.tif,
            expiry: req.expiry,
            reduce_only: req.reduce_only,
            stp: req.stp,
        };
        self.submit(mi, account, bucket, leg, &order).map_err(Rejection::Book)?;
        self.events.push(Event::OrderAccepted { index, market: req.market, id, account });
        Ok(())
    }

    /// Places `order` in the book and settles its events. The leg is created first if new.
    pub(crate) fn submit(
        &mut self,
        mi: usize,
        account: AccountId,
        bucket: BucketId,
        leg: Leg,
        order: &NewOrder,
    ) -> Result<(), novation_book::Reject> {
        let now = self.now;
        let mut out = core::mem::take(&mut self.book_events);
        out.clear();
        let placed = self.markets[mi].book.place(now, order, &mut out);
        self.book_events = out;
        if let Err(reject) = placed {
            self.book_events.clear();
            return Err(reject);
        }
        self.next_order_id += 1;
        if let Some(b) = self.bucket_mut(account, bucket) {
            if let Err(pos) = b.leg_index(leg.market) {
                b.legs.insert(pos, leg);
            }
        }
        self.tidy.push((account, bucket));
        let market = MarketId(mi as u16);
        self.absorb(market, Some(order.id), Some(order.side));
        Ok(())
    }

    fn check_band(&self, mi: usize, price: PriceTicks, index: PriceTicks) -> Result<(), Rejection> {
        let band = self.markets[mi].params.price_band;
        let width = novation_risk::mul_div_floor(
            u128::from(index.0),
            band.ppb().unsigned_abs() as u128,
            novation_risk::Rate::SCALE.unsigned_abs() as u128,
        )?;
        if u128::from(price.0.abs_diff(index.0)) > width {
            return Err(Rejection::PriceOutsideBand);
        }
        Ok(())
    }

    fn check_open_interest(
        &self,
        mi: usize,
        leg: &Leg,
        side: Side,
        qty: QtyLots,
    ) -> Result<(), Rejection> {
        let m = &self.markets[mi];
        let signed = |q: u64| -> i128 {
            match side {
                Side::Buy => i128::from(q),
                Side::Sell => -i128::from(q),
            }
        };
        let before = i128::from(leg.size);
        let after = before + signed(qty.0);
        let added = after.unsigned_abs().saturating_sub(before.unsigned_abs());
        if added > 0 {
            let oi = u128::from(m.long_lots) + added;
            let oi = u64::try_from(oi).map_err(|_| Rejection::OpenInterestCapReached)?;
            if m.notional_at_mark(oi)? > m.params.oi_notional_max {
                return Err(Rejection::OpenInterestCapReached);
            }
        }
        let mut hypo = *leg;
        *hypo.open_mut(side) = hypo
            .open_mut(side)
            .checked_add(qty.0)
            .ok_or(Rejection::AccountOpenInterestCapReached)?;
        if m.notional_at_mark(hypo.worst_case_qty())? > m.params.account_oi_notional_max {
            return Err(Rejection::AccountOpenInterestCapReached);
        }
        Ok(())
    }

    /// Step 6 of the module doc.
    #[allow(clippy::too_many_arguments)]
    fn check_order_margin(
        &self,
        mi: usize,
        account: AccountId,
        bucket: BucketId,
        leg: &Leg,
        side: Side,
        price: PriceTicks,
        qty: QtyLots,
        may_take: bool,
    ) -> Result<(), Rejection> {
        let m = &self.markets[mi];
        let mut hypo = *leg;
        *hypo.open_mut(side) =
            hypo.open_mut(side).checked_add(qty.0).ok_or(Rejection::InsufficientMargin)?;
        let through = match side {
            Side::Buy => price.0.saturating_sub(m.mark.0),
            Side::Sell => m.mark.0.saturating_sub(price.0),
        };
        let loss = m.params.contract.notional(PriceTicks(through), qty)?;
        let fee = if may_take {
            m.params.taker_fee.of_quote_ceil(m.params.contract.notional(price, qty)?)?
        } else {
            Quote::ZERO
        };
        let b = self.bucket_ref(account, bucket).ok_or(Rejection::UnknownAccount)?;
        // Only the resting lots differ from the leg as it stands: reuse its (cached) value and
        // recompute the initial requirement alone.
        let base = leg_value_cached(m, leg)?;
        let over = LegValue { initial: initial_of(m, &hypo)?, ..base };
        let v = sum_bucket(
            &self.markets,
            b,
            Some((leg.market, over, leg.size != 0)),
            -(loss.0.try_add(fee.0)?),
        )?;
        if v.initial > v.equity {
            return Err(Rejection::InsufficientMargin);
        }
        Ok(())
    }

    /// A reduce-only order filled in full at its limit must leave the bucket at or above
    /// maintenance: reducing is always allowed, dumping a position far through the mark into a
    /// friendly bid (and leaving the loss to the insurance fund) is not. Because maintenance is
    /// convex in notional, the full-fill check also covers every partial fill.
    fn check_reduce_only_margin(
        &self,
        mi: usize,
        account: AccountId,
        bucket: BucketId,
        leg: &Leg,
        req: &OrderRequest,
    ) -> Result<(), Rejection> {
        let m = &self.markets[mi];
        let mut after = *leg;
        after.apply_fill(req.side, req.qty, req.price, m.lot_atoms())?;
        let notional = m.params.contract.notional(req.price, req.qty)?;
        let fee = m.params.taker_fee.of_quote_ceil(notional)?;
        let flow = match req.side {
            Side::Buy => -notional.0,
            Side::Sell => notional.0,
        };
        let b = self.bucket_ref(account, bucket).ok_or(Rejection::UnknownAccount)?;
        let v = bucket_value(&self.markets, b, Some(&after), flow.try_sub(fee.0)?)?;
        if v.equity < v.maintenance {
            return Err(Rejection::InsufficientMargin);
        }
        Ok(())
    }

    pub(crate) fn cancel(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
        id: OrderId,
    ) -> Result<(), Rejection> {
        let mi = self.tradable_market(market)?;
        let (account, _) = self.trader(owner, sub, market)?;
        let mut out = core::mem::take(&mut self.book_events);
        out.clear();
        let r = self.markets[mi].book.cancel(account, id, &mut out);
        self.book_events = out;
        self.finish_cancel(market, r)
    }

    pub(crate) fn cancel_by_client_id(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
        client_id: ClientOrderId,
    ) -> Result<(), Rejection> {
        let mi = self.tradable_market(market)?;
        let (account, _) = self.trader(owner, sub, market)?;
        let mut out = core::mem::take(&mut self.book_events);
        out.clear();
        let r = self.markets[mi].book.cancel_by_client_id(account, client_id, &mut out);
        self.book_events = out;
        self.finish_cancel(market, r)
    }

    fn finish_cancel(
        &mut self,
        market: MarketId,
        r: Result<(), novation_book::Reject>,
    ) -> Result<(), Rejection> {
        if let Err(reject) = r {
            self.book_events.clear();
            return Err(Rejection::Book(reject));
        }
        self.absorb(market, None, None);
        Ok(())
    }

    pub(crate) fn cancel_all_action(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: Option<MarketId>,
        side: Option<Side>,
    ) -> Result<(), Rejection> {
        let account = self.lookup(owner, sub)?;
        if let Some(m) = market {
            self.tradable_market(m)?;
        }
        self.cancel_all_of(account, market, side);
        Ok(())
    }

    /// Cancels the account's resting orders in `market` (or every market it has orders in).
    /// Returns how many were cancelled.
    pub(crate) fn cancel_all_of(
        &mut self,
        account: AccountId,
        market: Option<MarketId>,
        side: Option<Side>,
    ) -> u32 {
        let acc = &self.accounts[account.0 as usize];
        let mut markets: Vec<MarketId> = acc
            .bucket_ids()
            .filter_map(|b| acc.bucket(b))
            .flat_map(|b| b.legs.iter())
            .filter(|l| l.open_buy > 0 || l.open_sell > 0)
            .map(|l| l.market)
            .filter(|m| market.is_none_or(|x| x == *m))
            .collect();
        markets.sort_unstable();
        let mut n = 0;
        for m in markets {
            let mi = usize::from(m.0);
            if self.markets[mi].status == MarketStatus::Halted {
                continue;
            }
            let mut out = core::mem::take(&mut self.book_events);
            out.clear();
            n += self.markets[mi].book.cancel_all(account, side, &mut out);
            self.book_events = out;
            self.absorb(m, None, None);
        }
        n
    }

    pub(crate) fn modify(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
        id: OrderId,
        price: PriceTicks,
        qty: QtyLots,
    ) -> Result<(), Rejection> {
        let mi = self.tradable_market(market)?;
        let (account, bucket) = self.trader(owner, sub, market)?;
        let m = &self.markets[mi];
        let old = m.book.order(id).ok_or(Rejection::Book(novation_book::Reject::UnknownOrder))?;
        if old.account != account {
            return Err(Rejection::Book(novation_book::Reject::NotOwner));
        }
        let shrinks_in_place = price == old.price && qty <= old.qty;
        match m.status {
            MarketStatus::CancelOnly => return Err(Rejection::MarketCancelOnly),
            MarketStatus::ReduceOnly | MarketStatus::PostOnly if !shrinks_in_place => {
                return Err(if m.status == MarketStatus::ReduceOnly {
                    Rejection::MarketReduceOnly
                } else {
                    Rejection::MarketPostOnly
                });
            }
            _ => {}
        }
        if self.liquidations.contains_key(&(account, bucket)) {
            return Err(Rejection::AccountInLiquidation);
        }
        if !shrinks_in_place {
            let index_price = m.index.ok_or(Rejection::NoIndexPrice)?;
            if qty < m.params.qty_min {
                return Err(Rejection::BelowMinimumSize);
            }
            self.check_band(mi, price, index_price)?;
            if !m.index_fresh_for_opening(self.now.height) {
                return Err(Rejection::IndexTooOld);
            }
            let leg = *self
                .bucket_ref(account, bucket)
                .and_then(|b| b.leg(market))
                .ok_or(Rejection::Arithmetic)?;
            let mut without = leg;
            *without.open_mut(old.side) = without.open_mut(old.side).saturating_sub(old.qty.0);
            self.check_open_interest(mi, &without, old.side, qty)?;
            self.check_order_margin(
                mi,
                account,
                bucket,
                &without,
                old.side,
                price,
                qty,
                !old.tif.is_post_only(),
            )?;
        }
        let now = self.now;
        let mut out = core::mem::take(&mut self.book_events);
        out.clear();
        let r = self.markets[mi].book.modify(now, account, id, price, qty, &mut out);
        self.book_events = out;
        if let Err(reject) = r {
            self.book_events.clear();
            return Err(Rejection::Book(reject));
        }
        // The old resting size leaves the account's open lots; what rests again comes back
        // through the events (a kept-priority modify re-adds its new size here).
        let kept = self
            .book_events
            .iter()
            .any(|e| matches!(e, BookEvent::Modified { kept_priority: true, .. }));
        if let Some(l) = self.bucket_mut(account, bucket).and_then(|b| {
            let i = b.leg_index(market).ok()?;
            Some(&mut b.legs[i])
        }) {
            let open = l.open_mut(old.side);
            *open = open.saturating_sub(old.qty.0);
            if kept {
                *open += qty.0;
            }
        }
        self.tidy.push((account, bucket));
        self.absorb(market, if kept { None } else { Some(id) }, Some(old.side));
        Ok(())
    }

    /// Settles `self.book_events` of `market`: forwards them as events and applies fills and
    /// resting-lot changes to the legs. `incoming` is the order being placed (its own
    /// cancellation is not a resting order leaving), `taker_side` its side.
    pub(crate) fn absorb(
        &mut self,
        market: MarketId,
        incoming: Option<OrderId>,
        taker_side: Option<Side>,
    ) {
        let events = core::mem::take(&mut self.book_events);
        let mut failed = false;
        for e in &events {
            // Every account the book names had an order placed, changed or removed (marked
            // even if settlement fails below: the book changed regardless).
            match *e {
                BookEvent::Fill { maker_account, taker_account, .. } => {
                    self.dirty.mark(maker_account);
                    self.dirty.mark(taker_account);
                }
                BookEvent::Accepted { account, .. }
                | BookEvent::SelfTradeDecrement { account, .. }
                | BookEvent::Resting { account, .. }
                | BookEvent::Cancelled { account, .. }
                | BookEvent::Expired { account, .. }
                | BookEvent::Modified { account, .. } => self.dirty.mark(account),
                BookEvent::Rejected { .. } => {}
            }
            if !failed {
                if let Err(_e) = self.absorb_one(market, incoming, taker_side, e) {
                    failed = true;
                }
            }
            self.events.push(Event::Book { market, event: *e });
        }
        self.book_events = events;
        self.book_events.clear();
        if failed {
            self.fault(market);
        }
    }

    fn absorb_one(
        &mut self,
        market: MarketId,
        incoming: Option<OrderId>,
        taker_side: Option<Side>,
        e: &BookEvent,
    ) -> Result<(), MathError> {
        match *e {
            BookEvent::Fill { maker_account, taker_account, taker_side, price, qty, .. } => {
                let maker_side = taker_side.opposite();
                self.change_open(market, maker_account, maker_side, qty.0, false)?;
                let notional =
                    self.markets[usize::from(market.0)].params.contract.notional(price, qty)?;
                let params = &self.markets[usize::from(market.0)].params;
                let maker_fee = params.maker_fee.of_quote_ceil(notional)?;
                let taker_fee = params.taker_fee.of_quote_ceil(notional)?;
                self.trade_side(market, maker_account, maker_side, qty, price, maker_fee)?;
                self.trade_side(market, taker_account, taker_side, qty, price, taker_fee)?;
                self.fee_pool = Quote(self.fee_pool.0.try_add(maker_fee.0)?.try_add(taker_fee.0)?);
                self.events.push(Event::Fees { market, maker_fee, taker_fee });
            }
            BookEvent::SelfTradeDecrement { account, qty, .. } => {
                let side = taker_side.ok_or_else(MathError::out_of_domain)?.opposite();
                self.change_open(market, account, side, qty.0, false)?;
            }
            BookEvent::Resting { account, side, qty, .. } => {
                self.change_open(market, account, side, qty.0, true)?;
            }
            BookEvent::Cancelled { id, account, side, remaining, .. } => {
                if Some(id) != incoming {
                    self.change_open(market, account, side, remaining.0, false)?;
                }
            }
            BookEvent::Expired { account, side, remaining, .. } => {
                self.change_open(market, account, side, remaining.0, false)?;
            }
            BookEvent::Accepted { .. }
            | BookEvent::Modified { .. }
            | BookEvent::Rejected { .. } => {}
        }
        Ok(())
    }

    fn leg_mut(
        &mut self,
        market: MarketId,
        account: AccountId,
    ) -> Result<(&mut Leg, BucketId), MathError> {
        self.dirty.mark(account);
        let acc = self.accounts.get_mut(account.0 as usize).ok_or_else(MathError::out_of_domain)?;
        let bucket = acc.bucket_of(market);
        let funding = self.markets[usize::from(market.0)].funding_index;
        let b = acc.bucket_mut(bucket).ok_or_else(MathError::out_of_domain)?;
        let i = match b.leg_index(market) {
            Ok(i) => i,
            Err(pos) => {
                b.legs.insert(pos, Leg::new(market, funding));
                pos
            }
        };
        Ok((&mut b.legs[i], bucket))
    }

    fn change_open(
        &mut self,
        market: MarketId,
        account: AccountId,
        side: Side,
        qty: u64,
        add: bool,
    ) -> Result<(), MathError> {
        let (leg, bucket) = self.leg_mut(market, account)?;
        let open = leg.open_mut(side);
        *open = if add { open.try_add(qty)? } else { open.try_sub(qty)? };
        // Resting lots do not change maintenance: no re-watch, only the empty-leg cleanup.
        self.tidy.push((account, bucket));
        Ok(())
    }

    /// One side of a trade (or of a position transfer, with `fee = 0`): funding, size, cash,
    /// fee, open interest, holders.
    pub(crate) fn trade_side(
        &mut self,
        market: MarketId,
        account: AccountId,
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
        fee: Quote,
    ) -> Result<(), MathError> {
        let mi = usize::from(market.0);
        let lot_atoms = self.markets[mi].lot_atoms();
        let index_now = self.markets[mi].funding_index;
        let notional = self.markets[mi].params.contract.notional(price, qty)?.0;
        let (leg, bucket) = self.leg_mut(market, account)?;
        // Funding first, at the leg's current size.
        let mut funding = None;
        if let Some(s) = leg.side() {
            let st = settle_funding(s, leg.qty(), leg.funding_entry, index_now)?;
            funding = Some(st);
        }
        let before = leg.size;
        let mut next = *leg;
        next.funding_entry = index_now;
        next.apply_fill(side, qty, price, lot_atoms)?;
        let after = next.size;
        let flow = match side {
            Side::Buy => -notional,
            Side::Sell => notional,
        };
        let payment = funding.map_or(0, |f| f.payment.0);
        let b = self.bucket_mut(account, bucket).ok_or_else(MathError::out_of_domain)?;
        let cash = b.cash.0.try_add(flow)?.try_sub(fee.0)?.try_sub(payment)?;
        b.cash = Quote(cash);
        let i = b.leg_index(market).map_err(|_| MathError::out_of_domain())?;
        b.legs[i] = next;
        let m = &mut self.markets[mi];
        if let Some(f) = funding {
            m.funding_pool = Quote(m.funding_pool.0.try_add(f.payment.0)?);
            m.funding_residue_nano =
                m.funding_residue_nano.try_add(i128::from(f.residue_nano_atoms))?;
        }
        m.update_open_interest(before, after)?;
        match (before == 0, after == 0) {
            (true, false) => {
                m.holders.insert((account, bucket));
            }
            (false, true) => {
                m.holders.remove(&(account, bucket));
            }
            _ => {}
        }
        self.touched.push((account, bucket));
        Ok(())
    }
}
