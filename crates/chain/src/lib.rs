//! novation's chain: turns the deterministic exchange engine into a replicated, non-custodial
//! chain.
//!
//! * [`tx`]: the signed transaction envelope, its canonical bounded encoding, signatures and
//!   account addresses.
//! * [`auth`]: per-signer replay protection (nonce windows) and agent keys.
//! * [`mempool`]: admission, deduplication, bounds, priorities and eviction.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod auth;
pub mod mempool;
pub mod tx;
