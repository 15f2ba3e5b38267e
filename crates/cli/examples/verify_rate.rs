//! How fast this machine batch-verifies transaction signatures, by batch size, on one core:
//! `cargo run --release -p novation-cli --example verify_rate`. Transactions come from 500
//! signers (decoded keys are memoised, as on a node). The figures behind the gossip gathering
//! window (`node::GOSSIP_GATHER_MS`).

// A measuring tool, not the state machine: it reads the clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::Instant;

use commonware_parallel::Sequential;
use novation_chain::simulation;
use novation_chain::tx::{self, ChainId, SignedTx, TxAction, TxBody};
use novation_engine::{MarketId, OrderRequest};
use novation_types::Side;

fn main() {
    for batch in [1usize, 4, 16, 32, 64, 128, 256, 512, 1024] {
        let txs: Vec<SignedTx> = (0..batch as u64)
            .map(|i| {
                let key = simulation::key("verify-rate", i % 500);
                let order = OrderRequest::limit(0, MarketId(0), Side::Buy, 1_000_000, 1 + i % 5);
                let body = TxBody {
                    chain_id: ChainId(1),
                    nonce: i + 1,
                    master: None,
                    actions: vec![TxAction::Place(order)],
                };
                SignedTx::sign(&key, body)
            })
            .collect();
        // Warm the key memo, then time.
        let _ = tx::verify_batch(&txs, &Sequential);
        let rounds = (20_000 / batch).max(20);
        let started = Instant::now();
        let mut valid = 0usize;
        for _ in 0..rounds {
            valid += tx::verify_batch(&txs, &Sequential).iter().filter(|v| **v).count();
        }
        let rate = (batch * rounds) as f64 / started.elapsed().as_secs_f64();
        println!(
            "batch {batch:5}: {rate:8.0} signatures/s ({:5.1} us each){}",
            1e6 / rate,
            if valid == batch * rounds { "" } else { "  INVALID VERDICTS" }
        );
    }
}
