//! The WebSocket client against a scripted server on loopback: it subscribes, detects a book
//! gap and resubscribes for a fresh snapshot, reconnects and resubscribes after the server
//! drops it, pings, and replaces a connection that went silent.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use novation_client::wire::rest::BookLevel;
use novation_client::wire::ws::{BookDelta, BookSnapshot, ClientMessage, Op, ServerMessage};
use novation_client::ws::{Channel, WsClient, WsEvent, WsOptions};
use novation_client::{BookTracker, BookUpdate};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<TcpStream>;

fn level(price: u64, qty: u64) -> BookLevel {
    BookLevel { price_ticks: price, qty_lots: qty, price: price.to_string(), qty: qty.to_string() }
}

fn snapshot(seq: u64, bid: (u64, u64)) -> ServerMessage {
    ServerMessage::Snapshot(BookSnapshot {
        channel: "book:BTC-PERP".into(),
        market: 0,
        seq,
        height: seq,
        bids: vec![level(bid.0, bid.1)],
        asks: vec![],
    })
}

fn delta(prev_seq: u64, seq: u64, ask: (u64, u64)) -> ServerMessage {
    ServerMessage::Delta(BookDelta {
        channel: "book:BTC-PERP".into(),
        market: 0,
        seq,
        prev_seq,
        height: seq,
        bids: vec![],
        asks: vec![level(ask.0, ask.1)],
    })
}

async fn send(ws: &mut Ws, m: &ServerMessage) {
    let text = serde_json::to_string(m).expect("json");
    ws.send(Message::text(text)).await.expect("send");
}

/// The next client message that is not a ping.
async fn expect(ws: &mut Ws) -> ClientMessage {
    loop {
        let frame = ws.next().await.expect("open").expect("frame");
        if let Message::Text(t) = frame {
            let m: ClientMessage = serde_json::from_str(t.as_str()).expect("client json");
            if m.op != Op::Ping {
                return m;
            }
        }
    }
}

async fn accept(listener: &TcpListener) -> Ws {
    let (tcp, _) = listener.accept().await.expect("accept");
    tokio_tungstenite::accept_async(tcp).await.expect("handshake")
}

#[tokio::test]
async fn gaps_disconnects_and_silence_are_recovered() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/v1/ws", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        // 1: a snapshot, a delta, then a delta that skips seq 3 → the client resubscribes.
        let mut ws = accept(&listener).await;
        let sub = expect(&mut ws).await;
        assert_eq!((sub.op, sub.market.as_deref()), (Op::Subscribe, Some("BTC-PERP")));
        send(&mut ws, &snapshot(1, (100, 5))).await;
        send(&mut ws, &delta(1, 2, (101, 1))).await;
        send(&mut ws, &delta(3, 4, (102, 1))).await;
        let unsub = expect(&mut ws).await;
        let resub = expect(&mut ws).await;
        assert_eq!((unsub.op, resub.op), (Op::Unsubscribe, Op::Subscribe));
        assert_eq!(resub.market.as_deref(), Some("0"));
        send(&mut ws, &snapshot(4, (99, 1))).await;
        drop(ws); // 2: the server drops the connection; the client comes back and resubscribes.
        let mut ws = accept(&listener).await;
        assert_eq!(expect(&mut ws).await.op, Op::Subscribe);
        send(&mut ws, &snapshot(10, (98, 2))).await;
        // 3: silence; the client pings, then gives up on the connection and reconnects.
        let mut pinged = false;
        let silent = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(frame)) = ws.next().await {
                if let Message::Text(t) = frame {
                    pinged |= t.as_str().contains(r#""op":"ping""#);
                }
            }
        });
        let _ = silent.await;
        assert!(pinged, "the client pings");
        let mut ws = accept(&listener).await;
        assert_eq!(expect(&mut ws).await.op, Op::Subscribe);
        send(&mut ws, &snapshot(20, (97, 3))).await;
        // Keep it open until the client closes.
        while let Some(Ok(_)) = ws.next().await {}
    });

    let options = WsOptions {
        ping_every: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(600),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..WsOptions::default()
    };
    let mut client = WsClient::start(&url, vec![Channel::Book("BTC-PERP".into())], options);
    let mut tracker = BookTracker::new(0);
    let mut log = Vec::new();
    let mut gaps = 0;
    let run = async {
        while let Some(e) = client.next().await {
            match &e {
                WsEvent::Message(m) => {
                    if let BookUpdate::Gap { .. } = tracker.apply(m) {
                        gaps += 1;
                    }
                    if let ServerMessage::Snapshot(s) = m.as_ref() {
                        log.push(format!("snapshot {}", s.seq));
                        if s.seq == 20 {
                            break;
                        }
                    }
                }
                WsEvent::Connected { .. } => log.push("connected".into()),
                WsEvent::Disconnected { reason, .. } => {
                    log.push(if reason.contains("nothing from the server") {
                        "silent".into()
                    } else {
                        "disconnected".into()
                    });
                }
                WsEvent::Resync { held, prev_seq, .. } => {
                    log.push(format!("resync {held:?} {prev_seq}"));
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), run).await.expect("in time");
    assert_eq!(
        log,
        [
            "connected",
            "snapshot 1",
            "resync Some(2) 3",
            "snapshot 4",
            "disconnected",
            "connected",
            "snapshot 10",
            "silent",
            "connected",
            "snapshot 20"
        ]
    );
    assert_eq!(gaps, 1, "the tracker saw the gap too");
    assert_eq!(tracker.seq(), Some(20));
    assert_eq!(tracker.best_bid().map(|l| (l.price_ticks, l.qty_lots)), Some((97, 3)));
    client.close();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server ends")
        .expect("server");
}
