//! Building and signing transactions.
//!
//! The transaction format, its encoding and its signature are `novation_chain::tx`'s; this
//! module only assembles them: [`Order`] builds an order request with named options, the
//! functions below build each [`TxAction`], and [`sign`] puts actions into a [`TxBody`] for a
//! [`Key`] (naming the key's master when it is an agent key) and signs it. [`encode_hex`] is the
//! body of `POST /tx`.
//!
//! A transaction may batch up to [`MAX_ACTIONS_PER_TX`] actions; they are authorized together and
//! then executed in order, each with its own result.

use novation_chain::tx::{ChainId, SignedTx, TxAction, TxBody, MAX_ACTIONS_PER_TX};
use novation_engine::{Expiry, MarketId, OrderRequest, StpMode, SubaccountId, TimeInForce};
use novation_types::{Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side};

use crate::keys::Key;

/// An order to place, with the engine's defaults: subaccount 0, good till cancelled, no expiry,
/// no client id, not reduce-only, self-trade prevention cancels the newest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order(OrderRequest);

impl Order {
    /// A GTC limit order.
    pub fn limit(market: MarketId, side: Side, price: PriceTicks, qty: QtyLots) -> Order {
        Order(OrderRequest {
            sub: 0,
            market,
            side,
            price,
            qty,
            tif: TimeInForce::Gtc,
            expiry: Expiry::Never,
            client_id: None,
            reduce_only: false,
            stp: StpMode::default(),
        })
    }

    /// A market order: immediate-or-cancel with `worst` as the worst acceptable price.
    pub fn market(market: MarketId, side: Side, worst: PriceTicks, qty: QtyLots) -> Order {
        Order::limit(market, side, worst, qty).tif(TimeInForce::Ioc)
    }

    /// Trade from subaccount `sub`.
    pub fn subaccount(mut self, sub: SubaccountId) -> Order {
        self.0.sub = sub;
        self
    }

    /// Time in force.
    pub fn tif(mut self, tif: TimeInForce) -> Order {
        self.0.tif = tif;
        self
    }

    /// Immediate or cancel.
    pub fn ioc(self) -> Order {
        self.tif(TimeInForce::Ioc)
    }

    /// Fill or kill.
    pub fn fok(self) -> Order {
        self.tif(TimeInForce::Fok)
    }

    /// Post-only: rejected if it would take liquidity.
    pub fn post_only(self) -> Order {
        self.tif(TimeInForce::PostOnly)
    }

    /// Only reduce the position (IOC and FOK only).
    pub fn reduce_only(mut self) -> Order {
        self.0.reduce_only = true;
        self
    }

    /// A client order id, unique among the subaccount's live orders in the market.
    pub fn client_id(mut self, id: u64) -> Order {
        self.0.client_id = Some(ClientOrderId(id));
        self
    }

    /// Expiry of a resting order.
    pub fn expiry(mut self, expiry: Expiry) -> Order {
        self.0.expiry = expiry;
        self
    }

    /// Self-trade prevention.
    pub fn stp(mut self, stp: StpMode) -> Order {
        self.0.stp = stp;
        self
    }

    /// The engine's order request.
    pub fn request(&self) -> OrderRequest {
        self.0
    }

    /// The action that places it.
    pub fn place(&self) -> TxAction {
        TxAction::Place(self.0)
    }
}

/// Cancel order `id`.
pub fn cancel(sub: SubaccountId, market: MarketId, id: OrderId) -> TxAction {
    TxAction::Cancel { sub, market, id }
}

/// Cancel the live order with client id `client_id`.
pub fn cancel_by_client_id(sub: SubaccountId, market: MarketId, client_id: u64) -> TxAction {
    TxAction::CancelByClientId { sub, market, client_id: ClientOrderId(client_id) }
}

/// Cancel every order of the subaccount, in one market or all, on one side or both.
pub fn cancel_all(sub: SubaccountId, market: Option<MarketId>, side: Option<Side>) -> TxAction {
    TxAction::CancelAll { sub, market, side }
}

/// Change an order's price and size.
pub fn modify(
    sub: SubaccountId,
    market: MarketId,
    id: OrderId,
    price: PriceTicks,
    qty: QtyLots,
) -> TxAction {
    TxAction::Modify { sub, market, id, price, qty }
}

/// Withdraw collateral.
pub fn withdraw(sub: SubaccountId, amount: Quote) -> TxAction {
    TxAction::Withdraw { sub, amount }
}

/// Move collateral to another account.
pub fn transfer(sub: SubaccountId, to: Address, to_sub: SubaccountId, amount: Quote) -> TxAction {
    TxAction::Transfer { sub, to, to_sub, amount }
}

/// Put one market's position in its own isolated margin bucket (`isolated`), or back in the
/// cross bucket. The engine refuses while the account has a position or resting orders in the
/// market.
pub fn set_margin_mode(sub: SubaccountId, market: MarketId, isolated: bool) -> TxAction {
    TxAction::SetMarginMode { sub, market, isolated }
}

/// Move collateral between the cross bucket and a market's isolated bucket: a positive amount
/// into the isolated bucket, a negative one back out. The engine refuses a move larger than the
/// free collateral of the bucket it leaves.
pub fn adjust_isolated_margin(sub: SubaccountId, market: MarketId, amount: Quote) -> TxAction {
    TxAction::AdjustIsolatedMargin { sub, market, amount }
}

/// What an agent key may do (see `novation_chain::auth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentScope {
    /// Markets it may trade; empty means all. Sorted and deduplicated by [`approve_agent`].
    pub markets: Vec<MarketId>,
    /// Largest order it may place, if bounded.
    pub max_order_qty: Option<QtyLots>,
    /// Block time (ms) from which the grant no longer holds.
    pub expires_ms: u64,
}

/// Let `agent` trade for the signer within `scope`.
pub fn approve_agent(agent: Address, scope: AgentScope) -> TxAction {
    let mut markets = scope.markets;
    markets.sort_unstable();
    markets.dedup();
    TxAction::ApproveAgent {
        agent,
        markets,
        max_order_qty: scope.max_order_qty,
        expires_ms: scope.expires_ms,
    }
}

/// Withdraw an agent's grant.
pub fn revoke_agent(agent: Address) -> TxAction {
    TxAction::RevokeAgent { agent }
}

/// Why actions could not be put into a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No action.
    #[error("a transaction needs at least one action")]
    Empty,
    /// More than [`MAX_ACTIONS_PER_TX`].
    #[error("{0} actions exceed the limit of {MAX_ACTIONS_PER_TX} per transaction")]
    TooMany(usize),
}

/// Signs `actions` with `key` under `nonce` for chain `chain_id`. An agent key names its master.
pub fn sign(
    key: &Key,
    chain_id: ChainId,
    nonce: u64,
    actions: Vec<TxAction>,
) -> Result<SignedTx, BuildError> {
    if actions.is_empty() {
        return Err(BuildError::Empty);
    }
    if actions.len() > MAX_ACTIONS_PER_TX {
        return Err(BuildError::TooMany(actions.len()));
    }
    let body = TxBody { chain_id, nonce, master: key.master(), actions };
    Ok(SignedTx::sign(key.secret(), body))
}

/// The transaction's wire encoding as lower-case hex.
pub fn encode_hex(tx: &SignedTx) -> String {
    hex::encode(novation_chain::node::encode_tx(tx))
}

/// The transaction's hash as lower-case hex (what the node answers to a submission).
pub fn hash_hex(tx: &SignedTx) -> String {
    hex::encode(tx.hash_bytes())
}

#[cfg(test)]
mod tests {
    use novation_chain::tx::{check_stateless, decode_tx, MAX_TX_BYTES};

    use super::*;

    #[test]
    fn a_signed_order_decodes_and_verifies() {
        let key = Key::generate("t").unwrap();
        let order = Order::limit(MarketId(0), Side::Buy, PriceTicks(1_000_000), QtyLots(5))
            .post_only()
            .client_id(42)
            .subaccount(3);
        let tx = sign(&key, ChainId(1), 1_700_000_000_000, vec![order.place()]).unwrap();
        let bytes = hex::decode(encode_hex(&tx)).unwrap();
        let back = decode_tx(&bytes, MAX_TX_BYTES).unwrap();
        assert_eq!(back, tx);
        assert!(back.verify());
        assert_eq!(back.signer(), key.address());
        assert_eq!(check_stateless(&back, ChainId(1)), Ok(()));
        let TxAction::Place(req) = &back.body.actions[0] else { panic!("not a place") };
        assert_eq!(req.tif, TimeInForce::PostOnly);
        assert_eq!(req.client_id, Some(ClientOrderId(42)));
        assert_eq!(req.sub, 3);
        assert_eq!(hash_hex(&back), hex::encode(back.hash_bytes()));
    }

    #[test]
    fn an_agent_key_names_its_master() {
        let owner = Key::generate("owner").unwrap();
        let agent = Key::generate("agent").unwrap().with_master(Some(owner.address()));
        let tx = sign(&agent, ChainId(1), 5, vec![cancel_all(0, None, None)]).unwrap();
        assert_eq!(tx.body.master, Some(owner.address()));
        assert_eq!(tx.signer(), agent.address());
        assert!(tx.verify());
    }

    #[test]
    fn every_builder_action_passes_stateless_checks() {
        let key = Key::generate("t").unwrap();
        let other = Key::generate("u").unwrap();
        let m = MarketId(1);
        let actions = vec![
            Order::market(m, Side::Sell, PriceTicks(1), QtyLots(1)).reduce_only().place(),
            cancel(0, m, OrderId(9)),
            cancel_by_client_id(0, m, 7),
            cancel_all(0, Some(m), Some(Side::Buy)),
            modify(0, m, OrderId(9), PriceTicks(3), QtyLots(2)),
            withdraw(0, Quote(1)),
            transfer(0, other.address(), 1, Quote(5)),
            approve_agent(
                other.address(),
                AgentScope {
                    markets: vec![MarketId(2), MarketId(1), MarketId(2)],
                    max_order_qty: Some(QtyLots(10)),
                    expires_ms: 9,
                },
            ),
            revoke_agent(other.address()),
        ];
        let tx = sign(&key, ChainId(7), 1, actions).unwrap();
        let back = decode_tx(&hex::decode(encode_hex(&tx)).unwrap(), MAX_TX_BYTES).unwrap();
        assert_eq!(check_stateless(&back, ChainId(7)), Ok(()));
        assert!(back.verify());
    }

    #[test]
    fn empty_and_oversize_batches_are_refused() {
        let key = Key::generate("t").unwrap();
        assert_eq!(sign(&key, ChainId(1), 1, vec![]).unwrap_err(), BuildError::Empty);
        let many = vec![cancel_all(0, None, None); MAX_ACTIONS_PER_TX + 1];
        assert_eq!(sign(&key, ChainId(1), 1, many).unwrap_err(), BuildError::TooMany(33));
    }
}
