//! The test transaction both mempool test files use: `id` is the hash, `from` the sender.

use novation_chain::mempool::{PoolTx, Sender, TxHash};

/// A test transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tx {
    pub id: u32,
    pub from: u8,
    pub nonce: u64,
    pub cancel: bool,
    pub size: usize,
}

impl PoolTx for Tx {
    fn hash(&self) -> TxHash {
        hash(self.id)
    }
    fn sender(&self) -> Sender {
        [self.from; 20]
    }
    fn nonce(&self) -> u64 {
        self.nonce
    }
    fn is_cancel(&self) -> bool {
        self.cancel
    }
    fn size(&self) -> usize {
        self.size
    }
}

/// The hash of test transaction `id`.
pub fn hash(id: u32) -> TxHash {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&id.to_be_bytes());
    h
}
