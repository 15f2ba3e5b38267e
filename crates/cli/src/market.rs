//! The devnet market driver: runs `novation_sim::market`'s bots against validator 0, so the
//! devnet has a live book from its first blocks.
//!
//! # Mechanism
//! * **Keys**: bot `i` signs with `simulation::key("devnet-market-<seed>", i)` (ed25519, derived
//!   by hashing the label and index), the faucet batches with the devnet faucet key. The same
//!   seed gives the same accounts on every run.
//! * **Blocks in**: a sink on validator 0 ([`Shared::add_sink`]) forwards every finalized block
//!   into a bounded queue of [`BLOCK_QUEUE`] with `try_send` (it runs on the executor task and
//!   must not wait); when the queue is full the block is dropped and counted. The driver
//!   drains the queue, reads each block's transactions (a bot's transaction in a block
//!   confirms the bot, see `MarketSim::confirm`; a refused transaction or rejected action is
//!   logged at debug) and events (fills, liquidations, auctions, insurance, ADL), then makes one
//!   executor query for the [`Snapshot`] of the newest finalized state.
//! * **Actions out**: `MarketSim::step` on that snapshot gives batches; each is signed with a
//!   nonce of `max(now_ms, previous + 1)` for its signer and submitted to validator 0
//!   ([`NodeHandle::submit`]: admission checks, mempool, gossip). A refused submission is logged
//!   at debug and frees its bot at once.
//! * **Summary**: every [`SUMMARY_EVERY`], one info line: each market's mid and spread, and the
//!   interval's trades, liquidations and waterfall steps, bot transactions and rejections.
//!
//! The driver never panics: every failure is logged and the loop goes on; it ends when the
//! executor stops answering.
//!
//! [`Shared::add_sink`]: novation_chain::executor::Shared::add_sink

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commonware_cryptography::{ed25519, Signer as _};
use novation_book::Event as BookEvent;
use novation_chain::node::{encode_tx, NodeHandle};
use novation_chain::published::FinalizedBlock;
use novation_chain::simulation;
use novation_chain::state::{ActionOutcome, TxOutcome};
use novation_chain::tx::{
    address_of, ChainId, PublicKey as TxPublicKey, SignedTx, TxAction, TxBody,
};
use novation_engine::Event;
use novation_sim::market::{Batch, BotKind, MarketSim, Population, Signer, Snapshot};
use novation_types::Address;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::now_ms;

/// Finalized blocks waiting for the driver.
pub const BLOCK_QUEUE: usize = 256;

/// Time between two summary lines.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// What the market driver needs.
#[derive(Debug)]
pub struct MarketConfig {
    /// Seed of the bots' keys and flow.
    pub seed: u64,
    /// The chain's id.
    pub chain_id: ChainId,
    /// The devnet faucet's key.
    pub faucet: ed25519::PrivateKey,
}

/// A key and the last nonce it used.
#[derive(Debug)]
struct Key {
    key: ed25519::PrivateKey,
    last_nonce: u64,
}

impl Key {
    fn new(key: ed25519::PrivateKey) -> Key {
        Key { key, last_nonce: 0 }
    }

    /// A millisecond timestamp, bumped to stay strictly above the previous one.
    fn next_nonce(&mut self, now_ms: u64) -> u64 {
        self.last_nonce = now_ms.max(self.last_nonce + 1);
        self.last_nonce
    }
}

/// Counts over a summary interval (and since the start).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    blocks: u64,
    trades: u64,
    liquidations: u64,
    book_closes: u64,
    auctions_opened: u64,
    auctions_won: u64,
    keeper_wins: u64,
    insurance: u64,
    adl: u64,
    bot_txs: u64,
    refused: u64,
    rejected: u64,
    submit_errors: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.blocks += o.blocks;
        self.trades += o.trades;
        self.liquidations += o.liquidations;
        self.book_closes += o.book_closes;
        self.auctions_opened += o.auctions_opened;
        self.auctions_won += o.auctions_won;
        self.keeper_wins += o.keeper_wins;
        self.insurance += o.insurance;
        self.adl += o.adl;
        self.bot_txs += o.bot_txs;
        self.refused += o.refused;
        self.rejected += o.rejected;
        self.submit_errors += o.submit_errors;
    }
}

struct Driver {
    node: NodeHandle,
    chain_id: ChainId,
    sim: MarketSim,
    bots: Vec<Key>,
    faucet: Key,
    faucet_address: Address,
    addresses: Arc<Vec<Address>>,
    bot_of: BTreeMap<Address, u32>,
    dropped: Arc<AtomicU64>,
    interval: Counts,
    total: Counts,
}

/// Starts the bots on `node` (validator 0): registers the block sink and spawns the driver.
pub fn spawn(node: NodeHandle, cfg: MarketConfig) -> Result<(), String> {
    let population = Population::devnet(cfg.seed, 2);
    let label = format!("devnet-market-{}", cfg.seed);
    let keys: Vec<ed25519::PrivateKey> =
        (0..population.len() as u64).map(|i| simulation::key(&label, i)).collect();
    let addresses: Vec<Address> =
        keys.iter().map(|k| address_of(&TxPublicKey::Ed25519(k.public_key()))).collect();
    let sim = MarketSim::new(&population, &addresses).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel::<Arc<FinalizedBlock>>(BLOCK_QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let dropped_by_sink = dropped.clone();
    let sink = Arc::new(move |block: Arc<FinalizedBlock>| {
        if tx.try_send(block).is_err() {
            dropped_by_sink.fetch_add(1, Ordering::Relaxed);
        }
    });
    if !node.shared.add_sink(sink) {
        return Err("the node has no room for another block sink".into());
    }
    let faucet_address = address_of(&TxPublicKey::Ed25519(cfg.faucet.public_key()));
    let driver = Driver {
        node,
        chain_id: cfg.chain_id,
        sim,
        bots: keys.into_iter().map(Key::new).collect(),
        faucet: Key::new(cfg.faucet),
        faucet_address,
        bot_of: addresses.iter().enumerate().map(|(i, a)| (*a, i as u32)).collect(),
        addresses: Arc::new(addresses),
        dropped,
        interval: Counts::default(),
        total: Counts::default(),
    };
    info!(
        seed = cfg.seed,
        makers = population.markets as u32 * population.makers_per_market,
        takers = population.takers,
        leveraged = population.leveraged_count(),
        keepers = population.keepers,
        "market bots starting"
    );
    tokio::spawn(driver.run(rx));
    Ok(())
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Arc<FinalizedBlock>>) {
        let mut last_summary = Instant::now();
        while let Some(first) = rx.recv().await {
            self.observe(&first);
            while let Ok(block) = rx.try_recv() {
                self.observe(&block);
            }
            let addresses = self.addresses.clone();
            let query =
                self.node.executor.query(move |st| Snapshot::capture(&st.engine, &addresses));
            let Some(snap) = query.await else {
                warn!("market bots stopping: the executor no longer answers");
                return;
            };
            for batch in self.sim.step(&snap) {
                self.send(batch);
            }
            if last_summary.elapsed() >= SUMMARY_EVERY {
                self.summary(&snap, last_summary.elapsed());
                last_summary = Instant::now();
            }
        }
    }

    /// Confirms the bots whose transactions the block holds and counts its events.
    fn observe(&mut self, block: &FinalizedBlock) {
        let c = &mut self.interval;
        c.blocks += 1;
        for tx in &block.txs {
            let bot = self.bot_of.get(&tx.signer).copied();
            let credits_bots = tx.signer == self.faucet_address
                && tx.actions.iter().any(
                    |a| matches!(a, TxAction::Faucet { to, .. } if self.bot_of.contains_key(to)),
                );
            if bot.is_none() && !credits_bots {
                continue;
            }
            if let Some(i) = bot {
                self.sim.confirm(i);
                c.bot_txs += 1;
            }
            match &tx.outcome {
                TxOutcome::Refused { code, reason } => {
                    c.refused += 1;
                    debug!(?bot, code, %reason, "market bot transaction refused");
                }
                TxOutcome::Executed { actions } => {
                    for a in actions {
                        if let ActionOutcome::Rejected { code, reason } = a {
                            c.rejected += 1;
                            debug!(?bot, code, %reason, "market bot action rejected");
                        }
                    }
                }
            }
        }
        for e in &block.events {
            match e {
                Event::Book { event: BookEvent::Fill { .. }, .. } => c.trades += 1,
                Event::LiquidationStarted { .. } => c.liquidations += 1,
                Event::LiquidationClosed { .. } => c.book_closes += 1,
                Event::AuctionOpened { .. } => c.auctions_opened += 1,
                Event::AuctionWon { bidder, .. } => {
                    c.auctions_won += 1;
                    let keeper = block
                        .accounts
                        .get(bidder)
                        .and_then(|(owner, _)| self.bot_of.get(owner))
                        .and_then(|&i| self.sim.kind(i))
                        == Some(BotKind::Keeper);
                    if keeper {
                        c.keeper_wins += 1;
                    }
                }
                Event::InsuranceTakeover { .. } => c.insurance += 1,
                Event::Deleveraged { .. } => c.adl += 1,
                _ => {}
            }
        }
    }

    /// Signs and submits one batch.
    fn send(&mut self, batch: Batch) {
        let key = match batch.signer {
            Signer::Bot(i) => match self.bots.get_mut(i as usize) {
                Some(k) => k,
                None => return,
            },
            Signer::Faucet => &mut self.faucet,
        };
        let now = now_ms();
        let body = TxBody {
            chain_id: self.chain_id,
            nonce: key.next_nonce(now),
            master: None,
            actions: batch.actions,
        };
        let bytes = encode_tx(&SignedTx::sign(&key.key, body));
        if let Err(e) = self.node.submit(&bytes, now) {
            self.interval.submit_errors += 1;
            debug!(signer = ?batch.signer, error = %e, "market bot submission refused");
            if let Signer::Bot(i) = batch.signer {
                self.sim.confirm(i);
            }
        }
    }

    fn summary(&mut self, snap: &Snapshot, elapsed: Duration) {
        let c = self.interval;
        self.total.add(&c);
        self.interval = Counts::default();
        let books: Vec<String> = snap
            .markets
            .iter()
            .map(|m| {
                let usd = |ticks: u64| ticks as f64 * m.tick_size_nano as f64 / 1e9;
                match (m.mid(), m.spread_ticks()) {
                    (Some(mid), Some(spread)) => format!(
                        "{} mid {:.1} spread {:.1}bps {:?}",
                        m.symbol,
                        usd(mid),
                        spread as f64 * 1e4 / mid.max(1) as f64,
                        m.status
                    ),
                    _ => format!(
                        "{} not two-sided ({} bid levels, {} ask levels) {:?}",
                        m.symbol,
                        m.bids.len(),
                        m.asks.len(),
                        m.status
                    ),
                }
            })
            .collect();
        let per_min = c.trades as f64 * 60.0 / elapsed.as_secs_f64().max(1e-3);
        let t = self.total;
        info!(
            "market h={} | {} | {:.0}s: {} trades ({:.0}/min), {} liquidations ({} book closes, {} auctions, {} won by keeper, {} insurance, {} adl), bot txs {} (refused {}, actions rejected {}, not admitted {}) | total: {} trades, {} liquidations, {} keeper wins, {} insurance, {} adl; {} blocks dropped",
            snap.height,
            books.join(" | "),
            elapsed.as_secs_f64(),
            c.trades,
            per_min,
            c.liquidations,
            c.book_closes,
            c.auctions_opened,
            c.keeper_wins,
            c.insurance,
            c.adl,
            c.bot_txs,
            c.refused,
            c.rejected,
            c.submit_errors,
            t.trades,
            t.liquidations,
            t.keeper_wins,
            t.insurance,
            t.adl,
            self.dropped.load(Ordering::Relaxed),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_strictly_increasing_per_key() {
        let mut k = Key::new(simulation::key("test", 0));
        assert_eq!(k.next_nonce(1_000), 1_000);
        assert_eq!(k.next_nonce(1_000), 1_001, "same millisecond");
        assert_eq!(k.next_nonce(900), 1_002, "clock stepped back");
        assert_eq!(k.next_nonce(5_000), 5_000);
    }
}
