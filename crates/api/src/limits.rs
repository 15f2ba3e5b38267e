//! Bounds on what clients may ask.
//!
//! | bound | default | answer |
//! |---|---|---|
//! | request body | [`crate::ApiConfig::body_max_bytes`] 64 KiB | 413 `payload_too_large` |
//! | requests per IP | 200/s, bursts of 400 | 429 `rate_limited` + `Retry-After` |
//! | transactions per signer (`POST /v1/txs`, `/tx`) | 50/s, bursts of 100 | 429 `rate_limited` + `Retry-After` |
//! | distinct keys tracked per limiter | 100,000 (idle keys forgotten first) | 429 `rate_limited` when all are recent |
//! | reads of the node's state in flight | [`crate::ApiConfig::queries_in_flight_max`] | 503 `unavailable` after a short wait |
//! | WebSocket connections, per IP and in all | see [`crate::ws::WsConfig`] | 429 `too_many_connections` |
//!
//! Token buckets (GCRA) from the `governor` crate, keyed by the peer IP address and by the
//! signer of a submitted transaction (checked after its signature verifies, so that nobody can
//! spend another account's budget). `/health` and `/metrics` are not limited.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use novation_types::Address;

use crate::{ApiError, ApiState};

/// Rate limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Sustained requests per second per IP.
    pub ip_per_s: u32,
    /// Burst per IP.
    pub ip_burst: u32,
    /// Sustained transactions per second per signer.
    pub account_per_s: u32,
    /// Burst per signer.
    pub account_burst: u32,
    /// Most keys each limiter tracks.
    pub keys_max: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            ip_per_s: 200,
            ip_burst: 400,
            account_per_s: 50,
            account_burst: 100,
            keys_max: 100_000,
        }
    }
}

fn quota(per_s: u32, burst: u32) -> Quota {
    let per_s = NonZeroU32::new(per_s).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_s);
    Quota::per_second(per_s).allow_burst(burst)
}

/// One keyed token-bucket limiter with a bound on its keys.
struct Keyed<K: std::hash::Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    keys_max: usize,
    what: &'static str,
    per_s: u32,
}

impl<K: std::hash::Hash + Eq + Clone> Keyed<K> {
    fn check(&self, key: &K) -> Result<(), ApiError> {
        if self.limiter.len() >= self.keys_max {
            self.limiter.retain_recent();
            if self.limiter.len() >= self.keys_max {
                return Err(ApiError::rate_limited(
                    format!("too many distinct clients ({} limit)", self.what),
                    1,
                ));
            }
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(
                format!("rate limit: {} per second per {}", self.per_s, self.what),
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            )
        })
    }
}

/// The limiters.
pub struct Limits {
    ip: Keyed<IpAddr>,
    account: Keyed<Address>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

impl Limits {
    /// Limiters with these quotas.
    pub fn new(cfg: LimitsConfig) -> Self {
        Limits {
            ip: Keyed {
                limiter: DefaultKeyedRateLimiter::keyed(quota(cfg.ip_per_s, cfg.ip_burst)),
                keys_max: cfg.keys_max.max(1),
                what: "IP address",
                per_s: cfg.ip_per_s,
            },
            account: Keyed {
                limiter: DefaultKeyedRateLimiter::keyed(quota(
                    cfg.account_per_s,
                    cfg.account_burst,
                )),
                keys_max: cfg.keys_max.max(1),
                what: "account",
                per_s: cfg.account_per_s,
            },
        }
    }

    /// Charges one request to `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.ip.check(&ip)
    }

    /// Charges one transaction to `signer`.
    pub fn check_account(&self, signer: Address) -> Result<(), ApiError> {
        self.account.check(&signer)
    }

    /// Forgets idle keys (run now and then).
    pub fn retain_recent(&self) {
        self.ip.limiter.retain_recent();
        self.account.limiter.retain_recent();
    }
}

/// The peer address of a request (unspecified when served without connect info, e.g. in
/// router unit tests).
pub fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The peer's IP address, as a request extension ([`per_ip`] sets it on every request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerIp(pub IpAddr);

/// Middleware: records the peer IP ([`PeerIp`]) and applies the per-IP limit on every route but
/// `/health` and `/metrics`.
pub async fn per_ip(State(state): State<Arc<ApiState>>, mut req: Request, next: Next) -> Response {
    let ip = peer_ip(&req);
    req.extensions_mut().insert(PeerIp(ip));
    let path = req.uri().path();
    if path != "/health" && path != "/metrics" {
        if let Err(e) = state.limits.check_ip(ip) {
            return e.into_response();
        }
    }
    next.run(req).await
}
