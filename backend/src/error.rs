//! `AppError`: every refusal and failure as `{"error": {"code", "message"}}` with its status.
//!
//! Codes are stable, lower-case identifiers a client can branch on, each an [`ErrorCode`] of the
//! contract (`contract/src/code.rs`, where the widget's side reads them too); messages are one
//! plain sentence for a person. Internal failures (database, task, provider) are logged here with their
//! detail and answered with a generic sentence: nothing internal reaches the client.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub use lightning_checkout_contract::{ErrorBody, ErrorCode, ErrorResponse};

use crate::provider::{ProviderError, WebhookError};
use crate::store::StoreError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `amount_too_large`.
    pub code: &'static str,
    /// One sentence for a person.
    pub message: Cow<'static, str>,
}

impl AppError {
    /// Any error with its status, code and message. The code is an [`ErrorCode`]; a bare
    /// `&'static str` still compiles so that branches written before the enum merge, but a new
    /// code belongs in the contract's enum.
    pub fn new(
        status: StatusCode,
        code: impl Into<&'static str>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 400 with a code.
    pub fn bad_request(
        code: impl Into<&'static str>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 409 with a code.
    pub fn conflict(code: impl Into<&'static str>, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 404 `not_found` for an invoice id.
    pub fn invoice_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "There is no invoice with this id.",
        )
    }

    /// 404 `not_found` for a path.
    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "There is no such endpoint.",
        )
    }

    /// 500 `internal`: logs `detail` at error level, tells the client nothing about it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }

    /// 503 `database_unavailable`: the database cannot be reached now (the backend reconnects by
    /// itself; nothing was changed by this request).
    pub fn database_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            lightning_checkout_contract::ErrorCode::DatabaseUnavailable.as_str(),
            "The payment database cannot be reached right now. Please try again in a few seconds.",
        )
    }

    /// 502 `provider_error` (or 400 for a request the provider can never serve); logs the detail.
    pub fn provider(err: ProviderError) -> Self {
        tracing::warn!(error = %err, "provider call failed");
        match err {
            ProviderError::Unsupported(_) => Self::bad_request(
                ErrorCode::ProviderUnsupported,
                "The payment provider does not accept this request.",
            ),
            _ => Self::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::ProviderError,
                "The payment provider could not be reached or refused the request. Please try again.",
            ),
        }
    }

    /// The answer to a refused webhook; logs the reason at warn level.
    pub fn webhook(err: WebhookError) -> Self {
        match err {
            WebhookError::NotSupported => Self::route_not_found(),
            WebhookError::NotConfigured => {
                tracing::warn!("webhook refused: no secret configured");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::WebhookNotConfigured,
                    "Webhooks are not configured on this server.",
                )
            }
            WebhookError::Unavailable(reason) => {
                tracing::warn!(%reason, "webhook refused: verification keys unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::WebhookUnavailable,
                    "The webhook cannot be verified right now. Please retry.",
                )
            }
            WebhookError::Malformed(reason) => {
                tracing::warn!(%reason, "webhook refused: malformed");
                Self::bad_request(
                    ErrorCode::InvalidWebhook,
                    "The webhook body could not be read.",
                )
            }
            other => {
                tracing::warn!(reason = %other, "webhook refused");
                Self::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::InvalidSignature,
                    "The webhook signature is missing, wrong or too old.",
                )
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                Self::database_unavailable()
            }
            e => Self::internal(e),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code.to_owned(),
                message: self.message.into_owned(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}
