//! `novation bench`: drive signed orders into an in-process devnet (N validators, real
//! consensus over loopback TCP) and print finalized orders/s, submit-to-finalized latency, the
//! machine's ed25519 batch-verification rate and where the executor's time goes.
//!
//! Orders are signed before the clock starts (traders alternate buy and sell limit orders that
//! cross a few ticks around the index, so they trade with each other and the book stays small), submitted round robin to the validators' admission
//! path (decode, stateless checks, signature, mempool, gossip: what the RPC does after reading the
//! body) at a target rate, and timed from submission until validator 0 reports them in a
//! finalized block.

use std::sync::Arc;
use std::time::{Duration, Instant};

use commonware_cryptography::{ed25519, Signer as _};
use commonware_parallel::Sequential;
use commonware_runtime::{tokio as cw_tokio, Runner as _, Supervisor as _};
use novation_chain::executor::{Timings, TxStatus};
use novation_chain::node::{encode_tx, NodeHandle};
use novation_chain::simulation;
use novation_chain::state::TxOutcome;
use novation_chain::tx::{
    self, address_of, ChainId, PublicKey as TxPublicKey, SignedTx, TxAction, TxBody,
};
use novation_engine::{MarketId, OrderRequest};
use novation_types::{Quote, Side};

use crate::now_ms;

/// Benchmark settings.
#[derive(Clone, Copy, Debug)]
pub struct BenchConfig {
    pub validators: usize,
    pub seconds: u64,
    pub rate: u64,
    pub traders: usize,
    pub p2p_port: u16,
}

/// Signatures verified per second on one core, in batches of `batch` signed by `signers`
/// distinct keys (round robin).
///
/// The verifier groups a batch's signatures by key and folds each key's terms into one (nearly
/// twice as fast for a batch from a single key), so the rate depends on how many distinct
/// signers a batch holds. B, the figure the bound is computed from, is the usual one: every
/// signature from a different key. The single-key rate is printed beside it.
pub fn batch_verify_rate(batch: usize, signers: usize) -> f64 {
    let keys: Vec<ed25519::PrivateKey> =
        (0..signers.max(1) as u64).map(|i| simulation::key("bench-verify", i)).collect();
    let txs: Vec<SignedTx> = (0..batch as u64)
        .map(|i| {
            let key = &keys[i as usize % keys.len()];
            let order = OrderRequest::limit(0, MarketId(0), Side::Buy, 1_000_000, 1 + i % 5);
            SignedTx::sign(
                key,
                TxBody {
                    chain_id: ChainId(1),
                    nonce: i + 1,
                    master: None,
                    actions: vec![TxAction::Place(order)],
                },
            )
        })
        .collect();
    // Warm the decoded-key memo first, as on a node that has seen these signers.
    let _ = tx::verify_batch(&txs, &Sequential);
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        let ok = tx::verify_batch(&txs, &Sequential);
        assert!(ok.iter().all(|v| *v));
    }
    (batch * rounds) as f64 / started.elapsed().as_secs_f64()
}

/// CPU time this process has used (user + system, all threads), from `/proc/self/stat`;
/// `None` where that file does not exist.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Linux reports them in USER_HZ, 100 on every mainstream architecture.
    Some(ticks / 100.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the benchmark and prints its figures.
pub fn run(cfg: BenchConfig) -> Result<(), String> {
    let b = batch_verify_rate(1024, 1024);
    println!(
        "ed25519 batch verify (1 core, batches of 1024 from distinct signers): B = {:.0} signatures/s",
        b
    );
    println!(
        "  (one signer per batch: {:.0}/s; {} signers, as this run's traders: {:.0}/s)",
        batch_verify_rate(1024, 1),
        cfg.traders,
        batch_verify_rate(1024, cfg.traders)
    );
    let bound = 2.0 * b / cfg.validators as f64;
    println!(
        "bound for {} validators in one process on 2 cores: 2 x B / {} = {:.0} tx/s",
        cfg.validators, cfg.validators, bound
    );

    let home = std::env::temp_dir().join(format!("novation-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let keys: Vec<ed25519::PrivateKey> =
        (0..cfg.validators).map(|i| simulation::key("bench-validator", i as u64)).collect();
    let faucet = simulation::key("faucet", 0);
    let genesis = Arc::new(novation_chain::genesis::Genesis::devnet(
        ChainId(1),
        now_ms(),
        keys.iter().map(|k| k.public_key()).collect(),
        address_of(&TxPublicKey::Ed25519(faucet.public_key())),
    ));
    let peers: Vec<(ed25519::PublicKey, std::net::SocketAddr)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (k.public_key(), std::net::SocketAddr::from(([127, 0, 0, 1], cfg.p2p_port + i as u16)))
        })
        .collect();

    // Sign every order up front.
    let traders: Vec<ed25519::PrivateKey> =
        (0..cfg.traders).map(|i| simulation::key("bench-trader", i as u64)).collect();
    let total = (cfg.rate * cfg.seconds) as usize;
    let base_nonce = now_ms();
    let signed: Vec<Vec<u8>> = (0..total)
        .map(|i| {
            let t = i % traders.len();
            let round = (i / traders.len()) as u64;
            let side = if (t + round as usize).is_multiple_of(2) { Side::Buy } else { Side::Sell };
            let price = match side {
                Side::Buy => 1_000_000 + (i as u64 % 5),
                Side::Sell => 1_000_000 - (i as u64 % 5),
            };
            let order = OrderRequest::limit(0, MarketId(0), side, price, 1);
            let body = TxBody {
                chain_id: ChainId(1),
                nonce: base_nonce + round + 1,
                master: None,
                actions: vec![TxAction::Place(order)],
            };
            encode_tx(&SignedTx::sign(&traders[t], body))
        })
        .collect();
    println!("signed {} orders from {} traders", signed.len(), traders.len());

    let runtime_cfg =
        cw_tokio::Config::new().with_storage_directory(&home).with_catch_panics(false);
    let result = cw_tokio::Runner::new(runtime_cfg).start(|ctx| async move {
        let mut nodes: Vec<NodeHandle> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let observer = Some(novation_chain::observer::devnet(&genesis, i as u64, None));
            let launch = crate::run::Launch { prefix: format!("v{i}"), key: key.clone(), listen: peers[i].1, peers: peers.clone(), observer };
            nodes.push(crate::run::start_validator(ctx.child("validator").with_attribute("index", i), genesis.clone(), launch, crate::run::verify_threads(keys.len())).await?);
        }
        // Wait for the chain to start, then fund the traders.
        let started = Instant::now();
        while nodes[0].shared.status.lock().map(|s| s.height).unwrap_or(0) < 2 {
            if started.elapsed() > Duration::from_secs(120) {
                return Err("the chain did not start".to_string());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (c, chunk) in traders.chunks(tx::MAX_ACTIONS_PER_TX).enumerate() {
            let actions = chunk
                .iter()
                .map(|t| TxAction::Faucet { to: address_of(&TxPublicKey::Ed25519(t.public_key())), sub: 0, amount: Quote(10_000_000 * 1_000_000) })
                .collect();
            let body = TxBody { chain_id: ChainId(1), nonce: now_ms() + c as u64, master: None, actions };
            nodes[0].submit(&encode_tx(&SignedTx::sign(&faucet, body)), now_ms()).map_err(|e| e.to_string())?;
        }
        let funded_at = nodes[0].shared.status.lock().map(|s| s.height).unwrap_or(0) + 3;
        while nodes[0].shared.status.lock().map(|s| s.height).unwrap_or(0) < funded_at {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let all_before: Vec<Timings> =
            nodes.iter().map(|n| n.shared.timings.lock().map(|t| *t).unwrap_or_default()).collect();
        let timings_before = all_before.first().copied().unwrap_or_default();

        // Submit at the target rate in 10 ms slices; after each slice, collect finalizations
        // (validator 0's results), so latency is measured as it happens.
        let mut pending: Vec<([u8; 32], Instant)> = Vec::new();
        let mut latencies: Vec<f64> = Vec::with_capacity(signed.len());
        let mut submitted = 0usize;
        let mut refused = 0usize;
        let mut filled = 0usize;
        let mut dropped = 0usize;
        let cpu_before = process_cpu_secs();
        let begin = Instant::now();
        let mut last_final = begin;
        let per_slice = (cfg.rate / 100).max(1) as usize;
        let mut slices = signed.chunks(per_slice).enumerate();
        let mut submit_secs = 0.0;
        let mut deadline = None;
        let mut seen_height = 0;
        let mut drop_reasons = std::collections::BTreeMap::new();
        loop {
            match slices.next() {
                Some((slice, chunk)) => {
                    let due = begin + Duration::from_millis(10 * slice as u64);
                    let now = Instant::now();
                    if due > now {
                        tokio::time::sleep(due - now).await;
                    }
                    // Each slice is spread round robin over the validators, each validator's
                    // share admitted as one batch (signatures batch-verified).
                    for (v, node) in nodes.iter().enumerate() {
                        let share: Vec<&[u8]> = chunk
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| (slice + j) % nodes.len() == v)
                            .map(|(_, b)| b.as_slice())
                            .collect();
                        if share.is_empty() {
                            continue;
                        }
                        let at = Instant::now();
                        for result in node.submit_batch(&share, now_ms()) {
                            match result {
                                Ok(h) => {
                                    submitted += 1;
                                    pending.push((h, at));
                                }
                                Err(_) => refused += 1,
                            }
                        }
                    }
                }
                None => {
                    if deadline.is_none() {
                        submit_secs = begin.elapsed().as_secs_f64();
                        deadline = Some(Instant::now() + Duration::from_secs(30));
                    }
                    if pending.is_empty() || deadline.is_some_and(|d| Instant::now() > d) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            // Results change only when validator 0 finalizes a block: look then.
            let height_now = nodes[0].shared.status.lock().map(|s| s.height).unwrap_or(0);
            if height_now == seen_height {
                continue;
            }
            seen_height = height_now;
            let now = Instant::now();
            let results = nodes[0].shared.results.lock().map_err(|_| "poisoned".to_string())?;
            pending.retain(|(h, at)| match results.get(h) {
                Some(TxStatus::Finalized { outcome, .. }) => {
                    latencies.push(now.duration_since(*at).as_secs_f64() * 1e3);
                    last_final = now;
                    if matches!(outcome, TxOutcome::Executed { .. }) {
                        filled += 1;
                    }
                    false
                }
                Some(TxStatus::Dropped { reason, .. }) => {
                    dropped += 1;
                    *drop_reasons.entry(reason).or_insert(0usize) += 1;
                    false
                }
                _ => true,
            });
        }
        let cpu_secs = process_cpu_secs().zip(cpu_before).map(|(a, b)| a - b);
        let wall_secs = begin.elapsed().as_secs_f64();
        let timings = nodes[0].shared.timings.lock().map(|t| *t).unwrap_or_default();
        let height = nodes[0].shared.status.lock().map(|s| s.height).unwrap_or(0);
        let span = last_final.duration_since(begin).as_secs_f64();
        latencies.sort_by(|a, b| a.total_cmp(b));
        let finalized = latencies.len();
        println!("submitted {} orders in {:.1}s ({:.0}/s offered), {} refused at admission", submitted, submit_secs, submitted as f64 / submit_secs.max(1e-9), refused);
        println!("finalized {} orders ({} executed), {} dropped, {} not finalized within 30 s, by height {}", finalized, filled, dropped, pending.len(), height);
        for (reason, n) in &drop_reasons {
            println!("  dropped {n}: {reason}");
        }
        println!("finalized_orders_per_s={:.0}", finalized as f64 / span.max(1e-9));
        println!(
            "submit_to_finalized_ms p50={:.0} p99={:.0} max={:.0}",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN)
        );
        if let Some(cpu) = cpu_secs {
            // Robust to other load on the machine: CPU spent per order, whole process (4
            // validators and this client).
            println!(
                "process_cpu_s={:.1} over {:.1} s wall ({:.2} cores busy); cpu_us_per_finalized_order={:.0}",
                cpu,
                wall_secs,
                cpu / wall_secs.max(1e-9),
                cpu * 1e6 / (finalized.max(1) as f64)
            );
        }
        let blocks = timings.blocks - timings_before.blocks;
        let per_block = |ns: u64| ns as f64 / blocks.max(1) as f64 / 1e6;
        let d = |f: fn(&Timings) -> u64| f(&timings).saturating_sub(f(&timings_before));
        println!(
            "validator 0 executor: {} blocks, {} txs; per block, wall: execute {:.1} ms, commitment (writes + merkleize) {:.1} ms, finalize (apply + commit) {:.1} ms (fsync {:.1} ms)",
            blocks,
            d(|t| t.txs),
            per_block(d(|t| t.execute_ns)),
            per_block(d(|t| t.commit_ns)),
            per_block(d(|t| t.finalize_ns)),
            per_block(d(|t| t.sync_ns)),
        );
        println!(
            "validator 0 executor: per block, CPU: execute {:.1} ms, commitment {:.1} ms, finalize {:.1} ms",
            per_block(d(|t| t.execute_cpu_ns)),
            per_block(d(|t| t.commit_cpu_ns)),
            per_block(d(|t| t.finalize_cpu_ns)),
        );
        // The state commitment's cost, measured as CPU time (wall time on a shared machine also
        // counts the waits for a core while the other validators run). The figure the target is
        // about: the share of the whole process's CPU that every validator's commitment takes,
        // what turning it off would give back to a CPU-bound run's throughput.
        let commitment = |t: &Timings| t.commit_cpu_ns + t.finalize_cpu_ns;
        let all_commitment_ns: u64 = nodes
            .iter()
            .zip(&all_before)
            .map(|(n, before)| {
                let now = n.shared.timings.lock().map(|t| *t).unwrap_or_default();
                commitment(&now).saturating_sub(commitment(before))
            })
            .sum();
        let v0_commitment = commitment(&timings).saturating_sub(commitment(&timings_before));
        let v0_executor = v0_commitment + d(|t| t.execute_cpu_ns);
        println!("state commitment = collecting writes + merkleizing + applying and committing finalized batches, in CPU time (fsync is a wait, not CPU)");
        println!(
            "state_commitment_share_of_executor_cpu={:.2}",
            v0_commitment as f64 / v0_executor.max(1) as f64
        );
        let interval_ns = span * 1e9 / blocks.max(1) as f64;
        println!(
            "state_commitment_share_of_block_interval={:.2}",
            v0_commitment as f64 / blocks.max(1) as f64 / interval_ns.max(1.0)
        );
        if let Some(cpu) = cpu_secs {
            println!(
                "state_commitment_cpu_s={:.2} (all {} validators) of process_cpu_s={:.1}",
                all_commitment_ns as f64 / 1e9,
                cfg.validators,
                cpu
            );
            println!(
                "state_commitment_share_of_process_cpu={:.2}",
                all_commitment_ns as f64 / (cpu * 1e9).max(1.0)
            );
        }
        // Averages of validator 0's block interval and finalization latency histograms.
        let text = commonware_runtime::Metrics::encode(&ctx);
        for name in ["block_interval_ms", "finalization_latency_ms", "txs_per_block"] {
            let read = |suffix: &str| {
                text.lines()
                    .find(|l| l.contains(&format!("novation_{name}_{suffix}")) && l.contains("index=\"0\""))
                    .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            };
            if let (Some(sum), Some(count)) = (read("sum"), read("count")) {
                println!("validator 0 mean {name} = {:.1} over {count} blocks", sum / count.max(1.0));
            }
        }
        Ok::<(), String>(())
    });
    let _ = std::fs::remove_dir_all(&home);
    result
}
