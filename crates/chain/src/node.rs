//! One validator: consensus (simplex with ed25519), marshal (block dissemination, backfill,
//! ordered finalized delivery), the executor, the mempool and transaction gossip, wired over any
//! commonware runtime and any p2p network (the simulated one in tests, authenticated TCP in
//! real nodes).
//!
//! Each validator uses seven p2p channels: simplex's votes, certificates and resolver; marshal's
//! backfill and block broadcast; transaction gossip; and oracle observations (each validator's
//! signed observation to every peer, kept newest-per-validator in the observation pool). Storage partitions are all named under
//! the validator's prefix and survive restarts together (simplex's journal, marshal's archives,
//! the state database).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use commonware_broadcast::buffered;
use commonware_codec::Encode;
use commonware_consensus::{
    marshal::{
        self, core::Actor as MarshalActor, resolver::p2p as marshal_resolver, standard::Inline,
    },
    simplex::{self, elector::RoundRobin, scheme::ed25519},
    types::{Epoch, FixedEpocher, Height, ViewDelta},
};
use commonware_cryptography::{
    certificate::{ConstantProvider, Verifier as _},
    ed25519::PublicKey,
    sha256::Digest,
    Digested, Digestible, Sha256,
};
use commonware_p2p::{Blocker, Provider, Receiver, Recipients, Sender};
use commonware_parallel::Strategy;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZUsize, NZU16, NZU64};
use tracing::{debug, info};

use crate::block::Block;
use crate::executor::{self, Executor, ExecutorMailbox, FinalizedReporter, Shared};
use crate::genesis::Genesis;
use crate::mempool::{Mempool, MempoolConfig};
use crate::observer::{self, Observer, ObserverConfig};
use crate::oracle::{self, ObservationPool};
use crate::tx::{self, SignedTx, MAX_TX_BYTES};
use commonware_cryptography::ed25519 as ed25519_key;

/// Channel numbers.
pub mod channel {
    /// simplex votes.
    pub const VOTE: u64 = 0;
    /// simplex certificates.
    pub const CERT: u64 = 1;
    /// simplex resolver.
    pub const RESOLVER: u64 = 2;
    /// marshal backfill.
    pub const BACKFILL: u64 = 3;
    /// marshal block broadcast.
    pub const BLOCKS: u64 = 4;
    /// transaction gossip.
    pub const TXS: u64 = 5;
    /// oracle observations.
    pub const ORACLE: u64 = 6;
}

/// Per-peer rate limit of a channel: a sustained rate (messages per second) and a burst. The p2p
/// layer preallocates each channel's queue, and the router's, with one burst per peer (about
/// 600 bytes a message), so the burst, not the rate, sets the memory: with bursts equal to the
/// rates (the `per_second` default) each validator allocated about 550 MB at start. Consensus
/// channels carry a few messages per view; transaction gossip carries batches of up to
/// [`GOSSIP_BATCH_MAX`] transactions; observations come every few hundred ms.
pub fn quota(channel: u64) -> commonware_runtime::Quota {
    use commonware_utils::NZU32;
    let (rate, burst) = if channel == self::channel::TXS {
        (NZU32!(50_000), NZU32!(1_024))
    } else if channel == self::channel::ORACLE {
        (NZU32!(50), NZU32!(50))
    } else {
        (NZU32!(5_000), NZU32!(256))
    };
    commonware_runtime::Quota::per_second(rate).allow_burst(burst)
}

/// Most gossiped transactions verified in one batch (and carried by one gossip bundle).
pub const GOSSIP_BATCH_MAX: usize = 1024;

/// How long, at most, the gossip receiver keeps gathering bundles before verifying what it has
/// as one batch, when the previous batch held at least [`GOSSIP_GATHER_ABOVE`] transactions.
/// Batch verification costs per signature fall steeply with the batch (on the 2-core dev VM,
/// measured with `cargo run --release -p novation-cli --example verify_rate`: about 14 µs at
/// 37, 11 µs at 128, 8 µs at 1,024), and under load every validator verifies every transaction,
/// so larger batches are the largest CPU saving available; a few milliseconds are small next to
/// the block interval. At low load nothing waits.
pub const GOSSIP_GATHER_MS: u64 = 20;

/// The batch size from which the gossip receiver gathers (see [`GOSSIP_GATHER_MS`]).
pub const GOSSIP_GATHER_ABOVE: usize = 64;

/// Most bytes of transactions one gossip bundle carries (well below a block's).
pub const GOSSIP_BUNDLE_BYTES_MAX: usize = 256 << 10;

/// Encodes a gossip bundle: for each transaction, its length (u32 big-endian) and its bytes.
///
/// Transactions are gossiped in bundles, not one p2p message each: whatever is queued when the
/// gossip task wakes goes out together (at most [`GOSSIP_BATCH_MAX`] transactions and
/// [`GOSSIP_BUNDLE_BYTES_MAX`] bytes), so under load a message carries many transactions (one
/// frame, one encryption, one batch verification on arrival) and at low load it carries one.
pub fn encode_bundle(txs: &[Bytes]) -> Bytes {
    let size = txs.iter().map(|t| 4 + t.len()).sum();
    let mut out = Vec::with_capacity(size);
    for t in txs {
        out.extend_from_slice(&(t.len() as u32).to_be_bytes());
        out.extend_from_slice(t);
    }
    Bytes::from(out)
}

/// Decodes [`encode_bundle`]'s output: `None` if it is truncated, holds a transaction longer
/// than [`MAX_TX_BYTES`] or more than [`GOSSIP_BATCH_MAX`] of them.
pub fn decode_bundle(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() >= GOSSIP_BATCH_MAX {
            return None;
        }
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > MAX_TX_BYTES || len > tail.len() {
            return None;
        }
        let (tx, tail) = tail.split_at(len);
        out.push(tx);
        rest = tail;
    }
    Some(out)
}

/// The consensus namespace (domain separation of consensus signatures).
pub const CONSENSUS_NAMESPACE: &[u8] = b"novation-consensus";

/// Largest p2p message: a block (the largest payload) plus framing.
pub fn max_message_size(validators: u32) -> u32 {
    let block = <Block as commonware_consensus::BoundedBlock>::max_encode_size(&());
    commonware_p2p::max_message_size(&[
        simplex::max_payload_size::<ed25519::Scheme, Digest>(validators),
        marshal::max_payload_size::<marshal::standard::Standard<Block>, ed25519::Scheme>(
            validators,
            &(),
        ),
        block + 1024,
    ])
}

/// The seven channels of a validator, each a (sender, receiver) pair.
#[derive(Debug)]
pub struct Channels<S, R> {
    pub vote: (S, R),
    pub cert: (S, R),
    pub resolver: (S, R),
    pub backfill: (S, R),
    pub blocks: (S, R),
    pub txs: (S, R),
    pub oracle: (S, R),
}

/// Consensus timing.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// simplex leader timeout.
    pub leader_timeout: Duration,
    /// simplex certification timeout.
    pub certification_timeout: Duration,
    /// Retry of a timed-out view.
    pub timeout_retry: Duration,
    /// Skip timeout (must exceed the two above).
    pub skip_timeout: Duration,
    /// Least time between a block and its parent: a proposer waits until then (the chain's
    /// block interval when the network is faster than this).
    pub min_block_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(5),
            skip_timeout: Duration::from_secs(10),
            min_block_interval: Duration::from_millis(200),
        }
    }
}

/// A validator's price observer and the key it signs with (its consensus key).
#[derive(Debug)]
pub struct OracleSetup {
    /// The validator's key.
    pub key: ed25519_key::PrivateKey,
    /// Its sources and parameters.
    pub observer: ObserverConfig,
}

/// A validator's configuration.
#[derive(Debug)]
pub struct NodeConfig {
    /// Prefix of every storage partition of this validator.
    pub prefix: String,
    /// The chain's genesis.
    pub genesis: Arc<Genesis>,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Consensus timing.
    pub timing: Timing,
    /// The price observer; `None` for a validator that observes nothing (it still verifies
    /// and aggregates others' observations).
    pub oracle: Option<OracleSetup>,
}

/// What the rest of the process (RPC, tests, metrics) holds of a running validator.
#[derive(Clone)]
pub struct NodeHandle {
    /// The executor's mailbox (queries).
    pub executor: ExecutorMailbox,
    /// The mempool.
    pub mempool: Arc<Mutex<Mempool<SignedTx>>>,
    /// Status and results.
    pub shared: Arc<Shared>,
    /// The genesis block's digest.
    pub genesis_digest: Digest,
    /// The newest observation of each validator this node has seen.
    pub observations: Arc<Mutex<ObservationPool>>,
    gossip: futures::channel::mpsc::UnboundedSender<Bytes>,
    chain_id: tx::ChainId,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle").finish()
    }
}

/// Why a submitted transaction was not admitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Tx(#[from] tx::TxError),
    #[error("mempool: {0}")]
    Mempool(String),
}

/// Why [`NodeHandle::submit_gated`] did not admit a transaction: the node's checks, or the
/// caller's gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gated<G> {
    /// Refused by the node (as [`NodeHandle::submit`] would).
    Submit(SubmitError),
    /// Refused by the gate.
    Gate(G),
}

impl NodeHandle {
    /// [`NodeHandle::submit`] with a caller's check between the signature and admission: `gate`
    /// sees only transactions that decoded, passed the stateless checks and carry a valid
    /// signature, and a refusal admits nothing. The RPC applies its per-signer rate limit
    /// here, so a forged transaction cannot spend a signer's allowance, and each signature is
    /// verified once.
    pub fn submit_gated<G>(
        &self,
        bytes: &[u8],
        now_ms: u64,
        gate: impl FnMut(&SignedTx) -> Result<(), G>,
    ) -> Result<[u8; 32], Gated<G>> {
        // `admit` answers every input, so the fallback is never taken.
        let mut results = self.admit(&[bytes], now_ms, gate);
        results
            .pop()
            .unwrap_or(Err(Gated::Submit(SubmitError::Mempool("no admission result".into()))))
    }

    /// Checks, admits and gossips a transaction; returns its hash. (A batch of one: see
    /// [`NodeHandle::submit_batch`].)
    pub fn submit(&self, bytes: &[u8], now_ms: u64) -> Result<[u8; 32], SubmitError> {
        // `submit_batch` answers every input, so the fallback is never taken.
        let mut results = self.submit_batch(&[bytes], now_ms);
        results.pop().unwrap_or(Err(SubmitError::Mempool("no admission result".into())))
    }

    /// [`NodeHandle::submit`] for many transactions at once, one result each, in order: the
    /// signatures are batch-verified together ([`tx::verify_batch`], several times cheaper per
    /// signature than one by one), then each valid transaction is admitted and gossiped as
    /// `submit` does.
    pub fn submit_batch(&self, txs: &[&[u8]], now_ms: u64) -> Vec<Result<[u8; 32], SubmitError>> {
        let open = |_: &SignedTx| Ok::<(), std::convert::Infallible>(());
        let results = self.admit(txs, now_ms, open);
        results
            .into_iter()
            .map(|r| {
                r.map_err(|e| match e {
                    Gated::Submit(e) => e,
                    Gated::Gate(never) => match never {},
                })
            })
            .collect()
    }

    /// The one admission path: decode and stateless checks, one batch verification, the gate
    /// for each transaction whose signature verified, the mempool, then gossip of what was
    /// admitted. One result per input, in order.
    fn admit<G>(
        &self,
        txs: &[&[u8]],
        now_ms: u64,
        mut gate: impl FnMut(&SignedTx) -> Result<(), G>,
    ) -> Vec<Result<[u8; 32], Gated<G>>> {
        let mut results: Vec<Result<[u8; 32], Gated<G>>> = Vec::with_capacity(txs.len());
        let mut slots = Vec::with_capacity(txs.len());
        let mut signed = Vec::with_capacity(txs.len());
        for bytes in txs {
            match decode_checked(bytes, self.chain_id) {
                Ok((tx, hash)) => {
                    slots.push(results.len());
                    results.push(Ok(hash));
                    signed.push((tx, hash));
                }
                Err(e) => results.push(Err(Gated::Submit(e.into()))),
            }
        }
        let verdicts = tx::verify_batch_by(&signed, |(tx, _)| tx, &commonware_parallel::Sequential);
        let mut pool = self.mempool.lock().unwrap_or_else(|e| e.into_inner());
        for ((slot, (tx, hash)), ok) in slots.into_iter().zip(signed).zip(verdicts) {
            let outcome = if !ok {
                Err(Gated::Submit(tx::TxError::BadSignature.into()))
            } else if let Err(refused) = gate(&tx) {
                Err(Gated::Gate(refused))
            } else if let Err(e) = pool.insert_hashed(tx, hash, now_ms) {
                Err(Gated::Submit(SubmitError::Mempool(e.to_string())))
            } else {
                continue;
            };
            if let Some(r) = results.get_mut(slot) {
                *r = outcome;
            }
        }
        drop(pool);
        for (bytes, result) in txs.iter().zip(&results) {
            if result.is_ok() {
                let _ = self.gossip.unbounded_send(Bytes::copy_from_slice(bytes));
            }
        }
        results
    }
}

/// Decode and the stateless checks of one transaction (everything but its signature, which
/// admission and gossip verify in batches), with its hash. The encoding is canonical, so the
/// hash of the bytes is the hash of the transaction ([`tx::hash_encoded`]).
fn decode_checked(
    bytes: &[u8],
    chain_id: tx::ChainId,
) -> Result<(SignedTx, [u8; 32]), tx::TxError> {
    let tx = tx::decode_tx(bytes, MAX_TX_BYTES)?;
    tx::check_stateless(&tx, chain_id)?;
    let hash = tx::hash_encoded(bytes);
    debug_assert_eq!(hash, tx.hash_bytes(), "transaction encoding is not canonical");
    Ok((tx, hash))
}

const PAGE_CACHE: (std::num::NonZeroU16, std::num::NonZeroUsize) = (NZU16!(4096), NZUsize!(256));

fn archive_cfg<C>(
    prefix: &str,
    page_cache: &CacheRef,
    name: &str,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 128,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 << 20,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(4096),
        codec_config,
        replay_buffer: NZUsize!(1 << 20),
        freezer_key_write_buffer: NZUsize!(1 << 16),
        freezer_value_write_buffer: NZUsize!(1 << 20),
        ordinal_write_buffer: NZUsize!(1 << 16),
    }
}

/// Opens the block and finalization archives of a validator (also used by `novation verify`).
pub async fn open_archives<E>(
    context: &E,
    prefix: &str,
) -> Result<
    (
        immutable::Archive<
            E,
            Digest,
            commonware_consensus::simplex::types::Finalization<ed25519::Scheme, Digest>,
        >,
        immutable::Archive<E, Digest, Arc<Block>>,
    ),
    String,
>
where
    E: Spawner + Metrics + Clock + Storage,
{
    let page_cache = CacheRef::new(PAGE_CACHE.0, PAGE_CACHE.1);
    let marshal_prefix = format!("{prefix}-marshal");
    let finalizations = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_cfg(
            &marshal_prefix,
            &page_cache,
            "finalizations",
            ed25519::Scheme::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .map_err(|e| format!("finalizations archive: {e:?}"))?;
    let blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive_cfg(&marshal_prefix, &page_cache, "blocks", ()),
    )
    .await
    .map_err(|e| format!("blocks archive: {e:?}"))?;
    Ok((finalizations, blocks))
}

/// Starts a validator; returns once every component runs.
#[allow(clippy::too_many_arguments)]
pub async fn start<E, S, R, B, P, T>(
    context: E,
    config: NodeConfig,
    scheme: ed25519::Scheme,
    me: PublicKey,
    channels: Channels<S, R>,
    blocker: B,
    peers: P,
    strategy: T,
) -> Result<NodeHandle, String>
where
    E: Spawner + Metrics + Clock + Storage + rand::CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    T: Strategy,
{
    let genesis = config.genesis.clone();
    let prefix = config.prefix.clone();
    let chain_id = genesis.chain_id;

    // State first: the genesis block carries the genesis state's root.
    let (db, genesis_block, committed) =
        executor::open_state(context.child("executor"), &prefix, &genesis)
            .await
            .map_err(|e| e.to_string())?;
    let genesis_digest = genesis_block.digest();
    let mempool = Arc::new(Mutex::new(
        Mempool::new(config.mempool).map_err(|e| format!("mempool config: {e}"))?,
    ));
    let shared = Arc::new(Shared::default());
    let (executor, executor_mailbox) =
        Executor::new(db, genesis.clone(), &genesis_block, mempool.clone(), shared.clone())
            .map_err(|e| e.to_string())?;
    let clock = context.child("clock");
    let now_ms = std::sync::Arc::new(move || {
        clock
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    });
    let mut executor =
        executor.with_metrics(executor::NodeMetrics::new(&context.child("novation"), now_ms));

    // Marshal.
    let page_cache = CacheRef::new(PAGE_CACHE.0, PAGE_CACHE.1);
    let mailbox_size = NZUsize!(4096);
    let marshal_cfg = marshal::Config {
        provider: ConstantProvider::<ed25519::Scheme, Epoch>::new(scheme.clone()),
        epocher: FixedEpocher::new(NZU64!(u64::MAX)),
        start: marshal::Start::Genesis(Digested::precomputed(
            genesis_block.clone(),
            genesis_digest,
        )),
        partition_prefix: format!("{prefix}-marshal"),
        mailbox_size,
        view_retention: ViewDelta::new(10),
        prunable_items_per_section: NZU64!(64),
        page_cache: page_cache.clone(),
        replay_buffer: NZUsize!(1 << 20),
        key_write_buffer: NZUsize!(1 << 16),
        value_write_buffer: NZUsize!(1 << 20),
        block_codec_config: (),
        max_repair: NZUsize!(64),
        max_pending_acks: NZUsize!(8),
        strategy: strategy.clone(),
    };
    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::<_, _, Block, _, _>::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size,
            deque_size: 32,
            priority: false,
            codec_config: (),
            peer_provider: peers.clone(),
            strategy: strategy.clone(),
        },
    );
    broadcast_engine.start(channels.blocks);
    let (finalizations, blocks) = open_archives(&context, &prefix).await?;
    let (actor, marshal_mailbox, _floor): (
        _,
        marshal::core::Mailbox<ed25519::Scheme, marshal::standard::Standard<Block>>,
        _,
    ) = MarshalActor::init(context.child("marshal"), finalizations, blocks, marshal_cfg).await;
    actor.start(FinalizedReporter::new(executor_mailbox.clone()), buffer, resolver);

    // Rebuild the engine state from the finalized blocks the database already holds.
    if committed > 0 {
        let mb = marshal_mailbox.clone();
        executor
            .recover(committed, |h| {
                let mb = mb.clone();
                async move { mb.get_block(Height::new(h)).await.map(|b| b.inner().clone()) }
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    context.child("executor_loop").spawn(move |_| executor.run());

    // Transaction gossip: out to every peer, in from every peer (checked, batch-verified).
    let (gossip_tx, mut gossip_rx) = futures::channel::mpsc::unbounded::<Bytes>();
    let (mut tx_sender, mut tx_receiver) = channels.txs;
    context.child("tx_gossip_out").spawn(move |_| async move {
        use futures::{FutureExt as _, StreamExt as _};
        while let Some(first) = gossip_rx.next().await {
            // Bundle whatever else is already queued (see `encode_bundle`).
            let mut bytes = first.len();
            let mut bundle = vec![first];
            while bundle.len() < GOSSIP_BATCH_MAX && bytes < GOSSIP_BUNDLE_BYTES_MAX {
                match gossip_rx.next().now_or_never() {
                    Some(Some(tx)) => {
                        bytes += tx.len();
                        bundle.push(tx);
                    }
                    _ => break,
                }
            }
            let _ = tx_sender.send(Recipients::All, encode_bundle(&bundle), false);
        }
    });
    {
        let mempool = mempool.clone();
        let strategy = strategy.clone();
        context.child("tx_gossip_in").spawn(move |ctx| async move {
            use futures::FutureExt as _;
            let mut busy = false;
            let mut open = true;
            while open {
                // Take every message already waiting; under load (the previous batch was
                // large) keep gathering for up to GOSSIP_GATHER_MS, so signatures are
                // batch-verified in large batches (see GOSSIP_GATHER_MS).
                let Ok((_, first)) = tx_receiver.recv().await else { break };
                let mut txs = Vec::new();
                let add = |msg: &[u8], txs: &mut Vec<(SignedTx, [u8; 32])>| {
                    if let Some(bundle) = decode_bundle(msg) {
                        txs.extend(
                            bundle.into_iter().filter_map(|b| decode_checked(b, chain_id).ok()),
                        );
                    }
                };
                add(first.as_ref(), &mut txs);
                let gather = Duration::from_millis(if busy { GOSSIP_GATHER_MS } else { 0 });
                let mut deadline = Box::pin(ctx.sleep(gather).fuse());
                while txs.len() < GOSSIP_BATCH_MAX {
                    let next = match tx_receiver.recv().now_or_never() {
                        Some(r) => Some(r),
                        None if !busy => None,
                        None => futures::select_biased! {
                            r = tx_receiver.recv().fuse() => Some(r),
                            _ = deadline => None,
                        },
                    };
                    match next {
                        Some(Ok((_, m))) => add(m.as_ref(), &mut txs),
                        Some(Err(_)) => {
                            open = false;
                            break;
                        }
                        None => break,
                    }
                }
                busy = txs.len() >= GOSSIP_GATHER_ABOVE;
                {
                    let pool = mempool.lock().unwrap_or_else(|e| e.into_inner());
                    txs.retain(|(_, hash)| !pool.contains(hash) && !pool.is_included(hash));
                }
                if txs.is_empty() {
                    continue;
                }
                let verdicts = tx::verify_batch_by(&txs, |(tx, _)| tx, &strategy);
                let now = ctx
                    .current()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                let mut pool = mempool.lock().unwrap_or_else(|e| e.into_inner());
                for ((tx, hash), ok) in txs.into_iter().zip(verdicts) {
                    if !ok {
                        continue;
                    }
                    if let Err(e) = pool.insert_hashed(tx, hash, now) {
                        debug!(reason = %e, "gossiped transaction not admitted");
                    }
                }
            }
        });
    }

    // Oracle observations: ours out to every peer, everyone's in (signature checked, newest
    // per validator kept).
    let observations = Arc::new(Mutex::new(ObservationPool::default()));
    let validators = Arc::new(genesis.sorted_validators());
    let (mut oracle_sender, mut oracle_receiver) = channels.oracle;
    let mut progress = None;
    if let Some(setup) = config.oracle {
        let index = validators
            .iter()
            .position(|v| *v == me)
            .ok_or_else(|| "observer: this node is not a validator".to_string())?;
        let observer = Observer::new(setup.observer, setup.key, chain_id, index as u16)?;
        let pool = observations.clone();
        let (signal, watch) = observer::progress();
        progress = Some(signal);
        context.child("observer").spawn(move |ctx| {
            observer::run(ctx, observer, pool, watch, move |o| {
                let _ = oracle_sender.send(
                    Recipients::All,
                    Bytes::from(oracle::encode_observation(o)),
                    false,
                );
            })
        });
    }
    {
        let pool = observations.clone();
        let validators = validators.clone();
        context.child("oracle_in").spawn(move |_| async move {
            while let Ok((_peer, msg)) = oracle_receiver.recv().await {
                let Ok(o) = oracle::decode_observation(msg.as_ref()) else { continue };
                if !o.verify(chain_id, &validators) {
                    debug!(validator = o.validator, "observation with a bad signature dropped");
                    continue;
                }
                pool.lock().unwrap_or_else(|e| e.into_inner()).insert(o);
            }
        });
    }

    // The application and consensus.
    let app = crate::app::App::new(
        executor_mailbox.clone(),
        mempool.clone(),
        observations.clone(),
        chain_id,
        strategy.clone(),
    )
    .with_min_interval(config.timing.min_block_interval);
    let app = match progress {
        Some(p) => app.with_progress(p),
        None => app,
    };
    let wrapper = Inline::new(
        context.child("inline"),
        app,
        marshal_mailbox.clone(),
        FixedEpocher::new(NZU64!(u64::MAX)),
    );
    let t = config.timing;
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: wrapper.clone(),
            relay: wrapper.clone(),
            reporter: wrapper,
            strategy,
            partition: format!("{prefix}-simplex"),
            mailbox_size,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: NZUsize!(1 << 20),
            write_buffer: NZUsize!(1 << 16),
            page_cache,
            leader_timeout: t.leader_timeout,
            certification_timeout: t.certification_timeout,
            timeout_retry: t.timeout_retry,
            view_retention: ViewDelta::new(10),
            skip: simplex::SkipPolicy::Enabled {
                timeout: t.skip_timeout,
                budget: simplex::SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: simplex::ForwardPolicy::SilentVoters,
            track_historical_votes: false,
        },
    );
    engine.start(channels.vote, channels.cert, channels.resolver);
    info!(prefix = %prefix, committed, "validator started");
    Ok(NodeHandle {
        executor: executor_mailbox,
        mempool,
        shared,
        genesis_digest,
        observations,
        gossip: gossip_tx,
        chain_id,
    })
}

/// The tx encoding as bytes (for gossip and RPC clients).
pub fn encode_tx(tx: &SignedTx) -> Vec<u8> {
    tx.encode().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_bundles_round_trip_and_refuse_malformed_input() {
        let txs =
            vec![Bytes::from_static(b"one"), Bytes::from_static(b""), Bytes::from(vec![7u8; 300])];
        let bundle = encode_bundle(&txs);
        let decoded = decode_bundle(&bundle).expect("decodes");
        assert_eq!(decoded, txs.iter().map(|t| t.as_ref()).collect::<Vec<_>>());
        assert_eq!(decode_bundle(&[]), Some(Vec::new()));
        // Truncated length prefix, truncated body.
        assert_eq!(decode_bundle(&bundle[..2]), None);
        assert_eq!(decode_bundle(&bundle[..bundle.len() - 1]), None);
        // A transaction longer than MAX_TX_BYTES.
        let long = Bytes::from(vec![0u8; MAX_TX_BYTES + 1]);
        assert_eq!(decode_bundle(&encode_bundle(&[long])), None);
        // More than GOSSIP_BATCH_MAX transactions.
        let many = vec![Bytes::from_static(b"x"); GOSSIP_BATCH_MAX + 1];
        assert_eq!(decode_bundle(&encode_bundle(&many)), None);
        assert!(decode_bundle(&encode_bundle(&many[1..])).is_some());
    }
}
