//! The `/v1` REST routes (table in the crate doc). Each handler answers JSON wire types
//! ([`novation_wire::rest`]) or an [`ApiError`]; reads of history come from the [`Store`],
//! reads of accounts and risk from one query of the node's finalized state.
//!
//! [`Store`]: crate::store::Store

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use novation_chain::executor::TxStatus;
use novation_chain::node::{Gated, SubmitError};
use novation_chain::published::BOOK_VIEW_DEPTH;
use novation_wire::rest as w;
use novation_wire::units::atoms_to_usdc;
use novation_wire::{code, ErrorBody};

use crate::convert::{self, hex, parse_address, parse_hash};
use crate::{account, ApiError, ApiResult, ApiState};

type S = State<Arc<ApiState>>;

/// Results per list request when `limit` is absent.
pub const LIMIT_DEFAULT: usize = 100;
/// Most results per list request.
pub const LIMIT_MAX: usize = 1_000;

/// The `/v1` routes.
pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/markets", get(markets))
        .route("/v1/markets/{market}", get(market))
        .route("/v1/markets/{market}/book", get(book))
        .route("/v1/markets/{market}/trades", get(trades))
        .route("/v1/markets/{market}/candles", get(candles))
        .route("/v1/markets/{market}/funding", get(funding))
        .route("/v1/markets/{market}/open-interest", get(open_interest))
        .route("/v1/markets/{market}/prices", get(prices))
        .route("/v1/markets/{market}/adl", get(adl))
        .route("/v1/insurance", get(insurance))
        .route("/v1/liquidations", get(liquidations))
        .route("/v1/accounts/{address}/{sub}", get(account))
        .route("/v1/accounts/{address}/{sub}/orders", get(orders))
        .route("/v1/accounts/{address}/{sub}/fills", get(fills))
        .route("/v1/orders/{market}/{id}", get(order))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/txs/{hash}", get(tx))
        .route("/v1/txs", axum::routing::post(submit))
}

/// Unknown route: 404 `not_found`.
pub async fn not_found() -> ApiError {
    ApiError::not_found(code::NOT_FOUND, "no such route (see /openapi.json)")
}

/// Wrong method: 405 `method_not_allowed`.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

fn limit(requested: Option<u32>, max: usize) -> usize {
    requested.map(|l| l as usize).unwrap_or(LIMIT_DEFAULT).clamp(1, max.clamp(1, LIMIT_MAX))
}

fn market_id(s: &ApiState, name: &str) -> Result<u16, ApiError> {
    s.store().resolve_market(name).ok_or_else(|| ApiError::unknown_market(name))
}

fn account_key(address: &str, sub: &str) -> Result<(novation_types::Address, u16), ApiError> {
    let a = parse_address(address).map_err(|e| ApiError::bad_request(format!("address: {e}")))?;
    let sub = sub
        .parse::<u16>()
        .map_err(|_| ApiError::bad_request("sub must be an integer from 0 to 65535"))?;
    Ok((a, sub))
}

#[utoipa::path(get, path = "/v1/status", tag = "node",
    responses((status = 200, body = w::Status)))]
pub(crate) async fn status(State(s): S) -> ApiResult<w::Status> {
    let st = s.cx.node.shared.status.lock().map(|st| st.clone()).unwrap_or_default();
    let mempool = s.cx.node.mempool.lock().map(|p| p.len()).unwrap_or(0);
    Ok(Json(w::Status {
        chain_id: s.cx.chain_id.0,
        height: st.height,
        digest: st.digest.map(|d| d.to_string()),
        state_root: st.state_root.map(|d| d.to_string()),
        time_ms: st.time_ms,
        mempool: mempool as u64,
        ws_connections: s.hub.connections() as u64,
        ws_closed_slow_consumer: s.hub.closed().0,
        ws_closed_idle: s.hub.closed().1,
    }))
}

#[utoipa::path(get, path = "/v1/markets", tag = "markets",
    responses((status = 200, body = w::MarketsResponse)))]
pub(crate) async fn markets(State(s): S) -> ApiResult<w::MarketsResponse> {
    let r = s
        .query(|st| w::MarketsResponse {
            height: st.height,
            markets: st.engine.markets().iter().map(convert::market).collect(),
        })
        .await?;
    Ok(Json(r))
}

#[utoipa::path(get, path = "/v1/markets/{market}", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol")),
    responses((status = 200, body = w::Market), (status = 404, body = ErrorBody)))]
pub(crate) async fn market(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<w::Market> {
    let id = market_id(&s, &p?.0)?;
    let m = s
        .query(move |st| st.engine.market(novation_engine::MarketId(id)).map(convert::market))
        .await?;
    m.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/markets/{market}/book", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol"), w::BookQuery),
    responses((status = 200, body = w::Book), (status = 404, body = ErrorBody)))]
pub(crate) async fn book(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<w::BookQuery>, QueryRejection>,
) -> ApiResult<w::Book> {
    let id = market_id(&s, &p?.0)?;
    let depth = limit(q?.0.depth.or(Some(BOOK_VIEW_DEPTH as u32)), BOOK_VIEW_DEPTH);
    let b = s.store().book_wire(id, depth);
    b.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/markets/{market}/trades", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol"), w::LimitQuery),
    responses((status = 200, body = w::TradesResponse), (status = 404, body = ErrorBody)))]
pub(crate) async fn trades(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<w::LimitQuery>, QueryRejection>,
) -> ApiResult<w::TradesResponse> {
    let id = market_id(&s, &p?.0)?;
    let n = limit(q?.0.limit, s.config.store.trades_per_market_max);
    let store = s.store();
    let symbol = store.meta(id).map(|m| m.symbol.clone()).unwrap_or_default();
    let trades = store.trades(id, n).unwrap_or_default();
    Ok(Json(w::TradesResponse { market: id, symbol, trades }))
}

#[utoipa::path(get, path = "/v1/markets/{market}/candles", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol"), w::CandlesQuery),
    responses((status = 200, body = w::CandlesResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn candles(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<w::CandlesQuery>, QueryRejection>,
) -> ApiResult<w::CandlesResponse> {
    let id = market_id(&s, &p?.0)?;
    let q = q?.0;
    let n = limit(q.limit, s.config.store.candles_per_interval_max);
    let store = s.store();
    let symbol = store.meta(id).map(|m| m.symbol.clone()).unwrap_or_default();
    let candles = store.candles(id, q.interval, n).unwrap_or_default();
    Ok(Json(w::CandlesResponse { market: id, symbol, interval: q.interval, candles }))
}

#[utoipa::path(get, path = "/v1/markets/{market}/funding", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol"), w::LimitQuery),
    responses((status = 200, body = w::FundingResponse), (status = 404, body = ErrorBody)))]
pub(crate) async fn funding(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<w::LimitQuery>, QueryRejection>,
) -> ApiResult<w::FundingResponse> {
    let id = market_id(&s, &p?.0)?;
    let n = limit(q?.0.limit, s.config.store.funding_points_max);
    let history = s.store().funding(id, n).unwrap_or_default();
    let r = s
        .query(move |st| {
            let m = st.engine.market(novation_engine::MarketId(id))?;
            let novation_engine::Instrument::Perpetual { funding_interval_ms, .. } =
                m.params.instrument;
            Some(w::FundingResponse {
                market: id,
                symbol: m.params.symbol.clone(),
                height: st.height,
                interval_ms: Some(funding_interval_ms),
                last_rate_ppb: m.funding_last_rate.ppb(),
                predicted_rate_ppb: m.predicted_funding_rate().map(|r| r.ppb()).unwrap_or(0),
                last_funding_ms: m.funding_last_ms,
                history,
            })
        })
        .await?;
    r.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/markets/{market}/open-interest", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol")),
    responses((status = 200, body = w::OpenInterest), (status = 404, body = ErrorBody)))]
pub(crate) async fn open_interest(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<w::OpenInterest> {
    let id = market_id(&s, &p?.0)?;
    let r = s
        .query(move |st| {
            let m = st.engine.market(novation_engine::MarketId(id))?;
            let meta = convert::MarketMeta::of(m);
            let notional = meta.notional_atoms(m.mark.0, m.long_lots);
            Some(w::OpenInterest {
                market: id,
                symbol: meta.symbol.clone(),
                height: st.height,
                open_interest_lots: m.long_lots,
                open_interest: meta.qty(m.long_lots),
                notional_atoms: notional.to_string(),
                notional: atoms_to_usdc(notional),
            })
        })
        .await?;
    r.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/markets/{market}/prices", tag = "markets",
    params(("market" = String, Path, description = "market id or symbol")),
    responses((status = 200, body = w::Prices), (status = 404, body = ErrorBody)))]
pub(crate) async fn prices(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<w::Prices> {
    let id = market_id(&s, &p?.0)?;
    let r = s
        .query(move |st| {
            let m = st.engine.market(novation_engine::MarketId(id))?;
            let meta = convert::MarketMeta::of(m);
            Some(w::Prices {
                market: id,
                symbol: meta.symbol.clone(),
                height: st.height,
                mark_ticks: m.mark.0,
                mark: meta.price(m.mark.0),
                index_ticks: m.index.map(|i| i.0),
                index: m.index.map(|i| meta.price(i.0)),
                index_height: m.index_height,
            })
        })
        .await?;
    r.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/markets/{market}/adl", tag = "risk",
    params(("market" = String, Path, description = "market id or symbol"), w::LimitQuery),
    responses((status = 200, body = w::AdlQueue), (status = 404, body = ErrorBody)))]
pub(crate) async fn adl(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<w::LimitQuery>, QueryRejection>,
) -> ApiResult<w::AdlQueue> {
    let id = market_id(&s, &p?.0)?;
    let n = limit(q?.0.limit, account::ADL_ENTRIES_MAX);
    let r = s.query(move |st| account::adl_queue(st, id, n)).await?;
    r.map(Json).ok_or_else(|| ApiError::unknown_market(&id.to_string()))
}

#[utoipa::path(get, path = "/v1/insurance", tag = "risk",
    responses((status = 200, body = w::InsuranceResponse)))]
pub(crate) async fn insurance(State(s): S) -> ApiResult<w::InsuranceResponse> {
    let r = s
        .query(|st| w::InsuranceResponse {
            height: st.height,
            funds: st
                .engine
                .markets()
                .iter()
                .map(|m| {
                    let b = st.engine.insurance_fund(m.id).map(|q| q.0).unwrap_or(0);
                    w::InsuranceFund {
                        market: m.id.0,
                        symbol: m.params.symbol.clone(),
                        balance_atoms: b.to_string(),
                        balance: atoms_to_usdc(b),
                    }
                })
                .collect(),
        })
        .await?;
    Ok(Json(r))
}

#[utoipa::path(get, path = "/v1/liquidations", tag = "risk",
    params(w::LiquidationsQuery),
    responses((status = 200, body = w::LiquidationsResponse), (status = 404, body = ErrorBody)))]
pub(crate) async fn liquidations(
    State(s): S,
    q: Result<Query<w::LiquidationsQuery>, QueryRejection>,
) -> ApiResult<w::LiquidationsResponse> {
    let q = q?.0;
    let market = match &q.market {
        Some(m) => Some(market_id(&s, m)?),
        None => None,
    };
    let n = limit(q.limit, s.config.store.liquidations_max);
    Ok(Json(w::LiquidationsResponse { liquidations: s.store().liquidations(market, n) }))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/{sub}", tag = "accounts",
    params(("address" = String, Path, description = "owner address, 40 hex digits", pattern = "^(0x)?[0-9a-fA-F]{40}$"),
           ("sub" = u16, Path, description = "subaccount", minimum = 0, maximum = 65535)),
    responses((status = 200, body = w::Account), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn account(
    State(s): S,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<w::Account> {
    let (address, sub) = p?.0;
    let (owner, sub) = account_key(&address, &sub)?;
    let r = s.query(move |st| account::account(st, owner, sub)).await?;
    r.map(Json).ok_or_else(|| ApiError::not_found(code::UNKNOWN_ACCOUNT, "no such account"))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/{sub}/orders", tag = "accounts",
    params(("address" = String, Path, description = "owner address, 40 hex digits", pattern = "^(0x)?[0-9a-fA-F]{40}$"),
           ("sub" = u16, Path, description = "subaccount", minimum = 0, maximum = 65535)),
    responses((status = 200, body = w::OrdersResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn orders(
    State(s): S,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<w::OrdersResponse> {
    let (address, sub) = p?.0;
    let (owner, sub) = account_key(&address, &sub)?;
    let r = s.query(move |st| (st.height, account::open_orders(st, owner, sub))).await?;
    let (height, Some(mut orders)) = r else {
        return Err(ApiError::not_found(code::UNKNOWN_ACCOUNT, "no such account"));
    };
    // Fill in what the read models know of each order's history.
    let store = s.store();
    for o in &mut orders {
        if let Some(known) = store.order(o.market, o.id) {
            o.qty_lots = known.qty_lots.max(o.remaining_lots);
            o.filled_lots = known.filled_lots;
            o.status = known.status;
            o.created_height = known.created_height;
            o.updated_height = known.updated_height;
        }
    }
    Ok(Json(w::OrdersResponse { address: hex(&owner.0), sub, height, orders }))
}

#[utoipa::path(get, path = "/v1/accounts/{address}/{sub}/fills", tag = "accounts",
    params(("address" = String, Path, description = "owner address, 40 hex digits", pattern = "^(0x)?[0-9a-fA-F]{40}$"),
           ("sub" = u16, Path, description = "subaccount", minimum = 0, maximum = 65535), w::LimitQuery),
    responses((status = 200, body = w::FillsResponse), (status = 400, body = ErrorBody)))]
pub(crate) async fn fills(
    State(s): S,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<w::LimitQuery>, QueryRejection>,
) -> ApiResult<w::FillsResponse> {
    let (address, sub) = p?.0;
    let key = account_key(&address, &sub)?;
    let n = limit(q?.0.limit, s.config.store.fills_per_account_max);
    let fills = s.store().fills(&key, n);
    Ok(Json(w::FillsResponse { address: hex(&key.0 .0), sub: key.1, fills }))
}

#[utoipa::path(get, path = "/v1/orders/{market}/{id}", tag = "accounts",
    params(("market" = String, Path, description = "market id or symbol"),
           ("id" = u64, Path, description = "order id")),
    responses((status = 200, body = w::Order), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn order(
    State(s): S,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<w::Order> {
    let (market, id) = p?.0;
    let m = market_id(&s, &market)?;
    let id = id.parse::<u64>().map_err(|_| ApiError::bad_request("order id must be an integer"))?;
    let o = s.store().order(m, id).cloned();
    o.map(Json).ok_or_else(|| {
        ApiError::not_found(
            code::UNKNOWN_ORDER,
            "no order with this id seen since the node started",
        )
    })
}

#[utoipa::path(get, path = "/v1/blocks/latest", tag = "chain",
    responses((status = 200, body = w::Block), (status = 404, body = ErrorBody)))]
pub(crate) async fn latest_block(State(s): S) -> ApiResult<w::Block> {
    let b = s.store().latest_block().cloned();
    b.map(Json)
        .ok_or_else(|| ApiError::not_found(code::UNKNOWN_BLOCK, "no block since the node started"))
}

#[utoipa::path(get, path = "/v1/blocks/{height}", tag = "chain",
    params(("height" = u64, Path, description = "block height")),
    responses((status = 200, body = w::Block), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn block(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<w::Block> {
    let height =
        p?.0.parse::<u64>().map_err(|_| ApiError::bad_request("height must be an integer"))?;
    if let Some(b) = s.store().block(height).cloned() {
        return Ok(Json(b));
    }
    Err(ApiError::not_found(
        code::UNKNOWN_BLOCK,
        "block not finalized yet, or older than this node's recent history",
    ))
}

/// The status of a transaction as this node knows it.
pub fn tx_status(s: &ApiState, hash: &[u8; 32]) -> w::Tx {
    if let Some(t) = s.store().tx(hash).cloned() {
        return t;
    }
    let blank = |status| w::Tx {
        hash: hex(hash),
        status,
        height: None,
        time_ms: None,
        signer: None,
        principal: None,
        nonce: None,
        actions: Vec::new(),
        outcome: None,
        reason: None,
        code: None,
    };
    let recorded = s.cx.node.shared.results.lock().ok().and_then(|r| r.get(hash));
    match recorded {
        Some(TxStatus::Finalized { height, outcome }) => w::Tx {
            height: Some(height),
            outcome: Some(convert::outcome(&outcome)),
            ..blank(w::TxState::Finalized)
        },
        Some(TxStatus::Dropped { reason, code }) => {
            w::Tx { reason: Some(reason), code, ..blank(w::TxState::Dropped) }
        }
        _ if s.cx.node.mempool.lock().map(|p| p.contains(hash)).unwrap_or(false) => {
            blank(w::TxState::Pending)
        }
        _ => blank(w::TxState::Unknown),
    }
}

#[utoipa::path(get, path = "/v1/txs/{hash}", tag = "chain",
    params(("hash" = String, Path, description = "transaction hash, 64 hex digits", pattern = "^(0x)?[0-9a-fA-F]{64}$")),
    responses((status = 200, body = w::Tx), (status = 400, body = ErrorBody)))]
pub(crate) async fn tx(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult<w::Tx> {
    let hash = parse_hash(&p?.0).map_err(ApiError::bad_request)?;
    Ok(Json(tx_status(&s, &hash)))
}

/// Decodes a submitted body: `{"tx": "<hex>"}` or the bare hex.
fn submitted_bytes(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("body must be hex or JSON {\"tx\": hex}"))?
        .trim();
    let hex_text = if text.starts_with('{') {
        let req: w::SubmitTx = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
        req.tx
    } else {
        text.to_string()
    };
    convert::unhex(hex_text.trim()).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, code::INVALID_TX, format!("tx must be hex: {e}"))
    })
}

/// Checks, rate-limits (per signer) and admits a transaction; returns its hash.
pub fn admit(s: &ApiState, bytes: &[u8]) -> Result<[u8; 32], ApiError> {
    use std::sync::atomic::Ordering;
    if !s.accepting.load(Ordering::Relaxed) {
        return Err(ApiError::unavailable("node is shutting down"));
    }
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, code::INVALID_TX, m);
    // The per-signer limit is applied after the node has verified the signature (a forged
    // transaction must not spend a signer's allowance), and the signature is verified once.
    let gate = |tx: &novation_chain::tx::SignedTx| s.limits.check_account(tx.signer());
    s.cx.node.submit_gated(bytes, (s.cx.now_ms)(), gate).map_err(|e| match e {
        Gated::Gate(limited) => limited,
        Gated::Submit(SubmitError::Tx(e)) => invalid(e.to_string()),
        Gated::Submit(SubmitError::Mempool(m)) if m.contains("full") && !m.contains("sender") => {
            ApiError::unavailable(m)
        }
        Gated::Submit(SubmitError::Mempool(m)) => {
            ApiError::new(StatusCode::BAD_REQUEST, code::TX_REFUSED, m)
        }
    })
}

#[utoipa::path(post, path = "/v1/txs", tag = "chain",
    params(w::SubmitQuery),
    request_body(content = w::SubmitTx, description = "JSON {\"tx\": hex}, or the bare hex as text/plain"),
    responses((status = 200, body = w::SubmitTxResponse), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn submit(
    State(s): S,
    q: Result<Query<w::SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<w::SubmitTxResponse> {
    let q = q?.0;
    let bytes = submitted_bytes(&body?)?;
    let hash = admit(&s, &bytes)?;
    if q.wait != Some(true) {
        return Ok(Json(w::SubmitTxResponse {
            hash: hex(&hash),
            status: w::TxState::Pending,
            tx: None,
        }));
    }
    let wait = q.timeout_ms.unwrap_or(s.config.submit_wait_max_ms).min(s.config.submit_wait_max_ms);
    let mut heights = s.height.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
    loop {
        let t = tx_status(&s, &hash);
        if matches!(t.status, w::TxState::Finalized | w::TxState::Dropped) {
            return Ok(Json(w::SubmitTxResponse {
                hash: hex(&hash),
                status: t.status,
                tx: Some(t),
            }));
        }
        // Wake on the next block, or at least every 100 ms (drops are recorded after the sink).
        let next = tokio::time::timeout(Duration::from_millis(100), heights.changed());
        if tokio::time::timeout_at(deadline, next).await.is_err() {
            let status = tx_status(&s, &hash).status;
            return Ok(Json(w::SubmitTxResponse { hash: hex(&hash), status, tx: None }));
        }
    }
}
