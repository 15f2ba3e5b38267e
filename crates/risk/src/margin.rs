//! Margin requirements by position notional: tiers in the deduction form, the open-interest
//! ramp, and the withdrawal floor.
//!
//! # Tiers (the specification)
//! A market's [`MarginTiers`] is a table of rows `n = 0..k` with a notional lower bound `L_n`
//! (quote atoms, `L_0 = 0`, strictly increasing), an initial fraction `imr_n` and a maintenance
//! fraction `mmr_n` (non-decreasing in `n`, `0 < mmr_n < imr_n ≤ 100%`). For a position of
//! notional `N ≥ 0` (size × mark, quote atoms) in tier `n` (`L_n ≤ N < L_{n+1}`):
//!
//! ```text
//! MM(N) = ⌈ N × mmr_n − mded_n ⌉        mded_0 = 0,  mded_n = mded_{n−1} + L_n × (mmr_n − mmr_{n−1})
//! IM(N) = ⌈ N × imr_n − ided_n ⌉        ided_0 = 0,  ided_n = ided_{n−1} + L_n × (imr_n − imr_{n−1})
//! ```
//!
//! (Hyperliquid's deduction form.) Unfolding the recurrence, `N × mmr_n − mded_n` equals
//! `Σ_j mmr_j × |[L_j, L_{j+1}) ∩ [0, N)|`: each slice of notional pays the fraction of the tier
//! it lies in, like income-tax brackets. Hence the requirement is
//! * **continuous**: at `N = L_n` tier `n` gives `L_n × mmr_{n−1} − mded_{n−1}`, exactly what
//!   tier `n − 1` gives; the deductions are kept exact (in units of 1e-9 atoms, the product of
//!   an atom and a [`Rate`] part) so the two agree to the atom before the single final rounding;
//! * **monotone**: non-decreasing in `N`, with slope `mmr_n` in tier `n`;
//! * **never above notional**, and `MM(N) < IM(N)` for `N > 0` up to rounding (pointwise
//!   `mmr < imr`).
//!
//! Both round **up**, in the protocol's favour. Maximum leverage is `⌊1 / imr_0⌋`; Hyperliquid's
//! convention "maintenance = half of initial at max leverage" is [`MarginTier::from_max_leverage`].
//! Example (BTC on Hyperliquid: 40× up to $150M, then 20×): at $200M,
//! `MM = 200M × 2.5% − 150M × (2.5% − 1.25%) = $3.125M`.
//!
//! # Open-interest ramp (dYdX v4 style, optional)
//! With an [`OpenInterestRamp`] `(lower, upper)` and market open interest `OI` (quote atoms):
//!
//! ```text
//! t      = clamp((OI − lower) / (upper − lower), 0, 1)
//! imr'   = imr + (100% − imr) × t                     (initial_fraction, rounded up)
//! IM'(N) = IM(N) + (N − IM(N)) × t                    (initial_margin, rounded up)
//! ```
//!
//! The second form generalises dYdX's single-fraction ramp to tiers: at `t = 0` it is the tiered
//! requirement, at `t = 1` it is 100% of notional (no new leverage once open interest reaches
//! the upper cap). The YFI incident (open interest ×80 in days) is what it answers.
//!
//! # Withdrawal floor
//! A withdrawal must leave `max(IM, ⌈k × N⌉)` ([`withdrawal_requirement`]): after Hyperliquid's
//! March 2025 ETH whale, so that unrealised profit cannot be withdrawn down to a margin that a
//! small move then turns into a loss for the backstop.

use core::cmp::Ordering;

use novation_types::Quote;

use crate::fixed::{mul_div_ceil, mul_div_rem, narrow, MathError, Rate, TryArith};

/// The most rows a tier table may have.
pub const MAX_TIERS: usize = 16;

/// [`Rate::SCALE`] as a `u128` operand.
const SCALE: u128 = Rate::SCALE as u128;

/// One row of a tier table as governance writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarginTier {
    /// Lowest position notional (quote atoms) this row applies to; `0` for the first row.
    pub notional_lower: Quote,
    /// Initial margin fraction of this row.
    pub initial: Rate,
    /// Maintenance margin fraction of this row.
    pub maintenance: Rate,
}

impl MarginTier {
    /// A row allowing `max_leverage`×: initial `⌈1 / max_leverage⌉` (in parts per billion) and
    /// maintenance half of that, rounded up (Hyperliquid's convention).
    pub fn from_max_leverage(notional_lower: Quote, max_leverage: u32) -> Result<Self, TierError> {
        if max_leverage == 0 {
            return Err(TierError::ZeroLeverage);
        }
        // At most 1e9 ppb: the cast back to i64 is lossless.
        let initial = Rate::SCALE.unsigned_abs().div_ceil(u64::from(max_leverage)) as i64;
        Ok(MarginTier {
            notional_lower,
            initial: Rate::from_ppb(initial),
            maintenance: Rate::from_ppb((initial + 1) / 2),
        })
    }
}

/// Why a tier table or a ramp was refused. `tier` is the index of the offending row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// No rows.
    #[error("a tier table needs at least one row")]
    Empty,
    /// More than [`MAX_TIERS`] rows.
    #[error("{count} tiers, at most {max} allowed")]
    TooMany {
        /// Rows given.
        count: usize,
        /// [`MAX_TIERS`].
        max: usize,
    },
    /// The first row's lower bound is not zero.
    #[error("the first tier must start at notional 0")]
    FirstLowerNotZero,
    /// A lower bound is not above the previous one.
    #[error("tier {tier}: lower bound not above the previous tier's")]
    LowerNotIncreasing {
        /// Row index.
        tier: usize,
    },
    /// An initial fraction is not in `(0, 100%]`.
    #[error("tier {tier}: initial fraction outside (0, 100%]")]
    InitialOutOfRange {
        /// Row index.
        tier: usize,
    },
    /// A maintenance fraction is not in `(0, initial)`.
    #[error("tier {tier}: maintenance fraction not in (0, initial)")]
    MaintenanceNotBelowInitial {
        /// Row index.
        tier: usize,
    },
    /// A fraction is below the previous row's.
    #[error("tier {tier}: a fraction decreases from the previous tier")]
    FractionDecreasing {
        /// Row index.
        tier: usize,
    },
    /// A deduction does not fit (absurd lower bounds).
    #[error("tier {tier}: deduction overflows")]
    DeductionOverflow {
        /// Row index.
        tier: usize,
    },
    /// Leverage 0 asked of [`MarginTier::from_max_leverage`].
    #[error("maximum leverage must be at least 1")]
    ZeroLeverage,
}

/// A validated tier row with its exact deductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Row {
    tier: MarginTier,
    /// Lower bound as an unsigned operand.
    lower: u128,
    /// `ided_n` in units of 1e-9 quote atoms (exact).
    initial_deduction: u128,
    /// `mded_n` in units of 1e-9 quote atoms (exact).
    maintenance_deduction: u128,
}

/// Which requirement to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Initial,
    Maintenance,
}

/// A validated margin tier table. See the module doc for the formulas.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MarginTiers {
    rows: Vec<Row>,
}

impl MarginTiers {
    /// Validates `tiers` and precomputes the deductions.
    pub fn new(tiers: &[MarginTier]) -> Result<MarginTiers, TierError> {
        if tiers.is_empty() {
            return Err(TierError::Empty);
        }
        if tiers.len() > MAX_TIERS {
            return Err(TierError::TooMany { count: tiers.len(), max: MAX_TIERS });
        }
        if tiers[0].notional_lower != Quote::ZERO {
            return Err(TierError::FirstLowerNotZero);
        }
        let mut rows: Vec<Row> = Vec::with_capacity(tiers.len());
        for (i, t) in tiers.iter().enumerate() {
            Self::check_row(i, t)?;
            let row = match rows.last() {
                None => Row { tier: *t, lower: 0, initial_deduction: 0, maintenance_deduction: 0 },
                Some(prev) => Self::next_row(i, prev, t)?,
            };
            rows.push(row);
        }
        Ok(MarginTiers { rows })
    }

    fn check_row(i: usize, t: &MarginTier) -> Result<(), TierError> {
        if t.initial <= Rate::ZERO || t.initial > Rate::ONE {
            return Err(TierError::InitialOutOfRange { tier: i });
        }
        if t.maintenance <= Rate::ZERO || t.maintenance >= t.initial {
            return Err(TierError::MaintenanceNotBelowInitial { tier: i });
        }
        Ok(())
    }

    fn next_row(i: usize, prev: &Row, t: &MarginTier) -> Result<Row, TierError> {
        if t.notional_lower <= prev.tier.notional_lower {
            return Err(TierError::LowerNotIncreasing { tier: i });
        }
        if t.initial < prev.tier.initial || t.maintenance < prev.tier.maintenance {
            return Err(TierError::FractionDecreasing { tier: i });
        }
        let lower = t.notional_lower.0.unsigned_abs();
        // Both differences are non-negative by the checks above.
        let step = |now: Rate, before: Rate, ded: u128| -> Option<u128> {
            let diff = u128::from((now.ppb() - before.ppb()).unsigned_abs());
            ded.checked_add(lower.checked_mul(diff)?)
        };
        let overflow = TierError::DeductionOverflow { tier: i };
        Ok(Row {
            tier: *t,
            lower,
            initial_deduction: step(t.initial, prev.tier.initial, prev.initial_deduction)
                .ok_or(overflow)?,
            maintenance_deduction: step(
                t.maintenance,
                prev.tier.maintenance,
                prev.maintenance_deduction,
            )
            .ok_or(overflow)?,
        })
    }

    /// The rows, as given.
    pub fn tiers(&self) -> impl ExactSizeIterator<Item = MarginTier> + '_ {
        self.rows.iter().map(|r| r.tier)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Always false: a validated table has at least one row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Index of the row that applies to `notional` (the last row whose lower bound is at most
    /// `notional`). Fails on a negative notional.
    #[track_caller]
    pub fn tier_index(&self, notional: Quote) -> Result<usize, MathError> {
        if notional.0 < 0 {
            return Err(MathError::out_of_domain());
        }
        let n = notional.0.unsigned_abs();
        Ok(self.rows.iter().rposition(|r| r.lower <= n).unwrap_or(0))
    }

    /// `(ided_n, mded_n)` of row `tier` in units of 1e-9 quote atoms, or `None` past the end.
    pub fn deductions_nano_atoms(&self, tier: usize) -> Option<(u128, u128)> {
        self.rows.get(tier).map(|r| (r.initial_deduction, r.maintenance_deduction))
    }

    /// Initial margin of a position of `notional` quote atoms, rounded up.
    #[track_caller]
    pub fn initial_margin(&self, notional: Quote) -> Result<Quote, MathError> {
        self.requirement(notional, Kind::Initial)
    }

    /// Maintenance margin of a position of `notional` quote atoms, rounded up.
    #[track_caller]
    pub fn maintenance_margin(&self, notional: Quote) -> Result<Quote, MathError> {
        self.requirement(notional, Kind::Maintenance)
    }

    /// The requirement of row `tier` alone at `notional`, rounded up: the formula of the module
    /// doc without choosing the row by notional. Used to check continuity at the boundaries.
    #[track_caller]
    pub fn initial_margin_in_tier(&self, tier: usize, notional: Quote) -> Result<Quote, MathError> {
        self.requirement_in(tier, notional, Kind::Initial)
    }

    /// As [`MarginTiers::initial_margin_in_tier`], for maintenance.
    #[track_caller]
    pub fn maintenance_margin_in_tier(
        &self,
        tier: usize,
        notional: Quote,
    ) -> Result<Quote, MathError> {
        self.requirement_in(tier, notional, Kind::Maintenance)
    }

    /// `⌊1 / imr_0⌋`: the highest whole leverage the first tier allows.
    pub fn max_leverage_floor(&self) -> u64 {
        // imr_0 is in (0, 1e9] by validation.
        Rate::SCALE.unsigned_abs() / self.rows[0].tier.initial.ppb().unsigned_abs()
    }

    /// Initial fraction of the first tier (the fraction at maximum leverage).
    pub fn base_initial(&self) -> Rate {
        self.rows[0].tier.initial
    }

    #[track_caller]
    fn requirement(&self, notional: Quote, kind: Kind) -> Result<Quote, MathError> {
        let tier = self.tier_index(notional)?;
        self.requirement_in(tier, notional, kind)
    }

    #[track_caller]
    fn requirement_in(&self, tier: usize, notional: Quote, kind: Kind) -> Result<Quote, MathError> {
        let Some(row) = self.rows.get(tier) else {
            return Err(MathError::out_of_domain());
        };
        if notional.0 < 0 {
            return Err(MathError::out_of_domain());
        }
        let (rate, deduction) = match kind {
            Kind::Initial => (row.tier.initial, row.initial_deduction),
            Kind::Maintenance => (row.tier.maintenance, row.maintenance_deduction),
        };
        // ⌈(N × r − ded) / S⌉ with N × r = q1 S + r1 and ded = q2 S + r2, all exact.
        let n = notional.0.unsigned_abs();
        let (q1, r1) = mul_div_rem(n, u128::from(rate.ppb().unsigned_abs()), SCALE)?;
        let (q2, r2) = (deduction / SCALE, deduction % SCALE);
        // Below its own row's lower bound a row's formula can go negative: report that as
        // out-of-domain rather than wrap.
        let whole = match q1.checked_sub(q2) {
            Some(w) => w,
            None => return Err(MathError::out_of_domain()),
        };
        let value = match r1.cmp(&r2) {
            Ordering::Greater => whole.try_add(1)?,
            Ordering::Equal => whole,
            // The fraction is in (−1, 0): the ceiling is `whole`, if the value is not negative.
            Ordering::Less if whole == 0 => return Err(MathError::out_of_domain()),
            Ordering::Less => whole,
        };
        Ok(Quote(narrow(value)?))
    }
}

/// A dYdX-style open-interest ramp: between `lower` and `upper` market open interest the
/// initial requirement rises linearly to 100% of notional.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenInterestRamp {
    lower: Quote,
    upper: Quote,
}

/// Why an [`OpenInterestRamp`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RampError {
    /// `lower` is negative or not below `upper`.
    #[error("open-interest ramp needs 0 <= lower < upper")]
    BadBounds,
}

impl OpenInterestRamp {
    /// A ramp from `lower` to `upper` open interest (quote atoms), `0 ≤ lower < upper`.
    pub fn new(lower: Quote, upper: Quote) -> Result<OpenInterestRamp, RampError> {
        if lower.0 < 0 || lower >= upper {
            return Err(RampError::BadBounds);
        }
        Ok(OpenInterestRamp { lower, upper })
    }

    /// Lower open-interest cap (quote atoms).
    pub fn lower(&self) -> Quote {
        self.lower
    }

    /// Upper open-interest cap (quote atoms).
    pub fn upper(&self) -> Quote {
        self.upper
    }

    /// `t` of the module doc as `(numerator, denominator)`, with `0 ≤ numerator ≤ denominator`.
    fn progress(&self, open_interest: Quote) -> (u128, u128) {
        let span = (self.upper.0 - self.lower.0).unsigned_abs();
        let done = open_interest.0.clamp(self.lower.0, self.upper.0) - self.lower.0;
        (done.unsigned_abs(), span)
    }

    /// The initial fraction `imr + (100% − imr) × t`, rounded up. Fails unless
    /// `0 ≤ base ≤ 100%`.
    #[track_caller]
    pub fn initial_fraction(&self, base: Rate, open_interest: Quote) -> Result<Rate, MathError> {
        if base < Rate::ZERO || base > Rate::ONE {
            return Err(MathError::out_of_domain());
        }
        let (num, den) = self.progress(open_interest);
        let headroom = (Rate::ONE.ppb() - base.ppb()).unsigned_abs();
        let add = mul_div_ceil(u128::from(headroom), num, den)?;
        Ok(Rate::from_ppb(base.ppb().try_add(narrow(add)?)?))
    }

    /// The tiered initial margin `im` of a position of `notional`, raised toward `notional` by
    /// `t`: `im + (notional − im) × t`, rounded up. Fails unless `0 ≤ im ≤ notional`.
    #[track_caller]
    pub fn initial_margin(
        &self,
        im: Quote,
        notional: Quote,
        open_interest: Quote,
    ) -> Result<Quote, MathError> {
        if im.0 < 0 || im > notional {
            return Err(MathError::out_of_domain());
        }
        let (num, den) = self.progress(open_interest);
        let gap = (notional.0 - im.0).unsigned_abs();
        let add = mul_div_ceil(gap, num, den)?;
        Ok(Quote(im.0.try_add(narrow(add)?)?))
    }
}

/// What a withdrawal must leave in the account: `max(im, ⌈floor_fraction × notional⌉)`.
/// Fails on a negative notional or fraction.
#[track_caller]
pub fn withdrawal_requirement(
    im: Quote,
    notional: Quote,
    floor_fraction: Rate,
) -> Result<Quote, MathError> {
    if notional.0 < 0 || floor_fraction < Rate::ZERO {
        return Err(MathError::out_of_domain());
    }
    Ok(im.max(floor_fraction.of_quote_ceil(notional)?))
}

#[cfg(test)]
mod tests;
