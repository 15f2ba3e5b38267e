//! Differential tests: the real [`Book`] against the naive reference [`Model`] (tests/model),
//! on random operation sequences over a small price range and few accounts, with and without
//! small limits. After every operation: identical events, return values and query answers,
//! `check_invariants`, independent invariants, and "a rejection leaves no trace" (see
//! `model::harness`). Plus hand-written examples of the specification, checked against the
//! model (to test the model) and against the book.
//!
//! `PROPTEST_CASES` sets the number of random sequences (default 300).

mod model;

use model::decode::{Grid, GRIDS};
use model::harness::Harness;
use model::Model;
use novation_book::{
    AccountId, Book, BookLimits, CancelReason, ClientOrderId, Event, Expiry, NewOrder, Now, Op,
    OrderId, PriceTicks, QtyLots, Reject, Side, StpMode, TimeInForce, PRICE_TICKS_MAX,
    QTY_LOTS_MAX,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

// ---------------------------------------------------------------------------------------------
// Operation specs, resolved against the current state when applied (so that cancels and
// modifies hit live orders often).

#[derive(Clone, Copy, Debug)]
enum IdPick {
    /// An id never used before.
    Fresh,
    /// The id of the k-th live order (by id), or a fresh id if the book is empty.
    Live(usize),
    /// A raw id: small (collisions), 0 or `u64::MAX`.
    Raw(u64),
}

#[derive(Clone, Copy, Debug)]
enum AcctPick {
    /// The owner of the order picked.
    Owner,
    Raw(u32),
}

#[derive(Clone, Copy, Debug)]
enum PricePick {
    /// The i-th of the eleven normal prices of the case's grid (95..=105 on the default one).
    Near(u64),
    /// A raw, possibly invalid, price.
    Raw(u64),
    /// The order's current price (modify only; 100 for place).
    Same,
    /// Current price plus a small delta in grid steps (modify only).
    Delta(i8),
    /// The grid's base price plus this many ticks.
    Offset(i16),
    /// The opposite best price, moved `k` grid steps further into the opposite side (crossing).
    Cross(u8),
}

#[derive(Clone, Copy, Debug)]
enum QtyPick {
    Raw(u64),
    /// Modify only: the current remaining size (place: 5).
    Same,
    Smaller(u8),
    Bigger(u8),
}

#[derive(Clone, Copy, Debug)]
enum ExpPick {
    Never,
    /// Current height plus this.
    Height(i8),
    /// Current time plus this many ms.
    Time(i32),
}

#[derive(Clone, Copy, Debug)]
struct PlaceSpec {
    id: IdPick,
    account: u32,
    client_id: Option<u64>,
    side: Side,
    price: PricePick,
    qty: QtyPick,
    tif: TimeInForce,
    expiry: ExpPick,
    reduce_only: bool,
    stp: StpMode,
    market: bool,
}

#[derive(Clone, Copy, Debug)]
enum OpSpec {
    Place(PlaceSpec),
    Cancel { id: IdPick, account: AcctPick },
    CancelByClientId { account: u32, client_id: u64 },
    CancelAll { account: u32, side: Option<Side> },
    Modify { id: IdPick, account: AcctPick, price: PricePick, qty: QtyPick },
    Expire { limit: u32 },
}

#[derive(Clone, Copy, Debug)]
struct StepSpec {
    dh: u64,
    dt: u64,
    op: OpSpec,
}

fn arb_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn arb_id() -> impl Strategy<Value = IdPick> {
    prop_oneof![
        6 => Just(IdPick::Fresh),
        2 => any::<usize>().prop_map(IdPick::Live),
        2 => prop_oneof![8 => 1u64..=12, 1 => Just(0u64), 1 => Just(u64::MAX)].prop_map(IdPick::Raw),
    ]
}

fn arb_target_id() -> impl Strategy<Value = IdPick> {
    prop_oneof![
        8 => any::<usize>().prop_map(IdPick::Live),
        1 => Just(IdPick::Fresh),
        1 => prop_oneof![1u64..=12, Just(0u64), Just(u64::MAX)].prop_map(IdPick::Raw),
    ]
}

fn arb_acct_pick() -> impl Strategy<Value = AcctPick> {
    prop_oneof![8 => Just(AcctPick::Owner), 2 => (0u32..5).prop_map(AcctPick::Raw)]
}

fn raw_price() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1u64),
        Just(2u64),
        Just(u64::MAX),
        Just(PRICE_TICKS_MAX),
        Just(PRICE_TICKS_MAX - 1),
        Just(PRICE_TICKS_MAX + 1),
        90u64..=110,
    ]
}

fn raw_qty() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        Just(QTY_LOTS_MAX),
        Just(QTY_LOTS_MAX + 1),
        Just(1_000u64),
    ]
}

fn arb_tif() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![
        4 => Just(TimeInForce::Gtc),
        2 => Just(TimeInForce::Ioc),
        2 => Just(TimeInForce::Fok),
        2 => Just(TimeInForce::PostOnly),
        2 => Just(TimeInForce::PostOnlySlide),
    ]
}

fn arb_stp() -> impl Strategy<Value = StpMode> {
    prop_oneof![
        Just(StpMode::CancelNewest),
        Just(StpMode::CancelOldest),
        Just(StpMode::CancelBoth),
        Just(StpMode::DecrementAndCancel),
    ]
}

fn arb_expiry() -> impl Strategy<Value = ExpPick> {
    prop_oneof![
        6 => Just(ExpPick::Never),
        2 => (-1i8..=3).prop_map(ExpPick::Height),
        2 => (-500i32..=4_000).prop_map(ExpPick::Time),
    ]
}

fn arb_place() -> impl Strategy<Value = PlaceSpec> {
    let price = prop_oneof![
        16 => (0u64..=10).prop_map(PricePick::Near),
        3 => (0u8..=2).prop_map(PricePick::Cross),
        1 => raw_price().prop_map(PricePick::Raw),
    ];
    let qty = prop_oneof![19 => (1u64..=10).prop_map(QtyPick::Raw), 1 => raw_qty().prop_map(QtyPick::Raw)];
    let client = prop_oneof![
        10 => Just(None),
        9 => (1u64..=4).prop_map(Some),
        1 => prop_oneof![Just(0u64), Just(u64::MAX)].prop_map(Some),
    ];
    let account = prop_oneof![40 => 0u32..4, 1 => Just(u32::MAX)];
    (
        (arb_id(), account, client, arb_side(), price, qty),
        (arb_tif(), arb_expiry(), any::<bool>(), arb_stp(), prop::bool::weighted(0.1)),
    )
        .prop_map(
            |(
                (id, account, client_id, side, price, qty),
                (tif, expiry, reduce_only, stp, market),
            )| {
                PlaceSpec {
                    id,
                    account,
                    client_id,
                    side,
                    price,
                    qty,
                    tif,
                    expiry,
                    reduce_only,
                    stp,
                    market,
                }
            },
        )
}

fn arb_op() -> impl Strategy<Value = OpSpec> {
    let mod_price = prop_oneof![
        4 => Just(PricePick::Same),
        3 => (-3i8..=3).prop_map(PricePick::Delta),
        2 => (0u64..=10).prop_map(PricePick::Near),
        2 => (0u8..=2).prop_map(PricePick::Cross),
        1 => raw_price().prop_map(PricePick::Raw),
    ];
    let mod_qty = prop_oneof![
        2 => Just(QtyPick::Same),
        3 => (1u8..=5).prop_map(QtyPick::Smaller),
        3 => (1u8..=5).prop_map(QtyPick::Bigger),
        1 => (1u64..=10).prop_map(QtyPick::Raw),
        1 => raw_qty().prop_map(QtyPick::Raw),
    ];
    prop_oneof![
        50 => arb_place().prop_map(OpSpec::Place),
        10 => (arb_target_id(), arb_acct_pick()).prop_map(|(id, account)| OpSpec::Cancel { id, account }),
        5 => (
            prop_oneof![9 => 0u32..5, 1 => Just(u32::MAX)],
            prop_oneof![9 => 0u64..=5, 1 => Just(u64::MAX)],
        )
            .prop_map(|(account, client_id)| OpSpec::CancelByClientId { account, client_id }),
        3 => (0u32..5, prop_oneof![Just(None), Just(Some(Side::Buy)), Just(Some(Side::Sell))])
            .prop_map(|(account, side)| OpSpec::CancelAll { account, side }),
        20 => (arb_target_id(), arb_acct_pick(), mod_price, mod_qty)
            .prop_map(|(id, account, price, qty)| OpSpec::Modify { id, account, price, qty }),
        6 => prop_oneof![4 => 0u32..=4, 1 => Just(u32::MAX)].prop_map(|limit| OpSpec::Expire { limit }),
    ]
}

fn arb_step() -> impl Strategy<Value = StepSpec> {
    let dh = prop_oneof![14 => Just(0u64), 4 => Just(1u64), 2 => Just(2u64)];
    let dt = prop_oneof![1 => Just(0u64), 1 => 0u64..=1_500];
    (dh, dt, arb_op()).prop_map(|(dh, dt, op)| StepSpec { dh, dt, op })
}

fn arb_limits() -> impl Strategy<Value = BookLimits> {
    prop_oneof![
        2 => Just(BookLimits::default()),
        2 => Just(model::decode::SMALL),
        3 => (1u32..=6, 1u32..=25, 1u32..=8, 1u32..=6).prop_map(|(a, b, l, s)| BookLimits {
            orders_per_account_max: a,
            orders_per_book_max: b,
            price_levels_max: l,
            match_steps_max: s,
        }),
    ]
}

fn arb_grid() -> impl Strategy<Value = Grid> {
    prop_oneof![3 => Just(GRIDS[0]), 2 => prop::sample::select(GRIDS.to_vec())]
}

/// Turns a spec into a concrete op against the model's current state.
struct Resolver {
    next_fresh: u64,
    grid: Grid,
}

impl Resolver {
    fn id(&mut self, m: &Model, pick: IdPick) -> (OrderId, Option<AccountId>) {
        match pick {
            IdPick::Live(k) => {
                let live: Vec<_> = m.all_orders().iter().map(|o| (o.id, o.account)).collect();
                if live.is_empty() {
                    self.id(m, IdPick::Fresh)
                } else {
                    let (id, a) = live[k % live.len()];
                    (id, Some(a))
                }
            }
            IdPick::Fresh => {
                self.next_fresh += 1;
                (OrderId(self.next_fresh), None)
            }
            IdPick::Raw(id) => (OrderId(id), m.order(OrderId(id)).map(|o| o.account)),
        }
    }

    fn price(
        &self,
        m: &Model,
        pick: PricePick,
        side: Side,
        current: Option<PriceTicks>,
    ) -> PriceTicks {
        let step = self.grid.step;
        let base = current.map_or(self.grid.base, |p| p.0);
        PriceTicks(match pick {
            PricePick::Near(i) => self.grid.near(i),
            PricePick::Raw(p) => p,
            PricePick::Offset(o) => self.grid.base.saturating_add_signed(i64::from(o)),
            PricePick::Same => base,
            PricePick::Delta(d) => {
                base.saturating_add_signed(i64::from(d) * step as i64).clamp(1, PRICE_TICKS_MAX)
            }
            PricePick::Cross(k) => {
                let opp = match side {
                    Side::Buy => m.best_ask(),
                    Side::Sell => m.best_bid(),
                };
                match (opp, side) {
                    (Some(l), Side::Buy) => l.price.0.saturating_add(u64::from(k) * step),
                    (Some(l), Side::Sell) => l.price.0.saturating_sub(u64::from(k) * step).max(1),
                    (None, _) => self.grid.base,
                }
            }
        })
    }

    fn qty(pick: QtyPick, current: Option<QtyLots>) -> QtyLots {
        let base = current.unwrap_or(QtyLots(5)).0;
        QtyLots(match pick {
            QtyPick::Raw(q) => q,
            QtyPick::Same => base,
            QtyPick::Smaller(d) => base.saturating_sub(u64::from(d)).max(1),
            QtyPick::Bigger(d) => base + u64::from(d),
        })
    }

    fn op(&mut self, m: &Model, now: Now, spec: &OpSpec) -> Op {
        match *spec {
            OpSpec::Place(p) => {
                let (id, _) = self.id(m, p.id);
                let price = self.price(m, p.price, p.side, None);
                let qty = Self::qty(p.qty, None);
                let expiry = match p.expiry {
                    ExpPick::Never => Expiry::Never,
                    ExpPick::Height(d) => {
                        Expiry::Height(now.height.saturating_add_signed(i64::from(d)))
                    }
                    ExpPick::Time(d) => {
                        Expiry::TimeMs(now.time_ms.saturating_add_signed(i64::from(d)))
                    }
                };
                let mut o = NewOrder {
                    id,
                    account: AccountId(p.account),
                    client_id: p.client_id.map(ClientOrderId),
                    side: p.side,
                    price,
                    qty,
                    tif: p.tif,
                    expiry,
                    reduce_only: p.reduce_only,
                    stp: p.stp,
                };
                if p.market {
                    let worst = match p.side {
                        Side::Buy => PRICE_TICKS_MAX,
                        Side::Sell => 1,
                    };
                    o = NewOrder {
                        expiry: o.expiry,
                        client_id: o.client_id,
                        stp: o.stp,
                        ..NewOrder::market(id.0, p.account, p.side, worst, qty.0)
                    };
                }
                Op::Place(o)
            }
            OpSpec::Cancel { id, account } => {
                let (id, owner) = self.id(m, id);
                Op::Cancel { account: pick_account(account, owner), id }
            }
            OpSpec::CancelByClientId { account, client_id } => Op::CancelByClientId {
                account: AccountId(account),
                client_id: ClientOrderId(client_id),
            },
            OpSpec::CancelAll { account, side } => {
                Op::CancelAll { account: AccountId(account), side }
            }
            OpSpec::Modify { id, account, price, qty } => {
                let (id, owner) = self.id(m, id);
                let cur = m.order(id);
                let side = cur.map_or(Side::Buy, |o| o.side);
                Op::Modify {
                    account: pick_account(account, owner),
                    id,
                    price: self.price(m, price, side, cur.map(|o| o.price)),
                    qty: Self::qty(qty, cur.map(|o| o.qty)),
                }
            }
            OpSpec::Expire { limit } => Op::Expire { limit },
        }
    }
}

fn pick_account(pick: AcctPick, owner: Option<AccountId>) -> AccountId {
    match (pick, owner) {
        (AcctPick::Owner, Some(a)) => a,
        (AcctPick::Owner, None) => AccountId(0),
        (AcctPick::Raw(a), _) => AccountId(a),
    }
}

fn run_specs(limits: BookLimits, grid: Grid, steps: &[StepSpec]) -> Result<(), String> {
    let mut h = Harness::new(limits)?;
    let mut r = Resolver { next_fresh: 1_000, grid };
    let mut now = Now::new(10, 1_000_000);
    let mut ops = Vec::with_capacity(steps.len());
    for s in steps {
        now.height += s.dh;
        now.time_ms += s.dt;
        let op = r.op(&h.model, now, &s.op);
        ops.push((now, op));
        h.step(now, &op)?;
    }
    drop(h);
    // Once more through `Harness::run`, which also asks the extreme queries at the end.
    Harness::run(limits, &ops).map(|_| ())
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// The model alone keeps the invariants (tests the model and the invariant checks, with no book).
#[test]
fn model_alone_keeps_invariants() {
    let config = Config { cases: cases(300), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = (arb_limits(), arb_grid(), prop::collection::vec(arb_step(), 1..200));
    let result = runner.run(&strategy, |(limits, grid, steps)| {
        let mut m = Model::new(limits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut r = Resolver { next_fresh: 1_000, grid };
        let mut now = Now::new(10, 1_000_000);
        let mut out = Vec::new();
        for s in &steps {
            now.height += s.dh;
            now.time_ms += s.dt;
            let op = r.op(&m, now, &s.op);
            out.clear();
            m.apply(now, &op, &mut out);
            model::harness::invariants(&m)
                .map_err(|e| TestCaseError::fail(format!("after {op:?} -> {out:?}: {e}")))?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// What an operation's events show happened, as coarse labels (for generator coverage).
fn outcome_labels(op: &Op, events: &[Event], labels: &mut std::collections::BTreeSet<String>) {
    let kind = match op {
        Op::Place(o) => format!("place {:?}", o.tif),
        Op::Cancel { .. } => "cancel".into(),
        Op::CancelByClientId { .. } => "cancel_by_client_id".into(),
        Op::CancelAll { .. } => "cancel_all".into(),
        Op::Modify { .. } => "modify".into(),
        Op::Expire { .. } => "expire".into(),
    };
    for e in events {
        let l = match e {
            Event::Rejected { reason, .. } => format!("{kind}: rejected {reason:?}"),
            Event::Cancelled { reason, .. } => format!("cancelled {reason:?}"),
            Event::Modified { kept_priority, .. } => format!("modified kept={kept_priority}"),
            Event::Accepted { price, .. } => match op {
                Op::Place(o) if o.price != *price => "accepted slid".into(),
                _ => format!("{kind}: accepted"),
            },
            Event::Fill { maker_remaining, taker_remaining, .. } => {
                format!(
                    "fill maker_left={} taker_left={}",
                    maker_remaining.0 > 0,
                    taker_remaining.0 > 0
                )
            }
            Event::SelfTradeDecrement { maker_remaining, taker_remaining, .. } => {
                format!(
                    "decrement maker_left={} taker_left={}",
                    maker_remaining.0 > 0,
                    taker_remaining.0 > 0
                )
            }
            Event::Resting { .. } => format!("{kind}: resting"),
            Event::Expired { .. } => format!("{kind}: expired"),
        };
        labels.insert(l);
    }
}

/// Every outcome the specification describes is reached by the generators (checked on the model
/// alone, so it says something about the generators, not the book).
#[test]
fn generators_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::deterministic();
    let strategy = (arb_limits(), arb_grid(), prop::collection::vec(arb_step(), 1..200));
    let mut labels = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let (limits, grid, steps) = strategy.new_tree(&mut runner).unwrap().current();
        let mut m = Model::new(limits).unwrap();
        let mut r = Resolver { next_fresh: 1_000, grid };
        let mut now = Now::new(10, 1_000_000);
        let mut out = Vec::new();
        for s in &steps {
            now.height += s.dh;
            now.time_ms += s.dt;
            let op = r.op(&m, now, &s.op);
            out.clear();
            m.apply(now, &op, &mut out);
            outcome_labels(&op, &out, &mut labels);
        }
    }
    let mut decoded = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let bytes =
            prop::collection::vec(any::<u8>(), 0..2048).new_tree(&mut runner).unwrap().current();
        let d = model::decode::decode(&bytes);
        let mut m = Model::new(d.limits).unwrap();
        let mut out = Vec::new();
        for (now, op) in &d.ops {
            out.clear();
            m.apply(*now, op, &mut out);
            outcome_labels(op, &out, &mut decoded);
        }
    }
    let mut want: Vec<String> = Vec::new();
    let place_rejects = [
        Reject::ZeroQuantity,
        Reject::QuantityTooLarge,
        Reject::ZeroPrice,
        Reject::PriceTooLarge,
        Reject::ExpiredAtEntry,
        Reject::DuplicateOrderId,
        Reject::DuplicateClientOrderId,
    ];
    for tif in [
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
        TimeInForce::PostOnly,
        TimeInForce::PostOnlySlide,
    ] {
        want.push(format!("place {tif:?}: accepted"));
        for r in place_rejects {
            want.push(format!("place {tif:?}: rejected {r:?}"));
        }
    }
    for tif in [TimeInForce::Gtc, TimeInForce::PostOnly, TimeInForce::PostOnlySlide] {
        for r in [Reject::AccountOrderLimit, Reject::BookOrderLimit, Reject::PriceLevelLimit] {
            want.push(format!("place {tif:?}: rejected {r:?}"));
        }
        want.push(format!("place {tif:?}: resting"));
    }
    want.push("place PostOnly: rejected PostOnlyWouldCross".into());
    want.push("place PostOnlySlide: rejected PostOnlyWouldCross".into());
    want.push("place Fok: rejected FokWouldNotFill".into());
    want.push("accepted slid".into());
    for r in [
        Reject::UnknownOrder,
        Reject::NotOwner,
        Reject::ZeroQuantity,
        Reject::QuantityTooLarge,
        Reject::ZeroPrice,
        Reject::PriceTooLarge,
        Reject::OrderExpired,
        Reject::PriceLevelLimit,
        Reject::PostOnlyWouldCross,
    ] {
        want.push(format!("modify: rejected {r:?}"));
    }
    for r in [Reject::UnknownOrder, Reject::NotOwner] {
        want.push(format!("cancel: rejected {r:?}"));
    }
    want.push("cancel_by_client_id: rejected UnknownOrder".into());
    for r in ["User", "SelfTrade", "Unfilled", "MatchLimit"] {
        want.push(format!("cancelled {r}"));
    }
    // (Both left is impossible: a step takes the smaller size.)
    for (a, b) in [(false, false), (false, true), (true, false)] {
        want.push(format!("fill maker_left={a} taker_left={b}"));
        want.push(format!("decrement maker_left={a} taker_left={b}"));
    }
    want.extend(
        ["modified kept=true", "modified kept=false", "modify: resting", "expire: expired"]
            .map(String::from),
    );
    for tif in ["Gtc", "Ioc", "Fok", "PostOnly", "PostOnlySlide"] {
        want.push(format!("place {tif}: expired"));
    }
    want.push("modify: expired".into());
    let missing: Vec<&String> = want.iter().filter(|w| !labels.contains(*w)).collect();
    assert!(
        missing.is_empty(),
        "proptest generator never reached: {missing:#?}\nreached: {labels:#?}"
    );
    let missing: Vec<&String> = want.iter().filter(|w| !decoded.contains(*w)).collect();
    assert!(missing.is_empty(), "byte decoder never reached: {missing:#?}\nreached: {decoded:#?}");
}

#[test]
fn book_matches_model_on_random_sequences() {
    let config = Config { cases: cases(300), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = (arb_limits(), arb_grid(), prop::collection::vec(arb_step(), 1..200));
    let result = runner.run(&strategy, |(limits, grid, steps)| {
        run_specs(limits, grid, &steps).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn arb_churn_step() -> impl Strategy<Value = StepSpec> {
    arb_churn_step_among(40)
}

fn arb_churn_step_among(accounts: u32) -> impl Strategy<Value = StepSpec> {
    // Many accounts with spread-out ids, a big client-id space, prices over a few hundred ticks
    // (several ladder pages), mostly non-crossing placements so that hundreds of orders live.
    let account = (0..accounts).prop_map(|a| a.wrapping_mul(104_729) % 1_000_003);
    let place = (
        (prop_oneof![8 => Just(IdPick::Fresh), 2 => (1u64..=2_000).prop_map(IdPick::Raw)], account),
        (prop_oneof![1 => Just(None), 1 => (1u64..=64).prop_map(Some)], arb_side()),
        (1i16..=200, prop::bool::weighted(0.1), 1u64..=20),
        (
            prop_oneof![8 => Just(TimeInForce::Gtc), 1 => Just(TimeInForce::PostOnly), 1 => Just(TimeInForce::Ioc)],
            prop_oneof![8 => Just(ExpPick::Never), 1 => (0i8..=20).prop_map(ExpPick::Height), 1 => (0i32..=20_000).prop_map(ExpPick::Time)],
            arb_stp(),
        ),
    )
        .prop_map(|((id, account), (client_id, side), (off, cross, qty), (tif, expiry, stp))| {
            let off = if cross { -off / 10 } else { off };
            let price = PricePick::Offset(if side == Side::Buy { -off } else { off });
            OpSpec::Place(PlaceSpec {
                id,
                account,
                client_id,
                side,
                price,
                qty: QtyPick::Raw(qty),
                tif,
                expiry,
                reduce_only: false,
                stp,
                market: false,
            })
        });
    let op = prop_oneof![
        55 => place,
        15 => any::<usize>().prop_map(|k| OpSpec::Cancel { id: IdPick::Live(k), account: AcctPick::Owner }),
        10 => (any::<usize>(), -30i8..=30, prop_oneof![Just(QtyPick::Same), (1u8..=5).prop_map(QtyPick::Smaller), (1u8..=5).prop_map(QtyPick::Bigger)])
            .prop_map(|(k, d, qty)| OpSpec::Modify { id: IdPick::Live(k), account: AcctPick::Owner, price: PricePick::Delta(d), qty }),
        2 => ((0..accounts), prop_oneof![Just(None), Just(Some(Side::Buy)), Just(Some(Side::Sell))])
            .prop_map(|(a, side)| OpSpec::CancelAll { account: a.wrapping_mul(104_729) % 1_000_003, side }),
        5 => ((0..accounts).prop_map(|a| a.wrapping_mul(104_729) % 1_000_003), 1u64..=64)
            .prop_map(|(account, client_id)| OpSpec::CancelByClientId { account, client_id }),
        5 => (0u32..=20).prop_map(|limit| OpSpec::Expire { limit }),
    ];
    let dh = prop_oneof![9 => Just(0u64), 1 => Just(1u64)];
    (dh, 0u64..=200, op).prop_map(|(dh, dt, op)| StepSpec { dh, dt, op })
}

/// Long runs with hundreds of live orders: the book's index tables, free lists and ladder pages
/// grow, shrink and get reused; books made by `with_capacity` too. Full query comparison every
/// 25 operations (events and `check_invariants` after each).
#[test]
fn book_matches_model_under_churn() {
    let config =
        Config { cases: cases(300) / 75 + 1, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = (
        prop_oneof![Just(None), Just(Some(0usize)), Just(Some(1)), Just(Some(100))],
        prop::collection::vec(arb_churn_step(), 2_000..3_000),
    );
    let result = runner.run(&strategy, |(capacity, steps)| {
        let h =
            Harness::with_capacity(BookLimits::default(), capacity).map_err(TestCaseError::fail)?;
        let mut most = 0;
        run_churn(h, &steps, 25, |m| most = most.max(m.len()))?;
        prop_assert!(most >= 100, "churn never had many live orders: {}", most);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Runs `steps` through `h` on a grid based at 100,000 ticks, comparing every query every
/// `full_every` operations and showing the model to `after` after each one, then expires
/// everything due with a full comparison.
fn run_churn(
    mut h: Harness,
    steps: &[StepSpec],
    full_every: usize,
    mut after: impl FnMut(&Model),
) -> Result<(), TestCaseError> {
    h.full_every = full_every;
    let mut r = Resolver { next_fresh: 1_000_000, grid: Grid { base: 100_000, step: 1 } };
    let mut now = Now::new(10, 1_000_000);
    for s in steps {
        now.height += s.dh;
        now.time_ms += s.dt;
        let op = r.op(&h.model, now, &s.op);
        h.step(now, &op).map_err(TestCaseError::fail)?;
        after(&h.model);
    }
    h.full_every = 1;
    h.step(now, &Op::Expire { limit: 0 }).map_err(TestCaseError::fail)
}

fn arb_moving_step() -> impl Strategy<Value = (i64, StepSpec)> {
    // Mostly a still market, sometimes a small move, rarely a jump of several thousand ticks
    // (beyond the ladder's dense window, so that it recentres and levels live on both sides of
    // it); and a few orders at the ends of the price axis.
    let drift = prop_oneof![40 => Just(0i64), 6 => -60i64..=60, 1 => -9_000i64..=9_000];
    let far_price =
        prop_oneof![Just(1u64), Just(2), Just(PRICE_TICKS_MAX), Just(PRICE_TICKS_MAX - 1)];
    let far = (arb_side(), far_price, 1u64..=20, arb_tif()).prop_map(|(side, price, qty, tif)| {
        StepSpec {
            dh: 0,
            dt: 0,
            op: OpSpec::Place(PlaceSpec {
                id: IdPick::Fresh,
                account: 7,
                client_id: None,
                side,
                price: PricePick::Raw(price),
                qty: QtyPick::Raw(qty),
                tif,
                expiry: ExpPick::Never,
                reduce_only: false,
                stp: StpMode::CancelOldest,
                market: false,
            }),
        }
    });
    (drift, prop_oneof![40 => arb_churn_step(), 1 => far])
}

/// Churn among three accounts, so each holds dozens of live orders: account lists grow past
/// one compaction window (at 20 live orders a list is compacted from 56 pairs) and are
/// compacted a window at a time, from a cursor that wraps, and in whole after a one-sided
/// cancel-all (with forty accounts a list rarely outgrows one window). Cancel-all and
/// `orders_of` then read long lists with stale pairs in them; full query comparison every 10
/// operations.
#[test]
fn book_matches_model_with_deep_account_lists() {
    let config =
        Config { cases: cases(300) / 75 + 1, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(arb_churn_step_among(3), 2_000..3_000);
    let result = runner.run(&strategy, |steps| {
        let h = Harness::new(BookLimits::default()).map_err(TestCaseError::fail)?;
        let mut deepest = 0;
        run_churn(h, &steps, 10, |m| {
            for a in 0..3u32 {
                let account = AccountId(a.wrapping_mul(104_729) % 1_000_003);
                deepest = deepest.max(m.account_order_count(account));
            }
        })?;
        prop_assert!(deepest >= 20, "no account ever held 20 live orders: {}", deepest);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Ticks around a scheduled jump's new base inside which resting orders on the crossed side are
/// cancelled (wider than any offset `arb_churn_step` draws).
const JUMP_MARGIN: u64 = 1_000;

/// A market that moves: the grid's base drifts and jumps by thousands of ticks while hundreds of
/// orders rest, so new best prices appear inside and outside the ladder's dense window, the
/// window recentres with levels on both sides of it, and orders at prices 1 and
/// `PRICE_TICKS_MAX` sit far outside it. Full query comparison every 25 operations.
#[test]
fn book_matches_model_with_a_moving_market() {
    let config =
        Config { cases: cases(300) / 60 + 1, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(arb_moving_step(), 1_500..2_500);
    let result = runner.run(&strategy, |steps| {
        let mut h = Harness::new(BookLimits::default()).map_err(TestCaseError::fail)?;
        h.full_every = 25;
        let mut r = Resolver { next_fresh: 1_000_000, grid: Grid { base: 100_000, step: 1 } };
        let mut now = Now::new(10, 1_000_000);
        let (mut lowest, mut highest) = (u64::MAX, 0);
        // Besides the random drift, two scheduled jumps (a third of the way: to 160,000 ticks;
        // two thirds: to 40,000), so every case moves far whatever the draws. A jump alone does
        // not move the best prices: the new orders would cross the resting ones and trade
        // against them for hundreds of steps (CI once saw a case whose best prices spanned only
        // 15,000 ticks after both jumps). So at a jump every order the new prices would cross
        // (bids above, asks below, the new base, with a margin wider than the orders' offsets)
        // is cancelled through both books; the orders beyond the base stay, far outside the
        // window once it follows the new prices.
        let (first_jump, second_jump) = (steps.len() / 3, steps.len() * 2 / 3);
        for (i, (drift, s)) in steps.iter().enumerate() {
            let jump_to = match i {
                _ if i == first_jump => Some(160_000),
                _ if i == second_jump => Some(40_000),
                _ => None,
            };
            now.height += s.dh;
            now.time_ms += s.dt;
            if let Some(base) = jump_to {
                r.grid.base = base;
                for o in h.model.all_orders() {
                    let crossed = match o.side {
                        Side::Buy => o.price.0.saturating_add(JUMP_MARGIN) > base,
                        Side::Sell => o.price.0 < base + JUMP_MARGIN,
                    };
                    if crossed {
                        let cancel = Op::Cancel { account: o.account, id: o.id };
                        h.step(now, &cancel).map_err(TestCaseError::fail)?;
                    }
                }
            } else {
                r.grid.base = r.grid.base.saturating_add_signed(*drift).clamp(10_000, 1 << 30);
            }
            let op = r.op(&h.model, now, &s.op);
            h.step(now, &op).map_err(TestCaseError::fail)?;
            for best in [h.model.best_bid(), h.model.best_ask()].into_iter().flatten() {
                if best.price.0 > 2 && best.price.0 < PRICE_TICKS_MAX - 1 {
                    lowest = lowest.min(best.price.0);
                    highest = highest.max(best.price.0);
                }
            }
        }
        h.full_every = 1;
        h.step(now, &Op::Expire { limit: 0 }).map_err(TestCaseError::fail)?;
        prop_assert!(
            highest.saturating_sub(lowest) > 60_000,
            "the market never moved far: best prices {lowest}..{highest}, {} steps",
            steps.len()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Same, with the small limits always on and long sequences, so every bound is hit repeatedly.
#[test]
fn book_matches_model_at_the_bounds() {
    let config =
        Config { cases: cases(300) / 3 + 1, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = (arb_grid(), prop::collection::vec(arb_step(), 100..300));
    let result = runner.run(&strategy, |(grid, steps)| {
        run_specs(model::decode::SMALL, grid, &steps).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written examples of the specification. Each one is checked on the model alone (so that a
// model bug shows up as a model bug) and then run through the harness against the book.

const A: u32 = 1;
const B: u32 = 2;
const T0: Now = Now::new(10, 1_000_000);

fn id(n: u64) -> OrderId {
    OrderId(n)
}
fn acc(n: u32) -> AccountId {
    AccountId(n)
}
fn q(n: u64) -> QtyLots {
    QtyLots(n)
}
fn p(n: u64) -> PriceTicks {
    PriceTicks(n)
}
fn place(o: NewOrder) -> Op {
    Op::Place(o)
}
fn buy(i: u64, a: u32, price: u64, qty: u64) -> NewOrder {
    NewOrder::limit(i, a, Side::Buy, price, qty)
}
fn sell(i: u64, a: u32, price: u64, qty: u64) -> NewOrder {
    NewOrder::limit(i, a, Side::Sell, price, qty)
}
fn accepted(o: &NewOrder, price: u64) -> Event {
    Event::Accepted { id: o.id, account: o.account, side: o.side, price: p(price), qty: o.qty }
}
fn resting(o: &NewOrder, price: u64, qty: u64) -> Event {
    Event::Resting { id: o.id, account: o.account, side: o.side, price: p(price), qty: q(qty) }
}
fn fill(maker: &NewOrder, taker: &NewOrder, price: u64, qty: u64, mrem: u64, trem: u64) -> Event {
    Event::Fill {
        maker_id: maker.id,
        maker_account: maker.account,
        taker_id: taker.id,
        taker_account: taker.account,
        taker_side: taker.side,
        price: p(price),
        qty: q(qty),
        maker_remaining: q(mrem),
        taker_remaining: q(trem),
    }
}
fn cancelled(o: &NewOrder, remaining: u64, reason: CancelReason) -> Event {
    Event::Cancelled { id: o.id, account: o.account, side: o.side, remaining: q(remaining), reason }
}
fn rejected(i: u64, reason: Reject) -> Event {
    Event::Rejected { id: Some(id(i)), reason }
}

/// Runs `setup`, then checks that the last op produces `want` in the model, then runs
/// everything through the harness (book vs model). Returns the model for further checks.
fn example(limits: BookLimits, ops: &[(Now, Op)], want: &[Event]) -> Model {
    let mut m = Model::new(limits).unwrap();
    let mut out = Vec::new();
    for (now, op) in ops {
        out.clear();
        m.apply(*now, op, &mut out);
    }
    assert_eq!(out, want, "MODEL disagrees with the hand-written spec example");
    if let Err(e) = Harness::run(limits, ops) {
        panic!("{e}");
    }
    m
}

fn at(ops: &[Op]) -> Vec<(Now, Op)> {
    ops.iter().map(|op| (T0, *op)).collect()
}

#[test]
fn spec_price_time_priority_and_fills_at_maker_price() {
    let (m1, m2, m3) = (sell(1, A, 101, 3), sell(2, A, 100, 2), sell(3, A, 100, 4));
    let t = buy(4, B, 102, 7);
    example(
        BookLimits::default(),
        &at(&[place(m1), place(m2), place(m3), place(t)]),
        &[
            accepted(&t, 102),
            fill(&m2, &t, 100, 2, 0, 5),
            fill(&m3, &t, 100, 4, 0, 1),
            fill(&m1, &t, 101, 1, 2, 0),
        ],
    );
}

#[test]
fn spec_gtc_remainder_rests_ioc_remainder_cancelled() {
    let m = sell(1, A, 100, 2);
    let t = buy(2, B, 100, 5);
    example(
        BookLimits::default(),
        &at(&[place(m), place(t)]),
        &[accepted(&t, 100), fill(&m, &t, 100, 2, 0, 3), resting(&t, 100, 3)],
    );
    let t = NewOrder::market(2, B, Side::Buy, 200, 5);
    example(
        BookLimits::default(),
        &at(&[place(m), place(t)]),
        &[accepted(&t, 200), fill(&m, &t, 100, 2, 0, 3), cancelled(&t, 3, CancelReason::Unfilled)],
    );
}

#[test]
fn spec_stp_modes() {
    let own = sell(1, A, 100, 2);
    let other = sell(2, B, 100, 2);
    let ops = |t: NewOrder| at(&[place(own), place(other), place(t)]);
    let t = buy(3, A, 100, 3);
    example(
        BookLimits::default(),
        &ops(t),
        &[accepted(&t, 100), cancelled(&t, 3, CancelReason::SelfTrade)],
    );
    let t = buy(3, A, 100, 3).with_stp(StpMode::CancelOldest);
    example(
        BookLimits::default(),
        &ops(t),
        &[
            accepted(&t, 100),
            cancelled(&own, 2, CancelReason::SelfTrade),
            fill(&other, &t, 100, 2, 0, 1),
            resting(&t, 100, 1),
        ],
    );
    let t = buy(3, A, 100, 3).with_stp(StpMode::CancelBoth);
    example(
        BookLimits::default(),
        &ops(t),
        &[
            accepted(&t, 100),
            cancelled(&own, 2, CancelReason::SelfTrade),
            cancelled(&t, 3, CancelReason::SelfTrade),
        ],
    );
    let t = buy(3, A, 100, 3).with_stp(StpMode::DecrementAndCancel);
    example(
        BookLimits::default(),
        &ops(t),
        &[
            accepted(&t, 100),
            Event::SelfTradeDecrement {
                taker_id: id(3),
                maker_id: id(1),
                account: acc(A),
                qty: q(2),
                taker_remaining: q(1),
                maker_remaining: q(0),
            },
            fill(&other, &t, 100, 1, 1, 0),
        ],
    );
    // Decrement to zero of the taker: nothing follows, the maker keeps its place.
    let t = buy(3, A, 100, 1).with_stp(StpMode::DecrementAndCancel);
    let m = example(
        BookLimits::default(),
        &ops(t),
        &[
            accepted(&t, 100),
            Event::SelfTradeDecrement {
                taker_id: id(3),
                maker_id: id(1),
                account: acc(A),
                qty: q(1),
                taker_remaining: q(0),
                maker_remaining: q(1),
            },
        ],
    );
    assert_eq!(
        m.level_orders(p(100)).iter().map(|o| (o.id, o.qty)).collect::<Vec<_>>(),
        vec![(id(1), q(1)), (id(2), q(2))]
    );
}

#[test]
fn spec_match_limit_and_expired_makers_count_as_steps() {
    let limits = BookLimits { match_steps_max: 2, ..BookLimits::default() };
    let e = sell(1, A, 100, 1).with_expiry(Expiry::Height(10));
    let m2 = sell(2, A, 100, 1);
    let m3 = sell(3, A, 101, 1);
    let t = buy(4, B, 105, 5);
    let later = Now::new(11, 1_000_000);
    example(
        limits,
        &[(T0, place(e)), (T0, place(m2)), (T0, place(m3)), (later, place(t))],
        &[
            accepted(&t, 105),
            Event::Expired { id: id(1), account: acc(A), side: Side::Sell, remaining: q(1) },
            fill(&m2, &t, 100, 1, 0, 4),
            cancelled(&t, 4, CancelReason::MatchLimit),
        ],
    );
    // Exactly `match_steps_max` makers and then nothing acceptable: rests normally.
    let t = buy(4, B, 100, 5);
    example(
        limits,
        &[(T0, place(e)), (T0, place(m2)), (T0, place(m3)), (later, place(t))],
        &[
            accepted(&t, 100),
            Event::Expired { id: id(1), account: acc(A), side: Side::Sell, remaining: q(1) },
            fill(&m2, &t, 100, 1, 0, 4),
            resting(&t, 100, 4),
        ],
    );
}

#[test]
fn spec_post_only() {
    let e = sell(1, A, 99, 1).with_expiry(Expiry::Height(10));
    let m = sell(2, A, 101, 1);
    let later = Now::new(11, 1_000_000);
    // Effective best skips the expired maker: 100 does not cross 101; matching sweeps the
    // expired maker at 99 first.
    let t = buy(3, A, 100, 1).with_tif(TimeInForce::PostOnly);
    example(
        BookLimits::default(),
        &[(T0, place(e)), (T0, place(m)), (later, place(t))],
        &[
            accepted(&t, 100),
            Event::Expired { id: id(1), account: acc(A), side: Side::Sell, remaining: q(1) },
            resting(&t, 100, 1),
        ],
    );
    let t = buy(3, B, 101, 1).with_tif(TimeInForce::PostOnly);
    example(
        BookLimits::default(),
        &[(T0, place(e)), (T0, place(m)), (later, place(t))],
        &[rejected(3, Reject::PostOnlyWouldCross)],
    );
    let t = buy(3, B, 105, 1).with_tif(TimeInForce::PostOnlySlide);
    example(
        BookLimits::default(),
        &[(T0, place(e)), (T0, place(m)), (later, place(t))],
        &[
            accepted(&t, 100),
            Event::Expired { id: id(1), account: acc(A), side: Side::Sell, remaining: q(1) },
            resting(&t, 100, 1),
        ],
    );
    // Slide to 0 is rejected.
    let m1 = sell(2, A, 1, 1);
    let t = buy(3, B, 5, 1).with_tif(TimeInForce::PostOnlySlide);
    example(
        BookLimits::default(),
        &at(&[place(m1), place(t)]),
        &[rejected(3, Reject::PostOnlyWouldCross)],
    );
    // Search budget: match_steps_max expired makers and more makers behind: rejected.
    let limits = BookLimits { match_steps_max: 1, ..BookLimits::default() };
    let t = buy(3, B, 100, 1).with_tif(TimeInForce::PostOnly);
    example(
        limits,
        &[(T0, place(e)), (T0, place(m)), (later, place(t))],
        &[rejected(3, Reject::PostOnlyWouldCross)],
    );
}

#[test]
fn spec_fok() {
    let own = sell(1, A, 100, 2);
    let other = sell(2, B, 101, 2);
    let t = buy(3, A, 101, 2).with_tif(TimeInForce::Fok);
    example(
        BookLimits::default(),
        &at(&[place(own), place(other), place(t)]),
        &[rejected(3, Reject::FokWouldNotFill)],
    );
    let t = t.with_stp(StpMode::CancelOldest);
    example(
        BookLimits::default(),
        &at(&[place(own), place(other), place(t)]),
        &[
            accepted(&t, 101),
            cancelled(&own, 2, CancelReason::SelfTrade),
            fill(&other, &t, 101, 2, 0, 0),
        ],
    );
    // The skipped own order is a step.
    let limits = BookLimits { match_steps_max: 1, ..BookLimits::default() };
    example(
        limits,
        &at(&[place(own), place(other), place(t)]),
        &[rejected(3, Reject::FokWouldNotFill)],
    );
}

#[test]
fn spec_check_precedence() {
    let limits = BookLimits {
        orders_per_account_max: 1,
        orders_per_book_max: 1,
        price_levels_max: 1,
        match_steps_max: 1,
    };
    let r = buy(1, A, 100, 1).with_client_id(7);
    let base = [place(r)];
    let cases: Vec<(NewOrder, Reject)> = vec![
        (buy(1, A, 0, 0), Reject::ZeroQuantity),
        (buy(1, A, u64::MAX, QTY_LOTS_MAX + 1), Reject::QuantityTooLarge),
        (buy(1, A, 0, 1), Reject::ZeroPrice),
        (buy(1, A, PRICE_TICKS_MAX + 1, 1).with_expiry(Expiry::Height(0)), Reject::PriceTooLarge),
        (buy(1, A, 100, 1).with_expiry(Expiry::TimeMs(T0.time_ms - 1)), Reject::ExpiredAtEntry),
        (buy(1, B, 100, 1).with_client_id(7), Reject::DuplicateOrderId),
        (buy(2, A, 100, 1).with_client_id(7), Reject::DuplicateClientOrderId),
        (sell(2, A, 100, 1).with_tif(TimeInForce::PostOnly), Reject::PostOnlyWouldCross),
        (buy(2, A, 99, 1), Reject::AccountOrderLimit),
        (buy(2, B, 99, 1), Reject::BookOrderLimit),
    ];
    for (o, reason) in cases {
        let mut ops = at(&base);
        ops.push((T0, place(o)));
        example(limits, &ops, &[rejected(o.id.0, reason)]);
    }
    // Client ids are per account.
    let o = buy(2, B, 100, 1).with_client_id(7).with_tif(TimeInForce::Ioc);
    let mut ops = at(&base);
    ops.push((T0, place(o)));
    example(limits, &ops, &[accepted(&o, 100), cancelled(&o, 1, CancelReason::Unfilled)]);
    // Level limit, checked before matching even if the order would fill completely.
    let limits = BookLimits { price_levels_max: 2, ..BookLimits::default() };
    let ops = at(&[place(sell(1, A, 101, 1)), place(sell(2, A, 102, 1)), place(buy(3, B, 99, 1))]);
    example(limits, &ops, &[rejected(3, Reject::PriceLevelLimit)]);
    // ... but a level existing at the price on the other side is fine (reading of "either side").
    let t = buy(3, B, 101, 1);
    let ops = at(&[place(sell(1, A, 101, 1)), place(sell(2, A, 102, 1)), place(t)]);
    example(limits, &ops, &[accepted(&t, 101), fill(&sell(1, A, 101, 1), &t, 101, 1, 0, 0)]);
    let t = buy(3, B, 102, 1);
    let ops = at(&[place(sell(1, A, 101, 1)), place(sell(2, A, 103, 1)), place(t)]);
    example(limits, &ops, &[rejected(3, Reject::PriceLevelLimit)]);
}

#[test]
fn spec_cancel_cancel_all_and_expire_order() {
    let o1 = buy(1, A, 99, 1).with_expiry(Expiry::TimeMs(T0.time_ms));
    let o2 = sell(2, A, 101, 1).with_expiry(Expiry::Height(12)).with_client_id(5);
    let o3 = buy(3, A, 100, 1).with_expiry(Expiry::Height(11));
    let o4 = buy(4, B, 98, 1).with_expiry(Expiry::Height(11));
    let o5 = sell(5, A, 102, 1).with_expiry(Expiry::TimeMs(T0.time_ms + 5));
    let setup = [place(o1), place(o2), place(o3), place(o4), place(o5)];
    let far = Now::new(20, T0.time_ms + 10);
    let mut ops = at(&setup);
    ops.push((far, Op::Expire { limit: 4 }));
    let exp = |o: &NewOrder| Event::Expired {
        id: o.id,
        account: o.account,
        side: o.side,
        remaining: o.qty,
    };
    example(BookLimits::default(), &ops, &[exp(&o3), exp(&o4), exp(&o2), exp(&o1)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::CancelAll { account: acc(A), side: None }));
    let u = |o: &NewOrder| cancelled(o, 1, CancelReason::User);
    example(BookLimits::default(), &ops, &[u(&o1), u(&o2), u(&o3), u(&o5)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::CancelAll { account: acc(A), side: Some(Side::Sell) }));
    example(BookLimits::default(), &ops, &[u(&o2), u(&o5)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::Cancel { account: acc(B), id: id(2) }));
    example(BookLimits::default(), &ops, &[rejected(2, Reject::NotOwner)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::Cancel { account: acc(A), id: id(9) }));
    example(BookLimits::default(), &ops, &[rejected(9, Reject::UnknownOrder)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::CancelByClientId { account: acc(A), client_id: ClientOrderId(5) }));
    example(BookLimits::default(), &ops, &[u(&o2)]);
    let mut ops = at(&setup);
    ops.push((T0, Op::CancelByClientId { account: acc(B), client_id: ClientOrderId(5) }));
    example(
        BookLimits::default(),
        &ops,
        &[Event::Rejected { id: None, reason: Reject::UnknownOrder }],
    );
    // An expired order not yet swept can still be cancelled.
    let mut ops = at(&setup);
    ops.push((far, Op::Cancel { account: acc(A), id: id(3) }));
    example(BookLimits::default(), &ops, &[u(&o3)]);
}

#[test]
fn spec_modify() {
    let o1 = buy(1, A, 100, 5);
    let o2 = buy(2, B, 100, 5);
    let m = |price: u64, qty: u64| Op::Modify {
        account: acc(A),
        id: id(1),
        price: p(price),
        qty: q(qty),
    };
    let modified = |price: u64, qty: u64, kept: bool| Event::Modified {
        id: id(1),
        account: acc(A),
        price: p(price),
        qty: q(qty),
        kept_priority: kept,
    };
    // Smaller: keeps its place.
    let model = example(
        BookLimits::default(),
        &at(&[place(o1), place(o2), m(100, 3)]),
        &[modified(100, 3, true)],
    );
    assert_eq!(model.level_orders(p(100))[0].id, id(1));
    // Bigger: back of the queue.
    let model = example(
        BookLimits::default(),
        &at(&[place(o1), place(o2), m(100, 6)]),
        &[modified(100, 6, false), resting(&o1, 100, 6)],
    );
    assert_eq!(model.level_orders(p(100))[0].id, id(2));
    // Crossing: matches as if new.
    let s = sell(3, B, 101, 2);
    example(
        BookLimits::default(),
        &at(&[place(o1), place(s), m(101, 4)]),
        &[modified(101, 4, false), fill(&s, &o1, 101, 2, 0, 2), resting(&o1, 101, 2)],
    );
    // Checks, in order.
    let ops = |op: Op| at(&[place(o1), op]);
    example(
        BookLimits::default(),
        &ops(Op::Modify { account: acc(A), id: id(9), price: p(0), qty: q(0) }),
        &[rejected(9, Reject::UnknownOrder)],
    );
    example(
        BookLimits::default(),
        &ops(Op::Modify { account: acc(B), id: id(1), price: p(0), qty: q(0) }),
        &[rejected(1, Reject::NotOwner)],
    );
    example(BookLimits::default(), &ops(m(0, 0)), &[rejected(1, Reject::ZeroQuantity)]);
    example(BookLimits::default(), &ops(m(0, 1)), &[rejected(1, Reject::ZeroPrice)]);
    let e = buy(1, A, 100, 5).with_expiry(Expiry::Height(10));
    example(
        BookLimits::default(),
        &[(T0, place(e)), (Now::new(11, T0.time_ms), m(100, 1))],
        &[rejected(1, Reject::OrderExpired)],
    );
    // Level check counts the levels without the order: moving a lone order to a new price is
    // fine at the limit.
    let limits = BookLimits { price_levels_max: 2, ..BookLimits::default() };
    example(
        limits,
        &at(&[place(o1), place(s), m(99, 5)]),
        &[modified(99, 5, false), resting(&o1, 99, 5)],
    );
    example(
        limits,
        &at(&[place(o1), place(o2), place(s), m(99, 5)]),
        &[rejected(1, Reject::PriceLevelLimit)],
    );
}

/// "Same price and a size not above the current remaining size: the order keeps its queue
/// place ... Otherwise the order leaves its place and is re-entered as if new ... the post-only
/// check (4) ... appl[ies]": whether priority is kept is decided on the *requested* price. A
/// sliding post-only order modified to a crossing price re-enters (at the back of the queue)
/// even when it slides back to its current price.
#[test]
fn spec_modify_post_only_slide_reenters_even_when_sliding_back_to_its_price() {
    let po = buy(1, A, 100, 5).with_tif(TimeInForce::PostOnlySlide);
    let other = buy(2, B, 100, 5);
    let s = sell(3, B, 101, 2);
    let m = Op::Modify { account: acc(A), id: id(1), price: p(103), qty: q(5) };
    let model = example(
        BookLimits::default(),
        &at(&[place(po), place(other), place(s), m]),
        &[
            Event::Modified {
                id: id(1),
                account: acc(A),
                price: p(100),
                qty: q(5),
                kept_priority: false,
            },
            resting(&po, 100, 5),
        ],
    );
    // ... so it is now behind order 2.
    assert_eq!(
        model.level_orders(p(100)).iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![id(2), id(1)]
    );
}

#[test]
fn model_rejects_bad_limits_like_the_book() {
    let zero = BookLimits { match_steps_max: 0, ..BookLimits::default() };
    assert!(Model::new(zero).is_err());
    let big = BookLimits { orders_per_book_max: u32::MAX, ..BookLimits::default() };
    assert_eq!(Book::new(big).err(), Model::new(big).err());
    assert_eq!(Book::new(zero).err(), Model::new(zero).err());
}

/// Plain GTC limit orders (the book's one-pass placing path) at every edge of that path, against
/// the model: ids around the direct-mapped id window (its first and last position, just above
/// it so that it slides, below it after a slide, duplicates, 0 and `u64::MAX`), an account's
/// first order (no account entry yet), each limit reached exactly (account, book, levels, with
/// an existing level still accepted at the level limit), crossing prices, invalid sizes and
/// prices, and cancels that free room again.
#[test]
fn plain_limit_orders_at_the_edges_of_the_placing_path() {
    const WINDOW: u64 = 1 << 16;
    let limits = BookLimits {
        orders_per_account_max: 3,
        orders_per_book_max: 8,
        price_levels_max: 5,
        match_steps_max: 4,
    };
    let ids = [
        1,
        WINDOW - 1,
        WINDOW,
        WINDOW + 255,
        WINDOW + 256,
        WINDOW + 257,
        2,
        WINDOW,
        0,
        3 * WINDOW,
        3 * WINDOW + 1,
        WINDOW + 300,
        u64::MAX,
        u64::MAX - 1,
        7,
    ];
    let mut ops = Vec::new();
    for (k, &i) in ids.iter().enumerate() {
        let k = k as u64;
        let account = 1 + (k % 4) as u32;
        // Bids at 96..=99 and asks at 101..=104: a few levels per side, some orders crossing
        // (a bid at 102 or an ask at 98) every fifth order.
        let (side, price) = match (k % 2, k % 5) {
            (0, 4) => (Side::Buy, 102),
            (1, 4) => (Side::Sell, 98),
            (0, _) => (Side::Buy, 96 + k % 4),
            _ => (Side::Sell, 101 + k % 4),
        };
        ops.push(Op::Place(NewOrder::limit(i, account, side, price, 1 + k % 3)));
        if k % 6 == 5 {
            ops.push(Op::Cancel { account: acc(account), id: id(i) });
        }
    }
    // Invalid sizes and prices on the same path.
    for (i, price, qty) in [(90, 100, 0), (91, 0, 1), (92, 100, QTY_LOTS_MAX + 1)] {
        ops.push(Op::Place(NewOrder::limit(i, 1, Side::Buy, price, qty)));
    }
    ops.push(Op::Place(NewOrder::limit(93, 1, Side::Buy, PRICE_TICKS_MAX + 1, 1)));
    ops.push(Op::Place(NewOrder::limit(94, 1, Side::Buy, PRICE_TICKS_MAX, 1)));
    if let Err(e) = Harness::run(limits, &at(&ops)) {
        panic!("{e}");
    }
    // The same sequence with room for everything: every order that does not cross rests.
    if let Err(e) = Harness::run(BookLimits::default(), &at(&ops)) {
        panic!("{e}");
    }
    // Each limit reached exactly by plain orders of accounts that already have an entry.
    let limits = BookLimits { price_levels_max: 3, ..limits };
    let ops = [
        place(buy(1, A, 90, 1)),
        place(buy(2, B, 90, 1)),
        place(buy(3, A, 91, 1)),
        place(sell(4, A, 100, 1)),
        // Level limit: a new price is rejected, an existing one still taken.
        place(buy(5, B, 92, 1)),
        place(buy(6, B, 91, 1)),
        // Account limit.
        place(buy(7, A, 90, 1)),
        place(sell(8, 3, 100, 1)),
        place(sell(9, 3, 100, 1)),
        place(sell(10, 3, 100, 1)),
        // Book limit (8 orders), then room again after a cancel.
        place(sell(11, B, 100, 1)),
        Op::Cancel { account: acc(3), id: id(10) },
        place(sell(12, B, 100, 1)),
        // Crossing plain orders take the matching path.
        Op::Cancel { account: acc(3), id: id(9) },
        place(sell(13, 3, 90, 1)),
        place(sell(14, 3, 91, 2)),
    ];
    if let Err(e) = Harness::run(limits, &at(&ops)) {
        panic!("{e}");
    }
}
