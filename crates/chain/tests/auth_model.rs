//! Differential proptest: random sequences of transactions from a few signers (acting for
//! themselves or as agents; trading, withdrawals, approvals, revocations, faucet) against a
//! naive model that keeps every nonce ever used and writes the rules plainly. Each step runs as
//! a block does (`Auth::settle`). After every step: same verdict (error code), principal and
//! consumed nonce; a refusal by the replay rules leaves `Auth` exactly unchanged and one after
//! them only uses the nonce (`Auth::apply` on a copy refuses without a trace); the dirty set is
//! what the model says changed, every record equals the model's, and the invariants hold; at
//! the end the records rebuild an equal state.

mod tx_support;

use std::collections::{BTreeMap, BTreeSet};

use novation_chain::auth::{Auth, AuthError, SignerRecord};
use novation_chain::tx::TxAction;
use novation_engine::MarketId;
use novation_types::{Address, QtyLots, Quote};
use proptest::prelude::*;
use tx_support::*;

const QUARTER: u64 = 15 * 60 * 1000;
const DAY: u64 = 96 * QUARTER;
const T0: u64 = 30 * DAY;
/// Keys 0..SIGNERS sign; keys SIGNERS..ADDRESSES only appear as agents (enough for a master
/// to reach MAX_AGENTS_PER_MASTER).
const SIGNERS: u8 = 4;
const ADDRESSES: u8 = 14;

#[derive(Clone, Debug)]
enum Act {
    Place { market: u16, qty: u64 },
    CancelAll { market: Option<u16> },
    Withdraw,
    Approve { agent: u8, markets: Vec<u16>, max: Option<u64>, expires_q: i64 },
    Revoke { agent: u8 },
    Faucet,
}

#[derive(Clone, Debug)]
struct Op {
    signer: u8,
    master: Option<u8>,
    nonce_q: i64,
    nonce_jitter: u64,
    dt_q: u64,
    acts: Vec<Act>,
}

fn arb_act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => (0u16..4, 1u64..6).prop_map(|(market, qty)| Act::Place { market, qty }),
        2 => proptest::option::of(0u16..4).prop_map(|market| Act::CancelAll { market }),
        1 => Just(Act::Withdraw),
        3 => (prop_oneof![3 => 0..SIGNERS, 2 => SIGNERS..ADDRESSES], proptest::collection::btree_set(0u16..4, 0..3), proptest::option::of(0u64..6), -2i64..150)
            .prop_map(|(agent, m, max, expires_q)| Act::Approve { agent, markets: m.into_iter().collect(), max, expires_q }),
        1 => (0..ADDRESSES).prop_map(|agent| Act::Revoke { agent }),
        1 => Just(Act::Faucet),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    (
        0u8..SIGNERS,
        // The master as an offset from the signer: none, the signer itself (refused), another.
        prop_oneof![4 => Just(None), 1 => Just(Some(0u8)), 4 => (1..SIGNERS).prop_map(Some)],
        -194i64..=98,
        prop_oneof![4 => Just(0u64), 1 => 0u64..3],
        0u64..=2,
        proptest::collection::vec(arb_act(), 1..3),
    )
        .prop_map(|(signer, master, nonce_q, nonce_jitter, dt_q, acts)| Op {
            signer,
            master: master.map(|m| (signer + m) % SIGNERS),
            nonce_q,
            nonce_jitter,
            dt_q,
            acts,
        })
}

/// One master (key 0) managing a crowd of agents (keys 1..ADDRESSES) that trade for it: the
/// agent bound, replacement, revocation and scope are hit often.
fn arb_op_crowd() -> impl Strategy<Value = Op> {
    let master_act = prop_oneof![
        5 => (1..ADDRESSES, proptest::collection::btree_set(0u16..3, 0..3), proptest::option::of(1u64..4), 1i64..200)
            .prop_map(|(agent, m, max, expires_q)| Act::Approve { agent, markets: m.into_iter().collect(), max, expires_q }),
        2 => (1..ADDRESSES).prop_map(|agent| Act::Revoke { agent }),
        1 => (0u16..3, 1u64..5).prop_map(|(market, qty)| Act::Place { market, qty }),
    ];
    let agent_act = prop_oneof![
        6 => (0u16..3, 1u64..5).prop_map(|(market, qty)| Act::Place { market, qty }),
        2 => proptest::option::of(0u16..3).prop_map(|market| Act::CancelAll { market }),
        1 => Just(Act::Withdraw),
    ];
    prop_oneof![
        (proptest::collection::vec(master_act, 1..4), -10i64..10, 0u64..=1).prop_map(
            |(acts, nonce_q, dt_q)| Op {
                signer: 0,
                master: None,
                nonce_q,
                nonce_jitter: 0,
                dt_q,
                acts
            }
        ),
        (1..ADDRESSES, proptest::collection::vec(agent_act, 1..3), -10i64..10, 0u64..=1).prop_map(
            |(signer, acts, nonce_q, dt_q)| Op {
                signer,
                master: Some(0),
                nonce_q,
                nonce_jitter: 0,
                dt_q,
                acts
            }
        ),
    ]
}

fn offset(time: u64, quarters: i64) -> u64 {
    let delta = quarters.unsigned_abs() * QUARTER;
    if quarters < 0 {
        time - delta
    } else {
        time + delta
    }
}

fn addr_of(k: u8) -> Address {
    address(&key(k))
}

fn to_action(act: &Act, time: u64) -> TxAction {
    match act {
        Act::Place { market, qty } => place(*market, *qty),
        Act::CancelAll { market } => {
            TxAction::CancelAll { sub: 0, market: market.map(MarketId), side: None }
        }
        Act::Withdraw => TxAction::Withdraw { sub: 0, amount: Quote(1) },
        Act::Approve { agent, markets, max, expires_q } => TxAction::ApproveAgent {
            agent: addr_of(*agent),
            markets: markets.iter().copied().map(MarketId).collect(),
            max_order_qty: max.map(QtyLots),
            expires_ms: offset(time, *expires_q),
        },
        Act::Revoke { agent } => TxAction::RevokeAgent { agent: addr_of(*agent) },
        Act::Faucet => TxAction::Faucet { to: addr_of(3), sub: 0, amount: Quote(5) },
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Grant {
    master: Address,
    markets: Vec<MarketId>,
    max: Option<QtyLots>,
    expires_ms: u64,
}

/// The rules, written plainly: every nonce ever used is remembered.
#[derive(Clone, Debug, Default)]
struct Model {
    used: BTreeMap<Address, Vec<u64>>,
    grants: BTreeMap<Address, Grant>,
}

impl Model {
    /// The verdict (error code) or the principal and the addresses whose state changes.
    fn run(
        &mut self,
        signer: Address,
        nonce: u64,
        master: Option<Address>,
        actions: &[TxAction],
        time: u64,
        faucet: Option<Address>,
    ) -> Result<(Address, BTreeSet<Address>), u16> {
        if !(nonce > time.saturating_sub(2 * DAY) && nonce < time.saturating_add(DAY)) {
            return Err(101);
        }
        let used = self.used.get(&signer).cloned().unwrap_or_default();
        if used.len() >= 100 {
            let mut desc = used.clone();
            desc.sort_unstable_by(|a, b| b.cmp(a));
            if nonce <= desc[99] {
                return Err(102);
            }
        }
        if used.contains(&nonce) {
            return Err(103);
        }
        let principal = match master {
            None => signer,
            Some(m) => {
                if m == signer {
                    return Err(110);
                }
                let Some(g) = self.grants.get(&signer).filter(|g| g.master == m) else {
                    return Err(111);
                };
                if time >= g.expires_ms {
                    return Err(112);
                }
                for a in actions {
                    let trading = matches!(
                        a,
                        TxAction::Place(_) | TxAction::CancelAll { .. } | TxAction::Modify { .. }
                    );
                    if !trading {
                        return Err(113);
                    }
                    let market = match a {
                        TxAction::Place(o) => Some(o.market),
                        TxAction::CancelAll { market, .. } => *market,
                        _ => None,
                    };
                    if !g.markets.is_empty() {
                        match market {
                            None => return Err(115),
                            Some(m) if !g.markets.contains(&m) => return Err(114),
                            Some(_) => {}
                        }
                    }
                    if let (TxAction::Place(o), Some(max)) = (a, g.max) {
                        if o.qty > max {
                            return Err(116);
                        }
                    }
                }
                m
            }
        };
        let mut grants = self.grants.clone();
        let mut changed = BTreeSet::from([signer]);
        for a in actions {
            match a {
                TxAction::Faucet { .. } if faucet != Some(signer) => return Err(120),
                TxAction::ApproveAgent { agent, markets, max_order_qty, expires_ms } => {
                    if *agent == signer {
                        return Err(121);
                    }
                    if *max_order_qty == Some(QtyLots(0)) {
                        return Err(122);
                    }
                    if *expires_ms <= time {
                        return Err(123);
                    }
                    if grants.get(agent).is_some_and(|g| g.master != signer) {
                        return Err(124);
                    }
                    grants.insert(
                        *agent,
                        Grant {
                            master: signer,
                            markets: markets.clone(),
                            max: *max_order_qty,
                            expires_ms: *expires_ms,
                        },
                    );
                    if grants.values().filter(|g| g.master == signer).count() > 8 {
                        return Err(125);
                    }
                    changed.insert(*agent);
                }
                TxAction::RevokeAgent { agent } => {
                    if grants.get(agent).is_none_or(|g| g.master != signer) {
                        return Err(126);
                    }
                    grants.remove(agent);
                    changed.insert(*agent);
                }
                _ => {}
            }
        }
        self.used.entry(signer).or_default().push(nonce);
        self.grants = grants;
        Ok((principal, changed))
    }

    fn record(&self, addr: Address) -> Option<SignerRecord> {
        let mut nonces = self.used.get(&addr).cloned().unwrap_or_default();
        nonces.sort_unstable();
        let keep_from = nonces.len().saturating_sub(100);
        let nonces = nonces.split_off(keep_from);
        let grant = self.grants.get(&addr).map(|g| novation_chain::auth::AgentGrant {
            master: g.master,
            markets: g.markets.clone(),
            max_order_qty: g.max,
            expires_ms: g.expires_ms,
        });
        let agents: Vec<Address> =
            self.grants.iter().filter(|(_, g)| g.master == addr).map(|(a, _)| *a).collect();
        if nonces.is_empty() && grant.is_none() && agents.is_empty() {
            None
        } else {
            Some(SignerRecord { nonces, grant, agents })
        }
    }
}

fn run_sequence(ops: &[Op], faucet_key: Option<u8>) -> Result<Auth, TestCaseError> {
    let faucet = faucet_key.map(addr_of);
    let everyone: Vec<Address> = (0..ADDRESSES).map(addr_of).collect();
    let mut auth = Auth::new();
    let mut model = Model::default();
    let mut time = T0;
    for op in ops {
        time += op.dt_q * QUARTER;
        let nonce = offset(time, op.nonce_q) + op.nonce_jitter;
        let actions: Vec<TxAction> = op.acts.iter().map(|a| to_action(a, time)).collect();
        let master = op.master.map(addr_of);
        let tx = signed(&key(op.signer), nonce, master, actions.clone());
        let before = auth.clone();
        // `apply` refuses without a trace; `settle` (what blocks do) is checked against the model.
        let mut pure = auth.clone();
        let applied = pure.apply(&tx, time, faucet);
        let got = auth.settle(&tx, time, faucet);
        prop_assert_eq!(applied.as_ref().err(), got.as_ref().err().map(|r| &r.error));
        if applied.is_err() {
            prop_assert_eq!(&pure, &before, "a rejection by apply changed the state");
        }
        // What a block does: a refusal after the replay rules (codes 110 and up) still uses
        // the nonce.
        let want = match model.run(addr_of(op.signer), nonce, master, &actions, time, faucet) {
            Ok(done) => Ok(done),
            Err(code) if code >= 110 => {
                model.used.entry(addr_of(op.signer)).or_default().push(nonce);
                Err((code, true))
            }
            Err(code) => Err((code, false)),
        };
        match (&got, &want) {
            (Ok(a), Ok((principal, changed))) => {
                prop_assert_eq!(a.principal, *principal);
                let dirty: BTreeSet<Address> = auth.take_dirty().into_iter().collect();
                prop_assert_eq!(&dirty, changed);
            }
            (Err(r), Err((code, consumed))) => {
                prop_assert_eq!(r.error.code(), *code, "{:?} for {:?}", r, op);
                prop_assert_eq!(r.nonce_consumed, *consumed);
                let dirty: BTreeSet<Address> = auth.take_dirty().into_iter().collect();
                if *consumed {
                    prop_assert_eq!(dirty, BTreeSet::from([addr_of(op.signer)]));
                } else {
                    prop_assert_eq!(&auth, &before, "a replay refusal changed the state");
                }
            }
            _ => {
                return Err(TestCaseError::fail(format!(
                    "verdicts differ for {op:?} at {time}: got {got:?}, model {want:?}"
                )))
            }
        }
        auth.check_invariants().map_err(TestCaseError::fail)?;
        for a in &everyone {
            prop_assert_eq!(auth.record(*a), model.record(*a), "record of {:?}", a);
        }
    }
    let restored = Auth::from_records(auth.records()).map_err(TestCaseError::fail)?;
    prop_assert_eq!(&restored, &auth);
    Ok(auth)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn auth_matches_the_naive_model(
        ops in proptest::collection::vec(arb_op(), 1..500),
        faucet_key in proptest::option::of(0..SIGNERS),
    ) {
        run_sequence(&ops, faucet_key)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn auth_matches_the_naive_model_with_a_crowd_of_agents(
        ops in proptest::collection::vec(arb_op_crowd(), 1..400),
    ) {
        run_sequence(&ops, None)?;
    }
}

/// The error codes the model uses are the implementation's.
#[test]
fn model_codes_are_the_real_codes() {
    assert_eq!(AuthError::NonceOutsideWindow { nonce: 0, low: 0, high: 0 }.code(), 101);
    assert_eq!(AuthError::UnknownAgent(Address([0; 20])).code(), 126);
}

/// A long run for one signer reaches the kept bound, so eviction and `NonceTooLow` are covered.
#[test]
fn long_single_signer_run_reaches_the_bound() {
    let ops: Vec<Op> = (0..400)
        .map(|i| Op {
            signer: 0,
            master: None,
            nonce_q: (i * 37 % 280) - 190,
            nonce_jitter: 0,
            dt_q: (i % 2) as u64,
            acts: vec![Act::Place { market: 1, qty: 1 }],
        })
        .collect();
    match run_sequence(&ops, None) {
        Ok(auth) => assert_eq!(auth.nonces(&addr_of(0)).len(), novation_chain::auth::NONCES_KEPT),
        Err(e) => panic!("{e}"),
    }
}
