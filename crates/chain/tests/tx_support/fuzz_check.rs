//! The decode property, shared by `tests/tx_fuzz.rs` (proptest) and the cargo-fuzz target
//! `fuzz/fuzz_targets/decode_tx.rs` (included there by path, so it uses only the public API).

use commonware_codec::{Encode, EncodeSize};
use novation_chain::tx::{check_stateless, decode_tx, ChainId, MAX_TX_BYTES};

/// Decodes `bytes`. If they decode: re-encoding gives the same bytes (canonical), the size
/// agrees with `encode_size` and the bound, the stateless check, hash, signer and signature
/// verification run without panicking, and, when `original` (a valid signed encoding) is given
/// and differs from `bytes`, the signature does not verify. Returns whether `bytes` decoded.
pub fn check(bytes: &[u8], original: Option<&[u8]>) -> Result<bool, String> {
    let tx = match decode_tx(bytes, MAX_TX_BYTES) {
        Ok(tx) => tx,
        Err(e) => {
            // Every error has a stable code and a message.
            if e.code() == 0 || e.to_string().is_empty() {
                return Err(format!("error without code or message: {e:?}"));
            }
            return Ok(false);
        }
    };
    let again = tx.encode();
    if again.as_ref() != bytes {
        return Err(format!("re-encoding differs: {bytes:02x?} -> {:02x?}", again.as_ref()));
    }
    if tx.encode_size() != bytes.len() || bytes.len() > MAX_TX_BYTES {
        return Err(format!("size {} vs encode_size {}", bytes.len(), tx.encode_size()));
    }
    let verifies = tx.verify();
    let _ = check_stateless(&tx, ChainId(7));
    let _ = (tx.hash(), tx.signer());
    if let Some(original) = original {
        if original != bytes && verifies {
            return Err(format!("a changed transaction still verifies: {bytes:02x?}"));
        }
    }
    Ok(true)
}
