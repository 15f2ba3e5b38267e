//! The error reply of every route: a status and `{"error", "code"}` ([`novation_wire::ErrorBody`]).

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use novation_wire::{code, ErrorBody};

/// An error reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code ([`novation_wire::code`]).
    pub code: &'static str,
    /// Human reason.
    pub message: String,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and reason.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after_s: None }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
    }

    /// 404 with `code`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 404 `unknown_market`.
    pub fn unknown_market(name: &str) -> Self {
        let shown: String = name.chars().take(32).collect();
        Self::not_found(code::UNKNOWN_MARKET, format!("no market with id or symbol {shown:?}"))
    }

    /// 429 `rate_limited` with a `Retry-After`.
    pub fn rate_limited(message: impl Into<String>, retry_after_s: u64) -> Self {
        ApiError {
            retry_after_s: Some(retry_after_s.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, message)
        }
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code::UNAVAILABLE, message)
    }

    /// A rejected body: 413 when too large, 400 otherwise.
    fn body(status: StatusCode, text: String) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(status, code::PAYLOAD_TOO_LARGE, text)
        } else {
            Self::bad_request(text)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody { error: self.message, code: self.code.to_string() });
        let mut r = (self.status, body).into_response();
        if let Some(s) = self.retry_after_s {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, s.into());
        }
        r
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        Self::body(r.status(), r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        Self::body(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<Json<T>, ApiError>;
