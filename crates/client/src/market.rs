//! A market's grid, as published by the node, and the conversions that use it.

use novation_engine::MarketId;
use novation_types::{PriceTicks, QtyLots, Side};
use novation_wire::rest;

use crate::error::{Error, Result};
use crate::units::{self, Decimal, Grid, RoundMode, RoundedPrice, RoundedSize, UnitsError};

/// What a client needs of a market to turn human decimals into ticks and lots and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketSpec {
    /// Market id.
    pub id: MarketId,
    /// Symbol, e.g. `BTC-PERP`.
    pub symbol: String,
    /// The price grid (one tick).
    pub tick: Grid,
    /// The size grid (one lot).
    pub lot: Grid,
    /// Smallest order, lots.
    pub qty_min: QtyLots,
}

impl MarketSpec {
    /// From the node's market description; `None` if it publishes a zero tick or lot.
    pub fn from_wire(m: &rest::Market) -> Option<MarketSpec> {
        Some(MarketSpec {
            id: MarketId(m.id),
            symbol: m.symbol.clone(),
            tick: Grid::new(m.tick_size_nano)?,
            lot: Grid::new(m.lot_size_nano)?,
            qty_min: QtyLots(m.qty_min_lots),
        })
    }

    /// A limit price typed by a trader, on the tick grid. `round = false` refuses an off-tick
    /// price naming the nearest valid ones; `round = true` rounds in the trader's favour for
    /// `side` (buy down, sell up) and reports it in [`RoundedPrice::rounded`].
    pub fn price(&self, text: &str, side: Side, round: bool) -> Result<RoundedPrice, UnitsError> {
        let mode = if round { RoundMode::price_safe(side) } else { RoundMode::Exact };
        units::round_price(&Decimal::parse(text)?, self.tick, mode)
    }

    /// A size typed by a trader, on the lot grid. `round = false` refuses an off-lot size
    /// naming the nearest valid ones; `round = true` rounds down (never trades more than asked)
    /// and reports it. Sizes below the market minimum are refused either way.
    pub fn size(&self, text: &str, round: bool) -> Result<RoundedSize, UnitsError> {
        let mode = if round { RoundMode::SIZE_SAFE } else { RoundMode::Exact };
        let size = units::round_size(&Decimal::parse(text)?, self.lot, mode)?;
        if size.lots < self.qty_min {
            return Err(UnitsError::BelowMinimum {
                what: "size",
                text: text.to_string(),
                min: self.format_size(self.qty_min),
            });
        }
        Ok(size)
    }

    /// A price in ticks as a decimal.
    pub fn format_price(&self, price: PriceTicks) -> String {
        self.tick.format(u128::from(price.0))
    }

    /// A size in lots as a decimal.
    pub fn format_size(&self, qty: QtyLots) -> String {
        self.lot.format(u128::from(qty.0))
    }

    /// Whether `selector` names this market: its id, or its symbol (case-insensitive).
    pub fn matches(&self, selector: &str) -> bool {
        selector.parse::<u16>().ok() == Some(self.id.0)
            || self.symbol.eq_ignore_ascii_case(selector)
    }
}

/// The market among `markets` that `selector` names (id or symbol).
pub fn find<'a>(markets: &'a [MarketSpec], selector: &str) -> Result<&'a MarketSpec> {
    markets.iter().find(|m| m.matches(selector)).ok_or_else(|| Error::UnknownMarket {
        market: selector.to_string(),
        known: markets.iter().map(|m| m.symbol.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// The engine's side of a wire side.
pub fn side_from_wire(side: rest::Side) -> Side {
    match side {
        rest::Side::Buy => Side::Buy,
        rest::Side::Sell => Side::Sell,
    }
}

/// The wire's side of an engine side.
pub fn side_to_wire(side: Side) -> rest::Side {
    match side {
        Side::Buy => rest::Side::Buy,
        Side::Sell => rest::Side::Sell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> MarketSpec {
        MarketSpec {
            id: MarketId(0),
            symbol: "BTC-PERP".into(),
            tick: Grid::new(100_000_000).unwrap(),
            lot: Grid::new(1_000_000).unwrap(),
            qty_min: QtyLots(1),
        }
    }

    #[test]
    fn selectors_take_an_id_or_a_symbol() {
        let ms = vec![btc()];
        assert!(find(&ms, "0").is_ok());
        assert!(find(&ms, "btc-perp").is_ok());
        let err = find(&ms, "ETH-PERP").unwrap_err();
        assert_eq!(err.to_string(), "no market 'ETH-PERP'; markets: BTC-PERP");
    }

    #[test]
    fn trader_inputs_round_only_when_asked() {
        let m = btc();
        assert!(m.price("100000.05", Side::Buy, false).is_err());
        let p = m.price("100000.05", Side::Buy, true).unwrap();
        assert_eq!((m.format_price(p.ticks), p.rounded), ("100000.0".into(), true));
        let s = m.size("0.0015", true).unwrap();
        assert_eq!((m.format_size(s.lots), s.rounded), ("0.001".into(), true));
        let mut m2 = btc();
        m2.qty_min = QtyLots(10);
        assert_eq!(
            m2.size("0.005", false).unwrap_err().to_string(),
            "size 0.005 is below the market minimum 0.010"
        );
    }
}
