//! The devnet index-price feed: a deterministic, seeded random walk.
//!
//! Until validators observe real prices (the oracle issue), each block carries one index price
//! per market and every verifier recomputes it: block `h`'s price for market `m` is the parent
//! block's price moved by at most `step_ppm` parts per million, in a direction and size drawn
//! from a hash of (seed, market, height). It is a pure function of the parent's prices and the
//! height, so every honest node agrees, a proposer cannot pick prices, and a replay from
//! genesis reproduces them.

use novation_engine::MarketId;
use novation_types::PriceTicks;

use crate::genesis::FeedConfig;

/// SplitMix64's output function: a well-mixed 64-bit hash of its input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The next price of one market.
pub fn next_price(
    cfg: FeedConfig,
    market: MarketId,
    height: u64,
    parent: PriceTicks,
) -> PriceTicks {
    let draw = mix(cfg.seed ^ mix(u64::from(market.0) ^ mix(height)));
    // A move in [-step, +step] ppm, uniform.
    let span = 2 * u64::from(cfg.step_ppm) + 1;
    let step = (draw % span) as i128 - i128::from(cfg.step_ppm);
    let p = i128::from(parent.0);
    let moved = p + p * step / 1_000_000;
    PriceTicks(moved.clamp(1, i128::from(u64::MAX / 4)) as u64)
}

/// The prices of block `height` from its parent's prices.
pub fn next_prices(
    cfg: FeedConfig,
    height: u64,
    parent: &[(MarketId, PriceTicks)],
) -> Vec<(MarketId, PriceTicks)> {
    parent.iter().map(|&(m, p)| (m, next_price(cfg, m, height, p))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_is_bounded_and_deterministic() {
        let cfg = FeedConfig { seed: 1, step_ppm: 300 };
        let mut p = PriceTicks(1_000_000);
        let mut moved = 0;
        for h in 1..10_000 {
            let q = next_price(cfg, MarketId(0), h, p);
            assert_eq!(q, next_price(cfg, MarketId(0), h, p));
            let diff = (i128::from(q.0) - i128::from(p.0)).abs();
            assert!(diff * 1_000_000 <= i128::from(p.0) * 300, "step too large at {h}");
            if q != p {
                moved += 1;
            }
            p = q;
        }
        assert!(moved > 9_000, "the walk moves");
        assert_ne!(
            next_price(cfg, MarketId(0), 5, PriceTicks(1_000_000)),
            next_price(cfg, MarketId(1), 5, PriceTicks(1_000_000)),
        );
    }
}
