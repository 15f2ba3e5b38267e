//! What a block writes into the state database, and the encoding of each value.
//!
//! Values are the engine's snapshots (see `novation_engine::snapshot`, whose module doc is the
//! specification of what is committed), the oracle's validator and asset records
//! (`novation_oracle::aggregate`) and the replay-protection records of [`crate::auth`],
//! encoded with Borsh: a binary format specified to be deterministic and canonical for a given
//! value (fixed-width little-endian integers, `u32` length prefixes, one-byte enum tags), which is
//! what a committed value needs. Auth records use the chain's own commonware codec.

use commonware_codec::Encode;
use novation_engine::{AccountSnapshot, Engine, MarketId};

use crate::commit::{
    account_key, global_key, market_key, oracle_asset_key, oracle_validator_key, signer_key, Key,
};
use crate::executor::Level;
use crate::state::ChainState;

/// The canonical encoding of an account's state.
pub fn encode_account(s: &AccountSnapshot) -> Vec<u8> {
    borsh::to_vec(s).unwrap_or_default()
}

/// Decodes [`encode_account`]'s output.
pub fn decode_account(bytes: &[u8]) -> Option<AccountSnapshot> {
    borsh::from_slice(bytes).ok()
}

/// The writes of everything that changed since the last call (accounts and signers the state
/// marked dirty; every market; the engine-wide record; the oracle validators and assets that
/// changed), in a deterministic order.
pub fn collect_writes(state: &mut ChainState) -> Vec<(Key, Option<Vec<u8>>)> {
    let mut writes = Vec::new();
    for id in state.engine.take_dirty_accounts() {
        if let Some(s) = state.engine.account_snapshot(id) {
            writes.push((account_key(s.owner, s.sub), Some(encode_account(&s))));
        }
    }
    for i in 0..state.engine.markets().len() {
        let m = MarketId(i as u16);
        if let Some(s) = state.engine.market_snapshot(m) {
            writes.push((market_key(m), Some(borsh::to_vec(&s).unwrap_or_default())));
        }
    }
    let global = state.engine.global_snapshot();
    writes.push((global_key(), Some(borsh::to_vec(&global).unwrap_or_default())));
    for addr in state.auth.take_dirty() {
        let value = state.auth.record(addr).map(|r| r.encode().to_vec());
        writes.push((signer_key(addr), value));
    }
    let (validators, assets) = state.oracle.take_dirty();
    for v in validators {
        let value = state
            .oracle
            .validators()
            .get(usize::from(v))
            .map(|r| borsh::to_vec(r).unwrap_or_default());
        writes.push((oracle_validator_key(v), value));
    }
    for a in assets {
        let value =
            state.oracle.assets().get(usize::from(a)).map(|r| borsh::to_vec(r).unwrap_or_default());
        writes.push((oracle_asset_key(a), value));
    }
    writes
}

/// The top `depth` levels of a market's book: (bids best first, asks best first).
pub fn book_levels(
    engine: &Engine,
    market: MarketId,
    depth: usize,
) -> Option<(Vec<Level>, Vec<Level>)> {
    let m = engine.market(market)?;
    let side =
        |s| m.book.depth(s, depth).into_iter().map(|l| (l.price, l.qty.0)).collect::<Vec<Level>>();
    Some((side(novation_types::Side::Buy), side(novation_types::Side::Sell)))
}
