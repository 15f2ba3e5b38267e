//! `matchcore` 0.4.0.
//!
//! API notes: every command carries a sequence number that must be exactly the previous one plus
//! one, starting at 0, and a non-decreasing timestamp; a submitted order's id is the sequence
//! number of its submit command. Since every flow operation is exactly one command here and the
//! flow's order ids are the operation's position plus one, matchcore's id of our order `id` is
//! `id - 1` (checked in debug builds), so no id translation table is needed.
//!
//! IOC: native — a `LimitOrder` with `TimeInForce::Ioc`. Fills are read from the target
//! order's `MatchResult` (`executed_quantity`, `executed_value`). Makers and takers are
//! different accounts in the flow and matchcore has no notion of accounts, so the lack of
//! self-trade prevention does not matter.
//!
//! Known deviation: matchcore 0.4.0 matches a *crossing* limit order (GTC or IOC) without its
//! price bound — `submit_crossable_order` calls `match_order(.., None, ..)` — so an IOC that
//! meets the last acceptable level with size left keeps trading at worse prices. On this flow
//! its fill totals therefore exceed the reference book's, and some later cancels find their
//! order already filled (`OrderNotFound`, counted as errors). Reproduced by
//! `tests/peers.rs::matchcore_trades_through_ioc_limit`.

use matchcore::{
    CancelCmd, Command, CommandKind, CommandMeta, CommandOutcome, CommandReport, LimitOrder,
    NewOrder, OrderBook, OrderFlags, OrderId, OrderKind, Price, Quantity, QuantityPolicy,
    SequenceNumber, SubmitCmd, TimeInForce, Timestamp,
};
use novation_book::Side;

use crate::adapter::BookUnderTest;
use crate::flow::Fills;

/// A `matchcore::OrderBook` plus the sequence number of the next command.
#[derive(Debug)]
pub struct Matchcore {
    book: OrderBook,
    seq: u64,
    fills: Fills,
    errors: u64,
}

fn side(side: Side) -> matchcore::Side {
    match side {
        Side::Buy => matchcore::Side::Buy,
        Side::Sell => matchcore::Side::Sell,
    }
}

impl Matchcore {
    #[inline]
    fn meta(&mut self) -> CommandMeta {
        let meta =
            CommandMeta { sequence_number: SequenceNumber(self.seq), timestamp: Timestamp(0) };
        self.seq += 1;
        meta
    }

    #[inline]
    fn submit(&mut self, id: u64, side_: Side, price: u64, qty: u64, tif: TimeInForce) {
        debug_assert_eq!(self.seq + 1, id, "flow ids are positions plus one");
        let order = LimitOrder::new(
            Price(price),
            QuantityPolicy::Standard { quantity: Quantity(qty) },
            OrderFlags::new(side(side_), false, tif),
        );
        let command = Command {
            meta: self.meta(),
            kind: CommandKind::Submit(SubmitCmd { order: NewOrder::Limit(order) }),
        };
        match self.book.execute(&command) {
            CommandOutcome::Applied(CommandReport::Submit(effects)) => {
                if let Some(result) = effects.target_order().match_result() {
                    self.fills.qty += u128::from(result.executed_quantity().0);
                    self.fills.notional += result.executed_value().0;
                }
            }
            _ => self.errors += 1,
        }
    }
}

impl BookUnderTest for Matchcore {
    fn name() -> &'static str {
        "matchcore"
    }

    fn new() -> Self {
        Matchcore { book: OrderBook::new("BENCH"), seq: 0, fills: Fills::default(), errors: 0 }
    }

    #[inline]
    fn add(&mut self, id: u64, _account: u32, side: Side, price: u64, qty: u64) {
        self.submit(id, side, price, qty, TimeInForce::Gtc);
    }

    #[inline]
    fn cancel(&mut self, id: u64, _account: u32) {
        let command = Command {
            meta: self.meta(),
            kind: CommandKind::Cancel(CancelCmd {
                order_id: OrderId(id - 1),
                order_kind: OrderKind::Limit,
            }),
        };
        if !matches!(self.book.execute(&command), CommandOutcome::Applied(CommandReport::Cancel)) {
            self.errors += 1;
        }
    }

    #[inline]
    fn ioc(&mut self, id: u64, _account: u32, side: Side, limit: u64, qty: u64) {
        self.submit(id, side, limit, qty, TimeInForce::Ioc);
    }

    fn fills(&self) -> Fills {
        self.fills
    }

    fn errors(&self) -> u64 {
        self.errors
    }
}
