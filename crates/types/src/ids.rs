//! Identifiers: orders, accounts, addresses, and the side of an order.

use core::fmt;

/// A market-wide unique order id. The engine assigns them; the book only checks that no two
/// live orders share one.
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
pub struct OrderId(pub u64);

/// An order id chosen by the trader. Unique among the live orders of one account; two accounts
/// may use the same value.
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
pub struct ClientOrderId(pub u64);

/// A dense handle for one (address, subaccount) pair, interned by the engine in a deterministic
/// order. The order book uses it for ownership, self-trade prevention and per-account bounds and
/// knows nothing else about accounts.
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
pub struct AccountId(pub u32);

/// A 20-byte account address, derived from a public key by the signing scheme.
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct Address(pub [u8; 20]);

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// The side of an order: a buy (bid) or a sell (ask).
#[derive(
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub enum Side {
    /// A bid: buys, rests below the asks.
    Buy,
    /// An ask: sells, rests above the bids.
    Sell,
}

impl Side {
    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Whether an order on this side with limit `limit` may trade at price `price`: a buy
    /// accepts `price <= limit`, a sell accepts `price >= limit`.
    pub fn accepts(self, limit: crate::PriceTicks, price: crate::PriceTicks) -> bool {
        match self {
            Side::Buy => price <= limit,
            Side::Sell => price >= limit,
        }
    }

    /// Whether `a` is a strictly better price than `b` for a resting order on this side
    /// (higher for bids, lower for asks).
    pub fn is_better(self, a: crate::PriceTicks, b: crate::PriceTicks) -> bool {
        match self {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PriceTicks;

    #[test]
    fn address_prints_as_hex() {
        let mut bytes = [0u8; 20];
        bytes[0] = 0xab;
        bytes[19] = 0x01;
        assert_eq!(Address(bytes).to_string(), "0xab00000000000000000000000000000000000001");
    }

    #[test]
    fn side_accepts_and_better() {
        assert!(Side::Buy.accepts(PriceTicks(100), PriceTicks(99)));
        assert!(Side::Buy.accepts(PriceTicks(100), PriceTicks(100)));
        assert!(!Side::Buy.accepts(PriceTicks(100), PriceTicks(101)));
        assert!(Side::Sell.accepts(PriceTicks(100), PriceTicks(101)));
        assert!(!Side::Sell.accepts(PriceTicks(100), PriceTicks(99)));
        assert!(Side::Buy.is_better(PriceTicks(2), PriceTicks(1)));
        assert!(Side::Sell.is_better(PriceTicks(1), PriceTicks(2)));
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }
}
