//! `/v1/ws`: the WebSocket channels.
//!
//! ## Protocol
//!
//! Text frames, one JSON object each ([`novation_wire::ws`]). The client sends
//! `{"op": "subscribe" | "unsubscribe" | "ping", "channel": ..., <parameters>, "id": n}`:
//!
//! | channel | parameters | messages |
//! |---|---|---|
//! | `book` | `market` | `snapshot` (top 100 levels a side, `seq`), then a `delta` per block that changed the view (`seq`, `prev_seq`) |
//! | `trades` | `market` | `trade` per trade |
//! | `candles` | `market`, `interval` | `candle` (the current one) per block with trades |
//! | `orders` | `address`, `sub` | `order` per change of the account's orders |
//! | `fills` | `address`, `sub` | `fill` per fill of the account |
//! | `positions` | `address`, `sub` | `position` for each position at subscription, then per block that changed it (valued at the then-finalized state) |
//! | `liquidations` | — | `liquidation` per waterfall event |
//! | `blocks` | — | `block` per finalized block |
//!
//! Replies: `subscribed` / `unsubscribed` (with the channel key and the request's `id`),
//! `pong`, or `error` (`code`: `bad_request`, `bad_channel`, `unknown_market`,
//! `too_many_subscriptions`, `rate_limited`). Every [`WsConfig::heartbeat_ms`] the server sends a
//! `heartbeat` message and a WebSocket ping.
//!
//! Book consistency: the snapshot and the deltas come from the same read model. A client keeps
//! the `seq` it holds; a delta whose `prev_seq` is not that `seq` means it missed one (it never
//! happens on a live connection, which is closed rather than allowed to skip): it re-subscribes
//! and gets a fresh snapshot; deltas up to the snapshot's `seq` are not sent after it.
//!
//! ## Bounds and the slow-consumer policy
//!
//! - each connection has an outbound queue of [`WsConfig::outbound_queue_max`] messages; when a
//!   message does not fit, or the connection falls more than [`WsConfig::broadcast_blocks_max`]
//!   blocks behind the fan-out, or one send takes longer than [`WsConfig::send_timeout_ms`],
//!   the server closes it (close code 1008, reason `slow_consumer`). Nothing is buffered beyond
//!   these bounds and the socket's own write buffer ([`WsConfig::write_buffer_max_bytes`]).
//! - a connection that sends nothing (not even the pong to the server's pings) for
//!   [`WsConfig::idle_timeout_ms`] is closed (reason `idle`).
//! - subscriptions per connection, connections per IP and in all, inbound message size and
//!   inbound messages per second are bounded ([`WsConfig`]); an upgrade beyond the connection
//!   bounds is answered 429 `too_many_connections`.
//!
//! ## Fan-out
//!
//! The block sink serializes each block's pushes once (only when someone is connected) and
//! hands them to a bounded broadcast ring; each connection filters them by its subscriptions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::{SinkExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota};
use novation_wire::code;
use novation_wire::rest::Position;
use novation_wire::ws::{
    channel_key, ChannelKind, ClientMessage, Op, ServerMessage, HEARTBEAT_CHANNEL,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use crate::convert::{hex, parse_address};
use crate::limits::PeerIp;
use crate::store::{AccountKey, Applied, Topic};
use crate::{ApiError, ApiState};

/// WebSocket bounds and timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// Messages queued for one connection before it is closed as a slow consumer.
    pub outbound_queue_max: usize,
    /// Blocks of pushes the fan-out ring holds; a connection further behind is closed.
    pub broadcast_blocks_max: usize,
    /// Subscriptions per connection.
    pub subscriptions_max: usize,
    /// Connections in all.
    pub connections_max: usize,
    /// Connections per IP address.
    pub connections_per_ip_max: usize,
    /// Time between heartbeats (and pings).
    pub heartbeat_ms: u64,
    /// A connection silent for this long is closed.
    pub idle_timeout_ms: u64,
    /// Longest time one message may take to send.
    pub send_timeout_ms: u64,
    /// Largest inbound message, bytes.
    pub inbound_message_max_bytes: usize,
    /// Inbound messages per second per connection (bursts of twice that).
    pub inbound_per_s: u32,
    /// Most bytes the socket's write buffer may hold.
    pub write_buffer_max_bytes: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            outbound_queue_max: 1_024,
            broadcast_blocks_max: 256,
            subscriptions_max: 64,
            connections_max: 10_000,
            connections_per_ip_max: 64,
            heartbeat_ms: 10_000,
            idle_timeout_ms: 30_000,
            send_timeout_ms: 5_000,
            inbound_message_max_bytes: 16 << 10,
            inbound_per_s: 50,
            write_buffer_max_bytes: 1 << 20,
        }
    }
}

/// Read buffer of each connection (inbound messages are small requests).
pub const READ_BUFFER_BYTES: usize = 8 << 10;

/// One serialized push.
#[derive(Debug)]
pub struct Frame {
    /// Its subscribers.
    pub topic: Topic,
    /// The book sequence number of a delta.
    pub seq: Option<u64>,
    /// The JSON text.
    pub text: Utf8Bytes,
}

/// One block's pushes.
#[derive(Debug)]
pub struct BlockFrames {
    /// The block's height.
    pub height: u64,
    /// Its messages.
    pub frames: Vec<Frame>,
    /// Positions it may have changed.
    pub positions: BTreeSet<(AccountKey, Option<u16>)>,
}

/// The fan-out and the connection counts.
#[derive(Debug)]
pub struct Hub {
    cfg: WsConfig,
    tx: broadcast::Sender<Arc<BlockFrames>>,
    connections: AtomicUsize,
    per_ip: Mutex<BTreeMap<IpAddr, usize>>,
}

/// Holds a connection's place in the counts.
#[derive(Debug)]
pub struct ConnGuard {
    hub: Arc<Hub>,
    ip: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.hub.connections.fetch_sub(1, Ordering::Relaxed);
        let mut per_ip = self.hub.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

fn text(m: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(m).unwrap_or_default())
}

impl Hub {
    /// A hub with these bounds.
    pub fn new(cfg: WsConfig) -> Self {
        let (tx, _) = broadcast::channel(cfg.broadcast_blocks_max.max(1));
        Hub { cfg, tx, connections: AtomicUsize::new(0), per_ip: Mutex::new(BTreeMap::new()) }
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Hands a block's pushes to every connection (serialized once; skipped with no
    /// connection).
    pub fn publish(&self, applied: Applied) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let frames = applied
            .pushes
            .iter()
            .map(|p| Frame { topic: p.topic, seq: p.seq, text: text(&p.message) })
            .collect();
        let _ = self.tx.send(Arc::new(BlockFrames {
            height: applied.height,
            frames,
            positions: applied.positions,
        }));
    }

    /// Takes a connection slot for `ip`, or `None` when a bound is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_ip.get(&ip).copied().unwrap_or(0);
        if n >= self.cfg.connections_per_ip_max || self.connections() >= self.cfg.connections_max {
            return None;
        }
        per_ip.insert(ip, n + 1);
        self.connections.fetch_add(1, Ordering::Relaxed);
        Some(ConnGuard { hub: self.clone(), ip })
    }
}

/// `GET /v1/ws`: upgrades to a WebSocket within the connection bounds.
#[utoipa::path(get, path = "/v1/ws", tag = "websocket",
    description = "WebSocket upgrade. Client messages: ClientMessage; server messages: ServerMessage (see the components).",
    responses((status = 101, description = "switching protocols"),
        (status = 400, body = novation_wire::ErrorBody),
        (status = 429, body = novation_wire::ErrorBody)))]
pub async fn upgrade(
    State(s): State<Arc<ApiState>>,
    Extension(PeerIp(ip)): Extension<PeerIp>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(r) => {
            let status =
                if r.status().is_client_error() { r.status() } else { StatusCode::BAD_REQUEST };
            return ApiError::new(status, code::BAD_REQUEST, r.body_text()).into_response();
        }
    };
    let Some(guard) = s.hub.admit(ip) else {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::TOO_MANY_CONNECTIONS,
            "too many WebSocket connections from this address (or in all)",
        )
        .into_response();
    };
    let cfg = s.config.ws;
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(cfg.inbound_message_max_bytes)
        .max_frame_size(cfg.inbound_message_max_bytes)
        .write_buffer_size(0)
        .max_write_buffer_size(cfg.write_buffer_max_bytes)
        .on_upgrade(move |socket| run(s, socket, guard))
}

/// Why a connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The client left (or the socket failed).
    Gone,
    /// The client did not keep up.
    Slow,
    /// The client said nothing for too long.
    Idle,
}

#[derive(Debug)]
struct Sub {
    /// For a book: the `seq` of the snapshot sent (deltas up to it are skipped).
    snapshot_seq: Option<u64>,
}

struct Conn {
    s: Arc<ApiState>,
    out: mpsc::Sender<Message>,
    subs: BTreeMap<Topic, Sub>,
    inbound: DefaultDirectRateLimiter,
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Message>,
    mut close: oneshot::Receiver<CloseFrame>,
    send_timeout: Duration,
) {
    let farewell = |sink: futures::stream::SplitSink<WebSocket, Message>, frame| async move {
        let mut sink = sink;
        let _ =
            tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame))))
                .await;
    };
    loop {
        let m = tokio::select! {
            biased;
            c = &mut close => {
                if let Ok(frame) = c {
                    farewell(sink, frame).await;
                }
                return;
            }
            m = rx.recv() => m,
        };
        let Some(m) = m else { return };
        tokio::select! {
            r = tokio::time::timeout(send_timeout, sink.send(m)) => {
                if !matches!(r, Ok(Ok(()))) {
                    return;
                }
            }
            c = &mut close => {
                if let Ok(frame) = c {
                    farewell(sink, frame).await;
                }
                return;
            }
        }
    }
}

async fn run(s: Arc<ApiState>, socket: WebSocket, guard: ConnGuard) {
    let cfg = s.config.ws;
    let (sink, mut stream) = socket.split();
    let (out, out_rx) = mpsc::channel(cfg.outbound_queue_max.max(1));
    let (close_tx, close_rx) = oneshot::channel();
    let mut writer = tokio::spawn(write_loop(
        sink,
        out_rx,
        close_rx,
        Duration::from_millis(cfg.send_timeout_ms),
    ));
    let per_s = NonZeroU32::new(cfg.inbound_per_s).unwrap_or(NonZeroU32::MIN);
    let burst = per_s.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
    let mut conn = Conn {
        s: s.clone(),
        out,
        subs: BTreeMap::new(),
        inbound: DefaultDirectRateLimiter::direct(Quota::per_second(per_s).allow_burst(burst)),
    };
    let mut blocks = s.hub.tx.subscribe();
    let heartbeat = Duration::from_millis(cfg.heartbeat_ms.max(1));
    let mut beat = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    let idle = Duration::from_millis(cfg.idle_timeout_ms);
    let mut last_in = Instant::now();
    let mut writer_done = false;
    let end = loop {
        let step = tokio::select! {
            m = stream.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    last_in = Instant::now();
                    conn.client(&t).await
                }
                Some(Ok(Message::Binary(_))) => {
                    last_in = Instant::now();
                    conn.error(None, None, code::BAD_REQUEST, "binary frames are not supported")
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    last_in = Instant::now();
                    Ok(())
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Err(End::Gone),
            },
            b = blocks.recv() => match b {
                Ok(b) => conn.dispatch(&b).await,
                Err(broadcast::error::RecvError::Lagged(_)) => Err(End::Slow),
                Err(broadcast::error::RecvError::Closed) => Err(End::Gone),
            },
            _ = beat.tick() => {
                if last_in.elapsed() > idle {
                    Err(End::Idle)
                } else {
                    conn.heartbeat()
                }
            }
            _ = &mut writer, if !writer_done => {
                writer_done = true;
                Err(End::Gone)
            }
        };
        if let Err(end) = step {
            break end;
        }
    };
    let reason = match end {
        End::Gone => None,
        End::Slow => Some(code::SLOW_CONSUMER),
        End::Idle => Some(code::IDLE),
    };
    if let Some(reason) = reason {
        tracing::debug!(reason, subscriptions = conn.subs.len(), "closing a WebSocket");
        let _ = close_tx.send(CloseFrame { code: 1008, reason: Utf8Bytes::from_static(reason) });
    }
    drop(conn);
    drop(stream);
    if !writer_done && tokio::time::timeout(Duration::from_secs(2), &mut writer).await.is_err() {
        writer.abort();
    }
    drop(guard);
}

impl Conn {
    fn send(&self, m: Message) -> Result<(), End> {
        self.out.try_send(m).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => End::Slow,
            mpsc::error::TrySendError::Closed(_) => End::Gone,
        })
    }

    fn send_msg(&self, m: &ServerMessage) -> Result<(), End> {
        self.send(Message::Text(text(m)))
    }

    fn error(
        &self,
        channel: Option<String>,
        id: Option<u64>,
        code: &str,
        error: impl Into<String>,
    ) -> Result<(), End> {
        self.send_msg(&ServerMessage::Error { channel, id, error: error.into(), code: code.into() })
    }

    fn heartbeat(&self) -> Result<(), End> {
        let height = *self.s.height.borrow();
        let time_ms = (self.s.cx.now_ms)();
        self.send_msg(&ServerMessage::Heartbeat {
            channel: HEARTBEAT_CHANNEL.into(),
            time_ms,
            height,
        })?;
        self.send(Message::Ping(axum::body::Bytes::from_static(b"hb")))
    }

    /// The topic and channel key a subscription message names.
    fn resolve(&self, m: &ClientMessage) -> Result<(Topic, String), (&'static str, String)> {
        let kind = m.channel.ok_or((code::BAD_CHANNEL, "channel missing".to_string()))?;
        let market = || {
            let name =
                m.market.as_deref().ok_or((code::BAD_CHANNEL, "market missing".to_string()))?;
            let store = self.s.store();
            let id = store.resolve_market(name).ok_or_else(|| {
                (
                    code::UNKNOWN_MARKET,
                    format!(
                        "no market with id or symbol {:?}",
                        name.chars().take(32).collect::<String>()
                    ),
                )
            })?;
            let symbol = store.meta(id).map(|m| m.symbol.clone()).unwrap_or_default();
            Ok::<_, (&'static str, String)>((id, symbol))
        };
        let account = || {
            let a =
                m.address.as_deref().ok_or((code::BAD_CHANNEL, "address missing".to_string()))?;
            let owner =
                parse_address(a).map_err(|e| (code::BAD_CHANNEL, format!("address: {e}")))?;
            Ok::<_, (&'static str, String)>((owner, m.sub.unwrap_or(0)))
        };
        let acct_key = |k: AccountKey| channel_key(kind, None, None, Some((&hex(&k.0 .0), k.1)));
        Ok(match kind {
            ChannelKind::Book => {
                let (id, sym) = market()?;
                (Topic::Book(id), channel_key(kind, Some(&sym), None, None))
            }
            ChannelKind::Trades => {
                let (id, sym) = market()?;
                (Topic::Trades(id), channel_key(kind, Some(&sym), None, None))
            }
            ChannelKind::Candles => {
                let (id, sym) = market()?;
                let i = m.interval.ok_or((code::BAD_CHANNEL, "interval missing".to_string()))?;
                (Topic::Candles(id, i), channel_key(kind, Some(&sym), Some(i), None))
            }
            ChannelKind::Orders => {
                let k = account()?;
                (Topic::Orders(k), acct_key(k))
            }
            ChannelKind::Fills => {
                let k = account()?;
                (Topic::Fills(k), acct_key(k))
            }
            ChannelKind::Positions => {
                let k = account()?;
                (Topic::Positions(k), acct_key(k))
            }
            ChannelKind::Liquidations => (Topic::Liquidations, kind.as_str().to_string()),
            ChannelKind::Blocks => (Topic::Blocks, kind.as_str().to_string()),
        })
    }

    async fn client(&mut self, raw: &str) -> Result<(), End> {
        if self.inbound.check().is_err() {
            return self.error(
                None,
                None,
                code::RATE_LIMITED,
                "too many messages on this connection",
            );
        }
        let m: ClientMessage = match serde_json::from_str(raw) {
            Ok(m) => m,
            Err(e) => {
                return self.error(None, None, code::BAD_REQUEST, format!("malformed message: {e}"))
            }
        };
        if m.op == Op::Ping {
            let time_ms = (self.s.cx.now_ms)();
            return self.send_msg(&ServerMessage::Pong {
                channel: HEARTBEAT_CHANNEL.into(),
                id: m.id,
                time_ms,
            });
        }
        let (topic, key) = match self.resolve(&m) {
            Ok(r) => r,
            Err((code, e)) => return self.error(None, m.id, code, e),
        };
        if m.op == Op::Unsubscribe {
            self.subs.remove(&topic);
            return self.send_msg(&ServerMessage::Unsubscribed { channel: key, id: m.id });
        }
        if !self.subs.contains_key(&topic) && self.subs.len() >= self.s.config.ws.subscriptions_max
        {
            return self.error(
                Some(key),
                m.id,
                code::TOO_MANY_SUBSCRIPTIONS,
                "too many subscriptions on this connection",
            );
        }
        match topic {
            Topic::Book(id) => {
                let snapshot = self.s.store().book_snapshot(id);
                let Some(snapshot) = snapshot else {
                    return self.error(Some(key), m.id, code::UNKNOWN_MARKET, "no such market");
                };
                let seq = match &snapshot {
                    ServerMessage::Snapshot(b) => b.seq,
                    _ => 0,
                };
                self.subs.insert(topic, Sub { snapshot_seq: Some(seq) });
                self.send_msg(&ServerMessage::Subscribed { channel: key, id: m.id })?;
                self.send_msg(&snapshot)
            }
            Topic::Positions(k) => {
                self.subs.insert(topic, Sub { snapshot_seq: None });
                self.send_msg(&ServerMessage::Subscribed { channel: key.clone(), id: m.id })?;
                let positions = self.positions(k, None).await;
                for p in positions {
                    self.send_msg(&ServerMessage::Position { channel: key.clone(), data: p })?;
                }
                Ok(())
            }
            _ => {
                self.subs.insert(topic, Sub { snapshot_seq: None });
                self.send_msg(&ServerMessage::Subscribed { channel: key, id: m.id })
            }
        }
    }

    /// Positions of an account: in `markets`, or every open one for `None`.
    async fn positions(&self, k: AccountKey, markets: Option<BTreeSet<u16>>) -> Vec<Position> {
        let r = self
            .s
            .query(move |st| match markets {
                None => {
                    crate::account::account(st, k.0, k.1).map(|a| a.positions).unwrap_or_default()
                }
                Some(ms) => ms
                    .into_iter()
                    .filter_map(|m| crate::account::position_in(st, k.0, k.1, m))
                    .collect(),
            })
            .await;
        r.unwrap_or_default()
    }

    async fn dispatch(&mut self, b: &BlockFrames) -> Result<(), End> {
        for f in &b.frames {
            let Some(sub) = self.subs.get(&f.topic) else { continue };
            if let (Some(seq), Some(snap)) = (f.seq, sub.snapshot_seq) {
                if seq <= snap {
                    continue;
                }
            }
            self.send(Message::Text(f.text.clone()))?;
        }
        // Positions: by account, every market named (None: all of them).
        let mut wanted: BTreeMap<AccountKey, Option<BTreeSet<u16>>> = BTreeMap::new();
        for (k, m) in &b.positions {
            if !self.subs.contains_key(&Topic::Positions(*k)) {
                continue;
            }
            let entry = wanted.entry(*k).or_insert_with(|| Some(BTreeSet::new()));
            match (entry.as_mut(), m) {
                (Some(set), Some(m)) => {
                    set.insert(*m);
                }
                _ => *entry = None,
            }
        }
        for (k, markets) in wanted {
            let key = channel_key(ChannelKind::Positions, None, None, Some((&hex(&k.0 .0), k.1)));
            for p in self.positions(k, markets).await {
                self.send_msg(&ServerMessage::Position { channel: key.clone(), data: p })?;
            }
        }
        Ok(())
    }
}
