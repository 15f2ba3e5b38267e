//! In-process devnet (placeholder).
