//! The consensus step of the oracle: validators' signed observations in, one index price per
//! asset out. Every validator runs it on every block, so it is integer-only and deterministic.
//!
//! # State
//! [`OracleState`] holds, per validator, its stake and its **latest included observation**
//! (time and one price per asset it could price), and per asset the current index and the
//! height and time of its last update.
//!
//! # A block, in order
//! 1. **Admission** (a block carrying a bad one is invalid, see [`ObservationError`]): the
//!    block's observations come in strictly increasing validator order (one per validator);
//!    each names a known validator, prices known assets in increasing asset order, at most one
//!    price each, and is **strictly newer** than that validator's latest included observation —
//!    so an observation replayed from an older block is refused. The signature was checked by
//!    the chain before this step.
//! 2. **Future guard**: an observation timed more than `max_future_ms` after the block is
//!    dropped (not stored); the rest replace their validator's latest.
//! 3. **Per asset**, from every validator's latest observation:
//!    * dropped: older than `max_age_ms` before the block time (stale); no price for the asset
//!      (that validator had too few sources); a price that is zero or above
//!      [`PRICE_MAX`](crate::PRICE_MAX); a price further than `deviation_ppm` from the current
//!      index (skipped when the index has not updated for `rebase_after_blocks`, so a quorum
//!      can bring a halted asset back, and then until the clamped index has reached the
//!      quorum's median: after a real jump the index halts for `rebase_after_blocks`, then walks
//!      at the clamp's pace);
//!    * **quorum**: the stake behind the remaining prices must reach `quorum_bps` of the total
//!      stake, else the index does not update this block (never an average of too few: the
//!      Synthetix sKRW lesson);
//!    * **stake-weighted median** of the remaining prices: sort by price and take the first
//!      price at which the cumulative stake reaches half of the remaining stake (the lower
//!      weighted median; ties broken by validator order, which cannot change the price);
//!    * **clamp**: the new index moves at most `clamp_ppm` from the current one (rounded
//!      toward the current index), then replaces it.
//!
//! With honest validators holding the quorum, any minority reporting 1000×, 0 or nothing moves
//! the index at most to the edge of the honest prices (a weighted median's breakdown point is
//! half the stake); the deviation band and clamp bound what even a quorum of wrong reports can do
//! in one block.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::price::{AssetId, OraclePrice};

/// Most assets the oracle prices.
pub const ASSETS_MAX: usize = 64;
/// Most validators the oracle weighs.
pub const VALIDATORS_MAX: usize = 256;
/// Parts per million.
pub const PPM: u64 = 1_000_000;
/// Basis points in one.
pub const BPS: u64 = 10_000;

/// The consensus-side oracle parameters (in genesis).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct OracleParams {
    /// Stake needed behind valid prices for an update, in basis points of total stake
    /// (6667 = two thirds).
    pub quorum_bps: u32,
    /// An observation older than this (block time minus observation time) is stale.
    pub max_age_ms: u64,
    /// An observation timed more than this after the block is dropped.
    pub max_future_ms: u64,
    /// A price further than this from the current index is dropped (ppm of the index).
    pub deviation_ppm: u32,
    /// After this many blocks without an update, the deviation band is not applied.
    pub rebase_after_blocks: u64,
    /// The index moves at most this much per block (ppm of the index).
    pub clamp_ppm: u32,
}

impl OracleParams {
    /// Defaults for blocks every 100–300 ms and observations every ~500 ms: two-thirds quorum,
    /// 3 s freshness, 500 ms clock skew, a ±50% band, 2% per block.
    pub const DEFAULT: OracleParams = OracleParams {
        quorum_bps: 6667,
        max_age_ms: 3_000,
        max_future_ms: 500,
        deviation_ppm: 500_000,
        rebase_after_blocks: 100,
        clamp_ppm: 20_000,
    };

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if !(5_001..=10_000).contains(&self.quorum_bps) {
            return Err(ParamsError::Quorum(self.quorum_bps));
        }
        if self.max_age_ms == 0 || self.max_age_ms > 600_000 {
            return Err(ParamsError::MaxAge(self.max_age_ms));
        }
        if self.max_future_ms > 60_000 {
            return Err(ParamsError::MaxFuture(self.max_future_ms));
        }
        if self.deviation_ppm == 0 || u64::from(self.deviation_ppm) > 10 * PPM {
            return Err(ParamsError::Deviation(self.deviation_ppm));
        }
        if self.rebase_after_blocks == 0 {
            return Err(ParamsError::Rebase);
        }
        if self.clamp_ppm == 0 || u64::from(self.clamp_ppm) >= PPM {
            return Err(ParamsError::Clamp(self.clamp_ppm));
        }
        Ok(())
    }
}

impl Default for OracleParams {
    fn default() -> Self {
        OracleParams::DEFAULT
    }
}

/// Why oracle parameters or a genesis oracle were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("quorum_bps must be in 5001..=10000 (more than half the stake), got {0}")]
    Quorum(u32),
    #[error("max_age_ms must be in 1..=600000, got {0}")]
    MaxAge(u64),
    #[error("max_future_ms must be at most 60000, got {0}")]
    MaxFuture(u64),
    #[error("deviation_ppm must be in 1..=10000000, got {0}")]
    Deviation(u32),
    #[error("rebase_after_blocks must be at least 1")]
    Rebase,
    #[error("clamp_ppm must be in 1..1000000, got {0}")]
    Clamp(u32),
    #[error("the oracle needs between 1 and {VALIDATORS_MAX} validators, got {0}")]
    Validators(usize),
    #[error("validator {0} has zero stake")]
    ZeroStake(usize),
    #[error("total stake overflows")]
    StakeOverflow,
    #[error("the oracle needs between 1 and {ASSETS_MAX} assets, got {0}")]
    Assets(usize),
    #[error("asset {0}: the genesis price must be positive and at most $1e9")]
    GenesisPrice(u16),
}

/// One validator's observation: its time and one price per asset it could price, in
/// increasing asset order.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Observation {
    /// When the validator observed, ms since the Unix epoch (its clock).
    pub time_ms: u64,
    /// Prices, in strictly increasing asset order.
    pub prices: Vec<(AssetId, OraclePrice)>,
}

impl Observation {
    /// The price for `asset`, if the observation has one.
    pub fn price(&self, asset: AssetId) -> Option<OraclePrice> {
        self.prices.binary_search_by_key(&asset, |(a, _)| *a).ok().map(|i| self.prices[i].1)
    }
}

/// Why a block's observations make it invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    #[error("observation from unknown validator {0}")]
    UnknownValidator(u16),
    #[error("observations must be in strictly increasing validator order (validator {0})")]
    Order(u16),
    #[error("validator {validator}: observation at {got} ms is not newer than its latest included one at {latest} ms (replay)")]
    NotNewer { validator: u16, latest: u64, got: u64 },
    #[error("validator {validator}: prices must name known assets in strictly increasing order (asset {asset})")]
    Assets { validator: u16, asset: u16 },
}

/// Counts of what one asset's aggregation dropped, and the outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssetReport {
    /// The asset.
    pub asset: AssetId,
    /// Validators whose latest observation is stale (or who never observed).
    pub stale: u16,
    /// Validators whose latest observation has no price for the asset.
    pub missing: u16,
    /// Prices dropped as zero or above the maximum.
    pub invalid: u16,
    /// Prices dropped as too far from the index.
    pub deviating: u16,
    /// Stake behind the prices that counted.
    pub valid_stake: u64,
    /// The stake-weighted median, when the quorum was reached.
    pub median: Option<OraclePrice>,
    /// The new index, when it updated (the median after the clamp).
    pub index: Option<OraclePrice>,
}

/// What one block did to the oracle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockReport {
    /// Observations dropped for a future timestamp (validator indices).
    pub future: Vec<u16>,
    /// One report per asset, in asset order.
    pub assets: Vec<AssetReport>,
}

impl BlockReport {
    /// The assets whose index updated this block, with the new index.
    pub fn updates(&self) -> impl Iterator<Item = (AssetId, OraclePrice)> + '_ {
        self.assets.iter().filter_map(|r| r.index.map(|p| (r.asset, p)))
    }
}

/// One asset's consensus state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AssetState {
    /// The current index.
    pub index: OraclePrice,
    /// Height of the block that last updated it (0: genesis).
    pub updated_height: u64,
    /// Time of that block.
    pub updated_ms: u64,
    /// Whether the last update was held back by the clamp after the band had been lifted: the
    /// band stays lifted until the index reaches the median.
    pub converging: bool,
}

/// One validator's consensus state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorState {
    /// Its weight in the median.
    pub stake: u64,
    /// Its latest included observation, if any.
    pub latest: Option<Observation>,
}

/// The oracle's replicated state (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OracleState {
    params: OracleParams,
    validators: Vec<ValidatorState>,
    assets: Vec<AssetState>,
    total_stake: u64,
    dirty_validators: Vec<u16>,
    dirty_assets: Vec<u16>,
}

impl OracleState {
    /// The genesis oracle: validators' stakes (in validator index order) and each asset's
    /// first index, at genesis time `time_ms`.
    pub fn new(
        params: OracleParams,
        stakes: &[u64],
        prices: &[OraclePrice],
        time_ms: u64,
    ) -> Result<OracleState, ParamsError> {
        params.validate()?;
        if stakes.is_empty() || stakes.len() > VALIDATORS_MAX {
            return Err(ParamsError::Validators(stakes.len()));
        }
        if let Some(i) = stakes.iter().position(|&s| s == 0) {
            return Err(ParamsError::ZeroStake(i));
        }
        let total_stake = stakes
            .iter()
            .try_fold(0u64, |acc, &s| acc.checked_add(s))
            .ok_or(ParamsError::StakeOverflow)?;
        if prices.is_empty() || prices.len() > ASSETS_MAX {
            return Err(ParamsError::Assets(prices.len()));
        }
        if let Some(i) = prices.iter().position(|p| !p.is_valid()) {
            return Err(ParamsError::GenesisPrice(i as u16));
        }
        Ok(OracleState {
            params,
            validators: stakes
                .iter()
                .map(|&stake| ValidatorState { stake, latest: None })
                .collect(),
            assets: prices
                .iter()
                .map(|&index| AssetState {
                    index,
                    updated_height: 0,
                    updated_ms: time_ms,
                    converging: false,
                })
                .collect(),
            total_stake,
            dirty_validators: Vec::new(),
            // Every asset's genesis record is written with the genesis state.
            dirty_assets: (0..prices.len() as u16).collect(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &OracleParams {
        &self.params
    }

    /// Every asset's state, in asset order.
    pub fn assets(&self) -> &[AssetState] {
        &self.assets
    }

    /// One asset's state.
    pub fn asset(&self, asset: AssetId) -> Option<&AssetState> {
        self.assets.get(usize::from(asset.0))
    }

    /// Every validator's state, in validator order.
    pub fn validators(&self) -> &[ValidatorState] {
        &self.validators
    }

    /// The sum of all stakes.
    pub fn total_stake(&self) -> u64 {
        self.total_stake
    }

    /// The validators and assets whose state changed since the last call, each sorted and
    /// without duplicates (for the state commitment).
    pub fn take_dirty(&mut self) -> (Vec<u16>, Vec<u16>) {
        let mut v = core::mem::take(&mut self.dirty_validators);
        let mut a = core::mem::take(&mut self.dirty_assets);
        v.sort_unstable();
        v.dedup();
        a.sort_unstable();
        a.dedup();
        (v, a)
    }

    /// Step 1 of the module doc for one observation, against the current state: whether a block
    /// may carry it. (The proposer filters its candidates with this; the order rule between
    /// observations is checked by [`OracleState::apply`].)
    pub fn admissible(&self, validator: u16, obs: &Observation) -> Result<(), ObservationError> {
        let v = self
            .validators
            .get(usize::from(validator))
            .ok_or(ObservationError::UnknownValidator(validator))?;
        if let Some(latest) = &v.latest {
            if obs.time_ms <= latest.time_ms {
                return Err(ObservationError::NotNewer {
                    validator,
                    latest: latest.time_ms,
                    got: obs.time_ms,
                });
            }
        }
        let mut last: Option<AssetId> = None;
        for &(asset, _) in &obs.prices {
            if usize::from(asset.0) >= self.assets.len() || last.is_some_and(|l| asset <= l) {
                return Err(ObservationError::Assets { validator, asset: asset.0 });
            }
            last = Some(asset);
        }
        Ok(())
    }

    /// Applies one block's observations (module doc, steps 1–3). On an error nothing changed
    /// and the block is invalid.
    pub fn apply(
        &mut self,
        height: u64,
        block_time_ms: u64,
        observations: &[(u16, Observation)],
    ) -> Result<BlockReport, ObservationError> {
        // 1. Admission, before any change.
        let mut previous: Option<u16> = None;
        for (validator, obs) in observations {
            if previous.is_some_and(|p| *validator <= p) {
                return Err(ObservationError::Order(*validator));
            }
            previous = Some(*validator);
            self.admissible(*validator, obs)?;
        }
        // 2. Future guard; store the rest.
        let mut report = BlockReport::default();
        let horizon = block_time_ms.saturating_add(self.params.max_future_ms);
        for (validator, obs) in observations {
            if obs.time_ms > horizon {
                report.future.push(*validator);
                continue;
            }
            self.validators[usize::from(*validator)].latest = Some(obs.clone());
            self.dirty_validators.push(*validator);
        }
        // 3. Per asset.
        let mut weighted: Vec<(OraclePrice, u64)> = Vec::with_capacity(self.validators.len());
        for a in 0..self.assets.len() {
            let asset = AssetId(a as u16);
            let current = self.assets[a];
            let banded = !current.converging
                && height.saturating_sub(current.updated_height) <= self.params.rebase_after_blocks;
            let mut r = AssetReport { asset, ..AssetReport::default() };
            weighted.clear();
            for v in &self.validators {
                let Some(obs) = v
                    .latest
                    .as_ref()
                    .filter(|o| block_time_ms.saturating_sub(o.time_ms) <= self.params.max_age_ms)
                else {
                    r.stale += 1;
                    continue;
                };
                let Some(price) = obs.price(asset) else {
                    r.missing += 1;
                    continue;
                };
                if !price.is_valid() {
                    r.invalid += 1;
                    continue;
                }
                if banded && !within(current.index, price, self.params.deviation_ppm) {
                    r.deviating += 1;
                    continue;
                }
                weighted.push((price, v.stake));
                r.valid_stake += v.stake;
            }
            let quorum = u128::from(r.valid_stake) * u128::from(BPS)
                >= u128::from(self.total_stake) * u128::from(self.params.quorum_bps);
            if quorum && !weighted.is_empty() {
                let median = weighted_median(&mut weighted);
                let index = clamp(current.index, median, self.params.clamp_ppm);
                r.median = Some(median);
                r.index = Some(index);
                self.assets[a] = AssetState {
                    index,
                    updated_height: height,
                    updated_ms: block_time_ms,
                    converging: !banded && index != median,
                };
                self.dirty_assets.push(a as u16);
            }
            report.assets.push(r);
        }
        Ok(report)
    }
}

/// Whether `price` lies within `ppm` of `reference` (inclusive).
fn within(reference: OraclePrice, price: OraclePrice, ppm: u32) -> bool {
    let diff = u128::from(reference.0.abs_diff(price.0)) * u128::from(PPM);
    diff <= u128::from(reference.0) * u128::from(ppm)
}

/// The lower stake-weighted median: the first price, in increasing order, at which the
/// cumulative stake reaches half of the total. `values` must be non-empty with positive stakes;
/// it is sorted in place.
pub fn weighted_median(values: &mut [(OraclePrice, u64)]) -> OraclePrice {
    values.sort_unstable();
    let total: u128 = values.iter().map(|&(_, s)| u128::from(s)).sum();
    let mut acc = 0u128;
    for &(p, s) in values.iter() {
        acc += u128::from(s);
        if acc * 2 >= total {
            return p;
        }
    }
    values.last().map(|&(p, _)| p).unwrap_or_default()
}

/// `target`, moved at most `ppm` away from `current` (the bound rounded toward `current`).
pub fn clamp(current: OraclePrice, target: OraclePrice, ppm: u32) -> OraclePrice {
    let step = u128::from(current.0) * u128::from(ppm) / u128::from(PPM);
    let step = u64::try_from(step).unwrap_or(u64::MAX);
    let lo = current.0.saturating_sub(step).max(1);
    let hi = current.0.saturating_add(step);
    OraclePrice(target.0.clamp(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BTC: AssetId = AssetId(0);
    const ETH: AssetId = AssetId(1);
    const T0: u64 = 1_000_000;

    fn usd(x: u64) -> OraclePrice {
        OraclePrice::from_usd(x)
    }

    fn state(stakes: &[u64]) -> OracleState {
        OracleState::new(OracleParams::DEFAULT, stakes, &[usd(100_000), usd(3_000)], T0).unwrap()
    }

    fn obs(time_ms: u64, btc: u64, eth: u64) -> Observation {
        Observation { time_ms, prices: vec![(BTC, OraclePrice(btc)), (ETH, OraclePrice(eth))] }
    }

    fn btc_only(time_ms: u64, btc: OraclePrice) -> Observation {
        Observation { time_ms, prices: vec![(BTC, btc)] }
    }

    #[test]
    fn median_of_four_equal_stakes_ignores_one_liar() {
        for liar in [usd(100_000_000), OraclePrice(0), OraclePrice(1), OraclePrice(u64::MAX)] {
            let mut s = state(&[1, 1, 1, 1]);
            let t = T0 + 200;
            let honest = [usd(100_100), usd(100_200), usd(100_300)];
            let block = vec![
                (0, btc_only(t, honest[0])),
                (1, btc_only(t, honest[1])),
                (2, btc_only(t, honest[2])),
                (3, btc_only(t, liar)),
            ];
            let r = s.apply(1, t, &block).unwrap();
            let index = s.asset(BTC).unwrap().index;
            assert!(honest.contains(&index), "liar {liar:?} moved the index to {index:?}");
            assert_eq!(r.assets[0].index, Some(index));
        }
    }

    #[test]
    fn f_of_seven_liars_cannot_move_the_index_outside_the_honest_range() {
        let mut s = state(&[1; 7]);
        let t = T0 + 200;
        let mut block = Vec::new();
        for v in 0..5u16 {
            block.push((v, btc_only(t, usd(100_000 + u64::from(v)))));
        }
        block.push((5, btc_only(t, usd(100_000_000))));
        block.push((6, btc_only(t, usd(100_000_000))));
        s.apply(1, t, &block).unwrap();
        let index = s.asset(BTC).unwrap().index;
        assert!((usd(100_000)..=usd(100_004)).contains(&index), "{index:?}");
    }

    #[test]
    fn below_quorum_no_update_and_never_an_average() {
        // Synthetix sKRW: two live feeds, one 1000×. Here two of four validators observe (50%
        // of stake < 2/3): nothing updates, whatever they say.
        let mut s = state(&[1, 1, 1, 1]);
        let t = T0 + 200;
        let block = vec![(0, btc_only(t, usd(100_000))), (1, btc_only(t, usd(140_000)))];
        let r = s.apply(1, t, &block).unwrap();
        assert_eq!(r.assets[0].index, None);
        assert_eq!(r.assets[0].valid_stake, 2);
        assert_eq!(r.assets[0].stale, 2);
        assert_eq!(s.asset(BTC).unwrap().index, usd(100_000));
        assert_eq!(s.asset(BTC).unwrap().updated_height, 0);
        // A third validator arrives in the next block: 3 of 4 reach the quorum.
        let r = s.apply(2, t + 100, &[(2, btc_only(t + 50, usd(100_500)))]).unwrap();
        assert_eq!(r.assets[0].median, Some(usd(100_500)));
        assert_eq!(s.asset(BTC).unwrap().updated_height, 2);
    }

    #[test]
    fn unequal_stakes_weigh() {
        // One validator holds 70%: it alone is the quorum and the median.
        let mut s = state(&[70, 10, 10, 10]);
        let t = T0 + 100;
        s.apply(1, t, &[(0, btc_only(t, usd(100_100)))]).unwrap();
        assert_eq!(s.asset(BTC).unwrap().index, usd(100_100));
        let mut v = vec![(usd(1), 10), (usd(3), 10), (usd(2), 70), (usd(4), 10)];
        assert_eq!(weighted_median(&mut v), usd(2));
        let mut v = vec![(usd(1), 1), (usd(2), 1)];
        assert_eq!(weighted_median(&mut v), usd(1), "lower median on an even split");
    }

    #[test]
    fn replayed_observation_is_refused_and_nothing_changes() {
        let mut s = state(&[1, 1, 1]);
        let t = T0 + 100;
        let o = obs(t, 100_000_000_000_000, 3_000_000_000_000);
        s.apply(1, t, &[(0, o.clone())]).unwrap();
        let before = s.clone();
        assert_eq!(
            s.apply(2, t + 200, &[(0, o.clone())]),
            Err(ObservationError::NotNewer { validator: 0, latest: t, got: t })
        );
        assert_eq!(s, before);
        // Also refused: an unknown validator, duplicates or disorder, unknown or unsorted
        // assets; each leaves the state as it was.
        let newer = obs(t + 1, 1, 1);
        for bad in [
            vec![(3, newer.clone())],
            vec![(1, newer.clone()), (1, newer.clone())],
            vec![(2, newer.clone()), (1, newer.clone())],
            vec![(1, Observation { time_ms: t, prices: vec![(AssetId(2), usd(1))] })],
            vec![(1, Observation { time_ms: t, prices: vec![(ETH, usd(1)), (BTC, usd(1))] })],
            vec![(1, Observation { time_ms: t, prices: vec![(BTC, usd(1)), (BTC, usd(1))] })],
        ] {
            assert!(s.apply(2, t + 200, &bad).is_err(), "{bad:?}");
            assert_eq!(s, before);
        }
    }

    #[test]
    fn future_and_stale_observations_do_not_count() {
        let mut s = state(&[1, 1, 1]);
        let t = T0 + 10_000;
        let future = t + OracleParams::DEFAULT.max_future_ms + 1;
        let r = s
            .apply(
                1,
                t,
                &[
                    (0, btc_only(t, usd(100_010))),
                    (1, btc_only(t - 100, usd(100_020))),
                    (2, btc_only(future, usd(100_030))),
                ],
            )
            .unwrap();
        assert_eq!(r.future, vec![2]);
        // Two of three is 66.66% of stake, under the 66.67% quorum.
        assert_eq!(r.assets[0].index, None);
        // Validator 2's future observation was not stored: it may send an older-timed one.
        assert!(s.validators()[2].latest.is_none());
        // Three fresh: update. Then time passes beyond max_age with no news: stale, no update.
        s.apply(2, t + 100, &[(2, btc_only(t + 50, usd(100_030)))]).unwrap();
        assert_eq!(s.asset(BTC).unwrap().updated_height, 2);
        let later = t + 100 + OracleParams::DEFAULT.max_age_ms + 1;
        let r = s.apply(3, later, &[]).unwrap();
        assert_eq!(r.assets[0].stale, 3);
        assert_eq!(s.asset(BTC).unwrap().updated_height, 2);
    }

    #[test]
    fn deviation_band_then_rebase_and_per_block_clamp() {
        let p = OracleParams { quorum_bps: 6667, rebase_after_blocks: 10, ..OracleParams::DEFAULT };
        let mut s = OracleState::new(p, &[1, 1, 1], &[usd(100_000)], T0).unwrap();
        // Everyone says 3× (beyond the ±50% band): dropped, no update.
        let mut t = T0;
        for h in 1..=10 {
            t += 200;
            let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(300_000)))).collect();
            let r = s.apply(h, t, &block).unwrap();
            assert_eq!(r.assets[0].deviating, 3);
            assert_eq!(s.asset(BTC).unwrap().index, usd(100_000));
        }
        // 11 blocks without an update: the band is lifted, the clamp still holds (2%/block).
        t += 200;
        let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(300_000)))).collect();
        s.apply(11, t, &block).unwrap();
        assert_eq!(s.asset(BTC).unwrap().index, usd(102_000));
        // It walks up 2% per block while the quorum holds, until it reaches the median; then
        // the band is back.
        t += 200;
        let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(300_000)))).collect();
        s.apply(12, t, &block).unwrap();
        assert_eq!(s.asset(BTC).unwrap().index, usd(104_040));
        let mut h = 12;
        while s.asset(BTC).unwrap().index != usd(300_000) {
            h += 1;
            t += 200;
            let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(300_000)))).collect();
            s.apply(h, t, &block).unwrap();
            assert_eq!(s.asset(BTC).unwrap().updated_height, h);
            assert!(h < 80, "walks up at 2% per block");
        }
        assert!(!s.asset(BTC).unwrap().converging);
        t += 200;
        let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(100_000)))).collect();
        let r = s.apply(h + 1, t, &block).unwrap();
        assert_eq!(r.assets[0].deviating, 3);
        // Clamp rounding toward the current index, and never below 1.
        assert_eq!(clamp(OraclePrice(10), OraclePrice(1_000), 20_000), OraclePrice(10));
        assert_eq!(clamp(OraclePrice(1), OraclePrice(0), 20_000), OraclePrice(1));
    }

    #[test]
    fn parameters_and_genesis_are_validated() {
        let ok = OracleParams::DEFAULT;
        assert_eq!(ok.validate(), Ok(()));
        let bad = |f: fn(&mut OracleParams)| {
            let mut p = ok;
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert_eq!(bad(|p| p.quorum_bps = 5_000), ParamsError::Quorum(5_000));
        assert_eq!(bad(|p| p.max_age_ms = 0), ParamsError::MaxAge(0));
        assert_eq!(bad(|p| p.clamp_ppm = 0), ParamsError::Clamp(0));
        assert_eq!(bad(|p| p.deviation_ppm = 0), ParamsError::Deviation(0));
        assert_eq!(
            OracleState::new(ok, &[1, 0], &[usd(1)], 0).unwrap_err(),
            ParamsError::ZeroStake(1)
        );
        assert_eq!(
            OracleState::new(ok, &[], &[usd(1)], 0).unwrap_err(),
            ParamsError::Validators(0)
        );
        assert_eq!(
            OracleState::new(ok, &[u64::MAX, 1], &[usd(1)], 0).unwrap_err(),
            ParamsError::StakeOverflow
        );
        assert_eq!(
            OracleState::new(ok, &[1], &[OraclePrice(0)], 0).unwrap_err(),
            ParamsError::GenesisPrice(0)
        );
    }

    #[test]
    fn dirty_sets_name_what_changed() {
        let mut s = state(&[1, 1, 1]);
        assert_eq!(s.take_dirty(), (vec![], vec![0, 1]), "genesis assets");
        let t = T0 + 100;
        let block: Vec<_> = (0..3).map(|v| (v, btc_only(t, usd(100_001)))).collect();
        s.apply(1, t, &block).unwrap();
        assert_eq!(s.take_dirty(), (vec![0, 1, 2], vec![0]));
        assert_eq!(s.take_dirty(), (vec![], vec![]));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Liars holding less than a third of the stake, reporting anything at all, never
            /// move the index outside the range spanned by the current index and the honest
            /// prices; below the quorum nothing moves.
            #[test]
            fn a_minority_of_liars_cannot_move_the_index_outside_the_honest_range(
                stakes in proptest::collection::vec(1u64..100, 1..12),
                honest in proptest::collection::vec(90_000u64..110_000, 12),
                lies in proptest::collection::vec(
                    prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64), 0u64..u64::MAX], 12),
                liar_mask in any::<u16>(),
                silent_mask in any::<u16>(),
            ) {
                let mut s = OracleState::new(
                    OracleParams::DEFAULT, &stakes, &[OraclePrice::from_usd(100_000)], T0).unwrap();
                let total: u64 = stakes.iter().sum();
                let n = stakes.len();
                // Liars: a subset under a third of the stake.
                let mut liar_stake = 0;
                let mut liar = vec![false; n];
                for (i, l) in liar.iter_mut().enumerate() {
                    if liar_mask & (1 << i) != 0 && (liar_stake + stakes[i]) * 3 < total {
                        *l = true;
                        liar_stake += stakes[i];
                    }
                }
                let t = T0 + 100;
                let mut block = Vec::new();
                let mut honest_prices = Vec::new();
                let mut honest_stake = 0;
                for i in 0..n {
                    if silent_mask & (1 << i) != 0 && !liar[i] {
                        continue;
                    }
                    let p = if liar[i] {
                        OraclePrice(lies[i])
                    } else {
                        honest_stake += stakes[i];
                        honest_prices.push(OraclePrice::from_usd(honest[i]));
                        OraclePrice::from_usd(honest[i])
                    };
                    block.push((i as u16, btc_only(t, p)));
                }
                let before = s.asset(BTC).unwrap().index;
                let r = s.apply(1, t, &block).unwrap();
                let after = s.asset(BTC).unwrap().index;
                if let Some(median) = r.assets[0].median {
                    let lo = honest_prices.iter().min().copied().unwrap();
                    let hi = honest_prices.iter().max().copied().unwrap();
                    prop_assert!(lo <= median && median <= hi, "median {median:?} outside {lo:?}..{hi:?}");
                    prop_assert!(after >= before.min(lo) && after <= before.max(hi));
                } else {
                    prop_assert_eq!(after, before);
                    // No quorum: the honest stake alone is under it (liars' valid prices could
                    // only add to it).
                    prop_assert!(u128::from(honest_stake) * 10_000 < u128::from(total) * 6_667);
                }
            }
        }
    }
}
