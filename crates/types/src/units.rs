//! Unit newtypes. Arithmetic is checked and says where it failed; mixed-unit products go through
//! named conversions.

use core::fmt;

/// A price in integer ticks of the market's tick size.
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct PriceTicks(pub u64);

/// A size in integer lots of the market's lot size.
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct QtyLots(pub u64);

/// An amount of quote currency in atoms (1e-6 USDC). Signed: balances, PnL and funding can be
/// negative.
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct Quote(pub i128);

/// A notional in tick-lots: the exact product `price_ticks * qty_lots`. Converting it to
/// [`Quote`] needs the market's tick and lot sizes and a rounding direction, which is the
/// engine's business; the book reports notionals exactly in this unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Notional(pub u128);

impl PriceTicks {
    /// The price as a raw tick count.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl QtyLots {
    /// Zero lots.
    pub const ZERO: QtyLots = QtyLots(0);

    /// The size as a raw lot count.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whether the size is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: QtyLots) -> Option<QtyLots> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(QtyLots(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` if `rhs > self`.
    pub const fn checked_sub(self, rhs: QtyLots) -> Option<QtyLots> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(QtyLots(v)),
            None => None,
        }
    }

    /// The smaller of two sizes.
    pub fn min(self, rhs: QtyLots) -> QtyLots {
        QtyLots(self.0.min(rhs.0))
    }
}

impl Notional {
    /// The exact notional of `qty` at `price`. Cannot overflow: a `u64 * u64` product fits in
    /// `u128`.
    pub const fn of(price: PriceTicks, qty: QtyLots) -> Notional {
        Notional(price.0 as u128 * qty.0 as u128)
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Notional) -> Option<Notional> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Notional(v)),
            None => None,
        }
    }
}

impl Quote {
    /// Zero quote atoms.
    pub const ZERO: Quote = Quote(0);

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Quote) -> Option<Quote> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Quote(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` on overflow.
    pub const fn checked_sub(self, rhs: Quote) -> Option<Quote> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Quote(v)),
            None => None,
        }
    }
}

impl fmt::Display for PriceTicks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for QtyLots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Quote {
    /// Quote atoms printed as a decimal amount of USDC with six decimals, e.g. `-1.500000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notional_is_exact_at_the_extremes() {
        let n = Notional::of(PriceTicks(u64::MAX), QtyLots(u64::MAX));
        assert_eq!(n.0, (u64::MAX as u128) * (u64::MAX as u128));
    }

    #[test]
    fn qty_checked_math() {
        assert_eq!(QtyLots(u64::MAX).checked_add(QtyLots(1)), None);
        assert_eq!(QtyLots(1).checked_sub(QtyLots(2)), None);
        assert_eq!(QtyLots(5).checked_sub(QtyLots(2)), Some(QtyLots(3)));
        assert_eq!(QtyLots(5).min(QtyLots(2)), QtyLots(2));
    }

    #[test]
    fn quote_displays_as_usdc() {
        assert_eq!(Quote(-1_500_000).to_string(), "-1.500000");
        assert_eq!(Quote(42).to_string(), "0.000042");
        assert_eq!(Quote(i128::MIN).checked_sub(Quote(1)), None);
    }
}
