//! The node's first RPC routes, kept as they were for existing tools and tests (the trader API
//! is `/v1`, see [`crate::rest`]): submit a transaction and read its result, status, an account
//! with its proof, a book; plus `/health`, `/metrics` and, on devnets, `/faucet`. Error bodies
//! are `{"error", "code"}` like the rest of the API.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | POST | `/tx` | hex of a signed transaction → `{"hash"}` or 400 `{"error"}` |
//! | GET | `/tx/{hash}` | `{"status": "pending" / "finalized" / "dropped" / "unknown", ...}` |
//! | GET | `/status` | height, finalized tip, digest, state root, mempool size, peers |
//! | GET | `/account/{address}/{sub}` | the account's state, its committed value, proof check |
//! | GET | `/book/{market}?depth=N` | L2 levels |
//! | GET | `/block/{height}` | digest and state root of a recent finalized block |
//! | GET | `/oracle` | every asset's index and last update, every validator's stake and latest included observation, the observation pool |
//! | GET | `/oracle/{asset}/history?from_height=H&limit=N` | the asset's per-block index points |
//! | GET | `/oracle/{asset}/twap?from_ms=A&to_ms=B` | the time-weighted index over block time |
//! | POST | `/faucet` | `{"address", "sub", "usdc"}` → `{"hash"}` (when the node holds the faucet key) |
//! | GET | `/health`, `/metrics` | liveness; Prometheus text |

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use commonware_cryptography::Signer as _;
use novation_chain::commit::StateDb;
use novation_chain::executor::TxStatus;
use novation_chain::state::{ActionOutcome, TxOutcome};
use novation_chain::tx::{self, SignedTx, TxAction, TxBody};
use novation_engine::MarketId;
use novation_types::Quote;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::convert::{hex, parse_address, unhex};
use crate::{ApiError, ApiState};

type RpcState = ApiState;

/// The legacy routes.
pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/tx", post(submit))
        .route("/tx/{hash}", get(tx_status))
        .route("/account/{address}/{sub}", get(account))
        .route("/book/{market}", get(book))
        .route("/block/{height}", get(block))
        .route("/faucet", post(faucet))
        .route("/oracle", get(oracle))
        .route("/oracle/{asset}/history", get(oracle_history))
        .route("/oracle/{asset}/twap", get(oracle_twap))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let code = match status {
        StatusCode::NOT_FOUND => novation_wire::code::NOT_FOUND,
        StatusCode::SERVICE_UNAVAILABLE => novation_wire::code::UNAVAILABLE,
        _ => novation_wire::code::BAD_REQUEST,
    };
    ApiError::new(status, code, message).into_response()
}

/// `GET /health`: liveness and height.
#[utoipa::path(get, path = "/health", tag = "node",
    responses((status = 200, description = "`{\"ok\": true, \"height\": H}`")))]
pub async fn health(State(s): State<Arc<RpcState>>) -> Response {
    let height = s.cx.node.shared.status.lock().map(|st| st.height).unwrap_or(0);
    Json(json!({ "ok": true, "height": height })).into_response()
}

async fn metrics(State(s): State<Arc<RpcState>>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], (s.cx.metrics)()).into_response()
}

/// The number of connected p2p peers, read from the network tracker's per-peer `connected`
/// gauge (one line per connected peer), restricted to lines carrying `label` (a devnet runs
/// several validators in one registry, told apart by their `index` label).
fn peers_from_metrics(text: &str, label: Option<&str>) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains("tracker_connected{"))
        .filter(|l| label.is_none_or(|f| l.contains(f)))
        .count()
}

async fn status(State(s): State<Arc<RpcState>>) -> Response {
    let st = s.cx.node.shared.status.lock().map(|st| st.clone()).unwrap_or_default();
    let mempool = s.cx.node.mempool.lock().map(|p| p.len()).unwrap_or(0);
    let peers = peers_from_metrics(&(s.cx.metrics)(), s.cx.metrics_label.as_deref());
    Json(json!({
        "height": st.height,
        "finalized_height": st.finalized_tip.max(st.height),
        "digest": st.digest.map(|d| d.to_string()),
        "state_root": st.state_root.map(|d| d.to_string()),
        "time_ms": st.time_ms,
        "txs_last_block": st.txs,
        "mempool": mempool,
        "speculative": st.pending,
        "peers": peers,
        "validators": s.cx.validators,
        "chain_id": s.cx.chain_id.0,
    }))
    .into_response()
}

async fn submit(State(s): State<Arc<RpcState>>, body: String) -> Response {
    let bytes = match unhex(body.trim()) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body must be hex: {e}")),
    };
    match crate::rest::admit(&s, &bytes) {
        Ok(hash) => Json(json!({ "hash": hex(&hash) })).into_response(),
        Err(e) => e.into_response(),
    }
}

fn outcome_json(o: &TxOutcome) -> Value {
    match o {
        TxOutcome::Refused { code, reason } => {
            json!({ "refused": { "code": code, "reason": reason } })
        }
        TxOutcome::Executed { actions } => json!({
            "actions": actions.iter().map(|a| match a {
                ActionOutcome::Done => json!("done"),
                ActionOutcome::OrderPlaced { market, id } => json!({ "order": { "market": market.0, "id": id.0 } }),
                ActionOutcome::Rejected { code, reason } => json!({ "rejected": { "code": code, "reason": reason } }),
            }).collect::<Vec<_>>()
        }),
    }
}

async fn tx_status(State(s): State<Arc<RpcState>>, Path(hash): Path<String>) -> Response {
    let Ok(bytes) = unhex(&hash) else { return error(StatusCode::BAD_REQUEST, "hash must be hex") };
    let Ok(h): Result<[u8; 32], _> = bytes.try_into() else {
        return error(StatusCode::BAD_REQUEST, "a hash has 32 bytes");
    };
    let recorded = s.cx.node.shared.results.lock().ok().and_then(|r| r.get(&h));
    let pending = s.cx.node.mempool.lock().map(|p| p.contains(&h)).unwrap_or(false);
    let v = match recorded {
        Some(TxStatus::Finalized { height, outcome }) => {
            json!({ "status": "finalized", "height": height, "outcome": outcome_json(&outcome) })
        }
        Some(TxStatus::Dropped { reason, code }) => {
            json!({ "status": "dropped", "reason": reason, "code": code })
        }
        Some(TxStatus::Pending) | None if pending => json!({ "status": "pending" }),
        _ => json!({ "status": "unknown" }),
    };
    Json(v).into_response()
}

async fn account(
    State(s): State<Arc<RpcState>>,
    Path((address, sub)): Path<(String, u16)>,
) -> Response {
    let owner = match parse_address(&address) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let Some(p) = s.cx.node.executor.account(owner, sub).await else {
        return error(StatusCode::NOT_FOUND, "no such account");
    };
    let key = novation_chain::commit::account_key(owner, sub);
    let verified = StateDb::<commonware_runtime::tokio::Context>::verify_key_value_proof(
        key,
        p.value.clone(),
        &p.proof,
        &p.root,
    );
    let snap = &p.snapshot;
    let legs = |b: &novation_engine::BucketSnapshot| {
        b.legs
            .iter()
            .map(|l| json!({ "market": l.market.0, "size_lots": l.size, "entry_notional_atoms": l.entry_notional.0.to_string(),
                "open_buy_lots": l.open_buy, "open_sell_lots": l.open_sell }))
            .collect::<Vec<_>>()
    };
    Json(json!({
        "owner": hex(&snap.owner.0),
        "sub": snap.sub,
        "cash_atoms": snap.cross.cash.0.to_string(),
        "legs": legs(&snap.cross),
        "isolated": snap.isolated.iter().map(|(m, b)| json!({ "market": m.0, "cash_atoms": b.cash.0.to_string(), "legs": legs(b) })).collect::<Vec<_>>(),
        "orders": snap.orders.iter().map(|o| json!({ "market": o.market.0, "id": o.id.0, "side": format!("{:?}", o.side),
            "price_ticks": o.price.0, "remaining_lots": o.remaining.0 })).collect::<Vec<_>>(),
        "liquidating": !snap.liquidating.is_empty(),
        "height": p.height,
        "state_root": p.root.to_string(),
        "value": hex(&p.value),
        "proof_verified": verified,
    }))
    .into_response()
}

async fn block(State(s): State<Arc<RpcState>>, Path(height): Path<u64>) -> Response {
    let found =
        s.cx.node
            .shared
            .history
            .lock()
            .ok()
            .and_then(|h| h.iter().find(|(k, _, _)| *k == height).map(|(_, d, r)| (*d, *r)));
    match found {
        Some((digest, root)) => {
            Json(json!({ "height": height, "digest": digest.to_string(), "state_root": root.to_string() }))
                .into_response()
        }
        None => error(StatusCode::NOT_FOUND, "block not finalized here, or too old for the recent history"),
    }
}

#[derive(Debug, Deserialize)]
struct DepthQuery {
    depth: Option<usize>,
}

async fn book(
    State(s): State<Arc<RpcState>>,
    Path(market): Path<u16>,
    Query(q): Query<DepthQuery>,
) -> Response {
    let depth = q.depth.unwrap_or(20).clamp(1, 500);
    let Ok(Some((bids, asks))) = s
        .query(move |st| novation_chain::values::book_levels(&st.engine, MarketId(market), depth))
        .await
    else {
        return error(StatusCode::NOT_FOUND, "no such market");
    };
    let side = |v: Vec<novation_chain::executor::Level>| {
        v.into_iter().map(|(p, q)| json!([p.0, q])).collect::<Vec<_>>()
    };
    let height = s.cx.node.shared.status.lock().map(|st| st.height).unwrap_or(0);
    Json(json!({ "market": market, "height": height, "bids": side(bids), "asks": side(asks) }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct FaucetRequest {
    address: String,
    #[serde(default)]
    sub: u16,
    /// Whole USDC.
    usdc: u64,
}

/// Most USDC one faucet request may credit.
pub const FAUCET_MAX_USDC: u64 = 1_000_000;

async fn faucet(State(s): State<Arc<RpcState>>, Json(req): Json<FaucetRequest>) -> Response {
    let Some(key) = &s.cx.faucet else {
        return error(StatusCode::NOT_FOUND, "this node has no faucet");
    };
    if req.usdc == 0 || req.usdc > FAUCET_MAX_USDC {
        return error(
            StatusCode::BAD_REQUEST,
            format!("usdc must be between 1 and {FAUCET_MAX_USDC}"),
        );
    }
    let to = match parse_address(&req.address) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let now = (s.cx.now_ms)();
    // Nonces are millisecond timestamps; several requests within one millisecond take the next
    // free values.
    let previous = s
        .faucet_nonce
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(last.max(now.saturating_sub(1)) + 1)
        })
        .unwrap_or(now);
    let nonce = previous.max(now.saturating_sub(1)) + 1;
    let body = TxBody {
        chain_id: s.cx.chain_id,
        nonce,
        master: None,
        actions: vec![TxAction::Faucet {
            to,
            sub: req.sub,
            amount: Quote(i128::from(req.usdc) * 1_000_000),
        }],
    };
    let signed = SignedTx::sign(key, body);
    let bytes = novation_chain::node::encode_tx(&signed);
    match s.cx.node.submit(&bytes, now) {
        Ok(hash) => Json(json!({ "hash": hex(&hash), "faucet": hex(&tx::address_of(&tx::PublicKey::Ed25519(key.public_key())).0) })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn price_json(p: novation_oracle::OraclePrice) -> Value {
    json!({ "nano_usd": p.0, "usd": p.to_decimal() })
}

async fn oracle(State(s): State<Arc<RpcState>>) -> Response {
    let symbols = s.cx.assets.clone();
    let view = s
        .cx
        .node
        .executor
        .query(move |st| {
            let o = &st.oracle;
            let assets: Vec<Value> = o
                .assets()
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    json!({
                        "asset": i,
                        "symbol": symbols.get(i),
                        "index": price_json(a.index),
                        "updated_height": a.updated_height,
                        "updated_ms": a.updated_ms,
                        "age_blocks": st.height.saturating_sub(a.updated_height),
                        "converging": a.converging,
                    })
                })
                .collect();
            let validators: Vec<Value> = o
                .validators()
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    json!({
                        "validator": i,
                        "stake": v.stake,
                        "latest": v.latest.as_ref().map(|l| json!({
                            "time_ms": l.time_ms,
                            "prices": l.prices.iter().map(|(a, p)| json!({ "asset": a.0, "price": price_json(*p) })).collect::<Vec<_>>(),
                        })),
                    })
                })
                .collect();
            json!({
                "height": st.height,
                "time_ms": st.time_ms,
                "params": {
                    "quorum_bps": o.params().quorum_bps,
                    "max_age_ms": o.params().max_age_ms,
                    "max_future_ms": o.params().max_future_ms,
                    "deviation_ppm": o.params().deviation_ppm,
                    "rebase_after_blocks": o.params().rebase_after_blocks,
                    "clamp_ppm": o.params().clamp_ppm,
                },
                "total_stake": o.total_stake(),
                "assets": assets,
                "validators": validators,
            })
        })
        .await;
    let Some(mut view) = view else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "node stopping");
    };
    let pool = s.cx.node.observations.lock().map(|p| p.len()).unwrap_or(0);
    view["observation_pool"] = json!(pool);
    Json(view).into_response()
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    from_height: Option<u64>,
    limit: Option<usize>,
}

/// Most history points one request returns.
pub const HISTORY_LIMIT_MAX: usize = 1000;

async fn oracle_history(
    State(s): State<Arc<RpcState>>,
    Path(asset): Path<u16>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let from = q.from_height.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, HISTORY_LIMIT_MAX);
    let points =
        s.cx.node
            .executor
            .query(move |st| st.history.get(usize::from(asset)).map(|h| h.since(from, limit)))
            .await
            .flatten();
    let Some(points) = points else { return error(StatusCode::NOT_FOUND, "no such asset") };
    Json(json!({
        "asset": asset,
        "symbol": s.cx.assets.get(usize::from(asset)),
        "points": points.iter().map(|p| json!({ "height": p.height, "time_ms": p.time_ms, "price": price_json(p.price) })).collect::<Vec<_>>(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct TwapQuery {
    from_ms: u64,
    to_ms: u64,
}

async fn oracle_twap(
    State(s): State<Arc<RpcState>>,
    Path(asset): Path<u16>,
    Query(q): Query<TwapQuery>,
) -> Response {
    let r =
        s.cx.node
            .executor
            .query(move |st| st.history.get(usize::from(asset)).map(|h| h.twap(q.from_ms, q.to_ms)))
            .await
            .flatten();
    match r {
        None => error(StatusCode::NOT_FOUND, "no such asset"),
        Some(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Some(Ok(p)) => Json(json!({ "asset": asset, "from_ms": q.from_ms, "to_ms": q.to_ms, "twap": price_json(p) }))
            .into_response(),
    }
}
