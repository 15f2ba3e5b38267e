//! `engine-bench`: `apply_block` throughput and liquidation-check scaling of the engine.
//!
//! ```text
//! cargo run --release -p novation-sim --bin engine-bench -- [--quick] [--only throughput|liquidation]
//!     [--seed 1] [--runs 5] [--accounts 10000,100000,1000000] [--blocks 20]
//! ```
//!
//! See `novation_sim::bench` for what is measured. Prints a human report, then `key=value`
//! lines (`engine_orders_per_sec=…`, `liq_check_ms_1000000=…`).

// An I/O-side binary may measure time: the wall clock lives here, never in the library (the
// workspace clippy.toml disallows `Instant` for the deterministic crates).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::Write as _;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use novation_sim::bench::{self, BenchConfig, Stopwatch};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    Throughput,
    Liquidation,
}

/// Engine benchmark: apply_block throughput and liquidation-check scaling.
#[derive(Debug, Parser)]
#[command(name = "engine-bench")]
struct Args {
    /// Small sizes (seconds; what the test runs).
    #[arg(long)]
    quick: bool,
    /// Run one part only.
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Workload seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timed runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Account counts of the liquidation check.
    #[arg(long, value_delimiter = ',')]
    accounts: Option<Vec<u32>>,
    /// Throughput: markets each maker quotes in (default: all).
    #[arg(long)]
    maker_markets: Option<u16>,
    /// Liquidation check: each account's deposit in dollars (smaller: triggers fire).
    #[arg(long)]
    deposit: Option<i128>,
    /// Timed blocks per run (throughput), or (moving, still) block pairs per run (liquidation).
    #[arg(long)]
    blocks: Option<u32>,
}

#[derive(Debug)]
struct WallClock {
    origin: Instant,
}

impl Stopwatch for WallClock {
    fn now_ns(&mut self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn progress(&mut self, note: &str) {
        eprintln!("[{:8.2} s] {note}", self.origin.elapsed().as_secs_f64());
    }
}

fn config(args: &Args) -> BenchConfig {
    let mut cfg = if args.quick {
        BenchConfig::quick(args.seed)
    } else {
        BenchConfig::full(args.seed, args.runs.max(1))
    };
    if let Some(t) = cfg.throughput.as_mut() {
        if let Some(b) = args.blocks {
            t.blocks_per_run = b.max(1);
        }
        if let Some(k) = args.maker_markets {
            t.workload.maker_markets = k.clamp(1, t.workload.markets);
        }
    }
    if let Some(l) = cfg.liquidation.as_mut() {
        if let Some(a) = &args.accounts {
            l.accounts = a.clone();
        }
        if let Some(b) = args.blocks {
            l.blocks_per_run = b.max(1);
        }
        if let Some(d) = args.deposit {
            l.deposit_usd = d;
        }
    }
    match args.only {
        Some(Part::Throughput) => cfg.liquidation = None,
        Some(Part::Liquidation) => cfg.throughput = None,
        None => {}
    }
    cfg
}

fn main() {
    let args = Args::parse();
    let cfg = config(&args);
    let mut clock = WallClock { origin: Instant::now() };
    let report = bench::run(&cfg, &mut clock);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bench::render(&report).as_bytes());
}
