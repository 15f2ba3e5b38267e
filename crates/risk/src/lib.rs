//! Pure risk math for novation's clearing engine: integers only, checked, every rounding named.
//!
//! This crate has no state beyond small accumulators the engine owns, no I/O, no clock, no
//! randomness and no hashed collections. Time, prices and positions come in as arguments.
//!
//! | module | what it computes |
//! |---|---|
//! | [`fixed`] | `mul_div_floor` / `mul_div_ceil` (256-bit intermediates), signed variants, [`Rate`] (parts per billion) |
//! | [`margin`] | initial and maintenance margin by notional tier (deduction form), open-interest ramp, withdrawal floor |
//! | [`funding`] | premium samples, interval average, 8-hour rate with clamp and hourly cap, cumulative funding index, zero-sum settlement with an explicit residue |
//! | [`mark`] | mark price: median of index, index + EMA of the clamped basis, and the clamped mid |
//! | [`liquidation`] | account health, bankruptcy and liquidation prices, takeover-auction price, liquidation order limit, ADL ranking key |
//! | [`contract`] | [`ContractSpec`]: ticks × lots → quote atoms, exactly; the reverse with named rounding |

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
