//! Which rule a numeric code names.
//!
//! The node reports a refused transaction (replay protection, agent scope: codes 101..=130 of
//! `novation_chain::auth::AuthError`) and a rejected action (the engine's
//! `novation_engine::Rejection`; its order book's rejections are `100 +` the book's code) with a
//! stable numeric code. [`refusal`] and [`rejection`] turn a code back into the rule's name and
//! its description, from the chain's and engine's own types, so that an SDK error can say
//! `rejected by rule InsufficientMargin (code 26): insufficient margin: …`.

use novation_engine::{BookReject, Rejection};

/// A rule: its name (the Rust variant) and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The variant name, e.g. `InsufficientMargin` or `PostOnlyWouldCross`.
    pub name: &'static str,
    /// The rule's description (the engine's message).
    pub description: String,
}

/// Every book rejection ([`book_name`] does not compile without a new one; the tests check that
/// this list holds each once).
const BOOK: [BookReject; 15] = [
    BookReject::ZeroQuantity,
    BookReject::QuantityTooLarge,
    BookReject::ZeroPrice,
    BookReject::PriceTooLarge,
    BookReject::ExpiredAtEntry,
    BookReject::DuplicateOrderId,
    BookReject::DuplicateClientOrderId,
    BookReject::PostOnlyWouldCross,
    BookReject::AccountOrderLimit,
    BookReject::BookOrderLimit,
    BookReject::PriceLevelLimit,
    BookReject::FokWouldNotFill,
    BookReject::UnknownOrder,
    BookReject::NotOwner,
    BookReject::OrderExpired,
];

/// Every engine rejection but the book's, with its name.
const ENGINE: [(Rejection, &str); 29] = [
    (Rejection::UnknownMarket, "UnknownMarket"),
    (Rejection::UnknownAccount, "UnknownAccount"),
    (Rejection::InvalidAmount, "InvalidAmount"),
    (Rejection::DepositTooLarge, "DepositTooLarge"),
    (Rejection::InsufficientCollateral, "InsufficientCollateral"),
    (Rejection::AccountLimit, "AccountLimit"),
    (Rejection::SameAccount, "SameAccount"),
    (Rejection::TooManyActions, "TooManyActions"),
    (Rejection::MarketHalted, "MarketHalted"),
    (Rejection::MarketCancelOnly, "MarketCancelOnly"),
    (Rejection::MarketPostOnly, "MarketPostOnly"),
    (Rejection::MarketReduceOnly, "MarketReduceOnly"),
    (Rejection::NoIndexPrice, "NoIndexPrice"),
    (Rejection::IndexTooOld, "IndexTooOld"),
    (Rejection::BelowMinimumSize, "BelowMinimumSize"),
    (Rejection::PriceOutsideBand, "PriceOutsideBand"),
    (Rejection::ReduceOnlyMustNotRest, "ReduceOnlyMustNotRest"),
    (Rejection::ReduceOnlyWouldIncrease, "ReduceOnlyWouldIncrease"),
    (Rejection::OpenInterestCapReached, "OpenInterestCapReached"),
    (Rejection::AccountOpenInterestCapReached, "AccountOpenInterestCapReached"),
    (Rejection::InsufficientMargin, "InsufficientMargin"),
    (Rejection::TooManyMarkets, "TooManyMarkets"),
    (Rejection::AccountInLiquidation, "AccountInLiquidation"),
    (Rejection::MarginModeLocked, "MarginModeLocked"),
    (Rejection::NotIsolated, "NotIsolated"),
    (Rejection::UnknownAuction, "UnknownAuction"),
    (Rejection::AuctionPriceBeyondLimit, "AuctionPriceBeyondLimit"),
    (Rejection::OwnAuction, "OwnAuction"),
    (Rejection::Arithmetic, "Arithmetic"),
];

/// A new engine rejection stops this from compiling until it is added to [`ENGINE`].
#[allow(dead_code)]
const fn engine_guard(r: Rejection) {
    match r {
        Rejection::UnknownMarket
        | Rejection::UnknownAccount
        | Rejection::InvalidAmount
        | Rejection::DepositTooLarge
        | Rejection::InsufficientCollateral
        | Rejection::AccountLimit
        | Rejection::SameAccount
        | Rejection::TooManyActions
        | Rejection::MarketHalted
        | Rejection::MarketCancelOnly
        | Rejection::MarketPostOnly
        | Rejection::MarketReduceOnly
        | Rejection::NoIndexPrice
        | Rejection::IndexTooOld
        | Rejection::BelowMinimumSize
        | Rejection::PriceOutsideBand
        | Rejection::ReduceOnlyMustNotRest
        | Rejection::ReduceOnlyWouldIncrease
        | Rejection::OpenInterestCapReached
        | Rejection::AccountOpenInterestCapReached
        | Rejection::InsufficientMargin
        | Rejection::TooManyMarkets
        | Rejection::AccountInLiquidation
        | Rejection::MarginModeLocked
        | Rejection::NotIsolated
        | Rejection::UnknownAuction
        | Rejection::AuctionPriceBeyondLimit
        | Rejection::OwnAuction
        | Rejection::Arithmetic
        | Rejection::Book(_) => {}
    }
}

fn book_name(r: BookReject) -> &'static str {
    match r {
        BookReject::ZeroQuantity => "ZeroQuantity",
        BookReject::QuantityTooLarge => "QuantityTooLarge",
        BookReject::ZeroPrice => "ZeroPrice",
        BookReject::PriceTooLarge => "PriceTooLarge",
        BookReject::ExpiredAtEntry => "ExpiredAtEntry",
        BookReject::DuplicateOrderId => "DuplicateOrderId",
        BookReject::DuplicateClientOrderId => "DuplicateClientOrderId",
        BookReject::PostOnlyWouldCross => "PostOnlyWouldCross",
        BookReject::AccountOrderLimit => "AccountOrderLimit",
        BookReject::BookOrderLimit => "BookOrderLimit",
        BookReject::PriceLevelLimit => "PriceLevelLimit",
        BookReject::FokWouldNotFill => "FokWouldNotFill",
        BookReject::UnknownOrder => "UnknownOrder",
        BookReject::NotOwner => "NotOwner",
        BookReject::OrderExpired => "OrderExpired",
    }
}

/// The engine rule behind an action's rejection code.
pub fn rejection(code: u16) -> Option<Rule> {
    if let Some((r, name)) = ENGINE.iter().find(|(r, _)| r.code() == code) {
        return Some(Rule { name, description: r.to_string() });
    }
    BOOK.iter()
        .find(|b| Rejection::Book(**b).code() == code)
        .map(|b| Rule { name: book_name(*b), description: b.to_string() })
}

/// The chain rule behind a transaction's refusal code (replay protection, agent keys).
pub fn refusal(code: u16) -> Option<&'static str> {
    Some(match code {
        101 => "NonceOutsideWindow",
        102 => "NonceTooLow",
        103 => "NonceUsed",
        110 => "MasterIsSigner",
        111 => "AgentNotApproved",
        112 => "AgentExpired",
        113 => "AgentActionNotAllowed",
        114 => "AgentMarketNotAllowed",
        115 => "AgentAllMarketsNotAllowed",
        116 => "AgentOrderTooLarge",
        120 => "FaucetOnly",
        121 => "AgentIsSelf",
        122 => "AgentScopeInvalid",
        123 => "AgentExpiryNotInFuture",
        124 => "AgentBoundToOtherMaster",
        125 => "TooManyAgents",
        126 => "UnknownAgent",
        130 => "AddressLimit",
        _ => return None,
    })
}

/// Refusal code of a signer that is not an approved agent of the master it names.
pub const REFUSAL_AGENT_NOT_APPROVED: u16 = 111;
/// Refusal code of a nonce already used.
pub const REFUSAL_NONCE_USED: u16 = 103;
/// Refusal code of a nonce not above the smallest kept.
pub const REFUSAL_NONCE_TOO_LOW: u16 = 102;

#[cfg(test)]
mod tests {
    use novation_chain::auth::AuthError;
    use novation_chain::tx::ActionFault;
    use novation_engine::MarketId;
    use novation_types::{Address, QtyLots};

    use super::*;

    /// Each book rejection's place in [`BOOK`].
    const fn book_index(r: BookReject) -> usize {
        match r {
            BookReject::ZeroQuantity => 0,
            BookReject::QuantityTooLarge => 1,
            BookReject::ZeroPrice => 2,
            BookReject::PriceTooLarge => 3,
            BookReject::ExpiredAtEntry => 4,
            BookReject::DuplicateOrderId => 5,
            BookReject::DuplicateClientOrderId => 6,
            BookReject::PostOnlyWouldCross => 7,
            BookReject::AccountOrderLimit => 8,
            BookReject::BookOrderLimit => 9,
            BookReject::PriceLevelLimit => 10,
            BookReject::FokWouldNotFill => 11,
            BookReject::UnknownOrder => 12,
            BookReject::NotOwner => 13,
            BookReject::OrderExpired => 14,
        }
    }

    #[test]
    fn every_engine_and_book_code_names_its_variant() {
        for (r, name) in ENGINE {
            let rule = rejection(r.code()).expect("known");
            assert_eq!(rule.name, name);
            assert_eq!(format!("{r:?}"), name);
            assert_eq!(rule.description, r.to_string());
        }
        for (i, b) in BOOK.into_iter().enumerate() {
            assert_eq!(book_index(b), i);
            let rule = rejection(Rejection::Book(b).code()).expect("known");
            assert_eq!(format!("{b:?}"), rule.name);
        }
        assert_eq!(rejection(26).map(|r| r.name), Some("InsufficientMargin"));
        assert_eq!(rejection(108).map(|r| r.name), Some("PostOnlyWouldCross"));
        assert_eq!(rejection(999), None);
    }

    #[test]
    fn every_refusal_code_names_its_variant() {
        let a = Address([1; 20]);
        let samples = [
            AuthError::NonceOutsideWindow { nonce: 1, low: 0, high: 2 },
            AuthError::NonceTooLow { nonce: 1, smallest_kept: 2 },
            AuthError::NonceUsed { nonce: 1 },
            AuthError::MasterIsSigner,
            AuthError::AgentNotApproved { master: a },
            AuthError::AgentExpired { expires_ms: 1 },
            AuthError::AgentActionNotAllowed,
            AuthError::AgentMarketNotAllowed(MarketId(0)),
            AuthError::AgentAllMarketsNotAllowed,
            AuthError::AgentOrderTooLarge { qty: QtyLots(2), max: QtyLots(1) },
            AuthError::FaucetOnly,
            AuthError::AgentIsSelf,
            AuthError::AgentScopeInvalid(ActionFault::ZeroQty),
            AuthError::AgentExpiryNotInFuture { expires_ms: 1 },
            AuthError::AgentBoundToOtherMaster { master: a },
            AuthError::TooManyAgents,
            AuthError::UnknownAgent(a),
            AuthError::AddressLimit,
        ];
        for e in samples {
            let debug = format!("{e:?}");
            let name = refusal(e.code()).expect("known");
            assert!(debug.starts_with(name), "{debug} vs {name}");
        }
        assert_eq!(REFUSAL_AGENT_NOT_APPROVED, AuthError::AgentNotApproved { master: a }.code());
        assert_eq!(REFUSAL_NONCE_USED, AuthError::NonceUsed { nonce: 1 }.code());
        assert_eq!(
            REFUSAL_NONCE_TOO_LOW,
            AuthError::NonceTooLow { nonce: 1, smallest_kept: 2 }.code()
        );
    }
}
