//! The signed transaction envelope: what a client submits, its canonical bounded binary
//! encoding, its signature and the account address of its signer.
//!
//! # Envelope
//!
//! A [`SignedTx`] is a public key, a [`TxBody`] and a signature. The body names the chain
//! ([`ChainId`], so a transaction cannot be replayed on another chain), a nonce (a millisecond
//! timestamp chosen by the signer; the replay rule is in [`crate::auth`]), optionally the master
//! account the signer acts for as an agent key, and a batch of 1 to [`MAX_ACTIONS_PER_TX`]
//! [`TxAction`]s. The actions are authorized together (all or none, [`crate::auth`]) and then run
//! in order as independent engine actions, each with its own result.
//!
//! # Wire format (version 1)
//!
//! Integers are fixed-width big-endian unless marked varint (LEB128 with no redundant bytes,
//! the commonware codec's `UInt`). `Option<T>` is a byte `0` (absent) or `1` followed by `T`.
//! Enum tags are one byte; an unknown tag does not decode.
//!
//! | field | bytes |
//! |---|---|
//! | scheme tag ([`SchemeTag`]; `0` = ed25519) | 1 |
//! | public key (ed25519: 32) | scheme-defined |
//! | chain id | 8 |
//! | nonce | 8 |
//! | master: `Option<Address>` | 1 or 21 |
//! | action count (varint, `1..=MAX_ACTIONS_PER_TX`) | 1 |
//! | actions (tag byte, then the fields in declaration order, see [`TxAction`]) | ≤ [`MAX_ACTION_BYTES`] each |
//! | signature (ed25519: 64) | scheme-defined |
//!
//! The encoding is canonical: every value has exactly one encoding and every byte string
//! decodes to at most one value, so `decode(encode(x)) == x` and `encode(decode(b)) == b`.
//! Decoding rejects trailing bytes, booleans other than 0/1, unknown tags, overlong varints,
//! empty or oversize batches, and agent market lists that are not strictly increasing or longer
//! than [`MAX_AGENT_MARKETS`]. Every length is checked against its bound before anything is
//! allocated, so a decoder never allocates more than [`MAX_TX_BYTES`] worth of values.
//!
//! # Signature
//!
//! The signed message is everything but the signature: the scheme tag, the public key and the
//! body, signed under the namespace [`TX_NAMESPACE`] (commonware prefixes the namespace with
//! its length, so the signature cannot be replayed in another commonware context). ed25519
//! verification follows ZIP-215 (`ed25519-consensus`): single and batch verification agree, so
//! every node reaches the same verdict whichever path it takes.
//!
//! # Schemes
//!
//! [`PublicKey`] and [`Signature`] are enums behind a [`SchemeTag`] so that secp256k1 (with
//! EIP-712 typed-data signing) can be added as new variants: existing encodings, addresses and
//! signatures do not change. Each scheme defines its own address derivation ([`address_of`]).
//!
//! ADR 0006 (`docs/adr/0006-transactions.md`) records the decisions.

use bytes::BufMut;
use commonware_codec::{
    varint::UInt, Buf, Copying, Decode, Encode, EncodeSize, Error as CodecError, Read, ReadExt,
    Write,
};
use commonware_cryptography::{
    ed25519, sha256, BatchEntry, BatchVerifier, Hasher, Sha256, Signer as _, Verifier as _,
};
use commonware_parallel::Strategy;
use novation_book::{Expiry, StpMode, TimeInForce};
use novation_engine::{Action, AuctionId, MarketId, OrderRequest, SubaccountId};
use novation_types::{Address, ClientOrderId, OrderId, PriceTicks, QtyLots, Quote, Side};
use rand::{rngs::StdRng, CryptoRng, SeedableRng};

/// The most actions one transaction may carry.
pub const MAX_ACTIONS_PER_TX: usize = 32;

/// The most markets an agent grant may name (an empty list means every market).
pub const MAX_AGENT_MARKETS: usize = 16;

/// The signing namespace of transactions.
pub const TX_NAMESPACE: &[u8] = b"novation-tx";

/// The domain separator of address derivation.
pub const ADDRESS_NAMESPACE: &[u8] = b"novation-address";

const TAG_BYTES: usize = 1;
const ADDRESS_BYTES: usize = 20;
const U16_BYTES: usize = 2;
const U64_BYTES: usize = 8;
const QUOTE_BYTES: usize = 16;
/// A varint count below 128 takes one byte; every count in a transaction is below 128.
const SMALL_COUNT_BYTES: usize = 1;
const _: () = assert!(MAX_ACTIONS_PER_TX < 128 && MAX_AGENT_MARKETS < 128);

const ED25519_PUBLIC_KEY_BYTES: usize = 32;
const ED25519_SIGNATURE_BYTES: usize = 64;

/// The largest public key of any scheme.
pub const MAX_PUBLIC_KEY_BYTES: usize = ED25519_PUBLIC_KEY_BYTES;
/// The largest signature of any scheme.
pub const MAX_SIGNATURE_BYTES: usize = ED25519_SIGNATURE_BYTES;

/// The largest encoded [`TxAction`] (an `ApproveAgent` naming [`MAX_AGENT_MARKETS`] markets).
pub const MAX_ACTION_BYTES: usize = {
    let place = TAG_BYTES + ORDER_REQUEST_MAX_BYTES;
    let transfer = TAG_BYTES + U16_BYTES + ADDRESS_BYTES + U16_BYTES + QUOTE_BYTES;
    let approve = TAG_BYTES
        + ADDRESS_BYTES
        + SMALL_COUNT_BYTES
        + MAX_AGENT_MARKETS * U16_BYTES
        + (TAG_BYTES + U64_BYTES)
        + U64_BYTES;
    max(place, max(transfer, approve))
};

/// `sub, market, side, price, qty, tif, expiry, client_id, reduce_only, stp`.
const ORDER_REQUEST_MAX_BYTES: usize = U16_BYTES
    + U16_BYTES
    + TAG_BYTES
    + U64_BYTES
    + U64_BYTES
    + TAG_BYTES
    + (TAG_BYTES + U64_BYTES)
    + (TAG_BYTES + U64_BYTES)
    + TAG_BYTES
    + TAG_BYTES;

/// The fixed part of a body: chain id, nonce, master, action count.
const BODY_FIXED_MAX_BYTES: usize =
    U64_BYTES + U64_BYTES + (TAG_BYTES + ADDRESS_BYTES) + SMALL_COUNT_BYTES;

/// The largest encoded [`SignedTx`]: every field at its largest. A mempool may admit less.
pub const MAX_TX_BYTES: usize = TAG_BYTES
    + MAX_PUBLIC_KEY_BYTES
    + BODY_FIXED_MAX_BYTES
    + MAX_ACTIONS_PER_TX * MAX_ACTION_BYTES
    + MAX_SIGNATURE_BYTES;

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Ranges of batch verification at most this long are verified one signature at a time.
const BISECT_LEAF_LEN: usize = 4;

/// The chain a transaction is meant for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId(pub u64);

/// The signature scheme of a key, its first byte on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SchemeTag {
    /// ed25519 (ZIP-215 verification).
    Ed25519 = 0,
}

impl SchemeTag {
    /// The wire byte.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The scheme of a wire byte, if known.
    pub const fn from_code(code: u8) -> Option<SchemeTag> {
        match code {
            0 => Some(SchemeTag::Ed25519),
            _ => None,
        }
    }
}

/// A signer's public key, tagged by scheme.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PublicKey {
    /// An ed25519 key.
    Ed25519(ed25519::PublicKey),
}

impl PublicKey {
    /// The key's scheme.
    pub const fn scheme(&self) -> SchemeTag {
        match self {
            PublicKey::Ed25519(_) => SchemeTag::Ed25519,
        }
    }

    /// The key's bytes as they appear on the wire (after the tag).
    pub fn key_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Ed25519(pk) => pk.as_ref(),
        }
    }
}

impl From<ed25519::PublicKey> for PublicKey {
    fn from(pk: ed25519::PublicKey) -> Self {
        PublicKey::Ed25519(pk)
    }
}

/// A signature; its scheme is the public key's (it has no tag of its own on the wire).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signature {
    /// An ed25519 signature.
    Ed25519(ed25519::Signature),
}

impl Signature {
    /// The signature's scheme.
    pub const fn scheme(&self) -> SchemeTag {
        match self {
            Signature::Ed25519(_) => SchemeTag::Ed25519,
        }
    }
}

/// The account address of a public key: the last 20 bytes of
/// `sha256(ADDRESS_NAMESPACE || scheme tag || key bytes)`.
///
/// The namespace keeps addresses apart from every other sha256 use; the scheme tag keeps two
/// schemes' keys with equal bytes apart. A later scheme may define its own derivation instead
/// (secp256k1 will use Ethereum's `keccak256(uncompressed key)[12..]` so that wallets show the
/// address users already have); addresses of existing schemes never change.
pub fn address_of(pk: &PublicKey) -> Address {
    let digest = Sha256::hash(&[ADDRESS_NAMESPACE, &[pk.scheme().code()], pk.key_bytes()]);
    let bytes: &[u8] = digest.as_ref();
    let mut out = [0u8; ADDRESS_BYTES];
    let start = bytes.len().saturating_sub(ADDRESS_BYTES);
    for (o, b) in out.iter_mut().zip(bytes.iter().skip(start)) {
        *o = *b;
    }
    Address(out)
}

/// What a transaction may ask: every engine action but `Deposit` (users cannot mint), plus the
/// chain's own actions. Fields are encoded in declaration order after the tag byte (in
/// parentheses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxAction {
    /// (0) Engine `Withdraw`.
    Withdraw { sub: SubaccountId, amount: Quote },
    /// (1) Engine `Transfer`.
    Transfer { sub: SubaccountId, to: Address, to_sub: SubaccountId, amount: Quote },
    /// (2) Engine `Place`.
    Place(OrderRequest),
    /// (3) Engine `Cancel`.
    Cancel { sub: SubaccountId, market: MarketId, id: OrderId },
    /// (4) Engine `CancelByClientId`.
    CancelByClientId { sub: SubaccountId, market: MarketId, client_id: ClientOrderId },
    /// (5) Engine `CancelAll`.
    CancelAll { sub: SubaccountId, market: Option<MarketId>, side: Option<Side> },
    /// (6) Engine `Modify`.
    Modify { sub: SubaccountId, market: MarketId, id: OrderId, price: PriceTicks, qty: QtyLots },
    /// (7) Engine `SetMarginMode`.
    SetMarginMode { sub: SubaccountId, market: MarketId, isolated: bool },
    /// (8) Engine `AdjustIsolatedMargin`.
    AdjustIsolatedMargin { sub: SubaccountId, market: MarketId, amount: Quote },
    /// (9) Engine `BidLiquidation`.
    BidLiquidation { sub: SubaccountId, auction: AuctionId, price_limit: PriceTicks },
    /// (10) Let `agent` trade for the signer: only trading actions, only in `markets` (strictly
    /// increasing, at most [`MAX_AGENT_MARKETS`]; empty means all), orders no larger than
    /// `max_order_qty`, while the block time is below `expires_ms`. Replaces the scope of an
    /// agent the signer already approved.
    ApproveAgent {
        agent: Address,
        markets: Vec<MarketId>,
        max_order_qty: Option<QtyLots>,
        expires_ms: u64,
    },
    /// (11) Withdraw an agent's grant.
    RevokeAgent { agent: Address },
    /// (12) Devnet faucet: credit `amount` to `(to, sub)`. Only the genesis faucet address may
    /// send it.
    Faucet { to: Address, sub: SubaccountId, amount: Quote },
}

impl TxAction {
    /// The engine transaction this action becomes when it acts for `principal`, or `None` for a
    /// chain-only action (agent grants). A faucet credit acts for its `to` address.
    pub fn engine_tx(&self, principal: Address) -> Option<novation_engine::Tx> {
        let (sender, action) = match *self {
            TxAction::Withdraw { sub, amount } => (principal, Action::Withdraw { sub, amount }),
            TxAction::Transfer { sub, to, to_sub, amount } => {
                (principal, Action::Transfer { sub, to, to_sub, amount })
            }
            TxAction::Place(order) => (principal, Action::Place(order)),
            TxAction::Cancel { sub, market, id } => (principal, Action::Cancel { sub, market, id }),
            TxAction::CancelByClientId { sub, market, client_id } => {
                (principal, Action::CancelByClientId { sub, market, client_id })
            }
            TxAction::CancelAll { sub, market, side } => {
                (principal, Action::CancelAll { sub, market, side })
            }
            TxAction::Modify { sub, market, id, price, qty } => {
                (principal, Action::Modify { sub, market, id, price, qty })
            }
            TxAction::SetMarginMode { sub, market, isolated } => {
                (principal, Action::SetMarginMode { sub, market, isolated })
            }
            TxAction::AdjustIsolatedMargin { sub, market, amount } => {
                (principal, Action::AdjustIsolatedMargin { sub, market, amount })
            }
            TxAction::BidLiquidation { sub, auction, price_limit } => {
                (principal, Action::BidLiquidation { sub, auction, price_limit })
            }
            TxAction::Faucet { to, sub, amount } => (to, Action::Deposit { sub, amount }),
            TxAction::ApproveAgent { .. } | TxAction::RevokeAgent { .. } => return None,
        };
        Some(novation_engine::Tx { sender, action })
    }

    /// Whether the action only cancels (the mempool serves cancels first).
    pub fn is_cancel(&self) -> bool {
        matches!(
            self,
            TxAction::Cancel { .. }
                | TxAction::CancelByClientId { .. }
                | TxAction::CancelAll { .. }
        )
    }

    /// Whether the action is trading, the only kind an agent key may send: placing, cancelling
    /// and modifying orders.
    pub fn is_trading(&self) -> bool {
        self.is_cancel() || matches!(self, TxAction::Place(_) | TxAction::Modify { .. })
    }

    /// The market the action names, if it names exactly one.
    pub fn market(&self) -> Option<MarketId> {
        match self {
            TxAction::Place(o) => Some(o.market),
            TxAction::Cancel { market, .. }
            | TxAction::CancelByClientId { market, .. }
            | TxAction::Modify { market, .. }
            | TxAction::SetMarginMode { market, .. }
            | TxAction::AdjustIsolatedMargin { market, .. } => Some(*market),
            TxAction::CancelAll { market, .. } => *market,
            _ => None,
        }
    }

    /// The size of the order the action places or modifies to, if any.
    pub fn order_qty(&self) -> Option<QtyLots> {
        match self {
            TxAction::Place(o) => Some(o.qty),
            TxAction::Modify { qty, .. } => Some(*qty),
            _ => None,
        }
    }

    /// The wire tag.
    pub const fn tag(&self) -> u8 {
        match self {
            TxAction::Withdraw { .. } => 0,
            TxAction::Transfer { .. } => 1,
            TxAction::Place(_) => 2,
            TxAction::Cancel { .. } => 3,
            TxAction::CancelByClientId { .. } => 4,
            TxAction::CancelAll { .. } => 5,
            TxAction::Modify { .. } => 6,
            TxAction::SetMarginMode { .. } => 7,
            TxAction::AdjustIsolatedMargin { .. } => 8,
            TxAction::BidLiquidation { .. } => 9,
            TxAction::ApproveAgent { .. } => 10,
            TxAction::RevokeAgent { .. } => 11,
            TxAction::Faucet { .. } => 12,
        }
    }

    /// Stateless field sanity of one action signed by `signer`: what needs no state to reject.
    pub fn check(&self, signer: Address) -> Result<(), ActionFault> {
        match self {
            TxAction::Withdraw { amount, .. }
            | TxAction::Transfer { amount, .. }
            | TxAction::Faucet { amount, .. } => positive(*amount),
            TxAction::Place(o) => size_and_price(o.qty, o.price),
            TxAction::Modify { qty, price, .. } => size_and_price(*qty, *price),
            TxAction::AdjustIsolatedMargin { amount, .. } if amount.0 == 0 => {
                Err(ActionFault::ZeroAmount)
            }
            TxAction::ApproveAgent { agent, markets, max_order_qty, .. } => {
                if *agent == signer {
                    return Err(ActionFault::AgentIsSigner);
                }
                if *max_order_qty == Some(QtyLots(0)) {
                    return Err(ActionFault::ZeroAgentOrderQty);
                }
                check_markets(markets)
            }
            _ => Ok(()),
        }
    }
}

fn positive(amount: Quote) -> Result<(), ActionFault> {
    if amount.0 > 0 {
        Ok(())
    } else {
        Err(ActionFault::NonPositiveAmount)
    }
}

fn size_and_price(qty: QtyLots, price: PriceTicks) -> Result<(), ActionFault> {
    if qty.0 == 0 {
        Err(ActionFault::ZeroQty)
    } else if price.0 == 0 {
        Err(ActionFault::ZeroPrice)
    } else {
        Ok(())
    }
}

/// The rule for an agent's market list: at most [`MAX_AGENT_MARKETS`], strictly increasing.
pub fn check_markets(markets: &[MarketId]) -> Result<(), ActionFault> {
    if markets.len() > MAX_AGENT_MARKETS {
        return Err(ActionFault::TooManyAgentMarkets(markets.len()));
    }
    if markets.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(ActionFault::AgentMarketsNotIncreasing);
    }
    Ok(())
}

/// Why one action fails its stateless check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionFault {
    /// An order (or modify) of size zero.
    #[error("order size is zero")]
    ZeroQty,
    /// An order (or modify) at price zero.
    #[error("order price is zero")]
    ZeroPrice,
    /// A withdrawal, transfer or faucet amount that is not positive.
    #[error("amount must be positive")]
    NonPositiveAmount,
    /// An isolated-margin adjustment of zero.
    #[error("amount must not be zero")]
    ZeroAmount,
    /// A signer approving itself as its agent.
    #[error("an account cannot be its own agent")]
    AgentIsSigner,
    /// An agent grant with a maximum order size of zero (omit the bound, or revoke, instead).
    #[error("an agent's maximum order size must be positive")]
    ZeroAgentOrderQty,
    /// An agent market list above [`MAX_AGENT_MARKETS`].
    #[error("an agent grant names {0} markets, above MAX_AGENT_MARKETS")]
    TooManyAgentMarkets(usize),
    /// An agent market list that is not strictly increasing.
    #[error("an agent grant's markets must be strictly increasing")]
    AgentMarketsNotIncreasing,
}

impl ActionFault {
    /// The stable numeric code.
    pub const fn code(self) -> u16 {
        match self {
            ActionFault::ZeroQty => 1,
            ActionFault::ZeroPrice => 2,
            ActionFault::NonPositiveAmount => 3,
            ActionFault::ZeroAmount => 4,
            ActionFault::AgentIsSigner => 5,
            ActionFault::ZeroAgentOrderQty => 6,
            ActionFault::TooManyAgentMarkets(_) => 7,
            ActionFault::AgentMarketsNotIncreasing => 8,
        }
    }
}

/// Why a transaction does not decode or fails a stateless check. Precedence follows the wire
/// order for decoding, and [`check_stateless`]'s order otherwise.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Longer than the admitted maximum (checked before decoding).
    #[error("transaction is {len} bytes, above the limit of {max}")]
    TooLarge { len: usize, max: usize },
    /// Not a transaction: truncated, trailing bytes, bad tag, non-canonical encoding, or an
    /// invalid public key (the codec's description).
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// A scheme tag this chain does not know.
    #[error("unknown signature scheme tag {0}")]
    UnknownScheme(u8),
    /// An action tag this chain does not know.
    #[error("action {index}: unknown action tag {tag}")]
    UnknownAction { index: usize, tag: u8 },
    /// A batch of no action.
    #[error("the batch holds no action")]
    EmptyBatch,
    /// A batch above [`MAX_ACTIONS_PER_TX`].
    #[error("the batch holds {0} actions, above MAX_ACTIONS_PER_TX")]
    TooManyActions(usize),
    /// Signed for another chain.
    #[error("wrong chain id: expected {expected}, got {got}")]
    WrongChainId { expected: u64, got: u64 },
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The body names its own signer as master.
    #[error("a transaction cannot name its signer as its master")]
    MasterIsSigner,
    /// One action fails its stateless check.
    #[error("action {index}: {fault}")]
    InvalidAction { index: usize, fault: ActionFault },
}

impl TxError {
    /// The stable numeric code.
    pub const fn code(&self) -> u16 {
        match self {
            TxError::TooLarge { .. } => 1,
            TxError::Malformed(_) => 2,
            TxError::UnknownScheme(_) => 3,
            TxError::UnknownAction { .. } => 4,
            TxError::EmptyBatch => 5,
            TxError::TooManyActions(_) => 6,
            TxError::WrongChainId { .. } => 7,
            TxError::BadSignature => 8,
            TxError::MasterIsSigner => 9,
            TxError::InvalidAction { .. } => 10,
        }
    }
}

/// Carries a typed error through the codec's `Read` (recovered by [`decode_tx`]).
fn wrap(e: TxError) -> CodecError {
    CodecError::Wrapped("novation-tx", Box::new(e))
}

/// The checks shared by decoding and [`check_stateless`]: `1..=MAX_ACTIONS_PER_TX` actions.
fn check_batch_len(len: usize) -> Result<(), TxError> {
    if len == 0 {
        Err(TxError::EmptyBatch)
    } else if len > MAX_ACTIONS_PER_TX {
        Err(TxError::TooManyActions(len))
    } else {
        Ok(())
    }
}

/// What a transaction signs over, and its nonce. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    /// The chain the transaction is meant for.
    pub chain_id: ChainId,
    /// The signer's nonce, a millisecond timestamp (rules in [`crate::auth`]).
    pub nonce: u64,
    /// `None`: the signer acts for itself. `Some(master)`: the signer acts as `master`'s agent
    /// key and the actions apply to `master` (an agent names its master explicitly, so nobody can
    /// make another address's transactions act for them by approving it).
    pub master: Option<Address>,
    /// The actions, `1..=MAX_ACTIONS_PER_TX` of them.
    pub actions: Vec<TxAction>,
}

/// A signed transaction as submitted. Fields are public; [`SignedTx::verify`] and
/// [`check_stateless`] decide whether one built in memory is acceptable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// The signer's key.
    pub public_key: PublicKey,
    /// What is signed.
    pub body: TxBody,
    /// The signature over [`signing_message`].
    pub signature: Signature,
}

/// The message a transaction's signature covers (before the namespace): the scheme tag, the
/// public key and the body, encoded as on the wire.
pub fn signing_message(public_key: &PublicKey, body: &TxBody) -> Vec<u8> {
    let mut out = Vec::with_capacity(public_key.encode_size() + body.encode_size());
    public_key.write(&mut out);
    body.write(&mut out);
    out
}

impl SignedTx {
    /// Signs `body` with an ed25519 key.
    pub fn sign(key: &ed25519::PrivateKey, body: TxBody) -> SignedTx {
        let public_key = PublicKey::Ed25519(key.public_key());
        let message = signing_message(&public_key, &body);
        let signature = Signature::Ed25519(key.sign(TX_NAMESPACE, &message));
        SignedTx { public_key, body, signature }
    }

    /// The message the signature covers.
    pub fn signing_message(&self) -> Vec<u8> {
        signing_message(&self.public_key, &self.body)
    }

    /// Whether the signature verifies (a key and signature of different schemes never do).
    pub fn verify(&self) -> bool {
        self.verify_message(&self.signing_message())
    }

    fn verify_message(&self, message: &[u8]) -> bool {
        match (&self.public_key, &self.signature) {
            (PublicKey::Ed25519(pk), Signature::Ed25519(sig)) => {
                pk.verify(TX_NAMESPACE, message, sig)
            }
        }
    }

    /// The transaction's identity: sha256 of its full encoding (signature included).
    pub fn hash(&self) -> sha256::Digest {
        Sha256::hash(&[&self.encode()])
    }

    /// [`SignedTx::hash`] as bytes.
    pub fn hash_bytes(&self) -> [u8; 32] {
        self.hash().0
    }

    /// The signer's account address.
    pub fn signer(&self) -> Address {
        address_of(&self.public_key)
    }
}

/// The hash of an encoded transaction. For bytes that [`decode_tx`] accepts this equals
/// [`SignedTx::hash_bytes`] of the decoded transaction, because the encoding is canonical
/// (each transaction has exactly one encoding): a receiver hashes what it received instead of
/// encoding the transaction again.
pub fn hash_encoded(bytes: &[u8]) -> [u8; 32] {
    Sha256::hash(&[bytes]).0
}

/// Decodes a transaction of at most `max` bytes (the size is checked before anything is read).
/// Does not verify the signature.
pub fn decode_tx(bytes: &[u8], max: usize) -> Result<SignedTx, TxError> {
    if bytes.len() > max {
        return Err(TxError::TooLarge { len: bytes.len(), max });
    }
    SignedTx::decode_cfg(Copying(bytes), &()).map_err(|e| match e {
        CodecError::Wrapped(context, inner) => match inner.downcast::<TxError>() {
            Ok(typed) => *typed,
            Err(other) => TxError::Malformed(format!("{context}: {other}")),
        },
        other => TxError::Malformed(other.to_string()),
    })
}

/// The checks that need no state: the chain id, the batch size, the master field and each
/// action's field sanity ([`TxAction::check`]). With the signature (verified one by one or by
/// [`verify_batch`]) these can run in parallel before the block; everything else is
/// [`crate::auth`]'s and the engine's.
pub fn check_stateless(tx: &SignedTx, chain_id: ChainId) -> Result<(), TxError> {
    let body = &tx.body;
    if body.chain_id != chain_id {
        return Err(TxError::WrongChainId { expected: chain_id.0, got: body.chain_id.0 });
    }
    check_batch_len(body.actions.len())?;
    let signer = tx.signer();
    if body.master == Some(signer) {
        return Err(TxError::MasterIsSigner);
    }
    for (index, action) in body.actions.iter().enumerate() {
        action.check(signer).map_err(|fault| TxError::InvalidAction { index, fault })?;
    }
    Ok(())
}

/// One transaction prepared for batch verification.
struct Prepared<'a> {
    tx: &'a SignedTx,
    message: Vec<u8>,
}

fn project<'a>(_: usize, item: &'a Prepared<'_>) -> BatchEntry<'a, ed25519::PublicKey> {
    let (PublicKey::Ed25519(public_key), Signature::Ed25519(signature)) =
        (&item.tx.public_key, &item.tx.signature);
    BatchEntry { namespace: TX_NAMESPACE, message: &item.message, public_key, signature }
}

/// The domain separator of the batch-verification seed.
const BATCH_SEED_NAMESPACE: &[u8] = b"novation-tx-batch";

/// Verifies many signatures at once, spread over `strategy`'s threads; one verdict per
/// transaction, in order, equal to [`SignedTx::verify`] of each.
///
/// The whole slice is batch-verified first; if the batch fails it is bisected, and ranges of at
/// most four are verified one by one (the defining rule).
///
/// Batch verification combines the signatures with random coefficients so that invalid
/// signatures cannot be crafted to cancel out. Here the coefficients come from a ChaCha RNG
/// seeded with sha256 of every (signed message, signature) in the slice (Fiat-Shamir): they
/// are fixed only once every signature is, so a forger would have to grind about 2^128 batches
/// per success, and no node needs an entropy source. [`verify_batch_with_rng`] takes the
/// caller's RNG instead. Neither RNG can change a verdict: ZIP-215 batch and single
/// verification agree (except with probability about 2^-128 for an invalid batch), so every
/// node reaches the same verdicts.
pub fn verify_batch(txs: &[SignedTx], strategy: &impl Strategy) -> Vec<bool> {
    verify_batch_by(txs, |tx| tx, strategy)
}

/// [`verify_batch`] over items that hold a transaction (for example with its hash), one
/// verdict per item, in order.
pub fn verify_batch_by<I: Sync>(
    items: &[I],
    tx_of: fn(&I) -> &SignedTx,
    strategy: &impl Strategy,
) -> Vec<bool> {
    let prepared = prepare(items, tx_of, strategy);
    let mut seed = Sha256::default();
    seed.update(BATCH_SEED_NAMESPACE);
    for item in &prepared {
        let Signature::Ed25519(signature) = &item.tx.signature;
        seed.update(&(item.message.len() as u64).to_be_bytes());
        seed.update(&item.message);
        seed.update(signature.as_ref());
    }
    let (_, digest) = seed.finalize();
    let mut rng = StdRng::from_seed(digest.0);
    verify_prepared(&mut rng, &prepared, strategy)
}

/// [`verify_batch`] with the caller's RNG for the batch coefficients (it must be unpredictable
/// to whoever submits the transactions, e.g. an OS-seeded CSPRNG).
pub fn verify_batch_with_rng(
    rng: &mut impl CryptoRng,
    txs: &[SignedTx],
    strategy: &impl Strategy,
) -> Vec<bool> {
    let prepared = prepare(txs, |tx| tx, strategy);
    verify_prepared(rng, &prepared, strategy)
}

fn prepare<'a, I: Sync>(
    items: &'a [I],
    tx_of: fn(&I) -> &SignedTx,
    strategy: &impl Strategy,
) -> Vec<Prepared<'a>> {
    strategy.map_collect_vec(items, |item| {
        let tx = tx_of(item);
        Prepared { tx, message: tx.signing_message() }
    })
}

fn verify_prepared(
    rng: &mut impl CryptoRng,
    prepared: &[Prepared<'_>],
    strategy: &impl Strategy,
) -> Vec<bool> {
    let mut verdicts = vec![false; prepared.len()];
    bisect(rng, prepared, &mut verdicts, strategy);
    verdicts
}

fn bisect(
    rng: &mut impl CryptoRng,
    items: &[Prepared<'_>],
    out: &mut [bool],
    strategy: &impl Strategy,
) {
    if items.len() <= BISECT_LEAF_LEN {
        for (item, verdict) in items.iter().zip(out.iter_mut()) {
            *verdict = item.tx.verify_message(&item.message);
        }
        return;
    }
    if ed25519::PublicKey::verify_batch(rng, items, project, strategy) {
        out.iter_mut().for_each(|v| *v = true);
        return;
    }
    let mid = items.len() / 2;
    let (left, right) = items.split_at(mid);
    let (out_left, out_right) = out.split_at_mut(mid);
    bisect(rng, left, out_left, strategy);
    bisect(rng, right, out_right, strategy);
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// A value with a fixed place in the wire format. A local trait because the codec's traits
/// cannot be implemented for the engine's types here.
pub(crate) trait Field: Sized {
    fn put(&self, buf: &mut impl BufMut);
    fn size(&self) -> usize;
    fn get(buf: &mut impl Buf) -> Result<Self, CodecError>;
}

macro_rules! codec_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn put(&self, buf: &mut impl BufMut) {
                Write::write(self, buf)
            }
            fn size(&self) -> usize {
                EncodeSize::encode_size(self)
            }
            fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
                <$t as ReadExt>::read(buf)
            }
        }
    )*};
}
codec_field!(u16, u64, i128, bool, [u8; 20]);

macro_rules! newtype_field {
    ($($t:ident($inner:ty)),*) => {$(
        impl Field for $t {
            fn put(&self, buf: &mut impl BufMut) {
                self.0.put(buf)
            }
            fn size(&self) -> usize {
                self.0.size()
            }
            fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
                <$inner as Field>::get(buf).map($t)
            }
        }
    )*};
}
newtype_field!(
    Address([u8; 20]),
    MarketId(u16),
    AuctionId(u64),
    PriceTicks(u64),
    QtyLots(u64),
    Quote(i128),
    OrderId(u64),
    ClientOrderId(u64),
    ChainId(u64)
);

macro_rules! unit_enum_field {
    ($t:ident { $($v:ident = $n:literal),* $(,)? }) => {
        impl Field for $t {
            fn put(&self, buf: &mut impl BufMut) {
                buf.put_u8(match self { $($t::$v => $n),* })
            }
            fn size(&self) -> usize {
                TAG_BYTES
            }
            fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
                match u8::read(buf)? {
                    $($n => Ok($t::$v),)*
                    other => Err(CodecError::InvalidEnum(other)),
                }
            }
        }
    };
}
unit_enum_field!(Side { Buy = 0, Sell = 1 });
unit_enum_field!(TimeInForce { Gtc = 0, Ioc = 1, Fok = 2, PostOnly = 3, PostOnlySlide = 4 });
unit_enum_field!(StpMode {
    CancelNewest = 0,
    CancelOldest = 1,
    CancelBoth = 2,
    DecrementAndCancel = 3,
});

impl<T: Field> Field for Option<T> {
    fn put(&self, buf: &mut impl BufMut) {
        self.is_some().put(buf);
        if let Some(v) = self {
            v.put(buf);
        }
    }
    fn size(&self) -> usize {
        TAG_BYTES + self.as_ref().map_or(0, Field::size)
    }
    fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
        if bool::get(buf)? {
            T::get(buf).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl Field for Expiry {
    fn put(&self, buf: &mut impl BufMut) {
        match self {
            Expiry::Never => buf.put_u8(0),
            Expiry::Height(h) => {
                buf.put_u8(1);
                h.put(buf);
            }
            Expiry::TimeMs(t) => {
                buf.put_u8(2);
                t.put(buf);
            }
        }
    }
    fn size(&self) -> usize {
        match self {
            Expiry::Never => TAG_BYTES,
            Expiry::Height(_) | Expiry::TimeMs(_) => TAG_BYTES + U64_BYTES,
        }
    }
    fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Expiry::Never),
            1 => u64::get(buf).map(Expiry::Height),
            2 => u64::get(buf).map(Expiry::TimeMs),
            other => Err(CodecError::InvalidEnum(other)),
        }
    }
}

/// Writes each field in order.
macro_rules! put_all {
    ($buf:expr; $($f:expr),+) => {{ $( Field::put($f, $buf); )+ }};
}

/// The summed size of the fields.
macro_rules! size_all {
    ($($f:expr),+) => { 0 $( + Field::size($f) )+ };
}

impl Field for OrderRequest {
    fn put(&self, buf: &mut impl BufMut) {
        let o = self;
        put_all!(buf; &o.sub, &o.market, &o.side, &o.price, &o.qty, &o.tif, &o.expiry,
            &o.client_id, &o.reduce_only, &o.stp);
    }
    fn size(&self) -> usize {
        let o = self;
        size_all!(
            &o.sub,
            &o.market,
            &o.side,
            &o.price,
            &o.qty,
            &o.tif,
            &o.expiry,
            &o.client_id,
            &o.reduce_only,
            &o.stp
        )
    }
    fn get(buf: &mut impl Buf) -> Result<Self, CodecError> {
        // Struct expressions evaluate their fields in the order written: the wire order.
        Ok(OrderRequest {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            side: Field::get(buf)?,
            price: Field::get(buf)?,
            qty: Field::get(buf)?,
            tif: Field::get(buf)?,
            expiry: Field::get(buf)?,
            client_id: Field::get(buf)?,
            reduce_only: Field::get(buf)?,
            stp: Field::get(buf)?,
        })
    }
}

/// A count prefix (varint), read against its bound before anything is allocated.
pub(crate) fn put_count(buf: &mut impl BufMut, len: usize) {
    len.write(buf);
}

pub(crate) fn count_size(len: usize) -> usize {
    len.encode_size()
}

/// Reads a count; `Err(count)` if it is above `max`.
pub(crate) fn get_count(
    buf: &mut impl Buf,
    max: usize,
) -> Result<Result<usize, usize>, CodecError> {
    let raw: u32 = UInt::<u32>::read(buf)?.into();
    let len = usize::try_from(raw).map_err(|_| CodecError::InvalidUsize)?;
    Ok(if len > max { Err(len) } else { Ok(len) })
}

pub(crate) fn put_markets(buf: &mut impl BufMut, markets: &[MarketId]) {
    put_count(buf, markets.len());
    for m in markets {
        m.put(buf);
    }
}

pub(crate) fn markets_size(markets: &[MarketId]) -> usize {
    count_size(markets.len()) + markets.len() * U16_BYTES
}

/// Reads an agent market list; a list breaking [`check_markets`] is the returned fault.
pub(crate) fn get_markets(
    buf: &mut impl Buf,
) -> Result<Result<Vec<MarketId>, ActionFault>, CodecError> {
    let len = match get_count(buf, MAX_AGENT_MARKETS)? {
        Ok(len) => len,
        Err(len) => return Ok(Err(ActionFault::TooManyAgentMarkets(len))),
    };
    let mut markets = Vec::with_capacity(len);
    for _ in 0..len {
        markets.push(MarketId::get(buf)?);
    }
    Ok(check_markets(&markets).map(|()| markets))
}

impl Write for TxAction {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.tag());
        match self {
            TxAction::Withdraw { sub, amount } => put_all!(buf; sub, amount),
            TxAction::Transfer { sub, to, to_sub, amount } => {
                put_all!(buf; sub, to, to_sub, amount)
            }
            TxAction::Place(order) => order.put(buf),
            TxAction::Cancel { sub, market, id } => put_all!(buf; sub, market, id),
            TxAction::CancelByClientId { sub, market, client_id } => {
                put_all!(buf; sub, market, client_id)
            }
            TxAction::CancelAll { sub, market, side } => put_all!(buf; sub, market, side),
            TxAction::Modify { sub, market, id, price, qty } => {
                put_all!(buf; sub, market, id, price, qty)
            }
            TxAction::SetMarginMode { sub, market, isolated } => {
                put_all!(buf; sub, market, isolated)
            }
            TxAction::AdjustIsolatedMargin { sub, market, amount } => {
                put_all!(buf; sub, market, amount)
            }
            TxAction::BidLiquidation { sub, auction, price_limit } => {
                put_all!(buf; sub, auction, price_limit)
            }
            TxAction::ApproveAgent { agent, markets, max_order_qty, expires_ms } => {
                agent.put(buf);
                put_markets(buf, markets);
                put_all!(buf; max_order_qty, expires_ms);
            }
            TxAction::RevokeAgent { agent } => agent.put(buf),
            TxAction::Faucet { to, sub, amount } => put_all!(buf; to, sub, amount),
        }
    }
}

impl EncodeSize for TxAction {
    fn encode_size(&self) -> usize {
        TAG_BYTES
            + match self {
                TxAction::Withdraw { sub, amount } => size_all!(sub, amount),
                TxAction::Transfer { sub, to, to_sub, amount } => {
                    size_all!(sub, to, to_sub, amount)
                }
                TxAction::Place(order) => order.size(),
                TxAction::Cancel { sub, market, id } => size_all!(sub, market, id),
                TxAction::CancelByClientId { sub, market, client_id } => {
                    size_all!(sub, market, client_id)
                }
                TxAction::CancelAll { sub, market, side } => size_all!(sub, market, side),
                TxAction::Modify { sub, market, id, price, qty } => {
                    size_all!(sub, market, id, price, qty)
                }
                TxAction::SetMarginMode { sub, market, isolated } => {
                    size_all!(sub, market, isolated)
                }
                TxAction::AdjustIsolatedMargin { sub, market, amount } => {
                    size_all!(sub, market, amount)
                }
                TxAction::BidLiquidation { sub, auction, price_limit } => {
                    size_all!(sub, auction, price_limit)
                }
                TxAction::ApproveAgent { agent, markets, max_order_qty, expires_ms } => {
                    agent.size() + markets_size(markets) + size_all!(max_order_qty, expires_ms)
                }
                TxAction::RevokeAgent { agent } => agent.size(),
                TxAction::Faucet { to, sub, amount } => size_all!(to, sub, amount),
            }
    }
}

/// Reads the action at `index` of a batch (the index goes into typed errors).
fn read_action(buf: &mut impl Buf, index: usize) -> Result<TxAction, CodecError> {
    let tag = u8::read(buf)?;
    let action = match tag {
        0 => TxAction::Withdraw { sub: Field::get(buf)?, amount: Field::get(buf)? },
        1 => TxAction::Transfer {
            sub: Field::get(buf)?,
            to: Field::get(buf)?,
            to_sub: Field::get(buf)?,
            amount: Field::get(buf)?,
        },
        2 => TxAction::Place(Field::get(buf)?),
        3 => TxAction::Cancel {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            id: Field::get(buf)?,
        },
        4 => TxAction::CancelByClientId {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            client_id: Field::get(buf)?,
        },
        5 => TxAction::CancelAll {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            side: Field::get(buf)?,
        },
        6 => TxAction::Modify {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            id: Field::get(buf)?,
            price: Field::get(buf)?,
            qty: Field::get(buf)?,
        },
        7 => TxAction::SetMarginMode {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            isolated: Field::get(buf)?,
        },
        8 => TxAction::AdjustIsolatedMargin {
            sub: Field::get(buf)?,
            market: Field::get(buf)?,
            amount: Field::get(buf)?,
        },
        9 => TxAction::BidLiquidation {
            sub: Field::get(buf)?,
            auction: Field::get(buf)?,
            price_limit: Field::get(buf)?,
        },
        10 => TxAction::ApproveAgent {
            agent: Field::get(buf)?,
            markets: get_markets(buf)?
                .map_err(|fault| wrap(TxError::InvalidAction { index, fault }))?,
            max_order_qty: Field::get(buf)?,
            expires_ms: Field::get(buf)?,
        },
        11 => TxAction::RevokeAgent { agent: Field::get(buf)? },
        12 => TxAction::Faucet {
            to: Field::get(buf)?,
            sub: Field::get(buf)?,
            amount: Field::get(buf)?,
        },
        tag => return Err(wrap(TxError::UnknownAction { index, tag })),
    };
    Ok(action)
}

impl Write for TxBody {
    fn write(&self, buf: &mut impl BufMut) {
        put_all!(buf; &self.chain_id, &self.nonce, &self.master);
        put_count(buf, self.actions.len());
        for action in &self.actions {
            action.write(buf);
        }
    }
}

impl EncodeSize for TxBody {
    fn encode_size(&self) -> usize {
        size_all!(&self.chain_id, &self.nonce, &self.master)
            + count_size(self.actions.len())
            + self.actions.iter().map(EncodeSize::encode_size).sum::<usize>()
    }
}

impl Read for TxBody {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let chain_id = ChainId::get(buf)?;
        let nonce = u64::get(buf)?;
        let master = Option::<Address>::get(buf)?;
        let len =
            get_count(buf, MAX_ACTIONS_PER_TX)?.map_err(|n| wrap(TxError::TooManyActions(n)))?;
        check_batch_len(len).map_err(wrap)?;
        let mut actions = Vec::with_capacity(len);
        for index in 0..len {
            actions.push(read_action(buf, index)?);
        }
        Ok(TxBody { chain_id, nonce, master, actions })
    }
}

impl Write for PublicKey {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.scheme().code());
        match self {
            PublicKey::Ed25519(pk) => pk.write(buf),
        }
    }
}

impl EncodeSize for PublicKey {
    fn encode_size(&self) -> usize {
        TAG_BYTES
            + match self {
                PublicKey::Ed25519(pk) => pk.encode_size(),
            }
    }
}

impl Read for PublicKey {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let code = u8::read(buf)?;
        match SchemeTag::from_code(code) {
            Some(SchemeTag::Ed25519) => read_ed25519_key(buf).map(PublicKey::Ed25519),
            None => Err(wrap(TxError::UnknownScheme(code))),
        }
    }
}

/// Most decompressed ed25519 keys remembered by `read_ed25519_key` (about 10 MB at most).
pub const KEY_CACHE_MAX: usize = 1 << 16;

/// ed25519 keys already decoded, by encoding (see [`read_ed25519_key`]).
static ED25519_KEYS: std::sync::Mutex<std::collections::BTreeMap<[u8; 32], ed25519::PublicKey>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Reads an ed25519 public key, remembering the decoded keys.
///
/// Decoding a key decompresses a curve point (a field exponentiation, about as costly as a
/// batch-verified signature), and a node decodes every transaction several times (admission,
/// gossip from each peer, each block it receives), nearly always from signers it has seen
/// before. The cache is a pure memo of `ed25519::PublicKey::read`: a hit returns the key that
/// decoding the same 32 bytes returns, and bytes that do not decode are never cached, so every
/// verdict is unchanged. It is bounded by [`KEY_CACHE_MAX`] (emptied when full).
fn read_ed25519_key(buf: &mut impl Buf) -> Result<ed25519::PublicKey, CodecError> {
    let raw = <[u8; ED25519_PUBLIC_KEY_BYTES]>::read(buf)?;
    if let Ok(cache) = ED25519_KEYS.lock() {
        if let Some(key) = cache.get(&raw) {
            return Ok(key.clone());
        }
    }
    let key = ed25519::PublicKey::read(&mut Copying(raw.as_slice()))?;
    if let Ok(mut cache) = ED25519_KEYS.lock() {
        if cache.len() >= KEY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(raw, key.clone());
    }
    Ok(key)
}

impl Write for Signature {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Signature::Ed25519(sig) => sig.write(buf),
        }
    }
}

impl EncodeSize for Signature {
    fn encode_size(&self) -> usize {
        match self {
            Signature::Ed25519(sig) => sig.encode_size(),
        }
    }
}

impl Read for Signature {
    /// The scheme, taken from the public key.
    type Cfg = SchemeTag;

    fn read_cfg(buf: &mut impl Buf, scheme: &SchemeTag) -> Result<Self, CodecError> {
        match scheme {
            SchemeTag::Ed25519 => ed25519::Signature::read(buf).map(Signature::Ed25519),
        }
    }
}

impl Write for SignedTx {
    fn write(&self, buf: &mut impl BufMut) {
        self.public_key.write(buf);
        self.body.write(buf);
        self.signature.write(buf);
    }
}

impl EncodeSize for SignedTx {
    fn encode_size(&self) -> usize {
        self.public_key.encode_size() + self.body.encode_size() + self.signature.encode_size()
    }
}

impl Read for SignedTx {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let public_key = PublicKey::read(buf)?;
        let body = TxBody::read(buf)?;
        let signature = Signature::read_cfg(buf, &public_key.scheme())?;
        Ok(SignedTx { public_key, body, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_what_the_doc_says() {
        assert_eq!(ORDER_REQUEST_MAX_BYTES, 42);
        assert_eq!(MAX_ACTION_BYTES, 71);
        assert_eq!(MAX_TX_BYTES, 1 + 32 + 38 + 32 * 71 + 64);
    }
}
