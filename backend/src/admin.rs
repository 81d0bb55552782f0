//! The reconciliation API for the shop's server, under `/api/admin`, behind
//! `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time). Without `ADMIN_TOKEN` every
//! route answers 503 `admin_not_configured`; a missing or wrong token 401 `unauthorized`.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /api/admin/orders/{order_id}` | `{"order_id", "paid": bool, "invoices": [record…]}` oldest first; 404 `not_found` for an order without invoices |
//! | `GET /api/admin/payments?since=<unix>&cursor=<c>&limit=<n>` | `{"payments": [record…], "next_cursor": c or null}`: paid invoices with `paid_at >= since`, by `paid_at` then id, `limit` 1..=500 (default 100) |
//!
//! A record: `invoice_id`, `order_id`, `status`, `amount_msat`, `amount_paid_msat`, `description`,
//! `payment_hash`, `preimage` (paid only), `created_at`, `expires_at`, `paid_at`, `provider`,
//! `provider_ref`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::store::{Invoice, Status};

/// Default page size of `/payments`.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size of `/payments`.
pub const MAX_LIMIT: u32 = 500;

/// The routes (nested under `/api/admin`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{order_id}", get(order))
        .route("/payments", get(payments))
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(expected) = &state.config().shop.admin_token else {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::AdminNotConfigured,
            "The admin API is off: set ADMIN_TOKEN to use it.",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Hash both sides so the comparison takes the same time whatever the lengths.
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.expose().as_bytes());
    if bool::from(a.ct_eq(&b)) && !given.is_empty() {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "Send Authorization: Bearer <ADMIN_TOKEN>.",
        ))
    }
}

/// One invoice as the shop sees it: in the admin API and, with the event's own fields, in every
/// shop notification (`crate::outbox::event_body`).
pub fn record(inv: &Invoice) -> Value {
    let paid = inv.status == Status::Paid;
    json!({
        "invoice_id": inv.id,
        "order_id": inv.order_id,
        "status": inv.status.as_str(),
        "amount_msat": inv.amount_msat,
        "amount_paid_msat": inv.amount_paid_msat,
        "description": inv.description,
        "payment_hash": inv.payment_hash.map(hex::encode),
        "preimage": inv.preimage.filter(|_| paid).map(hex::encode),
        "created_at": inv.created_at,
        "expires_at": inv.expires_at,
        "paid_at": inv.paid_at.filter(|_| paid),
        "amount_received_msat": inv.amount_received_msat,
        "underpaid_at": inv.underpaid_at,
        // Paid after its deadline; `paid_late` also when it had already been marked expired.
        "late": paid && (inv.paid_late || inv.paid_at.is_some_and(|p| p >= inv.expires_at)),
        "provider": inv.provider,
        "provider_ref": inv.provider_ref,
        // A fiat-priced invoice's price and the rate it was converted at; null in sat.
        "fiat": inv.fiat,
        // A unified invoice's on-chain address; null otherwise.
        "onchain_address": inv.onchain_address,
    })
}

async fn order(
    State(state): State<AppState>,
    headers: HeaderMap,
    order_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, AppError> {
    authorize(&state, &headers)?;
    let not_found = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "There is no invoice for this order.",
        )
    };
    let Path(order_id) = order_id.map_err(|_| not_found())?;
    if !crate::order_token::is_order_id(&order_id) {
        return Err(not_found());
    }
    let id = order_id.clone();
    let invoices = state.with_store(move |s| s.invoices_for_order(&id)).await?;
    if invoices.is_empty() {
        return Err(not_found());
    }
    Ok(Json(json!({
        "order_id": order_id,
        "paid": invoices.iter().any(|i| i.status == Status::Paid),
        "invoices": invoices.iter().map(record).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct PaymentsQuery {
    since: Option<u64>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn payments(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PaymentsQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    authorize(&state, &headers)?;
    let bad = |m: &'static str| AppError::bad_request(ErrorCode::InvalidQuery, m);
    let Query(q) = query.map_err(|_| {
        bad("Query: since (Unix seconds), cursor (from next_cursor) and limit (1 to 500).")
    })?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad("limit must be from 1 to 500."));
    }
    // The cursor is `<paid_at>.<invoice id>` of the last row of the previous page.
    let (since, after) = match q.cursor.as_deref() {
        Some(c) => {
            let (t, id) = c
                .split_once('.')
                .ok_or_else(|| bad("The cursor is not one this server gave."))?;
            let t: u64 = t
                .parse()
                .map_err(|_| bad("The cursor is not one this server gave."))?;
            (t, id.to_owned())
        }
        // `since` is inclusive: start just before it (ids sort after "").
        None => (q.since.unwrap_or(0), String::new()),
    };
    let rows = if after.is_empty() {
        let from = since;
        state
            .with_store(move |s| {
                // paid_at >= since: (paid_at > since-1) or (paid_at = since-1 and id > "")
                match from.checked_sub(1) {
                    Some(before) => s.paid_since(before, "\u{10FFFF}", limit),
                    None => s.paid_since(0, "", limit),
                }
            })
            .await?
    } else {
        state
            .with_store(move |s| s.paid_since(since, &after, limit))
            .await?
    };
    let next_cursor = (rows.len() == limit as usize)
        .then(|| rows.last())
        .flatten()
        .map(|i| format!("{}.{}", i.paid_at.unwrap_or(0), i.id));
    Ok(Json(json!({
        "payments": rows.iter().map(record).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}
