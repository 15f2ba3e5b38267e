//! Validators' signed price observations: their wire format, signatures, and the pool of the
//! latest one per validator that proposers draw from.
//!
//! Each validator's observer ([`crate::observer`]) signs, every few hundred milliseconds, its
//! view of every asset (`novation_oracle::aggregate::Observation`: a time and one price per asset
//! it could price) with its consensus key, under the namespace [`ORACLE_NAMESPACE`], over
//! `chain id | validator index | time | prices`: an observation cannot be replayed on another
//! chain or attributed to another validator. It gossips the observation on the oracle channel.
//! Every node keeps the newest valid observation per validator in an [`ObservationPool`]; a
//! proposer puts into its block those newer than what the chain last included for each
//! validator (the consensus rules are in `novation_oracle::aggregate`). Verifiers check every
//! signature before executing the block.
//!
//! Wire format: `validator u16 | time_ms u64 | n varint (≤ ASSETS_MAX) | (asset u16,
//! price u64)* | signature (64)`.

use bytes::BufMut;
use commonware_codec::{
    Buf, Encode, EncodeSize, Error as CodecError, FixedSize, RangeCfg, Read, ReadExt, Write,
};
use commonware_cryptography::{ed25519, Signer as _, Verifier as _};
use novation_oracle::aggregate::{Observation, ASSETS_MAX};
use novation_oracle::{AssetId, OraclePrice};
use std::collections::BTreeMap;

use crate::tx::ChainId;

/// The signing namespace of oracle observations.
pub const ORACLE_NAMESPACE: &[u8] = b"novation-oracle";

/// One validator's signed observation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedObservation {
    /// The validator's index in the sorted validator set.
    pub validator: u16,
    /// What it observed.
    pub observation: Observation,
    /// Its signature (see the module doc).
    pub signature: ed25519::Signature,
}

/// The message a validator signs.
pub fn signing_message(chain_id: ChainId, validator: u16, obs: &Observation) -> Vec<u8> {
    let mut m = Vec::with_capacity(18 + obs.prices.len() * 10);
    m.extend_from_slice(&chain_id.0.to_be_bytes());
    m.extend_from_slice(&validator.to_be_bytes());
    m.extend_from_slice(&obs.time_ms.to_be_bytes());
    for (a, p) in &obs.prices {
        m.extend_from_slice(&a.0.to_be_bytes());
        m.extend_from_slice(&p.0.to_be_bytes());
    }
    m
}

impl SignedObservation {
    /// Signs `observation` as validator `validator` of chain `chain_id`.
    pub fn sign(
        key: &ed25519::PrivateKey,
        chain_id: ChainId,
        validator: u16,
        observation: Observation,
    ) -> SignedObservation {
        let signature =
            key.sign(ORACLE_NAMESPACE, &signing_message(chain_id, validator, &observation));
        SignedObservation { validator, observation, signature }
    }

    /// Whether the signature is that of validator `self.validator` in `validators` (the sorted
    /// validator set).
    pub fn verify(&self, chain_id: ChainId, validators: &[ed25519::PublicKey]) -> bool {
        let Some(key) = validators.get(usize::from(self.validator)) else { return false };
        key.verify(
            ORACLE_NAMESPACE,
            &signing_message(chain_id, self.validator, &self.observation),
            &self.signature,
        )
    }
}

impl Write for SignedObservation {
    fn write(&self, buf: &mut impl BufMut) {
        self.validator.write(buf);
        self.observation.time_ms.write(buf);
        self.observation.prices.len().write(buf);
        for (a, p) in &self.observation.prices {
            a.0.write(buf);
            p.0.write(buf);
        }
        self.signature.write(buf);
    }
}

impl EncodeSize for SignedObservation {
    fn encode_size(&self) -> usize {
        2 + 8
            + self.observation.prices.len().encode_size()
            + self.observation.prices.len() * 10
            + ed25519::Signature::SIZE
    }
}

impl Read for SignedObservation {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let validator = u16::read(buf)?;
        let time_ms = u64::read(buf)?;
        let range: RangeCfg<usize> = (0..=ASSETS_MAX).into();
        let n = usize::read_cfg(buf, &range)?;
        let mut prices = Vec::with_capacity(n);
        for _ in 0..n {
            let a = AssetId(u16::read(buf)?);
            let p = OraclePrice(u64::read(buf)?);
            prices.push((a, p));
        }
        let signature = ed25519::Signature::read(buf)?;
        Ok(SignedObservation { validator, observation: Observation { time_ms, prices }, signature })
    }
}

/// The largest encoded observation.
pub const MAX_OBSERVATION_BYTES: usize = 2 + 8 + 5 + ASSETS_MAX * 10 + 64;

/// Decodes one gossiped observation (bounded, canonical, nothing left over).
pub fn decode_observation(bytes: &[u8]) -> Result<SignedObservation, CodecError> {
    if bytes.len() > MAX_OBSERVATION_BYTES {
        return Err(CodecError::Invalid("SignedObservation", "too large"));
    }
    use commonware_codec::Decode as _;
    SignedObservation::decode_cfg(commonware_codec::Copying(bytes), &())
}

/// The newest valid observation of each validator seen by this node (bounded: one per
/// validator).
#[derive(Clone, Debug, Default)]
pub struct ObservationPool {
    latest: BTreeMap<u16, SignedObservation>,
}

impl ObservationPool {
    /// Keeps `obs` if it is newer than the one held for its validator (the caller checked the
    /// signature). Returns whether it was kept.
    pub fn insert(&mut self, obs: SignedObservation) -> bool {
        match self.latest.get(&obs.validator) {
            Some(held) if held.observation.time_ms >= obs.observation.time_ms => false,
            _ => {
                self.latest.insert(obs.validator, obs);
                true
            }
        }
    }

    /// The held observations, in validator order.
    pub fn snapshot(&self) -> Vec<SignedObservation> {
        self.latest.values().cloned().collect()
    }

    /// The number of validators with an observation held.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

/// Encodes an observation for gossip.
pub fn encode_observation(obs: &SignedObservation) -> Vec<u8> {
    obs.encode().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> ed25519::PrivateKey {
        ed25519::PrivateKey::from_seed(i)
    }

    fn obs(time_ms: u64) -> Observation {
        Observation {
            time_ms,
            prices: vec![
                (AssetId(0), OraclePrice::from_usd(100_000)),
                (AssetId(1), OraclePrice::from_usd(3_500)),
            ],
        }
    }

    #[test]
    fn signed_round_trip_and_binding() {
        let keys: Vec<_> = (0..3).map(key).collect();
        let mut pks: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
        pks.sort();
        let me = keys.iter().position(|k| k.public_key() == pks[1]).unwrap();
        let o = SignedObservation::sign(&keys[me], ChainId(7), 1, obs(1_000));
        assert!(o.verify(ChainId(7), &pks));
        let bytes = encode_observation(&o);
        assert_eq!(bytes.len(), o.encode_size());
        assert_eq!(decode_observation(&bytes).unwrap(), o);
        // Bound to the chain, the validator index and every price.
        assert!(!o.verify(ChainId(8), &pks));
        let mut other = o.clone();
        other.validator = 2;
        assert!(!other.verify(ChainId(7), &pks));
        let mut other = o.clone();
        other.observation.prices[1].1 = OraclePrice::from_usd(3_501);
        assert!(!other.verify(ChainId(7), &pks));
        let mut other = o.clone();
        other.validator = 9;
        assert!(!other.verify(ChainId(7), &pks), "unknown validator");
        // Truncated, extended and oversized encodings are refused.
        assert!(decode_observation(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_observation(&longer).is_err());
        assert!(decode_observation(&vec![0u8; MAX_OBSERVATION_BYTES + 1]).is_err());
    }

    #[test]
    fn pool_keeps_the_newest_per_validator() {
        let k = key(1);
        let mut pool = ObservationPool::default();
        let a = SignedObservation::sign(&k, ChainId(1), 0, obs(10));
        let b = SignedObservation::sign(&k, ChainId(1), 0, obs(20));
        assert!(pool.insert(b.clone()));
        assert!(!pool.insert(a.clone()), "older is not kept");
        assert!(!pool.insert(b.clone()), "same time is not kept");
        assert_eq!(pool.snapshot(), vec![b.clone()]);
        assert!(pool.insert(SignedObservation::sign(&k, ChainId(1), 3, obs(5))));
        let snap = pool.snapshot();
        assert_eq!(snap.iter().map(|o| o.validator).collect::<Vec<_>>(), vec![0, 3]);
    }
}
