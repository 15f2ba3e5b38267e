//! Seeded workloads and load generation for the novation engine, and the engine benchmark.
//!
//! | module | what |
//! |---|---|
//! | [`rng`] | SplitMix64: the only source of randomness; a workload is a function of its seed |
//! | [`workload`] | mixed order flow (makers, takers, cancels, modifies) that learns from the engine's events |
//! | [`positions`] | the liquidation-check fixture: many accounts with positions, empty blocks with moving prices |
//! | [`market`] | the devnet market: makers, takers, leveraged traders and a keeper as seeded state machines over a read-only view, and a harness driving them against an engine |
//! | [`bench`](mod@bench) | the `engine-bench` runners and report, timed through an injected [`bench::Stopwatch`] |
//!
//! Deterministic like the engine: no clock (time is injected), no hashed collections, no
//! threads. The binary `engine-bench` supplies the wall clock.
//!
//! ```text
//! cargo run --release -p novation-sim --bin engine-bench -- [--quick] [--only throughput|liquidation]
//!     [--seed 1] [--runs 5] [--accounts 10000,100000,1000000]
//! ```

pub mod bench;
pub mod market;
pub mod positions;
pub mod rng;
pub mod workload;
