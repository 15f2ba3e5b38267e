//! The node's trader API: REST and WebSocket over axum, described by an OpenAPI document at
//! `/openapi.json`. Wire types live in `novation-wire` (shared with the SDKs).
//!
//! ## Shape
//!
//! - [`store`]: read models (trades, candles, funding, liquidations, blocks, transactions,
//!   order status, fills, the L2 book with sequence numbers), fed synchronously by the node's
//!   finalized-block sink and rebuilt from the node's state when the API starts.
//! - [`rest`]: the `/v1` routes; [`legacy`]: the node's first RPC routes, kept as they were.
//! - [`ws`]: `/v1/ws`, the channels and their protocol.
//! - [`limits`]: request size, per-IP and per-account rate limits.
//! - [`openapi`]: the OpenAPI document.
//! - [`devnet`]: an in-process devnet with the API on ephemeral ports (tests, benchmark).
//!
//! ## Routes
//!
//! Markets are addressed by id (`0`) or symbol (`BTC-PERP`); addresses and hashes are hex.
//!
//! | method | path | answer |
//! |---|---|---|
//! | GET | `/v1/status` | height, digest, root, mempool size, WebSocket connections |
//! | GET | `/v1/markets` | every market: parameters (tick, lot, minimum size, fees, tiers), mark, index, OI, funding |
//! | GET | `/v1/markets/{market}` | one market |
//! | GET | `/v1/markets/{market}/book?depth=N` | L2 book (≤ 100 levels a side) with `seq` and `height` |
//! | GET | `/v1/markets/{market}/trades?limit=N` | recent trades, newest first |
//! | GET | `/v1/markets/{market}/candles?interval=1m&limit=N` | candles 1m 5m 15m 1h 4h 1d, oldest first |
//! | GET | `/v1/markets/{market}/funding?limit=N` | funding history and the current predicted rate |
//! | GET | `/v1/markets/{market}/open-interest` | open interest |
//! | GET | `/v1/markets/{market}/prices` | mark and index |
//! | GET | `/v1/markets/{market}/adl?limit=N` | the auto-deleveraging queue of each side |
//! | GET | `/v1/insurance` | every market's insurance fund |
//! | GET | `/v1/liquidations?market=M&limit=N` | liquidation events, newest first |
//! | GET | `/v1/accounts/{address}/{sub}` | balances, margin per bucket, positions (entry, mark, uPnL, liquidation price, ADL rank) |
//! | GET | `/v1/accounts/{address}/{sub}/orders` | resting orders |
//! | GET | `/v1/accounts/{address}/{sub}/fills?limit=N` | fills, newest first |
//! | GET | `/v1/orders/{market}/{id}` | an order's status |
//! | GET | `/v1/blocks/latest`, `/v1/blocks/{height}` | a recent block and its tx hashes |
//! | GET | `/v1/txs/{hash}` | a transaction: status, actions, outcome |
//! | POST | `/v1/txs?wait=true&timeout_ms=T` | submit a signed tx (hex body or `{"tx": hex}`) → its hash at once, or its result when `wait` |
//! | GET | `/v1/ws` | WebSocket (see [`ws`]) |
//! | GET | `/openapi.json` | this API's OpenAPI 3.1 document |
//! | GET | `/health`, `/metrics`, `/status`, ... | [`legacy`] routes |
//!
//! Errors: `{"error": <reason>, "code": <stable code>}` with 400 (malformed JSON, path or
//! query), 404 (`unknown_market`, `unknown_account`, `unknown_order`, `unknown_block`,
//! `not_found`), 413 (`payload_too_large`), 429 (`rate_limited`, with `Retry-After`), 503
//! (`unavailable`: shutting down, or overloaded). Bad input never yields a 5xx.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod account;
pub mod convert;
pub mod devnet;
pub mod error;
pub mod legacy;
pub mod limits;
pub mod openapi;
pub mod rest;
pub mod store;
pub mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use commonware_cryptography::ed25519;
use novation_chain::node::NodeHandle;
use novation_chain::tx::ChainId;

pub use error::{ApiError, ApiResult};

use crate::convert::MarketMeta;
use crate::limits::{Limits, LimitsConfig};
use crate::store::{MarketStart, Store, StoreConfig};
use crate::ws::{Hub, WsConfig};

/// Everything the API's bounds and timings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// Largest request body, bytes (413 above).
    pub body_max_bytes: usize,
    /// Rate limits.
    pub limits: LimitsConfig,
    /// WebSocket bounds.
    pub ws: WsConfig,
    /// Read-model bounds.
    pub store: StoreConfig,
    /// Longest `POST /v1/txs?wait=true` wait, ms.
    pub submit_wait_max_ms: u64,
    /// Most reads of the node's state in flight at once (503 `unavailable` beyond, after
    /// [`ApiConfig::query_wait_ms`]).
    pub queries_in_flight_max: usize,
    /// How long a request waits for a state read slot, ms.
    pub query_wait_ms: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            body_max_bytes: 64 << 10,
            limits: LimitsConfig::default(),
            ws: WsConfig::default(),
            store: StoreConfig::default(),
            submit_wait_max_ms: 10_000,
            queries_in_flight_max: 64,
            query_wait_ms: 2_000,
        }
    }
}

/// What the API needs of the node it serves (everything but the node handle is for the legacy
/// routes and the status).
pub struct NodeContext {
    /// The node.
    pub node: NodeHandle,
    /// The chain id.
    pub chain_id: ChainId,
    /// The faucet key, if this node holds it (`POST /faucet`).
    pub faucet: Option<ed25519::PrivateKey>,
    /// Prometheus text of the runtime's registry.
    pub metrics: Box<dyn Fn() -> String + Send + Sync>,
    /// Validators configured.
    pub validators: usize,
    /// The metric label that tells this node's metrics apart (devnets), e.g. `index="2"`.
    pub metrics_label: Option<String>,
    /// Clock, ms since the epoch (mempool admission, nonces).
    pub now_ms: Box<dyn Fn() -> u64 + Send + Sync>,
    /// Oracle asset symbols, by asset id.
    pub assets: Vec<String>,
}

impl std::fmt::Debug for NodeContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeContext").field("chain_id", &self.chain_id).finish()
    }
}

/// What the handlers share.
pub struct ApiState {
    /// The node and its context.
    pub cx: NodeContext,
    /// Bounds and timings.
    pub config: ApiConfig,
    /// Whether new transactions are accepted (false during shutdown).
    pub accepting: AtomicBool,
    /// Last faucet nonce used.
    pub faucet_nonce: AtomicU64,
    /// The read models.
    pub store: Arc<Mutex<Store>>,
    /// WebSocket fan-out.
    pub hub: Arc<Hub>,
    /// Rate limiters.
    pub limits: Limits,
    /// The newest height the store applied (wakes `wait=true` submissions).
    pub height: tokio::sync::watch::Receiver<u64>,
    /// Bounds reads of the node's state in flight.
    pub queries: tokio::sync::Semaphore,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("config", &self.config).finish()
    }
}

impl ApiState {
    /// The store, locked (a poisoned lock is taken over: the store has no invariant a panic
    /// elsewhere could break half-way that matters more than serving).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the node's finalized state, within the in-flight bound.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&novation_chain::state::ChainState) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let wait = Duration::from_millis(self.config.query_wait_ms);
        let _permit = match tokio::time::timeout(wait, self.queries.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(ApiError::unavailable("node busy: too many state reads in flight")),
        };
        self.cx.node.executor.query(f).await.ok_or_else(|| ApiError::unavailable("node stopping"))
    }
}

/// Builds the API for a running node: reads the node's finalized state, starts the read
/// models from it and registers them as a block sink, both on the executor's task between two
/// blocks (so no block is missed or applied twice).
pub async fn install(cx: NodeContext, config: ApiConfig) -> Result<Arc<ApiState>, String> {
    let hub = Arc::new(Hub::new(config.ws));
    let (height_tx, height_rx) = tokio::sync::watch::channel(0u64);
    let shared = cx.node.shared.clone();
    let sink_hub = hub.clone();
    let store_cfg = config.store;
    let store = cx
        .node
        .executor
        .query(move |st| {
            let engine = &st.engine;
            let markets = engine
                .markets()
                .iter()
                .map(|m| MarketStart {
                    meta: MarketMeta::of(m),
                    view: Some(novation_chain::published::market_view(engine, m)),
                })
                .collect();
            let store = Arc::new(Mutex::new(Store::new(store_cfg, st.height, st.time_ms, markets)));
            let sink_store = store.clone();
            let sink: novation_chain::published::BlockSink = Arc::new(move |block| {
                let mut s = sink_store.lock().unwrap_or_else(|e| e.into_inner());
                let applied = s.apply(&block);
                sink_hub.publish(applied);
                drop(s);
                let _ = height_tx.send(block.height);
            });
            shared.add_sink(sink).then_some(store)
        })
        .await
        .ok_or("the node stopped")?
        .ok_or("the node feeds its maximum number of block sinks")?;
    Ok(Arc::new(ApiState {
        limits: Limits::new(config.limits),
        cx,
        config,
        accepting: AtomicBool::new(true),
        faucet_nonce: AtomicU64::new(0),
        store,
        hub,
        height: height_rx,
        queries: tokio::sync::Semaphore::new(config.queries_in_flight_max.max(1)),
    }))
}

/// The full router: `/v1`, `/openapi.json`, the legacy routes, limits.
pub fn router(state: Arc<ApiState>) -> Router {
    let body_max = state.config.body_max_bytes;
    Router::new()
        .merge(rest::routes())
        .merge(legacy::routes())
        .route("/v1/ws", axum::routing::get(ws::upgrade))
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .fallback(rest::not_found)
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::per_ip))
        .layer(axum::extract::DefaultBodyLimit::max(body_max))
        .with_state(state)
}

/// How often idle rate-limit keys are forgotten.
pub const LIMITER_SWEEP: Duration = Duration::from_secs(60);

/// Serves `state`'s router on `listener` until the process stops (with the peer address of
/// each connection, for the per-IP limits).
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<ApiState>) -> std::io::Result<()> {
    // Forget idle rate-limit keys now and then (while the API lives).
    let weak = Arc::downgrade(&state);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LIMITER_SWEEP).await;
            let Some(s) = weak.upgrade() else { break };
            s.limits.retain_recent();
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// Stops accepting transactions (shutdown).
pub fn stop_accepting(state: &ApiState) {
    state.accepting.store(false, Ordering::Relaxed);
}
