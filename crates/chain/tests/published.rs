//! The published view of a finalized block (what the trader API's read models are fed): every
//! transaction with its outcome, the engine's events, the accounts those events name, and each
//! market's state with its top-of-book levels exactly as the engine's book holds them.

use commonware_cryptography::{ed25519::PrivateKey, sha256::Digest, Signer as _};
use novation_book::Event as BookEvent;
use novation_chain::block::Block;
use novation_chain::oracle::SignedObservation;
use novation_chain::published::{self, BOOK_VIEW_DEPTH};
use novation_chain::simulation::{genesis, key};
use novation_chain::state::{ActionOutcome, ChainState, TxOutcome};
use novation_chain::tx::{address_of, ChainId, PublicKey, SignedTx, TxAction, TxBody};
use novation_chain::values::book_levels;
use novation_engine::{Event, MarketId, OrderRequest};
use novation_oracle::aggregate::Observation;
use novation_oracle::{AssetId, OraclePrice};
use novation_types::{Quote, Side};

const T0: u64 = 1_800_000_000_000;

fn signed(k: &PrivateKey, nonce: u64, actions: Vec<TxAction>) -> SignedTx {
    SignedTx::sign(k, TxBody { chain_id: ChainId(1), nonce, master: None, actions })
}

fn addr(k: &PrivateKey) -> novation_types::Address {
    address_of(&PublicKey::Ed25519(k.public_key()))
}

#[test]
fn a_block_with_a_trade_publishes_txs_events_accounts_and_books() {
    let keys: Vec<PrivateKey> = (0..4).map(|i| key("validator", i)).collect();
    let g = genesis(&keys.iter().map(|k| k.public_key()).collect::<Vec<_>>(), T0);
    let sorted = g.sorted_validators();
    let mut keys = keys;
    keys.sort_by_key(|k| sorted.iter().position(|p| *p == k.public_key()));
    let mut state = ChainState::genesis(&g).expect("genesis");
    let zero = Digest::from([0u8; 32]);

    // Block 1: prices, and both traders funded.
    let t1 = T0 + 200;
    let observations = (0..4u16)
        .map(|v| {
            let o = Observation {
                time_ms: t1 - 50,
                prices: vec![
                    (AssetId(0), OraclePrice::from_usd(100_000)),
                    (AssetId(1), OraclePrice::from_usd(3_500)),
                ],
            };
            SignedObservation::sign(&keys[usize::from(v)], ChainId(1), v, o)
        })
        .collect();
    let faucet = key("faucet", 0);
    let (alice, bob) = (key("alice", 0), key("bob", 0));
    let fund =
        |k: &PrivateKey| TxAction::Faucet { to: addr(k), sub: 0, amount: Quote(10_000_000_000) };
    let b1 = Block {
        parent: zero,
        height: 1,
        time_ms: t1,
        observations,
        txs: vec![signed(&faucet, t1, vec![fund(&alice), fund(&bob)])],
        state_root: zero,
    };
    state.execute(&b1).expect("block 1");

    // Block 2: alice rests a sell at $100,000 and $100,010; bob buys 3 lots through the first.
    let t2 = t1 + 200;
    let ask = |price| TxAction::Place(OrderRequest::limit(0, MarketId(0), Side::Sell, price, 2));
    let b2 = Block {
        parent: zero,
        height: 2,
        time_ms: t2,
        observations: Vec::new(),
        txs: vec![
            signed(&alice, t2, vec![ask(1_000_000), ask(1_000_100)]),
            signed(
                &bob,
                t2,
                vec![TxAction::Place(OrderRequest::market(
                    0,
                    MarketId(0),
                    Side::Buy,
                    1_000_100,
                    3,
                ))],
            ),
        ],
        state_root: zero,
    };
    let done = state.execute(&b2).expect("block 2");
    let digest = Digest::from([7u8; 32]);
    let view = published::view(&state, &b2, digest, zero, &done.outcomes, done.events.clone());

    assert_eq!((view.height, view.time_ms, view.digest), (2, t2, digest));
    assert_eq!(view.txs.len(), 2);
    assert_eq!(view.txs[0].signer, addr(&alice));
    assert_eq!(view.txs[1].principal, addr(&bob));
    assert!(matches!(&view.txs[1].outcome, TxOutcome::Executed { actions }
        if matches!(actions[..], [ActionOutcome::OrderPlaced { .. }])));
    assert_eq!(view.events, done.events);
    let fills: Vec<_> = view
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Book {
                event: BookEvent::Fill { maker_account, taker_account, qty, .. },
                ..
            } => Some((*maker_account, *taker_account, qty.0)),
            _ => None,
        })
        .collect();
    assert_eq!(fills.iter().map(|f| f.2).sum::<u64>(), 3, "3 lots traded");
    for (maker, taker, _) in &fills {
        assert_eq!(view.accounts.get(maker), Some(&(addr(&alice), 0)));
        assert_eq!(view.accounts.get(taker), Some(&(addr(&bob), 0)));
    }
    let btc = &view.markets[0];
    let (bids, asks) = book_levels(&state.engine, MarketId(0), BOOK_VIEW_DEPTH).expect("market");
    assert_eq!((&btc.bids, &btc.asks), (&bids, &asks));
    assert_eq!(asks, vec![(novation_types::PriceTicks(1_000_100), 1)], "one lot left at $100,010");
    assert_eq!(btc.index.map(|p| p.0), Some(1_000_000));
    assert_eq!(btc.open_interest_lots, 3);
    assert_eq!(view.markets.len(), state.engine.markets().len());
}
