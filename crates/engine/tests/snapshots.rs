//! The engine's interface to the chain's state commitment: `Clone`, dirty tracking and
//! snapshots.
//!
//! The dirty-tracking contract itself (every account whose snapshot changed is in the dirty
//! set) is checked after every block of every test by the harness. These tests add what that
//! check cannot see: clones replaying the same blocks identically, the set's precision (who is
//! *not* in it), changes made between blocks, a waterfall step that only changes the
//! waterfall state, and the snapshots' contents.

mod harness;

use harness::{snapshots_of, state_of, usd, Sim, BTC};
use novation_engine::{
    Action, AuctionId, BucketSnapshot, Engine, Event, Expiry, MarketId, MarketParams, MarketStatus,
    OrderRequest, Rejection, TimeInForce, Tx,
};
use novation_types::{AccountId, ClientOrderId, OrderId, PriceTicks, QtyLots, Side};

/// $100,000 in ticks of $0.1.
const P100K: u64 = 1_000_000;
const ETH: MarketId = MarketId(1);

/// Runs one block on `s` and the same block on `twin`; both must return the same events and
/// dirty sets and end with the same snapshots and the same full state.
fn block_both(s: &mut Sim, twin: &mut Engine, txs: Vec<Tx>) -> Vec<Event> {
    let events = s.block(txs);
    let (ctx, txs) = s.log.last().expect("logged").clone();
    let twin_events = twin.apply_block(&ctx, &txs).expect("the twin accepts the block");
    assert_eq!(twin_events, events, "events differ at height {}", s.height);
    assert_eq!(twin.take_dirty_accounts(), s.last_dirty, "dirty sets differ at {}", s.height);
    assert_eq!(snapshots_of(twin), snapshots_of(&s.engine), "snapshots differ at {}", s.height);
    assert_eq!(state_of(twin), state_of(&s.engine), "states differ at {}", s.height);
    events
}

/// Alice holds 1 BTC long at $100k with $2,100 (bob is short); nobody bids; the index falls
/// 1.5%, so she is below maintenance and the book cannot absorb her position.
fn stranded_long(insurance_cap_usd: i128, seed_insurance: i128) -> Sim {
    let mut params = MarketParams::example("BTC-PERP");
    params.liquidation.insurance_position_notional_max = usd(insurance_cap_usd);
    let mut s = Sim::with_markets(vec![params], &[P100K]);
    if seed_insurance > 0 {
        s.engine.seed_insurance(BTC, usd(seed_insurance)).expect("seed");
    }
    s.deposit("alice", 2_100);
    s.deposit("bob", 1_000_000);
    s.deposit("keeper", 1_000_000);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests");
    s.limit("alice", Side::Buy, 1000, P100K).expect("fills");
    s.set_index(BTC, 985_000);
    s
}

fn auction_of(events: &[Event]) -> Option<AuctionId> {
    events.iter().find_map(|e| match e {
        Event::AuctionOpened { auction, .. } => Some(*auction),
        _ => None,
    })
}

#[test]
fn a_clone_taken_mid_run_replays_a_liquidation_auction_identically() {
    let mut s = stranded_long(5_000_000, 0);
    let mut twin = s.engine.clone();
    let mut events = block_both(&mut s, &mut twin, vec![]);
    events.extend(block_both(&mut s, &mut twin, vec![]));
    let auction = auction_of(&events).expect("auction opened");
    // Mid-auction the waterfall and the auction are in the snapshots.
    let alice = s.id("alice");
    let global = s.engine.global_snapshot();
    assert_eq!(global.auctions.len(), 1);
    assert_eq!((global.auctions[0].id, global.auctions[0].account), (auction, alice));
    assert_eq!(global.liquidations.len(), 1);
    let snap = s.engine.account_snapshot(alice).expect("alice");
    assert_eq!(snap.liquidating, global.liquidations);
    assert_eq!(snap.liquidating[0].auction, Some(auction));
    // Speculative execution: a clone runs a block that never becomes final; the original is
    // untouched.
    let before = state_of(&s.engine);
    let mut speculative = s.engine.clone();
    let ctx = novation_engine::BlockContext {
        height: s.height + 1,
        time_ms: s.time_ms + 1,
        index_prices: vec![(BTC, PriceTicks(900_000))],
    };
    speculative.apply_block(&ctx, &[]).expect("speculative block");
    assert_eq!(state_of(&s.engine), before);
    // The keeper takes the auction; the waterfall ends.
    let price = s.engine.auction_price(auction).expect("price");
    let bid = Action::BidLiquidation { sub: 0, auction, price_limit: price };
    let events = block_both(&mut s, &mut twin, vec![Sim::tx("keeper", bid)]);
    assert!(events.iter().any(|e| matches!(e, Event::AuctionWon { .. })), "{events:#?}");
    assert!(s.last_dirty.contains(&s.id("keeper")) && s.last_dirty.contains(&alice));
    let events = block_both(&mut s, &mut twin, vec![]);
    assert!(events.iter().any(|e| matches!(e, Event::LiquidationEnded { .. })), "{events:#?}");
    let global = s.engine.global_snapshot();
    assert!(global.auctions.is_empty() && global.liquidations.is_empty());
}

#[test]
fn a_clone_taken_mid_run_replays_the_backstop_and_adl_identically() {
    let mut s = stranded_long(1, 100_000);
    s.idle(1);
    let mut twin = s.engine.clone();
    let mut all = Vec::new();
    for _ in 0..15 {
        let events = block_both(&mut s, &mut twin, vec![]);
        if events.iter().any(|e| matches!(e, Event::Deleveraged { .. })) {
            // The counterparty, alice and the insurance fund (it took what it could).
            assert!(s.last_dirty.contains(&s.id("bob")), "{:?}", s.last_dirty);
            assert!(s.last_dirty.contains(&s.id("alice")), "{:?}", s.last_dirty);
        }
        all.extend(events);
    }
    assert!(all.iter().any(|e| matches!(e, Event::Deleveraged { .. })), "{all:#?}");
    assert_eq!(s.position("alice"), 0);
    // The keeper held nothing and was never touched.
    assert!(!s.last_dirty.contains(&s.id("keeper")));
}

#[test]
fn the_dirty_set_names_only_the_accounts_a_block_changed() {
    let mut s = Sim::btc(P100K);
    for name in ["alice", "bob", "carol"] {
        s.deposit(name, 10_000);
        assert_eq!(s.last_dirty, vec![s.id(name)]);
    }
    let (alice, bob, carol) = (s.id("alice"), s.id("bob"), s.id("carol"));
    s.limit("carol", Side::Buy, 5, P100K - 1_000).expect("rests");
    assert_eq!(s.last_dirty, vec![carol]);
    s.limit("bob", Side::Sell, 10, P100K).expect("rests");
    assert_eq!(s.last_dirty, vec![bob]);
    // A fill changes maker and taker, nobody else (fees go to the fee pool).
    s.limit("alice", Side::Buy, 4, P100K).expect("fills");
    assert_eq!(s.last_dirty, vec![alice, bob]);
    // Nothing happens: nobody changes.
    s.idle(1);
    assert_eq!(s.last_dirty, vec![]);
    // A rejected action changes nobody.
    let carols = s.engine.market(BTC).expect("btc").book.orders_of(carol)[0].id;
    s.rejects(
        "bob",
        Action::Cancel { sub: 0, market: BTC, id: carols },
        Rejection::Book(novation_engine::BookReject::NotOwner),
    );
    assert_eq!(s.last_dirty, vec![]);
    // A modify in place changes its owner only.
    let modify = Action::Modify {
        sub: 0,
        market: BTC,
        id: carols,
        price: PriceTicks(P100K - 1_000),
        qty: QtyLots(3),
    };
    s.act("carol", modify).expect("modified");
    assert_eq!(s.last_dirty, vec![carol]);
    // An expiry changes the order's owner only.
    let mut req = OrderRequest::limit(0, BTC, Side::Sell, P100K + 1_000, 2);
    req.expiry = Expiry::Height(s.height + 2);
    s.order("bob", req).expect("rests");
    s.idle(1);
    assert_eq!(s.last_dirty, vec![]);
    let events = s.idle(1);
    let expired =
        |e: &Event| matches!(e, Event::Book { event: novation_book::Event::Expired { .. }, .. });
    assert!(events.iter().any(expired), "{events:#?}");
    assert_eq!(s.last_dirty, vec![bob]);
}

#[test]
fn changes_between_blocks_are_in_the_next_take() {
    let mut s = Sim::btc(P100K);
    let insurance = s.engine.market(BTC).expect("btc").insurance;
    s.engine.seed_insurance(BTC, usd(1_000)).expect("seed");
    assert_eq!(s.take_dirty_checked(&[]), vec![insurance]);
    // A governance status change touches no account; the market snapshot shows it.
    s.engine.set_market_status(BTC, MarketStatus::PostOnly).expect("status");
    assert_eq!(s.take_dirty_checked(&[]), vec![]);
    let m = s.engine.market_snapshot(BTC).expect("btc");
    assert_eq!((m.status, m.base_status), (MarketStatus::PostOnly, MarketStatus::PostOnly));
    // A second market creates its insurance fund's account.
    s.engine.add_market(MarketParams::example("ETH-PERP")).expect("eth");
    let eth_insurance = s.engine.market(ETH).expect("eth").insurance;
    assert_eq!(s.take_dirty_checked(&[]), vec![eth_insurance]);
}

/// The one waterfall step that changes nothing but the waterfall state: step 1 (cancel the
/// bucket's orders) in a halted market, where there is nothing to cancel and nothing to close.
#[test]
fn a_waterfall_step_that_only_changes_the_waterfall_state_dirties_its_account() {
    let mut s = Sim::btc(P100K);
    s.deposit("alice", 1_000_000);
    s.deposit("bob", 2_100);
    s.limit("bob", Side::Sell, 1000, P100K).expect("rests"); // 1 BTC short at ~47x if filled
                                                             // The index rises 1.5%; bob's ask is still within the band.
    s.set_index(BTC, 1_015_000);
    s.idle(3);
    let bob = s.id("bob");
    let events = s.limit("alice", Side::Buy, 1000, P100K).expect("fills bob");
    let started =
        |e: &Event| matches!(e, Event::LiquidationStarted { account, .. } if *account == bob);
    assert!(events.iter().any(started), "{events:#?}");
    let before = s.engine.account_snapshot(bob).expect("bob");
    assert!(!before.liquidating[0].orders_cancelled);
    s.engine.set_market_status(BTC, MarketStatus::Halted).expect("halt");
    let events = s.idle(1);
    assert!(
        events.iter().any(|e| matches!(e, Event::LiquidationOrdersCancelled { orders: 0, .. })),
        "{events:#?}"
    );
    assert_eq!(s.last_dirty, vec![bob]);
    let after = s.engine.account_snapshot(bob).expect("bob");
    assert!(after.liquidating[0].orders_cancelled);
    assert_eq!((after.cross, after.orders), (before.cross, before.orders));
}

#[test]
fn snapshots_hold_the_orders_legs_and_market_state() {
    let markets = vec![MarketParams::example("BTC-PERP"), MarketParams::example("ETH-PERP")];
    let mut s = Sim::with_markets(markets, &[P100K, 30_000]);
    s.deposit("alice", 100_000);
    let alice = s.id("alice");
    let accepted = |events: &[Event]| -> OrderId {
        events
            .iter()
            .find_map(|e| match e {
                Event::OrderAccepted { id, .. } => Some(*id),
                _ => None,
            })
            .expect("accepted")
    };
    let eth = accepted(
        &s.order("alice", OrderRequest::limit(0, ETH, Side::Sell, 30_100, 7)).expect("eth"),
    );
    let mut req = OrderRequest::limit(0, BTC, Side::Buy, P100K - 100, 5);
    req.client_id = Some(ClientOrderId(42));
    req.expiry = Expiry::Height(1_000);
    let first = accepted(&s.order("alice", req).expect("btc 1"));
    let mut req = OrderRequest::limit(0, BTC, Side::Buy, P100K - 100, 6);
    req.tif = TimeInForce::PostOnly;
    let second = accepted(&s.order("alice", req).expect("btc 2"));
    // Raising the first order's size re-queues it behind the second, with its id.
    let modify = Action::Modify {
        sub: 0,
        market: BTC,
        id: first,
        price: PriceTicks(P100K - 100),
        qty: QtyLots(8),
    };
    s.act("alice", modify).expect("modified");

    let snap = s.engine.account_snapshot(alice).expect("alice");
    let keys: Vec<_> = snap.orders.iter().map(|o| (o.market, o.id)).collect();
    assert_eq!(keys, vec![(BTC, first), (BTC, second), (ETH, eth)]);
    assert_eq!(snap.orders, s.engine.orders_of(alice));
    let o = snap.orders[0];
    assert_eq!((o.side, o.price, o.remaining), (Side::Buy, PriceTicks(P100K - 100), QtyLots(8)));
    assert_eq!(
        (o.client_id, o.expiry, o.tif),
        (Some(ClientOrderId(42)), Expiry::Height(1_000), TimeInForce::Gtc)
    );
    assert_eq!(snap.orders[1].tif, TimeInForce::PostOnly);
    let legs: Vec<_> =
        snap.cross.legs.iter().map(|l| (l.market, l.size, l.open_buy, l.open_sell)).collect();
    assert_eq!(legs, vec![(BTC, 0, 14, 0), (ETH, 0, 0, 7)]);
    assert!(snap.isolated.is_empty() && snap.liquidating.is_empty());
    // Queue order inside a level is not in the snapshots (module doc): the book ranks the
    // modified order last although its id is lower.
    let queue: Vec<_> =
        s.engine.market(BTC).expect("btc").book.level_orders(PriceTicks(P100K - 100));
    assert_eq!(queue.iter().map(|o| o.id).collect::<Vec<_>>(), vec![second, first]);

    let m = s.engine.market_snapshot(BTC).expect("btc");
    let bid = m.book.best_bid.expect("bid");
    assert_eq!((bid.price, bid.qty, bid.orders), (PriceTicks(P100K - 100), QtyLots(14), 2));
    assert_eq!((m.book.best_ask, m.book.orders, m.book.levels), (None, 2, 1));
    assert_eq!(
        (m.index, m.mark, m.status),
        (Some(PriceTicks(P100K)), s.mark(), MarketStatus::Active)
    );
    assert!(s.engine.market_snapshot(MarketId(2)).is_none());

    let g = s.engine.global_snapshot();
    assert_eq!((g.accounts, g.markets), (3, 2)); // two insurance funds and alice
    assert_eq!(g.next_order_id, second.0 + 1);
    assert_eq!((g.now.height, g.now.time_ms), (s.height, s.time_ms));
    assert!(s.engine.account_snapshot(AccountId(3)).is_none());
    // An isolated bucket appears in the snapshot.
    s.act("alice", Action::Cancel { sub: 0, market: ETH, id: eth }).expect("cancelled");
    s.act("alice", Action::SetMarginMode { sub: 0, market: ETH, isolated: true }).expect("iso");
    let adjust = Action::AdjustIsolatedMargin { sub: 0, market: ETH, amount: usd(1_000) };
    s.act("alice", adjust).expect("funded");
    let snap = s.engine.account_snapshot(alice).expect("alice");
    let isolated = BucketSnapshot { cash: usd(1_000), legs: vec![], watch: vec![] };
    assert_eq!(snap.isolated, vec![(ETH, isolated)]);
    assert_eq!(snap.cross.cash, usd(99_000));
    assert_eq!(snap.cross.legs.iter().map(|l| l.market).collect::<Vec<_>>(), vec![BTC]);
}
