use super::*;
use crate::fixed::MathErrorKind;
use proptest::prelude::*;

const USD: i128 = 1_000_000;

/// Hyperliquid BTC: 40× up to $150M of notional, then 20×.
fn btc() -> MarginTiers {
    MarginTiers::new(&[
        MarginTier::from_max_leverage(Quote(0), 40).unwrap(),
        MarginTier::from_max_leverage(Quote(150_000_000 * USD), 20).unwrap(),
    ])
    .unwrap()
}

fn tier(lower: i128, initial_ppb: i64, maintenance_ppb: i64) -> MarginTier {
    MarginTier {
        notional_lower: Quote(lower),
        initial: Rate::from_ppb(initial_ppb),
        maintenance: Rate::from_ppb(maintenance_ppb),
    }
}

#[test]
fn hyperliquid_btc_vector() {
    let t = btc();
    assert_eq!(t.base_initial(), Rate::from_bps(250));
    assert_eq!(t.max_leverage_floor(), 40);
    let first = t.tiers().next().unwrap();
    assert_eq!(first.maintenance, Rate::from_bps(125));
    // $100k: 2.5% / 1.25%.
    assert_eq!(t.initial_margin(Quote(100_000 * USD)).unwrap(), Quote(2_500 * USD));
    assert_eq!(t.maintenance_margin(Quote(100_000 * USD)).unwrap(), Quote(1_250 * USD));
    // $200M: 150M × 1.25% + 50M × 2.5% = $3.125M maintenance; twice that initial.
    let n = Quote(200_000_000 * USD);
    assert_eq!(t.maintenance_margin(n).unwrap(), Quote(3_125_000 * USD));
    assert_eq!(t.initial_margin(n).unwrap(), Quote(6_250_000 * USD));
    assert_eq!(t.tier_index(n).unwrap(), 1);
    assert_eq!(t.tier_index(Quote(150_000_000 * USD - 1)).unwrap(), 0);
    assert_eq!(t.tier_index(Quote(150_000_000 * USD)).unwrap(), 1);
    let (ided, mded) = t.deductions_nano_atoms(1).unwrap();
    assert_eq!(mded, 150_000_000 * 1_000_000 * 12_500_000);
    assert_eq!(ided, 2 * mded);
    assert_eq!(t.deductions_nano_atoms(2), None);
}

#[test]
fn requirements_round_up() {
    let t = btc();
    assert_eq!(t.maintenance_margin(Quote(0)).unwrap(), Quote(0));
    assert_eq!(t.maintenance_margin(Quote(1)).unwrap(), Quote(1));
    assert_eq!(t.initial_margin(Quote(1)).unwrap(), Quote(1));
    // 80 atoms × 1.25% = exactly 1; 81 atoms → 1.0125 → 2.
    assert_eq!(t.maintenance_margin(Quote(80)).unwrap(), Quote(1));
    assert_eq!(t.maintenance_margin(Quote(81)).unwrap(), Quote(2));
    // Across the deduction: the fractional parts of N × r and of ded are compared exactly.
    let odd = MarginTiers::new(&[tier(0, 30_000_000, 10_000_000), tier(7, 70_000_001, 30_000_003)])
        .unwrap();
    // N = 10: 10 × 0.030000003 − 7 × 0.020000003 = 0.30000003 − 0.140000021 = 0.160000009 → 1.
    assert_eq!(odd.maintenance_margin(Quote(10)).unwrap(), Quote(1));
    assert_eq!(odd.maintenance_margin_in_tier(1, Quote(7)).unwrap(), Quote(1));
}

#[test]
fn requirement_is_continuous_at_every_boundary() {
    let t = MarginTiers::new(&[
        tier(0, 20_000_000, 10_000_000),
        tier(1_000_003, 33_333_333, 16_666_667),
        tier(5_000_000_007, 100_000_000, 50_000_000),
        tier(9_000_000_000_011, 1_000_000_000, 500_000_000),
    ])
    .unwrap();
    for n in 1..t.len() {
        let lower = t.tiers().nth(n).unwrap().notional_lower;
        // Exactly equal at the boundary; one atom either side the rows differ by less than
        // one atom before rounding, so by at most one after.
        for (probe, tolerance) in [(lower.0 - 1, 1), (lower.0, 0), (lower.0 + 1, 1)] {
            let q = Quote(probe);
            let mm = |row| t.maintenance_margin_in_tier(row, q).unwrap().0;
            let im = |row| t.initial_margin_in_tier(row, q).unwrap().0;
            assert!((mm(n - 1) - mm(n)).abs() <= tolerance, "mm, tier {n}, {probe}");
            assert!((im(n - 1) - im(n)).abs() <= tolerance, "im, tier {n}, {probe}");
        }
    }
    // Above 9e12 atoms the marginal rate is 100% initial: +1 atom of notional, +1 atom of IM.
    let top = Quote(9_000_000_000_011 + 1_000);
    let next = Quote(top.0 + 1);
    assert_eq!(t.initial_margin(next).unwrap().0 - t.initial_margin(top).unwrap().0, 1);
    // A row's formula below its own lower bound can be negative: refused, not wrapped.
    assert_eq!(
        t.maintenance_margin_in_tier(3, Quote(0)).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    assert_eq!(
        t.maintenance_margin_in_tier(9, Quote(0)).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
}

#[test]
fn validation_errors_are_typed() {
    let ok = tier(0, 50_000_000, 25_000_000);
    assert_eq!(MarginTiers::new(&[]), Err(TierError::Empty));
    assert_eq!(
        MarginTiers::new(&[ok; MAX_TIERS + 1]),
        Err(TierError::TooMany { count: MAX_TIERS + 1, max: MAX_TIERS })
    );
    assert_eq!(
        MarginTiers::new(&[tier(5, 50_000_000, 25_000_000)]),
        Err(TierError::FirstLowerNotZero)
    );
    assert_eq!(
        MarginTiers::new(&[ok, tier(0, 50_000_000, 25_000_000)]),
        Err(TierError::LowerNotIncreasing { tier: 1 })
    );
    assert_eq!(MarginTiers::new(&[tier(0, 0, 0)]), Err(TierError::InitialOutOfRange { tier: 0 }));
    assert_eq!(
        MarginTiers::new(&[tier(0, 1_000_000_001, 1)]),
        Err(TierError::InitialOutOfRange { tier: 0 })
    );
    assert_eq!(
        MarginTiers::new(&[tier(0, 50_000_000, 50_000_000)]),
        Err(TierError::MaintenanceNotBelowInitial { tier: 0 })
    );
    assert_eq!(
        MarginTiers::new(&[tier(0, 50_000_000, 0)]),
        Err(TierError::MaintenanceNotBelowInitial { tier: 0 })
    );
    assert_eq!(
        MarginTiers::new(&[ok, tier(10, 40_000_000, 25_000_000)]),
        Err(TierError::FractionDecreasing { tier: 1 })
    );
    assert_eq!(
        MarginTiers::new(&[ok, tier(10, 50_000_000, 20_000_000)]),
        Err(TierError::FractionDecreasing { tier: 1 })
    );
    assert_eq!(
        MarginTiers::new(&[ok, tier(i128::MAX, 1_000_000_000, 25_000_000)]),
        Err(TierError::DeductionOverflow { tier: 1 })
    );
    assert_eq!(MarginTier::from_max_leverage(Quote(0), 0), Err(TierError::ZeroLeverage));
    // 1× leverage: initial 100%, maintenance 50%.
    let one = MarginTiers::new(&[MarginTier::from_max_leverage(Quote(0), 1).unwrap()]).unwrap();
    assert_eq!(one.max_leverage_floor(), 1);
    assert_eq!(one.initial_margin(Quote(7)).unwrap(), Quote(7));
    // 3% initial → 33×.
    let t = MarginTiers::new(&[tier(0, 30_000_000, 15_000_000)]).unwrap();
    assert_eq!(t.max_leverage_floor(), 33);
    assert!(!t.is_empty());
}

#[test]
fn extreme_notionals_are_exact_or_typed() {
    let t = btc();
    let max = t.initial_margin(Quote(i128::MAX)).unwrap();
    assert!(max.0 > 0 && max.0 < i128::MAX / 19);
    assert_eq!(t.initial_margin(Quote(-1)).unwrap_err().kind(), MathErrorKind::OutOfDomain);
    assert_eq!(t.tier_index(Quote(i128::MIN)).unwrap_err().kind(), MathErrorKind::OutOfDomain);
    let full = MarginTiers::new(&[tier(0, 1_000_000_000, 999_999_999)]).unwrap();
    assert_eq!(full.initial_margin(Quote(i128::MAX)).unwrap(), Quote(i128::MAX));
}

#[test]
fn open_interest_ramp() {
    let ramp = OpenInterestRamp::new(Quote(100), Quote(200)).unwrap();
    assert_eq!((ramp.lower(), ramp.upper()), (Quote(100), Quote(200)));
    let base = Rate::from_bps(500);
    let f = |oi| ramp.initial_fraction(base, Quote(oi)).unwrap();
    assert_eq!(f(0), base);
    assert_eq!(f(100), base);
    assert_eq!(f(150), Rate::from_ppb(525_000_000)); // 5% + 95% / 2
    assert_eq!(f(200), Rate::ONE);
    assert_eq!(f(1_000_000), Rate::ONE);
    // Rounded up: 5% + 95% × 1/3 = 36.666...67%.
    let thirds = OpenInterestRamp::new(Quote(0), Quote(3)).unwrap();
    assert_eq!(thirds.initial_fraction(base, Quote(1)).unwrap(), Rate::from_ppb(366_666_667));
    // Tiered form: IM 50 on notional 1000, half-way → 525; at the top → 1000.
    assert_eq!(ramp.initial_margin(Quote(50), Quote(1000), Quote(150)).unwrap(), Quote(525));
    assert_eq!(ramp.initial_margin(Quote(50), Quote(1000), Quote(99)).unwrap(), Quote(50));
    assert_eq!(ramp.initial_margin(Quote(50), Quote(1000), Quote(250)).unwrap(), Quote(1000));
    assert_eq!(thirds.initial_margin(Quote(0), Quote(10), Quote(1)).unwrap(), Quote(4));
    // Errors.
    assert_eq!(OpenInterestRamp::new(Quote(5), Quote(5)), Err(RampError::BadBounds));
    assert_eq!(OpenInterestRamp::new(Quote(-1), Quote(5)), Err(RampError::BadBounds));
    assert_eq!(
        ramp.initial_fraction(Rate::from_ppb(-1), Quote(0)).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    assert_eq!(
        ramp.initial_margin(Quote(11), Quote(10), Quote(0)).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    let wide = OpenInterestRamp::new(Quote(0), Quote(i128::MAX)).unwrap();
    assert_eq!(
        wide.initial_margin(Quote(0), Quote(i128::MAX), Quote(i128::MAX)).unwrap(),
        Quote(i128::MAX)
    );
}

#[test]
fn withdrawal_keeps_the_larger_of_im_and_the_floor() {
    let k = Rate::from_bps(1_000); // 10%
    assert_eq!(withdrawal_requirement(Quote(25), Quote(1_000), k).unwrap(), Quote(100));
    assert_eq!(withdrawal_requirement(Quote(250), Quote(1_000), k).unwrap(), Quote(250));
    assert_eq!(withdrawal_requirement(Quote(0), Quote(1_001), k).unwrap(), Quote(101));
    assert_eq!(
        withdrawal_requirement(Quote(0), Quote(-1), k).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
}

/// A random valid table: up to MAX_TIERS rows with increasing bounds and fractions.
fn tables() -> impl Strategy<Value = MarginTiers> {
    prop::collection::vec(
        (1i128..1_000_000_000_000_000, 0i64..50_000_000, 1i64..400_000_000),
        1..=MAX_TIERS,
    )
    .prop_map(|rows| {
        let mut out = Vec::with_capacity(rows.len());
        let (mut lower, mut mm, mut im) = (0i128, 0i64, 0i64);
        for (i, (gap, mm_step, im_gap)) in rows.into_iter().enumerate() {
            if i > 0 {
                lower += gap;
            }
            mm = (mm + mm_step).clamp(1, 500_000_000);
            im = im.max(mm + im_gap);
            out.push(tier(lower, im, mm));
        }
        MarginTiers::new(&out).unwrap()
    })
}

/// Reference: the bracket sum Σ r_j × |[L_j, L_{j+1}) ∩ [0, N)|, rounded up.
fn bracket_sum(t: &MarginTiers, n: u128, maintenance: bool) -> u128 {
    let rows: Vec<MarginTier> = t.tiers().collect();
    let mut total = 0u128;
    for (j, row) in rows.iter().enumerate() {
        let lo = row.notional_lower.0 as u128;
        let hi = rows.get(j + 1).map_or(u128::MAX, |r| r.notional_lower.0 as u128);
        if n <= lo {
            break;
        }
        let rate = if maintenance { row.maintenance } else { row.initial };
        total += (n.min(hi) - lo) * rate.ppb() as u128;
    }
    total.div_ceil(1_000_000_000)
}

proptest! {
    #[test]
    fn tiers_match_the_bracket_sum_and_are_monotone(
        t in tables(),
        a in 0i128..20_000_000_000_000_000,
        b in 0i128..20_000_000_000_000_000,
    ) {
        let (lo, hi) = (Quote(a.min(b)), Quote(a.max(b)));
        for n in [lo, hi] {
            let mm = t.maintenance_margin(n).unwrap();
            let im = t.initial_margin(n).unwrap();
            prop_assert_eq!(mm.0 as u128, bracket_sum(&t, n.0 as u128, true));
            prop_assert_eq!(im.0 as u128, bracket_sum(&t, n.0 as u128, false));
            prop_assert!(mm <= im && im <= n);
            prop_assert!(n.0 == 0 || mm.0 > 0);
        }
        prop_assert!(t.maintenance_margin(lo).unwrap() <= t.maintenance_margin(hi).unwrap());
        prop_assert!(t.initial_margin(lo).unwrap() <= t.initial_margin(hi).unwrap());
    }

    #[test]
    fn tiers_are_continuous_at_each_boundary(t in tables(), d in -2i128..=2) {
        let lowers: Vec<Quote> = t.tiers().map(|r| r.notional_lower).collect();
        for (n, lower) in lowers.iter().enumerate().skip(1) {
            let q = Quote(lower.0 + d);
            let (a, b) = (
                t.maintenance_margin_in_tier(n - 1, q).unwrap(),
                t.maintenance_margin_in_tier(n, q),
            );
            // Exactly equal at the boundary, within one atom near it.
            let tolerance = if d == 0 { 0 } else { 1 };
            if let Ok(b) = b {
                prop_assert!((a.0 - b.0).abs() <= tolerance);
            } else {
                prop_assert!(d < 0);
            }
            let (a, b) = (
                t.initial_margin_in_tier(n - 1, q).unwrap(),
                t.initial_margin_in_tier(n, q),
            );
            if let Ok(b) = b {
                prop_assert!((a.0 - b.0).abs() <= tolerance);
            }
            // One atom more of notional never adds more than one atom of requirement.
            let step = t.initial_margin(Quote(q.0 + 1)).unwrap().0 - t.initial_margin(q).unwrap().0;
            prop_assert!((0..=1).contains(&step));
        }
    }

    #[test]
    fn margin_never_panics(t in tables(), n in any::<i128>()) {
        let _ = t.initial_margin(Quote(n));
        let _ = t.maintenance_margin(Quote(n));
    }
}
