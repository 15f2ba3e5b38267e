//! An in-process devnet for tests and the API benchmark: `validators` validators with real
//! consensus over loopback TCP (commonware's authenticated `lookup` network, the same wiring as
//! `novation devnet`), simulated oracle feeds, and the API of each validator on an ephemeral
//! loopback port. Runs on the caller's commonware tokio runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use commonware_consensus::simplex::scheme::ed25519 as scheme;
use commonware_cryptography::{ed25519, ChaCha20Poly1305, Signer as _};
use commonware_p2p::{authenticated::lookup, Address as P2pAddress, AddressableManager as _};
use commonware_parallel::Rayon;
use commonware_runtime::{tokio as cw_tokio, Metrics as _, Supervisor as _};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::{ordered::Map, ordered::Set, NZUsize};
use novation_chain::genesis::Genesis;
use novation_chain::mempool::MempoolConfig;
use novation_chain::node::{self, channel, Channels, NodeConfig, NodeHandle, OracleSetup, Timing};
use novation_chain::simulation;
use novation_chain::tx::{address_of, ChainId, PublicKey as TxPublicKey};

use crate::{ApiConfig, ApiState, NodeContext};

/// Most validators an in-process devnet runs.
pub const VALIDATORS_MAX: usize = 16;

/// What to start.
#[derive(Clone, Copy, Debug)]
pub struct DevnetOptions {
    /// Validators (1 to [`VALIDATORS_MAX`]).
    pub validators: usize,
    /// The API's bounds.
    pub api: ApiConfig,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        DevnetOptions { validators: 1, api: ApiConfig::default() }
    }
}

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// Each validator's node.
    pub nodes: Vec<NodeHandle>,
    /// Each validator's API state.
    pub apis: Vec<Arc<ApiState>>,
    /// Each validator's API address.
    pub addrs: Vec<SocketAddr>,
    /// The genesis faucet key (credits with `TxAction::Faucet`).
    pub faucet: ed25519::PrivateKey,
    /// The chain id.
    pub chain_id: ChainId,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| format!("port: {e}"))
}

/// Starts one validator on authenticated loopback p2p.
async fn start_validator(
    context: cw_tokio::Context,
    genesis: Arc<Genesis>,
    key: ed25519::PrivateKey,
    listen: SocketAddr,
    peers: &[(ed25519::PublicKey, SocketAddr)],
    index: u64,
) -> Result<NodeHandle, String> {
    let me = key.public_key();
    let n = genesis.validators.len();
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer: key.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let cfg = lookup::Config::local(
        handshake,
        b"novation-p2p",
        listen,
        NZUsize!(n.max(1)),
        node::max_message_size(n as u32),
        NZUsize!(4096),
    );
    let (mut network, mut oracle) = lookup::Network::new(context.child("network"), cfg);
    let book: Map<ed25519::PublicKey, P2pAddress> = peers
        .iter()
        .map(|(k, a)| (k.clone(), P2pAddress::from(*a)))
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "duplicate peer key".to_string())?;
    let _ = oracle.track(0, book);
    let mut reg = |ch| network.register(ch, node::quota(ch));
    let channels = Channels {
        vote: reg(channel::VOTE),
        cert: reg(channel::CERT),
        resolver: reg(channel::RESOLVER),
        backfill: reg(channel::BACKFILL),
        blocks: reg(channel::BLOCKS),
        txs: reg(channel::TXS),
        oracle: reg(channel::ORACLE),
    };
    network.start();
    let participants: Set<ed25519::PublicKey> = Set::try_from(genesis.sorted_validators())
        .map_err(|_| "duplicate validator".to_string())?;
    let observer = novation_chain::observer::devnet(&genesis, index, None);
    let signer = scheme::Scheme::signer(node::CONSENSUS_NAMESPACE, participants, key.clone())
        .ok_or_else(|| "this key is not a genesis validator".to_string())?;
    let strategy = Rayon::new(NZUsize!(1)).map_err(|e| format!("thread pool: {e}"))?;
    let config = NodeConfig {
        prefix: format!("v{index}"),
        genesis,
        mempool: MempoolConfig::default(),
        timing: Timing::default(),
        oracle: Some(OracleSetup { key, observer }),
    };
    node::start(context, config, signer, me, channels, oracle.clone(), oracle, strategy).await
}

/// Starts a devnet on `ctx` (whose storage directory holds its data).
pub async fn start(ctx: cw_tokio::Context, opts: DevnetOptions) -> Result<Devnet, String> {
    let n = opts.validators;
    if n == 0 || n > VALIDATORS_MAX {
        return Err(format!("validators must be between 1 and {VALIDATORS_MAX}"));
    }
    let keys: Vec<ed25519::PrivateKey> =
        (0..n).map(|i| simulation::key("api-devnet-validator", i as u64)).collect();
    let faucet = simulation::key("faucet", 0);
    let chain_id = ChainId(1);
    let genesis = Arc::new(Genesis::devnet(
        chain_id,
        now_ms(),
        keys.iter().map(|k| k.public_key()).collect(),
        address_of(&TxPublicKey::Ed25519(faucet.public_key())),
    ));
    let peers = keys
        .iter()
        .map(|k| Ok((k.public_key(), SocketAddr::from(([127, 0, 0, 1], free_port()?)))))
        .collect::<Result<Vec<_>, String>>()?;
    let mut devnet =
        Devnet { nodes: Vec::new(), apis: Vec::new(), addrs: Vec::new(), faucet, chain_id };
    for (i, key) in keys.into_iter().enumerate() {
        let vctx = ctx.child("validator").with_attribute("index", i);
        let node =
            start_validator(vctx, genesis.clone(), key, peers[i].1, &peers, i as u64).await?;
        let metrics_ctx = ctx.child("api");
        let cx = NodeContext {
            node: node.clone(),
            chain_id,
            faucet: Some(devnet.faucet.clone()),
            metrics: Box::new(move || metrics_ctx.encode()),
            validators: n,
            metrics_label: Some(format!("index=\"{i}\"")),
            now_ms: Box::new(now_ms),
            assets: genesis.oracle.assets.iter().map(|a| a.symbol.clone()).collect(),
        };
        let api = crate::install(cx, opts.api).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("api listener: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("api listener: {e}"))?;
        let serving = api.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::serve(listener, serving).await {
                tracing::error!(error = %e, "api server stopped");
            }
        });
        devnet.nodes.push(node);
        devnet.apis.push(api);
        devnet.addrs.push(addr);
    }
    Ok(devnet)
}

/// A signing key with its own nonce counter (millisecond timestamps, made unique by
/// counting up), for tests, tools and the benchmark.
#[derive(Debug)]
pub struct Trader {
    /// The key.
    pub key: ed25519::PrivateKey,
    /// Its address.
    pub address: novation_types::Address,
    chain_id: ChainId,
    nonce: u64,
}

impl Trader {
    /// The trader derived from `label` and `index`.
    pub fn new(label: &str, index: u64, chain_id: ChainId) -> Self {
        let key = simulation::key(label, index);
        Self::from_key(key, chain_id)
    }

    /// A trader for `key`.
    pub fn from_key(key: ed25519::PrivateKey, chain_id: ChainId) -> Self {
        let address = address_of(&TxPublicKey::Ed25519(key.public_key()));
        Trader { key, address, chain_id, nonce: now_ms() }
    }

    /// Its address, hex.
    pub fn hex_address(&self) -> String {
        crate::convert::hex(&self.address.0)
    }

    /// Signs these actions with the next nonce; returns the encoded transaction.
    pub fn sign(&mut self, actions: Vec<novation_chain::tx::TxAction>) -> Vec<u8> {
        self.nonce = self.nonce.max(now_ms()) + 1;
        let body = novation_chain::tx::TxBody {
            chain_id: self.chain_id,
            nonce: self.nonce,
            master: None,
            actions,
        };
        node::encode_tx(&novation_chain::tx::SignedTx::sign(&self.key, body))
    }

    /// A GTC limit order in subaccount 0, signed.
    pub fn limit(
        &mut self,
        market: u16,
        side: novation_types::Side,
        price_ticks: u64,
        qty_lots: u64,
    ) -> Vec<u8> {
        let order = novation_engine::OrderRequest::limit(
            0,
            novation_engine::MarketId(market),
            side,
            price_ticks,
            qty_lots,
        );
        self.sign(vec![novation_chain::tx::TxAction::Place(order)])
    }

    /// A faucet credit of `usdc` to (`to`, subaccount 0), signed (by the faucet's key).
    pub fn faucet(&mut self, to: novation_types::Address, usdc: i128) -> Vec<u8> {
        self.sign(vec![novation_chain::tx::TxAction::Faucet {
            to,
            sub: 0,
            amount: novation_types::Quote(usdc * 1_000_000),
        }])
    }
}
