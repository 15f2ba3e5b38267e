//! Pure risk math for novation's clearing engine: integers only, checked, every rounding named.
//!
//! The engine (a separate crate) owns accounts, markets and the liquidation waterfall; it calls
//! this crate for every number that decides who may trade, who pays funding and who is
//! liquidated. Nothing here holds state beyond small accumulators the engine stores
//! ([`PremiumAccumulator`], [`MarkState`], [`FundingIndex`]); there is no I/O, clock, randomness,
//! float or hashed collection. Time, prices and positions come in as arguments, and every
//! failure is a typed error ([`MathError`] for arithmetic, a `*Error` enum per parameter set),
//! never a panic.
//!
//! | module | what it computes |
//! |---|---|
//! | [`fixed`] | `mul_div_floor` / `mul_div_ceil` (256-bit intermediates), signed variants, [`Rate`] (parts per billion) |
//! | [`contract`] | [`ContractSpec`]: ticks × lots → quote atoms, exactly; the reverse with named rounding |
//! | [`margin`] | initial and maintenance margin by notional tier (deduction form), open-interest ramp, withdrawal floor |
//! | [`funding`] | premium samples, interval average, 8-hour rate with clamp and hourly cap, cumulative funding index, zero-sum settlement with an explicit residue |
//! | [`mark`] | mark price: median of index, index + EMA of the clamped basis, and the clamped mid |
//! | [`liquidation`] | account health, bankruptcy and liquidation prices, takeover-auction price, liquidation order limit, ADL ranking key |
//!
//! Each module's doc is its specification, formulas written out.
//!
//! # How the engine is expected to use it, per market and block
//! ```text
//! mark   = mark_state.update(&mark_params, block.time_ms, index, BookTop { best_bid, best_ask })?
//! premium_acc.record(premium_sample(impact_bid, impact_ask, index)?)?
//! at the end of a funding interval of `elapsed_ms`:
//!     F     = funding_rate_8h(premium_acc.take_average()?, &funding_params)?
//!     funding_index = funding_index.accrue(rate_for_elapsed(F, elapsed_ms, &funding_params)?, index, &spec)?
//! when a position is touched:
//!     s = settle_funding(side, qty, position.funding_entry, funding_index)?   // pool += s.payment
//!     position.funding_entry = funding_index;  residue_nano += s.residue_nano_atoms
//! margin:  notional = spec.notional(mark, qty)?;  mm = tiers.maintenance_margin(notional)?
//!          account_health(equity, Σ mm)
//! ```
//!
//! # Units
//! | quantity | type | unit |
//! |---|---|---|
//! | price | `PriceTicks(u64)` | ticks of the market |
//! | size | `QtyLots(u64)` | lots of the market; a position's direction is a `Side` (`Buy` = long) |
//! | money, notional | `Quote(i128)` | quote atoms, 1e-6 USDC |
//! | fraction, rate | [`Rate`] (`i64`) | parts per billion (1e-9) |
//! | tick-lot value | [`ContractSpec`] | whole quote atoms per tick per lot |
//! | funding index | [`FundingIndex`] (`i128`) | 1e-9 quote atoms per lot |
//! | mark internals | `i128` | 1e-9 tick |
//!
//! # Rounding (in the protocol's favour, and named)
//! * requirements (initial, maintenance, withdrawal floor, OI ramp) round **up**;
//! * funding: a payer pays the **ceiling**, a receiver receives the **floor**; the residue is
//!   returned per settlement; rates round **toward zero** (same for both sides);
//! * bankruptcy price rounds toward solvency (long up, short down); the liquidation price is
//!   the exact tick trigger of the integer predicate; auction prices round toward the start
//!   (mark), liquidation order limits toward the mark;
//! * the mark rounds to the nearest tick, halves up (it serves both sides, so no direction is
//!   "the protocol's").
//!
//! ADR 0004 (`docs/adr/0004-risk-math-units.md`) records why.

#![forbid(unsafe_code)]

pub mod contract;
pub mod fixed;
pub mod funding;
pub mod liquidation;
pub mod margin;
pub mod mark;

pub use contract::{ContractSpec, SpecError};
pub use fixed::{
    mul_div_ceil, mul_div_ceil_signed, mul_div_floor, mul_div_floor_signed, mul_div_rem,
    mul_div_trunc_signed, narrow, MathError, MathErrorKind, Rate, TryArith,
};
pub use funding::{
    funding_rate_8h, hourly_rate, impact_notional, premium_sample, rate_for_elapsed,
    settle_funding, FundingIndex, FundingParams, FundingParamsError, FundingSettlement,
    PremiumAccumulator,
};
pub use liquidation::{
    account_health, adl_score, liquidation_limit_price, AdlInputs, AdlKey, Health,
    IsolatedPosition, TakeoverAuction,
};
pub use margin::{
    withdrawal_requirement, MarginTier, MarginTiers, OpenInterestRamp, RampError, TierError,
    MAX_TIERS,
};
pub use mark::{BookTop, MarkParams, MarkParamsError, MarkState};
