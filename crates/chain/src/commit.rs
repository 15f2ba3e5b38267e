//! The state commitment: an authenticated key-value database (commonware's qmdb, `current`
//! variant over an MMR) holding the canonical encoding of every piece of exchange state.
//!
//! Keys are 24 bytes: a 20-byte address, a 2-byte subaccount or market id, a zero byte and a
//! one-byte tag, so the index's first bytes are the address's (well spread):
//!
//! | tag | key | value |
//! |---|---|---|
//! | 1 | (owner, sub) | the account: buckets, legs, resting orders, liquidation state |
//! | 2 | (0, market id) | the market's state: index, mark, funding, open interest, status |
//! | 3 | (0, 0) | engine-wide state: fee pool, flows, counters, liquidations, auctions |
//! | 4 | (signer, 0) | a signer's replay-protection nonces and agent grants |
//! | 5 | (0, validator index) | an oracle validator's stake and latest included observation |
//! | 6 | (0, asset id) | an oracle asset's index, its last update height and time |
//!
//! After executing block `h` the chain writes, in one batch, every account the block changed
//! (the engine's dirty list), every market, the global record, every signer whose nonces or
//! grants changed, and the oracle validators and assets the block changed; the batch's root is the block's `state_root`. Because qmdb's `current`
//! variant also proves that a value is the key's *current* value, a client holding a finalized
//! block's root can check any account's state with [`StateDb::verify_key_value_proof`].
//!
//! Speculative execution of not-yet-finalized blocks builds a chain of batches (a child batch
//! per block on its parent's batch); finalization applies the finalized block's batch and
//! commits it with the block height and digest as commit metadata, atomically with the state.

use std::sync::Arc;

use commonware_codec::RangeCfg;
use commonware_cryptography::{sha256::Digest, Sha256};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::{page_size, CacheRef};
use commonware_storage::{
    journal::contiguous::variable::Config as JournalConfig,
    merkle::full::Config as MerkleConfig,
    mmr,
    qmdb::{any::value::VariableEncoding, current},
    translator::EightCap,
};
use commonware_utils::{sequence::FixedBytes, NZUsize, NZU64};
use novation_engine::{MarketId, SubaccountId};
use novation_types::Address;

/// A state key.
pub type Key = FixedBytes<24>;

/// Largest encoded value (an account with every leg and its resting orders fits well below).
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// The state database.
pub type StateDb<E> = current::unordered::variable::Db<
    mmr::Family,
    E,
    Key,
    Vec<u8>,
    Sha256,
    EightCap,
    32,
    Sequential,
>;

/// A merkleized, not yet applied batch of writes (one block's, on top of its parent's).
pub type Batch = Arc<
    current::batch::MerkleizedBatch<
        mmr::Family,
        Digest,
        commonware_storage::qmdb::any::unordered::Update<Key, VariableEncoding<Vec<u8>>>,
        32,
        Sequential,
    >,
>;

/// The proof that a key holds a value under a root.
pub type Proof = current::unordered::proof::constant::KeyValueProof<mmr::Family, Digest, 32>;

/// Key tags.
pub mod tag {
    /// An account.
    pub const ACCOUNT: u8 = 1;
    /// A market.
    pub const MARKET: u8 = 2;
    /// The engine-wide record.
    pub const GLOBAL: u8 = 3;
    /// A signer's replay protection and agent grants.
    pub const SIGNER: u8 = 4;
    /// An oracle validator's stake and latest included observation.
    pub const ORACLE_VALIDATOR: u8 = 5;
    /// An oracle asset's index and its last update.
    pub const ORACLE_ASSET: u8 = 6;
}

fn key(addr: [u8; 20], id: u16, tag: u8) -> Key {
    let mut k = [0u8; 24];
    k[..20].copy_from_slice(&addr);
    k[20..22].copy_from_slice(&id.to_be_bytes());
    k[23] = tag;
    FixedBytes::new(k)
}

/// The key of an account.
pub fn account_key(owner: Address, sub: SubaccountId) -> Key {
    key(owner.0, sub, tag::ACCOUNT)
}

/// The key of a market.
pub fn market_key(market: MarketId) -> Key {
    key([0; 20], market.0, tag::MARKET)
}

/// The key of the engine-wide record.
pub fn global_key() -> Key {
    key([0; 20], 0, tag::GLOBAL)
}

/// The key of a signer's record.
pub fn signer_key(signer: Address) -> Key {
    key(signer.0, 0, tag::SIGNER)
}

/// The key of an oracle validator's record (by validator index).
pub fn oracle_validator_key(validator: u16) -> Key {
    key([0; 20], validator, tag::ORACLE_VALIDATOR)
}

/// The key of an oracle asset's record.
pub fn oracle_asset_key(asset: u16) -> Key {
    key([0; 20], asset, tag::ORACLE_ASSET)
}

/// Pages in the state database's page cache (4 KiB each on disk: 64 MiB, allocated and zeroed
/// when the database opens, so resident from the start; a 4-validator devnet is ~450 MB). A block rewrites every account and signer it touches; qmdb's
/// floor walk then reads operations written a few blocks earlier, and looking a key up reads its
/// current operation. With 4,000 active traders a block appends several MiB, and a 4 MiB cache
/// (the earlier setting) sent most of those reads to the blocking file pool: at 20,000 orders/s
/// a block's staging took 67 ms of wall time for 16.5 ms of CPU. With 16 MiB: 40 ms; with 64 MiB:
/// 14.5 ms (`novation bench --rate 20000 --traders 4000`).
pub const PAGE_CACHE_PAGES: usize = 16_384;

/// The database's configuration type (key codec config, value length bound).
pub type DbConfig = current::VariableConfig<EightCap, ((), (RangeCfg<usize>, ())), Sequential>;

/// The database configuration, every partition under `prefix`.
pub fn config(prefix: &str) -> DbConfig {
    // A logical page size whose on-disk page (payload + checksum) is exactly 4 KiB, aligned with
    // the runtime's blob pages, so a cold read fetches one blob page, not two.
    let page_cache = CacheRef::new(page_size(4096), NZUsize!(PAGE_CACHE_PAGES));
    current::VariableConfig {
        merkle_config: MerkleConfig {
            journal_partition: format!("{prefix}-state-mmr-journal"),
            metadata_partition: format!("{prefix}-state-mmr-metadata"),
            items_per_blob: NZU64!(65_536),
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: JournalConfig {
            partition: format!("{prefix}-state-log"),
            items_per_section: NZU64!(65_536),
            compression: None,
            codec_config: ((), ((0..=MAX_VALUE_BYTES).into(), ())),
            page_cache,
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
        },
        grafted_metadata_partition: format!("{prefix}-state-grafted-metadata"),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 16)),
        init_buffer: NZUsize!(1 << 20),
        init_concurrency: (),
    }
}

/// The commit metadata: the height of the last block whose state is committed, 8 bytes
/// big-endian. (Not the block's digest: the digest commits to the root, which commits to the
/// metadata. The executor checks the block at that height against the root on restart.)
pub fn commit_metadata(height: u64) -> Vec<u8> {
    height.to_be_bytes().to_vec()
}
