//! The market maker: `levels` post-only quotes per side around the index of one market, skewed
//! against its inventory.
//!
//! # Quotes
//! With index `I`, inventory ratio `r = clamp(position notional / inventory_max, −1, 1)`
//! (positive long), all distances in ticks from [`MarketView::bps_ticks`]:
//!
//! ```text
//! center      = I − r × skew_bps_max            a long shifts both sides down, a short up
//! bid_k       = center − half_spread − k × level_spacing      k = 0 .. levels−1
//! ask_k       = center + half_spread + k × level_spacing
//! bid lots    = ⌊lots_for(level_notional) × (1 − max(r, 0))⌋  a long shrinks the bids,
//! ask lots    = ⌊lots_for(level_notional) × (1 − max(−r, 0))⌋ a short the asks
//! ```
//!
//! A side whose size falls below `qty_min` is not quoted (at full inventory the maker only
//! offers to unwind). Quotes outside the engine's price band are dropped. Every quote is
//! `PostOnlySlide`, so a quote that would cross another maker's rests one tick inside instead of
//! taking.
//!
//! # When it requotes
//! A requote is `CancelAll` for the market followed by the new quotes, in one transaction (the
//! engine runs cancels and post-only orders in the block's first phase, in submission order).
//! It happens when there are no quotes yet, when the index moved `requote_bps` or more from the
//! index quoted at, when resting lots fell below what rested after the last requote (a fill),
//! or every `refresh_blocks` blocks. When the market cannot open positions (not active, or the
//! index too old) the maker cancels its quotes and waits.

use novation_chain::tx::TxAction;
use novation_engine::{MarketId, OrderRequest, TimeInForce};
use novation_types::{Quote, Side};

use super::view::{AccountView, MarketView};
use super::LEVELS_MAX;

/// A maker's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakerParams {
    /// Collateral the maker keeps (refunded from the faucet below half of it).
    pub collateral: Quote,
    /// Quotes per side (1 to [`LEVELS_MAX`]).
    pub levels: u32,
    /// Distance from the center to the first quote on each side, basis points of the index.
    pub half_spread_bps: u32,
    /// Distance between consecutive quotes of a side, basis points.
    pub level_spacing_bps: u32,
    /// Notional of each quote at the index.
    pub level_notional: Quote,
    /// Inventory notional at which the skew is full and the accumulating side stops.
    pub inventory_max: Quote,
    /// Shift of the center at full inventory, basis points.
    pub skew_bps_max: u32,
    /// Index move that triggers a requote, basis points.
    pub requote_bps: u32,
    /// Blocks after which the maker requotes anyway.
    pub refresh_blocks: u64,
}

impl MakerParams {
    /// The devnet maker: $2M collateral, 5 levels of $20k from 2 bps out, 3 bps apart, full
    /// skew of 10 bps at $400k of inventory, requote on a 2 bps move or every 100 blocks.
    pub const DEVNET: MakerParams = MakerParams {
        collateral: Quote(2_000_000 * 1_000_000),
        levels: 5,
        half_spread_bps: 2,
        level_spacing_bps: 3,
        level_notional: Quote(20_000 * 1_000_000),
        inventory_max: Quote(400_000 * 1_000_000),
        skew_bps_max: 10,
        requote_bps: 2,
        refresh_blocks: 100,
    };

    pub(crate) fn is_valid(&self) -> bool {
        (1..=LEVELS_MAX).contains(&self.levels)
            && self.collateral.0 > 0
            && self.level_notional.0 > 0
            && self.inventory_max.0 > 0
            && self.refresh_blocks > 0
    }
}

/// A market maker's state. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maker {
    params: MakerParams,
    market: MarketId,
    /// The index of the last requote.
    quoted_index: Option<u64>,
    /// Height of the last requote.
    quoted_height: u64,
    /// Resting lots seen after the last requote (`None`: not yet seen).
    baseline_lots: Option<u64>,
}

/// Inventory ratio scale: parts per million.
const PPM: i128 = 1_000_000;

impl Maker {
    /// A maker quoting `market`.
    pub fn new(params: MakerParams, market: MarketId) -> Maker {
        Maker { params, market, quoted_index: None, quoted_height: 0, baseline_lots: None }
    }

    /// The market it quotes.
    pub fn market(&self) -> MarketId {
        self.market
    }

    /// Collateral it keeps.
    pub fn collateral(&self) -> Quote {
        self.params.collateral
    }

    /// The actions for this block.
    pub fn decide(&mut self, height: u64, m: &MarketView, me: &AccountView) -> Vec<TxAction> {
        let resting = me.resting_lots(self.market);
        if !m.can_open() || me.in_liquidation {
            self.quoted_index = None;
            self.baseline_lots = None;
            if resting > 0 && !me.in_liquidation {
                return vec![cancel_all(self.market)];
            }
            return Vec::new();
        }
        let Some(index) = m.index else { return Vec::new() };
        if self.quoted_index.is_some() && self.baseline_lots.is_none() {
            self.baseline_lots = Some(resting);
        }
        let moved = self
            .quoted_index
            .is_none_or(|q| q.abs_diff(index) >= m.bps_ticks(self.params.requote_bps));
        let filled = self.baseline_lots.is_some_and(|b| resting < b);
        let stale = height.saturating_sub(self.quoted_height) >= self.params.refresh_blocks;
        if !(moved || filled || stale) {
            return Vec::new();
        }
        self.quoted_index = Some(index);
        self.quoted_height = height;
        self.baseline_lots = None;
        let mut actions = vec![cancel_all(self.market)];
        actions.extend(self.quotes(m, me.position(self.market)).into_iter().map(|(side, p, q)| {
            let mut order = OrderRequest::limit(0, self.market, side, p, q);
            order.tif = TimeInForce::PostOnlySlide;
            TxAction::Place(order)
        }));
        actions
    }

    /// The quotes `(side, price, lots)` for a position of `position` lots.
    pub fn quotes(&self, m: &MarketView, position: i64) -> Vec<(Side, u64, u64)> {
        let Some(index) = m.index else { return Vec::new() };
        let p = &self.params;
        let inventory = m.notional_of(position.unsigned_abs()).0;
        let magnitude = (inventory.saturating_mul(PPM) / p.inventory_max.0.max(1)).min(PPM);
        let ratio = if position < 0 { -magnitude } else { magnitude };
        let skew = i128::from(m.bps_ticks(p.skew_bps_max)) * ratio / PPM;
        let center = u64::try_from((i128::from(index) - skew).max(1)).unwrap_or(index);
        let base = i128::from(m.lots_for(p.level_notional));
        let shrink = |r: i128| u64::try_from(base * (PPM - r.max(0)) / PPM).unwrap_or(0);
        let (bid_lots, ask_lots) = (shrink(ratio), shrink(-ratio));
        let half = m.bps_ticks(p.half_spread_bps);
        let step = m.bps_ticks(p.level_spacing_bps);
        let mut out = Vec::with_capacity(2 * p.levels as usize);
        for k in 0..u64::from(p.levels) {
            let offset = half + k * step;
            if bid_lots >= m.qty_min && center > offset && m.in_band(center - offset) {
                out.push((Side::Buy, center - offset, bid_lots));
            }
            if ask_lots >= m.qty_min && m.in_band(center + offset) {
                out.push((Side::Sell, center + offset, ask_lots));
            }
        }
        out
    }
}

fn cancel_all(market: MarketId) -> TxAction {
    TxAction::CancelAll { sub: 0, market: Some(market), side: None }
}

#[cfg(test)]
mod tests {
    use super::super::view::OwnOrder;
    use super::*;
    use novation_engine::MarketStatus;

    fn btc() -> MarketView {
        MarketView { bids: Vec::new(), asks: Vec::new(), ..super::super::view::test_market() }
    }

    fn maker() -> Maker {
        Maker::new(MakerParams::DEVNET, MarketId(0))
    }

    #[test]
    fn flat_quotes_are_symmetric_inside_the_band() {
        let q = maker().quotes(&btc(), 0);
        assert_eq!(q.len(), 10);
        // 2 bps of $100,000 = 200 ticks; levels 300 ticks apart; $20k = 200 lots.
        assert_eq!(q[0], (Side::Buy, 999_800, 200));
        assert_eq!(q[1], (Side::Sell, 1_000_200, 200));
        assert_eq!(q[8], (Side::Buy, 998_600, 200));
        assert!(q.iter().all(|&(_, p, _)| btc().in_band(p)));
    }

    #[test]
    fn inventory_skews_prices_and_sizes() {
        let m = btc();
        // Long $200k (half the maximum): both sides 5 bps lower, bids half size.
        let long = maker().quotes(&m, 2_000);
        assert_eq!(long[0], (Side::Buy, 999_300, 100));
        assert_eq!(long[1], (Side::Sell, 999_700, 200));
        // Short at the maximum: no asks, both sides 10 bps higher.
        let short = maker().quotes(&m, -10_000);
        assert!(short.iter().all(|&(s, _, _)| s == Side::Buy));
        assert_eq!(short[0], (Side::Buy, 1_000_800, 200));
    }

    #[test]
    fn requotes_only_on_a_move_a_fill_or_a_refresh() {
        let mut mk = maker();
        let m = btc();
        let me = AccountView::default();
        let first = mk.decide(1, &m, &me);
        assert_eq!(first.len(), 11, "cancel-all and ten quotes");
        assert!(matches!(first[0], TxAction::CancelAll { .. }));
        // The quotes rest: 2,000 lots seen, nothing to do.
        let orders = (0..10)
            .map(|i| OwnOrder {
                market: MarketId(0),
                id: novation_types::OrderId(i),
                side: Side::Buy,
                price: 1,
                qty: 200,
            })
            .collect();
        let mut resting = AccountView { orders, ..AccountView::default() };
        assert!(mk.decide(2, &m, &resting).is_empty());
        let small_move = MarketView { index: Some(1_000_100), ..btc() };
        assert!(mk.decide(3, &small_move, &resting).is_empty(), "1 bp < 2 bps");
        let big_move = MarketView { index: Some(1_000_300), ..btc() };
        assert_eq!(mk.decide(4, &big_move, &resting).len(), 11);
        // After the requote rests, a fill triggers the next one.
        assert!(mk.decide(5, &big_move, &resting).is_empty());
        resting.orders[0].qty = 150;
        assert_eq!(mk.decide(6, &big_move, &resting).len(), 11);
        assert!(mk.decide(7, &big_move, &resting).is_empty());
        assert_eq!(mk.decide(6 + 100, &big_move, &resting).len(), 11, "refresh");
        // A market in reduce-only: pull the quotes.
        let halted = MarketView { status: MarketStatus::ReduceOnly, ..btc() };
        assert_eq!(mk.decide(200, &halted, &resting), vec![cancel_all(MarketId(0))]);
    }
}
