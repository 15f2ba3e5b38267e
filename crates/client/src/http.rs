//! The REST client: reads the node's `/v1` routes into `novation_wire` types and submits signed
//! transactions.
//!
//! Every method is one request (plus polling in [`HttpClient::wait`]); errors carry the URL and,
//! when the node answered with an error body, its stable code ([`Error::Api`]).
//! [`TxReport::check`] turns a finalized transaction's outcome into typed errors: a refusal
//! names the chain rule ([`Error::Refused`], or [`Error::WrongSigner`] for an agent key its
//! master has not approved), a rejected action names the engine rule ([`Error::Rejected`]).

use std::time::Duration;

use novation_chain::tx::SignedTx;
use novation_types::Address;
use novation_wire::rest::{self, ActionResult, ActionResultKind, OutcomeKind, TxState};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::market::MarketSpec;
use crate::rules;
use crate::tx::encode_hex;

/// Default request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time the node holds a `POST /v1/txs?wait=true` (its default bound).
pub const SUBMIT_WAIT_MAX: Duration = Duration::from_secs(10);
/// Interval between transaction status polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A REST client of one node.
#[derive(Clone, Debug)]
pub struct HttpClient {
    base: String,
    http: reqwest::Client,
}

/// Hex of an address, as routes and wire bodies spell it.
pub fn address_hex(a: &Address) -> String {
    hex::encode(a.0)
}

/// `host:port` or a URL without a trailing slash → a base URL (`http://` assumed).
pub fn normalize_base(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err(Error::Invalid("empty node URL".into()));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else if url.contains("://") {
        Err(Error::Invalid(format!("node URL {url}: only http:// and https:// are supported")))
    } else {
        Ok(format!("http://{url}"))
    }
}

impl HttpClient {
    /// A client of the node at `url` (`http://host:port`, or `host:port`).
    pub fn new(url: &str) -> Result<HttpClient> {
        let base = normalize_base(url)?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::Transport { url: base.clone(), reason: e.to_string() })?;
        Ok(HttpClient { base, http })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The WebSocket URL of the same node (`ws://host:port/v1/ws`).
    pub fn ws_url(&self) -> String {
        let rest = self
            .base
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| self.base.strip_prefix("http://").map(|r| format!("ws://{r}")))
            .unwrap_or_else(|| self.base.clone());
        format!("{rest}/v1/ws")
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().await;
        read(url, resp).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.post(&url).json(body).send().await;
        read(url, resp).await
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<rest::Status> {
        self.get("/v1/status").await
    }

    /// `GET /v1/markets`.
    pub async fn markets(&self) -> Result<rest::MarketsResponse> {
        self.get("/v1/markets").await
    }

    /// Every market's grid.
    pub async fn market_specs(&self) -> Result<Vec<MarketSpec>> {
        let markets = self.markets().await?;
        let url = format!("{}/v1/markets", self.base);
        markets
            .markets
            .iter()
            .map(|m| {
                MarketSpec::from_wire(m).ok_or_else(|| Error::Decode {
                    url: url.clone(),
                    reason: format!("market {} publishes a zero tick or lot size", m.symbol),
                })
            })
            .collect()
    }

    /// `GET /v1/markets/{market}/book?depth=N` (market: id or symbol).
    pub async fn book(&self, market: &str, depth: Option<u32>) -> Result<rest::Book> {
        let q = depth.map(|d| format!("?depth={d}")).unwrap_or_default();
        self.get(&format!("/v1/markets/{}/book{q}", segment(market))).await
    }

    /// `GET /v1/markets/{market}/trades?limit=N`, newest first.
    pub async fn trades(&self, market: &str, limit: Option<u32>) -> Result<rest::TradesResponse> {
        let q = limit.map(|l| format!("?limit={l}")).unwrap_or_default();
        self.get(&format!("/v1/markets/{}/trades{q}", segment(market))).await
    }

    /// `GET /v1/accounts/{address}/{sub}` (`Error::Api` with code `unknown_account` if the
    /// account has never been credited).
    pub async fn account(&self, address: &Address, sub: u16) -> Result<rest::Account> {
        self.get(&format!("/v1/accounts/{}/{sub}", address_hex(address))).await
    }

    /// `GET /v1/accounts/{address}/{sub}/orders`: resting orders.
    pub async fn orders(&self, address: &Address, sub: u16) -> Result<rest::OrdersResponse> {
        self.get(&format!("/v1/accounts/{}/{sub}/orders", address_hex(address))).await
    }

    /// `GET /v1/accounts/{address}/{sub}/fills?limit=N`, newest first.
    pub async fn fills(
        &self,
        address: &Address,
        sub: u16,
        limit: Option<u32>,
    ) -> Result<rest::FillsResponse> {
        let q = limit.map(|l| format!("?limit={l}")).unwrap_or_default();
        self.get(&format!("/v1/accounts/{}/{sub}/fills{q}", address_hex(address))).await
    }

    /// `POST /v1/txs`: submits a signed transaction; its hash (hex) once the mempool took it.
    pub async fn submit(&self, tx: &SignedTx) -> Result<String> {
        let body = rest::SubmitTx { tx: encode_hex(tx) };
        let reply: rest::SubmitTxResponse = self.post("/v1/txs", &body).await?;
        Ok(reply.hash)
    }

    /// `POST /v1/txs?wait=true`, then polling: submits and waits until the transaction is
    /// final, at most `timeout` (the node holds a waiting request at most
    /// [`SUBMIT_WAIT_MAX`]; the rest is polled).
    pub async fn submit_and_wait(&self, tx: &SignedTx, timeout: Duration) -> Result<TxReport> {
        let start = tokio::time::Instant::now();
        let hold = timeout.min(SUBMIT_WAIT_MAX);
        let url = format!("{}/v1/txs?wait=true&timeout_ms={}", self.base, hold.as_millis());
        let body = rest::SubmitTx { tx: encode_hex(tx) };
        let resp = self.http.post(&url).timeout(hold + REQUEST_TIMEOUT).json(&body).send().await;
        let reply: rest::SubmitTxResponse = read(url, resp).await?;
        match (reply.status, reply.tx) {
            (TxState::Finalized, Some(tx)) => Ok(TxReport { hash: reply.hash, tx }),
            (TxState::Dropped, tx) => Err(dropped(reply.hash, tx)),
            _ => self.wait(&reply.hash, timeout.saturating_sub(start.elapsed())).await,
        }
    }

    /// `GET /v1/orders/{market}/{id}`: an order's status.
    pub async fn order(&self, market: &str, id: u64) -> Result<rest::Order> {
        self.get(&format!("/v1/orders/{}/{id}", segment(market))).await
    }

    /// `GET /v1/markets/{market}`.
    pub async fn market(&self, market: &str) -> Result<rest::Market> {
        self.get(&format!("/v1/markets/{}", segment(market))).await
    }

    /// `GET /v1/txs/{hash}`.
    pub async fn tx(&self, hash: &str) -> Result<rest::Tx> {
        self.get(&format!("/v1/txs/{}", segment(hash))).await
    }

    /// Polls a transaction until it is finalized or dropped, at most `timeout`.
    pub async fn wait(&self, hash: &str, timeout: Duration) -> Result<TxReport> {
        let start = tokio::time::Instant::now();
        loop {
            let tx = self.tx(hash).await?;
            match tx.status {
                TxState::Finalized => return Ok(TxReport { hash: hash.to_string(), tx }),
                TxState::Dropped => return Err(dropped(hash.to_string(), Some(tx))),
                TxState::Pending | TxState::Unknown => {}
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(Error::Timeout {
                    hash: hash.to_string(),
                    waited,
                    last: format!("{:?}", tx.status).to_lowercase(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL.min(timeout - waited)).await;
        }
    }

    /// Devnet faucet (`POST /faucet`): credits `usdc` whole USDC to `(address, sub)`; the hash
    /// of the faucet's transaction. Only nodes that hold the faucet key serve it.
    pub async fn faucet(&self, address: &Address, sub: u16, usdc: u64) -> Result<String> {
        #[derive(Serialize)]
        struct Req {
            address: String,
            sub: u16,
            usdc: u64,
        }
        #[derive(serde::Deserialize)]
        struct Reply {
            hash: String,
        }
        let reply: Reply =
            self.post("/faucet", &Req { address: address_hex(address), sub, usdc }).await?;
        Ok(reply.hash)
    }
}

/// A dropped transaction's error: [`Error::Refused`] when the node gives a refusal code (the
/// block builder leaves out transactions that fail replay protection; agent-rule refusals go in
/// the block, refused, and arrive as finalized), else [`Error::Dropped`].
fn dropped(hash: String, tx: Option<rest::Tx>) -> Error {
    let (reason, code) = tx.map_or((None, None), |t| (t.reason, t.code));
    let reason = reason.unwrap_or_else(|| "no reason given".into());
    match code {
        Some(code) => Error::Refused {
            hash,
            code,
            rule: rules::refusal(code).map_or_else(|| format!("code {code}"), str::to_string),
            reason,
        },
        None => Error::Dropped { hash, reason },
    }
}

/// A path segment: characters outside `A-Z a-z 0-9 - _ .` are percent-encoded.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn read<T: DeserializeOwned>(
    url: String,
    resp: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<T> {
    let resp = resp.map_err(|e| Error::Transport { url: url.clone(), reason: describe(&e) })?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Error::Transport { url: url.clone(), reason: describe(&e) })?;
    if !status.is_success() {
        return Err(api_error(url, status.as_u16(), &body));
    }
    serde_json::from_slice(&body).map_err(|e| Error::Decode { url, reason: e.to_string() })
}

/// An error reply: `{error, code}` (the `/v1` routes), `{error}` (older routes), or anything.
fn api_error(url: String, status: u16, body: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    struct Body {
        error: String,
        #[serde(default)]
        code: Option<String>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b) => Error::Api {
            url,
            status,
            code: b.code.unwrap_or_else(|| format!("http_{status}")),
            message: b.error,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let message: String = text.trim().chars().take(200).collect();
            Error::Api { url, status, code: format!("http_{status}"), message }
        }
    }
}

/// reqwest's message with its causes (the top one alone often says only "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A finalized transaction.
#[derive(Clone, Debug)]
pub struct TxReport {
    /// Its hash.
    pub hash: String,
    /// The node's record.
    pub tx: rest::Tx,
}

impl TxReport {
    /// The block height.
    pub fn height(&self) -> Option<u64> {
        self.tx.height
    }

    /// Each action's result, or the error that says why the transaction or an action failed:
    /// a refusal is [`Error::Refused`] (an agent key without approval: [`Error::WrongSigner`]),
    /// the first rejected action is [`Error::Rejected`].
    pub fn check(&self) -> Result<&[ActionResult]> {
        let outcome = self.tx.outcome.as_ref().ok_or_else(|| Error::Decode {
            url: format!("/v1/txs/{}", self.hash),
            reason: "a finalized transaction without an outcome".into(),
        })?;
        if outcome.status == OutcomeKind::Refused {
            let code = outcome.code.unwrap_or(0);
            let reason = outcome.reason.clone().unwrap_or_default();
            if code == rules::REFUSAL_AGENT_NOT_APPROVED {
                return Err(Error::WrongSigner {
                    hash: self.hash.clone(),
                    expected: self.tx.principal.clone().unwrap_or_else(|| "?".into()),
                    actual: self.tx.signer.clone().unwrap_or_else(|| "?".into()),
                });
            }
            let rule = rules::refusal(code).map_or_else(|| format!("code {code}"), str::to_string);
            return Err(Error::Refused { hash: self.hash.clone(), code, rule, reason });
        }
        for (index, a) in outcome.actions.iter().enumerate() {
            if a.result == ActionResultKind::Rejected {
                let code = a.code.unwrap_or(0);
                let known = rules::rejection(code);
                return Err(Error::Rejected {
                    hash: self.hash.clone(),
                    index,
                    code,
                    rule: known.as_ref().map_or_else(|| format!("code {code}"), |r| r.name.into()),
                    reason: known
                        .map(|r| r.description)
                        .or_else(|| a.reason.clone())
                        .unwrap_or_default(),
                });
            }
        }
        Ok(&outcome.actions)
    }

    /// The refusal code, if the transaction was refused.
    pub fn refusal_code(&self) -> Option<u16> {
        let o = self.tx.outcome.as_ref()?;
        (o.status == OutcomeKind::Refused).then_some(o.code).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcome: rest::TxOutcome) -> TxReport {
        TxReport {
            hash: "ab".into(),
            tx: rest::Tx {
                hash: "ab".into(),
                status: TxState::Finalized,
                height: Some(5),
                time_ms: Some(1),
                signer: Some("5151".into()),
                principal: Some("a0a0".into()),
                nonce: Some(1),
                actions: vec![],
                outcome: Some(outcome),
                reason: None,
                code: None,
            },
        }
    }

    fn action(result: ActionResultKind, code: Option<u16>) -> ActionResult {
        ActionResult { result, market: None, order_id: None, code, reason: Some("X".into()) }
    }

    #[test]
    fn an_unapproved_agent_is_a_wrong_signer_with_both_addresses() {
        let r = report(rest::TxOutcome {
            status: OutcomeKind::Refused,
            code: Some(111),
            reason: Some("the signer is not an agent".into()),
            actions: vec![],
        });
        let err = r.check().unwrap_err();
        assert!(matches!(&err, Error::WrongSigner { expected, actual, .. }
            if expected == "a0a0" && actual == "5151"));
        assert!(err.to_string().contains("acts for a0a0 but is signed by 5151"), "{err}");
    }

    #[test]
    fn refusals_and_rejections_name_their_rule() {
        let r = report(rest::TxOutcome {
            status: OutcomeKind::Refused,
            code: Some(103),
            reason: Some("nonce 5 already used".into()),
            actions: vec![],
        });
        assert_eq!(
            r.check().unwrap_err().to_string(),
            "transaction ab refused by rule NonceUsed (code 103): nonce 5 already used"
        );
        let r = report(rest::TxOutcome {
            status: OutcomeKind::Executed,
            code: None,
            reason: None,
            actions: vec![
                action(ActionResultKind::Done, None),
                action(ActionResultKind::Rejected, Some(26)),
            ],
        });
        let err = r.check().unwrap_err();
        assert_eq!(err.rule(), Some("InsufficientMargin"));
        assert_eq!(
            err.to_string(),
            "action 1 of transaction ab rejected by rule InsufficientMargin (code 26): \
             insufficient margin: initial margin after the order exceeds equity"
        );
    }

    #[test]
    fn a_refused_drop_names_its_rule() {
        // A finalized record turned into a drop record.
        let drop = |reason: &str, code| {
            let outcome = rest::TxOutcome {
                status: OutcomeKind::Executed,
                code: None,
                reason: None,
                actions: vec![],
            };
            let mut tx = report(outcome).tx;
            (tx.status, tx.height, tx.outcome) = (TxState::Dropped, None, None);
            (tx.reason, tx.code) = (Some(reason.to_string()), code);
            tx
        };
        let e = dropped("ab".into(), Some(drop("nonce 7 already used", Some(103))));
        assert_eq!(e.rule(), Some("NonceUsed"));
        let e = dropped("ab".into(), Some(drop("expired", None)));
        assert!(matches!(e, Error::Dropped { .. }));
        assert!(matches!(dropped("ab".into(), None), Error::Dropped { .. }));
    }

    #[test]
    fn urls_and_error_bodies() {
        assert_eq!(normalize_base("127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert!(normalize_base("ftp://x").is_err());
        let c = HttpClient::new("https://node.example:443").unwrap();
        assert_eq!(c.ws_url(), "wss://node.example:443/v1/ws");
        assert_eq!(segment("BTC-PERP"), "BTC-PERP");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        let e =
            api_error("u".into(), 404, br#"{"error":"no such market","code":"unknown_market"}"#);
        assert_eq!(e.api_code(), Some("unknown_market"));
        let e = api_error("u".into(), 400, br#"{"error":"bad"}"#);
        assert_eq!(e.api_code(), Some("http_400"));
        let e = api_error("u".into(), 502, b"<html>bad gateway</html>");
        assert!(e.to_string().contains("bad gateway"));
    }
}
