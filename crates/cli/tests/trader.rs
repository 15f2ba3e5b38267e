//! The trader CLI and the Rust SDK against a real devnet: `novation devnet` runs as a subprocess
//! (four validators, real consensus over loopback, the API and the faucet), and the test drives
//! it with `novation keys/faucet/order/orders/book/positions/watch` subprocesses and with
//! `novation-client` directly:
//!
//! keys new → faucet → a resting order shows in orders and book → a market order from a second
//! key fills it → positions show both sides → an off-tick price is refused with the nearest
//! valid values → an agent key without approval is a wrong signer, with approval it trades for
//! its master → the WebSocket book follows an order → cancel-all empties the book.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use novation_client::tx::AgentScope;
use novation_client::ws::{Channel, WsClient, WsEvent, WsOptions};
use novation_client::{BookTracker, Error, HttpClient, Key, Keystore, Order, Trader};
use novation_types::{PriceTicks, QtyLots, Side};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_novation");

/// The devnet process; stopped on drop.
struct Devnet {
    child: Child,
    home: PathBuf,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
        // The devnet's log is kept only when the test failed.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(self.home.with_extension("log"));
        }
    }
}

fn ports() -> (u16, u16) {
    // Apart from other tests' ports (testnet.rs uses 20_000..40_000), spread by process id.
    let base = 40_000 + (std::process::id() % 2_000) as u16 * 10;
    (base, base + 5)
}

struct Env {
    rpc: String,
    keys: PathBuf,
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("NOVATION_RPC", &self.rpc)
            .env("NOVATION_KEYS", &self.keys)
            .env_remove("NOVATION_KEY")
            .output()
            .expect("run novation")
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "novation {args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let text = self.ok(&a);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn start_devnet(dir: &Path) -> (Devnet, String) {
    let (p2p, rpc) = ports();
    let log = std::fs::File::create(dir.with_extension("log")).expect("log file");
    let child = Command::new(BIN)
        .args(["devnet", "--fresh", "--home"])
        .arg(dir)
        .args(["--rpc-port", &rpc.to_string(), "--p2p-port", &p2p.to_string()])
        .args(["--seconds", "170"])
        // A quiet book: the test's own orders must be the best ones.
        .arg("--no-market")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn devnet");
    (Devnet { child, home: dir.to_path_buf() }, format!("http://127.0.0.1:{rpc}"))
}

#[test]
fn keys_faucet_orders_fills_positions_agents_websocket_cancel_all() {
    let dir = std::env::temp_dir().join(format!("novation-trader-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (_devnet, rpc) = start_devnet(&dir);
    let env = Env { rpc: rpc.clone(), keys: dir.with_extension("keys") };
    let _ = std::fs::remove_dir_all(&env.keys);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let http = HttpClient::new(&rpc).expect("client");

    // The chain is up and BTC-PERP has an index price (orders need one).
    wait_until("an index price", Duration::from_secs(90), || {
        rt.block_on(http.markets())
            .ok()
            .and_then(|m| m.markets.first().and_then(|m| m.index_ticks))
            .is_some()
    });
    let market = rt.block_on(http.markets()).expect("markets").markets.remove(0);
    let spec = novation_client::MarketSpec::from_wire(&market).expect("grid");
    let index = PriceTicks(market.index_ticks.expect("index"));

    let listed = env.ok(&["markets"]);
    assert!(listed.contains("BTC-PERP") && listed.contains("0.001"), "{listed}");

    // Keys.
    let alice = env.json(&["keys", "new", "alice"]);
    let bob = env.json(&["keys", "new", "bob"]);
    assert_ne!(bob["address"], alice["address"]);
    let alice_addr = alice["address"].as_str().expect("address").to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            std::fs::metadata(env.keys.join("alice.json")).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let listed = env.ok(&["keys", "list"]);
    assert!(listed.contains("alice") && listed.contains(&alice_addr), "{listed}");
    assert!(!env.ok(&["keys", "show", "alice"]).contains("secret"));

    // Faucet.
    let credited = env.json(&["faucet", "--key", "alice", "--usdc", "20000"]);
    assert_eq!(credited["balance"], "20000");
    env.ok(&["faucet", "--key", "bob", "--usdc", "20000"]);

    // A resting bid 1% under the index shows in orders and in the book.
    let bid = PriceTicks(index.0 * 99 / 100);
    let bid_text = spec.format_price(bid);
    let placed = env.json(&[
        "order", "place", "--key", "alice", "BTC-PERP", "buy", "0.010", "--price", &bid_text,
    ]);
    let order_id = placed["order_id"].as_u64().expect("order id");
    assert_eq!(placed["order"]["status"], "resting", "{placed}");
    let orders = env.json(&["orders", "--key", "alice"]);
    assert_eq!(orders["orders"][0]["id"].as_u64(), Some(order_id), "{orders}");
    let book = env.json(&["book", "BTC-PERP"]);
    assert_eq!(book["bids"][0]["price_ticks"].as_u64(), Some(bid.0), "{book}");
    assert!(env.ok(&["book", "BTC-PERP"]).contains(&bid_text));

    // Bob's market sell fills it.
    let sold = env.json(&["order", "place", "--key", "bob", "BTC-PERP", "sell", "0.010"]);
    assert_eq!(sold["order"]["status"], "filled", "{sold}");
    let long = env.json(&["positions", "--key", "alice"]);
    assert_eq!(long[0]["side"], "buy", "{long}");
    assert_eq!(long[0]["size_lots"].as_u64(), Some(10));
    let short = env.json(&["positions", "--key", "bob"]);
    assert_eq!(short[0]["side"], "sell", "{short}");
    assert!(env.ok(&["positions", "--key", "alice"]).contains("long"));
    let trades = env.json(&["trades", "BTC-PERP"]);
    assert_eq!(trades["trades"][0]["price_ticks"].as_u64(), Some(bid.0), "{trades}");

    // An off-tick price is refused with the nearest valid values; --round says what it did.
    let off = format!("{bid_text}5");
    let refused =
        env.run(&["order", "place", "--key", "alice", "BTC-PERP", "buy", "0.001", "--price", &off]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("nearest valid values are"), "{stderr}");
    let rounded = env.run(&[
        "order", "place", "--key", "alice", "BTC-PERP", "buy", "0.001", "--price", &off, "--round",
    ]);
    assert!(rounded.status.success(), "{}", String::from_utf8_lossy(&rounded.stderr));
    assert!(String::from_utf8_lossy(&rounded.stderr).contains("rounded down to"));

    // An agent key its master has not approved is a wrong signer; once approved it trades for
    // the master.
    let store = Keystore::new(&env.keys);
    let owner = store.load("alice").expect("alice");
    let agent_secret = Key::generate("agent").expect("key");
    let agent_addr = agent_secret.address();
    let agent = agent_secret.with_master(Some(owner.address()));
    rt.block_on(async {
        let t = Trader::connect(http.clone(), agent).await.expect("connect");
        let order = Order::limit(spec.id, Side::Buy, bid, QtyLots(1)).post_only();
        match t.place(order).await {
            Err(Error::WrongSigner { expected, actual, .. }) => {
                assert_eq!(expected, alice_addr);
                assert_eq!(actual, hex(&agent_addr.0));
            }
            other => panic!("expected a wrong signer, got {other:?}"),
        }
        let master = Trader::connect(http.clone(), store.load("alice").expect("alice"))
            .await
            .expect("connect");
        let scope = AgentScope { markets: vec![], max_order_qty: None, expires_ms: u64::MAX };
        master.approve_agent(agent_addr, scope).await.expect("approve");
        let placed = t.place(order).await.expect("the approved agent trades");
        let open = http.orders(&owner.address(), 0).await.expect("orders");
        assert!(open.orders.iter().any(|o| o.id == placed.id.0), "the order is the master's");

        // The WebSocket book: snapshot, then the delta of a new order.
        let mut ws = WsClient::start(
            &http.ws_url(),
            vec![Channel::Book("BTC-PERP".into())],
            WsOptions::default(),
        );
        let mut tracker = BookTracker::new(spec.id.0);
        let ask = PriceTicks(index.0 * 101 / 100);
        let mut sent = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tracker.best_ask().map(|l| l.price_ticks) != Some(ask.0) {
            let event = tokio::time::timeout_at(deadline, ws.next()).await.expect("ws in time");
            if let Some(WsEvent::Message(m)) = event {
                tracker.apply(&m);
            }
            if tracker.is_synced() && !sent {
                sent = true;
                let sell = Order::limit(spec.id, Side::Sell, ask, QtyLots(2));
                master.place(sell).await.expect("ask");
            }
        }
        assert_eq!(tracker.best_ask().map(|l| l.qty_lots), Some(2));
        ws.close();
    });

    // The live view prints a frame when stdout is not a terminal.
    let frame = env.ok(&["watch", "BTC-PERP", "--key", "alice", "--seconds", "2"]);
    assert!(frame.contains("book seq") && frame.contains("long"), "{frame}");

    // Cancel-all empties alice's orders and the book.
    let cancelled = env.ok(&["order", "cancel-all", "--key", "alice"]);
    assert!(cancelled.contains("cancelled"), "{cancelled}");
    let orders = env.json(&["orders", "--key", "alice"]);
    assert_eq!(orders["orders"].as_array().map(Vec::len), Some(0), "{orders}");
    let book = env.json(&["book", "BTC-PERP"]);
    assert_eq!(book["bids"].as_array().map(Vec::len), Some(0), "{book}");
    assert_eq!(book["asks"].as_array().map(Vec::len), Some(0), "{book}");

    // A transfer opens carol's account; her margin moves between cross and isolated.
    env.ok(&["keys", "new", "carol"]);
    let sent = env.json(&["transfer", "100", "--to", "carol", "--key", "bob"]);
    assert_eq!(sent["amount_atoms"], "100000000", "{sent}");
    let carol = env.json(&["balance", "--key", "carol"]);
    assert_eq!(carol["balance"], "100", "{carol}");
    let isolated_cash = |account: &Value| {
        account["margin"]
            .as_array()
            .and_then(|m| m.iter().find(|b| b["market"].as_u64() == Some(u64::from(spec.id.0))))
            .map(|b| b["cash_atoms"].as_str().unwrap_or_default().to_string())
    };
    env.ok(&["margin", "mode", "BTC-PERP", "isolated", "--key", "carol"]);
    let added = env.json(&["margin", "add", "BTC-PERP", "40", "--key", "carol"]);
    assert_eq!(added["isolated_cash_atoms"], "40000000", "{added}");
    env.ok(&["margin", "remove", "BTC-PERP", "15", "--key", "carol"]);
    let carol = env.json(&["balance", "--key", "carol"]);
    assert_eq!(isolated_cash(&carol).as_deref(), Some("25000000"), "{carol}");
    // More than the bucket's free collateral is refused, with the rule.
    let refused = env.run(&["margin", "remove", "BTC-PERP", "30", "--key", "carol"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("rejected"));
    env.ok(&["margin", "mode", "BTC-PERP", "cross", "--key", "carol"]);
    let carol = env.json(&["balance", "--key", "carol"]);
    assert_eq!(isolated_cash(&carol), None, "{carol}");
    assert_eq!(carol["balance"], "100", "{carol}");

    // An agent key made and approved from the command line trades for carol, within its scope,
    // until revoked.
    let bot = env.json(&["keys", "new", "carol-bot", "--agent-of", "carol"]);
    assert_eq!(bot["master"], carol["address"], "{bot}");
    let small = spec.format_size(QtyLots(1));
    let place_as_bot = |size: &str| {
        env.run(&[
            "order",
            "place",
            "--key",
            "carol-bot",
            "BTC-PERP",
            "buy",
            size,
            "--price",
            &bid_text,
        ])
    };
    let early = place_as_bot(&small);
    assert!(!early.status.success(), "placed before the approval");
    // Refused in a block, its nonce spent: it stays refused after the approval below (the
    // orders count checks that it never rests).
    let said = String::from_utf8_lossy(&early.stderr);
    assert!(said.contains("ApproveAgent"), "{said}");
    let approved = env.json(&[
        "agent",
        "approve",
        "carol-bot",
        "--key",
        "carol",
        "--market",
        "BTC-PERP",
        "--max-size",
        &small,
        "--expires-in",
        "3600",
    ]);
    assert_eq!(approved["max_order_lots"].as_u64(), Some(1), "{approved}");
    assert!(approved["expires_ms"].as_u64().is_some(), "{approved}");
    let placed = place_as_bot(&small);
    assert!(placed.status.success(), "{}", String::from_utf8_lossy(&placed.stderr));
    let orders = env.json(&["orders", "--key", "carol"]);
    assert_eq!(orders["orders"].as_array().map(Vec::len), Some(1), "{orders}");
    let too_big = place_as_bot(&spec.format_size(QtyLots(2)));
    assert!(!too_big.status.success(), "above the agent's size bound");
    env.ok(&["agent", "revoke", "carol-bot", "--key", "carol"]);
    assert!(!place_as_bot(&small).status.success(), "placed after the revocation");
    env.ok(&["order", "cancel-all", "--key", "carol"]);
    let _ = std::fs::remove_dir_all(&env.keys);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
