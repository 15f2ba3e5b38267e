//! API benchmark on loopback against an in-process devnet (one validator, real consensus):
//!
//! 1. read requests/s: `--clients` concurrent HTTP/1.1 keep-alive clients cycling through
//!    `/v1/markets/0/book`, `/trades`, `/candles`, `/v1/markets`, `/v1/markets/0/prices` (state
//!    query) and `/v1/accounts/{a}/0` (state query) for `--seconds`;
//! 2. WebSocket fan-out: `--subscribers` connections on the BTC-PERP book and trades channels
//!    while market makers in the process submit `--orders-per-s` orders (quotes expiring after
//!    3 s, a quarter of them crossing), for `--seconds`;
//!    reported as updates/s at the source × subscribers and messages/s delivered.
//!
//! The process RSS (node + bench clients, from /proc/self/status; the WebSocket clients use 8 KiB
//! read buffers so that the growth is mostly the node's) is printed before and after each phase.
//!
//!   cargo run --release -p novation-api --example api_bench -- --clients 32 --subscribers 500

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commonware_runtime::{tokio as cw_tokio, Runner as _};
use futures::{SinkExt, StreamExt};
use novation_api::devnet::{self, DevnetOptions, Trader};
use novation_api::limits::LimitsConfig;
use novation_api::ws::WsConfig;
use novation_api::ApiConfig;
use novation_types::Side;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy)]
struct Opts {
    clients: usize,
    subscribers: usize,
    seconds: u64,
    orders_per_s: u64,
}

fn opts() -> Opts {
    let mut o = Opts { clients: 32, subscribers: 500, seconds: 10, orders_per_s: 200 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        match pair[0].as_str() {
            "--clients" => o.clients = v as usize,
            "--subscribers" => o.subscribers = v as usize,
            "--seconds" => o.seconds = v,
            "--orders-per-s" => o.orders_per_s = v,
            other => eprintln!("ignored argument {other}"),
        }
    }
    o
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let o = opts();
    let dir = std::env::temp_dir().join(format!("novation-api-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = cw_tokio::Config::new().with_storage_directory(&dir).with_catch_panics(false);
    cw_tokio::Runner::new(cfg).start(|ctx| async move {
        let api = ApiConfig {
            limits: LimitsConfig {
                ip_per_s: 10_000_000,
                ip_burst: 10_000_000,
                ..LimitsConfig::default()
            },
            ws: WsConfig {
                connections_per_ip_max: o.subscribers + 16,
                connections_max: o.subscribers + 16,
                ..WsConfig::default()
            },
            ..ApiConfig::default()
        };
        let d = devnet::start(ctx, DevnetOptions { validators: 1, api }).await.expect("devnet");
        run(o, d).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

async fn run(o: Opts, d: devnet::Devnet) {
    let base = format!("http://{}", d.addrs[0]);
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r = client.get(format!("{base}{path}")).send().await.ok()?;
            r.json::<serde_json::Value>().await.ok()
        }
    };
    let mut index = 0;
    for _ in 0..600 {
        index = get("/v1/markets/0/prices".into())
            .await
            .and_then(|v| v["index_ticks"].as_u64())
            .unwrap_or(0);
        if index > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(index > 0, "no index price");
    // Fund two market makers, submitting in-process like the devnet bots.
    let node = d.nodes[0].clone();
    let mut faucet = Trader::from_key(d.faucet.clone(), d.chain_id);
    let mut makers =
        [Trader::new("bench-mm", 0, d.chain_id), Trader::new("bench-mm", 1, d.chain_id)];
    for m in &makers {
        node.submit(&faucet.faucet(m.address, 1_000_000), devnet::now_ms()).expect("faucet");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let account = format!("/v1/accounts/{}/0", makers[0].hex_address());
    let stop = Arc::new(AtomicBool::new(false));
    let submitted = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, submitted, node) = (stop.clone(), submitted.clone(), node.clone());
        let period = Duration::from_micros(1_000_000 / o.orders_per_s.max(1));
        tokio::spawn(async move {
            let mut k = 0u64;
            let mut tick = tokio::time::interval(period);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                k += 1;
                // Maker 0 quotes a ladder; maker 1 takes from either side now and then.
                let (who, side, price) = match k % 4 {
                    0 if k.is_multiple_of(8) => (1, Side::Buy, index + 20),
                    0 => (1, Side::Sell, index - 20),
                    1 => (0, Side::Buy, index - 1 - k % 40),
                    _ => (0, Side::Sell, index + 1 + k % 40),
                };
                // Quotes expire after 3 s, so the book holds a steady few hundred orders.
                let mut order = novation_engine::OrderRequest::limit(
                    0,
                    novation_engine::MarketId(0),
                    side,
                    price,
                    1 + k % 3,
                );
                order.expiry = novation_engine::Expiry::TimeMs(devnet::now_ms() + 3_000);
                let tx = makers[who].sign(vec![novation_chain::tx::TxAction::Place(order)]);
                if node.submit(&tx, devnet::now_ms()).is_ok() {
                    submitted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    reads(&o, &base, &account).await;
    fan_out(&o, &d).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    let status = get("/v1/status".into()).await.unwrap_or_default();
    let acct = get(account.clone()).await.unwrap_or_default();
    let trades = get("/v1/markets/0/trades?limit=1000".into()).await.unwrap_or_default();
    println!(
        "maker 0: {} open orders, {} positions; trades kept: {}",
        acct["open_orders"],
        acct["positions"].as_array().map(|p| p.len()).unwrap_or(0),
        trades["trades"].as_array().map(|t| t.len()).unwrap_or(0)
    );
    println!(
        "orders submitted in-process: {}; final height {}",
        submitted.load(Ordering::Relaxed),
        status["height"]
    );
}

async fn reads(o: &Opts, base: &str, account: &str) {
    let paths = [
        "/v1/markets/0/book".to_string(),
        "/v1/markets/0/trades?limit=50".into(),
        "/v1/markets/0/candles?interval=1m".into(),
        "/v1/markets".into(),
        "/v1/markets/0/prices".into(),
        account.to_string(),
    ];
    let rss0 = rss_mib();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    let mut tasks = Vec::new();
    for c in 0..o.clients {
        let paths = paths.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut counts = vec![0u64; paths.len()];
            let mut errors = 0u64;
            let mut i = c;
            while Instant::now() < deadline {
                let p = i % paths.len();
                i += 1;
                match client.get(format!("{base}{}", paths[p])).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        counts[p] += 1;
                    }
                    _ => errors += 1,
                }
            }
            (counts, errors)
        }));
    }
    let mut counts = vec![0u64; paths.len()];
    let mut errors = 0;
    for t in tasks {
        if let Ok((c, e)) = t.await {
            errors += e;
            for (a, b) in counts.iter_mut().zip(c) {
                *a += b;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total: u64 = counts.iter().sum();
    println!(
        "reads: {} clients, {:.1}s: {:.0} requests/s ({} errors); RSS {:.0} -> {:.0} MiB",
        o.clients,
        secs,
        total as f64 / secs,
        errors,
        rss0,
        rss_mib()
    );
    for (p, c) in paths.iter().zip(&counts) {
        println!("  {:<56} {:>8.0}/s", p, *c as f64 / secs);
    }
}

async fn fan_out(o: &Opts, d: &devnet::Devnet) {
    let url = format!("ws://{}/v1/ws", d.addrs[0]);
    let rss0 = rss_mib();
    let received = Arc::new(AtomicU64::new(0));
    let updates = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..o.subscribers {
        let (url, received, updates, closed, stop) =
            (url.clone(), received.clone(), updates.clone(), closed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            // Small client buffers, so that the RSS growth is mostly the node's.
            let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .read_buffer_size(8 << 10)
                .write_buffer_size(0);
            let Ok((mut ws, _)) =
                tokio_tungstenite::connect_async_with_config(url, Some(cfg), true).await
            else {
                closed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            for ch in ["book", "trades"] {
                let m = format!(r#"{{"op":"subscribe","channel":"{ch}","market":"BTC-PERP"}}"#);
                let _ = ws.send(Message::Text(m.into())).await;
            }
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        received.fetch_add(1, Ordering::Relaxed);
                        // Subscriber 0 counts what the source produced.
                        if i == 0
                            && (t.contains(r#""type":"delta""#) || t.contains(r#""type":"trade""#))
                        {
                            updates.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Some(Ok(_))) | Err(_) => {}
                    Ok(_) => {
                        closed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    // Let every subscriber connect and take its snapshot, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (r0, u0) = (received.load(Ordering::Relaxed), updates.load(Ordering::Relaxed));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    let secs = started.elapsed().as_secs_f64();
    let (r1, u1) = (received.load(Ordering::Relaxed), updates.load(Ordering::Relaxed));
    let rss1 = rss_mib();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let per_s = (u1 - u0) as f64 / secs;
    println!(
        "fan-out: {} subscribers x {:.0} updates/s (book deltas + trades) = {:.0} expected; delivered {:.0} messages/s (heartbeats included); {} disconnected; RSS {:.0} -> {:.0} MiB",
        o.subscribers,
        per_s,
        per_s * o.subscribers as f64,
        (r1 - r0) as f64 / secs,
        closed.load(Ordering::Relaxed),
        rss0,
        rss1
    );
}
