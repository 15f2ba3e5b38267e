//! Market and engine parameters, validated before a market exists.
//!
//! Every number that governance may set lives here, with its unit in its name or type and a
//! check in [`MarketParams::validate`] / [`EngineParams::validate`]. A market is created only
//! from validated parameters, so the engine never meets, say, a zero lot value or a maker rebate
//! larger than the taker fee (which would let two colluding accounts drain the fee pool).

use novation_book::BookLimits;
use novation_risk::{
    ContractSpec, FundingParams, MarginTier, MarginTiers, MarkParams, OpenInterestRamp, Rate,
};
use novation_types::{QtyLots, Quote};

/// The kind of contract a market trades. Perpetual swaps now; dated futures (expiry, settlement
/// to an index TWAP) and European options are later variants, so code that depends on the
/// instrument matches on this enum rather than assuming funding exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instrument {
    /// A perpetual swap: no expiry, funding every interval.
    Perpetual {
        /// Funding formula parameters.
        funding: FundingParams,
        /// Length of a funding interval in block time (default one hour).
        funding_interval_ms: u64,
        /// dYdX's impact base: the impact notional is `impact_base / initial fraction`.
        impact_base: Quote,
    },
}

/// How the waterfall treats a position of this market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationParams {
    /// Liquidation IOC orders trade no further than this from mark.
    pub band: Rate,
    /// Fraction of the closed notional charged to the liquidated account, paid to the market's
    /// insurance fund (never more than the account's remaining equity).
    pub penalty: Rate,
    /// Positions above this notional are closed a fraction at a time.
    pub partial_notional_min: Quote,
    /// The fraction closed per block for positions above `partial_notional_min`.
    pub partial_fraction: Rate,
    /// Blocks over which a takeover auction's price decays from mark to bankruptcy price;
    /// the insurance fund steps in the block after.
    pub auction_blocks: u64,
    /// The most notional (at mark) the market's insurance fund may hold in this market.
    pub insurance_position_notional_max: Quote,
}

/// Automatic circuit breakers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerParams {
    /// An index move larger than this fraction within `window_blocks` puts the market in
    /// reduce-only.
    pub index_move_max: Rate,
    /// The window for `index_move_max`, in blocks (at most [`BREAKER_WINDOW_BLOCKS_MAX`]).
    pub window_blocks: u32,
    /// A market whose index is older than this many blocks goes reduce-only; margin checks and
    /// liquidations may use an index up to this old, never older.
    pub index_stale_blocks: u64,
    /// Opening or increasing a position, and withdrawing or transferring collateral out of an
    /// account with a position or order in the market, need an index at most this many blocks old
    /// (at most `index_stale_blocks`).
    pub open_index_age_blocks: u64,
    /// Blocks a tripped breaker holds after its cause has cleared.
    pub cooldown_blocks: u64,
}

/// The largest breaker window, so a market's index history stays bounded.
pub const BREAKER_WINDOW_BLOCKS_MAX: u32 = 4096;

/// Everything that defines one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Display name, e.g. `BTC-PERP` (1 to [`SYMBOL_LEN_MAX`] ASCII graphic characters).
    pub symbol: String,
    /// What the market trades.
    pub instrument: Instrument,
    /// Price of one tick in 1e-9 USDC (e.g. $0.1 = 100,000,000): how clients turn ticks into
    /// human prices.
    pub tick_size_nano: u64,
    /// Size of one lot in 1e-9 units of the base asset (e.g. 0.001 BTC = 1,000,000).
    pub lot_size_nano: u64,
    /// Value of one tick-lot in quote atoms: `tick_size_nano × lot_size_nano / 1e12`, exactly
    /// (checked by [`MarketParams::validate`]).
    pub contract: ContractSpec,
    /// Smallest order size.
    pub qty_min: QtyLots,
    /// Initial and maintenance margin by notional tier.
    pub tiers: MarginTiers,
    /// Optional rise of initial margin with market open interest.
    pub oi_ramp: Option<OpenInterestRamp>,
    /// Long open interest of the market may not exceed this notional at mark.
    pub oi_notional_max: Quote,
    /// One account's position in this market may not exceed this notional at mark.
    pub account_oi_notional_max: Quote,
    /// Orders priced further than this from the index are rejected.
    pub price_band: Rate,
    /// Fee of the maker (negative: a rebate), as a fraction of fill notional.
    pub maker_fee: Rate,
    /// Fee of the taker, as a fraction of fill notional.
    pub taker_fee: Rate,
    /// Mark price parameters.
    pub mark: MarkParams,
    /// Liquidation parameters.
    pub liquidation: LiquidationParams,
    /// Circuit breaker parameters.
    pub breaker: BreakerParams,
    /// Bounds of the market's order book.
    pub book: BookLimits,
}

/// Longest market symbol.
pub const SYMBOL_LEN_MAX: usize = 16;

/// Why market parameters were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("symbol must be 1 to {SYMBOL_LEN_MAX} ASCII graphic characters")]
    BadSymbol,
    #[error("funding parameters: {0}")]
    Funding(#[from] novation_risk::FundingParamsError),
    #[error("funding interval must be between 1 s and 24 h")]
    FundingInterval,
    #[error("impact base must be positive")]
    ImpactBase,
    #[error("minimum order size must be at least one lot")]
    QtyMin,
    #[error("tick size × lot size must be a whole, positive number of quote atoms equal to the contract's tick-lot value")]
    TickLot,
    #[error("open-interest caps must be positive")]
    OiCap,
    #[error("price band must be within (0, 100%)")]
    PriceBand,
    #[error("taker fee must be within [0, 10%] and the maker fee within [-taker fee, 10%]")]
    Fees,
    #[error("mark parameters: {0}")]
    Mark(#[from] novation_risk::MarkParamsError),
    #[error("liquidation band, penalty and partial fraction must be within (0, 100%), penalty below the maintenance fraction")]
    Liquidation,
    #[error("auction must last 1 to 10,000 blocks")]
    AuctionBlocks,
    #[error("breaker: move limit within (0, 100%], window 1..={BREAKER_WINDOW_BLOCKS_MAX} blocks, stale limit at least 1 block, opening age limit at most the stale limit")]
    Breaker,
    #[error("book limits: {0}")]
    Book(String),
    #[error("engine parameter {0} is out of range")]
    Engine(&'static str),
}

impl MarketParams {
    /// Checks every field (see [`ParamsError`]).
    pub fn validate(&self) -> Result<(), ParamsError> {
        let s = self.symbol.as_bytes();
        if s.is_empty() || s.len() > SYMBOL_LEN_MAX || !s.iter().all(u8::is_ascii_graphic) {
            return Err(ParamsError::BadSymbol);
        }
        match self.instrument {
            Instrument::Perpetual { funding, funding_interval_ms, impact_base } => {
                funding.validate()?;
                if !(1_000..=86_400_000).contains(&funding_interval_ms) {
                    return Err(ParamsError::FundingInterval);
                }
                if impact_base.0 <= 0 {
                    return Err(ParamsError::ImpactBase);
                }
            }
        }
        if self.qty_min.0 == 0 {
            return Err(ParamsError::QtyMin);
        }
        let product = u128::from(self.tick_size_nano) * u128::from(self.lot_size_nano);
        let atoms = u128::from(self.contract.quote_atoms_per_tick_lot());
        if product == 0 || product % 1_000_000_000_000 != 0 || product / 1_000_000_000_000 != atoms
        {
            return Err(ParamsError::TickLot);
        }
        if self.oi_notional_max.0 <= 0 || self.account_oi_notional_max.0 <= 0 {
            return Err(ParamsError::OiCap);
        }
        if self.price_band <= Rate::ZERO || self.price_band >= Rate::ONE {
            return Err(ParamsError::PriceBand);
        }
        let ten_percent = Rate::from_bps(1000);
        if self.taker_fee < Rate::ZERO
            || self.taker_fee > ten_percent
            || self.maker_fee > ten_percent
            || self.maker_fee.ppb() < -self.taker_fee.ppb()
        {
            return Err(ParamsError::Fees);
        }
        self.mark.validate()?;
        let l = &self.liquidation;
        let fraction = |r: Rate| r > Rate::ZERO && r < Rate::ONE;
        let mm0 = self.tiers.tiers().next().map_or(Rate::ZERO, |t| t.maintenance);
        if !fraction(l.band) || !fraction(l.penalty) || !fraction(l.partial_fraction) {
            return Err(ParamsError::Liquidation);
        }
        if l.penalty >= mm0
            || l.partial_notional_min.0 < 0
            || l.insurance_position_notional_max.0 < 0
        {
            return Err(ParamsError::Liquidation);
        }
        if !(1..=10_000).contains(&l.auction_blocks) {
            return Err(ParamsError::AuctionBlocks);
        }
        let b = &self.breaker;
        if b.index_move_max <= Rate::ZERO
            || b.index_move_max > Rate::ONE
            || b.window_blocks == 0
            || b.window_blocks > BREAKER_WINDOW_BLOCKS_MAX
            || b.index_stale_blocks == 0
            || b.open_index_age_blocks > b.index_stale_blocks
        {
            return Err(ParamsError::Breaker);
        }
        self.book.validate().map_err(|e| ParamsError::Book(e.to_string()))?;
        Ok(())
    }

    /// The largest maintenance fraction of any tier: the slope bound the liquidation watch
    /// uses for how fast maintenance can grow with price.
    pub fn maintenance_fraction_max(&self) -> Rate {
        self.tiers.tiers().map(|t| t.maintenance).max().unwrap_or(Rate::ZERO)
    }

    /// A BTC-like perpetual for tests and the devnet: tick $0.1, lot 0.001 BTC (one tick-lot =
    /// 100 atoms), 50× up to $10M then 20× and 10×, fees 2.5 bps taker / −0.5 bps maker.
    pub fn example(symbol: &str) -> MarketParams {
        let usd = |d: i128| Quote(d * 1_000_000);
        let tiers = MarginTiers::new(&[
            MarginTier::from_max_leverage(Quote(0), 50).expect("valid"),
            MarginTier::from_max_leverage(usd(10_000_000), 20).expect("valid"),
            MarginTier::from_max_leverage(usd(50_000_000), 10).expect("valid"),
        ])
        .expect("valid tiers");
        MarketParams {
            symbol: symbol.to_owned(),
            instrument: Instrument::Perpetual {
                funding: FundingParams::DEFAULT,
                funding_interval_ms: 3_600_000,
                impact_base: usd(500),
            },
            tick_size_nano: 100_000_000,
            lot_size_nano: 1_000_000,
            contract: ContractSpec::new(100).expect("non-zero"),
            qty_min: QtyLots(1),
            tiers,
            oi_ramp: None,
            oi_notional_max: usd(1_000_000_000),
            account_oi_notional_max: usd(200_000_000),
            price_band: Rate::from_bps(1000),
            maker_fee: Rate::from_ppb(-50_000),
            taker_fee: Rate::from_ppb(250_000),
            mark: MarkParams::DEFAULT,
            liquidation: LiquidationParams {
                band: Rate::from_bps(150),
                penalty: Rate::from_bps(50),
                partial_notional_min: usd(100_000),
                partial_fraction: Rate::from_bps(2000),
                auction_blocks: 10,
                insurance_position_notional_max: usd(5_000_000),
            },
            breaker: BreakerParams {
                index_move_max: Rate::from_bps(3000),
                window_blocks: 600,
                index_stale_blocks: 50,
                open_index_age_blocks: 5,
                cooldown_blocks: 20,
            },
            book: BookLimits::default(),
        }
    }
}

/// Engine-wide bounds and rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineParams {
    /// Most (address, subaccount) accounts.
    pub accounts_max: u32,
    /// Most markets.
    pub markets_max: u16,
    /// Most markets one account may hold positions or orders in.
    pub legs_per_account_max: u16,
    /// Most actions in one block.
    pub actions_per_block_max: u32,
    /// Largest single deposit, in quote atoms (a faucet bound).
    pub deposit_max: Quote,
    /// `k`: a withdrawal must leave at least `k × notional` of equity.
    pub withdraw_notional_fraction: Rate,
    /// Fraction of positive unrealised PnL that may not be withdrawn.
    pub upnl_withdraw_haircut: Rate,
    /// Most account re-evaluations the liquidation watch performs per block.
    pub watch_evaluations_per_block_max: u32,
    /// Most liquidation steps (an order cancel sweep, a book close, an auction settlement, an
    /// insurance takeover or an ADL fill) per block.
    pub liquidation_steps_per_block_max: u32,
    /// Most open takeover auctions.
    pub auctions_max: u32,
    /// Most orders expired per market per block.
    pub expirations_per_market_per_block_max: u32,
    /// Most counterparties one ADL step may close against.
    pub adl_counterparties_per_step_max: u32,
}

impl EngineParams {
    /// Defaults sized for one chain with a few hundred thousand active accounts.
    pub const DEFAULT: EngineParams = EngineParams {
        accounts_max: 10_000_000,
        markets_max: 256,
        legs_per_account_max: 32,
        actions_per_block_max: 100_000,
        deposit_max: Quote(1_000_000_000 * 1_000_000),
        withdraw_notional_fraction: Rate::from_bps(1000),
        upnl_withdraw_haircut: Rate::from_bps(5000),
        watch_evaluations_per_block_max: 20_000,
        liquidation_steps_per_block_max: 1_000,
        auctions_max: 10_000,
        expirations_per_market_per_block_max: 1_000,
        adl_counterparties_per_step_max: 64,
    };

    /// Checks the bounds are usable.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let checks: [(&'static str, bool); 8] = [
            ("accounts_max", self.accounts_max > 0 && self.accounts_max < u32::MAX / 2),
            ("markets_max", self.markets_max > 0 && self.markets_max < u16::MAX),
            ("legs_per_account_max", self.legs_per_account_max > 0),
            ("deposit_max", self.deposit_max.0 > 0 && self.deposit_max.0 < i128::MAX >> 32),
            (
                "withdraw_notional_fraction",
                self.withdraw_notional_fraction >= Rate::ZERO
                    && self.withdraw_notional_fraction <= Rate::ONE,
            ),
            (
                "upnl_withdraw_haircut",
                self.upnl_withdraw_haircut >= Rate::ZERO && self.upnl_withdraw_haircut <= Rate::ONE,
            ),
            (
                "per-block bounds",
                self.watch_evaluations_per_block_max > 0
                    && self.liquidation_steps_per_block_max > 0
                    && self.expirations_per_market_per_block_max > 0
                    && self.actions_per_block_max > 0,
            ),
            ("adl / auctions", self.adl_counterparties_per_step_max > 0 && self.auctions_max > 0),
        ];
        match checks.iter().find(|(_, ok)| !ok) {
            Some((name, _)) => Err(ParamsError::Engine(name)),
            None => Ok(()),
        }
    }
}

impl Default for EngineParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_market_is_valid_and_each_bad_field_is_named() {
        let ok = MarketParams::example("BTC-PERP");
        assert_eq!(ok.validate(), Ok(()));
        let bad = |f: fn(&mut MarketParams)| {
            let mut p = MarketParams::example("BTC-PERP");
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert_eq!(bad(|p| p.symbol = String::new()), ParamsError::BadSymbol);
        assert_eq!(bad(|p| p.symbol = "BTC PERP".into()), ParamsError::BadSymbol);
        assert_eq!(bad(|p| p.lot_size_nano = 2_000_000), ParamsError::TickLot);
        assert_eq!(bad(|p| p.tick_size_nano = 0), ParamsError::TickLot);
        assert_eq!(bad(|p| p.qty_min = QtyLots(0)), ParamsError::QtyMin);
        // A maker rebate larger than the taker fee would let two accounts drain the fee pool.
        assert_eq!(bad(|p| p.maker_fee = Rate::from_ppb(-300_000)), ParamsError::Fees);
        assert_eq!(bad(|p| p.price_band = Rate::ZERO), ParamsError::PriceBand);
        assert_eq!(bad(|p| p.liquidation.penalty = Rate::from_bps(200)), ParamsError::Liquidation);
        assert_eq!(bad(|p| p.liquidation.auction_blocks = 0), ParamsError::AuctionBlocks);
        assert_eq!(bad(|p| p.breaker.window_blocks = 0), ParamsError::Breaker);
        assert_eq!(bad(|p| p.oi_notional_max = Quote(0)), ParamsError::OiCap);
    }

    #[test]
    fn engine_defaults_are_valid() {
        assert_eq!(EngineParams::DEFAULT.validate(), Ok(()));
        let p = EngineParams { legs_per_account_max: 0, ..EngineParams::DEFAULT };
        assert_eq!(p.validate(), Err(ParamsError::Engine("legs_per_account_max")));
    }
}
