//! Fetching exchange tickers over HTTP: the I/O half of the oracle's sources.
//!
//! [`HttpSource::fetch`] issues one `GET base_url + Exchange::path_and_query(symbol)` and hands
//! the body to the pure parser [`Exchange::parse`] in `novation-oracle`; everything about prices
//! and response shapes is specified there. This crate adds only what needs a network:
//!
//! * **A deadline.** The whole exchange, from connecting to the last body byte, must finish within
//!   the timeout ([`FETCH_TIMEOUT_DEFAULT`], or the one given to
//!   [`HttpSource::fetch_with_timeout`]); otherwise [`FetchError::Timeout`].
//! * **A size cap.** A body longer than [`BODY_LEN_MAX`] is refused as [`FetchError::TooLarge`]:
//!   up front when `Content-Length` says so, else as soon as the bytes read exceed it, so a
//!   misbehaving server cannot make the observer buffer without bound.
//! * **Status first.** A non-2xx answer is [`FetchError::Status`]; when its body is the exchange's
//!   error envelope (Binance answers a bad symbol with HTTP 400 and `{"code":..,"msg":..}`), the
//!   exchange's code and message ride along.
//! * **No redirects followed, no retries.** A redirect is answered with its 3xx status; the caller
//!   polls again on its own schedule.
//!
//! The client is the caller's ([`client`] builds one with these defaults), so connections are
//! pooled across sources and polls.

use std::time::Duration;

use novation_oracle::source::{Exchange, ParseError, Ticker, BODY_LEN_MAX};
use reqwest::{Client, ClientBuilder};

/// The request deadline used by [`HttpSource::fetch`].
pub const FETCH_TIMEOUT_DEFAULT: Duration = Duration::from_secs(2);

/// How long establishing a connection (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One exchange ticker to poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSource {
    /// Which exchange's response format to expect.
    pub exchange: Exchange,
    /// The instrument in the exchange's spelling (`BTCUSDT`, `BTC-USD`, `XBTUSD`, ...).
    pub symbol: String,
    /// Scheme and host, without a trailing slash (normally [`Exchange::default_base_url`]).
    pub base_url: String,
}

/// The exchange's own error code and message, when a non-2xx body carried its error envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The exchange's error code (empty if none).
    pub code: String,
    /// The exchange's message.
    pub message: String,
}

/// Why a fetch produced no ticker.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// `base_url` and the path do not form a usable URL.
    #[error("invalid URL {url:?}")]
    InvalidUrl {
        /// The URL that was attempted.
        url: String,
    },
    /// No complete response within the deadline.
    #[error("no complete response within {timeout_ms} ms")]
    Timeout {
        /// The deadline.
        timeout_ms: u64,
    },
    /// Connecting, TLS, or the HTTP exchange itself failed.
    #[error("request failed: {0}")]
    Transport(String),
    /// The server answered with a status outside 2xx.
    #[error("HTTP status {status}{}", suffix(exchange_error))]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The exchange's error envelope, if the body was one.
        exchange_error: Option<Rejection>,
    },
    /// The body is longer than [`BODY_LEN_MAX`].
    #[error("response body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// A 2xx body that is not a usable ticker (including the exchange's error envelope).
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// ` (code message)` for a [`FetchError::Status`] that carried the exchange's error envelope.
fn suffix(exchange_error: &Option<Rejection>) -> String {
    match exchange_error {
        Some(r) => format!(" ({} {})", r.code, r.message),
        None => String::new(),
    }
}

/// A client builder with this crate's defaults: connect timeout, no redirects, a user agent.
/// Proxies from the environment are honoured (reqwest's default).
pub fn client_builder() -> ClientBuilder {
    Client::builder()
        .user_agent(concat!("novation-feeds/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
}

/// A client from [`client_builder`].
pub fn client() -> Result<Client, FetchError> {
    client_builder().build().map_err(|e| FetchError::Transport(error_chain(&e)))
}

impl HttpSource {
    /// A source at the exchange's public host.
    pub fn new(exchange: Exchange, symbol: impl Into<String>) -> HttpSource {
        HttpSource {
            exchange,
            symbol: symbol.into(),
            base_url: exchange.default_base_url().to_owned(),
        }
    }

    /// The full request URL.
    pub fn url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        format!("{base}{}", self.exchange.path_and_query(&self.symbol))
    }

    /// Fetches and parses the ticker within [`FETCH_TIMEOUT_DEFAULT`].
    pub async fn fetch(&self, client: &Client) -> Result<Ticker, FetchError> {
        self.fetch_with_timeout(client, FETCH_TIMEOUT_DEFAULT).await
    }

    /// Fetches and parses the ticker within `timeout` (connect to last body byte).
    pub async fn fetch_with_timeout(
        &self,
        client: &Client,
        timeout: Duration,
    ) -> Result<Ticker, FetchError> {
        let url = self.url();
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout { timeout_ms }
            } else if e.is_builder() {
                FetchError::InvalidUrl { url: url.clone() }
            } else {
                FetchError::Transport(error_chain(&e))
            }
        };
        let request = client.get(&url).timeout(timeout).build().map_err(&classify)?;
        let mut response = client.execute(request).await.map_err(&classify)?;
        let status = response.status();
        let body = read_capped(&mut response).await.map_err(|e| match e {
            ReadError::TooLarge => FetchError::TooLarge { limit: BODY_LEN_MAX },
            ReadError::Http(e) => classify(e),
        })?;
        if !status.is_success() {
            let exchange_error = match self.exchange.parse(&body, &self.symbol) {
                Err(ParseError::Rejected { code, message }) => Some(Rejection { code, message }),
                _ => None,
            };
            return Err(FetchError::Status { status: status.as_u16(), exchange_error });
        }
        Ok(self.exchange.parse(&body, &self.symbol)?)
    }
}

enum ReadError {
    TooLarge,
    Http(reqwest::Error),
}

/// The body, refusing more than [`BODY_LEN_MAX`] bytes.
async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, ReadError> {
    let limit = BODY_LEN_MAX;
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error and its sources, joined with `: ` (reqwest's top-level message alone is vague).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
