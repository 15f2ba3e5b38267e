//! Human decimals ↔ integer units, with exact integer math and named rounding.
//!
//! # Units
//!
//! | quantity | on chain | human value |
//! |---|---|---|
//! | price | [`PriceTicks`] | `ticks × tick_size_nano / 1e9` USDC |
//! | size | [`QtyLots`] | `lots × lot_size_nano / 1e9` units of the base asset |
//! | cash | [`Quote`] atoms | `atoms / 1e6` USDC |
//!
//! A market publishes its `tick_size_nano` and `lot_size_nano`; a [`Grid`] is one of them.
//!
//! # Decimals
//!
//! [`Decimal::parse`] accepts `DIGITS [ "." DIGITS ]` or `"." DIGITS` (no sign, exponent,
//! separators or spaces), at most [`DIGITS_MAX`] digits in all and [`SCALE_MAX`] after the point.
//! The value is kept exactly as a digit string and a scale, so nothing is lost before a value
//! is put on a grid, and every conversion is integer arithmetic on `u128` (no floats touch
//! money).
//!
//! # Rounding
//!
//! [`Grid::to_units`] divides exactly; a value off the grid is rounded by an explicit
//! [`RoundMode`], and the answer says whether it rounded ([`Rounded::rounded`]) and what the
//! neighbours on the grid are ([`Rounded::below`], [`Rounded::above`]), so that a caller can
//! refuse with "nearest valid values are …" or round and say so. [`RoundMode::Exact`] refuses
//! any rounding.
//!
//! Which way is in the trader's favour: a buy limit rounded **down** never pays more than asked,
//! a sell limit rounded **up** never sells for less than asked ([`RoundMode::price_safe`]), and a
//! size rounded **down** never trades more than asked ([`RoundMode::SIZE_SAFE`]). The SDK never
//! rounds the other way unless the caller names that mode.

use std::fmt;

use novation_types::{PriceTicks, QtyLots, Quote, Side};

/// Most digits a decimal may have (so that `digits × 1e9` fits a `u128` with room).
pub const DIGITS_MAX: usize = 28;
/// Most digits after the decimal point.
pub const SCALE_MAX: u32 = 18;
/// Nano-units per unit (prices and sizes are published in 1e-9).
pub const NANO_PER_UNIT: u128 = 1_000_000_000;
/// Quote atoms per USDC.
pub const ATOMS_PER_USDC: u128 = 1_000_000;
/// Decimals of a quote atom.
pub const USDC_DECIMALS: u32 = 6;

/// Why a decimal string or a conversion was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitsError {
    /// The string is empty.
    #[error("empty number")]
    Empty,
    /// A character that is not part of the grammar.
    #[error("'{text}' is not a decimal number (unexpected '{found}' at position {at}); write it like 12.5")]
    Malformed { text: String, at: usize, found: char },
    /// Too many digits.
    #[error("'{text}' has more than {DIGITS_MAX} digits")]
    TooLong { text: String },
    /// Too many decimals.
    #[error("'{text}' has more than {SCALE_MAX} decimals")]
    TooManyDecimals { text: String },
    /// Zero where a positive value is needed.
    #[error("{what} must be positive")]
    Zero { what: &'static str },
    /// The value is too large for its unit.
    #[error("{what} {text} is too large")]
    TooLarge { what: &'static str, text: String },
    /// The value is not a whole number of the unit and [`RoundMode::Exact`] was asked.
    #[error(
        "{what} {text} is not a multiple of {step}: nearest valid values are {below} and {above}"
    )]
    OffGrid { what: &'static str, text: String, step: String, below: String, above: String },
    /// The value rounds to zero units.
    #[error("{what} {text} is below the smallest step {step}")]
    BelowStep { what: &'static str, text: String, step: String },
    /// The value is below a minimum (a market's smallest order).
    #[error("{what} {text} is below the market minimum {min}")]
    BelowMinimum { what: &'static str, text: String, min: String },
    /// A grid step of zero (a market with no tick or lot size).
    #[error("grid step must be positive")]
    ZeroStep,
}

/// A non-negative decimal, exactly: `digits / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    digits: u128,
    scale: u32,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal { digits: 0, scale: 0 };

    /// `digits / 10^scale` (`scale` at most [`SCALE_MAX`]).
    pub fn new(digits: u128, scale: u32) -> Option<Decimal> {
        (scale <= SCALE_MAX).then_some(Decimal { digits, scale })
    }

    /// Parses `DIGITS [ "." DIGITS ]` or `"." DIGITS` (see the module doc).
    pub fn parse(text: &str) -> Result<Decimal, UnitsError> {
        if text.is_empty() {
            return Err(UnitsError::Empty);
        }
        let malformed =
            |at: usize, found: char| UnitsError::Malformed { text: text.to_string(), at, found };
        let mut digits: u128 = 0;
        let mut count = 0usize;
        let mut scale: u32 = 0;
        let mut point = false;
        for (at, c) in text.char_indices() {
            match c {
                '.' if !point => point = true,
                '0'..='9' => {
                    count += 1;
                    if count > DIGITS_MAX {
                        return Err(UnitsError::TooLong { text: text.to_string() });
                    }
                    if point {
                        scale += 1;
                        if scale > SCALE_MAX {
                            return Err(UnitsError::TooManyDecimals { text: text.to_string() });
                        }
                    }
                    // At most DIGITS_MAX digits: below 10^28, no overflow.
                    digits = digits * 10 + u128::from(c as u8 - b'0');
                }
                other => return Err(malformed(at, other)),
            }
        }
        if count == 0 {
            let found = text.chars().next().unwrap_or('.');
            return Err(malformed(0, found));
        }
        Ok(Decimal { digits, scale })
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.digits == 0
    }

    /// The value in `10^-decimals` units, if it is a whole number of them.
    pub fn to_scaled_exact(&self, decimals: u32) -> Option<u128> {
        if self.scale <= decimals {
            self.digits.checked_mul(10u128.checked_pow(decimals - self.scale)?)
        } else {
            let div = 10u128.pow(self.scale - decimals);
            self.digits.is_multiple_of(div).then(|| self.digits / div)
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.digits, self.scale, 0))
    }
}

impl std::str::FromStr for Decimal {
    type Err = UnitsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

/// How to put an off-grid value on the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundMode {
    /// Refuse anything off the grid.
    Exact,
    /// Toward zero.
    Down,
    /// Away from zero.
    Up,
    /// To the nearest grid value, halves up.
    Nearest,
}

impl RoundMode {
    /// Sizes: down, so that an order never trades more than asked.
    pub const SIZE_SAFE: RoundMode = RoundMode::Down;

    /// Limit prices in the trader's favour: a buy rounds down (never pays more than asked), a
    /// sell rounds up (never sells for less).
    pub const fn price_safe(side: Side) -> RoundMode {
        match side {
            Side::Buy => RoundMode::Down,
            Side::Sell => RoundMode::Up,
        }
    }
}

/// The result of putting a value on a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    /// The chosen number of grid steps.
    pub units: u128,
    /// Whether the value was off the grid (so `units` is not exactly it).
    pub rounded: bool,
    /// The grid value at or below the input.
    pub below: u128,
    /// The grid value at or above the input.
    pub above: u128,
}

/// A grid of values `n × step_nano / 1e9` (a market's tick or lot size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    step_nano: u64,
}

impl Grid {
    /// A grid of step `step_nano` (1e-9 units); `None` for zero.
    pub const fn new(step_nano: u64) -> Option<Grid> {
        if step_nano == 0 {
            None
        } else {
            Some(Grid { step_nano })
        }
    }

    /// The step in 1e-9 units.
    pub const fn step_nano(&self) -> u64 {
        self.step_nano
    }

    /// Decimals needed to show any value of the grid exactly.
    pub fn decimals(&self) -> u32 {
        let mut step = self.step_nano;
        let mut decimals = 9;
        while decimals > 0 && step.is_multiple_of(10) {
            step /= 10;
            decimals -= 1;
        }
        decimals
    }

    /// The value of `units` steps as a decimal string with [`Grid::decimals`] decimals.
    pub fn format(&self, units: u128) -> String {
        match units.checked_mul(u128::from(self.step_nano)) {
            Some(nano) => format_scaled(nano, 9, self.decimals()),
            None => format!("{units} steps of {}", self.format(1)),
        }
    }

    /// `value / step`, rounded by `mode` (see [`Rounded`]). `Err(OffGrid)` only for
    /// [`RoundMode::Exact`] with an off-grid value; `what` names the quantity in errors.
    pub fn to_units(
        &self,
        value: &Decimal,
        mode: RoundMode,
        what: &'static str,
    ) -> Result<Rounded, UnitsError> {
        // value / step = digits × 1e9 / (10^scale × step_nano). digits < 10^28, so the
        // numerator is below 10^37; 10^18 × u64::MAX is below 2 × 10^37: both fit a u128.
        let num = value.digits * NANO_PER_UNIT;
        let den = 10u128.pow(value.scale) * u128::from(self.step_nano);
        let below = num / den;
        let rem = num % den;
        let above = if rem == 0 { below } else { below + 1 };
        let rounded = rem != 0;
        let units = match mode {
            RoundMode::Exact if rounded => {
                return Err(UnitsError::OffGrid {
                    what,
                    text: value.to_string(),
                    step: self.format(1),
                    below: self.format(below),
                    above: self.format(above),
                })
            }
            RoundMode::Exact | RoundMode::Down => below,
            RoundMode::Up => above,
            RoundMode::Nearest => {
                if rem * 2 >= den {
                    above
                } else {
                    below
                }
            }
        };
        Ok(Rounded { units, rounded, below, above })
    }
}

/// A price on a market's tick grid, and whether it was rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundedPrice {
    /// The price.
    pub ticks: PriceTicks,
    /// Whether the input was off the grid.
    pub rounded: bool,
}

/// A size on a market's lot grid, and whether it was rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundedSize {
    /// The size.
    pub lots: QtyLots,
    /// Whether the input was off the grid.
    pub rounded: bool,
}

/// A positive price in ticks of `tick` (see the module doc for `mode`).
pub fn round_price(
    value: &Decimal,
    tick: Grid,
    mode: RoundMode,
) -> Result<RoundedPrice, UnitsError> {
    let r = positive_units(value, tick, mode, "price")?;
    Ok(RoundedPrice { ticks: PriceTicks(r.0), rounded: r.1 })
}

/// A positive size in lots of `lot` (see the module doc for `mode`).
pub fn round_size(value: &Decimal, lot: Grid, mode: RoundMode) -> Result<RoundedSize, UnitsError> {
    let r = positive_units(value, lot, mode, "size")?;
    Ok(RoundedSize { lots: QtyLots(r.0), rounded: r.1 })
}

fn positive_units(
    value: &Decimal,
    grid: Grid,
    mode: RoundMode,
    what: &'static str,
) -> Result<(u64, bool), UnitsError> {
    if value.is_zero() {
        return Err(UnitsError::Zero { what });
    }
    let r = grid.to_units(value, mode, what)?;
    if r.units == 0 {
        return Err(UnitsError::BelowStep { what, text: value.to_string(), step: grid.format(1) });
    }
    let units = u64::try_from(r.units)
        .map_err(|_| UnitsError::TooLarge { what, text: value.to_string() })?;
    Ok((units, r.rounded))
}

/// A positive USDC amount in quote atoms; more than six decimals is refused (there is no
/// smaller unit to round to that the caller did not write).
pub fn parse_usdc(text: &str) -> Result<Quote, UnitsError> {
    let value = Decimal::parse(text)?;
    if value.is_zero() {
        return Err(UnitsError::Zero { what: "amount" });
    }
    let atoms = match value.to_scaled_exact(USDC_DECIMALS) {
        Some(atoms) => atoms,
        None => {
            // Only a value with more than six decimals is not a whole number of atoms.
            let div = 10u128.pow(value.scale.saturating_sub(USDC_DECIMALS));
            let below = value.digits / div;
            return Err(UnitsError::OffGrid {
                what: "amount",
                text: text.to_string(),
                step: "0.000001".into(),
                below: format_scaled(below, USDC_DECIMALS, USDC_DECIMALS),
                above: format_scaled(below + 1, USDC_DECIMALS, USDC_DECIMALS),
            });
        }
    };
    i128::try_from(atoms)
        .map(Quote)
        .map_err(|_| UnitsError::TooLarge { what: "amount", text: text.to_string() })
}

/// Quote atoms as USDC with at least two and at most six decimals (`-12.5` → `-12.50`).
pub fn format_usdc(atoms: Quote) -> String {
    let abs = atoms.0.unsigned_abs();
    let text = format_scaled(abs, USDC_DECIMALS, 2);
    if atoms.0 < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// `value / 10^scale` as a decimal string with trailing zeros trimmed down to `min_decimals`.
pub fn format_scaled(value: u128, scale: u32, min_decimals: u32) -> String {
    let pow = 10u128.pow(scale);
    let int = value / pow;
    let frac = value % pow;
    let mut frac_text = format!("{frac:0width$}", width = scale as usize);
    while frac_text.len() > min_decimals as usize && frac_text.ends_with('0') {
        frac_text.pop();
    }
    if frac_text.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac_text}")
    }
}

/// A signed quantity of `step`-sized units as a signed decimal (positions: negative is short).
pub fn format_signed(units: i128, grid: Grid) -> String {
    let text = grid.format(units.unsigned_abs());
    if units < 0 {
        format!("-{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("decimal")
    }

    const TICK: Grid = Grid { step_nano: 100_000_000 }; // $0.1
    const LOT: Grid = Grid { step_nano: 1_000_000 }; // 0.001

    #[test]
    fn parses_the_grammar_and_nothing_else() {
        assert_eq!(d("12.5"), Decimal { digits: 125, scale: 1 });
        assert_eq!(d(".5"), Decimal { digits: 5, scale: 1 });
        assert_eq!(d("7."), Decimal { digits: 7, scale: 0 });
        assert_eq!(d("007"), Decimal { digits: 7, scale: 0 });
        for bad in ["", ".", "-1", "+1", "1e5", "1,000", "1 000", "1.2.3", "NaN", "0x10", "１"] {
            assert!(Decimal::parse(bad).is_err(), "{bad} parsed");
        }
        assert!(matches!(Decimal::parse(&"9".repeat(29)), Err(UnitsError::TooLong { .. })));
        assert!(matches!(
            Decimal::parse(&format!("0.{}", "1".repeat(19))),
            Err(UnitsError::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn prices_round_toward_the_trader_and_say_so() {
        let buy = round_price(&d("100000.05"), TICK, RoundMode::price_safe(Side::Buy)).unwrap();
        assert_eq!(buy, RoundedPrice { ticks: PriceTicks(1_000_000), rounded: true });
        let sell = round_price(&d("100000.05"), TICK, RoundMode::price_safe(Side::Sell)).unwrap();
        assert_eq!(sell, RoundedPrice { ticks: PriceTicks(1_000_001), rounded: true });
        let exact = round_price(&d("100000.1"), TICK, RoundMode::Exact).unwrap();
        assert_eq!(exact, RoundedPrice { ticks: PriceTicks(1_000_001), rounded: false });
    }

    #[test]
    fn exact_mode_names_the_nearest_valid_values() {
        let err = round_price(&d("100000.05"), TICK, RoundMode::Exact).unwrap_err();
        assert_eq!(
            err.to_string(),
            "price 100000.05 is not a multiple of 0.1: nearest valid values are 100000.0 and 100000.1"
        );
        let err = round_size(&d("0.0015"), LOT, RoundMode::Exact).unwrap_err();
        assert_eq!(
            err.to_string(),
            "size 0.0015 is not a multiple of 0.001: nearest valid values are 0.001 and 0.002"
        );
    }

    #[test]
    fn sizes_below_one_lot_and_zero_are_refused() {
        assert_eq!(
            round_size(&d("0.0004"), LOT, RoundMode::Down).unwrap_err().to_string(),
            "size 0.0004 is below the smallest step 0.001"
        );
        assert!(matches!(round_size(&d("0"), LOT, RoundMode::Down), Err(UnitsError::Zero { .. })));
        assert!(matches!(
            round_size(&d("99999999999999999999"), LOT, RoundMode::Down),
            Err(UnitsError::TooLarge { .. })
        ));
    }

    #[test]
    fn usdc_is_exact_to_six_decimals() {
        assert_eq!(parse_usdc("12.5"), Ok(Quote(12_500_000)));
        assert_eq!(parse_usdc("0.000001"), Ok(Quote(1)));
        assert!(parse_usdc("0.0000015").is_err());
        assert!(parse_usdc("0").is_err());
        assert_eq!(format_usdc(Quote(12_500_000)), "12.50");
        assert_eq!(format_usdc(Quote(-1)), "-0.000001");
        assert_eq!(format_usdc(Quote(3_000_000)), "3.00");
    }

    #[test]
    fn grids_show_their_own_decimals() {
        assert_eq!(TICK.decimals(), 1);
        assert_eq!(TICK.format(1_000_001), "100000.1");
        assert_eq!(TICK.format(1_000_000), "100000.0");
        assert_eq!(LOT.format(1500), "1.500");
        assert_eq!(Grid { step_nano: 1_000_000_000 }.format(3), "3");
        assert_eq!(Grid { step_nano: 250_000_000 }.format(3), "0.75");
        assert_eq!(format_signed(-1500, LOT), "-1.500");
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (0u128..10u128.pow(20), 0u32..=12).prop_map(|(digits, scale)| Decimal { digits, scale })
    }

    fn grid() -> impl Strategy<Value = Grid> {
        prop_oneof![
            (1u64..=9, 0u32..=10).prop_map(|(m, e)| Grid { step_nano: m * 10u64.pow(e) }),
            (1u64..=u64::from(u32::MAX)).prop_map(|step_nano| Grid { step_nano }),
        ]
    }

    /// `units × step` compared with `value`, exactly (both scaled to 10^-(9+scale)).
    fn cmp(units: u128, grid: Grid, value: &Decimal) -> std::cmp::Ordering {
        let lhs = units * u128::from(grid.step_nano) * 10u128.pow(value.scale);
        let rhs = value.digits * NANO_PER_UNIT;
        lhs.cmp(&rhs)
    }

    proptest! {
        #[test]
        fn formatted_grid_values_parse_back_exactly(units in 0u128..10u128.pow(12), g in grid()) {
            let text = g.format(units);
            let back = g.to_units(&d(&text), RoundMode::Exact, "x").expect("on grid");
            prop_assert_eq!(back.units, units);
            prop_assert!(!back.rounded);
        }

        #[test]
        fn decimals_print_and_parse_back(v in decimal()) {
            let back = d(&v.to_string());
            prop_assert_eq!(g_scaled(back), g_scaled(v));
        }

        #[test]
        fn rounding_is_flagged_and_never_against_the_trader(v in decimal(), g in grid()) {
            for side in [Side::Buy, Side::Sell] {
                let r = g.to_units(&v, RoundMode::price_safe(side), "price").unwrap();
                let ord = cmp(r.units, g, &v);
                // Unflagged means exact; flagged means strictly off-grid.
                prop_assert_eq!(r.rounded, ord != std::cmp::Ordering::Equal);
                match side {
                    Side::Buy => prop_assert!(ord.is_le(), "a buy never pays more"),
                    Side::Sell => prop_assert!(ord.is_ge(), "a sell never sells for less"),
                }
            }
            let size = g.to_units(&v, RoundMode::SIZE_SAFE, "size").unwrap();
            prop_assert!(cmp(size.units, g, &v).is_le(), "a size never grows");
            prop_assert!(size.below <= size.above && size.above - size.below <= 1);
            let exact = g.to_units(&v, RoundMode::Exact, "x");
            prop_assert_eq!(exact.is_ok(), !size.rounded);
        }
    }

    /// A decimal's value as (digits × 10^(18 - scale)) for comparing equal values of different
    /// scales.
    fn g_scaled(v: Decimal) -> u128 {
        v.digits * 10u128.pow(SCALE_MAX - v.scale)
    }
}
