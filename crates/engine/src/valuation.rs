//! A bucket's value and requirements at mark.
//!
//! # Specification
//! For a bucket with cash `K` and legs `i` (signed size `s_i`, entry notional `V_i`, resting
//! lots `B_i` buy / `S_i` sell) in markets with mark `P_i`, atoms per tick-lot `a_i`:
//!
//! ```text
//! N_i       = |s_i| · P_i · a_i                               notional at mark
//! f_i       = settle_funding(s_i, entry_i, index_i).payment   pending funding (pays if > 0)
//! equity    = K + Σ sign(s_i) · N_i − Σ f_i
//! upnl_i    = sign(s_i) · (N_i − V_i)
//! MM        = Σ MM_i(N_i)                                     tiers, deduction form, rounded up
//! W_i       = max(|s_i + B_i|, |s_i − S_i|) · P_i · a_i        worst case if one side fills
//! IM        = Σ ramp(IM_i(W_i), W_i, OI_i)                     rounded up
//! ```
//!
//! An order is accepted only if `IM ≤ equity` afterwards, with the order counted as resting on
//! its side and, when it may trade through the mark, the loss of filling at its limit
//! (`qty × |limit − mark| × a`) and the taker fee on its full notional subtracted from equity
//! first. Withdrawals and transfers must leave
//! `equity − ⌈haircut × Σ max(0, upnl_i)⌉ ≥ max(IM, ⌈k × Σ N_i⌉)`.

use novation_risk::{settle_funding, MathError, TryArith};
use novation_types::{QtyLots, Quote};

use crate::account::{Bucket, CacheKey, Leg, LegCache};
use crate::market::Market;

/// One leg's contribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LegValue {
    /// `sign × N`: the position's value at mark.
    pub value: i128,
    /// `N`.
    pub notional: i128,
    /// Pending funding payment (positive: the leg pays).
    pub funding: i128,
    /// Unrealised PnL against the entry notional.
    pub upnl: i128,
    /// Maintenance requirement.
    pub maintenance: i128,
    /// Initial requirement on the worst-case size.
    pub initial: i128,
}

/// A bucket's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Valuation {
    /// Equity at mark, pending funding included.
    pub equity: Quote,
    /// Σ maintenance requirements.
    pub maintenance: Quote,
    /// Σ initial requirements (resting orders on their worst side).
    pub initial: Quote,
    /// Σ notional at mark.
    pub notional: Quote,
    /// Σ max(0, upnl).
    pub upnl_positive: Quote,
    /// Legs with a non-zero position.
    pub positions: u32,
}

/// Values one leg in its market.
pub fn leg_value(market: &Market, leg: &Leg) -> Result<LegValue, MathError> {
    let spec = &market.params.contract;
    let notional = spec.notional(market.mark, leg.qty())?.0;
    let mut out = LegValue { notional, ..LegValue::default() };
    if let Some(side) = leg.side() {
        out.value = if leg.size > 0 { notional } else { -notional };
        // Most legs settled since the last accrual: nothing pending, no division needed.
        if leg.funding_entry != market.funding_index {
            out.funding =
                settle_funding(side, leg.qty(), leg.funding_entry, market.funding_index)?.payment.0;
        }
        out.upnl = if leg.size > 0 {
            notional.try_sub(leg.entry_notional.0)?
        } else {
            leg.entry_notional.0.try_sub(notional)?
        };
        out.maintenance = market.params.tiers.maintenance_margin(Quote(notional))?.0;
    }
    out.initial = initial_of(market, leg)?;
    Ok(out)
}

fn cache_key(market: &Market, leg: &Leg) -> CacheKey {
    CacheKey {
        mark: market.mark.0,
        funding: market.funding_index.0,
        open_interest: if market.params.oi_ramp.is_some() { market.long_lots } else { 0 },
        size: leg.size,
        entry: leg.entry_notional.0,
        funding_entry: leg.funding_entry.0,
        open_buy: leg.open_buy,
        open_sell: leg.open_sell,
    }
}

/// [`leg_value`], from the leg's cache when nothing it depends on changed.
pub fn leg_value_cached(market: &Market, leg: &Leg) -> Result<LegValue, MathError> {
    if leg.cache.key == Some(cache_key(market, leg)) {
        return Ok(leg.cache.value);
    }
    leg_value(market, leg)
}

/// Refreshes the cached values of a bucket's legs (cheap when they are current).
pub(crate) fn refresh(markets: &[Market], bucket: &mut Bucket) -> Result<(), MathError> {
    for leg in &mut bucket.legs {
        let market = markets.get(usize::from(leg.market.0)).ok_or_else(MathError::out_of_domain)?;
        let key = cache_key(market, leg);
        if leg.cache.key != Some(key) {
            let value = leg_value(market, leg)?;
            leg.cache = LegCache { key: Some(key), value };
        }
    }
    Ok(())
}

/// Values a bucket. `over` replaces (or adds) the leg of its market and `cash_delta` is added to
/// the cash: the bucket as it would be after a hypothetical change.
pub fn bucket_value(
    markets: &[Market],
    bucket: &Bucket,
    over: Option<&Leg>,
    cash_delta: i128,
) -> Result<Valuation, MathError> {
    let over = match over {
        Some(o) => {
            let market =
                markets.get(usize::from(o.market.0)).ok_or_else(MathError::out_of_domain)?;
            Some((o.market, leg_value(market, o)?, o.size != 0))
        }
        None => None,
    };
    sum_bucket(markets, bucket, over, cash_delta)
}

/// [`bucket_value`] with the hypothetical leg given by its value: `(market, value, has a
/// position)`.
pub(crate) fn sum_bucket(
    markets: &[Market],
    bucket: &Bucket,
    over: Option<(crate::action::MarketId, LegValue, bool)>,
    cash_delta: i128,
) -> Result<Valuation, MathError> {
    let mut equity = bucket.cash.0.try_add(cash_delta)?;
    let mut v = Valuation::default();
    let mut add = |lv: &LegValue, position: bool| -> Result<(), MathError> {
        equity = equity.try_add(lv.value)?.try_sub(lv.funding)?;
        v.maintenance.0 = v.maintenance.0.try_add(lv.maintenance)?;
        v.initial.0 = v.initial.0.try_add(lv.initial)?;
        v.notional.0 = v.notional.0.try_add(lv.notional)?;
        v.upnl_positive.0 = v.upnl_positive.0.try_add(lv.upnl.max(0))?;
        v.positions += u32::from(position);
        Ok(())
    };
    let mut replaced = false;
    for leg in &bucket.legs {
        match over {
            Some((m, lv, position)) if m == leg.market => {
                replaced = true;
                add(&lv, position)?;
            }
            _ => {
                let market =
                    markets.get(usize::from(leg.market.0)).ok_or_else(MathError::out_of_domain)?;
                add(&leg_value_cached(market, leg)?, leg.size != 0)?;
            }
        }
    }
    if let (Some((_, lv, position)), false) = (over, replaced) {
        add(&lv, position)?;
    }
    v.equity = Quote(equity);
    Ok(v)
}

/// The initial requirement of a leg on its worst-case size (what changes when only its resting
/// lots change).
pub(crate) fn initial_of(market: &Market, leg: &Leg) -> Result<i128, MathError> {
    let worst = leg.worst_case_qty();
    if worst == 0 {
        return Ok(0);
    }
    let w = market.params.contract.notional(market.mark, QtyLots(worst))?;
    let mut im = market.params.tiers.initial_margin(w)?;
    if let Some(ramp) = market.params.oi_ramp {
        im = ramp.initial_margin(im, w, market.open_interest_notional()?)?;
    }
    Ok(im.0)
}
