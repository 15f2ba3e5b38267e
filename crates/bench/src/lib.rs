//! Benchmark of the novation order book against order-book crates from crates.io, on one seeded
//! synthetic flow (see [`flow`]): throughput (median of several runs), per-operation latency
//! percentiles per kind (each the median over as many latency runs), heap bytes per resting order, and a check that every book produces the
//! same fills as the generator's reference book.
//!
//! The binary `book-bench` is a thin wrapper around [`cli_main`]; the integration tests drive
//! [`flow::generate`] and the adapters in [`peers`] directly.

// The bench is I/O-side code, not part of the state machine: it reads the clock to time the
// books (clippy.toml disallows `Instant` for the deterministic crates).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod adapter;
pub mod flow;
pub mod heap;
pub mod measure;
pub mod peers;
pub mod rng;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use adapter::BookUnderTest;
use flow::{Fills, Flow, FlowConfig, OpKind};
use measure::{Heap, Latency, Run};

/// What one invocation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub flow: FlowConfig,
    /// Timed throughput runs, and latency runs, per implementation (medians are reported).
    pub runs: usize,
    /// Run only the implementations with these names (all when empty).
    pub only: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            flow: FlowConfig { seed: 42, resting: 50_000, ops: 1_000_000 },
            runs: 5,
            only: Vec::new(),
        }
    }
}

/// The sizes `--quick` selects (used by the smoke test).
pub const QUICK: FlowConfig = FlowConfig { seed: 42, resting: 2_000, ops: 20_000 };

/// The usage text.
pub const USAGE: &str = "\
usage: book-bench [--seed N] [--runs N] [--resting N] [--ops N] [--quick] [--only NAME,...]

  --seed N      flow seed (default 42)
  --runs N      throughput runs and latency runs per book; medians are reported (default 5)
  --resting N   orders loaded, untimed, before the timed operations (default 50000)
  --ops N       timed operations (default 1000000)
  --quick       small sizes: 2000 resting, 20000 operations, 2 runs (sizes given after it win)
  --only LIST   run only these books (comma-separated: novation, matchcore, lobster, rust_ob,
                orderbook-rs, bare)
";

impl Config {
    /// Parses the command-line flags (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Config, String> {
        let mut config = Config::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            let number = |name: &str, text: String| {
                text.parse::<u64>().map_err(|_| format!("{name}: not a number: {text}"))
            };
            match flag.as_str() {
                "--seed" => config.flow.seed = number("--seed", value("--seed")?)?,
                "--runs" => config.runs = number("--runs", value("--runs")?)? as usize,
                "--resting" => {
                    config.flow.resting = number("--resting", value("--resting")?)? as usize
                }
                "--ops" => config.flow.ops = number("--ops", value("--ops")?)? as usize,
                "--quick" => {
                    config.flow.resting = QUICK.resting;
                    config.flow.ops = QUICK.ops;
                    config.runs = 2;
                }
                "--only" => {
                    config.only =
                        value("--only")?.split(',').map(|s| s.trim().to_string()).collect();
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown flag: {other}")),
            }
        }
        if config.runs == 0 {
            return Err("--runs must be at least 1".to_string());
        }
        Ok(config)
    }
}

/// One implementation: its measurements as monomorphised functions.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub throughput: fn(&Flow) -> Run,
    pub latency: fn(&Flow, u64) -> (Latency, Fills),
    pub heap: fn(&Flow) -> Option<Heap>,
}

impl Entry {
    /// The entry of book `A`.
    pub fn of<A: BookUnderTest>() -> Entry {
        Entry {
            name: A::name(),
            throughput: measure::throughput::<A>,
            latency: measure::latency::<A>,
            heap: measure::heap::<A>,
        }
    }
}

/// The name of our book, as its adapter reports it.
pub const OURS: &str = "novation";

/// Every implementation: ours first, then the peers, then the calibration references
/// ([`peers::REFERENCES`]).
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::of::<peers::Novation>(),
        Entry::of::<peers::Matchcore>(),
        Entry::of::<peers::Lobster>(),
        Entry::of::<peers::RustOb>(),
        Entry::of::<peers::OrderbookRs>(),
        Entry::of::<peers::Bare>(),
    ]
}

/// Runs the whole flow (load, then operations) through book `A` once, untimed; returns its fill
/// totals and error count.
pub fn replay<A: BookUnderTest>(flow: &Flow) -> (Fills, u64) {
    let mut book = A::new();
    for op in flow.resting.iter().chain(&flow.ops) {
        book.apply(op);
    }
    (book.fills(), book.errors())
}

/// The results of one implementation.
#[derive(Clone, Debug)]
pub struct Report {
    pub name: &'static str,
    /// Operations per second of each timed run.
    pub runs_ops_per_s: Vec<f64>,
    /// The latency runs, in run order (reported through [`Report::latency`]).
    pub latency_runs: Vec<Latency>,
    pub heap: Option<Heap>,
    /// Fills of the first run (all runs and the latency run must agree, see `consistent`).
    pub fills: Option<Fills>,
    /// Whether every run reported the same fills.
    pub consistent: bool,
    pub errors: u64,
    /// A panic message, if the book panicked (it is then not run again).
    pub panic: Option<String>,
}

impl Report {
    fn new(name: &'static str) -> Report {
        Report {
            name,
            runs_ops_per_s: Vec::new(),
            latency_runs: Vec::new(),
            heap: None,
            fills: None,
            consistent: true,
            errors: 0,
            panic: None,
        }
    }

    /// Latency: each percentile the median over the latency runs ([`Latency::median_of`]).
    pub fn latency(&self) -> Option<Latency> {
        Latency::median_of(&self.latency_runs)
    }

    /// Median operations per second over the runs.
    pub fn ops_per_s(&self) -> f64 {
        measure::median(&self.runs_ops_per_s)
    }

    /// Whether the book ran to the end and its fills equal `expected` in every run.
    pub fn fills_match(&self, expected: Fills) -> bool {
        self.panic.is_none() && self.consistent && self.fills == Some(expected)
    }

    fn note_fills(&mut self, fills: Fills) {
        match self.fills {
            None => self.fills = Some(fills),
            Some(first) => self.consistent &= first == fills,
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// The outcome of a whole invocation.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub reports: Vec<Report>,
    /// Whether our book (if it ran) reproduced the shadow book's fills.
    pub ours_ok: bool,
    /// Our median ops/s divided by the fastest peer's (every peer that ran to the end, whether
    /// or not its fills match), if both ran.
    pub ratio: Option<f64>,
    /// The same against the fastest peer whose fills match the reference book.
    pub ratio_matching: Option<f64>,
    /// The calibration reference `bare`'s median ops/s divided by the fastest peer's (the
    /// issue quotes about 4.5 for such a book on this machine), if both ran.
    pub bare_ratio: Option<f64>,
}

/// Runs the benchmark and writes the report to `out`; progress goes to `progress`.
pub fn run(config: &Config, out: &mut dyn Write, progress: &mut dyn Write) -> io::Result<Outcome> {
    let selected: Vec<Entry> = entries()
        .into_iter()
        .filter(|e| config.only.is_empty() || config.only.iter().any(|n| n == e.name))
        .collect();
    writeln!(
        progress,
        "generating flow: seed {} resting {} ops {}",
        config.flow.seed, config.flow.resting, config.flow.ops
    )?;
    let flow = flow::generate(config.flow);
    let overhead = measure::timer_overhead_ns();
    let mut reports: Vec<Report> = selected.iter().map(|e| Report::new(e.name)).collect();

    let guard = |report: &mut Report, f: &mut dyn FnMut(&mut Report)| {
        if report.panic.is_some() {
            return;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(report))) {
            report.panic = Some(panic_message(payload));
        }
    };

    for (entry, report) in selected.iter().zip(&mut reports) {
        writeln!(progress, "{}: heap", entry.name)?;
        guard(report, &mut |r| r.heap = (entry.heap)(&flow));
    }
    // Runs interleave the books, so that drift in machine state spreads over all of them.
    for run in 0..config.runs {
        for (entry, report) in selected.iter().zip(&mut reports) {
            writeln!(progress, "{}: run {}/{}", entry.name, run + 1, config.runs)?;
            guard(report, &mut |r| {
                let result = (entry.throughput)(&flow);
                r.runs_ops_per_s.push(flow.ops.len() as f64 / result.elapsed.as_secs_f64());
                r.errors = r.errors.max(result.errors);
                r.note_fills(result.fills);
            });
        }
    }
    // As many latency runs as throughput runs, interleaved the same way; each percentile
    // reported is the median over them.
    for run in 0..config.runs {
        for (entry, report) in selected.iter().zip(&mut reports) {
            writeln!(progress, "{}: latency {}/{}", entry.name, run + 1, config.runs)?;
            guard(report, &mut |r| {
                let (latency, fills) = (entry.latency)(&flow, overhead);
                r.latency_runs.push(latency);
                r.note_fills(fills);
            });
        }
    }

    let ours = reports.iter().find(|r| r.name == OURS);
    let ours_ok = ours.is_none_or(|r| r.fills_match(flow.expected));
    let fastest = |matching_only: bool| fastest_peer(&reports, flow.expected, matching_only);
    let ours_ops = ours.filter(|r| r.panic.is_none()).map(Report::ops_per_s);
    let ratio = ours_ops.zip(fastest(false)).map(|(o, p)| o / p);
    let ratio_matching = ours_ops.zip(fastest(true)).map(|(o, p)| o / p);
    let bare_ops = reports
        .iter()
        .find(|r| r.name == peers::Bare::name() && r.panic.is_none())
        .map(Report::ops_per_s);
    let bare_ratio = bare_ops.zip(fastest(false)).map(|(b, p)| b / p);
    let outcome = Outcome { reports, ours_ok, ratio, ratio_matching, bare_ratio };
    write_report(config, &flow, overhead, &outcome, out)?;
    Ok(outcome)
}

/// The median ops/s of the fastest peer that ran to the end (whose fills match `expected`, with
/// `matching_only`): neither ours nor a calibration reference ([`peers::REFERENCES`]).
fn fastest_peer(reports: &[Report], expected: Fills, matching_only: bool) -> Option<f64> {
    reports
        .iter()
        .filter(|r| r.name != OURS && !peers::is_reference(r.name) && r.panic.is_none())
        .filter(|r| !matching_only || r.fills_match(expected))
        .map(Report::ops_per_s)
        .fold(None, |best: Option<f64>, x| Some(best.map_or(x, |b| b.max(x))))
}

fn fmt_opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| v.to_string())
}

fn write_report(
    config: &Config,
    flow: &Flow,
    overhead: u64,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = &flow.stats;
    writeln!(
        out,
        "book-bench: seed {} | {} resting orders loaded untimed | {} timed operations | {} runs",
        config.flow.seed,
        flow.resting.len(),
        flow.ops.len(),
        config.runs
    )?;
    writeln!(
        out,
        "flow: {} adds, {} cancels ({} among recent orders), {} IOCs meeting {} makers (per IOC p50 {} p99 {} max {}; {} over 2+ levels; {} with a cancelled remainder)",
        s.adds,
        s.cancels,
        s.recent_cancels,
        s.iocs,
        s.ioc_makers_met,
        s.ioc_makers_p50,
        s.ioc_makers_p99,
        s.ioc_makers_max,
        s.ioc_multi_level,
        s.ioc_with_remainder
    )?;
    writeln!(
        out,
        "book: {} live orders after load, {} at end ({} levels); best bid >= {}, best ask <= {}",
        s.live_after_load, s.live_at_end, s.levels_at_end, s.best_bid_min, s.best_ask_max
    )?;
    writeln!(
        out,
        "expected fills (shadow book): qty {} notional {}",
        flow.expected.qty, flow.expected.notional
    )?;
    writeln!(
        out,
        "latency: one Instant pair per operation, median timer overhead {overhead} ns subtracted; \
         each percentile is the median over {} latency runs",
        config.runs
    )?;
    writeln!(out)?;

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<13} {:>12} {:>13} {:>13} {:>13} {:>9} {:>12} {:>14} {:>18}  fills",
        "book",
        "ops/s",
        "add p50/p99",
        "cancel p50/99",
        "ioc p50/p99",
        "B/order",
        "prealloc B",
        "fills qty",
        "fills notional",
    );
    for r in &outcome.reports {
        let lat = |k: OpKind| {
            r.latency().map_or_else(
                || "n/a".to_string(),
                |l| format!("{}/{}", l.kinds[k as usize].p50, l.kinds[k as usize].p99),
            )
        };
        let verdict = if let Some(p) = &r.panic {
            format!("PANICKED: {p}")
        } else if r.fills_match(flow.expected) {
            "match".to_string()
        } else {
            "DIFFER".to_string()
        };
        let _ = writeln!(
            table,
            "{:<13} {:>12.0} {:>13} {:>13} {:>13} {:>9} {:>12} {:>14} {:>18}  {}{}",
            r.name,
            r.ops_per_s(),
            lat(OpKind::Add),
            lat(OpKind::Cancel),
            lat(OpKind::Ioc),
            r.heap.map_or_else(|| "n/a".to_string(), |h| format!("{:.1}", h.bytes_per_order)),
            fmt_opt(r.heap.map(|h| h.prealloc_bytes)),
            fmt_opt(r.fills.map(|f| f.qty)),
            fmt_opt(r.fills.map(|f| f.notional)),
            verdict,
            if r.errors > 0 { format!(" ({} errors)", r.errors) } else { String::new() },
        );
    }
    out.write_all(table.as_bytes())?;
    writeln!(out)?;
    // The runs behind each median, in the order they ran (interleaved with the other books'),
    // so that the spread of a noisy host shows next to the figure.
    writeln!(out, "throughput runs (M ops/s, in run order):")?;
    for r in &outcome.reports {
        let runs: Vec<String> =
            r.runs_ops_per_s.iter().map(|x| format!("{:.2}", x / 1e6)).collect();
        writeln!(out, "  {:<13} {}", r.name, runs.join(" "))?;
    }
    writeln!(out, "latency runs (p99 ns add/cancel/ioc, in run order):")?;
    for r in &outcome.reports {
        let runs: Vec<String> = r
            .latency_runs
            .iter()
            .map(|l| {
                let [add, cancel, ioc] = l.kinds.map(|p| p.p99);
                format!("{add}/{cancel}/{ioc}")
            })
            .collect();
        writeln!(out, "  {:<13} {}", r.name, runs.join(" "))?;
    }
    writeln!(
        out,
        "cancels whose target was drawn uniformly over the live orders ({} of {}; the rest \
         target recent orders), p50/p99 ns, medians over the runs:",
        flow.uniform_cancels.len(),
        flow.stats.cancels
    )?;
    for r in &outcome.reports {
        let p = r.latency().map(|l| l.uniform_cancels);
        writeln!(
            out,
            "  {:<13} {}/{}",
            r.name,
            fmt_opt(p.map(|p| p.p50)),
            fmt_opt(p.map(|p| p.p99))
        )?;
    }
    writeln!(out)?;
    for r in &outcome.reports {
        if !r.fills_match(flow.expected) {
            let got = r.fills.map_or_else(
                || "none".to_string(),
                |f| format!("qty {} notional {}", f.qty, f.notional),
            );
            writeln!(
                out,
                "MISMATCH {}: fills {} vs expected qty {} notional {}{}{}",
                r.name,
                got,
                flow.expected.qty,
                flow.expected.notional,
                if r.consistent { "" } else { " (runs disagree with each other)" },
                r.panic.as_ref().map_or(String::new(), |p| format!(" (panicked: {p})")),
            )?;
            if let Some(why) = peers::known_deviation(r.name) {
                writeln!(out, "  known: {why}")?;
            }
        }
    }
    for r in &outcome.reports {
        let mut line = format!("{} ops_per_s={:.0}", r.name, r.ops_per_s());
        for kind in OpKind::ALL {
            let p = r.latency().map(|l| l.kinds[kind as usize]);
            let _ = write!(
                line,
                " {}_p50_ns={} {}_p99_ns={}",
                kind.name(),
                fmt_opt(p.map(|p| p.p50)),
                kind.name(),
                fmt_opt(p.map(|p| p.p99))
            );
        }
        let _ = write!(
            line,
            " cancel_uniform_p99_ns={}",
            fmt_opt(r.latency().map(|l| l.uniform_cancels.p99))
        );
        let _ = write!(
            line,
            " heap_bytes_per_order={} heap_prealloc_bytes={} fills_qty={} fills_notional={} errors={} fills_match={}",
            r.heap.map_or_else(|| "n/a".to_string(), |h| format!("{:.1}", h.bytes_per_order)),
            fmt_opt(r.heap.map(|h| h.prealloc_bytes)),
            fmt_opt(r.fills.map(|f| f.qty)),
            fmt_opt(r.fills.map(|f| f.notional)),
            r.errors,
            if r.fills_match(flow.expected) { "yes" } else { "no" },
        );
        writeln!(out, "{line}")?;
    }
    let ratio = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"));
    // The calibration line: where the bare reference stood against the same peer in this run.
    writeln!(out, "bare_ratio_vs_fastest_peer={}", ratio(outcome.bare_ratio))?;
    writeln!(out, "ratio_vs_fastest_matching_peer={}", ratio(outcome.ratio_matching))?;
    writeln!(out, "ratio_vs_fastest_peer={}", ratio(outcome.ratio))?;
    Ok(())
}

/// The command: parses `args` (without the program name), runs, prints; returns the exit code
/// (0, or 1 if our book's fills differ from the shadow book's, 2 on bad flags).
pub fn cli_main<I: IntoIterator<Item = String>>(args: I) -> i32 {
    let config = match Config::parse(args) {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("book-bench: {message}");
            }
            eprint!("{USAGE}");
            return 2;
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut progress = io::stderr();
    match run(&config, &mut out, &mut progress) {
        Ok(outcome) if outcome.ours_ok => 0,
        Ok(_) => {
            eprintln!(
                "book-bench: novation's fills differ from the shadow book's: a bug in our book"
            );
            1
        }
        Err(e) => {
            eprintln!("book-bench: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &'static str, ops: f64, fills: Fills) -> Report {
        let mut r = Report::new(name);
        r.runs_ops_per_s.push(ops);
        r.fills = Some(fills);
        r
    }

    /// The bare reference is faster than every peer here, and still never the fastest peer;
    /// a peer with wrong fills counts only when matching is not asked.
    #[test]
    fn fastest_peer_skips_ours_and_the_references() {
        let right = Fills { qty: 5, notional: 50 };
        let wrong = Fills { qty: 8, notional: 83 };
        let reports = [
            report(OURS, 30e6, right),
            report("matchcore", 9e6, wrong),
            report("lobster", 4e6, right),
            report("bare", 60e6, right),
        ];
        assert_eq!(fastest_peer(&reports, right, false), Some(9e6));
        assert_eq!(fastest_peer(&reports, right, true), Some(4e6));
        assert_eq!(fastest_peer(&reports[..1], right, false), None);
    }

    /// Each percentile of each kind is the median of that percentile on its own (not the
    /// percentiles of one chosen run), and an even count takes the lower middle value.
    #[test]
    fn latency_percentiles_are_medians_over_the_runs() {
        let run = |p99s: [u64; 3], p50: u64| {
            let mut l = Latency::default();
            l.uniform_cancels.p99 = p99s[1] + 100;
            for (kind, p99) in p99s.into_iter().enumerate() {
                l.kinds[kind] =
                    measure::Percentiles { count: 7, p50, p99, p999: p99 * 2, max: p99 * 3 };
            }
            l
        };
        let runs =
            [run([300, 400, 2000], 10), run([100, 350, 1000], 30), run([200, 500, 1500], 20)];
        let m = Latency::median_of(&runs).expect("three runs");
        let [add, cancel, ioc] = m.kinds;
        assert_eq!((add.p50, add.p99, add.p999, add.max, add.count), (20, 200, 400, 600, 7));
        assert_eq!((cancel.p99, ioc.p99, m.uniform_cancels.p99), (400, 1500, 500));
        assert_eq!(Latency::median_of(&runs[..2]).expect("two").kinds[0].p99, 100);
        assert_eq!(Latency::median_of(&[]), None);
    }
}
