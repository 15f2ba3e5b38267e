//! A market's contract specification and the conversions between ticks, lots and quote atoms.
//!
//! A market quotes prices in ticks and sizes in lots. One *tick-lot* (one lot at a price of one
//! tick) is worth a fixed whole number of quote atoms (1e-6 USDC):
//!
//! ```text
//! quote_atoms_per_tick_lot = tick_size (USDC per base unit) × lot_size (base units) × 1e6
//! notional(price, qty)     = price_ticks × qty_lots × quote_atoms_per_tick_lot      (exact)
//! ```
//!
//! For BTC with a $0.10 tick and a 0.0001 BTC lot, one tick-lot is $0.00001 = 10 atoms. Requiring
//! a whole number of atoms makes every notional, PnL and funding amount exact with no rounding at
//! all; the cost is that a market must choose its tick and lot so that their product is a multiple
//! of 1e-6 USDC (a coin quoted at $0.0001 with a $0.0000001 tick takes lots of at least 10 coins).
//! dYdX v4 imposes the same constraint through its quantum conversion exponent.
//!
//! The reverse conversions, from an amount of quote back to a price or a size, are not exact and
//! say which way they round.

use novation_types::{Notional, PriceTicks, QtyLots, Quote};

use crate::fixed::{mul_div_ceil, mul_div_floor, narrow, MathError, TryArith};

/// Why a [`ContractSpec`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A tick-lot must be worth at least one quote atom.
    #[error("quote_atoms_per_tick_lot must be at least 1")]
    ZeroTickLotValue,
}

/// The value of one tick-lot in quote atoms: the one number that turns ticks × lots into money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractSpec {
    quote_atoms_per_tick_lot: u64,
}

impl ContractSpec {
    /// A spec in which one tick-lot is worth `quote_atoms_per_tick_lot` quote atoms.
    pub const fn new(quote_atoms_per_tick_lot: u64) -> Result<ContractSpec, SpecError> {
        if quote_atoms_per_tick_lot == 0 {
            return Err(SpecError::ZeroTickLotValue);
        }
        Ok(ContractSpec { quote_atoms_per_tick_lot })
    }

    /// Quote atoms per tick-lot.
    pub const fn quote_atoms_per_tick_lot(&self) -> u64 {
        self.quote_atoms_per_tick_lot
    }

    /// Quote atoms of one lot at `price`: `price × quote_atoms_per_tick_lot`, exact. (A
    /// `u64 × u64` product fits in `u128` but not always in `i128`.)
    #[track_caller]
    pub fn lot_value(&self, price: PriceTicks) -> Result<Quote, MathError> {
        self.notional(price, QtyLots(1))
    }

    /// The change in value of `qty` lots when the price moves one tick:
    /// `qty × quote_atoms_per_tick_lot`, exact.
    #[track_caller]
    pub fn tick_value(&self, qty: QtyLots) -> Result<Quote, MathError> {
        self.notional(PriceTicks(1), qty)
    }

    /// The exact notional of `qty` lots at `price`, in quote atoms.
    #[track_caller]
    pub fn notional(&self, price: PriceTicks, qty: QtyLots) -> Result<Quote, MathError> {
        self.quote_of(Notional::of(price, qty))
    }

    /// A notional in tick-lots (as the book reports it) in quote atoms, exactly.
    #[track_caller]
    pub fn quote_of(&self, notional: Notional) -> Result<Quote, MathError> {
        let atoms = notional.0.try_mul(u128::from(self.quote_atoms_per_tick_lot))?;
        Ok(Quote(narrow(atoms)?))
    }

    /// The highest price at which `qty` lots are worth at most `notional`:
    /// `⌊notional / (qty × atoms)⌋`. Fails on a negative notional or zero size.
    #[track_caller]
    pub fn price_floor(&self, notional: Quote, qty: QtyLots) -> Result<PriceTicks, MathError> {
        let (n, d) = self.split(notional, qty.0)?;
        Ok(PriceTicks(narrow(mul_div_floor(n, 1, d)?)?))
    }

    /// The lowest price at which `qty` lots are worth at least `notional`:
    /// `⌈notional / (qty × atoms)⌉`. Fails on a negative notional or zero size.
    #[track_caller]
    pub fn price_ceil(&self, notional: Quote, qty: QtyLots) -> Result<PriceTicks, MathError> {
        let (n, d) = self.split(notional, qty.0)?;
        Ok(PriceTicks(narrow(mul_div_ceil(n, 1, d)?)?))
    }

    /// The most lots worth at most `notional` at `price`. Fails on a negative notional or a
    /// zero price.
    #[track_caller]
    pub fn qty_floor(&self, notional: Quote, price: PriceTicks) -> Result<QtyLots, MathError> {
        let (n, d) = self.split(notional, price.0)?;
        Ok(QtyLots(narrow(mul_div_floor(n, 1, d)?)?))
    }

    /// The fewest lots worth at least `notional` at `price`. Fails on a negative notional or a
    /// zero price.
    #[track_caller]
    pub fn qty_ceil(&self, notional: Quote, price: PriceTicks) -> Result<QtyLots, MathError> {
        let (n, d) = self.split(notional, price.0)?;
        Ok(QtyLots(narrow(mul_div_ceil(n, 1, d)?)?))
    }

    /// `(notional, factor × atoms)` as unsigned operands of a division.
    #[track_caller]
    fn split(&self, notional: Quote, factor: u64) -> Result<(u128, u128), MathError> {
        if notional.0 < 0 || factor == 0 {
            return Err(MathError::out_of_domain());
        }
        let d = u128::from(factor) * u128::from(self.quote_atoms_per_tick_lot);
        Ok((notional.0.unsigned_abs(), d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::MathErrorKind;
    use proptest::prelude::*;

    /// BTC: $0.10 tick, 0.0001 BTC lot → 10 atoms per tick-lot.
    fn btc() -> ContractSpec {
        ContractSpec::new(10).unwrap()
    }

    #[test]
    fn notional_is_exact() {
        // 0.5 BTC (5,000 lots) at $60,000.10 (600,001 ticks) = $30,000.05.
        let n = btc().notional(PriceTicks(600_001), QtyLots(5_000)).unwrap();
        assert_eq!(n, Quote(30_000_050_000));
        assert_eq!(btc().lot_value(PriceTicks(600_001)).unwrap(), Quote(6_000_010));
        assert_eq!(btc().tick_value(QtyLots(5_000)).unwrap(), Quote(50_000));
        assert_eq!(ContractSpec::new(0), Err(SpecError::ZeroTickLotValue));
    }

    #[test]
    fn reverse_conversions_round_as_named() {
        let s = btc();
        // 2 lots, $0.00005 = 50 atoms → 2.5 ticks.
        assert_eq!(s.price_floor(Quote(50), QtyLots(2)).unwrap(), PriceTicks(2));
        assert_eq!(s.price_ceil(Quote(50), QtyLots(2)).unwrap(), PriceTicks(3));
        assert_eq!(s.price_ceil(Quote(40), QtyLots(2)).unwrap(), PriceTicks(2));
        assert_eq!(s.qty_floor(Quote(50), PriceTicks(2)).unwrap(), QtyLots(2));
        assert_eq!(s.qty_ceil(Quote(50), PriceTicks(2)).unwrap(), QtyLots(3));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let s = btc();
        let kind = |r: Result<PriceTicks, MathError>| r.unwrap_err().kind();
        assert_eq!(kind(s.price_floor(Quote(-1), QtyLots(1))), MathErrorKind::OutOfDomain);
        assert_eq!(kind(s.price_floor(Quote(1), QtyLots(0))), MathErrorKind::OutOfDomain);
        assert_eq!(
            s.qty_floor(Quote(1), PriceTicks(0)).unwrap_err().kind(),
            MathErrorKind::OutOfDomain
        );
        // u64::MAX × u64::MAX × u64::MAX does not fit in i128, nor does u64::MAX².
        let big = ContractSpec::new(u64::MAX).unwrap();
        assert_eq!(
            big.lot_value(PriceTicks(u64::MAX)).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
        assert_eq!(big.tick_value(QtyLots(u64::MAX)).unwrap_err().kind(), MathErrorKind::Overflow);
        assert_eq!(
            big.notional(PriceTicks(u64::MAX), QtyLots(u64::MAX)).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
        assert_eq!(
            kind(ContractSpec::new(1).unwrap().price_floor(Quote(i128::MAX), QtyLots(1))),
            MathErrorKind::Overflow
        );
    }

    proptest! {
        #[test]
        fn price_round_trip_brackets(p in 1u64..1 << 40, q in 1u64..1 << 20, a in 1u64..1000, extra in 0i128..1000) {
            let s = ContractSpec::new(a).unwrap();
            let n = s.notional(PriceTicks(p), QtyLots(q)).unwrap();
            prop_assert_eq!(s.price_floor(n, QtyLots(q)).unwrap(), PriceTicks(p));
            prop_assert_eq!(s.price_ceil(n, QtyLots(q)).unwrap(), PriceTicks(p));
            let m = Quote(n.0 + extra);
            let lo = s.price_floor(m, QtyLots(q)).unwrap();
            let hi = s.price_ceil(m, QtyLots(q)).unwrap();
            prop_assert!(s.notional(lo, QtyLots(q)).unwrap() <= m);
            prop_assert!(s.notional(hi, QtyLots(q)).unwrap() >= m);
            prop_assert!(hi.0 - lo.0 <= 1);
        }
    }
}
