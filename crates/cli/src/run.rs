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
