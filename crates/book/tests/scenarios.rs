//! Scenario tables: every order type, cancel, modify, self-trade prevention, expiry, bounds and
//! bad input, written as `command -> events`. See `dsl/mod.rs` for the language.

mod dsl;

use dsl::Scenario;
use novation_book::BookLimits;

fn run(table: &str) {
    Scenario::new(BookLimits::default()).run(table);
}

fn run_with(limits: BookLimits, table: &str) {
    Scenario::new(limits).run(table);
}

#[test]
fn price_time_priority() {
    run("
        place alice buy 5 @ 100 -> rests 5 @ 100
        place bob sell 8 @ 99 -> fills 5 @ 100, rests 3 @ 99
        place carol sell 2 @ 99 -> rests 2 @ 99
        place dave sell 4 @ 98 -> rests 4 @ 98
        book -> bids - | asks 4@98 5@99
        level 99 -> #2 bob 3, #3 carol 2
        // the better price first, then time order within a level
        place erin buy 6 @ 99 -> fills 4 @ 98, fills 2 @ 99
        level 99 -> #2 bob 1, #3 carol 2
        place erin buy 10 @ 105 -> fills 1 @ 99, fills 2 @ 99, rests 7 @ 105
        book -> bids 7@105 | asks -
    ");
}

#[test]
fn limit_sweeps_levels_then_rests_at_its_limit() {
    run("
        place alice sell 1 @ 101 -> rests 1 @ 101
        place alice sell 2 @ 102 -> rests 2 @ 102
        place alice sell 3 @ 103 -> rests 3 @ 103
        place bob buy 5 @ 102 -> fills 1 @ 101, fills 2 @ 102, rests 2 @ 102
        book -> bids 2@102 | asks 3@103
    ");
}

#[test]
fn ioc_and_market_never_rest() {
    run("
        place alice sell 3 @ 101 -> rests 3 @ 101
        place alice sell 3 @ 103 -> rests 3 @ 103
        place bob buy 5 @ 102 ioc -> fills 3 @ 101, cancelled #3 2 (unfilled)
        place bob buy 1 @ 100 ioc -> cancelled #4 1 (unfilled)
        // a market order is an IOC bounded by the caller's worst price
        place bob buy 10 @ 103 market -> fills 3 @ 103, cancelled #5 7 (unfilled)
        place bob sell 10 @ 1 market -> cancelled #6 10 (unfilled)
        book -> bids - | asks -
    ");
}

#[test]
fn fill_or_kill_is_all_or_nothing() {
    run("
        place alice sell 3 @ 101 -> rests 3 @ 101
        place carol sell 3 @ 102 -> rests 3 @ 102
        place bob buy 7 @ 102 fok -> rejected FokWouldNotFill
        place bob buy 6 @ 101 fok -> rejected FokWouldNotFill
        place bob buy 6 @ 102 fok -> fills 3 @ 101, fills 3 @ 102
        book -> bids - | asks -
        // own orders cannot fill a FOK unless they are cancelled out of the way
        place alice sell 2 @ 101 -> rests 2 @ 101
        place carol sell 2 @ 102 -> rests 2 @ 102
        place alice buy 2 @ 102 fok -> rejected FokWouldNotFill
        place alice buy 2 @ 102 fok stp=oldest -> cancelled #6 2 (self-trade), fills 2 @ 102
    ");
}

#[test]
fn post_only_rejects_or_slides() {
    run("
        place alice sell 5 @ 101 -> rests 5 @ 101
        place alice buy 5 @ 99 -> rests 5 @ 99
        place bob buy 1 @ 101 post -> rejected PostOnlyWouldCross
        place bob buy 1 @ 100 post -> rests 1 @ 100
        place bob buy 2 @ 105 post-slide -> rests 2 @ 100
        place bob sell 2 @ 90 post-slide -> rests 2 @ 101
        book -> bids 3@100 5@99 | asks 7@101
        level 100 -> #4 bob 1, #5 bob 2
    ");
}

#[test]
fn post_only_slide_cannot_reach_price_zero() {
    run("
        place alice sell 5 @ 1 -> rests 5 @ 1
        place bob buy 1 @ 3 post-slide -> rejected PostOnlyWouldCross
    ");
}

#[test]
fn cancel_by_id_client_id_and_all() {
    run("
        place alice buy 1 @ 98 cid=7 -> rests 1 @ 98
        place alice buy 2 @ 99 -> rests 2 @ 99
        place alice sell 3 @ 101 -> rests 3 @ 101
        place alice sell 4 @ 102 -> rests 4 @ 102
        place bob buy 5 @ 97 cid=7 -> rests 5 @ 97
        order alice cid=7 -> #1 alice buy 1 @ 98
        order bob cid=7 -> #5 bob buy 5 @ 97
        cancel bob #2 -> rejected NotOwner
        cancel alice #99 -> rejected UnknownOrder
        cancel alice cid=8 -> rejected UnknownOrder
        cancel alice cid=7 -> cancelled #1 1 (user)
        order alice cid=7 -> none
        // the client id is free again once its order is gone
        place alice buy 1 @ 96 cid=7 -> rests 1 @ 96
        cancel-all alice sell -> cancelled #3 3 (user), cancelled #4 4 (user)
        cancel-all alice -> cancelled #2 2 (user), cancelled #6 1 (user)
        cancel-all alice -> nothing
        cancel bob #5 -> cancelled #5 5 (user)
        book -> bids - | asks -
    ");
}

#[test]
fn modify_keeps_priority_only_when_shrinking_in_place() {
    run("
        place alice buy 5 @ 100 -> rests 5 @ 100
        place bob buy 5 @ 100 -> rests 5 @ 100
        modify alice #1 3 @ 100 -> modified 3 @ 100 (kept)
        level 100 -> #1 alice 3, #2 bob 5
        modify alice #1 4 @ 100 -> modified 4 @ 100 (lost), rests 4 @ 100
        level 100 -> #2 bob 5, #1 alice 4
        modify bob #2 5 @ 99 -> modified 5 @ 99 (lost), rests 5 @ 99
        modify bob #2 5 @ 100 -> modified 5 @ 100 (lost), rests 5 @ 100
        level 100 -> #1 alice 4, #2 bob 5
        modify carol #1 1 @ 100 -> rejected NotOwner
        modify alice #9 1 @ 100 -> rejected UnknownOrder
        modify alice #1 0 @ 100 -> rejected ZeroQuantity
        modify alice #1 1 @ 0 -> rejected ZeroPrice
        order #1 -> #1 alice buy 4 @ 100
    ");
}

#[test]
fn modify_to_a_crossing_price_trades() {
    run("
        place alice sell 3 @ 102 -> rests 3 @ 102
        place bob buy 5 @ 100 -> rests 5 @ 100
        modify bob #2 5 @ 102 -> modified 5 @ 102 (lost), fills 3 @ 102, rests 2 @ 102
        place carol sell 1 @ 105 post -> rests 1 @ 105
        modify carol #3 1 @ 101 -> rejected PostOnlyWouldCross
        order #3 -> #3 carol sell 1 @ 105
    ");
}

#[test]
fn self_trade_cancel_newest() {
    run("
        place alice sell 5 @ 100 -> rests 5 @ 100
        place alice buy 3 @ 100 stp=newest -> cancelled #2 3 (self-trade)
        book -> bids - | asks 5@100
    ");
}

#[test]
fn self_trade_cancel_oldest_keeps_matching() {
    run("
        place alice sell 2 @ 100 -> rests 2 @ 100
        place bob sell 2 @ 100 -> rests 2 @ 100
        place alice buy 3 @ 100 stp=oldest -> cancelled #1 2 (self-trade), fills 2 @ 100, rests 1 @ 100
        book -> bids 1@100 | asks -
    ");
}

#[test]
fn self_trade_cancel_both() {
    run("
        place bob sell 1 @ 99 -> rests 1 @ 99
        place alice sell 2 @ 100 -> rests 2 @ 100
        place carol sell 2 @ 100 -> rests 2 @ 100
        place alice buy 5 @ 100 stp=both -> fills 1 @ 99, cancelled #2 2 (self-trade), cancelled #4 4 (self-trade)
        book -> bids - | asks 2@100
    ");
}

#[test]
fn self_trade_decrement_and_cancel() {
    run("
        place alice sell 2 @ 100 -> rests 2 @ 100
        place bob sell 2 @ 100 -> rests 2 @ 100
        place alice sell 5 @ 101 -> rests 5 @ 101
        // decrements the own order to zero, keeps matching with bob
        place alice buy 3 @ 100 stp=decrement -> decrements #1 by 2, fills 1 @ 100
        book -> bids - | asks 1@100 5@101
        // the own order survives with less, keeping its place
        place alice buy 2 @ 101 stp=decrement -> fills 1 @ 100, decrements #3 by 1
        level 101 -> #3 alice 4
    ");
}

#[test]
fn two_orders_of_one_account_never_trade() {
    for mode in ["newest", "oldest", "both", "decrement"] {
        let table = format!(
            "
            place alice sell 5 @ 100 -> rests 5 @ 100
            place alice buy 5 @ 100 stp={mode} -> {}
            ",
            match mode {
                "newest" => "cancelled #2 5 (self-trade)",
                "oldest" => "cancelled #1 5 (self-trade), rests 5 @ 100",
                "both" => "cancelled #1 5 (self-trade), cancelled #2 5 (self-trade)",
                _ => "decrements #1 by 5",
            }
        );
        run(&table);
    }
}

#[test]
fn expiry_by_height_and_time() {
    run("
        now height=10 time=5000 -> ok
        place alice buy 1 @ 99 gtb=9 -> rejected ExpiredAtEntry
        place alice buy 1 @ 99 gtt=4999 -> rejected ExpiredAtEntry
        place alice buy 1 @ 99 gtb=10 -> rests 1 @ 99
        place alice buy 2 @ 98 gtt=5000 -> rests 2 @ 98
        place bob buy 3 @ 97 gtb=12 -> rests 3 @ 97
        place bob buy 4 @ 96 -> rests 4 @ 96
        now height=11 time=5001 -> ok
        // an expired order never trades: the taker removes it and moves on
        place carol sell 4 @ 97 -> expired #3 1, expired #4 2, fills 3 @ 97, rests 1 @ 97
        book -> bids 4@96 | asks 1@97
        modify bob #6 1 @ 96 -> modified 1 @ 96 (kept)
    ");
}

#[test]
fn expiry_sweep_is_ordered_and_bounded() {
    run("
        place alice buy 1 @ 90 gtt=2000 -> rests 1 @ 90
        place alice buy 1 @ 91 gtb=3 -> rests 1 @ 91
        place alice buy 1 @ 92 gtb=2 -> rests 1 @ 92
        place alice buy 1 @ 93 gtt=1500 -> rests 1 @ 93
        place alice buy 1 @ 94 -> rests 1 @ 94
        now height=5 time=1600 -> ok
        modify alice #2 2 @ 91 -> rejected OrderExpired
        // by height first (ascending), then by time; #1 (time 2000) is not expired yet
        expire 2 -> expired #3 1, expired #2 1
        expire 10 -> expired #4 1
        expire 10 -> nothing
        book -> bids 1@94 1@90 | asks -
    ");
}

#[test]
fn post_only_ignores_expired_makers_and_removes_them() {
    run("
        place alice sell 1 @ 100 gtb=1 -> rests 1 @ 100
        place alice sell 1 @ 102 -> rests 1 @ 102
        now height=2 time=2000 -> ok
        place bob buy 1 @ 101 post -> expired #1 1, rests 1 @ 101
        place bob buy 1 @ 103 post-slide -> rests 1 @ 101
        book -> bids 2@101 | asks 1@102
    ");
}

#[test]
fn bad_input_is_rejected_with_the_book_untouched() {
    run("
        place alice buy 5 @ 100 cid=1 -> rests 5 @ 100
        place bob buy 0 @ 100 -> rejected ZeroQuantity
        place bob buy max @ 100 -> rejected QuantityTooLarge
        place bob buy 1099511627777 @ 100 -> rejected QuantityTooLarge
        place bob buy 1099511627776 @ 100 -> rests 1099511627776 @ 100
        place bob buy 1 @ 0 -> rejected ZeroPrice
        place bob buy 1 @ max -> rejected PriceTooLarge
        place bob buy 0 @ 0 -> rejected ZeroQuantity
        place bob sell 1 @ 101 id=1 -> rejected DuplicateOrderId
        place alice sell 1 @ 101 cid=1 -> rejected DuplicateClientOrderId
        place bob sell 1 @ 101 cid=1 -> rests 1 @ 101
        book -> bids 1099511627781@100 | asks 1@101
    ");
}

#[test]
fn account_and_book_order_limits() {
    let limits =
        BookLimits { orders_per_account_max: 2, orders_per_book_max: 3, ..BookLimits::default() };
    run_with(
        limits,
        "
        place alice buy 1 @ 90 -> rests 1 @ 90
        place alice buy 1 @ 91 -> rests 1 @ 91
        place alice buy 1 @ 92 -> rejected AccountOrderLimit
        // an IOC cannot rest, so the limit does not apply to it
        place alice buy 1 @ 92 ioc -> cancelled #4 1 (unfilled)
        place bob sell 1 @ 95 -> rests 1 @ 95
        place carol sell 1 @ 96 -> rejected BookOrderLimit
        place carol sell 1 @ 91 ioc -> fills 1 @ 91
        place carol sell 1 @ 96 -> rests 1 @ 96
    ",
    );
}

#[test]
fn price_level_limit() {
    let limits = BookLimits { price_levels_max: 2, ..BookLimits::default() };
    run_with(
        limits,
        "
        place alice buy 1 @ 90 -> rests 1 @ 90
        place bob sell 1 @ 95 -> rests 1 @ 95
        place carol buy 1 @ 91 -> rejected PriceLevelLimit
        place carol buy 1 @ 90 -> rests 1 @ 90
        // moving the only order of a level away frees that level for it
        modify bob #2 1 @ 96 -> modified 1 @ 96 (lost), rests 1 @ 96
        modify alice #1 1 @ 89 -> rejected PriceLevelLimit
    ",
    );
}

#[test]
fn match_step_limit_cancels_the_remainder() {
    let limits = BookLimits { match_steps_max: 2, ..BookLimits::default() };
    run_with(
        limits,
        "
        place alice sell 1 @ 100 -> rests 1 @ 100
        place bob sell 1 @ 100 -> rests 1 @ 100
        place carol sell 1 @ 101 -> rests 1 @ 101
        place dave buy 5 @ 101 -> fills 1 @ 100, fills 1 @ 100, cancelled #4 3 (match-limit)
        place dave buy 5 @ 101 fok -> rejected FokWouldNotFill
        place dave buy 1 @ 101 fok -> fills 1 @ 101
    ",
    );
}

#[test]
fn queries_depth_impact_and_lookup() {
    run("
        place alice sell 2 @ 100 -> rests 2 @ 100
        place bob sell 3 @ 101 -> rests 3 @ 101
        place carol sell 5 @ 103 -> rests 5 @ 103
        place dave buy 4 @ 98 -> rests 4 @ 98
        book -> bids 4@98 | asks 2@100 3@101 5@103
        impact buy 0 -> qty 0 notional 0 worst none complete
        impact buy 200 -> qty 2 notional 200 worst 100 complete
        // whole lots: 300 needs 2 lots at 100 and 1 lot at 101
        impact buy 300 -> qty 3 notional 301 worst 101 complete
        impact buy 100000 -> qty 10 notional 1018 worst 103 partial
        impact sell 99 -> qty 2 notional 196 worst 98 complete
        order #3 -> #3 carol sell 5 @ 103
        order #42 -> none
        level 102 -> empty
    ");
}
