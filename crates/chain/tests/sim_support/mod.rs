//! The fault-simulation harness: a cluster of validators in one deterministic runtime, each in
//! its own task (so one can be killed and restarted with its storage), links that can be cut
//! and healed, exchange traffic to random live validators, and the checks every scenario ends
//! with.
//!
//! * **Agreement**: every honest validator's finalized (height -> digest, state root), over all
//!   its incarnations, agrees with every other's on every common height.
//! * **Accounting**: every transaction a mempool admitted (`NodeHandle::submit` returned Ok) is
//!   finalized or dropped with a reason on at least one honest validator, except the ones the
//!   scenario lost with a crashed mempool (mempools are volatile by design).
//! * **Exactly once**: a transaction finalized at a height is never finalized again at another
//!   (also across restarts), and all validators report the same outcome for it.
//!
//! The engine checks its own invariants after every block in debug builds.

mod log;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_cryptography::{
    ed25519::{PrivateKey, PublicKey},
    sha256::Digest,
    Signer as _,
};
use commonware_p2p::simulated::{Link, Oracle};
use commonware_runtime::{deterministic, Clock as _, Handle, Spawner as _, Supervisor as _};
use futures::channel::oneshot;
use novation_chain::executor::TxStatus;
use novation_chain::genesis::Genesis;
use novation_chain::node::{NodeHandle, Timing};
use novation_chain::observer::{self, ScenarioAt, Tamper};
use novation_chain::simulation::{self, key, link};
use novation_chain::tx::{
    address_of, ChainId, PublicKey as TxPublicKey, SignedTx, TxAction, TxBody,
};
use novation_engine::{MarketId, OrderRequest};
use novation_types::{Quote, Side};
use rand::Rng as _;

/// Genesis time of the simulated chains (the runtime's clock starts here).
pub const GENESIS_MS: u64 = 1_800_000_000_000;
/// Traders submitting orders.
pub const TRADERS: u64 = 4;
/// Most simulated time one run may take before the runtime panics (a hang is a failure).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(3_600);
/// Attempts at reading every validator's accounts at one height.
const ACCOUNT_READS_MAX: usize = 50;
/// Poll interval of the harness's waits.
const POLL_MS: u64 = 100;

/// Whether the long variants run (`NOVATION_SOAK=1`).
pub fn soak() -> bool {
    std::env::var("NOVATION_SOAK").map(|v| v == "1").unwrap_or(false)
}

/// A value derived from `seed` and `salt` (splitmix64): seed-chosen instants and victims.
pub fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed.wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Consensus timing of the simulations (short, so faults are noticed quickly).
pub fn timing() -> Timing {
    Timing {
        leader_timeout: Duration::from_millis(500),
        certification_timeout: Duration::from_millis(1_000),
        timeout_retry: Duration::from_secs(2),
        skip_timeout: Duration::from_secs(5),
        ..Timing::default()
    }
}

/// A healthy link: 50 +- 10 ms, no loss (a block every few hundred simulated ms keeps the
/// debug-build CPU cost per simulated second modest).
pub fn healthy() -> Link {
    link(50, 10, 100)
}

/// The runtime configuration of a seed.
pub fn config(seed: u64) -> deterministic::Config {
    deterministic::Config::new()
        .with_seed(seed)
        .with_start_time(std::time::UNIX_EPOCH + Duration::from_millis(GENESIS_MS))
        .with_timeout(Some(RUN_TIMEOUT))
}

pub fn now_ms(ctx: &deterministic::Context) -> u64 {
    ctx.current().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Finalized blocks as one validator saw them: height -> (digest, state root).
pub type Chain = BTreeMap<u64, (Digest, Digest)>;

/// What one validator observed, merged over its incarnations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    pub chain: Chain,
    /// Final statuses (finalized or dropped) of admitted transactions.
    pub results: BTreeMap<[u8; 32], TxStatus>,
}

impl Observed {
    /// Merges a later incarnation's observations; panics on a changed block or a transaction
    /// finalized twice.
    pub fn merge(&mut self, later: Observed, who: usize) {
        for (h, v) in later.chain {
            if let Some(old) = self.chain.insert(h, v) {
                assert_eq!(old, v, "validator {who}: block at height {h} changed across a restart");
            }
        }
        for (hash, status) in later.results {
            match (self.results.get(&hash), &status) {
                (Some(old @ TxStatus::Finalized { .. }), TxStatus::Finalized { .. }) => {
                    assert_eq!(old, &status, "validator {who}: tx {} applied twice", short(&hash));
                }
                (Some(TxStatus::Finalized { .. }), _) => {}
                _ => {
                    self.results.insert(hash, status);
                }
            }
        }
    }
}

pub fn short(hash: &[u8; 32]) -> String {
    hash[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// What one validator's running incarnation has observed so far.
pub fn observe(node: &NodeHandle, admitted: &[Admitted]) -> Observed {
    let chain = node
        .shared
        .history
        .lock()
        .map(|h| h.iter().map(|(k, d, r)| (*k, (*d, *r))).collect())
        .unwrap_or_default();
    let mut results = BTreeMap::new();
    if let Ok(r) = node.shared.results.lock() {
        for a in admitted {
            if let Some(s @ (TxStatus::Finalized { .. } | TxStatus::Dropped { .. })) =
                r.get(&a.hash)
            {
                results.insert(a.hash, s);
            }
        }
    }
    Observed { chain, results }
}

pub fn height(node: &NodeHandle) -> u64 {
    node.shared.status.lock().map(|s| s.height).unwrap_or(0)
}

/// A transaction a mempool admitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub hash: [u8; 32],
    pub bytes: Vec<u8>,
    /// The validator that admitted it.
    pub node: usize,
    pub at_ms: u64,
}

/// What a validator's price observer does.
#[allow(dead_code)] // not every simulation file uses every mode
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObserverMode {
    /// Observes the devnet path honestly.
    Honest,
    /// Observes, then reports tampered prices (a lying validator).
    Tamper(Tamper),
    /// Observes nothing (its feeds are down).
    Off,
}

/// How a validator slot is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Honest,
    /// Not one of ours (a commonware mock or silent): excluded from every check.
    Byzantine,
}

/// One validator: its current incarnation (if running) and what earlier ones observed.
pub struct Slot {
    pub role: Role,
    pub node: Option<NodeHandle>,
    task: Option<Handle<()>>,
    pub incarnations: u32,
    /// Observations of earlier incarnations (and of earlier runtimes, after a full crash).
    pub past: Observed,
    /// Its price observer, for incarnations started from now on.
    pub observer: ObserverMode,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("role", &self.role)
            .field("running", &self.node.is_some())
            .field("incarnations", &self.incarnations)
            .finish()
    }
}

/// Validators on the simulated network, plus the traffic they receive.
pub struct Cluster {
    pub ctx: deterministic::Context,
    pub oracle: Oracle<PublicKey, deterministic::Context>,
    pub genesis: Genesis,
    pub keys: Vec<PrivateKey>,
    pub publics: Vec<PublicKey>,
    pub link: Link,
    /// Consensus timing of validators started from now on.
    pub timing: Timing,
    /// The price scenario on the simulated feed, for validators started from now on.
    pub scenario: Option<ScenarioAt>,
    pub slots: Vec<Slot>,
    /// The validators traffic may be sent to (honest and running).
    live: Arc<Mutex<Vec<Option<NodeHandle>>>>,
    pub admitted: Arc<Mutex<Vec<Admitted>>>,
    traffic: Option<(Arc<AtomicBool>, Handle<()>)>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("validators", &self.slots.len()).finish()
    }
}

impl Cluster {
    /// The network of `n` validators linked by `link`; no validator started yet.
    pub async fn new(ctx: deterministic::Context, n: usize, link: Link) -> Cluster {
        let keys: Vec<PrivateKey> = (0..n as u64).map(|i| key("validator", i)).collect();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let genesis = simulation::genesis(&publics, GENESIS_MS);
        let oracle = simulation::start_network(&ctx, &publics, link.clone()).await;
        let slots = (0..n)
            .map(|_| Slot {
                role: Role::Honest,
                node: None,
                task: None,
                incarnations: 0,
                past: Observed::default(),
                observer: ObserverMode::Honest,
            })
            .collect();
        Cluster {
            ctx,
            oracle,
            genesis,
            keys,
            publics,
            link,
            timing: timing(),
            scenario: None,
            slots,
            live: Arc::new(Mutex::new(vec![None; n])),
            admitted: Arc::new(Mutex::new(Vec::new())),
            traffic: None,
        }
    }

    /// `n` honest validators, all started.
    pub async fn start(ctx: deterministic::Context, n: usize, link: Link) -> Cluster {
        let mut c = Cluster::new(ctx, n, link).await;
        for i in 0..n {
            c.start_node(i).await;
        }
        c
    }

    pub fn n(&self) -> usize {
        self.slots.len()
    }

    pub fn honest(&self) -> Vec<usize> {
        (0..self.n()).filter(|i| self.slots[*i].role == Role::Honest).collect()
    }

    /// Starts (or restarts, with the same key and storage) honest validator `i` in its own task.
    pub async fn start_node(&mut self, i: usize) {
        let (tx, rx) = oneshot::channel();
        let oracle = self.oracle.clone();
        let genesis = self.genesis.clone();
        let key = self.keys[i].clone();
        let timing = self.timing;
        let index = genesis.sorted_validators().iter().position(|v| *v == key.public_key());
        let mode = self.slots[i].observer;
        let observer = (mode != ObserverMode::Off).then(|| {
            let mut o = observer::devnet(&genesis, index.unwrap_or(0) as u64, self.scenario);
            if let ObserverMode::Tamper(t) = mode {
                o.tamper = Some(t);
            }
            o
        });
        let slot = &mut self.slots[i];
        assert!(slot.node.is_none(), "validator {i} already runs");
        let task = self
            .ctx
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("incarnation", slot.incarnations)
            .spawn(move |c| async move {
                let node =
                    simulation::start_validator_with(c, &oracle, &genesis, key, timing, observer)
                        .await;
                let _ = tx.send(node);
                futures::future::pending::<()>().await
            });
        let node = match rx.await {
            Ok(Ok(node)) => node,
            Ok(Err(e)) => {
                panic!("validator {i} (incarnation {}) fails to start: {e}", slot.incarnations)
            }
            Err(_) => panic!("validator {i} start task ended"),
        };
        slot.incarnations += 1;
        slot.task = Some(task);
        slot.node = Some(node.clone());
        if let Ok(mut live) = self.live.lock() {
            live[i] = Some(node);
        }
    }

    /// Kills validator `i` uncleanly (its task and every task under it are aborted) and keeps
    /// what it observed.
    pub async fn kill(&mut self, i: usize) {
        if let Ok(mut live) = self.live.lock() {
            live[i] = None;
        }
        let admitted = self.admitted();
        let slot = &mut self.slots[i];
        if let Some(task) = slot.task.take() {
            task.abort();
            let _ = task.await;
        }
        if let Some(node) = slot.node.take() {
            let seen = observe(&node, &admitted);
            slot.past.merge(seen, i);
        }
    }

    /// Marks slot `i` as run by a byzantine participant (started by the scenario on the slot's
    /// key and channels): never started as ours, excluded from traffic and checks.
    pub fn set_byzantine(&mut self, i: usize) {
        self.slots[i].role = Role::Byzantine;
    }

    /// Removes every link to and from the validators in `group`.
    pub async fn isolate(&self, group: &[usize]) {
        for a in 0..self.n() {
            for b in 0..self.n() {
                if a != b && (group.contains(&a) || group.contains(&b)) {
                    let _ = self
                        .oracle
                        .remove_link(self.publics[a].clone(), self.publics[b].clone())
                        .await;
                }
            }
        }
    }

    /// Removes the links between `group` and the other validators (each side stays connected).
    pub async fn split(&self, group: &[usize]) {
        for a in 0..self.n() {
            for b in 0..self.n() {
                if group.contains(&a) != group.contains(&b) {
                    let _ = self
                        .oracle
                        .remove_link(self.publics[a].clone(), self.publics[b].clone())
                        .await;
                }
            }
        }
    }

    /// Links every pair (again) with the cluster's link, replacing any link they had (the
    /// simulated network refuses to add a link that exists).
    pub async fn heal(&self) {
        for a in 0..self.n() {
            for b in 0..self.n() {
                if a != b {
                    let (pa, pb) = (self.publics[a].clone(), self.publics[b].clone());
                    let _ = self.oracle.remove_link(pa.clone(), pb.clone()).await;
                    let added = self.oracle.add_link(pa, pb, self.link.clone()).await;
                    assert!(added.is_ok(), "link {a} -> {b}: {added:?}");
                }
            }
        }
    }

    /// Starts traffic: faucet credits, then an order every `interval_ms` from a rotating trader
    /// to a random live validator.
    pub fn start_traffic(&mut self, interval_ms: u64) {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = self.ctx.child("traffic").spawn({
            let live = self.live.clone();
            let admitted = self.admitted.clone();
            let stop = stop.clone();
            move |ctx| traffic(ctx, live, admitted, stop, interval_ms)
        });
        self.traffic = Some((stop, handle));
    }

    /// Stops the traffic (waits for its task to end).
    pub async fn stop_traffic(&mut self) {
        if let Some((stop, handle)) = self.traffic.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = handle.await;
        }
    }

    /// Submits `bytes` to validator `i` (if running); records it if admitted.
    pub fn submit_to(&self, i: usize, bytes: Vec<u8>) {
        let nodes = self.live.lock().map(|l| l.clone()).unwrap_or_default();
        submit(&nodes, i, bytes, now_ms(&self.ctx), &self.admitted);
    }

    pub fn admitted(&self) -> Vec<Admitted> {
        self.admitted.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Finalized height of each honest validator (None: not running).
    pub fn heights(&self) -> Vec<Option<u64>> {
        self.slots
            .iter()
            .map(|s| if s.role == Role::Honest { s.node.as_ref().map(height) } else { None })
            .collect()
    }

    /// Highest finalized height among running honest validators.
    pub fn max_height(&self) -> u64 {
        self.heights().into_iter().flatten().max().unwrap_or(0)
    }

    pub async fn sleep_ms(&self, ms: u64) {
        self.ctx.sleep(Duration::from_millis(ms)).await;
    }

    /// Polls `done` until it holds or `within_ms` of simulated time passed; whether it held.
    pub async fn wait_for(&self, within_ms: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        let deadline = now_ms(&self.ctx) + within_ms;
        loop {
            if done(self) {
                return true;
            }
            if now_ms(&self.ctx) >= deadline {
                return false;
            }
            self.sleep_ms(POLL_MS).await;
        }
    }

    /// Waits until every validator in `who` (running, honest) reached `target`; panics with
    /// the heights if that takes more than `within_ms`.
    pub async fn expect_height(&self, who: &[usize], target: u64, within_ms: u64, what: &str) {
        let ok = self
            .wait_for(within_ms, |c| {
                who.iter().all(|i| c.slots[*i].node.as_ref().map(height).unwrap_or(0) >= target)
            })
            .await;
        assert!(
            ok,
            "{what}: validators {who:?} did not reach height {target}: {:?}",
            self.heights()
        );
    }

    /// Everything honest validators observed, merged over incarnations, indexed by validator.
    pub fn observed(&self) -> Vec<(usize, Observed)> {
        let admitted = self.admitted();
        self.honest()
            .into_iter()
            .map(|i| {
                let slot = &self.slots[i];
                let mut o = slot.past.clone();
                if let Some(node) = &slot.node {
                    o.merge(observe(node, &admitted), i);
                }
                (i, o)
            })
            .collect()
    }

    /// What the running incarnation of every running honest validator observed.
    pub fn current(&self) -> Vec<(usize, Observed)> {
        let admitted = self.admitted();
        self.honest()
            .into_iter()
            .filter_map(|i| self.slots[i].node.as_ref().map(|n| (i, observe(n, &admitted))))
            .collect()
    }

    /// Whether every admitted transaction (not in `lost`) has a final status somewhere.
    pub fn all_accounted(&self, lost: &dyn Fn(&Admitted) -> bool) -> bool {
        let observed = self.observed();
        self.admitted()
            .iter()
            .filter(|a| !lost(a))
            .all(|a| observed.iter().any(|(_, o)| o.results.contains_key(&a.hash)))
    }

    /// Stops traffic and lets the chain settle: every admitted transaction (except the ones
    /// `lost` excuses) reaches a final status, and every running honest validator finalizes
    /// a few more blocks. Then runs every check.
    pub async fn settle_and_check(
        &mut self,
        lost: &dyn Fn(&Admitted) -> bool,
    ) -> Vec<(usize, Observed)> {
        self.stop_traffic().await;
        let accounted = self.wait_for(60_000, |c| c.all_accounted(lost)).await;
        let target = self.max_height() + 3;
        let running: Vec<usize> =
            self.honest().into_iter().filter(|i| self.slots[*i].node.is_some()).collect();
        self.expect_height(&running, target, 60_000, "settle").await;
        let observed = self.observed();
        check_agreement(&observed);
        check_outcomes(&observed);
        if !accounted {
            report_unaccounted(&self.admitted(), &observed, lost);
        }
        let blocked = self.oracle.blocked().await.unwrap_or_default();
        let blocked: Vec<(usize, usize)> = blocked
            .iter()
            .filter_map(|(a, b)| {
                let i = self.publics.iter().position(|p| p == a)?;
                let j = self.publics.iter().position(|p| p == b)?;
                Some((i, j))
            })
            .collect();
        eprintln!(
            "settled at {} ms: heights {:?}, {:?}, blocked (by, whom) {blocked:?}",
            now_ms(&self.ctx) - GENESIS_MS,
            self.heights(),
            summary(&self.admitted(), &observed)
        );
        observed
    }

    /// Each trader's (cash, position in market 0) on every running honest validator, with the
    /// height it is read at.
    pub async fn accounts(&self) -> Vec<(usize, u64, Vec<(i128, i64)>)> {
        let mut out = Vec::new();
        for i in self.honest() {
            let Some(node) = &self.slots[i].node else { continue };
            let mut at = None;
            let mut v = Vec::new();
            for t in 0..TRADERS {
                let a = node.executor.account(addr(&key("trader", t)), 0).await;
                if let Some(p) = &a {
                    at = Some(p.height);
                }
                v.push(
                    a.map(|p| {
                        let cross = &p.snapshot.cross;
                        (cross.cash.0, cross.legs.first().map(|l| l.size).unwrap_or(0))
                    })
                    .unwrap_or_default(),
                );
            }
            out.push((i, at.unwrap_or(0), v));
        }
        out
    }

    /// Traders' accounts are identical on every running honest validator (read at one height:
    /// retried while a block lands between the reads), and some trader holds a position (the
    /// traffic matched).
    pub async fn check_accounts(&self) {
        let mut accounts = self.accounts().await;
        for _ in 0..ACCOUNT_READS_MAX {
            if accounts.iter().all(|(_, h, _)| *h == accounts[0].1) {
                break;
            }
            self.sleep_ms(20).await;
            accounts = self.accounts().await;
        }
        let (_, h0, a0) = &accounts[0];
        for (i, h, a) in &accounts {
            assert_eq!(h, h0, "accounts never read at one height: {accounts:?}");
            assert_eq!(a, a0, "validator {i} holds different accounts at height {h}");
        }
        assert!(a0.iter().any(|(_, pos)| *pos != 0), "no trader holds a position: {accounts:?}");
    }

    /// The auditor's digest and every honest validator's chain (what two runs of a seed compare).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            auditor: self.ctx.auditor().state(),
            chains: self.observed().into_iter().map(|(i, o)| (i, o.chain)).collect(),
        }
    }
}

/// What two runs of one seed must reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub auditor: String,
    pub chains: Vec<(usize, Chain)>,
}

/// Runs `scenario` twice on `seed` and checks both runs are identical. With
/// `NOVATION_SIM_LOG=warn|info|debug|trace` the runs print their log events to stderr.
pub fn twice(seed: u64, scenario: impl Fn(u64) -> Fingerprint) -> Fingerprint {
    let _log = log::from_env();
    let a = scenario(seed);
    let b = scenario(seed);
    assert_eq!(a.chains, b.chains, "seed {seed}: the two runs finalized different chains");
    assert_eq!(a.auditor, b.auditor, "seed {seed}: the two runs differ (auditor digest)");
    a
}

/// Every pair of honest validators agrees on every height both finalized.
pub fn check_agreement(observed: &[(usize, Observed)]) {
    let mut reference: BTreeMap<u64, (usize, (Digest, Digest))> = BTreeMap::new();
    for (i, o) in observed {
        for (h, v) in &o.chain {
            match reference.get(h) {
                Some((j, w)) => assert_eq!(
                    w, v,
                    "fork: validators {j} and {i} finalized different blocks or roots at height {h}"
                ),
                None => {
                    reference.insert(*h, (*i, *v));
                }
            }
        }
    }
}

/// Every honest validator reports the same outcome (and height) for a finalized transaction.
pub fn check_outcomes(observed: &[(usize, Observed)]) {
    let mut reference: BTreeMap<[u8; 32], (usize, &TxStatus)> = BTreeMap::new();
    for (i, o) in observed {
        for (hash, s) in &o.results {
            if !matches!(s, TxStatus::Finalized { .. }) {
                continue;
            }
            match reference.get(hash) {
                Some((j, t)) => assert_eq!(
                    *t,
                    s,
                    "validators {j} and {i} disagree on the outcome of tx {}",
                    short(hash)
                ),
                None => {
                    reference.insert(*hash, (*i, s));
                }
            }
        }
    }
}

fn report_unaccounted(
    admitted: &[Admitted],
    observed: &[(usize, Observed)],
    lost: &dyn Fn(&Admitted) -> bool,
) {
    let missing: Vec<String> = admitted
        .iter()
        .filter(|a| !lost(a))
        .filter(|a| !observed.iter().any(|(_, o)| o.results.contains_key(&a.hash)))
        .map(|a| {
            format!("{} (admitted by {} at {} ms)", short(&a.hash), a.node, a.at_ms - GENESIS_MS)
        })
        .collect();
    panic!(
        "{} of {} admitted transactions were neither finalized nor dropped: {missing:?}",
        missing.len(),
        admitted.len()
    );
}

/// What a run did, in numbers (printed by every scenario; shown with `--nocapture`).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Highest finalized height.
    pub top: u64,
    /// Distinct admitted transactions.
    pub admitted: usize,
    /// Distinct transactions finalized.
    pub finalized: usize,
    /// Distinct transactions dropped, by reason.
    pub dropped: BTreeMap<String, usize>,
}

pub fn summary(admitted: &[Admitted], observed: &[(usize, Observed)]) -> Summary {
    let top =
        observed.iter().filter_map(|(_, o)| o.chain.keys().next_back().copied()).max().unwrap_or(0);
    let distinct: std::collections::BTreeSet<[u8; 32]> = admitted.iter().map(|a| a.hash).collect();
    let mut status: BTreeMap<[u8; 32], &TxStatus> = BTreeMap::new();
    for (_, o) in observed {
        for (h, s) in &o.results {
            let e = status.entry(*h).or_insert(s);
            if matches!(s, TxStatus::Finalized { .. }) {
                *e = s;
            }
        }
    }
    let mut out = Summary { top, admitted: distinct.len(), ..Summary::default() };
    for s in status.values() {
        match s {
            TxStatus::Finalized { .. } => out.finalized += 1,
            TxStatus::Dropped { reason, .. } => {
                // Keep the reason's kind, not its numbers.
                let kind = reason.split(|c: char| c.is_ascii_digit()).next().unwrap_or("").trim();
                *out.dropped.entry(kind.to_string()).or_insert(0) += 1;
            }
            TxStatus::Pending => {}
        }
    }
    out
}

pub fn addr(key: &PrivateKey) -> novation_types::Address {
    address_of(&TxPublicKey::Ed25519(key.public_key()))
}

/// Signs a transaction of `key` with `nonce`.
pub fn sign(key: &PrivateKey, nonce: u64, actions: Vec<TxAction>) -> Vec<u8> {
    let body = TxBody { chain_id: ChainId(1), nonce, master: None, actions };
    novation_chain::node::encode_tx(&SignedTx::sign(key, body))
}

/// The order of traffic round `round`: makers rest both sides around $100,000 (1,000,000
/// ticks), every third order crosses.
fn order(round: u64) -> OrderRequest {
    let side = if round.is_multiple_of(2) { Side::Buy } else { Side::Sell };
    let offset = (round % 7) * 10;
    let price = match (side, round.is_multiple_of(3)) {
        (Side::Buy, false) => 999_000 - offset,
        (Side::Sell, false) => 1_001_000 + offset,
        (Side::Buy, true) => 1_010_000,
        (Side::Sell, true) => 990_000,
    };
    OrderRequest::limit(0, MarketId(0), side, price, 10 + round % 5)
}

/// Submits `bytes` to validator `i`; records it if admitted.
fn submit(
    live: &[Option<NodeHandle>],
    i: usize,
    bytes: Vec<u8>,
    now: u64,
    admitted: &Mutex<Vec<Admitted>>,
) {
    let Some(node) = &live[i] else { return };
    if let Ok(hash) = node.submit(&bytes, now) {
        if let Ok(mut a) = admitted.lock() {
            a.push(Admitted { hash, bytes, node: i, at_ms: now });
        }
    }
}

async fn traffic(
    mut ctx: deterministic::Context,
    live: Arc<Mutex<Vec<Option<NodeHandle>>>>,
    admitted: Arc<Mutex<Vec<Admitted>>>,
    stop: Arc<AtomicBool>,
    interval_ms: u64,
) {
    let faucet = key("faucet", 0);
    let traders: Vec<PrivateKey> = (0..TRADERS).map(|i| key("trader", i)).collect();
    let mut nonce = now_ms(&ctx);
    // Credit every trader, through every live validator (the same bytes: admitted once per
    // mempool, one hash).
    let credits: Vec<TxAction> = traders
        .iter()
        .map(|t| TxAction::Faucet { to: addr(t), sub: 0, amount: Quote(1_000_000 * 1_000_000) })
        .collect();
    nonce += 1;
    let bytes = sign(&faucet, nonce, credits);
    {
        let nodes = live.lock().map(|l| l.clone()).unwrap_or_default();
        for i in 0..nodes.len() {
            submit(&nodes, i, bytes.clone(), now_ms(&ctx), &admitted);
        }
    }
    ctx.sleep(Duration::from_millis(1_000)).await;
    let mut round = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let now = now_ms(&ctx);
        nonce = nonce.max(now) + 1;
        let nodes = live.lock().map(|l| l.clone()).unwrap_or_default();
        let running: Vec<usize> = (0..nodes.len()).filter(|i| nodes[*i].is_some()).collect();
        if !running.is_empty() {
            let i = running[(ctx.next_u64() % running.len() as u64) as usize];
            let t = &traders[(round % TRADERS) as usize];
            submit(&nodes, i, sign(t, nonce, vec![TxAction::Place(order(round))]), now, &admitted);
            round += 1;
        }
        ctx.sleep(Duration::from_millis(interval_ms)).await;
    }
}
