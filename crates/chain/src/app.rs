//! The consensus application: what marshal's `Inline` wrapper calls to propose and verify.
//!
//! * **Propose**: take the parent (the first block of the ancestry), make sure the executor
//!   holds its state (catching up along the ancestry if not), pick a time (the local clock, but
//!   always after the parent's), take the mempool's candidates (cancels first) and let the
//!   executor build and execute the block; the block carries the resulting state root.
//! * **Verify**: the block must be after its parent in time and not more than
//!   [`MAX_FUTURE_MS`] ahead of the local clock (if it is, the verdict waits for the clock: a
//!   timestamp is a transient reason, never a `false`); every transaction must pass the stateless
//!   checks and its signature (batch-verified over the cores; transactions this node already
//!   verified at mempool admission are not verified again); then the executor re-executes it on
//!   the parent's state and compares the state root.
//!
//! Both signal the price observer's [`Progress`] (the observer paces itself to the chain: see
//! `observer`, "Pacing"); nothing in the block depends on it.
//!
//! Both are deterministic in the block's contents and the parent state, so a re-verification
//! after a restart gives the same answer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use commonware_consensus::{
    marshal::ancestry::Ancestry, simplex::scheme::ed25519,
    simplex::types::Context as SimplexContext, Application,
};
use commonware_cryptography::{ed25519::PublicKey, sha256::Digest, Digested, Digestible};
use commonware_parallel::Strategy;
use commonware_runtime::Clock;
use futures::StreamExt as _;
use tracing::warn;

use crate::block::{Block, MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
use crate::executor::{ExecutorMailbox, Known, Verdict};
use crate::mempool::{Mempool, PoolTx};
use crate::observer::Progress;
use crate::oracle::ObservationPool;
use crate::tx::{self, ChainId, SignedTx};

/// How far ahead of the local clock a block's time may be before verification waits.
pub const MAX_FUTURE_MS: u64 = 1_000;
/// Most ancestors fetched to rebuild a missing parent state.
pub const CATCHUP_MAX: usize = 256;

impl PoolTx for SignedTx {
    fn hash(&self) -> [u8; 32] {
        self.hash_bytes()
    }
    fn sender(&self) -> [u8; 20] {
        self.signer().0
    }
    fn nonce(&self) -> u64 {
        self.body.nonce
    }
    fn is_cancel(&self) -> bool {
        !self.body.actions.is_empty() && self.body.actions.iter().all(|a| a.is_cancel())
    }
    fn size(&self) -> usize {
        commonware_codec::EncodeSize::encode_size(self)
    }
}

/// The simplex context type.
pub type Ctx = SimplexContext<Digest, PublicKey>;

/// The application handed to marshal's `Inline` wrapper.
#[derive(Clone)]
pub struct App<S: Strategy> {
    executor: ExecutorMailbox,
    mempool: Arc<Mutex<Mempool<SignedTx>>>,
    observations: Arc<Mutex<ObservationPool>>,
    chain_id: ChainId,
    strategy: S,
    min_interval_ms: u64,
    progress: Option<Progress>,
}

impl<S: Strategy> std::fmt::Debug for App<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("chain_id", &self.chain_id).finish()
    }
}

impl<S: Strategy> App<S> {
    /// An application over an executor and a mempool; `strategy` spreads signature checks.
    pub fn new(
        executor: ExecutorMailbox,
        mempool: Arc<Mutex<Mempool<SignedTx>>>,
        observations: Arc<Mutex<ObservationPool>>,
        chain_id: ChainId,
        strategy: S,
    ) -> Self {
        App {
            executor,
            mempool,
            observations,
            chain_id,
            strategy,
            min_interval_ms: 0,
            progress: None,
        }
    }

    /// Sets the least time between a block and its parent (the proposer waits for it).
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval_ms = interval.as_millis() as u64;
        self
    }

    /// Signals `progress` on every block proposed or received to verify (the price observer
    /// paces itself to the chain with it).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    fn advance(&self) {
        if let Some(p) = &self.progress {
            p.advance();
        }
    }

    /// Makes sure the executor holds the state after `first` (walking `ancestry` back to a
    /// known block and executing forward). False if the chain conflicts with the finalized one
    /// or is too long to rebuild.
    async fn ensure_known(
        &self,
        first: Digested<Block>,
        ancestry: &mut (impl Ancestry<Block> + 'static),
    ) -> bool {
        let mut chain = vec![first];
        loop {
            let last = chain.last().map(|b| (b.digest(), b.inner().height));
            let Some((digest, height)) = last else { return false };
            match self.executor.known(digest, height).await {
                Known::Yes => {
                    chain.pop();
                    break;
                }
                Known::Conflicts => return false,
                Known::No => {}
            }
            if chain.len() >= CATCHUP_MAX {
                return false;
            }
            match ancestry.next().await {
                Some(b) => chain.push(b),
                None => return false,
            }
        }
        if chain.is_empty() {
            return true;
        }
        chain.reverse();
        self.executor.catchup(chain).await
    }

    /// Stateless checks and signatures of a block's transactions.
    fn check_txs(&self, block: &Block) -> bool {
        if block.txs.len() > MAX_BLOCK_TXS || block.tx_bytes() > MAX_BLOCK_BYTES {
            return false;
        }
        let mut unverified = Vec::new();
        {
            let pool = self.mempool.lock().unwrap_or_else(|e| e.into_inner());
            for tx in &block.txs {
                if tx::check_stateless(tx, self.chain_id).is_err() {
                    return false;
                }
                if !pool.contains(&tx.hash_bytes()) {
                    unverified.push(tx.clone());
                }
            }
        }
        if unverified.is_empty() {
            return true;
        }
        tx::verify_batch(&unverified, &self.strategy).iter().all(|ok| *ok)
    }
}

fn now_ms(clock: &impl Clock) -> u64 {
    clock.current().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl<E, S> Application<E> for App<S>
where
    E: Clock + Send + Sync + 'static,
    S: Strategy,
{
    type SigningScheme = ed25519::Scheme;
    type Context = Ctx;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, _context): (E, Ctx),
        mut ancestry: impl Ancestry<Block>,
        _input: (),
    ) -> Option<Digested<Block>> {
        let parent = ancestry.next().await?;
        if !self.ensure_known(parent.clone(), &mut ancestry).await {
            return None;
        }
        // Pace the chain: wait until the block interval since the parent has passed, so that
        // transactions arriving meanwhile join this block.
        let due = parent.inner().time_ms + self.min_interval_ms;
        let now = now_ms(&runtime);
        if now < due {
            runtime.sleep(Duration::from_millis(due - now)).await;
        }
        let observations = self.observations.lock().unwrap_or_else(|e| e.into_inner()).snapshot();
        let time_ms = now_ms(&runtime);
        let block = self.executor.propose(parent, time_ms, observations).await?;
        self.advance();
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, _context): (E, Ctx),
        mut ancestry: impl Ancestry<Block>,
    ) -> bool {
        let Some(block) = ancestry.next().await else { return false };
        self.advance();
        let Some(parent) = ancestry.next().await else { return false };
        let b = block.inner();
        if b.time_ms <= parent.inner().time_ms {
            return false;
        }
        // A block from the future waits for the local clock (never a `false`).
        loop {
            let now = now_ms(&runtime);
            if b.time_ms <= now + MAX_FUTURE_MS {
                break;
            }
            runtime.sleep(Duration::from_millis(b.time_ms - now - MAX_FUTURE_MS)).await;
        }
        if !self.check_txs(b) {
            warn!(height = b.height, "block carries an invalid transaction");
            return false;
        }
        if !self.ensure_known(parent, &mut ancestry).await {
            return false;
        }
        match self.executor.verify(block).await {
            Verdict::Valid => true,
            Verdict::Invalid => false,
            // The parent state vanished between the two calls (pruned): treat as not yet
            // decidable rather than invalid.
            Verdict::MissingParent => futures::future::pending().await,
        }
    }
}
