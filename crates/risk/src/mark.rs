//! The mark price: anchored on the oracle index, informed by the book, resistant to the book
//! being pushed or pulled.
//!
//! # Specification
//! Work in nano-ticks (1e-9 tick, `i128`) so that half-ticks and small EMA steps are exact
//! enough. With index `X`, band `β` (a [`Rate`], default 2%) and the book's mid `m` (the mean of
//! best bid and best ask; absent if either side is empty):
//!
//! ```text
//! w    = X × β                                  band half-width, exact (ticks × ppb = nano-ticks)
//! c    = clamp(m, X − w, X + w)                 the clamped mid; c = X when the book has no mid
//! o    = c − X                                  this block's basis observation, |o| ≤ w
//! Δt   = min(t − t_prev, Δt_max)                block time since the last update; 0 on the first
//! E'   = E + trunc((o − E) × Δt / (τ + Δt))     EMA of the basis, time constant τ (default 150 s)
//! mark = round_half_up( median(X, X + E', c) )  back to whole ticks, at least 1
//! ```
//!
//! The EMA step is the exact discrete solution of the implicit (backward-Euler) step of
//! `dE/dt = (o − E)/τ`: for `Δt ≪ τ` it is the usual `1 − e^{−Δt/τ}` weight to first order,
//! it is unconditionally stable, it never overshoots the observation (the step is truncated
//! toward zero), and it needs no exponentials, only one `mul_div`. Capping `Δt` at `Δt_max`
//! (default 10 s) caps the weight any single block can carry at `Δt_max / (τ + Δt_max)` (6.25%
//! by default) however long the chain was halted or however the proposer sets the timestamp.
//! A missing mid is an observation of zero basis: the EMA decays toward the index.
//!
//! # Why this resists manipulation
//! * **Bounded by the index.** `c` lies in `[X − w, X + w]`, and the median of three numbers one
//!   of which is `X` lies between `X` and the middle one of the other two: if `X + E'` and `c`
//!   are on the same side of `X` the median is the nearer of them, otherwise it is `X`. So
//!   `|mark − X| ≤ w` always, whatever the book does (a book pumped 20× moves the mark by at
//!   most the band) and whatever the EMA holds.
//! * **A pulled wall moves the mark only as fast as the EMA.** If the book suddenly drops far
//!   below the index (the POPCAT incident: a $20M bid wall pulled, the book price −38%), `c`
//!   goes to `X − w` at once but `X + E'` moves by at most `w × Δt / (τ + Δt)` per block, and the
//!   median is the nearer of the two, i.e. `X + E'`. With the defaults a 1 s block moves the mark
//!   by at most 0.66% of the band (0.013% of price); keeping the book away from the index for a
//!   whole time constant moves it by about 63% of the band. Liquidations triggered by mark
//!   therefore need the index itself (an aggregate of other venues) to move.
//! * **A genuine basis is followed.** If the book trades at a steady premium `o` inside the band,
//!   `E'` converges to `o` and the median becomes `min(X + E', c) → X + o`: the perp's own price,
//!   with a lag of order `τ`.
//!
//! Compared with Hyperliquid's `median(oracle + 150 s EMA(mid − oracle), median(bid, ask, last),
//! other venues' mids)`, the raw book component is clamped to a band around the index before it
//! enters either the median or the EMA, so neither can be dragged further than the band.

use novation_types::PriceTicks;

use crate::fixed::{mul_div_trunc_signed, narrow, MathError, Rate, TryArith};

/// Nano-ticks per tick.
const NANO: i128 = Rate::SCALE as i128;

/// A market's mark-price parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarkParams {
    /// `τ`: the EMA time constant, in milliseconds of block time (default 150 s).
    pub ema_time_constant_ms: u64,
    /// `Δt_max`: the most block time one update may account for (default 10 s).
    pub ema_step_ms_max: u64,
    /// `β`: the half-width of the band around the index, `0 < β < 100%` (default 2%).
    pub band: Rate,
}

impl MarkParams {
    /// τ = 150 s, Δt_max = 10 s, band ±2%.
    pub const DEFAULT: MarkParams = MarkParams {
        ema_time_constant_ms: 150_000,
        ema_step_ms_max: 10_000,
        band: Rate::from_bps(200),
    };

    /// Checks `τ > 0`, `Δt_max > 0` and `0 < β < 100%`.
    pub fn validate(&self) -> Result<(), MarkParamsError> {
        if self.ema_time_constant_ms == 0 {
            return Err(MarkParamsError::ZeroTimeConstant);
        }
        if self.ema_step_ms_max == 0 {
            return Err(MarkParamsError::ZeroStepMax);
        }
        if self.band <= Rate::ZERO || self.band >= Rate::ONE {
            return Err(MarkParamsError::BandOutOfRange);
        }
        Ok(())
    }
}

impl Default for MarkParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why [`MarkParams`] were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarkParamsError {
    /// `τ = 0`.
    #[error("EMA time constant must be positive")]
    ZeroTimeConstant,
    /// `Δt_max = 0`.
    #[error("EMA step cap must be positive")]
    ZeroStepMax,
    /// `β` is not in `(0, 100%)`.
    #[error("band must be within (0, 100%)")]
    BandOutOfRange,
}

/// The top of the book as the mark needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BookTop {
    /// Best bid, if any.
    pub best_bid: Option<PriceTicks>,
    /// Best ask, if any.
    pub best_ask: Option<PriceTicks>,
}

impl BookTop {
    /// A book with no orders.
    pub const EMPTY: BookTop = BookTop { best_bid: None, best_ask: None };

    /// `(best_bid + best_ask) / 2` in nano-ticks (exact), if both sides are present.
    pub fn mid_nano_ticks(&self) -> Option<i128> {
        let (bid, ask) = (self.best_bid?, self.best_ask?);
        Some((i128::from(bid.0) + i128::from(ask.0)) * (NANO / 2))
    }
}

/// The EMA a market carries from block to block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MarkState {
    basis_ema_nano_ticks: i128,
    last_update_ms: Option<u64>,
}

impl MarkState {
    /// A new market's state: zero basis, never updated.
    pub const fn new() -> Self {
        MarkState { basis_ema_nano_ticks: 0, last_update_ms: None }
    }

    /// `E`: the EMA of the clamped basis, nano-ticks.
    pub fn basis_ema_nano_ticks(&self) -> i128 {
        self.basis_ema_nano_ticks
    }

    /// Block time of the last update.
    pub fn last_update_ms(&self) -> Option<u64> {
        self.last_update_ms
    }

    /// Folds this block's observation into the EMA and returns the new mark. Call once per
    /// block; a second call at the same time changes nothing (`Δt = 0`), and a time earlier than
    /// the last update counts as `Δt = 0`. On error the state is unchanged.
    #[track_caller]
    pub fn update(
        &mut self,
        params: &MarkParams,
        time_ms: u64,
        index: PriceTicks,
        book: BookTop,
    ) -> Result<PriceTicks, MathError> {
        let bounds = Bounds::new(params, index)?;
        let observation = bounds.clamp(book.mid_nano_ticks()) - bounds.index;
        let elapsed = match self.last_update_ms {
            Some(last) => time_ms.saturating_sub(last).min(params.ema_step_ms_max),
            None => 0,
        };
        let ema = self.basis_ema_nano_ticks;
        let step = mul_div_trunc_signed(
            observation.try_sub(ema)?,
            i128::from(elapsed),
            i128::from(params.ema_time_constant_ms).try_add(i128::from(elapsed))?,
        )?;
        let ema = ema.try_add(step)?;
        let mark = mark_from(&bounds, ema, book)?;
        self.basis_ema_nano_ticks = ema;
        self.last_update_ms = Some(self.last_update_ms.map_or(time_ms, |t| t.max(time_ms)));
        Ok(mark)
    }

    /// The mark from the current EMA, without folding in an observation (for queries between
    /// updates).
    #[track_caller]
    pub fn mark(
        &self,
        params: &MarkParams,
        index: PriceTicks,
        book: BookTop,
    ) -> Result<PriceTicks, MathError> {
        mark_from(&Bounds::new(params, index)?, self.basis_ema_nano_ticks, book)
    }
}

/// The band around the index, in nano-ticks.
struct Bounds {
    index: i128,
    low: i128,
    high: i128,
}

impl Bounds {
    #[track_caller]
    fn new(params: &MarkParams, index: PriceTicks) -> Result<Bounds, MathError> {
        if index.0 == 0 || params.band < Rate::ZERO || params.band >= Rate::ONE {
            return Err(MathError::out_of_domain());
        }
        let x = i128::from(index.0) * NANO;
        let w = i128::from(index.0) * i128::from(params.band.ppb());
        Ok(Bounds { index: x, low: x - w, high: x + w })
    }

    fn clamp(&self, mid: Option<i128>) -> i128 {
        mid.map_or(self.index, |m| m.clamp(self.low, self.high))
    }
}

#[track_caller]
fn mark_from(bounds: &Bounds, ema: i128, book: BookTop) -> Result<PriceTicks, MathError> {
    let c = bounds.clamp(book.mid_nano_ticks());
    let b = bounds.index.try_add(ema)?;
    let m = median(bounds.index, b, c);
    // m lies between the index and c, and c between the index and a mid of u64 prices, so m
    // rounds to a positive tick count within u64; `narrow` is a guard, not a path.
    let ticks = m.try_add(NANO / 2)?.div_euclid(NANO).max(1);
    Ok(PriceTicks(narrow(ticks)?))
}

fn median(a: i128, b: i128, c: i128) -> i128 {
    a.min(b).max(a.max(b).min(c))
}

#[cfg(test)]
mod tests;
