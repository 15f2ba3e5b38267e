//! The taker: random marketable flow.
//!
//! Each block, with probability `trade_percent`, it sends one IOC order in a market drawn
//! uniformly among those that can open positions: a side drawn 50/50 (forced to the reducing
//! side once the position's notional reaches `position_max`), a notional drawn uniformly in
//! `[notional_min, notional_max]` turned into lots (at least `qty_min`), and a worst price
//! `worst_bps` through the index (a market order with a slippage bound), kept inside the price
//! band. Everything drawn from the bot's own seeded stream.

use novation_chain::tx::TxAction;
use novation_engine::OrderRequest;
use novation_types::{Quote, Side};

use super::view::{AccountView, Snapshot};
use crate::rng::SplitMix64;

/// A taker's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakerParams {
    /// Collateral it keeps (refunded from the faucet below half of it).
    pub collateral: Quote,
    /// Chance of an order in a block, percent.
    pub trade_percent: u64,
    /// Smallest order notional.
    pub notional_min: Quote,
    /// Largest order notional.
    pub notional_max: Quote,
    /// Worst price, basis points through the index.
    pub worst_bps: u32,
    /// Position notional beyond which it only reduces.
    pub position_max: Quote,
}

impl TakerParams {
    /// The devnet taker: $250k, an order in 15 % of blocks, $500 to $5,000, worst price 2 %
    /// through the index, positions up to $50k.
    pub const DEVNET: TakerParams = TakerParams {
        collateral: Quote(250_000 * 1_000_000),
        trade_percent: 15,
        notional_min: Quote(500 * 1_000_000),
        notional_max: Quote(5_000 * 1_000_000),
        worst_bps: 200,
        position_max: Quote(50_000 * 1_000_000),
    };

    pub(crate) fn is_valid(&self) -> bool {
        self.collateral.0 > 0
            && self.trade_percent <= 100
            && self.notional_min.0 > 0
            && self.notional_min <= self.notional_max
            && self.position_max.0 > 0
    }
}

/// A taker. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taker {
    params: TakerParams,
}

impl Taker {
    /// A taker.
    pub fn new(params: TakerParams) -> Taker {
        Taker { params }
    }

    /// Collateral it keeps.
    pub fn collateral(&self) -> Quote {
        self.params.collateral
    }

    /// The actions for this block.
    pub fn decide(
        &mut self,
        snap: &Snapshot,
        me: &AccountView,
        rng: &mut SplitMix64,
    ) -> Vec<TxAction> {
        let p = &self.params;
        if !me.exists() || me.in_liquidation || !rng.percent(p.trade_percent) {
            return Vec::new();
        }
        let open: Vec<_> = snap.markets.iter().filter(|m| m.can_open()).collect();
        if open.is_empty() {
            return Vec::new();
        }
        let m = open[rng.below(open.len() as u64) as usize];
        let Some(index) = m.index else { return Vec::new() };
        let mut side = if rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let position = me.position(m.id);
        if m.notional_of(position.unsigned_abs()) >= p.position_max {
            side = if position > 0 { Side::Sell } else { Side::Buy };
        }
        let span = u64::try_from(p.notional_max.0 - p.notional_min.0).unwrap_or(u64::MAX - 1);
        let notional = Quote(p.notional_min.0 + i128::from(rng.below(span + 1)));
        let lots = m.lots_for(notional);
        let through = m.bps_ticks(p.worst_bps);
        let worst = match side {
            Side::Buy => index.saturating_add(through),
            Side::Sell => index.saturating_sub(through).max(1),
        };
        let Some(worst) = m.clamp_to_band(worst) else { return Vec::new() };
        if lots == 0 {
            return Vec::new();
        }
        vec![TxAction::Place(OrderRequest::market(0, m.id, side, worst, lots))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::view::{test_account, test_market, MarketView};
    use novation_engine::{MarketStatus, TimeInForce};

    fn snap(status: MarketStatus) -> Snapshot {
        Snapshot {
            height: 10,
            markets: vec![MarketView { status, ..test_market() }],
            ..Snapshot::default()
        }
    }

    fn orders(me: &AccountView, status: MarketStatus, blocks: u64) -> Vec<OrderRequest> {
        let mut t = Taker::new(TakerParams { trade_percent: 100, ..TakerParams::DEVNET });
        let mut rng = SplitMix64::new(5);
        (0..blocks)
            .flat_map(|_| t.decide(&snap(status), me, &mut rng))
            .map(|a| match a {
                TxAction::Place(o) => o,
                other => panic!("a taker only places orders: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn orders_are_bounded_iocs_inside_the_band() {
        let m = test_market();
        let all = orders(&test_account(250_000, 0), MarketStatus::Active, 200);
        assert_eq!(all.len(), 200);
        assert!(
            all.iter().any(|o| o.side == Side::Buy) && all.iter().any(|o| o.side == Side::Sell)
        );
        for o in &all {
            assert_eq!(o.tif, TimeInForce::Ioc);
            // $500 to $5,000 at $100 a lot; worst price 2 % through the index.
            assert!((5..=50).contains(&o.qty.0), "{o:?}");
            let expected = match o.side {
                Side::Buy => 1_020_000,
                Side::Sell => 980_000,
            };
            assert_eq!(o.price.0, expected);
            assert!(m.in_band(o.price.0));
        }
    }

    #[test]
    fn a_full_position_only_reduces_and_a_closed_market_gets_nothing() {
        // Long $60k, above the $50k cap: every order sells.
        let all = orders(&test_account(250_000, 600), MarketStatus::Active, 50);
        assert!(all.iter().all(|o| o.side == Side::Sell));
        assert!(orders(&test_account(250_000, 0), MarketStatus::ReduceOnly, 50).is_empty());
    }
}
