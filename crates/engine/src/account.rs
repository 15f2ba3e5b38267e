//! Accounts, margin buckets and legs (a position and the resting orders in one market).
//!
//! # Accounting (the specification)
//! Money is kept by **cash flow**: a fill of `q` lots at price `P` moves `q·P·a` quote atoms
//! from the buyer's bucket cash to the seller's (`a` = atoms per tick-lot), fees move to and from
//! the fee pool, funding to and from the market's funding pool. So cash is conserved exactly at
//! every step (invariant 1), and a bucket's value at mark is
//!
//! ```text
//! equity = cash + Σ_legs size × mark × a − Σ_legs pending funding
//! ```
//!
//! where `size` is signed (long positive) and pending funding is what the leg would pay if it
//! settled now ([`novation_risk::settle_funding`]). A leg also keeps its **entry notional** `V`
//! (the cost basis of its open size) for display, realised/unrealised profit and the ADL
//! ranking: `upnl = sign × (|size|·mark·a − V)`. Reducing a leg by `c` of its `n` lots removes
//! `⌊V × c / n⌋` from `V` (all of it on a full close); a flip opens the remainder at the fill
//! price exactly.
//!
//! # Buckets
//! An account has one **cross** bucket (default) and zero or more **isolated** buckets, one per
//! market the trader switched to isolated margin. Each bucket has its own cash and legs and is
//! margined and liquidated on its own; an isolated bucket holds at most one leg, its market's.

use novation_risk::{FundingIndex, MathError, TryArith};
use novation_types::{Address, PriceTicks, QtyLots, Quote, Side};

use crate::action::{MarketId, SubaccountId};
use crate::event::BucketId;

/// A position and the resting orders of one bucket in one market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leg {
    /// The market.
    pub market: MarketId,
    /// Signed size in lots: positive long, negative short.
    pub size: i64,
    /// `V`: cost basis of the open size, quote atoms, `≥ 0` (zero when flat).
    pub entry_notional: Quote,
    /// The market's funding index when this leg last settled.
    pub funding_entry: FundingIndex,
    /// Lots resting on the buy side.
    pub open_buy: u64,
    /// Lots resting on the sell side.
    pub open_sell: u64,
    /// The leg's value as last computed, and what it was computed from (`valuation.rs`).
    pub(crate) cache: LegCache,
}

/// Everything a [`crate::LegValue`] depends on, and the value computed from it. A leg is
/// re-valued only when one of these changed: its own fields, the market's mark, funding index
/// or (with an open-interest ramp) open interest.
///
/// The cache is not state: it is derived from state, two legs equal in every field but the
/// cache are equal, and its `Debug` prints nothing (so state dumps and, later, state roots
/// never depend on which computations happened to run, e.g. for a rejected action).
#[derive(Clone, Copy, Default)]
pub(crate) struct LegCache {
    pub(crate) key: Option<CacheKey>,
    pub(crate) value: crate::valuation::LegValue,
}

impl PartialEq for LegCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LegCache {}

impl core::fmt::Debug for LegCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("_")
    }
}

/// See [`LegCache`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CacheKey {
    pub(crate) mark: u64,
    pub(crate) funding: i128,
    pub(crate) open_interest: u64,
    pub(crate) size: i64,
    pub(crate) entry: i128,
    pub(crate) funding_entry: i128,
    pub(crate) open_buy: u64,
    pub(crate) open_sell: u64,
}

impl Leg {
    /// An empty leg in `market`, settled at `funding`.
    pub fn new(market: MarketId, funding: FundingIndex) -> Leg {
        Leg {
            market,
            size: 0,
            entry_notional: Quote::ZERO,
            funding_entry: funding,
            open_buy: 0,
            open_sell: 0,
            cache: LegCache::default(),
        }
    }

    /// The position's side, `None` when flat.
    pub fn side(&self) -> Option<Side> {
        match self.size {
            0 => None,
            s if s > 0 => Some(Side::Buy),
            _ => Some(Side::Sell),
        }
    }

    /// Absolute size.
    pub fn qty(&self) -> QtyLots {
        QtyLots(self.size.unsigned_abs())
    }

    /// Whether the leg holds nothing (it can be dropped).
    pub fn is_empty(&self) -> bool {
        self.size == 0 && self.open_buy == 0 && self.open_sell == 0
    }

    /// The worst-case absolute size if every resting order on one side filled:
    /// `max(|size + open_buy|, |size − open_sell|)`.
    pub fn worst_case_qty(&self) -> u64 {
        let s = i128::from(self.size);
        let up = (s + i128::from(self.open_buy)).unsigned_abs();
        let down = (s - i128::from(self.open_sell)).unsigned_abs();
        // Sizes and open lots are bounded by 2^40 per order × orders per account: far below u64.
        u64::try_from(up.max(down)).unwrap_or(u64::MAX)
    }

    /// Resting lots on `side`.
    pub fn open_mut(&mut self, side: Side) -> &mut u64 {
        match side {
            Side::Buy => &mut self.open_buy,
            Side::Sell => &mut self.open_sell,
        }
    }

    /// Applies a fill of `qty` lots on `side` at `price` to size and entry notional (cash is
    /// the caller's). `lot_atoms` is the contract's atoms per tick-lot. Returns the entry
    /// notional released by the reduced part (for realised PnL reporting).
    pub fn apply_fill(
        &mut self,
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
        lot_atoms: u64,
    ) -> Result<Quote, MathError> {
        let q = i64::try_from(qty.0).map_err(|_| MathError::overflow())?;
        let delta = match side {
            Side::Buy => q,
            Side::Sell => -q,
        };
        let value = |lots: u64| -> Result<i128, MathError> {
            i128::from(lots).try_mul(i128::from(price.0))?.try_mul(i128::from(lot_atoms))
        };
        let new_size = self.size.try_add(delta)?;
        if self.size == 0 || (self.size > 0) == (delta > 0) {
            self.entry_notional = Quote(self.entry_notional.0.try_add(value(qty.0)?)?);
            self.size = new_size;
            return Ok(Quote::ZERO);
        }
        let held = self.size.unsigned_abs();
        let closed = held.min(qty.0);
        let released = if closed == held {
            self.entry_notional.0
        } else {
            novation_risk::mul_div_floor(
                self.entry_notional.0.unsigned_abs(),
                u128::from(closed),
                u128::from(held),
            )
            .and_then(novation_risk::narrow)?
        };
        self.entry_notional = Quote(self.entry_notional.0.try_sub(released)?);
        if qty.0 > held {
            // Flipped: the remainder opens at the fill price.
            self.entry_notional = Quote(value(qty.0 - held)?);
        }
        self.size = new_size;
        Ok(Quote(released))
    }
}

/// Cash and legs margined together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Quote atoms (may be negative for a bucket holding longs: see the module doc).
    pub cash: Quote,
    /// Legs, sorted by market.
    pub legs: Vec<Leg>,
    /// This bucket's entries in the markets' liquidation watches: `(market, trigger)`.
    pub(crate) watch: Vec<(MarketId, u128)>,
}

impl Bucket {
    /// Index of the leg in `market`.
    pub fn leg_index(&self, market: MarketId) -> Result<usize, usize> {
        self.legs.binary_search_by_key(&market, |l| l.market)
    }

    /// The leg in `market`, if any.
    pub fn leg(&self, market: MarketId) -> Option<&Leg> {
        self.leg_index(market).ok().map(|i| &self.legs[i])
    }

    /// Whether the bucket has no position in any market.
    pub fn is_flat(&self) -> bool {
        self.legs.iter().all(|l| l.size == 0)
    }
}

/// One (address, subaccount).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Owner address.
    pub owner: Address,
    /// Subaccount number.
    pub sub: SubaccountId,
    /// The cross-margin bucket.
    pub cross: Bucket,
    /// Isolated buckets, sorted by market; each holds at most its market's leg.
    pub isolated: Vec<(MarketId, Bucket)>,
}

impl Account {
    /// A new empty account.
    pub fn new(owner: Address, sub: SubaccountId) -> Account {
        Account { owner, sub, cross: Bucket::default(), isolated: Vec::new() }
    }

    /// Which bucket trades `market` for this account.
    pub fn bucket_of(&self, market: MarketId) -> BucketId {
        match self.isolated.binary_search_by_key(&market, |(m, _)| *m) {
            Ok(_) => BucketId::Isolated(market),
            Err(_) => BucketId::Cross,
        }
    }

    /// A bucket by id.
    pub fn bucket(&self, id: BucketId) -> Option<&Bucket> {
        match id {
            BucketId::Cross => Some(&self.cross),
            BucketId::Isolated(m) => self
                .isolated
                .binary_search_by_key(&m, |(mm, _)| *mm)
                .ok()
                .map(|i| &self.isolated[i].1),
        }
    }

    /// A bucket by id, mutably.
    pub fn bucket_mut(&mut self, id: BucketId) -> Option<&mut Bucket> {
        match id {
            BucketId::Cross => Some(&mut self.cross),
            BucketId::Isolated(m) => match self.isolated.binary_search_by_key(&m, |(mm, _)| *mm) {
                Ok(i) => Some(&mut self.isolated[i].1),
                Err(_) => None,
            },
        }
    }

    /// Every bucket id of the account: cross first, then isolated by market.
    pub fn bucket_ids(&self) -> impl Iterator<Item = BucketId> + '_ {
        core::iter::once(BucketId::Cross)
            .chain(self.isolated.iter().map(|(m, _)| BucketId::Isolated(*m)))
    }

    /// Total legs across buckets (the per-account bound counts these).
    pub fn leg_count(&self) -> usize {
        self.cross.legs.len() + self.isolated.iter().map(|(_, b)| b.legs.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg() -> Leg {
        Leg::new(MarketId(0), FundingIndex::ZERO)
    }

    #[test]
    fn open_add_reduce_flip_close() {
        let mut l = leg();
        l.apply_fill(Side::Buy, QtyLots(10), PriceTicks(100), 1).unwrap();
        assert_eq!((l.size, l.entry_notional), (10, Quote(1000)));
        l.apply_fill(Side::Buy, QtyLots(10), PriceTicks(200), 1).unwrap();
        assert_eq!((l.size, l.entry_notional), (20, Quote(3000)));
        // Reduce by a third of 20 → releases ⌊3000 × 7 / 20⌋ = 1050.
        let released = l.apply_fill(Side::Sell, QtyLots(7), PriceTicks(50), 1).unwrap();
        assert_eq!((l.size, l.entry_notional, released), (13, Quote(1950), Quote(1050)));
        // Flip: close 13, open 2 short at 300.
        let released = l.apply_fill(Side::Sell, QtyLots(15), PriceTicks(300), 1).unwrap();
        assert_eq!((l.size, l.entry_notional, released), (-2, Quote(600), Quote(1950)));
        l.apply_fill(Side::Buy, QtyLots(2), PriceTicks(1), 1).unwrap();
        assert_eq!((l.size, l.entry_notional), (0, Quote(0)));
    }

    #[test]
    fn worst_case_counts_the_worse_side() {
        let mut l = leg();
        l.size = 5;
        l.open_buy = 3;
        l.open_sell = 20;
        assert_eq!(l.worst_case_qty(), 15);
        l.open_sell = 4;
        assert_eq!(l.worst_case_qty(), 8);
    }
}
