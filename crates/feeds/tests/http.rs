//! `HttpSource::fetch` against a local server (127.0.0.1 only) that serves the recorded responses
//! in `crates/oracle/tests/fixtures` at each exchange's real path.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use novation_feeds::{FetchError, HttpSource, Rejection};
use novation_oracle::source::{Exchange, JsonFault, ParseError, PriceError, BODY_LEN_MAX};
use reqwest::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../oracle/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `path_and_query` → (status, body).
type Routes = BTreeMap<String, (u16, Vec<u8>)>;

async fn serve(routes: Routes) -> String {
    async fn answer(State(routes): State<Arc<Routes>>, uri: Uri) -> Response {
        let key = uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
        let (status, body) = routes.get(&key).cloned().unwrap_or((404, b"no such route".to_vec()));
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(answer).with_state(Arc::new(routes));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A raw server that accepts connections and, per connection, writes `reply` (if any) and then
/// holds the socket open until the test ends.
async fn raw_server(reply: Option<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..8 {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            read_request_head(&mut socket).await;
            if let Some(reply) = &reply {
                let _ = socket.write_all(reply).await;
                let _ = socket.shutdown().await;
            }
            held.push(socket);
        }
    });
    addr
}

/// Reads until the end of the request head (a GET has no body), at most 16 KiB.
async fn read_request_head(socket: &mut tokio::net::TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn client() -> Client {
    novation_feeds::client_builder().no_proxy().build().unwrap()
}

fn source(exchange: Exchange, symbol: &str, base_url: &str) -> HttpSource {
    HttpSource { exchange, symbol: symbol.into(), base_url: base_url.into() }
}

const OK: [(Exchange, &str, &str); 5] = [
    (Exchange::Binance, "BTCUSDT", "binance/ok_btcusdt.json"),
    (Exchange::Coinbase, "BTC-USD", "coinbase/ok_btcusd.json"),
    (Exchange::Kraken, "XBTUSD", "kraken/ok_xbtusd.json"),
    (Exchange::Okx, "BTC-USDT", "okx/ok_btc_usdt.json"),
    (Exchange::Bybit, "BTCUSDT", "bybit/ok_btcusdt.json"),
];

#[tokio::test]
async fn every_exchange_parses_over_http() {
    let routes = OK
        .iter()
        .map(|&(e, symbol, file)| (e.path_and_query(symbol), (200, fixture(file))))
        .collect();
    let base = serve(routes).await;
    let client = client();
    for (exchange, symbol, file) in OK {
        let got = source(exchange, symbol, &base).fetch(&client).await;
        assert_eq!(got, Ok(exchange.parse(&fixture(file), symbol).unwrap()), "{exchange}");
        // A trailing slash on the base URL is harmless.
        let slash = source(exchange, symbol, &format!("{base}/"));
        assert!(slash.fetch(&client).await.is_ok());
    }
}

#[tokio::test]
async fn error_envelopes_and_statuses() {
    let cases: Vec<(Exchange, &str, u16, Vec<u8>, FetchError)> = vec![
        (
            Exchange::Binance,
            "BTCUSDX",
            400,
            fixture("binance/error_invalid_symbol.json"),
            FetchError::Status {
                status: 400,
                exchange_error: Some(Rejection {
                    code: "-1121".into(),
                    message: "Invalid symbol.".into(),
                }),
            },
        ),
        (
            Exchange::Coinbase,
            "BTC-USDX",
            404,
            fixture("coinbase/error_not_found.json"),
            FetchError::Status {
                status: 404,
                exchange_error: Some(Rejection { code: String::new(), message: "NotFound".into() }),
            },
        ),
        (
            Exchange::Kraken,
            "XBTUSX",
            200,
            fixture("kraken/error_unknown_pair.json"),
            FetchError::Parse(ParseError::Rejected {
                code: "EQuery".into(),
                message: "Unknown asset pair".into(),
            }),
        ),
        (
            Exchange::Okx,
            "BTC-USDX",
            200,
            fixture("okx/error_instrument.json"),
            FetchError::Parse(ParseError::Rejected {
                code: "51001".into(),
                message: "Instrument ID does not exist".into(),
            }),
        ),
        (
            Exchange::Bybit,
            "BTCUSDX",
            200,
            fixture("bybit/error_symbol.json"),
            FetchError::Parse(ParseError::Rejected {
                code: "10001".into(),
                message: "Not supported symbols".into(),
            }),
        ),
        (
            Exchange::Okx,
            "ETH-USDT",
            500,
            b"Internal Server Error".to_vec(),
            FetchError::Status { status: 500, exchange_error: None },
        ),
        (
            Exchange::Binance,
            "ETHUSDT",
            302,
            Vec::new(),
            FetchError::Status { status: 302, exchange_error: None },
        ),
        (
            Exchange::Bybit,
            "ETHUSDT",
            200,
            fixture("bybit/price_zero.json"),
            FetchError::Parse(ParseError::WrongSymbol {
                expected: "ETHUSDT".into(),
                found: "BTCUSDT".into(),
            }),
        ),
        (
            Exchange::Binance,
            "BTCUSDT",
            200,
            fixture("binance/price_nan.json"),
            FetchError::Parse(ParseError::Price { field: "price", error: PriceError::NotANumber }),
        ),
    ];
    let routes = cases
        .iter()
        .map(|(e, symbol, status, body, _)| (e.path_and_query(symbol), (*status, body.clone())))
        .collect();
    let base = serve(routes).await;
    let client = client();
    for (exchange, symbol, status, _, want) in cases {
        let got = source(exchange, symbol, &base).fetch(&client).await;
        assert_eq!(got, Err(want), "{exchange} {symbol} {status}");
    }
    // A path the server does not know: a plain 404.
    let got = source(Exchange::Kraken, "NOPE", &base).fetch(&client).await;
    assert_eq!(got, Err(FetchError::Status { status: 404, exchange_error: None }));
}

#[tokio::test]
async fn malformed_bodies_are_parse_errors() {
    let cases = [
        (Exchange::Binance, "BTCUSDT", "binance/truncated.json"),
        (Exchange::Coinbase, "BTC-USD", "coinbase/truncated.json"),
        (Exchange::Kraken, "XBTUSD", "kraken/truncated.json"),
        (Exchange::Okx, "BTC-USDT", "okx/truncated.json"),
        (Exchange::Bybit, "BTCUSDT", "bybit/truncated.json"),
    ];
    let routes = cases
        .iter()
        .map(|&(e, symbol, file)| (e.path_and_query(symbol), (200, fixture(file))))
        .collect();
    let base = serve(routes).await;
    let client = client();
    for (exchange, symbol, _) in cases {
        match source(exchange, symbol, &base).fetch(&client).await {
            Err(FetchError::Parse(ParseError::Json { fault: JsonFault::Truncated, .. })) => {}
            other => panic!("{exchange}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    // With a Content-Length header (axum sets it): refused before reading.
    let big = vec![b' '; BODY_LEN_MAX + 1];
    let exactly = {
        let mut body = fixture("binance/ok_btcusdt.json");
        body.resize(BODY_LEN_MAX, b' ');
        body
    };
    let routes = [
        (Exchange::Okx.path_and_query("BTC-USDT"), (200, big.clone())),
        (Exchange::Binance.path_and_query("BTCUSDT"), (200, exactly)),
    ]
    .into_iter()
    .collect();
    let base = serve(routes).await;
    let client = client();
    let got = source(Exchange::Okx, "BTC-USDT", &base).fetch(&client).await;
    assert_eq!(got, Err(FetchError::TooLarge { limit: BODY_LEN_MAX }));
    let at_cap = source(Exchange::Binance, "BTCUSDT", &base).fetch(&client).await;
    assert!(at_cap.is_ok(), "a body of exactly the cap is accepted: {at_cap:?}");

    // Without Content-Length (body delimited by closing the connection): refused while reading.
    let mut reply =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
    reply.extend_from_slice(&vec![b' '; 4 * BODY_LEN_MAX]);
    let addr = raw_server(Some(reply)).await;
    let got = source(Exchange::Okx, "BTC-USDT", &format!("http://{addr}")).fetch(&client).await;
    assert_eq!(got, Err(FetchError::TooLarge { limit: BODY_LEN_MAX }));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let addr = raw_server(None).await;
    let client = client();
    let slow = source(Exchange::Bybit, "BTCUSDT", &format!("http://{addr}"));
    let started = tokio::time::Instant::now();
    let got = slow.fetch_with_timeout(&client, Duration::from_millis(300)).await;
    assert_eq!(got, Err(FetchError::Timeout { timeout_ms: 300 }));
    assert!(started.elapsed() < Duration::from_secs(5));

    // Headers sent, then the body stalls: the deadline covers the body too.
    let stall = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"retCode\":0".to_vec();
    let addr = stall_server(stall).await;
    let slow = source(Exchange::Bybit, "BTCUSDT", &format!("http://{addr}"));
    let got = slow.fetch_with_timeout(&client, Duration::from_millis(300)).await;
    assert_eq!(got, Err(FetchError::Timeout { timeout_ms: 300 }));
}

/// Writes `partial` on each connection and keeps the socket open without finishing the body.
async fn stall_server(partial: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..8 {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            read_request_head(&mut socket).await;
            let _ = socket.write_all(&partial).await;
            held.push(socket);
        }
    });
    addr
}

#[tokio::test]
async fn refused_connections_and_bad_urls() {
    let client = client();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let closed = source(Exchange::Kraken, "XBTUSD", &format!("http://{addr}"));
    match closed.fetch(&client).await {
        Err(FetchError::Transport(text)) => assert!(!text.is_empty()),
        other => panic!("{other:?}"),
    }
    let bad = source(Exchange::Kraken, "XBTUSD", "not a url");
    assert_eq!(
        bad.fetch(&client).await,
        Err(FetchError::InvalidUrl { url: "not a url/0/public/Ticker?pair=XBTUSD".into() })
    );
}

#[test]
fn defaults_point_at_the_public_hosts() {
    let s = HttpSource::new(Exchange::Coinbase, "BTC-USD");
    assert_eq!(s.url(), "https://api.exchange.coinbase.com/products/BTC-USD/ticker");
    let s = HttpSource::new(Exchange::Bybit, "BTCUSDT");
    assert_eq!(s.url(), "https://api.bybit.com/v5/market/tickers?category=spot&symbol=BTCUSDT");
    // The default client (rustls, platform roots) builds without touching the network.
    assert!(novation_feeds::client().is_ok());
}
