//! A [`MarketSim`] driving a bare engine block by block: the devnet market without a chain,
//! for tests and crash replays.
//!
//! # A block
//! 1. the batches due at this height (sent `1 + latency_blocks` blocks earlier, as a chain
//!    would include them) become engine transactions: a bot's actions act for the bot's
//!    address, a faucet credit for its recipient (`TxAction::engine_tx`);
//! 2. the engine applies them with the block's index prices ([`PricePath`]);
//! 3. the events are counted ([`RunStats`]) and folded into a digest; the bots whose batches
//!    were applied are confirmed;
//! 4. a [`Snapshot`] is captured and the bots' next batches are queued.
//!
//! The engine is the devnet genesis's ([`Genesis::devnet`]: BTC-PERP at $100,000 and ETH-PERP
//! at $3,500, insurance funds seeded). Signatures, nonces and the faucet's sender check are the
//! chain's business and are not modelled. Everything is a function of the population, the
//! latency and the price path: the same inputs give the same events (compare
//! [`RunStats::digest`]).

use std::collections::{BTreeMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use commonware_cryptography::Signer as _;
use novation_book::Event as BookEvent;
use novation_chain::genesis::Genesis;
use novation_chain::simulation;
use novation_chain::tx::{address_of, ChainId, PublicKey};
use novation_engine::{BlockContext, BlockError, Engine, Event, MarketId, Rejection, Tx};
use novation_types::{Address, PriceTicks};

use super::{Batch, BotKind, MarketSim, Population, PopulationError, Signer, Snapshot};
use crate::rng::SplitMix64;
use crate::workload::sim_address;

/// Block interval of the simulated chain.
pub const BLOCK_INTERVAL_MS: u64 = 250;

/// Genesis time of the simulated chain.
pub const GENESIS_TIME_MS: u64 = 1_800_000_000_000;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Blocks applied.
    pub blocks: u64,
    /// Engine actions sent, by bot kind (`None`: faucet credits).
    pub actions: BTreeMap<Option<BotKind>, u64>,
    /// Rejections by (sender kind, code), with the reason.
    pub rejected: BTreeMap<(Option<BotKind>, u16), (Rejection, u64)>,
    /// Fills.
    pub fills: u64,
    /// Lots filled.
    pub filled_lots: u64,
    /// Buckets that entered the waterfall.
    pub liquidations_started: u64,
    /// Waterfall step 2: closes in the book.
    pub liquidation_closes: u64,
    /// Step 3: auctions opened.
    pub auctions_opened: u64,
    /// Auctions won, by anyone.
    pub auctions_won: u64,
    /// Auctions won by a keeper bot.
    pub auctions_won_by_keepers: u64,
    /// Step 4: insurance takeovers.
    pub insurance_takeovers: u64,
    /// Step 5: ADL fills.
    pub deleveraged: u64,
    /// Deficits nothing covered.
    pub uncovered_deficits: u64,
    /// Per market: blocks after which its book had a bid and an ask, both inside the band.
    pub two_sided_blocks: Vec<u64>,
    /// Per market: blocks after which it could open positions (active, fresh index).
    pub open_blocks: Vec<u64>,
    /// A digest of every event, in order.
    pub digest: u64,
}

impl RunStats {
    /// Rejections in total.
    pub fn rejections(&self) -> u64 {
        self.rejected.values().map(|(_, n)| n).sum()
    }

    /// Actions sent in total.
    pub fn total_actions(&self) -> u64 {
        self.actions.values().sum()
    }
}

/// Index prices block by block: a small seeded random walk (steps of at most 0.5 bps), with
/// an optional crash laid over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricePath {
    walk: Vec<u64>,
    rng: SplitMix64,
    crash: Option<Crash>,
    block: u64,
}

/// A linear fall of `drop_bps` over `over_blocks` blocks, starting after block `at_block`, then
/// holding at the bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The last block before the fall.
    pub at_block: u64,
    /// Blocks the fall takes.
    pub over_blocks: u64,
    /// Depth, basis points (5,000: −50 %).
    pub drop_bps: u64,
}

impl PricePath {
    /// A calm walk from `start`.
    pub fn calm(seed: u64, start: Vec<u64>) -> PricePath {
        PricePath { walk: start, rng: SplitMix64::new(seed), crash: None, block: 0 }
    }

    /// The same walk with `crash` laid over it.
    pub fn with_crash(self, crash: Crash) -> PricePath {
        PricePath { crash: Some(crash), ..self }
    }

    /// The next block's index per market.
    pub fn next_block(&mut self) -> Vec<u64> {
        self.block += 1;
        for p in &mut self.walk {
            let step = self.rng.below(11);
            let size = *p * step.abs_diff(5) / 100_000;
            *p = if step > 5 { *p + size } else { (*p - size).max(1) };
        }
        let factor_ppm = match self.crash {
            Some(c) if self.block > c.at_block => {
                let t = (self.block - c.at_block).min(c.over_blocks);
                1_000_000 - c.drop_bps * 100 * t / c.over_blocks.max(1)
            }
            _ => 1_000_000,
        };
        self.walk.iter().map(|p| (p * factor_ppm / 1_000_000).max(1)).collect()
    }
}

/// The harness. See the module doc.
#[derive(Debug)]
pub struct EngineRun {
    /// The engine.
    pub engine: Engine,
    sim: MarketSim,
    addresses: Vec<Address>,
    kinds: BTreeMap<Address, BotKind>,
    faucet: Address,
    genesis_index: Vec<u64>,
    latency_blocks: u64,
    queue: VecDeque<(u64, Batch)>,
    height: u64,
    time_ms: u64,
    /// What happened so far.
    pub stats: RunStats,
}

impl EngineRun {
    /// The devnet genesis engine and `population`, whose batches execute `latency_blocks` blocks
    /// after the block they were decided on.
    pub fn devnet(
        population: &Population,
        latency_blocks: u64,
    ) -> Result<EngineRun, PopulationError> {
        let validator = simulation::key("market-run-validator", 0).public_key();
        let faucet = address_of(&PublicKey::Ed25519(simulation::key("faucet", 0).public_key()));
        let genesis = Genesis::devnet(ChainId(1), GENESIS_TIME_MS, vec![validator], faucet);
        let engine = genesis.engine().map_err(|_| PopulationError("the devnet genesis"))?;
        let addresses: Vec<Address> = (0..population.len() as u32).map(sim_address).collect();
        let sim = MarketSim::new(population, &addresses)?;
        let kinds = addresses
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((*a, sim.kind(i as u32)?)))
            .collect();
        let markets = engine.markets().len();
        Ok(EngineRun {
            genesis_index: genesis.markets.iter().map(|m| genesis.genesis_index(m).0).collect(),
            engine,
            sim,
            addresses,
            kinds,
            faucet,
            latency_blocks,
            queue: VecDeque::new(),
            height: 0,
            time_ms: GENESIS_TIME_MS,
            stats: RunStats {
                two_sided_blocks: vec![0; markets],
                open_blocks: vec![0; markets],
                ..RunStats::default()
            },
        })
    }

    /// Each market's genesis index.
    pub fn genesis_index(&self) -> Vec<u64> {
        self.genesis_index.clone()
    }

    /// The bots.
    pub fn sim(&self) -> &MarketSim {
        &self.sim
    }

    /// Bot `i`'s address.
    pub fn address(&self, i: u32) -> Option<Address> {
        self.addresses.get(i as usize).copied()
    }

    /// One block with these index prices (one per market); returns its events.
    pub fn block(&mut self, index: &[u64]) -> Result<Vec<Event>, BlockError> {
        let height = self.height + 1;
        let mut txs: Vec<Tx> = Vec::new();
        let mut origins: Vec<Option<BotKind>> = Vec::new();
        let mut applied = Vec::new();
        while self.queue.front().is_some_and(|(due, _)| *due <= height) {
            let Some((_, batch)) = self.queue.pop_front() else { break };
            let (principal, kind) = match batch.signer {
                Signer::Bot(i) => {
                    applied.push(i);
                    (self.addresses[i as usize], self.sim.kind(i))
                }
                Signer::Faucet => (self.faucet, None),
            };
            for tx in batch.actions.iter().filter_map(|a| a.engine_tx(principal)) {
                txs.push(tx);
                origins.push(kind);
            }
        }
        let ctx = BlockContext {
            height,
            time_ms: self.time_ms + BLOCK_INTERVAL_MS,
            index_prices: index
                .iter()
                .enumerate()
                .map(|(i, &p)| (MarketId(i as u16), PriceTicks(p)))
                .collect(),
        };
        let events = self.engine.apply_block(&ctx, &txs)?;
        self.height = height;
        self.time_ms = ctx.time_ms;
        self.count(&origins, &events);
        for i in applied {
            self.sim.confirm(i);
        }
        let snap = Snapshot::capture(&self.engine, &self.addresses);
        for (m, view) in snap.markets.iter().enumerate() {
            let inside = |p: Option<u64>| p.is_some_and(|p| view.in_band(p));
            if inside(view.best_bid()) && inside(view.best_ask()) {
                self.stats.two_sided_blocks[m] += 1;
            }
            if view.can_open() {
                self.stats.open_blocks[m] += 1;
            }
        }
        let due = height + 1 + self.latency_blocks;
        for batch in self.sim.step(&snap) {
            self.queue.push_back((due, batch));
        }
        Ok(events)
    }

    fn count(&mut self, origins: &[Option<BotKind>], events: &[Event]) {
        let s = &mut self.stats;
        s.blocks += 1;
        for kind in origins {
            *s.actions.entry(*kind).or_default() += 1;
        }
        let mut h = DefaultHasher::new();
        s.digest.hash(&mut h);
        for e in events {
            format!("{e:?}").hash(&mut h);
            match e {
                Event::Rejected { index, reason } => {
                    let kind = origins.get(*index as usize).copied().flatten();
                    s.rejected.entry((kind, reason.code())).or_insert((*reason, 0)).1 += 1;
                }
                Event::Book { event: BookEvent::Fill { qty, .. }, .. } => {
                    s.fills += 1;
                    s.filled_lots += qty.0;
                }
                Event::LiquidationStarted { .. } => s.liquidations_started += 1,
                Event::LiquidationClosed { .. } => s.liquidation_closes += 1,
                Event::AuctionOpened { .. } => s.auctions_opened += 1,
                Event::AuctionWon { bidder, .. } => {
                    s.auctions_won += 1;
                    let owner = self.engine.account(*bidder).map(|a| a.owner);
                    if owner.and_then(|o| self.kinds.get(&o)) == Some(&BotKind::Keeper) {
                        s.auctions_won_by_keepers += 1;
                    }
                }
                Event::InsuranceTakeover { .. } => s.insurance_takeovers += 1,
                Event::Deleveraged { .. } => s.deleveraged += 1,
                Event::UncoveredDeficit { .. } => s.uncovered_deficits += 1,
                _ => {}
            }
        }
        s.digest = h.finish();
    }
}
