//! What comes into the engine: the block context (height, time, index prices) and the actions.
//!
//! Until the chain exists an action carries its sender's address unsigned; signatures, nonces
//! and agent keys are the chain's business (the engine trusts that `sender` is authenticated).

use novation_book::{Expiry, StpMode, TimeInForce};
use novation_types::{Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side};

/// A market's number, assigned in creation order.
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
pub struct MarketId(pub u16);

/// A takeover auction's number, assigned in opening order.
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
pub struct AuctionId(pub u64);

/// A subaccount number: an address holds independent subaccounts `0..`.
pub type SubaccountId = u16;

/// The consensus-provided inputs of one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockContext {
    /// Block height; must exceed the previous block's.
    pub height: u64,
    /// Block time in milliseconds; must not go backwards.
    pub time_ms: u64,
    /// The index price agreed for this block, per market (at most one entry per market; a
    /// market without an entry keeps its previous index, which ages).
    pub index_prices: Vec<(MarketId, PriceTicks)>,
}

/// One action from one sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// The authenticated sender.
    pub sender: Address,
    /// What it asks for.
    pub action: Action,
}

/// A new order as a trader submits it. The engine assigns the order id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    /// The sender's subaccount.
    pub sub: SubaccountId,
    /// The market.
    pub market: MarketId,
    /// Buy or sell.
    pub side: Side,
    /// Limit price (for a market order: the worst acceptable price).
    pub price: PriceTicks,
    /// Size.
    pub qty: QtyLots,
    /// Time in force.
    pub tif: TimeInForce,
    /// Expiry for resting orders.
    pub expiry: Expiry,
    /// Optional client order id, unique among the subaccount's live orders in the market.
    pub client_id: Option<ClientOrderId>,
    /// Only reduce an existing position (IOC and FOK only, see the crate doc).
    pub reduce_only: bool,
    /// Self-trade prevention mode.
    pub stp: StpMode,
}

impl OrderRequest {
    /// A GTC limit order with default options.
    pub fn limit(sub: SubaccountId, market: MarketId, side: Side, price: u64, qty: u64) -> Self {
        OrderRequest {
            sub,
            market,
            side,
            price: PriceTicks(price),
            qty: QtyLots(qty),
            tif: TimeInForce::Gtc,
            expiry: Expiry::Never,
            client_id: None,
            reduce_only: false,
            stp: StpMode::default(),
        }
    }

    /// An IOC order with a worst-price bound.
    pub fn market(sub: SubaccountId, market: MarketId, side: Side, worst: u64, qty: u64) -> Self {
        OrderRequest { tif: TimeInForce::Ioc, ..Self::limit(sub, market, side, worst, qty) }
    }
}

/// Everything a trader can ask of the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Credit collateral (devnet faucet and genesis; the bridge later).
    Deposit { sub: SubaccountId, amount: Quote },
    /// Debit collateral out of the exchange, within the withdrawable amount.
    Withdraw { sub: SubaccountId, amount: Quote },
    /// Move collateral to another (address, subaccount), within the withdrawable amount.
    Transfer { sub: SubaccountId, to: Address, to_sub: SubaccountId, amount: Quote },
    /// Place an order.
    Place(OrderRequest),
    /// Cancel an order by id.
    Cancel { sub: SubaccountId, market: MarketId, id: OrderId },
    /// Cancel an order by client order id.
    CancelByClientId { sub: SubaccountId, market: MarketId, client_id: ClientOrderId },
    /// Cancel every order of the subaccount (in one market or all; on one side or both).
    CancelAll { sub: SubaccountId, market: Option<MarketId>, side: Option<Side> },
    /// Change an order's price and/or size (see the book's modify rules).
    Modify { sub: SubaccountId, market: MarketId, id: OrderId, price: PriceTicks, qty: QtyLots },
    /// Switch a market between cross and isolated margin for this subaccount; only with no
    /// position and no orders in that market.
    SetMarginMode { sub: SubaccountId, market: MarketId, isolated: bool },
    /// Move collateral into (`amount > 0`) or out of (`amount < 0`) an isolated position.
    AdjustIsolatedMargin { sub: SubaccountId, market: MarketId, amount: Quote },
    /// Take over the position of an open takeover auction at its current price, if that price
    /// is no worse for the bidder than `price_limit`.
    BidLiquidation { sub: SubaccountId, auction: AuctionId, price_limit: PriceTicks },
}

impl Action {
    /// Whether the action runs in the block's first phase (cancels and post-only orders, so
    /// that makers are not picked off by ordering within the block).
    pub fn is_first_phase(&self) -> bool {
        match self {
            Action::Cancel { .. } | Action::CancelByClientId { .. } | Action::CancelAll { .. } => {
                true
            }
            Action::Place(o) => o.tif.is_post_only(),
            _ => false,
        }
    }
}
