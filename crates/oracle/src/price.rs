//! The oracle's price unit and asset ids.
//!
//! An oracle price is an integer number of **nano-USD (1e-9 USD) per whole unit of the asset**:
//! BTC at $97,123.45 is `97_123_450_000_000`. Markets already express their tick size in the same
//! unit (`tick_size_nano`), so turning an oracle price into a market's index ticks is one
//! division (see [`OraclePrice::to_ticks`]). The largest accepted price is [`PRICE_MAX`] ($1e9
//! per unit): anything above it at a source boundary is treated as garbage, not clamped.
//! Resolution is 1e-9 USD, the engine's own resolution for tick sizes; an asset priced below
//! about $0.0001 keeps fewer than six significant digits.

use borsh::{BorshDeserialize, BorshSerialize};

/// Nano-USD per whole unit of an asset. Zero is never a valid price.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct OraclePrice(pub u64);

/// The largest price a source may report: $1e9 per unit, in nano-USD.
pub const PRICE_MAX: OraclePrice = OraclePrice(1_000_000_000_000_000_000);

/// Nano-USD per USD.
pub const NANO_PER_USD: u64 = 1_000_000_000;

impl OraclePrice {
    /// A price of `usd` whole dollars.
    pub const fn from_usd(usd: u64) -> OraclePrice {
        OraclePrice(usd * NANO_PER_USD)
    }

    /// Whether the price is usable at all: positive and at most [`PRICE_MAX`].
    pub const fn is_valid(self) -> bool {
        self.0 > 0 && self.0 <= PRICE_MAX.0
    }

    /// The price in ticks of `tick_size_nano` nano-USD each, rounded to the nearest tick (half
    /// up) and at least one tick. `None` if the tick size is zero.
    pub fn to_ticks(self, tick_size_nano: u64) -> Option<u64> {
        if tick_size_nano == 0 {
            return None;
        }
        let t = u128::from(tick_size_nano);
        let ticks = (u128::from(self.0) + t / 2) / t;
        Some(u64::try_from(ticks).unwrap_or(u64::MAX).max(1))
    }

    /// The price as a decimal USD string with nine decimals trimmed of trailing zeros
    /// (`97123.45`), for logs and APIs.
    pub fn to_decimal(self) -> String {
        let whole = self.0 / NANO_PER_USD;
        let frac = self.0 % NANO_PER_USD;
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl std::fmt::Display for OraclePrice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

/// An asset the oracle prices (index into the genesis asset list).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct AssetId(pub u16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_half_up_and_never_zero() {
        let p = OraclePrice(97_123_450_000_000);
        assert_eq!(p.to_ticks(100_000_000), Some(971_235));
        assert_eq!(OraclePrice(149_999_999).to_ticks(100_000_000), Some(1));
        assert_eq!(OraclePrice(150_000_000).to_ticks(100_000_000), Some(2));
        assert_eq!(OraclePrice(1).to_ticks(100_000_000), Some(1));
        assert_eq!(p.to_ticks(0), None);
    }

    #[test]
    fn decimal_rendering() {
        assert_eq!(OraclePrice(97_123_450_000_000).to_decimal(), "97123.45");
        assert_eq!(OraclePrice::from_usd(3).to_decimal(), "3");
        assert_eq!(OraclePrice(1).to_decimal(), "0.000000001");
        assert!(!OraclePrice(0).is_valid());
        assert!(PRICE_MAX.is_valid());
        assert!(!OraclePrice(PRICE_MAX.0 + 1).is_valid());
    }
}
