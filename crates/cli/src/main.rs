//! `novation`: run a devnet, write testnet home folders, start a validator, ask a node for its
//! status, and re-verify a stored chain.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod bench;
mod config;
mod market;
mod run;
mod table;
mod trader;
mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_runtime::{
    tokio as cw_tokio, Metrics as _, Runner as _, Spawner as _, Supervisor as _,
};
use novation_chain::genesis::Genesis;
use novation_chain::node::NodeHandle;
use novation_chain::simulation;
use novation_chain::tx::{address_of, ChainId, PublicKey as TxPublicKey};
use tracing::{error, info, Level};

use config::{hex, Home, NodeFile, PeerFile};

#[derive(Debug, Parser)]
#[command(name = "novation", version, about = "novation: a derivatives exchange chain")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run N validators in this process (real consensus between them over loopback TCP), a
    /// faucet, the RPC and the market bots.
    Devnet {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Home folder (reused if it exists: the chain continues).
        #[arg(long, default_value = "devnet-home")]
        home: PathBuf,
        /// RPC port of validator 0 (validator i listens on port + i).
        #[arg(long, default_value_t = 8080)]
        rpc_port: u16,
        /// First p2p port (validator i listens on port + i).
        #[arg(long, default_value_t = 9000)]
        p2p_port: u16,
        /// Start over: delete the home folder first.
        #[arg(long)]
        fresh: bool,
        /// JSON logs.
        #[arg(long)]
        log_json: bool,
        /// Stop after this many seconds (0: run until SIGINT/SIGTERM).
        #[arg(long, default_value_t = 0)]
        seconds: u64,
        /// Run a named oracle scenario on the simulated price feed: `crash` (−50% over a few
        /// minutes), `squeeze` (+500%), `flash` (−30% and back).
        #[arg(long)]
        scenario: Option<String>,
        /// Do not start the market bots (makers, takers, leveraged traders, a keeper).
        #[arg(long)]
        no_market: bool,
        /// Seed of the market bots' keys and order flow.
        #[arg(long, default_value_t = 1)]
        market_seed: u64,
    },
    /// Write home folders for N validators running as separate processes on 127.0.0.1.
    Testnet {
        /// Number of validators.
        #[arg(long)]
        validators: usize,
        /// Output folder (node-0, node-1, ...).
        #[arg(long)]
        output: PathBuf,
        /// First p2p port (node i: base + i).
        #[arg(long, default_value_t = 9100)]
        base_port: u16,
        /// First RPC port (node i: base + i).
        #[arg(long, default_value_t = 8100)]
        rpc_base_port: u16,
    },
    /// Start one validator from its home folder.
    Start {
        /// Home folder written by `novation testnet`.
        #[arg(long)]
        home: PathBuf,
    },
    /// Print a node's status.
    Status {
        /// RPC address, e.g. 127.0.0.1:8080.
        #[arg(long)]
        rpc: String,
    },
    /// Drive signed orders into an in-process devnet and print finalized orders/s, latency and
    /// the ed25519 batch-verification rate.
    Bench {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Seconds of offered load.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Offered orders per second.
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        /// Trading accounts.
        #[arg(long, default_value_t = 500)]
        traders: usize,
        /// First p2p port.
        #[arg(long, default_value_t = 9300)]
        p2p_port: u16,
    },
    /// Re-execute a stopped node's stored chain from genesis and check every state root.
    Verify {
        /// A node's home folder (or a devnet home, with --validator).
        #[arg(long)]
        home: PathBuf,
        /// Which devnet validator (devnet homes only).
        #[arg(long, default_value_t = 0)]
        validator: usize,
    },
    /// Trader commands: keys, faucet, order, orders, positions, balance, book, trades,
    /// withdraw, watch.
    #[command(flatten)]
    Trader(trader::TraderCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devnet {
            validators,
            home,
            rpc_port,
            p2p_port,
            fresh,
            log_json,
            seconds,
            scenario,
            no_market,
            market_seed,
        } => devnet(
            DevnetOptions {
                n: validators,
                rpc_port,
                p2p_port,
                fresh,
                log_json,
                seconds,
                scenario,
                market: (!no_market).then_some(market_seed),
            },
            &home,
        ),
        Command::Testnet { validators, output, base_port, rpc_base_port } => {
            testnet(validators, &output, base_port, rpc_base_port)
        }
        Command::Start { home } => start(&home),
        Command::Status { rpc } => status(&rpc),
        Command::Verify { home, validator } => verify(&home, validator),
        Command::Bench { validators, seconds, rate, traders, p2p_port } => {
            bench::run(bench::BenchConfig { validators, seconds, rate, traders, p2p_port })
        }
        Command::Trader(cmd) => trader::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

fn port(base: u16, i: usize) -> Result<u16, String> {
    u16::try_from(usize::from(base) + i).map_err(|_| "port out of range".to_string())
}

/// Writes `n` home folders under `out` (node-i) for one new chain.
fn write_homes(
    n: usize,
    out: &Path,
    p2p_base: u16,
    rpc_base: u16,
    chain: &str,
) -> Result<Vec<PathBuf>, String> {
    if n == 0 || n > 100 {
        return Err("--validators must be between 1 and 100".into());
    }
    // Keys: random for a testnet, derived from the chain label for a devnet (reproducible).
    let keys: Vec<ed25519::PrivateKey> = (0..n)
        .map(|i| {
            if chain == "devnet" {
                simulation::key("devnet-validator", i as u64)
            } else {
                <ed25519::PrivateKey as commonware_math::algebra::Random>::random(rand::rng())
            }
        })
        .collect();
    let faucet = if chain == "devnet" {
        simulation::key("faucet", 0)
    } else {
        <ed25519::PrivateKey as commonware_math::algebra::Random>::random(rand::rng())
    };
    let faucet_addr = address_of(&TxPublicKey::Ed25519(faucet.public_key()));
    let genesis = Genesis::devnet(
        ChainId(if chain == "devnet" { 1 } else { 2 }),
        now_ms(),
        keys.iter().map(|k| k.public_key()).collect(),
        faucet_addr,
    );
    let peers: Vec<PeerFile> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Ok(PeerFile {
                public_key: hex(&commonware_codec::Encode::encode(&k.public_key())),
                address: localhost(port(p2p_base, i)?),
            })
        })
        .collect::<Result<_, String>>()?;
    let mut dirs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let dir = out.join(format!("node-{i}"));
        let node = NodeFile {
            key_file: "validator.key".into(),
            faucet_key_file: Some("faucet.key".into()),
            p2p_listen: localhost(port(p2p_base, i)?),
            rpc_listen: localhost(port(rpc_base, i)?),
            log_json: false,
            log_level: "info".into(),
            peers: peers.clone(),
            oracle: Some(config::ObserverFile::simulated(&genesis)),
        };
        Home::write(&dir, &node, &genesis, key, Some(&faucet))?;
        dirs.push(dir);
    }
    Ok(dirs)
}

fn testnet(n: usize, out: &Path, base: u16, rpc_base: u16) -> Result<(), String> {
    if out.join("node-0").exists() {
        return Err(format!("{} already holds a testnet; choose another --output", out.display()));
    }
    let dirs = write_homes(n, out, base, rpc_base, "testnet")?;
    for d in &dirs {
        println!("wrote {}", d.display());
    }
    println!("start each with: novation start --home <dir>");
    Ok(())
}

fn init_logs(ctx: &cw_tokio::Context, json: bool, level: &str) {
    let level = level.parse::<Level>().unwrap_or(Level::INFO);
    cw_tokio::telemetry::init(
        ctx.child("telemetry"),
        cw_tokio::telemetry::Logs { level, json },
        None,
        None,
    );
}

/// Serves the API of `node` on `addr` until the process stops (see the `novation-api` crate:
/// `/v1` REST + WebSocket, `/openapi.json`, and the first RPC routes).
async fn serve_rpc(
    ctx: &cw_tokio::Context,
    addr: SocketAddr,
    node: NodeHandle,
    genesis: &Genesis,
    faucet: Option<ed25519::PrivateKey>,
    accepting: Arc<AtomicBool>,
    metrics_label: Option<String>,
) -> Result<(), String> {
    let metrics_ctx = ctx.child("rpc");
    let cx = novation_api::NodeContext {
        node,
        chain_id: genesis.chain_id,
        faucet,
        metrics: Box::new(move || metrics_ctx.encode()),
        validators: genesis.validators.len(),
        metrics_label,
        now_ms: Box::new(now_ms),
        assets: genesis.oracle.assets.iter().map(|a| a.symbol.clone()).collect(),
    };
    let state = novation_api::install(cx, novation_api::ApiConfig::default()).await?;
    let watcher = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !accepting.load(Ordering::Relaxed) {
                novation_api::stop_accepting(&watcher);
                break;
            }
        }
    });
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("rpc {addr}: {e}"))?;
    info!(%addr, "rpc listening");
    tokio::spawn(async move {
        if let Err(e) = novation_api::serve(listener, state).await {
            error!(error = %e, "rpc server stopped");
        }
    });
    Ok(())
}

/// Waits for SIGINT or SIGTERM (or `seconds`, if non-zero).
async fn wait_for_signal(seconds: u64) {
    let term = async {
        #[cfg(unix)]
        {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
                return;
            }
        }
        futures::future::pending::<()>().await
    };
    let timer = async {
        if seconds == 0 {
            futures::future::pending::<()>().await
        } else {
            tokio::time::sleep(Duration::from_secs(seconds)).await
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => info!("SIGINT: shutting down"),
        _ = term => info!("SIGTERM: shutting down"),
        _ = timer => info!("time is up: shutting down"),
    }
}

/// Graceful stop: refuse new transactions, let in-flight work settle, stop every task (the
/// state database commits and archive syncs are durable per finalized block), exit 0.
async fn shutdown(ctx: cw_tokio::Context, accepting: &AtomicBool) {
    accepting.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    if let Err(e) = ctx.stop(0, Some(Duration::from_secs(10))).await {
        error!(error = ?e, "some tasks did not stop in time");
    }
}

/// `novation devnet`'s options.
#[derive(Debug)]
struct DevnetOptions {
    n: usize,
    rpc_port: u16,
    p2p_port: u16,
    fresh: bool,
    log_json: bool,
    seconds: u64,
    scenario: Option<String>,
    /// Seed of the market bots; `None`: no bots.
    market: Option<u64>,
}

fn devnet(opts: DevnetOptions, home: &Path) -> Result<(), String> {
    let DevnetOptions { n, rpc_port, p2p_port, fresh, log_json, seconds, scenario, market } = opts;
    // A scenario starts 30 s after this launch, on every validator's simulated feed.
    let scenario = scenario
        .map(|s| {
            s.parse::<novation_oracle::simfeed::Scenario>()
                .map(|scenario| novation_chain::observer::ScenarioAt {
                    scenario,
                    at_ms: now_ms() + 30_000,
                })
                .map_err(|e| format!("--scenario: {e}"))
        })
        .transpose()?;
    if fresh && home.exists() {
        std::fs::remove_dir_all(home).map_err(|e| format!("{}: {e}", home.display()))?;
    }
    let dirs = if home.join("node-0").join("config.toml").exists() {
        (0..n).map(|i| home.join(format!("node-{i}"))).collect::<Vec<_>>()
    } else {
        write_homes(n, home, p2p_port, rpc_port, "devnet")?
    };
    let homes = dirs
        .iter()
        .map(|d| Home::load(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{e} (a devnet home from an older version? use --fresh)"))?;
    if homes.first().map(|h| h.genesis.validators.len()) != Some(n) {
        return Err(format!("{} holds a devnet of another size; use --fresh", home.display()));
    }
    let observers = homes.iter().map(|h| h.observer(scenario)).collect::<Result<Vec<_>, _>>()?;
    let bots = match (market, homes.first()) {
        (Some(seed), Some(h)) => Some(market::MarketConfig {
            seed,
            chain_id: h.genesis.chain_id,
            faucet: h
                .faucet_key
                .clone()
                .ok_or("this devnet home has no faucet key; use --no-market")?,
        }),
        _ => None,
    };
    let storage = home.join("data");
    let cfg = cw_tokio::Config::new().with_storage_directory(&storage).with_catch_panics(false);
    cw_tokio::Runner::new(cfg).start(|ctx| async move {
        init_logs(&ctx, log_json, "info");
        let accepting = Arc::new(AtomicBool::new(true));
        let mut handles = Vec::new();
        for (i, (h, observer)) in homes.into_iter().zip(observers).enumerate() {
            let genesis = Arc::new(h.genesis.clone());
            let observer = observer.map(|(config, pollers)| {
                run::spawn_pollers(pollers, config.interval);
                config
            });
            let launch = run::Launch {
                prefix: format!("v{i}"),
                key: h.key.clone(),
                listen: h.node.p2p_listen,
                peers: peers_of(&h.node)?,
                observer,
            };
            let threads = run::verify_threads(n);
            let node = run::start_validator(ctx.child("validator").with_attribute("index", i), genesis.clone(), launch, threads)
                .await?;
            serve_rpc(
                &ctx,
                h.node.rpc_listen,
                node.clone(),
                &genesis,
                h.faucet_key.clone(),
                accepting.clone(),
                Some(format!("index=\"{i}\"")),
            )
            .await?;
            handles.push(node);
        }
        if let (Some(cfg), Some(node)) = (bots, handles.first()) {
            market::spawn(node.clone(), cfg)?;
        }
        println!(
            "devnet: {n} validators running; RPC on http://127.0.0.1:{rpc_port} (try /status); Ctrl-C stops"
        );
        wait_for_signal(seconds).await;
        shutdown(ctx, &accepting).await;
        Ok::<(), String>(())
    })
}

fn peers_of(node: &NodeFile) -> Result<Vec<(ed25519::PublicKey, SocketAddr)>, String> {
    node.peers.iter().map(|p| Ok((config::parse_public_key(&p.public_key)?, p.address))).collect()
}

fn start(home: &Path) -> Result<(), String> {
    let h = Home::load(home)?;
    let observer = h.observer(None)?;
    let storage = home.join("data");
    let cfg = cw_tokio::Config::new().with_storage_directory(&storage).with_catch_panics(false);
    cw_tokio::Runner::new(cfg).start(|ctx| async move {
        init_logs(&ctx, h.node.log_json, &h.node.log_level);
        let accepting = Arc::new(AtomicBool::new(true));
        let genesis = Arc::new(h.genesis.clone());
        let observer = observer.map(|(config, pollers)| {
            run::spawn_pollers(pollers, config.interval);
            config
        });
        let launch = run::Launch {
            prefix: "node".into(),
            key: h.key.clone(),
            listen: h.node.p2p_listen,
            peers: peers_of(&h.node)?,
            observer,
        };
        let node = run::start_validator(
            ctx.child("validator"),
            genesis.clone(),
            launch,
            run::verify_threads(1),
        )
        .await?;
        serve_rpc(
            &ctx,
            h.node.rpc_listen,
            node,
            &genesis,
            h.faucet_key.clone(),
            accepting.clone(),
            None,
        )
        .await?;
        wait_for_signal(0).await;
        shutdown(ctx, &accepting).await;
        Ok::<(), String>(())
    })
}

fn status(rpc: &str) -> Result<(), String> {
    let url = if rpc.starts_with("http") {
        format!("{rpc}/status")
    } else {
        format!("http://{rpc}/status")
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = rt.block_on(async {
        let resp = reqwest::get(&url).await.map_err(|e| format!("{url}: {e}"))?;
        resp.json::<serde_json::Value>().await.map_err(|e| format!("{url}: {e}"))
    })?;
    let field = |k: &str| v.get(k).map(|x| x.to_string()).unwrap_or_else(|| "?".into());
    println!("height           {}", field("height"));
    println!("finalized height {}", field("finalized_height"));
    println!("state root       {}", field("state_root").trim_matches('"'));
    println!("peers            {}", field("peers"));
    println!("mempool          {}", field("mempool"));
    Ok(())
}

fn verify(home: &Path, validator: usize) -> Result<(), String> {
    let (dir, prefix) = if home.join("config.toml").exists() {
        (home.to_path_buf(), "node".to_string())
    } else {
        (home.join(format!("node-{validator}")), format!("v{validator}"))
    };
    let h = Home::load(&dir)?;
    let storage = home.join("data");
    let cfg = cw_tokio::Config::new().with_storage_directory(&storage);
    let started = std::time::Instant::now();
    let report = cw_tokio::Runner::new(cfg).start(|ctx| async move {
        novation_chain::replay::replay(ctx, &prefix, &h.genesis).await
    })?;
    println!(
        "verified {} blocks ({} txs) from genesis in {:.2}s: every state root matches; committed height {}; last root {}",
        report.blocks,
        report.txs,
        started.elapsed().as_secs_f64(),
        report.committed,
        report.last_root
    );
    Ok(())
}
