//! The SDK's errors: each says what failed and why, in terms a trader can act on.

use std::time::Duration;

use crate::keys::KeyError;
use crate::tx::BuildError;
use crate::units::UnitsError;

/// Everything the SDK can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node could not be reached, or the connection broke.
    #[error("cannot reach the node at {url}: {reason}")]
    Transport {
        /// The request's URL.
        url: String,
        /// The transport's description.
        reason: String,
    },
    /// The node answered with an error body (`{error, code}`).
    #[error("{url}: {message} (HTTP {status}, code {code})")]
    Api {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The stable machine code (`novation_wire::code`), or `http_<status>` without a body.
        code: String,
        /// The node's reason.
        message: String,
    },
    /// The node answered something this SDK does not understand.
    #[error("{url}: unexpected answer: {reason}")]
    Decode {
        /// The request's URL.
        url: String,
        /// What did not parse.
        reason: String,
    },
    /// The transaction was refused as a whole before execution (replay protection, agent
    /// scope); nothing changed.
    #[error("transaction {hash} refused by rule {rule} (code {code}): {reason}")]
    Refused {
        /// The transaction's hash.
        hash: String,
        /// The stable refusal code.
        code: u16,
        /// The rule's name (`novation_chain::auth::AuthError` variant), or `code <n>`.
        rule: String,
        /// The node's reason.
        reason: String,
    },
    /// An agent key acted for an account that has not approved it (refusal code 111).
    #[error(
        "wrong signer: transaction {hash} acts for {expected} but is signed by {actual}, which \
         {expected} has not approved as an agent; sign with {expected}'s own key, or approve \
         {actual} first (ApproveAgent from {expected})"
    )]
    WrongSigner {
        /// The transaction's hash.
        hash: String,
        /// The account the transaction acts for: its signer, or an agent it approved.
        expected: String,
        /// The key that signed.
        actual: String,
    },
    /// An action was rejected by the exchange; nothing of it changed.
    #[error(
        "action {index} of transaction {hash} rejected by rule {rule} (code {code}): {reason}"
    )]
    Rejected {
        /// The transaction's hash.
        hash: String,
        /// The action's index in the transaction.
        index: usize,
        /// The stable rejection code.
        code: u16,
        /// The rule's name (`novation_engine::Rejection` variant), or `code <n>`.
        rule: String,
        /// The rule's description.
        reason: String,
    },
    /// The mempool dropped the transaction without including it.
    #[error("transaction {hash} was dropped before inclusion: {reason}")]
    Dropped {
        /// The transaction's hash.
        hash: String,
        /// Why.
        reason: String,
    },
    /// The transaction was not final in time (it may still be included).
    #[error("transaction {hash} not final after {waited:?} (last status: {last})")]
    Timeout {
        /// The transaction's hash.
        hash: String,
        /// How long the SDK waited.
        waited: Duration,
        /// The last status seen.
        last: String,
    },
    /// No market with this id or symbol.
    #[error("no market '{market}'; markets: {known}")]
    UnknownMarket {
        /// What was asked.
        market: String,
        /// The known symbols, comma separated.
        known: String,
    },
    /// A price, size or amount that cannot be used as written.
    #[error(transparent)]
    Units(#[from] UnitsError),
    /// A key could not be created or loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Actions could not be put into a transaction.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A bad argument (an address, a URL).
    #[error("{0}")]
    Invalid(String),
    /// The WebSocket client stopped.
    #[error("the WebSocket client has stopped")]
    Closed,
}

impl Error {
    /// The node's machine code, for [`Error::Api`].
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The rule's name, for a refusal or a rejection.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Error::Refused { rule, .. } | Error::Rejected { rule, .. } => Some(rule),
            Error::WrongSigner { .. } => Some("AgentNotApproved"),
            _ => None,
        }
    }
}

/// The SDK's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
