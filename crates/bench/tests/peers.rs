//! The quick flow through every book under test: each must reproduce the reference book's fill
//! totals, except a peer with a documented deviation, which must still differ (so that pinning
//! a fixed version is noticed).

use novation_bench::adapter::BookUnderTest;
use novation_bench::flow::{generate, Fills, FlowConfig};
use novation_bench::peers::{
    known_deviation, Bare, Lobster, Matchcore, Novation, OrderbookRs, RustOb,
};
use novation_bench::{replay, Config, QUICK};
use novation_book::Side;

fn check<A: BookUnderTest>(config: FlowConfig) {
    let flow = generate(config);
    let (fills, errors) = replay::<A>(&flow);
    match known_deviation(A::name()) {
        None => {
            assert_eq!(fills, flow.expected, "{}: fills differ from the reference book", A::name());
            assert_eq!(errors, 0, "{}: operations failed", A::name());
        }
        Some(why) => assert_ne!(fills, flow.expected, "{} no longer deviates ({why})", A::name()),
    }
}

#[test]
fn novation_matches_reference_book() {
    check::<Novation>(QUICK);
}

#[test]
fn lobster_matches_reference_book() {
    check::<Lobster>(QUICK);
}

#[test]
fn rust_ob_matches_reference_book() {
    check::<RustOb>(QUICK);
}

#[test]
fn orderbook_rs_matches_reference_book() {
    check::<OrderbookRs>(QUICK);
}

#[test]
fn bare_reference_matches_reference_book() {
    check::<Bare>(QUICK);
}

#[test]
fn matchcore_deviates_as_documented() {
    check::<Matchcore>(QUICK);
}

#[test]
fn other_seeds_match_too() {
    for seed in [1, 7, 1234] {
        check::<Novation>(FlowConfig { seed, resting: 500, ops: 5_000 });
        check::<Lobster>(FlowConfig { seed, resting: 500, ops: 5_000 });
        check::<Bare>(FlowConfig { seed, resting: 500, ops: 5_000 });
    }
}

/// Minimal reproduction of matchcore's deviation: asks 5 @ 10 and 5 @ 11, an IOC buy of 8 with
/// limit 10 must fill 5 @ 10 and drop the rest; matchcore also fills 3 @ 11.
#[test]
fn matchcore_trades_through_ioc_limit() {
    fn run<A: BookUnderTest>() -> Fills {
        let mut book = A::new();
        book.add(1, 1, Side::Sell, 10, 5);
        book.add(2, 1, Side::Sell, 11, 5);
        book.ioc(3, 2, Side::Buy, 10, 8);
        book.fills()
    }
    let correct = Fills { qty: 5, notional: 50 };
    assert_eq!(run::<Novation>(), correct);
    assert_eq!(run::<Lobster>(), correct);
    assert_eq!(run::<RustOb>(), correct);
    assert_eq!(run::<OrderbookRs>(), correct);
    assert_eq!(run::<Bare>(), correct);
    assert_eq!(run::<Matchcore>(), Fills { qty: 8, notional: 83 });
}

#[test]
fn command_runs_and_ends_with_the_ratio() {
    let mut config = Config::parse(
        ["--quick", "--resting", "300", "--ops", "3000", "--runs", "1"].map(String::from),
    )
    .expect("valid flags");
    config.runs = 1;
    let (mut out, mut progress) = (Vec::new(), Vec::new());
    let outcome = novation_bench::run(&config, &mut out, &mut progress).expect("runs");
    assert!(outcome.ours_ok);
    let text = String::from_utf8(out).expect("utf-8");
    let last = text.lines().last().expect("output");
    assert!(last.starts_with("ratio_vs_fastest_peer="), "last line: {last}");
    for name in ["novation", "matchcore", "lobster", "rust_ob", "orderbook-rs", "bare"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{name} ops_per_s="))), "{name} line");
    }
    assert!(text.contains("novation ops_per_s=") && text.contains("fills_match=yes"));
    assert!(text.lines().any(|l| l.starts_with("bare_ratio_vs_fastest_peer=")));
    // The reference never counts as the fastest peer, however fast it runs.
    let fastest_peer = outcome
        .reports
        .iter()
        .filter(|r| !["novation", "bare"].contains(&r.name) && r.panic.is_none())
        .map(|r| r.ops_per_s())
        .fold(0.0, f64::max);
    let ours = outcome.reports.iter().find(|r| r.name == "novation").expect("ours").ops_per_s();
    assert_eq!(outcome.ratio, Some(ours / fastest_peer));
}

#[test]
fn flags() {
    let parse = |args: &[&str]| Config::parse(args.iter().map(|s| s.to_string()));
    assert_eq!(parse(&[]).unwrap(), Config::default());
    let c = parse(&["--seed", "9", "--runs", "7", "--resting", "10", "--ops", "20"]).unwrap();
    assert_eq!((c.flow.seed, c.runs, c.flow.resting, c.flow.ops), (9, 7, 10, 20));
    let q = parse(&["--quick"]).unwrap();
    assert_eq!((q.flow.resting, q.flow.ops, q.runs), (QUICK.resting, QUICK.ops, 2));
    assert_eq!(parse(&["--only", "novation,lobster"]).unwrap().only, ["novation", "lobster"]);
    assert!(parse(&["--bogus"]).is_err());
    assert!(parse(&["--runs", "0"]).is_err());
    assert!(parse(&["--seed"]).is_err());
}
