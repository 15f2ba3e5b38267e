//! Properties of the per-validator combination (`source::combine`).

use novation_oracle::source::{combine, combine_detailed, NoPrice, Reading, SourceParams};
use novation_oracle::{OraclePrice, PRICE_MAX};
use proptest::prelude::*;

const NOW_MS: u64 = 1_700_000_000_000;

/// A reading around `base`: up to 9 sources (so some repeat), weights 0..=5, prices within 10%
/// of `base` or occasionally invalid, times from 15 s old to 3 s ahead.
fn reading(base: u64) -> impl Strategy<Value = Reading> {
    (0u16..9, 0u32..=5, prop_oneof![9 => -100_000i64..=100_000, 1 => Just(i64::MIN)], 0u64..18_000)
        .prop_map(move |(source, weight, dev_ppm, t)| {
            let price = if dev_ppm == i64::MIN {
                OraclePrice(0)
            } else {
                OraclePrice((base as i128 + base as i128 * dev_ppm as i128 / 1_000_000) as u64)
            };
            Reading { source, weight, price, time_ms: NOW_MS - 15_000 + t }
        })
}

fn readings() -> impl Strategy<Value = Vec<Reading>> {
    (1_000u64..=PRICE_MAX.0 / 2)
        .prop_flat_map(|base| proptest::collection::vec(reading(base), 0..20))
}

fn params() -> impl Strategy<Value = SourceParams> {
    (1usize..=5, 1u64..=12_000, 0u64..=3_000, 1u32..=200_000).prop_map(
        |(min_sources, max_age_ms, max_future_ms, outlier_ppm)| SourceParams {
            min_sources,
            max_age_ms,
            max_future_ms,
            outlier_ppm,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn result_is_a_median_within_the_survivors(rs in readings(), params in params()) {
        match combine_detailed(&rs, NOW_MS, &params) {
            Ok(c) => {
                prop_assert!(c.used.len() >= params.min_sources);
                let lo = c.used.iter().map(|r| r.price).min().unwrap();
                let hi = c.used.iter().map(|r| r.price).max().unwrap();
                prop_assert!(lo <= c.price && c.price <= hi);
                let mut sources: Vec<u16> = c.used.iter().map(|r| r.source).collect();
                sources.dedup();
                prop_assert_eq!(sources.len(), c.used.len(), "one reading per source");
                // Median: at most half the weight strictly on either side.
                let total: u64 = c.used.iter().map(|r| u64::from(r.weight)).sum();
                let below: u64 =
                    c.used.iter().filter(|r| r.price < c.price).map(|r| u64::from(r.weight)).sum();
                let above: u64 =
                    c.used.iter().filter(|r| r.price > c.price).map(|r| u64::from(r.weight)).sum();
                prop_assert!(2 * below <= total && 2 * above <= total);
                let t = c.tally;
                let dropped = t.invalid_price + t.zero_weight + t.future + t.stale
                    + t.superseded + t.outliers;
                prop_assert_eq!(dropped + c.used.len(), rs.len());
            }
            Err(NoPrice::TooFewSources { sources, min_sources, .. }) => {
                prop_assert!(sources < min_sources);
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn order_of_readings_never_matters(
        (rs, shuffled) in readings().prop_flat_map(|rs| (Just(rs.clone()), Just(rs).prop_shuffle())),
        params in params(),
    ) {
        prop_assert_eq!(
            combine_detailed(&rs, NOW_MS, &params),
            combine_detailed(&shuffled, NOW_MS, &params)
        );
    }

    #[test]
    fn one_outlier_cannot_leave_the_honest_range(
        honest in proptest::collection::vec((1u64..=1_000_000_000_000u64, 1u32..=1_000), 3..10),
        outlier_price in 1u64..=PRICE_MAX.0,
        outlier_weight_pct in 1u32..=100,
        outlier_ppm in 1u32..=1_000_000,
    ) {
        let min_weight = honest.iter().map(|h| h.1).min().unwrap();
        let mut rs: Vec<Reading> = honest
            .iter()
            .enumerate()
            .map(|(i, &(p, w))| Reading { source: i as u16, weight: w, price: OraclePrice(p), time_ms: NOW_MS })
            .collect();
        rs.push(Reading {
            source: 100,
            weight: (min_weight * outlier_weight_pct / 100).max(1),
            price: OraclePrice(outlier_price),
            time_ms: NOW_MS,
        });
        let params = SourceParams { min_sources: 3, outlier_ppm, ..SourceParams::default() };
        let lo = honest.iter().map(|h| h.0).min().unwrap();
        let hi = honest.iter().map(|h| h.0).max().unwrap();
        if let Ok(price) = combine(&rs, NOW_MS, &params) {
            prop_assert!(lo <= price.0 && price.0 <= hi, "{} not in [{}, {}]", price.0, lo, hi);
        }
        // Honest prices within 1% of each other and a band of at least 1%: every honest reading
        // survives, so there is always a price.
        let clustered: Vec<Reading> = rs
            .iter()
            .map(|r| match r.source {
                100 => *r,
                _ => Reading { price: OraclePrice(lo + r.price.0 % (lo / 100 + 1)), ..*r },
            })
            .collect();
        let (lo, hi) = (lo, lo + lo / 100);
        let band = SourceParams { outlier_ppm: outlier_ppm.max(10_000), ..params };
        let price = combine(&clustered, NOW_MS, &band).unwrap();
        prop_assert!(lo <= price.0 && price.0 <= hi, "{} not in [{}, {}]", price.0, lo, hi);
    }
}
