//! Agent keys (scope, expiry, revocation, binding, bounds), the faucet, commit semantics,
//! dirty tracking, records and their encoding.

mod tx_support;

use commonware_codec::{Copying, Decode, Encode, EncodeSize};
use novation_chain::auth::{
    AgentGrant, Auth, AuthError, GrantChange, Refusal, SignerRecord, MAX_AGENTS_PER_MASTER,
};
use novation_chain::tx::{ActionFault, SignedTx, TxAction};
use novation_engine::{Action, MarketId};
use novation_types::{Address, OrderId, PriceTicks, QtyLots, Quote};
use tx_support::*;

const T: u64 = 10 * 86_400_000;
const EXPIRES: u64 = T + 1_000;

struct World {
    auth: Auth,
    nonce: u64,
    faucet: Option<Address>,
}

impl World {
    fn new() -> World {
        World { auth: Auth::new(), nonce: T, faucet: Some(address(&key(9))) }
    }

    /// Signs with a fresh nonce, authorizes, applies, and checks the no-trace rule.
    fn send(
        &mut self,
        signer: u8,
        master: Option<u8>,
        actions: Vec<TxAction>,
        time_ms: u64,
    ) -> Result<Address, AuthError> {
        self.nonce += 1;
        let tx = signed(&key(signer), self.nonce, master.map(|m| address(&key(m))), actions);
        self.send_tx(&tx, time_ms)
    }

    fn send_tx(&mut self, tx: &SignedTx, time_ms: u64) -> Result<Address, AuthError> {
        let before = self.auth.clone();
        let pure = self.auth.authorize(tx, time_ms, self.faucet);
        let result = self.auth.apply(tx, time_ms, self.faucet);
        assert_eq!(pure, result);
        if result.is_err() {
            assert_eq!(self.auth, before, "a rejection changed the state");
        }
        self.auth.check_invariants().expect("invariants");
        result.map(|a| a.principal)
    }
}

fn addr(k: u8) -> Address {
    address(&key(k))
}

fn approve(agent: u8, markets: &[u16], max: Option<u64>, expires_ms: u64) -> TxAction {
    TxAction::ApproveAgent {
        agent: addr(agent),
        markets: markets.iter().copied().map(MarketId).collect(),
        max_order_qty: max.map(QtyLots),
        expires_ms,
    }
}

fn revoke(agent: u8) -> TxAction {
    TxAction::RevokeAgent { agent: addr(agent) }
}

fn cancel_all(market: Option<u16>) -> TxAction {
    TxAction::CancelAll { sub: 0, market: market.map(MarketId), side: None }
}

#[test]
fn an_agent_trades_for_its_master_within_scope() {
    let mut w = World::new();
    assert_eq!(w.send(1, None, vec![approve(2, &[1, 3], Some(10), EXPIRES)], T), Ok(addr(1)));
    // Principal is the master.
    assert_eq!(w.send(2, Some(1), vec![place(1, 10), place(3, 1)], T), Ok(addr(1)));
    let modify = TxAction::Modify {
        sub: 0,
        market: MarketId(3),
        id: OrderId(1),
        price: PriceTicks(5),
        qty: QtyLots(10),
    };
    let cancel = TxAction::Cancel { sub: 0, market: MarketId(1), id: OrderId(1) };
    assert_eq!(w.send(2, Some(1), vec![modify, cancel, cancel_all(Some(3))], T), Ok(addr(1)));
    // Out of scope.
    assert_eq!(
        w.send(2, Some(1), vec![place(1, 1), place(2, 1)], T),
        Err(AuthError::AgentMarketNotAllowed(MarketId(2)))
    );
    assert_eq!(
        w.send(2, Some(1), vec![place(1, 11)], T),
        Err(AuthError::AgentOrderTooLarge { qty: QtyLots(11), max: QtyLots(10) })
    );
    assert_eq!(
        w.send(2, Some(1), vec![cancel_all(None)], T),
        Err(AuthError::AgentAllMarketsNotAllowed)
    );
    for forbidden in [
        TxAction::Withdraw { sub: 0, amount: Quote(1) },
        TxAction::Transfer { sub: 0, to: addr(2), to_sub: 0, amount: Quote(1) },
        TxAction::SetMarginMode { sub: 0, market: MarketId(1), isolated: true },
        approve(3, &[], None, EXPIRES),
        revoke(2),
        TxAction::Faucet { to: addr(2), sub: 0, amount: Quote(1) },
    ] {
        assert_eq!(
            w.send(2, Some(1), vec![place(1, 1), forbidden], T),
            Err(AuthError::AgentActionNotAllowed)
        );
    }
}

#[test]
fn an_agent_of_all_markets_without_size_bound() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    assert_eq!(w.send(2, Some(1), vec![place(7, u64::MAX), cancel_all(None)], T), Ok(addr(1)));
}

#[test]
fn expiry_is_exclusive() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    assert_eq!(w.send(2, Some(1), vec![place(1, 1)], EXPIRES - 1), Ok(addr(1)));
    assert_eq!(
        w.send(2, Some(1), vec![place(1, 1)], EXPIRES),
        Err(AuthError::AgentExpired { expires_ms: EXPIRES })
    );
    // An expired grant still binds the agent until revoked, and still counts.
    assert_eq!(w.auth.agents(&addr(1)), vec![addr(2)]);
    // A grant must expire after the block time.
    assert_eq!(
        w.send(1, None, vec![approve(3, &[], None, T)], T),
        Err(AuthError::AgentExpiryNotInFuture { expires_ms: T })
    );
    // Re-approving renews.
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES + 10)], EXPIRES).is_ok());
    assert_eq!(w.send(2, Some(1), vec![place(1, 1)], EXPIRES), Ok(addr(1)));
}

#[test]
fn revocation_and_unknown_agents() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    assert_eq!(w.send(1, None, vec![revoke(3)], T), Err(AuthError::UnknownAgent(addr(3))));
    assert!(w.send(1, None, vec![revoke(2)], T).is_ok());
    assert_eq!(
        w.send(2, Some(1), vec![place(1, 1)], T),
        Err(AuthError::AgentNotApproved { master: addr(1) })
    );
    assert_eq!(w.send(1, None, vec![revoke(2)], T), Err(AuthError::UnknownAgent(addr(2))));
    // Another master cannot revoke someone else's agent.
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    assert_eq!(w.send(3, None, vec![revoke(2)], T), Err(AuthError::UnknownAgent(addr(2))));
    // Naming the wrong master, or oneself.
    assert_eq!(
        w.send(2, Some(3), vec![place(1, 1)], T),
        Err(AuthError::AgentNotApproved { master: addr(3) })
    );
    let tx = signed(&key(2), w.nonce + 1, Some(addr(2)), vec![place(1, 1)]);
    assert_eq!(w.send_tx(&tx, T), Err(AuthError::MasterIsSigner));
}

#[test]
fn binding_is_to_one_master_and_replaces_scope() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[1], Some(5), EXPIRES)], T).is_ok());
    assert_eq!(
        w.send(3, None, vec![approve(2, &[], None, EXPIRES)], T),
        Err(AuthError::AgentBoundToOtherMaster { master: addr(1) })
    );
    assert!(w.send(1, None, vec![approve(2, &[4], None, EXPIRES)], T).is_ok());
    assert_eq!(
        w.auth.grant(&addr(2)),
        Some(&AgentGrant {
            master: addr(1),
            markets: vec![MarketId(4)],
            max_order_qty: None,
            expires_ms: EXPIRES
        })
    );
    assert_eq!(w.send(2, Some(1), vec![place(4, 100)], T), Ok(addr(1)));
    assert_eq!(
        w.send(2, Some(1), vec![place(1, 1)], T),
        Err(AuthError::AgentMarketNotAllowed(MarketId(1)))
    );
    // After revocation another master may take it.
    assert!(w.send(1, None, vec![revoke(2)], T).is_ok());
    assert_eq!(w.send(3, None, vec![approve(2, &[], None, EXPIRES)], T), Ok(addr(3)));
}

/// Approving an address never redirects that address's own transactions: without `master`
/// it acts for itself.
#[test]
fn approval_cannot_hijack_an_account() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    let withdraw = TxAction::Withdraw { sub: 0, amount: Quote(5) };
    assert_eq!(w.send(2, None, vec![withdraw, place(1, 1)], T), Ok(addr(2)));
}

#[test]
fn agent_nonces_are_its_own_in_both_roles() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    let as_agent = signed(&key(2), T + 77, Some(addr(1)), vec![place(1, 1)]);
    let as_self = signed(&key(2), T + 77, None, vec![place(1, 1)]);
    assert_eq!(w.send_tx(&as_agent, T), Ok(addr(1)));
    assert_eq!(w.send_tx(&as_self, T), Err(AuthError::NonceUsed { nonce: T + 77 }));
    assert_eq!(w.auth.nonces(&addr(2)), &[T + 77]);
    // The master's own nonce set is untouched by its agent.
    let master_same_nonce = signed(&key(1), T + 77, None, vec![place(1, 1)]);
    assert_eq!(w.send_tx(&master_same_nonce, T), Ok(addr(1)));
}

#[test]
fn at_most_eight_agents_and_order_within_a_transaction() {
    let mut w = World::new();
    let eight: Vec<TxAction> =
        (10..10 + MAX_AGENTS_PER_MASTER as u8).map(|a| approve(a, &[], None, EXPIRES)).collect();
    assert!(w.send(1, None, eight, T).is_ok());
    assert_eq!(w.auth.agents(&addr(1)).len(), MAX_AGENTS_PER_MASTER);
    assert_eq!(
        w.send(1, None, vec![approve(30, &[], None, EXPIRES)], T),
        Err(AuthError::TooManyAgents)
    );
    // Re-approving an existing agent does not add one.
    assert!(w.send(1, None, vec![approve(10, &[1], None, EXPIRES)], T).is_ok());
    // Revoke then approve in one transaction: applied in order.
    assert!(w.send(1, None, vec![revoke(10), approve(30, &[], None, EXPIRES)], T).is_ok());
    // Approve then revoke the same in one transaction leaves it unbound.
    assert!(w
        .send(1, None, vec![revoke(11), approve(31, &[], None, EXPIRES), revoke(31)], T)
        .is_ok());
    assert_eq!(w.auth.grant(&addr(31)), None);
    assert_eq!(w.auth.agents(&addr(1)).len(), MAX_AGENTS_PER_MASTER - 1);
    // Approve in the wrong order: too many at the time of the action.
    assert_eq!(
        w.send(
            1,
            None,
            vec![approve(32, &[], None, EXPIRES), approve(33, &[], None, EXPIRES), revoke(12)],
            T
        ),
        Err(AuthError::TooManyAgents)
    );
}

#[test]
fn approvals_are_validated_even_without_the_stateless_check() {
    let mut w = World::new();
    assert_eq!(
        w.send(1, None, vec![approve(1, &[], None, EXPIRES)], T),
        Err(AuthError::AgentIsSelf)
    );
    assert_eq!(
        w.send(1, None, vec![approve(2, &[3, 2], None, EXPIRES)], T),
        Err(AuthError::AgentScopeInvalid(ActionFault::AgentMarketsNotIncreasing))
    );
    assert_eq!(
        w.send(1, None, vec![approve(2, &[], Some(0), EXPIRES)], T),
        Err(AuthError::AgentScopeInvalid(ActionFault::ZeroAgentOrderQty))
    );
}

#[test]
fn faucet_only_from_the_faucet_address() {
    let mut w = World::new();
    let faucet = TxAction::Faucet { to: addr(4), sub: 2, amount: Quote(1_000) };
    assert_eq!(w.send(1, None, vec![faucet.clone()], T), Err(AuthError::FaucetOnly));
    assert_eq!(w.send(9, None, vec![faucet.clone()], T), Ok(addr(9)));
    assert_eq!(
        faucet.engine_tx(addr(9)),
        Some(novation_engine::Tx {
            sender: addr(4),
            action: Action::Deposit { sub: 2, amount: Quote(1_000) }
        })
    );
    w.faucet = None;
    assert_eq!(w.send(9, None, vec![faucet], T), Err(AuthError::FaucetOnly));
}

#[test]
fn precedence_nonce_before_agent_before_chain_actions() {
    let mut w = World::new();
    let tx =
        signed(&key(2), 0, Some(addr(1)), vec![TxAction::Withdraw { sub: 0, amount: Quote(1) }]);
    assert!(matches!(w.send_tx(&tx, T), Err(AuthError::NonceOutsideWindow { .. })));
    let tx =
        signed(&key(2), T, Some(addr(1)), vec![TxAction::Withdraw { sub: 0, amount: Quote(1) }]);
    assert_eq!(w.send_tx(&tx, T), Err(AuthError::AgentNotApproved { master: addr(1) }));
    let faucet = TxAction::Faucet { to: addr(4), sub: 2, amount: Quote(1) };
    assert_eq!(w.send(1, None, vec![revoke(5), faucet], T), Err(AuthError::UnknownAgent(addr(5))));
}

#[test]
fn stable_distinct_codes() {
    let a = Address([0; 20]);
    let errors = [
        AuthError::NonceOutsideWindow { nonce: 0, low: 0, high: 0 },
        AuthError::NonceTooLow { nonce: 0, smallest_kept: 0 },
        AuthError::NonceUsed { nonce: 0 },
        AuthError::MasterIsSigner,
        AuthError::AgentNotApproved { master: a },
        AuthError::AgentExpired { expires_ms: 0 },
        AuthError::AgentActionNotAllowed,
        AuthError::AgentMarketNotAllowed(MarketId(0)),
        AuthError::AgentAllMarketsNotAllowed,
        AuthError::AgentOrderTooLarge { qty: QtyLots(0), max: QtyLots(0) },
        AuthError::FaucetOnly,
        AuthError::AgentIsSelf,
        AuthError::AgentScopeInvalid(ActionFault::ZeroQty),
        AuthError::AgentExpiryNotInFuture { expires_ms: 0 },
        AuthError::AgentBoundToOtherMaster { master: a },
        AuthError::TooManyAgents,
        AuthError::UnknownAgent(a),
        AuthError::AddressLimit,
    ];
    let codes: Vec<u16> = errors.iter().map(AuthError::code).collect();
    assert_eq!(
        codes,
        vec![
            101, 102, 103, 110, 111, 112, 113, 114, 115, 116, 120, 121, 122, 123, 124, 125, 126,
            130
        ]
    );
}

#[test]
fn address_limit_counts_new_signers_and_agents() {
    let mut w = World::new();
    w.auth = Auth::with_address_limit(3);
    assert!(w.send(1, None, vec![place(1, 1)], T).is_ok());
    assert!(w.send(1, None, vec![approve(2, &[], None, EXPIRES)], T).is_ok());
    assert_eq!(
        w.send(3, None, vec![approve(4, &[], None, EXPIRES)], T),
        Err(AuthError::AddressLimit)
    );
    assert!(w.send(3, None, vec![place(1, 1)], T).is_ok());
    assert_eq!(w.send(4, None, vec![place(1, 1)], T), Err(AuthError::AddressLimit));
    // Known addresses keep working.
    assert!(w.send(2, Some(1), vec![place(1, 1)], T).is_ok());
    assert_eq!(w.auth.len(), 3);
}

#[test]
fn authorize_plans_and_apply_records() {
    let mut auth = Auth::new();
    let tx = signed(&key(1), T, None, vec![approve(2, &[], None, EXPIRES)]);
    let before = auth.clone();
    let authorized = auth.authorize(&tx, T, None).expect("authorized");
    assert_eq!(authorized.principal, addr(1));
    assert!(!authorized.is_agent());
    assert_eq!(authorized.changes.len(), 1);
    assert!(matches!(authorized.changes[0], GrantChange::Approve { .. }));
    assert_eq!(auth, before, "authorize is pure");
    assert_eq!(auth.apply(&tx, T, None), Ok(authorized));
    // Recorded: the nonce is now used.
    let after = auth.clone();
    assert_eq!(auth.apply(&tx, T, None), Err(AuthError::NonceUsed { nonce: T }));
    assert_eq!(auth, after);
}

#[test]
fn settle_consumes_the_nonce_of_a_refusal_after_the_replay_rules() {
    let mut auth = Auth::new();
    // An agent's order before its master approved it: refused, and its nonce is spent.
    let early = signed(&key(2), T, Some(addr(1)), vec![place(1, 1)]);
    assert_eq!(
        auth.settle(&early, T, None),
        Err(Refusal {
            error: AuthError::AgentNotApproved { master: addr(1) },
            nonce_consumed: true
        })
    );
    assert_eq!(auth.nonces(&addr(2)), &[T]);
    assert_eq!(auth.take_dirty(), vec![addr(2)]);
    assert_eq!(auth.grant(&addr(2)), None, "only the nonce changed");
    auth.check_invariants().expect("invariants");
    // After the approval the same bytes still never execute.
    let approval = signed(&key(1), T, None, vec![approve(2, &[], None, EXPIRES)]);
    assert!(auth.settle(&approval, T, None).is_ok());
    let _ = auth.take_dirty();
    let before = auth.clone();
    assert_eq!(
        auth.settle(&early, T, None),
        Err(Refusal { error: AuthError::NonceUsed { nonce: T }, nonce_consumed: false })
    );
    assert_eq!(auth, before, "a replay refusal changes nothing");
    // A fresh nonce from the approved agent executes.
    let fresh = signed(&key(2), T + 1, Some(addr(1)), vec![place(1, 1)]);
    assert_eq!(auth.settle(&fresh, T, None).map(|a| a.principal), Ok(addr(1)));
    // Scope refusals (here: a size above the grant) consume the nonce as well.
    let scoped = signed(&key(1), T + 1, None, vec![approve(2, &[], Some(2), EXPIRES)]);
    assert!(auth.settle(&scoped, T, None).is_ok());
    let big = signed(&key(2), T + 2, Some(addr(1)), vec![place(1, 3)]);
    let refusal = auth.settle(&big, T, None).expect_err("above the agent's size");
    assert!(refusal.nonce_consumed);
    assert!(auth.nonces(&addr(2)).contains(&(T + 2)));
}

#[test]
fn settle_cannot_consume_a_nonce_past_the_address_limit() {
    let mut auth = Auth::with_address_limit(1);
    assert!(auth.settle(&signed(&key(1), T, None, vec![place(1, 1)]), T, None).is_ok());
    let _ = auth.take_dirty();
    let before = auth.clone();
    // A stranger acting as an agent: refused, and no room to remember its nonce.
    let stranger = signed(&key(3), T, Some(addr(1)), vec![place(1, 1)]);
    assert_eq!(
        auth.settle(&stranger, T, None),
        Err(Refusal {
            error: AuthError::AgentNotApproved { master: addr(1) },
            nonce_consumed: false
        })
    );
    assert_eq!(auth, before);
    // A known signer's refusal (the faucet, not its address) still consumes.
    let faucet = TxAction::Faucet { to: addr(1), sub: 0, amount: Quote(1) };
    let refused = auth.settle(&signed(&key(1), T + 1, None, vec![faucet]), T, None);
    assert_eq!(refused, Err(Refusal { error: AuthError::FaucetOnly, nonce_consumed: true }));
    assert_eq!(auth.nonces(&addr(1)), &[T, T + 1]);
    // Outside the window: a replay refusal, nothing recorded.
    let late = signed(&key(1), 1, None, vec![place(1, 1)]);
    let refused = auth.settle(&late, T, None).expect_err("outside the window");
    assert!(!refused.nonce_consumed);
    assert_eq!(auth.nonces(&addr(1)), &[T, T + 1]);
}

#[test]
fn dirty_records_and_restore() {
    let mut w = World::new();
    assert!(w.send(1, None, vec![approve(2, &[1, 2], Some(3), EXPIRES)], T).is_ok());
    let mut expected = vec![addr(1), addr(2)];
    expected.sort();
    assert_eq!(w.auth.take_dirty(), expected);
    assert!(w.send(2, Some(1), vec![place(1, 1)], T).is_ok());
    assert_eq!(w.auth.take_dirty(), vec![addr(2)]);
    let agent = w.auth.record(addr(2)).expect("agent record");
    assert_eq!(agent.nonces.len(), 1);
    assert_eq!(agent.grant.as_ref().map(|g| g.master), Some(addr(1)));
    let master = w.auth.record(addr(1)).expect("master record");
    assert_eq!(master.agents, vec![addr(2)]);
    // Revoking an agent that never signed deletes its record.
    assert!(w.send(1, None, vec![approve(3, &[], None, EXPIRES)], T).is_ok());
    w.auth.take_dirty();
    assert!(w.send(1, None, vec![revoke(3)], T).is_ok());
    let mut expected = vec![addr(1), addr(3)];
    expected.sort();
    assert_eq!(w.auth.take_dirty(), expected);
    assert_eq!(w.auth.record(addr(3)), None);
    // Records encode canonically and rebuild the same state.
    let records: Vec<(Address, SignerRecord)> = w.auth.records().collect();
    for (_, r) in &records {
        let bytes = r.encode();
        let back = SignerRecord::decode_cfg(bytes.clone(), &()).expect("decodes");
        assert_eq!(&back, r);
        assert_eq!(back.encode(), bytes);
    }
    let mut restored = Auth::from_records(records.into_iter().rev()).expect("restores");
    assert_eq!(restored, w.auth);
    restored.take_dirty();
}

#[test]
fn inconsistent_records_are_refused() {
    let grant = AgentGrant { master: addr(1), markets: vec![], max_order_qty: None, expires_ms: 5 };
    let agent = SignerRecord { nonces: vec![], grant: Some(grant.clone()), agents: vec![] };
    let master = SignerRecord { nonces: vec![1], grant: None, agents: vec![addr(2)] };
    assert!(Auth::from_records([(addr(2), agent.clone()), (addr(1), master.clone())]).is_ok());
    // One side of the pairing missing.
    assert!(Auth::from_records([(addr(2), agent.clone())]).is_err());
    assert!(Auth::from_records([(addr(1), master.clone())]).is_err());
    // Empty, duplicated, unsorted.
    let empty = SignerRecord { nonces: vec![], grant: None, agents: vec![] };
    assert!(Auth::from_records([(addr(1), empty)]).is_err());
    assert!(Auth::from_records([(addr(1), master.clone()), (addr(1), master.clone())]).is_err());
    let unsorted = SignerRecord { nonces: vec![2, 1], grant: None, agents: vec![] };
    assert!(Auth::from_records([(addr(1), unsorted)]).is_err());
    // Self-grant.
    let own = AgentGrant { master: addr(1), ..grant };
    let selfish = SignerRecord { nonces: vec![], grant: Some(own), agents: vec![addr(1)] };
    assert!(Auth::from_records([(addr(1), selfish)]).is_err());
}

#[test]
fn record_decoding_rejects_non_canonical_bytes() {
    let decode = |b: &[u8]| SignerRecord::decode_cfg(Copying(b), &());
    let r = SignerRecord { nonces: vec![1, 2], grant: None, agents: vec![Address([1; 20])] };
    let bytes = r.encode().to_vec();
    // Count, the first nonce (8 bytes), one delta (1 byte), grant flag, agent count, agent.
    assert_eq!(bytes.len(), 1 + 8 + 1 + 1 + 1 + 20);
    assert_eq!(decode(&bytes).ok(), Some(r));
    // A zero delta (a repeated nonce).
    let mut b = bytes.clone();
    b[9] = 0;
    assert!(decode(&b).is_err());
    // A delta in a non-minimal varint (1 written as 0x81 0x00).
    let mut b = bytes.clone();
    b.splice(9..10, [0x81, 0x00]);
    assert!(decode(&b).is_err());
    // A delta that overflows past u64::MAX.
    let mut b = bytes.clone();
    b[1..9].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(decode(&b).is_err());
    // Non-canonical grant flag.
    let mut b = bytes.clone();
    b[10] = 2;
    assert!(decode(&b).is_err());
    // Empty record, too many nonces, trailing byte.
    assert!(decode(&[0, 0, 0]).is_err());
    assert!(decode(&[101]).is_err());
    let mut b = bytes;
    b.push(0);
    assert!(decode(&b).is_err());
}

#[test]
fn nonce_deltas_round_trip_at_every_width() {
    // Deltas of 1 byte up to the full range, and a kept set of NONCES_KEPT millisecond
    // timestamps: the encoding is exact, canonical and as long as encode_size says.
    let wide = vec![0, 1, 128, 128 + 16_384, u64::MAX / 2, u64::MAX - 1, u64::MAX];
    let clock: Vec<u64> = (0..100u64).map(|i| 1_800_000_000_000 + i * 7 + i * i).collect();
    for nonces in [vec![u64::MAX], wide, clock] {
        let r = SignerRecord { nonces, grant: None, agents: vec![] };
        let bytes = r.encode();
        assert_eq!(bytes.len(), r.encode_size());
        let back = SignerRecord::decode_cfg(bytes.clone(), &()).expect("decodes");
        assert_eq!(back, r);
        assert_eq!(back.encode(), bytes);
    }
    let full = SignerRecord {
        nonces: (0..100u64).map(|i| 1_800_000_000_000 + i * 40).collect(),
        grant: None,
        agents: vec![],
    };
    // 100 timestamps 40 ms apart: 8 bytes, then one byte per delta.
    assert_eq!(full.encode().len(), 1 + 8 + 99 + 1 + 1);
}
