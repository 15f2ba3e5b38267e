//! Our book, `novation_book::Book`.

use novation_book::{AccountId, Book, BookLimits, Event, NewOrder, Now, OrderId, Side};

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

/// `novation_book::Book` with room for the whole flow: a million resting orders, 100,000 per
/// account (maker accounts hold many orders), the default level and match-step bounds (the flow
/// stays far below both). One event vector is reused, cleared before each operation; fills are
/// read from its [`Event::Fill`]s. That vector starts with room for 64 events (4 KiB), which
/// the heap report counts in the preallocation.
#[derive(Debug)]
pub struct Novation {
    book: Book,
    events: Vec<Event>,
    fills: Fills,
    errors: u64,
}

impl Novation {
    /// The limits the benchmark uses.
    pub fn limits() -> BookLimits {
        BookLimits {
            orders_per_book_max: 1 << 20,
            orders_per_account_max: 100_000,
            ..BookLimits::default()
        }
    }

    #[inline(always)]
    fn record(&mut self) {
        for event in &self.events {
            if let Event::Fill { price, qty, .. } = *event {
                self.fills.record(price.0, qty.0);
            }
        }
    }
}

impl BookUnderTest for Novation {
    fn name() -> &'static str {
        "novation"
    }

    fn new() -> Self {
        Novation {
            book: Book::new(Self::limits()).expect("valid limits"),
            events: Vec::with_capacity(64),
            fills: Fills::default(),
            errors: 0,
        }
    }

    #[inline]
    fn add(&mut self, id: u64, account: u32, side: Side, price: u64, qty: u64) {
        self.events.clear();
        let order = NewOrder::limit(id, account, side, price, qty);
        if self.book.place(Now::default(), &order, &mut self.events).is_err() {
            self.errors += 1;
        }
        self.record();
    }

    #[inline]
    fn cancel(&mut self, id: u64, account: u32) {
        self.events.clear();
        if self.book.cancel(AccountId(account), OrderId(id), &mut self.events).is_err() {
            self.errors += 1;
        }
    }

    #[inline]
    fn ioc(&mut self, id: u64, account: u32, side: Side, limit: u64, qty: u64) {
        self.events.clear();
        let order = NewOrder::market(id, account, side, limit, qty);
        if self.book.place(Now::default(), &order, &mut self.events).is_err() {
            self.errors += 1;
        }
        self.record();
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}
