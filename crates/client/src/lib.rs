//! novation's Rust SDK (placeholder doc; see below).

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod keys;
pub mod nonce;
pub mod rules;
pub mod tx;
pub mod units;

pub use keys::{Key, KeyError, Keystore};
pub use nonce::NonceSource;
