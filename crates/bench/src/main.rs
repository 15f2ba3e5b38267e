//! `book-bench`: the order-book benchmark.
//!
//! ```text
//! cargo run --release -p novation-bench --bin book-bench -- [--seed 42] [--runs 5] \
//!     [--resting 50000] [--ops 1000000] [--quick] [--only novation,matchcore,...]
//! ```
//!
//! Generates one seeded synthetic flow (50,000 resting orders loaded untimed, then 1,000,000
//! timed operations: ~70 % passive adds a few ticks behind the opposite best, ~25 % cancels of
//! live, mostly recent orders, ~5 % marketable IOCs) and runs it through our book and through
//! `matchcore`, `lobster`, `rust_ob` and `orderbook-rs` behind thin adapters. Prints ops/s
//! (median of the runs), p50/p99 latency per operation kind (each the median over as many
//! latency runs), heap bytes per resting order and
//! the fixed preallocation (from the counting allocator below), checks every book's fill totals
//! against the generator's reference book, and ends with `ratio_vs_fastest_peer=X.XX`.
//! Exits 0 even when a peer's fills differ (they are reported), 1 when ours differ.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

#[global_allocator]
static ALLOC: novation_bench::heap::CountingAlloc = novation_bench::heap::CountingAlloc;

fn main() {
    std::process::exit(novation_bench::cli_main(std::env::args().skip(1)));
}
