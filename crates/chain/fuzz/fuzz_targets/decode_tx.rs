//! Fuzz target: arbitrary bytes into `decode_tx`. Whatever decodes must re-encode to the same
//! bytes (the encoding is canonical) within `MAX_TX_BYTES`, and the stateless check, hash,
//! signer and signature verification must not panic. The check is shared with the proptest
//! fallback `tests/tx_fuzz.rs` (`tests/tx_support/fuzz_check.rs`).

#![no_main]

#[path = "../../tests/tx_support/fuzz_check.rs"]
mod fuzz_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz_check::check(data, None) {
        panic!("{e}");
    }
});
