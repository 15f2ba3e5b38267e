//! Deterministic simulation of the chain: validators over commonware's simulated network in the
//! deterministic runtime, with exchange traffic (faucet credits, resting orders, crossing
//! orders) submitted to random validators.
//!
//! Checks after each run: every validator finalized the same blocks with the same state roots
//! (the engine's invariants are checked after every block in debug builds by the engine itself),
//! and every transaction admitted to a mempool was finalized or dropped with a reason. Each
//! scenario runs its seed twice and compares the runtime auditor's digest, which covers every
//! message, timer and storage operation.
//!

use std::collections::BTreeMap;
use std::time::Duration;

use commonware_cryptography::{ed25519::PrivateKey, sha256::Digest, Signer as _};
use commonware_p2p::simulated::Oracle;
use commonware_runtime::{deterministic, Clock as _, Runner as _, Spawner as _, Supervisor as _};
use novation_chain::executor::TxStatus;
use novation_chain::node::{NodeHandle, SubmitError, Timing};
use novation_chain::simulation::{self, key, link};
use novation_chain::tx::{
    address_of, ChainId, PublicKey as TxPublicKey, SignedTx, TxAction, TxBody, TxError,
};
use novation_engine::{MarketId, OrderRequest};
use novation_types::{Quote, Side};

/// Genesis time of the simulated chains (the runtime's clock starts here).
const GENESIS_MS: u64 = 1_800_000_000_000;

fn timing() -> Timing {
    Timing {
        leader_timeout: Duration::from_millis(500),
        certification_timeout: Duration::from_millis(1_000),
        timeout_retry: Duration::from_secs(2),
        skip_timeout: Duration::from_secs(5),
        min_block_interval: Duration::from_millis(200),
    }
}

/// What one run observed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    /// Per validator: height -> (digest, root) of every finalized block it remembers.
    chains: Vec<BTreeMap<u64, (Digest, Digest)>>,
    /// The runtime auditor's digest (determinism).
    auditor: String,
    /// Transactions submitted and admitted.
    admitted: Vec<[u8; 32]>,
    /// Per validator: each trader's (cash, position in market 0) at the end.
    traders: Vec<Vec<(i128, i64)>>,
    /// Orders placed (outcomes seen on validator 0).
    orders_placed: usize,
}

fn now_ms(ctx: &deterministic::Context) -> u64 {
    ctx.current().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Signs a transaction for `key` with the next nonce.
fn sign(key: &PrivateKey, nonce: u64, actions: Vec<TxAction>) -> Vec<u8> {
    let body = TxBody { chain_id: ChainId(1), nonce, master: None, actions };
    novation_chain::node::encode_tx(&SignedTx::sign(key, body))
}

fn addr(key: &PrivateKey) -> novation_types::Address {
    address_of(&TxPublicKey::Ed25519(key.public_key()))
}

/// Submits exchange traffic to the validators until `stop` blocks are finalized everywhere.
async fn traffic(
    ctx: deterministic::Context,
    nodes: Vec<NodeHandle>,
    rounds: u64,
) -> Vec<[u8; 32]> {
    let faucet = key("faucet", 0);
    let traders: Vec<PrivateKey> = (0..4).map(|i| key("trader", i)).collect();
    let mut admitted = Vec::new();
    let mut nonce = now_ms(&ctx);
    let mut submit = |bytes: Vec<u8>, node: &NodeHandle, now: u64| {
        if let Ok(h) = node.submit(&bytes, now) {
            admitted.push(h);
        }
    };
    // Credit every trader.
    let credits = traders
        .iter()
        .map(|t| TxAction::Faucet { to: addr(t), sub: 0, amount: Quote(1_000_000 * 1_000_000) })
        .collect();
    nonce += 1;
    submit(sign(&faucet, nonce, credits), &nodes[0], now_ms(&ctx));
    // Admission: a transaction whose signature was tampered with is refused as such, alone and
    // inside a batch, where the others keep their own answers, in order.
    let now = now_ms(&ctx);
    let credit =
        |t: &PrivateKey| vec![TxAction::Faucet { to: addr(t), sub: 0, amount: Quote(1_000_000) }];
    let good = sign(&faucet, nonce + 1, credit(&traders[0]));
    let mut forged = sign(&faucet, nonce + 2, credit(&traders[1]));
    // The encoding ends with the signature; its last 32 bytes are the scalar: add one to it.
    let s = forged.len() - 32;
    forged[s] ^= 1;
    let bad_signature = Err(SubmitError::Tx(TxError::BadSignature));
    assert_eq!(nodes[1].submit(&forged, now), bad_signature);
    let answers = nodes[1].submit_batch(&[&forged, &good, b"junk"], now);
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0], bad_signature);
    assert!(answers[1].is_ok(), "{:?}", answers[1]);
    assert!(matches!(answers[2], Err(SubmitError::Tx(_))), "{:?}", answers[2]);
    nonce += 2;
    ctx.sleep(Duration::from_millis(2_000)).await;
    for round in 0..rounds {
        let now = now_ms(&ctx);
        nonce = nonce.max(now) + 1;
        let node = &nodes[(round as usize) % nodes.len()];
        let t = &traders[(round as usize) % traders.len()];
        // Around $100,000 (1,000,000 ticks): makers rest both sides, every third order crosses.
        let side = if round % 2 == 0 { Side::Buy } else { Side::Sell };
        let offset = (round % 7) * 10;
        let price = match (side, round % 3 == 0) {
            (Side::Buy, false) => 999_000 - offset,
            (Side::Sell, false) => 1_001_000 + offset,
            (Side::Buy, true) => 1_010_000,
            (Side::Sell, true) => 990_000,
        };
        let order = OrderRequest::limit(0, MarketId(0), side, price, 10 + round % 5);
        submit(sign(t, nonce, vec![TxAction::Place(order)]), node, now);
        ctx.sleep(Duration::from_millis(50)).await;
    }
    admitted
}

async fn wait_height(ctx: &deterministic::Context, nodes: &[NodeHandle], height: u64) {
    loop {
        let done = nodes
            .iter()
            .all(|n| n.shared.status.lock().map(|s| s.height >= height).unwrap_or(false));
        if done {
            return;
        }
        ctx.sleep(Duration::from_millis(100)).await;
    }
}

fn history(n: &NodeHandle) -> BTreeMap<u64, (Digest, Digest)> {
    n.shared
        .history
        .lock()
        .map(|h| h.iter().map(|(k, d, r)| (*k, (*d, *r))).collect())
        .unwrap_or_default()
}

/// Runs `validators` nodes on links of the given quality until height `target`.
fn run(seed: u64, validators: u64, target: u64, lossy: bool) -> Outcome {
    let keys: Vec<PrivateKey> = (0..validators).map(|i| key("validator", i)).collect();
    let publics: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
    let genesis = simulation::genesis(&publics, GENESIS_MS);
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_start_time(std::time::UNIX_EPOCH + Duration::from_millis(GENESIS_MS))
        .with_timeout(Some(Duration::from_secs(3_600)));
    deterministic::Runner::new(cfg).start(|ctx| async move {
        let l = if lossy { link(200, 150, 50) } else { link(20, 5, 100) };
        let oracle: Oracle<_, _> = simulation::start_network(&ctx, &publics, l).await;
        let mut nodes = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let node = simulation::start_validator(
                ctx.child("validator").with_attribute("index", i),
                &oracle,
                &genesis,
                k.clone(),
                timing(),
            )
            .await
            .expect("validator starts");
            nodes.push(node);
        }
        let t = ctx.child("traffic").spawn({
            let nodes = nodes.clone();
            move |c| traffic(c, nodes, target * 2)
        });
        wait_height(&ctx, &nodes, target).await;
        let admitted = t.await.unwrap_or_default();
        // Let the last submissions settle.
        let settle = nodes.iter().map(|n| n.shared.status.lock().map(|s| s.height).unwrap_or(0)).max().unwrap_or(0) + 5;
        wait_height(&ctx, &nodes, settle).await;
        let mut traders = Vec::new();
        for n in &nodes {
            let mut v = Vec::new();
            for i in 0..4 {
                let a = n.executor.account(addr(&key("trader", i)), 0).await;
                v.push(a.map(|p| (p.snapshot.cross.cash.0, p.snapshot.cross.legs.first().map(|l| l.size).unwrap_or(0))).unwrap_or_default());
            }
            traders.push(v);
        }
        let orders_placed = admitted
            .iter()
            .filter(|h| {
                matches!(nodes[0].shared.results.lock().ok().and_then(|r| r.get(h)),
                    Some(TxStatus::Finalized { outcome: novation_chain::state::TxOutcome::Executed { actions }, .. })
                        if actions.iter().any(|a| matches!(a, novation_chain::state::ActionOutcome::OrderPlaced { .. })))
            })
            .count();
        Outcome {
            traders,
            orders_placed,
            chains: nodes.iter().map(history).collect(),
            auditor: ctx.auditor().state(),
            admitted: {
                // Every admitted transaction was finalized or dropped with a reason.
                for h in &admitted {
                    let known = nodes.iter().any(|n| {
                        matches!(
                            n.shared.results.lock().ok().and_then(|r| r.get(h)),
                            Some(TxStatus::Finalized { .. } | TxStatus::Dropped { .. })
                        )
                    });
                    assert!(known, "admitted transaction neither finalized nor dropped");
                }
                admitted
            },
        }
    })
}

fn assert_agreement(o: &Outcome, upto: u64) {
    let first = &o.chains[0];
    for h in 1..=upto {
        let reference = first.get(&h).expect("height finalized on validator 0");
        for (i, c) in o.chains.iter().enumerate() {
            assert_eq!(c.get(&h), Some(reference), "validator {i} disagrees at height {h}");
        }
    }
}

#[test]
fn four_validators_agree_and_replay_identically() {
    let a = run(1, 4, 20, false);
    assert_agreement(&a, 20);
    assert!(!a.admitted.is_empty());
    assert!(a.orders_placed > 10, "orders were placed: {}", a.orders_placed);
    assert!(
        a.traders[0].iter().any(|(_, pos)| *pos != 0),
        "some trader holds a position: {:?}",
        a.traders[0]
    );
    assert!(a.traders.iter().all(|t| *t == a.traders[0]), "every validator has the same accounts");
    let b = run(1, 4, 20, false);
    assert_eq!(a.auditor, b.auditor, "same seed, same run");
    assert_eq!(a.chains, b.chains);
}
