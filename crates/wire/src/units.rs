//! Integer units to human decimal strings and back.
//!
//! The chain counts prices in ticks, sizes in lots and money in quote atoms (1 USDC = 10^6
//! atoms). A market publishes `tick_size_nano` (price of one tick in 10^-9 USDC) and
//! `lot_size_nano` (one lot in 10^-9 units of the base asset), so
//!
//! ```text
//! human price = ticks × tick_size_nano / 10^9        human size = lots × lot_size_nano / 10^9
//! ```
//!
//! Every conversion here is exact (integer arithmetic, no floating point); parsing says how it
//! rounds in its name.

/// Nano units in one whole.
pub const NANO: u128 = 1_000_000_000;
/// Quote atoms in one USDC.
pub const ATOMS_PER_USDC: i128 = 1_000_000;
/// Most fractional digits a parsed decimal may carry (nano precision).
pub const FRACTION_DIGITS_MAX: usize = 9;

/// `value / 10^digits` as a decimal string without trailing zeros (`"12.5"`, `"-0.000001"`,
/// `"3"`).
fn scaled(negative: bool, magnitude: u128, digits: u32) -> String {
    let scale = 10u128.pow(digits);
    let whole = magnitude / scale;
    let frac = magnitude % scale;
    let sign = if negative && magnitude != 0 { "-" } else { "" };
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// `count` units of `unit_nano` nano each, as a decimal (e.g. 650123 ticks of 0.1 → `"65012.3"`).
pub fn units_to_decimal(count: u64, unit_nano: u64) -> String {
    scaled(false, u128::from(count) * u128::from(unit_nano), 9)
}

/// Quote atoms as a USDC decimal (`1_500_000` → `"1.5"`).
pub fn atoms_to_usdc(atoms: i128) -> String {
    scaled(atoms < 0, atoms.unsigned_abs(), 6)
}

/// Parts per billion as a decimal fraction (`100_000` → `"0.0001"`).
pub fn ppb_to_decimal(ppb: i64) -> String {
    scaled(ppb < 0, u128::from(ppb.unsigned_abs()), 9)
}

/// A non-negative decimal string (`"65012.3"`, `"0.001"`, `"5"`) in nano units, or `None` if
/// it is not a plain decimal with at most [`FRACTION_DIGITS_MAX`] fractional digits or does not
/// fit.
pub fn parse_nano(text: &str) -> Option<u128> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty()
        || !digits(whole)
        || !digits(frac)
        || frac.len() > FRACTION_DIGITS_MAX
    {
        return None;
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let frac_nano =
        frac_value.checked_mul(10u128.pow((FRACTION_DIGITS_MAX - frac.len()) as u32))?;
    whole.checked_mul(NANO)?.checked_add(frac_nano)
}

/// How [`decimal_to_units`] treats a value that is not a whole number of units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Refuse it.
    Exact,
    /// Round toward zero.
    Down,
    /// Round away from zero.
    Up,
}

/// A decimal string as a count of units of `unit_nano` nano each (a price in ticks, a size in
/// lots), rounded as asked; `None` if the text is not a decimal, the unit is zero, the value is
/// not whole under [`Rounding::Exact`], or it does not fit in `u64`.
pub fn decimal_to_units(text: &str, unit_nano: u64, rounding: Rounding) -> Option<u64> {
    let nano = parse_nano(text)?;
    let unit = u128::from(unit_nano);
    if unit == 0 {
        return None;
    }
    let (q, r) = (nano / unit, nano % unit);
    let q = match rounding {
        _ if r == 0 => q,
        Rounding::Exact => return None,
        Rounding::Down => q,
        Rounding::Up => q + 1,
    };
    u64::try_from(q).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(units_to_decimal(650_123, 100_000_000), "65012.3");
        assert_eq!(units_to_decimal(5, 1_000_000), "0.005");
        assert_eq!(units_to_decimal(0, 1_000_000), "0");
        assert_eq!(atoms_to_usdc(1_500_000), "1.5");
        assert_eq!(atoms_to_usdc(-1), "-0.000001");
        assert_eq!(atoms_to_usdc(i128::MIN), "-170141183460469231731687303715884.105728");
        assert_eq!(ppb_to_decimal(100_000), "0.0001");
        assert_eq!(ppb_to_decimal(-1_000_000_000), "-1");
    }

    #[test]
    fn parses() {
        assert_eq!(decimal_to_units("65012.3", 100_000_000, Rounding::Exact), Some(650_123));
        assert_eq!(decimal_to_units("65012.35", 100_000_000, Rounding::Exact), None);
        assert_eq!(decimal_to_units("65012.35", 100_000_000, Rounding::Down), Some(650_123));
        assert_eq!(decimal_to_units("65012.35", 100_000_000, Rounding::Up), Some(650_124));
        assert_eq!(decimal_to_units(".5", 1_000_000, Rounding::Exact), Some(500));
        for bad in ["", ".", "-1", "1e3", "1.0000000001", "1,5", " 1"] {
            assert_eq!(parse_nano(bad), None, "{bad}");
        }
        assert_eq!(decimal_to_units("1", 0, Rounding::Exact), None);
    }
}
