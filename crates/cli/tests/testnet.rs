//! Real processes on loopback: `novation testnet` writes 4 home folders, 4 `novation start`
//! processes run consensus over TCP, orders are submitted over the RPC, one node is SIGKILLed
//! while the others keep finalizing, it is restarted, catches up, and reaches the same state
//! root as the others at the same height. Then every node stops on SIGTERM with exit code 0, and
//! `novation verify` re-executes the killed node's stored chain from genesis.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use commonware_codec::DecodeExt;
use commonware_cryptography::{ed25519, Signer as _};
use novation_chain::tx::{
    address_of, ChainId, PublicKey as TxPublicKey, SignedTx, TxAction, TxBody,
};
use novation_engine::{MarketId, OrderRequest};
use novation_types::{Quote, Side};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_novation");

fn ports() -> (u16, u16) {
    // Spread concurrent runs apart by process id.
    let base = 20_000 + (std::process::id() % 2_000) as u16 * 10;
    (base, base + 5)
}

struct Node {
    home: PathBuf,
    rpc: u16,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("node.log"))
            .expect("log file");
        let err = log.try_clone().expect("log file");
        let child = Command::new(BIN)
            .args(["start", "--home"])
            .arg(&self.home)
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn novation start");
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-9", &c.id().to_string()]).status();
            let _ = c.wait();
        }
    }

    fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn get(rt: &tokio::runtime::Runtime, port: u16, path: &str) -> Option<Value> {
    rt.block_on(async {
        let resp = reqwest::get(format!("http://127.0.0.1:{port}{path}")).await.ok()?;
        resp.json::<Value>().await.ok()
    })
}

fn post(
    rt: &tokio::runtime::Runtime,
    port: u16,
    path: &str,
    body: String,
    json: bool,
) -> Option<Value> {
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.post(format!("http://127.0.0.1:{port}{path}")).body(body);
        if json {
            req = req.header("content-type", "application/json");
        }
        req.send().await.ok()?.json::<Value>().await.ok()
    })
}

fn height(rt: &tokio::runtime::Runtime, port: u16) -> u64 {
    get(rt, port, "/status").and_then(|v| v["height"].as_u64()).unwrap_or(0)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn read_key(path: &Path) -> ed25519::PrivateKey {
    let text = std::fs::read_to_string(path).expect("key file");
    let text = text.trim();
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect();
    ed25519::PrivateKey::decode(bytes).expect("key")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn four_processes_survive_a_sigkill() {
    let dir = std::env::temp_dir().join(format!("novation-testnet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (p2p, rpc) = ports();
    let status = Command::new(BIN)
        .args(["testnet", "--validators", "4", "--output"])
        .arg(&dir)
        .args(["--base-port", &p2p.to_string(), "--rpc-base-port", &rpc.to_string()])
        .status()
        .expect("novation testnet");
    assert!(status.success());
    let mut nodes: Vec<Node> = (0..4)
        .map(|i| Node { home: dir.join(format!("node-{i}")), rpc: rpc + i as u16, child: None })
        .collect();
    for n in &mut nodes {
        n.start();
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    wait_until("the first blocks", Duration::from_secs(180), || height(&rt, nodes[0].rpc) >= 3);

    // Orders over the RPC: credit a trader from the faucet, then rest and cross orders.
    let chain = ChainId(2);
    let trader = ed25519::PrivateKey::decode(vec![7u8; 32]).expect("key");
    let faucet = read_key(&nodes[0].home.join("faucet.key"));
    let me = address_of(&TxPublicKey::Ed25519(trader.public_key()));
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64
    };
    let submit = |key: &ed25519::PrivateKey, nonce: u64, actions: Vec<TxAction>, port: u16| {
        let tx = SignedTx::sign(key, TxBody { chain_id: chain, nonce, master: None, actions });
        let v = post(&rt, port, "/tx", hex(&novation_chain::node::encode_tx(&tx)), false)
            .expect("rpc answers");
        assert!(v.get("hash").is_some(), "tx admitted: {v}");
    };
    submit(
        &faucet,
        now(),
        vec![TxAction::Faucet { to: me, sub: 0, amount: Quote(1_000_000_000_000) }],
        nodes[0].rpc,
    );
    let h0 = height(&rt, nodes[0].rpc);
    wait_until("the credit", Duration::from_secs(60), || height(&rt, nodes[0].rpc) >= h0 + 3);
    for i in 0..10u64 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = if side == Side::Buy { 999_000 - i } else { 1_001_000 + i };
        let order = OrderRequest::limit(0, MarketId(0), side, price, 5);
        submit(&trader, now() + i, vec![TxAction::Place(order)], nodes[(i % 4) as usize].rpc);
    }

    // Kill node 3 hard; the other three keep finalizing.
    let before = height(&rt, nodes[0].rpc);
    nodes[3].kill9();
    wait_until("progress without node 3", Duration::from_secs(120), || {
        height(&rt, nodes[0].rpc) >= before + 10
    });
    let account = get(&rt, nodes[0].rpc, &format!("/account/{}/0", hex(&me.0))).expect("account");
    assert_eq!(account["orders"].as_array().map(Vec::len), Some(10), "orders rest: {account}");
    assert_eq!(account["proof_verified"], Value::Bool(true));

    // Restart it: it catches up and agrees.
    nodes[3].start();
    let target = height(&rt, nodes[0].rpc) + 5;
    wait_until("node 3 catching up", Duration::from_secs(180), || {
        height(&rt, nodes[3].rpc) >= target
    });
    // Every node has finalized the target before they are compared (node 3 may get there
    // first: it can see a finalization before the node it is compared with has applied it).
    wait_until("every node at the target", Duration::from_secs(60), || {
        nodes.iter().all(|n| height(&rt, n.rpc) >= target)
    });
    let block = |port: u16| get(&rt, port, &format!("/block/{target}"));
    let reference = block(nodes[0].rpc).expect("node 0 has the block");
    for n in &nodes {
        assert_eq!(
            block(n.rpc),
            Some(reference.clone()),
            "node on port {} agrees at {target}",
            n.rpc
        );
    }

    // Graceful stop: exit code 0.
    for n in &mut nodes {
        assert_eq!(n.terminate(), Some(0), "clean exit on SIGTERM");
    }
    // The killed node's stored chain re-executes from genesis to the same roots.
    let out =
        Command::new(BIN).args(["verify", "--home"]).arg(&nodes[3].home).output().expect("verify");
    assert!(out.status.success(), "verify: {}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
