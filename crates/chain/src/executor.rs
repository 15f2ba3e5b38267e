//! The executor: the one task that owns the chain state, the state database and the
//! speculative states of not-yet-finalized blocks.
//!
//! Consensus asks it (through [`ExecutorMailbox`]) to build a block on a parent, to verify a
//! block by re-executing it, and, when marshal delivers a finalized block, to make that block's
//! state durable. Everything that touches state runs in this one task, one message at a time, so
//! execution order is the message order and no lock is held across an await.
//!
//! * **Speculative states.** Proposals build on parents that are only notarized. For each block
//!   it executed, the executor keeps the resulting [`ChainState`] and its qmdb batch (a child of
//!   the parent's batch) keyed by **block digest**, so forks and re-verification after a restart
//!   are handled by looking the digest up: verification is a pure function of (parent state,
//!   block) and answering twice gives the same verdict. At most [`PENDING_MAX`] are kept.
//! * **Finalization** (at least once, in height order): a block at or below the committed height
//!   is acknowledged and skipped; the next one has its batch applied and committed with its height
//!   as commit metadata (atomic with the state) and only then is marshal's acknowledgement
//!   released. Speculative states that do not descend from it are dropped.
//! * **Restart.** The database's committed height `H` is read back, and the engine state is
//!   rebuilt by re-executing the finalized blocks `1..=H` from marshal's archive, checking that
//!   the rebuilt state matches the committed root (see [`Executor::recover`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use commonware_consensus::marshal::Update;
use commonware_cryptography::{sha256::Digest, Digested, Digestible};
use commonware_runtime::telemetry::metrics::{Gauge, Histogram, MetricsExt as _};
use commonware_storage::qmdb::floor::Proportional;
use commonware_utils::{acknowledgement::Exact, Acknowledgement as _};
use futures::channel::{mpsc, oneshot};
use futures::StreamExt as _;
use novation_engine::MarketId;
use novation_types::PriceTicks;
use tracing::{debug, error, info, warn};

use crate::block::{Block, MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
use crate::commit::{self, Batch, Key, StateDb};
use crate::genesis::Genesis;
use crate::mempool::{Mempool, ProposeLimits, Proposed};
use crate::oracle::SignedObservation;
use crate::published::BlockSink;
use crate::state::{ChainState, TxOutcome};
use crate::tx::SignedTx;
use crate::values;

/// Most speculative (executed, not yet finalized) states kept.
pub const PENDING_MAX: usize = 64;
/// Most transaction results kept for queries.
pub const RESULTS_MAX: usize = 200_000;

/// The fate of a submitted transaction, as the node knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// In this node's mempool.
    Pending,
    /// In a finalized block.
    Finalized { height: u64, outcome: TxOutcome },
    /// Dropped from the mempool without being included. `code`: the refusal code when the
    /// block builder left it out for the replay rules ([`crate::auth::AuthError::code`]);
    /// `None` for an expiry or an eviction.
    Dropped { reason: String, code: Option<u16> },
}

/// Results of finalized and dropped transactions, bounded (oldest forgotten first). The map is
/// only looked up (never iterated), so it is a hash table.
#[derive(Debug, Default)]
pub struct Results {
    map: std::collections::HashMap<[u8; 32], TxStatus>,
    order: VecDeque<[u8; 32]>,
}

impl Results {
    /// Records a status.
    pub fn record(&mut self, hash: [u8; 32], status: TxStatus) {
        if self.map.insert(hash, status).is_none() {
            self.order.push_back(hash);
            while self.order.len() > RESULTS_MAX {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    /// The recorded status of a transaction.
    pub fn get(&self, hash: &[u8; 32]) -> Option<TxStatus> {
        self.map.get(hash).cloned()
    }
}

/// What the node publishes after each finalized block.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Last finalized (and committed) height.
    pub height: u64,
    /// Its digest.
    pub digest: Option<Digest>,
    /// Its state root.
    pub state_root: Option<Digest>,
    /// Its time.
    pub time_ms: u64,
    /// Transactions in it.
    pub txs: usize,
    /// The newest finalized height marshal has reported (may run ahead of `height`).
    pub finalized_tip: u64,
    /// Speculative states held.
    pub pending: usize,
}

/// State shared with the RPC and the metrics (read-mostly).
#[derive(Debug, Default)]
pub struct Shared {
    /// Status after the last finalized block.
    pub status: Mutex<Status>,
    /// Transaction results.
    pub results: Mutex<Results>,
    /// The last [`HISTORY_MAX`] finalized blocks: (height, digest, state root).
    pub history: Mutex<VecDeque<(u64, Digest, Digest)>>,
    /// Where the executor's time goes (wall clock; measurement only, never state).
    pub timings: Mutex<Timings>,
    /// Receive every finalized block's published view (see [`crate::published`]).
    pub sinks: Mutex<Vec<SinkSlot>>,
}

/// Most block sinks one node feeds.
pub const SINKS_MAX: usize = 8;

/// An installed [`BlockSink`].
#[derive(Clone)]
pub struct SinkSlot(pub BlockSink);

impl std::fmt::Debug for SinkSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlockSink")
    }
}

impl Shared {
    /// Adds a receiver of finalized blocks (at most [`SINKS_MAX`]; false if full).
    pub fn add_sink(&self, sink: BlockSink) -> bool {
        match self.sinks.lock() {
            Ok(mut sinks) if sinks.len() < SINKS_MAX => {
                sinks.push(SinkSlot(sink));
                true
            }
            _ => false,
        }
    }
}

/// The node's Prometheus metrics (registered in the runtime's registry, served at `/metrics`).
#[derive(Clone)]
pub struct NodeMetrics {
    height: Gauge,
    finalized_tip: Gauge,
    block_interval_ms: Histogram,
    txs_per_block: Histogram,
    mempool_txs: Gauge,
    execute_ms: Histogram,
    finalization_latency_ms: Histogram,
    now_ms: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for NodeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeMetrics")
    }
}

impl NodeMetrics {
    /// Registers the metrics under `context`; `now_ms` reads the local clock (for finalization
    /// latency only: metrics never feed back into state).
    pub fn new(
        context: &impl commonware_runtime::Metrics,
        now_ms: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Self {
        let ms = [5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1_000.0, 2_000.0, 5_000.0];
        NodeMetrics {
            height: context.gauge("height", "Height of the last finalized and committed block"),
            finalized_tip: context
                .gauge("finalized_tip", "Newest finalized height reported by marshal"),
            block_interval_ms: context.histogram(
                "block_interval_ms",
                "Block time minus its parent's",
                ms,
            ),
            txs_per_block: context.histogram(
                "txs_per_block",
                "Transactions per finalized block",
                [0.0, 1.0, 10.0, 100.0, 1_000.0, 5_000.0, 10_000.0, 16_384.0],
            ),
            mempool_txs: context.gauge("mempool_txs", "Transactions in the mempool"),
            execute_ms: context.histogram(
                "execute_ms",
                "Executing a block (copy, auth, engine, commitment)",
                ms,
            ),
            finalization_latency_ms: context.histogram(
                "finalization_latency_ms",
                "Local time of commit minus the block's time",
                ms,
            ),
            now_ms,
        }
    }
}

/// Cumulative executor timings, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Blocks executed (proposed or verified).
    pub blocks: u64,
    /// Transactions in them.
    pub txs: u64,
    /// Copying the parent state and executing (auth + engine).
    pub execute_ns: u64,
    /// Collecting the writes and merkleizing them (the state commitment).
    pub commit_ns: u64,
    /// Applying and durably committing finalized batches.
    pub finalize_ns: u64,
    /// The durable commit (fsync) alone, part of `finalize_ns`.
    pub sync_ns: u64,
    /// CPU time of `execute_ns`'s work (this task's polls only; see [`crate::cpu`]).
    pub execute_cpu_ns: u64,
    /// CPU time of `commit_ns`'s work.
    pub commit_cpu_ns: u64,
    /// CPU time of `finalize_ns`'s work (an fsync's wait is not CPU).
    pub finalize_cpu_ns: u64,
}

/// Finalized blocks remembered in [`Shared::history`].
pub const HISTORY_MAX: usize = 4096;

/// An account as a query returns it: its state, the encoded value, its proof and the root.
#[derive(Debug)]
pub struct AccountProof {
    /// The account's state.
    pub snapshot: novation_engine::AccountSnapshot,
    /// The committed value (canonical encoding of the snapshot).
    pub value: Vec<u8>,
    /// The proof of `value` under `root`.
    pub proof: commit::Proof,
    /// The state root of the block at `height`.
    pub root: Digest,
    /// The finalized height the proof is for.
    pub height: u64,
}

/// One level of an L2 book query.
pub type Level = (PriceTicks, u64);

/// Verdict of a verification request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Re-executed, root matches.
    Valid,
    /// Permanently invalid.
    Invalid,
    /// The parent's state is unknown: catch up first.
    MissingParent,
}

/// Whether the executor holds the state after a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Yes (finalized tip or speculative).
    Yes,
    /// No; the block may still be on the finalized chain's future.
    No,
    /// The block is at or below the finalized height and is not the finalized block.
    Conflicts,
}

enum Message {
    Propose {
        parent: Digested<Block>,
        time_ms: u64,
        observations: Vec<SignedObservation>,
        reply: oneshot::Sender<Option<Block>>,
    },
    Verify {
        block: Digested<Block>,
        reply: oneshot::Sender<Verdict>,
    },
    Known {
        digest: Digest,
        height: u64,
        reply: oneshot::Sender<Known>,
    },
    Catchup {
        blocks: Vec<Digested<Block>>,
        reply: oneshot::Sender<bool>,
    },
    Finalized(Update<Block, Exact>),
    Account {
        owner: novation_types::Address,
        sub: u16,
        reply: oneshot::Sender<Option<AccountProof>>,
    },
    Book {
        market: MarketId,
        depth: usize,
        reply: oneshot::Sender<Option<(Vec<Level>, Vec<Level>)>>,
    },
    /// Runs a read-only closure on the finalized state (it replies through its own channel).
    Query(Box<dyn FnOnce(&ChainState) + Send>),
}

/// The handle other tasks use to talk to the executor.
#[derive(Clone, Debug)]
pub struct ExecutorMailbox {
    sender: mpsc::UnboundedSender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

impl ExecutorMailbox {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Message) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.sender.unbounded_send(make(tx)).ok()?;
        rx.await.ok()
    }

    /// Builds a block on `parent` from the mempool's proposal (in priority order, skipping the
    /// transactions of `parent`'s not yet finalized ancestors; those the replay rules would
    /// refuse are left out and reported as dropped, those refused after them go in, refused
    /// and final) and the validators' `observations` (those the chain
    /// may include now: newer than the parent state's, not in the future).
    pub async fn propose(
        &self,
        parent: Digested<Block>,
        time_ms: u64,
        observations: Vec<SignedObservation>,
    ) -> Option<Block> {
        self.ask(|reply| Message::Propose { parent, time_ms, observations, reply }).await.flatten()
    }

    /// Re-executes `block` on its parent's state and compares roots.
    pub async fn verify(&self, block: Digested<Block>) -> Verdict {
        self.ask(|reply| Message::Verify { block, reply }).await.unwrap_or(Verdict::MissingParent)
    }

    /// Whether the state after block `digest` (at `height`) is held.
    pub async fn known(&self, digest: Digest, height: u64) -> Known {
        self.ask(|reply| Message::Known { digest, height, reply }).await.unwrap_or(Known::No)
    }

    /// Executes `blocks` (oldest first, the first one's parent known) as speculative states.
    pub async fn catchup(&self, blocks: Vec<Digested<Block>>) -> bool {
        self.ask(|reply| Message::Catchup { blocks, reply }).await.unwrap_or(false)
    }

    /// An account with its proof against the last finalized root.
    pub async fn account(&self, owner: novation_types::Address, sub: u16) -> Option<AccountProof> {
        self.ask(|reply| Message::Account { owner, sub, reply }).await.flatten()
    }

    /// The top `depth` levels of a market's book (bids, asks) at the last finalized block.
    /// Runs `f` on the finalized state and returns its result (`None` if the executor stopped).
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ChainState) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(move |state: &ChainState| {
            let _ = reply.send(f(state));
        });
        self.sender.unbounded_send(Message::Query(job)).ok()?;
        rx.await.ok()
    }

    pub async fn book(&self, market: MarketId, depth: usize) -> Option<(Vec<Level>, Vec<Level>)> {
        self.ask(|reply| Message::Book { market, depth, reply }).await.flatten()
    }

    /// Forwards a marshal update (the finalized-block reporter calls this).
    pub fn finalized(&self, update: Update<Block, Exact>) {
        let _ = self.sender.unbounded_send(Message::Finalized(update));
    }
}

/// marshal's reporter: forwards finalized blocks to the executor.
#[derive(Clone, Debug)]
pub struct FinalizedReporter {
    mailbox: ExecutorMailbox,
}

impl FinalizedReporter {
    /// A reporter feeding `mailbox`.
    pub fn new(mailbox: ExecutorMailbox) -> Self {
        FinalizedReporter { mailbox }
    }
}

impl commonware_consensus::Reporter for FinalizedReporter {
    type Activity = Update<Block, Exact>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        self.mailbox.finalized(activity);
        commonware_actor::Feedback::Ok
    }
}

/// Why a block could not be executed speculatively.
enum Failure {
    /// The block itself is at fault (it cannot be executed).
    Invalid(String),
    /// Local trouble (storage, a vanished parent): not the block's fault.
    Storage(String),
}

impl Failure {
    fn reason(&self) -> &str {
        match self {
            Failure::Invalid(r) | Failure::Storage(r) => r,
        }
    }
}

/// CPU time of one speculative execution, nanoseconds.
#[derive(Clone, Copy)]
struct Cpu {
    execute: u64,
    commit: u64,
}

struct Speculative {
    height: u64,
    parent: Digest,
    state: ChainState,
    batch: Batch,
    root: Digest,
    outcomes: Vec<TxOutcome>,
    events: Vec<novation_engine::Event>,
    hashes: Vec<[u8; 32]>,
}

/// The executor task's state.
pub struct Executor<E: commonware_storage::Context + commonware_runtime::Spawner> {
    db: Option<StateDb<E>>,
    finalized: ChainState,
    finalized_digest: Digest,
    finalized_root: Digest,
    pending: BTreeMap<Digest, Speculative>,
    mempool: Arc<Mutex<Mempool<SignedTx>>>,
    shared: Arc<Shared>,
    receiver: mpsc::UnboundedReceiver<Message>,
    failed: bool,
    metrics: Option<NodeMetrics>,
}

impl<E: commonware_storage::Context + commonware_runtime::Spawner> std::fmt::Debug for Executor<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("height", &self.finalized.height)
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// Why the executor could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("genesis: {0}")]
    Genesis(#[from] crate::genesis::GenesisError),
    #[error("state database: {0}")]
    Db(String),
    #[error("recovery: {0}")]
    Recovery(String),
}

/// Opens the state database and computes the genesis block; returns the database, the genesis
/// block and the committed height (0 for a fresh database, which gets the genesis state
/// committed).
///
/// The genesis block carries the genesis state's root. It is computed on a scratch database
/// (same operations on an empty database give the same root on every node), so a restarted node
/// whose database has moved past genesis derives the identical genesis block.
pub async fn open_state<E: commonware_storage::Context + commonware_runtime::Spawner>(
    context: E,
    prefix: &str,
    genesis: &Genesis,
) -> Result<(StateDb<E>, Block, u64), StartError> {
    let db_err = |e: commonware_storage::qmdb::Error<commonware_storage::mmr::Family>| {
        StartError::Db(format!("{e:?}"))
    };
    let mut state = ChainState::genesis(genesis)?;
    let writes = values::collect_writes(&mut state);
    let scratch = StateDb::init(
        context.child("genesis_scratch"),
        commit::config(&format!("{prefix}-genesis-scratch")),
        None,
    )
    .await
    .map_err(db_err)?;
    let root = stage(&scratch, None, writes.clone(), 0).await?.root();
    scratch.destroy().await.map_err(db_err)?;
    let genesis_block = Block::genesis(genesis, root);

    let db = StateDb::init(context.child("state"), commit::config(prefix), None)
        .await
        .map_err(db_err)?;
    let metadata = db.get_metadata().await.map_err(db_err)?;
    match metadata {
        None => {
            let batch = stage(&db, None, writes, 0).await?;
            if batch.root() != root {
                return Err(StartError::Db("genesis root differs from the scratch root".into()));
            }
            let db = db.apply_batch(batch).await.map_err(db_err)?;
            let db = db.commit().await.map_err(db_err)?;
            Ok((db, genesis_block, 0))
        }
        Some(m) => {
            let height = decode_height(&m)
                .ok_or_else(|| StartError::Db("unreadable commit metadata".into()))?;
            Ok((db, genesis_block, height))
        }
    }
}

fn decode_height(m: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = m.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Stages `writes` on the database (or on `parent`'s batch) and merkleizes them.
async fn stage<E: commonware_storage::Context + commonware_runtime::Spawner>(
    db: &StateDb<E>,
    parent: Option<&Batch>,
    writes: Vec<(Key, Option<Vec<u8>>)>,
    height: u64,
) -> Result<Batch, StartError> {
    let mut batch = match parent {
        None => db.new_batch(),
        Some(p) => p.new_batch::<commonware_cryptography::Sha256>(),
    };
    for (k, v) in writes {
        batch = batch.write(k, v);
    }
    batch
        .merkleize(db, Some(commit::commit_metadata(height)), &mut Proportional)
        .await
        .map_err(|e| StartError::Db(format!("{e:?}")))
}

/// Stages `writes` on the committed database, applies and commits them; returns the database
/// and its new root.
pub async fn commit_writes<E: commonware_storage::Context + commonware_runtime::Spawner>(
    db: StateDb<E>,
    writes: Vec<(Key, Option<Vec<u8>>)>,
    height: u64,
) -> Result<(StateDb<E>, Digest), StartError> {
    let batch = stage(&db, None, writes, height).await?;
    let db = db.apply_batch(batch).await.map_err(|e| StartError::Db(format!("{e:?}")))?;
    let db = db.commit().await.map_err(|e| StartError::Db(format!("{e:?}")))?;
    let root = db.root();
    Ok((db, root))
}

impl<E: commonware_storage::Context + commonware_runtime::Spawner> Executor<E> {
    /// An executor over `db` whose committed state is the genesis block's or, after a restart,
    /// the one [`Executor::recover`] rebuilds.
    pub fn new(
        db: StateDb<E>,
        genesis: Arc<Genesis>,
        genesis_block: &Block,
        mempool: Arc<Mutex<Mempool<SignedTx>>>,
        shared: Arc<Shared>,
    ) -> Result<(Executor<E>, ExecutorMailbox), StartError> {
        let (sender, receiver) = mpsc::unbounded();
        let finalized = ChainState::genesis_committed(&genesis)?;
        let digest = genesis_block.digest();
        let executor = Executor {
            db: Some(db),
            finalized,
            finalized_digest: digest,
            finalized_root: genesis_block.state_root,
            pending: BTreeMap::new(),
            mempool,
            shared,
            receiver,
            failed: false,
            metrics: None,
        };
        executor.publish(0);
        Ok((executor, ExecutorMailbox { sender }))
    }

    /// Rebuilds the engine state after a restart by re-executing the finalized blocks
    /// `1..=committed` (fetched with `fetch`), and checks the last one's root is the database's.
    pub async fn recover<F, Fut>(&mut self, committed: u64, mut fetch: F) -> Result<(), StartError>
    where
        F: FnMut(u64) -> Fut,
        Fut: std::future::Future<Output = Option<Block>>,
    {
        for h in 1..=committed {
            let block = fetch(h)
                .await
                .ok_or_else(|| StartError::Recovery(format!("finalized block {h} is missing")))?;
            let digest = block.digest();
            if block.parent != self.finalized_digest {
                return Err(StartError::Recovery(format!(
                    "block {h} does not extend block {}",
                    h - 1
                )));
            }
            self.finalized
                .execute(&block)
                .map_err(|e| StartError::Recovery(format!("block {h}: {e}")))?;
            // The database already holds these writes; only the dirty lists need clearing.
            let _ = values::collect_writes(&mut self.finalized);
            self.finalized_digest = digest;
            self.finalized_root = block.state_root;
        }
        let db_root = self.db.as_ref().map(|d| d.root());
        if db_root != Some(self.finalized_root) {
            return Err(StartError::Recovery(format!(
                "replayed to height {committed} but the database root {db_root:?} differs from the block's {}",
                self.finalized_root
            )));
        }
        info!(height = committed, "state recovered by replaying finalized blocks");
        self.publish(0);
        Ok(())
    }

    /// Reports into `metrics` from now on.
    pub fn with_metrics(mut self, metrics: NodeMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The finalized state (for tests and tools).
    pub fn state(&self) -> &ChainState {
        &self.finalized
    }

    /// Serves messages until every mailbox is dropped (or a fatal storage error).
    pub async fn run(mut self) {
        while let Some(message) = self.receiver.next().await {
            if self.failed {
                // After a storage failure the node must not ack or vote; it waits to be stopped.
                continue;
            }
            self.handle(message).await;
        }
    }

    async fn handle(&mut self, message: Message) {
        match message {
            Message::Propose { parent, time_ms, observations, reply } => {
                let block = self.propose(parent, time_ms, observations).await;
                let _ = reply.send(block);
            }
            Message::Verify { block, reply } => {
                let verdict = self.verify(&block).await;
                let _ = reply.send(verdict);
            }
            Message::Known { digest, height, reply } => {
                let _ = reply.send(self.known(digest, height));
            }
            Message::Catchup { blocks, reply } => {
                let mut ok = true;
                for b in &blocks {
                    if self.verify(b).await != Verdict::Valid {
                        ok = false;
                        break;
                    }
                }
                let _ = reply.send(ok);
            }
            Message::Finalized(update) => self.finalize(update).await,
            Message::Account { owner, sub, reply } => {
                let _ = reply.send(self.account(owner, sub).await);
            }
            Message::Book { market, depth, reply } => {
                let _ = reply.send(values::book_levels(&self.finalized.engine, market, depth));
            }
            Message::Query(f) => f(&self.finalized),
        }
    }

    fn known(&self, digest: Digest, height: u64) -> Known {
        if digest == self.finalized_digest || self.pending.contains_key(&digest) {
            Known::Yes
        } else if height <= self.finalized.height {
            Known::Conflicts
        } else {
            Known::No
        }
    }

    /// The state after `parent`, and its batch (None: the committed state).
    fn parent_state(&self, parent: &Digest) -> Option<(&ChainState, Option<&Batch>)> {
        if *parent == self.finalized_digest {
            return Some((&self.finalized, None));
        }
        self.pending.get(parent).map(|s| (&s.state, Some(&s.batch)))
    }

    async fn propose(
        &mut self,
        parent: Digested<Block>,
        time_ms: u64,
        observations: Vec<SignedObservation>,
    ) -> Option<Block> {
        let parent_digest = parent.digest();
        let (base, _) = self.parent_state(&parent_digest)?;
        let height = parent.inner().height + 1;
        let time_ms = time_ms.max(parent.inner().time_ms + 1);
        // Keep the candidates that pass replay protection, in order (a scratch copy of the auth
        // state sees the earlier candidates' nonces); those refused after it are kept as well.
        // Transactions already in the parent's not-yet-finalized ancestors are not proposed again.
        let mut in_flight = std::collections::BTreeSet::new();
        let mut cursor = parent_digest;
        while let Some(p) = self.pending.get(&cursor) {
            in_flight.extend(p.hashes.iter().copied());
            cursor = p.parent;
        }
        let limits = ProposeLimits { txs_max: MAX_BLOCK_TXS, bytes_max: MAX_BLOCK_BYTES };
        let candidates = {
            let pool = self.mempool.lock().unwrap_or_else(|e| e.into_inner());
            pool.propose_detailed(limits, |h| in_flight.contains(h))
        };
        let mut scratch = base.auth.clone();
        let faucet = base.faucet;
        let mut txs = Vec::with_capacity(candidates.len());
        let mut dropped = Vec::new();
        let mut bytes = 0usize;
        let mut actions = 0usize;
        let action_limit = base.engine.params().actions_per_block_max as usize;
        for Proposed { hash, size, tx } in candidates {
            let n = tx.body.actions.len();
            if txs.len() >= MAX_BLOCK_TXS
                || bytes + size > MAX_BLOCK_BYTES
                || actions + n > action_limit
            {
                break;
            }
            match crate::state::admit(&mut scratch, faucet, &tx, time_ms) {
                // A refused one goes in too: its nonce is consumed, so its refusal is final on
                // every validator (left out, another proposer could include it later).
                Ok(()) => {
                    bytes += size;
                    actions += n;
                    txs.push(tx);
                }
                Err((code, reason)) => dropped.push((hash, code, reason)),
            }
        }
        drop(scratch);
        self.drop_from_mempool(dropped);
        let horizon = time_ms.saturating_add(base.oracle.params().max_future_ms);
        let mut observations: Vec<SignedObservation> = observations
            .into_iter()
            .filter(|o| {
                o.observation.time_ms <= horizon
                    && base.oracle.admissible(o.validator, &o.observation).is_ok()
            })
            .collect();
        observations.sort_by_key(|o| o.validator);
        observations.dedup_by_key(|o| o.validator);
        let mut block = Block {
            parent: parent_digest,
            height,
            time_ms,
            observations,
            txs,
            state_root: Digest::from([0u8; 32]),
        };
        let speculative = match self.speculate(&block).await {
            Ok(s) => s,
            Err(e) => {
                warn!(height, error = %e.reason(), "own proposal failed");
                return None;
            }
        };
        block.state_root = speculative.root;
        self.insert_pending(block.digest(), speculative);
        debug!(height, txs = block.txs.len(), "proposed");
        Some(block)
    }

    async fn verify(&mut self, block: &Digested<Block>) -> Verdict {
        let digest = block.digest();
        let b = block.inner();
        match self.known(digest, b.height) {
            Known::Yes => return Verdict::Valid,
            Known::Conflicts => return Verdict::Invalid,
            Known::No => {}
        }
        let Some((parent_state, _)) = self.parent_state(&b.parent) else {
            return Verdict::MissingParent;
        };
        if b.height != parent_state.height + 1 || b.time_ms <= parent_state.time_ms {
            return Verdict::Invalid;
        }
        let speculative = match self.speculate(b).await {
            Ok(s) => s,
            Err(Failure::Invalid(e)) => {
                warn!(height = b.height, error = %e, "block failed to execute");
                return Verdict::Invalid;
            }
            Err(Failure::Storage(e)) => {
                warn!(height = b.height, error = %e, "staging a block failed");
                return Verdict::MissingParent;
            }
        };
        if speculative.root != b.state_root {
            warn!(height = b.height, "state root mismatch: block is invalid");
            return Verdict::Invalid;
        }
        self.insert_pending(digest, speculative);
        Verdict::Valid
    }

    /// Executes `block` on a copy of its parent's state and stages its writes on the parent's
    /// batch: the speculative state after `block`, whose root is the batch's (the caller compares
    /// it with the block's or writes it into its proposal).
    async fn speculate(&self, block: &Block) -> Result<Speculative, Failure> {
        let started = std::time::Instant::now();
        let cpu_started = crate::cpu::thread_ns();
        let (parent_state, batch_parent) = self
            .parent_state(&block.parent)
            .ok_or_else(|| Failure::Storage("parent state unknown".into()))?;
        let mut state = parent_state.clone();
        let batch_parent = batch_parent.cloned();
        let executed = state.execute(block).map_err(|e| Failure::Invalid(e.to_string()))?;
        let executed_at = std::time::Instant::now();
        let cpu_executed = crate::cpu::thread_ns();
        let writes = values::collect_writes(&mut state);
        // Synchronous so far: one thread's clock. Staging awaits, so it is charged per poll.
        let mut commit_cpu = crate::cpu::thread_ns().saturating_sub(cpu_executed);
        let db = self.db.as_ref().ok_or_else(|| Failure::Storage("no database".into()))?;
        let batch = crate::cpu::timed(
            stage(db, batch_parent.as_ref(), writes, block.height),
            &mut commit_cpu,
        )
        .await
        .map_err(|e| Failure::Storage(e.to_string()))?;
        let cpu = Cpu { execute: cpu_executed.saturating_sub(cpu_started), commit: commit_cpu };
        self.time(started, executed_at, cpu, block.txs.len());
        Ok(Speculative {
            height: block.height,
            parent: block.parent,
            state,
            root: batch.root(),
            batch,
            outcomes: executed.outcomes,
            events: executed.events,
            hashes: block.txs.iter().map(SignedTx::hash_bytes).collect(),
        })
    }

    fn time(
        &self,
        started: std::time::Instant,
        executed_at: std::time::Instant,
        cpu: Cpu,
        txs: usize,
    ) {
        if let Some(m) = &self.metrics {
            m.execute_ms.observe(started.elapsed().as_secs_f64() * 1e3);
        }
        if let Ok(mut t) = self.shared.timings.lock() {
            t.blocks += 1;
            t.txs += txs as u64;
            t.execute_ns += executed_at.duration_since(started).as_nanos() as u64;
            t.commit_ns += executed_at.elapsed().as_nanos() as u64;
            t.execute_cpu_ns += cpu.execute;
            t.commit_cpu_ns += cpu.commit;
        }
    }

    fn insert_pending(&mut self, digest: Digest, s: Speculative) {
        if self.pending.len() >= PENDING_MAX {
            // Forget the furthest-ahead state; it is re-executed if it is needed again.
            if let Some(far) = self.pending.iter().max_by_key(|(_, p)| p.height).map(|(d, _)| *d) {
                self.pending.remove(&far);
            }
        }
        self.pending.insert(digest, s);
    }

    async fn finalize(&mut self, update: Update<Block, Exact>) {
        let (block, ack) = match update {
            Update::Tip(_, height, _) => {
                if let Ok(mut s) = self.shared.status.lock() {
                    s.finalized_tip = s.finalized_tip.max(height.get());
                }
                if let Some(m) = &self.metrics {
                    m.finalized_tip.set(height.get() as i64);
                }
                return;
            }
            Update::Block(block, ack) => (block, ack),
        };
        let digest = block.digest();
        let b = block.inner();
        if b.height <= self.finalized.height {
            if b.height == self.finalized.height && digest != self.finalized_digest {
                error!(height = b.height, "finalized block differs from the committed one");
                self.failed = true;
                return;
            }
            ack.acknowledge();
            return;
        }
        if b.height != self.finalized.height + 1 || b.parent != self.finalized_digest {
            error!(height = b.height, "finalized block does not extend the committed state");
            self.failed = true;
            return;
        }
        let speculative = match self.pending.remove(&digest) {
            Some(s) => s,
            None => {
                // Not verified here (caught up from peers): execute it now.
                if self.verify(&block).await != Verdict::Valid {
                    error!(height = b.height, "finalized block does not re-execute to its root");
                    self.failed = true;
                    return;
                }
                match self.pending.remove(&digest) {
                    Some(s) => s,
                    None => {
                        self.failed = true;
                        return;
                    }
                }
            }
        };
        let finalize_started = std::time::Instant::now();
        let Some(db) = self.db.take() else {
            self.failed = true;
            return;
        };
        let mut finalize_cpu = 0u64;
        let applied =
            crate::cpu::timed(db.apply_batch(speculative.batch.clone()), &mut finalize_cpu).await;
        let db = match applied {
            Ok(db) => db,
            Err(e) => {
                error!(height = b.height, error = ?e, "applying the finalized batch failed");
                self.failed = true;
                return;
            }
        };
        let sync_started = std::time::Instant::now();
        let db = match crate::cpu::timed(db.commit(), &mut finalize_cpu).await {
            Ok(db) => db,
            Err(e) => {
                error!(height = b.height, error = ?e, "committing the state failed");
                self.failed = true;
                return;
            }
        };
        debug_assert_eq!(db.root(), speculative.root);
        self.db = Some(db);
        if let Ok(mut t) = self.shared.timings.lock() {
            t.finalize_ns += finalize_started.elapsed().as_nanos() as u64;
            t.sync_ns += sync_started.elapsed().as_nanos() as u64;
            t.finalize_cpu_ns += finalize_cpu;
        }
        if let Some(m) = &self.metrics {
            m.height.set(b.height as i64);
            m.block_interval_ms.observe(b.time_ms.saturating_sub(self.finalized.time_ms) as f64);
            m.txs_per_block.observe(b.txs.len() as f64);
            m.finalization_latency_ms.observe((m.now_ms)().saturating_sub(b.time_ms) as f64);
            if let Ok(pool) = self.mempool.lock() {
                m.mempool_txs.set(pool.len() as i64);
            }
        }
        self.finalized = speculative.state;
        self.finalized_digest = digest;
        self.finalized_root = speculative.root;
        // Keep only the speculative states that descend from the finalized block.
        let mut keep: Vec<Digest> = vec![digest];
        let mut by_height: Vec<(u64, Digest, Digest)> =
            self.pending.iter().map(|(d, s)| (s.height, *d, s.parent)).collect();
        by_height.sort();
        for (h, d, parent) in by_height {
            if h > b.height && keep.contains(&parent) {
                keep.push(d);
            } else {
                self.pending.remove(&d);
            }
        }
        // Tell the mempool and the result store.
        let expired = match self.mempool.lock() {
            Ok(mut pool) => {
                pool.remove_included(speculative.hashes.iter().copied());
                pool.expire(b.time_ms)
            }
            Err(_) => Vec::new(),
        };
        let sinks = self.shared.sinks.lock().map(|s| s.clone()).unwrap_or_default();
        if !sinks.is_empty() {
            let view = Arc::new(crate::published::view(
                &self.finalized,
                b,
                digest,
                speculative.root,
                &speculative.outcomes,
                speculative.events,
            ));
            for SinkSlot(sink) in sinks {
                sink(view.clone());
            }
        }
        if let Ok(mut results) = self.shared.results.lock() {
            for (hash, outcome) in speculative.hashes.iter().zip(speculative.outcomes) {
                results.record(*hash, TxStatus::Finalized { height: b.height, outcome });
            }
            for hash in expired {
                let reason = crate::mempool::DropReason::Expired.reason().to_string();
                results.record(hash, TxStatus::Dropped { reason, code: None });
            }
        }
        self.publish(b.txs.len());
        if b.height % 50 == 0 {
            info!(height = b.height, txs = b.txs.len(), root = %speculative.root, "finalized");
        } else {
            debug!(height = b.height, txs = b.txs.len(), "finalized");
        }
        ack.acknowledge();
    }

    fn drop_from_mempool(&self, dropped: Vec<([u8; 32], u16, String)>) {
        if dropped.is_empty() {
            return;
        }
        if let Ok(mut pool) = self.mempool.lock() {
            for (hash, _, _) in &dropped {
                pool.remove(hash);
            }
        }
        if let Ok(mut results) = self.shared.results.lock() {
            for (hash, code, reason) in dropped {
                results.record(hash, TxStatus::Dropped { reason, code: Some(code) });
            }
        }
    }

    fn publish(&self, txs: usize) {
        if let Ok(mut s) = self.shared.status.lock() {
            s.height = self.finalized.height;
            s.digest = Some(self.finalized_digest);
            s.state_root = Some(self.finalized_root);
            s.time_ms = self.finalized.time_ms;
            s.txs = txs;
            s.finalized_tip = s.finalized_tip.max(self.finalized.height);
            s.pending = self.pending.len();
        }
        if let Ok(mut h) = self.shared.history.lock() {
            if h.back().map(|b| b.0) != Some(self.finalized.height) {
                h.push_back((self.finalized.height, self.finalized_digest, self.finalized_root));
                while h.len() > HISTORY_MAX {
                    h.pop_front();
                }
            }
        }
    }

    async fn account(&self, owner: novation_types::Address, sub: u16) -> Option<AccountProof> {
        let id = self.finalized.engine.account_id(owner, sub)?;
        let snapshot = self.finalized.engine.account_snapshot(id)?;
        let value = values::encode_account(&snapshot);
        let db = self.db.as_ref()?;
        let proof = db.key_value_proof(commit::account_key(owner, sub)).await.ok()?;
        Some(AccountProof {
            snapshot,
            value,
            proof,
            root: self.finalized_root,
            height: self.finalized.height,
        })
    }
}
