//! The proptest fallback for fuzzing: arbitrary byte strings, decoded by the same hand-written
//! decoder as the cargo-fuzz target (`crates/book/fuzz`), run through the real book and the
//! reference model in lockstep with every check of `model::harness`.
//!
//! `PROPTEST_CASES` sets the number of byte strings (default 2000: 70% short strings, 30% long ones, in
//! two tests that run in parallel).

mod model;

use model::decode::decode;
use model::harness::Harness;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn fuzz(cases: u32, max_len: usize) {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(any::<u8>(), 0..max_len);
    let result = runner.run(&strategy, |bytes| {
        let d = decode(&bytes);
        Harness::run(d.limits, &d.ops).map(|_| ()).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Many short byte strings.
#[test]
fn fuzz_bytes_short() {
    let all = cases(2000);
    fuzz(all - all * 3 / 10, 512);
}

/// Fewer long ones (up to a few hundred operations).
#[test]
fn fuzz_bytes_long() {
    fuzz(cases(2000) * 3 / 10, 4096);
}

/// The decoder accepts everything and is deterministic.
#[test]
fn decoder_is_total_and_deterministic() {
    let mut runner =
        TestRunner::new(Config { cases: 200, failure_persistence: None, ..Config::default() });
    let result = runner.run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
        let a = decode(&bytes);
        let b = decode(&bytes);
        prop_assert_eq!(a.limits, b.limits);
        prop_assert_eq!(a.ops, b.ops);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
