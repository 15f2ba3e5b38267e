//! The leveraged trader: builds one position at a leverage drawn in its range (10–20× or 3–4×
//! on the devnet), mostly or always long, holds it, closes it, and starts again; in a crash it
//! is liquidated, waits, and is refunded.
//!
//! # Phases
//!
//! | phase | what it does | next |
//! |---|---|---|
//! | `Idle` | flat: asks the faucet to top its equity back up to `collateral` when below 90 % of it; otherwise draws a market that can open, a side (long with `long_percent`), a leverage in `[leverage_min, leverage_max]` and a target of `equity × leverage` in lots | `Opening`; `Closing` if it still holds a position |
//! | `Opening` | one IOC per block of at most `chunk_notional`, `slippage_bps` through the index, on the target's side | `Holding` at 95 % of the target or after [`OPEN_BLOCKS_MAX`] |
//! | `Holding` | nothing, for a hold drawn in `[hold_blocks_min, hold_blocks_max]` | `Closing` |
//! | `Closing` | a reduce-only IOC for the whole position each block | `Idle` when flat, or after [`CLOSE_BLOCKS_MAX`] |
//! | `Liquidated` | its bucket is in the waterfall: nothing | `Cooldown` when it leaves it |
//! | `Cooldown` | nothing for `cooldown_blocks` | `Idle` (which refunds it) |
//!
//! From any phase holding a position, the account found in the liquidation waterfall moves to
//! `Liquidated`; a position that vanished while `Holding` (liquidated between two snapshots)
//! counts as a liquidation too and moves to `Cooldown`.

use novation_chain::tx::TxAction;
use novation_engine::{MarketId, OrderRequest};
use novation_types::{Quote, Side};

use super::view::{AccountView, Snapshot};
use super::Decision;
use crate::rng::SplitMix64;

/// Most blocks spent building a position.
pub const OPEN_BLOCKS_MAX: u64 = 60;

/// Most blocks spent closing a position before starting over from `Idle`.
pub const CLOSE_BLOCKS_MAX: u64 = 30;

/// A leveraged trader's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeveragedParams {
    /// The collateral it is refunded to.
    pub collateral: Quote,
    /// Smallest leverage (position notional over equity).
    pub leverage_min: u64,
    /// Largest leverage.
    pub leverage_max: u64,
    /// Chance of a long, percent.
    pub long_percent: u64,
    /// Largest order while building, notional.
    pub chunk_notional: Quote,
    /// Worst price of its IOC orders, basis points through the index.
    pub slippage_bps: u32,
    /// Shortest hold.
    pub hold_blocks_min: u64,
    /// Longest hold.
    pub hold_blocks_max: u64,
    /// Wait after a liquidation before the refund.
    pub cooldown_blocks: u64,
}

impl LeveragedParams {
    /// The devnet trader: $5,000 at 10–20×, 80 % long, orders of up to $25k, holds of 600 to
    /// 3,000 blocks, 150 blocks of cooldown after a liquidation.
    pub const DEVNET: LeveragedParams = LeveragedParams {
        collateral: Quote(5_000 * 1_000_000),
        leverage_min: 10,
        leverage_max: 20,
        long_percent: 80,
        chunk_notional: Quote(25_000 * 1_000_000),
        slippage_bps: 50,
        hold_blocks_min: 600,
        hold_blocks_max: 3_000,
        cooldown_blocks: 150,
    };

    /// The devnet's steadier longs: $20,000 at 3–4×, always long, holds of 3,000 to 12,000
    /// blocks; liquidated only deep in a crash (from about −25 %).
    pub const DEVNET_LOW: LeveragedParams = LeveragedParams {
        collateral: Quote(20_000 * 1_000_000),
        leverage_min: 3,
        leverage_max: 4,
        long_percent: 100,
        chunk_notional: Quote(25_000 * 1_000_000),
        slippage_bps: 50,
        hold_blocks_min: 3_000,
        hold_blocks_max: 12_000,
        cooldown_blocks: 150,
    };

    pub(crate) fn is_valid(&self) -> bool {
        self.collateral.0 > 0
            && (1..=self.leverage_max).contains(&self.leverage_min)
            && self.leverage_max <= 50
            && self.long_percent <= 100
            && self.chunk_notional.0 > 0
            && self.hold_blocks_min <= self.hold_blocks_max
    }
}

/// Where a leveraged trader is. See the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Flat, funding or about to open.
    Idle,
    /// Building `target` lots on `side`, until height `until`.
    Opening { market: MarketId, side: Side, target: u64, until: u64 },
    /// Holding until height `until`.
    Holding { market: MarketId, until: u64 },
    /// Closing, until height `until`.
    Closing { market: MarketId, until: u64 },
    /// In the liquidation waterfall.
    Liquidated,
    /// Waiting until height `until` after a liquidation.
    Cooldown { until: u64 },
}

/// A leveraged trader. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leveraged {
    params: LeveragedParams,
    phase: Phase,
    liquidations: u64,
}

impl Leveraged {
    /// A trader in `Idle`.
    pub fn new(params: LeveragedParams) -> Leveraged {
        Leveraged { params, phase: Phase::Idle, liquidations: 0 }
    }

    /// Its phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Liquidations it went through.
    pub fn liquidations(&self) -> u64 {
        self.liquidations
    }

    /// Collateral it is refunded to.
    pub fn collateral(&self) -> Quote {
        self.params.collateral
    }

    /// The actions (and refund request) for this block.
    pub fn decide(
        &mut self,
        height: u64,
        snap: &Snapshot,
        me: &AccountView,
        rng: &mut SplitMix64,
    ) -> Decision {
        if me.in_liquidation {
            if self.phase != Phase::Liquidated {
                self.phase = Phase::Liquidated;
                self.liquidations += 1;
            }
            return Decision::default();
        }
        match self.phase {
            Phase::Liquidated => {
                self.phase = Phase::Cooldown { until: height + self.params.cooldown_blocks };
                Decision::default()
            }
            Phase::Cooldown { until } => {
                if height >= until {
                    self.phase = Phase::Idle;
                }
                Decision::default()
            }
            Phase::Idle => self.idle(height, snap, me, rng),
            Phase::Opening { market, side, target, until } => {
                let have = match side {
                    Side::Buy => me.position(market).max(0).unsigned_abs(),
                    Side::Sell => me.position(market).min(0).unsigned_abs(),
                };
                if have * 100 >= target * 95 || height >= until {
                    let hold = rng.range(self.params.hold_blocks_min, self.params.hold_blocks_max);
                    self.phase = Phase::Holding { market, until: height + hold };
                    return Decision::default();
                }
                let Some(m) = snap.market(market).filter(|m| m.can_open()) else {
                    return Decision::default();
                };
                let lots = (target - have).min(m.lots_for(self.params.chunk_notional));
                Decision::act(ioc(m, side, lots, self.params.slippage_bps, false))
            }
            Phase::Holding { market, until } => {
                if me.position(market) == 0 {
                    self.liquidations += 1;
                    self.phase = Phase::Cooldown { until: height + self.params.cooldown_blocks };
                } else if height >= until {
                    self.phase = Phase::Closing { market, until: height + CLOSE_BLOCKS_MAX };
                }
                Decision::default()
            }
            Phase::Closing { market, until } => {
                let position = me.position(market);
                if position == 0 || height >= until {
                    self.phase = Phase::Idle;
                    return Decision::default();
                }
                let Some(m) = snap.market(market).filter(|m| m.can_reduce()) else {
                    return Decision::default();
                };
                let side = if position > 0 { Side::Sell } else { Side::Buy };
                let lots = position.unsigned_abs();
                Decision::act(ioc(m, side, lots, self.params.slippage_bps, true))
            }
        }
    }

    fn idle(
        &mut self,
        height: u64,
        snap: &Snapshot,
        me: &AccountView,
        rng: &mut SplitMix64,
    ) -> Decision {
        if let Some(p) = me.positions.first() {
            self.phase = Phase::Closing { market: p.market, until: height + CLOSE_BLOCKS_MAX };
            return Decision::default();
        }
        let c = self.params.collateral;
        if !me.exists() || me.equity.0 * 10 < c.0 * 9 {
            return Decision::refund(Quote(c.0 - me.equity.0.max(0)));
        }
        let open: Vec<_> = snap.markets.iter().filter(|m| m.can_open()).collect();
        if open.is_empty() {
            return Decision::default();
        }
        let m = open[rng.below(open.len() as u64) as usize];
        let side = if rng.percent(self.params.long_percent) { Side::Buy } else { Side::Sell };
        let leverage = rng.range(self.params.leverage_min, self.params.leverage_max);
        let target = m.lots_for(Quote(me.equity.0.saturating_mul(i128::from(leverage))));
        if target == 0 {
            return Decision::default();
        }
        self.phase = Phase::Opening { market: m.id, side, target, until: height + OPEN_BLOCKS_MAX };
        Decision::default()
    }
}

/// An IOC of `lots` on `side`, `slippage_bps` through the index (inside the band).
fn ioc(
    m: &super::view::MarketView,
    side: Side,
    lots: u64,
    slippage_bps: u32,
    reduce_only: bool,
) -> Option<TxAction> {
    let index = m.index?;
    let through = m.bps_ticks(slippage_bps);
    let worst = match side {
        Side::Buy => index.saturating_add(through),
        Side::Sell => index.saturating_sub(through).max(1),
    };
    let worst = m.clamp_to_band(worst)?;
    if lots < m.qty_min {
        return None;
    }
    let mut order = OrderRequest::market(0, m.id, side, worst, lots);
    order.reduce_only = reduce_only;
    Some(TxAction::Place(order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::view::{test_account, test_market};

    fn snap(height: u64) -> Snapshot {
        Snapshot { height, markets: vec![test_market()], ..Snapshot::default() }
    }

    fn trader() -> Leveraged {
        Leveraged::new(LeveragedParams { long_percent: 100, ..LeveragedParams::DEVNET })
    }

    #[test]
    fn an_unfunded_trader_asks_for_its_collateral() {
        let mut t = trader();
        let mut rng = SplitMix64::new(1);
        let d = t.decide(1, &snap(1), &AccountView::default(), &mut rng);
        assert_eq!(d.refund, Some(Quote(5_000 * 1_000_000)));
        let d = t.decide(2, &snap(2), &test_account(1_000, 0), &mut rng);
        assert_eq!(d.refund, Some(Quote(4_000 * 1_000_000)), "tops up to the collateral");
        assert_eq!(t.phase(), Phase::Idle);
    }

    #[test]
    fn it_builds_holds_is_liquidated_cools_down_and_starts_over() {
        let mut t = trader();
        let mut rng = SplitMix64::new(1);
        let funded = test_account(5_000, 0);
        assert_eq!(t.decide(1, &snap(1), &funded, &mut rng), Decision::default());
        let Phase::Opening { side, target, .. } = t.phase() else { panic!("{:?}", t.phase()) };
        assert_eq!(side, Side::Buy);
        // 10–20× $5,000 at $100 a lot.
        assert!((500..=1_000).contains(&target), "{target}");
        let d = t.decide(2, &snap(2), &funded, &mut rng);
        let [TxAction::Place(o)] = d.actions.as_slice() else { panic!("{d:?}") };
        assert_eq!((o.side, o.qty.0, o.price.0), (Side::Buy, 250, 1_005_000), "$25k chunk, 50 bps");
        let built = test_account(5_000, i64::try_from(target).unwrap_or(0));
        t.decide(3, &snap(3), &built, &mut rng);
        assert!(matches!(t.phase(), Phase::Holding { .. }));
        let liquidating = AccountView { in_liquidation: true, ..built.clone() };
        t.decide(4, &snap(4), &liquidating, &mut rng);
        assert_eq!((t.phase(), t.liquidations()), (Phase::Liquidated, 1));
        let wiped = test_account(100, 0);
        t.decide(5, &snap(5), &wiped, &mut rng);
        assert_eq!(t.phase(), Phase::Cooldown { until: 155 });
        assert_eq!(t.decide(100, &snap(100), &wiped, &mut rng), Decision::default());
        t.decide(155, &snap(155), &wiped, &mut rng);
        assert_eq!(t.phase(), Phase::Idle);
        let d = t.decide(156, &snap(156), &wiped, &mut rng);
        assert_eq!(d.refund, Some(Quote(4_900 * 1_000_000)), "refunded after the cooldown");
    }

    #[test]
    fn a_held_position_is_closed_reduce_only_after_the_hold() {
        let mut t = trader();
        let mut rng = SplitMix64::new(1);
        t.phase = Phase::Holding { market: MarketId(0), until: 10 };
        let long = test_account(5_000, 700);
        t.decide(10, &snap(10), &long, &mut rng);
        let d = t.decide(11, &snap(11), &long, &mut rng);
        let [TxAction::Place(o)] = d.actions.as_slice() else { panic!("{d:?}") };
        assert!(o.reduce_only);
        assert_eq!((o.side, o.qty.0, o.price.0), (Side::Sell, 700, 995_000));
        t.decide(12, &snap(12), &test_account(5_000, 0), &mut rng);
        assert_eq!(t.phase(), Phase::Idle);
    }
}
