//! The oracle inside consensus, in the deterministic simulation: validators observe the seeded
//! devnet price path (three simulated venues each), sign and gossip their observations,
//! proposers include them, and every validator aggregates them by stake-weighted median into the
//! index the engine uses. Each seed runs twice and both runs must be identical.
//!
//! * `one_liar_of_four_*`, `two_liars_of_seven`: validators reporting 1000× or 0 have their
//!   observations included (the chain records them) and dropped by the guards; the index stays
//!   within the honest validators' prices and keeps updating.
//! * `observers_offline_below_and_above_quorum`: with one of four observers down the index
//!   keeps updating; with two down (50% < 2/3 of stake) it stops, the markets go reduce-only
//!   when it is `index_stale_blocks` old, and recover once an observer is back.
//! * `flash_crash_liquidates_identically`: the devnet `flash` scenario (−30% in 10 s) moves the
//!   index and a 16× long is liquidated, with identical state on every validator.

#[allow(dead_code)] // the shared harness serves several files
mod sim_support;

use commonware_runtime::{deterministic, Runner as _};
use novation_chain::executor::TxStatus;
use novation_chain::node::NodeHandle;
use novation_chain::observer::{ScenarioAt, Tamper};
use novation_chain::simulation::key;
use novation_chain::state::{ActionOutcome, TxOutcome};
use novation_chain::tx::TxAction;
use novation_engine::{MarketId, MarketStatus, OrderRequest, TimeInForce};
use novation_oracle::aggregate::{AssetState, ValidatorState};
use novation_oracle::simfeed::Scenario;
use novation_oracle::{AssetId, OraclePrice};
use novation_types::{Quote, Side};
use sim_support::{
    addr, config, healthy, now_ms, sign, twice, Admitted, Cluster, Fingerprint, ObserverMode,
    GENESIS_MS,
};

fn not_lost(_: &Admitted) -> bool {
    false
}

/// One validator's finalized oracle: height, assets, validators, and each market's status.
#[derive(Debug, Clone)]
struct View {
    height: u64,
    assets: Vec<AssetState>,
    validators: Vec<ValidatorState>,
    statuses: Vec<MarketStatus>,
}

async fn view(node: &NodeHandle) -> View {
    node.executor
        .query(|st| View {
            height: st.height,
            assets: st.oracle.assets().to_vec(),
            validators: st.oracle.validators().to_vec(),
            statuses: st.engine.markets().iter().map(|m| m.status).collect(),
        })
        .await
        .expect("executor answers")
}

/// The sorted-set index of cluster slot `i`.
fn oracle_index(c: &Cluster, i: usize) -> usize {
    let me = &c.publics[i];
    c.genesis.sorted_validators().iter().position(|v| v == me).expect("a validator")
}

/// Checks, on every running validator, that each asset's index was updated within the last few
/// blocks and lies within the prices the honest validators reported (0.1% slack for the clamp
/// and for the observations of the block that set it).
async fn index_follows_the_honest(c: &Cluster, liars: &[usize]) {
    let honest: Vec<usize> =
        (0..c.n()).filter(|i| !liars.contains(i)).map(|i| oracle_index(c, i)).collect();
    for slot in c.slots.iter().filter_map(|s| s.node.as_ref()) {
        let v = view(slot).await;
        for (a, asset) in v.assets.iter().enumerate() {
            assert!(
                v.height - asset.updated_height <= 3,
                "asset {a} not updated since {} at {}",
                asset.updated_height,
                v.height
            );
            let prices: Vec<u64> = honest
                .iter()
                .filter_map(|&i| v.validators[i].latest.as_ref())
                .filter_map(|o| o.price(AssetId(a as u16)))
                .map(|p| p.0)
                .collect();
            let lo = prices.iter().min().copied().expect("honest prices") as u128;
            let hi = prices.iter().max().copied().expect("honest prices") as u128;
            let i = u128::from(asset.index.0);
            assert!(
                i * 1000 >= lo * 999 && i * 1000 <= hi * 1001,
                "asset {a}: index {i} outside the honest prices {lo}..{hi}"
            );
        }
    }
}

fn run_liars(seed: u64, n: usize, liars: Vec<usize>, tamper: Tamper) -> Fingerprint {
    deterministic::Runner::new(config(seed)).start(|ctx| async move {
        let mut c = Cluster::new(ctx, n, healthy()).await;
        for &i in &liars {
            c.slots[i].observer = ObserverMode::Tamper(tamper);
        }
        for i in 0..n {
            c.start_node(i).await;
        }
        c.start_traffic(200);
        c.expect_height(&c.honest(), 20, 60_000, "with lying observers").await;
        index_follows_the_honest(&c, &liars).await;
        // The liars' observations were included (the chain holds them) and ignored.
        let v = view(c.slots[0].node.as_ref().expect("running")).await;
        for &i in &liars {
            let latest = v.validators[oracle_index(&c, i)].latest.as_ref();
            let btc =
                latest.and_then(|o| o.price(AssetId(0))).expect("liar's observation included");
            match tamper {
                Tamper::Scale { .. } => assert!(btc.0 > 1_000 * OraclePrice::from_usd(50_000).0),
                Tamper::Fixed(p) => assert_eq!(btc, p),
            }
        }
        c.settle_and_check(&not_lost).await;
        c.fingerprint()
    })
}

#[test]
fn one_liar_of_four_reporting_1000x() {
    twice(1, |s| run_liars(s, 4, vec![3], Tamper::Scale { num: 1000, den: 1 }));
}

#[test]
fn one_liar_of_four_reporting_zero() {
    twice(2, |s| run_liars(s, 4, vec![1], Tamper::Fixed(OraclePrice(0))));
}

#[test]
fn two_liars_of_seven() {
    twice(3, |s| run_liars(s, 7, vec![2, 5], Tamper::Scale { num: 1000, den: 1 }));
}

fn ages(v: &View) -> Vec<u64> {
    v.assets.iter().map(|a| v.height - a.updated_height).collect()
}

fn run_observers_offline(seed: u64) -> Fingerprint {
    deterministic::Runner::new(config(seed)).start(|ctx| async move {
        let mut c = Cluster::new(ctx, 4, healthy()).await;
        c.slots[3].observer = ObserverMode::Off;
        for i in 0..4 {
            c.start_node(i).await;
        }
        // Three of four observe: 75% of stake, above the two-thirds quorum.
        c.expect_height(&c.honest(), 15, 60_000, "three observers").await;
        index_follows_the_honest(&c, &[3]).await;
        // A second observer goes down (its validator restarts without one): 50% < 2/3.
        c.slots[2].observer = ObserverMode::Off;
        c.kill(2).await;
        c.start_node(2).await;
        let stalled_at = c.max_height();
        // Past index_stale_blocks (50) plus the observations' freshness (3 s of blocks).
        c.expect_height(&c.honest(), stalled_at + 75, 120_000, "two observers").await;
        for slot in c.slots.iter().filter_map(|s| s.node.as_ref()) {
            let v = view(slot).await;
            assert!(ages(&v).iter().all(|&a| a > 50), "index still updating: {:?}", ages(&v));
            assert!(
                v.statuses.iter().all(|s| *s == MarketStatus::ReduceOnly),
                "stale markets must be reduce-only: {:?}",
                v.statuses
            );
        }
        // An opening order is refused while stale.
        let trader = key("oracle-trader", 0);
        let faucet = key("faucet", 0);
        let t0 = now_ms(&c.ctx);
        c.submit_to(
            0,
            sign(
                &faucet,
                t0,
                vec![TxAction::Faucet { to: addr(&trader), sub: 0, amount: Quote(10_000_000_000) }],
            ),
        );
        c.sleep_ms(2_000).await;
        let order = OrderRequest::limit(0, MarketId(0), Side::Buy, 900_000, 10);
        c.submit_to(0, sign(&trader, t0 + 1, vec![TxAction::Place(order)]));
        let hash = c.admitted().last().map(|a| a.hash).expect("order admitted");
        let refused = c
            .wait_for(10_000, |c| {
                let node = c.slots[0].node.as_ref().expect("running");
                let r = node.shared.results.lock().ok().and_then(|r| r.get(&hash));
                matches!(r, Some(TxStatus::Finalized { outcome: TxOutcome::Executed { actions }, .. })
                    if matches!(actions.as_slice(), [ActionOutcome::Rejected { code: 13, .. }]))
            })
            .await;
        assert!(refused, "an opening order on a stale index must be refused as reduce-only");
        // The observer comes back: updates resume, then the breaker's cooldown (20 blocks).
        c.slots[2].observer = ObserverMode::Honest;
        c.kill(2).await;
        c.start_node(2).await;
        let back = c.max_height();
        c.expect_height(&c.honest(), back + 30, 120_000, "observer back").await;
        for slot in c.slots.iter().filter_map(|s| s.node.as_ref()) {
            let v = view(slot).await;
            assert!(ages(&v).iter().all(|&a| a <= 3), "index not updating again: {:?}", ages(&v));
            assert!(
                v.statuses.iter().all(|s| *s == MarketStatus::Active),
                "markets not recovered: {:?}",
                v.statuses
            );
        }
        c.settle_and_check(&not_lost).await;
        c.fingerprint()
    })
}

#[test]
fn observers_offline_below_and_above_quorum() {
    twice(4, run_observers_offline);
}

fn run_flash_crash(seed: u64) -> Fingerprint {
    deterministic::Runner::new(config(seed)).start(|ctx| async move {
        let mut c = Cluster::new(ctx, 4, healthy()).await;
        let crash_at = GENESIS_MS + 20_000;
        c.scenario = Some(ScenarioAt { scenario: Scenario::Flash, at_ms: crash_at });
        for i in 0..4 {
            c.start_node(i).await;
        }
        c.expect_height(&c.honest(), 3, 60_000, "start").await;
        let faucet = key("faucet", 0);
        let maker = key("crash-maker", 0);
        let long = key("crash-long", 0);
        let usd = |d: i128| Quote(d * 1_000_000);
        let mut nonce = now_ms(&c.ctx);
        c.submit_to(
            0,
            sign(
                &faucet,
                nonce,
                vec![
                    TxAction::Faucet { to: addr(&maker), sub: 0, amount: usd(1_000_000) },
                    TxAction::Faucet { to: addr(&long), sub: 0, amount: usd(6_000) },
                ],
            ),
        );
        c.sleep_ms(2_000).await;
        // The maker offers 1 BTC (1000 lots of 0.001) around the index; the long lifts it with
        // $6,000 of equity: about 16x.
        let index_ticks = {
            let v = view(c.slots[0].node.as_ref().expect("running")).await;
            v.assets[0].index.to_ticks(100_000_000).expect("tick")
        };
        nonce += 1;
        let ask = OrderRequest::limit(0, MarketId(0), Side::Sell, index_ticks, 1_000);
        c.submit_to(1, sign(&maker, nonce, vec![TxAction::Place(ask)]));
        c.sleep_ms(1_000).await;
        nonce += 1;
        let mut bid = OrderRequest::limit(0, MarketId(0), Side::Buy, index_ticks + 100, 1_000);
        bid.tif = TimeInForce::Ioc;
        c.submit_to(2, sign(&long, nonce, vec![TxAction::Place(bid)]));
        c.sleep_ms(2_000).await;
        let position = |c: &Cluster| {
            let node = c.slots[0].node.clone().expect("running");
            let who = addr(&long);
            async move {
                node.executor
                    .account(who, 0)
                    .await
                    .and_then(|p| p.snapshot.cross.legs.first().map(|l| l.size))
                    .unwrap_or(0)
            }
        };
        assert_eq!(position(&c).await, 1_000, "the long opened before the crash");
        // The flash: −30% within 10 s of crash_at, then a recovery over a minute.
        let wait = (crash_at + 12_000).saturating_sub(now_ms(&c.ctx));
        c.sleep_ms(wait).await;
        let bottom = view(c.slots[0].node.as_ref().expect("running")).await;
        assert!(
            bottom.assets[0].index < OraclePrice::from_usd(80_000),
            "the index follows the crash: {}",
            bottom.assets[0].index
        );
        // Liquidation: the waterfall takes the position within its auction window.
        let start = c.max_height();
        c.expect_height(&c.honest(), start + 20, 60_000, "after the crash").await;
        assert_eq!(position(&c).await, 0, "the long was liquidated");
        // Identical on every validator: the harness compares blocks and state roots at every
        // height, and the outcome of every transaction.
        c.settle_and_check(&not_lost).await;
        c.fingerprint()
    })
}

#[test]
fn flash_crash_liquidates_identically() {
    twice(5, run_flash_crash);
}
