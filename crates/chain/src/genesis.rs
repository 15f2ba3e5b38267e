//! Genesis: what every node of one chain must agree on before the first block.
//!
//! A [`Genesis`] names the chain id, the genesis time, the validator set (ed25519 keys), the
//! faucet address (devnet and testnet only), the markets with their first index price and
//! insurance seed, and the devnet price feed. Its [`Genesis::digest`] is bound into the genesis
//! block, so two nodes with different genesis files never agree on a block.
//!
//! Markets use the engine's BTC-like template ([`MarketParams::example`]) under their own symbol:
//! tick $0.1, lot 0.001, 50×/20×/10× tiers. Per-market parameters in the genesis file come with
//! the market-listing work; until then the template is the only market kind.

use commonware_codec::{Encode, EncodeSize, Write};
use commonware_cryptography::{ed25519, sha256::Digest, Hasher, Sha256};
use novation_engine::{Engine, EngineParams, MarketParams, ParamsError};
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
    /// The first index price, in ticks ($0.1 each).
    pub index: PriceTicks,
    /// The insurance fund's first balance (USDC atoms).
    pub insurance: Quote,
}

/// The devnet index-price feed (until the oracle lands): a seeded random walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedConfig {
    /// Seed of the walk.
    pub seed: u64,
    /// Largest move per block, in parts per million of the price.
    pub step_ppm: u32,
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
    /// The only address allowed to use the `Faucet` action, if any.
    pub faucet: Option<Address>,
    /// Markets, in id order.
    pub markets: Vec<GenesisMarket>,
    /// The devnet price feed.
    pub feed: FeedConfig,
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
    #[error("feed step must be between 1 and 100000 ppm")]
    Feed,
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
                .add_market(MarketParams::example(&m.symbol))
                .map_err(|e: ParamsError| fail(e.to_string()))?;
            if m.insurance.0 > 0 {
                engine.seed_insurance(id, m.insurance).map_err(|e| fail(format!("{e:?}")))?;
            }
        }
        Ok(engine)
    }

    /// Checks counts, duplicates and the feed.
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
        for m in &self.markets {
            if m.index.0 == 0 || m.index.0 > u64::MAX / 4 {
                return Err(GenesisError::Market {
                    symbol: m.symbol.clone(),
                    reason: "index price must be positive".into(),
                });
            }
            if m.insurance.0 < 0 {
                return Err(GenesisError::Market {
                    symbol: m.symbol.clone(),
                    reason: "insurance seed must not be negative".into(),
                });
            }
        }
        if self.feed.step_ppm == 0 || self.feed.step_ppm > 100_000 {
            return Err(GenesisError::Feed);
        }
        Ok(())
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
        (self.markets.len() as u32).write(&mut buf);
        for m in &self.markets {
            (m.symbol.len() as u32).write(&mut buf);
            buf.extend_from_slice(m.symbol.as_bytes());
            m.index.0.write(&mut buf);
            buf.extend_from_slice(&m.insurance.0.to_be_bytes());
        }
        self.feed.seed.write(&mut buf);
        self.feed.step_ppm.write(&mut buf);
        debug_assert!(buf.len() >= self.chain_id.0.encode_size());
        Sha256::hash(&[&buf])
    }

    /// The devnet genesis: BTC and ETH perpetuals, a faucet.
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
            faucet: Some(faucet),
            markets: vec![
                GenesisMarket {
                    symbol: "BTC-PERP".into(),
                    index: PriceTicks(1_000_000), // $100,000.0
                    insurance: usd(1_000_000),
                },
                GenesisMarket {
                    symbol: "ETH-PERP".into(),
                    index: PriceTicks(35_000), // $3,500.0
                    insurance: usd(250_000),
                },
            ],
            feed: FeedConfig { seed: 7, step_ppm: 300 },
        }
    }
}
