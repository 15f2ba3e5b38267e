use super::*;
use crate::fixed::MathErrorKind;
use proptest::prelude::*;

const P: MarkParams = MarkParams::DEFAULT;
const INDEX: PriceTicks = PriceTicks(10_000);

fn book(bid: u64, ask: u64) -> BookTop {
    BookTop { best_bid: Some(PriceTicks(bid)), best_ask: Some(PriceTicks(ask)) }
}

/// Runs `blocks` one-second blocks from `start_ms` and returns the marks.
fn run(
    state: &mut MarkState,
    start_ms: u64,
    blocks: u64,
    index: PriceTicks,
    top: BookTop,
) -> Vec<u64> {
    (0..blocks).map(|i| state.update(&P, start_ms + i * 1_000, index, top).unwrap().0).collect()
}

#[test]
fn quiet_book_marks_at_the_index() {
    let mut s = MarkState::new();
    let marks = run(&mut s, 0, 100, INDEX, book(9_999, 10_001));
    assert!(marks.iter().all(|&m| m == 10_000));
    assert_eq!(s.basis_ema_nano_ticks(), 0);
    assert_eq!(s.last_update_ms(), Some(99_000));
}

#[test]
fn pulled_bid_wall_barely_moves_the_mark() {
    // POPCAT: the book sat around the index, then a bid wall was pulled and the best bid fell
    // 38%. The mid drops 19%; the mark moves by the EMA's step only.
    let mut s = MarkState::new();
    run(&mut s, 0, 300, INDEX, book(9_999, 10_001));
    let pulled = book(6_200, 10_001);
    let marks = run(&mut s, 300_000, 10, INDEX, pulled);
    assert_eq!(marks[0], 9_999, "first block: −1.3 ticks of EMA, rounded");
    assert!(marks.iter().all(|&m| m >= 9_985), "{marks:?}");
    assert!(marks.windows(2).all(|w| w[0] - w[1] <= 2), "at most ~1.3 ticks a block");
    // The raw mid would have been 8,100.5 and the clamped mid 9,800.
    assert_eq!(pulled.mid_nano_ticks(), Some(8_100_500_000_000));
    // The wall comes back: the mark returns to the index.
    let marks = run(&mut s, 310_000, 600, INDEX, book(9_999, 10_001));
    assert_eq!(*marks.last().unwrap(), 10_000);
}

#[test]
fn book_pumped_twenty_fold_stays_within_the_band() {
    let mut s = MarkState::new();
    run(&mut s, 0, 10, INDEX, book(9_999, 10_001));
    let marks = run(&mut s, 10_000, 3_600, INDEX, book(199_999, 200_001));
    assert!(marks.iter().all(|&m| (10_000..=10_200).contains(&m)), "never beyond +2%");
    assert!(marks[0] <= 10_002, "and it starts slowly: {}", marks[0]);
    assert_eq!(
        *marks.last().unwrap(),
        10_200,
        "a sustained pump reaches the band edge, no further"
    );
    // The EMA never holds more than the band either.
    assert!(s.basis_ema_nano_ticks() <= 200 * 1_000_000_000);
}

#[test]
fn a_genuine_basis_is_followed() {
    let mut s = MarkState::new();
    let marks = run(&mut s, 0, 1_800, INDEX, book(10_099, 10_101));
    assert_eq!(*marks.last().unwrap(), 10_100, "a steady +1% premium becomes the mark");
    // And a discount the same way.
    let marks = run(&mut s, 1_800_000, 3_600, INDEX, book(9_899, 9_901));
    assert_eq!(*marks.last().unwrap(), 9_900);
}

#[test]
fn missing_mid_falls_back_to_the_index_and_decays_the_ema() {
    let mut s = MarkState::new();
    run(&mut s, 0, 600, INDEX, book(10_099, 10_101));
    let ema = s.basis_ema_nano_ticks();
    assert!(ema > 90 * 1_000_000_000);
    let one_sided = BookTop { best_bid: Some(PriceTicks(10_099)), best_ask: None };
    assert_eq!(s.mark(&P, INDEX, one_sided).unwrap(), INDEX);
    assert_eq!(s.update(&P, 600_000, INDEX, BookTop::EMPTY).unwrap(), INDEX);
    assert!(s.basis_ema_nano_ticks() < ema);
    run(&mut s, 601_000, 3_600, INDEX, BookTop::EMPTY);
    assert!(s.basis_ema_nano_ticks().abs() < 1_000_000_000);
}

#[test]
fn one_block_carries_a_bounded_weight() {
    let mut s = MarkState::new();
    s.update(&P, 0, INDEX, book(9_999, 10_001)).unwrap();
    // An hour later, a book at the band edge: Δt is capped at 10 s, weight 10 / 160.
    s.update(&P, 3_600_000, INDEX, book(11_000, 11_002)).unwrap();
    assert_eq!(s.basis_ema_nano_ticks(), 12_500_000_000, "200 ticks × 1/16");
    // The same time again, or an earlier one: no step.
    s.update(&P, 3_600_000, INDEX, book(11_000, 11_002)).unwrap();
    s.update(&P, 1_000, INDEX, book(11_000, 11_002)).unwrap();
    assert_eq!(s.basis_ema_nano_ticks(), 12_500_000_000);
    assert_eq!(s.last_update_ms(), Some(3_600_000));
    // The first update ever has no elapsed time.
    let mut fresh = MarkState::new();
    fresh.update(&P, 5_000, INDEX, book(11_000, 11_002)).unwrap();
    assert_eq!(fresh.basis_ema_nano_ticks(), 0);
}

#[test]
fn mark_rounds_to_the_nearest_tick() {
    // Index 3, band 2%: the band is ±0.06 tick; a mid of 3.5 clamps to 3.06 → 3.
    let s = MarkState::new();
    assert_eq!(s.mark(&P, PriceTicks(3), book(3, 4)).unwrap(), PriceTicks(3));
    // Index 1, band 60%: the band reaches 0.4; the mark never goes below 1 tick.
    let wide = MarkParams { band: Rate::from_bps(6_000), ..P };
    let mut s = MarkState::new();
    for t in 0..200 {
        let m = s.update(&wide, t * 10_000, PriceTicks(1), book(0, 0)).unwrap();
        assert_eq!(m, PriceTicks(1));
    }
    assert!(s.basis_ema_nano_ticks() < -590_000_000, "the EMA sits at the band's lower edge");
}

#[test]
fn params_and_extremes() {
    assert_eq!(P.validate(), Ok(()));
    assert_eq!(MarkParams::default(), P);
    let v = |p: MarkParams| p.validate().unwrap_err();
    assert_eq!(v(MarkParams { ema_time_constant_ms: 0, ..P }), MarkParamsError::ZeroTimeConstant);
    assert_eq!(v(MarkParams { ema_step_ms_max: 0, ..P }), MarkParamsError::ZeroStepMax);
    assert_eq!(v(MarkParams { band: Rate::ONE, ..P }), MarkParamsError::BandOutOfRange);
    assert_eq!(v(MarkParams { band: Rate::ZERO, ..P }), MarkParamsError::BandOutOfRange);
    let mut s = MarkState::new();
    assert_eq!(
        s.update(&P, 0, PriceTicks(0), BookTop::EMPTY).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    let bad = MarkParams { band: Rate::ONE, ..P };
    assert_eq!(
        s.update(&bad, 0, INDEX, BookTop::EMPTY).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    assert_eq!(s, MarkState::new(), "a failed update leaves no trace");
    // The top of the price range works: the mark never leaves [min(index, c), max(index, c)],
    // and c is a clamped mid of u64 prices, so it always fits.
    let top = PriceTicks(u64::MAX);
    assert_eq!(s.update(&P, 0, top, book(u64::MAX, u64::MAX)).unwrap(), top);
    let m = s.update(&P, 9_000, top, book(1, 1)).unwrap();
    assert!(m < top && m.0 > u64::MAX / 100 * 98);
    let m = s.update(&P, 10_000, PriceTicks(1), book(u64::MAX, u64::MAX)).unwrap();
    assert!(m.0 >= 1 && m.0 <= 2);
}

proptest! {
    #[test]
    fn mark_always_within_the_band_of_the_index(
        steps in prop::collection::vec(
            (0u64..30_000, 1u64..1_000_000_000, prop::option::of(0u64..2_000_000_000), prop::option::of(0u64..2_000_000_000)),
            1..200,
        ),
        band_bps in 1i32..9_999,
    ) {
        let params = MarkParams { band: Rate::from_bps(band_bps), ..P };
        let mut s = MarkState::new();
        let mut t = 0u64;
        for (dt, index, bid, ask) in steps {
            t += dt;
            let top = BookTop { best_bid: bid.map(PriceTicks), best_ask: ask.map(PriceTicks) };
            let mark = s.update(&params, t, PriceTicks(index), top).unwrap();
            let w = i128::from(index) * i128::from(params.band.ppb());
            let off = (i128::from(mark.0) - i128::from(index)) * 1_000_000_000;
            // Within the band, up to the final rounding to a whole tick.
            prop_assert!(off.abs() <= w + 500_000_000, "index {} mark {} band {}", index, mark.0, band_bps);
            prop_assert!(mark.0 >= 1);
        }
    }
}
