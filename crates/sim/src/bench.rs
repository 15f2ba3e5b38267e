//! The engine benchmark (`engine-bench`): `apply_block` throughput on the seeded flow, and how
//! the per-block liquidation check scales with the number of accounts.
//!
//! The runners take a [`Stopwatch`] instead of reading a clock, so this library stays free of
//! clocks: the binary passes a wall clock, tests a fake one (and then the report is a pure
//! function of the seed, which the tests check).
//!
//! # Throughput
//! [`Workload::genesis`] builds the engine (markets, funded accounts, books filled to the
//! live-order target, warm-up blocks); then each run times `apply_block` alone on
//! `blocks_per_run` consecutive generated blocks (generation and event observation are not
//! timed). Orders/s counts new orders (adds and IOCs), actions/s every action (adds, IOCs,
//! cancels, modifies); the median and the best run are reported, with p50/p99 block time over
//! every timed block.
//!
//! # Liquidation check
//! For each account count, [`Positions`] builds the fixture, then each run times
//! `blocks_per_run` pairs of empty blocks: one whose prices move 0.5 % on every market and one
//! whose prices stay. The moving block's time is everything the engine does per block when
//! prices move and nobody is liquidatable (an upper bound on the liquidation check); the
//! difference with the still block isolates what the price move costs. The dense sweep values
//! every account's cross bucket in one loop, for comparison.

use std::fmt::Write as _;

use crate::positions::{Positions, PositionsConfig, Sweep};
use crate::workload::{usd, ActionKind, FlowStats, Workload, WorkloadConfig};

/// A source of monotonic nanoseconds, and a place for progress notes.
pub trait Stopwatch {
    /// Nanoseconds since an arbitrary origin; never decreasing.
    fn now_ns(&mut self) -> u64;

    /// A progress note (long setups); ignored by default.
    fn progress(&mut self, _note: &str) {}
}

/// A stopwatch that advances by a fixed step at every reading: deterministic reports in tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FakeStopwatch {
    /// Current reading.
    pub ns: u64,
    /// Advance per reading.
    pub step_ns: u64,
}

impl Stopwatch for FakeStopwatch {
    fn now_ns(&mut self) -> u64 {
        self.ns += self.step_ns;
        self.ns
    }
}

/// The throughput part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThroughputConfig {
    /// The flow.
    pub workload: WorkloadConfig,
    /// Untimed blocks of flow after the books are filled.
    pub warm_blocks: u32,
    /// Timed blocks per run.
    pub blocks_per_run: u32,
    /// Runs.
    pub runs: u32,
}

/// The liquidation part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiquidationConfig {
    /// Account counts, one fixture each.
    pub accounts: Vec<u32>,
    /// Pairs of (moving, still) blocks per run.
    pub blocks_per_run: u32,
    /// Runs (and dense sweeps).
    pub runs: u32,
    /// Each account's deposit in dollars (default $10,000: far from liquidation; a few
    /// hundred dollars make the watch's triggers fire within the run).
    pub deposit_usd: i128,
    /// Seed.
    pub seed: u64,
}

/// What one invocation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    pub throughput: Option<ThroughputConfig>,
    pub liquidation: Option<LiquidationConfig>,
}

impl BenchConfig {
    /// The benchmark: 10 markets, 100k accounts, blocks of 10k actions, 20 blocks per
    /// run; liquidation check at 10k, 100k and 1M accounts.
    pub fn full(seed: u64, runs: u32) -> BenchConfig {
        BenchConfig {
            throughput: Some(ThroughputConfig {
                workload: WorkloadConfig::benchmark(seed),
                warm_blocks: 20,
                blocks_per_run: 20,
                runs,
            }),
            liquidation: Some(LiquidationConfig {
                accounts: vec![10_000, 100_000, 1_000_000],
                blocks_per_run: 20,
                runs,
                deposit_usd: 10_000,
                seed,
            }),
        }
    }

    /// Small sizes, for tests (seconds in a debug build).
    pub fn quick(seed: u64) -> BenchConfig {
        BenchConfig {
            throughput: Some(ThroughputConfig {
                workload: WorkloadConfig::quick(seed),
                warm_blocks: 3,
                blocks_per_run: 3,
                runs: 2,
            }),
            liquidation: Some(LiquidationConfig {
                accounts: vec![1_000, 4_000],
                blocks_per_run: 3,
                runs: 2,
                deposit_usd: 10_000,
                seed,
            }),
        }
    }
}

/// One timed throughput run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// Actions applied.
    pub actions: u64,
    /// Of which new orders.
    pub new_orders: u64,
    /// Time inside `apply_block`.
    pub ns: u64,
}

impl Run {
    /// New orders per second.
    pub fn orders_per_sec(&self) -> f64 {
        per_sec(self.new_orders, self.ns)
    }

    /// Actions per second.
    pub fn actions_per_sec(&self) -> f64 {
        per_sec(self.actions, self.ns)
    }
}

fn per_sec(n: u64, ns: u64) -> f64 {
    n as f64 * 1e9 / ns.max(1) as f64
}

/// Throughput results.
#[derive(Clone, Debug, PartialEq)]
pub struct ThroughputReport {
    pub config: ThroughputConfig,
    /// Time to build the engine, fund the accounts, fill the books and warm up.
    pub setup_ns: u64,
    /// Resting orders after setup.
    pub live_orders_at_start: usize,
    /// Resting orders at the end.
    pub live_orders_at_end: usize,
    pub runs: Vec<Run>,
    /// Every timed block's `apply_block` time, sorted.
    pub block_ns: Vec<u64>,
    /// What the timed blocks contained and what the engine did with it.
    pub stats: FlowStats,
}

impl ThroughputReport {
    /// The run with the median orders/s.
    pub fn median_run(&self) -> Run {
        let mut runs = self.runs.clone();
        runs.sort_by(|a, b| a.orders_per_sec().total_cmp(&b.orders_per_sec()));
        runs.get(runs.len() / 2).copied().unwrap_or_default()
    }

    /// The run with the most orders/s.
    pub fn best_run(&self) -> Run {
        let best =
            self.runs.iter().max_by(|a, b| a.orders_per_sec().total_cmp(&b.orders_per_sec()));
        best.copied().unwrap_or_default()
    }
}

/// Runs the throughput part.
pub fn run_throughput(cfg: &ThroughputConfig, sw: &mut dyn Stopwatch) -> ThroughputReport {
    let t0 = sw.now_ns();
    sw.progress("throughput: setup (markets, deposits, books, warm-up)");
    let (mut w, mut engine) = Workload::genesis(cfg.workload.clone(), cfg.warm_blocks);
    let setup_ns = sw.now_ns() - t0;
    let live_orders_at_start = w.live_orders();
    w.reset_stats();
    let mut runs = Vec::new();
    let mut block_ns = Vec::new();
    for r in 0..cfg.runs {
        let before = w.stats.clone();
        let mut run = Run::default();
        for _ in 0..cfg.blocks_per_run {
            let (ctx, txs) = w.next_block(&engine);
            let t = sw.now_ns();
            let events = engine.apply_block(&ctx, &txs).expect("generated blocks are valid");
            let dt = sw.now_ns() - t;
            w.observe(&events);
            run.ns += dt;
            block_ns.push(dt);
        }
        run.actions = w.stats.actions() - before.actions();
        run.new_orders = w.stats.new_orders() - before.new_orders();
        sw.progress(&format!(
            "throughput: run {} of {}: {:.0} orders/s",
            r + 1,
            cfg.runs,
            run.orders_per_sec()
        ));
        runs.push(run);
    }
    block_ns.sort_unstable();
    ThroughputReport {
        config: cfg.clone(),
        setup_ns,
        live_orders_at_start,
        live_orders_at_end: w.live_orders(),
        runs,
        block_ns,
        stats: w.stats.clone(),
    }
}

/// Liquidation-check results for one account count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiquidationPoint {
    pub accounts: u32,
    /// Setup: engine and first block, deposits, position trades.
    pub setup_deposits_ns: u64,
    pub setup_trades_ns: u64,
    pub setup_blocks: u32,
    /// Per run: mean ns of a moving block and of a still block.
    pub moving_ns: Vec<u64>,
    pub still_ns: Vec<u64>,
    /// Per run: one dense sweep.
    pub sweep_ns: Vec<u64>,
    /// The last sweep's counts.
    pub sweep: Sweep,
    /// Everything the fixture's blocks did (setup included).
    pub stats: FlowStats,
    /// Liquidations started during the timed blocks (should be 0).
    pub liquidations_in_timed_blocks: u64,
    /// Market 0's mark after the last up move and after the last down move (ticks): the
    /// prices did move.
    pub mark_up_down: (u64, u64),
    /// Growth of market 0's watch progress counter `C` over the timed blocks, in quote atoms
    /// per lot (what the watch compares the triggers against).
    pub progress_atoms_per_lot: u128,
}

/// Runs the liquidation part for one account count.
pub fn run_liquidation_point(
    cfg: &LiquidationConfig,
    accounts: u32,
    sw: &mut dyn Stopwatch,
) -> LiquidationPoint {
    sw.progress(&format!("liquidation {accounts}: deposits"));
    let t0 = sw.now_ns();
    let pcfg = PositionsConfig {
        deposit: usd(cfg.deposit_usd),
        ..PositionsConfig::new(accounts, cfg.seed)
    };
    let mut p = Positions::new(pcfg);
    let deposit_blocks = p.deposit_all();
    let t1 = sw.now_ns();
    sw.progress(&format!("liquidation {accounts}: position trades"));
    let trade_blocks = p.trade_all();
    let t2 = sw.now_ns();
    let started_before = p.stats.liquidations_started;
    let (mut moving_ns, mut still_ns, mut sweep_ns) = (Vec::new(), Vec::new(), Vec::new());
    let mut sweep = Sweep::default();
    let blocks = u64::from(cfg.blocks_per_run.max(1));
    let progress_before = p.engine.markets()[0].watch_progress;
    let mut mark_up_down = (0, 0);
    for _ in 0..cfg.runs {
        let (mut moving, mut still) = (0u64, 0u64);
        for _ in 0..blocks {
            let t = sw.now_ns();
            let events = p.block(true);
            moving += sw.now_ns() - t;
            drop(events);
            let mark = p.engine.markets()[0].mark.0;
            if p.is_up() {
                mark_up_down.0 = mark;
            } else {
                mark_up_down.1 = mark;
            }
            let t = sw.now_ns();
            let events = p.block(false);
            still += sw.now_ns() - t;
            drop(events);
        }
        moving_ns.push(moving / blocks);
        still_ns.push(still / blocks);
        let t = sw.now_ns();
        sweep = Positions::dense_sweep(&p.engine);
        sweep_ns.push(sw.now_ns() - t);
    }
    sw.progress(&format!("liquidation {accounts}: done"));
    LiquidationPoint {
        accounts,
        setup_deposits_ns: t1 - t0,
        setup_trades_ns: t2 - t1,
        setup_blocks: deposit_blocks + trade_blocks + 1,
        moving_ns,
        still_ns,
        sweep_ns,
        sweep,
        liquidations_in_timed_blocks: p.stats.liquidations_started - started_before,
        mark_up_down,
        progress_atoms_per_lot: (p.engine.markets()[0].watch_progress - progress_before)
            / 1_000_000_000,
        stats: p.stats,
    }
}

/// Everything one invocation measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub throughput: Option<ThroughputReport>,
    pub liquidation: Vec<LiquidationPoint>,
}

/// Runs what `cfg` asks for.
pub fn run(cfg: &BenchConfig, sw: &mut dyn Stopwatch) -> BenchReport {
    let throughput = cfg.throughput.as_ref().map(|t| run_throughput(t, sw));
    let liquidation = match &cfg.liquidation {
        Some(l) => l.accounts.iter().map(|&n| run_liquidation_point(l, n, sw)).collect(),
        None => Vec::new(),
    };
    BenchReport { throughput, liquidation }
}

/// The median of `xs` (upper median for an even count; 0 when empty).
pub fn median(xs: &[u64]) -> u64 {
    let mut v = xs.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// The `q`-th percentile (nearest rank) of sorted `xs`.
pub fn percentile(sorted: &[u64], q: u32) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * q as usize).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn render_stats(out: &mut String, stats: &FlowStats) {
    let total = stats.actions().max(1) as f64;
    let mix: Vec<String> = ActionKind::ALL
        .iter()
        .filter_map(|k| stats.generated.get(k).map(|n| (k, n)))
        .map(|(k, n)| format!("{} {} ({:.1} %)", k.name(), n, *n as f64 * 100.0 / total))
        .collect();
    let _ = writeln!(out, "  mix: {}", mix.join(", "));
    let _ = writeln!(
        out,
        "  accepted orders {}, fills {} ({} lots), rejections {} ({:.2} % of actions)",
        stats.orders_accepted,
        stats.fills,
        stats.filled_lots,
        stats.rejections(),
        stats.rejections() as f64 * 100.0 / total
    );
    for ((kind, code), (reason, n)) in &stats.rejected {
        let _ =
            writeln!(out, "    rejected {:>7} x {:<7} code {code:>3} {reason:?}", n, kind.name());
    }
}

/// The human-readable report, ending with `key=value` lines.
pub fn render(report: &BenchReport) -> String {
    let mut out = String::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    if let Some(t) = &report.throughput {
        render_throughput(&mut out, t, &mut keys);
    }
    if !report.liquidation.is_empty() {
        render_liquidation(&mut out, &report.liquidation, &mut keys);
    }
    let _ = writeln!(out);
    for (k, v) in keys {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

fn render_throughput(out: &mut String, t: &ThroughputReport, keys: &mut Vec<(String, String)>) {
    let w = &t.config.workload;
    let med = t.median_run();
    let best = t.best_run();
    let _ = writeln!(
        out,
        "apply_block throughput: {} markets, {} accounts ({} makers quoting {} markets each), blocks of {} actions, {} runs x {} blocks, seed {}",
        w.markets, w.accounts, w.makers, w.maker_markets, w.actions_per_block, t.config.runs, t.config.blocks_per_run, w.seed
    );
    let _ = writeln!(
        out,
        "  setup {:.2} s; resting orders {} at start, {} at end",
        t.setup_ns as f64 / 1e9,
        t.live_orders_at_start,
        t.live_orders_at_end
    );
    let runs: Vec<String> = t.runs.iter().map(|r| format!("{:.0}", r.orders_per_sec())).collect();
    let _ = writeln!(out, "  orders/s per run: {}", runs.join(" "));
    let _ = writeln!(
        out,
        "  median run: {:.0} orders/s, {:.0} actions/s; best run: {:.0} orders/s, {:.0} actions/s",
        med.orders_per_sec(),
        med.actions_per_sec(),
        best.orders_per_sec(),
        best.actions_per_sec()
    );
    let p50 = percentile(&t.block_ns, 50);
    let p99 = percentile(&t.block_ns, 99);
    let _ = writeln!(out, "  block time p50 {:.3} ms, p99 {:.3} ms", ms(p50), ms(p99));
    render_stats(out, &t.stats);
    keys.push(("engine_orders_per_sec".into(), format!("{:.0}", med.orders_per_sec())));
    keys.push(("engine_orders_per_sec_best".into(), format!("{:.0}", best.orders_per_sec())));
    keys.push(("engine_actions_per_sec".into(), format!("{:.0}", med.actions_per_sec())));
    keys.push(("engine_block_ms_p50".into(), format!("{:.3}", ms(p50))));
    keys.push(("engine_block_ms_p99".into(), format!("{:.3}", ms(p99))));
    keys.push(("engine_rejections".into(), t.stats.rejections().to_string()));
}

fn render_liquidation(
    out: &mut String,
    points: &[LiquidationPoint],
    keys: &mut Vec<(String, String)>,
) {
    let _ = writeln!(
        out,
        "liquidation check: empty blocks, every index +-0.5 % (moving) vs unchanged (still); 4 positions per account"
    );
    let _ = writeln!(
        out,
        "  {:>9} {:>10} {:>10} {:>10} {:>10} {:>11} {:>11} {:>9} {:>9}",
        "accounts",
        "moving ms",
        "best",
        "still ms",
        "delta ms",
        "sweep ms",
        "sweep best",
        "setup s",
        "liq"
    );
    for p in points {
        let moving = median(&p.moving_ns);
        let still = median(&p.still_ns);
        let sweep = median(&p.sweep_ns);
        let min = |v: &[u64]| v.iter().copied().min().unwrap_or(0);
        let delta = moving.saturating_sub(still);
        let setup = p.setup_deposits_ns + p.setup_trades_ns;
        let _ = writeln!(
            out,
            "  {:>9} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>11.3} {:>11.3} {:>9.2} {:>9}",
            p.accounts,
            ms(moving),
            ms(min(&p.moving_ns)),
            ms(still),
            ms(delta),
            ms(sweep),
            ms(min(&p.sweep_ns)),
            setup as f64 / 1e9,
            p.liquidations_in_timed_blocks
        );
        let _ = writeln!(
            out,
            "    setup: deposits {:.2} s, position trades {:.2} s, {} blocks; sweep saw {} buckets, {} positions, {} below maintenance; setup rejections {}",
            p.setup_deposits_ns as f64 / 1e9,
            p.setup_trades_ns as f64 / 1e9,
            p.setup_blocks,
            p.sweep.buckets,
            p.sweep.positions,
            p.sweep.below_maintenance,
            p.stats.rejections()
        );
        let per_run: Vec<String> = p.moving_ns.iter().map(|&x| format!("{:.3}", ms(x))).collect();
        let _ = writeln!(out, "    moving block ms per run: {}", per_run.join(" "));
        let _ = writeln!(
            out,
            "    market 0 mark {} ticks after an up move, {} after a down move; watch progress C grew by ${:.2} per lot over the timed blocks",
            p.mark_up_down.0,
            p.mark_up_down.1,
            p.progress_atoms_per_lot as f64 / 1e6
        );
        let n = p.accounts;
        keys.push((format!("liq_check_ms_{n}"), format!("{:.3}", ms(moving))));
        keys.push((format!("liq_check_still_ms_{n}"), format!("{:.3}", ms(still))));
        keys.push((format!("liq_check_delta_ms_{n}"), format!("{:.3}", ms(delta))));
        keys.push((format!("liq_dense_sweep_ms_{n}"), format!("{:.3}", ms(sweep))));
        keys.push((format!("liq_setup_s_{n}"), format!("{:.2}", setup as f64 / 1e9)));
    }
}
