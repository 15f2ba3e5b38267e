use super::*;
use crate::fixed::MathErrorKind;
use proptest::prelude::*;

/// BTC with a $1 tick and a 0.001 BTC lot: one tick-lot is $0.001 = 1,000 atoms.
fn btc() -> ContractSpec {
    ContractSpec::new(1_000).unwrap()
}

const P: FundingParams = FundingParams::DEFAULT;

#[test]
fn domain_vector_premium_1pct_pays_118_75_per_hour() {
    let f = funding_rate_8h(Rate::from_bps(100), &P).unwrap();
    assert_eq!(f, Rate::from_bps(95), "0.95% per 8 h");
    let hourly = hourly_rate(f, &P).unwrap();
    assert_eq!(hourly, Rate::from_ppb(1_187_500), "0.11875% per hour");
    // 10 BTC = 10,000 lots, index $10,000 = 10,000 ticks.
    let index = FundingIndex::ZERO.accrue(hourly, PriceTicks(10_000), &btc()).unwrap();
    let long = settle_funding(Side::Buy, QtyLots(10_000), FundingIndex::ZERO, index).unwrap();
    assert_eq!(long.payment, Quote(118_750_000), "$118.75");
    assert_eq!(long.residue_nano_atoms, 0);
    let short = settle_funding(Side::Sell, QtyLots(10_000), FundingIndex::ZERO, index).unwrap();
    assert_eq!(short.balance_delta(), Quote(118_750_000));
}

#[test]
fn rate_follows_interest_inside_the_clamp_and_premium_outside() {
    let f = |bps: i32| funding_rate_8h(Rate::from_bps(bps), &P).unwrap();
    assert_eq!(f(0), Rate::from_bps(1));
    assert_eq!(f(6), Rate::from_bps(1)); // I − P = −0.05%: exactly at the clamp
    assert_eq!(f(-4), Rate::from_bps(1)); // I − P = +0.05%
    assert_eq!(f(7), Rate::from_bps(2)); // beyond: P − 0.05%
    assert_eq!(f(-10), Rate::from_bps(-5)); // P + 0.05%
    assert_eq!(funding_rate_8h(Rate::from_ppb(60_001), &P).unwrap(), Rate::from_ppb(100_000));
    assert_eq!(
        funding_rate_8h(Rate::from_ppb(i64::MIN), &P).unwrap_err().kind(),
        MathErrorKind::Overflow
    );
}

#[test]
fn hourly_cap_and_pro_rating() {
    // 40% per 8 h → 5% per hour → capped at 4%, both signs.
    assert_eq!(hourly_rate(Rate::from_bps(4_000), &P).unwrap(), Rate::from_bps(400));
    assert_eq!(hourly_rate(Rate::from_bps(-4_000), &P).unwrap(), Rate::from_bps(-400));
    // Exactly at the cap: 32% per 8 h = 4% per hour.
    assert_eq!(hourly_rate(Rate::from_bps(3_200), &P).unwrap(), Rate::from_bps(400));
    // Half an hour of 0.95% per 8 h = 0.059375%; the cap scales too (2% per half hour).
    assert_eq!(
        rate_for_elapsed(Rate::from_bps(95), HOUR_MS / 2, &P).unwrap(),
        Rate::from_ppb(593_750)
    );
    assert_eq!(
        rate_for_elapsed(Rate::from_bps(4_000), HOUR_MS / 2, &P).unwrap(),
        Rate::from_bps(200)
    );
    assert_eq!(rate_for_elapsed(Rate::from_bps(95), 0, &P).unwrap(), Rate::ZERO);
    // Toward zero: −1 ppb per 8 h is nothing per hour, for either sign.
    assert_eq!(hourly_rate(Rate::from_ppb(-7), &P).unwrap(), Rate::ZERO);
    assert_eq!(hourly_rate(Rate::from_ppb(7), &P).unwrap(), Rate::ZERO);
    // The extreme elapsed time is capped, not overflowed.
    assert_eq!(
        rate_for_elapsed(Rate::from_ppb(i64::MAX), u64::MAX, &P).unwrap_err().kind(),
        MathErrorKind::Overflow,
        "4% × u64::MAX ms / 1 h does not fit a rate"
    );
}

#[test]
fn params_validate() {
    assert_eq!(P.validate(), Ok(()));
    assert_eq!(FundingParams::default(), P);
    let bad = |p: FundingParams| p.validate().unwrap_err();
    assert_eq!(
        bad(FundingParams { premium_clamp_8h: Rate::from_ppb(-1), ..P }),
        FundingParamsError::ClampOutOfRange
    );
    assert_eq!(
        bad(FundingParams { interest_rate_8h: Rate::from_ppb(-1_000_000_001), ..P }),
        FundingParamsError::InterestOutOfRange
    );
    assert_eq!(
        bad(FundingParams { rate_cap_per_hour: Rate::ZERO, ..P }),
        FundingParamsError::CapOutOfRange
    );
}

#[test]
fn premium_samples() {
    let s = |bid: Option<u64>, ask: Option<u64>, index| {
        premium_sample(bid.map(PriceTicks), ask.map(PriceTicks), PriceTicks(index))
    };
    // Book above the index: impact bid 1% over → +1%.
    assert_eq!(s(Some(10_100), Some(10_200), 10_000).unwrap(), Rate::from_bps(100));
    // Book below: impact ask 0.5% under → −0.5%.
    assert_eq!(s(Some(9_900), Some(9_950), 10_000).unwrap(), Rate::from_bps(-50));
    // Straddling the index: no premium.
    assert_eq!(s(Some(9_990), Some(10_010), 10_000).unwrap(), Rate::ZERO);
    // A missing side contributes nothing.
    assert_eq!(s(None, Some(9_950), 10_000).unwrap(), Rate::from_bps(-50));
    assert_eq!(s(Some(10_100), None, 10_000).unwrap(), Rate::from_bps(100));
    assert_eq!(s(None, None, 10_000).unwrap(), Rate::ZERO);
    // Rounded toward zero: 1 tick over 3 = 33.33...% → 333,333,333 ppb, and the negative alike.
    assert_eq!(s(Some(4), None, 3).unwrap(), Rate::from_ppb(333_333_333));
    assert_eq!(s(None, Some(2), 3).unwrap(), Rate::from_ppb(-333_333_333));
    assert_eq!(s(None, None, 0).unwrap_err().kind(), MathErrorKind::OutOfDomain);
    // u64::MAX over an index of 1 does not fit a rate: typed, not a panic.
    assert_eq!(s(Some(u64::MAX), None, 1).unwrap_err().kind(), MathErrorKind::Overflow);
    assert_eq!(
        impact_notional(Quote(500_000_000), Rate::from_bps(500)).unwrap(),
        Quote(10_000_000_000)
    );
    assert_eq!(
        impact_notional(Quote(1), Rate::ZERO).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
}

#[test]
fn accumulator_averages_toward_zero() {
    let mut acc = PremiumAccumulator::new();
    assert_eq!(acc.average().unwrap(), Rate::ZERO);
    for ppb in [10, -3, 0] {
        acc.record(Rate::from_ppb(ppb)).unwrap();
    }
    assert_eq!((acc.samples(), acc.sum_ppb()), (3, 7));
    assert_eq!(acc.average().unwrap(), Rate::from_ppb(2));
    acc.record(Rate::from_ppb(-20)).unwrap();
    assert_eq!(acc.average().unwrap(), Rate::from_ppb(-3)); // −13 / 4 = −3.25 → −3
    assert_eq!(acc.take_average().unwrap(), Rate::from_ppb(-3));
    assert_eq!(acc, PremiumAccumulator::default());
    // An interval of one sample per 100 ms block, all +1%: the average is +1%.
    for _ in 0..36_000 {
        acc.record(Rate::from_bps(100)).unwrap();
    }
    assert_eq!(acc.average().unwrap(), Rate::from_bps(100));
}

#[test]
fn payer_rounds_up_receiver_rounds_down() {
    // The index moved by one nano-atom per lot.
    let now = FundingIndex(1);
    let long = settle_funding(Side::Buy, QtyLots(1), FundingIndex::ZERO, now).unwrap();
    assert_eq!(long.payment, Quote(1));
    assert_eq!(long.residue_nano_atoms, 999_999_999);
    let short = settle_funding(Side::Sell, QtyLots(1), FundingIndex::ZERO, now).unwrap();
    assert_eq!(short.payment, Quote(0));
    assert_eq!(short.residue_nano_atoms, 1);
    // The pool holds one atom = the two residues.
    assert_eq!(
        long.payment.0 + short.payment.0,
        i128::from(long.residue_nano_atoms + short.residue_nano_atoms) / 1_000_000_000
    );
    // Falling index: shorts pay, longs receive, same rule.
    let down = FundingIndex(-2_500_000_000);
    let long = settle_funding(Side::Buy, QtyLots(1), FundingIndex::ZERO, down).unwrap();
    let short = settle_funding(Side::Sell, QtyLots(1), FundingIndex::ZERO, down).unwrap();
    assert_eq!((long.payment, short.payment), (Quote(-2), Quote(3)));
    assert_eq!((long.residue_nano_atoms, short.residue_nano_atoms), (500_000_000, 500_000_000));
    // Zero size or no movement: nothing.
    let none = settle_funding(Side::Buy, QtyLots(0), FundingIndex::ZERO, now).unwrap();
    assert_eq!((none.payment, none.residue_nano_atoms), (Quote(0), 0));
}

#[test]
fn extremes_are_typed_errors() {
    let huge = ContractSpec::new(u64::MAX).unwrap();
    assert_eq!(
        FundingIndex::ZERO
            .accrue(Rate::from_ppb(i64::MAX), PriceTicks(u64::MAX), &huge)
            .unwrap_err()
            .kind(),
        MathErrorKind::Overflow
    );
    assert_eq!(
        FundingIndex(i128::MAX)
            .accrue(Rate::from_ppb(1), PriceTicks(1), &btc())
            .unwrap_err()
            .kind(),
        MathErrorKind::Overflow
    );
    assert_eq!(
        settle_funding(Side::Buy, QtyLots(1), FundingIndex(i128::MIN), FundingIndex(i128::MAX))
            .unwrap_err()
            .kind(),
        MathErrorKind::Overflow
    );
    // The product size × movement exceeds i128 but the payment does not: exact.
    let ok = settle_funding(
        Side::Sell,
        QtyLots(1_000_000_000),
        FundingIndex::ZERO,
        FundingIndex(i128::MAX),
    )
    .unwrap();
    assert_eq!((ok.payment, ok.residue_nano_atoms), (Quote(-i128::MAX), 0));
    assert_eq!(
        settle_funding(Side::Sell, QtyLots(u64::MAX), FundingIndex::ZERO, FundingIndex(i128::MAX))
            .unwrap_err()
            .kind(),
        MathErrorKind::Overflow
    );
}

/// One interval of a random market history: a rate and an index price.
fn intervals() -> impl Strategy<Value = Vec<(i64, u64)>> {
    prop::collection::vec((-40_000_000i64..40_000_000, 1u64..10_000_000), 1..20)
}

proptest! {
    /// Random longs and shorts with equal open interest, settled at random times while the
    /// index accrues: once everyone has settled, paid − received equals the residues, exactly,
    /// and is never negative.
    #[test]
    fn funding_is_zero_sum_up_to_the_booked_residue(
        longs in prop::collection::vec(1u64..1_000_000_000, 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        history in intervals(),
        settle_at in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..40),
        atoms in 1u64..100_000,
    ) {
        let spec = ContractSpec::new(atoms).unwrap();
        // Shorts: the long total split at random cut points, so OI long == OI short.
        let total: u64 = longs.iter().sum();
        let mut points: Vec<u64> = cuts.iter().map(|c| c.index(total as usize) as u64).collect();
        points.push(0);
        points.push(total);
        points.sort_unstable();
        points.dedup();
        let mut positions: Vec<(Side, QtyLots, FundingIndex)> = longs
            .iter()
            .map(|&q| (Side::Buy, QtyLots(q), FundingIndex::ZERO))
            .collect();
        positions.extend(points.windows(2).map(|w| (Side::Sell, QtyLots(w[1] - w[0]), FundingIndex::ZERO)));
        let (mut pool, mut residues, mut paid, mut received) = (0i128, 0i128, 0i128, 0i128);
        let mut settle = |pos: &mut (Side, QtyLots, FundingIndex), now: FundingIndex| {
            let s = settle_funding(pos.0, pos.1, pos.2, now).unwrap();
            pos.2 = now;
            pool += s.payment.0;
            residues += i128::from(s.residue_nano_atoms);
            if s.payment.0 > 0 { paid += s.payment.0 } else { received -= s.payment.0 }
        };
        let mut index = FundingIndex::ZERO;
        for (step, &(rate, price)) in history.iter().enumerate() {
            index = index.accrue(Rate::from_ppb(rate), PriceTicks(price), &spec).unwrap();
            for (when, who) in &settle_at {
                if when.index(history.len()) == step {
                    let i = who.index(positions.len());
                    settle(&mut positions[i], index);
                }
            }
        }
        for pos in positions.iter_mut() {
            settle(pos, index);
        }
        prop_assert_eq!(pool * NANO_ATOMS_PER_ATOM, residues);
        prop_assert_eq!(paid - received, pool);
        prop_assert!(pool >= 0);
    }

    #[test]
    fn settlement_never_panics(q in any::<u64>(), a in any::<i128>(), b in any::<i128>(), long in any::<bool>()) {
        let side = if long { Side::Buy } else { Side::Sell };
        if let Ok(s) = settle_funding(side, QtyLots(q), FundingIndex(a), FundingIndex(b)) {
            prop_assert!(s.residue_nano_atoms < 1_000_000_000);
        }
    }
}
