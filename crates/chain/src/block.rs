//! Blocks: what consensus orders and every node re-executes.
//!
//! A block names its parent's digest, its height, its time, the validators' signed price
//! observations it includes (see [`crate::oracle`]; at most one per validator, in validator
//! order), an ordered batch of signed transactions, and the **state root after executing it**
//! (see [`crate::commit`]). Its digest is
//! the SHA-256 of its canonical encoding, so the digest commits to the root and every verifier
//! that re-executes the block must reach the same root or vote against it.
//!
//! Wire format (all integers big-endian, lengths as varints, decoding canonical and bounded):
//! `parent (32) | height u64 | time_ms u64 | observations: len, SignedObservation* |
//! txs: len, SignedTx* | state_root (32)`. A block may hold at most [`MAX_BLOCK_TXS`]
//! transactions, [`MAX_BLOCK_BYTES`] bytes of them, and one observation per validator in
//! strictly increasing validator order.

use crate::genesis::{Genesis, VALIDATORS_MAX};
use crate::oracle::{SignedObservation, MAX_OBSERVATION_BYTES};
use crate::tx::{SignedTx, MAX_TX_BYTES};
use bytes::BufMut;
use commonware_codec::{
    Buf, Encode, EncodeSize, Error as CodecError, FixedSize, RangeCfg, Read, ReadExt, Write,
};
use commonware_consensus::{types::Height, Block as BlockTrait, BoundedBlock, Heightable};
use commonware_cryptography::{sha256::Digest, Digestible, Hasher, Sha256};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 16_384;
/// Most bytes of transactions in one block.
pub const MAX_BLOCK_BYTES: usize = 4 << 20;

/// One block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The parent block's digest.
    pub parent: Digest,
    /// Height; genesis is 0.
    pub height: u64,
    /// Block time, ms since the Unix epoch; strictly increasing.
    pub time_ms: u64,
    /// Validators' signed observations, in strictly increasing validator order.
    pub observations: Vec<SignedObservation>,
    /// Transactions in execution order.
    pub txs: Vec<SignedTx>,
    /// The state root after executing this block.
    pub state_root: Digest,
}

impl Block {
    /// The genesis block: no observations or transactions, the root of the genesis state.
    /// Its parent field is the genesis file's digest, so different genesis files give different
    /// chains.
    pub fn genesis(genesis: &Genesis, state_root: Digest) -> Block {
        Block {
            parent: genesis.digest(),
            height: 0,
            time_ms: genesis.time_ms,
            observations: Vec::new(),
            txs: Vec::new(),
            state_root,
        }
    }

    /// Total encoded bytes of the transactions.
    pub fn tx_bytes(&self) -> usize {
        self.txs.iter().map(EncodeSize::encode_size).sum()
    }
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        self.parent.write(buf);
        self.height.write(buf);
        self.time_ms.write(buf);
        self.observations.write(buf);
        self.txs.len().write(buf);
        for tx in &self.txs {
            tx.write(buf);
        }
        self.state_root.write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        Digest::SIZE
            + 8
            + 8
            + self.observations.encode_size()
            + self.txs.len().encode_size()
            + self.tx_bytes()
            + Digest::SIZE
    }
}

fn read_len(buf: &mut impl Buf, max: usize) -> Result<usize, CodecError> {
    let range: RangeCfg<usize> = (0..=max).into();
    usize::read_cfg(buf, &range)
}

impl Read for Block {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let parent = Digest::read(buf)?;
        let height = u64::read(buf)?;
        let time_ms = u64::read(buf)?;
        let n = read_len(buf, VALIDATORS_MAX)?;
        let mut observations: Vec<SignedObservation> = Vec::with_capacity(n);
        for _ in 0..n {
            let o = SignedObservation::read(buf)?;
            if observations.last().is_some_and(|p| p.validator >= o.validator) {
                return Err(CodecError::Invalid("Block", "observations out of validator order"));
            }
            observations.push(o);
        }
        let n = read_len(buf, MAX_BLOCK_TXS)?;
        let mut txs = Vec::with_capacity(n.min(1024));
        let mut bytes = 0usize;
        for _ in 0..n {
            let tx = SignedTx::read(buf)?;
            bytes += tx.encode_size();
            if bytes > MAX_BLOCK_BYTES {
                return Err(CodecError::Invalid(
                    "Block",
                    "transactions exceed the block byte limit",
                ));
            }
            txs.push(tx);
        }
        let state_root = Digest::read(buf)?;
        Ok(Block { parent, height, time_ms, observations, txs, state_root })
    }
}

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        Sha256::hash(&[&self.encode()])
    }
}

impl Heightable for Block {
    fn height(&self) -> Height {
        Height::new(self.height)
    }
}

impl BlockTrait for Block {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl BoundedBlock for Block {
    fn max_encode_size(_: &()) -> usize {
        // Header and observations, every transaction's length prefix at its widest, and the
        // bytes.
        2 * Digest::SIZE
            + 16
            + 5
            + VALIDATORS_MAX * MAX_OBSERVATION_BYTES
            + 5
            + MAX_BLOCK_BYTES
            + MAX_TX_BYTES
    }
}
