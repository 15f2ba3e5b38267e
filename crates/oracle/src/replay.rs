//! Replay of a recorded `(time, price)` series from CSV, for devnet drills on real or made-up
//! price histories.
//!
//! # Format
//!
//! One point per line, `time_ms,price`: `time_ms` a decimal Unix-millisecond integer, `price` a
//! decimal USD price read by [`parse_decimal`] (so `97123.45`, no exponent, truncated past nine
//! decimals). Spaces and tabs around a field are ignored; a trailing `\r` is ignored (CRLF files
//! work). Blank lines and lines whose first non-blank character is `#` are skipped anywhere. The
//! first other line may be a two-field header: it is skipped if its first field does not start
//! with a digit (`time_ms,price`, `timestamp,close`). Times must be strictly increasing. Bounds: at most
//! [`ROWS_MAX`] points and [`LINE_LEN_MAX`] bytes per line; at least one point.
//!
//! Every error names the 1-based line it was found on ([`CsvError`]).
//!
//! # Lookup
//!
//! The series is a step function: [`CsvSeries::price_at`] is the last point at or before the time
//! (`None` before the first point; the last price holds forever after the last). [`rebased`]
//! shifts all times so the series starts at a chosen instant (for example the devnet's genesis
//! time), keeping the gaps between points.
//!
//! [`rebased`]: CsvSeries::rebased

use crate::price::OraclePrice;
use crate::source::{parse_decimal, PriceError};

/// The most points a series may hold.
pub const ROWS_MAX: usize = 1_000_000;

/// The longest line accepted, in bytes (a point is well under 50).
pub const LINE_LEN_MAX: usize = 256;

/// One point of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Point {
    /// Unix milliseconds.
    pub time_ms: u64,
    /// The price from then on.
    pub price: OraclePrice,
}

/// A parsed series: at least one point, times strictly increasing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvSeries {
    points: Vec<Point>,
}

/// A CSV parse failure and the 1-based line where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct CsvError {
    /// 1-based line number (the last line for [`CsvErrorKind::NoRows`]).
    pub line: usize,
    /// What was wrong.
    pub kind: CsvErrorKind,
}

/// What was wrong with a CSV line or file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvErrorKind {
    /// The line is longer than [`LINE_LEN_MAX`] bytes.
    #[error("line of {len} bytes is longer than {LINE_LEN_MAX}")]
    LineTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The line does not have exactly two comma-separated fields.
    #[error("expected 2 fields (time_ms,price), found {found}")]
    FieldCount {
        /// How many it has.
        found: usize,
    },
    /// The time is not a decimal integer that fits in 64 bits.
    #[error("time is not a non-negative integer of milliseconds")]
    BadTime,
    /// The price was rejected.
    #[error("price: {0}")]
    Price(PriceError),
    /// The time is not after the previous point's.
    #[error("time {time_ms} is not after the previous point's {previous_ms}")]
    NotIncreasing {
        /// This line's time.
        time_ms: u64,
        /// The previous point's time.
        previous_ms: u64,
    },
    /// More than [`ROWS_MAX`] points.
    #[error("more than {ROWS_MAX} points")]
    TooManyRows,
    /// No point at all.
    #[error("no points")]
    NoRows,
}

impl CsvSeries {
    /// Parses `text` (see the module doc for the format).
    pub fn parse(text: &str) -> Result<CsvSeries, CsvError> {
        let mut points: Vec<Point> = Vec::new();
        let mut header_allowed = true;
        let mut last_line = 0;
        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            last_line = line;
            let err = |kind| CsvError { line, kind };
            if raw.len() > LINE_LEN_MAX {
                return Err(err(CsvErrorKind::LineTooLong { len: raw.len() }));
            }
            let content = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> =
                content.split(',').map(|f| f.trim_matches([' ', '\t'])).collect();
            if fields.len() != 2 {
                return Err(err(CsvErrorKind::FieldCount { found: fields.len() }));
            }
            let first_is_numeric = fields[0].starts_with(|c: char| c.is_ascii_digit());
            if std::mem::take(&mut header_allowed) && !first_is_numeric {
                continue;
            }
            let point = parse_point(fields[0], fields[1]).map_err(err)?;
            if let Some(prev) = points.last() {
                if point.time_ms <= prev.time_ms {
                    return Err(err(CsvErrorKind::NotIncreasing {
                        time_ms: point.time_ms,
                        previous_ms: prev.time_ms,
                    }));
                }
            }
            if points.len() == ROWS_MAX {
                return Err(err(CsvErrorKind::TooManyRows));
            }
            points.push(point);
        }
        if points.is_empty() {
            return Err(CsvError { line: last_line, kind: CsvErrorKind::NoRows });
        }
        Ok(CsvSeries { points })
    }

    /// The points, in increasing time.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The price in force at `time_ms`: the last point at or before it; `None` before the first.
    pub fn price_at(&self, time_ms: u64) -> Option<OraclePrice> {
        let after = self.points.partition_point(|p| p.time_ms <= time_ms);
        after.checked_sub(1).map(|i| self.points[i].price)
    }

    /// The time of the first point.
    pub fn start_ms(&self) -> u64 {
        self.points[0].time_ms
    }

    /// Time from the first point to the last (0 for a single point).
    pub fn duration_ms(&self) -> u64 {
        self.points[self.points.len() - 1].time_ms - self.points[0].time_ms
    }

    /// The same series shifted to begin at `start_ms`; `None` if its last point would then be
    /// beyond `u64::MAX` ms.
    pub fn rebased(&self, start_ms: u64) -> Option<CsvSeries> {
        start_ms.checked_add(self.duration_ms())?;
        let first = self.points[0].time_ms;
        let points = self
            .points
            .iter()
            .map(|p| Point { time_ms: p.time_ms - first + start_ms, price: p.price })
            .collect();
        Some(CsvSeries { points })
    }
}

fn parse_point(time: &str, price: &str) -> Result<Point, CsvErrorKind> {
    if time.is_empty() || time.len() > 20 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CsvErrorKind::BadTime);
    }
    let time_ms = time.parse().map_err(|_| CsvErrorKind::BadTime)?;
    let price = parse_decimal(price).map_err(CsvErrorKind::Price)?;
    Ok(Point { time_ms, price })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(v: u64) -> OraclePrice {
        OraclePrice::from_usd(v)
    }

    #[test]
    fn parses_with_header_comments_blanks_and_crlf() {
        let text = "# recorded\r\ntime_ms,price\r\n\r\n1000, 100\r\n  # mid comment\n2000,101.5\n3000 ,\t99\n";
        let s = CsvSeries::parse(text).unwrap();
        assert_eq!(s.points().len(), 3);
        assert_eq!(s.start_ms(), 1000);
        assert_eq!(s.duration_ms(), 2000);
        assert_eq!(s.price_at(999), None);
        assert_eq!(s.price_at(1000), Some(usd(100)));
        assert_eq!(s.price_at(1999), Some(usd(100)));
        assert_eq!(s.price_at(2000), Some(OraclePrice(101_500_000_000)));
        assert_eq!(s.price_at(u64::MAX), Some(usd(99)));
    }

    #[test]
    fn header_only_on_the_first_content_line() {
        assert!(CsvSeries::parse("1,5\n2,6").is_ok());
        let e = CsvSeries::parse("1,5\ntime_ms,price\n").unwrap_err();
        assert_eq!(e, CsvError { line: 2, kind: CsvErrorKind::BadTime });
    }

    #[test]
    fn errors_name_the_line() {
        let cases: [(&str, CsvError); 9] = [
            ("", CsvError { line: 1, kind: CsvErrorKind::NoRows }),
            ("time_ms,price\n# none\n", CsvError { line: 3, kind: CsvErrorKind::NoRows }),
            ("1,5\n2\n", CsvError { line: 2, kind: CsvErrorKind::FieldCount { found: 1 } }),
            ("1,5,6\n", CsvError { line: 1, kind: CsvErrorKind::FieldCount { found: 3 } }),
            ("1,5\n-2,6\n", CsvError { line: 2, kind: CsvErrorKind::BadTime }),
            ("1,5\n99999999999999999999,6\n", CsvError { line: 2, kind: CsvErrorKind::BadTime }),
            (
                "1,5\n2,NaN\n",
                CsvError { line: 2, kind: CsvErrorKind::Price(PriceError::NotANumber) },
            ),
            ("h,p\n1,5\n3,0\n", CsvError { line: 3, kind: CsvErrorKind::Price(PriceError::Zero) }),
            (
                "1,5\n\n1,6\n",
                CsvError {
                    line: 3,
                    kind: CsvErrorKind::NotIncreasing { time_ms: 1, previous_ms: 1 },
                },
            ),
        ];
        for (text, err) in cases {
            assert_eq!(CsvSeries::parse(text), Err(err), "{text:?}");
        }
        let long = format!("1,{}\n", "1".repeat(300));
        assert_eq!(
            CsvSeries::parse(&long).unwrap_err(),
            CsvError { line: 1, kind: CsvErrorKind::LineTooLong { len: 302 } }
        );
        assert_eq!(
            CsvSeries::parse("1,5\n2,6\n1,7").unwrap_err().to_string(),
            "line 3: time 1 is not after the previous point's 2"
        );
    }

    #[test]
    fn row_bound_holds() {
        let mut text = String::with_capacity(ROWS_MAX * 10);
        for t in 0..=ROWS_MAX {
            text.push_str(&format!("{t},1\n"));
        }
        let e = CsvSeries::parse(&text).unwrap_err();
        assert_eq!(e, CsvError { line: ROWS_MAX + 1, kind: CsvErrorKind::TooManyRows });
    }

    #[test]
    fn rebasing_keeps_gaps() {
        let s = CsvSeries::parse("1000,1\n1500,2\n4000,3").unwrap();
        let r = s.rebased(10).unwrap();
        assert_eq!(r.points().iter().map(|p| p.time_ms).collect::<Vec<_>>(), vec![10, 510, 3010]);
        assert_eq!(r.duration_ms(), s.duration_ms());
        assert_eq!(r.price_at(509), Some(usd(1)));
        assert_eq!(r.price_at(510), Some(usd(2)));
        assert_eq!(s.rebased(u64::MAX - 3000).unwrap().points()[2].time_ms, u64::MAX);
        assert_eq!(s.rebased(u64::MAX - 2999), None);
        let single = CsvSeries::parse("7,1").unwrap();
        assert_eq!(single.duration_ms(), 0);
        assert_eq!(single.rebased(u64::MAX).unwrap().start_ms(), u64::MAX);
    }
}
