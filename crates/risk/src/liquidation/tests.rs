use super::*;
use crate::fixed::MathErrorKind;
use crate::margin::MarginTier;
use proptest::prelude::*;

fn unit() -> ContractSpec {
    ContractSpec::new(1).unwrap()
}

/// One tier: 10% initial, 5% maintenance (10×).
fn ten_x() -> MarginTiers {
    MarginTiers::new(&[MarginTier::from_max_leverage(Quote(0), 10).unwrap()]).unwrap()
}

fn pos(side: Side, qty: u64, entry_notional: i128, collateral: i128) -> IsolatedPosition {
    IsolatedPosition {
        side,
        qty: QtyLots(qty),
        entry_notional: Quote(entry_notional),
        collateral: Quote(collateral),
    }
}

#[test]
fn health_at_and_around_maintenance() {
    assert_eq!(account_health(Quote(100), Quote(100)), Health::Healthy);
    assert_eq!(account_health(Quote(99), Quote(100)), Health::Liquidatable);
    assert_eq!(account_health(Quote(0), Quote(100)), Health::Liquidatable);
    assert_eq!(account_health(Quote(-1), Quote(100)), Health::Bankrupt);
    assert_eq!(account_health(Quote(0), Quote(0)), Health::Healthy);
    assert_eq!(account_health(Quote(-1), Quote(0)), Health::Bankrupt);
}

#[test]
fn bankruptcy_price_leaves_no_deficit() {
    let s = unit();
    // Long 10 lots from 1,000 with 1,000 of collateral: exactly 900.
    let long = pos(Side::Buy, 10, 10_000, 1_000);
    assert_eq!(long.bankruptcy_price(&s).unwrap(), PriceTicks(900));
    assert_eq!(long.equity_at(PriceTicks(900), &s).unwrap(), Quote(0));
    // 1,005 of collateral: 899.5 → 900 (rounded up), where equity is +5, not −5.
    let long = pos(Side::Buy, 10, 10_000, 1_005);
    assert_eq!(long.bankruptcy_price(&s).unwrap(), PriceTicks(900));
    assert_eq!(long.equity_at(PriceTicks(900), &s).unwrap(), Quote(5));
    assert_eq!(long.equity_at(PriceTicks(899), &s).unwrap(), Quote(-5));
    // Short: 1,100.5 → 1,100 (rounded down).
    let short = pos(Side::Sell, 10, 10_000, 1_005);
    assert_eq!(short.bankruptcy_price(&s).unwrap(), PriceTicks(1_100));
    assert_eq!(short.equity_at(PriceTicks(1_100), &s).unwrap(), Quote(5));
    assert_eq!(short.equity_at(PriceTicks(1_101), &s).unwrap(), Quote(-5));
    // A fully collateralised long cannot go bankrupt above 0.
    assert_eq!(pos(Side::Buy, 10, 10_000, 10_000).bankruptcy_price(&s).unwrap(), PriceTicks(0));
    // A short solvent at every representable price.
    assert_eq!(
        pos(Side::Sell, 1, i128::MAX / 2, 0).bankruptcy_price(&s).unwrap(),
        PriceTicks(u64::MAX)
    );
}

#[test]
fn liquidation_price_single_tier_long_and_short() {
    let (s, t) = (unit(), ten_x());
    // Long: P* = 9,000 / (10 × 0.95) = 947.37.
    let long = pos(Side::Buy, 10, 10_000, 1_000);
    assert_eq!(long.liquidation_price(&s, &t).unwrap(), Some(PriceTicks(947)));
    assert!(long.is_liquidatable_at(PriceTicks(947), &s, &t).unwrap());
    assert!(!long.is_liquidatable_at(PriceTicks(948), &s, &t).unwrap());
    // At 947: equity 470 < MM ⌈473.5⌉ = 474. At 948: equity 480 ≥ 474.
    assert_eq!(long.equity_at(PriceTicks(947), &s).unwrap(), Quote(470));
    // Short: P* = 11,000 / (10 × 1.05) = 1,047.6.
    let short = pos(Side::Sell, 10, 10_000, 1_000);
    assert_eq!(short.liquidation_price(&s, &t).unwrap(), Some(PriceTicks(1_048)));
    assert!(short.is_liquidatable_at(PriceTicks(1_048), &s, &t).unwrap());
    assert!(!short.is_liquidatable_at(PriceTicks(1_047), &s, &t).unwrap());
    // The liquidation price is always on the safe side of the bankruptcy price.
    assert!(long.bankruptcy_price(&s).unwrap() < PriceTicks(947));
    assert!(short.bankruptcy_price(&s).unwrap() > PriceTicks(1_048));
}

#[test]
fn liquidation_price_edges() {
    let (s, t) = (unit(), ten_x());
    // Fully collateralised long: never liquidated.
    assert_eq!(pos(Side::Buy, 10, 10_000, 10_000).liquidation_price(&s, &t).unwrap(), None);
    // Already insolvent short at any price: liquidatable from 0.
    assert_eq!(pos(Side::Sell, 10, 0, -1).liquidation_price(&s, &t).unwrap(), Some(PriceTicks(0)));
    // A long deep in debt is liquidatable at every evaluable price.
    let long = pos(Side::Buy, 1, i128::MAX / 2, 0);
    assert_eq!(long.liquidation_price(&s, &t).unwrap(), Some(PriceTicks(u64::MAX)));
    // A short with collateral beyond any price's loss: never.
    assert_eq!(pos(Side::Sell, 1, 0, i128::MAX / 2).liquidation_price(&s, &t).unwrap(), None);
    // Zero size is not a position.
    assert_eq!(
        pos(Side::Buy, 0, 0, 0).liquidation_price(&s, &t).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    assert_eq!(
        pos(Side::Sell, 0, 0, 0).bankruptcy_price(&s).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
    // Extremes of size and tick value shrink the evaluable range rather than overflow.
    let huge = ContractSpec::new(u64::MAX).unwrap();
    let p = pos(Side::Buy, u64::MAX, 1, 0);
    assert_eq!(p.liquidation_price(&huge, &t).unwrap(), Some(PriceTicks(0)));
    assert_eq!(
        p.bankruptcy_price(&huge).unwrap(),
        PriceTicks(1),
        "1 atom of debt over a huge tick-lot: one tick"
    );
    assert_eq!(
        pos(Side::Buy, 1, i128::MIN, 1).bankruptcy_price(&s).unwrap_err().kind(),
        MathErrorKind::Overflow
    );
}

#[test]
fn liquidation_price_across_tiers() {
    // 50× to 1,000,000 atoms of notional, then 10×: a large long lands in the second tier.
    let s = unit();
    let t = MarginTiers::new(&[
        MarginTier::from_max_leverage(Quote(0), 50).unwrap(),
        MarginTier::from_max_leverage(Quote(1_000_000), 10).unwrap(),
    ])
    .unwrap();
    let long = pos(Side::Buy, 1_000, 2_000_000, 200_000); // entry 2,000, 10×
    let p = long.liquidation_price(&s, &t).unwrap().unwrap();
    assert!(long.is_liquidatable_at(p, &s, &t).unwrap());
    assert!(!long.is_liquidatable_at(PriceTicks(p.0 + 1), &s, &t).unwrap());
    // Tier 1: mmr 5%, mded = 1,000,000 × (5% − 1%) = 40,000.
    // P* = (2,000,000 − 200,000 − 40,000) / (1,000 × 0.95) = 1,852.6.
    assert_eq!(p, PriceTicks(1_852));
    assert_eq!(t.tier_index(s.notional(p, long.qty).unwrap()).unwrap(), 1);
}

#[test]
fn auction_decays_linearly_rounded_toward_the_start() {
    let long =
        TakeoverAuction { start: PriceTicks(1_000), end: PriceTicks(900), duration_blocks: 10 };
    let prices: Vec<u64> = [0, 1, 3, 9, 10, 20].iter().map(|&k| long.price_at(k).0).collect();
    assert_eq!(prices, [1_000, 990, 970, 910, 900, 900]);
    let odd =
        TakeoverAuction { start: PriceTicks(1_000), end: PriceTicks(997), duration_blocks: 2 };
    assert_eq!(odd.price_at(1), PriceTicks(999), "998.5 → toward the start");
    let short =
        TakeoverAuction { start: PriceTicks(1_000), end: PriceTicks(1_003), duration_blocks: 2 };
    assert_eq!(short.price_at(1), PriceTicks(1_001), "1,001.5 → toward the start");
    let instant = TakeoverAuction { duration_blocks: 0, ..long };
    assert_eq!(instant.price_at(0), PriceTicks(900));
    let extreme = TakeoverAuction {
        start: PriceTicks(u64::MAX),
        end: PriceTicks(0),
        duration_blocks: u64::MAX,
    };
    assert_eq!(extreme.price_at(u64::MAX - 1), PriceTicks(1));
    assert_eq!(extreme.price_at(1), PriceTicks(u64::MAX - 1));
}

#[test]
fn liquidation_limits_round_toward_the_mark() {
    let band = Rate::from_bps(150); // 1.5%
    assert_eq!(
        liquidation_limit_price(Side::Buy, PriceTicks(1_001), band).unwrap(),
        PriceTicks(986), // 985.985 → up
    );
    assert_eq!(
        liquidation_limit_price(Side::Sell, PriceTicks(1_001), band).unwrap(),
        PriceTicks(1_016), // 1,016.015 → down
    );
    assert_eq!(
        liquidation_limit_price(Side::Buy, PriceTicks(1), Rate::ONE).unwrap(),
        PriceTicks(1)
    );
    assert_eq!(
        liquidation_limit_price(Side::Sell, PriceTicks(u64::MAX), band).unwrap_err().kind(),
        MathErrorKind::Overflow
    );
    assert_eq!(
        liquidation_limit_price(Side::Buy, PriceTicks(1), Rate::from_ppb(-1)).unwrap_err().kind(),
        MathErrorKind::OutOfDomain
    );
}

#[test]
fn adl_ranks_by_profit_times_leverage_then_size_then_account() {
    let score = |pnl, entry, notional, equity| {
        adl_score(&AdlInputs {
            unrealised_pnl: Quote(pnl),
            entry_notional: Quote(entry),
            notional: Quote(notional),
            account_equity: Quote(equity),
        })
        .unwrap()
    };
    // +10% on entry, 5× leverage → 0.5.
    assert_eq!(score(100, 1_000, 1_100, 220), 500_000_000);
    // Same return, 2× leverage → 0.2: ranked after.
    assert_eq!(score(100, 1_000, 1_100, 550), 200_000_000);
    // A losing position scores negative; an account without equity last of all.
    assert_eq!(score(-100, 1_000, 900, 300), -300_000_000);
    assert_eq!(score(100, 1_000, 1_100, 0), i128::MIN);
    assert_eq!(
        adl_score(&AdlInputs {
            unrealised_pnl: Quote(1),
            entry_notional: Quote(0),
            notional: Quote(1),
            account_equity: Quote(1),
        })
        .unwrap_err()
        .kind(),
        MathErrorKind::OutOfDomain
    );
    let key = |score, notional, account| AdlKey {
        score,
        notional: Quote(notional),
        account: AccountId(account),
    };
    let mut queue = [
        key(200, 5_000, 1),
        key(500, 1_000, 9),
        key(200, 5_000, 0),
        key(200, 9_000, 7),
        key(i128::MIN, 1, 3),
        key(-5, 1_000, 2),
    ];
    queue.sort();
    let order: Vec<u32> = queue.iter().map(|k| k.account.0).collect();
    assert_eq!(order, [9, 7, 0, 1, 2, 3]);
    assert_eq!(key(1, 1, 1).partial_cmp(&key(1, 1, 1)), Some(Ordering::Equal));
}

proptest! {
    /// The liquidation price brackets the predicate to the tick, for both sides, on a
    /// three-tier table. A long's liquidation price sits at or above its bankruptcy price (a
    /// short's at or below) exactly when the position is liquidatable at its bankruptcy price,
    /// and that is guaranteed when the requirement there is at least one tick's move of equity
    /// (`q·a`): equity at the bankruptcy price is below `q·a`. With a coarser tick the position
    /// can go from healthy to bankrupt in one tick (regression: short 1 lot at 1 tick, 2 atoms
    /// per tick-lot, collateral 1: healthy at 1, bankrupt at 2).
    #[test]
    fn liquidation_price_is_the_exact_trigger(
        long in any::<bool>(),
        qty in 1u64..1_000_000,
        entry in 1u64..1_000_000,
        lev in 1u64..60,
        atoms in 1u64..1_000,
    ) {
        let s = ContractSpec::new(atoms).unwrap();
        let t = MarginTiers::new(&[
            MarginTier::from_max_leverage(Quote(0), 50).unwrap(),
            MarginTier::from_max_leverage(Quote(1_000_000_000), 20).unwrap(),
            MarginTier::from_max_leverage(Quote(100_000_000_000), 5).unwrap(),
        ]).unwrap();
        let side = if long { Side::Buy } else { Side::Sell };
        let v = s.notional(PriceTicks(entry), QtyLots(qty)).unwrap();
        let p = pos(side, qty, v.0, v.0 / i128::from(lev));
        let liq = p.liquidation_price(&s, &t).unwrap();
        let bk = p.bankruptcy_price(&s).unwrap();
        // The requirement at the bankruptcy price is at least one tick's move of equity.
        let qa = i128::from(qty) * i128::from(s.quote_atoms_per_tick_lot());
        let fine_tick = t.maintenance_margin(s.notional(bk, QtyLots(qty)).unwrap()).unwrap().0 >= qa;
        let at_bk = p.is_liquidatable_at(bk, &s, &t).unwrap();
        if fine_tick {
            prop_assert!(at_bk, "a fine tick puts the bankruptcy price inside the trigger");
        }
        if let Some(l) = liq {
            prop_assert!(p.is_liquidatable_at(l, &s, &t).unwrap());
            match side {
                Side::Buy => {
                    if l.0 < u64::MAX {
                        prop_assert!(!p.is_liquidatable_at(PriceTicks(l.0 + 1), &s, &t).unwrap());
                    }
                    prop_assert_eq!(bk <= l, at_bk);
                    if p.collateral >= t.initial_margin(v).unwrap() {
                        prop_assert!(l.0 < entry, "opened within initial margin: triggers below entry");
                    }
                }
                Side::Sell => {
                    if l.0 > 0 {
                        prop_assert!(!p.is_liquidatable_at(PriceTicks(l.0 - 1), &s, &t).unwrap());
                    }
                    prop_assert_eq!(bk >= l, at_bk);
                    if p.collateral >= t.initial_margin(v).unwrap() {
                        prop_assert!(l.0 > entry, "opened within initial margin: triggers above entry");
                    }
                }
            }
        }
        // Equity at the bankruptcy price is non-negative, one tick beyond it negative.
        prop_assert!(p.equity_at(bk, &s).unwrap().0 >= 0);
        let beyond = match side { Side::Buy => bk.0.checked_sub(1), Side::Sell => bk.0.checked_add(1) };
        if let Some(b) = beyond {
            prop_assert!(p.equity_at(PriceTicks(b), &s).unwrap().0 < 0);
        }
    }

    #[test]
    fn liquidation_math_never_panics(
        long in any::<bool>(),
        qty in any::<u64>(),
        entry in any::<i128>(),
        collateral in any::<i128>(),
        atoms in 1u64..,
        mark in any::<u64>(),
    ) {
        let s = ContractSpec::new(atoms).unwrap();
        let p = pos(if long { Side::Buy } else { Side::Sell }, qty, entry, collateral);
        let _ = p.liquidation_price(&s, &ten_x());
        let _ = p.bankruptcy_price(&s);
        let _ = p.equity_at(PriceTicks(mark), &s);
        let _ = adl_score(&AdlInputs {
            unrealised_pnl: Quote(collateral),
            entry_notional: Quote(entry),
            notional: Quote(entry),
            account_equity: Quote(collateral),
        });
    }
}
