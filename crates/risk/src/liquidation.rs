//! Liquidation math: account health, bankruptcy and liquidation prices of a position, the
//! takeover-auction price, the liquidation order's price limit, and the auto-deleveraging key.
//! The engine owns the waterfall; this module only computes.
//!
//! # Health
//! With account equity `E` (collateral + unrealised PnL at mark, quote atoms) and maintenance
//! requirement `MM` ([`crate::MarginTiers::maintenance_margin`] summed over positions):
//! `Healthy` if `E ≥ MM`, `Liquidatable` if `0 ≤ E < MM`, `Bankrupt` if `E < 0`. An account
//! exactly at maintenance is healthy; one atom below is not.
//!
//! # One position (isolated margin)
//! A position of `q` lots on side `s` (`+1` long, `−1` short) with entry notional `V` (the sum of
//! its fills' notionals, quote atoms, exact) and collateral `C` (quote atoms set aside for it,
//! after fees and settled funding). With `a` = quote atoms per tick-lot, its equity at price `P`
//! (ticks) is
//!
//! ```text
//! equity(P) = C + s × (q·P·a − V)
//! ```
//!
//! **Bankruptcy price**: where `equity = 0`, rounded so that closing there leaves `equity ≥ 0`
//! (no deficit from rounding ever reaches the insurance fund or ADL counterparties):
//!
//! ```text
//! long:  p_b = max(0, ⌈(V − C) / (q·a)⌉)      the lowest price with equity ≥ 0
//! short: p_b = ⌊(V + C) / (q·a)⌋               the highest price with equity ≥ 0
//! ```
//!
//! **Liquidation price**: the position is liquidatable at `P` iff `equity(P) < MM(q·P·a)`. For a
//! long this predicate holds exactly on `P ≤ p_l`, for a short on `P ≥ p_l`, because the
//! difference `equity − MM` is monotone in `P` (the maintenance fraction is below 100% and the
//! requirement's ceiling grows by at most `q·a` atoms per tick). Within tier `n` the exact
//! crossing is
//!
//! ```text
//! long:  P* = (V − C − mded_n) / (q·a·(1 − mmr_n))        p_l = the largest tick with P < P*
//! short: P* = (V + C + mded_n) / (q·a·(1 + mmr_n))        p_l = the smallest tick with P > P*
//! ```
//!
//! up to the rounding of `MM`. [`IsolatedPosition::liquidation_price`] finds `p_l` by bisection
//! on the exact integer predicate ([`IsolatedPosition::is_liquidatable_at`]), 64 steps at most,
//! so that `is_liquidatable_at(P) ⟺ P ≤ p_l` (long) holds to the tick, which is what an engine
//! needs to index positions by trigger price. Rounding is therefore in the protocol's favour by
//! construction: at `p_l` the position *is* below maintenance.
//!
//! `p_l` lies on the safe side of `p_b` (or on it) exactly when the position is liquidatable at
//! `p_b`. Equity at `p_b` is below one tick's move `q·a`, so that holds whenever `MM(q·p_b·a) ≥
//! q·a`, i.e. whenever a tick is worth less than the maintenance fraction of the price. A market
//! whose tick is coarser than that (a price of a few ticks) lets a position go from healthy to
//! bankrupt in one tick; its liquidation then closes at a deficit, which the waterfall covers.
//!
//! # Takeover auction
//! A position the book could not absorb is offered at a price that moves linearly from `start`
//! (the mark when the auction opens) to `end` (the bankruptcy price) over `N` blocks, then stays
//! at `end`:
//!
//! ```text
//! price(k) = start + (end − start) × min(k, N) / N        rounded toward start
//! ```
//!
//! Rounding toward `start` keeps the price on the solvent side of the exact line, so the
//! liquidated account's equity at the auction price is never below its value on the line.
//!
//! # Liquidation order limit
//! The IOC order that closes a position may trade no further than `band` from the mark:
//! closing a long sells with limit `⌈mark × (1 − band)⌉`, closing a short buys with limit
//! `⌊mark × (1 + band)⌋` (both rounded toward the mark: the tighter limit).
//!
//! # Auto-deleveraging order
//! Opposite positions are ranked by profit × leverage:
//!
//! ```text
//! score = ⌊ ⌊upnl × 1e9 / V⌋ × notional / E ⌋         (parts per billion)
//! ```
//!
//! i.e. the position's return on entry notional times the account's effective leverage
//! (notional at mark / account equity). The return, not the absolute profit, so the ranking does
//! not simply pick the largest account (Bybit's and BitMEX's convention). Accounts with `E ≤ 0`
//! rank last (`i128::MIN`): they are being liquidated themselves. [`AdlKey`] orders by score
//! descending, then by larger notional (fewer accounts touched per unit of loss), then by
//! ascending [`AccountId`] (interned by the engine in a deterministic order): a total order, so
//! every validator deleverages the same accounts in the same order.

use core::cmp::Ordering;

use novation_types::{AccountId, PriceTicks, QtyLots, Quote, Side};

use crate::contract::ContractSpec;
use crate::fixed::{
    mul_div_ceil, mul_div_floor, mul_div_floor_signed, narrow, MathError, Rate, TryArith,
};
use crate::margin::MarginTiers;

/// An account's standing against its maintenance requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    /// Equity at or above maintenance.
    Healthy,
    /// Equity below maintenance but not negative.
    Liquidatable,
    /// Negative equity.
    Bankrupt,
}

/// Health of an account with `equity` and `maintenance` requirement.
pub fn account_health(equity: Quote, maintenance: Quote) -> Health {
    if equity.0 < 0 {
        Health::Bankrupt
    } else if equity < maintenance {
        Health::Liquidatable
    } else {
        Health::Healthy
    }
}

/// One position with its own collateral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IsolatedPosition {
    /// `Buy` for a long, `Sell` for a short.
    pub side: Side,
    /// Size in lots; must be non-zero.
    pub qty: QtyLots,
    /// `V`: the sum of the fills' notionals, quote atoms.
    pub entry_notional: Quote,
    /// `C`: collateral set aside for the position, quote atoms.
    pub collateral: Quote,
}

impl IsolatedPosition {
    /// `equity(P) = C + s × (q·P·a − V)`.
    #[track_caller]
    pub fn equity_at(&self, price: PriceTicks, spec: &ContractSpec) -> Result<Quote, MathError> {
        let value = spec.notional(price, self.qty)?.0;
        let pnl = match self.side {
            Side::Buy => value.try_sub(self.entry_notional.0)?,
            Side::Sell => self.entry_notional.0.try_sub(value)?,
        };
        Ok(Quote(self.collateral.0.try_add(pnl)?))
    }

    /// Whether `equity(P) < MM(q·P·a)`.
    #[track_caller]
    pub fn is_liquidatable_at(
        &self,
        price: PriceTicks,
        spec: &ContractSpec,
        tiers: &MarginTiers,
    ) -> Result<bool, MathError> {
        let equity = self.equity_at(price, spec)?;
        let mm = tiers.maintenance_margin(spec.notional(price, self.qty)?)?;
        Ok(equity < mm)
    }

    /// The bankruptcy price (module doc): the closing price nearest to the loss side that
    /// leaves `equity ≥ 0`. A short whose bankruptcy price lies above `u64::MAX` ticks gets
    /// `u64::MAX` (solvent at every representable price). Fails on a zero size, on a long that
    /// is insolvent at every representable price, or on a short insolvent at price 0.
    #[track_caller]
    pub fn bankruptcy_price(&self, spec: &ContractSpec) -> Result<PriceTicks, MathError> {
        let qa = self.tick_lot_atoms(spec)?;
        match self.side {
            Side::Buy => {
                let need = self.entry_notional.0.try_sub(self.collateral.0)?;
                if need <= 0 {
                    return Ok(PriceTicks(0));
                }
                Ok(PriceTicks(narrow(mul_div_ceil(need.unsigned_abs(), 1, qa)?)?))
            }
            Side::Sell => {
                let room = self.entry_notional.0.try_add(self.collateral.0)?;
                if room < 0 {
                    return Err(MathError::out_of_domain());
                }
                let p = mul_div_floor(room.unsigned_abs(), 1, qa)?;
                Ok(PriceTicks(u64::try_from(p).unwrap_or(u64::MAX)))
            }
        }
    }

    /// The liquidation price (module doc): for a long, `Some(p)` with liquidatable ⟺ `P ≤ p`;
    /// for a short, `Some(p)` with liquidatable ⟺ `P ≥ p`; `None` if no price in the
    /// evaluable range triggers. The range is `0..=min(u64::MAX, i128::MAX / 2 / (q·a))`
    /// ticks; beyond it the notional itself does not fit, and a long liquidatable at the top
    /// of the range gets that top.
    #[track_caller]
    pub fn liquidation_price(
        &self,
        spec: &ContractSpec,
        tiers: &MarginTiers,
    ) -> Result<Option<PriceTicks>, MathError> {
        let qa = self.tick_lot_atoms(spec)?;
        let top: u64 = narrow((i128::MAX.unsigned_abs() / 2 / qa).min(u128::from(u64::MAX)))?;
        let at = |p: u64| self.is_liquidatable_at(PriceTicks(p), spec, tiers);
        // `below` is where the predicate is true for a long, false for a short.
        let (mut lo, mut hi) = (0u64, top);
        let (lo_hit, hi_hit) = (at(lo)?, at(hi)?);
        match self.side {
            Side::Buy if !lo_hit => return Ok(None),
            Side::Buy if hi_hit => return Ok(Some(PriceTicks(hi))),
            Side::Sell if lo_hit => return Ok(Some(PriceTicks(0))),
            Side::Sell if !hi_hit => return Ok(None),
            _ => {}
        }
        // Invariant: at(lo) == lo_hit, at(hi) == hi_hit, lo_hit != hi_hit, lo < hi.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if at(mid)? == lo_hit {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(Some(PriceTicks(match self.side {
            Side::Buy => lo,
            Side::Sell => hi,
        })))
    }

    #[track_caller]
    fn tick_lot_atoms(&self, spec: &ContractSpec) -> Result<u128, MathError> {
        if self.qty.0 == 0 {
            return Err(MathError::out_of_domain());
        }
        Ok(u128::from(self.qty.0) * u128::from(spec.quote_atoms_per_tick_lot()))
    }
}

/// The price schedule of a takeover auction (module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TakeoverAuction {
    /// The price at block 0 (the mark when the auction opened).
    pub start: PriceTicks,
    /// The price from block `duration_blocks` on (the bankruptcy price).
    pub end: PriceTicks,
    /// `N`: blocks from `start` to `end`; 0 means `end` at once.
    pub duration_blocks: u64,
}

impl TakeoverAuction {
    /// The price `elapsed_blocks` after the auction opened, rounded toward `start`.
    pub fn price_at(&self, elapsed_blocks: u64) -> PriceTicks {
        if elapsed_blocks >= self.duration_blocks {
            return self.end;
        }
        let gap = self.start.0.abs_diff(self.end.0);
        // k < N here, so the step is below the gap and the sum stays between start and end.
        let step = (u128::from(gap) * u128::from(elapsed_blocks) / u128::from(self.duration_blocks))
            as u64;
        if self.end < self.start {
            PriceTicks(self.start.0 - step)
        } else {
            PriceTicks(self.start.0 + step)
        }
    }
}

/// The worst price the IOC order closing a position on `side` may trade at: `band` from `mark`,
/// rounded toward the mark, and at least one tick. Fails unless `0 ≤ band ≤ 100%`.
#[track_caller]
pub fn liquidation_limit_price(
    side: Side,
    mark: PriceTicks,
    band: Rate,
) -> Result<PriceTicks, MathError> {
    if band < Rate::ZERO || band > Rate::ONE {
        return Err(MathError::out_of_domain());
    }
    let scale = Rate::ONE.ppb().unsigned_abs();
    let band = band.ppb().unsigned_abs();
    let p = match side {
        // Closing a long sells: the limit is a floor under the price.
        Side::Buy => mul_div_ceil(u128::from(mark.0), u128::from(scale - band), u128::from(scale))?,
        // Closing a short buys: the limit is a cap over the price.
        Side::Sell => {
            mul_div_floor(u128::from(mark.0), u128::from(scale + band), u128::from(scale))?
        }
    };
    Ok(PriceTicks(narrow::<u64, u128>(p)?.max(1)))
}

/// What the ADL score of one position needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AdlInputs {
    /// Unrealised PnL of the position at mark, quote atoms.
    pub unrealised_pnl: Quote,
    /// `V`: entry notional of the position, quote atoms (positive).
    pub entry_notional: Quote,
    /// Notional of the position at mark, quote atoms (non-negative).
    pub notional: Quote,
    /// `E`: equity of the account holding it, quote atoms.
    pub account_equity: Quote,
}

/// Profit × leverage in parts per billion (module doc); `i128::MIN` for an account with no
/// positive equity. Fails on a non-positive entry notional or a negative notional.
#[track_caller]
pub fn adl_score(inputs: &AdlInputs) -> Result<i128, MathError> {
    if inputs.entry_notional.0 <= 0 || inputs.notional.0 < 0 {
        return Err(MathError::out_of_domain());
    }
    if inputs.account_equity.0 <= 0 {
        return Ok(i128::MIN);
    }
    let ret = mul_div_floor_signed(
        inputs.unrealised_pnl.0,
        i128::from(Rate::SCALE),
        inputs.entry_notional.0,
    )?;
    mul_div_floor_signed(ret, inputs.notional.0, inputs.account_equity.0)
}

/// A position's place in the ADL queue. Sorting ascending puts the first to be deleveraged
/// first: higher score, then larger notional, then lower account id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AdlKey {
    /// [`adl_score`].
    pub score: i128,
    /// Notional at mark, quote atoms.
    pub notional: Quote,
    /// The account, the final tie-break.
    pub account: AccountId,
}

impl Ord for AdlKey {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .cmp(&self.score)
            .then(other.notional.cmp(&self.notional))
            .then(self.account.cmp(&other.account))
    }
}

impl PartialOrd for AdlKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests;
