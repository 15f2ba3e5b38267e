//! Criterion micro-benchmarks of the book's hot operations, named `book::op/key=value`.
//! The end-to-end flow benchmark against peer crates is `cargo run --release -p novation-bench
//! --bin book-bench` (see the README).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use novation_book::{Book, BookLimits, NewOrder, Now, Side};

const RESTING: u64 = 50_000;
const MID: u64 = 100_000;

fn limits() -> BookLimits {
    BookLimits { orders_per_account_max: 1 << 20, ..BookLimits::default() }
}

/// A book with `RESTING` orders spread over 50 levels per side around `MID`.
fn populated() -> Book {
    let mut book = Book::new(limits()).expect("limits");
    let mut out = Vec::new();
    for i in 0..RESTING {
        let (side, price) =
            if i % 2 == 0 { (Side::Buy, MID - 1 - i % 50) } else { (Side::Sell, MID + 1 + i % 50) };
        let _ = book.place(
            Now::default(),
            &NewOrder::limit(i + 1, (i % 1000) as u32, side, price, 1 + i % 7),
            &mut out,
        );
        out.clear();
    }
    book
}

fn add_cancel(c: &mut Criterion) {
    let mut book = populated();
    let mut out = Vec::with_capacity(16);
    let mut id = 10_000_000u64;
    c.bench_function("book::add_then_cancel/resting=50000", |b| {
        b.iter(|| {
            id += 1;
            let order = NewOrder::limit(id, 7, Side::Buy, MID - 3, 2);
            let _ = black_box(book.place(Now::default(), &order, &mut out));
            let _ = black_box(book.cancel(order.account, order.id, &mut out));
            out.clear();
        })
    });
}

fn ioc_sweep(c: &mut Criterion) {
    for levels in [1u64, 5, 20] {
        c.bench_function(&format!("book::ioc_sweep/levels={levels}"), |b| {
            b.iter_batched_ref(
                || (populated(), Vec::with_capacity(4096)),
                |(book, out)| {
                    // Each ask level holds about 500 orders averaging 4 lots.
                    let qty = levels * 2_000;
                    let order = NewOrder::market(1 << 40, 5_000, Side::Buy, MID + 1 + levels, qty);
                    let _ = black_box(book.place(Now::default(), &order, out));
                },
                BatchSize::LargeInput,
            )
        });
    }
}

criterion_group!(benches, add_cancel, ioc_sweep);
criterion_main!(benches);
