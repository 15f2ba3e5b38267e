//! Replay protection and agent keys: the chain's own state next to the engine's.
//!
//! # Nonces
//!
//! A nonce is a millisecond timestamp chosen by the signer. Per signer the chain keeps the
//! highest [`NONCES_KEPT`] nonces it accepted. A transaction's nonce is accepted at block time
//! `t` iff, in this order (the first failing rule is the error):
//!
//! 1. `t - NONCE_PAST_MS < nonce < t + NONCE_FUTURE_MS`, both bounds exclusive (the lower bound
//!    saturates at 0, the upper at `u64::MAX`): [`AuthError::NonceOutsideWindow`];
//! 2. when [`NONCES_KEPT`] nonces are kept, `nonce` exceeds the smallest of them:
//!    [`AuthError::NonceTooLow`];
//! 3. `nonce` is not among the kept ones: [`AuthError::NonceUsed`].
//!
//! Accepting inserts the nonce and, if that makes [`NONCES_KEPT`] + 1, drops the smallest.
//! Nonces need no order, so several processes of one account can submit concurrently (each
//! picks its clock's time, made unique per process). No nonce is ever accepted twice: a nonce
//! that left the set is at most the smallest kept, and the smallest kept never decreases.
//! Transactions older than `NONCE_PAST_MS` can no longer be included, which bounds how long a
//! signed transaction stays a liability.
//!
//! # Agent keys
//!
//! A master account approves an agent address ([`TxAction::ApproveAgent`]) with a scope: a
//! market list (empty = all), an optional maximum order size and an expiry. An agent signs
//! with its own key and names its master in [`TxBody::master`](crate::tx::TxBody); its
//! actions then apply to the master. While `t < expires_ms` it may send only trading actions
//! ([`TxAction::is_trading`]) in its markets (a `CancelAll` over all markets only if its list
//! is empty), placing or modifying orders of at most its maximum size. It can never withdraw,
//! transfer, manage agents or use the faucet. An address is the agent of at most one master
//! (approving another master's agent is [`AuthError::AgentBoundToOtherMaster`]; re-approving
//! one's own agent replaces its scope); a master has at most [`MAX_AGENTS_PER_MASTER`] agents,
//! expired ones included until revoked. An agent's nonces are its own (kept under its
//! address), shared between acting for itself and for its master.
//!
//! Because the agent names its master, approving an address cannot redirect that address's own
//! transactions: without `master` in the body every transaction acts for its signer.
//!
//! # One transaction, in order
//!
//! [`Auth::authorize`] is a pure check; it returns the [`Authorized`] principal and the planned
//! grant changes. [`Auth::apply`] authorizes and then records the
//! nonce and applies the grant changes in action order. A rejection changes nothing. Rules
//! after the nonce: `master` is not the signer, the signer is an unexpired agent of `master`
//! and every action fits its scope (in action order); then the chain actions in action order:
//! a faucet only from the faucet address, an approval of a valid future scope for an address
//! bound to nobody else within the agent bound, a revocation of a current agent; last, the
//! number of addresses stays within the limit ([`MAX_ADDRESSES`]).
//!
//! # A refusal in a block is final
//!
//! Blocks use [`Auth::settle`]: [`Auth::apply`], except that a transaction refused *after* the
//! replay rules (codes 110 and up: agent scope, chain actions, the address limit) still
//! consumes its nonce, and nothing else. The block builder puts such a transaction in the block,
//! refused, rather than leaving it out. Leaving it out would only be one proposer's choice:
//! other validators keep the gossiped transaction in their pools, and once the state changes
//! (the master approves the agent, say) the next proposer would include it and it would
//! execute, after its sender was told it was refused. With the nonce consumed, the same signed
//! bytes are refused `NonceUsed` wherever they turn up. A refusal by the replay rules
//! (101..=103) records nothing and the builder leaves the transaction out: a used or too-low
//! nonce never passes, and one outside the window passes later only if it lies a day or more
//! ahead of the block time, far beyond how long a mempool keeps a transaction. The one refusal that
//! cannot consume its nonce is a signer without state once the chain holds
//! [`MAX_ADDRESSES`] addresses ([`Refusal::nonce_consumed`] is false; left out as well).
//!
//! # Commitment
//!
//! Each address's state is a [`SignerRecord`] (kept nonces, its grant as an agent, its agents
//! as a master) with a canonical encoding; [`Auth::take_dirty`] names the addresses whose
//! record changed, [`Auth::record`] gives it (`None`: the address has no state), and
//! [`Auth::from_records`] rebuilds the state, checking every invariant.

use std::collections::{BTreeMap, BTreeSet};

use bytes::BufMut;
use commonware_codec::{varint::UInt, Buf, EncodeSize, Error as CodecError, Read, Write};
use novation_engine::MarketId;
use novation_types::{Address, QtyLots};

use crate::tx::{
    check_markets, count_size, get_count, get_markets, markets_size, put_count, put_markets,
    ActionFault, Field, SignedTx, TxAction,
};

/// How many of a signer's highest nonces are kept.
pub const NONCES_KEPT: usize = 100;

/// The most agents one master may have approved at once (expired ones count until revoked).
pub const MAX_AGENTS_PER_MASTER: usize = 8;

/// The most addresses with state (the engine's default account capacity).
pub const MAX_ADDRESSES: usize = 10_000_000;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// How far before the block time a nonce may lie (exclusive).
pub const NONCE_PAST_MS: u64 = 2 * DAY_MS;

/// How far after the block time a nonce may lie (exclusive).
pub const NONCE_FUTURE_MS: u64 = DAY_MS;

/// The exclusive bounds `(low, high)` of the nonces accepted at `time_ms`.
pub const fn nonce_window(time_ms: u64) -> (u64, u64) {
    (time_ms.saturating_sub(NONCE_PAST_MS), time_ms.saturating_add(NONCE_FUTURE_MS))
}

/// Why a transaction is refused by replay protection or agent rules. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("nonce {nonce} outside the window ({low}, {high}) of the block time")]
    NonceOutsideWindow { nonce: u64, low: u64, high: u64 },
    #[error("nonce {nonce} not above the smallest kept nonce {smallest_kept}")]
    NonceTooLow { nonce: u64, smallest_kept: u64 },
    #[error("nonce {nonce} already used")]
    NonceUsed { nonce: u64 },
    #[error("a transaction cannot name its signer as its master")]
    MasterIsSigner,
    #[error("the signer is not an agent of {master:?}")]
    AgentNotApproved { master: Address },
    #[error("the agent grant expired at {expires_ms} ms")]
    AgentExpired { expires_ms: u64 },
    #[error("agents may only place, modify and cancel orders")]
    AgentActionNotAllowed,
    #[error("the agent may not trade market {0:?}")]
    AgentMarketNotAllowed(MarketId),
    #[error("an agent limited to some markets cannot cancel in all markets")]
    AgentAllMarketsNotAllowed,
    #[error("order size {qty:?} above the agent's maximum {max:?}")]
    AgentOrderTooLarge { qty: QtyLots, max: QtyLots },
    #[error("only the faucet address may use the faucet")]
    FaucetOnly,
    #[error("an account cannot be its own agent")]
    AgentIsSelf,
    #[error("invalid agent scope: {0}")]
    AgentScopeInvalid(ActionFault),
    #[error("the agent grant's expiry {expires_ms} ms is not after the block time")]
    AgentExpiryNotInFuture { expires_ms: u64 },
    #[error("the address is already the agent of {master:?}")]
    AgentBoundToOtherMaster { master: Address },
    #[error("the master already has MAX_AGENTS_PER_MASTER agents")]
    TooManyAgents,
    #[error("{0:?} is not an agent of the signer")]
    UnknownAgent(Address),
    #[error("the chain holds its maximum number of addresses")]
    AddressLimit,
}

impl AuthError {
    /// Whether the replay rules refused the transaction (codes 101..=103): its nonce cannot be
    /// recorded (see the module doc on why leaving it out is safe).
    pub const fn is_replay(&self) -> bool {
        matches!(
            self,
            AuthError::NonceOutsideWindow { .. }
                | AuthError::NonceTooLow { .. }
                | AuthError::NonceUsed { .. }
        )
    }

    /// The stable numeric code (the precedence order of the module doc).
    pub const fn code(&self) -> u16 {
        match self {
            AuthError::NonceOutsideWindow { .. } => 101,
            AuthError::NonceTooLow { .. } => 102,
            AuthError::NonceUsed { .. } => 103,
            AuthError::MasterIsSigner => 110,
            AuthError::AgentNotApproved { .. } => 111,
            AuthError::AgentExpired { .. } => 112,
            AuthError::AgentActionNotAllowed => 113,
            AuthError::AgentMarketNotAllowed(_) => 114,
            AuthError::AgentAllMarketsNotAllowed => 115,
            AuthError::AgentOrderTooLarge { .. } => 116,
            AuthError::FaucetOnly => 120,
            AuthError::AgentIsSelf => 121,
            AuthError::AgentScopeInvalid(_) => 122,
            AuthError::AgentExpiryNotInFuture { .. } => 123,
            AuthError::AgentBoundToOtherMaster { .. } => 124,
            AuthError::TooManyAgents => 125,
            AuthError::UnknownAgent(_) => 126,
            AuthError::AddressLimit => 130,
        }
    }
}

/// The highest [`NONCES_KEPT`] nonces a signer used, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceSet {
    kept: Vec<u64>,
}

impl NonceSet {
    /// The kept nonces, ascending.
    pub fn as_slice(&self) -> &[u64] {
        &self.kept
    }

    /// Whether `nonce` passes rules 2 and 3 of the module doc.
    pub fn check(&self, nonce: u64) -> Result<(), AuthError> {
        if self.kept.len() >= NONCES_KEPT {
            if let Some(&smallest_kept) = self.kept.first() {
                if nonce <= smallest_kept {
                    return Err(AuthError::NonceTooLow { nonce, smallest_kept });
                }
            }
        }
        if self.kept.binary_search(&nonce).is_ok() {
            return Err(AuthError::NonceUsed { nonce });
        }
        Ok(())
    }

    /// Records an accepted nonce (after [`NonceSet::check`]).
    fn insert(&mut self, nonce: u64) {
        if let Err(at) = self.kept.binary_search(&nonce) {
            self.kept.insert(at, nonce);
        }
        if self.kept.len() > NONCES_KEPT {
            self.kept.remove(0);
        }
    }

    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Whether the list is a valid kept set: at most [`NONCES_KEPT`], strictly increasing.
    fn valid(kept: &[u64]) -> bool {
        kept.len() <= NONCES_KEPT && kept.windows(2).all(|w| matches!(w, [a, b] if a < b))
    }
}

/// What a master lets one agent do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentGrant {
    /// The account the agent acts for.
    pub master: Address,
    /// The markets it may trade, strictly increasing; empty means all.
    pub markets: Vec<MarketId>,
    /// The largest order it may place or modify to; `None`: no bound.
    pub max_order_qty: Option<QtyLots>,
    /// The grant is usable while the block time is below this.
    pub expires_ms: u64,
}

impl AgentGrant {
    /// Whether the grant is usable at `time_ms`.
    pub const fn is_live(&self, time_ms: u64) -> bool {
        time_ms < self.expires_ms
    }

    /// Whether one action of an agent fits the scope (not the expiry).
    pub fn permits(&self, action: &TxAction) -> Result<(), AuthError> {
        if !action.is_trading() {
            return Err(AuthError::AgentActionNotAllowed);
        }
        if !self.markets.is_empty() {
            match action.market() {
                Some(m) if self.markets.binary_search(&m).is_ok() => {}
                Some(m) => return Err(AuthError::AgentMarketNotAllowed(m)),
                None => return Err(AuthError::AgentAllMarketsNotAllowed),
            }
        }
        if let (Some(qty), Some(max)) = (action.order_qty(), self.max_order_qty) {
            if qty > max {
                return Err(AuthError::AgentOrderTooLarge { qty, max });
            }
        }
        Ok(())
    }
}

/// A change to agent grants made by a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantChange {
    /// Bind `agent` to the signer with this grant (replacing its previous scope).
    Approve { agent: Address, grant: AgentGrant },
    /// Unbind `agent` from the signer.
    Revoke { agent: Address },
}

/// A transaction that passed [`Auth::authorize`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    /// The signer's address (its nonce set takes the nonce).
    pub signer: Address,
    /// The account the actions apply to: the signer, or its master when it acts as an agent.
    pub principal: Address,
    /// The nonce consumed.
    pub nonce: u64,
    /// The grant changes, in action order.
    pub changes: Vec<GrantChange>,
}

impl Authorized {
    /// Whether the signer acts as an agent.
    pub fn is_agent(&self) -> bool {
        self.signer != self.principal
    }
}

/// A transaction [`Auth::settle`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub error: AuthError,
    /// Whether its nonce was consumed, making the refusal final (see the module doc): false for
    /// a refusal by the replay rules and for a signer without state at the address limit.
    pub nonce_consumed: bool,
}

/// One address's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entry {
    nonces: NonceSet,
    grant: Option<AgentGrant>,
    agents: BTreeSet<Address>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.nonces.is_empty() && self.grant.is_none() && self.agents.is_empty()
    }

    fn record(&self) -> SignerRecord {
        SignerRecord {
            nonces: self.nonces.kept.clone(),
            grant: self.grant.clone(),
            agents: self.agents.iter().copied().collect(),
        }
    }
}

/// Replay protection and agent grants of every address. Cloned for speculative execution; two
/// values are equal iff every address's record, the dirty set and the limit are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    entries: BTreeMap<Address, Entry>,
    dirty: BTreeSet<Address>,
    addresses_max: usize,
}

impl Default for Auth {
    fn default() -> Self {
        Auth::new()
    }
}

impl Auth {
    /// Empty state with the [`MAX_ADDRESSES`] limit.
    pub fn new() -> Auth {
        Auth::with_address_limit(MAX_ADDRESSES)
    }

    /// Empty state holding at most `limit` addresses (capped at [`MAX_ADDRESSES`]).
    pub fn with_address_limit(limit: usize) -> Auth {
        Auth {
            entries: BTreeMap::new(),
            dirty: BTreeSet::new(),
            addresses_max: limit.min(MAX_ADDRESSES),
        }
    }

    /// The number of addresses with state.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no address has state.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The kept nonces of `addr`, ascending.
    pub fn nonces(&self, addr: &Address) -> &[u64] {
        self.entries.get(addr).map_or(&[], |e| e.nonces.as_slice())
    }

    /// The grant under which `addr` is an agent.
    pub fn grant(&self, addr: &Address) -> Option<&AgentGrant> {
        self.entries.get(addr).and_then(|e| e.grant.as_ref())
    }

    /// The agents `addr` approved, ascending.
    pub fn agents(&self, addr: &Address) -> Vec<Address> {
        self.entries.get(addr).map_or_else(Vec::new, |e| e.agents.iter().copied().collect())
    }

    /// Checks `tx` at block time `time_ms` (the genesis faucet address, if any, is `faucet`)
    /// without changing anything. The signature and [`crate::tx::check_stateless`] are the
    /// caller's; the rules that keep this state's invariants are checked again here.
    pub fn authorize(
        &self,
        tx: &SignedTx,
        time_ms: u64,
        faucet: Option<Address>,
    ) -> Result<Authorized, AuthError> {
        let signer = tx.signer();
        let nonce = tx.body.nonce;
        let (low, high) = nonce_window(time_ms);
        if nonce <= low || nonce >= high {
            return Err(AuthError::NonceOutsideWindow { nonce, low, high });
        }
        let entry = self.entries.get(&signer);
        if let Some(e) = entry {
            e.nonces.check(nonce)?;
        }
        let principal = match tx.body.master {
            None => signer,
            Some(master) => {
                self.check_agent(signer, master, entry, &tx.body.actions, time_ms)?;
                master
            }
        };
        let changes = self.plan_chain_actions(signer, entry, &tx.body.actions, time_ms, faucet)?;
        self.check_address_limit(signer, &changes)?;
        Ok(Authorized { signer, principal, nonce, changes })
    }

    /// Authorizes `tx` and, if it passes, records it. A rejection changes nothing.
    pub fn apply(
        &mut self,
        tx: &SignedTx,
        time_ms: u64,
        faucet: Option<Address>,
    ) -> Result<Authorized, AuthError> {
        let authorized = self.authorize(tx, time_ms, faucet)?;
        self.record_authorized(&authorized);
        Ok(authorized)
    }

    /// What a block does with `tx`: [`Auth::apply`]; a transaction refused after the replay
    /// rules consumes its nonce (and changes nothing else), so it can never execute later.
    pub fn settle(
        &mut self,
        tx: &SignedTx,
        time_ms: u64,
        faucet: Option<Address>,
    ) -> Result<Authorized, Refusal> {
        match self.apply(tx, time_ms, faucet) {
            Ok(authorized) => Ok(authorized),
            Err(error) => {
                let nonce_consumed =
                    !error.is_replay() && self.consume_nonce(tx.signer(), tx.body.nonce);
                Err(Refusal { error, nonce_consumed })
            }
        }
    }

    /// Records `nonce` for `signer` after a refusal that passed the replay rules; false (and
    /// nothing changes) when the signer has no state and the address limit is reached.
    fn consume_nonce(&mut self, signer: Address, nonce: u64) -> bool {
        if !self.entries.contains_key(&signer) && self.entries.len() >= self.addresses_max {
            return false;
        }
        self.entries.entry(signer).or_default().nonces.insert(nonce);
        self.dirty.insert(signer);
        true
    }

    fn check_agent(
        &self,
        signer: Address,
        master: Address,
        entry: Option<&Entry>,
        actions: &[TxAction],
        time_ms: u64,
    ) -> Result<(), AuthError> {
        if master == signer {
            return Err(AuthError::MasterIsSigner);
        }
        let grant = entry
            .and_then(|e| e.grant.as_ref())
            .filter(|g| g.master == master)
            .ok_or(AuthError::AgentNotApproved { master })?;
        if !grant.is_live(time_ms) {
            return Err(AuthError::AgentExpired { expires_ms: grant.expires_ms });
        }
        actions.iter().try_for_each(|a| grant.permits(a))
    }

    /// The grant changes of the chain actions, checked in action order against the state as the
    /// earlier actions of the same transaction leave it.
    fn plan_chain_actions(
        &self,
        signer: Address,
        entry: Option<&Entry>,
        actions: &[TxAction],
        time_ms: u64,
        faucet: Option<Address>,
    ) -> Result<Vec<GrantChange>, AuthError> {
        let mut agents: Option<BTreeSet<Address>> = None;
        let mut changes = Vec::new();
        for action in actions {
            match action {
                TxAction::Faucet { .. } if faucet != Some(signer) => {
                    return Err(AuthError::FaucetOnly);
                }
                TxAction::ApproveAgent { agent, markets, max_order_qty, expires_ms } => {
                    let grant = AgentGrant {
                        master: signer,
                        markets: markets.clone(),
                        max_order_qty: *max_order_qty,
                        expires_ms: *expires_ms,
                    };
                    self.check_approval(signer, *agent, &grant, time_ms)?;
                    let set = agents.get_or_insert_with(|| current_agents(entry));
                    set.insert(*agent);
                    if set.len() > MAX_AGENTS_PER_MASTER {
                        return Err(AuthError::TooManyAgents);
                    }
                    changes.push(GrantChange::Approve { agent: *agent, grant });
                }
                TxAction::RevokeAgent { agent } => {
                    let set = agents.get_or_insert_with(|| current_agents(entry));
                    if !set.remove(agent) {
                        return Err(AuthError::UnknownAgent(*agent));
                    }
                    changes.push(GrantChange::Revoke { agent: *agent });
                }
                _ => {}
            }
        }
        Ok(changes)
    }

    fn check_approval(
        &self,
        signer: Address,
        agent: Address,
        grant: &AgentGrant,
        time_ms: u64,
    ) -> Result<(), AuthError> {
        if agent == signer {
            return Err(AuthError::AgentIsSelf);
        }
        check_markets(&grant.markets).map_err(AuthError::AgentScopeInvalid)?;
        if grant.max_order_qty == Some(QtyLots(0)) {
            return Err(AuthError::AgentScopeInvalid(ActionFault::ZeroAgentOrderQty));
        }
        if grant.expires_ms <= time_ms {
            return Err(AuthError::AgentExpiryNotInFuture { expires_ms: grant.expires_ms });
        }
        match self.grant(&agent) {
            Some(existing) if existing.master != signer => {
                Err(AuthError::AgentBoundToOtherMaster { master: existing.master })
            }
            _ => Ok(()),
        }
    }

    /// Addresses the transaction would add must fit (removals in the same transaction are not
    /// counted: the check is conservative and simple).
    fn check_address_limit(
        &self,
        signer: Address,
        changes: &[GrantChange],
    ) -> Result<(), AuthError> {
        let mut new = BTreeSet::new();
        if !self.entries.contains_key(&signer) {
            new.insert(signer);
        }
        for change in changes {
            if let GrantChange::Approve { agent, .. } = change {
                if !self.entries.contains_key(agent) {
                    new.insert(*agent);
                }
            }
        }
        match self.entries.len().checked_add(new.len()) {
            Some(total) if total <= self.addresses_max => Ok(()),
            _ => Err(AuthError::AddressLimit),
        }
    }

    /// Applies a fresh authorization (infallible; keeps the grant/agent pairing even for a
    /// change the plan did not expect).
    fn record_authorized(&mut self, a: &Authorized) {
        self.entries.entry(a.signer).or_default().nonces.insert(a.nonce);
        self.dirty.insert(a.signer);
        for change in &a.changes {
            match change {
                GrantChange::Approve { agent, grant } => self.bind(*agent, grant.clone()),
                GrantChange::Revoke { agent } => self.unbind(*agent),
            }
        }
    }

    fn bind(&mut self, agent: Address, grant: AgentGrant) {
        self.unbind(agent);
        let master = grant.master;
        self.entries.entry(master).or_default().agents.insert(agent);
        self.entries.entry(agent).or_default().grant = Some(grant);
        self.dirty.insert(master);
        self.dirty.insert(agent);
    }

    fn unbind(&mut self, agent: Address) {
        let Some(master) = self.grant(&agent).map(|g| g.master) else { return };
        if let Some(e) = self.entries.get_mut(&agent) {
            e.grant = None;
        }
        if let Some(e) = self.entries.get_mut(&master) {
            e.agents.remove(&agent);
        }
        self.drop_if_empty(agent);
        self.drop_if_empty(master);
        self.dirty.insert(master);
        self.dirty.insert(agent);
    }

    fn drop_if_empty(&mut self, addr: Address) {
        if self.entries.get(&addr).is_some_and(Entry::is_empty) {
            self.entries.remove(&addr);
        }
    }

    /// The addresses whose record changed since the last call, ascending.
    pub fn take_dirty(&mut self) -> Vec<Address> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// The committed record of `addr`; `None` when it has no state.
    pub fn record(&self, addr: Address) -> Option<SignerRecord> {
        self.entries.get(&addr).map(Entry::record)
    }

    /// Every address with state and its record, ascending.
    pub fn records(&self) -> impl Iterator<Item = (Address, SignerRecord)> + '_ {
        self.entries.iter().map(|(a, e)| (*a, e.record()))
    }

    /// Rebuilds the state from committed records (any order), checking every invariant
    /// ([`Auth::check_invariants`]); the dirty set starts empty.
    pub fn from_records(
        records: impl IntoIterator<Item = (Address, SignerRecord)>,
    ) -> Result<Auth, String> {
        let mut auth = Auth::new();
        for (addr, r) in records {
            if auth.entries.len() >= auth.addresses_max {
                return Err("more records than MAX_ADDRESSES".into());
            }
            if !NonceSet::valid(&r.nonces) || r.agents.len() > MAX_AGENTS_PER_MASTER {
                return Err(format!("{addr:?}: record out of bounds or not increasing"));
            }
            let entry = Entry {
                nonces: NonceSet { kept: r.nonces },
                grant: r.grant,
                agents: r.agents.into_iter().collect(),
            };
            if auth.entries.insert(addr, entry).is_some() {
                return Err(format!("{addr:?}: two records"));
            }
        }
        auth.check_invariants()?;
        Ok(auth)
    }

    /// The state's invariants: no empty entry, bounded and increasing nonce and market lists,
    /// no self-grant, and every grant `agent -> master` paired with `agent` in the master's
    /// agents (and the reverse).
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.entries.len() > self.addresses_max {
            return Err("more addresses than the limit".into());
        }
        for (addr, e) in &self.entries {
            if e.is_empty() {
                return Err(format!("{addr:?}: empty entry"));
            }
            if !NonceSet::valid(&e.nonces.kept) || e.agents.len() > MAX_AGENTS_PER_MASTER {
                return Err(format!("{addr:?}: nonce or agent list out of bounds"));
            }
            if let Some(g) = &e.grant {
                if g.master == *addr || check_markets(&g.markets).is_err() {
                    return Err(format!("{addr:?}: invalid grant"));
                }
                if !self.entries.get(&g.master).is_some_and(|m| m.agents.contains(addr)) {
                    return Err(format!("{addr:?}: grant not listed by its master"));
                }
            }
            for agent in &e.agents {
                if self.grant(agent).map(|g| g.master) != Some(*addr) {
                    return Err(format!("{addr:?}: lists {agent:?} which is not its agent"));
                }
            }
        }
        Ok(())
    }
}

fn current_agents(entry: Option<&Entry>) -> BTreeSet<Address> {
    entry.map(|e| e.agents.clone()).unwrap_or_default()
}

/// One address's committed state.
///
/// Wire format: nonce count (varint, `<= NONCES_KEPT`); if any, the smallest nonce (u64) and
/// then each next nonce as its difference from the previous one (varint, at least 1: the nonces
/// strictly increase); `Option` grant: master (20), market count (varint, `<= MAX_AGENT_MARKETS`),
/// markets (u16 each, strictly increasing), `Option` max order qty (u64), expiry (u64); agent
/// count (varint, `<= MAX_AGENTS_PER_MASTER`), agents (20 each, strictly increasing). A record
/// with no nonce, no grant and no agent does not decode (such an address has no record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerRecord {
    /// Kept nonces, ascending.
    pub nonces: Vec<u64>,
    /// The grant under which this address is an agent.
    pub grant: Option<AgentGrant>,
    /// The agents this address approved, ascending.
    pub agents: Vec<Address>,
}

impl Write for AgentGrant {
    fn write(&self, buf: &mut impl BufMut) {
        self.master.put(buf);
        put_markets(buf, &self.markets);
        self.max_order_qty.put(buf);
        self.expires_ms.put(buf);
    }
}

impl EncodeSize for AgentGrant {
    fn encode_size(&self) -> usize {
        self.master.size()
            + markets_size(&self.markets)
            + self.max_order_qty.size()
            + self.expires_ms.size()
    }
}

impl Read for AgentGrant {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let master = Address::get(buf)?;
        let markets =
            get_markets(buf)?.map_err(|_| CodecError::Invalid("AgentGrant", "bad market list"))?;
        let max_order_qty = Option::<QtyLots>::get(buf)?;
        let expires_ms = u64::get(buf)?;
        Ok(AgentGrant { master, markets, max_order_qty, expires_ms })
    }
}

impl Write for SignerRecord {
    fn write(&self, buf: &mut impl BufMut) {
        put_count(buf, self.nonces.len());
        // Nonces are millisecond timestamps a few apart: deltas take 1-3 bytes instead of 8, and
        // the record is rewritten into the state commitment on every transaction of its signer.
        let mut previous = None;
        for &n in &self.nonces {
            match previous {
                None => n.put(buf),
                Some(p) => UInt(n.saturating_sub(p)).write(buf),
            }
            previous = Some(n);
        }
        self.grant.is_some().put(buf);
        if let Some(g) = &self.grant {
            g.write(buf);
        }
        put_count(buf, self.agents.len());
        for a in &self.agents {
            a.put(buf);
        }
    }
}

impl EncodeSize for SignerRecord {
    fn encode_size(&self) -> usize {
        count_size(self.nonces.len())
            + self.nonces.first().map_or(0, |_| 8)
            + self
                .nonces
                .windows(2)
                .map(|w| match w {
                    [a, b] => UInt(b.saturating_sub(*a)).encode_size(),
                    _ => 0,
                })
                .sum::<usize>()
            + 1
            + self.grant.as_ref().map_or(0, EncodeSize::encode_size)
            + count_size(self.agents.len())
            + self.agents.len() * 20
    }
}

impl Read for SignerRecord {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        const CTX: &str = "SignerRecord";
        let n = get_count(buf, NONCES_KEPT)?.map_err(CodecError::InvalidLength)?;
        let mut nonces: Vec<u64> = Vec::with_capacity(n);
        for _ in 0..n {
            let nonce = match nonces.last() {
                None => u64::get(buf)?,
                Some(&previous) => {
                    let delta: u64 = UInt::<u64>::read_cfg(buf, &())?.into();
                    if delta == 0 {
                        return Err(CodecError::Invalid(CTX, "nonces not increasing"));
                    }
                    previous
                        .checked_add(delta)
                        .ok_or(CodecError::Invalid(CTX, "nonce overflows"))?
                }
            };
            nonces.push(nonce);
        }
        if !NonceSet::valid(&nonces) {
            return Err(CodecError::Invalid(CTX, "nonces not increasing"));
        }
        let grant = if bool::get(buf)? { Some(AgentGrant::read_cfg(buf, &())?) } else { None };
        let n = get_count(buf, MAX_AGENTS_PER_MASTER)?.map_err(CodecError::InvalidLength)?;
        let mut agents = Vec::with_capacity(n);
        for _ in 0..n {
            agents.push(Address::get(buf)?);
        }
        if agents.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
            return Err(CodecError::Invalid(CTX, "agents not increasing"));
        }
        if nonces.is_empty() && grant.is_none() && agents.is_empty() {
            return Err(CodecError::Invalid(CTX, "empty record"));
        }
        Ok(SignerRecord { nonces, grant, agents })
    }
}
