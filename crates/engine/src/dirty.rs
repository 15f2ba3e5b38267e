//! Dirty tracking: which accounts' committed state changed since the chain last asked.
//!
//! # Contract
//! [`crate::Engine::take_dirty_accounts`] returns, sorted ascending and without duplicates,
//! every account whose [`crate::AccountSnapshot`] may differ from what it was at the previous
//! call (or that was created since): cash, legs, isolated buckets, liquidation-watch entries,
//! resting orders in any book, and its buckets' places in the liquidation waterfall. It may
//! name an account whose snapshot ends up unchanged (an empty leg inserted and dropped in the
//! same action, a watch entry re-set to its old trigger); it never leaves out one that changed.
//! Changes made between blocks (`seed_insurance`, `add_market`) count too.
//!
//! # How
//! The mutations of account state funnel through a handful of places, each of which marks the
//! account: `Engine::bucket_mut`, the leg lookup of fill settlement, the direct cash moves of
//! deposits, withdrawals and transfers, margin-mode changes, account creation, every book event
//! (maker and taker of a fill, the owner of an order accepted, resting, cancelled, expired,
//! modified or decremented) and every change to a bucket's waterfall state. The hooks overlap on
//! purpose (a fill passes three of them): each sits where its mutation is, so a mutation that
//! fails half-way, or a later change of path, cannot drop an account. Marking costs a flag test
//! per call: a flag per account, and the list of flagged ids, sorted when taken. Both are
//! bounded by the number of accounts, whether or not anyone takes the set.
//!
//! `set_market_status` changes no account. The test harness checks the contract after every
//! block of every engine test (`tests/harness`).

use novation_types::AccountId;

/// Accounts marked since the last [`DirtySet::take`]. Not state: its `Debug` prints nothing, so
/// state dumps do not depend on when the set was last taken.
#[derive(Clone, Default)]
pub(crate) struct DirtySet {
    /// One flag per account id.
    flags: Vec<bool>,
    /// The flagged ids, in marking order.
    list: Vec<AccountId>,
}

impl core::fmt::Debug for DirtySet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("_")
    }
}

impl DirtySet {
    /// Makes room for account `id` (called when the account is created) and marks it.
    pub(crate) fn created(&mut self, id: AccountId) {
        let i = id.0 as usize;
        if self.flags.len() <= i {
            self.flags.resize(i + 1, false);
        }
        self.mark(id);
    }

    /// Marks `id`. An id the engine never created is ignored (it names no state).
    #[inline]
    pub(crate) fn mark(&mut self, id: AccountId) {
        if let Some(flag) = self.flags.get_mut(id.0 as usize) {
            if !*flag {
                *flag = true;
                self.list.push(id);
            }
        }
    }

    /// The marked ids, ascending, and an empty set.
    pub(crate) fn take(&mut self) -> Vec<AccountId> {
        for id in &self.list {
            if let Some(flag) = self.flags.get_mut(id.0 as usize) {
                *flag = false;
            }
        }
        let mut out = core::mem::take(&mut self.list);
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_once_sorts_and_resets() {
        let mut d = DirtySet::default();
        for i in 0..5 {
            d.created(AccountId(i));
        }
        assert_eq!(d.take(), (0..5).map(AccountId).collect::<Vec<_>>());
        assert!(d.take().is_empty());
        d.mark(AccountId(3));
        d.mark(AccountId(1));
        d.mark(AccountId(3));
        d.mark(AccountId(99)); // never created: ignored
        assert_eq!(d.take(), vec![AccountId(1), AccountId(3)]);
        assert!(d.take().is_empty());
    }
}
