//! The liquidation-check fixture: many accounts, each holding positions in several markets,
//! none near liquidation, and blocks whose prices move while nobody trades.
//!
//! # Construction (through actions only, as a chain would)
//! 1. one block with every market's index;
//! 2. deposits of `deposit` for every account, in blocks of `actions_per_block`;
//! 3. accounts `2i` and `2i + 1` trade with each other once in each of the first
//!    `position_markets` markets: `2i` rests a GTC limit at the index, `2i + 1` takes it with an
//!    IOC at the same price; `2i` is long in market `j` when `i + j` is even. Sizes are 1–4 lots
//!    (seeded), so with the default $10,000 deposit an account holds at most $800 of notional.
//!
//! Then [`Positions::block`] runs empty blocks; a moving block sets every market's index
//! 0.5 % above its base or back to the base (alternately), a still block repeats the last
//! prices. With $10,000 of buffer over at most 16 lots, a position's watch trigger is about
//! 2,400 moving blocks away, so nothing becomes liquidatable or even due for re-evaluation
//! within a benchmark.

use novation_engine::{
    bucket_value, Action, Engine, EngineParams, Event, MarketId, OrderRequest, Tx,
};
use novation_types::{AccountId, Quote, Side};

use crate::rng::SplitMix64;
use crate::workload::{index_base, new_engine, sim_address, usd, ActionKind, FlowStats, Heights};

/// The shape of the fixture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionsConfig {
    /// Accounts (rounded down to an even number: they trade in pairs).
    pub accounts: u32,
    /// Markets.
    pub markets: u16,
    /// Markets in which every account holds a position (the first ones).
    pub position_markets: u16,
    /// Each account's deposit.
    pub deposit: Quote,
    /// Actions per setup block.
    pub actions_per_block: u32,
    /// The index move of a moving block, in basis points.
    pub move_bps: u64,
    /// Seed (position sizes).
    pub seed: u64,
}

impl PositionsConfig {
    /// `accounts` accounts with 4 positions each across 10 markets, $10,000 each, moves of 0.5 %.
    pub fn new(accounts: u32, seed: u64) -> PositionsConfig {
        PositionsConfig {
            accounts,
            markets: 10,
            position_markets: 4,
            deposit: usd(10_000),
            actions_per_block: 100_000,
            move_bps: 50,
            seed,
        }
    }
}

/// The result of a dense sweep over every account's cross bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Buckets valued.
    pub buckets: u64,
    /// Of which below maintenance.
    pub below_maintenance: u64,
    /// Positions seen.
    pub positions: u64,
}

/// The fixture. See the module doc.
#[derive(Debug)]
pub struct Positions {
    cfg: PositionsConfig,
    /// The engine.
    pub engine: Engine,
    heights: Heights,
    index: Vec<u64>,
    up: bool,
    /// Counts of the setup blocks (and of the empty blocks after).
    pub stats: FlowStats,
}

impl Positions {
    /// The engine with markets and their first index; no accounts yet.
    pub fn new(cfg: PositionsConfig) -> Positions {
        assert!(cfg.position_markets <= cfg.markets, "positions in existing markets");
        let params =
            EngineParams { actions_per_block_max: cfg.actions_per_block, ..EngineParams::DEFAULT };
        let engine = new_engine(cfg.markets, params);
        let index = (0..cfg.markets).map(index_base).collect();
        let mut p = Positions {
            cfg,
            engine,
            heights: Heights::default(),
            index,
            up: false,
            stats: FlowStats::default(),
        };
        p.run(&[], &[]);
        p
    }

    fn pairs(&self) -> u32 {
        self.cfg.accounts / 2
    }

    fn run(&mut self, kinds: &[ActionKind], txs: &[Tx]) -> Vec<Event> {
        let ctx = self.heights.next(&self.index);
        let events = self.engine.apply_block(&ctx, txs).expect("fixture blocks are valid");
        self.stats.count_events(kinds, &events);
        events
    }

    /// Step 2: funds every account. Returns the number of blocks.
    pub fn deposit_all(&mut self) -> u32 {
        let accounts = self.pairs() * 2;
        let chunk = self.cfg.actions_per_block;
        let (mut next, mut blocks) = (0u32, 0u32);
        while next < accounts {
            let end = next.saturating_add(chunk).min(accounts);
            let txs: Vec<Tx> = (next..end)
                .map(|i| Tx {
                    sender: sim_address(i),
                    action: Action::Deposit { sub: 0, amount: self.cfg.deposit },
                })
                .collect();
            self.run(&vec![ActionKind::Deposit; txs.len()], &txs);
            next = end;
            blocks += 1;
        }
        blocks
    }

    /// Step 3: every pair trades once per position market. Returns the number of blocks.
    pub fn trade_all(&mut self) -> u32 {
        let mut rng = SplitMix64::new(self.cfg.seed);
        let per_pair = 2 * u32::from(self.cfg.position_markets);
        let pairs_per_block = (self.cfg.actions_per_block / per_pair).max(1);
        let (mut next, mut blocks) = (0u32, 0u32);
        while next < self.pairs() {
            let end = next.saturating_add(pairs_per_block).min(self.pairs());
            let mut txs = Vec::with_capacity(((end - next) * per_pair) as usize);
            for pair in next..end {
                for j in 0..self.cfg.position_markets {
                    let market = MarketId(j);
                    let price = self.index[usize::from(j)];
                    let qty = rng.range(1, 4);
                    let maker_side =
                        if (pair + u32::from(j)) % 2 == 0 { Side::Buy } else { Side::Sell };
                    let rest = OrderRequest::limit(0, market, maker_side, price, qty);
                    let take = OrderRequest::market(0, market, maker_side.opposite(), price, qty);
                    txs.push(Tx { sender: sim_address(2 * pair), action: Action::Place(rest) });
                    txs.push(Tx { sender: sim_address(2 * pair + 1), action: Action::Place(take) });
                }
            }
            self.run(&vec![ActionKind::Setup; txs.len()], &txs);
            next = end;
            blocks += 1;
        }
        blocks
    }

    /// One empty block; with `moving`, every market's index jumps by `move_bps` (up from the
    /// base, or back down to it).
    pub fn block(&mut self, moving: bool) -> Vec<Event> {
        if moving {
            self.up = !self.up;
            for (i, p) in self.index.iter_mut().enumerate() {
                let base = index_base(i as u16);
                *p = if self.up { base + base * self.cfg.move_bps / 10_000 } else { base };
            }
        }
        self.run(&[], &[])
    }

    /// Whether the last moving block moved prices up (away from the base).
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Values every account's cross bucket at the current marks in one loop and counts those
    /// below maintenance: the dense alternative to the engine's watch.
    pub fn dense_sweep(engine: &Engine) -> Sweep {
        let markets = engine.markets();
        let mut s = Sweep::default();
        for i in 0..engine.account_count() {
            let Some(acc) = engine.account(AccountId(i as u32)) else { continue };
            let v = bucket_value(markets, &acc.cross, None, 0).expect("valuation in range");
            s.buckets += 1;
            s.positions += u64::from(v.positions);
            s.below_maintenance += u64::from(v.equity < v.maintenance);
        }
        s
    }
}
