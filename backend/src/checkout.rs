//! The checkout rules between HTTP and the store: idempotent creation, status with expiry decided
//! here, settlement, the demo "pay" button and webhooks. Handlers in [`crate::api`] only parse and
//! answer; everything that decides lives here.

use std::str::FromStr;

use axum::http::HeaderMap;
use bitcoin::hashes::{sha256, Hash};
use lightning_invoice::Bolt11Invoice;
use rand::RngCore;

use std::time::Instant;

use crate::error::{AppError, ErrorCode};
use crate::lookups::{Freshness, Outcome};
use crate::provider::{CreatedInvoice, NewInvoice, ProviderError, ProviderStatus};
use crate::state::AppState;
use crate::store::{Completion, Invoice, Reservation, Reserved, Status, Transition};

/// Prefix of every invoice id.
pub const ID_PREFIX: &str = "inv_";
/// Random characters after the prefix: 26 base32 characters carry 128 random bits.
pub const ID_RANDOM_LEN: usize = 26;

/// A validated request for an invoice (see [`crate::api`] for the wire rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Amount in msat (a whole number of sat).
    pub amount_msat: u64,
    /// Description, at most 639 bytes.
    pub description: String,
    /// The shop's order id.
    pub order_id: Option<String>,
    /// Seconds until expiry.
    pub expiry_secs: u32,
    /// A fiat-priced order's price and the rate `amount_msat` was converted at.
    pub fiat: Option<crate::fiat::FiatQuote>,
    /// Ask the provider for an on-chain address too (a unified BIP21 QR).
    pub unified: bool,
}

/// A fresh invoice id: `inv_` + 26 characters of lower-case RFC 4648 base32 (URL-safe).
pub fn new_invoice_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut id = String::with_capacity(ID_PREFIX.len() + ID_RANDOM_LEN);
    id.push_str(ID_PREFIX);
    id.push_str(&base32_lower(&bytes));
    id
}

/// Whether `id` has the shape of an invoice id (anything else is answered 404 without a lookup).
pub fn is_invoice_id(id: &str) -> bool {
    id.strip_prefix(ID_PREFIX).is_some_and(|rest| {
        rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))
    })
}

fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The store's reservation of a new invoice `id` for `order`.
fn reservation<'a>(
    id: &'a str,
    order: &'a NewOrder,
    idempotency_key: [u8; 16],
    provider: &'a str,
    now: u64,
    grace_secs: u64,
) -> Reservation<'a> {
    Reservation {
        id,
        order_id: order.order_id.as_deref(),
        amount_msat: order.amount_msat,
        description: &order.description,
        expiry_secs: order.expiry_secs,
        idempotency_key,
        provider,
        now,
        grace_secs,
        fiat: order.fiat.as_ref(),
    }
}

/// Create an invoice, or return the open one of the same order. `true` if this call created it.
pub async fn create(state: &AppState, order: NewOrder) -> Result<(Invoice, bool), AppError> {
    // Concurrent creates for one order wait here for the first one's provider call.
    let _order_guard = match &order.order_id {
        Some(o) => Some(state.order_lock(o).lock_owned().await),
        None => None,
    };
    let now = state.now();
    let provider = state.provider().name();
    let id = new_invoice_id();
    let mut key = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let grace_secs = state.provider().callback_grace_secs();
    let mut asked_about_due = false;
    let reserved = loop {
        // SQLite: straight to its writer thread, no blocking thread in between.
        let queued = state
            .store()
            .reserve_queued(&reservation(&id, &order, key, provider, now, grace_secs));
        let reserved = if let Some(queued) = queued {
            queued.await?
        } else {
            let (order, id) = (order.clone(), id.clone());
            state
                .with_store(move |s| {
                    s.reserve(&reservation(&id, &order, key, provider, now, grace_secs))
                })
                .await?
        };
        match reserved {
            // Past its deadline: ask the provider before it may be expired (it may have been
            // paid at the last second), then reserve again.
            Reserved::Due(due) if !asked_about_due => {
                asked_about_due = true;
                settle_due(state, due).await?;
            }
            Reserved::Due(_) => return Err(provider_unreachable()),
            other => break other,
        }
    };
    let row = match reserved {
        Reserved::Paid(_) => {
            return Err(AppError::conflict(
                ErrorCode::OrderPaid,
                "This order has already been paid.",
            ))
        }
        Reserved::Settling(_) => {
            return Err(AppError::conflict(
                ErrorCode::OrderSettling,
                "The last invoice for this order has just expired and its payment may still be confirmed. Try again in two minutes.",
            ))
        }
        Reserved::Conflict(open) => {
            return Err(AppError::conflict(
                ErrorCode::OrderConflict,
                format!(
                    "This order already has an open invoice for {} sat; it cannot be changed until that one expires.",
                    open.amount_sat()
                ),
            ))
        }
        Reserved::Open(open) if open.is_complete() => return Ok((open, false)),
        // New, or reserved earlier by a call whose provider answer was lost: (re)ask the
        // provider with the stored idempotency key.
        Reserved::Open(row) | Reserved::New(row) => row,
        Reserved::Due(_) => return Err(provider_unreachable()),
    };
    let req = NewInvoice {
        invoice_id: row.id.clone(),
        idempotency_key: row.idempotency_key,
        amount_msat: row.amount_msat,
        description: row.description.clone(),
        expiry_secs: row.expiry_secs,
        order_id: row.order_id.clone(),
        now,
        unified: order.unified,
    };
    let created = match state.provider().create_invoice(&req).await {
        Ok(c) => c,
        Err(e @ ProviderError::Abandoned(_)) => {
            // The key is burnt and the first answer is lost for good: retire the reservation so
            // the next create for this order gets a new row and a new key.
            let id = row.id.clone();
            state.with_store(move |s| s.mark_expired(&id)).await?;
            return Err(AppError::provider(e));
        }
        Err(e) => return Err(AppError::provider(e)),
    };
    let given = created.onchain_address.clone();
    let mut completion = check_created(state, &req, created).map_err(AppError::provider)?;
    if order.unified && completion.payment_request.is_some() {
        if let Some((address, watch_from)) = onchain_address(state, &req, given).await {
            if let Some(height) = watch_from {
                // Watched before it is shown (crate::onchain): no payment to it goes unseen.
                let (id, until) = (
                    row.id.clone(),
                    completion
                        .expires_at
                        .saturating_add(crate::onchain::WATCH_AFTER_EXPIRY_SECS),
                );
                state
                    .with_store(move |s| s.watch_onchain(&id, height, until))
                    .await?;
            }
            completion.onchain_address = Some(address);
        }
    }
    let ours = (
        completion.payment_request.clone(),
        completion.pay_url.clone(),
    );
    let queued = state.store().complete_queued(&row.id, &completion);
    let row = if let Some(queued) = queued {
        queued.await?
    } else {
        let id = row.id.clone();
        state
            .with_store(move |s| s.complete(&id, &completion))
            .await?
    }
    .ok_or_else(|| AppError::internal("reserved invoice vanished"))?;
    if !row.is_complete() {
        return Err(AppError::internal(
            "invoice left incomplete after the provider answered",
        ));
    }
    // Another instance may have completed the same reservation first (`complete` keeps the first
    // answer): then this call did not create it, and answers it as the open invoice.
    let created = (row.payment_request.clone(), row.pay_url.clone()) == ours;
    Ok((row, created))
}

/// The provider's on-chain address for a unified invoice, checked to be an address of the
/// backend's network, and the block height the backend watches it from if it watches it; `None`
/// (the invoice stays Lightning-only) when it gives none, fails, or gives a bad one.
async fn onchain_address(
    state: &AppState,
    req: &NewInvoice,
    given: Option<String>,
) -> Option<(String, Option<u64>)> {
    let asked = match given {
        Some(address) => Ok(Some(crate::provider::OnchainAddress {
            address,
            watch_from_height: None,
        })),
        None => state.provider().onchain_address(req).await,
    };
    let (addr, watch_from) = match asked {
        Ok(a) => {
            let a = a?;
            (a.address, a.watch_from_height)
        }
        Err(e) => {
            tracing::warn!(id = %req.invoice_id, error = %e, "no on-chain address: the invoice stays Lightning-only");
            return None;
        }
    };
    let network = match state.config().network {
        crate::config::Network::Bitcoin => bitcoin::Network::Bitcoin,
        crate::config::Network::Testnet => bitcoin::Network::Testnet,
        crate::config::Network::Signet => bitcoin::Network::Signet,
        crate::config::Network::Regtest => bitcoin::Network::Regtest,
    };
    match bitcoin::Address::from_str(addr.trim()).map(|a| a.require_network(network)) {
        Ok(Ok(a)) => Some((a.to_string(), watch_from)),
        _ => {
            tracing::warn!(id = %req.invoice_id, "the provider's on-chain address is not one of this network; not shown");
            None
        }
    }
}

/// Check a provider's answer before anything is stored or shown: the invoice must be exactly what
/// was asked (amount, network, hash) and still valid.
fn check_created(
    state: &AppState,
    req: &NewInvoice,
    c: CreatedInvoice,
) -> Result<Completion, ProviderError> {
    let bad = |m: &str| ProviderError::BadResponse(m.to_owned());
    let (payment_hash, expires_at) = match (&c.payment_request, &c.pay_url) {
        (Some(pr), None) => {
            let inv = Bolt11Invoice::from_str(pr.trim())
                .map_err(|_| bad("the invoice does not decode or its signature is invalid"))?;
            if inv.currency() != state.config().network.currency() {
                return Err(bad("the invoice is for another network"));
            }
            if inv.amount_milli_satoshis() != Some(req.amount_msat) {
                return Err(bad("the invoice amount differs from the amount asked"));
            }
            let hash = inv.payment_hash().to_byte_array();
            if c.payment_hash.is_some_and(|h| h != hash) {
                return Err(bad(
                    "the invoice's payment hash differs from the one reported",
                ));
            }
            let own = inv
                .duration_since_epoch()
                .as_secs()
                .saturating_add(inv.expiry_time().as_secs());
            // A provider that states an earlier deadline than the invoice's own (AlphaPo's
            // fixed 15 minutes) is believed: the earlier of the two.
            let expires_at = c.expires_at.map_or(own, |p| p.min(own));
            (Some(hash), expires_at)
        }
        (None, Some(url)) => {
            // The one pay-link rule (crate::payurl): https (http only to a loopback literal),
            // and only to the provider's own host.
            let host = state
                .config()
                .pay_link_host
                .clone()
                .or_else(|| state.provider().pay_link_host())
                .unwrap_or_default();
            if !crate::payurl::pay_url_allowed(url, &host) {
                return Err(bad(
                    "the pay link is not an https URL on the provider's configured host",
                ));
            }
            let expires_at = c
                .expires_at
                .unwrap_or(req.now.saturating_add(u64::from(req.expiry_secs)));
            (c.payment_hash, expires_at)
        }
        _ => return Err(bad("expected exactly one of an invoice and a pay link")),
    };
    if expires_at <= req.now {
        return Err(bad("the invoice is already expired"));
    }
    if let Some(p) = c.preimage {
        if payment_hash != Some(sha256::Hash::hash(&p).to_byte_array()) {
            return Err(bad("the preimage does not match the payment hash"));
        }
    }
    Ok(Completion {
        payment_request: c.payment_request.map(|s| s.trim().to_ascii_lowercase()),
        pay_url: c.pay_url,
        payment_hash,
        preimage: c.preimage,
        provider_ref: c.provider_ref,
        expires_at,
        onchain_address: None,
    })
}

/// The invoice `id` as it stands now: asks the provider about a pending one (coalesced, see
/// [`crate::lookups`]; answered from the store when the provider is slower than `POLL_WAIT_MS`),
/// and marks it expired once its deadline has passed and the provider confirmed it unpaid.
pub async fn status(state: &AppState, id: &str) -> Result<Invoice, AppError> {
    if !is_invoice_id(id) {
        return Err(AppError::invoice_not_found());
    }
    let id = id.to_owned();
    let inv = state
        .with_store(move |s| s.get(&id))
        .await?
        .ok_or_else(AppError::invoice_not_found)?;
    refresh(state, inv).await
}

async fn refresh(state: &AppState, inv: Invoice) -> Result<Invoice, AppError> {
    if inv.status != Status::Pending {
        return Ok(inv);
    }
    if is_due(state, &inv) {
        // A provider that cannot answer leaves it pending: the stored state answers.
        return match settle_due(state, inv.clone()).await {
            Ok(row) => Ok(row),
            Err(e) if e.code == "provider_unreachable" => reread(state, inv).await,
            Err(e) => Err(e),
        };
    }
    if inv.is_complete() {
        let wait = state.config().limits.poll_wait;
        state
            .lookups()
            .lookup(state, &inv, Freshness::Recent, wait)
            .await;
    }
    reread(state, inv).await
}

/// The row as the store has it now (`inv` if it vanished meanwhile).
async fn reread(state: &AppState, inv: Invoice) -> Result<Invoice, AppError> {
    let id = inv.id.clone();
    Ok(state.with_store(move |s| s.get(&id)).await?.unwrap_or(inv))
}

/// Pending, and past its deadline plus the provider's callback grace. An invoice with an
/// on-chain payment seen is never due: it waits for the confirmations.
fn is_due(state: &AppState, inv: &Invoice) -> bool {
    inv.status == Status::Pending
        && inv.onchain_seen_at.is_none()
        && state.now()
            >= inv
                .expires_at
                .saturating_add(state.provider().callback_grace_secs())
}

fn provider_unreachable() -> AppError {
    AppError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ProviderUnreachable,
        "The payment provider cannot confirm right now whether the last invoice for this order was paid. Please try again in a minute.",
    )
}

/// A pending invoice past its deadline: ask the provider (an answer asked at or after the
/// deadline), apply what it says, and expire it only if it is still pending then. A provider
/// that cannot answer leaves it pending: `503 provider_unreachable`.
async fn settle_due(state: &AppState, inv: Invoice) -> Result<Invoice, AppError> {
    if inv.onchain_seen_at.is_some() {
        // Paid on-chain, awaiting confirmations: not expired, and no second invoice meanwhile.
        return Err(provider_unreachable());
    }
    let wait = state.config().limits.poll_wait;
    let lookups = state.lookups();
    let mut outcome = lookups.lookup(state, &inv, Freshness::Recent, wait).await;
    if outcome
        .as_ref()
        .is_some_and(|o| o.asked_at < inv.expires_at)
    {
        // That answer predates the deadline: a payment may have come after it.
        outcome = lookups
            .lookup(state, &inv, Freshness::StartedAfter(Instant::now()), wait)
            .await;
    }
    let answered = outcome
        .as_ref()
        .is_some_and(|o| o.answered() && o.asked_at >= inv.expires_at);
    if !answered {
        tracing::warn!(id = %inv.id, "invoice past its deadline left pending: the provider did not answer");
        return Err(provider_unreachable());
    }
    let now = state.now();
    let id = inv.id.clone();
    let row = state
        .with_store(move |s| -> Result<Option<Invoice>, AppError> {
            match s.get(&id)? {
                // An on-chain payment seen by that lookup: it waits for its confirmations.
                Some(row) if row.status == Status::Pending && row.onchain_seen_at.is_none() => {
                    Ok(s.expire_if_due(&id, now)?.map(Transition::into_invoice))
                }
                other => Ok(other),
            }
        })
        .await?
        .ok_or_else(AppError::invoice_not_found)?;
    Ok(row)
}

/// Apply what the provider reports to a stored invoice; the row afterwards. A payment below the
/// amount asked is recorded as an underpayment and never makes the invoice paid; a full payment
/// on an invoice already marked expired makes it paid with `paid_late`.
pub(crate) async fn apply_reported(
    state: &AppState,
    inv: &Invoice,
    reported: ProviderStatus,
) -> Result<Invoice, AppError> {
    apply(state, inv, reported).await
}

async fn apply(
    state: &AppState,
    inv: &Invoice,
    reported: ProviderStatus,
) -> Result<Invoice, AppError> {
    let id = inv.id.clone();
    let transition = match reported {
        ProviderStatus::Pending => return Ok(inv.clone()),
        // The Lightning invoice cancelled while an on-chain payment waits for its
        // confirmations: not expired (crate::onchain decides).
        ProviderStatus::Expired if inv.onchain_seen_at.is_some() => return Ok(inv.clone()),
        ProviderStatus::Expired => state.with_store(move |s| s.mark_expired(&id)).await?,
        ProviderStatus::Paid {
            preimage,
            amount_paid_msat,
            paid_at,
        } => {
            if let Some(received) = amount_paid_msat.filter(|a| *a < inv.amount_msat) {
                return record_underpayment(state, inv, received).await;
            }
            let preimage = preimage.filter(|p| {
                let ok = inv.payment_hash == Some(sha256::Hash::hash(p).to_byte_array());
                if !ok {
                    tracing::error!(id = %inv.id, "provider reported a preimage that does not match the payment hash; not stored");
                }
                ok
            });
            let paid_at = paid_at.unwrap_or_else(|| state.now());
            if amount_paid_msat.is_some_and(|a| a > inv.amount_msat) {
                tracing::info!(id = %inv.id, "invoice overpaid");
            }
            let t = state
                .with_store(move |s| s.mark_paid(&id, paid_at, preimage, amount_paid_msat))
                .await?;
            match t {
                Some(Transition::Unchanged(row)) if row.status == Status::Expired => {
                    let id = row.id.clone();
                    let late = state
                        .with_store(move |s| {
                            s.mark_paid_late(&id, paid_at, preimage, amount_paid_msat)
                        })
                        .await?;
                    if let Some(Transition::Applied(row)) = &late {
                        // Final states never move back; a late payment is recorded, and the shop
                        // must hear of it (it may have sold the goods again).
                        tracing::warn!(id = %row.id, order_id = ?row.order_id, "late payment: an invoice already marked expired was paid");
                    }
                    late
                }
                Some(Transition::Unchanged(row))
                    if row.status == Status::Paid
                        && row.preimage.is_none()
                        && preimage.is_some() =>
                {
                    // Paid on-chain (no preimage), and now the Lightning invoice too.
                    tracing::error!(id = %row.id, order_id = ?row.order_id, "paid twice: a Lightning payment arrived for an invoice already paid on-chain; it stays paid once and the second payment needs a refund by a person");
                    Some(Transition::Unchanged(row))
                }
                other => other,
            }
        }
    };
    match transition {
        Some(Transition::Applied(row)) => {
            tracing::info!(id = %row.id, status = row.status.as_str(), "invoice status changed");
            Ok(row)
        }
        Some(Transition::Unchanged(row)) => Ok(row),
        None => Err(AppError::invoice_not_found()),
    }
}

/// Less than asked arrived: keep the status, record the amount and when, and tell a person.
async fn record_underpayment(
    state: &AppState,
    inv: &Invoice,
    received_msat: u64,
) -> Result<Invoice, AppError> {
    let id = inv.id.clone();
    let now = state.now();
    match state
        .with_store(move |s| s.record_underpayment(&id, received_msat, now))
        .await?
    {
        Some(Transition::Applied(row)) => {
            tracing::error!(
                id = %row.id,
                order_id = ?row.order_id,
                amount_msat = row.amount_msat,
                received_msat,
                "underpayment: less than the amount asked was received; the invoice is not paid and needs a person"
            );
            Ok(row)
        }
        Some(Transition::Unchanged(row)) => Ok(row),
        None => Err(AppError::invoice_not_found()),
    }
}

/// The demo "pay" button: settle a pending, unexpired invoice from the store. Paying a paid one
/// again answers it unchanged; an expired one is `409 invoice_expired`.
pub async fn simulate_payment(state: &AppState, id: &str) -> Result<Invoice, AppError> {
    if !state.provider().simulates_payments() || !is_invoice_id(id) {
        return Err(AppError::invoice_not_found());
    }
    let id = id.to_owned();
    let now = state.now();
    let transition = state
        .with_store(move |s| {
            let Some(inv) = s.get(&id)? else {
                return Ok(None);
            };
            if inv.status == Status::Pending && !inv.is_complete() {
                return Ok(None);
            }
            if inv.status == Status::Pending && now >= inv.expires_at {
                return s.expire_if_due(&id, now);
            }
            s.mark_paid(&id, now, None, Some(inv.amount_msat))
        })
        .await?
        .ok_or_else(AppError::invoice_not_found)?;
    let inv = transition.into_invoice();
    match inv.status {
        Status::Paid => Ok(inv),
        Status::Expired => Err(AppError::conflict(
            ErrorCode::InvoiceExpired,
            "This invoice has expired and can no longer be paid.",
        )),
        Status::Pending => Err(AppError::internal("demo payment left the invoice pending")),
    }
}

/// The demo control for an on-chain payment: one to invoice `id`'s address was seen with
/// `confirmations` (0: in the mempool). At the shop's confirmation count (`ONCHAIN_CONFIRMATIONS`)
/// it is paid; before, it stays pending and the answer says what was seen.
pub async fn simulate_onchain(
    state: &AppState,
    id: &str,
    confirmations: u32,
) -> Result<Invoice, AppError> {
    if !state.provider().simulates_payments() || !is_invoice_id(id) {
        return Err(AppError::invoice_not_found());
    }
    let id = id.to_owned();
    let now = state.now();
    let required = state.config().onchain_confirmations;
    let inv = state
        .with_store(move |s| -> Result<Option<Invoice>, AppError> {
            let Some(inv) = s.get(&id)? else {
                return Ok(None);
            };
            if inv.onchain_address.is_none() {
                return Ok(None);
            }
            if inv.status == Status::Expired && confirmations >= required {
                // Expired before anything was seen on-chain, then paid there: a late payment,
                // recorded and told to the shop like any.
                return Ok(s
                    .mark_paid_late(&id, now, None, Some(inv.amount_msat))?
                    .map(Transition::into_invoice));
            }
            if inv.status != Status::Pending {
                return Ok(Some(inv));
            }
            let t = s.record_onchain(&id, confirmations, now)?;
            if confirmations >= required {
                // An on-chain payment has no preimage; the demo's stored one stays.
                return Ok(s
                    .mark_paid(&id, now, None, Some(inv.amount_msat))?
                    .map(Transition::into_invoice));
            }
            Ok(t.map(Transition::into_invoice))
        })
        .await?
        .ok_or_else(AppError::invoice_not_found)?;
    Ok(inv)
}

/// Handle `POST /api/webhooks/{name}`: verify, de-duplicate, re-fetch before believing "paid",
/// apply. Answers the provider's acknowledgement body.
pub async fn webhook(
    state: &AppState,
    name: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<serde_json::Value, AppError> {
    let arrived = Instant::now();
    let provider = state.provider().clone();
    if name != provider.name() {
        return Err(AppError::route_not_found());
    }
    let now = state.now();
    let Some(event) = provider
        .verify_webhook(body, headers, now)
        .await
        .map_err(AppError::webhook)?
    else {
        return Ok(provider.webhook_ack());
    };
    let pname = provider.name();
    if let Some(eid) = event.event_id.clone() {
        if state.with_store(move |s| s.event_seen(pname, &eid)).await? {
            tracing::info!(provider = pname, "duplicate webhook ignored");
            return Ok(provider.webhook_ack());
        }
    }
    let key = event.invoice.clone();
    let found = state.with_store(move |s| s.find(pname, &key)).await?;
    let says_paid = matches!(event.status, ProviderStatus::Paid { .. });
    match found {
        None => tracing::info!(provider = pname, "webhook about an unknown invoice ignored"),
        // Pending, or expired and now said paid (a late payment, recorded if confirmed).
        Some(inv)
            if inv.status == Status::Pending || (inv.status == Status::Expired && says_paid) =>
        {
            if let ProviderStatus::Pending = event.status {
            } else if inv.is_complete() {
                // Never mark paid (or expired) on the notification alone where the provider can
                // be asked: its answer decides. The lookup is coalesced with polls and earlier
                // hints (at most one per invoice per LOOKUP_CACHE_MS), so unsigned hints cannot
                // drive provider calls at will; it must have started after this event arrived.
                let outcome = state
                    .lookups()
                    .lookup(
                        state,
                        &inv,
                        Freshness::StartedAfter(arrived),
                        state.config().limits.poll_wait,
                    )
                    .await;
                match outcome.as_deref() {
                    // The flight applied the provider's answer itself.
                    Some(Outcome {
                        result: Ok(Some(_)),
                        ..
                    }) => {}
                    // Without a lookup, the verified event decides.
                    Some(Outcome {
                        result: Ok(None), ..
                    }) => {
                        apply(state, &inv, event.status).await?;
                    }
                    Some(Outcome { result: Err(e), .. }) => {
                        return Err(AppError::provider(e.clone()))
                    }
                    None => {
                        return Err(AppError::provider(ProviderError::Unavailable(
                            "status lookup slower than POLL_WAIT_MS".into(),
                        )))
                    }
                }
            }
        }
        Some(_) => {}
    }
    if let Some(eid) = event.event_id {
        state
            .with_store(move |s| s.record_event(pname, &eid, now))
            .await?;
    }
    Ok(provider.webhook_ack())
}
