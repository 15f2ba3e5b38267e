//! The sample replay series in `tests/fixtures/replay/` parses and has the shape it claims.

use novation_oracle::replay::CsvSeries;
use novation_oracle::OraclePrice;

fn sample() -> CsvSeries {
    let path = format!("{}/tests/fixtures/replay/crash.csv", env!("CARGO_MANIFEST_DIR"));
    CsvSeries::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn crash_sample_parses_and_crashes() {
    let s = sample();
    assert_eq!(s.points().len(), 600);
    assert_eq!(s.duration_ms(), 599_000);
    let start = s.start_ms();
    assert_eq!(s.price_at(start), Some(OraclePrice::from_usd(97_000)));
    assert_eq!(s.price_at(start - 1), None);
    let usd = |t: u64| s.price_at(start + t).unwrap().0 as f64 / 1e9;
    let before = usd(239_000);
    let bottom = (240..=330).map(|sec| usd(sec * 1_000)).fold(f64::MAX, f64::min);
    assert!(bottom / before < 0.65, "crash: {before} -> {bottom}");
    assert!(usd(599_000) > bottom * 1.05, "partial bounce");
}

#[test]
fn rebased_sample_replays_from_genesis() {
    let s = sample();
    let genesis_ms = 1_800_000_000_000;
    let r = s.rebased(genesis_ms).unwrap();
    assert_eq!(r.start_ms(), genesis_ms);
    for offset in [0, 999, 1_000, 300_500, 599_000, 10_000_000] {
        assert_eq!(r.price_at(genesis_ms + offset), s.price_at(s.start_ms() + offset));
    }
}
