# Developer shortcuts; each recipe is one plain cargo command, also listed in the README.

# Format check, clippy with warnings denied, and the whole test suite (what CI runs).
ci:
    bash .ci/run

test:
    cargo test --workspace

lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Order-book flow benchmark against peer crates (prints ratio_vs_fastest_peer last).
bench-book:
    cargo run --release -p novation-bench --bin book-bench

# Criterion micro-benchmarks of the book.
bench-micro:
    cargo bench -p novation-book --bench book

# Coverage-guided fuzzing of the book (needs cargo-fuzz; see crates/book/fuzz/README.md).
fuzz seconds="60":
    cd crates/book && RUSTC_BOOTSTRAP=1 cargo fuzz run ops -- -max_total_time={{seconds}} -max_len=4096
