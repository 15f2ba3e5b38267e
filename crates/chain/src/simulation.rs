//! Deterministic multi-validator simulation: N validators over commonware's simulated network in
//! the deterministic runtime, with exchange traffic, link faults, partitions and crashes.
//!
//! Everything (message delays and losses, task scheduling, keys, traffic) derives from the
//! runtime's seed, so a seed replays exactly; tests run each seed twice and compare the runtime
//! auditor's digest.

use std::time::Duration;

use commonware_codec::DecodeExt;
use commonware_consensus::simplex::scheme::ed25519 as scheme;
use commonware_cryptography::{
    ed25519::{PrivateKey, PublicKey},
    Hasher, Sha256, Signer as _,
};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_parallel::Sequential;
use commonware_runtime::{deterministic, Supervisor as _};
use commonware_utils::{ordered::Set, NZUsize};

use crate::genesis::Genesis;
use crate::mempool::MempoolConfig;
use crate::node::{self, channel, Channels, NodeConfig, NodeHandle, OracleSetup, Timing};
use crate::observer::{self, ObserverConfig};
use crate::tx::{address_of, ChainId, PublicKey as TxPublicKey};

/// A deterministic ed25519 key from a label and an index (tests and devnets only).
pub fn key(label: &str, index: u64) -> PrivateKey {
    let seed = Sha256::hash(&[label.as_bytes(), &index.to_be_bytes()]);
    // Any 32 bytes are a valid ed25519 secret.
    PrivateKey::decode(seed.as_ref().to_vec()).unwrap_or_else(|_| unreachable_key())
}

#[allow(clippy::panic)]
fn unreachable_key() -> PrivateKey {
    panic!("32 bytes always decode to an ed25519 private key")
}

/// The devnet/simulation genesis for `validators`, with the faucet key `key("faucet", 0)`.
pub fn genesis(validators: &[PublicKey], time_ms: u64) -> Genesis {
    let faucet = address_of(&TxPublicKey::Ed25519(key("faucet", 0).public_key()));
    Genesis::devnet(ChainId(1), time_ms, validators.to_vec(), faucet)
}

/// Starts the simulated network with every pair of validators linked by `link`.
pub async fn start_network(
    context: &deterministic::Context,
    participants: &[PublicKey],
    link: Link,
) -> Oracle<PublicKey, deterministic::Context> {
    let (network, oracle) = Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: node::max_message_size(participants.len() as u32),
            max_peers_per_set: NZUsize!(participants.len()),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        },
        participants.to_vec(),
    )
    .await;
    network.start();
    for a in participants {
        for b in participants {
            if a != b {
                let _ = oracle.add_link(a.clone(), b.clone(), link.clone()).await;
            }
        }
    }
    oracle
}

/// Starts validator `key` (one of `participants`) on the simulated network, observing the
/// devnet price path (no scenario).
pub async fn start_validator(
    context: deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    genesis: &Genesis,
    key: PrivateKey,
    timing: Timing,
) -> Result<NodeHandle, String> {
    let index = genesis.sorted_validators().iter().position(|v| *v == key.public_key());
    let observer = observer::devnet(genesis, index.unwrap_or(0) as u64, None);
    start_validator_with(context, oracle, genesis, key, timing, Some(observer)).await
}

/// [`start_validator`] with the given observer (`None`: this validator observes nothing).
pub async fn start_validator_with(
    context: deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    genesis: &Genesis,
    key: PrivateKey,
    timing: Timing,
    observer: Option<ObserverConfig>,
) -> Result<NodeHandle, String> {
    let me = key.public_key();
    let participants: Set<PublicKey> = Set::try_from(genesis.sorted_validators())
        .map_err(|_| "duplicate validator".to_string())?;
    let scheme = scheme::Scheme::signer(node::CONSENSUS_NAMESPACE, participants, key.clone())
        .ok_or_else(|| "key is not a validator".to_string())?;
    let control = oracle.control(me.clone());
    let mut regs = Vec::new();
    for ch in [
        channel::VOTE,
        channel::CERT,
        channel::RESOLVER,
        channel::BACKFILL,
        channel::BLOCKS,
        channel::TXS,
        channel::ORACLE,
    ] {
        regs.push(control.register(ch, node::quota(ch)).await.map_err(|e| format!("{e:?}"))?);
    }
    let mut it = regs.into_iter();
    let mut next = || it.next().ok_or_else(|| "channel".to_string());
    let channels = Channels {
        vote: next()?,
        cert: next()?,
        resolver: next()?,
        backfill: next()?,
        blocks: next()?,
        txs: next()?,
        oracle: next()?,
    };
    let config = NodeConfig {
        prefix: format!("v{}", hex(&me.as_ref()[..4])),
        genesis: std::sync::Arc::new(genesis.clone()),
        mempool: MempoolConfig::default(),
        timing,
        oracle: observer.map(|observer| OracleSetup { key: key.clone(), observer }),
    };
    node::start(context, config, scheme, me, channels, control, oracle.manager(), Sequential).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A link of the given latency, jitter and delivery probability (`success_percent` of 100).
pub fn link(latency_ms: u64, jitter_ms: u64, success_percent: u64) -> Link {
    Link {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        success_rate: commonware_utils::Probability::new(success_percent.min(100), 100)
            .unwrap_or(commonware_utils::probability!(1.0)),
    }
}
