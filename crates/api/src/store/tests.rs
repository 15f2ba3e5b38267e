use commonware_cryptography::sha256::Digest;
use novation_book::Reject;
use novation_engine::{MarketId, MarketStatus};
use novation_types::{OrderId, PriceTicks, QtyLots, Side};

use super::*;

const M: MarketId = MarketId(0);

fn meta() -> MarketMeta {
    MarketMeta {
        id: 0,
        symbol: "BTC-PERP".into(),
        tick_size_nano: 100_000_000,
        lot_size_nano: 1_000_000,
    }
}

fn view(bids: &[(u64, u64)], asks: &[(u64, u64)]) -> MarketView {
    let lv = |v: &[(u64, u64)]| v.iter().map(|&(p, q)| (PriceTicks(p), q)).collect();
    MarketView {
        id: M,
        mark: PriceTicks(1_000),
        index: Some(PriceTicks(1_000)),
        index_height: 1,
        status: MarketStatus::Active,
        open_interest_lots: 0,
        funding_last_ppb: 0,
        funding_predicted_ppb: 0,
        funding_last_ms: None,
        insurance: Quote::ZERO,
        bids: lv(bids),
        asks: lv(asks),
    }
}

fn addr(i: u8) -> Address {
    Address([i; 20])
}

fn block(height: u64, time_ms: u64, events: Vec<Event>, market: MarketView) -> FinalizedBlock {
    let accounts = (0..8u8).map(|i| (AccountId(u32::from(i)), (addr(i), 0))).collect();
    FinalizedBlock {
        height,
        digest: Digest([height as u8; 32]),
        state_root: Digest([1; 32]),
        time_ms,
        parent: Digest([0; 32]),
        observations: 0,
        txs: Vec::new(),
        events,
        accounts,
        markets: vec![market],
    }
}

fn store(cfg: StoreConfig) -> Store {
    Store::new(cfg, 0, 0, vec![MarketStart { meta: meta(), view: None }])
}

fn book(e: BookEvent) -> Event {
    Event::Book { market: M, event: e }
}

fn fill(maker: u64, taker: u64, price: u64, qty: u64, maker_left: u64, taker_left: u64) -> Event {
    book(BookEvent::Fill {
        maker_id: OrderId(maker),
        maker_account: AccountId(1),
        taker_id: OrderId(taker),
        taker_account: AccountId(2),
        taker_side: Side::Buy,
        price: PriceTicks(price),
        qty: QtyLots(qty),
        maker_remaining: QtyLots(maker_left),
        taker_remaining: QtyLots(taker_left),
    })
}

/// A deterministic sequence of pseudo-random numbers.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn random_side(rng: &mut Lcg, base: u64, descending: bool) -> Vec<(u64, u64)> {
    let n = rng.next(BOOK_VIEW_DEPTH as u64 + 1);
    let mut prices: Vec<u64> = (0..n).map(|_| 1 + rng.next(300)).collect();
    prices.sort_unstable();
    prices.dedup();
    let mut v: Vec<(u64, u64)> = prices
        .into_iter()
        .map(|p| if descending { (base - p, 1 + rng.next(5)) } else { (base + p, 1 + rng.next(5)) })
        .collect();
    v.sort_by_key(|l| l.0);
    if descending {
        v.reverse();
    }
    v
}

#[test]
fn book_deltas_reproduce_the_top_levels_exactly() {
    let mut s = store(StoreConfig::default());
    let mut rng = Lcg(7);
    type Levels = Vec<(u64, u64)>;
    let mut client: (u64, Levels, Levels) = (0, Vec::new(), Vec::new());
    for h in 1..=300u64 {
        // Sometimes the book does not change at all.
        let (bids, asks) = if h % 7 == 0 {
            (client.1.clone(), client.2.clone())
        } else {
            (random_side(&mut rng, 1_000, true), random_side(&mut rng, 1_000, false))
        };
        let applied = s.apply(&block(h, h * 1_000, Vec::new(), view(&bids, &asks)));
        let deltas: Vec<&BookDelta> = applied
            .pushes
            .iter()
            .filter_map(|p| match &p.message {
                ServerMessage::Delta(d) => Some(d),
                _ => None,
            })
            .collect();
        if bids == client.1 && asks == client.2 {
            assert!(deltas.is_empty(), "no delta without a change");
            continue;
        }
        assert_eq!(deltas.len(), 1);
        let d = deltas[0];
        assert_eq!(d.prev_seq, client.0, "prev_seq chains");
        assert_eq!(d.seq, client.0 + 1);
        let lv =
            |v: &[w::BookLevel]| v.iter().map(|l| (l.price_ticks, l.qty_lots)).collect::<Vec<_>>();
        client = (
            d.seq,
            apply_side(&client.1, &lv(&d.bids), true),
            apply_side(&client.2, &lv(&d.asks), false),
        );
        assert_eq!(client.1, bids, "bids at height {h}");
        assert_eq!(client.2, asks, "asks at height {h}");
        let rest = s.book_wire(0, BOOK_VIEW_DEPTH).unwrap();
        assert_eq!((rest.seq, rest.height), (d.seq, h));
        assert_eq!(lv(&rest.bids), bids);
    }
}

#[test]
fn candles_roll_over_by_block_time() {
    let mut s = store(StoreConfig::default());
    let t0 = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000; // a day boundary
    let v = view(&[], &[]);
    s.apply(&block(1, t0 + 1_000, vec![fill(1, 2, 100, 1, 5, 0)], v.clone()));
    s.apply(&block(
        2,
        t0 + 30_000,
        vec![fill(1, 3, 120, 2, 3, 0), fill(1, 4, 90, 1, 2, 0)],
        v.clone(),
    ));
    let applied = s.apply(&block(3, t0 + 61_000, vec![fill(1, 5, 110, 1, 1, 0)], v));
    let one = s.candles(0, Interval::M1, 10).unwrap();
    assert_eq!(one.len(), 2);
    assert_eq!(
        (
            one[0].open_ticks,
            one[0].high_ticks,
            one[0].low_ticks,
            one[0].close_ticks,
            one[0].volume_lots,
            one[0].trades
        ),
        (100, 120, 90, 90, 4, 3)
    );
    assert_eq!(one[0].open_time_ms, t0);
    assert_eq!(
        (one[1].open_time_ms, one[1].open_ticks, one[1].close.as_str(), one[1].volume.as_str()),
        (t0 + 60_000, 110, "11", "0.001")
    );
    for i in [Interval::M5, Interval::M15, Interval::H1, Interval::H4, Interval::D1] {
        let c = s.candles(0, i, 10).unwrap();
        assert_eq!(c.len(), 1, "{i:?}");
        assert_eq!(
            (c[0].open_ticks, c[0].close_ticks, c[0].volume_lots, c[0].trades),
            (100, 110, 5, 4)
        );
    }
    // The last block pushed one candle per interval.
    let candles = applied.pushes.iter().filter(|p| matches!(p.topic, Topic::Candles(0, _))).count();
    assert_eq!(candles, 6);
    assert_eq!(s.trades(0, 10).unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), vec![4, 3, 2, 1]);
}

#[test]
fn order_status_follows_the_book() {
    let mut s = store(StoreConfig::default());
    let v = view(&[], &[]);
    let accepted = |id: u64, account: u32, qty: u64| {
        book(BookEvent::Accepted {
            id: OrderId(id),
            account: AccountId(account),
            side: Side::Sell,
            price: PriceTicks(100),
            qty: QtyLots(qty),
        })
    };
    let resting = |id: u64, qty: u64| {
        book(BookEvent::Resting {
            id: OrderId(id),
            account: AccountId(1),
            side: Side::Sell,
            price: PriceTicks(100),
            qty: QtyLots(qty),
        })
    };
    s.apply(&block(1, 1, vec![accepted(1, 1, 5)], v.clone()));
    assert_eq!(s.order(0, 1).unwrap().status, w::OrderState::Accepted);
    s.apply(&block(2, 2, vec![resting(1, 5)], v.clone()));
    let o = s.order(0, 1).unwrap();
    assert_eq!(
        (o.status, o.remaining_lots, o.address.clone()),
        (w::OrderState::Resting, 5, Some(hex(&addr(1).0)))
    );
    s.apply(&block(3, 3, vec![accepted(2, 2, 2), fill(1, 2, 100, 2, 3, 0)], v.clone()));
    let o = s.order(0, 1).unwrap();
    assert_eq!((o.status, o.filled_lots, o.remaining_lots), (w::OrderState::PartiallyFilled, 2, 3));
    assert_eq!(s.order(0, 2).unwrap().status, w::OrderState::Filled);
    s.apply(&block(4, 4, vec![fill(1, 3, 100, 3, 0, 0)], v.clone()));
    assert_eq!(s.order(0, 1).unwrap().status, w::OrderState::Filled);
    // Cancel, expiry and rejection.
    let cancelled = book(BookEvent::Cancelled {
        id: OrderId(4),
        account: AccountId(1),
        side: Side::Sell,
        remaining: QtyLots(1),
        reason: CancelReason::User,
    });
    let expired = book(BookEvent::Expired {
        id: OrderId(5),
        account: AccountId(1),
        side: Side::Sell,
        remaining: QtyLots(1),
    });
    let rejected =
        book(BookEvent::Rejected { id: Some(OrderId(6)), reason: Reject::PostOnlyWouldCross });
    let applied = s.apply(&block(
        5,
        5,
        vec![accepted(4, 1, 1), cancelled, accepted(5, 1, 1), expired, rejected],
        v,
    ));
    let o = s.order(0, 4).unwrap();
    assert_eq!((o.status, o.reason.as_deref()), (w::OrderState::Cancelled, Some("user")));
    assert_eq!(s.order(0, 5).unwrap().status, w::OrderState::Expired);
    assert_eq!(s.order(0, 6).unwrap().status, w::OrderState::Rejected);
    // Order pushes go to the owner's channel.
    assert!(applied.pushes.iter().any(|p| p.topic == Topic::Orders((addr(1), 0))));
    // Fills carry the fee that preceded them.
    let fees = Event::Fees { market: M, maker_fee: Quote(-5), taker_fee: Quote(25) };
    let mut s2 = store(StoreConfig::default());
    s2.apply(&block(1, 1, vec![fees, fill(1, 2, 100, 1, 0, 0)], view(&[], &[])));
    assert_eq!(s2.fills(&(addr(1), 0), 10)[0].fee_atoms, "-5");
    assert_eq!(s2.fills(&(addr(2), 0), 10)[0].fee_atoms, "25");
    assert_eq!(s2.fills(&(addr(2), 0), 10)[0].liquidity, w::Liquidity::Taker);
}

#[test]
fn bounds_evict_the_oldest() {
    let cfg = StoreConfig {
        trades_per_market_max: 3,
        candles_per_interval_max: 2,
        orders_max: 4,
        fill_accounts_max: 2,
        fills_per_account_max: 2,
        blocks_max: 5,
        ..StoreConfig::default()
    };
    let mut s = store(cfg);
    let fill_by = |maker_account: u32, taker_account: u32, id: u64| {
        book(BookEvent::Fill {
            maker_id: OrderId(id),
            maker_account: AccountId(maker_account),
            taker_id: OrderId(id + 1_000),
            taker_account: AccountId(taker_account),
            taker_side: Side::Buy,
            price: PriceTicks(100),
            qty: QtyLots(1),
            maker_remaining: QtyLots(0),
            taker_remaining: QtyLots(0),
        })
    };
    for h in 1..=10u64 {
        // Accounts 1 and 2 trade every block; account 3 + h % 4 now and then.
        let other = 3 + (h % 4) as u32;
        s.apply(&block(
            h,
            h * 60_000,
            vec![fill_by(1, 2, h), fill_by(1, other, h + 100)],
            view(&[], &[]),
        ));
    }
    assert_eq!(s.trades(0, 100).unwrap().len(), 3);
    assert_eq!(s.candles(0, Interval::M1, 100).unwrap().len(), 2);
    let (txs, orders, fill_accounts) = s.sizes();
    assert_eq!((txs, orders, fill_accounts), (0, 4, 2));
    // The most recently filled accounts are kept, each with its newest fills.
    let f = s.fills(&(addr(1), 0), 100);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].height, 10);
    assert!(
        s.fills(&(addr(2), 0), 100).is_empty(),
        "account 2 filled before account 1's last fill"
    );
    assert!(s.block(5).is_none() && s.block(6).is_some() && s.block(10).is_some());
    assert_eq!(s.latest_block().map(|b| b.height), Some(10));
}
