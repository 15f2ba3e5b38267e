//! Starting a validator on commonware's tokio runtime over authenticated TCP p2p (the `lookup`
//! network: every validator's key and address are known in advance), as `novation devnet`,
//! `novation start`, the chain benchmark and the API's in-process devnet do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::genesis::Genesis;
use crate::mempool::MempoolConfig;
use crate::node::{self, channel, Channels, NodeConfig, NodeHandle, OracleSetup, Timing};
use crate::observer::ObserverConfig;
use commonware_consensus::simplex::scheme::ed25519 as scheme;
use commonware_cryptography::{ed25519, ChaCha20Poly1305, Signer as _};
use commonware_p2p::{authenticated::lookup, Address as P2pAddress, AddressableManager as _};
use commonware_parallel::Rayon;
use commonware_runtime::{tokio, Supervisor as _};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{ordered::Map, ordered::Set, NZUsize};

/// One validator to start in this process.
#[derive(Debug)]
pub struct Launch {
    /// Storage partition prefix.
    pub prefix: String,
    /// Consensus and p2p key.
    pub key: ed25519::PrivateKey,
    /// p2p listen address.
    pub listen: SocketAddr,
    /// Every validator's key and address.
    pub peers: Vec<(ed25519::PublicKey, SocketAddr)>,
    /// The price observer (`None`: this validator observes nothing).
    pub observer: Option<ObserverConfig>,
}

/// Starts a validator on authenticated p2p; returns its handle.
pub async fn start_validator(
    context: tokio::Context,
    genesis: Arc<Genesis>,
    launch: Launch,
    parallelism: usize,
) -> Result<NodeHandle, String> {
    let me = launch.key.public_key();
    let n = genesis.validators.len();
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer: launch.key.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let cfg = lookup::Config::local(
        handshake,
        b"novation-p2p",
        launch.listen,
        NZUsize!(n.max(1)),
        node::max_message_size(n as u32),
        NZUsize!(4096),
    );
    let (mut network, mut oracle) = lookup::Network::new(context.child("network"), cfg);
    let peers: Map<ed25519::PublicKey, P2pAddress> = launch
        .peers
        .iter()
        .map(|(k, a)| (k.clone(), P2pAddress::from(*a)))
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "duplicate peer key".to_string())?;
    let _ = oracle.track(0, peers);
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
    let oracle_setup =
        launch.observer.map(|observer| OracleSetup { key: launch.key.clone(), observer });
    let signer = scheme::Scheme::signer(node::CONSENSUS_NAMESPACE, participants, launch.key)
        .ok_or_else(|| "this key is not a genesis validator".to_string())?;
    let strategy =
        Rayon::new(NZUsize!(parallelism.max(1))).map_err(|e| format!("thread pool: {e}"))?;
    let config = NodeConfig {
        prefix: launch.prefix,
        genesis,
        mempool: MempoolConfig::default(),
        timing: Timing::default(),
        oracle: oracle_setup,
    };
    node::start(context, config, signer, me, channels, oracle.clone(), oracle, strategy).await
}
