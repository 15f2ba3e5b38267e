//! A validator's price observer: reads its configured sources for every asset, combines them
//! (`novation_oracle::source::combine`: weighted median, stale/future/invalid/outlier sources
//! dropped, nothing reported with fewer than `min_sources`), signs the result and hands it to
//! gossip and the local [`crate::oracle::ObservationPool`].
//!
//! Sources implement [`PriceSource`], a synchronous read of the latest price a source holds:
//! computed sources ([`SimSource`] on the devnet path, [`CsvSource`] replaying a series,
//! [`FixedSource`]) answer at once; network sources (the exchange adapters, wired by the
//! `novation` binary) poll in their own task and answer from their cache, with the time their
//! price was current, so a slow exchange makes its reading stale instead of delaying the
//! observation.
//!
//! **Pacing.** A round runs only when the chain has moved since the previous one (the node
//! proposed a block or received one to verify, signalled through [`Progress`]), and at least
//! the configured interval after it. On a healthy chain blocks come faster than the interval,
//! so observations go out every interval, as fresh as before; when blocks slow down,
//! observations slow down with them (about one per block) instead of competing with the votes
//! for the links. Measured in the deterministic simulation on slow lossy links, where every
//! extra message on a link delays the messages behind it (ADR 0008, consequences).
//!
//! A [`Tamper`] turns the observer into a faulty validator (scaled or fixed reports) for
//! adversarial tests and devnet demonstrations; honest configurations leave it `None`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_cryptography::ed25519;
use futures::channel::mpsc;
use futures::StreamExt as _;
use novation_oracle::aggregate::Observation;
use novation_oracle::replay::CsvSeries;
use novation_oracle::simfeed::{SimFeed, SimFeedConfig};
use novation_oracle::source::{combine, Reading, SourceParams};
use novation_oracle::{AssetId, OraclePrice};
use tracing::debug;

use crate::oracle::{ObservationPool, SignedObservation};
use crate::tx::ChainId;

/// Most sources per asset.
pub const SOURCES_PER_ASSET_MAX: usize = 16;

/// One price source of one asset.
pub trait PriceSource: Send + 'static {
    /// The latest price the source holds at `now_ms` and the time it was current, if any.
    fn read(&mut self, now_ms: u64) -> Option<(OraclePrice, u64)>;
    /// A name for logs.
    fn name(&self) -> String;
}

/// One simulated venue on the devnet price path: the path is the same for every validator,
/// each (validator, venue) pair adds its own small noise.
#[derive(Debug)]
pub struct SimSource {
    /// The path.
    pub feed: SimFeed,
    /// This validator (noise stream).
    pub validator: u64,
    /// This venue (noise stream).
    pub venue: u16,
}

impl PriceSource for SimSource {
    fn read(&mut self, now_ms: u64) -> Option<(OraclePrice, u64)> {
        Some((self.feed.observe(now_ms, self.validator, self.venue), now_ms))
    }
    fn name(&self) -> String {
        format!("sim#{}", self.venue)
    }
}

/// A CSV series replayed against the clock.
#[derive(Debug)]
pub struct CsvSource {
    /// The series (already rebased to the time it should start).
    pub series: Arc<CsvSeries>,
}

impl PriceSource for CsvSource {
    fn read(&mut self, now_ms: u64) -> Option<(OraclePrice, u64)> {
        self.series.price_at(now_ms).map(|p| (p, now_ms))
    }
    fn name(&self) -> String {
        "csv".into()
    }
}

/// A fixed price (a stuck feed, or a test fixture).
#[derive(Debug)]
pub struct FixedSource(pub OraclePrice);

impl PriceSource for FixedSource {
    fn read(&mut self, now_ms: u64) -> Option<(OraclePrice, u64)> {
        Some((self.0, now_ms))
    }
    fn name(&self) -> String {
        format!("fixed {}", self.0)
    }
}

/// A source shared with a background poller: the poller stores the latest reading, the
/// observer reads it.
#[derive(Clone, Debug, Default)]
pub struct CachedSource {
    latest: Arc<Mutex<Option<(OraclePrice, u64)>>>,
    name: String,
}

impl CachedSource {
    /// An empty cache named `name`.
    pub fn new(name: impl Into<String>) -> CachedSource {
        CachedSource { latest: Arc::default(), name: name.into() }
    }

    /// Stores a reading (the poller's side).
    pub fn store(&self, price: OraclePrice, time_ms: u64) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some((price, time_ms));
    }
}

impl PriceSource for CachedSource {
    fn read(&mut self, _now_ms: u64) -> Option<(OraclePrice, u64)> {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// One source and its weight.
pub struct WeightedSource {
    /// The source.
    pub source: Box<dyn PriceSource>,
    /// Its weight in the validator's median.
    pub weight: u32,
}

impl std::fmt::Debug for WeightedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (weight {})", self.source.name(), self.weight)
    }
}

/// The sources of one asset.
#[derive(Debug)]
pub struct AssetSources {
    /// The asset.
    pub asset: AssetId,
    /// Its sources (at most [`SOURCES_PER_ASSET_MAX`]).
    pub sources: Vec<WeightedSource>,
}

/// A faulty validator's reports (fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Every reported price multiplied by `num / den`.
    Scale { num: u64, den: u64 },
    /// Every reported price replaced by this one (zero included).
    Fixed(OraclePrice),
}

impl Tamper {
    fn apply(self, p: OraclePrice) -> OraclePrice {
        match self {
            Tamper::Scale { num, den } => {
                let v = u128::from(p.0) * u128::from(num) / u128::from(den.max(1));
                OraclePrice(u64::try_from(v).unwrap_or(u64::MAX))
            }
            Tamper::Fixed(q) => q,
        }
    }
}

/// A validator's observer configuration.
#[derive(Debug)]
pub struct ObserverConfig {
    /// Time between observations.
    pub interval: Duration,
    /// How sources are combined.
    pub params: SourceParams,
    /// Per asset, its sources (assets without any are not reported).
    pub assets: Vec<AssetSources>,
    /// Fault injection; `None` for an honest validator.
    pub tamper: Option<Tamper>,
}

/// A named price scenario on the simulated path and when it starts (ms since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioAt {
    /// The scenario.
    pub scenario: novation_oracle::simfeed::Scenario,
    /// Its start time.
    pub at_ms: u64,
}

/// The devnet observer of validator `validator`: every genesis asset priced by three simulated
/// venues (weights 3, 2, 2) on one seeded path per asset starting at the asset's genesis price
/// and time, with a scenario if any. Every validator follows the same path; each adds its own
/// small noise.
pub fn devnet(
    genesis: &crate::genesis::Genesis,
    validator: u64,
    scenario: Option<ScenarioAt>,
) -> ObserverConfig {
    let assets = genesis
        .oracle
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let cfg = devnet_path(genesis, i, a.price, scenario);
            let sources = DEVNET_VENUE_WEIGHTS
                .iter()
                .enumerate()
                .filter_map(|(venue, &weight)| {
                    let feed = SimFeed::new(cfg).ok()?;
                    let source: Box<dyn PriceSource> =
                        Box::new(SimSource { feed, validator, venue: venue as u16 });
                    Some(WeightedSource { source, weight })
                })
                .collect();
            AssetSources { asset: AssetId(i as u16), sources }
        })
        .collect();
    ObserverConfig {
        interval: Duration::from_millis(DEVNET_INTERVAL_MS),
        params: SourceParams::default(),
        assets,
        tamper: None,
    }
}

/// The devnet observation interval.
pub const DEVNET_INTERVAL_MS: u64 = 400;

/// The weights of the three simulated venues each devnet validator reads per asset.
pub const DEVNET_VENUE_WEIGHTS: [u32; 3] = [3, 2, 2];

/// The devnet price path of asset `index` (seeded by the chain id and the asset), starting at
/// `start` at genesis time.
pub fn devnet_path(
    genesis: &crate::genesis::Genesis,
    index: usize,
    start: OraclePrice,
    scenario: Option<ScenarioAt>,
) -> SimFeedConfig {
    let seed = genesis.chain_id.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ index as u64;
    let mut cfg = SimFeedConfig::devnet(seed, start, genesis.time_ms);
    if let Some(s) = scenario {
        cfg.scenario = Some(s.scenario);
        cfg.scenario_offset_ms = s.at_ms.saturating_sub(genesis.time_ms);
    }
    cfg
}

/// The observer's state between rounds.
#[derive(Debug)]
pub struct Observer {
    config: ObserverConfig,
    key: ed25519::PrivateKey,
    chain_id: ChainId,
    validator: u16,
    last_ms: u64,
}

impl Observer {
    /// An observer signing as validator `validator` (index in the sorted set) with `key`.
    pub fn new(
        config: ObserverConfig,
        key: ed25519::PrivateKey,
        chain_id: ChainId,
        validator: u16,
    ) -> Result<Observer, String> {
        config.params.validate().map_err(|e| format!("observer: {e}"))?;
        if config.interval.is_zero() {
            return Err("observer: the interval must be positive".into());
        }
        let mut last = None;
        for a in &config.assets {
            if last.is_some_and(|l| a.asset <= l) {
                return Err("observer: assets must be listed once each, in asset order".into());
            }
            last = Some(a.asset);
            if a.sources.len() > SOURCES_PER_ASSET_MAX {
                return Err(format!(
                    "observer: asset {} has {} sources, at most {SOURCES_PER_ASSET_MAX}",
                    a.asset.0,
                    a.sources.len()
                ));
            }
        }
        Ok(Observer { config, key, chain_id, validator, last_ms: 0 })
    }

    /// The interval between rounds.
    pub fn interval(&self) -> Duration {
        self.config.interval
    }

    /// One round at `now_ms`: reads every source, combines per asset, signs. `None` when no
    /// asset could be priced or the clock has not moved since the last round.
    pub fn observe(&mut self, now_ms: u64) -> Option<SignedObservation> {
        if now_ms <= self.last_ms {
            return None;
        }
        let mut prices = Vec::with_capacity(self.config.assets.len());
        for a in &mut self.config.assets {
            let readings: Vec<Reading> = a
                .sources
                .iter_mut()
                .enumerate()
                .filter_map(|(i, s)| {
                    s.source.read(now_ms).map(|(price, time_ms)| Reading {
                        source: i as u16,
                        weight: s.weight,
                        price,
                        time_ms,
                    })
                })
                .collect();
            match combine(&readings, now_ms, &self.config.params) {
                Ok(p) => {
                    let p = self.config.tamper.map_or(p, |t| t.apply(p));
                    prices.push((a.asset, p));
                }
                Err(e) => debug!(asset = a.asset.0, reason = %e, "no price for asset"),
            }
        }
        if prices.is_empty() {
            return None;
        }
        self.last_ms = now_ms;
        let obs = Observation { time_ms: now_ms, prices };
        Some(SignedObservation::sign(&self.key, self.chain_id, self.validator, obs))
    }
}

/// Tells a validator's observer that the chain moved: the node proposed a block or received
/// one to verify (see the module doc, "Pacing"). Cheap and never blocks; a signal nobody waits
/// for is dropped.
#[derive(Clone, Debug)]
pub struct Progress(mpsc::UnboundedSender<()>);

impl Progress {
    /// The chain moved.
    pub fn advance(&self) {
        let _ = self.0.unbounded_send(());
    }
}

/// The observer's side of [`Progress`].
#[derive(Debug)]
pub struct ProgressWatch(mpsc::UnboundedReceiver<()>);

impl ProgressWatch {
    /// Waits until the chain moved since the last call (at once if it already has). False once
    /// every [`Progress`] is gone (the node stopped).
    pub async fn moved(&mut self) -> bool {
        if self.0.next().await.is_none() {
            return false;
        }
        // Everything signalled so far is answered by the one observation that follows.
        while self.0.try_recv().is_ok() {}
        true
    }
}

/// A connected [`Progress`] / [`ProgressWatch`] pair.
pub fn progress() -> (Progress, ProgressWatch) {
    let (tx, rx) = mpsc::unbounded();
    (Progress(tx), ProgressWatch(rx))
}

/// Runs `observer` on `clock` until `progress` ends: whenever the chain has moved since the
/// last round and at least an interval has passed since it, observe and pass the signed
/// observation to `pool` and `publish`.
pub async fn run<C, F>(
    clock: C,
    mut observer: Observer,
    pool: Arc<Mutex<ObservationPool>>,
    mut progress: ProgressWatch,
    mut publish: F,
) where
    C: commonware_runtime::Clock,
    F: FnMut(&SignedObservation),
{
    while progress.moved().await {
        let now = clock
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if let Some(obs) = observer.observe(now) {
            pool.lock().unwrap_or_else(|e| e.into_inner()).insert(obs.clone());
            publish(&obs);
        }
        clock.sleep(observer.interval()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer as _;

    fn fixed(usd: u64) -> WeightedSource {
        WeightedSource { source: Box::new(FixedSource(OraclePrice::from_usd(usd))), weight: 1 }
    }

    fn observer(sources: Vec<WeightedSource>, tamper: Option<Tamper>) -> Observer {
        let config = ObserverConfig {
            interval: Duration::from_millis(500),
            params: SourceParams::default(),
            assets: vec![AssetSources { asset: AssetId(0), sources }],
            tamper,
        };
        Observer::new(config, ed25519::PrivateKey::from_seed(1), ChainId(1), 0).unwrap()
    }

    #[test]
    fn median_of_sources_signed() {
        let mut o = observer(vec![fixed(100), fixed(101), fixed(102)], None);
        let s = o.observe(1_000).unwrap();
        assert_eq!(s.observation.prices, vec![(AssetId(0), OraclePrice::from_usd(101))]);
        let pk = ed25519::PrivateKey::from_seed(1).public_key();
        assert!(s.verify(ChainId(1), &[pk]));
        assert!(o.observe(1_000).is_none(), "the clock must move");
        assert!(o.observe(1_001).is_some());
    }

    #[test]
    fn two_live_sources_report_nothing() {
        let mut o = observer(vec![fixed(100), fixed(101)], None);
        assert!(o.observe(1_000).is_none());
        // A broken third source (zero) does not count either.
        let mut o = observer(vec![fixed(100), fixed(101), fixed(0)], None);
        assert!(o.observe(1_000).is_none());
    }

    #[test]
    fn tamper_scales_or_replaces() {
        let mut o = observer(
            vec![fixed(100), fixed(100), fixed(100)],
            Some(Tamper::Scale { num: 1000, den: 1 }),
        );
        let s = o.observe(1).unwrap();
        assert_eq!(s.observation.prices[0].1, OraclePrice::from_usd(100_000));
        let mut o =
            observer(vec![fixed(100), fixed(100), fixed(100)], Some(Tamper::Fixed(OraclePrice(0))));
        assert_eq!(o.observe(1).unwrap().observation.prices[0].1, OraclePrice(0));
    }
}

#[cfg(test)]
mod pacing_tests {
    use super::*;
    use commonware_cryptography::Signer as _;
    use commonware_runtime::{
        deterministic, Clock as _, Runner as _, Spawner as _, Supervisor as _,
    };
    use futures::FutureExt as _;

    const START_MS: u64 = 1_000_000;

    fn observer() -> Observer {
        let sources = (0..3)
            .map(|_| WeightedSource {
                source: Box::new(FixedSource(OraclePrice::from_usd(100))),
                weight: 1,
            })
            .collect();
        let config = ObserverConfig {
            interval: Duration::from_millis(400),
            params: SourceParams::default(),
            assets: vec![AssetSources { asset: AssetId(0), sources }],
            tamper: None,
        };
        Observer::new(config, ed25519::PrivateKey::from_seed(1), ChainId(1), 0).unwrap()
    }

    #[test]
    fn moved_answers_every_signal_so_far_once() {
        let (p, mut w) = progress();
        assert!(w.moved().now_or_never().is_none(), "nothing signalled yet");
        p.advance();
        p.advance();
        p.advance();
        assert_eq!(w.moved().now_or_never(), Some(true));
        assert!(w.moved().now_or_never().is_none(), "three signals, one answer");
        p.advance();
        drop(p);
        assert_eq!(w.moved().now_or_never(), Some(true));
        assert_eq!(w.moved().now_or_never(), Some(false), "every sender gone");
    }

    /// Observation times (ms after the start) when the chain moves at `moves_ms`, over 10 s of
    /// simulated time.
    fn observed_at(moves_ms: Vec<u64>) -> Vec<u64> {
        let cfg = deterministic::Config::new()
            .with_start_time(std::time::UNIX_EPOCH + Duration::from_millis(START_MS));
        deterministic::Runner::new(cfg).start(|ctx| async move {
            let (p, w) = progress();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let pool = Arc::new(Mutex::new(ObservationPool::default()));
            let out = seen.clone();
            let _observer = ctx.child("observer").spawn(move |ctx| {
                run(ctx, observer(), pool, w, move |o| {
                    out.lock().unwrap().push(o.observation.time_ms - START_MS)
                })
            });
            let mut at = 0;
            for m in moves_ms {
                ctx.sleep(Duration::from_millis(m - at)).await;
                at = m;
                p.advance();
            }
            ctx.sleep(Duration::from_millis(10_000 - at)).await;
            let v = seen.lock().unwrap().clone();
            v
        })
    }

    #[test]
    fn observes_only_when_the_chain_moves_and_at_most_every_interval() {
        // Never moves: never observes.
        assert!(observed_at(vec![]).is_empty());
        // (The deterministic runtime's clock moves a little with every task switch: a few ms
        // of slack.)
        let near = |got: u64, want: u64| (want..want + 10).contains(&got);
        // Moves every 100 ms: one observation per interval, at once on the first move.
        let fast = observed_at((1..100).map(|i| i * 100).collect());
        assert!(near(fast[0], 100), "{fast:?}");
        assert!(fast.windows(2).all(|w| near(w[1] - w[0], 400)), "{fast:?}");
        assert!((22..=25).contains(&fast.len()), "{fast:?}");
        // Moves every 2 s: one observation per move, when it happens.
        let slow = observed_at(vec![2_000, 4_000, 6_000, 8_000]);
        assert_eq!(slow.len(), 4, "{slow:?}");
        assert!(
            slow.iter().zip([2_000, 4_000, 6_000, 8_000]).all(|(&g, w)| near(g, w)),
            "{slow:?}"
        );
    }
}
