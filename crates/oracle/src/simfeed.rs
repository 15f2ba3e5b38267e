//! The devnet's simulated price: a seeded path that every validator computes identically, and
//! per-validator, per-source observations of it with a little deterministic noise.
//!
//! # The path
//!
//! Time is cut into steps of `step_ms` from `start_ms`; the path is constant within a step. Step
//! `k` (at `start_ms + k * step_ms`) has log-price `L_k = L_{k-1} + d_k + j_k`, `L_0 = 0`, and
//! price `start * exp(L_k) * s(t_k)`:
//!
//! * `d_k` is the diffusion: `sigma * z_k` with `sigma = vol_bps_hourly / 1e4 * sqrt(step_ms /
//!   1 h)`, so the log-price's standard deviation over one hour is `vol_bps_hourly` basis points.
//!   `z_k` is uniform on `[-sqrt 3, sqrt 3]` (mean 0, variance 1) rather than Gaussian: sums of a
//!   few dozen steps are Gaussian for every practical purpose (central limit theorem), and a
//!   uniform needs no transcendental function per step.
//! * `j_k` is a jump, present with probability `jumps_per_day * step_ms / 1 day` (at most 1): up
//!   or down with equal odds, of size `jump_bps / 1e4 * m` in log-price with `m` uniform on
//!   `[0.5, 1.5)`.
//! * `s(t)` is the scenario overlay (1 without a scenario), below.
//!
//! There is no drift. Every random draw of step `k` comes from a SplitMix64 generator seeded with
//! a hash of `(seed, purpose, k)`, so **the path is a pure function of the config and the time**:
//! the same for every validator whenever and however often each samples. [`SimFeed::price_at`]
//! keeps a cursor so increasing times cost only the steps in between, and checkpoints every
//! 4,096 steps (at most 512 KiB of them) so any time already passed costs at most that many; the sums
//! are always taken in the same order from step 0, so the cursor never changes a result. Steps past [`STEPS_MAX`] (about
//! 310 days at 100 ms) are not simulated: the path holds its last value.
//!
//! Floats are acceptable here: observations are inputs that validators sign, not consensus
//! state. (`exp` comes from the platform's libm, so two platforms may differ by an ulp; the step
//! sums themselves are plain IEEE additions and multiplications.) The price is rounded to the
//! nearest nano-USD and kept within `[1, PRICE_MAX]`, so it is always valid.
//!
//! # Scenarios
//!
//! A [`Scenario`] starts `scenario_offset_ms` after `start_ms` and multiplies the path by a factor
//! that moves linearly in log space:
//!
//! | name | move | over | then |
//! |---|---|---|---|
//! | `crash` | ×0.5 (−50%) | 5 minutes | stays at ×0.5 |
//! | `squeeze` | ×6 (+500%) | 10 minutes | stays at ×6 |
//! | `flash` | ×0.7 (−30%) | 10 seconds | back to ×1 over 60 seconds |
//!
//! # Observations
//!
//! [`SimFeed::observe`] is the path times `1 + e`, with `e` uniform on `±noise_bps / 1e4`, drawn
//! from a hash of `(seed, validator, source, step)`: each (validator, source) sees its own small
//! deviation, fixed within a step, and reproducible.

use std::fmt;
use std::str::FromStr;

use crate::price::{OraclePrice, PRICE_MAX};

/// The last simulated step; later times hold the path at this step's value.
pub const STEPS_MAX: u64 = 1 << 28;

/// Steps between cursor checkpoints.
const CHECKPOINT_EVERY: u64 = 1 << 12;

const MS_PER_HOUR: f64 = 3_600_000.0;
const MS_PER_DAY: u64 = 86_400_000;
const BPS: f64 = 10_000.0;

/// Largest accepted `step_ms` (one hour).
pub const STEP_MS_MAX: u64 = 3_600_000;
/// Largest accepted `vol_bps_hourly` (100% per square-root hour).
pub const VOL_BPS_HOURLY_MAX: u32 = 10_000;
/// Largest accepted `jumps_per_day`.
pub const JUMPS_PER_DAY_MAX: u32 = 100_000;
/// Largest accepted `jump_bps` (50%).
pub const JUMP_BPS_MAX: u32 = 5_000;
/// Largest accepted `noise_bps` (10%).
pub const NOISE_BPS_MAX: u32 = 1_000;

// Domain separation for the per-step draws.
const DOMAIN_DIFFUSION: u64 = 0x6469_6666;
const DOMAIN_JUMP: u64 = 0x6a75_6d70;
const DOMAIN_NOISE: u64 = 0x6e6f_6973;

/// A named price shock for devnet drills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scenario {
    /// −50% over 5 minutes, and it stays there.
    Crash,
    /// +500% (to 6×) over 10 minutes, and it stays there.
    Squeeze,
    /// −30% over 10 seconds, recovering over the next 60 seconds.
    Flash,
}

/// A scenario name not in [`Scenario::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?} (expected crash, squeeze or flash)")]
pub struct UnknownScenario(pub String);

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 3] = [Scenario::Crash, Scenario::Squeeze, Scenario::Flash];

    /// The name used on the command line (`--scenario crash`).
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::Crash => "crash",
            Scenario::Squeeze => "squeeze",
            Scenario::Flash => "flash",
        }
    }

    /// The factor the move reaches.
    pub const fn move_factor(self) -> f64 {
        match self {
            Scenario::Crash => 0.5,
            Scenario::Squeeze => 6.0,
            Scenario::Flash => 0.7,
        }
    }

    /// How long the move takes, in ms.
    pub const fn move_ms(self) -> u64 {
        match self {
            Scenario::Crash => 300_000,
            Scenario::Squeeze => 600_000,
            Scenario::Flash => 10_000,
        }
    }

    /// How long the return to ×1 takes after the move, in ms; 0 if the move is permanent.
    pub const fn recover_ms(self) -> u64 {
        match self {
            Scenario::Crash | Scenario::Squeeze => 0,
            Scenario::Flash => 60_000,
        }
    }

    /// The multiplier `elapsed_ms` after the scenario starts (see the module doc).
    pub fn factor_at(self, elapsed_ms: u64) -> f64 {
        let ln_target = self.move_factor().ln();
        let (move_ms, recover_ms) = (self.move_ms(), self.recover_ms());
        let fraction = if elapsed_ms < move_ms {
            elapsed_ms as f64 / move_ms as f64
        } else if recover_ms == 0 {
            1.0
        } else if elapsed_ms - move_ms < recover_ms {
            1.0 - (elapsed_ms - move_ms) as f64 / recover_ms as f64
        } else {
            0.0
        };
        (ln_target * fraction).exp()
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Scenario, UnknownScenario> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownScenario(s.chars().take(64).collect()))
    }
}

/// The simulated feed's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimFeedConfig {
    /// Seed of every draw.
    pub seed: u64,
    /// The price at `start_ms`.
    pub start: OraclePrice,
    /// When the path starts (Unix ms); earlier times see `start`.
    pub start_ms: u64,
    /// Length of a step, in ms.
    pub step_ms: u64,
    /// Standard deviation of the log-price over one hour, in basis points.
    pub vol_bps_hourly: u32,
    /// Expected number of jumps per day.
    pub jumps_per_day: u32,
    /// Typical jump size in basis points of log-price (each jump is 0.5× to 1.5× this).
    pub jump_bps: u32,
    /// Half-width of the per-observation noise, in basis points.
    pub noise_bps: u32,
    /// A scenario overlaid on the path, if any.
    pub scenario: Option<Scenario>,
    /// When the scenario starts, in ms after `start_ms`.
    pub scenario_offset_ms: u64,
}

impl SimFeedConfig {
    /// Devnet defaults around `start`: 100 ms steps, 60 bps per square-root hour (about 56% a
    /// year, like BTC), six jumps of about 0.8% a day, ±3 bps of per-source noise, no scenario
    /// (one starts a minute in if set).
    pub fn devnet(seed: u64, start: OraclePrice, start_ms: u64) -> SimFeedConfig {
        SimFeedConfig {
            seed,
            start,
            start_ms,
            step_ms: 100,
            vol_bps_hourly: 60,
            jumps_per_day: 6,
            jump_bps: 80,
            noise_bps: 3,
            scenario: None,
            scenario_offset_ms: 60_000,
        }
    }

    /// Checks the bounds (see [`SimFeedError`]).
    pub fn validate(&self) -> Result<(), SimFeedError> {
        if !self.start.is_valid() {
            return Err(SimFeedError::InvalidStart(self.start));
        }
        if self.step_ms == 0 || self.step_ms > STEP_MS_MAX {
            return Err(SimFeedError::StepOutOfRange(self.step_ms));
        }
        if self.vol_bps_hourly > VOL_BPS_HOURLY_MAX {
            return Err(SimFeedError::VolatilityTooHigh(self.vol_bps_hourly));
        }
        if self.jumps_per_day > JUMPS_PER_DAY_MAX {
            return Err(SimFeedError::TooManyJumps(self.jumps_per_day));
        }
        if self.jump_bps > JUMP_BPS_MAX {
            return Err(SimFeedError::JumpTooLarge(self.jump_bps));
        }
        if self.noise_bps > NOISE_BPS_MAX {
            return Err(SimFeedError::NoiseTooLarge(self.noise_bps));
        }
        Ok(())
    }
}

/// Why a [`SimFeedConfig`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimFeedError {
    /// The start price is zero or above the maximum.
    #[error("start price {0:?} is not a valid price")]
    InvalidStart(OraclePrice),
    /// `step_ms` is zero or above [`STEP_MS_MAX`].
    #[error("step_ms {0} is outside 1..={STEP_MS_MAX}")]
    StepOutOfRange(u64),
    /// `vol_bps_hourly` is above [`VOL_BPS_HOURLY_MAX`].
    #[error("vol_bps_hourly {0} is above {VOL_BPS_HOURLY_MAX}")]
    VolatilityTooHigh(u32),
    /// `jumps_per_day` is above [`JUMPS_PER_DAY_MAX`].
    #[error("jumps_per_day {0} is above {JUMPS_PER_DAY_MAX}")]
    TooManyJumps(u32),
    /// `jump_bps` is above [`JUMP_BPS_MAX`].
    #[error("jump_bps {0} is above {JUMP_BPS_MAX}")]
    JumpTooLarge(u32),
    /// `noise_bps` is above [`NOISE_BPS_MAX`].
    #[error("noise_bps {0} is above {NOISE_BPS_MAX}")]
    NoiseTooLarge(u32),
}

/// The simulated path with its evaluation cursor.
#[derive(Clone, Debug)]
pub struct SimFeed {
    config: SimFeedConfig,
    /// Diffusion scale per step (`sigma * sqrt 3`: `z` is drawn on `[-1, 1)`).
    diffusion: f64,
    /// Probability of a jump in one step.
    jump_probability: f64,
    /// Log-size of a typical jump.
    jump_size: f64,
    cursor_step: u64,
    cursor_log: f64,
    /// Log-price at steps `0, CHECKPOINT_EVERY, 2 * CHECKPOINT_EVERY, ...` reached so far.
    checkpoints: Vec<f64>,
}

impl SimFeed {
    /// A feed for a valid `config`.
    pub fn new(config: SimFeedConfig) -> Result<SimFeed, SimFeedError> {
        config.validate()?;
        let sigma =
            f64::from(config.vol_bps_hourly) / BPS * (config.step_ms as f64 / MS_PER_HOUR).sqrt();
        let jump_probability =
            (f64::from(config.jumps_per_day) * config.step_ms as f64 / MS_PER_DAY as f64).min(1.0);
        Ok(SimFeed {
            config,
            diffusion: sigma * 3f64.sqrt(),
            jump_probability,
            jump_size: f64::from(config.jump_bps) / BPS,
            cursor_step: 0,
            cursor_log: 0.0,
            checkpoints: vec![0.0],
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SimFeedConfig {
        &self.config
    }

    /// The step that `time_ms` falls in (0 before the start, at most [`STEPS_MAX`]).
    pub fn step_at(&self, time_ms: u64) -> u64 {
        (time_ms.saturating_sub(self.config.start_ms) / self.config.step_ms).min(STEPS_MAX)
    }

    /// The path's price at `time_ms`.
    pub fn price_at(&mut self, time_ms: u64) -> OraclePrice {
        let step = self.step_at(time_ms);
        let log = self.log_at(step) + self.scenario_log(step);
        to_price(self.config.start.0 as f64 * log.exp())
    }

    /// What source `source` of validator `validator` reports at `time_ms`: the path times
    /// `1 + e`, `e` uniform on `±noise_bps / 1e4`, fixed per (validator, source, step).
    pub fn observe(&mut self, time_ms: u64, validator: u64, source: u16) -> OraclePrice {
        let step = self.step_at(time_ms);
        let path = self.price_at(time_ms);
        let key = hash(&[self.config.seed, DOMAIN_NOISE, validator, u64::from(source), step]);
        let e = (2.0 * unit(key) - 1.0) * f64::from(self.config.noise_bps) / BPS;
        to_price(path.0 as f64 * (1.0 + e))
    }

    /// The log-price at `step` (diffusion and jumps, without the scenario).
    fn log_at(&mut self, step: u64) -> f64 {
        // Start from the nearest checkpoint at or before `step` when that is closer than the
        // cursor (or the cursor is past `step`).
        let known = (self.checkpoints.len() - 1) as u64;
        let checkpoint = (step / CHECKPOINT_EVERY).min(known);
        if step < self.cursor_step || checkpoint * CHECKPOINT_EVERY > self.cursor_step {
            self.cursor_step = checkpoint * CHECKPOINT_EVERY;
            self.cursor_log = self.checkpoints[checkpoint as usize];
        }
        while self.cursor_step < step {
            self.cursor_step += 1;
            self.cursor_log += self.increment(self.cursor_step);
            if self.cursor_step.is_multiple_of(CHECKPOINT_EVERY)
                && self.cursor_step / CHECKPOINT_EVERY == self.checkpoints.len() as u64
            {
                self.checkpoints.push(self.cursor_log);
            }
        }
        self.cursor_log
    }

    /// `d_k + j_k` for step `k >= 1`.
    fn increment(&self, k: u64) -> f64 {
        let seed = self.config.seed;
        let z = 2.0 * unit(hash(&[seed, DOMAIN_DIFFUSION, k])) - 1.0;
        let mut inc = self.diffusion * z;
        if self.jump_probability > 0.0 {
            let mut draws = SplitMix64::new(hash(&[seed, DOMAIN_JUMP, k]));
            if unit(draws.next_u64()) < self.jump_probability {
                let bits = draws.next_u64();
                let size = self.jump_size * (0.5 + unit(bits));
                inc += if bits & 1 == 0 { size } else { -size };
            }
        }
        inc
    }

    /// The log of the scenario factor at `step`'s start time.
    fn scenario_log(&self, step: u64) -> f64 {
        let Some(scenario) = self.config.scenario else {
            return 0.0;
        };
        let elapsed_ms = step.saturating_mul(self.config.step_ms);
        match elapsed_ms.checked_sub(self.config.scenario_offset_ms) {
            Some(since) => scenario.factor_at(since).ln(),
            None => 0.0,
        }
    }
}

/// Rounds to nano-USD within `[1, PRICE_MAX]` (NaN becomes 1).
fn to_price(x: f64) -> OraclePrice {
    if x.is_nan() || x < 1.0 {
        OraclePrice(1)
    } else if x >= PRICE_MAX.0 as f64 {
        PRICE_MAX
    } else {
        OraclePrice(x.round() as u64)
    }
}

/// Uniform on `[0, 1)` from the top 53 bits.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A 64-bit key for a tuple of words: each word is folded in through the SplitMix64 mixer.
fn hash(words: &[u64]) -> u64 {
    words.iter().fold(0x5349_4d46_4545_4421, |h, &w| SplitMix64::new(h ^ w).next_u64())
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a counter stepped by the golden-ratio increment and
/// passed through a bijective mixer. A private copy: this crate depends on no simulator crate.
#[derive(Clone, Debug)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn btc() -> OraclePrice {
        OraclePrice::from_usd(97_000)
    }

    #[test]
    fn hashing_and_uniforms_are_stable() {
        // Golden values: changing them changes every devnet's price path.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(hash(&[1, 2, 3]), hash(&[1, 2, 3]));
        assert_ne!(hash(&[1, 2, 3]), hash(&[1, 3, 2]));
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
    }

    #[test]
    fn before_the_start_the_price_is_the_start() {
        let mut feed = SimFeed::new(SimFeedConfig::devnet(1, btc(), T0)).unwrap();
        assert_eq!(feed.price_at(0), btc());
        assert_eq!(feed.price_at(T0), btc());
        assert_eq!(feed.price_at(T0 + 99), btc());
        assert_ne!(feed.price_at(T0 + 100), btc());
    }

    #[test]
    fn far_future_holds_at_the_last_step() {
        let cfg = SimFeedConfig { step_ms: STEP_MS_MAX, ..SimFeedConfig::devnet(3, btc(), 0) };
        let feed = SimFeed::new(cfg).unwrap();
        assert_eq!(feed.step_at(u64::MAX), STEPS_MAX);
        let cfg = SimFeedConfig { step_ms: 1, ..cfg };
        let feed = SimFeed::new(cfg).unwrap();
        assert_eq!(feed.step_at(u64::MAX), STEPS_MAX);
    }

    #[test]
    fn scenario_factors() {
        let eps = 1e-12;
        assert!((Scenario::Crash.factor_at(0) - 1.0).abs() < eps);
        assert!((Scenario::Crash.factor_at(150_000) - 0.5f64.sqrt()).abs() < eps);
        assert!((Scenario::Crash.factor_at(300_000) - 0.5).abs() < eps);
        assert!((Scenario::Crash.factor_at(u64::MAX) - 0.5).abs() < eps);
        assert!((Scenario::Squeeze.factor_at(600_000) - 6.0).abs() < eps);
        assert!((Scenario::Flash.factor_at(10_000) - 0.7).abs() < eps);
        assert!((Scenario::Flash.factor_at(70_000) - 1.0).abs() < eps);
        assert!((Scenario::Flash.factor_at(u64::MAX) - 1.0).abs() < eps);
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>(), Ok(s));
        }
        assert_eq!("CRASH".parse::<Scenario>(), Ok(Scenario::Crash));
        assert!("melt".parse::<Scenario>().is_err());
    }

    #[test]
    fn config_bounds() {
        let ok = SimFeedConfig::devnet(0, btc(), 0);
        assert_eq!(ok.validate(), Ok(()));
        let cases = [
            (
                SimFeedConfig { start: OraclePrice(0), ..ok },
                SimFeedError::InvalidStart(OraclePrice(0)),
            ),
            (SimFeedConfig { step_ms: 0, ..ok }, SimFeedError::StepOutOfRange(0)),
            (
                SimFeedConfig { step_ms: STEP_MS_MAX + 1, ..ok },
                SimFeedError::StepOutOfRange(STEP_MS_MAX + 1),
            ),
            (
                SimFeedConfig { vol_bps_hourly: 10_001, ..ok },
                SimFeedError::VolatilityTooHigh(10_001),
            ),
            (SimFeedConfig { jumps_per_day: 100_001, ..ok }, SimFeedError::TooManyJumps(100_001)),
            (SimFeedConfig { jump_bps: 5_001, ..ok }, SimFeedError::JumpTooLarge(5_001)),
            (SimFeedConfig { noise_bps: 1_001, ..ok }, SimFeedError::NoiseTooLarge(1_001)),
        ];
        for (cfg, err) in cases {
            assert_eq!(cfg.validate(), Err(err));
            assert_eq!(SimFeed::new(cfg).unwrap_err(), err);
        }
    }
}
