//! `order place | cancel | cancel-all | modify`: human decimals to ticks and lots, market orders
//! with a worst-price bound, finding an order's market from the account's open orders.

use novation_client::units::UnitsError;
use novation_client::{market, MarketSpec, Order, TxReport};
use novation_types::{OrderId, PriceTicks, QtyLots};
use serde_json::json;

use super::*;

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

/// An off-grid input refused: the units error plus how `--round` would resolve it.
pub(super) fn grid_error(e: UnitsError, hint_down: bool) -> SdkError {
    match &e {
        UnitsError::OffGrid { below, above, .. } => {
            let to = if hint_down { below } else { above };
            SdkError::Invalid(format!("{e}; pass --round to use {to}"))
        }
        _ => SdkError::Units(e),
    }
}

pub(super) fn parse_size(spec: &MarketSpec, text: &str, round: bool) -> Result<QtyLots, SdkError> {
    let size = spec.size(text, round).map_err(|e| grid_error(e, true))?;
    if size.rounded {
        eprintln!(
            "note: size {text} is not a multiple of the lot {}; rounded down to {}",
            spec.lot.format(1),
            spec.format_size(size.lots)
        );
    }
    Ok(size.lots)
}

pub(super) fn parse_price(
    spec: &MarketSpec,
    text: &str,
    side: Side,
    round: bool,
) -> Result<PriceTicks, SdkError> {
    let price = spec.price(text, side, round).map_err(|e| grid_error(e, side == Side::Buy))?;
    if price.rounded {
        let way = if side == Side::Buy { "down" } else { "up" };
        eprintln!(
            "note: price {text} is not a multiple of the tick {}; rounded {way} to {} (in your favour for a {})",
            spec.tick.format(1),
            spec.format_price(price.ticks),
            side_word(side)
        );
    }
    Ok(price.ticks)
}

/// The worst price of a market order: `slippage_bps` beyond the best opposite price, rounded
/// to the stricter tick.
pub(super) async fn market_price(
    t: &Trader,
    spec: &MarketSpec,
    side: Side,
    slippage_bps: u32,
) -> Result<PriceTicks, SdkError> {
    let book = t.http().book(&spec.id.0.to_string(), Some(1)).await?;
    let best = match side {
        Side::Buy => book.asks.first(),
        Side::Sell => book.bids.first(),
    };
    let Some(best) = best else {
        let other = if side == Side::Buy { "asks" } else { "bids" };
        return Err(SdkError::Invalid(format!(
            "no {other} in {} for a market {}; give a limit price with --price",
            spec.symbol,
            side_word(side)
        )));
    };
    let best_ticks = u128::from(best.price_ticks);
    let bps = u128::from(slippage_bps.min(9_999));
    let worst = match side {
        Side::Buy => best_ticks * (10_000 + bps) / 10_000,
        Side::Sell => (best_ticks * (10_000 - bps)).div_ceil(10_000),
    };
    let worst = PriceTicks(u64::try_from(worst).unwrap_or(u64::MAX).max(1));
    eprintln!(
        "market {}: immediate-or-cancel, worst price {} (best {} {} {} {}.{:02}%)",
        side_word(side),
        spec.format_price(worst),
        if side == Side::Buy { "ask" } else { "bid" },
        spec.format_price(PriceTicks(best.price_ticks)),
        if side == Side::Buy { "+" } else { "-" },
        bps / 100,
        bps % 100,
    );
    Ok(worst)
}

pub(super) async fn order(cmd: OrderCommand) -> Result<(), SdkError> {
    match cmd {
        OrderCommand::Place {
            market,
            side,
            size,
            price,
            ioc,
            fok,
            post_only,
            reduce_only,
            client_id,
            round,
            slippage_bps,
            key,
            net,
        } => {
            let t = trader(&key, &net).await?;
            let spec = t.market(&market)?.clone();
            let side = side.side();
            let qty = parse_size(&spec, &size, round)?;
            let mut o = match &price {
                Some(p) => Order::limit(spec.id, side, parse_price(&spec, p, side, round)?, qty),
                None => Order::market(
                    spec.id,
                    side,
                    market_price(&t, &spec, side, slippage_bps).await?,
                    qty,
                ),
            };
            if ioc {
                o = o.ioc();
            } else if fok {
                o = o.fok();
            } else if post_only {
                o = o.post_only();
            }
            if reduce_only {
                o = o.reduce_only();
            }
            if let Some(c) = client_id {
                o = o.client_id(c);
            }
            let placed = t.place(o).await?;
            let status = t.http().order(&spec.id.0.to_string(), placed.id.0).await.ok();
            print_placed(&spec, &o, &placed.report, placed.id, status.as_ref(), net.json);
            Ok(())
        }
        OrderCommand::Cancel { id, client_id, market, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = locate_order(&t, market.as_deref(), id, client_id).await?;
            let report = match (id, client_id) {
                (_, Some(c)) => t.cancel_by_client_id(spec.id, c).await?,
                (Some(id), None) => t.cancel(spec.id, OrderId(id)).await?,
                (None, None) => {
                    return Err(SdkError::Invalid("give an order id or --client-id".into()))
                }
            };
            let what = client_id
                .map_or_else(|| format!("order {}", id.unwrap_or(0)), |c| format!("client id {c}"));
            done(&report, &format!("cancelled {what} on {}", spec.symbol), net.json);
            Ok(())
        }
        OrderCommand::CancelAll { market, side, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = market.as_deref().map(|m| t.market(m).cloned()).transpose()?;
            let before =
                t.http().orders(&t.account(), t.sub()).await.map(|o| o.orders).unwrap_or_default();
            let side = side.map(SideArg::side);
            let report = t.cancel_all(spec.as_ref().map(|s| s.id), side).await?;
            let matched = before
                .iter()
                .filter(|o| spec.as_ref().is_none_or(|s| s.id.0 == o.market))
                .filter(|o| side.is_none_or(|s| market::side_from_wire(o.side) == s))
                .count();
            let scope =
                spec.as_ref().map_or_else(|| "all markets".to_string(), |s| s.symbol.clone());
            done(&report, &format!("cancelled {matched} open order(s) in {scope}"), net.json);
            Ok(())
        }
        OrderCommand::Modify { id, price, size, market, round, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = locate_order(&t, market.as_deref(), Some(id), None).await?;
            let current = t.http().order(&spec.id.0.to_string(), id).await?;
            let side = market::side_from_wire(current.side);
            let ticks = match &price {
                Some(p) => parse_price(&spec, p, side, round)?,
                None => PriceTicks(current.price_ticks),
            };
            let lots = match &size {
                Some(s) => parse_size(&spec, s, round)?,
                None => QtyLots(current.remaining_lots),
            };
            let report = t.modify(spec.id, OrderId(id), ticks, lots).await?;
            done(
                &report,
                &format!(
                    "modified order {id} on {}: {} {} @ {}",
                    spec.symbol,
                    side_word(side),
                    spec.format_size(lots),
                    spec.format_price(ticks)
                ),
                net.json,
            );
            Ok(())
        }
    }
}

/// The market of an order: `--market`, else the one of the account's open orders that has this
/// id (or client id).
pub(super) async fn locate_order(
    t: &Trader,
    market: Option<&str>,
    id: Option<u64>,
    client_id: Option<u64>,
) -> Result<MarketSpec, SdkError> {
    if let Some(m) = market {
        return Ok(t.market(m)?.clone());
    }
    let open = t.http().orders(&t.account(), t.sub()).await?.orders;
    let hits: Vec<u16> = open
        .iter()
        .filter(|o| match client_id {
            Some(c) => o.client_id == Some(c),
            None => Some(o.id) == id,
        })
        .map(|o| o.market)
        .collect();
    match hits.as_slice() {
        [m] => Ok(t.market(&m.to_string())?.clone()),
        [] => Err(SdkError::Invalid(
            "no open order of this account has that id; name its market with --market".into(),
        )),
        _ => Err(SdkError::Invalid(
            "several markets have an open order with that id; name one with --market".into(),
        )),
    }
}

pub(super) fn done(report: &TxReport, what: &str, json: bool) {
    if json {
        print_json(&json!({ "hash": report.hash, "height": report.height(), "result": what }));
    } else {
        say!("{what} (block {}, tx {})", report.height().unwrap_or(0), short(&report.hash));
    }
}

pub(super) fn tif_word(o: &Order) -> &'static str {
    use novation_engine::TimeInForce as T;
    match o.request().tif {
        T::Gtc => "GTC",
        T::Ioc => "IOC",
        T::Fok => "FOK",
        T::PostOnly => "post-only",
        T::PostOnlySlide => "post-only slide",
    }
}

pub(super) fn print_placed(
    spec: &MarketSpec,
    o: &Order,
    report: &TxReport,
    id: OrderId,
    status: Option<&rest::Order>,
    json: bool,
) {
    let r = o.request();
    if json {
        print_json(&json!({ "hash": report.hash, "height": report.height(), "market": spec.symbol,
            "order_id": id.0, "order": status }));
        return;
    }
    say!(
        "order {} placed: {} {} {} @ {} ({}) in block {}, tx {}",
        id.0,
        side_word(r.side),
        spec.format_size(r.qty),
        spec.symbol,
        spec.format_price(r.price),
        tif_word(o),
        report.height().unwrap_or(0),
        short(&report.hash)
    );
    if let Some(s) = status {
        let mut line = format!(
            "status: {}, filled {} of {}",
            state_word(s.status),
            spec.format_size(QtyLots(s.filled_lots)),
            spec.format_size(QtyLots(s.qty_lots.max(r.qty.0)))
        );
        if let Some(reason) = &s.reason {
            line.push_str(&format!(" ({reason})"));
        }
        say!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_grid_errors_say_how_to_round() {
        let spec = MarketSpec {
            id: novation_engine::MarketId(0),
            symbol: "BTC-PERP".into(),
            tick: units::Grid::new(100_000_000).expect("tick"),
            lot: units::Grid::new(1_000_000).expect("lot"),
            qty_min: QtyLots(1),
        };
        let e = parse_price(&spec, "100.05", Side::Sell, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "price 100.05 is not a multiple of 0.1: nearest valid values are 100.0 and 100.1; pass --round to use 100.1"
        );
        assert_eq!(parse_price(&spec, "100.05", Side::Buy, true).unwrap(), PriceTicks(1000));
        let e = parse_size(&spec, "0.0015", false).unwrap_err();
        assert!(e.to_string().ends_with("pass --round to use 0.001"), "{e}");
    }
}
