//! Home folders: `config.toml` (this node), `genesis.toml` (the chain), key files.
//!
//! ```text
//! HOME/
//!   config.toml      # key file, listen addresses, peers, logging
//!   genesis.toml     # chain id, time, validators and stakes, faucet, oracle, markets
//!   validator.key    # hex ed25519 secret (consensus and p2p identity)
//!   faucet.key       # hex ed25519 secret of the faucet (devnet/testnet only)
//!   data/            # storage (consensus journal, block archives, state database)
//! ```

use std::net::SocketAddr;
use std::path::Path;

use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::{ed25519, Signer as _};
use novation_chain::genesis::{Genesis, GenesisAsset, GenesisMarket, GenesisOracle};
use novation_chain::observer::{
    self, AssetSources, CachedSource, CsvSource, FixedSource, ObserverConfig, PriceSource,
    ScenarioAt, SimSource, WeightedSource,
};
use novation_chain::tx::ChainId;
use novation_oracle::aggregate::OracleParams;
use novation_oracle::replay::CsvSeries;
use novation_oracle::simfeed::{Scenario, SimFeed};
use novation_oracle::source::{parse_decimal, Exchange, SourceParams};
use novation_oracle::AssetId;
use novation_types::{Address, Quote};
use serde::{Deserialize, Serialize};

/// `config.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeFile {
    /// Path of the validator key, relative to the home folder.
    pub key_file: String,
    /// Path of the faucet key (optional), relative to the home folder.
    #[serde(default)]
    pub faucet_key_file: Option<String>,
    /// p2p listen address.
    pub p2p_listen: SocketAddr,
    /// RPC listen address (also serves /metrics and /health).
    pub rpc_listen: SocketAddr,
    /// JSON logs instead of pretty ones.
    #[serde(default)]
    pub log_json: bool,
    /// Log level (error, warn, info, debug, trace).
    #[serde(default = "default_level")]
    pub log_level: String,
    /// Every validator's p2p identity and address (this node included).
    pub peers: Vec<PeerFile>,
    /// This validator's price observer (absent: it observes nothing).
    #[serde(default)]
    pub oracle: Option<ObserverFile>,
}

/// `[oracle]` in `config.toml`: how this validator observes prices.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObserverFile {
    /// Time between observations.
    pub interval_ms: u64,
    /// Fewest live sources for an asset to be reported.
    pub min_sources: usize,
    /// A source reading older than this is stale.
    pub max_age_ms: u64,
    /// A source reading timed further ahead than this is refused.
    pub max_future_ms: u64,
    /// Sources further than this from the median of the others are dropped (ppm).
    pub outlier_ppm: u32,
    /// Per asset, its sources.
    pub assets: Vec<AssetSourcesFile>,
}

/// `[[oracle.assets]]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AssetSourcesFile {
    /// The genesis asset symbol, e.g. `BTC`.
    pub symbol: String,
    /// Its sources.
    pub sources: Vec<SourceFile>,
}

/// `[[oracle.assets.sources]]`: one price source.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SourceFile {
    /// `sim`, `csv`, `fixed`, or an exchange: `binance`, `coinbase`, `kraken`, `okx`, `bybit`.
    pub kind: String,
    /// Weight in this validator's median.
    pub weight: u32,
    /// `sim`: the simulated venue number (its noise stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<u16>,
    /// `sim`: a named scenario (`crash`, `squeeze`, `flash`), starting a minute after genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// `csv`: the file (time_ms,price per line), relative to the home folder; replayed from
    /// the genesis time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `fixed`: the price in USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// Exchanges: the exchange's symbol for the pair (e.g. `BTCUSDT`, `BTC-USD`, `XBTUSD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    /// Exchanges: the API base URL (default: the exchange's public host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// An exchange source to poll in the background, feeding `cache`.
#[derive(Clone, Debug)]
pub struct Poller {
    pub exchange: Exchange,
    pub market: String,
    pub base_url: String,
    pub cache: CachedSource,
}

impl ObserverFile {
    /// The devnet/testnet observer as a file: the same sources as `observer::devnet` (every
    /// genesis asset on three simulated venues).
    pub fn simulated(genesis: &Genesis) -> ObserverFile {
        let params = SourceParams::default();
        ObserverFile {
            interval_ms: observer::DEVNET_INTERVAL_MS,
            min_sources: params.min_sources,
            max_age_ms: params.max_age_ms,
            max_future_ms: params.max_future_ms,
            outlier_ppm: params.outlier_ppm,
            assets: genesis
                .oracle
                .assets
                .iter()
                .map(|a| AssetSourcesFile {
                    symbol: a.symbol.clone(),
                    sources: observer::DEVNET_VENUE_WEIGHTS
                        .iter()
                        .enumerate()
                        .map(|(v, &weight)| SourceFile {
                            kind: "sim".into(),
                            weight,
                            venue: Some(v as u16),
                            ..SourceFile::default()
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Builds the observer of validator `validator` (index in the sorted set), checking
    /// everything; `scenario` overrides every `sim` source's scenario. Exchange sources come
    /// back as pollers to run (their cache is the observer's source).
    pub fn build(
        &self,
        genesis: &Genesis,
        validator: u64,
        home: &Path,
        scenario: Option<ScenarioAt>,
    ) -> Result<(ObserverConfig, Vec<Poller>), String> {
        let params = SourceParams {
            min_sources: self.min_sources,
            max_age_ms: self.max_age_ms,
            max_future_ms: self.max_future_ms,
            outlier_ppm: self.outlier_ppm,
        };
        params.validate().map_err(|e| format!("config.toml [oracle]: {e}"))?;
        if self.interval_ms == 0 || self.interval_ms > 60_000 {
            return Err("config.toml [oracle]: interval_ms must be in 1..=60000".into());
        }
        let mut pollers = Vec::new();
        let mut assets = Vec::new();
        for a in &self.assets {
            let at = |msg: String| format!("config.toml [oracle] asset {}: {msg}", a.symbol);
            let id = genesis.asset_id(&a.symbol).ok_or_else(|| at("not a genesis asset".into()))?;
            let start = genesis.oracle.assets[usize::from(id.0)].price;
            if a.sources.is_empty() || a.sources.len() > observer::SOURCES_PER_ASSET_MAX {
                return Err(at(format!("list 1 to {} sources", observer::SOURCES_PER_ASSET_MAX)));
            }
            let mut sources = Vec::new();
            for (i, src) in a.sources.iter().enumerate() {
                let at = |msg: String| at(format!("source {i} ({}): {msg}", src.kind));
                if src.weight == 0 {
                    return Err(at("weight must be positive".into()));
                }
                let source: Box<dyn PriceSource> = match src.kind.as_str() {
                    "sim" => {
                        let scenario = match (&scenario, &src.scenario) {
                            (Some(s), _) => Some(*s),
                            (None, Some(name)) => Some(ScenarioAt {
                                scenario: name
                                    .parse::<Scenario>()
                                    .map_err(|e| at(e.to_string()))?,
                                // A minute after genesis.
                                at_ms: genesis.time_ms.saturating_add(60_000),
                            }),
                            (None, None) => None,
                        };
                        let cfg =
                            observer::devnet_path(genesis, usize::from(id.0), start, scenario);
                        let feed = SimFeed::new(cfg).map_err(|e| at(e.to_string()))?;
                        Box::new(SimSource {
                            feed,
                            validator,
                            venue: src.venue.unwrap_or(i as u16),
                        })
                    }
                    "csv" => {
                        let path = src.path.as_deref().ok_or_else(|| at("needs path".into()))?;
                        let full = home.join(path);
                        let text = std::fs::read_to_string(&full)
                            .map_err(|e| at(format!("{}: {e}", full.display())))?;
                        let series = CsvSeries::parse(&text)
                            .map_err(|e| at(format!("{}: {e}", full.display())))?
                            .rebased(genesis.time_ms)
                            .ok_or_else(|| {
                                at("the series cannot start at the genesis time".into())
                            })?;
                        Box::new(CsvSource { series: std::sync::Arc::new(series) })
                    }
                    "fixed" => {
                        let text = src.price.as_deref().ok_or_else(|| at("needs price".into()))?;
                        let p = parse_decimal(text).map_err(|e| at(e.to_string()))?;
                        Box::new(FixedSource(p))
                    }
                    name => {
                        let exchange = name.parse::<Exchange>().map_err(|_| {
                            at("unknown kind (sim, csv, fixed, binance, coinbase, kraken, okx, bybit)".into())
                        })?;
                        let market = src.market.clone().ok_or_else(|| {
                            at("needs market (the exchange's pair symbol)".into())
                        })?;
                        let cache = CachedSource::new(format!("{name} {market}"));
                        pollers.push(Poller {
                            exchange,
                            market,
                            base_url: src
                                .base_url
                                .clone()
                                .unwrap_or_else(|| exchange.default_base_url().to_string()),
                            cache: cache.clone(),
                        });
                        Box::new(cache)
                    }
                };
                sources.push(WeightedSource { source, weight: src.weight });
            }
            assets.push(AssetSources { asset: id, sources });
        }
        assets.sort_by_key(|a| a.asset);
        if assets.windows(2).any(|w| w[0].asset == w[1].asset) {
            return Err("config.toml [oracle]: an asset is listed twice".into());
        }
        let config = ObserverConfig {
            interval: std::time::Duration::from_millis(self.interval_ms),
            params,
            assets,
            tamper: None,
        };
        Ok((config, pollers))
    }
}

fn default_level() -> String {
    "info".into()
}

/// One peer in `config.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerFile {
    /// Hex ed25519 public key.
    pub public_key: String,
    /// Address.
    pub address: SocketAddr,
}

/// `genesis.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenesisFile {
    pub chain_id: u64,
    pub time_ms: u64,
    /// Hex ed25519 public keys.
    pub validators: Vec<String>,
    /// Oracle stake per validator, aligned with `validators` (empty: one each).
    #[serde(default)]
    pub stakes: Vec<u64>,
    /// Hex address of the faucet.
    pub faucet: Option<String>,
    pub oracle: OracleFile,
    pub markets: Vec<MarketFile>,
}

/// `[oracle]` in `genesis.toml`: the consensus-side oracle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OracleFile {
    /// Stake behind valid prices needed for an update (basis points of the total).
    pub quorum_bps: u32,
    /// Observations older than this (vs. the block time) do not count.
    pub max_age_ms: u64,
    /// Observations timed further ahead of the block are dropped.
    pub max_future_ms: u64,
    /// Prices further than this from the index are dropped (ppm).
    pub deviation_ppm: u32,
    /// The band is lifted after this many blocks without an update.
    pub rebase_after_blocks: u64,
    /// Largest index move per block (ppm).
    pub clamp_ppm: u32,
    pub assets: Vec<AssetFile>,
}

/// `[[oracle.assets]]` in `genesis.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AssetFile {
    pub symbol: String,
    /// The first index price in USD, e.g. "100000".
    pub price: String,
}

/// One market in `genesis.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarketFile {
    pub symbol: String,
    /// The oracle asset the market follows (its symbol).
    pub asset: String,
    /// Insurance seed in USDC atoms (10^-6).
    pub insurance_atoms: i64,
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex (an optional `0x` prefix allowed).
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim().trim_start_matches("0x");
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex: {s}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("bad hex: {s}")))
        .collect()
}

/// Parses a hex ed25519 public key.
pub fn parse_public_key(s: &str) -> Result<ed25519::PublicKey, String> {
    ed25519::PublicKey::decode(unhex(s)?).map_err(|e| format!("bad public key {s}: {e}"))
}

/// Parses a hex 20-byte address.
pub fn parse_address(s: &str) -> Result<Address, String> {
    let b = unhex(s)?;
    let arr: [u8; 20] = b.try_into().map_err(|_| format!("an address has 20 bytes: {s}"))?;
    Ok(Address(arr))
}

/// Reads a hex private key file.
pub fn read_key(path: &Path) -> Result<ed25519::PrivateKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ed25519::PrivateKey::decode(unhex(&text)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes a hex private key file.
pub fn write_key(path: &Path, key: &ed25519::PrivateKey) -> Result<(), String> {
    std::fs::write(path, hex(&key.encode()) + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

impl GenesisFile {
    /// From a chain genesis.
    pub fn from_genesis(g: &Genesis) -> GenesisFile {
        GenesisFile {
            chain_id: g.chain_id.0,
            time_ms: g.time_ms,
            validators: g.validators.iter().map(|v| hex(&v.encode())).collect(),
            stakes: g.stakes.clone(),
            faucet: g.faucet.map(|a| hex(&a.0)),
            oracle: OracleFile {
                quorum_bps: g.oracle.params.quorum_bps,
                max_age_ms: g.oracle.params.max_age_ms,
                max_future_ms: g.oracle.params.max_future_ms,
                deviation_ppm: g.oracle.params.deviation_ppm,
                rebase_after_blocks: g.oracle.params.rebase_after_blocks,
                clamp_ppm: g.oracle.params.clamp_ppm,
                assets: g
                    .oracle
                    .assets
                    .iter()
                    .map(|a| AssetFile { symbol: a.symbol.clone(), price: a.price.to_decimal() })
                    .collect(),
            },
            markets: g
                .markets
                .iter()
                .map(|m| MarketFile {
                    symbol: m.symbol.clone(),
                    asset: g
                        .oracle
                        .assets
                        .get(usize::from(m.asset.0))
                        .map(|a| a.symbol.clone())
                        .unwrap_or_default(),
                    insurance_atoms: i64::try_from(m.insurance.0).unwrap_or(i64::MAX),
                })
                .collect(),
        }
    }

    /// To a chain genesis (validated).
    pub fn to_genesis(&self) -> Result<Genesis, String> {
        let validators =
            self.validators.iter().map(|v| parse_public_key(v)).collect::<Result<Vec<_>, _>>()?;
        let faucet = self.faucet.as_deref().map(parse_address).transpose()?;
        let o = &self.oracle;
        let assets = o
            .assets
            .iter()
            .map(|a| {
                let price = parse_decimal(&a.price).map_err(|e| {
                    format!("genesis.toml: asset {}: price {:?}: {e}", a.symbol, a.price)
                })?;
                Ok(GenesisAsset { symbol: a.symbol.clone(), price })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let markets = self
            .markets
            .iter()
            .map(|m| {
                let asset = assets.iter().position(|a| a.symbol == m.asset).ok_or_else(|| {
                    format!("genesis.toml: market {}: unknown asset {:?}", m.symbol, m.asset)
                })?;
                Ok(GenesisMarket {
                    symbol: m.symbol.clone(),
                    asset: AssetId(asset as u16),
                    insurance: Quote(i128::from(m.insurance_atoms)),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let g = Genesis {
            chain_id: ChainId(self.chain_id),
            time_ms: self.time_ms,
            validators,
            stakes: self.stakes.clone(),
            faucet,
            markets,
            oracle: GenesisOracle {
                params: OracleParams {
                    quorum_bps: o.quorum_bps,
                    max_age_ms: o.max_age_ms,
                    max_future_ms: o.max_future_ms,
                    deviation_ppm: o.deviation_ppm,
                    rebase_after_blocks: o.rebase_after_blocks,
                    clamp_ppm: o.clamp_ppm,
                },
                assets,
            },
        };
        g.validate().map_err(|e| format!("genesis: {e}"))?;
        Ok(g)
    }
}

/// A loaded home folder.
#[derive(Debug)]
pub struct Home {
    /// The folder.
    pub dir: std::path::PathBuf,
    pub node: NodeFile,
    pub genesis: Genesis,
    pub key: ed25519::PrivateKey,
    pub faucet_key: Option<ed25519::PrivateKey>,
}

impl Home {
    /// This validator's observer, built and checked from `[oracle]` (`None` if absent), with
    /// `scenario` replacing every simulated source's scenario.
    pub fn observer(
        &self,
        scenario: Option<ScenarioAt>,
    ) -> Result<Option<(ObserverConfig, Vec<Poller>)>, String> {
        let Some(o) = &self.node.oracle else { return Ok(None) };
        let me = self.key.public_key();
        let index = self
            .genesis
            .sorted_validators()
            .iter()
            .position(|v| *v == me)
            .ok_or("this node's key is not a genesis validator")?;
        o.build(&self.genesis, index as u64, &self.dir, scenario).map(Some)
    }

    /// Loads `dir`.
    pub fn load(dir: &Path) -> Result<Home, String> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let node: NodeFile =
            toml::from_str(&read("config.toml")?).map_err(|e| format!("config.toml: {e}"))?;
        let genesis_file: GenesisFile =
            toml::from_str(&read("genesis.toml")?).map_err(|e| format!("genesis.toml: {e}"))?;
        let genesis = genesis_file.to_genesis()?;
        let key = read_key(&dir.join(&node.key_file))?;
        if !genesis.validators.contains(&key.public_key()) {
            return Err("config.toml: this node's key is not a genesis validator".into());
        }
        for p in &node.peers {
            parse_public_key(&p.public_key)?;
        }
        let faucet_key = match &node.faucet_key_file {
            Some(f) => Some(read_key(&dir.join(f))?),
            None => None,
        };
        Ok(Home { dir: dir.to_path_buf(), node, genesis, key, faucet_key })
    }

    /// Writes a home folder.
    pub fn write(
        dir: &Path,
        node: &NodeFile,
        genesis: &Genesis,
        key: &ed25519::PrivateKey,
        faucet_key: Option<&ed25519::PrivateKey>,
    ) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let node_text = toml::to_string_pretty(node).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("config.toml"), node_text).map_err(|e| e.to_string())?;
        let genesis_text = toml::to_string_pretty(&GenesisFile::from_genesis(genesis))
            .map_err(|e| e.to_string())?;
        std::fs::write(dir.join("genesis.toml"), genesis_text).map_err(|e| e.to_string())?;
        write_key(&dir.join(&node.key_file), key)?;
        if let (Some(f), Some(k)) = (&node.faucet_key_file, faucet_key) {
            write_key(&dir.join(f), k)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use novation_chain::simulation;

    fn genesis() -> Genesis {
        let keys: Vec<_> = (0..4).map(|i| simulation::key("validator", i).public_key()).collect();
        simulation::genesis(&keys, 1_800_000_000_000)
    }

    fn build(f: impl FnOnce(&mut ObserverFile)) -> Result<(ObserverConfig, Vec<Poller>), String> {
        let g = genesis();
        let mut o = ObserverFile::simulated(&g);
        f(&mut o);
        o.build(&g, 0, Path::new("/nonexistent-home"), None)
    }

    #[test]
    fn the_simulated_observer_builds_and_bad_ones_say_why() {
        let (config, pollers) = build(|_| {}).expect("valid");
        assert_eq!(config.assets.len(), 2);
        assert!(pollers.is_empty());
        let err = |f: fn(&mut ObserverFile)| build(f).unwrap_err();
        assert!(
            err(|o| o.assets[0].symbol = "DOGE".into()).contains("asset DOGE: not a genesis asset")
        );
        assert!(err(|o| o.assets[0].sources[0].kind = "ftx".into()).contains("unknown kind"));
        assert!(err(|o| o.assets[0].sources[1].weight = 0)
            .contains("source 1 (sim): weight must be positive"));
        assert!(err(|o| o.assets[0].sources[0].scenario = Some("moon".into()))
            .contains("unknown scenario"));
        assert!(err(|o| o.assets[0].sources.clear()).contains("list 1 to"));
        assert!(err(|o| o.min_sources = 0).contains("min_sources"));
        assert!(err(|o| o.interval_ms = 0).contains("interval_ms"));
        assert!(err(|o| o.assets[1].symbol = "BTC".into()).contains("listed twice"));
        assert!(err(|o| {
            o.assets[0].sources[0] =
                SourceFile { kind: "csv".into(), weight: 1, ..SourceFile::default() }
        })
        .contains("needs path"));
        assert!(err(|o| {
            o.assets[0].sources[0] = SourceFile {
                kind: "csv".into(),
                weight: 1,
                path: Some("missing.csv".into()),
                ..SourceFile::default()
            }
        })
        .contains("missing.csv"));
        assert!(err(|o| {
            o.assets[0].sources[0] = SourceFile {
                kind: "fixed".into(),
                weight: 1,
                price: Some("NaN".into()),
                ..SourceFile::default()
            }
        })
        .contains("source 0 (fixed)"));
        assert!(err(|o| {
            o.assets[0].sources[0] =
                SourceFile { kind: "binance".into(), weight: 1, ..SourceFile::default() }
        })
        .contains("needs market"));
    }

    #[test]
    fn exchange_sources_become_pollers() {
        let (_, pollers) = build(|o| {
            o.assets[0].sources[0] = SourceFile {
                kind: "kraken".into(),
                weight: 1,
                market: Some("XBTUSD".into()),
                ..SourceFile::default()
            };
        })
        .expect("valid");
        assert_eq!(pollers.len(), 1);
        assert_eq!(pollers[0].base_url, Exchange::Kraken.default_base_url());
    }

    #[test]
    fn genesis_file_round_trips_and_bad_ones_say_why() {
        let g = genesis();
        let file = GenesisFile::from_genesis(&g);
        let text = toml::to_string_pretty(&file).expect("toml");
        let back: GenesisFile = toml::from_str(&text).expect("parse");
        assert_eq!(back.to_genesis().expect("valid"), g);
        let bad = |f: fn(&mut GenesisFile)| {
            let mut b = back.clone();
            f(&mut b);
            b.to_genesis().unwrap_err()
        };
        assert!(bad(|b| b.markets[0].asset = "SOL".into()).contains("unknown asset"));
        assert!(bad(|b| b.oracle.assets[0].price = "-5".into()).contains("asset BTC: price"));
        assert!(bad(|b| b.oracle.quorum_bps = 5_000).contains("quorum_bps"));
        assert!(bad(|b| b.oracle.clamp_ppm = 0).contains("clamp_ppm"));
        assert!(bad(|b| b.stakes = vec![1, 2]).contains("2 stakes for 4 validators"));
        assert!(bad(|b| b.stakes = vec![1, 0, 1, 1]).contains("zero stake"));
        assert!(bad(|b| {
            b.oracle.assets[1].symbol = "BTC".into();
            b.markets[1].asset = "BTC".into();
        })
        .contains("listed twice"));
    }
}
