//! novation's oracle: how validators' views of an asset's price become one index price.
//!
//! Two levels, both pure (no I/O, no clock: time is an argument):
//!
//! 1. **At each validator** (off consensus): an observer polls its configured sources for an
//!    asset and takes their weighted median, dropping sources that are stale, non-positive or far
//!    from the others, and reporting nothing when too few remain ([`source`]). Sources are
//!    exchange ticker responses (parsed here, fetched by the I/O crate), a seeded simulated path
//!    for devnet ([`simfeed`]) and a CSV replay ([`replay`]).
//! 2. **In consensus** (every validator, bit for bit): signed observations carried in blocks are
//!    folded into the [`aggregate::OracleState`], which keeps each validator's latest observation
//!    and, each block, computes the stake-weighted median of the fresh ones under guards
//!    (quorum of stake, deviation band, per-block clamp). [`history`] keeps the per-block index
//!    series and computes TWAPs over block time.
//!
//! | module | what it specifies |
//! |---|---|
//! | [`price`] | the price unit (nano-USD per unit) and asset ids |
//! | [`source`] | source readings, exchange response parsers, the per-validator weighted median |
//! | [`simfeed`] | the devnet price path: GBM with jumps, named crash scenarios, per-validator noise |
//! | [`replay`] | CSV replay of a (time, price) series |
//! | [`aggregate`] | the consensus step: guards, quorum, stake-weighted median, clamp |
//! | [`history`] | per-block index history and TWAP |
//!
//! ADR 0008 (`docs/adr/0008-oracle.md`) records the decisions.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod history;
pub mod price;
pub mod replay;
pub mod simfeed;
pub mod source;

pub use price::{AssetId, OraclePrice, NANO_PER_USD, PRICE_MAX};
