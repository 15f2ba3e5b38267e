//! Account views computed from the node's finalized state: balances, margin per bucket,
//! positions valued at mark with their liquidation price and ADL rank, resting orders, and a
//! market's ADL queue. Each function runs inside one executor query, so everything it reports
//! is of one height.
//!
//! Position figures: `notional = |size| × mark × tick-lot value`; `unrealized_pnl = value at
//! mark − entry notional − pending funding`; `entry_price = entry notional / (|size| × lot)`;
//! `liquidation_price` is the mark at which the bucket's equity would meet its maintenance
//! requirement, other legs held at their marks (the engine's `liquidation_price`);
//! `margin_usage = maintenance / equity`.

use novation_chain::state::ChainState;
use novation_engine::{leg_value, BucketId, Engine, Leg, MarketId};
use novation_types::{AccountId, Address, Side};
use novation_wire::rest as w;
use novation_wire::units::{atoms_to_usdc, units_to_decimal};

use crate::convert::{self, hex, MarketMeta};

/// Most ADL queue entries returned per side.
pub const ADL_ENTRIES_MAX: usize = 500;

/// `V × 10^12 / (lots × lot_nano)` nano-USDC: the average entry price of a position.
fn entry_price(entry_atoms: i128, lots: u64, lot_nano: u64) -> Option<String> {
    let denom = u128::from(lots).checked_mul(u128::from(lot_nano))?;
    if denom == 0 || entry_atoms < 0 {
        return None;
    }
    let nano = entry_atoms.unsigned_abs().checked_mul(1_000_000_000_000)? / denom;
    Some(units_to_decimal(u64::try_from(nano).ok()?, 1))
}

/// The wire position of `leg` held in `bucket` of account `id`.
pub fn position(
    engine: &Engine,
    id: AccountId,
    bucket: BucketId,
    leg: &Leg,
) -> Option<w::Position> {
    let m = engine.market(leg.market)?;
    let meta = MarketMeta::of(m);
    let lv = leg_value(m, leg).ok()?;
    let lots = leg.size.unsigned_abs();
    let liq = engine.liquidation_price(id, leg.market);
    let upnl = lv.upnl.saturating_sub(lv.funding);
    Some(w::Position {
        market: meta.id,
        symbol: meta.symbol.clone(),
        margin: convert::margin(bucket),
        side: leg.side().map(convert::side),
        size_lots: lots,
        size: meta.qty(lots),
        entry_notional_atoms: leg.entry_notional.0.to_string(),
        entry_price: entry_price(leg.entry_notional.0, lots, meta.lot_size_nano),
        mark_ticks: m.mark.0,
        mark: meta.price(m.mark.0),
        notional_atoms: lv.notional.to_string(),
        unrealized_pnl_atoms: upnl.to_string(),
        unrealized_pnl: atoms_to_usdc(upnl),
        liquidation_price_ticks: liq.map(|p| p.0),
        liquidation_price: liq.map(|p| meta.price(p.0)),
        initial_margin_atoms: lv.initial.to_string(),
        maintenance_margin_atoms: lv.maintenance.to_string(),
        adl_rank: if lots > 0 {
            engine.adl_rank(leg.market, id).and_then(|r| u32::try_from(r).ok())
        } else {
            None
        },
        open_buy_lots: leg.open_buy,
        open_sell_lots: leg.open_sell,
    })
}

/// The position of (`owner`, `sub`) in `market` (a flat one if it holds none).
pub fn position_in(st: &ChainState, owner: Address, sub: u16, market: u16) -> Option<w::Position> {
    let engine = &st.engine;
    let id = engine.account_id(owner, sub)?;
    let acc = engine.account(id)?;
    let mid = MarketId(market);
    let bucket = acc.bucket_of(mid);
    let funding = engine.market(mid)?.funding_index;
    let leg =
        acc.bucket(bucket).and_then(|b| b.leg(mid).copied()).unwrap_or(Leg::new(mid, funding));
    position(engine, id, bucket, &leg)
}

fn summary(engine: &Engine, id: AccountId, bucket: BucketId, cash: i128) -> w::MarginSummary {
    let v = engine.valuation(id, bucket).unwrap_or_default();
    let usage = (v.equity.0 > 0).then(|| {
        let ppb = v.maintenance.0.max(0).saturating_mul(1_000_000_000) / v.equity.0;
        u64::try_from(ppb).unwrap_or(u64::MAX)
    });
    w::MarginSummary {
        margin: convert::margin(bucket),
        market: match bucket {
            BucketId::Cross => None,
            BucketId::Isolated(m) => Some(m.0),
        },
        cash_atoms: cash.to_string(),
        equity_atoms: v.equity.0.to_string(),
        equity: atoms_to_usdc(v.equity.0),
        initial_margin_atoms: v.initial.0.to_string(),
        maintenance_margin_atoms: v.maintenance.0.to_string(),
        notional_atoms: v.notional.0.to_string(),
        margin_usage_ppb: usage,
        free_collateral_atoms: v.equity.0.saturating_sub(v.initial.0).to_string(),
        liquidating: engine.in_liquidation(id, bucket),
    }
}

/// The account (`owner`, `sub`), or `None` if it does not exist.
pub fn account(st: &ChainState, owner: Address, sub: u16) -> Option<w::Account> {
    let engine = &st.engine;
    let id = engine.account_id(owner, sub)?;
    let acc = engine.account(id)?;
    let mut buckets = vec![(BucketId::Cross, &acc.cross)];
    buckets.extend(acc.isolated.iter().map(|(m, b)| (BucketId::Isolated(*m), b)));
    let mut margin = Vec::new();
    let mut positions = Vec::new();
    let (mut balance, mut equity, mut upnl) = (0i128, 0i128, 0i128);
    for (bid, b) in buckets {
        let s = summary(engine, id, bid, b.cash.0);
        balance = balance.saturating_add(b.cash.0);
        equity = equity.saturating_add(s.equity_atoms.parse::<i128>().unwrap_or(0));
        margin.push(s);
        for leg in b.legs.iter().filter(|l| l.size != 0) {
            if let Some(p) = position(engine, id, bid, leg) {
                upnl = upnl.saturating_add(p.unrealized_pnl_atoms.parse::<i128>().unwrap_or(0));
                positions.push(p);
            }
        }
    }
    let open_orders = engine
        .markets()
        .iter()
        .map(|m| m.book.account_order_count(id))
        .fold(0u32, |a, n| a.saturating_add(n));
    Some(w::Account {
        address: hex(&owner.0),
        sub,
        height: st.height,
        balance_atoms: balance.to_string(),
        balance: atoms_to_usdc(balance),
        equity_atoms: equity.to_string(),
        equity: atoms_to_usdc(equity),
        unrealized_pnl_atoms: upnl.to_string(),
        margin,
        positions,
        open_orders,
    })
}

/// The resting orders of (`owner`, `sub`), or `None` if the account does not exist.
pub fn open_orders(st: &ChainState, owner: Address, sub: u16) -> Option<Vec<w::Order>> {
    let engine = &st.engine;
    let id = engine.account_id(owner, sub)?;
    let orders = engine
        .orders_of(id)
        .into_iter()
        .filter_map(|o| {
            let meta = MarketMeta::of(engine.market(o.market)?);
            Some(w::Order {
                market: o.market.0,
                id: o.id.0,
                client_id: o.client_id.map(|c| c.0),
                address: Some(hex(&owner.0)),
                sub: Some(sub),
                side: convert::side(o.side),
                price_ticks: o.price.0,
                price: meta.price(o.price.0),
                qty_lots: o.remaining.0,
                filled_lots: 0,
                remaining_lots: o.remaining.0,
                status: w::OrderState::Resting,
                reason: None,
                created_height: 0,
                updated_height: 0,
            })
        })
        .collect();
    Some(orders)
}

/// The ADL queue of `market` (at most `limit` entries a side), or `None` for no such market.
pub fn adl_queue(st: &ChainState, market: u16, limit: usize) -> Option<w::AdlQueue> {
    let engine = &st.engine;
    let m = engine.market(MarketId(market))?;
    let side = |s: Side| {
        engine
            .adl_queue(MarketId(market), s)
            .unwrap_or_default()
            .into_iter()
            .take(limit.min(ADL_ENTRIES_MAX))
            .enumerate()
            .filter_map(|(rank, e)| {
                let acc = engine.account(e.account)?;
                Some(w::AdlEntry {
                    rank: u32::try_from(rank).ok()?,
                    address: hex(&acc.owner.0),
                    sub: acc.sub,
                    margin: convert::margin(e.bucket),
                    size_lots: e.qty.0,
                    in_liquidation: e.in_liquidation,
                })
            })
            .collect::<Vec<_>>()
    };
    Some(w::AdlQueue {
        market,
        symbol: m.params.symbol.clone(),
        height: st.height,
        longs: side(Side::Buy),
        shorts: side(Side::Sell),
    })
}
