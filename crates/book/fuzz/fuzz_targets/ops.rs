//! Fuzz target: arbitrary bytes, decoded into book limits and a sequence of operations by the
//! hand-written decoder in `tests/model/decode.rs`, run through the real book and the reference
//! model in lockstep with every check of `tests/model/harness.rs` (same events, same query
//! answers, `check_invariants`, independent invariants, rejections leave no trace).

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = model::decode::decode(data);
    if let Err(e) = model::harness::Harness::run(d.limits, &d.ops) {
        panic!("{e}");
    }
});
