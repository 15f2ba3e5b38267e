//! Adversarial scenarios from the incidents in DOMAIN.md: a book pump (Mango), an oversized
//! short squeezed into the backstop (JELLY), a whale withdrawing unrealised profit (Hyperliquid
//! ETH, March 2025), a pulled bid wall (POPCAT), and a dump through a colluding bid.

mod dsl;
mod harness;

use dsl::Table;
use harness::{usd, Setup, Sim, BTC};
use novation_engine::{Action, Event, MarketParams, OrderRequest, Rejection};
use novation_types::Side;

const P100K: u64 = 1_000_000;

fn withdrawable(s: &Sim, name: &str) -> i128 {
    s.engine.withdrawable(s.id(name)).expect("account").0
}

/// Mark band of the example market: 2% of the index.
fn mark_band(index: u64) -> u64 {
    index / 50
}

/// (a) An attacker holding a long pumps the book with wash trades between two of its
/// accounts. Orders at 20× the index are refused outright (price band 10%); wash trades and
/// quotes at the band edge move the clamped mid by at most the mark band (2%) and the mark
/// only as fast as the EMA. The attacker's withdrawable collateral, summed over its accounts,
/// does not grow.
#[test]
fn book_pump_with_wash_trades_does_not_raise_withdrawable_collateral() {
    let mut s = Sim::btc(P100K);
    s.deposit("maker", 1_000_000);
    s.deposit("a1", 10_000);
    s.deposit("a2", 100_000);
    s.limit("maker", Side::Sell, 1000, P100K).expect("rests");
    s.limit("a1", Side::Buy, 1000, P100K).expect("fills"); // a1: 10× long
    let before = withdrawable(&s, "a1") + withdrawable(&s, "a2");
    let before_a1 = withdrawable(&s, "a1");
    // 20× the index: refused.
    s.rejects(
        "a2",
        Action::Place(OrderRequest::limit(0, BTC, Side::Sell, 20 * P100K, 10)),
        Rejection::PriceOutsideBand,
    );
    s.rejects(
        "a1",
        Action::Place(OrderRequest::limit(0, BTC, Side::Buy, 20 * P100K, 10)),
        Rejection::PriceOutsideBand,
    );
    // Quotes at the band edge: bid and ask at +10% so the book's mid is +10%.
    let edge = P100K + P100K / 10;
    s.limit("a1", Side::Buy, 5, edge - 1).expect("bid rests");
    s.limit("a2", Side::Sell, 5, edge).expect("ask rests");
    let mut mark = s.mark().0;
    for _ in 0..30 {
        // One wash trade per block: a2 offers, a1 lifts.
        let txs = vec![
            Sim::tx("a2", Action::Place(OrderRequest::limit(0, BTC, Side::Sell, edge, 20))),
            Sim::tx("a1", Action::Place(OrderRequest::market(0, BTC, Side::Buy, edge, 20))),
        ];
        let events = s.block(txs);
        assert!(!events.iter().any(|e| matches!(e, Event::Rejected { .. })), "{events:#?}");
        let m = s.mark().0;
        assert!(m <= P100K + mark_band(P100K), "mark {m} beyond the 2% band");
        // EMA step per 1 s block: at most 2w × 1 / (150 + 1) of basis, plus rounding.
        assert!(m.abs_diff(mark) <= 2 * mark_band(P100K) / 151 + 1, "mark jumped {mark} → {m}");
        mark = m;
    }
    let after = withdrawable(&s, "a1") + withdrawable(&s, "a2");
    assert!(after <= before, "attacker's withdrawable grew: {before} → {after}");
    assert!(withdrawable(&s, "a1") <= before_a1, "the pumped long's withdrawable grew");
}

/// (b) JELLY: an oversized short is forced to the backstop while the index rises 5× over a
/// few blocks. The insurance fund takes only what fits under its cap; the rest is
/// deleveraged against the longs; accounts with no position lose nothing; the fund never goes
/// negative and no deficit is left uncovered.
#[test]
fn oversized_short_squeezed_five_times_goes_to_capped_fund_then_adl() {
    let mut params = MarketParams::example("BTC-PERP");
    params.liquidation.insurance_position_notional_max = usd(50_000);
    let mut setup = Setup::new(vec![params], &[P100K]);
    setup.insurance.push((BTC, usd(200_000)));
    let mut s = setup.build();
    for (name, dollars) in [
        ("s1", 3_000),
        ("s2", 20_000),
        ("l1", 1_000_000),
        ("l2", 2_000_000),
        ("flat1", 50_000),
        ("flat2", 1_000),
    ] {
        s.deposit(name, dollars);
    }
    // Shorts rest, longs lift: s1 300 lots ($30k, 10×), s2 2,000 lots ($200k, 10×).
    s.limit("s1", Side::Sell, 300, P100K).expect("rests");
    s.limit("s2", Side::Sell, 2000, P100K).expect("rests");
    s.limit("l1", Side::Buy, 1000, P100K).expect("fills");
    s.limit("l2", Side::Buy, 1300, P100K).expect("fills");
    assert_eq!((s.position("s1"), s.position("s2")), (-300, -2000));
    let flat_cash = [s.cash("flat1"), s.cash("flat2")];
    let insurance = s.engine.market(BTC).unwrap().insurance;
    let held_notional = |s: &Sim| {
        let lots = s.engine.account(insurance).unwrap().cross.leg(BTC).map_or(0, |l| l.size);
        i128::from(lots.unsigned_abs()) * i128::from(s.mark().0) * 100
    };
    let mut all = Vec::new();
    let path = [1_500_000, 2_250_000, 3_400_000, 5_000_000];
    for i in 0..44 {
        if let Some(&index) = path.get(i) {
            s.set_index(BTC, index);
        }
        let events = s.block(vec![]);
        if events.iter().any(|e| matches!(e, Event::InsuranceTakeover { .. })) {
            // The cap is on the notional at mark the fund holds after taking over.
            assert!(held_notional(&s) <= usd(50_000).0, "fund above its cap: {events:#?}");
        }
        assert!(s.engine.insurance_fund(BTC).unwrap().0 >= 0, "fund negative: {events:#?}");
        all.extend(events);
    }
    assert!(
        !all.iter().any(|e| matches!(e, Event::UncoveredDeficit { .. })),
        "uncovered deficit: {all:#?}"
    );
    assert_eq!(s.position("s1"), 0);
    assert_eq!(s.position("s2"), 0);
    assert!(all.iter().any(|e| matches!(e, Event::Deleveraged { .. })), "no ADL: {all:#?}");
    assert_eq!([s.cash("flat1"), s.cash("flat2")], flat_cash, "a flat account lost money");
    // The longs are closed by ADL at the shorts' bankruptcy prices, above their entry: they
    // keep at least their deposit less the entry fee.
    for (name, deposit) in [("l1", 1_000_000), ("l2", 2_000_000)] {
        assert!(s.equity(name).0 >= usd(deposit - 50).0, "{name}: {:?}", s.equity(name));
    }
}

/// (c) A 50× whale withdraws its unrealised profit, then the price falls back and it is
/// liquidated: the withdrawal rule keeps max(IM, 10% × notional) plus half the profit, so
/// the liquidation costs the insurance fund nothing.
#[test]
fn whale_cannot_withdraw_profit_then_self_liquidate_into_the_fund() {
    // Whale: $2,100 for 1 BTC at $100k (≈48×). Index +20% (1,200,000): equity 22,075, upnl
    // 20,000 → haircut 10,000; floor max(2,400, 12,000) → withdrawable 75.
    let mut t = Table::new(Setup::new(vec![MarketParams::example("BTC-PERP")], &[P100K]));
    t.run(
        "
        deposit whale 2100
        deposit bob 1000000
        deposit friend 1000000
        place bob sell 1000 @ 1000000 -> rests 1000
        place whale buy 1000 @ 1000000 -> fills 1000
        index 1200000
        blocks 1 -> nothing
        equity whale -> 22075
        withdrawable whale -> 75
        withdraw whale 75.000001 -> rejected InsufficientCollateral
        transfer whale friend 75.000001 -> rejected InsufficientCollateral
        withdraw whale 75 -> ok
        equity whale -> 22000
        // The whale's friend bids at the band edge (−10%) and the whale dumps into it,
        // reduce-only: a $12,000 loss plus fee 27 leaves 9,973 ≥ 0 — nothing for the fund.
        place friend buy 1000 @ 1080000 -> rests 1000
        place whale sell 1000 @ 1080000 ioc reduce-only -> fills 1000
        equity whale -> 9973
        insurance -> 0
        blocks 3 -> nothing
    ",
    );
    // The same whale waiting for the price to fall back instead: index to 985,000 (−17.9%
    // from the peak): equity 22,000 − 21,500 = 500 < MM 985, liquidated into the friend's bid
    // at 984,000 with equity to spare: the fund gains the penalty and loses nothing.
    let mut t = Table::new(Setup::new(vec![MarketParams::example("BTC-PERP")], &[P100K]));
    t.run(
        "
        deposit whale 2100
        deposit bob 1000000
        deposit friend 1000000
        place bob sell 1000 @ 1000000 -> rests 1000
        place whale buy 1000 @ 1000000 -> fills 1000
        index 1200000
        blocks 1 -> nothing
        withdraw whale 75 -> ok
        index 1000000
        blocks 1 -> nothing
        equity whale -> 2000
        place friend buy 1000 @ 984000 -> rests 1000
        index 985000
        // fill at 984,000: 1,000 lots × 1,000 ticks × 100 atoms = $100 under the mark, fee
        // 24.6 → 500 − 100 − 24.6 = 375.4; penalty ⌈98,500 × 0.5%⌉ = 492.5 capped at 375.4
        blocks 1 -> liq-start whale, closed whale 1000 penalty 375.4
        blocks 1 -> liq-end whale
        insurance -> 375.4
        cash whale -> 0
    ",
    );
}

/// A trader near bankruptcy dumps its position through a reduce-only IOC into an
/// accomplice's bid at the edge of the price band. Non-reduce-only orders are refused when
/// filling at their limit would break initial margin (the loss through the mark is
/// subtracted first); a reduce-only order skips that check, so the dump can leave the
/// account with negative equity that the insurance fund then pays, while the accomplice keeps
/// the position bought 10% under the mark. DESIGN.md: "Orders are accepted only if the
/// account would still meet initial margin"; invariant 3 allows negative equity only as a
/// liquidation outcome.
#[test]
fn reduce_only_dump_into_a_colluding_bid_cannot_drain_the_insurance_fund() {
    let mut setup = Setup::new(vec![MarketParams::example("BTC-PERP")], &[P100K]);
    setup.insurance.push((BTC, usd(100_000)));
    let mut s = setup.build();
    s.deposit("alice", 2_100);
    s.deposit("bob", 1_000_000);
    s.deposit("mallory", 10_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("alice", Side::Buy, 1000, P100K).expect("fills");
    // The same dump as a plain IOC is refused: 2,075 − 10,000 − fee < IM.
    let dump = OrderRequest::market(0, BTC, Side::Sell, 900_000, 1000);
    s.limit("mallory", Side::Buy, 1000, 900_000).expect("rests at the band edge");
    s.rejects("alice", Action::Place(dump), Rejection::InsufficientMargin);
    let pair_before = s.equity("alice").0 + s.equity("mallory").0;
    let fund_before = s.engine.insurance_fund(BTC).unwrap();
    let result = s.order("alice", OrderRequest { reduce_only: true, ..dump });
    s.idle(3);
    let pair_after = s.equity("alice").0 + s.equity("mallory").0;
    let fund_after = s.engine.insurance_fund(BTC).unwrap();
    assert!(
        result.is_err() || fund_after >= fund_before,
        "the fund paid {} for the dump; the pair went {pair_before} → {pair_after}",
        fund_before.0 - fund_after.0
    );
    assert!(pair_after <= pair_before, "the colluding pair gained {}", pair_after - pair_before);
}

/// (d) POPCAT: a large bid wall under the price is pulled; the book's mid falls to the edge
/// of the mark band at once, but the mark follows only through the EMA, so a 40× long is not
/// liquidated by it.
#[test]
fn pulling_a_bid_wall_does_not_move_the_mark_with_it() {
    let mut s = Sim::btc(P100K);
    s.deposit("mm", 10_000_000);
    s.deposit("whale", 10_000_000);
    s.deposit("long", 2_600);
    s.deposit("bob", 1_000_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("long", Side::Buy, 1000, P100K).expect("fills"); // ≈40×: equity 2,575
                                                             // The wall: 50 BTC bid at −0.5%; a thin ask at +0.1% and a stub bid at −10%.
    let wall = s.limit("whale", Side::Buy, 50_000, 995_000).expect("wall rests");
    let wall_id = wall
        .iter()
        .find_map(|e| match e {
            Event::OrderAccepted { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    s.limit("mm", Side::Sell, 10, 1_001_000).expect("ask rests");
    s.limit("mm", Side::Buy, 10, 900_000).expect("stub bid rests");
    s.idle(300); // the EMA settles near the walled mid (−0.2%)
    let settled = s.mark().0;
    assert!((P100K - 2_000..P100K).contains(&settled), "settled mark {settled}");
    s.act("whale", Action::Cancel { sub: 0, market: BTC, id: wall_id }).expect("pulled");
    // Mid now (900,000 + 1,001,000) / 2 = 950,500, clamped to 980,000 (−2%).
    let mut mark = s.mark().0;
    let start = mark;
    let mut liquidations = 0;
    for _ in 0..10 {
        let events = s.block(vec![]);
        liquidations += Sim::count(&events, |e| matches!(e, Event::LiquidationStarted { .. }));
        let m = s.mark().0;
        assert!(mark.abs_diff(m) <= 2 * mark_band(P100K) / 151 + 1, "mark jumped {mark} → {m}");
        assert!(m >= P100K - mark_band(P100K));
        mark = m;
    }
    assert!(start - mark < 2_000, "10 blocks moved the mark {start} → {mark}");
    assert_eq!(liquidations, 0, "the long was liquidated by a pulled wall");
    assert_eq!(s.position("long"), 1000);
}
