//! The devnet market against a real engine (the devnet genesis, no chain): a calm path keeps
//! two-sided books and trades with no rejections but the expected ones; a crash liquidates the
//! leveraged longs and the waterfall finishes the job; runs are a function of the seed.

use novation_sim::market::run::{Crash, EngineRun, PricePath, RunStats};
use novation_sim::market::{BotKind, Population};

/// Blocks between a bot's decision and its execution, beyond the next block.
const LATENCY_BLOCKS: u64 = 1;

fn run(seed: u64, path: &mut PricePath, blocks: u64) -> (RunStats, EngineRun) {
    let mut r = EngineRun::devnet(&Population::devnet(seed, 2), LATENCY_BLOCKS).expect("valid");
    for _ in 0..blocks {
        let index = path.next_block();
        r.block(&index).expect("valid block");
    }
    r.engine.check_invariants().expect("engine invariants hold");
    (r.stats.clone(), r)
}

fn calm(seed: u64, blocks: u64) -> (RunStats, EngineRun) {
    let start = EngineRun::devnet(&Population::devnet(seed, 2), 0).expect("valid").genesis_index();
    run(seed, &mut PricePath::calm(seed, start), blocks)
}

/// −50 % over `over_blocks` after 200 calm blocks, then 200 at the bottom.
fn crash(seed: u64, over_blocks: u64) -> (RunStats, EngineRun) {
    let start = EngineRun::devnet(&Population::devnet(seed, 2), 0).expect("valid").genesis_index();
    let crash = Crash { at_block: 200, over_blocks, drop_bps: 5_000 };
    run(seed, &mut PricePath::calm(seed, start).with_crash(crash), 200 + over_blocks + 200)
}

/// The only rejections a crash may cause: orders decided while the market was active that
/// execute after its breaker tripped (reduce-only), and a keeper's bid for an auction that
/// closed (won, or handed to the insurance fund) before the bid executed.
fn assert_only_race_rejections(s: &RunStats) {
    for ((kind, code), (reason, n)) in &s.rejected {
        let race = *code == 13 || (*kind == Some(BotKind::Keeper) && *code == 40);
        assert!(race, "{kind:?}: {n} x {reason:?}");
    }
}

#[test]
fn a_calm_market_is_two_sided_and_trades() {
    let (s, _) = calm(7, 1_500);
    println!("{s:#?}");
    // The first blocks fund the bots (faucet credits land two blocks after they are asked for)
    // and the makers' first quotes land two blocks later: after that, both sides quote.
    for (m, &two_sided) in s.two_sided_blocks.iter().enumerate() {
        assert!(
            two_sided >= s.blocks - 20,
            "market {m}: two-sided in {two_sided} of {} blocks",
            s.blocks
        );
    }
    assert!(s.fills > 500, "trades: {}", s.fills);
    for kind in [BotKind::Maker, BotKind::Taker, BotKind::Leveraged] {
        assert!(s.actions.get(&Some(kind)).copied().unwrap_or(0) > 0, "{kind:?} acted");
    }
    assert_eq!(s.liquidations_started, 0, "nobody is liquidated on a calm path");
    // Tolerated: none. Every quote is post-only-slide inside the band, every IOC bounded inside
    // it, leverage within the tiers, and no bot acts on a view older than its last batch.
    assert_eq!(s.rejections(), 0, "rejections: {:?}", s.rejected);
}

/// The devnet's `--scenario crash` at 250 ms blocks: −50 % over 1,200 blocks (5 minutes).
#[test]
fn a_crash_liquidates_the_longs_and_the_keeper_takes_what_the_book_cannot() {
    let (s, r) = crash(7, 1_200);
    println!("{s:#?}");
    // The makers' bids absorb the first liquidations (step 2); refunded traders reopen long
    // after their cooldown and are liquidated again further down.
    assert!(s.liquidations_started >= 8, "leveraged longs liquidated: {}", s.liquidations_started);
    assert!(s.liquidation_closes >= 8, "closed in the book: {}", s.liquidation_closes);
    assert!(r.sim().trader_liquidations() >= 8, "the traders saw their liquidations");
    // Once the breaker holds the market in reduce-only the makers pull their quotes, the book
    // cannot absorb the next liquidation, an auction opens and the keeper takes it below the
    // index.
    assert!(s.auctions_opened >= 1 && s.auctions_won_by_keepers >= 1, "{s:?}");
    assert_eq!(s.uncovered_deficits, 0);
    assert_only_race_rejections(&s);
}

/// −50 % over 400 blocks: auctions decay more slowly than the index falls, so their price
/// never comes within the keeper's limit below the index; the insurance fund takes the
/// positions at their bankruptcy price instead.
#[test]
fn a_fast_crash_outruns_the_auctions_and_reaches_the_insurance_fund() {
    let (s, _) = crash(7, 400);
    println!("{s:#?}");
    assert!(s.liquidations_started >= 4, "leveraged longs liquidated: {}", s.liquidations_started);
    assert!(s.auctions_opened >= 1, "{s:?}");
    assert_eq!(s.auctions_won, 0, "no bid below the index");
    assert!(s.insurance_takeovers >= 1, "{s:?}");
    assert_eq!(s.uncovered_deficits, 0);
    assert_only_race_rejections(&s);
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let crash_path = |seed| {
        let start =
            EngineRun::devnet(&Population::devnet(seed, 2), 0).expect("valid").genesis_index();
        PricePath::calm(seed, start).with_crash(Crash {
            at_block: 100,
            over_blocks: 200,
            drop_bps: 3_000,
        })
    };
    let (a, _) = run(3, &mut crash_path(3), 400);
    let (b, _) = run(3, &mut crash_path(3), 400);
    let (c, _) = run(4, &mut crash_path(4), 400);
    assert!(a.fills > 0 && a.liquidations_started > 0, "{a:?}");
    assert_eq!(a, b, "same seed, same run");
    assert_ne!(a.digest, c.digest, "another seed, another run");
}
