//! Every recorded exchange response in `tests/fixtures/<exchange>/`, parsed by its adapter, with
//! the outcome each one must give.

use novation_oracle::source::{Exchange, JsonFault, ParseError, PriceError, Ticker, BODY_LEN_MAX};
use novation_oracle::OraclePrice;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn nano(usd: &str) -> OraclePrice {
    novation_oracle::source::parse_decimal(usd).unwrap()
}

enum Expect {
    Ok(&'static str, Option<u64>),
    Err(ParseError),
    Json(JsonFault),
}

fn rejected(code: &str, message: &str) -> Expect {
    Expect::Err(ParseError::Rejected { code: code.into(), message: message.into() })
}

fn price_err(field: &'static str, error: PriceError) -> Expect {
    Expect::Err(ParseError::Price { field, error })
}

fn wrong_symbol(expected: &str, found: &str) -> Expect {
    Expect::Err(ParseError::WrongSymbol { expected: expected.into(), found: found.into() })
}

#[rustfmt::skip]
fn table() -> Vec<(Exchange, &'static str, &'static str, Expect)> {
    use Exchange::*;
    vec![
        (Binance, "binance/ok_btcusdt.json", "BTCUSDT", Expect::Ok("97123.45", None)),
        (Binance, "binance/ok_ethusdt.json", "ETHUSDT", Expect::Ok("3312.07", None)),
        (Binance, "binance/ok_ethusdt.json", "BTCUSDT", wrong_symbol("BTCUSDT", "ETHUSDT")),
        (Binance, "binance/error_invalid_symbol.json", "BTCUSDX", rejected("-1121", "Invalid symbol.")),
        (Binance, "binance/truncated.json", "BTCUSDT", Expect::Json(JsonFault::Truncated)),
        (Binance, "binance/price_nan.json", "BTCUSDT", price_err("price", PriceError::NotANumber)),
        (Binance, "binance/price_number.json", "BTCUSDT",
            Expect::Err(ParseError::WrongType { field: "price", expected: "a string" })),
        (Binance, "binance/missing_price.json", "BTCUSDT",
            Expect::Err(ParseError::MissingField { field: "price" })),
        (Coinbase, "coinbase/ok_btcusd.json", "BTC-USD", Expect::Ok("97125", Some(1_736_944_496_789))),
        (Coinbase, "coinbase/ok_ethusd.json", "ETH-USD", Expect::Ok("3312.51", Some(1_736_944_497_004))),
        (Coinbase, "coinbase/error_not_found.json", "BTC-USDX", rejected("", "NotFound")),
        (Coinbase, "coinbase/truncated.json", "BTC-USD", Expect::Json(JsonFault::Truncated)),
        (Coinbase, "coinbase/price_negative.json", "BTC-USD", price_err("price", PriceError::Negative)),
        (Coinbase, "coinbase/bad_time.json", "BTC-USD", Expect::Err(ParseError::Time { field: "time" })),
        (Coinbase, "coinbase/html.json", "BTC-USD", Expect::Json(JsonFault::Syntax)),
        (Kraken, "kraken/ok_xbtusd.json", "XBTUSD", Expect::Ok("97123.9", None)),
        (Kraken, "kraken/ok_xbtusd.json", "XXBTZUSD", Expect::Ok("97123.9", None)),
        (Kraken, "kraken/ok_solusd.json", "SOLUSD", Expect::Ok("187.44", None)),
        (Kraken, "kraken/error_unknown_pair.json", "XBTUSX", rejected("EQuery", "Unknown asset pair")),
        (Kraken, "kraken/truncated.json", "XBTUSD", Expect::Json(JsonFault::Truncated)),
        (Kraken, "kraken/price_zero.json", "XBTUSD", price_err("c", PriceError::Zero)),
        (Kraken, "kraken/wrong_pair.json", "XBTUSD", wrong_symbol("XBTUSD", "XETHZUSD")),
        (Okx, "okx/ok_btc_usdt.json", "BTC-USDT", Expect::Ok("97122.8", Some(1_736_944_496_789))),
        (Okx, "okx/error_instrument.json", "BTC-USDX", rejected("51001", "Instrument ID does not exist")),
        (Okx, "okx/truncated.json", "BTC-USDT", Expect::Json(JsonFault::Truncated)),
        (Okx, "okx/price_infinity.json", "BTC-USDT", price_err("last", PriceError::Infinite)),
        (Okx, "okx/empty_data.json", "BTC-USDT", Expect::Err(ParseError::NoTicker)),
        (Okx, "okx/wrong_inst.json", "BTC-USDT", wrong_symbol("BTC-USDT", "ETH-USDT")),
        (Bybit, "bybit/ok_btcusdt.json", "BTCUSDT", Expect::Ok("97123.2", Some(1_736_944_496_812))),
        (Bybit, "bybit/ok_btcusdt.json", "ETHUSDT", wrong_symbol("ETHUSDT", "BTCUSDT")),
        (Bybit, "bybit/error_symbol.json", "BTCUSDX", rejected("10001", "Not supported symbols")),
        (Bybit, "bybit/truncated.json", "BTCUSDT", Expect::Json(JsonFault::Truncated)),
        (Bybit, "bybit/price_zero.json", "BTCUSDT", price_err("lastPrice", PriceError::Zero)),
        (Bybit, "bybit/price_exponent.json", "BTCUSDT", price_err("lastPrice", PriceError::Exponent)),
        (Bybit, "bybit/retcode_string.json", "BTCUSDT",
            Expect::Err(ParseError::WrongType { field: "retCode", expected: "an integer" })),
    ]
}

#[test]
fn every_fixture_gives_its_outcome() {
    for (exchange, path, symbol, expect) in table() {
        let got = exchange.parse(&fixture(path), symbol);
        match expect {
            Expect::Ok(price, time_ms) => {
                assert_eq!(got, Ok(Ticker { price: nano(price), time_ms }), "{path}")
            }
            Expect::Err(err) => assert_eq!(got, Err(err), "{path}"),
            Expect::Json(fault) => match got {
                Err(ParseError::Json { fault: f, .. }) => assert_eq!(f, fault, "{path}"),
                other => panic!("{path}: expected a JSON error, got {other:?}"),
            },
        }
    }
}

#[test]
fn every_fixture_file_is_in_the_table() {
    let listed: Vec<&str> = table().iter().map(|(_, path, _, _)| *path).collect();
    for exchange in Exchange::ALL {
        let dir = format!("{}/tests/fixtures/{}", env!("CARGO_MANIFEST_DIR"), exchange.name());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let path = format!("{}/{name}", exchange.name());
            assert!(listed.contains(&path.as_str()), "{path} is not checked by the table");
        }
    }
}

#[test]
fn every_exchange_refuses_oversized_and_non_object_bodies() {
    let big = vec![b' '; BODY_LEN_MAX + 1];
    for exchange in Exchange::ALL {
        assert_eq!(
            exchange.parse(&big, "X"),
            Err(ParseError::BodyTooLarge { len: BODY_LEN_MAX + 1 })
        );
        assert_eq!(
            exchange.parse(b"[1,2]", "X"),
            Err(ParseError::WrongType { field: "(root)", expected: "an object" })
        );
        assert!(matches!(
            exchange.parse(b"", "X"),
            Err(ParseError::Json { fault: JsonFault::Truncated, .. })
        ));
        assert!(matches!(
            exchange.parse(b"{} trailing", "X"),
            Err(ParseError::Json { fault: JsonFault::Syntax, .. })
        ));
    }
}

#[test]
fn long_error_messages_are_cut() {
    let body = format!(r#"{{"code":-1,"msg":"{}"}}"#, "é".repeat(1000));
    match Exchange::Binance.parse(body.as_bytes(), "BTCUSDT") {
        Err(ParseError::Rejected { message, .. }) => assert!(message.len() <= 256),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let body = "[".repeat(10_000);
    assert!(matches!(
        Exchange::Okx.parse(body.as_bytes(), "BTC-USDT"),
        Err(ParseError::Json { .. })
    ));
}
