//! The one error type of Sluice. It crosses the wire to the browser, so it carries only what a
//! user may see; internal causes are logged where they happen and become `Internal`.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("sign in required")]
    Unauthorized,
    #[error("you do not have the role this needs")]
    Forbidden,
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("too many attempts; try again later")]
    TooManyRequests,
    /// The server is at its bound for this kind of work (password checks, live streams).
    #[error("the server is busy; try again in a moment")]
    Busy,
    #[error("something went wrong on the server; it has been logged")]
    Internal,
    /// The call itself failed (network, bad arguments): raised by the server-fn machinery.
    #[error("{message}")]
    Call { message: String },
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
        }
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Unauthorized => S::UNAUTHORIZED,
            AppError::Forbidden => S::FORBIDDEN,
            AppError::NotFound { .. } => S::NOT_FOUND,
            AppError::Validation { .. } | AppError::Call { .. } => S::BAD_REQUEST,
            AppError::Conflict { .. } => S::CONFLICT,
            AppError::TooManyRequests => S::TOO_MANY_REQUESTS,
            AppError::Busy => S::SERVICE_UNAVAILABLE,
            AppError::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code used in `{"error":{"code":…}}` answers.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound { .. } => "not_found",
            AppError::Validation { .. } => "invalid",
            AppError::Call { .. } => "bad_request",
            AppError::Conflict { .. } => "conflict",
            AppError::TooManyRequests => "too_many_requests",
            AppError::Busy => "busy",
            AppError::Internal => "internal",
        }
    }
}

impl AppError {
    /// Seconds after which a refused caller may try again, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::Busy => Some(1),
            AppError::TooManyRequests => Some(60),
            _ => None,
        }
    }
}

impl From<(&'static str, String)> for AppError {
    fn from((field, message): (&'static str, String)) -> Self {
        AppError::validation(field, message)
    }
}

/// A database failure becomes the opaque internal error here, once, where a service meets it.
/// The log line carries the span of the service that failed (every backend service is
/// instrumented), so it names the operation; the user sees only "something went wrong".
#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Call {
            message: value.to_string(),
        }
    }
}
