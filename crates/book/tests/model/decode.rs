//! A hand-written decoder from arbitrary bytes to book limits and a sequence of `(Now, Op)`,
//! shared by the proptest fallback (`tests/fuzz_ops.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/ops.rs`). Every byte string decodes to something; reading past the end
//! yields zeros. Small id, account, client-id and price spaces make collisions, crossings and
//! self-trades frequent; special byte values produce the extreme inputs.

use novation_book::{
    AccountId, BookLimits, ClientOrderId, Expiry, NewOrder, Now, Op, OrderId, PriceTicks, QtyLots,
    Side, StpMode, TimeInForce, PRICE_TICKS_MAX, QTY_LOTS_MAX,
};

/// The decoded input.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub limits: BookLimits,
    pub ops: Vec<(Now, Op)>,
}

/// The small limits that make every bound reachable.
pub const SMALL: BookLimits = BookLimits {
    orders_per_account_max: 5,
    orders_per_book_max: 20,
    price_levels_max: 6,
    match_steps_max: 4,
};

/// Where the "normal" prices of a sequence lie: `base + (i - 5) * step` for `i` in `0..=10`.
/// Spans inside one 64-tick ladder page, across a page boundary, one level per page, sparse pages
/// with gaps, and the top of the price range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub base: u64,
    pub step: u64,
}

pub const GRIDS: [Grid; 6] = [
    Grid { base: 100, step: 1 },
    Grid { base: 128, step: 1 },
    Grid { base: 1_000, step: 7 },
    Grid { base: 1 << 20, step: 64 },
    Grid { base: 6_000, step: 1_000 },
    Grid { base: PRICE_TICKS_MAX - 5, step: 1 },
];

impl Grid {
    /// The `i`-th of the eleven normal prices (`i` is taken modulo 11).
    pub fn near(self, i: u64) -> u64 {
        self.base - 5 * self.step + (i % 11) * self.step
    }
}

/// The first `Now` of every decoded sequence.
pub const START: Now = Now::new(10, 1_000_000);

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn more(&self) -> bool {
        self.pos < self.data.len()
    }
}

fn id(b: u8) -> OrderId {
    match b {
        254 => OrderId(0),
        255 => OrderId(u64::MAX),
        _ => OrderId(1 + u64::from(b % 32)),
    }
}

fn price(grid: Grid, b: u8) -> PriceTicks {
    PriceTicks(match b {
        0..=239 => grid.near(u64::from(b)),
        240 => 0,
        241 => 1,
        242 => 2,
        243 => u64::MAX,
        244 => PRICE_TICKS_MAX,
        245 => PRICE_TICKS_MAX - 1,
        246 => PRICE_TICKS_MAX + 1,
        247 => 90,
        248 => 110,
        _ => 100,
    })
}

fn qty(b: u8) -> QtyLots {
    QtyLots(match b {
        0..=239 => 1 + u64::from(b % 10),
        240 => 0,
        241 => u64::MAX,
        242 => QTY_LOTS_MAX,
        243 => QTY_LOTS_MAX + 1,
        244 => 1_000,
        _ => 5,
    })
}

const TIFS: [TimeInForce; 8] = [
    TimeInForce::Gtc,
    TimeInForce::Gtc,
    TimeInForce::Ioc,
    TimeInForce::Fok,
    TimeInForce::PostOnly,
    TimeInForce::PostOnlySlide,
    TimeInForce::Gtc,
    TimeInForce::Ioc,
];

const STPS: [StpMode; 4] = [
    StpMode::CancelNewest,
    StpMode::CancelOldest,
    StpMode::CancelBoth,
    StpMode::DecrementAndCancel,
];

fn side(bit: u8) -> Side {
    if bit & 1 == 0 {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// Decodes `data`. Byte 0 picks the limits and the price grid; then each operation starts with a tag byte whose
/// top three bits advance the clock and whose low five bits pick the operation.
pub fn decode(data: &[u8]) -> Decoded {
    let mut c = Cursor { data, pos: 0 };
    let first = c.byte();
    let grid = GRIDS[usize::from(first >> 2) % GRIDS.len()];
    let limits = match first % 4 {
        0 => BookLimits::default(),
        1 => SMALL,
        _ => BookLimits {
            orders_per_account_max: 1 + u32::from(c.byte() % 8),
            orders_per_book_max: 1 + u32::from(c.byte() % 24),
            price_levels_max: 1 + u32::from(c.byte() % 8),
            match_steps_max: 1 + u32::from(c.byte() % 6),
        },
    };
    let mut now = START;
    let mut ops = Vec::new();
    while c.more() {
        let tag = c.byte();
        match tag >> 5 {
            4 => now.time_ms += 1_000,
            5 => {
                now.height += 1;
                now.time_ms += 500;
            }
            6 => {
                now.height += 1;
                now.time_ms += 2_000;
            }
            7 => {
                now.height += 2;
                now.time_ms += 5_000;
            }
            _ => {}
        }
        let op = match tag & 0x1f {
            0..=14 => {
                let oid = id(c.byte());
                let b = c.byte();
                let account = AccountId(u32::from(b & 3));
                let s = side(b >> 2);
                let tif = TIFS[usize::from((b >> 3) & 7)];
                let stp = STPS[usize::from(b >> 6)];
                let mut p = price(grid, c.byte());
                let q = qty(c.byte());
                let flags = c.byte();
                let off = c.byte();
                let client_id = match flags & 7 {
                    0..=3 => None,
                    k => Some(ClientOrderId(u64::from(k - 3))),
                };
                let reduce_only = flags & 8 != 0;
                let expiry = match (flags >> 4) & 7 {
                    4 | 5 => Expiry::Height((now.height + u64::from(off % 5)).saturating_sub(1)),
                    6 | 7 => {
                        Expiry::TimeMs((now.time_ms + u64::from(off) * 40).saturating_sub(1_000))
                    }
                    _ => Expiry::Never,
                };
                // A market order sweeping with a far slippage bound.
                if flags >> 7 == 1 && tif == TimeInForce::Ioc {
                    p = match s {
                        Side::Buy => PriceTicks(PRICE_TICKS_MAX),
                        Side::Sell => PriceTicks(1),
                    };
                }
                Op::Place(NewOrder {
                    id: oid,
                    account,
                    client_id,
                    side: s,
                    price: p,
                    qty: q,
                    tif,
                    expiry,
                    reduce_only,
                    stp,
                })
            }
            15..=18 => {
                let oid = id(c.byte());
                Op::Cancel { account: AccountId(u32::from(c.byte() % 4)), id: oid }
            }
            19 | 20 => {
                let b = c.byte();
                Op::CancelByClientId {
                    account: AccountId(u32::from(b & 3)),
                    client_id: ClientOrderId(u64::from((b >> 2) % 5)),
                }
            }
            21 => {
                let b = c.byte();
                let s = match (b >> 2) % 3 {
                    0 => None,
                    1 => Some(Side::Buy),
                    _ => Some(Side::Sell),
                };
                Op::CancelAll { account: AccountId(u32::from(b & 3)), side: s }
            }
            22..=28 => {
                let oid = id(c.byte());
                let account = AccountId(u32::from(c.byte() % 4));
                Op::Modify { account, id: oid, price: price(grid, c.byte()), qty: qty(c.byte()) }
            }
            _ => {
                let b = c.byte();
                Op::Expire { limit: if b >= 250 { u32::MAX } else { u32::from(b % 6) } }
            }
        };
        ops.push((now, op));
    }
    Decoded { limits, ops }
}
