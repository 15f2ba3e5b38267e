//! The keeper: bids in takeover auctions at a discount to the index, then unwinds what it won.
//!
//! # Bidding
//! For every open auction in the snapshot (ascending id, at most [`BIDS_PER_BLOCK_MAX`] bids a
//! block, none for its own account), with `e = bps_ticks(edge_bps)`:
//!
//! ```text
//! price_limit = index − e   for a long on offer (the keeper buys it)
//!             = index + e   for a short on offer (the keeper sells it)
//! ```
//!
//! and it bids (`BidLiquidation`) only when the auction's current price already meets that
//! limit. An auction's price moves from the mark toward the bankruptcy price, in the bidder's
//! favour, so a price acceptable now stays acceptable until the auction closes; the limit makes
//! the engine refuse the takeover if the price is somehow worse when the bid executes. It skips
//! an auction that would take its inventory beyond `inventory_max`, and does not bid for the
//! same auction again within `rebid_blocks`.
//!
//! # Unwinding
//! In a block without bids, it sells back (or buys back) at most `unwind_notional` of its
//! first position whose market can open positions (the book is back), with a reduce-only IOC
//! `unwind_bps` through the index.

use std::collections::BTreeMap;

use novation_chain::tx::TxAction;
use novation_engine::{AuctionId, OrderRequest};
use novation_types::{PriceTicks, Quote, Side};

use super::view::{AccountView, Snapshot};

/// Most bids one keeper sends in a block.
pub const BIDS_PER_BLOCK_MAX: usize = 8;

/// A keeper's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeeperParams {
    /// Collateral it keeps (refunded from the faucet below half of it).
    pub collateral: Quote,
    /// Discount to the index it needs, basis points.
    pub edge_bps: u32,
    /// Largest inventory notional per market.
    pub inventory_max: Quote,
    /// Largest unwinding order, notional.
    pub unwind_notional: Quote,
    /// Worst price of an unwinding order, basis points through the index.
    pub unwind_bps: u32,
    /// Blocks before bidding again for the same auction.
    pub rebid_blocks: u64,
}

impl KeeperParams {
    /// The devnet keeper: $5M, a 10 bps edge, up to $2M of inventory per market, unwinding $20k
    /// a block 50 bps through the index.
    pub const DEVNET: KeeperParams = KeeperParams {
        collateral: Quote(5_000_000 * 1_000_000),
        edge_bps: 10,
        inventory_max: Quote(2_000_000 * 1_000_000),
        unwind_notional: Quote(20_000 * 1_000_000),
        unwind_bps: 50,
        rebid_blocks: 3,
    };

    pub(crate) fn is_valid(&self) -> bool {
        self.collateral.0 > 0 && self.inventory_max.0 > 0 && self.unwind_notional.0 > 0
    }
}

/// A keeper. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keeper {
    params: KeeperParams,
    /// Height of the last bid per auction still open (at most the snapshot's auctions).
    bids: BTreeMap<AuctionId, u64>,
}

impl Keeper {
    /// A keeper.
    pub fn new(params: KeeperParams) -> Keeper {
        Keeper { params, bids: BTreeMap::new() }
    }

    /// Collateral it keeps.
    pub fn collateral(&self) -> Quote {
        self.params.collateral
    }

    /// The actions for this block.
    pub fn decide(&mut self, height: u64, snap: &Snapshot, me: &AccountView) -> Vec<TxAction> {
        self.bids.retain(|id, _| snap.auctions.iter().any(|a| a.id == *id));
        if !me.exists() || me.in_liquidation {
            return Vec::new();
        }
        let bids = self.bids_for(height, snap, me);
        if !bids.is_empty() {
            return bids;
        }
        self.unwind(snap, me).into_iter().collect()
    }

    fn bids_for(&mut self, height: u64, snap: &Snapshot, me: &AccountView) -> Vec<TxAction> {
        let p = self.params;
        let mut out = Vec::new();
        for a in &snap.auctions {
            if out.len() >= BIDS_PER_BLOCK_MAX {
                break;
            }
            if Some(a.account) == me.id
                || self.bids.get(&a.id).is_some_and(|&t| height < t + p.rebid_blocks)
            {
                continue;
            }
            let Some(m) = snap.market(a.market) else { continue };
            let Some(index) = m.index else { continue };
            let edge = m.bps_ticks(p.edge_bps);
            let (limit, acceptable) = match a.side {
                Side::Buy => {
                    let limit = index.saturating_sub(edge).max(1);
                    (limit, a.price <= limit)
                }
                Side::Sell => {
                    let limit = index.saturating_add(edge);
                    (limit, a.price >= limit)
                }
            };
            let signed = match a.side {
                Side::Buy => i64::try_from(a.qty).unwrap_or(i64::MAX),
                Side::Sell => -i64::try_from(a.qty).unwrap_or(i64::MAX),
            };
            let after = me.position(a.market).saturating_add(signed);
            if !acceptable || m.notional_of(after.unsigned_abs()) > p.inventory_max {
                continue;
            }
            self.bids.insert(a.id, height);
            out.push(TxAction::BidLiquidation {
                sub: 0,
                auction: a.id,
                price_limit: PriceTicks(limit),
            });
        }
        out
    }

    fn unwind(&self, snap: &Snapshot, me: &AccountView) -> Option<TxAction> {
        let p = self.params;
        let (m, size) = me.positions.iter().find_map(|pos| {
            let m = snap.market(pos.market).filter(|m| m.can_open())?;
            Some((m, pos.size))
        })?;
        let index = m.index?;
        let side = if size > 0 { Side::Sell } else { Side::Buy };
        let through = m.bps_ticks(p.unwind_bps);
        let worst = match side {
            Side::Sell => index.saturating_sub(through).max(1),
            Side::Buy => index.saturating_add(through),
        };
        let worst = m.clamp_to_band(worst)?;
        let lots = size.unsigned_abs().min(m.lots_for(p.unwind_notional));
        if lots < m.qty_min {
            return None;
        }
        let mut order = OrderRequest::market(0, m.id, side, worst, lots);
        order.reduce_only = true;
        Some(TxAction::Place(order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::view::{test_account, test_market, AuctionView};
    use novation_engine::{MarketId, MarketStatus};
    use novation_types::AccountId;

    fn auction(id: u64, side: Side, price: u64) -> AuctionView {
        AuctionView {
            id: AuctionId(id),
            account: AccountId(3),
            market: MarketId(0),
            side,
            qty: 100,
            price,
            end: 990_000,
        }
    }

    fn snap(height: u64, auctions: Vec<AuctionView>) -> Snapshot {
        Snapshot { height, markets: vec![test_market()], auctions, ..Snapshot::default() }
    }

    fn keeper() -> Keeper {
        Keeper::new(KeeperParams::DEVNET)
    }

    #[test]
    fn bids_only_below_the_index_by_its_edge() {
        let mut k = keeper();
        let me = test_account(5_000_000, 0);
        // A long on offer at 5 bps under the index: not yet.
        assert!(k.decide(1, &snap(1, vec![auction(1, Side::Buy, 999_500)]), &me).is_empty());
        // At 10 bps under: bid with the limit at index − 10 bps.
        let bids = k.decide(2, &snap(2, vec![auction(1, Side::Buy, 999_000)]), &me);
        assert_eq!(
            bids,
            vec![TxAction::BidLiquidation {
                sub: 0,
                auction: AuctionId(1),
                price_limit: PriceTicks(999_000)
            }]
        );
        // Not again within rebid_blocks.
        assert!(k.decide(3, &snap(3, vec![auction(1, Side::Buy, 998_000)]), &me).is_empty());
        assert_eq!(k.decide(5, &snap(5, vec![auction(1, Side::Buy, 998_000)]), &me).len(), 1);
        // A short on offer: the keeper sells it, at 10 bps above the index or more.
        let bids = k.decide(6, &snap(6, vec![auction(2, Side::Sell, 1_001_500)]), &me);
        assert_eq!(
            bids,
            vec![TxAction::BidLiquidation {
                sub: 0,
                auction: AuctionId(2),
                price_limit: PriceTicks(1_001_000)
            }]
        );
    }

    #[test]
    fn skips_its_own_auctions_and_a_full_inventory() {
        let mut k = keeper();
        let own = AuctionView { account: AccountId(7), ..auction(1, Side::Buy, 990_000) };
        assert!(k.decide(1, &snap(1, vec![own]), &test_account(5_000_000, 0)).is_empty());
        // Long $1.95M already: 600 more lots ($60k) would pass the $2M inventory limit.
        let big = AuctionView { qty: 600, ..auction(2, Side::Buy, 990_000) };
        let full = test_account(5_000_000, 19_500);
        let actions = k.decide(2, &snap(2, vec![big]), &full);
        assert!(
            actions.iter().all(|a| !matches!(a, TxAction::BidLiquidation { .. })),
            "{actions:?}"
        );
    }

    #[test]
    fn unwinds_its_inventory_when_the_book_is_back() {
        let mut k = keeper();
        let long = test_account(5_000_000, 965);
        let actions = k.decide(1, &snap(1, Vec::new()), &long);
        let [TxAction::Place(o)] = actions.as_slice() else { panic!("{actions:?}") };
        assert!(o.reduce_only);
        assert_eq!((o.side, o.qty.0, o.price.0), (Side::Sell, 200, 995_000), "$20k, 50 bps");
        let mut closed = snap(2, Vec::new());
        closed.markets[0].status = MarketStatus::ReduceOnly;
        assert!(k.decide(2, &closed, &long).is_empty(), "not into an empty reduce-only book");
    }
}
