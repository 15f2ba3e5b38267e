//! The liquidation watch and the liquidation waterfall.
//!
//! # Watch: scale with risk, not with accounts
//! A block in which prices move but nobody is liquidatable must not scan every account. Each
//! market keeps a progress counter `C` (nano-atoms per lot, `market.rs`) that grows by
//! `|Δmark| · a · (1 + mmr_max)` plus `|Δfunding index|` each block: an upper bound on how much
//! `equity − maintenance` one lot of any position in that market can have lost since any
//! earlier block (price loss `|Δmark|·a`, maintenance growth at most `mmr_max·|Δmark|·a`,
//! funding at most `|Δindex|`).
//!
//! Whenever a bucket changes (a fill, a deposit, a withdrawal, a funding settlement) or one of
//! its watch entries fires, it is re-evaluated at the current marks. If healthy, its buffer
//! `B = equity − maintenance − 2·legs` (the slack covers one atom of maintenance rounding and
//! one of funding rounding per leg) is split over its positions in proportion to their
//! notional, `B_i = ⌊B · N_i / ΣN⌋`, and each position gets an entry in its market's watch at
//!
//! ```text
//! trigger_i = C_i(now) + ⌊B_i · 1e9 / q_i⌋
//! ```
//!
//! While every market's `C_i` stays below its trigger, the loss of every position is at most its
//! share of the buffer, so the bucket is still healthy: checking a block costs one comparison
//! per market (`watch.first()`), plus one re-evaluation per entry that fired. Entries fire in
//! ascending trigger order, at most `watch_evaluations_per_block_max` per block (the rest wait
//! one block; their triggers are still due).
//!
//! # Waterfall (one step per bucket per block, at most `liquidation_steps_per_block_max`)
//! A bucket found below maintenance enters the waterfall (event `LiquidationStarted`); while
//! in it the owner may deposit and cancel but not trade in its markets. Each block, in
//! ascending (account, bucket) order, each bucket takes one step:
//!
//! 0. healthy again (or flat with non-negative equity) → leaves (`LiquidationEnded`);
//! 1. its resting orders are cancelled (first step only);
//! 2. not bankrupt (`equity ≥ 0`): the largest position in a market that can trade (not halted
//!    or cancel-only, index fresh) is closed by a reduce-only IOC order limited to `band` from
//!    mark; positions above `partial_notional_min` a `partial_fraction` at a time. The penalty
//!    `⌈filled · mark · a · penalty⌉`, capped at the remaining equity, goes to the market's
//!    insurance fund. If the book absorbs nothing, step 3;
//! 3. a takeover auction for the whole position: price from mark linearly to the bankruptcy
//!    price over `auction_blocks`; any account may take it with `BidLiquidation` (the position
//!    moves to the bidder at the auction price, who must meet initial margin after);
//! 4. the auction ends unsold, or the bucket is (or becomes, during its auction) bankrupt: the
//!    market's insurance fund takes as much of the position at the bankruptcy price as leaves it
//!    at or above maintenance and holding at most `insurance_position_notional_max` in the
//!    market;
//! 5. otherwise auto-deleveraging: opposite positions ranked by [`novation_risk::AdlKey`]
//!    (profit × leverage, then notional, then account id; buckets in the waterfall last) are
//!    closed against it at the bankruptcy price, at most `adl_counterparties_per_step_max` per
//!    step. Accounts without a position in the market are never touched.
//!
//! The bankruptcy price of a leg is where the bucket's equity would be zero with its other legs
//! at mark (rounded toward solvency). If no such price exists (a cross bucket whose other legs
//! already lost more than this one can return), the leg is transferred at mark and the deficit
//! left once the bucket is flat is paid by the insurance fund down to its maintenance; what
//! remains is reported as `UncoveredDeficit`, never hidden.

use novation_book::{Expiry, NewOrder, StpMode, TimeInForce};
use novation_risk::{
    adl_score, liquidation_limit_price, mul_div_floor, narrow, AdlInputs, AdlKey, IsolatedPosition,
    MathError, Rate, TakeoverAuction, TryArith,
};
use novation_types::{AccountId, Address, OrderId, PriceTicks, QtyLots, Quote, Side};

use crate::action::{AuctionId, MarketId, SubaccountId};
use crate::engine::Engine;
use crate::event::{BucketId, Event, MarketStatus, Rejection};
use crate::valuation::{bucket_value, leg_value, refresh};

/// A bucket's progress through the waterfall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiquidationState {
    /// Step 1 done.
    pub orders_cancelled: bool,
    /// The open auction for one of its positions.
    pub auction: Option<AuctionId>,
    /// The market of the last position closed (whose insurance fund covers a final deficit).
    pub last_market: Option<MarketId>,
}

/// An open takeover auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auction {
    /// The account whose position is offered.
    pub account: AccountId,
    /// Its bucket.
    pub bucket: BucketId,
    /// The market.
    pub market: MarketId,
    /// The position's side (`Buy` = long: the bidder buys it).
    pub side: Side,
    /// Size offered.
    pub qty: QtyLots,
    /// Price schedule.
    pub schedule: TakeoverAuction,
    /// Height of the block that opened it.
    pub opened_height: u64,
}

impl Auction {
    /// The price at `height`.
    pub fn price_at(&self, height: u64) -> PriceTicks {
        self.schedule.price_at(height.saturating_sub(self.opened_height))
    }

    fn expired(&self, height: u64) -> bool {
        height > self.opened_height.saturating_add(self.schedule.duration_blocks)
    }
}

/// One line of a market's ADL queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdlEntry {
    /// The account.
    pub account: AccountId,
    /// Its bucket.
    pub bucket: BucketId,
    /// The ranking key (first = deleveraged first).
    pub key: AdlKey,
    /// Position size.
    pub qty: QtyLots,
    /// Whether the bucket is itself in the waterfall (ranked after all others).
    pub in_liquidation: bool,
}

type Key = (AccountId, BucketId);

impl Engine {
    /// Re-evaluates a bucket: refreshes its watch entries, or starts its liquidation.
    pub(crate) fn rewatch(&mut self, account: AccountId, bucket: BucketId) {
        let new = if self.liquidations.contains_key(&(account, bucket)) {
            Vec::new()
        } else {
            match self.watch_entries(account, bucket) {
                Ok(Some(entries)) => entries,
                Ok(None) => Vec::new(),
                Err(_) => {
                    self.start_liquidation(account, bucket, Quote::ZERO, Quote::ZERO);
                    Vec::new()
                }
            }
        };
        let Some(b) = self.bucket_mut(account, bucket) else { return };
        let old = core::mem::take(&mut b.watch);
        let mut kept = Vec::with_capacity(new.len());
        for &(m, trigger) in &new {
            let watch = &mut self.markets[usize::from(m.0)].watch;
            match old.iter().find(|(om, _)| *om == m) {
                // An entry that fires no later than needed is kept as it is: re-evaluating
                // early is safe, and it saves two ordered-set updates per fill.
                Some(&(_, earlier)) if earlier <= trigger => kept.push((m, earlier)),
                Some(&(_, later)) => {
                    watch.remove(&(later, account, bucket));
                    watch.insert((trigger, account, bucket));
                    kept.push((m, trigger));
                }
                None => {
                    watch.insert((trigger, account, bucket));
                    kept.push((m, trigger));
                }
            }
        }
        for &(m, trigger) in &old {
            if !new.iter().any(|(nm, _)| *nm == m) {
                self.markets[usize::from(m.0)].watch.remove(&(trigger, account, bucket));
            }
        }
        if let Some(b) = self.bucket_mut(account, bucket) {
            b.watch = kept;
        }
    }

    /// `Ok(None)`: nothing to watch, or the bucket just entered the waterfall.
    fn watch_entries(
        &mut self,
        account: AccountId,
        bucket: BucketId,
    ) -> Result<Option<Vec<(MarketId, u128)>>, MathError> {
        let markets = &self.markets;
        let b = self
            .accounts
            .get_mut(account.0 as usize)
            .and_then(|a| a.bucket_mut(bucket))
            .ok_or_else(MathError::out_of_domain)?;
        refresh(markets, b)?;
        let v = bucket_value(markets, b, None, 0)?;
        if v.equity < v.maintenance {
            self.start_liquidation(account, bucket, v.equity, v.maintenance);
            return Ok(None);
        }
        if v.positions == 0 {
            return Ok(None);
        }
        let slack = 2 * i128::from(v.positions);
        let buffer = v.equity.0.try_sub(v.maintenance.0)?.try_sub(slack)?.max(0).unsigned_abs();
        let total = v.notional.0.unsigned_abs();
        let mut entries = Vec::with_capacity(v.positions as usize);
        for leg in b.legs.iter().filter(|l| l.size != 0) {
            let m = &markets[usize::from(leg.market.0)];
            // `refresh` just made every cache current.
            let n = leg.cache.value.notional.unsigned_abs();
            let share = if total == 0 { 0 } else { mul_div_floor(buffer, n, total)? };
            let per_lot =
                mul_div_floor(share, Rate::SCALE.unsigned_abs() as u128, u128::from(leg.qty().0))?;
            entries.push((leg.market, m.watch_progress.saturating_add(per_lot)));
        }
        Ok(Some(entries))
    }

    fn start_liquidation(
        &mut self,
        account: AccountId,
        bucket: BucketId,
        equity: Quote,
        maintenance: Quote,
    ) {
        if self.liquidations.contains_key(&(account, bucket)) {
            return;
        }
        self.liquidations.insert((account, bucket), LiquidationState::default());
        self.dirty.mark(account);
        self.events.push(Event::LiquidationStarted { account, bucket, equity, maintenance });
    }

    /// The per-block liquidation pass: fire due watch entries, then step the waterfall.
    pub(crate) fn liquidation_pass(&mut self) {
        let mut budget = self.params.watch_evaluations_per_block_max as usize;
        let mut fired: Vec<(AccountId, BucketId, MarketId, u128)> = Vec::new();
        for m in &mut self.markets {
            while budget > 0 {
                let Some(&(trigger, account, bucket)) = m.watch.first() else { break };
                if trigger > m.watch_progress {
                    break;
                }
                m.watch.pop_first();
                fired.push((account, bucket, m.id, trigger));
                budget -= 1;
            }
        }
        // The fired entries left the sets; forget them in their buckets before re-watching
        // (re-watching keeps entries it believes are still in the sets).
        let mut due: Vec<Key> = Vec::with_capacity(fired.len());
        for (account, bucket, market, trigger) in fired {
            if let Some(b) = self.bucket_mut(account, bucket) {
                b.watch.retain(|&(m, t)| (m, t) != (market, trigger));
            }
            due.push((account, bucket));
        }
        due.sort_unstable();
        due.dedup();
        for (account, bucket) in due {
            self.rewatch(account, bucket);
        }
        // Round robin from where the last block stopped, so buckets that must wait (a halted
        // market, a running auction) cannot starve the ones behind them.
        let steps = self.params.liquidation_steps_per_block_max as usize;
        let keys: Vec<Key> = match self.liquidation_cursor {
            Some(c) => self
                .liquidations
                .range((core::ops::Bound::Excluded(c), core::ops::Bound::Unbounded))
                .chain(self.liquidations.range(..=c))
                .map(|(k, _)| *k)
                .take(steps)
                .collect(),
            None => self.liquidations.keys().copied().take(steps).collect(),
        };
        self.liquidation_cursor = keys.last().copied();
        for key in keys {
            if let Err(_e) = self.liquidation_step(key) {
                // A step that cannot be computed waits for the next block; the markets involved
                // are left to their breakers.
            }
            self.after_action();
        }
    }

    fn liquidation_step(&mut self, key: Key) -> Result<(), MathError> {
        let (account, bucket) = key;
        let Some(mut state) = self.liquidations.get(&key).copied() else { return Ok(()) };
        let b = self.bucket_ref(account, bucket).ok_or_else(MathError::out_of_domain)?;
        let v = bucket_value(&self.markets, b, None, 0)?;
        let flat = v.positions == 0;
        if v.equity >= v.maintenance {
            return self.end_liquidation(key, state);
        }
        if !state.orders_cancelled {
            let orders = self.cancel_bucket_orders(account, bucket);
            self.events.push(Event::LiquidationOrdersCancelled { account, orders });
            state.orders_cancelled = true;
            self.set_liquidation_state(key, state);
        }
        if let Some(id) = state.auction {
            let Some(a) = self.auctions.get(&id).copied() else {
                state.auction = None;
                self.set_liquidation_state(key, state);
                return Ok(());
            };
            // Unsold by its end, or bankrupt meanwhile (nobody bids beyond the market): step 4.
            if a.expired(self.now.height) || v.equity.0 < 0 {
                self.auctions.remove(&id);
                self.events.push(Event::AuctionClosed { auction: id });
                state.auction = None;
                self.set_liquidation_state(key, state);
                self.backstop(key, a.market)?;
            }
            return Ok(());
        }
        if flat {
            return self.cover_deficit(key, state, v.equity);
        }
        let Some((market, _)) = self.largest_tradable_leg(key)? else { return Ok(()) };
        state.last_market = Some(market);
        self.set_liquidation_state(key, state);
        if v.equity.0 >= 0 {
            let filled = self.close_in_book(key, market)?;
            if filled == 0 {
                self.open_auction(key, market)?;
            }
            Ok(())
        } else {
            self.backstop(key, market)
        }
    }

    /// Records a bucket's waterfall state; its account is dirty if the state changed.
    fn set_liquidation_state(&mut self, key: Key, state: LiquidationState) {
        if self.liquidations.insert(key, state) != Some(state) {
            self.dirty.mark(key.0);
        }
    }

    fn end_liquidation(&mut self, key: Key, state: LiquidationState) -> Result<(), MathError> {
        if let Some(id) = state.auction {
            if self.auctions.remove(&id).is_some() {
                self.events.push(Event::AuctionClosed { auction: id });
            }
        }
        self.liquidations.remove(&key);
        self.dirty.mark(key.0);
        self.events.push(Event::LiquidationEnded { account: key.0, bucket: key.1 });
        self.touched.push(key);
        Ok(())
    }

    /// Cancels the account's resting orders in the markets of this bucket's legs (an isolated
    /// bucket has only its own market's leg, so nothing else of the account is touched).
    fn cancel_bucket_orders(&mut self, account: AccountId, bucket: BucketId) -> u32 {
        let markets: Vec<MarketId> = self
            .bucket_ref(account, bucket)
            .map(|b| {
                b.legs.iter().filter(|l| l.open_buy + l.open_sell > 0).map(|l| l.market).collect()
            })
            .unwrap_or_default();
        let mut n = 0;
        for m in markets {
            n += self.cancel_all_of(account, Some(m), None);
        }
        n
    }

    fn market_can_liquidate(&self, market: MarketId) -> bool {
        let m = &self.markets[usize::from(market.0)];
        !matches!(m.status, MarketStatus::Halted | MarketStatus::CancelOnly)
            && m.index_is_fresh(self.now.height)
    }

    fn largest_tradable_leg(&self, key: Key) -> Result<Option<(MarketId, Quote)>, MathError> {
        let b = self.bucket_ref(key.0, key.1).ok_or_else(MathError::out_of_domain)?;
        let mut best: Option<(MarketId, Quote)> = None;
        for leg in b.legs.iter().filter(|l| l.size != 0 && self.market_can_liquidate(l.market)) {
            let n = self.markets[usize::from(leg.market.0)].notional_at_mark(leg.qty().0)?;
            if best.is_none_or(|(_, bn)| n > bn) {
                best = Some((leg.market, n));
            }
        }
        Ok(best)
    }

    /// Step 2: returns the lots filled.
    fn close_in_book(&mut self, key: Key, market: MarketId) -> Result<u64, MathError> {
        let (account, bucket) = key;
        let mi = usize::from(market.0);
        let leg = *self
            .bucket_ref(account, bucket)
            .and_then(|b| b.leg(market))
            .ok_or_else(MathError::out_of_domain)?;
        let side = leg.side().ok_or_else(MathError::out_of_domain)?;
        let m = &self.markets[mi];
        let lp = m.params.liquidation;
        let q = leg.qty().0;
        let chunk = if m.notional_at_mark(q)? > lp.partial_notional_min {
            let c = novation_risk::mul_div_ceil(
                u128::from(q),
                lp.partial_fraction.ppb().unsigned_abs() as u128,
                Rate::SCALE.unsigned_abs() as u128,
            )?;
            narrow::<u64, u128>(c)?.clamp(1, q)
        } else {
            q
        };
        let limit = liquidation_limit_price(side, m.mark, lp.band)?;
        let mark = m.mark;
        let order = NewOrder {
            id: OrderId(self.next_order_id),
            account,
            client_id: None,
            side: side.opposite(),
            price: limit,
            qty: QtyLots(chunk.min(novation_book::QTY_LOTS_MAX)),
            tif: TimeInForce::Ioc,
            expiry: Expiry::Never,
            reduce_only: true,
            stp: StpMode::CancelNewest,
        };
        if self.submit(mi, account, bucket, leg, &order).is_err() {
            return Ok(0);
        }
        let after =
            self.bucket_ref(account, bucket).and_then(|b| b.leg(market)).map_or(0, |l| l.size);
        let filled = leg.size.abs_diff(after);
        if filled == 0 {
            return Ok(0);
        }
        let m = &self.markets[mi];
        let notional = m.params.contract.notional(mark, QtyLots(filled))?;
        let b = self.bucket_ref(account, bucket).ok_or_else(MathError::out_of_domain)?;
        let equity_now = bucket_value(&self.markets, b, None, 0)?.equity.0.max(0);
        let penalty = Quote(lp.penalty.of_quote_ceil(notional)?.0.min(equity_now));
        if penalty.0 > 0 {
            let insurance = self.markets[mi].insurance;
            self.move_cash((account, bucket), (insurance, BucketId::Cross), penalty)?;
        }
        self.events.push(Event::LiquidationClosed {
            account,
            market,
            qty: QtyLots(filled),
            notional,
            penalty,
        });
        Ok(filled)
    }

    fn move_cash(&mut self, from: Key, to: Key, amount: Quote) -> Result<(), MathError> {
        let src = self.bucket_mut(from.0, from.1).ok_or_else(MathError::out_of_domain)?;
        src.cash = Quote(src.cash.0.try_sub(amount.0)?);
        let dst = self.bucket_mut(to.0, to.1).ok_or_else(MathError::out_of_domain)?;
        dst.cash = Quote(dst.cash.0.try_add(amount.0)?);
        self.touched.push(from);
        self.touched.push(to);
        Ok(())
    }

    /// The bankruptcy price of the bucket's leg in `market` (module doc); `None` if no price
    /// makes the bucket solvent.
    fn bankruptcy_price(
        &self,
        key: Key,
        market: MarketId,
    ) -> Result<Option<PriceTicks>, MathError> {
        let b = self.bucket_ref(key.0, key.1).ok_or_else(MathError::out_of_domain)?;
        let leg = b.leg(market).ok_or_else(MathError::out_of_domain)?;
        let side = leg.side().ok_or_else(MathError::out_of_domain)?;
        let m = &self.markets[usize::from(market.0)];
        let v = bucket_value(&self.markets, b, None, 0)?;
        let lv = leg_value(m, leg)?;
        let rest = v.equity.0.try_sub(lv.value)?;
        let pos = IsolatedPosition {
            side,
            qty: leg.qty(),
            entry_notional: Quote::ZERO,
            collateral: Quote(rest),
        };
        match pos.bankruptcy_price(&m.params.contract) {
            Ok(p) if p.0 > 0 => Ok(Some(p)),
            Ok(_) => Ok(None),
            Err(_) => Ok(None),
        }
    }

    /// Step 3.
    fn open_auction(&mut self, key: Key, market: MarketId) -> Result<(), MathError> {
        if self.auctions.len() >= self.params.auctions_max as usize {
            return self.backstop(key, market);
        }
        let Some(end) = self.bankruptcy_price(key, market)? else {
            return self.backstop(key, market);
        };
        let b = self.bucket_ref(key.0, key.1).ok_or_else(MathError::out_of_domain)?;
        let leg = *b.leg(market).ok_or_else(MathError::out_of_domain)?;
        let side = leg.side().ok_or_else(MathError::out_of_domain)?;
        let m = &self.markets[usize::from(market.0)];
        let id = AuctionId(self.next_auction_id);
        self.next_auction_id += 1;
        let schedule = TakeoverAuction {
            start: m.mark,
            end,
            duration_blocks: m.params.liquidation.auction_blocks,
        };
        let auction = Auction {
            account: key.0,
            bucket: key.1,
            market,
            side,
            qty: leg.qty(),
            schedule,
            opened_height: self.now.height,
        };
        self.auctions.insert(id, auction);
        if let Some(s) = self.liquidations.get_mut(&key) {
            s.auction = Some(id);
            self.dirty.mark(key.0);
        }
        self.events.push(Event::AuctionOpened {
            auction: id,
            account: key.0,
            market,
            side,
            qty: leg.qty(),
            start: schedule.start,
            end,
            blocks: schedule.duration_blocks,
        });
        Ok(())
    }

    /// Steps 4 and 5 for the bucket's leg in `market`.
    fn backstop(&mut self, key: Key, market: MarketId) -> Result<(), MathError> {
        if !self.market_can_liquidate(market) {
            return Ok(());
        }
        let Some(leg) = self.bucket_ref(key.0, key.1).and_then(|b| b.leg(market)).copied() else {
            return Ok(());
        };
        let Some(side) = leg.side() else { return Ok(()) };
        let mi = usize::from(market.0);
        let price = self.bankruptcy_price(key, market)?.unwrap_or(self.markets[mi].mark);
        let insurance = self.markets[mi].insurance;
        let mut remaining = leg.qty().0;
        if key.0 != insurance {
            let take = self.insurance_capacity(market, side, leg.qty(), price)?;
            if take > 0 {
                self.transfer_position(market, key.0, insurance, side, QtyLots(take), price)?;
                self.events.push(Event::InsuranceTakeover {
                    market,
                    account: key.0,
                    qty: QtyLots(take),
                    price,
                });
                remaining -= take;
            }
        }
        if remaining == 0 {
            return Ok(());
        }
        let queue = self.adl_queue(market, side.opposite())?;
        let max = self.params.adl_counterparties_per_step_max as usize;
        for entry in queue.iter().filter(|e| (e.account, e.bucket) != key).take(max) {
            if remaining == 0 {
                break;
            }
            let x = remaining.min(entry.qty.0);
            self.transfer_position(market, key.0, entry.account, side, QtyLots(x), price)?;
            self.events.push(Event::Deleveraged {
                market,
                account: key.0,
                counterparty: entry.account,
                qty: QtyLots(x),
                price,
            });
            remaining -= x;
        }
        Ok(())
    }

    /// The most lots (up to `qty`) the insurance fund can take at `price` (step 4): found by
    /// bisection on [`Self::insurance_can_take`], which only gets harder with size.
    fn insurance_capacity(
        &self,
        market: MarketId,
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
    ) -> Result<u64, MathError> {
        if self.insurance_can_take(market, side, qty, price)? {
            return Ok(qty.0);
        }
        let (mut ok, mut bad) = (0u64, qty.0);
        while bad - ok > 1 {
            let mid = ok + (bad - ok) / 2;
            if self.insurance_can_take(market, side, QtyLots(mid), price)? {
                ok = mid;
            } else {
                bad = mid;
            }
        }
        Ok(ok)
    }

    fn insurance_can_take(
        &self,
        market: MarketId,
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
    ) -> Result<bool, MathError> {
        let m = &self.markets[usize::from(market.0)];
        let fund =
            self.bucket_ref(m.insurance, BucketId::Cross).ok_or_else(MathError::out_of_domain)?;
        let mut leg = fund
            .leg(market)
            .copied()
            .unwrap_or_else(|| crate::account::Leg::new(market, m.funding_index));
        leg.apply_fill(side, qty, price, m.lot_atoms())?;
        let notional = m.params.contract.notional(price, qty)?.0;
        let flow = match side {
            Side::Buy => -notional,
            Side::Sell => notional,
        };
        let v = bucket_value(&self.markets, fund, Some(&leg), flow)?;
        let held = m.notional_at_mark(leg.qty().0)?;
        Ok(v.equity >= v.maintenance
            && v.equity.0 >= 0
            && held <= m.params.liquidation.insurance_position_notional_max)
    }

    /// Moves `qty` of a position on `side` from `from` to `to` at `price`, without fees.
    fn transfer_position(
        &mut self,
        market: MarketId,
        from: AccountId,
        to: AccountId,
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
    ) -> Result<(), MathError> {
        self.trade_side(market, from, side.opposite(), qty, price, Quote::ZERO)?;
        self.trade_side(market, to, side, qty, price, Quote::ZERO)
    }

    fn cover_deficit(
        &mut self,
        key: Key,
        state: LiquidationState,
        equity: Quote,
    ) -> Result<(), MathError> {
        if equity.0 < 0 {
            let deficit = -equity.0;
            let market = state.last_market.unwrap_or(MarketId(0));
            let mut paid = 0;
            if let Some(m) = self.markets.get(usize::from(market.0)) {
                let insurance = m.insurance;
                if insurance != key.0 {
                    let fund = self
                        .bucket_ref(insurance, BucketId::Cross)
                        .ok_or_else(MathError::out_of_domain)?;
                    let v = bucket_value(&self.markets, fund, None, 0)?;
                    paid = deficit.min(v.equity.0.try_sub(v.maintenance.0)?.max(0));
                    if paid > 0 {
                        self.move_cash((insurance, BucketId::Cross), key, Quote(paid))?;
                    }
                }
            }
            if deficit > paid {
                self.events.push(Event::UncoveredDeficit {
                    account: key.0,
                    amount: Quote(deficit - paid),
                });
            }
        }
        self.end_liquidation(key, state)
    }

    /// The ADL queue of `market` for positions on `side`: first = deleveraged first. Buckets in
    /// the waterfall rank after all others.
    pub fn adl_queue(&self, market: MarketId, side: Side) -> Result<Vec<AdlEntry>, MathError> {
        let m = self.markets.get(usize::from(market.0)).ok_or_else(MathError::out_of_domain)?;
        let mut out = Vec::new();
        for &(account, bucket) in &m.holders {
            let Some(b) = self.bucket_ref(account, bucket) else { continue };
            let Some(leg) = b.leg(market) else { continue };
            if leg.side() != Some(side) {
                continue;
            }
            let v = bucket_value(&self.markets, b, None, 0)?;
            let lv = leg_value(m, leg)?;
            let score = if leg.entry_notional.0 > 0 {
                adl_score(&AdlInputs {
                    unrealised_pnl: Quote(lv.upnl),
                    entry_notional: leg.entry_notional,
                    notional: Quote(lv.notional),
                    account_equity: v.equity,
                })?
            } else {
                i128::MIN
            };
            out.push(AdlEntry {
                account,
                bucket,
                key: AdlKey { score, notional: Quote(lv.notional), account },
                qty: leg.qty(),
                in_liquidation: self.liquidations.contains_key(&(account, bucket)),
            });
        }
        out.sort_by(|a, b| a.in_liquidation.cmp(&b.in_liquidation).then(a.key.cmp(&b.key)));
        Ok(out)
    }

    /// The mark price at which the bucket trading `market` for `account` would fall below
    /// maintenance, all its other legs held at their current marks: `Some(p)` means
    /// liquidatable at `mark ≤ p` for a long, `mark ≥ p` for a short; `None` if no price does
    /// it (or there is no position).
    pub fn liquidation_price(&self, account: AccountId, market: MarketId) -> Option<PriceTicks> {
        let acc = self.account(account)?;
        let bucket = acc.bucket(acc.bucket_of(market))?;
        let leg = bucket.leg(market)?;
        let side = leg.side()?;
        let m = self.market(market)?;
        let v = bucket_value(&self.markets, bucket, None, 0).ok()?;
        let lv = leg_value(m, leg).ok()?;
        // equity(P) = rest + s·q·P·a; liquidatable iff equity(P) < MM_this(P) + MM_others.
        let rest = v.equity.0.checked_sub(lv.value)?;
        let others = v.maintenance.0.checked_sub(lv.maintenance)?;
        let pos = IsolatedPosition {
            side,
            qty: leg.qty(),
            entry_notional: Quote::ZERO,
            collateral: Quote(rest.checked_sub(others)?),
        };
        pos.liquidation_price(&m.params.contract, &m.params.tiers).ok()?
    }

    /// An account's place (0-based) in the ADL queue of `market` for its position there.
    pub fn adl_rank(&self, market: MarketId, account: AccountId) -> Option<usize> {
        let acc = self.account(account)?;
        let bucket = acc.bucket_of(market);
        let side = acc.bucket(bucket)?.leg(market)?.side()?;
        let queue = self.adl_queue(market, side).ok()?;
        queue.iter().position(|e| e.account == account && e.bucket == bucket)
    }

    pub(crate) fn bid_liquidation(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        id: AuctionId,
        price_limit: PriceTicks,
    ) -> Result<(), Rejection> {
        let auction = *self.auctions.get(&id).ok_or(Rejection::UnknownAuction)?;
        let bidder = self.lookup(owner, sub)?;
        if bidder == auction.account {
            return Err(Rejection::OwnAuction);
        }
        let market = auction.market;
        let mi = usize::from(market.0);
        if self.markets[mi].status == MarketStatus::Halted {
            return Err(Rejection::MarketHalted);
        }
        let bucket = self.accounts[bidder.0 as usize].bucket_of(market);
        if self.liquidations.contains_key(&(bidder, bucket)) {
            return Err(Rejection::AccountInLiquidation);
        }
        let price = auction.price_at(self.now.height);
        let acceptable = match auction.side {
            Side::Buy => price <= price_limit,
            Side::Sell => price >= price_limit,
        };
        if !acceptable {
            return Err(Rejection::AuctionPriceBeyondLimit);
        }
        let current = self
            .bucket_ref(auction.account, auction.bucket)
            .and_then(|b| b.leg(market))
            .filter(|l| l.side() == Some(auction.side))
            .map_or(0, |l| l.qty().0);
        let qty = QtyLots(auction.qty.0.min(current));
        if qty.0 == 0 {
            return Err(Rejection::UnknownAuction);
        }
        let m = &self.markets[mi];
        let b = self.bucket_ref(bidder, bucket).ok_or(Rejection::UnknownAccount)?;
        let mut leg = match b.leg(market) {
            Some(l) => *l,
            None => {
                if self.accounts[bidder.0 as usize].leg_count()
                    >= usize::from(self.params.legs_per_account_max)
                {
                    return Err(Rejection::TooManyMarkets);
                }
                crate::account::Leg::new(market, m.funding_index)
            }
        };
        leg.apply_fill(auction.side, qty, price, m.lot_atoms())?;
        if m.notional_at_mark(leg.worst_case_qty())? > m.params.account_oi_notional_max {
            return Err(Rejection::AccountOpenInterestCapReached);
        }
        let notional = m.params.contract.notional(price, qty)?.0;
        let flow = match auction.side {
            Side::Buy => -notional,
            Side::Sell => notional,
        };
        let v = bucket_value(&self.markets, b, Some(&leg), flow)?;
        if v.initial > v.equity {
            return Err(Rejection::InsufficientMargin);
        }
        if self
            .transfer_position(market, auction.account, bidder, auction.side, qty, price)
            .is_err()
        {
            self.fault(market);
            return Ok(());
        }
        self.auctions.remove(&id);
        if let Some(s) = self.liquidations.get_mut(&(auction.account, auction.bucket)) {
            s.auction = None;
            self.dirty.mark(auction.account);
        }
        self.events.push(Event::AuctionWon { auction: id, bidder, price, qty });
        Ok(())
    }
}
