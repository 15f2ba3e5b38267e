//! Timing, latency and heap measurements of one book under test over a flow.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::adapter::BookUnderTest;
use crate::flow::{Fills, Flow, OpKind};
use crate::heap;

/// A fresh book with the flow's resting orders loaded (untimed).
fn loaded<A: BookUnderTest>(flow: &Flow) -> A {
    let mut book = A::new();
    for op in &flow.resting {
        book.apply(op);
    }
    book
}

/// One throughput run: the timed operations of the flow, one `Instant` pair around the loop.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub elapsed: Duration,
    /// Fills over load and operations.
    pub fills: Fills,
    pub errors: u64,
}

/// Builds a fresh book, loads the resting orders (untimed), times the operations.
pub fn throughput<A: BookUnderTest>(flow: &Flow) -> Run {
    let mut book = loaded::<A>(flow);
    let start = Instant::now();
    for op in &flow.ops {
        book.apply(black_box(op));
    }
    let elapsed = start.elapsed();
    black_box(&mut book);
    let run = Run { elapsed, fills: book.fills(), errors: book.errors() };
    drop(book);
    run
}

/// Latency percentiles of one kind of operation, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [u64]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let r = (p * samples.len() as f64).ceil() as usize;
            samples[r.clamp(1, samples.len()) - 1]
        };
        Percentiles {
            count: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            p999: rank(0.999),
            max: samples[samples.len() - 1],
        }
    }
}

/// Per-kind latency of one run, indexed by `OpKind as usize`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency {
    pub kinds: [Percentiles; 3],
    /// The cancels whose target the flow drew uniformly over the live orders (a fifth of
    /// them; [`Flow::uniform_cancels`]), on their own: they set the cancel p99.
    pub uniform_cancels: Percentiles,
}

impl Percentiles {
    /// Each field the median of that field over `runs` (the lower of the two middle values for
    /// an even count, so every figure is one a run measured); `count` is the first run's.
    fn median_of(runs: impl Iterator<Item = Percentiles> + Clone) -> Percentiles {
        let field = |get: fn(&Percentiles) -> u64| {
            let mut values: Vec<u64> = runs.clone().map(|p| get(&p)).collect();
            values.sort_unstable();
            values.get(values.len().saturating_sub(1) / 2).copied().unwrap_or(0)
        };
        Percentiles {
            count: runs.clone().next().map_or(0, |p| p.count),
            p50: field(|p| p.p50),
            p99: field(|p| p.p99),
            p999: field(|p| p.p999),
            max: field(|p| p.max),
        }
    }
}

impl Latency {
    /// Each percentile of each kind (and of the uniform cancels) as the median of that
    /// percentile over `runs`, `None` for no runs. A single pass's p99 moves by 100 ns or more
    /// with the host's state, so one pass says little; the runs themselves are printed beside
    /// the median.
    pub fn median_of(runs: &[Latency]) -> Option<Latency> {
        if runs.is_empty() {
            return None;
        }
        Some(Latency {
            kinds: std::array::from_fn(|kind| {
                Percentiles::median_of(runs.iter().map(move |l| l.kinds[kind]))
            }),
            uniform_cancels: Percentiles::median_of(runs.iter().map(|l| l.uniform_cancels)),
        })
    }
}

/// The median cost of an empty `Instant::now()` / `elapsed()` pair, in nanoseconds.
pub fn timer_overhead_ns() -> u64 {
    let mut samples = Vec::with_capacity(200_000);
    for _ in 0..200_000 {
        let t = Instant::now();
        samples.push(black_box(t).elapsed().as_nanos() as u64);
    }
    Percentiles::of(&mut samples).p50
}

/// A separate run timing each operation on its own (`Instant` pair per operation), minus the
/// timer's own median overhead (`overhead_ns`).
pub fn latency<A: BookUnderTest>(flow: &Flow, overhead_ns: u64) -> (Latency, Fills) {
    let mut counts = [0usize; 3];
    for op in &flow.ops {
        counts[op.kind() as usize] += 1;
    }
    let mut samples = counts.map(Vec::<u64>::with_capacity);
    let mut uniform = Vec::with_capacity(flow.uniform_cancels.len());
    let mut next_uniform = flow.uniform_cancels.iter().copied().peekable();
    let mut book = loaded::<A>(flow);
    for (position, op) in flow.ops.iter().enumerate() {
        let start = Instant::now();
        book.apply(black_box(op));
        let ns = start.elapsed().as_nanos() as u64;
        let ns = ns.saturating_sub(overhead_ns);
        samples[op.kind() as usize].push(ns);
        if next_uniform.next_if_eq(&position).is_some() {
            uniform.push(ns);
        }
    }
    black_box(&mut book);
    let fills = book.fills();
    drop(book);
    let mut latency =
        Latency { uniform_cancels: Percentiles::of(&mut uniform), ..Latency::default() };
    for kind in OpKind::ALL {
        latency.kinds[kind as usize] = Percentiles::of(&mut samples[kind as usize]);
    }
    (latency, fills)
}

/// Heap use of a book, from the counting allocator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heap {
    /// Live bytes of the empty book as constructed (fixed preallocation), including the
    /// adapter's own small buffers.
    pub prealloc_bytes: usize,
    /// Live bytes added by loading the resting orders.
    pub loaded_bytes: usize,
    /// `loaded_bytes / resting orders`.
    pub bytes_per_order: f64,
}

/// Measures heap use: the empty book, then after loading the resting orders. `None` when the
/// counting allocator is not installed.
pub fn heap<A: BookUnderTest>(flow: &Flow) -> Option<Heap> {
    let before = heap::live_bytes()?;
    let mut book = A::new();
    let empty = heap::live_bytes()?;
    for op in &flow.resting {
        book.apply(op);
    }
    let loaded = heap::live_bytes()?;
    black_box(&mut book);
    drop(book);
    let prealloc_bytes = empty.saturating_sub(before);
    let loaded_bytes = loaded.saturating_sub(empty);
    Some(Heap {
        prealloc_bytes,
        loaded_bytes,
        bytes_per_order: loaded_bytes as f64 / flow.resting.len().max(1) as f64,
    })
}

/// Median of `values` (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}
