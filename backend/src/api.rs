//! The JSON API under `/api`: handlers and wire types. Decisions live in [`crate::checkout`].
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /api/invoices` | 201 [`CreateInvoiceResponse`] (200 with the same body when the order already has this open invoice) |
//! | `GET /api/invoices/{id}` | 200 [`InvoiceStatusResponse`] |
//! | `GET /api/invoices/{id}/events` | Server-Sent Events of that status ([`crate::events`]); 503 `too_many_streams` past `MAX_EVENT_STREAMS` |
//! | `POST /api/dev/invoices/{id}/pay` | 200 [`InvoiceStatusResponse`], paid; only while the demo provider is active |
//! | `POST /api/webhooks/{provider}` | the provider's acknowledgement |
//! | `POST /api/dev/orders` | `{"order_id","order_token"}`: a signed demo order; only while the demo provider is active |
//! | `GET /api/health` | `{"status":"ok","provider":"demo","demo_payments":true,"signed_orders":true,"unsigned_orders":"any","shop_webhooks":false,"rate_source":"fixed"}` (the provider's name; whether `/api/dev/…` exists; whether order tokens can be checked; which unsigned creates are taken: `any`, `without_order_id` or `none`; whether notifications go to the shop; where fiat prices get their rate, `null`: none) |
//! | `/api/admin/…` | the reconciliation API ([`crate::admin`]) |
//!
//! Every refusal is `{"error": {"code", "message"}}` ([`AppError`]); every answer carries
//! `Cache-Control: no-store`.
//!
//! # Create request rules
//! * `Content-Type: application/json` (parameters such as `charset` allowed), else 415
//!   `unsupported_media_type`; body at most 16 KiB, else 413 `body_too_large`; not JSON or not an
//!   object: 400 `invalid_json`.
//! * **Unknown fields are refused** (400 `unknown_field`): a misspelt `expiry_sec` must not
//!   silently give a 15-minute invoice. `null` for an optional field means "absent".
//! * `amount_sat`: required JSON integer. Missing, fractional (`1.5`, and also `1.0`), a string
//!   or any other type: `invalid_amount`; below 1: `amount_too_small`; above `MAX_AMOUNT_SAT` (or
//!   the provider's own ceiling): `amount_too_large`.
//! * `description`: a string of at most 639 UTF-8 bytes (what BOLT 11's `d` field holds):
//!   `invalid_description` / `description_too_long`.
//! * `order_id`: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`: `invalid_order_id`.
//! * `expiry_secs`: integer 1..=86400, default 900: `invalid_expiry`.
//! * The same `order_id` while its invoice is open gives that invoice back (200); with a different
//!   `amount_sat`, 409 `order_conflict`; once it expired, a new invoice (201); once one of its
//!   invoices is paid, 409 `order_paid` (never a second invoice for a paid order).
//!
//! # Signed orders
//! * `order_token`: a JWT signed by the shop ([`crate::order_token`]). With it, order id, amount
//!   and description come from the token; the body may repeat them but not change them (409
//!   `token_mismatch`); with a `min_sat`/`max_sat` token, `amount_sat` is required and must lie
//!   in the range (400 `amount_out_of_range`). Refused tokens: 401 `invalid_token` (malformed,
//!   forged, wrong algorithm, not yet valid) or 401 `token_expired`; a token on a server without
//!   `CHECKOUT_SECRET`: 503 `signing_not_configured`.
//! * Without a token: with a real provider an `order_id` is refused (401 `missing_token`), except
//!   the widget's own ids for checkouts the shop did not name (`wc_` + 24 hex digits); with
//!   `ALLOW_UNSIGNED=false` every create without a token is (401 `missing_token`).
//!
//! # Other codes
//! `not_found` (404: unknown or malformed id, unknown route, unknown webhook provider),
//! `method_not_allowed` (405), `invoice_expired` (409, demo pay of an expired invoice),
//! `order_paid` (409), `invalid_signature` (401), `invalid_webhook` (400),
//! `webhook_not_configured` (503), `webhook_unavailable` (503, keys could not be fetched),
//! `provider_error` (502), `provider_unsupported` (400), `internal` (500),
//! `rate_limited` (429 with `Retry-After`: too many creates from one client IP),
//! `provider_unreachable` (503: the order's last invoice is past its deadline and the provider
//! cannot say whether it was paid; it stays pending, no new invoice is made),
//! `overloaded` (503 with `Retry-After`: `MAX_CONCURRENT_REQUESTS` in progress),
//! `timeout` (503: the request took longer than `REQUEST_TIMEOUT_SECS`),
//! `database_unavailable` (503: PostgreSQL cannot be reached now; see [`crate::store::pg`]).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::checkout::{self, NewOrder};
use crate::config::CorsOrigins;
pub use crate::error::AppError;
use crate::error::ErrorCode;
use crate::order_token::{self, TokenAmount, TokenError};
use crate::state::AppState;
use crate::store::Invoice;

/// Largest create request body.
pub const BODY_LIMIT: usize = 16 * 1024;
/// Largest webhook body (providers send bigger envelopes than our clients).
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;
pub use lightning_checkout_contract::{
    DEFAULT_EXPIRY_SECS, MAX_DESCRIPTION_BYTES, MAX_EXPIRY_SECS,
    MAX_ORDER_ID_LEN as MAX_ORDER_ID_CHARS,
};
/// How long a browser may cache a CORS preflight answer.
const CORS_MAX_AGE_SECS: u64 = 600;

const FIELDS: [&str; 8] = [
    "amount_sat",
    "description",
    "order_id",
    "expiry_secs",
    "order_token",
    "currency",
    "fiat_amount",
    "unified",
];

// The wire types are the contract's (`contract/`), shared with the widget; these names are the
// ones the backend has always used for them.
pub use lightning_checkout_contract::{
    CreateRequest as CreateInvoiceRequest, CreateResponse as CreateInvoiceResponse, OnchainSeen,
    StatusResponse as InvoiceStatusResponse,
};

/// The create answer for `inv`, stamped with the backend's clock `server_time` (Unix ms).
pub fn create_response(inv: &Invoice, server_time: u64) -> CreateInvoiceResponse {
    CreateInvoiceResponse {
        id: inv.id.clone(),
        payment_request: inv.payment_request.clone(),
        pay_url: inv.pay_url.clone(),
        payment_hash: inv.payment_hash.map(hex::encode),
        amount_sat: inv.amount_sat(),
        expires_at: inv.expires_at,
        status: inv.status.as_str().to_owned(),
        onchain_address: inv.onchain_address.clone(),
        fiat: inv.fiat.clone(),
        server_time: Some(server_time),
    }
}

/// The status answer for `inv`, stamped with the backend's clock `server_time` (Unix ms); the
/// preimage and `paid_at` only once paid; an on-chain payment seen with the shop's
/// confirmation count `required` (`ONCHAIN_CONFIRMATIONS`).
pub fn status_response(inv: &Invoice, server_time: u64, required: u32) -> InvoiceStatusResponse {
    let paid = inv.status == crate::store::Status::Paid;
    InvoiceStatusResponse {
        id: inv.id.clone(),
        status: inv.status.as_str().to_owned(),
        preimage: inv.preimage.filter(|_| paid).map(hex::encode),
        payment_request: inv.payment_request.clone(),
        pay_url: inv.pay_url.clone(),
        payment_hash: inv.payment_hash.map(hex::encode),
        amount_sat: inv.amount_sat(),
        expires_at: inv.expires_at,
        paid_at: inv.paid_at.filter(|_| paid),
        onchain_address: inv.onchain_address.clone(),
        onchain: inv.onchain_confirmations.map(|confirmations| OnchainSeen {
            confirmations,
            required,
        }),
        fiat: inv.fiat.clone(),
        server_time: Some(server_time),
    }
}

/// The `/api` router (to be nested at `/api`).
pub fn router(state: AppState) -> Router {
    let mut api = Router::new()
        .route(
            "/invoices",
            post(create_invoice).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::limits::limit_creates,
            )),
        )
        .route("/invoices/{id}", get(get_invoice))
        .route("/invoices/{id}/events", get(crate::events::stream))
        .route(
            "/webhooks/{provider}",
            post(webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
        .route("/health", get(health))
        .nest("/admin", crate::admin::router());
    if state.provider().simulates_payments() {
        api = api
            .route("/dev/invoices/{id}/pay", post(dev_pay))
            .route("/dev/invoices/{id}/onchain", post(dev_onchain))
            .route("/dev/orders", post(dev_order));
    }
    let api = api
        .fallback(|| async { AppError::route_not_found() })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "This endpoint does not take this method.",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(no_store));
    let api = match cors_layer(&state.config().cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    api.with_state(state)
}

async fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::SameOrigin => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(CORS_MAX_AGE_SECS)),
    )
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let provider = state.provider();
    let shop = &state.config().shop;
    let unsigned = match (shop.allow_unsigned, provider.simulates_payments()) {
        (false, _) => "none",
        (true, true) => "any",
        (true, false) => "without_order_id",
    };
    Json(serde_json::json!({
        "status": "ok",
        "provider": provider.name(),
        "demo_payments": provider.simulates_payments(),
        "signed_orders": state.order_secret().is_some(),
        "unsigned_orders": unsigned,
        "shop_webhooks": shop.webhook.is_some(),
        "rate_source": state.config().rates.source.as_ref().map(crate::rates::RateSource::name),
    }))
}

/// `POST /api/dev/orders` (demo provider only): sign a demo order token, as a shop's server
/// would. Body: `order_id` (default: a fresh `demo-…`), `amount_sat`, `min_sat` + `max_sat`, or
/// `currency` + `fiat_amount`,
/// `description`, `ttl_secs` (default 3600).
async fn dev_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    require_json(&headers)?;
    let body = body.map_err(body_error)?;
    let value: Value = serde_json::from_slice(&body).map_err(|_| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            "The request body is not valid JSON.",
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(AppError::bad_request(
            ErrorCode::InvalidJson,
            "The request body must be a JSON object.",
        ));
    };
    let secret = state
        .order_secret()
        .ok_or_else(|| AppError::internal("demo provider without an order key"))?;
    let max = state.config().max_amount_sat;
    let order_id = match parse_order_id(&obj)? {
        Some(o) => o,
        None => {
            let id = checkout::new_invoice_id();
            format!("demo-{}", &id[checkout::ID_PREFIX.len()..][..12])
        }
    };
    let amount = match (field(&obj, "min_sat"), field(&obj, "max_sat")) {
        _ if parse_fiat(&obj)?.is_some() => TokenAmount::Fiat(
            parse_fiat(&obj)?
                .ok_or_else(|| AppError::internal("fiat price vanished"))?
                .price(),
        ),
        (Some(lo), Some(hi)) => {
            let (lo, hi) = (lo.as_u64().unwrap_or(0), hi.as_u64().unwrap_or(0));
            if lo == 0 || lo > hi || hi > max {
                return Err(AppError::bad_request(
                    ErrorCode::InvalidAmount,
                    "min_sat and max_sat must be whole numbers, 1 <= min_sat <= max_sat.",
                ));
            }
            TokenAmount::Range {
                min_sat: lo,
                max_sat: hi,
            }
        }
        _ => TokenAmount::Exact(parse_amount(&obj, max)?),
    };
    let ttl = field(&obj, "ttl_secs")
        .map_or(Some(3600), Value::as_u64)
        .filter(|t| (1..=86_400).contains(t))
        .ok_or_else(|| {
            AppError::bad_request(ErrorCode::InvalidTtl, "ttl_secs must be from 1 to 86400.")
        })?;
    let now = state.now();
    let claims = order_token::OrderClaims {
        order_id: order_id.clone(),
        amount,
        description: parse_description(&obj)?,
        exp: now + ttl,
        iat: Some(now),
    };
    Ok(Json(serde_json::json!({
        "order_id": order_id,
        "order_token": order_token::sign(&claims, secret),
    })))
}

async fn create_invoice(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CreateInvoiceResponse>), AppError> {
    require_json(&headers)?;
    let body = body.map_err(body_error)?;
    let max = state
        .provider()
        .max_amount_sat()
        .map_or(state.config().max_amount_sat, |p| {
            p.min(state.config().max_amount_sat)
        });
    let draft = create_order(&state, &parse_object(&body)?, max)?;
    let order = price(&state, draft, max).await?;
    let (inv, created) = checkout::create(&state, order).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(create_response(&inv, state.now_ms()))))
}

async fn get_invoice(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<InvoiceStatusResponse>, AppError> {
    let Path(id) = id.map_err(|_| AppError::invoice_not_found())?;
    let inv = checkout::status(&state, &id).await?;
    Ok(Json(answer(&state, &inv)))
}

async fn dev_pay(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<InvoiceStatusResponse>, AppError> {
    let Path(id) = id.map_err(|_| AppError::invoice_not_found())?;
    let inv = checkout::simulate_payment(&state, &id).await?;
    Ok(Json(answer(&state, &inv)))
}

/// `POST /api/dev/invoices/{id}/onchain` (demo only), `{"confirmations": n}`: an on-chain payment
/// to a unified invoice's address, seen in the mempool (0) or with `n` confirmations.
async fn dev_onchain(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InvoiceStatusResponse>, AppError> {
    let Path(id) = id.map_err(|_| AppError::invoice_not_found())?;
    require_json(&headers)?;
    let body = body.map_err(body_error)?;
    let confirmations = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("confirmations").and_then(Value::as_u64))
        .and_then(|c| u32::try_from(c).ok())
        .ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::InvalidJson,
                "Send {\"confirmations\": n}, n a whole number (0: in the mempool).",
            )
        })?;
    let inv = checkout::simulate_onchain(&state, &id, confirmations).await?;
    Ok(Json(answer(&state, &inv)))
}

fn answer(state: &AppState, inv: &Invoice) -> InvoiceStatusResponse {
    status_response(inv, state.now_ms(), state.config().onchain_confirmations)
}

async fn webhook(
    State(state): State<AppState>,
    provider: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, AppError> {
    let Path(provider) = provider.map_err(|_| AppError::route_not_found())?;
    let body = body.map_err(body_error)?;
    Ok(Json(
        checkout::webhook(&state, &provider, &body, &headers).await?,
    ))
}

fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if ok {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the request as JSON, with Content-Type: application/json.",
        ))
    }
}

fn body_error(r: BytesRejection) -> AppError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("The request body must be at most {BODY_LIMIT} bytes."),
        )
    } else {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            "The request body could not be read.",
        )
    }
}

/// Parse and check a create request body (the rules are in the module docs). `max_amount_sat`
/// is the effective ceiling. An `order_token` is not verified here: the handler of
/// `POST /api/invoices` verifies it (module docs, "Signed orders").
/// Only sat-priced bodies: a fiat price needs a rate, which the handler gets (`invalid_amount`
/// here).
pub fn parse_create(body: &[u8], max_amount_sat: u64) -> Result<NewOrder, AppError> {
    let d = unsigned_order(&parse_object(body)?, max_amount_sat)?;
    match d.price {
        Price::Sat(a) => Ok(d.with(a, None)),
        Price::Fiat(_) => Err(AppError::bad_request(
            ErrorCode::InvalidAmount,
            "A fiat price is converted when the invoice is created.",
        )),
    }
}

/// What is to be paid: sat, or a fiat price converted at invoice time.
#[derive(Debug, Clone, Copy)]
enum Price {
    Sat(u64),
    Fiat(crate::fiat::FiatAmount),
}

/// A checked order before its price is in sat.
#[derive(Debug, Clone)]
struct Draft {
    price: Price,
    description: String,
    order_id: Option<String>,
    expiry_secs: u32,
    unified: bool,
}

impl Draft {
    fn with(self, amount_sat: u64, fiat: Option<crate::fiat::FiatQuote>) -> NewOrder {
        NewOrder {
            amount_msat: amount_sat * 1000,
            description: self.description,
            order_id: self.order_id,
            expiry_secs: self.expiry_secs,
            fiat,
            unified: self.unified,
        }
    }
}

/// The order in sat: a fiat price converted at the current rate ([`crate::rates`]), rounded up
/// to a whole sat ([`crate::fiat::to_sat`]); the result bounded by `max_amount_sat` as any amount.
async fn price(state: &AppState, draft: Draft, max_amount_sat: u64) -> Result<NewOrder, AppError> {
    use crate::rates::RateError;
    let f = match draft.price {
        Price::Sat(a) => return Ok(draft.with(a, None)),
        Price::Fiat(f) => f,
    };
    let (quote, rate) = state
        .rates()
        .fiat_quote(f, state.now())
        .await
        .map_err(|e| match e {
            RateError::NotConfigured => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::FiatNotConfigured,
                "This shop takes prices in sat only (no RATE_SOURCE).",
            ),
            RateError::NoRate => AppError::bad_request(
                ErrorCode::UnsupportedCurrency,
                format!("This shop has no rate for {}.", f.currency.code()),
            ),
            RateError::Unavailable(reason) => {
                tracing::warn!(%reason, currency = f.currency.code(), "fiat price refused: no fresh rate");
                AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::RateUnavailable,
                    "No current exchange rate is available, so this price cannot be converted now. Try again in a minute.",
                )
            }
        })?;
    let sat = crate::fiat::to_sat(f, rate)
        .filter(|s| *s <= max_amount_sat)
        .ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::AmountTooLarge,
                format!("{f} is more than the largest invoice ({max_amount_sat} sat) at the current rate."),
            )
        })?;
    Ok(draft.with(sat, Some(quote)))
}

/// `currency` + `fiat_amount` of a body, if it states a fiat price.
fn parse_fiat(obj: &Map<String, Value>) -> Result<Option<crate::fiat::FiatAmount>, AppError> {
    use crate::fiat::{Currency, FiatAmount, FiatError};
    let invalid = |m: String| AppError::bad_request(ErrorCode::InvalidFiatAmount, m);
    match (field(obj, "currency"), field(obj, "fiat_amount")) {
        (None, None) => Ok(None),
        (Some(Value::String(c)), Some(Value::String(a))) => {
            FiatAmount::parse(c, a).map(Some).map_err(|e| match e {
                FiatError::Currency => AppError::bad_request(
                    ErrorCode::UnsupportedCurrency,
                    format!("The currency must be one of {}.", Currency::supported()),
                ),
                _ => invalid(format!(
                    "fiat_amount must be a decimal string such as \"4.50\", above zero, with at most {} decimals for {c}.",
                    Currency::parse(c).map_or(2, Currency::minor_digits)
                )),
            })
        }
        (Some(_), Some(_)) => Err(invalid(
            "currency and fiat_amount must be strings, such as \"EUR\" and \"4.50\" (never a JSON number).".into(),
        )),
        _ => Err(invalid("A fiat price needs both currency and fiat_amount.".into())),
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, AppError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            "The request body is not valid JSON.",
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(AppError::bad_request(
            ErrorCode::InvalidJson,
            "The request body must be a JSON object.",
        ));
    };
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let shown: String = unknown.chars().take(40).collect();
        return Err(AppError::bad_request(
            ErrorCode::UnknownField,
            format!(
                "Unknown field \"{shown}\": the accepted fields are amount_sat, currency, fiat_amount, description, order_id, expiry_secs, order_token and unified."
            ),
        ));
    }
    Ok(obj)
}

fn unsigned_order(obj: &Map<String, Value>, max_amount_sat: u64) -> Result<Draft, AppError> {
    let price = match parse_fiat(obj)? {
        Some(_) if field(obj, "amount_sat").is_some() => {
            return Err(AppError::bad_request(
                ErrorCode::InvalidFiatAmount,
                "State either amount_sat or a fiat price (currency and fiat_amount), not both.",
            ))
        }
        Some(f) => Price::Fiat(f),
        None => Price::Sat(parse_amount(obj, max_amount_sat)?),
    };
    Ok(Draft {
        price,
        description: parse_description(obj)?,
        order_id: parse_order_id(obj)?,
        expiry_secs: parse_expiry(obj)?,
        unified: parse_unified(obj)?,
    })
}

fn parse_unified(obj: &Map<String, Value>) -> Result<bool, AppError> {
    match field(obj, "unified") {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(AppError::bad_request(
            ErrorCode::InvalidUnified,
            "unified must be true or false.",
        )),
    }
}

/// The order a create request asks for, under the signing policy: with an `order_token`, what the
/// verified token states (the body may repeat it, never change it); without one, an unsigned
/// order where this server allows those (see `crate::shop`).
fn create_order(
    state: &AppState,
    obj: &Map<String, Value>,
    max_amount_sat: u64,
) -> Result<Draft, AppError> {
    let token = match field(obj, "order_token") {
        None => {
            let order = unsigned_order(obj, max_amount_sat)?;
            let shop = &state.config().shop;
            if !shop.allow_unsigned {
                return Err(token_error(
                    ErrorCode::MissingToken,
                    "This server accepts only orders signed by the shop (order_token).",
                ));
            }
            let shop_order = order
                .order_id
                .as_deref()
                .is_some_and(|o| !order_token::is_widget_key(o));
            if shop_order && !state.provider().simulates_payments() {
                return Err(token_error(
                    ErrorCode::MissingToken,
                    "An order id must come in an order_token signed by the shop.",
                ));
            }
            return Ok(order);
        }
        Some(Value::String(t)) => t,
        Some(_) => {
            return Err(token_error(
                ErrorCode::InvalidToken,
                "The order token must be a string.",
            ))
        }
    };
    let secret = state.order_secret().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::SigningNotConfigured,
            "This server has no CHECKOUT_SECRET and cannot check order tokens.",
        )
    })?;
    let claims = order_token::verify(token, secret, state.now(), max_amount_sat).map_err(|e| {
        tracing::info!(reason = %e, "order token refused");
        match e {
            TokenError::Expired => {
                token_error(ErrorCode::TokenExpired, "The order token has expired.")
            }
            _ => token_error(
                ErrorCode::InvalidToken,
                "The order token is malformed, not signed by this shop, or not valid now.",
            ),
        }
    })?;
    let mismatch = |what: &str| {
        AppError::conflict(
            ErrorCode::TokenMismatch,
            format!("The request's {what} differs from the signed order's."),
        )
    };
    if parse_order_id(obj)?.is_some_and(|o| o != claims.order_id) {
        return Err(mismatch("order_id"));
    }
    if field(obj, "description").is_some() && parse_description(obj)? != claims.description {
        return Err(mismatch("description"));
    }
    let body_fiat = parse_fiat(obj)?;
    // The token's price was checked against this backend's currencies when it was read.
    let claim_fiat = match &claims.amount {
        TokenAmount::Fiat(f) => Some(crate::fiat::FiatAmount::from_price(f).map_err(|_| {
            token_error(
                ErrorCode::InvalidToken,
                "The signed order's fiat price is not usable.",
            )
        })?),
        _ => None,
    };
    if let Some(f) = claim_fiat {
        if field(obj, "amount_sat").is_some() || body_fiat.is_some_and(|b| b != f) {
            return Err(mismatch("price"));
        }
    } else if body_fiat.is_some() {
        return Err(mismatch("price"));
    }
    let price = match claims.amount {
        TokenAmount::Fiat(_) => match claim_fiat {
            Some(f) => Price::Fiat(f),
            None => return Err(AppError::internal("fiat claim without its price")),
        },
        TokenAmount::Exact(a) => {
            if field(obj, "amount_sat").is_some() && parse_amount(obj, max_amount_sat)? != a {
                return Err(mismatch("amount_sat"));
            }
            Price::Sat(a)
        }
        TokenAmount::Range { min_sat, max_sat } => {
            let a = parse_amount(obj, max_amount_sat)?;
            if !(min_sat..=max_sat).contains(&a) {
                return Err(AppError::bad_request(
                    ErrorCode::AmountOutOfRange,
                    format!("The amount must be from {min_sat} to {max_sat} sat for this order."),
                ));
            }
            Price::Sat(a)
        }
    };
    Ok(Draft {
        price,
        description: claims.description,
        order_id: Some(claims.order_id),
        expiry_secs: parse_expiry(obj)?,
        unified: parse_unified(obj)?,
    })
}

fn token_error(code: ErrorCode, message: &'static str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, code, message)
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn parse_amount(obj: &Map<String, Value>, max: u64) -> Result<u64, AppError> {
    let invalid = |m: &'static str| AppError::bad_request(ErrorCode::InvalidAmount, m);
    let too_small = || {
        AppError::bad_request(
            ErrorCode::AmountTooSmall,
            "The amount must be at least 1 sat.",
        )
    };
    match field(obj, "amount_sat") {
        None => Err(invalid(
            "amount_sat is required: a whole number of sat, such as 2500.",
        )),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                if v == 0 {
                    Err(too_small())
                } else if v > max {
                    Err(AppError::bad_request(
                        ErrorCode::AmountTooLarge,
                        format!("The amount must be at most {max} sat."),
                    ))
                } else {
                    Ok(v)
                }
            } else if n.as_i64().is_some() {
                Err(too_small())
            } else {
                Err(invalid(
                    "The amount must be a whole number of sat, without a decimal point.",
                ))
            }
        }
        Some(Value::String(_)) => Err(invalid(
            "The amount must be a JSON number of sat, not text in quotes.",
        )),
        Some(_) => Err(invalid(
            "The amount must be a whole number of sat, such as 2500.",
        )),
    }
}

fn parse_description(obj: &Map<String, Value>) -> Result<String, AppError> {
    match field(obj, "description") {
        None => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= MAX_DESCRIPTION_BYTES => Ok(s.clone()),
        Some(Value::String(_)) => Err(AppError::bad_request(
            ErrorCode::DescriptionTooLong,
            format!("The description must be at most {MAX_DESCRIPTION_BYTES} bytes of UTF-8."),
        )),
        Some(_) => Err(AppError::bad_request(
            ErrorCode::InvalidDescription,
            "The description must be text.",
        )),
    }
}

fn parse_order_id(obj: &Map<String, Value>) -> Result<Option<String>, AppError> {
    match field(obj, "order_id") {
        None => Ok(None),
        Some(Value::String(s)) if order_token::is_order_id(s) => Ok(Some(s.clone())),
        Some(_) => Err(AppError::bad_request(
            ErrorCode::InvalidOrderId,
            format!(
                "The order id must be 1 to {MAX_ORDER_ID_CHARS} characters: letters, digits, '.', '_', ':' or '-'."
            ),
        )),
    }
}

fn parse_expiry(obj: &Map<String, Value>) -> Result<u32, AppError> {
    match field(obj, "expiry_secs") {
        None => Ok(DEFAULT_EXPIRY_SECS),
        Some(v) => v
            .as_u64()
            .filter(|s| (1..=u64::from(MAX_EXPIRY_SECS)).contains(s))
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::InvalidExpiry,
                    format!(
                        "The expiry must be a whole number of seconds from 1 to {MAX_EXPIRY_SECS}."
                    ),
                )
            }),
    }
}
