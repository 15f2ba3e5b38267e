//! Identifiers and unit newtypes shared by every novation crate.
//!
//! Every quantity in novation state is an integer wrapped in a newtype that names its unit, so
//! that a price can never be added to a size by accident:
//!
//! | type | unit | notes |
//! |---|---|---|
//! | [`PriceTicks`] | integer multiples of a market's tick size | `0` is never a valid order price |
//! | [`QtyLots`] | integer multiples of a market's lot size | `0` is never a valid order size |
//! | [`Quote`] | quote-currency atoms (1e-6 USDC), signed | balances, PnL, fees |
//! | [`OrderId`] | a market-wide unique order id, chosen by the engine | |
//! | [`ClientOrderId`] | an id chosen by the trader, unique among one account's live orders | |
//! | [`AccountId`] | a dense handle the engine interns for one (address, subaccount) pair | the book knows nothing else about accounts |
//! | [`Address`] | a 20-byte account address derived from a public key | |
//!
//! Units are mixed only through named conversions, and every conversion that can lose
//! information says which way it rounds (`*_floor`, `*_ceil`).

#![forbid(unsafe_code)]

mod ids;
mod units;

pub use ids::{AccountId, Address, ClientOrderId, OrderId, Side};
pub use units::{Notional, PriceTicks, QtyLots, Quote};

/// Block height and block time, the only notion of "now" the deterministic crates have.
///
/// Both come from the block being executed (the proposer chooses the time, consensus bounds it);
/// nothing in the state machine reads a clock.
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct Now {
    /// Height of the block being executed.
    pub height: u64,
    /// Timestamp of the block being executed, milliseconds since the Unix epoch.
    pub time_ms: u64,
}

impl Now {
    /// A `Now` at the given height and time.
    pub const fn new(height: u64, time_ms: u64) -> Self {
        Self { height, time_ms }
    }
}
