//! Operations as values: every mutation of the book, so that tests, fuzzing and replay can drive
//! a book (or a reference model) from one list.

use novation_types::{AccountId, ClientOrderId, Now, OrderId, PriceTicks, QtyLots, Side};

use crate::{Book, Event, NewOrder};

/// One mutation of the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`Book::place`].
    Place(NewOrder),
    /// [`Book::cancel`].
    Cancel { account: AccountId, id: OrderId },
    /// [`Book::cancel_by_client_id`].
    CancelByClientId { account: AccountId, client_id: ClientOrderId },
    /// [`Book::cancel_all`].
    CancelAll { account: AccountId, side: Option<Side> },
    /// [`Book::modify`].
    Modify { account: AccountId, id: OrderId, price: PriceTicks, qty: QtyLots },
    /// [`Book::expire`].
    Expire { limit: u32 },
}

impl Book {
    /// Applies one operation at `now`, appending its events to `out`. Rejections are reported as
    /// an [`Event::Rejected`] in `out` (and the book is unchanged).
    pub fn apply(&mut self, now: Now, op: &Op, out: &mut Vec<Event>) {
        // The `Result`s are deliberately dropped: each rejection is already in `out`.
        match *op {
            Op::Place(order) => {
                let _ = self.place(now, &order, out);
            }
            Op::Cancel { account, id } => {
                let _ = self.cancel(account, id, out);
            }
            Op::CancelByClientId { account, client_id } => {
                let _ = self.cancel_by_client_id(account, client_id, out);
            }
            Op::CancelAll { account, side } => {
                self.cancel_all(account, side, out);
            }
            Op::Modify { account, id, price, qty } => {
                let _ = self.modify(now, account, id, price, qty, out);
            }
            Op::Expire { limit } => {
                self.expire(now, limit, out);
            }
        }
    }
}
