//! One market's state and its per-block price step: index, mark, premium sample, funding,
//! circuit breakers, and the liquidation watch's progress counter.
//!
//! # Per block, in market id order (before any action)
//! 1. **Index**: the block's index price for the market, if any, replaces the previous one;
//!    a market without one keeps it and counts its age in blocks.
//! 2. **Breakers**: the index moved more than `index_move_max` against any index of the last
//!    `window_blocks` blocks → reduce-only (`IndexMove`); the index is older than
//!    `index_stale_blocks` → reduce-only (`IndexStale`). The market returns to its governance
//!    status `cooldown_blocks` after the last cause cleared. Validity per action: margin
//!    checks and liquidations use an index up to `index_stale_blocks` old (liquidations stop
//!    beyond it, so a restart on a stale oracle liquidates nobody); opening or increasing a
//!    position, and collateral leaving an account with a leg here, need one at most
//!    `open_index_age_blocks` old ([`Rejection::IndexTooOld`](crate::Rejection::IndexTooOld)).
//! 3. **Mark** (`novation_risk::mark`): median of index, index + EMA of the clamped basis, and
//!    the clamped book mid. Margin, PnL and liquidation use it; never the last trade.
//! 4. **Premium sample**: impact bid/ask (average fill price of a market sell/buy of the
//!    impact notional `impact_base / imr_0`; none if the book cannot fill it) against the index,
//!    folded into the interval average.
//! 5. **Funding**: when a funding interval has ended, `F = P + clamp(I − P, ±c)` and the
//!    interval's rate `F × Δt / 8 h` (capped per hour) accrue into the cumulative funding index
//!    on the index price: `O(1)` per market. `Δt` is the block time since the last accrual,
//!    capped at one interval, so a halted chain does not charge the halt afterwards.
//! 6. **Watch progress** `C`: grows by `|Δmark| × a × (1e9 + mmr_max)` plus `|Δfunding index|`
//!    nano-atoms per lot (see `liquidation.rs`): an upper bound on how much equity minus
//!    maintenance one lot of any position can have lost since any earlier block.

use std::collections::{BTreeSet, VecDeque};

use novation_book::{Book, BookLimits, Impact};
use novation_risk::{
    funding_rate_8h, premium_sample, rate_for_elapsed, BookTop, FundingIndex, MarkState, MathError,
    PremiumAccumulator, Rate, TryArith,
};
use novation_types::{AccountId, Notional, PriceTicks, QtyLots, Quote, Side};

use crate::action::MarketId;
use crate::event::{BucketId, Event, MarketStatus, StatusCause};
use crate::params::{Instrument, MarketParams};

/// An entry of a market's liquidation watch: `(trigger, account, bucket)`. The bucket must be
/// re-evaluated once the market's progress counter reaches `trigger`.
pub(crate) type WatchKey = (u128, AccountId, BucketId);

/// A market and everything it owns.
#[derive(Clone, Debug)]
pub struct Market {
    /// Its id.
    pub id: MarketId,
    /// Its parameters.
    pub params: MarketParams,
    /// Its order book.
    pub book: Book,
    /// The latest index price, if any arrived yet.
    pub index: Option<PriceTicks>,
    /// Height of the block that brought `index`.
    pub index_height: u64,
    /// The mark price (zero until the first index).
    pub mark: PriceTicks,
    /// Mark EMA state.
    pub mark_state: MarkState,
    /// Premium samples of the current funding interval.
    pub premium: PremiumAccumulator,
    /// Cumulative funding index (nano-atoms per lot; rising: longs pay).
    pub funding_index: FundingIndex,
    /// Block time of the last funding accrual (the first index's block time initially).
    pub funding_last_ms: Option<u64>,
    /// The rate of the last funding interval.
    pub funding_last_rate: Rate,
    /// Funding paid in minus paid out, quote atoms.
    pub funding_pool: Quote,
    /// Σ settlement residues (nano-atoms): see `novation_risk::funding` "zero-sum, exactly".
    pub funding_residue_nano: i128,
    /// Long open interest in lots (equals short open interest).
    pub long_lots: u64,
    /// Short open interest in lots.
    pub short_lots: u64,
    /// Status set by governance (the breaker returns to it).
    pub base_status: MarketStatus,
    /// Effective status.
    pub status: MarketStatus,
    /// Breaker: the cause holding the market, and the last height it was observed.
    pub breaker: Option<(StatusCause, u64)>,
    /// Index prices of the last `window_blocks` blocks (one per block, carried when absent).
    pub index_history: VecDeque<PriceTicks>,
    /// Liquidation watch progress counter `C` (nano-atoms per lot).
    pub watch_progress: u128,
    /// Liquidation watch entries, ordered by trigger.
    pub(crate) watch: BTreeSet<WatchKey>,
    /// Accounts with a non-zero position here (for ADL ranking), ascending.
    pub holders: BTreeSet<(AccountId, BucketId)>,
    /// The account of this market's insurance fund.
    pub insurance: AccountId,
}

impl Market {
    /// A new market; `params` must be validated.
    pub(crate) fn new(id: MarketId, params: MarketParams, insurance: AccountId) -> Market {
        let book = Book::new(params.book).unwrap_or_else(|_| {
            // Unreachable for validated parameters; fall back to defaults rather than panic.
            Book::new(BookLimits::default()).expect("default limits are valid")
        });
        let status = MarketStatus::Active;
        Market {
            id,
            params,
            book,
            index: None,
            index_height: 0,
            mark: PriceTicks(0),
            mark_state: MarkState::new(),
            premium: PremiumAccumulator::new(),
            funding_index: FundingIndex::ZERO,
            funding_last_ms: None,
            funding_last_rate: Rate::ZERO,
            funding_pool: Quote::ZERO,
            funding_residue_nano: 0,
            long_lots: 0,
            short_lots: 0,
            base_status: status,
            status,
            breaker: None,
            index_history: VecDeque::new(),
            watch_progress: 0,
            watch: BTreeSet::new(),
            holders: BTreeSet::new(),
            insurance,
        }
    }

    /// Atoms per tick-lot.
    pub fn lot_atoms(&self) -> u64 {
        self.params.contract.quote_atoms_per_tick_lot()
    }

    /// Notional of `qty` lots at the mark.
    pub fn notional_at_mark(&self, qty: u64) -> Result<Quote, MathError> {
        self.params.contract.notional(self.mark, QtyLots(qty))
    }

    /// Long open interest at mark.
    pub fn open_interest_notional(&self) -> Result<Quote, MathError> {
        self.notional_at_mark(self.long_lots)
    }

    /// Impact price for a taker on `side`: average price of the impact notional, `None` if the
    /// book cannot fill it.
    pub fn impact_price(&self, side: Side) -> Result<Option<PriceTicks>, MathError> {
        let Instrument::Perpetual { impact_base, .. } = self.params.instrument;
        let imr0 = self.params.tiers.base_initial();
        let quote = novation_risk::impact_notional(impact_base, imr0)?;
        let atoms = u128::from(self.lot_atoms());
        let target = Notional(quote.0.unsigned_abs().div_ceil(atoms));
        let Impact { qty, notional, complete, .. } = self.book.impact(side, target);
        if !complete || qty.0 == 0 {
            return Ok(None);
        }
        let q = u128::from(qty.0);
        // Average price, rounded toward less premium (buyers' up, sellers' down).
        let avg = match side {
            Side::Buy => notional.0.div_ceil(q),
            Side::Sell => notional.0 / q,
        };
        Ok(Some(PriceTicks(novation_risk::narrow(avg)?)))
    }

    /// Steps 1–6 of the module doc for one block. Pushes status and funding events.
    pub(crate) fn begin_block(
        &mut self,
        height: u64,
        time_ms: u64,
        index: Option<PriceTicks>,
        events: &mut Vec<Event>,
    ) -> Result<(), MathError> {
        if let Some(p) = index.filter(|p| p.0 > 0) {
            if self.funding_last_ms.is_none() {
                self.funding_last_ms = Some(time_ms);
            }
            self.index = Some(p);
            self.index_height = height;
        }
        let Some(index) = self.index else { return Ok(()) };
        self.breakers(height, index, events);
        let old_mark = self.mark;
        let top = BookTop {
            best_bid: self.book.best_bid().map(|l| l.price),
            best_ask: self.book.best_ask().map(|l| l.price),
        };
        self.mark = self.mark_state.update(&self.params.mark, time_ms, index, top)?;
        let sample =
            premium_sample(self.impact_price(Side::Sell)?, self.impact_price(Side::Buy)?, index)?;
        self.premium.record(sample)?;
        let old_funding = self.funding_index;
        self.accrue_funding(time_ms, index, events)?;
        // Watch progress.
        let moved = u128::from(old_mark.0.abs_diff(self.mark.0));
        let slope = u128::from(self.lot_atoms()).try_mul(
            u128::try_from(Rate::SCALE + self.params.maintenance_fraction_max().ppb())
                .map_err(|_| MathError::overflow())?,
        )?;
        let step = if old_mark.0 == 0 { 0 } else { moved.try_mul(slope)? };
        let funding_step = (self.funding_index.0 - old_funding.0).unsigned_abs();
        self.watch_progress = self.watch_progress.try_add(step)?.try_add(funding_step)?;
        Ok(())
    }

    /// The rate the current funding interval would pay if it ended now, over a full interval
    ///
    pub fn predicted_funding_rate(&self) -> Result<Rate, MathError> {
        let Instrument::Perpetual { funding, funding_interval_ms, .. } = self.params.instrument;
        let rate_8h = funding_rate_8h(self.premium.average()?, &funding)?;
        rate_for_elapsed(rate_8h, funding_interval_ms, &funding)
    }

    fn accrue_funding(
        &mut self,
        time_ms: u64,
        index: PriceTicks,
        events: &mut Vec<Event>,
    ) -> Result<(), MathError> {
        let Instrument::Perpetual { funding, funding_interval_ms, .. } = self.params.instrument;
        let Some(last) = self.funding_last_ms else { return Ok(()) };
        if time_ms < last.saturating_add(funding_interval_ms) {
            return Ok(());
        }
        let elapsed = (time_ms - last).min(funding_interval_ms);
        let premium = self.premium.take_average()?;
        let rate_8h = funding_rate_8h(premium, &funding)?;
        let rate = rate_for_elapsed(rate_8h, elapsed, &funding)?;
        self.funding_index = self.funding_index.accrue(rate, index, &self.params.contract)?;
        self.funding_last_ms = Some(time_ms);
        self.funding_last_rate = rate;
        events.push(Event::Funding { market: self.id, rate, index: self.funding_index });
        Ok(())
    }

    fn breakers(&mut self, height: u64, index: PriceTicks, events: &mut Vec<Event>) {
        let b = self.params.breaker;
        let window = b.window_blocks as usize;
        let moved = self.index_history.iter().any(|&old| {
            let diff = u128::from(old.0.abs_diff(index.0)) * Rate::SCALE.unsigned_abs() as u128;
            diff > u128::from(old.0) * b.index_move_max.ppb().unsigned_abs() as u128
        });
        self.index_history.push_back(index);
        while self.index_history.len() > window {
            self.index_history.pop_front();
        }
        let stale = height.saturating_sub(self.index_height) > b.index_stale_blocks;
        let cause = if stale {
            Some(StatusCause::IndexStale)
        } else if moved {
            Some(StatusCause::IndexMove)
        } else {
            None
        };
        if let Some(cause) = cause {
            if self.breaker.is_none() {
                self.set_status(self.base_status.max(MarketStatus::ReduceOnly), cause, events);
            }
            self.breaker = Some((cause, height));
        } else if let Some((_, since)) = self.breaker {
            if height.saturating_sub(since) > b.cooldown_blocks {
                self.breaker = None;
                self.set_status(self.base_status, StatusCause::Recovered, events);
            }
        }
    }

    /// Changes the effective status (no event if unchanged).
    pub(crate) fn set_status(
        &mut self,
        status: MarketStatus,
        cause: StatusCause,
        events: &mut Vec<Event>,
    ) {
        if self.status != status {
            self.status = status;
            events.push(Event::MarketStatus { market: self.id, status, cause });
        }
    }

    /// Whether the index is fresh enough to open positions.
    pub fn index_is_fresh(&self, height: u64) -> bool {
        self.index.is_some()
            && height.saturating_sub(self.index_height) <= self.params.breaker.index_stale_blocks
    }

    /// Whether the index is fresh enough to open or increase positions, or to let collateral
    /// leave an account holding a position here (validity per action: margin checks and
    /// liquidations accept an older index, up to `index_stale_blocks`; these do not).
    pub fn index_fresh_for_opening(&self, height: u64) -> bool {
        self.index.is_some()
            && height.saturating_sub(self.index_height) <= self.params.breaker.open_index_age_blocks
    }

    /// Open-interest bookkeeping for a leg going from `before` to `after` lots (signed).
    pub(crate) fn update_open_interest(
        &mut self,
        before: i64,
        after: i64,
    ) -> Result<(), MathError> {
        let long = |s: i64| s.max(0).unsigned_abs();
        let short = |s: i64| s.min(0).unsigned_abs();
        self.long_lots = self.long_lots.try_sub(long(before))?.try_add(long(after))?;
        self.short_lots = self.short_lots.try_sub(short(before))?.try_add(short(after))?;
        Ok(())
    }
}
