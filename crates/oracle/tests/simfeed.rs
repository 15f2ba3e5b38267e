//! The devnet price path: determinism, per-validator noise, scenario magnitudes, validity and
//! volatility.

use novation_oracle::simfeed::{Scenario, SimFeed, SimFeedConfig};
use novation_oracle::OraclePrice;
use proptest::prelude::*;

const T0: u64 = 1_700_000_000_000;
const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;

fn feed(cfg: SimFeedConfig) -> SimFeed {
    SimFeed::new(cfg).unwrap()
}

fn devnet(seed: u64) -> SimFeedConfig {
    SimFeedConfig::devnet(seed, OraclePrice::from_usd(97_000), T0)
}

fn ratio(a: OraclePrice, b: OraclePrice) -> f64 {
    a.0 as f64 / b.0 as f64
}

#[test]
fn same_config_same_path_whatever_the_sampling_order() {
    let cfg = SimFeedConfig { jumps_per_day: 500, ..devnet(42) };
    let times: Vec<u64> = (0..2_000).map(|i| T0 + i * 7_919).collect();
    let mut forward = feed(cfg);
    let expected: Vec<OraclePrice> = times.iter().map(|&t| forward.price_at(t)).collect();
    // Backwards, over checkpoints, and in a scrambled order, on one feed.
    let mut other = feed(cfg);
    for (i, &t) in times.iter().enumerate().rev() {
        assert_eq!(other.price_at(t), expected[i]);
    }
    for k in 0..times.len() {
        let i = (k * 1_237) % times.len();
        assert_eq!(other.price_at(times[i]), expected[i]);
    }
    // A fresh feed asked only once far in agrees too.
    assert_eq!(feed(cfg).price_at(times[1_999]), expected[1_999]);
    // Another seed is another path.
    assert_ne!(feed(devnet(43)).price_at(times[1_999]), expected[1_999]);
}

#[test]
fn validators_see_the_same_path_within_the_noise() {
    let cfg = SimFeedConfig { noise_bps: 5, ..devnet(7) };
    let mut f = feed(cfg);
    let mut distinct = std::collections::BTreeSet::new();
    for i in 0..500u64 {
        let t = T0 + i * 1_000;
        let path = f.price_at(t);
        for validator in 0..4u64 {
            for source in 0..3u16 {
                let seen = f.observe(t, validator, source);
                assert!((ratio(seen, path) - 1.0).abs() <= 5.0e-4 + 1e-12, "{seen:?} vs {path:?}");
                if i % 50 == 0 {
                    assert_eq!(seen, feed(cfg).observe(t, validator, source), "reproducible");
                }
                distinct.insert(seen);
            }
        }
    }
    assert!(distinct.len() > 5_000, "observations differ between validators and sources");
    let quiet = SimFeedConfig { noise_bps: 0, ..cfg };
    let mut q = feed(quiet);
    assert_eq!(q.observe(T0 + 5_000, 9, 9), q.price_at(T0 + 5_000));
}

/// The scenario's factor at `at` relative to the same seed without it, and the move from the
/// scenario's start to `at`.
fn scenario_moves(scenario: Scenario, at: u64) -> (f64, f64) {
    let cfg =
        SimFeedConfig { scenario: Some(scenario), scenario_offset_ms: 2 * MINUTE, ..devnet(11) };
    let mut with = feed(cfg);
    let mut without = feed(SimFeedConfig { scenario: None, ..cfg });
    let start = T0 + 2 * MINUTE;
    (ratio(with.price_at(at), without.price_at(at)), ratio(with.price_at(at), with.price_at(start)))
}

#[test]
fn crash_reaches_minus_half_by_its_end() {
    let end = T0 + 2 * MINUTE + Scenario::Crash.move_ms();
    let (factor, moved) = scenario_moves(Scenario::Crash, end);
    assert!((factor - 0.5).abs() < 1e-6, "factor {factor}");
    assert!((moved - 0.5).abs() < 0.01, "moved {moved}");
    let (_, later) = scenario_moves(Scenario::Crash, end + 10 * MINUTE);
    assert!((later - 0.5).abs() < 0.02, "stays down: {later}");
}

#[test]
fn squeeze_reaches_six_times() {
    let end = T0 + 2 * MINUTE + Scenario::Squeeze.move_ms();
    let (factor, moved) = scenario_moves(Scenario::Squeeze, end);
    assert!((factor - 6.0).abs() < 1e-5, "factor {factor}");
    assert!((moved / 6.0 - 1.0).abs() < 0.01, "moved {moved}");
}

#[test]
fn flash_drops_thirty_percent_in_seconds_and_recovers() {
    let start = T0 + 2 * MINUTE;
    let (factor, moved) = scenario_moves(Scenario::Flash, start + 10_000);
    assert!((factor - 0.7).abs() < 1e-6 && (moved - 0.7).abs() < 0.01, "{factor} {moved}");
    let (halfway, _) = scenario_moves(Scenario::Flash, start + 40_000);
    assert!(halfway > 0.7 && halfway < 1.0, "{halfway}");
    let (after, moved) = scenario_moves(Scenario::Flash, start + 70_000);
    assert!((after - 1.0).abs() < 1e-9 && (moved - 1.0).abs() < 0.01, "{after} {moved}");
    let (before, _) = scenario_moves(Scenario::Flash, start - 100);
    assert_eq!(before, 1.0);
}

#[test]
fn volatility_is_roughly_as_configured() {
    for (seed, vol_bps) in [(1u64, 60u32), (2, 200)] {
        let cfg = SimFeedConfig {
            vol_bps_hourly: vol_bps,
            jumps_per_day: 0,
            noise_bps: 0,
            ..devnet(seed)
        };
        let mut f = feed(cfg);
        let logs: Vec<f64> =
            (0..=1_440).map(|m| (f.price_at(T0 + m * MINUTE).0 as f64).ln()).collect();
        let returns: Vec<f64> = logs.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        let var =
            returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
        let hourly_bps = (var * 60.0).sqrt() * 10_000.0;
        let want = f64::from(vol_bps);
        assert!((hourly_bps / want - 1.0).abs() < 0.12, "seed {seed}: {hourly_bps} bps vs {want}");
    }
}

#[test]
fn jumps_arrive_at_the_configured_rate() {
    let cfg = SimFeedConfig {
        vol_bps_hourly: 0,
        jumps_per_day: 2_000,
        jump_bps: 50,
        noise_bps: 0,
        step_ms: 1_000,
        ..devnet(5)
    };
    let mut f = feed(cfg);
    let mut jumps = 0;
    let mut prev = f.price_at(T0);
    for s in 1..=86_400u64 {
        let p = f.price_at(T0 + s * 1_000);
        if p != prev {
            let r = ratio(p, prev).ln().abs();
            assert!((0.0025 - 1e-9..=0.0075 + 1e-9).contains(&r), "jump of {r}");
            jumps += 1;
        }
        prev = p;
    }
    // Binomial(86_400, 2_000 / 86_400): standard deviation about 44.
    assert!((1_800..=2_200).contains(&jumps), "{jumps} jumps");
}

#[test]
fn extreme_settings_stay_valid() {
    let cfg = SimFeedConfig {
        vol_bps_hourly: 10_000,
        jumps_per_day: 100_000,
        jump_bps: 5_000,
        noise_bps: 1_000,
        step_ms: 60_000,
        start: OraclePrice(1),
        scenario: Some(Scenario::Crash),
        ..devnet(9)
    };
    let mut f = feed(cfg);
    for i in 0..5_000u64 {
        let t = T0 + i * 10 * MINUTE;
        assert!(f.price_at(t).is_valid());
        assert!(f.observe(t, i, 0).is_valid());
    }
    let high = SimFeedConfig {
        start: novation_oracle::PRICE_MAX,
        scenario: Some(Scenario::Squeeze),
        ..cfg
    };
    let mut f = feed(high);
    for i in 0..2_000u64 {
        assert!(f.observe(T0 + i * HOUR, i, 1).is_valid());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_valid_config_gives_valid_reproducible_prices(
        seed in any::<u64>(),
        start in 1u64..=novation_oracle::PRICE_MAX.0,
        step_ms in 100u64..=60_000,
        vol in 0u32..=10_000,
        jumps in 0u32..=100_000,
        jump_bps in 0u32..=5_000,
        noise in 0u32..=1_000,
        scenario in proptest::option::of(prop_oneof![
            Just(Scenario::Crash), Just(Scenario::Squeeze), Just(Scenario::Flash)
        ]),
        offsets in proptest::collection::vec(0u64..=3_000_000, 1..20),
    ) {
        let cfg = SimFeedConfig {
            seed, start: OraclePrice(start), start_ms: T0, step_ms, vol_bps_hourly: vol,
            jumps_per_day: jumps, jump_bps, noise_bps: noise, scenario, scenario_offset_ms: 1_000,
        };
        let mut a = feed(cfg);
        let mut b = feed(cfg);
        for &o in offsets.iter().rev() {
            b.price_at(T0 + o);
        }
        for &o in &offsets {
            let p = a.price_at(T0 + o);
            prop_assert!(p.is_valid());
            prop_assert_eq!(p, b.price_at(T0 + o));
            prop_assert!(a.observe(T0 + o, o, 3).is_valid());
        }
    }
}
