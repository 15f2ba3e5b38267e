//! Genesis: what every node of one chain must agree on before the first block.
//!
//! A [`Genesis`] names the chain id, the genesis time, the validator set (ed25519 keys), the
//! validators' oracle stakes, the faucet address (devnet and testnet only), the oracle (its
//! parameters and the assets it prices, each with a first price), and the markets, each on one
//! asset with its insurance seed (a market's first index is its asset's first price in its
//! ticks). Its [`Genesis::digest`] is bound into the genesis block, so two nodes with different
//! genesis files never agree on a block.
//!
//! Markets use the engine's BTC-like template ([`MarketParams::example`]) under their own symbol:
//! tick $0.1, lot 0.001, 50×/20×/10× tiers. Per-market parameters in the genesis file come with
//! the market-listing work; until then the template is the only market kind.

use commonware_codec::{Encode, EncodeSize, Write};
use commonware_cryptography::{ed25519, sha256::Digest, Hasher, Sha256};
use novation_engine::{Engine, EngineParams, MarketParams, ParamsError};
use novation_oracle::aggregate::{OracleParams, OracleState};
use novation_oracle::{AssetId, OraclePrice};
use novation_types::{Address, PriceTicks, Quote};

use crate::tx::ChainId;

/// Most markets a genesis may list.
pub const GENESIS_MARKETS_MAX: usize = 64;
/// Most validators a genesis may list.
pub const VALIDATORS_MAX: usize = 100;

/// One market at genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisMarket {
    /// Ticker, e.g. `BTC-PERP` (ASCII, at most 16 bytes).
    pub symbol: String,
    /// The oracle asset whose index this market follows.
    pub asset: AssetId,
    /// The insurance fund's first balance (USDC atoms).
    pub insurance: Quote,
}

/// One oracle asset at genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisAsset {
    /// Name, e.g. `BTC` (ASCII letters and digits, at most 16 bytes).
    pub symbol: String,
    /// The first index price.
    pub price: OraclePrice,
}

/// The oracle at genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisOracle {
    /// Consensus-side parameters (quorum, freshness, band, clamp).
    pub params: OracleParams,
    /// The assets, in id order.
    pub assets: Vec<GenesisAsset>,
}

/// Everything nodes of one chain agree on at the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// Chain id; every transaction names it.
    pub chain_id: ChainId,
    /// Genesis block time (ms since the Unix epoch).
    pub time_ms: u64,
    /// The validators' consensus keys (any order; the chain sorts them).
    pub validators: Vec<ed25519::PublicKey>,
    /// Each validator's oracle stake, aligned with `validators` as listed; empty means one
    /// each.
    pub stakes: Vec<u64>,
    /// The only address allowed to use the `Faucet` action, if any.
    pub faucet: Option<Address>,
    /// Markets, in id order.
    pub markets: Vec<GenesisMarket>,
    /// The oracle.
    pub oracle: GenesisOracle,
}

/// Why a genesis is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("a genesis needs between 1 and {VALIDATORS_MAX} validators, got {0}")]
    Validators(usize),
    #[error("validator key listed twice")]
    DuplicateValidator,
    #[error("a genesis needs between 1 and {GENESIS_MARKETS_MAX} markets, got {0}")]
    Markets(usize),
    #[error("market {symbol}: {reason}")]
    Market { symbol: String, reason: String },
    #[error("oracle: {0}")]
    Oracle(String),
    #[error("stakes: {0}")]
    Stakes(String),
}

impl Genesis {
    /// Checks the genesis is usable and builds its engine.
    pub fn engine(&self) -> Result<Engine, GenesisError> {
        self.validate()?;
        let mut engine = Engine::new(EngineParams::DEFAULT)
            .map_err(|e| GenesisError::Market { symbol: String::new(), reason: e.to_string() })?;
        for m in &self.markets {
            let fail = |reason: String| GenesisError::Market { symbol: m.symbol.clone(), reason };
            let id = engine
                .add_market(Self::market_params(m))
                .map_err(|e: ParamsError| fail(e.to_string()))?;
            if m.insurance.0 > 0 {
                engine.seed_insurance(id, m.insurance).map_err(|e| fail(format!("{e:?}")))?;
            }
        }
        Ok(engine)
    }

    /// Checks counts, duplicates, stakes, the oracle and the markets' assets.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let n = self.validators.len();
        if n == 0 || n > VALIDATORS_MAX {
            return Err(GenesisError::Validators(n));
        }
        let sorted = self.sorted_validators();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(GenesisError::DuplicateValidator);
        }
        if self.markets.is_empty() || self.markets.len() > GENESIS_MARKETS_MAX {
            return Err(GenesisError::Markets(self.markets.len()));
        }
        if !self.stakes.is_empty() && self.stakes.len() != n {
            return Err(GenesisError::Stakes(format!(
                "{} stakes for {n} validators (list one per validator, or none for equal stakes)",
                self.stakes.len()
            )));
        }
        self.oracle_state().map_err(|e| GenesisError::Oracle(e.to_string()))?;
        let assets = &self.oracle.assets;
        for (i, a) in assets.iter().enumerate() {
            if a.symbol.is_empty()
                || a.symbol.len() > 16
                || !a.symbol.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(GenesisError::Oracle(format!(
                    "asset symbol {:?} must be 1 to 16 ASCII letters or digits",
                    a.symbol
                )));
            }
            if assets[..i].iter().any(|b| b.symbol == a.symbol) {
                return Err(GenesisError::Oracle(format!("asset {} listed twice", a.symbol)));
            }
        }
        for m in &self.markets {
            if usize::from(m.asset.0) >= assets.len() {
                return Err(GenesisError::Market {
                    symbol: m.symbol.clone(),
                    reason: format!("asset {} does not exist", m.asset.0),
                });
            }
            if m.insurance.0 < 0 {
                return Err(GenesisError::Market {
                    symbol: m.symbol.clone(),
                    reason: "insurance seed must not be negative".into(),
                });
            }
        }
        Ok(())
    }

    /// The oracle stakes in validator index order (the sorted order of the keys).
    pub fn sorted_stakes(&self) -> Vec<u64> {
        let mut pairs: Vec<(&ed25519::PublicKey, u64)> = self
            .validators
            .iter()
            .enumerate()
            .map(|(i, k)| (k, self.stakes.get(i).copied().unwrap_or(1)))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.into_iter().map(|(_, s)| s).collect()
    }

    /// The oracle's genesis state.
    pub fn oracle_state(&self) -> Result<OracleState, novation_oracle::aggregate::ParamsError> {
        let prices: Vec<OraclePrice> = self.oracle.assets.iter().map(|a| a.price).collect();
        OracleState::new(self.oracle.params, &self.sorted_stakes(), &prices, self.time_ms)
    }

    /// The asset a market follows, by symbol.
    pub fn asset_id(&self, symbol: &str) -> Option<AssetId> {
        self.oracle.assets.iter().position(|a| a.symbol == symbol).map(|i| AssetId(i as u16))
    }

    /// The market parameters of `market` (the engine's template under its symbol).
    pub fn market_params(market: &GenesisMarket) -> MarketParams {
        MarketParams::example(&market.symbol)
    }

    /// A market's first index in its ticks: its asset's genesis price.
    pub fn genesis_index(&self, market: &GenesisMarket) -> PriceTicks {
        let tick = Self::market_params(market).tick_size_nano;
        let price = self.oracle.assets.get(usize::from(market.asset.0)).map(|a| a.price);
        PriceTicks(price.and_then(|p| p.to_ticks(tick)).unwrap_or(1))
    }

    /// The validator keys in their canonical (sorted) order: signer indices in consensus
    /// certificates refer to this order.
    pub fn sorted_validators(&self) -> Vec<ed25519::PublicKey> {
        let mut v = self.validators.clone();
        v.sort();
        v
    }

    /// A digest of every field, bound into the genesis block.
    pub fn digest(&self) -> Digest {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(b"novation-genesis-v1");
        self.chain_id.0.write(&mut buf);
        self.time_ms.write(&mut buf);
        let validators = self.sorted_validators();
        (validators.len() as u32).write(&mut buf);
        for v in &validators {
            buf.extend_from_slice(&v.encode());
        }
        match self.faucet {
            Some(a) => {
                buf.push(1);
                buf.extend_from_slice(&a.0);
            }
            None => buf.push(0),
        }
        for s in self.sorted_stakes() {
            s.write(&mut buf);
        }
        (self.markets.len() as u32).write(&mut buf);
        for m in &self.markets {
            (m.symbol.len() as u32).write(&mut buf);
            buf.extend_from_slice(m.symbol.as_bytes());
            m.asset.0.write(&mut buf);
            buf.extend_from_slice(&m.insurance.0.to_be_bytes());
        }
        buf.extend_from_slice(&borsh::to_vec(&self.oracle.params).unwrap_or_default());
        (self.oracle.assets.len() as u32).write(&mut buf);
        for a in &self.oracle.assets {
            (a.symbol.len() as u32).write(&mut buf);
            buf.extend_from_slice(a.symbol.as_bytes());
            a.price.0.write(&mut buf);
        }
        debug_assert!(buf.len() >= self.chain_id.0.encode_size());
        Sha256::hash(&[&buf])
    }

    /// The devnet genesis: BTC and ETH assets and perpetuals, equal stakes, a faucet.
    pub fn devnet(
        chain_id: ChainId,
        time_ms: u64,
        validators: Vec<ed25519::PublicKey>,
        faucet: Address,
    ) -> Genesis {
        let usd = |d: i128| Quote(d * 1_000_000);
        Genesis {
            chain_id,
            time_ms,
            validators,
            stakes: Vec::new(),
            faucet: Some(faucet),
            markets: vec![
                GenesisMarket {
                    symbol: "BTC-PERP".into(),
                    asset: AssetId(0),
                    insurance: usd(1_000_000),
                },
                GenesisMarket {
                    symbol: "ETH-PERP".into(),
                    asset: AssetId(1),
                    insurance: usd(250_000),
                },
            ],
            oracle: GenesisOracle {
                params: OracleParams::DEFAULT,
                assets: vec![
                    GenesisAsset { symbol: "BTC".into(), price: OraclePrice::from_usd(100_000) },
                    GenesisAsset { symbol: "ETH".into(), price: OraclePrice::from_usd(3_500) },
                ],
            },
        }
    }
}
