//! Executing a block: replay protection and agent keys, then the engine, then the writes that
//! become the block's state root.
//!
//! [`ChainState::execute`] is a pure function of the state and the block (no clock, no
//! randomness, no I/O): every validator, and `novation verify` replaying from genesis, computes
//! the same outcome. Per transaction, in block order:
//!
//! 1. [`Auth::authorize`](crate::auth::Auth) checks the nonce window and the agent scope; a
//!    refused transaction changes nothing (its outcome says why) and the block stays valid;
//! 2. an authorized transaction's nonce is consumed and its chain actions (agent approvals and
//!    revocations) take effect; its exchange actions join the block's engine batch, sent by the
//!    principal (the signer, or the master an agent acts for).
//!
//! Before the transactions, the block's oracle observations: every signature is checked against
//! the validator set (a bad one makes the block invalid), then `novation_oracle::aggregate`
//! folds them into the oracle state and yields this block's index updates (quorum of stake,
//! stake-weighted median, guards; see that module). Each market whose asset updated gets the new
//! index in its ticks (block 1 seeds every market with its asset's genesis price).
//!
//! The engine then applies the whole batch with the block's time and index prices (cancels and
//! post-only orders first, see the engine's docs), and each action's outcome (done, order id,
//! or a typed rejection) is attributed back to its transaction.

use std::sync::Arc;

use commonware_cryptography::ed25519;
use novation_engine::{Engine, Event, MarketId, Tx as EngineTx};
use novation_oracle::aggregate::{BlockReport, ObservationError, OracleState};
use novation_oracle::history::{IndexHistory, IndexPoint};
use novation_oracle::AssetId;
use novation_types::{Address, OrderId, PriceTicks};

use crate::auth::Auth;
use crate::block::Block;
use crate::genesis::Genesis;
use crate::tx::{ChainId, SignedTx};

/// Index points kept per asset for queries and TWAPs (about 14 minutes of 200 ms blocks).
pub const INDEX_HISTORY_POINTS: usize = 4096;

/// What became of one action of an authorized transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Applied (a chain action, a cancel, a transfer, ...).
    Done,
    /// The order was accepted with this id (its fills and resting follow in the events).
    OrderPlaced { market: MarketId, id: OrderId },
    /// Refused by the engine.
    Rejected { code: u16, reason: String },
}

/// What became of one transaction of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    /// Refused before execution (replay protection, agent scope); nothing changed, except that
    /// a refusal after the replay rules consumed the nonce ([`Auth::settle`]).
    Refused { code: u16, reason: String },
    /// Authorized and executed; one outcome per action.
    Executed { actions: Vec<ActionOutcome> },
}

/// Why a block cannot be executed at all (the block is invalid).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error("engine refused the block: {0}")]
    Engine(novation_engine::BlockError),
    #[error("block height {got} does not follow {last}")]
    Height { last: u64, got: u64 },
    #[error("observation of validator {0} has a bad signature")]
    ObservationSignature(u16),
    #[error("oracle: {0}")]
    Oracle(ObservationError),
}

/// Everything one block's execution produced.
#[derive(Clone, Debug, Default)]
pub struct Executed {
    /// The engine's events, in execution order.
    pub events: Vec<Event>,
    /// One outcome per transaction, in block order.
    pub outcomes: Vec<TxOutcome>,
    /// What the oracle step did.
    pub oracle: BlockReport,
}

/// What every block's execution needs from genesis and never changes.
#[derive(Debug)]
pub struct Constants {
    /// The chain id (observation signatures are bound to it).
    pub chain_id: ChainId,
    /// The validators' keys in index order.
    pub validators: Vec<ed25519::PublicKey>,
    /// Per market: its asset and its tick size in nano-USD.
    pub markets: Vec<(AssetId, u64)>,
}

/// The replicated state: the exchange engine plus the chain's replay protection and agents.
#[derive(Clone, Debug)]
pub struct ChainState {
    /// The exchange.
    pub engine: Engine,
    /// Nonces and agent keys.
    pub auth: Auth,
    /// Height of the last executed block.
    pub height: u64,
    /// Time of the last executed block.
    pub time_ms: u64,
    /// The oracle: validators' latest observations and each asset's index.
    pub oracle: OracleState,
    /// Per asset, the index of recent blocks that updated it (derived from the blocks, not
    /// committed; rebuilt by replay).
    pub history: Vec<IndexHistory>,
    /// The faucet address, from genesis.
    pub faucet: Option<Address>,
    /// Genesis constants.
    pub constants: Arc<Constants>,
}

impl ChainState {
    /// The state at genesis (height 0).
    pub fn genesis(genesis: &Genesis) -> Result<ChainState, crate::genesis::GenesisError> {
        let engine = genesis.engine()?;
        let oracle = genesis
            .oracle_state()
            .map_err(|e| crate::genesis::GenesisError::Oracle(e.to_string()))?;
        let history =
            genesis.oracle.assets.iter().map(|_| IndexHistory::new(INDEX_HISTORY_POINTS)).collect();
        let constants = Constants {
            chain_id: genesis.chain_id,
            validators: genesis.sorted_validators(),
            markets: genesis
                .markets
                .iter()
                .map(|m| (m.asset, Genesis::market_params(m).tick_size_nano))
                .collect(),
        };
        Ok(ChainState {
            engine,
            auth: Auth::default(),
            height: 0,
            time_ms: genesis.time_ms,
            oracle,
            history,
            faucet: genesis.faucet,
            constants: Arc::new(constants),
        })
    }

    /// The genesis state as committed: [`ChainState::genesis`] with its writes taken (the
    /// executor's `open_state` commits them), so block 1 writes only what block 1 changes. Every
    /// path that executes block 1 (the live executor, `novation verify`) must start here: a state
    /// whose genesis writes are still pending re-writes them with block 1, and the state database
    /// (an authenticated log of operations) then has a different root.
    pub fn genesis_committed(
        genesis: &Genesis,
    ) -> Result<ChainState, crate::genesis::GenesisError> {
        let mut state = Self::genesis(genesis)?;
        let _ = crate::values::collect_writes(&mut state);
        Ok(state)
    }

    /// Executes `block` on this state. On `Err` the state is partly changed and must be
    /// discarded (callers execute on a copy; a block that fails here is invalid).
    pub fn execute(&mut self, block: &Block) -> Result<Executed, ExecError> {
        if block.height != self.height + 1 {
            return Err(ExecError::Height { last: self.height, got: block.height });
        }
        let (oracle, index_prices) = self.oracle_step(block)?;
        let mut outcomes = Vec::with_capacity(block.txs.len());
        let mut engine_txs: Vec<EngineTx> = Vec::with_capacity(block.txs.len());
        // Engine action index -> (transaction, action within it).
        let mut slots: Vec<(u32, u32)> = Vec::with_capacity(block.txs.len());
        for (t, tx) in block.txs.iter().enumerate() {
            match self.authorize_and_commit(tx, block.time_ms) {
                Err(outcome) => outcomes.push(outcome),
                Ok(principal) => {
                    let actions = &tx.body.actions;
                    for (a, action) in actions.iter().enumerate() {
                        if let Some(etx) = action.engine_tx(principal) {
                            slots.push((t as u32, a as u32));
                            engine_txs.push(etx);
                        }
                    }
                    outcomes.push(TxOutcome::Executed {
                        actions: vec![ActionOutcome::Done; actions.len()],
                    });
                }
            }
        }
        let ctx = novation_engine::BlockContext {
            height: block.height,
            time_ms: block.time_ms,
            index_prices,
        };
        let events = self.engine.apply_block(&ctx, &engine_txs).map_err(ExecError::Engine)?;
        for event in &events {
            let (index, outcome) = match event {
                Event::Rejected { index, reason } => (
                    *index,
                    ActionOutcome::Rejected { code: reason.code(), reason: format!("{reason:?}") },
                ),
                Event::OrderAccepted { index, market, id, .. } => {
                    (*index, ActionOutcome::OrderPlaced { market: *market, id: *id })
                }
                _ => continue,
            };
            if let Some(&(t, a)) = slots.get(index as usize) {
                if let Some(TxOutcome::Executed { actions }) = outcomes.get_mut(t as usize) {
                    if let Some(slot) = actions.get_mut(a as usize) {
                        *slot = outcome;
                    }
                }
            }
        }
        self.height = block.height;
        self.time_ms = block.time_ms;
        Ok(Executed { events, outcomes, oracle })
    }

    /// The block's observations into the oracle; the index prices for the engine.
    fn oracle_step(
        &mut self,
        block: &Block,
    ) -> Result<(BlockReport, Vec<(MarketId, PriceTicks)>), ExecError> {
        let c = &self.constants;
        let mut observations = Vec::with_capacity(block.observations.len());
        for o in &block.observations {
            if !o.verify(c.chain_id, &c.validators) {
                return Err(ExecError::ObservationSignature(o.validator));
            }
            observations.push((o.validator, o.observation.clone()));
        }
        let report = self
            .oracle
            .apply(block.height, block.time_ms, &observations)
            .map_err(ExecError::Oracle)?;
        for (asset, price) in report.updates() {
            if let Some(h) = self.history.get_mut(usize::from(asset.0)) {
                h.push(IndexPoint { height: block.height, time_ms: block.time_ms, price });
            }
        }
        let assets = self.oracle.assets();
        let mut index_prices = Vec::with_capacity(c.markets.len());
        for (i, &(asset, tick)) in c.markets.iter().enumerate() {
            let a = usize::from(asset.0);
            let updated = report.assets.get(a).is_some_and(|r| r.index.is_some());
            if updated || block.height == 1 {
                if let Some(ticks) = assets.get(a).and_then(|s| s.index.to_ticks(tick)) {
                    index_prices.push((MarketId(i as u16), PriceTicks(ticks)));
                }
            }
        }
        Ok((report, index_prices))
    }

    /// Runs replay protection and agent checks ([`Auth::settle`]); on success consumes the
    /// nonce, applies the chain actions and returns the principal. A refusal after the replay
    /// rules consumes the nonce too (it is final).
    fn authorize_and_commit(&mut self, tx: &SignedTx, time_ms: u64) -> Result<Address, TxOutcome> {
        match self.auth.settle(tx, time_ms, self.faucet) {
            Ok(authorized) => Ok(authorized.principal),
            Err(r) => Err(TxOutcome::Refused { code: r.error.code(), reason: r.error.to_string() }),
        }
    }
}

/// Runs replay protection and agent checks for `tx` against `auth` as a block would
/// ([`Auth::settle`]; the proposer's filter runs this on a scratch copy). `Ok`: it goes in the
/// block, to execute or to be refused with its nonce consumed (a final refusal, see
/// [`crate::auth`]). `Err`: leave it out (a replay refusal, or one that cannot consume its
/// nonce), with the refusal's code and message.
pub fn admit(
    auth: &mut Auth,
    faucet: Option<Address>,
    tx: &SignedTx,
    time_ms: u64,
) -> Result<(), (u16, String)> {
    match auth.settle(tx, time_ms, faucet) {
        Err(r) if !r.nonce_consumed => Err((r.error.code(), r.error.to_string())),
        _ => Ok(()),
    }
}
