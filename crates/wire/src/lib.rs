//! The JSON wire types of the novation trader API: every REST request and response body and
//! every WebSocket message, shared by the node (`novation-api`) and the SDKs.
//!
//! Stability: fields and variants are only ever added, never renamed or removed; clients should
//! ignore fields they do not know. Each type derives `utoipa::ToSchema`, and the node's
//! `/openapi.json` is generated from them.
//!
//! - [`rest`]: REST bodies (units and naming conventions in its doc).
//! - [`ws`]: WebSocket protocol.
//! - [`units`]: exact conversions between integer units (ticks, lots, atoms) and decimals.
//! - [`ErrorBody`] and [`code`]: every error reply, REST and WebSocket.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod rest;
pub mod units;
pub mod ws;

/// Every error reply: `{"error": "<human reason>", "code": "<stable machine code>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Human reason (wording may change).
    pub error: String,
    /// Stable machine code, one of [`code`].
    pub code: String,
}

impl ErrorBody {
    /// An error with this code and reason.
    pub fn new(code: &str, error: impl Into<String>) -> Self {
        ErrorBody { error: error.into(), code: code.to_string() }
    }
}

/// The stable error codes.
pub mod code {
    /// A malformed request: bad JSON, bad path or query parameter (400).
    pub const BAD_REQUEST: &str = "bad_request";
    /// No such route or resource (404).
    pub const NOT_FOUND: &str = "not_found";
    /// No market with this id or symbol (404).
    pub const UNKNOWN_MARKET: &str = "unknown_market";
    /// No such account (404).
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    /// No such order known to this node (404).
    pub const UNKNOWN_ORDER: &str = "unknown_order";
    /// Block not finalized yet, or older than this node keeps (404).
    pub const UNKNOWN_BLOCK: &str = "unknown_block";
    /// A transaction that does not decode or whose signature does not verify (400).
    pub const INVALID_TX: &str = "invalid_tx";
    /// The mempool refused the transaction: nonce, duplicate, full, ... (400, or 503 when full).
    pub const TX_REFUSED: &str = "tx_refused";
    /// The body is larger than the node accepts (413).
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// A rate limit was hit; retry after the `Retry-After` seconds (429).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The method is not allowed on this route (405).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The node cannot serve this now (starting, shutting down) (503).
    pub const UNAVAILABLE: &str = "unavailable";
    /// A bug on the node's side (500).
    pub const INTERNAL: &str = "internal";
    /// WebSocket: unknown or malformed channel parameters.
    pub const BAD_CHANNEL: &str = "bad_channel";
    /// WebSocket: this connection holds the most subscriptions allowed.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "too_many_subscriptions";
    /// WebSocket: this address holds the most connections allowed (also 429 on upgrade).
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// WebSocket: the client did not read fast enough; the server closed the connection.
    pub const SLOW_CONSUMER: &str = "slow_consumer";
    /// WebSocket: no message from the client (not even a pong) for too long.
    pub const IDLE: &str = "idle";
}

#[cfg(test)]
mod tests {
    use super::rest::*;
    use super::ws::*;
    use super::*;

    #[test]
    fn error_body_shape() {
        assert_eq!(
            serde_json::to_string(&ErrorBody::new(code::RATE_LIMITED, "slow down")).unwrap(),
            r#"{"error":"slow down","code":"rate_limited"}"#
        );
    }

    #[test]
    fn client_message_shape() {
        let m: ClientMessage = serde_json::from_str(
            r#"{"op":"subscribe","channel":"candles","market":"BTC-PERP","interval":"5m"}"#,
        )
        .unwrap();
        assert_eq!(m.op, Op::Subscribe);
        assert_eq!(m.channel, Some(ChannelKind::Candles));
        assert_eq!(m.interval, Some(Interval::M5));
        let m: ClientMessage =
            serde_json::from_str(r#"{"op":"subscribe","channel":"book","market":1}"#).unwrap();
        assert_eq!(m.market.as_deref(), Some("1"));
        assert_eq!(
            serde_json::to_string(&ClientMessage {
                op: Op::Ping,
                channel: None,
                market: None,
                interval: None,
                address: None,
                sub: None,
                id: Some(7)
            })
            .unwrap(),
            r#"{"op":"ping","id":7}"#
        );
    }

    #[test]
    fn server_message_shape() {
        let delta = ServerMessage::Delta(BookDelta {
            channel: "book:BTC-PERP".into(),
            market: 0,
            seq: 2,
            prev_seq: 1,
            height: 10,
            bids: vec![],
            asks: vec![],
        });
        let text = serde_json::to_string(&delta).unwrap();
        assert_eq!(
            text,
            r#"{"type":"delta","channel":"book:BTC-PERP","market":0,"seq":2,"prev_seq":1,"height":10,"bids":[],"asks":[]}"#
        );
        assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), delta);
        let hb =
            ServerMessage::Heartbeat { channel: HEARTBEAT_CHANNEL.into(), time_ms: 1, height: 2 };
        assert_eq!(
            serde_json::to_string(&hb).unwrap(),
            r#"{"type":"heartbeat","channel":"heartbeat","time_ms":1,"height":2}"#
        );
        assert_eq!(
            channel_key(ChannelKind::Candles, Some("BTC-PERP"), Some(Interval::H4), None),
            "candles:BTC-PERP:4h"
        );
        assert_eq!(channel_key(ChannelKind::Fills, None, None, Some(("ab", 3))), "fills:ab:3");
    }

    #[test]
    fn schemas_build() {
        use utoipa::PartialSchema;
        for schema in [ServerMessage::schema(), ClientMessage::schema(), Account::schema()] {
            let text = serde_json::to_string(&schema).unwrap();
            assert!(text.len() > 10);
        }
    }
}
