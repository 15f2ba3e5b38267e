//! Property tests: random sequences of deposits, orders (every time in force, reduce-only,
//! prices around the index, some outside the band), cancels, modifies, withdrawals,
//! transfers, margin-mode changes, auction bids and index paths (drifts, −50% in one block,
//! +500% over three blocks, stale stretches) across eight traders and two markets.
//!
//! Checked after every block: the engine's invariants (the harness runs
//! `Engine::check_invariants`; debug builds also assert them inside `apply_block`), no panic;
//! **no innocent socialisation** (a trader with no position and no resting order at the start
//! of a block, that sends nothing and trades nothing in it, ends the block with at least the
//! cash it had); no `UncoveredDeficit`; **dirty tracking** (the harness: every account whose
//! snapshot changed in the block is in `take_dirty_accounts()`); **clones**: an engine cloned
//! halfway through the run and fed the same blocks returns the same events and dirty sets and
//! has the same snapshots and state after every block; and, over the whole run, **rejection
//! leaves no trace**: a twin engine rebuilt from scratch and replayed without the rejected
//! actions has the same state after every block.
//!
//! `PROPTEST_CASES=1000 cargo test -p novation-engine --test random_ops --release` for a
//! longer run; the default keeps the suite fast in debug builds.

mod harness;

use harness::{addr, assert_same_state, snapshots_of, state_of, usd, Setup, Sim};
use novation_engine::{
    Action, AuctionId, Engine, Event, MarketId, MarketParams, OrderRequest, TimeInForce, Tx,
};
use novation_types::{OrderId, PriceTicks, QtyLots, Side};
use proptest::prelude::*;

const TRADERS: u8 = 8;
const START: [u64; 2] = [1_000_000, 30_000];

#[derive(Clone, Debug)]
enum Op {
    Deposit { who: u8, dollars: u32 },
    Withdraw { who: u8, dollars: u32 },
    Transfer { who: u8, to: u8, dollars: u32 },
    Place { who: u8, m: u8, buy: bool, bps: i16, qty: u16, tif: u8, reduce_only: bool },
    Cancel { who: u8, m: u8, pick: u8 },
    CancelAll { who: u8 },
    Modify { who: u8, m: u8, pick: u8, bps: i16, qty: u16 },
    Bid { who: u8, pick: u8, bps: i16 },
    MarginMode { who: u8, m: u8, isolated: bool },
    Adjust { who: u8, m: u8, dollars: i32 },
}

#[derive(Clone, Copy, Debug)]
enum Move {
    Drift(i16),
    Crash,
    Squeeze,
    Stale,
}

#[derive(Clone, Debug)]
struct Plan {
    moves: [Move; 2],
    ops: Vec<Op>,
}

fn who() -> impl Strategy<Value = u8> {
    0..TRADERS
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (who(), 100u32..200_000).prop_map(|(who, dollars)| Op::Deposit { who, dollars }),
        1 => (who(), 1u32..50_000).prop_map(|(who, dollars)| Op::Withdraw { who, dollars }),
        1 => (who(), who(), 1u32..20_000)
            .prop_map(|(who, to, dollars)| Op::Transfer { who, to, dollars }),
        10 => (who(), 0u8..2, any::<bool>(), price_bps(), 1u16..3000, 0u8..5, prop::bool::weighted(0.2))
            .prop_map(|(who, m, buy, bps, qty, tif, reduce_only)| Op::Place {
                who, m, buy, bps, qty, tif, reduce_only
            }),
        2 => (who(), 0u8..2, any::<u8>()).prop_map(|(who, m, pick)| Op::Cancel { who, m, pick }),
        1 => who().prop_map(|who| Op::CancelAll { who }),
        2 => (who(), 0u8..2, any::<u8>(), -600i16..600, 1u16..3000)
            .prop_map(|(who, m, pick, bps, qty)| Op::Modify { who, m, pick, bps, qty }),
        2 => (who(), any::<u8>(), -300i16..300).prop_map(|(who, pick, bps)| Op::Bid { who, pick, bps }),
        1 => (who(), 0u8..2, any::<bool>())
            .prop_map(|(who, m, isolated)| Op::MarginMode { who, m, isolated }),
        1 => (who(), 0u8..2, -5_000i32..20_000)
            .prop_map(|(who, m, dollars)| Op::Adjust { who, m, dollars }),
    ]
}

/// Mostly near the index, sometimes at or beyond the 10% band.
fn price_bps() -> impl Strategy<Value = i16> {
    prop_oneof![6 => -150i16..150, 1 => -1200i16..1200]
}

fn move_() -> impl Strategy<Value = Move> {
    prop_oneof![
        60 => (-250i16..250).prop_map(Move::Drift),
        1 => Just(Move::Crash),
        1 => Just(Move::Squeeze),
        2 => Just(Move::Stale),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    ((move_(), move_()), prop::collection::vec(op(), 0..10))
        .prop_map(|((a, b), ops)| Plan { moves: [a, b], ops })
}

fn name(i: u8) -> String {
    format!("t{i}")
}

/// The example market with short breaker windows, so that markets tripped by a crash come
/// back within a run.
fn market(symbol: &str) -> MarketParams {
    let mut p = MarketParams::example(symbol);
    p.breaker.window_blocks = 5;
    p.breaker.index_stale_blocks = 2;
    p.breaker.open_index_age_blocks = 1;
    p.breaker.cooldown_blocks = 3;
    p
}

fn setup() -> Setup {
    let mut s = Setup::new(vec![market("BTC-PERP"), market("ETH-PERP")], &START);
    s.insurance.push((MarketId(0), usd(50_000)));
    s.insurance.push((MarketId(1), usd(5_000)));
    s
}

/// Drives a [`Sim`] through plans, resolving each op against the state at its block.
struct Driver {
    sim: Sim,
    index: [u64; 2],
    squeeze: [u8; 2],
}

impl Driver {
    fn price(&self, m: usize, bps: i16) -> u64 {
        let p = i128::from(self.index[m]) * (10_000 + i128::from(bps)) / 10_000;
        p.clamp(1, i128::from(u32::MAX)) as u64
    }

    fn move_index(&mut self, m: usize, mv: Move) {
        let p = &mut self.index[m];
        if self.squeeze[m] > 0 {
            self.squeeze[m] -= 1;
            *p = *p * 182 / 100; // ×1.82³ ≈ 6: +500% over three blocks
        } else {
            match mv {
                Move::Drift(bps) => {
                    *p = (i128::from(*p) * (10_000 + i128::from(bps)) / 10_000) as u64;
                }
                Move::Crash => *p /= 2,
                Move::Squeeze => {
                    self.squeeze[m] = 2;
                    *p = *p * 182 / 100;
                }
                Move::Stale => {}
            }
        }
        *p = (*p).clamp(100, 1 << 32);
        let stale = matches!(mv, Move::Stale) && self.squeeze[m] == 0;
        self.sim.index[m] = if stale { None } else { Some(PriceTicks(*p)) };
    }

    fn orders_of(&self, who: u8, m: usize) -> Vec<OrderId> {
        let Some(id) = self.sim.engine.account_id(addr(&name(who)), 0) else { return vec![] };
        let market = &self.sim.engine.markets()[m];
        market.book.orders_of(id).iter().map(|o| o.id).collect()
    }

    fn resolve(&self, op: &Op) -> Tx {
        let tx = |w: u8, action| Tx { sender: addr(&name(w)), action };
        match *op {
            Op::Deposit { who, dollars } => {
                tx(who, Action::Deposit { sub: 0, amount: usd(i128::from(dollars)) })
            }
            Op::Withdraw { who, dollars } => {
                tx(who, Action::Withdraw { sub: 0, amount: usd(i128::from(dollars)) })
            }
            Op::Transfer { who, to, dollars } => tx(
                who,
                Action::Transfer {
                    sub: 0,
                    to: addr(&name(to)),
                    to_sub: 0,
                    amount: usd(i128::from(dollars)),
                },
            ),
            Op::Place { who, m, buy, bps, qty, tif, reduce_only } => {
                let side = if buy { Side::Buy } else { Side::Sell };
                let mut req = OrderRequest::limit(
                    0,
                    MarketId(u16::from(m)),
                    side,
                    self.price(usize::from(m), bps),
                    u64::from(qty),
                );
                req.tif = [
                    TimeInForce::Gtc,
                    TimeInForce::Ioc,
                    TimeInForce::Fok,
                    TimeInForce::PostOnly,
                    TimeInForce::PostOnlySlide,
                ][usize::from(tif)];
                req.reduce_only = reduce_only;
                tx(who, Action::Place(req))
            }
            Op::Cancel { who, m, pick } => {
                let ids = self.orders_of(who, usize::from(m));
                let id = ids.get(usize::from(pick) % ids.len().max(1)).copied();
                let id = id.unwrap_or(OrderId(u64::from(pick)));
                tx(who, Action::Cancel { sub: 0, market: MarketId(u16::from(m)), id })
            }
            Op::CancelAll { who } => {
                tx(who, Action::CancelAll { sub: 0, market: None, side: None })
            }
            Op::Modify { who, m, pick, bps, qty } => {
                let ids = self.orders_of(who, usize::from(m));
                let id = ids.get(usize::from(pick) % ids.len().max(1)).copied();
                let id = id.unwrap_or(OrderId(u64::from(pick)));
                tx(
                    who,
                    Action::Modify {
                        sub: 0,
                        market: MarketId(u16::from(m)),
                        id,
                        price: PriceTicks(self.price(usize::from(m), bps)),
                        qty: QtyLots(u64::from(qty)),
                    },
                )
            }
            Op::Bid { who, pick, bps } => {
                let open: Vec<AuctionId> = self.sim.engine.auctions().map(|(id, _)| *id).collect();
                let auction = open
                    .get(usize::from(pick) % open.len().max(1))
                    .copied()
                    .unwrap_or(AuctionId(u64::from(pick)));
                let at = self.sim.engine.auction_price(auction).map_or(1_000_000, |p| p.0);
                let limit = (i128::from(at) * (10_000 + i128::from(bps)) / 10_000).max(1) as u64;
                tx(who, Action::BidLiquidation { sub: 0, auction, price_limit: PriceTicks(limit) })
            }
            Op::MarginMode { who, m, isolated } => {
                tx(who, Action::SetMarginMode { sub: 0, market: MarketId(u16::from(m)), isolated })
            }
            Op::Adjust { who, m, dollars } => tx(
                who,
                Action::AdjustIsolatedMargin {
                    sub: 0,
                    market: MarketId(u16::from(m)),
                    amount: usd(i128::from(dollars)),
                },
            ),
        }
    }

    /// Per trader: whether it has no position and no resting order, and its total cash.
    fn exposure(&self) -> Vec<Option<(bool, i128)>> {
        (0..TRADERS)
            .map(|i| {
                let id = self.sim.engine.account_id(addr(&name(i)), 0)?;
                let acc = self.sim.engine.account(id)?;
                let mut idle = true;
                let mut cash = 0;
                for b in acc.bucket_ids() {
                    let bucket = acc.bucket(b)?;
                    cash += bucket.cash.0;
                    idle &= bucket.legs.iter().all(|l| l.size == 0);
                    idle &= bucket.legs.iter().all(|l| l.open_buy == 0 && l.open_sell == 0);
                }
                Some((idle, cash))
            })
            .collect()
    }
}

/// Runs `plans`; returns the driver and the per-block state renderings.
fn run(deposits: &[u32], plans: &[Plan]) -> (Driver, Setup, Vec<String>) {
    let setup = setup();
    let mut d = Driver { sim: setup.build(), index: START, squeeze: [0, 0] };
    let mut states = Vec::new();
    let opening = Plan {
        moves: [Move::Drift(0), Move::Drift(0)],
        ops: (0..TRADERS)
            .map(|who| Op::Deposit { who, dollars: deposits[usize::from(who)] })
            .collect(),
    };
    let mut fork: Option<Engine> = None;
    for (k, plan) in core::iter::once(&opening).chain(plans).enumerate() {
        if k == plans.len() / 2 + 1 {
            fork = Some(d.sim.engine.clone());
        }
        for m in 0..2 {
            d.move_index(m, plan.moves[m]);
        }
        let txs: Vec<Tx> = plan.ops.iter().map(|op| d.resolve(op)).collect();
        let senders: Vec<_> = txs.iter().map(|t| t.sender).collect();
        let before = d.exposure();
        let events = d.sim.block(txs);
        if let Some(f) = fork.as_mut() {
            follow(f, &d.sim, &events);
        }
        let after = d.exposure();
        // Step 5 closes a bankrupt position at its bankruptcy price, so nothing is left over.
        assert!(
            !events.iter().any(|e| matches!(e, Event::UncoveredDeficit { .. })),
            "uncovered deficit at height {}: {events:#?}",
            d.sim.height
        );
        for i in 0..TRADERS {
            let (Some((true, cash_before)), Some((_, cash_after))) =
                (before[usize::from(i)], after[usize::from(i)])
            else {
                continue;
            };
            let id = d.sim.engine.account_id(addr(&name(i)), 0).expect("account");
            let acted = senders.contains(&addr(&name(i)));
            let traded = events.iter().any(|e| match e {
                Event::Book {
                    event: novation_book::Event::Fill { maker_account, taker_account, .. },
                    ..
                } => *maker_account == id || *taker_account == id,
                _ => false,
            });
            if !acted && !traded {
                assert!(
                    cash_after >= cash_before,
                    "t{i} held nothing and did nothing, yet lost {} atoms at height {}: {events:#?}",
                    cash_before - cash_after,
                    d.sim.height
                );
            }
        }
        states.push(state_of(&d.sim.engine));
    }
    (d, setup, states)
}

/// Applies the block `sim` just executed to its clone `fork`: same events, dirty set,
/// snapshots and state.
fn follow(fork: &mut Engine, sim: &Sim, events: &[Event]) {
    let (ctx, txs) = sim.log.last().expect("logged");
    let got = fork.apply_block(ctx, txs).expect("the clone accepts the block");
    assert_eq!(got, events, "the clone's events differ at height {}", sim.height);
    assert_eq!(fork.take_dirty_accounts(), sim.last_dirty, "dirty sets differ at {}", sim.height);
    assert_eq!(snapshots_of(fork), snapshots_of(&sim.engine), "snapshots differ at {}", sim.height);
    assert_same_state(&state_of(&sim.engine), &state_of(fork), "the clone's state");
}

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 24;
    }
    c.max_shrink_iters = 256;
    c
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_blocks_keep_the_invariants_and_rejections_leave_no_trace(
        deposits in prop::collection::vec(1_000u32..200_000, usize::from(TRADERS)),
        plans in prop::collection::vec(plan(), 1..40)
    ) {
        let (d, setup, states) = run(&deposits, &plans);
        // Which transactions were rejected, per logged block (log[0] is the constructor's).
        let mut rejected = std::collections::BTreeSet::new();
        // Re-run to learn the rejections per block: they are in the events of each block,
        // which the harness does not keep, so rebuild once more and record them.
        let mut probe = setup.build();
        for (b, (ctx, txs)) in d.sim.log.iter().enumerate().skip(1) {
            let events = probe.engine.apply_block(ctx, txs).expect("replay");
            for e in events {
                if let Event::Rejected { index, .. } = e {
                    rejected.insert((b, index as usize));
                }
            }
        }
        let twin = setup.replay(&d.sim.log, |b, i| rejected.contains(&(b, i)));
        prop_assert_eq!(twin.len(), states.len());
        for (k, (t, s)) in twin.iter().zip(&states).enumerate() {
            assert_same_state(t, s, &format!("block {} without its rejected actions", k + 2));
        }
    }
}
