//! The engine's invariants (DESIGN.md), checked after every block in debug builds and tests.
//!
//! 1. **Conservation**: Σ bucket cash + fee pool + Σ funding pools = deposits − withdrawals.
//! 2. **Zero-sum**: per market, long open interest = short open interest = the legs' sums;
//!    funding: `pool × 1e9 − Σ residues + Σ pending exact amounts = 0` (the pending exact
//!    amount of a leg is `size × (index − entry)` nano-atoms).
//! 3. **Solvency**: every insurance fund not itself in the waterfall has equity ≥ 0; every
//!    bucket with negative equity is in the waterfall.
//! 6. **Book sanity**: each book's own invariants; resting lots of every leg equal its orders
//!    in the book; the holder sets match the legs.
//!
//! (4, no innocent socialisation, and 7, rejection leaves no trace, compare states across
//! blocks and live in the tests.)

use std::collections::BTreeSet;

use novation_risk::TryArith;
use novation_types::{AccountId, Side};

use crate::engine::Engine;
use crate::event::{BucketId, MarketStatus};
use crate::valuation::bucket_value;

impl Engine {
    /// Checks invariants 1, 2, 3 and 6. `Err` describes the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_conservation()?;
        self.check_markets()?;
        self.check_solvency()
    }

    fn buckets(&self) -> impl Iterator<Item = (AccountId, BucketId, &crate::account::Bucket)> {
        self.accounts.iter().enumerate().flat_map(|(i, a)| {
            let id = AccountId(i as u32);
            a.bucket_ids().filter_map(move |b| a.bucket(b).map(|bb| (id, b, bb)))
        })
    }

    fn check_conservation(&self) -> Result<(), String> {
        let mut total: i128 = self.fee_pool.0;
        for (_, _, b) in self.buckets() {
            total = total.try_add(b.cash.0).map_err(|e| e.to_string())?;
        }
        for m in &self.markets {
            total = total.try_add(m.funding_pool.0).map_err(|e| e.to_string())?;
        }
        let expected = self.deposits.0 - self.withdrawals.0;
        if total != expected {
            return Err(format!(
                "conservation: cash + pools = {total}, deposits - withdrawals = {expected}"
            ));
        }
        Ok(())
    }

    fn check_markets(&self) -> Result<(), String> {
        for m in &self.markets {
            let mi = usize::from(m.id.0);
            if m.long_lots != m.short_lots {
                return Err(format!(
                    "market {mi}: long OI {} != short OI {}",
                    m.long_lots, m.short_lots
                ));
            }
            let (mut long, mut short, mut pending) = (0u64, 0u64, 0i128);
            let mut holders = BTreeSet::new();
            let (mut open_buy, mut open_sell) = (0u64, 0u64);
            for (account, bucket, b) in self.buckets() {
                let Some(leg) = b.leg(m.id) else { continue };
                if bucket != self.accounts[account.0 as usize].bucket_of(m.id) {
                    return Err(format!(
                        "market {mi}: account {account:?} has a leg in an inactive bucket"
                    ));
                }
                if leg.is_empty() {
                    return Err(format!("market {mi}: account {account:?} keeps an empty leg"));
                }
                long += leg.size.max(0).unsigned_abs();
                short += leg.size.min(0).unsigned_abs();
                if leg.size != 0 {
                    holders.insert((account, bucket));
                    let moved = m.funding_index.0 - leg.funding_entry.0;
                    pending += i128::from(leg.size) * moved;
                }
                open_buy += leg.open_buy;
                open_sell += leg.open_sell;
                if m.status != MarketStatus::Halted {
                    let orders = m.book.orders_of(account);
                    let side_sum = |s: Side| {
                        orders.iter().filter(|o| o.side == s).map(|o| o.qty.0).sum::<u64>()
                    };
                    if (side_sum(Side::Buy), side_sum(Side::Sell)) != (leg.open_buy, leg.open_sell)
                    {
                        return Err(format!(
                            "market {mi}: account {account:?} legs say {}/{} open, the book {}/{}",
                            leg.open_buy,
                            leg.open_sell,
                            side_sum(Side::Buy),
                            side_sum(Side::Sell)
                        ));
                    }
                }
            }
            if (long, short) != (m.long_lots, m.short_lots) {
                return Err(format!(
                    "market {mi}: legs hold {long}/{short}, OI says {}/{}",
                    m.long_lots, m.short_lots
                ));
            }
            if holders != m.holders {
                return Err(format!("market {mi}: holder set out of date"));
            }
            let identity = m.funding_pool.0 * 1_000_000_000 - m.funding_residue_nano + pending;
            if identity != 0 {
                return Err(format!(
                    "market {mi}: funding pool identity off by {identity} nano-atoms"
                ));
            }
            if m.status != MarketStatus::Halted {
                m.book.check_invariants().map_err(|e| format!("market {mi} book: {e}"))?;
                let book_buy: u64 =
                    m.book.depth(Side::Buy, usize::MAX).iter().map(|l| l.qty.0).sum();
                let book_sell: u64 =
                    m.book.depth(Side::Sell, usize::MAX).iter().map(|l| l.qty.0).sum();
                if (book_buy, book_sell) != (open_buy, open_sell) {
                    return Err(format!("market {mi}: book rests {book_buy}/{book_sell}, legs {open_buy}/{open_sell}"));
                }
            }
        }
        Ok(())
    }

    fn check_solvency(&self) -> Result<(), String> {
        for (account, bucket, b) in self.buckets() {
            if self.liquidations.contains_key(&(account, bucket)) {
                continue;
            }
            let v = bucket_value(&self.markets, b, None, 0).map_err(|e| e.to_string())?;
            if v.equity < v.maintenance && v.positions > 0 {
                // Allowed only while one of its watch entries is due (the per-block evaluation
                // budget ran out): it is then examined at the next block.
                let due = b
                    .watch
                    .iter()
                    .any(|&(m, t)| t <= self.markets[usize::from(m.0)].watch_progress);
                if !due {
                    return Err(format!(
                        "account {account:?} {bucket:?}: equity {} below maintenance {} and neither in the waterfall nor due",
                        v.equity, v.maintenance
                    ));
                }
            }
        }
        Ok(())
    }
}
