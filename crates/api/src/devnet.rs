//! An in-process devnet for tests and the API benchmark: `validators` validators with real
//! consensus over loopback TCP (commonware's authenticated `lookup` network, the same wiring as
//! `novation devnet`), simulated oracle feeds, and the API of each validator on an ephemeral
//! loopback port. Runs on the caller's commonware tokio runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use commonware_cryptography::{ed25519, Signer as _};
use commonware_runtime::{tokio as cw_tokio, Metrics as _, Supervisor as _};
use novation_chain::genesis::Genesis;
use novation_chain::launch::{start_validator, Launch};
use novation_chain::node::{self, NodeHandle};
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
        let launch = Launch {
            prefix: format!("v{i}"),
            key,
            listen: peers[i].1,
            peers: peers.clone(),
            observer: Some(novation_chain::observer::devnet(&genesis, i as u64, None)),
        };
        let node = start_validator(vctx, genesis.clone(), launch, 1).await?;
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
