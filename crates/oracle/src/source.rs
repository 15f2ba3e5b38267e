//! Price sources at one validator: decimal prices, exchange ticker responses, and the weighted
//! median a validator reports for an asset.
//!
//! Everything here is pure: response bodies arrive as bytes (the I/O crate `novation-feeds`
//! fetches them), and "now" is an argument.
//!
//! # Decimal prices ([`parse_decimal`])
//!
//! Exchanges quote prices as decimal strings (`"97123.45000000"`). A price string is accepted
//! only in the plain form `DIGITS [ "." DIGITS ]`: no sign, no exponent (`1e3` is rejected with
//! [`PriceError::Exponent`]; no exchange used here sends one, and accepting them would admit
//! `1e999`-style inputs), no surrounding whitespace, at least one digit on each side of a decimal
//! point, and at most [`DECIMAL_LEN_MAX`] bytes. The value is converted to nano-USD
//! ([`OraclePrice`]) by **truncating** digits beyond the ninth decimal (toward zero, so a parsed
//! price is never above what the source said, and the error is below 1e-9 USD). The result must be
//! positive and at most [`PRICE_MAX`]; a positive string that truncates to zero (below 1e-9 USD)
//! is [`PriceError::BelowResolution`]. `NaN`, `inf` and `infinity` (any case, any sign) have their
//! own reasons, so a broken feed is diagnosable from the error alone.
//!
//! # Exchange responses ([`Exchange`])
//!
//! Each supported exchange's public REST ticker is one GET ([`Exchange::default_base_url`] +
//! [`Exchange::path_and_query`]) whose JSON body [`Exchange::parse`] turns into a [`Ticker`]: the
//! **last-trade price** and, when the response carries one, the exchange's timestamp in Unix ms.
//!
//! | exchange | endpoint | price field | time field | error envelope |
//! |---|---|---|---|---|
//! | Binance | `/api/v3/ticker/price?symbol=BTCUSDT` | `price` | none | `{"code":-1121,"msg":..}` |
//! | Coinbase | `/products/BTC-USD/ticker` | `price` | `time` (RFC 3339) | `{"message":..}` |
//! | Kraken | `/0/public/Ticker?pair=XBTUSD` | `result.<pair>.c[0]` | none | `error` non-empty |
//! | OKX | `/api/v5/market/ticker?instId=BTC-USDT` | `data[i].last` | `data[i].ts` | `code` != `"0"` |
//! | Bybit | `/v5/market/tickers?category=spot&symbol=BTCUSDT` | `result.list[i].lastPrice` | `time` | `retCode` != 0 |
//!
//! Rules shared by all parsers: bodies above [`BODY_LEN_MAX`] bytes are refused before parsing;
//! prices must be JSON **strings** (a JSON number is [`ParseError::WrongType`]: it has already been
//! through a binary float somewhere); the response must be for the requested symbol where the
//! response names it (Coinbase's ticker does not, so there the path alone selects the product;
//! Kraken answers under its own pair name, so `XBTUSD` matches a `XXBTZUSD` key, see
//! [`kraken_pair_matches`]); an error envelope becomes [`ParseError::Rejected`] with the
//! exchange's code and message (message cut to [`MESSAGE_LEN_MAX`] bytes).
//!
//! # The per-validator combination ([`combine`])
//!
//! A validator polls several sources for an asset and turns their [`Reading`]s into at most one
//! price, or reports nothing:
//!
//! 1. **Filter.** Each reading is checked in this order and dropped at the first failure, counted
//!    in the [`Tally`] under that reason: the price is not [`OraclePrice::is_valid`]; the weight is
//!    zero; it is from the future (`time_ms > now_ms + max_future_ms`); it is stale
//!    (`now_ms - time_ms > max_age_ms`).
//! 2. **One reading per source.** If a source appears more than once, only its newest reading is
//!    kept (ties: the lower price, then the lower weight), so a source cannot outvote the others
//!    by repeating itself. The others are counted as `superseded`.
//! 3. **Reference median.** The weighted median `m` of what is left (defined below).
//! 4. **Outliers.** Readings with `|price - m| * 1e6 > outlier_ppm * m` are dropped.
//! 5. **Quorum.** If fewer than `min_sources` sources remain, there is no price ([`NoPrice`]): a
//!    validator with only two live sources and `min_sources = 3` reports nothing for the asset,
//!    rather than a price two sources could steer.
//! 6. **Result.** The weighted median of the survivors.
//!
//! **Weighted median.** Sort the readings by price and let `W` be their total weight. Walk up the
//! sorted list accumulating weight; the median is the first price at which the accumulated
//! weight `c` reaches half the total (`2c >= W`). If it lands exactly on half (`2c == W`), the
//! weight is evenly split between this price and the next higher one, and the median is their
//! midpoint rounded down. So the result is always a reported price or the floor of the midpoint
//! of two adjacent ones, never outside `[min, max]` of the inputs, and it does not depend on the
//! order of the readings. This differs on purpose from the consensus step's *lower* median
//! ([`crate::aggregate`]): a validator has few sources and often an even number of them (four of
//! five exchanges answering), and taking the lower one would bias every validator with the same
//! sources downward by half their spread; the consensus median, over many validators, must be one
//! of the signed observations.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::price::{OraclePrice, NANO_PER_USD, PRICE_MAX};

// ---------------------------------------------------------------------------------------------
// Decimal prices
// ---------------------------------------------------------------------------------------------

/// The longest decimal price string accepted, in bytes.
pub const DECIMAL_LEN_MAX: usize = 64;

/// Decimal places kept when parsing a price (nano-USD); further digits are truncated.
pub const DECIMALS: u32 = 9;

/// Why a decimal price string was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// The string is empty.
    #[error("empty price")]
    Empty,
    /// The string is longer than [`DECIMAL_LEN_MAX`] bytes.
    #[error("price string of {len} bytes is longer than {DECIMAL_LEN_MAX}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// `NaN` in any case, with or without a sign.
    #[error("price is NaN")]
    NotANumber,
    /// `inf` or `infinity` in any case, with or without a sign.
    #[error("price is infinite")]
    Infinite,
    /// A well-formed number with a leading `-` (including `-0`).
    #[error("price is negative")]
    Negative,
    /// A well-formed number equal to zero.
    #[error("price is zero")]
    Zero,
    /// Positive, but below 1e-9 USD, so it truncates to zero nano-USD.
    #[error("price is below the 1e-9 USD resolution")]
    BelowResolution,
    /// Above [`PRICE_MAX`].
    #[error("price is above the maximum of {PRICE_MAX}")]
    AboveMax,
    /// Digits followed by an exponent (`1e3`), which is not accepted.
    #[error("exponent notation is not accepted")]
    Exponent,
    /// Anything else that is not `DIGITS [ "." DIGITS ]`, at this byte offset.
    #[error("malformed price at byte {at}")]
    Malformed {
        /// Byte offset of the first offending character (the length if the string ends early).
        at: usize,
    },
}

/// Parses a decimal USD string into nano-USD, truncating beyond nine decimals (see the module
/// doc for the accepted grammar).
pub fn parse_decimal(s: &str) -> Result<OraclePrice, PriceError> {
    if s.is_empty() {
        return Err(PriceError::Empty);
    }
    if s.len() > DECIMAL_LEN_MAX {
        return Err(PriceError::TooLong { len: s.len() });
    }
    let (sign, body) = match s.as_bytes()[0] {
        b'-' | b'+' => (Some(s.as_bytes()[0]), &s[1..]),
        _ => (None, s),
    };
    if body.eq_ignore_ascii_case("nan") {
        return Err(PriceError::NotANumber);
    }
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Err(PriceError::Infinite);
    }
    let offset = usize::from(sign.is_some());
    let nano = parse_unsigned_nano(body, offset)?;
    match sign {
        Some(b'-') => Err(PriceError::Negative),
        Some(_) => Err(PriceError::Malformed { at: 0 }),
        None => nano.into_price(),
    }
}

/// The value of an unsigned decimal, in nano-units, before range checks.
struct Nano {
    /// Nano-units after truncation; `None` if it overflowed `u128` (certainly above the maximum).
    value: Option<u128>,
    /// Whether any digit (kept or truncated) was non-zero.
    nonzero: bool,
}

impl Nano {
    fn into_price(self) -> Result<OraclePrice, PriceError> {
        match self.value {
            None => Err(PriceError::AboveMax),
            Some(0) if self.nonzero => Err(PriceError::BelowResolution),
            Some(0) => Err(PriceError::Zero),
            Some(v) if v > u128::from(PRICE_MAX.0) => Err(PriceError::AboveMax),
            Some(v) => Ok(OraclePrice(v as u64)),
        }
    }
}

/// Parses `DIGITS [ "." DIGITS ]`; `offset` is where `body` starts in the original string (for
/// error positions).
fn parse_unsigned_nano(body: &str, offset: usize) -> Result<Nano, PriceError> {
    let bytes = body.as_bytes();
    let mut value: Option<u128> = Some(0);
    let mut nonzero = false;
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        let d = u128::from(bytes[i] - b'0');
        nonzero |= d != 0;
        value = value.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(d));
        i += 1;
    }
    let int_digits = i;
    let mut scale = u128::from(NANO_PER_USD);
    value = value.and_then(|v| v.checked_mul(scale));
    if i < bytes.len() && bytes[i] == b'.' {
        if int_digits == 0 {
            return Err(PriceError::Malformed { at: offset + i });
        }
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            let d = u128::from(bytes[i] - b'0');
            nonzero |= d != 0;
            scale /= 10;
            // Digits past the ninth have scale 0: validated, counted as non-zero, not added.
            value = value.map(|v| v + d * scale);
            i += 1;
        }
        if i == frac_start {
            return Err(malformed_or_exponent(bytes, i, offset));
        }
    }
    if int_digits == 0 || i < bytes.len() {
        return Err(malformed_or_exponent(bytes, i, offset));
    }
    Ok(Nano { value, nonzero })
}

/// The error for an unexpected byte at `i` (or the end of input): [`PriceError::Exponent`] if it
/// is an `e`/`E` right after a digit, else [`PriceError::Malformed`].
fn malformed_or_exponent(bytes: &[u8], i: usize, offset: usize) -> PriceError {
    let after_digit = i > 0 && bytes[i - 1].is_ascii_digit();
    match bytes.get(i) {
        Some(b'e' | b'E') if after_digit => PriceError::Exponent,
        _ => PriceError::Malformed { at: offset + i },
    }
}

// ---------------------------------------------------------------------------------------------
// Exchanges
// ---------------------------------------------------------------------------------------------

/// The largest response body [`Exchange::parse`] accepts, in bytes (a ticker is well under 2 KiB).
pub const BODY_LEN_MAX: usize = 64 * 1024;

/// The longest exchange error message kept in [`ParseError::Rejected`], in bytes.
pub const MESSAGE_LEN_MAX: usize = 256;

/// A supported exchange and its public spot ticker endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exchange {
    /// Binance spot, `GET /api/v3/ticker/price`.
    Binance,
    /// Coinbase Exchange, `GET /products/{product_id}/ticker`.
    Coinbase,
    /// Kraken spot, `GET /0/public/Ticker`.
    Kraken,
    /// OKX, `GET /api/v5/market/ticker`.
    Okx,
    /// Bybit v5, `GET /v5/market/tickers?category=spot`.
    Bybit,
}

/// One exchange's answer: the last-trade price and the exchange's own timestamp, if it sent one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticker {
    /// Last-trade price.
    pub price: OraclePrice,
    /// The exchange's timestamp for the data (Unix ms): the ticker time for OKX and Coinbase,
    /// the server time for Bybit, `None` for Binance and Kraken.
    pub time_ms: Option<u64>,
}

impl Ticker {
    /// A [`Reading`] from this ticker, timed by the exchange when it sent a time and by
    /// `received_ms` (the observer's clock when the response arrived) otherwise.
    pub fn reading(self, source: u16, weight: u32, received_ms: u64) -> Reading {
        Reading { source, weight, price: self.price, time_ms: self.time_ms.unwrap_or(received_ms) }
    }
}

/// What was wrong with an exchange response body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is larger than [`BODY_LEN_MAX`].
    #[error("response body of {len} bytes exceeds {BODY_LEN_MAX}")]
    BodyTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// The body is not JSON.
    #[error("invalid JSON ({fault:?}) at line {line} column {column}")]
    Json {
        /// Truncated or otherwise malformed.
        fault: JsonFault,
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
    },
    /// The exchange answered with its error envelope.
    #[error("exchange rejected the request: {code} {message}")]
    Rejected {
        /// The exchange's error code (empty if it gives none).
        code: String,
        /// The exchange's message, at most [`MESSAGE_LEN_MAX`] bytes.
        message: String,
    },
    /// The response is for another instrument than the one asked for.
    #[error("response is for {found:?}, expected {expected:?}")]
    WrongSymbol {
        /// The symbol asked for.
        expected: String,
        /// The symbol the response names (cut to [`MESSAGE_LEN_MAX`] bytes).
        found: String,
    },
    /// The response has no ticker entry at all (an empty list or result object).
    #[error("response holds no ticker")]
    NoTicker,
    /// A required field is absent.
    #[error("field {field} is missing")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// A field has the wrong JSON type (for example a price sent as a number, not a string).
    #[error("field {field} is not {expected}")]
    WrongType {
        /// The field's name.
        field: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// A price field is not an acceptable decimal price.
    #[error("field {field}: {error}")]
    Price {
        /// The field's name.
        field: &'static str,
        /// Why the price was rejected.
        #[source]
        error: PriceError,
    },
    /// A timestamp field cannot be read as a time at or after 1970.
    #[error("field {field} is not a valid timestamp")]
    Time {
        /// The field's name.
        field: &'static str,
    },
}

/// How a body failed to be JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonFault {
    /// The body ended before the JSON value did (a cut-off response).
    Truncated,
    /// Anything else: not JSON, trailing garbage, too deeply nested.
    Syntax,
}

/// An exchange name not in [`Exchange::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown exchange {0:?} (expected binance, coinbase, kraken, okx or bybit)")]
pub struct UnknownExchange(pub String);

impl Exchange {
    /// Every supported exchange.
    pub const ALL: [Exchange; 5] =
        [Exchange::Binance, Exchange::Coinbase, Exchange::Kraken, Exchange::Okx, Exchange::Bybit];

    /// Lower-case name, as accepted by [`FromStr`].
    pub const fn name(self) -> &'static str {
        match self {
            Exchange::Binance => "binance",
            Exchange::Coinbase => "coinbase",
            Exchange::Kraken => "kraken",
            Exchange::Okx => "okx",
            Exchange::Bybit => "bybit",
        }
    }

    /// The exchange's public REST host.
    pub const fn default_base_url(self) -> &'static str {
        match self {
            Exchange::Binance => "https://api.binance.com",
            Exchange::Coinbase => "https://api.exchange.coinbase.com",
            Exchange::Kraken => "https://api.kraken.com",
            Exchange::Okx => "https://www.okx.com",
            Exchange::Bybit => "https://api.bybit.com",
        }
    }

    /// Path and query of the ticker request for `symbol` in the exchange's own spelling
    /// (`BTCUSDT`, `BTC-USD`, `XBTUSD`, `BTC-USDT`, `BTCUSDT`). Bytes other than ASCII letters,
    /// digits and `-_.~` are percent-encoded, so a symbol cannot change the path.
    pub fn path_and_query(self, symbol: &str) -> String {
        let s = percent_encode(symbol);
        match self {
            Exchange::Binance => format!("/api/v3/ticker/price?symbol={s}"),
            Exchange::Coinbase => format!("/products/{s}/ticker"),
            Exchange::Kraken => format!("/0/public/Ticker?pair={s}"),
            Exchange::Okx => format!("/api/v5/market/ticker?instId={s}"),
            Exchange::Bybit => format!("/v5/market/tickers?category=spot&symbol={s}"),
        }
    }

    /// Parses a ticker response body for `symbol` (see the module doc for each shape).
    pub fn parse(self, body: &[u8], symbol: &str) -> Result<Ticker, ParseError> {
        if body.len() > BODY_LEN_MAX {
            return Err(ParseError::BodyTooLarge { len: body.len() });
        }
        let root: Value = serde_json::from_slice(body).map_err(|e| ParseError::Json {
            fault: match e.classify() {
                serde_json::error::Category::Eof => JsonFault::Truncated,
                _ => JsonFault::Syntax,
            },
            line: e.line(),
            column: e.column(),
        })?;
        if !root.is_object() {
            return Err(ParseError::WrongType { field: "(root)", expected: "an object" });
        }
        match self {
            Exchange::Binance => parse_binance(&root, symbol),
            Exchange::Coinbase => parse_coinbase(&root),
            Exchange::Kraken => parse_kraken(&root, symbol),
            Exchange::Okx => parse_okx(&root, symbol),
            Exchange::Bybit => parse_bybit(&root, symbol),
        }
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Exchange {
    type Err = UnknownExchange;

    fn from_str(s: &str) -> Result<Exchange, UnknownExchange> {
        Exchange::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownExchange(cut(s)))
    }
}

/// Whether a Kraken result key names the pair asked for: the same string, or Kraken's legacy
/// spelling of a six-letter pair (`XBTUSD` → `XXBTZUSD`, `ETHUSD` → `XETHZUSD`).
pub fn kraken_pair_matches(key: &str, symbol: &str) -> bool {
    if key == symbol {
        return true;
    }
    let (k, s) = (key.as_bytes(), symbol.as_bytes());
    s.len() == 6
        && k.len() == 8
        && k[0] == b'X'
        && k[4] == b'Z'
        && k[1..4] == s[..3]
        && k[5..] == s[3..]
}

fn parse_binance(root: &Value, symbol: &str) -> Result<Ticker, ParseError> {
    if root.get("price").is_none() {
        if let Some(code) = root.get("code") {
            return Err(rejected(code, root.get("msg")));
        }
    }
    expect_symbol(str_field(root, "symbol")?, symbol, |k, s| k == s)?;
    Ok(Ticker { price: price_field(root, "price")?, time_ms: None })
}

fn parse_coinbase(root: &Value) -> Result<Ticker, ParseError> {
    if root.get("price").is_none() {
        if let Some(message) = root.get("message") {
            return Err(rejected(&Value::Null, Some(message)));
        }
    }
    let price = price_field(root, "price")?;
    let time_ms = match root.get("time") {
        None => None,
        Some(_) => {
            let text = str_field(root, "time")?;
            Some(parse_rfc3339_ms(text).ok_or(ParseError::Time { field: "time" })?)
        }
    };
    Ok(Ticker { price, time_ms })
}

fn parse_kraken(root: &Value, symbol: &str) -> Result<Ticker, ParseError> {
    let errors = field(root, "error")?
        .as_array()
        .ok_or(ParseError::WrongType { field: "error", expected: "an array" })?;
    if let Some(first) = errors.first() {
        let text = first.as_str().unwrap_or("(non-string error)");
        let (code, message) = text.split_once(':').unwrap_or(("", text));
        return Err(ParseError::Rejected { code: cut(code), message: cut(message) });
    }
    let result = field(root, "result")?
        .as_object()
        .ok_or(ParseError::WrongType { field: "result", expected: "an object" })?;
    let Some(first_key) = result.keys().next() else {
        return Err(ParseError::NoTicker);
    };
    let entry =
        result.iter().find(|(k, _)| kraken_pair_matches(k, symbol)).map(|(_, v)| v).ok_or_else(
            || ParseError::WrongSymbol { expected: cut(symbol), found: cut(first_key) },
        )?;
    let last = field(entry, "c")?
        .as_array()
        .and_then(|c| c.first())
        .ok_or(ParseError::WrongType { field: "c", expected: "a non-empty array" })?;
    let text = last.as_str().ok_or(ParseError::WrongType { field: "c", expected: "a string" })?;
    let price = parse_decimal(text).map_err(|error| ParseError::Price { field: "c", error })?;
    Ok(Ticker { price, time_ms: None })
}

fn parse_okx(root: &Value, symbol: &str) -> Result<Ticker, ParseError> {
    let code = str_field(root, "code")?;
    if code != "0" {
        return Err(rejected(&Value::String(code.to_owned()), root.get("msg")));
    }
    let entry = find_entry(field(root, "data")?, "data", "instId", symbol)?;
    let price = price_field(entry, "last")?;
    let ts = str_field(entry, "ts")?;
    let time_ms = parse_ms(ts).ok_or(ParseError::Time { field: "ts" })?;
    Ok(Ticker { price, time_ms: Some(time_ms) })
}

fn parse_bybit(root: &Value, symbol: &str) -> Result<Ticker, ParseError> {
    let code = field(root, "retCode")?;
    let code_num =
        code.as_i64().ok_or(ParseError::WrongType { field: "retCode", expected: "an integer" })?;
    if code_num != 0 {
        return Err(rejected(code, root.get("retMsg")));
    }
    let list = field(field(root, "result")?, "list")?;
    let entry = find_entry(list, "list", "symbol", symbol)?;
    let price = price_field(entry, "lastPrice")?;
    let time_ms = match root.get("time") {
        None => None,
        Some(t) => Some(t.as_u64().ok_or(ParseError::Time { field: "time" })?),
    };
    Ok(Ticker { price, time_ms })
}

/// The element of the array `list` whose string field `key` equals `symbol`.
fn find_entry<'a>(
    list: &'a Value,
    list_name: &'static str,
    key: &'static str,
    symbol: &str,
) -> Result<&'a Value, ParseError> {
    let items =
        list.as_array().ok_or(ParseError::WrongType { field: list_name, expected: "an array" })?;
    let first = items.first().ok_or(ParseError::NoTicker)?;
    for item in items {
        if str_field(item, key)? == symbol {
            return Ok(item);
        }
    }
    Err(ParseError::WrongSymbol { expected: cut(symbol), found: cut(str_field(first, key)?) })
}

fn expect_symbol(
    found: &str,
    expected: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Result<(), ParseError> {
    if matches(found, expected) {
        Ok(())
    } else {
        Err(ParseError::WrongSymbol { expected: cut(expected), found: cut(found) })
    }
}

fn field<'a>(v: &'a Value, name: &'static str) -> Result<&'a Value, ParseError> {
    v.get(name).ok_or(ParseError::MissingField { field: name })
}

fn str_field<'a>(v: &'a Value, name: &'static str) -> Result<&'a str, ParseError> {
    field(v, name)?.as_str().ok_or(ParseError::WrongType { field: name, expected: "a string" })
}

fn price_field(v: &Value, name: &'static str) -> Result<OraclePrice, ParseError> {
    parse_decimal(str_field(v, name)?).map_err(|error| ParseError::Price { field: name, error })
}

/// An error envelope: the code as text (string or number), the message if it is a string.
fn rejected(code: &Value, message: Option<&Value>) -> ParseError {
    let code = match code {
        Value::String(s) => cut(s),
        Value::Null => String::new(),
        other => cut(&other.to_string()),
    };
    let message = message.and_then(Value::as_str).map(cut).unwrap_or_default();
    ParseError::Rejected { code, message }
}

/// `s` cut to at most [`MESSAGE_LEN_MAX`] bytes, at a character boundary.
fn cut(s: &str) -> String {
    let mut end = s.len().min(MESSAGE_LEN_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Milliseconds as a decimal string of at most 19 digits (OKX's `ts`).
fn parse_ms(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An RFC 3339 timestamp (`2025-01-15T12:34:56.789123Z`, or with a `+HH:MM`/`-HH:MM` offset)
/// as Unix milliseconds, truncating sub-millisecond digits. `None` if malformed or before 1970.
pub fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_s = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    u64::try_from(secs * 1000 + millis).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date: count whole 400-year eras (146,097 days
/// each) from 0000-03-01, with years starting in March so the leap day ends the year.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

// ---------------------------------------------------------------------------------------------
// The per-validator combination
// ---------------------------------------------------------------------------------------------

/// The most readings [`combine`] takes for one asset at once.
pub const READINGS_MAX: usize = 64;

/// Parts per million.
const PPM: u128 = 1_000_000;

/// One source's price for an asset, as seen by one validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reading {
    /// Which configured source (its index in the validator's source list).
    pub source: u16,
    /// The source's weight in the median; zero disables it.
    pub weight: u32,
    /// The price it reported.
    pub price: OraclePrice,
    /// When the price was current (Unix ms): the exchange's time, else the receive time.
    pub time_ms: u64,
}

/// How [`combine`] filters and combines readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceParams {
    /// Fewest distinct sources that must survive all filters for a price to be reported.
    pub min_sources: usize,
    /// Readings older than this (relative to `now_ms`) are stale.
    pub max_age_ms: u64,
    /// Readings timed further than this after `now_ms` are rejected as from the future.
    pub max_future_ms: u64,
    /// Readings further than this from the reference median, in parts per million of it, are
    /// outliers.
    pub outlier_ppm: u32,
}

impl Default for SourceParams {
    /// Three sources, 10 s freshness, 2 s clock skew, a 5% outlier band (wide enough that
    /// exchanges diverging during a fast move are still counted, narrow enough to drop a frozen or
    /// broken feed).
    fn default() -> SourceParams {
        SourceParams {
            min_sources: 3,
            max_age_ms: 10_000,
            max_future_ms: 2_000,
            outlier_ppm: 50_000,
        }
    }
}

/// Why a [`SourceParams`] is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// `min_sources` is zero, which would report a price from no sources.
    #[error("min_sources must be at least 1")]
    MinSourcesZero,
    /// `min_sources` above [`READINGS_MAX`] can never be met.
    #[error("min_sources {0} is above the reading bound {READINGS_MAX}")]
    MinSourcesAboveMax(usize),
    /// `max_age_ms` is zero: every reading but one timed exactly `now` would be stale.
    #[error("max_age_ms must be positive")]
    MaxAgeZero,
    /// `outlier_ppm` is zero: every reading off the median would be an outlier.
    #[error("outlier_ppm must be positive")]
    OutlierPpmZero,
    /// `outlier_ppm` above 1,000,000 (100%) has no meaning for a positive price.
    #[error("outlier_ppm {0} is above 1000000")]
    OutlierPpmAboveMax(u32),
}

impl SourceParams {
    /// Checks the parameters (see [`ParamsError`]).
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.min_sources == 0 {
            return Err(ParamsError::MinSourcesZero);
        }
        if self.min_sources > READINGS_MAX {
            return Err(ParamsError::MinSourcesAboveMax(self.min_sources));
        }
        if self.max_age_ms == 0 {
            return Err(ParamsError::MaxAgeZero);
        }
        if self.outlier_ppm == 0 {
            return Err(ParamsError::OutlierPpmZero);
        }
        if u128::from(self.outlier_ppm) > PPM {
            return Err(ParamsError::OutlierPpmAboveMax(self.outlier_ppm));
        }
        Ok(())
    }
}

/// How many readings each step of [`combine`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Readings given.
    pub total: usize,
    /// Dropped: price zero or above [`PRICE_MAX`].
    pub invalid_price: usize,
    /// Dropped: weight zero.
    pub zero_weight: usize,
    /// Dropped: timed beyond `now_ms + max_future_ms`.
    pub future: usize,
    /// Dropped: older than `max_age_ms`.
    pub stale: usize,
    /// Dropped: an older reading of a source that has a newer one.
    pub superseded: usize,
    /// Dropped: outside the outlier band around the reference median.
    pub outliers: usize,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} readings: {} invalid price, {} zero weight, {} future, {} stale, {} superseded, \
             {} outliers",
            self.total,
            self.invalid_price,
            self.zero_weight,
            self.future,
            self.stale,
            self.superseded,
            self.outliers
        )
    }
}

/// Why a validator reports no price for an asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoPrice {
    /// The parameters are invalid.
    #[error("invalid source parameters: {0}")]
    Params(#[from] ParamsError),
    /// More readings than [`READINGS_MAX`].
    #[error("{count} readings exceed the bound of {READINGS_MAX}")]
    TooManyReadings {
        /// How many were given.
        count: usize,
    },
    /// Too few distinct sources survived the filters.
    #[error("{sources} sources survived, {min_sources} required ({tally})")]
    TooFewSources {
        /// Distinct sources that survived.
        sources: usize,
        /// The requirement.
        min_sources: usize,
        /// What was dropped and why.
        tally: Tally,
    },
}

/// A combined price with the readings it was computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combined {
    /// The weighted median of `used`.
    pub price: OraclePrice,
    /// The surviving readings, one per source, sorted by (price, source).
    pub used: Vec<Reading>,
    /// What was dropped and why.
    pub tally: Tally,
}

/// The price a validator reports from its `readings` at `now_ms`, or why it reports none (see the
/// module doc for the steps and the median).
pub fn combine(
    readings: &[Reading],
    now_ms: u64,
    params: &SourceParams,
) -> Result<OraclePrice, NoPrice> {
    combine_detailed(readings, now_ms, params).map(|c| c.price)
}

/// [`combine`], also returning the surviving readings and the tally of dropped ones.
pub fn combine_detailed(
    readings: &[Reading],
    now_ms: u64,
    params: &SourceParams,
) -> Result<Combined, NoPrice> {
    params.validate()?;
    if readings.len() > READINGS_MAX {
        return Err(NoPrice::TooManyReadings { count: readings.len() });
    }
    let mut tally = Tally { total: readings.len(), ..Tally::default() };
    let mut live = fresh_readings(readings, now_ms, params, &mut tally);
    // Newest reading per source first, then keep the first of each source.
    live.sort_by(|a, b| {
        (a.source, std::cmp::Reverse(a.time_ms), a.price, a.weight).cmp(&(
            b.source,
            std::cmp::Reverse(b.time_ms),
            b.price,
            b.weight,
        ))
    });
    let before = live.len();
    live.dedup_by_key(|r| r.source);
    tally.superseded = before - live.len();
    let too_few = |sources: usize, tally: Tally| NoPrice::TooFewSources {
        sources,
        min_sources: params.min_sources,
        tally,
    };
    live.sort_by_key(|r| (r.price, r.source));
    let Some(reference) = weighted_median(&live) else {
        return Err(too_few(0, tally));
    };
    live.retain(|r| within_ppm(r.price, reference, params.outlier_ppm));
    tally.outliers = before - tally.superseded - live.len();
    if live.len() < params.min_sources {
        return Err(too_few(live.len(), tally));
    }
    match weighted_median(&live) {
        Some(price) => Ok(Combined { price, used: live, tally }),
        None => Err(too_few(0, tally)),
    }
}

/// Readings that pass the price, weight, future and staleness checks, counting the others.
fn fresh_readings(
    readings: &[Reading],
    now_ms: u64,
    params: &SourceParams,
    tally: &mut Tally,
) -> Vec<Reading> {
    let latest_ok = now_ms.saturating_add(params.max_future_ms);
    let mut live = Vec::with_capacity(readings.len());
    for r in readings {
        if !r.price.is_valid() {
            tally.invalid_price += 1;
        } else if r.weight == 0 {
            tally.zero_weight += 1;
        } else if r.time_ms > latest_ok {
            tally.future += 1;
        } else if now_ms.saturating_sub(r.time_ms) > params.max_age_ms {
            tally.stale += 1;
        } else {
            live.push(*r);
        }
    }
    live
}

/// The weighted median of readings sorted by price (see the module doc); `None` if empty.
pub fn weighted_median(sorted: &[Reading]) -> Option<OraclePrice> {
    let total: u64 = sorted.iter().map(|r| u64::from(r.weight)).sum();
    let mut acc = 0u64;
    for (i, r) in sorted.iter().enumerate() {
        acc += u64::from(r.weight);
        if 2 * acc > total {
            return Some(r.price);
        }
        if 2 * acc == total {
            // Evenly split: midpoint with the next reading of positive weight, if any.
            let next = sorted[i + 1..].iter().find(|n| n.weight > 0);
            return Some(match next {
                Some(n) => OraclePrice(midpoint_floor(r.price.0, n.price.0)),
                None => r.price,
            });
        }
    }
    None
}

fn midpoint_floor(a: u64, b: u64) -> u64 {
    ((u128::from(a) + u128::from(b)) / 2) as u64
}

/// Whether `price` is within `ppm` parts per million of `reference` (the bound included).
fn within_ppm(price: OraclePrice, reference: OraclePrice, ppm: u32) -> bool {
    let diff = u128::from(price.0.abs_diff(reference.0));
    diff * PPM <= u128::from(ppm) * u128::from(reference.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<OraclePrice, PriceError> {
        parse_decimal(s)
    }

    #[test]
    fn decimals_parse_and_truncate() {
        assert_eq!(p("97123.45"), Ok(OraclePrice(97_123_450_000_000)));
        assert_eq!(p("0.00001234"), Ok(OraclePrice(12_340)));
        assert_eq!(p("1"), Ok(OraclePrice::from_usd(1)));
        assert_eq!(p("007.5"), Ok(OraclePrice(7_500_000_000)));
        assert_eq!(p("0.000000001"), Ok(OraclePrice(1)));
        assert_eq!(p("1.0000000019"), Ok(OraclePrice(1_000_000_001)));
        assert_eq!(p("0.0000000019"), Ok(OraclePrice(1)));
        assert_eq!(p("1000000000"), Ok(PRICE_MAX));
        assert_eq!(p("1000000000.000000000"), Ok(PRICE_MAX));
    }

    #[test]
    fn decimals_reject_with_reasons() {
        assert_eq!(p(""), Err(PriceError::Empty));
        assert_eq!(p(&"1".repeat(65)), Err(PriceError::TooLong { len: 65 }));
        for nan in ["NaN", "nan", "-NaN", "+nan"] {
            assert_eq!(p(nan), Err(PriceError::NotANumber), "{nan}");
        }
        for inf in ["inf", "Infinity", "-inf", "+INFINITY"] {
            assert_eq!(p(inf), Err(PriceError::Infinite), "{inf}");
        }
        assert_eq!(p("-1.5"), Err(PriceError::Negative));
        assert_eq!(p("-0"), Err(PriceError::Negative));
        assert_eq!(p("0"), Err(PriceError::Zero));
        assert_eq!(p("0.000000000"), Err(PriceError::Zero));
        assert_eq!(p("0.0000000001"), Err(PriceError::BelowResolution));
        assert_eq!(p("1000000000.000000001"), Err(PriceError::AboveMax));
        assert_eq!(p("1000000000000000000000000000000"), Err(PriceError::AboveMax));
        assert_eq!(p(&"9".repeat(64)), Err(PriceError::AboveMax));
        assert_eq!(p("1e3"), Err(PriceError::Exponent));
        assert_eq!(p("1.5E-3"), Err(PriceError::Exponent));
        assert_eq!(p("+1"), Err(PriceError::Malformed { at: 0 }));
        assert_eq!(p("-x"), Err(PriceError::Malformed { at: 1 }));
        assert_eq!(p(".5"), Err(PriceError::Malformed { at: 0 }));
        assert_eq!(p("5."), Err(PriceError::Malformed { at: 2 }));
        assert_eq!(p("1.2.3"), Err(PriceError::Malformed { at: 3 }));
        assert_eq!(p(" 1"), Err(PriceError::Malformed { at: 0 }));
        assert_eq!(p("1 "), Err(PriceError::Malformed { at: 1 }));
        assert_eq!(p("1,000"), Err(PriceError::Malformed { at: 1 }));
        assert_eq!(p("e5"), Err(PriceError::Malformed { at: 0 }));
        assert_eq!(p("12€"), Err(PriceError::Malformed { at: 2 }));
        assert_eq!(p("0x10"), Err(PriceError::Malformed { at: 1 }));
    }

    #[test]
    fn decimal_round_trips_through_display() {
        for v in [1, 12_340, 97_123_450_000_000, PRICE_MAX.0, 123_456_789_012] {
            assert_eq!(p(&OraclePrice(v).to_decimal()), Ok(OraclePrice(v)));
        }
    }

    #[test]
    fn paths_and_names() {
        assert_eq!(
            Exchange::Binance.path_and_query("BTCUSDT"),
            "/api/v3/ticker/price?symbol=BTCUSDT"
        );
        assert_eq!(Exchange::Coinbase.path_and_query("BTC-USD"), "/products/BTC-USD/ticker");
        assert_eq!(Exchange::Kraken.path_and_query("XBTUSD"), "/0/public/Ticker?pair=XBTUSD");
        assert_eq!(
            Exchange::Okx.path_and_query("BTC-USDT"),
            "/api/v5/market/ticker?instId=BTC-USDT"
        );
        assert_eq!(
            Exchange::Bybit.path_and_query("BTCUSDT"),
            "/v5/market/tickers?category=spot&symbol=BTCUSDT"
        );
        assert_eq!(Exchange::Coinbase.path_and_query("../x?y"), "/products/..%2Fx%3Fy/ticker");
        for e in Exchange::ALL {
            assert_eq!(e.name().parse::<Exchange>(), Ok(e));
            assert!(e.default_base_url().starts_with("https://"));
        }
        assert_eq!("OKX".parse::<Exchange>(), Ok(Exchange::Okx));
        assert!("ftx".parse::<Exchange>().is_err());
    }

    #[test]
    fn kraken_pair_names() {
        assert!(kraken_pair_matches("XXBTZUSD", "XBTUSD"));
        assert!(kraken_pair_matches("XETHZUSD", "ETHUSD"));
        assert!(kraken_pair_matches("SOLUSD", "SOLUSD"));
        assert!(!kraken_pair_matches("XETHZUSD", "XBTUSD"));
        assert!(!kraken_pair_matches("XXBTZEUR", "XBTUSD"));
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("2025-01-15T12:34:56.789123Z"), Some(1_736_944_496_789));
        assert_eq!(parse_rfc3339_ms("2025-01-15T12:34:56.7Z"), Some(1_736_944_496_700));
        assert_eq!(parse_rfc3339_ms("2025-01-15T13:34:56+01:00"), Some(1_736_944_496_000));
        assert_eq!(parse_rfc3339_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339_ms("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339_ms("2025-01-15T12:34:56"), None);
        assert_eq!(parse_rfc3339_ms("2025-01-15T24:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2025-01-15T12:34:56.Z"), None);
        assert_eq!(parse_rfc3339_ms("2025-13-15T12:34:56Z"), None);
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }

    fn r(source: u16, weight: u32, price_usd: u64, time_ms: u64) -> Reading {
        Reading { source, weight, price: OraclePrice::from_usd(price_usd), time_ms }
    }

    #[test]
    fn median_of_odd_and_even_splits() {
        let sorted = [r(0, 1, 100, 0), r(1, 1, 102, 0), r(2, 1, 110, 0)];
        assert_eq!(weighted_median(&sorted), Some(OraclePrice::from_usd(102)));
        let even = [r(0, 1, 100, 0), r(1, 1, 102, 0)];
        assert_eq!(weighted_median(&even), Some(OraclePrice::from_usd(101)));
        let heavy = [r(0, 5, 100, 0), r(1, 1, 102, 0), r(2, 1, 110, 0)];
        assert_eq!(weighted_median(&heavy), Some(OraclePrice::from_usd(100)));
        let odd_nanos = [
            Reading { source: 0, weight: 1, price: OraclePrice(1), time_ms: 0 },
            Reading { source: 1, weight: 1, price: OraclePrice(2), time_ms: 0 },
        ];
        assert_eq!(weighted_median(&odd_nanos), Some(OraclePrice(1)));
        assert_eq!(weighted_median(&[]), None);
    }

    #[test]
    fn two_live_sources_report_nothing() {
        let now = 100_000;
        let params = SourceParams::default();
        let readings = [r(0, 1, 100, now), r(1, 1, 101, now - 500), r(2, 1, 100, now - 60_000)];
        let err = combine(&readings, now, &params).unwrap_err();
        assert_eq!(
            err,
            NoPrice::TooFewSources {
                sources: 2,
                min_sources: 3,
                tally: Tally { total: 3, stale: 1, ..Tally::default() }
            }
        );
        let mut three = readings.to_vec();
        three.push(r(3, 1, 102, now));
        assert_eq!(combine(&three, now, &params), Ok(OraclePrice::from_usd(101)));
    }

    #[test]
    fn filters_count_each_reason_once() {
        let now = 1_000_000;
        let params = SourceParams { min_sources: 3, ..SourceParams::default() };
        let readings = [
            r(0, 1, 100, now),
            r(1, 1, 101, now),
            r(2, 1, 99, now),
            Reading { source: 3, weight: 1, price: OraclePrice(0), time_ms: now },
            Reading { source: 4, weight: 1, price: OraclePrice(PRICE_MAX.0 + 1), time_ms: now },
            r(5, 0, 100, now),
            r(6, 1, 100, now + 2_001),
            r(7, 1, 100, now - 10_001),
            r(0, 1, 500, now - 1),
            r(8, 1, 150, now),
        ];
        let c = combine_detailed(&readings, now, &params).unwrap();
        assert_eq!(c.price, OraclePrice::from_usd(100));
        assert_eq!(
            c.tally,
            Tally {
                total: 10,
                invalid_price: 2,
                zero_weight: 1,
                future: 1,
                stale: 1,
                superseded: 1,
                outliers: 1
            }
        );
        assert_eq!(c.used.iter().map(|u| u.source).collect::<Vec<_>>(), vec![2, 0, 1]);
    }

    #[test]
    fn boundaries_are_inclusive() {
        let now = 50_000;
        let params = SourceParams {
            min_sources: 3,
            max_age_ms: 1_000,
            max_future_ms: 10,
            outlier_ppm: 10_000,
        };
        // Exactly max_age old, exactly max_future ahead, exactly 1% off the median: all kept.
        let readings = [r(0, 1, 100, now - 1_000), r(1, 1, 101, now + 10), r(2, 1, 99, now)];
        let c = combine_detailed(&readings, now, &params).unwrap();
        assert_eq!(c.used.len(), 3);
        assert_eq!(c.price, OraclePrice::from_usd(100));
    }

    #[test]
    fn params_validate() {
        assert_eq!(SourceParams::default().validate(), Ok(()));
        let base = SourceParams::default();
        let bad = [
            (SourceParams { min_sources: 0, ..base }, ParamsError::MinSourcesZero),
            (SourceParams { min_sources: 65, ..base }, ParamsError::MinSourcesAboveMax(65)),
            (SourceParams { max_age_ms: 0, ..base }, ParamsError::MaxAgeZero),
            (SourceParams { outlier_ppm: 0, ..base }, ParamsError::OutlierPpmZero),
            (
                SourceParams { outlier_ppm: 1_000_001, ..base },
                ParamsError::OutlierPpmAboveMax(1_000_001),
            ),
        ];
        for (params, err) in bad {
            assert_eq!(params.validate(), Err(err));
            assert_eq!(combine(&[], 0, &params), Err(NoPrice::Params(err)));
        }
        let many = vec![r(0, 1, 100, 0); READINGS_MAX + 1];
        assert_eq!(combine(&many, 0, &base), Err(NoPrice::TooManyReadings { count: 65 }));
    }

    #[test]
    fn ticker_reading_prefers_exchange_time() {
        let t = Ticker { price: OraclePrice::from_usd(5), time_ms: Some(7) };
        assert_eq!(t.reading(2, 3, 99).time_ms, 7);
        let t = Ticker { time_ms: None, ..t };
        assert_eq!(t.reading(2, 3, 99), r(2, 3, 5, 99));
    }
}
