//! One key trading on one node: sign, submit, wait, and say what happened.

use std::time::Duration;

use novation_chain::tx::{ChainId, TxAction};
use novation_engine::{MarketId, SubaccountId};
use novation_types::{Address, OrderId, PriceTicks, QtyLots, Quote, Side};
use novation_wire::rest::ActionResultKind;

use crate::error::{Error, Result};
use crate::http::{HttpClient, TxReport};
use crate::keys::Key;
use crate::market::{self, MarketSpec};
use crate::nonce::NonceSource;
use crate::rules;
use crate::tx::{self, AgentScope, Order};

/// How long [`Trader`] waits for a transaction to be final by default.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many nonces one [`Trader::send`] tries when another process of the same key took the
/// one it chose.
pub const NONCE_ATTEMPTS: usize = 3;

/// A key trading through one node: it signs with the key, picks nonces, submits, waits for
/// finality and turns refusals and rejections into [`Error`]s that name the rule.
///
/// Orders act for [`Key::account`] (the master of an agent key) in subaccount
/// [`Trader::sub`]; [`Trader::place`] sets the order's subaccount to it.
#[derive(Debug)]
pub struct Trader {
    http: HttpClient,
    key: Key,
    chain_id: ChainId,
    nonces: NonceSource,
    sub: SubaccountId,
    timeout: Duration,
    markets: Vec<MarketSpec>,
}

/// A placed order.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The transaction.
    pub report: TxReport,
    /// The market.
    pub market: MarketId,
    /// The engine's order id.
    pub id: OrderId,
}

impl Trader {
    /// Reads the chain id and the markets from the node.
    pub async fn connect(http: HttpClient, key: Key) -> Result<Trader> {
        let status = http.status().await?;
        let markets = http.market_specs().await?;
        Ok(Trader {
            http,
            key,
            chain_id: ChainId(status.chain_id),
            nonces: NonceSource::new(),
            sub: 0,
            timeout: WAIT_TIMEOUT,
            markets,
        })
    }

    /// Trade from subaccount `sub`.
    pub fn with_sub(mut self, sub: SubaccountId) -> Trader {
        self.sub = sub;
        self
    }

    /// Wait at most `timeout` for each transaction.
    pub fn with_timeout(mut self, timeout: Duration) -> Trader {
        self.timeout = timeout;
        self
    }

    /// Use `nonces` (e.g. a lane, when several processes share the key).
    pub fn with_nonces(mut self, nonces: NonceSource) -> Trader {
        self.nonces = nonces;
        self
    }

    /// The REST client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The account orders act for.
    pub fn account(&self) -> Address {
        self.key.account()
    }

    /// The subaccount.
    pub fn sub(&self) -> SubaccountId {
        self.sub
    }

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The markets read at connection.
    pub fn markets(&self) -> &[MarketSpec] {
        &self.markets
    }

    /// The market named by `selector` (id or symbol).
    pub fn market(&self, selector: &str) -> Result<&MarketSpec> {
        market::find(&self.markets, selector)
    }

    /// Signs `actions`, submits them and waits until final; the report as the node gives it
    /// (see [`TxReport::check`]). A nonce that another process of the same key took first is
    /// replaced by a fresh one (nothing executed under it).
    pub async fn send(&self, actions: Vec<TxAction>) -> Result<TxReport> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= NONCE_ATTEMPTS;
            let nonce = self.nonces.next();
            let signed = tx::sign(&self.key, self.chain_id, nonce, actions.clone())?;
            let report = match self.http.submit_and_wait(&signed, self.timeout).await {
                Ok(report) => report,
                Err(e) if !last && is_pending_nonce(&e) => {
                    self.nonces.observe(nonce);
                    continue;
                }
                Err(Error::Refused { code, .. }) if !last && code == rules::REFUSAL_NONCE_USED => {
                    self.nonces.observe(nonce);
                    continue;
                }
                Err(Error::Refused { hash, code, .. })
                    if code == rules::REFUSAL_AGENT_NOT_APPROVED =>
                {
                    return Err(self.wrong_signer(hash));
                }
                Err(e) => return Err(e),
            };
            if !last && report.refusal_code() == Some(rules::REFUSAL_NONCE_USED) {
                self.nonces.observe(nonce);
                continue;
            }
            return Ok(report);
        }
    }

    fn wrong_signer(&self, hash: String) -> Error {
        Error::WrongSigner {
            hash,
            expected: crate::http::address_hex(&self.key.account()),
            actual: crate::http::address_hex(&self.key.address()),
        }
    }

    /// [`Trader::send`], then [`TxReport::check`]: an error for a refusal or any rejection.
    pub async fn execute(&self, actions: Vec<TxAction>) -> Result<TxReport> {
        let report = self.send(actions).await?;
        report.check()?;
        Ok(report)
    }

    /// Places `order` from this trader's subaccount; its engine id.
    pub async fn place(&self, order: Order) -> Result<Placed> {
        let order = order.subaccount(self.sub);
        let report = self.execute(vec![order.place()]).await?;
        let placed = report.check()?.first().filter(|a| a.result == ActionResultKind::OrderPlaced);
        let id = placed.and_then(|a| a.order_id).ok_or_else(|| Error::Decode {
            url: format!("{}/v1/txs/{}", self.http.base(), report.hash),
            reason: "an executed order without an order id".into(),
        })?;
        Ok(Placed { market: order.request().market, id: OrderId(id), report })
    }

    /// Cancels order `id`.
    pub async fn cancel(&self, market: MarketId, id: OrderId) -> Result<TxReport> {
        self.execute(vec![tx::cancel(self.sub, market, id)]).await
    }

    /// Cancels the live order with client id `client_id`.
    pub async fn cancel_by_client_id(&self, market: MarketId, client_id: u64) -> Result<TxReport> {
        self.execute(vec![tx::cancel_by_client_id(self.sub, market, client_id)]).await
    }

    /// Cancels every order (in one market or all, on one side or both).
    pub async fn cancel_all(
        &self,
        market: Option<MarketId>,
        side: Option<Side>,
    ) -> Result<TxReport> {
        self.execute(vec![tx::cancel_all(self.sub, market, side)]).await
    }

    /// Changes an order's price and size.
    pub async fn modify(
        &self,
        market: MarketId,
        id: OrderId,
        price: PriceTicks,
        qty: QtyLots,
    ) -> Result<TxReport> {
        self.execute(vec![tx::modify(self.sub, market, id, price, qty)]).await
    }

    /// Withdraws collateral.
    pub async fn withdraw(&self, amount: Quote) -> Result<TxReport> {
        self.execute(vec![tx::withdraw(self.sub, amount)]).await
    }

    /// Moves collateral to another account.
    pub async fn transfer(
        &self,
        to: Address,
        to_sub: SubaccountId,
        amount: Quote,
    ) -> Result<TxReport> {
        self.execute(vec![tx::transfer(self.sub, to, to_sub, amount)]).await
    }

    /// Isolated (`true`) or cross margin for `market` (see [`tx::set_margin_mode`]).
    pub async fn set_margin_mode(&self, market: MarketId, isolated: bool) -> Result<TxReport> {
        self.execute(vec![tx::set_margin_mode(self.sub, market, isolated)]).await
    }

    /// Moves collateral into (`amount > 0`) or out of `market`'s isolated bucket.
    pub async fn adjust_isolated_margin(
        &self,
        market: MarketId,
        amount: Quote,
    ) -> Result<TxReport> {
        self.execute(vec![tx::adjust_isolated_margin(self.sub, market, amount)]).await
    }

    /// Lets `agent` trade for this key's account.
    pub async fn approve_agent(&self, agent: Address, scope: AgentScope) -> Result<TxReport> {
        self.execute(vec![tx::approve_agent(agent, scope)]).await
    }

    /// Withdraws an agent's grant.
    pub async fn revoke_agent(&self, agent: Address) -> Result<TxReport> {
        self.execute(vec![tx::revoke_agent(agent)]).await
    }
}

/// Whether the mempool refused a submission because this signer has a pending transaction with
/// the same nonce.
fn is_pending_nonce(e: &Error) -> bool {
    matches!(e, Error::Api { code, message, .. }
        if code == novation_wire::code::TX_REFUSED && message.contains("nonce"))
}
