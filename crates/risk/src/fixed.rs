//! Integer arithmetic with the rounding direction in the name, and the [`Rate`] fraction type.
//!
//! # Products and quotients
//! `a × b / d` is the workhorse of every formula in this crate. [`mul_div_floor`] and
//! [`mul_div_ceil`] compute it for `u128` operands with a 256-bit intermediate product, so they
//! fail only when the *result* does not fit (or `d == 0`), never because `a × b` is large. The
//! signed variants round in a stated direction on the number line:
//!
//! | function | rounds | e.g. `-7 × 1 / 2` |
//! |---|---|---|
//! | [`mul_div_floor_signed`] | toward −∞ | −4 |
//! | [`mul_div_ceil_signed`] | toward +∞ | −3 |
//! | [`mul_div_trunc_signed`] | toward zero (symmetric: favours neither sign) | −3 |
//!
//! Every helper is `#[track_caller]`: a [`MathError`] records the source location of the first
//! caller outside this family of helpers, so an overflow deep in a formula names the line that
//! asked for it (Drift's `SafeMath` habit).
//!
//! # Rates: parts per billion
//! [`Rate`] is a signed fraction in parts per billion (1e-9), stored in an `i64`. We chose 1e-9
//! over parts per million because the numbers the protocol must represent exactly are finer than
//! 1e-6: the default interest rate is 0.01% per 8 h, i.e. 0.00125% = 12.5 ppm per hour, which
//! parts per million cannot hold; funding needs a resolution of at least 0.0001% (1 ppm), and
//! 1e-9 gives 1000× that, so dividing an 8-hour rate by 8, or pro-rating it to a partial
//! interval, loses nothing a trader could measure. An `i64` of ppb spans ±9.2e9, i.e. ±922
//! million percent, far beyond any fraction we store (margin fractions are at most 100%, funding
//! caps a few percent). Products of a rate with a quote amount go through `i128`/`u128` with
//! 256-bit intermediates, so the scale never limits the amounts it applies to.

use core::fmt;
use core::panic::Location;

use novation_types::Quote;

/// What went wrong in an arithmetic helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathErrorKind {
    /// The exact result does not fit the output type.
    Overflow,
    /// A divisor was zero.
    DivisionByZero,
    /// An input is outside the function's domain (a negative notional, a zero price, ...).
    OutOfDomain,
}

impl fmt::Display for MathErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MathErrorKind::Overflow => "arithmetic overflow",
            MathErrorKind::DivisionByZero => "division by zero",
            MathErrorKind::OutOfDomain => "input out of domain",
        })
    }
}

/// An arithmetic failure and where it was asked for. Compare [`MathError::kind`] in tests: the
/// location is diagnostic only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at {location}")]
pub struct MathError {
    kind: MathErrorKind,
    location: &'static Location<'static>,
}

impl MathError {
    /// An error of `kind` located at the caller.
    #[track_caller]
    pub fn new(kind: MathErrorKind) -> MathError {
        MathError { kind, location: Location::caller() }
    }

    /// An [`MathErrorKind::Overflow`] located at the caller.
    #[track_caller]
    pub fn overflow() -> MathError {
        MathError::new(MathErrorKind::Overflow)
    }

    /// A [`MathErrorKind::DivisionByZero`] located at the caller.
    #[track_caller]
    pub fn division_by_zero() -> MathError {
        MathError::new(MathErrorKind::DivisionByZero)
    }

    /// A [`MathErrorKind::OutOfDomain`] located at the caller.
    #[track_caller]
    pub fn out_of_domain() -> MathError {
        MathError::new(MathErrorKind::OutOfDomain)
    }

    /// What went wrong.
    pub fn kind(&self) -> MathErrorKind {
        self.kind
    }

    /// The source location that asked for the failed operation.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// Checked `+`, `-`, `*` that fail with a located [`MathError`] instead of `None`.
pub trait TryArith: Sized {
    /// `self + rhs`.
    fn try_add(self, rhs: Self) -> Result<Self, MathError>;
    /// `self - rhs`.
    fn try_sub(self, rhs: Self) -> Result<Self, MathError>;
    /// `self * rhs`.
    fn try_mul(self, rhs: Self) -> Result<Self, MathError>;
}

macro_rules! impl_try_arith {
    ($($t:ty),*) => {$(
        impl TryArith for $t {
            #[track_caller]
            fn try_add(self, rhs: Self) -> Result<Self, MathError> {
                match self.checked_add(rhs) {
                    Some(v) => Ok(v),
                    None => Err(MathError::overflow()),
                }
            }
            #[track_caller]
            fn try_sub(self, rhs: Self) -> Result<Self, MathError> {
                match self.checked_sub(rhs) {
                    Some(v) => Ok(v),
                    None => Err(MathError::overflow()),
                }
            }
            #[track_caller]
            fn try_mul(self, rhs: Self) -> Result<Self, MathError> {
                match self.checked_mul(rhs) {
                    Some(v) => Ok(v),
                    None => Err(MathError::overflow()),
                }
            }
        }
    )*};
}

impl_try_arith!(u64, i64, u128, i128);

/// Converts between integer types, failing with [`MathErrorKind::Overflow`] when the value does
/// not fit.
#[track_caller]
pub fn narrow<T, U>(value: U) -> Result<T, MathError>
where
    T: TryFrom<U>,
{
    match T::try_from(value) {
        Ok(v) => Ok(v),
        Err(_) => Err(MathError::overflow()),
    }
}

/// The full 256-bit product `a × b` as `(high, low)` 128-bit halves.
const fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each partial product is below 2^128; the middle column sums three values below 2^64.
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let low = (p00 & LOW) | ((mid & LOW) << 64);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

/// `(high·2^128 + low) / d` as `(quotient, remainder)`, or `None` if the quotient does not fit
/// in 128 bits. `d` must be non-zero.
const fn div_wide(high: u128, low: u128, d: u128) -> Option<(u128, u128)> {
    if high == 0 {
        return Some((low / d, low % d));
    }
    if high >= d {
        return None;
    }
    // Restoring long division over the low 128 bits, remainder invariant `r < d`.
    let mut r = high;
    let mut q = 0u128;
    let mut i = 128;
    while i > 0 {
        i -= 1;
        let carry = r >> 127;
        r = (r << 1) | ((low >> i) & 1);
        q <<= 1;
        // With the carry the true remainder is at least 2^128 > d; the wrapping subtraction
        // yields its exact low 128 bits because the difference is below d.
        if carry == 1 || r >= d {
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    Some((q, r))
}

/// `a × b / d` as `(quotient rounded down, remainder)`.
#[track_caller]
pub fn mul_div_rem(a: u128, b: u128, d: u128) -> Result<(u128, u128), MathError> {
    if d == 0 {
        return Err(MathError::division_by_zero());
    }
    let (high, low) = mul_wide(a, b);
    match div_wide(high, low, d) {
        Some(qr) => Ok(qr),
        None => Err(MathError::overflow()),
    }
}

/// `⌊a × b / d⌋`, exact for any operands whose result fits in `u128`.
#[track_caller]
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> Result<u128, MathError> {
    Ok(mul_div_rem(a, b, d)?.0)
}

/// `⌈a × b / d⌉`, exact for any operands whose result fits in `u128`.
#[track_caller]
pub fn mul_div_ceil(a: u128, b: u128, d: u128) -> Result<u128, MathError> {
    let (q, r) = mul_div_rem(a, b, d)?;
    if r == 0 {
        Ok(q)
    } else {
        q.try_add(1)
    }
}

/// Where a signed quotient goes when it is not exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Toward {
    NegInf,
    PosInf,
    Zero,
}

#[track_caller]
fn mul_div_signed(a: i128, b: i128, d: i128, toward: Toward) -> Result<i128, MathError> {
    if d == 0 {
        return Err(MathError::division_by_zero());
    }
    let (q, r) = mul_div_rem(a.unsigned_abs(), b.unsigned_abs(), d.unsigned_abs())?;
    let negative = (a < 0) ^ (b < 0) ^ (d < 0) && a != 0 && b != 0;
    let away_from_zero = r != 0
        && match toward {
            Toward::NegInf => negative,
            Toward::PosInf => !negative,
            Toward::Zero => false,
        };
    let magnitude = if away_from_zero { q.try_add(1)? } else { q };
    if negative {
        match 0i128.checked_sub_unsigned(magnitude) {
            Some(v) => Ok(v),
            None => Err(MathError::overflow()),
        }
    } else {
        narrow(magnitude)
    }
}

/// `a × b / d` rounded toward −∞, exact for any operands whose result fits in `i128`.
#[track_caller]
pub fn mul_div_floor_signed(a: i128, b: i128, d: i128) -> Result<i128, MathError> {
    mul_div_signed(a, b, d, Toward::NegInf)
}

/// `a × b / d` rounded toward +∞, exact for any operands whose result fits in `i128`.
#[track_caller]
pub fn mul_div_ceil_signed(a: i128, b: i128, d: i128) -> Result<i128, MathError> {
    mul_div_signed(a, b, d, Toward::PosInf)
}

/// `a × b / d` rounded toward zero, exact for any operands whose result fits in `i128`.
#[track_caller]
pub fn mul_div_trunc_signed(a: i128, b: i128, d: i128) -> Result<i128, MathError> {
    mul_div_signed(a, b, d, Toward::Zero)
}

/// A signed fraction in parts per billion: `Rate::from_ppb(1_000_000_000)` is 100%. Funding
/// rates, margin fractions, price bands. See the module doc for why 1e-9.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(i64);

impl Rate {
    /// Parts per billion in one whole (100%).
    pub const SCALE: i64 = 1_000_000_000;
    /// 0%.
    pub const ZERO: Rate = Rate(0);
    /// 100%.
    pub const ONE: Rate = Rate(Self::SCALE);

    /// A rate of `ppb` parts per billion.
    pub const fn from_ppb(ppb: i64) -> Rate {
        Rate(ppb)
    }

    /// A rate of `ppm` parts per million (1 ppm = 0.0001%).
    pub const fn from_ppm(ppm: i32) -> Rate {
        Rate(ppm as i64 * 1_000)
    }

    /// A rate of `bps` basis points (1 bp = 0.01%).
    pub const fn from_bps(bps: i32) -> Rate {
        Rate(bps as i64 * 100_000)
    }

    /// The rate in parts per billion.
    pub const fn ppb(self) -> i64 {
        self.0
    }

    /// `self + rhs`.
    #[track_caller]
    pub fn try_add(self, rhs: Rate) -> Result<Rate, MathError> {
        Ok(Rate(self.0.try_add(rhs.0)?))
    }

    /// `self - rhs`.
    #[track_caller]
    pub fn try_sub(self, rhs: Rate) -> Result<Rate, MathError> {
        Ok(Rate(self.0.try_sub(rhs.0)?))
    }

    /// `self` limited to `[low, high]`; `low` wins if the bounds are inverted.
    pub fn clamp_to(self, low: Rate, high: Rate) -> Rate {
        Rate(self.0.min(high.0).max(low.0))
    }

    /// Whether the rate is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The rate `num / den` rounded toward zero.
    #[track_caller]
    pub fn ratio_trunc(num: i128, den: i128) -> Result<Rate, MathError> {
        Ok(Rate(narrow(mul_div_trunc_signed(num, i128::from(Self::SCALE), den)?)?))
    }

    /// `amount × self` rounded toward −∞.
    #[track_caller]
    pub fn of_quote_floor(self, amount: Quote) -> Result<Quote, MathError> {
        Ok(Quote(mul_div_floor_signed(amount.0, i128::from(self.0), i128::from(Self::SCALE))?))
    }

    /// `amount × self` rounded toward +∞.
    #[track_caller]
    pub fn of_quote_ceil(self, amount: Quote) -> Result<Quote, MathError> {
        Ok(Quote(mul_div_ceil_signed(amount.0, i128::from(self.0), i128::from(Self::SCALE))?))
    }
}

impl fmt::Display for Rate {
    /// The rate as a percentage with seven decimals (its full precision), e.g. `0.9500000%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:07}%", abs / 10_000_000, abs % 10_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn floor_and_ceil_round_the_named_way() {
        assert_eq!(mul_div_floor(7, 1, 2).unwrap(), 3);
        assert_eq!(mul_div_ceil(7, 1, 2).unwrap(), 4);
        assert_eq!(mul_div_ceil(8, 1, 2).unwrap(), 4);
        assert_eq!(mul_div_floor(0, 5, 3).unwrap(), 0);
        assert_eq!(mul_div_floor_signed(-7, 1, 2).unwrap(), -4);
        assert_eq!(mul_div_ceil_signed(-7, 1, 2).unwrap(), -3);
        assert_eq!(mul_div_trunc_signed(-7, 1, 2).unwrap(), -3);
        assert_eq!(mul_div_floor_signed(7, 1, 2).unwrap(), 3);
        assert_eq!(mul_div_ceil_signed(7, 1, 2).unwrap(), 4);
        assert_eq!(mul_div_trunc_signed(7, 1, 2).unwrap(), 3);
        // Sign of the divisor counts too.
        assert_eq!(mul_div_floor_signed(7, 1, -2).unwrap(), -4);
        assert_eq!(mul_div_ceil_signed(-7, -1, -2).unwrap(), -3);
        assert_eq!(mul_div_floor_signed(0, -1, 3).unwrap(), 0);
    }

    #[test]
    fn wide_intermediate_products_are_exact() {
        // (2^127) × 6 / 4 overflows 128 bits in the product but not in the result.
        let a = 1u128 << 127;
        assert_eq!(mul_div_floor(a, 6, 4).unwrap(), 3 * (1u128 << 126));
        assert_eq!(mul_div_floor(u128::MAX, u128::MAX, u128::MAX).unwrap(), u128::MAX);
        assert_eq!(mul_div_ceil(u128::MAX, u128::MAX - 1, u128::MAX).unwrap(), u128::MAX - 1);
        assert_eq!(mul_div_floor_signed(i128::MIN, i128::MAX, i128::MAX).unwrap(), i128::MIN);
        assert_eq!(
            mul_div_ceil_signed(i128::MIN, 1, 1).unwrap(),
            i128::MIN,
            "the most negative value is reachable"
        );
    }

    #[test]
    fn failures_are_typed_and_located() {
        let e = mul_div_floor(1, 1, 0).unwrap_err();
        assert_eq!(e.kind(), MathErrorKind::DivisionByZero);
        assert!(e.location().file().ends_with("fixed.rs"));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1).unwrap_err().kind(), MathErrorKind::Overflow);
        assert_eq!(mul_div_ceil(u128::MAX, 3, 2).unwrap_err().kind(), MathErrorKind::Overflow);
        assert_eq!(
            mul_div_floor_signed(i128::MIN, -1, 1).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
        assert_eq!(
            mul_div_floor_signed(i128::MIN, 1, -1).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
        assert_eq!(
            mul_div_trunc_signed(1, 1, 0).unwrap_err().kind(),
            MathErrorKind::DivisionByZero
        );
        assert_eq!(i128::MAX.try_add(1).unwrap_err().kind(), MathErrorKind::Overflow);
        assert_eq!(0u64.try_sub(1).unwrap_err().kind(), MathErrorKind::Overflow);
        assert_eq!(
            narrow::<u64, u128>(u128::from(u64::MAX) + 1).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
        let shown = mul_div_floor(1, 1, 0).unwrap_err().to_string();
        assert!(shown.starts_with("division by zero at "), "{shown}");
    }

    #[test]
    fn rates_construct_and_display() {
        assert_eq!(Rate::from_bps(1), Rate::from_ppb(100_000));
        assert_eq!(Rate::from_ppm(1), Rate::from_ppb(1_000));
        assert_eq!(Rate::from_bps(10_000), Rate::ONE);
        assert_eq!(Rate::from_bps(95).to_string(), "0.9500000%");
        assert_eq!(Rate::from_ppb(-12_500).to_string(), "-0.0012500%");
        assert_eq!(Rate::ONE.to_string(), "100.0000000%");
        assert_eq!(
            Rate::from_bps(7).clamp_to(Rate::from_bps(-5), Rate::from_bps(5)),
            Rate::from_bps(5)
        );
        assert_eq!(Rate::ratio_trunc(-1, 3).unwrap(), Rate::from_ppb(-333_333_333));
        assert_eq!(Rate::ratio_trunc(i128::MAX, 1).unwrap_err().kind(), MathErrorKind::Overflow);
    }

    #[test]
    fn rates_apply_to_quote_with_named_rounding() {
        let r = Rate::from_ppb(1); // 1e-9
        assert_eq!(r.of_quote_floor(Quote(1)).unwrap(), Quote(0));
        assert_eq!(r.of_quote_ceil(Quote(1)).unwrap(), Quote(1));
        assert_eq!(r.of_quote_floor(Quote(-1)).unwrap(), Quote(-1));
        assert_eq!(r.of_quote_ceil(Quote(-1)).unwrap(), Quote(0));
        assert_eq!(Rate::from_bps(5).of_quote_ceil(Quote(1_000_000)).unwrap(), Quote(500));
        assert_eq!(
            Rate::from_ppb(i64::MAX).of_quote_floor(Quote(i128::MAX)).unwrap_err().kind(),
            MathErrorKind::Overflow
        );
    }

    /// Reference: exact rational arithmetic on values small enough for plain i128.
    fn reference_floor(a: i128, b: i128, d: i128) -> i128 {
        let p = a * b;
        p.div_euclid(d) - if d < 0 && p.rem_euclid(d) != 0 { 1 } else { 0 }
    }

    proptest! {
        #[test]
        fn unsigned_matches_narrow_reference(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
            let p = u128::from(a) * u128::from(b);
            let d = u128::from(d);
            prop_assert_eq!(mul_div_floor(a.into(), b.into(), d).unwrap(), p / d);
            prop_assert_eq!(mul_div_ceil(a.into(), b.into(), d).unwrap(), p.div_ceil(d));
        }

        #[test]
        fn wide_division_inverts_multiplication(a in any::<u128>(), b in 1u128.., d in 1u128..) {
            // (a × b) / b == a whenever it fits; remainder identity in general.
            prop_assert_eq!(mul_div_floor(a, b, b).unwrap(), a);
            if let Ok((q, r)) = mul_div_rem(a, b, d) {
                prop_assert!(r < d);
                // q × d + r == a × b, checked in 256 bits.
                let (qh, ql) = mul_wide(q, d);
                let (low, carry) = ql.overflowing_add(r);
                prop_assert_eq!((qh + u128::from(carry), low), mul_wide(a, b));
            }
        }

        #[test]
        fn signed_matches_reference(a in any::<i64>(), b in any::<i64>(), d in any::<i64>()) {
            prop_assume!(d != 0);
            let (a, b, d) = (i128::from(a), i128::from(b), i128::from(d));
            let floor = mul_div_floor_signed(a, b, d).unwrap();
            let ceil = mul_div_ceil_signed(a, b, d).unwrap();
            let trunc = mul_div_trunc_signed(a, b, d).unwrap();
            prop_assert_eq!(floor, reference_floor(a, b, d));
            let exact = (a * b) % d == 0;
            prop_assert_eq!(ceil, if exact { floor } else { floor + 1 });
            prop_assert_eq!(trunc, (a * b) / d);
        }

        #[test]
        fn signed_never_panics(a in any::<i128>(), b in any::<i128>(), d in any::<i128>()) {
            let _ = mul_div_floor_signed(a, b, d);
            let _ = mul_div_ceil_signed(a, b, d);
            let _ = mul_div_trunc_signed(a, b, d);
        }
    }
}
