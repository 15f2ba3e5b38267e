//! What the node publishes after each finalized block, for read models outside consensus (the
//! trader API's trades, candles, order status, book deltas, WebSocket channels).
//!
//! The executor builds a [`FinalizedBlock`] right after it commits a block, only when a
//! [`BlockSink`] is installed ([`Shared::add_sink`](crate::executor::Shared::add_sink)), and hands
//! it to each sink synchronously. Nothing here feeds back into state: it is a view of the finalized state
//! and of the engine's events, which are themselves a pure function of the chain.
//!
//! Bounds: a block's events are bounded by the engine's per-block action limit; each market's
//! book view is cut at [`BOOK_VIEW_DEPTH`] levels per side; the account table holds only the
//! accounts the block's events name.
//!
//! A sink must be quick (it runs on the executor task): index, hand off to bounded queues, and
//! return.

use std::collections::BTreeMap;
use std::sync::Arc;

use commonware_cryptography::sha256::Digest;
use novation_engine::{Event, MarketId, MarketStatus, SubaccountId};
use novation_types::{AccountId, Address, PriceTicks, Quote};

use crate::block::Block;
use crate::executor::Level;
use crate::state::{ChainState, TxOutcome};
use crate::tx::{SignedTx, TxAction};

/// Levels per side in each market's published book view.
pub const BOOK_VIEW_DEPTH: usize = 100;

/// One transaction of a finalized block.
#[derive(Clone, Debug)]
pub struct TxRecord {
    /// Its hash.
    pub hash: [u8; 32],
    /// The signer's address.
    pub signer: Address,
    /// The account the actions act for (the signer, or the master an agent acts for).
    pub principal: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Its actions.
    pub actions: Vec<TxAction>,
    /// What became of it.
    pub outcome: TxOutcome,
}

/// A market as it stands after a finalized block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketView {
    /// The market.
    pub id: MarketId,
    /// The mark price (zero before the first index).
    pub mark: PriceTicks,
    /// The index price, if any arrived yet.
    pub index: Option<PriceTicks>,
    /// Height of the block that brought the index.
    pub index_height: u64,
    /// Effective trading status.
    pub status: MarketStatus,
    /// Open interest in lots (long = short).
    pub open_interest_lots: u64,
    /// Rate of the last funding interval, parts per billion.
    pub funding_last_ppb: i64,
    /// The rate the current interval would pay if it ended now, parts per billion.
    pub funding_predicted_ppb: i64,
    /// Block time of the last funding accrual.
    pub funding_last_ms: Option<u64>,
    /// The market's insurance fund balance.
    pub insurance: Quote,
    /// Bids, best first, at most [`BOOK_VIEW_DEPTH`] levels.
    pub bids: Vec<Level>,
    /// Asks, best first, at most [`BOOK_VIEW_DEPTH`] levels.
    pub asks: Vec<Level>,
}

/// Everything published about one finalized block.
#[derive(Clone, Debug)]
pub struct FinalizedBlock {
    /// Its height.
    pub height: u64,
    /// Its digest.
    pub digest: Digest,
    /// The state root after it.
    pub state_root: Digest,
    /// Its time.
    pub time_ms: u64,
    /// Its proposer's parent.
    pub parent: Digest,
    /// Validators' observations it carried.
    pub observations: usize,
    /// Its transactions, in block order.
    pub txs: Vec<TxRecord>,
    /// The engine's events, in execution order.
    pub events: Vec<Event>,
    /// Owner and subaccount of every account the events name.
    pub accounts: BTreeMap<AccountId, (Address, SubaccountId)>,
    /// Every market after the block.
    pub markets: Vec<MarketView>,
}

/// Receives every finalized block, in height order, once (after a restart, from the first
/// block finalized after the restart).
pub type BlockSink = Arc<dyn Fn(Arc<FinalizedBlock>) + Send + Sync>;

fn event_accounts(event: &Event, out: &mut Vec<AccountId>) {
    match event {
        Event::OrderAccepted { account, .. }
        | Event::Deposited { account, .. }
        | Event::Withdrawn { account, .. }
        | Event::IsolatedMarginAdjusted { account, .. }
        | Event::LiquidationStarted { account, .. }
        | Event::LiquidationOrdersCancelled { account, .. }
        | Event::LiquidationClosed { account, .. }
        | Event::AuctionOpened { account, .. }
        | Event::InsuranceTakeover { account, .. }
        | Event::UncoveredDeficit { account, .. }
        | Event::LiquidationEnded { account, .. } => out.push(*account),
        Event::Transferred { from, to, .. } => out.extend([*from, *to]),
        Event::AuctionWon { bidder, .. } => out.push(*bidder),
        Event::Deleveraged { account, counterparty, .. } => out.extend([*account, *counterparty]),
        Event::Book { event, .. } => {
            use novation_book::Event as B;
            match event {
                B::Fill { maker_account, taker_account, .. } => {
                    out.extend([*maker_account, *taker_account])
                }
                B::Accepted { account, .. }
                | B::SelfTradeDecrement { account, .. }
                | B::Resting { account, .. }
                | B::Cancelled { account, .. }
                | B::Expired { account, .. }
                | B::Modified { account, .. } => out.push(*account),
                B::Rejected { .. } => {}
            }
        }
        _ => {}
    }
}

/// The published view of market `m` of `engine` (also what a read model starts from).
pub fn market_view(engine: &novation_engine::Engine, m: &novation_engine::Market) -> MarketView {
    let (bids, asks) =
        crate::values::book_levels(engine, m.id, BOOK_VIEW_DEPTH).unwrap_or_default();
    MarketView {
        id: m.id,
        mark: m.mark,
        index: m.index,
        index_height: m.index_height,
        status: m.status,
        open_interest_lots: m.long_lots,
        funding_last_ppb: m.funding_last_rate.ppb(),
        funding_predicted_ppb: m.predicted_funding_rate().map(|r| r.ppb()).unwrap_or(0),
        funding_last_ms: m.funding_last_ms,
        insurance: engine.insurance_fund(m.id).unwrap_or(Quote::ZERO),
        bids,
        asks,
    }
}

/// The published view of `block`, executed into `state` with these `outcomes` and `events`.
pub fn view(
    state: &ChainState,
    block: &Block,
    digest: Digest,
    state_root: Digest,
    outcomes: &[TxOutcome],
    events: Vec<Event>,
) -> FinalizedBlock {
    let txs = block
        .txs
        .iter()
        .zip(outcomes)
        .map(|(tx, outcome): (&SignedTx, &TxOutcome)| TxRecord {
            hash: tx.hash_bytes(),
            signer: tx.signer(),
            principal: tx.body.master.unwrap_or_else(|| tx.signer()),
            nonce: tx.body.nonce,
            actions: tx.body.actions.clone(),
            outcome: outcome.clone(),
        })
        .collect();
    let mut ids = Vec::new();
    for e in &events {
        event_accounts(e, &mut ids);
    }
    let engine = &state.engine;
    let accounts = ids
        .into_iter()
        .filter_map(|id| engine.account(id).map(|a| (id, (a.owner, a.sub))))
        .collect();
    let markets = engine.markets().iter().map(|m| market_view(engine, m)).collect();
    FinalizedBlock {
        height: block.height,
        digest,
        state_root,
        time_ms: block.time_ms,
        parent: block.parent,
        observations: block.observations.len(),
        txs,
        events,
        accounts,
        markets,
    }
}
