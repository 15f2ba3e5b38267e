//! What comes out of the engine: events in execution order, and typed rejections.

use novation_book::Reject;
use novation_risk::{FundingIndex, MathError, Rate};
use novation_types::{AccountId, OrderId, PriceTicks, QtyLots, Quote, Side};

use crate::action::{AuctionId, MarketId};

/// Why an action was refused. Nothing changed (invariant 7). Stable codes; the book's own
/// rejections are `100 + ` its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("unknown market")]
    UnknownMarket,
    #[error("unknown account (deposit first)")]
    UnknownAccount,
    #[error("amount must be positive")]
    InvalidAmount,
    #[error("deposit exceeds the per-deposit maximum")]
    DepositTooLarge,
    #[error("amount exceeds the withdrawable collateral")]
    InsufficientCollateral,
    #[error("the engine holds its maximum number of accounts")]
    AccountLimit,
    #[error("cannot transfer to the same subaccount")]
    SameAccount,
    #[error("the block holds too many actions")]
    TooManyActions,
    #[error("the market is halted")]
    MarketHalted,
    #[error("the market accepts only cancels")]
    MarketCancelOnly,
    #[error("the market accepts only post-only orders")]
    MarketPostOnly,
    #[error("the market accepts only reduce-only orders")]
    MarketReduceOnly,
    #[error("the market has no index price yet")]
    NoIndexPrice,
    #[error("the market's index price is too old for this action (opening, increasing or withdrawing needs a fresh one)")]
    IndexTooOld,
    #[error("order size is below the market minimum")]
    BelowMinimumSize,
    #[error("order price is outside the band around the index")]
    PriceOutsideBand,
    #[error("reduce-only orders must be IOC, FOK or market orders")]
    ReduceOnlyMustNotRest,
    #[error("reduce-only order would increase or flip the position")]
    ReduceOnlyWouldIncrease,
    #[error("market open-interest cap reached")]
    OpenInterestCapReached,
    #[error("account position cap for this market reached")]
    AccountOpenInterestCapReached,
    #[error("insufficient margin: initial margin after the order exceeds equity")]
    InsufficientMargin,
    #[error("the account holds positions or orders in too many markets")]
    TooManyMarkets,
    #[error("the account is being liquidated")]
    AccountInLiquidation,
    #[error("margin mode can change only with no position and no orders in the market")]
    MarginModeLocked,
    #[error("the market is not isolated for this account")]
    NotIsolated,
    #[error("unknown or closed auction")]
    UnknownAuction,
    #[error("the auction price is worse than the bid's limit")]
    AuctionPriceBeyondLimit,
    #[error("an account cannot bid for its own position")]
    OwnAuction,
    #[error("arithmetic out of range for these inputs")]
    Arithmetic,
    #[error("order book: {0}")]
    Book(Reject),
}

impl Rejection {
    /// The stable numeric code.
    pub const fn code(self) -> u16 {
        match self {
            Rejection::UnknownMarket => 1,
            Rejection::UnknownAccount => 2,
            Rejection::InvalidAmount => 3,
            Rejection::DepositTooLarge => 4,
            Rejection::InsufficientCollateral => 5,
            Rejection::AccountLimit => 6,
            Rejection::SameAccount => 7,
            Rejection::TooManyActions => 8,
            Rejection::MarketHalted => 10,
            Rejection::MarketCancelOnly => 11,
            Rejection::MarketPostOnly => 12,
            Rejection::MarketReduceOnly => 13,
            Rejection::NoIndexPrice => 14,
            Rejection::IndexTooOld => 15,
            Rejection::BelowMinimumSize => 20,
            Rejection::PriceOutsideBand => 21,
            Rejection::ReduceOnlyMustNotRest => 22,
            Rejection::ReduceOnlyWouldIncrease => 23,
            Rejection::OpenInterestCapReached => 24,
            Rejection::AccountOpenInterestCapReached => 25,
            Rejection::InsufficientMargin => 26,
            Rejection::TooManyMarkets => 27,
            Rejection::AccountInLiquidation => 28,
            Rejection::MarginModeLocked => 29,
            Rejection::NotIsolated => 30,
            Rejection::UnknownAuction => 40,
            Rejection::AuctionPriceBeyondLimit => 41,
            Rejection::OwnAuction => 42,
            Rejection::Arithmetic => 50,
            Rejection::Book(r) => 100 + r.code(),
        }
    }
}

impl From<MathError> for Rejection {
    fn from(_: MathError) -> Self {
        Rejection::Arithmetic
    }
}

/// A market's trading status (circuit breaker state).
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
pub enum MarketStatus {
    /// Everything allowed.
    Active,
    /// Only post-only orders and cancels.
    PostOnly,
    /// Only orders that reduce positions, and cancels.
    ReduceOnly,
    /// Only cancels.
    CancelOnly,
    /// Nothing; liquidations in this market wait.
    Halted,
}

/// Why a market's status changed.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCause {
    /// The index moved more than the breaker limit within its window.
    IndexMove,
    /// No index price for longer than the staleness limit.
    IndexStale,
    /// The causes cleared and the cooldown elapsed.
    Recovered,
    /// Governance set it.
    Governance,
    /// An internal check of the market failed; the market stops, the engine goes on.
    Fault,
}

/// Which margin bucket of an account: its cross-margin bucket, or the isolated position in a
/// market.
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
pub enum BucketId {
    /// The cross-margin bucket.
    Cross,
    /// The isolated position in this market.
    Isolated(MarketId),
}

/// One thing that happened, in execution order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Action number `index` of the block (in submission order) was refused.
    Rejected { index: u32, reason: Rejection },
    /// An order was accepted and given an id (book events follow).
    OrderAccepted { index: u32, market: MarketId, id: OrderId, account: AccountId },
    /// Something happened in a market's book.
    Book { market: MarketId, event: novation_book::Event },
    /// Fees of one fill (maker fee negative for a rebate).
    Fees { market: MarketId, maker_fee: Quote, taker_fee: Quote },
    /// Collateral credited.
    Deposited { account: AccountId, amount: Quote },
    /// Collateral withdrawn.
    Withdrawn { account: AccountId, amount: Quote },
    /// Collateral moved between accounts.
    Transferred { from: AccountId, to: AccountId, amount: Quote },
    /// Collateral moved between the cross bucket and an isolated position (`amount > 0`: into
    /// the isolated position).
    IsolatedMarginAdjusted { account: AccountId, market: MarketId, amount: Quote },
    /// A funding interval ended: the rate paid per interval and the new cumulative index.
    Funding { market: MarketId, rate: Rate, index: FundingIndex },
    /// A market's status changed.
    MarketStatus { market: MarketId, status: MarketStatus, cause: StatusCause },
    /// A bucket fell below maintenance; the waterfall starts.
    LiquidationStarted { account: AccountId, bucket: BucketId, equity: Quote, maintenance: Quote },
    /// Waterfall step 1: its resting orders were cancelled.
    LiquidationOrdersCancelled { account: AccountId, orders: u32 },
    /// Waterfall step 2: part of a position was closed in the book.
    LiquidationClosed {
        account: AccountId,
        market: MarketId,
        qty: QtyLots,
        notional: Quote,
        penalty: Quote,
    },
    /// Waterfall step 3: a takeover auction opened.
    AuctionOpened {
        auction: AuctionId,
        account: AccountId,
        market: MarketId,
        /// The side of the position on offer (`Buy` = a long).
        side: Side,
        qty: QtyLots,
        start: PriceTicks,
        end: PriceTicks,
        blocks: u64,
    },
    /// A bidder took over an auctioned position.
    AuctionWon { auction: AuctionId, bidder: AccountId, price: PriceTicks, qty: QtyLots },
    /// The auction closed without a taker (or the account recovered).
    AuctionClosed { auction: AuctionId },
    /// Waterfall step 4: the market's insurance fund took the position at bankruptcy price.
    InsuranceTakeover { market: MarketId, account: AccountId, qty: QtyLots, price: PriceTicks },
    /// Waterfall step 5: a counterparty's position was reduced against the bankrupt position
    /// at its bankruptcy price.
    Deleveraged {
        market: MarketId,
        account: AccountId,
        counterparty: AccountId,
        qty: QtyLots,
        price: PriceTicks,
    },
    /// A deficit that nothing could absorb remained (should not happen; reported, never hidden).
    UncoveredDeficit { account: AccountId, amount: Quote },
    /// The bucket is healthy again (or flat) and left the waterfall.
    LiquidationEnded { account: AccountId, bucket: BucketId },
}
