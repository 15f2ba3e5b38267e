//! Shared helpers of the transaction and auth tests: keys, builders, proptest strategies, and
//! the decode property shared with the cargo-fuzz target.

#![allow(dead_code)]

pub mod fuzz_check;

use commonware_codec::{Copying, Decode};
use commonware_cryptography::{ed25519, Signer as _};
use novation_book::{Expiry, StpMode, TimeInForce};
use novation_chain::tx::{ChainId, SignedTx, TxAction, TxBody, MAX_ACTIONS_PER_TX};
use novation_engine::{AuctionId, MarketId, OrderRequest};
use novation_types::{Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side};
use proptest::prelude::*;

pub const CHAIN: ChainId = ChainId(7);

/// A fixed key from 32 seed bytes (decoding a private key is the scheme's own derivation).
pub fn key(seed: u8) -> ed25519::PrivateKey {
    let mut bytes = [0u8; 32];
    bytes[0] = seed;
    bytes[31] = 0x5a;
    match ed25519::PrivateKey::decode_cfg(Copying(&bytes), &()) {
        Ok(k) => k,
        Err(e) => panic!("fixed key: {e}"),
    }
}

pub fn address(key: &ed25519::PrivateKey) -> Address {
    novation_chain::tx::address_of(&key.public_key().into())
}

pub fn body(nonce: u64, master: Option<Address>, actions: Vec<TxAction>) -> TxBody {
    TxBody { chain_id: CHAIN, nonce, master, actions }
}

pub fn signed(
    key: &ed25519::PrivateKey,
    nonce: u64,
    master: Option<Address>,
    actions: Vec<TxAction>,
) -> SignedTx {
    SignedTx::sign(key, body(nonce, master, actions))
}

pub fn place(market: u16, qty: u64) -> TxAction {
    TxAction::Place(OrderRequest::limit(0, MarketId(market), Side::Buy, 100, qty))
}

// ---- proptest strategies -------------------------------------------------------------------

pub fn arb_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address)
}

fn arb_quote() -> impl Strategy<Value = Quote> {
    any::<i128>().prop_map(Quote)
}

fn arb_market() -> impl Strategy<Value = MarketId> {
    any::<u16>().prop_map(MarketId)
}

fn arb_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn arb_tif() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![
        Just(TimeInForce::Gtc),
        Just(TimeInForce::Ioc),
        Just(TimeInForce::Fok),
        Just(TimeInForce::PostOnly),
        Just(TimeInForce::PostOnlySlide),
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

fn arb_expiry() -> impl Strategy<Value = Expiry> {
    prop_oneof![
        Just(Expiry::Never),
        any::<u64>().prop_map(Expiry::Height),
        any::<u64>().prop_map(Expiry::TimeMs),
    ]
}

pub fn arb_order() -> impl Strategy<Value = OrderRequest> {
    (
        any::<u16>(),
        arb_market(),
        arb_side(),
        any::<u64>(),
        any::<u64>(),
        arb_tif(),
        arb_expiry(),
        proptest::option::of(any::<u64>()),
        any::<bool>(),
        arb_stp(),
    )
        .prop_map(|(sub, market, side, price, qty, tif, expiry, cid, reduce_only, stp)| {
            OrderRequest {
                sub,
                market,
                side,
                price: PriceTicks(price),
                qty: QtyLots(qty),
                tif,
                expiry,
                client_id: cid.map(ClientOrderId),
                reduce_only,
                stp,
            }
        })
}

/// Strictly increasing market lists of 0..=16.
pub fn arb_markets() -> impl Strategy<Value = Vec<MarketId>> {
    proptest::collection::btree_set(any::<u16>(), 0..=16)
        .prop_map(|s| s.into_iter().map(MarketId).collect())
}

/// Every action kind with arbitrary (structurally valid) fields.
pub fn arb_action() -> impl Strategy<Value = TxAction> {
    prop_oneof![
        (any::<u16>(), arb_quote()).prop_map(|(sub, amount)| TxAction::Withdraw { sub, amount }),
        (any::<u16>(), arb_address(), any::<u16>(), arb_quote())
            .prop_map(|(sub, to, to_sub, amount)| TxAction::Transfer { sub, to, to_sub, amount }),
        arb_order().prop_map(TxAction::Place),
        (any::<u16>(), arb_market(), any::<u64>()).prop_map(|(sub, market, id)| TxAction::Cancel {
            sub,
            market,
            id: OrderId(id)
        }),
        (any::<u16>(), arb_market(), any::<u64>()).prop_map(|(sub, market, c)| {
            TxAction::CancelByClientId { sub, market, client_id: ClientOrderId(c) }
        }),
        (any::<u16>(), proptest::option::of(arb_market()), proptest::option::of(arb_side()))
            .prop_map(|(sub, market, side)| TxAction::CancelAll { sub, market, side }),
        (any::<u16>(), arb_market(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
            |(sub, market, id, price, qty)| TxAction::Modify {
                sub,
                market,
                id: OrderId(id),
                price: PriceTicks(price),
                qty: QtyLots(qty),
            }
        ),
        (any::<u16>(), arb_market(), any::<bool>())
            .prop_map(|(sub, market, isolated)| TxAction::SetMarginMode { sub, market, isolated }),
        (any::<u16>(), arb_market(), arb_quote()).prop_map(|(sub, market, amount)| {
            TxAction::AdjustIsolatedMargin { sub, market, amount }
        }),
        (any::<u16>(), any::<u64>(), any::<u64>()).prop_map(|(sub, a, p)| {
            TxAction::BidLiquidation { sub, auction: AuctionId(a), price_limit: PriceTicks(p) }
        }),
        (arb_address(), arb_markets(), proptest::option::of(any::<u64>()), any::<u64>()).prop_map(
            |(agent, markets, max, expires_ms)| TxAction::ApproveAgent {
                agent,
                markets,
                max_order_qty: max.map(QtyLots),
                expires_ms,
            }
        ),
        arb_address().prop_map(|agent| TxAction::RevokeAgent { agent }),
        (arb_address(), any::<u16>(), arb_quote()).prop_map(|(to, sub, amount)| TxAction::Faucet {
            to,
            sub,
            amount
        }),
    ]
}

pub fn arb_body() -> impl Strategy<Value = TxBody> {
    (
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(arb_address()),
        proptest::collection::vec(arb_action(), 1..=MAX_ACTIONS_PER_TX),
    )
        .prop_map(|(chain, nonce, master, actions)| TxBody {
            chain_id: ChainId(chain),
            nonce,
            master,
            actions,
        })
}

/// A transaction signed by one of four fixed keys.
pub fn arb_signed_tx() -> impl Strategy<Value = SignedTx> {
    (0u8..4, arb_body()).prop_map(|(k, body)| SignedTx::sign(&key(k), body))
}
