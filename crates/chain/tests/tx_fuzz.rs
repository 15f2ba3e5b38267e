//! The proptest fallback of the `decode_tx` fuzz target (`crates/chain/fuzz`): the same check
//! (`tx_support::fuzz_check`) over random byte strings and over valid encodings mutated by
//! flips, overwrites, truncations, insertions, deletions and splices.
//!
//! `PROPTEST_CASES` sets the number of inputs per test (default 3000).

mod tx_support;

use commonware_codec::Encode;
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tx_support::{arb_signed_tx, fuzz_check};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000)
}

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    if let Err(e) = TestRunner::new(config).run(&strategy, test) {
        panic!("{e}");
    }
}

/// One edit of a byte string; positions are taken modulo the length.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Set { at, byte } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b = *byte;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % n),
        Mutation::Insert { at, bytes: ins } => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, ins.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
    }
}

/// Random byte strings, most starting with the ed25519 tag so that decoding gets past it.
#[test]
fn random_bytes_decode_canonically_or_not_at_all() {
    let strategy = (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..600));
    run(strategy, |(tagged, mut bytes)| {
        if tagged {
            bytes.insert(0, 0);
        }
        fuzz_check::check(&bytes, None).map(|_| ()).map_err(TestCaseError::fail)
    });
}

/// Valid transactions with one to four mutations: each result fails to decode, or re-encodes
/// to itself and (if it changed) no longer verifies.
#[test]
fn mutated_transactions_decode_canonically_or_not_at_all() {
    let strategy = (arb_signed_tx(), proptest::collection::vec(arb_mutation(), 1..5));
    run(strategy, |(tx, mutations)| {
        let original = tx.encode().to_vec();
        let mut bytes = original.clone();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        fuzz_check::check(&bytes, Some(&original)).map(|_| ()).map_err(TestCaseError::fail)
    });
}

/// Writes valid encodings as a seed corpus for `cargo fuzz run decode_tx` (run on demand:
/// `cargo test -p novation-chain --test tx_fuzz -- --ignored`).
#[test]
#[ignore]
fn write_fuzz_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode_tx");
    std::fs::create_dir_all(&dir).expect("corpus directory");
    let mut runner = TestRunner::deterministic();
    for i in 0..64 {
        let tx = arb_signed_tx().new_tree(&mut runner).expect("value").current();
        std::fs::write(dir.join(format!("seed-{i:02}")), tx.encode()).expect("write seed");
    }
}
