//! novation's chain: turns the deterministic exchange engine into a replicated, non-custodial
//! chain.
//!
//! * [`tx`]: the signed transaction envelope, its canonical bounded encoding, signatures and
//!   account addresses.
//! * [`auth`]: per-signer replay protection (nonce windows) and agent keys.
//! * [`mempool`]: admission, deduplication, bounds, priorities and eviction.
//! * [`genesis`], [`block`]: what nodes agree on at the start, and the block format.
//! * [`oracle`], [`observer`]: validators' signed price observations, their pool and gossip
//!   format, and the task that observes the configured sources and signs.
//! * [`published`]: the view of each finalized block handed to read models (the trader API).
//! * [`state`]: executing a block (auth, then the engine) into per-transaction outcomes.
//! * [`commit`], [`values`]: the authenticated state database (qmdb) and what a block writes.
//! * [`executor`]: the task owning state, speculative execution and finalization ([`cpu`]: the
//!   CPU time its timings report).
//! * [`app`]: the consensus application (propose and verify).
//! * [`launch`]: starting a validator over authenticated TCP p2p on the tokio runtime.
//! * [`node`]: one validator's wiring of simplex, marshal, p2p channels and gossip.
//! * [`simulation`]: deterministic multi-validator simulation helpers.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod app;
pub mod auth;
pub mod block;
pub mod commit;
pub mod cpu;
pub mod executor;
pub mod genesis;
pub mod launch;
pub mod mempool;
pub mod node;
pub mod observer;
pub mod oracle;
pub mod published;
pub mod replay;
pub mod simulation;
pub mod state;
pub mod tx;
pub mod values;
