//! The binary's background work: exchange pollers. Validators start through
//! [`novation_chain::launch`].

use std::time::Duration;

pub use novation_chain::launch::{start_validator, Launch};

/// Polls each exchange source in the background (on the current tokio runtime), storing every
/// good reading in its cache; a failure leaves the cache to go stale and is logged.
pub fn spawn_pollers(pollers: Vec<crate::config::Poller>, interval: Duration) {
    if pollers.is_empty() {
        return;
    }
    let client = match novation_feeds::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client: exchange sources disabled");
            return;
        }
    };
    for p in pollers {
        let client = client.clone();
        ::tokio::spawn(async move {
            let source = novation_feeds::HttpSource {
                exchange: p.exchange,
                symbol: p.market.clone(),
                base_url: p.base_url.clone(),
            };
            loop {
                match source.fetch(&client).await {
                    Ok(t) => {
                        let now = crate::now_ms();
                        p.cache.store(t.price, t.time_ms.unwrap_or(now));
                    }
                    Err(e) => {
                        tracing::warn!(exchange = %p.exchange, market = %p.market, error = %e, "price source failed")
                    }
                }
                ::tokio::time::sleep(interval).await;
            }
        });
    }
}

/// Verification threads for each of `validators` validators sharing this machine: its cores
/// divided among them, at least one. Several validators in one process (devnet, bench) gain
/// nothing from splitting a signature batch across threads when the others keep every core
/// busy, and a split batch costs more per signature (batch verification gets cheaper per
/// signature as the batch grows).
pub fn verify_threads(validators: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / validators.max(1)).max(1)
}
