//! First end-to-end checks of the engine: trading, margin, funding, liquidation.

mod harness;

use harness::{usd, Sim, BTC};
use novation_engine::{Action, Event, OrderRequest, Rejection};
use novation_types::{Quote, Side};

/// $100,000 in ticks of $0.1.
const P100K: u64 = 1_000_000;

#[test]
fn a_trade_moves_cash_and_positions_and_charges_fees() {
    let mut s = Sim::btc(P100K);
    s.deposit("alice", 10_000);
    s.deposit("bob", 10_000);
    s.limit("bob", Side::Sell, 10, P100K).expect("rests");
    s.limit("alice", Side::Buy, 10, P100K).expect("fills");
    assert_eq!(s.position("alice"), 10);
    assert_eq!(s.position("bob"), -10);
    // 0.01 BTC at $100k = $1,000; taker 2.5 bps = $0.25; maker rebate 0.5 bps = $0.05.
    assert_eq!(s.cash("alice"), Quote(usd(10_000).0 - usd(1_000).0 - 250_000));
    assert_eq!(s.cash("bob"), Quote(usd(10_000).0 + usd(1_000).0 + 50_000));
    assert_eq!(s.engine.fee_pool(), Quote(200_000));
}

#[test]
fn orders_beyond_initial_margin_are_refused_without_a_trace() {
    let mut s = Sim::btc(P100K);
    s.deposit("alice", 100);
    s.deposit("bob", 100_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    // 1 BTC = $100k at 50x needs $2,000 of initial margin.
    s.rejects(
        "alice",
        Action::Place(OrderRequest::limit(0, BTC, Side::Buy, P100K, 1000)),
        Rejection::InsufficientMargin,
    );
    // 0.04 BTC = $4,000 needs $80 + fee: accepted.
    s.limit("alice", Side::Buy, 40, P100K).expect("fills");
    assert_eq!(s.position("alice"), 40);
}

#[test]
fn liquidation_closes_through_the_book_with_a_penalty() {
    let mut s = Sim::btc(P100K);
    s.deposit("alice", 2_100);
    s.deposit("bob", 1_000_000);
    s.deposit("carol", 1_000_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("alice", Side::Buy, 1000, P100K).expect("fills"); // 1 BTC at ~47x
    assert_eq!(s.position("alice"), 1000);
    // Carol bids below.
    s.limit("carol", Side::Buy, 1000, 990_000).expect("rests");
    // Index falls 1.5%: alice's equity ≈ $2,100 − $1,500 − fees < maintenance $1,000.
    s.set_index(BTC, 985_000);
    let events = s.idle(3);
    assert!(events.iter().any(|e| matches!(e, Event::LiquidationStarted { .. })), "{events:#?}");
    assert!(events.iter().any(|e| matches!(e, Event::LiquidationClosed { .. })), "{events:#?}");
    assert_eq!(s.position("alice"), 0, "{events:#?}");
    assert!(s.engine.insurance_fund(BTC).unwrap().0 > 0);
}

#[test]
fn funding_vector_premium_one_percent_pays_118_75_per_hour() {
    let mut s = Sim::btc(100_000); // $10,000
    s.step_ms = 60_000; // one block per minute
    s.deposit("alice", 100_000);
    s.deposit("bob", 100_000);
    s.deposit("mm", 1_000_000);
    s.limit("bob", Side::Sell, 10_000, 100_000).expect("rests");
    s.limit("alice", Side::Buy, 10_000, 100_000).expect("fills"); // 10 BTC long
                                                                  // Impact notional $500 / 2% = $25,000: quote 5 BTC on each side, both at a 1% premium.
    s.limit("mm", Side::Buy, 5_000, 101_000).expect("bid");
    s.limit("mm", Side::Sell, 5_000, 101_010).expect("ask");
    // Wait for a funding accrual so the next interval samples only this book.
    let mut accruals = 0;
    let mut before = None;
    for _ in 0..200 {
        let events = s.block(vec![]);
        if events.iter().any(|e| matches!(e, Event::Funding { .. })) {
            accruals += 1;
            let v = s.value("alice");
            match before {
                None => before = Some(v.equity.0 - equity_without_funding(&s)),
                Some(b) => {
                    let after = v.equity.0 - equity_without_funding(&s);
                    assert_eq!(b - after, 118_750_000, "alice pays $118.75");
                    break;
                }
            }
        }
    }
    assert!(accruals >= 2);
}

/// Alice's equity as if no funding were pending (cash + position value).
fn equity_without_funding(s: &Sim) -> i128 {
    let acc = s.engine.account(s.id("alice")).unwrap();
    let m = s.engine.market(BTC).unwrap();
    let leg = acc.cross.leg(BTC).unwrap();
    acc.cross.cash.0 + i128::from(leg.size) * i128::from(m.mark.0) * 100
}

/// Alice holds 1 BTC long at $100k with $2,100 (bob is short); nobody bids; the index falls
/// 1.5% so she is below maintenance and the book cannot absorb her position.
fn stranded_long(insurance_cap_usd: i128, seed_insurance: i128) -> Sim {
    let mut params = novation_engine::MarketParams::example("BTC-PERP");
    params.liquidation.insurance_position_notional_max = usd(insurance_cap_usd);
    let mut s = Sim::with_markets(vec![params], &[P100K]);
    if seed_insurance > 0 {
        s.engine.seed_insurance(BTC, usd(seed_insurance)).unwrap();
    }
    s.deposit("alice", 2_100);
    s.deposit("bob", 1_000_000);
    s.deposit("keeper", 1_000_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("alice", Side::Buy, 1000, P100K).expect("fills");
    s.set_index(BTC, 985_000);
    s
}

fn auction_of(events: &[Event]) -> Option<novation_engine::AuctionId> {
    events.iter().find_map(|e| match e {
        Event::AuctionOpened { auction, .. } => Some(*auction),
        _ => None,
    })
}

#[test]
fn unabsorbed_position_goes_to_auction_and_a_keeper_takes_it() {
    let mut s = stranded_long(5_000_000, 0);
    let events = s.idle(2);
    let auction = auction_of(&events).expect("auction opened");
    let price = s.engine.auction_price(auction).unwrap();
    let events = s
        .act("keeper", Action::BidLiquidation { sub: 0, auction, price_limit: price })
        .expect("bid accepted");
    assert!(events.iter().any(|e| matches!(e, Event::AuctionWon { .. })), "{events:#?}");
    assert_eq!(s.position("keeper"), 1000);
    assert_eq!(s.position("alice"), 0);
    let events = s.idle(1);
    assert!(events.iter().any(|e| matches!(e, Event::LiquidationEnded { .. })), "{events:#?}");
}

#[test]
fn unsold_auction_goes_to_the_insurance_fund() {
    let mut s = stranded_long(5_000_000, 100_000);
    let events = s.idle(15);
    assert!(auction_of(&events).is_some());
    assert!(events.iter().any(|e| matches!(e, Event::InsuranceTakeover { .. })), "{events:#?}");
    assert_eq!(s.position("alice"), 0);
    let insurance = s.engine.market(BTC).unwrap().insurance;
    let fund = s.engine.account(insurance).unwrap();
    assert_eq!(fund.cross.leg(BTC).unwrap().size, 1000);
}

#[test]
fn capped_insurance_fund_leads_to_adl_of_the_opposite_side() {
    let mut s = stranded_long(1, 100_000);
    let bob_before = s.position("bob");
    let events = s.idle(15);
    assert!(events.iter().any(|e| matches!(e, Event::Deleveraged { .. })), "{events:#?}");
    assert_eq!(s.position("alice"), 0);
    assert_eq!(s.position("bob"), bob_before + 1000);
    // The keeper held no position and lost nothing.
    assert_eq!(s.cash("keeper"), usd(1_000_000));
}

#[test]
fn liquidation_price_is_the_trigger_of_the_watch() {
    let mut s = Sim::btc(P100K);
    s.deposit("alice", 2_100);
    s.deposit("bob", 1_000_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("alice", Side::Buy, 1000, P100K).expect("fills");
    let p = s.engine.liquidation_price(s.id("alice"), BTC).expect("a long has one");
    // Cash $2,100 - $100,000 - $25 taker fee (2.5 bps); equity(P) = P - 97,925; maintenance
    // 1% of P: liquidatable iff 0.99 P < 97,925, P* = 98,914.14..., so the last liquidatable
    // tick is $98,914.1.
    assert_eq!(p.0, 989_141);
    s.set_index(BTC, p.0 + 1);
    let events = s.idle(3);
    assert!(!events.iter().any(|e| matches!(e, Event::LiquidationStarted { .. })), "{events:#?}");
    s.set_index(BTC, p.0);
    let events = s.idle(3);
    assert!(events.iter().any(|e| matches!(e, Event::LiquidationStarted { .. })), "{events:#?}");
}
