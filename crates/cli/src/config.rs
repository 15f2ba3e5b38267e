//! Home folders: `config.toml` (this node), `genesis.toml` (the chain), key files.
//!
//! ```text
//! HOME/
//!   config.toml      # key file, listen addresses, peers, logging
//!   genesis.toml     # chain id, time, validators, faucet, markets, feed
//!   validator.key    # hex ed25519 secret (consensus and p2p identity)
//!   faucet.key       # hex ed25519 secret of the faucet (devnet/testnet only)
//!   data/            # storage (consensus journal, block archives, state database)
//! ```

use std::net::SocketAddr;
use std::path::Path;

use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::{ed25519, Signer as _};
use novation_chain::genesis::{FeedConfig, Genesis, GenesisMarket};
use novation_chain::tx::ChainId;
use novation_types::{Address, PriceTicks, Quote};
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
    /// Hex address of the faucet.
    pub faucet: Option<String>,
    pub markets: Vec<MarketFile>,
    pub feed_seed: u64,
    pub feed_step_ppm: u32,
}

/// One market in `genesis.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarketFile {
    pub symbol: String,
    /// First index price in ticks ($0.1).
    pub index_ticks: u64,
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
            faucet: g.faucet.map(|a| hex(&a.0)),
            markets: g
                .markets
                .iter()
                .map(|m| MarketFile {
                    symbol: m.symbol.clone(),
                    index_ticks: m.index.0,
                    insurance_atoms: i64::try_from(m.insurance.0).unwrap_or(i64::MAX),
                })
                .collect(),
            feed_seed: g.feed.seed,
            feed_step_ppm: g.feed.step_ppm,
        }
    }

    /// To a chain genesis (validated).
    pub fn to_genesis(&self) -> Result<Genesis, String> {
        let validators =
            self.validators.iter().map(|v| parse_public_key(v)).collect::<Result<Vec<_>, _>>()?;
        let faucet = self.faucet.as_deref().map(parse_address).transpose()?;
        let g = Genesis {
            chain_id: ChainId(self.chain_id),
            time_ms: self.time_ms,
            validators,
            faucet,
            markets: self
                .markets
                .iter()
                .map(|m| GenesisMarket {
                    symbol: m.symbol.clone(),
                    index: PriceTicks(m.index_ticks),
                    insurance: Quote(i128::from(m.insurance_atoms)),
                })
                .collect(),
            feed: FeedConfig { seed: self.feed_seed, step_ppm: self.feed_step_ppm },
        };
        g.validate().map_err(|e| format!("genesis: {e}"))?;
        Ok(g)
    }
}

/// A loaded home folder.
#[derive(Debug)]
pub struct Home {
    pub node: NodeFile,
    pub genesis: Genesis,
    pub key: ed25519::PrivateKey,
    pub faucet_key: Option<ed25519::PrivateKey>,
}

impl Home {
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
        Ok(Home { node, genesis, key, faucet_key })
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
