//! Conversions from the chain's and the engine's types to the wire types: hex, sides, units,
//! market descriptions, transaction records.

use novation_chain::state::{ActionOutcome, TxOutcome};
use novation_chain::tx::TxAction;
use novation_engine::{BucketId, Market, MarketStatus, TimeInForce};
use novation_types::{Address, Side};
use novation_wire::rest as w;
use novation_wire::units::{atoms_to_usdc, units_to_decimal};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Bytes of a hex string (an optional `0x` prefix allowed).
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.strip_prefix("0x").unwrap_or(text);
    if !t.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("not a hex digit: {:?}", char::from(c))),
    };
    t.as_bytes().chunks(2).map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// A 20-byte address from hex.
pub fn parse_address(text: &str) -> Result<Address, String> {
    let bytes = unhex(text)?;
    let arr: [u8; 20] = bytes.try_into().map_err(|_| "an address has 20 bytes (40 hex digits)")?;
    Ok(Address(arr))
}

/// A 32-byte hash from hex.
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    let bytes = unhex(text)?;
    bytes.try_into().map_err(|_| "a hash has 32 bytes (64 hex digits)".to_string())
}

/// The wire side.
pub fn side(s: Side) -> w::Side {
    match s {
        Side::Buy => w::Side::Buy,
        Side::Sell => w::Side::Sell,
    }
}

/// The wire market status.
pub fn status(s: MarketStatus) -> w::MarketStatus {
    match s {
        MarketStatus::Active => w::MarketStatus::Active,
        MarketStatus::PostOnly => w::MarketStatus::PostOnly,
        MarketStatus::ReduceOnly => w::MarketStatus::ReduceOnly,
        MarketStatus::CancelOnly => w::MarketStatus::CancelOnly,
        MarketStatus::Halted => w::MarketStatus::Halted,
    }
}

/// The wire margin mode of a bucket.
pub fn margin(b: BucketId) -> w::MarginMode {
    match b {
        BucketId::Cross => w::MarginMode::Cross,
        BucketId::Isolated(_) => w::MarginMode::Isolated,
    }
}

/// What the API needs to know of a market to format its numbers. Fixed for the node's life
/// (parameters change only by governance, which restarts the read models).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketMeta {
    /// Market id.
    pub id: u16,
    /// Symbol.
    pub symbol: String,
    /// One tick, 10^-9 USDC.
    pub tick_size_nano: u64,
    /// One lot, 10^-9 base units.
    pub lot_size_nano: u64,
}

impl MarketMeta {
    /// The meta of an engine market.
    pub fn of(m: &Market) -> Self {
        MarketMeta {
            id: m.id.0,
            symbol: m.params.symbol.clone(),
            tick_size_nano: m.params.tick_size_nano,
            lot_size_nano: m.params.lot_size_nano,
        }
    }

    /// A price in ticks as a decimal.
    pub fn price(&self, ticks: u64) -> String {
        units_to_decimal(ticks, self.tick_size_nano)
    }

    /// A size in lots as a decimal.
    pub fn qty(&self, lots: u64) -> String {
        units_to_decimal(lots, self.lot_size_nano)
    }

    /// Notional of `lots` at `ticks`, quote atoms (tick × lot / 10^12 per tick-lot, exact for
    /// valid markets; saturating).
    pub fn notional_atoms(&self, ticks: u64, lots: u64) -> i128 {
        let per_tick_lot = u128::from(self.tick_size_nano) * u128::from(self.lot_size_nano);
        let v = u128::from(ticks).saturating_mul(u128::from(lots)).saturating_mul(per_tick_lot)
            / 1_000_000_000_000;
        i128::try_from(v).unwrap_or(i128::MAX)
    }

    /// A wire book level.
    pub fn level(&self, ticks: u64, lots: u64) -> w::BookLevel {
        w::BookLevel {
            price_ticks: ticks,
            qty_lots: lots,
            price: self.price(ticks),
            qty: self.qty(lots),
        }
    }
}

/// The wire description of an engine market (parameters and current prices).
pub fn market(m: &Market) -> w::Market {
    let meta = MarketMeta::of(m);
    let p = &m.params;
    let novation_engine::Instrument::Perpetual { funding_interval_ms, .. } = p.instrument;
    let tiers = p
        .tiers
        .tiers()
        .map(|t| w::MarginTier {
            notional_lower_atoms: t.notional_lower.0.to_string(),
            notional_lower: atoms_to_usdc(t.notional_lower.0),
            initial_ppb: t.initial.ppb(),
            maintenance_ppb: t.maintenance.ppb(),
        })
        .collect();
    w::Market {
        id: meta.id,
        symbol: meta.symbol.clone(),
        instrument: "perpetual".into(),
        status: status(m.status),
        tick_size_nano: p.tick_size_nano,
        tick_size: meta.price(1),
        lot_size_nano: p.lot_size_nano,
        lot_size: meta.qty(1),
        qty_min_lots: p.qty_min.0,
        qty_min: meta.qty(p.qty_min.0),
        maker_fee_ppb: p.maker_fee.ppb(),
        taker_fee_ppb: p.taker_fee.ppb(),
        price_band_ppb: p.price_band.ppb(),
        funding_interval_ms: Some(funding_interval_ms),
        oi_notional_max_atoms: p.oi_notional_max.0.to_string(),
        account_oi_notional_max_atoms: p.account_oi_notional_max.0.to_string(),
        tiers,
        mark_ticks: m.mark.0,
        mark: meta.price(m.mark.0),
        index_ticks: m.index.map(|i| i.0),
        index: m.index.map(|i| meta.price(i.0)),
        open_interest_lots: m.long_lots,
        open_interest: meta.qty(m.long_lots),
        funding_last_ppb: m.funding_last_rate.ppb(),
        funding_predicted_ppb: m.predicted_funding_rate().map(|r| r.ppb()).unwrap_or(0),
    }
}

fn tif(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Ioc => "ioc",
        TimeInForce::Fok => "fok",
        TimeInForce::PostOnly => "post_only",
        TimeInForce::PostOnlySlide => "post_only_slide",
    }
}

fn blank(kind: &str) -> w::ActionView {
    w::ActionView {
        kind: kind.into(),
        sub: None,
        market: None,
        side: None,
        price_ticks: None,
        qty_lots: None,
        tif: None,
        order_id: None,
        client_id: None,
        amount_atoms: None,
        to: None,
    }
}

/// The wire view of a transaction action.
pub fn action(a: &TxAction) -> w::ActionView {
    match a {
        TxAction::Withdraw { sub, amount } => w::ActionView {
            sub: Some(*sub),
            amount_atoms: Some(amount.0.to_string()),
            ..blank("withdraw")
        },
        TxAction::Transfer { sub, to, to_sub, amount } => w::ActionView {
            sub: Some(*sub),
            amount_atoms: Some(amount.0.to_string()),
            to: Some(format!("{}:{to_sub}", hex(&to.0))),
            ..blank("transfer")
        },
        TxAction::Place(o) => w::ActionView {
            sub: Some(o.sub),
            market: Some(o.market.0),
            side: Some(side(o.side)),
            price_ticks: Some(o.price.0),
            qty_lots: Some(o.qty.0),
            tif: Some(tif(o.tif).into()),
            client_id: o.client_id.map(|c| c.0),
            ..blank("place")
        },
        TxAction::Cancel { sub, market, id } => w::ActionView {
            sub: Some(*sub),
            market: Some(market.0),
            order_id: Some(id.0),
            ..blank("cancel")
        },
        TxAction::CancelByClientId { sub, market, client_id } => w::ActionView {
            sub: Some(*sub),
            market: Some(market.0),
            client_id: Some(client_id.0),
            ..blank("cancel_by_client_id")
        },
        TxAction::CancelAll { sub, market, side: s } => w::ActionView {
            sub: Some(*sub),
            market: market.map(|m| m.0),
            side: s.map(side),
            ..blank("cancel_all")
        },
        TxAction::Modify { sub, market, id, price, qty } => w::ActionView {
            sub: Some(*sub),
            market: Some(market.0),
            order_id: Some(id.0),
            price_ticks: Some(price.0),
            qty_lots: Some(qty.0),
            ..blank("modify")
        },
        TxAction::SetMarginMode { sub, market, isolated } => w::ActionView {
            sub: Some(*sub),
            market: Some(market.0),
            tif: None,
            to: Some(if *isolated { "isolated" } else { "cross" }.into()),
            ..blank("set_margin_mode")
        },
        TxAction::AdjustIsolatedMargin { sub, market, amount } => w::ActionView {
            sub: Some(*sub),
            market: Some(market.0),
            amount_atoms: Some(amount.0.to_string()),
            ..blank("adjust_isolated_margin")
        },
        TxAction::BidLiquidation { sub, auction, price_limit } => w::ActionView {
            sub: Some(*sub),
            order_id: Some(auction.0),
            price_ticks: Some(price_limit.0),
            ..blank("bid_liquidation")
        },
        TxAction::ApproveAgent { agent, max_order_qty, .. } => w::ActionView {
            to: Some(hex(&agent.0)),
            qty_lots: max_order_qty.map(|q| q.0),
            ..blank("approve_agent")
        },
        TxAction::RevokeAgent { agent } => {
            w::ActionView { to: Some(hex(&agent.0)), ..blank("revoke_agent") }
        }
        TxAction::Faucet { to, sub, amount } => w::ActionView {
            sub: Some(*sub),
            amount_atoms: Some(amount.0.to_string()),
            to: Some(hex(&to.0)),
            ..blank("faucet")
        },
    }
}

/// The wire view of a transaction's outcome.
pub fn outcome(o: &TxOutcome) -> w::TxOutcome {
    match o {
        TxOutcome::Refused { code, reason } => w::TxOutcome {
            status: w::OutcomeKind::Refused,
            code: Some(*code),
            reason: Some(reason.to_string()),
            actions: Vec::new(),
        },
        TxOutcome::Executed { actions } => w::TxOutcome {
            status: w::OutcomeKind::Executed,
            code: None,
            reason: None,
            actions: actions
                .iter()
                .map(|a| match a {
                    ActionOutcome::Done => w::ActionResult {
                        result: w::ActionResultKind::Done,
                        market: None,
                        order_id: None,
                        code: None,
                        reason: None,
                    },
                    ActionOutcome::OrderPlaced { market, id } => w::ActionResult {
                        result: w::ActionResultKind::OrderPlaced,
                        market: Some(market.0),
                        order_id: Some(id.0),
                        code: None,
                        reason: None,
                    },
                    ActionOutcome::Rejected { code, reason } => w::ActionResult {
                        result: w::ActionResultKind::Rejected,
                        market: None,
                        order_id: None,
                        code: Some(*code),
                        reason: Some(reason.to_string()),
                    },
                })
                .collect(),
        },
    }
}
