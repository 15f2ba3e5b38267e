//! The transaction envelope: golden wire format, round trips, typed decode errors, signatures,
//! addresses, stateless checks, engine mapping, bounds and batch verification.

mod tx_support;

use std::num::NonZeroUsize;

use commonware_codec::{Encode, EncodeSize};
use commonware_cryptography::Signer as _;
use commonware_parallel::{Rayon, Sequential, Strategy};
use novation_book::{Expiry, StpMode, TimeInForce};
use novation_chain::tx::{
    address_of, check_stateless, decode_tx, verify_batch, verify_batch_with_rng, ActionFault,
    ChainId, PublicKey, SchemeTag, Signature, SignedTx, TxAction, TxBody, TxError,
    MAX_ACTIONS_PER_TX, MAX_ACTION_BYTES, MAX_AGENT_MARKETS, MAX_TX_BYTES,
};
use novation_engine::{Action, AuctionId, MarketId, OrderRequest};
use novation_types::{Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side};
use proptest::prelude::*;
use rand::SeedableRng as _;
use tx_support::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn golden_tx() -> SignedTx {
    let order = OrderRequest {
        sub: 1,
        market: MarketId(2),
        side: Side::Sell,
        price: PriceTicks(1_000),
        qty: QtyLots(5),
        tif: TimeInForce::PostOnly,
        expiry: Expiry::TimeMs(1_700_000_000_000),
        client_id: Some(ClientOrderId(42)),
        reduce_only: false,
        stp: StpMode::CancelBoth,
    };
    let actions = vec![
        TxAction::Place(order),
        TxAction::Cancel { sub: 1, market: MarketId(2), id: OrderId(9) },
        TxAction::ApproveAgent {
            agent: Address([0xaa; 20]),
            markets: vec![MarketId(1), MarketId(3)],
            max_order_qty: Some(QtyLots(10)),
            expires_ms: 1_800_000_000_000,
        },
    ];
    let body = TxBody { chain_id: ChainId(7), nonce: 1_700_000_000_123, master: None, actions };
    SignedTx::sign(&key(1), body)
}

/// The wire format and the address derivation, byte for byte. Change only on purpose (a new
/// format version), never by accident.
#[test]
fn golden_wire_format() {
    let tx = golden_tx();
    let bytes = tx.encode();
    let pk = hex(tx.public_key.key_bytes());
    let Signature::Ed25519(sig) = &tx.signature;
    let body = concat!(
        "0000000000000007", // chain id
        "0000018bcfe5687b", // nonce
        "00",               // master: none
        "03",               // 3 actions
        "02",               // Place
        "0001",
        "0002",
        "01", // sub, market, side sell
        "00000000000003e8",
        "0000000000000005", // price, qty
        "03",               // post-only
        "02",
        "0000018bcfe56800", // expiry TimeMs
        "01",
        "000000000000002a", // client id
        "00",
        "02", // reduce-only false, stp cancel-both
        "03",
        "0001",
        "0002",
        "0000000000000009", // Cancel sub market id
        "0a",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // ApproveAgent agent
        "02",
        "0001",
        "0003", // markets
        "01",
        "000000000000000a", // max qty
        "000001a3185c5000", // expiry
    );
    assert_eq!(hex(&bytes), format!("00{pk}{body}{}", hex(sig.as_ref())));
    assert_eq!(bytes.len(), 1 + 32 + body.len() / 2 + 64);
    assert_eq!(
        pk, "3f07ddec98f77249108b514a3dd4a095a9987df8437a7c82e6e80bbba0aee11f",
        "the key derivation of the fixed seed changed"
    );
    assert_eq!(hex(&tx.signer().0), "7f8b758b7c57b7821f889e46c76d0eef895478fb");
    assert_eq!(
        hex(&tx.hash_bytes()),
        "49c95754e9185e72580f56d94daccc4d93f83b51290baa0536c0e3ae1660a02f"
    );
}

#[test]
fn golden_round_trip_and_signature() {
    let tx = golden_tx();
    let back = decode_tx(&tx.encode(), MAX_TX_BYTES).expect("decodes");
    assert_eq!(back, tx);
    assert!(back.verify());
    assert_eq!(check_stateless(&tx, ChainId(7)), Ok(()));
}

#[test]
fn any_change_breaks_the_signature() {
    let tx = golden_tx();
    let mut other_chain = tx.clone();
    other_chain.body.chain_id = ChainId(8);
    assert!(!other_chain.verify());
    let mut other_nonce = tx.clone();
    other_nonce.body.nonce += 1;
    assert!(!other_nonce.verify());
    let mut other_master = tx.clone();
    other_master.body.master = Some(Address([1; 20]));
    assert!(!other_master.verify());
    let mut other_key = tx.clone();
    other_key.public_key = PublicKey::Ed25519(key(2).public_key());
    assert!(!other_key.verify());
    let mut dropped = tx.clone();
    dropped.body.actions.pop();
    assert!(!dropped.verify());
    // The namespace is part of what is signed.
    let msg = tx.signing_message();
    let foreign = key(1).sign(b"other-namespace", &msg);
    let forged = SignedTx { signature: Signature::Ed25519(foreign), ..tx };
    assert!(!forged.verify());
}

#[test]
fn signing_message_is_the_encoding_without_the_signature() {
    let tx = golden_tx();
    let bytes = tx.encode();
    let msg = tx.signing_message();
    assert_eq!(&bytes[..msg.len()], &msg[..]);
    assert_eq!(bytes.len() - msg.len(), 64);
}

#[test]
fn address_derivation_is_domain_separated_sha256() {
    use commonware_cryptography::{Hasher as _, Sha256};
    let pk: PublicKey = key(3).public_key().into();
    let digest = Sha256::hash(&[b"novation-address", &[0u8], pk.key_bytes()]);
    assert_eq!(address_of(&pk).0[..], digest.0[12..]);
    assert_ne!(address_of(&pk), address_of(&key(4).public_key().into()));
    assert_eq!(pk.scheme(), SchemeTag::Ed25519);
    assert_eq!(SchemeTag::from_code(0), Some(SchemeTag::Ed25519));
    assert_eq!(SchemeTag::from_code(1), None);
}

// ---- typed decode errors --------------------------------------------------------------------

fn encoded(actions: Vec<TxAction>) -> Vec<u8> {
    signed(&key(1), 5, None, actions).encode().to_vec()
}

/// The byte offset of the action count (after tag, key, chain id, nonce, master = none).
const COUNT_AT: usize = 1 + 32 + 8 + 8 + 1;

#[test]
fn too_large_is_checked_before_decoding() {
    let bytes = encoded(vec![place(1, 1)]);
    assert_eq!(
        decode_tx(&bytes, bytes.len() - 1),
        Err(TxError::TooLarge { len: bytes.len(), max: bytes.len() - 1 })
    );
    assert!(decode_tx(&bytes, bytes.len()).is_ok());
    let garbage = vec![0xff; MAX_TX_BYTES + 1];
    assert_eq!(
        decode_tx(&garbage, MAX_TX_BYTES),
        Err(TxError::TooLarge { len: MAX_TX_BYTES + 1, max: MAX_TX_BYTES })
    );
}

#[test]
fn unknown_scheme_tag() {
    let mut bytes = encoded(vec![place(1, 1)]);
    bytes[0] = 1;
    assert_eq!(decode_tx(&bytes, MAX_TX_BYTES), Err(TxError::UnknownScheme(1)));
}

#[test]
fn empty_and_oversize_batches() {
    let mut bytes = encoded(vec![place(1, 1)]);
    bytes[COUNT_AT] = 0;
    assert_eq!(decode_tx(&bytes, MAX_TX_BYTES), Err(TxError::EmptyBatch));
    bytes[COUNT_AT] = (MAX_ACTIONS_PER_TX + 1) as u8;
    assert_eq!(
        decode_tx(&bytes, MAX_TX_BYTES),
        Err(TxError::TooManyActions(MAX_ACTIONS_PER_TX + 1))
    );
    // A length far beyond the bound is refused before anything is allocated.
    let mut huge = bytes[..COUNT_AT].to_vec();
    huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(decode_tx(&huge, MAX_TX_BYTES), Err(TxError::TooManyActions(u32::MAX as usize)));
}

#[test]
fn unknown_action_tag_names_its_index() {
    let mut bytes = encoded(vec![TxAction::RevokeAgent { agent: Address([3; 20]) }; 2]);
    let second = COUNT_AT + 1 + 21;
    assert_eq!(bytes[second], 11);
    bytes[second] = 13;
    assert_eq!(decode_tx(&bytes, MAX_TX_BYTES), Err(TxError::UnknownAction { index: 1, tag: 13 }));
}

#[test]
fn agent_market_lists_must_increase_and_be_bounded() {
    let approve = |markets: Vec<u16>| TxAction::ApproveAgent {
        agent: Address([9; 20]),
        markets: markets.into_iter().map(MarketId).collect(),
        max_order_qty: None,
        expires_ms: 1,
    };
    for (markets, fault) in [
        (vec![2, 1], ActionFault::AgentMarketsNotIncreasing),
        (vec![1, 1], ActionFault::AgentMarketsNotIncreasing),
        ((0..17).collect(), ActionFault::TooManyAgentMarkets(17)),
    ] {
        let bytes = encoded(vec![place(1, 1), approve(markets)]);
        assert_eq!(
            decode_tx(&bytes, MAX_TX_BYTES),
            Err(TxError::InvalidAction { index: 1, fault }),
        );
    }
    let ok = encoded(vec![approve((0..16).collect())]);
    assert!(decode_tx(&ok, MAX_TX_BYTES).is_ok());
}

#[test]
fn non_canonical_encodings_are_malformed() {
    let bytes =
        encoded(vec![TxAction::SetMarginMode { sub: 0, market: MarketId(1), isolated: true }]);
    let is_malformed = |b: &[u8]| matches!(decode_tx(b, MAX_TX_BYTES), Err(TxError::Malformed(_)));
    // A boolean other than 0/1.
    let bool_at = COUNT_AT + 1 + 1 + 2 + 2;
    assert_eq!(bytes[bool_at], 1);
    let mut b = bytes.clone();
    b[bool_at] = 2;
    assert!(is_malformed(&b));
    // An overlong varint count (1 as 0x81 0x00).
    let mut b = bytes[..COUNT_AT].to_vec();
    b.extend_from_slice(&[0x81, 0x00]);
    b.extend_from_slice(&bytes[COUNT_AT + 1..]);
    assert!(is_malformed(&b));
    // A master tag other than 0/1.
    let mut b = bytes.clone();
    b[COUNT_AT - 1] = 2;
    assert!(is_malformed(&b));
    // Trailing and missing bytes.
    let mut b = bytes.clone();
    b.push(0);
    assert!(is_malformed(&b));
    assert!(is_malformed(&bytes[..bytes.len() - 1]));
    assert!(is_malformed(&[]));
}

#[test]
fn every_error_has_a_distinct_stable_code() {
    let errors = [
        TxError::TooLarge { len: 0, max: 0 },
        TxError::Malformed(String::new()),
        TxError::UnknownScheme(0),
        TxError::UnknownAction { index: 0, tag: 0 },
        TxError::EmptyBatch,
        TxError::TooManyActions(0),
        TxError::WrongChainId { expected: 0, got: 0 },
        TxError::BadSignature,
        TxError::MasterIsSigner,
        TxError::InvalidAction { index: 0, fault: ActionFault::ZeroQty },
    ];
    let codes: Vec<u16> = errors.iter().map(TxError::code).collect();
    assert_eq!(codes, (1..=10).collect::<Vec<u16>>());
}

// ---- bounds ---------------------------------------------------------------------------------

#[test]
fn the_largest_transaction_is_exactly_max_tx_bytes() {
    let approve = TxAction::ApproveAgent {
        agent: Address([1; 20]),
        markets: (0..MAX_AGENT_MARKETS as u16).map(MarketId).collect(),
        max_order_qty: Some(QtyLots(1)),
        expires_ms: 1,
    };
    assert_eq!(approve.encode_size(), MAX_ACTION_BYTES);
    let tx = signed(&key(1), 1, Some(Address([2; 20])), vec![approve; MAX_ACTIONS_PER_TX]);
    assert_eq!(tx.encode().len(), MAX_TX_BYTES);
    assert!(decode_tx(&tx.encode(), MAX_TX_BYTES).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every action fits MAX_ACTION_BYTES and encodes to its encode_size.
    #[test]
    fn action_sizes_are_bounded(action in arb_action()) {
        prop_assert_eq!(action.encode().len(), action.encode_size());
        prop_assert!(action.encode_size() <= MAX_ACTION_BYTES);
    }

    /// Random valid transactions round-trip: decode(encode(x)) == x, the signature verifies,
    /// and the size is within the bound.
    #[test]
    fn signed_transactions_round_trip(tx in arb_signed_tx()) {
        let bytes = tx.encode();
        prop_assert_eq!(bytes.len(), tx.encode_size());
        prop_assert!(bytes.len() <= MAX_TX_BYTES);
        let back = decode_tx(&bytes, MAX_TX_BYTES);
        prop_assert_eq!(back.as_ref(), Ok(&tx));
        prop_assert!(tx.verify());
        prop_assert_eq!(back.map(|t| t.hash()), Ok(tx.hash()));
    }
}

// ---- stateless checks ----------------------------------------------------------------------

#[test]
fn stateless_checks() {
    let k = key(1);
    let me = address(&k);
    let check = |master: Option<Address>, actions: Vec<TxAction>| {
        check_stateless(&signed(&k, 1, master, actions), CHAIN)
    };
    assert_eq!(
        check_stateless(&signed(&k, 1, None, vec![place(1, 1)]), ChainId(8)),
        Err(TxError::WrongChainId { expected: 8, got: CHAIN.0 })
    );
    assert_eq!(check(None, vec![]), Err(TxError::EmptyBatch));
    assert_eq!(check(None, vec![place(1, 1); 33]), Err(TxError::TooManyActions(33)));
    assert_eq!(check(None, vec![place(1, 1); 32]), Ok(()));
    assert_eq!(check(Some(me), vec![place(1, 1)]), Err(TxError::MasterIsSigner));
    let fault = |index, fault| Err(TxError::InvalidAction { index, fault });
    assert_eq!(check(None, vec![place(1, 1), place(1, 0)]), fault(1, ActionFault::ZeroQty));
    let mut zero_price = OrderRequest::limit(0, MarketId(1), Side::Buy, 0, 1);
    assert_eq!(check(None, vec![TxAction::Place(zero_price)]), fault(0, ActionFault::ZeroPrice));
    zero_price.price = PriceTicks(1);
    assert_eq!(check(None, vec![TxAction::Place(zero_price)]), Ok(()));
    for amount in [0, -1] {
        for a in [
            TxAction::Withdraw { sub: 0, amount: Quote(amount) },
            TxAction::Transfer { sub: 0, to: Address([1; 20]), to_sub: 0, amount: Quote(amount) },
            TxAction::Faucet { to: Address([1; 20]), sub: 0, amount: Quote(amount) },
        ] {
            assert_eq!(check(None, vec![a]), fault(0, ActionFault::NonPositiveAmount));
        }
    }
    let adjust = |amount| TxAction::AdjustIsolatedMargin { sub: 0, market: MarketId(0), amount };
    assert_eq!(check(None, vec![adjust(Quote(0))]), fault(0, ActionFault::ZeroAmount));
    assert_eq!(check(None, vec![adjust(Quote(-5))]), Ok(()));
    let modify = |price, qty| TxAction::Modify {
        sub: 0,
        market: MarketId(0),
        id: OrderId(1),
        price: PriceTicks(price),
        qty: QtyLots(qty),
    };
    assert_eq!(check(None, vec![modify(1, 0)]), fault(0, ActionFault::ZeroQty));
    assert_eq!(check(None, vec![modify(0, 1)]), fault(0, ActionFault::ZeroPrice));
    let approve = |agent, markets: Vec<MarketId>, max: Option<u64>| TxAction::ApproveAgent {
        agent,
        markets,
        max_order_qty: max.map(QtyLots),
        expires_ms: 1,
    };
    let other = Address([5; 20]);
    assert_eq!(check(None, vec![approve(me, vec![], None)]), fault(0, ActionFault::AgentIsSigner));
    assert_eq!(
        check(None, vec![approve(other, vec![], Some(0))]),
        fault(0, ActionFault::ZeroAgentOrderQty)
    );
    assert_eq!(
        check(None, vec![approve(other, vec![MarketId(2), MarketId(2)], None)]),
        fault(0, ActionFault::AgentMarketsNotIncreasing)
    );
    assert_eq!(check(None, vec![approve(other, vec![MarketId(1)], Some(3))]), Ok(()));
}

// ---- engine mapping and classes ---------------------------------------------------------------

#[test]
fn engine_mapping() {
    let me = Address([1; 20]);
    let to = Address([2; 20]);
    let tx = |sender, action| Some(novation_engine::Tx { sender, action });
    let order = OrderRequest::limit(3, MarketId(1), Side::Buy, 10, 2);
    assert_eq!(TxAction::Place(order).engine_tx(me), tx(me, Action::Place(order)));
    assert_eq!(
        TxAction::Withdraw { sub: 1, amount: Quote(5) }.engine_tx(me),
        tx(me, Action::Withdraw { sub: 1, amount: Quote(5) })
    );
    assert_eq!(
        TxAction::Faucet { to, sub: 4, amount: Quote(9) }.engine_tx(me),
        tx(to, Action::Deposit { sub: 4, amount: Quote(9) })
    );
    assert_eq!(
        TxAction::BidLiquidation { sub: 0, auction: AuctionId(3), price_limit: PriceTicks(4) }
            .engine_tx(me),
        tx(
            me,
            Action::BidLiquidation { sub: 0, auction: AuctionId(3), price_limit: PriceTicks(4) }
        )
    );
    assert_eq!(TxAction::RevokeAgent { agent: to }.engine_tx(me), None);
    let approve =
        TxAction::ApproveAgent { agent: to, markets: vec![], max_order_qty: None, expires_ms: 1 };
    assert_eq!(approve.engine_tx(me), None);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Classes: cancels are trading; trading is exactly place/modify/cancels; every action but
    /// the agent grants maps to an engine transaction, never a deposit except from the faucet.
    #[test]
    fn action_classes(action in arb_action(), principal in arb_address()) {
        let cancel = matches!(action, TxAction::Cancel { .. } | TxAction::CancelByClientId { .. } | TxAction::CancelAll { .. });
        let trading = cancel || matches!(action, TxAction::Place(_) | TxAction::Modify { .. });
        prop_assert_eq!(action.is_cancel(), cancel);
        prop_assert_eq!(action.is_trading(), trading);
        let grant = matches!(action, TxAction::ApproveAgent { .. } | TxAction::RevokeAgent { .. });
        let engine = action.engine_tx(principal);
        prop_assert_eq!(engine.is_none(), grant);
        if let Some(t) = engine {
            let deposit = matches!(t.action, Action::Deposit { .. });
            prop_assert_eq!(deposit, matches!(action, TxAction::Faucet { .. }));
            if !deposit {
                prop_assert_eq!(t.sender, principal);
            }
            if trading {
                prop_assert!(t.action.is_first_phase() || !cancel);
            }
        }
    }
}

// ---- batch verification ---------------------------------------------------------------------

/// 100 valid transactions of five signers (signed once; verification in debug builds is slow).
fn hundred() -> Vec<SignedTx> {
    static TXS: std::sync::OnceLock<Vec<SignedTx>> = std::sync::OnceLock::new();
    TXS.get_or_init(|| {
        (0..100u64)
            .map(|i| signed(&key((i % 5) as u8), 1_000 + i, None, vec![place(1, i + 1)]))
            .collect()
    })
    .clone()
}

fn corrupt(tx: &mut SignedTx) {
    tx.body.nonce ^= 1;
}

fn pool(threads: usize) -> Rayon {
    Rayon::new(NonZeroUsize::new(threads).expect("non-zero")).expect("thread pool")
}

/// The verdicts must be "all valid except `bad`", with the default seed and with a caller's RNG.
fn check_verdicts(txs: &[SignedTx], bad: &[usize], strategy: &impl Strategy) {
    let expected: Vec<bool> = (0..txs.len()).map(|i| !bad.contains(&i)).collect();
    assert_eq!(verify_batch(txs, strategy), expected);
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    assert_eq!(verify_batch_with_rng(&mut rng, txs, strategy), expected);
}

#[test]
fn batch_finds_the_bad_signature_in_the_middle() {
    let mut txs = hundred();
    corrupt(&mut txs[50]);
    assert!(!txs[50].verify());
    let verdicts = verify_batch(&txs, &Sequential);
    let bad: Vec<usize> =
        verdicts.iter().enumerate().filter(|(_, ok)| !**ok).map(|(i, _)| i).collect();
    assert_eq!(bad, vec![50]);
    assert_eq!(verify_batch(&txs, &pool(4)), verdicts);
}

#[test]
fn batch_edge_cases() {
    let rayon = pool(3);
    check_verdicts(&[], &[], &Sequential);
    let mut txs = hundred();
    check_verdicts(&txs, &[], &Sequential);
    check_verdicts(&txs, &[], &rayon);
    let bad = [0, 1, 2, 3, 4, 5, 37, 98, 99];
    for i in bad {
        corrupt(&mut txs[i]);
    }
    check_verdicts(&txs, &bad, &Sequential);
    check_verdicts(&txs, &bad, &rayon);
    let few = &txs[..6];
    check_verdicts(few, &[0, 1, 2, 3, 4, 5], &rayon);
    check_verdicts(&txs[6..7], &[], &Sequential);
    check_verdicts(&txs[5..6], &[0], &Sequential);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever subset is corrupted, the batch verdicts are exactly "not corrupted".
    #[test]
    fn batch_verdicts_equal_single_verification(
        bad in proptest::collection::vec(proptest::bool::weighted(0.15), 0..70),
        threads in 1usize..4,
    ) {
        let mut txs = hundred();
        txs.truncate(bad.len());
        for (tx, b) in txs.iter_mut().zip(&bad) {
            if *b {
                corrupt(tx);
            }
        }
        let expected: Vec<bool> = bad.iter().map(|b| !b).collect();
        prop_assert_eq!(verify_batch(&txs, &pool(threads)), expected);
    }
}
