//! The interface every book under test is driven through.

use novation_book::Side;

use crate::flow::{Fills, Op};

/// A book under test behind a thin adapter: translate the operation, call the book, read what it
/// reports. Each adapter accumulates the fill totals its book reports.
pub trait BookUnderTest {
    /// Short name used in the report.
    fn name() -> &'static str;

    /// A fresh, empty book, configured so that the flow never meets one of its bounds.
    fn new() -> Self;

    /// A passive GTC limit order.
    fn add(&mut self, id: u64, account: u32, side: Side, price: u64, qty: u64);

    /// Cancel the live order `id` of `account`.
    fn cancel(&mut self, id: u64, account: u32);

    /// An immediate-or-cancel limit order: trade what is acceptable at `limit`, drop the rest.
    fn ioc(&mut self, id: u64, account: u32, side: Side, limit: u64, qty: u64);

    /// Fill totals reported by the book so far.
    fn fills(&self) -> Fills;

    /// Operations the book refused or reported as failed so far (the flow expects none).
    fn errors(&self) -> u64;

    /// Applies one operation of the flow.
    #[inline(always)]
    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Add { id, account, side, price, qty } => self.add(id, account, side, price, qty),
            Op::Cancel { id, account } => self.cancel(id, account),
            Op::Ioc { id, account, side, limit, qty } => self.ioc(id, account, side, limit, qty),
        }
    }
}
