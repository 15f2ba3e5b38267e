//! Funding of perpetual swaps: premium samples, the interval average, the 8-hour rate, the
//! per-interval payment, and the cumulative funding index that settles positions lazily.
//!
//! # Specification
//! **Premium sample**, taken every block from the book's impact prices (the average fill price of
//! a market buy / sell of the impact notional) against the index (dYdX v4 form):
//!
//! ```text
//! p = ( max(0, impact_bid − index) − max(0, index − impact_ask) ) / index     rounded toward 0
//! ```
//!
//! A missing impact price (the book cannot fill the impact notional on that side) contributes 0
//! for that side: no evidence of a premium. The dYdX impact notional is `500 USDC / imr_0`
//! ([`impact_notional`]).
//!
//! **Average**: [`PremiumAccumulator`] keeps `Σ p` (parts per billion, `i128`) and the sample
//! count; at the end of the interval `P = Σ p / count`, rounded toward zero, `0` if no samples.
//! Every block counts once (Hyperliquid samples on a fixed clock, dYdX each minute; a block is our
//! clock).
//!
//! **8-hour rate** (Hyperliquid): with interest `I` (default 0.01%) and clamp `c` (default
//! 0.05%), `F = P + clamp(I − P, −c, +c)`. So `F = I` whenever `|P − I| ≤ c`, and beyond that `F`
//! follows the premium at a constant offset.
//!
//! **Interval rate**: an interval of `Δt` ms pays `F × Δt / 8 h`, rounded toward zero, limited to
//! `± cap × Δt / 1 h` (default cap 4% per hour). For the default one-hour interval that is `F / 8`.
//! Worked vector: `P = 1%`, `I = 0.01%` → `F = 1% + max(−0.99%, −0.05%) = 0.95%` per 8 h →
//! 0.11875% per hour; a 10 BTC long at an index of $10,000 pays $118.75 per hour.
//!
//! Rounding the rate toward zero favours neither side: the same rate applies to longs and
//! shorts through the index below.
//!
//! # Cumulative index and settlement
//! A [`FundingIndex`] per market accumulates, at every interval, `rate × lot_value(index price)`
//! in units of **1e-9 quote atoms per lot** ("nano-atoms"): a [`Rate`] in parts per billion times
//! the quote atoms of one lot is exactly a nano-atom amount, so accrual never rounds. A positive
//! increment means longs pay shorts.
//!
//! A position of signed size `s` lots (long positive) last settled at index `e` owes, at index
//! `x`, exactly `s × (x − e)` nano-atoms. [`settle_funding`] turns that into whole atoms:
//!
//! ```text
//! payment (atoms, paid by the account) = ⌈ s × (x − e) / 1e9 ⌉
//! residue (nano-atoms)                 = payment × 1e9 − s × (x − e)        ∈ [0, 1e9)
//! ```
//!
//! A payer's payment rounds up and a receiver's receipt rounds down (the ceiling of a negative
//! amount is toward zero): one rule for both. Settling is O(1) per position and the engine
//! touches only positions it is already touching; per market and interval the work is O(1).
//!
//! # Zero-sum, exactly
//! Let the engine keep, per market, a funding pool that receives every `payment` (negative
//! payments are paid out of it). At every interval all open positions see the same increment, and
//! long and short open interest are equal, so the exact amounts `s × Δ` sum to zero over any set
//! of positions once all of them have settled. Each settlement adds its residue on top of its
//! exact amount, so once every position has settled
//!
//! ```text
//! pool × 1e9 = Σ residues ≥ 0,     i.e.  funding paid − funding received = Σ residues / 1e9
//! ```
//!
//! Between settlements the pool may be temporarily negative (receivers settled before payers);
//! `pool × 1e9 − Σ residues` is then exactly minus the exact amount owed by the positions not
//! yet settled. The engine books residues explicitly (for instance sweeping whole atoms of the
//! settled residue to the insurance fund) and can assert this identity as an invariant.

use novation_types::{PriceTicks, QtyLots, Quote, Side};

use crate::contract::ContractSpec;
use crate::fixed::{
    mul_div_ceil_signed, mul_div_floor, mul_div_floor_signed, mul_div_trunc_signed, narrow,
    MathError, Rate, TryArith,
};

/// One hour in milliseconds.
pub const HOUR_MS: u64 = 3_600_000;
/// The period a funding rate `F` is quoted over: 8 hours, in milliseconds.
pub const RATE_PERIOD_MS: u64 = 8 * HOUR_MS;
/// Nano-atoms (the [`FundingIndex`] unit) per quote atom.
pub const NANO_ATOMS_PER_ATOM: i128 = Rate::SCALE as i128;

/// A market's funding parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FundingParams {
    /// `I`: the interest component, per 8 hours (default 0.01%).
    pub interest_rate_8h: Rate,
    /// `c`: the clamp on `I − P`, per 8 hours (default 0.05%).
    pub premium_clamp_8h: Rate,
    /// The most a position may pay or receive per hour, as a fraction of its notional at the
    /// index (default 4%).
    pub rate_cap_per_hour: Rate,
}

impl FundingParams {
    /// Hyperliquid's parameters: `I` = 0.01% per 8 h, clamp ±0.05%, cap 4% per hour.
    pub const DEFAULT: FundingParams = FundingParams {
        interest_rate_8h: Rate::from_bps(1),
        premium_clamp_8h: Rate::from_bps(5),
        rate_cap_per_hour: Rate::from_bps(400),
    };

    /// Checks `0 ≤ c ≤ 100%`, `|I| ≤ 100%`, `0 < cap ≤ 100%`.
    pub fn validate(&self) -> Result<(), FundingParamsError> {
        if self.premium_clamp_8h < Rate::ZERO || self.premium_clamp_8h > Rate::ONE {
            return Err(FundingParamsError::ClampOutOfRange);
        }
        if self.interest_rate_8h.ppb().abs() > Rate::SCALE {
            return Err(FundingParamsError::InterestOutOfRange);
        }
        if self.rate_cap_per_hour <= Rate::ZERO || self.rate_cap_per_hour > Rate::ONE {
            return Err(FundingParamsError::CapOutOfRange);
        }
        Ok(())
    }
}

impl Default for FundingParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why [`FundingParams`] were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FundingParamsError {
    /// The clamp is negative or above 100%.
    #[error("premium clamp must be within [0, 100%]")]
    ClampOutOfRange,
    /// The interest rate is beyond ±100%.
    #[error("interest rate must be within ±100%")]
    InterestOutOfRange,
    /// The hourly cap is not positive or above 100%.
    #[error("hourly funding cap must be within (0, 100%]")]
    CapOutOfRange,
}

/// dYdX's impact notional: `base / initial_fraction`, rounded down (e.g. 500 USDC / 5% =
/// 10,000 USDC). Fails unless `initial_fraction > 0` and `base ≥ 0`.
#[track_caller]
pub fn impact_notional(base: Quote, initial_fraction: Rate) -> Result<Quote, MathError> {
    if initial_fraction <= Rate::ZERO || base.0 < 0 {
        return Err(MathError::out_of_domain());
    }
    Ok(Quote(mul_div_floor_signed(
        base.0,
        i128::from(Rate::SCALE),
        i128::from(initial_fraction.ppb()),
    )?))
}

/// One premium sample (module doc). Fails on a zero index.
#[track_caller]
pub fn premium_sample(
    impact_bid: Option<PriceTicks>,
    impact_ask: Option<PriceTicks>,
    index: PriceTicks,
) -> Result<Rate, MathError> {
    if index.0 == 0 {
        return Err(MathError::out_of_domain());
    }
    let index = i128::from(index.0);
    let bid_excess = impact_bid.map_or(0, |b| (i128::from(b.0) - index).max(0));
    let ask_deficit = impact_ask.map_or(0, |a| (index - i128::from(a.0)).max(0));
    Rate::ratio_trunc(bid_excess - ask_deficit, index)
}

/// The running sum and count of premium samples over one funding interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PremiumAccumulator {
    sum_ppb: i128,
    samples: u64,
}

impl PremiumAccumulator {
    /// An empty accumulator.
    pub const fn new() -> Self {
        PremiumAccumulator { sum_ppb: 0, samples: 0 }
    }

    /// Adds one sample. On error the accumulator is unchanged.
    #[track_caller]
    pub fn record(&mut self, sample: Rate) -> Result<(), MathError> {
        let sum_ppb = self.sum_ppb.try_add(i128::from(sample.ppb()))?;
        let samples = self.samples.try_add(1)?;
        *self = PremiumAccumulator { sum_ppb, samples };
        Ok(())
    }

    /// Samples recorded.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Sum of the samples, parts per billion.
    pub fn sum_ppb(&self) -> i128 {
        self.sum_ppb
    }

    /// The mean sample rounded toward zero; zero if there are no samples.
    #[track_caller]
    pub fn average(&self) -> Result<Rate, MathError> {
        if self.samples == 0 {
            return Ok(Rate::ZERO);
        }
        Ok(Rate::from_ppb(narrow(self.sum_ppb / i128::from(self.samples))?))
    }

    /// The average, and the accumulator emptied for the next interval.
    #[track_caller]
    pub fn take_average(&mut self) -> Result<Rate, MathError> {
        let average = self.average()?;
        *self = PremiumAccumulator::new();
        Ok(average)
    }
}

/// `F = P + clamp(I − P, −c, +c)`, per 8 hours.
#[track_caller]
pub fn funding_rate_8h(premium: Rate, params: &FundingParams) -> Result<Rate, MathError> {
    let c = params.premium_clamp_8h;
    let gap = params.interest_rate_8h.try_sub(premium)?;
    let low = Rate::from_ppb(c.ppb().checked_neg().unwrap_or(i64::MIN));
    premium.try_add(gap.clamp_to(low, c))
}

/// The rate an interval of `elapsed_ms` pays: `F × elapsed / 8 h` rounded toward zero, limited to
/// `± cap × elapsed / 1 h` (the cap rounded down).
#[track_caller]
pub fn rate_for_elapsed(
    rate_8h: Rate,
    elapsed_ms: u64,
    params: &FundingParams,
) -> Result<Rate, MathError> {
    let pro_rata = mul_div_trunc_signed(
        i128::from(rate_8h.ppb()),
        i128::from(elapsed_ms),
        i128::from(RATE_PERIOD_MS),
    )?;
    let cap = mul_div_floor(
        u128::from(params.rate_cap_per_hour.ppb().unsigned_abs()),
        u128::from(elapsed_ms),
        u128::from(HOUR_MS),
    )?;
    let cap: i128 = narrow(cap)?;
    Ok(Rate::from_ppb(narrow(pro_rata.clamp(-cap, cap))?))
}

/// The rate of a one-hour interval: `F / 8`, capped.
#[track_caller]
pub fn hourly_rate(rate_8h: Rate, params: &FundingParams) -> Result<Rate, MathError> {
    rate_for_elapsed(rate_8h, HOUR_MS, params)
}

/// A market's cumulative funding index, in 1e-9 quote atoms per lot. Rising means longs pay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FundingIndex(pub i128);

impl FundingIndex {
    /// The index of a new market.
    pub const ZERO: FundingIndex = FundingIndex(0);

    /// The index in nano-atoms per lot.
    pub const fn nano_atoms_per_lot(self) -> i128 {
        self.0
    }

    /// The index after an interval paying `rate` on the notional at `index_price`:
    /// `self + rate × lot_value(index_price)`, exact.
    #[track_caller]
    pub fn accrue(
        self,
        rate: Rate,
        index_price: PriceTicks,
        spec: &ContractSpec,
    ) -> Result<FundingIndex, MathError> {
        let per_lot = spec.lot_value(index_price)?.0;
        let delta = i128::from(rate.ppb()).try_mul(per_lot)?;
        Ok(FundingIndex(self.0.try_add(delta)?))
    }
}

/// The outcome of settling one position's funding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FundingSettlement {
    /// Quote atoms the account pays into the market's funding pool; negative when it receives.
    pub payment: Quote,
    /// `payment × 1e9 − exact amount`, in nano-atoms: what rounding kept in the pool, in
    /// `[0, 1e9)`.
    pub residue_nano_atoms: u64,
}

impl FundingSettlement {
    /// The change to the account's balance: `−payment`.
    pub fn balance_delta(&self) -> Quote {
        // `payment` is a ceiling of an i128 quotient by 1e9, far from i128::MIN.
        Quote(-self.payment.0)
    }
}

/// Settles the funding of a position of `qty` lots on `side` (buy = long) last settled at
/// `entry`, against the market index `now`. See the module doc.
#[track_caller]
pub fn settle_funding(
    side: Side,
    qty: QtyLots,
    entry: FundingIndex,
    now: FundingIndex,
) -> Result<FundingSettlement, MathError> {
    let moved = now.0.try_sub(entry.0)?;
    let size = match side {
        Side::Buy => i128::from(qty.0),
        Side::Sell => -i128::from(qty.0),
    };
    let payment = mul_div_ceil_signed(size, moved, NANO_ATOMS_PER_ATOM)?;
    // residue = payment × 1e9 − size × moved, computed without forming either product alone:
    // size × moved = q × 1e9 + r with q the floor, and payment is q or q + 1.
    let floor = mul_div_floor_signed(size, moved, NANO_ATOMS_PER_ATOM)?;
    let residue = if payment == floor {
        0
    } else {
        // r = size × moved − floor × 1e9 ∈ (0, 1e9); residue = 1e9 − r.
        let r = remainder_nano(size, moved, floor)?;
        NANO_ATOMS_PER_ATOM - r
    };
    Ok(FundingSettlement { payment: Quote(payment), residue_nano_atoms: narrow(residue)? })
}

/// `a × b − floor × 1e9` where `floor = ⌊a × b / 1e9⌋`, which lies in `[0, 1e9)`. Computed
/// modulo 2^128: the true value is small, so the wrapping arithmetic gives it exactly.
fn remainder_nano(a: i128, b: i128, floor: i128) -> Result<i128, MathError> {
    let value = a.wrapping_mul(b).wrapping_sub(floor.wrapping_mul(NANO_ATOMS_PER_ATOM));
    if (0..NANO_ATOMS_PER_ATOM).contains(&value) {
        Ok(value)
    } else {
        Err(MathError::overflow())
    }
}

#[cfg(test)]
mod tests;
