//! Every error code a backend answers in `{"error": {"code", "message"}}`, with its string.
//!
//! A code is a stable, lower-case identifier a client branches on; the message is a sentence
//! for a person and may change. The widget passes an unknown code through to its
//! `lightning-checkout:error` event unchanged, so a newer backend's codes still reach the shop.

/// An error code of the contract (the HTTP status each goes with is in its doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `unsupported_media_type`, 415: the request is not `Content-Type: application/json`.
    UnsupportedMediaType,
    /// `body_too_large`, 413: the body is over the limit.
    BodyTooLarge,
    /// `invalid_json`, 400: the body is not a JSON object.
    InvalidJson,
    /// `unknown_field`, 400: a request field the contract does not define (a misspelt `expiry_sec` must not silently give the default).
    UnknownField,
    /// `invalid_amount`, 400: `amount_sat` missing or not a whole JSON number.
    InvalidAmount,
    /// `amount_too_small`, 400: below [`crate::MIN_AMOUNT_SAT`].
    AmountTooSmall,
    /// `amount_too_large`, 400: above the backend's ceiling.
    AmountTooLarge,
    /// `amount_out_of_range`, 400: outside a signed order's `min_sat`..`max_sat`.
    AmountOutOfRange,
    /// `invalid_description`, 400: `description` is not text.
    InvalidDescription,
    /// `description_too_long`, 400: over [`crate::MAX_DESCRIPTION_BYTES`].
    DescriptionTooLong,
    /// `invalid_order_id`, 400: `order_id` breaks [`crate::is_order_id`].
    InvalidOrderId,
    /// `invalid_expiry`, 400: `expiry_secs` outside 1..=[`crate::MAX_EXPIRY_SECS`].
    InvalidExpiry,
    /// `invalid_ttl`, 400: the demo order route's `ttl_secs` is out of range.
    InvalidTtl,
    /// `invalid_query`, 400: a query parameter of the admin API is unusable.
    InvalidQuery,
    /// `invalid_fiat_amount`, 400: a fiat price that is not a decimal string above zero with at most the currency's decimals, only half of `currency` + `fiat_amount`, or beside `amount_sat`.
    InvalidFiatAmount,
    /// `unsupported_currency`, 400: a currency the backend has no rate for.
    UnsupportedCurrency,
    /// `invalid_unified`, 400: `unified` is not a boolean.
    InvalidUnified,
    /// `order_conflict`, 409: the order's open invoice is for another amount.
    OrderConflict,
    /// `order_paid`, 409: the order is paid; it never gets a second invoice.
    OrderPaid,
    /// `order_settling`, 409: the order's last invoice expired moments ago and may still be
    /// confirmed paid (providers known by callback only); try again shortly.
    OrderSettling,
    /// `invoice_expired`, 409: the demo pay of an expired invoice.
    InvoiceExpired,
    /// `token_mismatch`, 409: the body states another order id, amount or description than the signed order.
    TokenMismatch,
    /// `invalid_token`, 401: the order token is malformed, forged, of another algorithm or not yet valid.
    InvalidToken,
    /// `token_expired`, 401: the order token is past its `exp`.
    TokenExpired,
    /// `missing_token`, 401: this create needs a signed order.
    MissingToken,
    /// `invalid_signature`, 401: a webhook's signature does not verify.
    InvalidSignature,
    /// `unauthorized`, 401: the admin API without the right token.
    Unauthorized,
    /// `not_found`, 404: unknown or malformed invoice id, unknown route or webhook provider.
    NotFound,
    /// `method_not_allowed`, 405.
    MethodNotAllowed,
    /// `rate_limited`, 429, with `Retry-After`: too many creates from one client.
    RateLimited,
    /// `invalid_webhook`, 400: a webhook body that cannot be read.
    InvalidWebhook,
    /// `provider_unsupported`, 400: a request the provider can never serve.
    ProviderUnsupported,
    /// `internal`, 500: our failure; the detail is logged, never sent.
    Internal,
    /// `provider_error`, 502: the provider failed or answered something unusable.
    ProviderError,
    /// `signing_not_configured`, 503: an order token, but no `CHECKOUT_SECRET`.
    SigningNotConfigured,
    /// `webhook_not_configured`, 503: a webhook for a provider without its secret.
    WebhookNotConfigured,
    /// `webhook_unavailable`, 503: the keys to check a webhook could not be fetched.
    WebhookUnavailable,
    /// `admin_not_configured`, 503: the admin API without `ADMIN_TOKEN`.
    AdminNotConfigured,
    /// `fiat_not_configured`, 503: a fiat price, but no `RATE_SOURCE`.
    FiatNotConfigured,
    /// `rate_unavailable`, 503: no exchange rate younger than `RATE_MAX_AGE_SECS`.
    RateUnavailable,
    /// `provider_unreachable`, 503: the order's invoice is past its deadline and the provider cannot say whether it was paid.
    ProviderUnreachable,
    /// `overloaded`, 503, with `Retry-After`: too many requests in progress.
    Overloaded,
    /// `timeout`, 503: the request took too long.
    Timeout,
    /// `too_many_streams`, 503, with `Retry-After`: the live status streams
    /// (`GET {endpoint}/invoices/{id}/events`) are at their cap; poll instead.
    TooManyStreams,
    /// `database_unavailable`, 503: the database (PostgreSQL) cannot be reached now; the backend
    /// reconnects by itself.
    DatabaseUnavailable,
}

impl ErrorCode {
    /// Every code, in the order of the enum.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::UnsupportedMediaType,
        ErrorCode::BodyTooLarge,
        ErrorCode::InvalidJson,
        ErrorCode::UnknownField,
        ErrorCode::InvalidAmount,
        ErrorCode::AmountTooSmall,
        ErrorCode::AmountTooLarge,
        ErrorCode::AmountOutOfRange,
        ErrorCode::InvalidDescription,
        ErrorCode::DescriptionTooLong,
        ErrorCode::InvalidOrderId,
        ErrorCode::InvalidExpiry,
        ErrorCode::InvalidTtl,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidFiatAmount,
        ErrorCode::UnsupportedCurrency,
        ErrorCode::InvalidUnified,
        ErrorCode::OrderConflict,
        ErrorCode::OrderPaid,
        ErrorCode::OrderSettling,
        ErrorCode::InvoiceExpired,
        ErrorCode::TokenMismatch,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::MissingToken,
        ErrorCode::InvalidSignature,
        ErrorCode::Unauthorized,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RateLimited,
        ErrorCode::InvalidWebhook,
        ErrorCode::ProviderUnsupported,
        ErrorCode::Internal,
        ErrorCode::ProviderError,
        ErrorCode::SigningNotConfigured,
        ErrorCode::WebhookNotConfigured,
        ErrorCode::WebhookUnavailable,
        ErrorCode::AdminNotConfigured,
        ErrorCode::FiatNotConfigured,
        ErrorCode::RateUnavailable,
        ErrorCode::ProviderUnreachable,
        ErrorCode::Overloaded,
        ErrorCode::Timeout,
        ErrorCode::TooManyStreams,
        ErrorCode::DatabaseUnavailable,
    ];

    /// The code as sent.
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::AmountTooSmall => "amount_too_small",
            ErrorCode::AmountTooLarge => "amount_too_large",
            ErrorCode::AmountOutOfRange => "amount_out_of_range",
            ErrorCode::InvalidDescription => "invalid_description",
            ErrorCode::DescriptionTooLong => "description_too_long",
            ErrorCode::InvalidOrderId => "invalid_order_id",
            ErrorCode::InvalidExpiry => "invalid_expiry",
            ErrorCode::InvalidTtl => "invalid_ttl",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidFiatAmount => "invalid_fiat_amount",
            ErrorCode::UnsupportedCurrency => "unsupported_currency",
            ErrorCode::InvalidUnified => "invalid_unified",
            ErrorCode::OrderConflict => "order_conflict",
            ErrorCode::OrderPaid => "order_paid",
            ErrorCode::OrderSettling => "order_settling",
            ErrorCode::InvoiceExpired => "invoice_expired",
            ErrorCode::TokenMismatch => "token_mismatch",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidWebhook => "invalid_webhook",
            ErrorCode::ProviderUnsupported => "provider_unsupported",
            ErrorCode::Internal => "internal",
            ErrorCode::ProviderError => "provider_error",
            ErrorCode::SigningNotConfigured => "signing_not_configured",
            ErrorCode::WebhookNotConfigured => "webhook_not_configured",
            ErrorCode::WebhookUnavailable => "webhook_unavailable",
            ErrorCode::AdminNotConfigured => "admin_not_configured",
            ErrorCode::FiatNotConfigured => "fiat_not_configured",
            ErrorCode::RateUnavailable => "rate_unavailable",
            ErrorCode::ProviderUnreachable => "provider_unreachable",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TooManyStreams => "too_many_streams",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
        }
    }

    /// The code `s` names, if it is one of the contract's.
    #[inline]
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl From<ErrorCode> for &'static str {
    fn from(c: ErrorCode) -> &'static str {
        c.as_str()
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
