//! novation's Rust SDK: everything a trading program needs to act on a novation node.
//!
//! | module | what |
//! |---|---|
//! | [`keys`] | ed25519 trading keys, their account address, key files (`~/.novation/keys/NAME.json`, mode 0600) |
//! | [`nonce`] | millisecond-timestamp nonces, strictly increasing per process, with lanes for processes sharing a key |
//! | [`units`] | human decimals ↔ ticks, lots and quote atoms, exactly; rounding that is explicit, in the trader's favour, and reported |
//! | [`market`] | a market's published tick and lot ([`MarketSpec`]), parsing a trader's price and size against them |
//! | [`tx`] | order and action builders, signing (an agent key names its master), hex encoding |
//! | [`http`] | REST client of `/v1` (markets, book, trades, account, orders, fills, transactions), polling a transaction to finality |
//! | [`trader`] | [`Trader`]: one key trading through one node: sign, submit, wait, typed errors |
//! | [`ws`] | WebSocket client with heartbeats, reconnection with backoff, resubscription, book gap recovery |
//! | [`book`] | [`BookTracker`]: a local L2 book from snapshot + deltas, detecting sequence gaps |
//! | [`rules`] | stable rejection and refusal codes → the rule's name and description |
//!
//! The transaction format, signatures and addresses are the chain's own (`novation_chain::tx`),
//! and the JSON bodies are `novation_wire`'s: the SDK re-implements neither.
//!
//! # Errors
//!
//! [`Error`] says why, in terms a trader can act on: a transaction refused before execution
//! names the chain rule (`refused by rule NonceUsed (code 103)`), an agent key acting for an
//! account that did not approve it is [`Error::WrongSigner`] with both addresses, a rejected order
//! names the engine rule (`rejected by rule InsufficientMargin (code 26): …`), a node error
//! carries its HTTP status and stable code, and a price or size off the market's grid names the
//! nearest valid values.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> novation_client::Result<()> {
//! use novation_client::{HttpClient, Keystore, Order, Trader};
//! use novation_types::Side;
//!
//! let key = Keystore::locate(None)?.load("alice")?;
//! let trader = Trader::connect(HttpClient::new("http://127.0.0.1:8080")?, key).await?;
//! let btc = trader.market("BTC-PERP")?.clone();
//! let price = btc.price("99950.5", Side::Buy, false)?; // refuses an off-tick price
//! let size = btc.size("0.010", false)?;
//! let placed = trader.place(Order::limit(btc.id, Side::Buy, price.ticks, size.lots).post_only()).await?;
//! println!("order {} in block {:?}", placed.id.0, placed.report.height());
//! trader.cancel_all(Some(btc.id), None).await?;
//! # Ok(()) }
//! ```

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod book;
pub mod error;
pub mod http;
pub mod keys;
pub mod market;
pub mod nonce;
pub mod rules;
pub mod trader;
pub mod tx;
pub mod units;
pub mod ws;

pub use book::{BookTracker, BookUpdate};
pub use error::{Error, Result};
pub use http::{HttpClient, TxReport};
pub use keys::{Key, KeyError, Keystore};
pub use market::MarketSpec;
pub use nonce::NonceSource;
pub use trader::{Placed, Trader};
pub use tx::Order;
pub use ws::{Channel, WsClient, WsEvent, WsOptions};

pub use novation_wire as wire;
