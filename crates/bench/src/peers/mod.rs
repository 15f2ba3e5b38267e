//! The books under test: ours and the peers from crates.io, each behind a thin adapter, and
//! [`Bare`], a calibration reference that is neither (see its module).

mod bare;
mod lobster;
mod matchcore;
mod novation;
mod orderbook_rs;
mod rust_ob;

pub use self::bare::Bare;
pub use self::lobster::Lobster;
pub use self::matchcore::Matchcore;
pub use self::novation::Novation;
pub use self::orderbook_rs::OrderbookRs;
pub use self::rust_ob::RustOb;

/// Why a peer is known to produce different fills from the reference book on this flow, if it
/// is. The report prints it next to the mismatch; the flow is never adjusted to hide one.
pub fn known_deviation(name: &str) -> Option<&'static str> {
    match name {
        "matchcore" => Some(
            "matchcore 0.4.0 matches a crossing limit order with no price bound \
             (submit_crossable_order calls match_order with limit None), so its IOCs trade \
             through their limit price; the extra fills then make some later cancels fail",
        ),
        _ => None,
    }
}

/// Books that run beside the others for calibration only: they are neither ours nor a peer, and
/// no ratio counts them.
pub const REFERENCES: [&str; 1] = ["bare"];

/// Whether `name` is one of the [`REFERENCES`].
pub fn is_reference(name: &str) -> bool {
    REFERENCES.contains(&name)
}
