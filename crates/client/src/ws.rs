//! The WebSocket client: subscriptions that survive disconnections.
//!
//! [`WsClient::start`] spawns a task on the current tokio runtime that connects to the node's
//! `/v1/ws`, sends a `subscribe` for every [`Channel`], and forwards every server message as a
//! [`WsEvent::Message`]. It:
//!
//! - sends an application `ping` every [`WsOptions::ping_every`] so the server sees a live
//!   client, and treats a connection that delivered nothing (not even the server's heartbeat)
//!   for [`WsOptions::idle_timeout`] as dead;
//! - reconnects after any failure with exponential backoff from [`WsOptions::backoff_min`] to
//!   [`WsOptions::backoff_max`] (plus up to a quarter of random jitter, so that many clients do
//!   not return at once), then subscribes again to every channel, reporting
//!   [`WsEvent::Disconnected`] and [`WsEvent::Connected`];
//! - checks every book channel's sequence: a delta whose `prev_seq` is not the last `seq` seen
//!   means a missed message, so the client unsubscribes and subscribes again to that book
//!   (the server then sends a fresh snapshot) and reports [`WsEvent::Resync`]. A
//!   [`crate::BookTracker`] fed with the same messages reports the gap and waits for that
//!   snapshot.
//!
//! Events go through a bounded queue of [`WsOptions::buffer`]; a consumer that does not keep up
//! slows the reader, and the server eventually closes the connection (`slow_consumer`), after
//! which the client reconnects and resubscribes.
//!
//! Only `ws://` is spoken; for `wss://` put a TLS-terminating proxy in front of the client or
//! the node (the node itself serves plain HTTP).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use novation_types::Address;
use novation_wire::rest::Interval;
use novation_wire::ws::{ChannelKind, ClientMessage, Op, ServerMessage};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::error::{Error, Result};
use crate::http::address_hex;

/// A subscription.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// L2 book of a market (id or symbol): snapshot, then deltas.
    Book(String),
    /// Trades of a market.
    Trades(String),
    /// Candles of a market at an interval.
    Candles(String, Interval),
    /// Order updates of an account's subaccount.
    Orders(Address, u16),
    /// Fills of an account's subaccount.
    Fills(Address, u16),
    /// Positions of an account's subaccount.
    Positions(Address, u16),
    /// Liquidation events of every market.
    Liquidations,
    /// Finalized blocks.
    Blocks,
}

impl Channel {
    fn message(&self, op: Op) -> ClientMessage {
        let mut m = ClientMessage {
            op,
            channel: None,
            market: None,
            interval: None,
            address: None,
            sub: None,
            id: None,
        };
        let kind = match self {
            Channel::Book(market) | Channel::Trades(market) => {
                m.market = Some(market.clone());
                if matches!(self, Channel::Book(_)) {
                    ChannelKind::Book
                } else {
                    ChannelKind::Trades
                }
            }
            Channel::Candles(market, interval) => {
                m.market = Some(market.clone());
                m.interval = Some(*interval);
                ChannelKind::Candles
            }
            Channel::Orders(a, sub) | Channel::Fills(a, sub) | Channel::Positions(a, sub) => {
                m.address = Some(address_hex(a));
                m.sub = Some(*sub);
                match self {
                    Channel::Orders(..) => ChannelKind::Orders,
                    Channel::Fills(..) => ChannelKind::Fills,
                    _ => ChannelKind::Positions,
                }
            }
            Channel::Liquidations => ChannelKind::Liquidations,
            Channel::Blocks => ChannelKind::Blocks,
        };
        m.channel = Some(kind);
        m
    }
}

/// Timing and buffering of a [`WsClient`].
#[derive(Clone, Copy, Debug)]
pub struct WsOptions {
    /// Interval between application pings.
    pub ping_every: Duration,
    /// A connection silent this long is dropped and replaced.
    pub idle_timeout: Duration,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// First reconnection delay.
    pub backoff_min: Duration,
    /// Longest reconnection delay.
    pub backoff_max: Duration,
    /// Events queued for the consumer.
    pub buffer: usize,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            ping_every: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            buffer: 1024,
        }
    }
}

/// What the client reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsEvent {
    /// Connected, and every subscription was sent again (`attempt`: failures before this one).
    Connected {
        /// Consecutive failed attempts before this connection.
        attempt: u32,
    },
    /// The connection was lost or could not be opened; the next attempt follows after
    /// `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// A book channel skipped a sequence number; the client asked for a fresh snapshot.
    Resync {
        /// The market id.
        market: u16,
        /// The last `seq` seen.
        held: Option<u64>,
        /// The `prev_seq` of the delta that did not follow it.
        prev_seq: u64,
    },
    /// A message from the server (boxed: some are large).
    Message(Box<ServerMessage>),
}

enum Command {
    Subscribe(Channel),
    Unsubscribe(Channel),
    Close,
}

/// A self-healing WebSocket connection (see the module doc).
#[derive(Debug)]
pub struct WsClient {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<WsEvent>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Subscribe(c) => write!(f, "Subscribe({c:?})"),
            Command::Unsubscribe(c) => write!(f, "Unsubscribe({c:?})"),
            Command::Close => f.write_str("Close"),
        }
    }
}

impl WsClient {
    /// Starts the client on the current tokio runtime (`url`: `ws://host:port/v1/ws`).
    pub fn start(url: &str, channels: Vec<Channel>, options: WsOptions) -> WsClient {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::channel(options.buffer.max(1));
        let task = Task {
            url: url.to_string(),
            options,
            channels: channels.into_iter().collect(),
            commands: command_rx,
            events: event_tx,
            books: BTreeMap::new(),
        };
        tokio::spawn(task.run());
        WsClient { commands, events }
    }

    /// The next event; `None` once the client stopped.
    pub async fn next(&mut self) -> Option<WsEvent> {
        self.events.recv().await
    }

    /// Adds a subscription (kept across reconnections).
    pub fn subscribe(&self, channel: Channel) -> Result<()> {
        self.commands.send(Command::Subscribe(channel)).map_err(|_| Error::Closed)
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, channel: Channel) -> Result<()> {
        self.commands.send(Command::Unsubscribe(channel)).map_err(|_| Error::Closed)
    }

    /// Closes the connection and stops the task.
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }
}

impl Drop for WsClient {
    fn drop(&mut self) {
        self.close();
    }
}

/// Where a book channel's sequence stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BookSeq {
    At(u64),
    AwaitingSnapshot,
}

/// Why a session ended.
enum End {
    /// Lost; reconnect.
    Lost(String),
    /// Closed by the user (or the client handle dropped).
    Closed,
}

struct Task {
    url: String,
    options: WsOptions,
    channels: std::collections::BTreeSet<Channel>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<WsEvent>,
    books: BTreeMap<u16, BookSeq>,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Task {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            let reason = match timeout(
                self.options.connect_timeout,
                tokio_tungstenite::connect_async(self.url.as_str()),
            )
            .await
            {
                Ok(Ok((socket, _))) => {
                    let attempt = failures;
                    failures = 0;
                    match self.session(socket, attempt).await {
                        End::Closed => return,
                        End::Lost(reason) => reason,
                    }
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no connection within {:?}", self.options.connect_timeout),
            };
            let retry_in = self.backoff(failures);
            failures = failures.saturating_add(1);
            if !self.emit(WsEvent::Disconnected { reason, retry_in }).await {
                return;
            }
            if !self.wait(retry_in).await {
                return;
            }
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let base = self
            .options
            .backoff_min
            .saturating_mul(2u32.saturating_pow(failures.min(16)))
            .min(self.options.backoff_max);
        let jitter_ms = u64::try_from(base.as_millis() / 4).unwrap_or(0);
        base + Duration::from_millis(rand::random_range(0..=jitter_ms))
    }

    /// Sleeps `d` while taking commands; false if the client closed.
    async fn wait(&mut self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return true,
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Close) => return false,
                    Some(Command::Subscribe(c)) => { self.channels.insert(c); }
                    Some(Command::Unsubscribe(c)) => { self.channels.remove(&c); }
                },
            }
        }
    }

    /// Sends an event; false if the consumer is gone.
    async fn emit(&self, e: WsEvent) -> bool {
        self.events.send(e).await.is_ok()
    }

    async fn session(&mut self, mut socket: Socket, attempt: u32) -> End {
        self.books.clear();
        let subscribes: Vec<ClientMessage> =
            self.channels.iter().map(|c| c.message(Op::Subscribe)).collect();
        for m in &subscribes {
            if let Err(e) = send(&mut socket, m).await {
                return End::Lost(e);
            }
        }
        if !self.emit(WsEvent::Connected { attempt }).await {
            return End::Closed;
        }
        let mut ping = tokio::time::interval(self.options.ping_every);
        ping.tick().await;
        let mut last_seen = Instant::now();
        loop {
            let idle_deadline = last_seen + self.options.idle_timeout;
            tokio::select! {
                frame = socket.next() => {
                    last_seen = Instant::now();
                    match frame {
                        None => return End::Lost("the server closed the connection".into()),
                        Some(Err(e)) => return End::Lost(e.to_string()),
                        Some(Ok(Message::Text(text))) => {
                            if let Some(end) = self.on_text(&mut socket, text.as_str()).await {
                                return end;
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let why = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                            return End::Lost(format!("the server closed the connection {why}").trim().to_string());
                        }
                        Some(Ok(_)) => {}
                    }
                }
                _ = ping.tick() => {
                    let m = ClientMessage { op: Op::Ping, channel: None, market: None, interval: None, address: None, sub: None, id: None };
                    if let Err(e) = send(&mut socket, &m).await {
                        return End::Lost(e);
                    }
                }
                _ = tokio::time::sleep_until(idle_deadline) => {
                    return End::Lost(format!("nothing from the server for {:?}", self.options.idle_timeout));
                }
                cmd = self.commands.recv() => {
                    let (op, channel) = match cmd {
                        None | Some(Command::Close) => {
                            let _ = socket.close(None).await;
                            return End::Closed;
                        }
                        Some(Command::Subscribe(c)) => (Op::Subscribe, c),
                        Some(Command::Unsubscribe(c)) => (Op::Unsubscribe, c),
                    };
                    if op == Op::Subscribe {
                        self.channels.insert(channel.clone());
                    } else {
                        self.channels.remove(&channel);
                    }
                    if let Err(e) = send(&mut socket, &channel.message(op)).await {
                        return End::Lost(e);
                    }
                }
            }
        }
    }

    /// Handles one text frame; `Some` ends the session.
    async fn on_text(&mut self, socket: &mut Socket, text: &str) -> Option<End> {
        let Ok(message) = serde_json::from_str::<ServerMessage>(text) else {
            // A message type this SDK does not know yet: skip it (the wire only adds types).
            return None;
        };
        if let Some(resync) = self.check_book(&message) {
            let market = Channel::Book(resync.0.to_string());
            for op in [Op::Unsubscribe, Op::Subscribe] {
                if let Err(e) = send(socket, &market.message(op)).await {
                    return Some(End::Lost(e));
                }
            }
            let event = WsEvent::Resync { market: resync.0, held: resync.1, prev_seq: resync.2 };
            if !self.emit(event).await {
                return Some(End::Closed);
            }
        }
        if !self.emit(WsEvent::Message(Box::new(message))).await {
            return Some(End::Closed);
        }
        None
    }

    /// Tracks book sequences; `Some((market, held, prev_seq))` on a gap.
    fn check_book(&mut self, message: &ServerMessage) -> Option<(u16, Option<u64>, u64)> {
        match message {
            ServerMessage::Snapshot(s) => {
                self.books.insert(s.market, BookSeq::At(s.seq));
                None
            }
            ServerMessage::Delta(d) => match self.books.get(&d.market).copied() {
                Some(BookSeq::At(seq)) if seq == d.prev_seq => {
                    self.books.insert(d.market, BookSeq::At(d.seq));
                    None
                }
                Some(BookSeq::AwaitingSnapshot) => None,
                held => {
                    self.books.insert(d.market, BookSeq::AwaitingSnapshot);
                    let held = match held {
                        Some(BookSeq::At(s)) => Some(s),
                        _ => None,
                    };
                    Some((d.market, held, d.prev_seq))
                }
            },
            _ => None,
        }
    }
}

async fn send(socket: &mut Socket, m: &ClientMessage) -> std::result::Result<(), String> {
    let text = serde_json::to_string(m).map_err(|e| e.to_string())?;
    socket.send(Message::text(text)).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_speak_the_wire_format() {
        let text = |c: Channel| serde_json::to_string(&c.message(Op::Subscribe)).unwrap();
        assert_eq!(
            text(Channel::Book("BTC-PERP".into())),
            r#"{"op":"subscribe","channel":"book","market":"BTC-PERP"}"#
        );
        assert_eq!(
            text(Channel::Fills(Address([0xab; 20]), 2)),
            format!(
                r#"{{"op":"subscribe","channel":"fills","address":"{}","sub":2}}"#,
                "ab".repeat(20)
            )
        );
        assert_eq!(
            text(Channel::Candles("0".into(), Interval::M5)),
            r#"{"op":"subscribe","channel":"candles","market":"0","interval":"5m"}"#
        );
    }
}
