//! WebSocket messages (`/v1/ws`). Text frames, one JSON object each.
//!
//! Client → server: [`ClientMessage`] (`op` = `subscribe` / `unsubscribe` / `ping`, with the
//! channel's parameters as flat fields). Server → client: [`ServerMessage`], tagged by `type`,
//! each carrying the `channel` key it belongs to (see [`channel_key`]).
//!
//! ```text
//! → {"op":"subscribe","channel":"book","market":"BTC-PERP"}
//! ← {"type":"subscribed","channel":"book:BTC-PERP"}
//! ← {"type":"snapshot","channel":"book:BTC-PERP","market":0,"seq":41,"height":120,"bids":[...],"asks":[...]}
//! ← {"type":"delta","channel":"book:BTC-PERP","market":0,"seq":42,"prev_seq":41,"height":121,"bids":[{"price_ticks":650120,"qty_lots":0,...}],"asks":[]}
//! ← {"type":"heartbeat","channel":"heartbeat","time_ms":1767225600000,"height":121}
//! ```
//!
//! Book: a delta with `prev_seq` different from the last `seq` the client holds means it missed
//! one; it re-subscribes (a fresh snapshot follows).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rest::{Block, BookLevel, Candle, Fill, Interval, Liquidation, Order, Position, Trade};

/// What a client asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Start a channel.
    Subscribe,
    /// Stop a channel.
    Unsubscribe,
    /// Ask for a `pong`.
    Ping,
}

/// The channels.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// L2 book of `market`: snapshot, then deltas.
    Book,
    /// Trades of `market`.
    Trades,
    /// Candles of `market` at `interval`, on every change.
    Candles,
    /// Order updates of (`address`, `sub`).
    Orders,
    /// Fills of (`address`, `sub`).
    Fills,
    /// Positions of (`address`, `sub`), after each block that changed them.
    Positions,
    /// Liquidation events of every market.
    Liquidations,
    /// Finalized blocks.
    Blocks,
}

impl ChannelKind {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Book => "book",
            ChannelKind::Trades => "trades",
            ChannelKind::Candles => "candles",
            ChannelKind::Orders => "orders",
            ChannelKind::Fills => "fills",
            ChannelKind::Positions => "positions",
            ChannelKind::Liquidations => "liquidations",
            ChannelKind::Blocks => "blocks",
        }
    }
}

/// The channel key the server uses in every message: `book:BTC-PERP`, `trades:BTC-PERP`,
/// `candles:BTC-PERP:1m`, `orders:<address>:<sub>`, `fills:<address>:<sub>`,
/// `positions:<address>:<sub>`, `liquidations`, `blocks`.
pub fn channel_key(
    kind: ChannelKind,
    symbol: Option<&str>,
    interval: Option<Interval>,
    account: Option<(&str, u16)>,
) -> String {
    let mut key = kind.as_str().to_string();
    if let Some(s) = symbol {
        key.push(':');
        key.push_str(s);
    }
    if let Some(i) = interval {
        key.push(':');
        key.push_str(i.as_str());
    }
    if let Some((a, sub)) = account {
        key.push_str(&format!(":{a}:{sub}"));
    }
    key
}

/// A client message: `{"op":"subscribe","channel":"book","market":"BTC-PERP"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClientMessage {
    /// What to do.
    pub op: Op,
    /// The channel (subscribe, unsubscribe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelKind>,
    /// Market id or symbol (book, trades, candles); a JSON number is taken as the id.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    pub market: Option<String>,
    /// Candle interval (candles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// Account address, hex (orders, fills, positions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Subaccount (orders, fills, positions; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<u16>,
    /// Echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// Reads a JSON string or a non-negative integer as text.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::Text(s) => s,
        Either::Number(n) => n.to_string(),
    }))
}

/// A full L2 book (levels per side bounded by the server, 100).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BookSnapshot {
    /// `book:<symbol>`.
    pub channel: String,
    /// Market id.
    pub market: u16,
    /// Sequence number of this state of the book.
    pub seq: u64,
    /// Height after which the book is shown.
    pub height: u64,
    /// Bids, best first.
    pub bids: Vec<BookLevel>,
    /// Asks, best first.
    pub asks: Vec<BookLevel>,
}

/// The change of the L2 book from `prev_seq` to `seq`: each level replaces the one at its price;
/// `qty_lots = 0` removes it. Applying it to the book at `prev_seq` gives the book at `seq`
/// exactly (levels per side stay within the bound).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BookDelta {
    /// `book:<symbol>`.
    pub channel: String,
    /// Market id.
    pub market: u16,
    /// Sequence number after this delta.
    pub seq: u64,
    /// Sequence number it applies to (the previous delta's `seq`).
    pub prev_seq: u64,
    /// Height of the block that made the change.
    pub height: u64,
    /// Changed bids.
    pub bids: Vec<BookLevel>,
    /// Changed asks.
    pub asks: Vec<BookLevel>,
}

/// A message from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// A subscription started (a book snapshot follows for `book`).
    Subscribed {
        /// The channel key.
        channel: String,
        /// The request's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// A subscription stopped.
    Unsubscribed {
        /// The channel key.
        channel: String,
        /// The request's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// A book snapshot.
    Snapshot(BookSnapshot),
    /// A book delta.
    Delta(BookDelta),
    /// A trade.
    Trade {
        /// `trades:<symbol>`.
        channel: String,
        /// The trade.
        data: Trade,
    },
    /// A candle, on every change.
    Candle {
        /// `candles:<symbol>:<interval>`.
        channel: String,
        /// The candle.
        data: Candle,
    },
    /// An order changed.
    Order {
        /// `orders:<address>:<sub>`.
        channel: String,
        /// The order as it now stands.
        data: Order,
    },
    /// An account's fill.
    Fill {
        /// `fills:<address>:<sub>`.
        channel: String,
        /// The fill.
        data: Fill,
    },
    /// A position after a block that changed it (`size_lots = 0`: closed).
    Position {
        /// `positions:<address>:<sub>`.
        channel: String,
        /// The position.
        data: Position,
    },
    /// A liquidation event.
    Liquidation {
        /// `liquidations`.
        channel: String,
        /// The event.
        data: Liquidation,
    },
    /// A finalized block.
    Block {
        /// `blocks`.
        channel: String,
        /// The block.
        data: Block,
    },
    /// Sent every few seconds on every connection.
    Heartbeat {
        /// `heartbeat`.
        channel: String,
        /// Server time.
        time_ms: u64,
        /// Latest finalized height.
        height: u64,
    },
    /// Reply to `ping`.
    Pong {
        /// `heartbeat`.
        channel: String,
        /// The ping's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// Server time.
        time_ms: u64,
    },
    /// A request failed, or the server is closing the connection (then a close frame follows).
    Error {
        /// The channel concerned, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        /// The request's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// Human reason.
        error: String,
        /// Stable machine code (see [`crate::code`]).
        code: String,
    },
}

/// The channel name of heartbeats and pongs.
pub const HEARTBEAT_CHANNEL: &str = "heartbeat";
