//! Reads: `markets`, `orders`, `positions`, `balance`, `book`, `trades`, and the tables `watch`
//! shares.

use novation_client::{market, MarketSpec};
use novation_types::{PriceTicks, QtyLots};

use super::*;
use crate::table::Table;

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

pub(super) async fn specs(http: &HttpClient) -> Result<Vec<MarketSpec>, SdkError> {
    http.market_specs().await
}

pub(super) fn spec_of(specs: &[MarketSpec], id: u16) -> Option<&MarketSpec> {
    specs.iter().find(|s| s.id.0 == id)
}

pub(super) async fn orders(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let list = http.orders(&account, who.sub).await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    let specs = specs(&http).await?;
    say!("{}", orders_table(&list.orders, &specs).unwrap_or_else(|| "no open orders".into()));
    Ok(())
}

/// Open orders as a table, or `None` without any.
pub fn orders_table(orders: &[rest::Order], specs: &[MarketSpec]) -> Option<String> {
    if orders.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("ID", true),
        ("MARKET", false),
        ("SIDE", false),
        ("PRICE", true),
        ("SIZE", true),
        ("FILLED", true),
        ("CLIENT ID", true),
        ("STATUS", false),
    ]);
    for o in orders {
        let (symbol, price, size, filled) = match spec_of(specs, o.market) {
            Some(s) => (
                s.symbol.clone(),
                s.format_price(PriceTicks(o.price_ticks)),
                s.format_size(QtyLots(o.remaining_lots)),
                s.format_size(QtyLots(o.filled_lots)),
            ),
            None => (
                o.market.to_string(),
                o.price.clone(),
                o.remaining_lots.to_string(),
                o.filled_lots.to_string(),
            ),
        };
        t.row(vec![
            o.id.to_string(),
            symbol,
            side_word(market::side_from_wire(o.side)).into(),
            price,
            size,
            filled,
            o.client_id.map(|c| c.to_string()).unwrap_or_default(),
            state_word(o.status).into(),
        ]);
    }
    Some(t.render())
}

pub(super) async fn positions(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let acct = http.account(&account, who.sub).await?;
    if net.json {
        print_json(&acct.positions);
        return Ok(());
    }
    let specs = specs(&http).await?;
    say!("{}", positions_table(&acct.positions, &specs).unwrap_or_else(|| "no positions".into()));
    Ok(())
}

/// Positions as a table, or `None` without any.
pub fn positions_table(positions: &[rest::Position], specs: &[MarketSpec]) -> Option<String> {
    let open: Vec<&rest::Position> = positions.iter().filter(|p| p.size_lots > 0).collect();
    if open.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("MARKET", false),
        ("SIDE", false),
        ("SIZE", true),
        ("ENTRY", true),
        ("MARK", true),
        ("UPNL (USDC)", true),
        ("LIQ. PRICE", true),
        ("MARGIN", false),
    ]);
    for p in open {
        let spec = spec_of(specs, p.market);
        let size = spec.map_or_else(|| p.size.clone(), |s| s.format_size(QtyLots(p.size_lots)));
        let mark =
            spec.map_or_else(|| p.mark.clone(), |s| s.format_price(PriceTicks(p.mark_ticks)));
        let liq = match (spec, p.liquidation_price_ticks) {
            (Some(s), Some(l)) => s.format_price(PriceTicks(l)),
            _ => p.liquidation_price.clone().unwrap_or_else(|| "-".into()),
        };
        t.row(vec![
            p.symbol.clone(),
            match p.side {
                Some(rest::Side::Buy) => "long".into(),
                Some(rest::Side::Sell) => "short".into(),
                None => "flat".into(),
            },
            size,
            p.entry_price.clone().unwrap_or_else(|| "-".into()),
            mark,
            usdc_of(&p.unrealized_pnl_atoms),
            liq,
            match p.margin {
                rest::MarginMode::Cross => "cross".into(),
                rest::MarginMode::Isolated => "isolated".into(),
            },
        ]);
    }
    Some(t.render())
}

pub(super) async fn balance(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let acct = http.account(&account, who.sub).await?;
    if net.json {
        print_json(&acct);
        return Ok(());
    }
    say!("{}", balance_lines(&acct));
    Ok(())
}

/// An account's balance summary.
pub fn balance_lines(a: &rest::Account) -> String {
    let cross = a.margin.iter().find(|m| m.margin == rest::MarginMode::Cross);
    let mut lines = vec![
        format!("account         {}/{}", a.address, a.sub),
        format!("balance         {} USDC", usdc_of(&a.balance_atoms)),
        format!("equity          {} USDC", usdc_of(&a.equity_atoms)),
        format!("unrealised PnL  {} USDC", usdc_of(&a.unrealized_pnl_atoms)),
    ];
    if let Some(c) = cross {
        lines.push(format!("free collateral {} USDC", usdc_of(&c.free_collateral_atoms)));
        lines.push(format!("initial margin  {} USDC", usdc_of(&c.initial_margin_atoms)));
        if let Some(ppb) = c.margin_usage_ppb {
            lines.push(format!(
                "margin usage    {}%",
                units::format_scaled(u128::from(ppb) / 100_000, 2, 2)
            ));
        }
        if c.liquidating {
            lines.push("LIQUIDATING".into());
        }
    }
    lines.push(format!("open orders     {}", a.open_orders));
    lines.push(format!(
        "positions       {}",
        a.positions.iter().filter(|p| p.size_lots > 0).count()
    ));
    lines.join("\n")
}

pub(super) async fn markets(net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let list = http.markets().await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&[
        ("ID", true),
        ("MARKET", false),
        ("TICK", true),
        ("LOT", true),
        ("MIN SIZE", true),
        ("MARK", true),
        ("INDEX", true),
        ("STATUS", false),
    ]);
    for m in &list.markets {
        let spec = MarketSpec::from_wire(m);
        let price = |ticks: u64| {
            spec.as_ref().map_or_else(|| ticks.to_string(), |s| s.format_price(PriceTicks(ticks)))
        };
        t.row(vec![
            m.id.to_string(),
            m.symbol.clone(),
            m.tick_size.clone(),
            m.lot_size.clone(),
            m.qty_min.clone(),
            price(m.mark_ticks),
            m.index_ticks.map_or_else(|| "-".into(), price),
            serde_json::to_value(m.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ]);
    }
    say!("{}", t.render());
    Ok(())
}

pub(super) async fn book(market: &str, depth: u32, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let specs = specs(&http).await?;
    let spec = market::find(&specs, market)?;
    let b = http.book(&spec.id.0.to_string(), Some(depth)).await?;
    if net.json {
        print_json(&b);
        return Ok(());
    }
    say!("{} book at height {} (seq {})", spec.symbol, b.height, b.seq);
    say!("{}", book_table(spec, &b.bids, &b.asks, depth as usize));
    Ok(())
}

/// Asks (best last) over bids (best first), with the spread between.
pub fn book_table(
    spec: &MarketSpec,
    bids: &[rest::BookLevel],
    asks: &[rest::BookLevel],
    depth: usize,
) -> String {
    let mut t = Table::new(&[("", false), ("PRICE", true), ("SIZE", true)]);
    for l in asks.iter().take(depth).rev() {
        t.row(vec![
            "ask".into(),
            spec.format_price(PriceTicks(l.price_ticks)),
            spec.format_size(QtyLots(l.qty_lots)),
        ]);
    }
    let spread = match (bids.first(), asks.first()) {
        (Some(b), Some(a)) if a.price_ticks >= b.price_ticks => {
            format!("spread {}", spec.format_price(PriceTicks(a.price_ticks - b.price_ticks)))
        }
        (None, None) => "empty book".into(),
        _ => "one-sided".into(),
    };
    t.row(vec!["---".into(), spread]);
    for l in bids.iter().take(depth) {
        t.row(vec![
            "bid".into(),
            spec.format_price(PriceTicks(l.price_ticks)),
            spec.format_size(QtyLots(l.qty_lots)),
        ]);
    }
    t.render()
}

pub(super) async fn trades(market: &str, limit: u32, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let specs = specs(&http).await?;
    let spec = market::find(&specs, market)?;
    let list = http.trades(&spec.id.0.to_string(), Some(limit)).await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    say!(
        "{}",
        trades_table(spec, &list.trades)
            .unwrap_or_else(|| format!("no trades in {} yet", spec.symbol))
    );
    Ok(())
}

/// Trades, newest first, as a table; `None` without any.
pub fn trades_table(spec: &MarketSpec, trades: &[rest::Trade]) -> Option<String> {
    if trades.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("TIME (UTC)", false),
        ("HEIGHT", true),
        ("TAKER", false),
        ("PRICE", true),
        ("SIZE", true),
    ]);
    for tr in trades {
        t.row(vec![
            clock(tr.time_ms),
            tr.height.to_string(),
            side_word(market::side_from_wire(tr.taker_side)).into(),
            spec.format_price(PriceTicks(tr.price_ticks)),
            spec.format_size(QtyLots(tr.qty_lots)),
        ]);
    }
    Some(t.render())
}

/// `HH:MM:SS.mmm` of a Unix millisecond time (UTC).
pub fn clock(ms: u64) -> String {
    let day_ms = ms % 86_400_000;
    let (h, m, s, milli) =
        (day_ms / 3_600_000, day_ms / 60_000 % 60, day_ms / 1000 % 60, day_ms % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_utc_time_of_day() {
        assert_eq!(clock(0), "00:00:00.000");
        assert_eq!(clock(86_400_000 + 3_723_004), "01:02:03.004");
    }
}
