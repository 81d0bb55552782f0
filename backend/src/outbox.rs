//! Payment notifications to the shop's server (`SHOP_WEBHOOK_URL`), through a durable outbox.
//!
//! Every status change writes one row to the `outbox` table **in the same database transaction**
//! as the change ([`enqueue`], called by the store's transition functions), so a change is never
//! committed without its notification, nor the other way round. [`spawn`] starts the delivery
//! task: it POSTs each event's JSON body, signed
//! `Lightning-Checkout-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
//! `SHOP_WEBHOOK_SECRET`.
//!
//! * **At least once.** An event is done when the shop answers 2xx; anything else (refused,
//!   timeout, non-2xx) is retried after `SHOP_WEBHOOK_BACKOFF_MS`, doubling up to
//!   `SHOP_WEBHOOK_MAX_BACKOFF_MS`, for `SHOP_WEBHOOK_RETRY_HOURS` (default 72 h) from the event;
//!   then it is marked failed (logged; the reconciliation API still has the truth). The schedule
//!   lives in the database, so it survives restarts. A retry carries the same body and event id:
//!   receivers de-duplicate on `id`.
//! * **In order per invoice.** An invoice's event n+1 is not sent before its event n was
//!   delivered (or given up).
//! * **One instance at a time.** With PostgreSQL every instance runs this task; each claims the
//!   events it sends (`FOR UPDATE SKIP LOCKED`, then pushed a claim period into the future: twice
//!   `SHOP_WEBHOOK_TIMEOUT_MS` plus a second), so an event is sent by one instance at a time, and
//!   an instance that dies mid-delivery leaves it to another once the claim runs out.
//!
//! Event body (JSON object): `id` (`evt_…`), `type` (`invoice.paid`, `invoice.expired`,
//! `invoice.underpaid`),
//! `created` (Unix seconds), `invoice_id`, `order_id` (or `null`), `status`, `amount_msat`
//! (asked), `amount_paid_msat` (reported received, or `null`), `description`, `payment_hash`,
//! `preimage` (hex, only in `invoice.paid` when known), `created_at`, `expires_at`, `paid_at`,
//! `amount_received_msat` and `underpaid_at` (an underpayment: less than asked arrived; never
//! paid, for a person to settle), `late` (`invoice.paid` for an invoice already past its
//! deadline, also one that had been marked expired), `provider`, `provider_ref`: the admin API's
//! record of the invoice ([`crate::admin::record`]) plus `id`, `type` and `created`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::Sha256;

use crate::shop::WebhookConfig;
use crate::state::AppState;
use crate::store::{Invoice, StoreError};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Lightning-Checkout-Signature";
/// Events picked per round.
pub(crate) const BATCH: u32 = 32;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `invoice.paid`.
    Paid,
    /// `invoice.expired`.
    Expired,
    /// `invoice.underpaid`: less than the amount arrived; the invoice is not paid, a person
    /// settles it (`amount_received_msat`).
    Underpaid,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "invoice.paid",
            Self::Expired => "invoice.expired",
            Self::Underpaid => "invoice.underpaid",
        }
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn sql_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The event body for `inv` after a `kind` change.
pub fn event_body(event_id: &str, created: u64, inv: &Invoice, kind: EventType) -> String {
    let mut body = crate::admin::record(inv);
    body["id"] = event_id.into();
    body["type"] = kind.as_str().into();
    body["created"] = created.into();
    body.to_string()
}

/// A new event, as both databases write it.
pub(crate) struct NewEvent {
    /// `evt_…`.
    pub event_id: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix ms (also its first attempt).
    pub created_ms: i64,
    /// The JSON body.
    pub body: String,
}

impl NewEvent {
    /// The event for `inv`, just changed by `kind`, now.
    pub fn new(inv: &Invoice, kind: EventType) -> Self {
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let event_id = format!("evt_{}", hex::encode(raw));
        let now_ms = wall_ms();
        let created = now_ms / 1000;
        let body = event_body(&event_id, created, inv, kind);
        Self {
            event_id,
            created: sql_i64(created),
            created_ms: sql_i64(now_ms),
            body,
        }
    }
}

/// Write the event for `inv` (just changed by `kind`) to the outbox, on `conn` (inside the
/// transition's transaction).
pub fn enqueue(conn: &Connection, inv: &Invoice, kind: EventType) -> Result<(), StoreError> {
    let e = NewEvent::new(inv, kind);
    conn.execute(
        "INSERT INTO outbox (event_id, invoice_id, type, body, created_at, created_ms, next_attempt_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            e.event_id,
            inv.id,
            kind.as_str(),
            e.body,
            e.created,
            e.created_ms
        ],
    )?;
    Ok(())
}

/// The signature header's value for `body` at Unix second `t`.
pub fn signature(secret: &[u8], t: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// One stored event as the worker sees it.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// Row order.
    pub seq: i64,
    /// `evt_…`.
    pub event_id: String,
    /// The invoice it is about.
    pub invoice_id: String,
    /// `invoice.paid` / `invoice.expired`.
    pub kind: String,
    /// The JSON body, sent as is on every attempt.
    pub body: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When it was written, Unix ms.
    pub created_ms: u64,
    /// Unix seconds, once delivered.
    pub delivered_at: Option<u64>,
    /// Unix seconds, once given up.
    pub failed_at: Option<u64>,
    /// The last failure, short.
    pub last_error: Option<String>,
}

const EVENT_COLUMNS: &str =
    "seq, event_id, invoice_id, type, body, attempts, created_ms, delivered_at, failed_at, last_error";

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEvent> {
    Ok(OutboxEvent {
        seq: r.get(0)?,
        event_id: r.get(1)?,
        invoice_id: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        attempts: r.get(5)?,
        created_ms: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
        delivered_at: r
            .get::<_, Option<i64>>(7)?
            .map(|v| u64::try_from(v).unwrap_or(0)),
        failed_at: r
            .get::<_, Option<i64>>(8)?
            .map(|v| u64::try_from(v).unwrap_or(0)),
        last_error: r.get(9)?,
    })
}

/// Every outbox event, oldest first (tests and the reconciliation view).
pub fn all_events(state: &AppState) -> Result<Vec<OutboxEvent>, StoreError> {
    state.store().outbox_all()
}

/// SQLite: every outbox event, oldest first.
pub(crate) fn all(c: &Connection) -> Result<Vec<OutboxEvent>, StoreError> {
    let mut stmt = c.prepare(&format!("SELECT {EVENT_COLUMNS} FROM outbox ORDER BY seq"))?;
    let rows = stmt.query_map([], read_event)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// SQLite: events due at `now_ms` whose invoice has no earlier event still undelivered (so at
/// most one per invoice). One process delivers, so nothing is claimed.
pub(crate) fn due(conn: &Connection, now_ms: u64) -> Result<Vec<OutboxEvent>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {EVENT_COLUMNS} FROM outbox o \
         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_ms <= ?1 \
         AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.invoice_id = o.invoice_id \
             AND p.seq < o.seq AND p.delivered_at IS NULL AND p.failed_at IS NULL) \
         ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![sql_i64(now_ms), BATCH], read_event)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// SQLite: the earliest next attempt of any undelivered event, Unix ms.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<u64>, StoreError> {
    let v: Option<i64> = conn
        .query_row(
            "SELECT MIN(next_attempt_ms) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(v.map(|v| u64::try_from(v).unwrap_or(0)))
}

/// The delay before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(cfg: &WebhookConfig, attempts: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX);
    cfg.backoff
        .checked_mul(factor)
        .map_or(cfg.max_backoff, |d| d.min(cfg.max_backoff))
}

/// Start the delivery task if `SHOP_WEBHOOK_URL` is set. Call once per process, inside a Tokio
/// runtime; abort the handle to stop it (undelivered events stay in the outbox).
pub fn spawn(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let cfg = state.config().shop.webhook.clone()?;
    let state = state.clone();
    Some(tokio::spawn(async move { run(state, cfg).await }))
}

async fn run(state: AppState, cfg: WebhookConfig) {
    let client = match reqwest::Client::builder()
        .timeout(cfg.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("lightning-checkout-backend")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "shop webhooks: cannot build the HTTP client");
            return;
        }
    };
    let claim_ms = u64::try_from(cfg.timeout.as_millis())
        .unwrap_or(u64::MAX)
        .saturating_mul(2)
        .saturating_add(1000);
    loop {
        let now = wall_ms();
        let batch = state.with_store(move |s| s.outbox_due(now, claim_ms)).await;
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "shop webhooks: outbox unreadable");
                tokio::time::sleep(cfg.poll).await;
                continue;
            }
        };
        if batch.is_empty() {
            let next = state
                .with_store(|s| s.outbox_next_due())
                .await
                .ok()
                .flatten();
            let wait = next.map_or(cfg.poll, |n| {
                Duration::from_millis(n.saturating_sub(wall_ms())).min(cfg.poll)
            });
            tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
            continue;
        }
        // At most one event per invoice is due at a time (see `due`): deliver them side by
        // side, so one slow answer does not hold up the other invoices.
        let mut attempts = tokio::task::JoinSet::new();
        for ev in batch {
            let (state, cfg, client) = (state.clone(), cfg.clone(), client.clone());
            attempts.spawn(async move {
                let outcome = deliver(&client, &cfg, &ev).await;
                if let Err(e) = record(&state, &cfg, &ev, outcome).await {
                    tracing::error!(error = %e, "shop webhooks: cannot record a delivery");
                }
            });
        }
        while attempts.join_next().await.is_some() {}
    }
}

async fn deliver(
    client: &reqwest::Client,
    cfg: &WebhookConfig,
    ev: &OutboxEvent,
) -> Result<(), String> {
    let t = wall_ms() / 1000;
    let sig = signature(cfg.secret.expose().as_bytes(), t, ev.body.as_bytes());
    let res = client
        .post(&cfg.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sig)
        .body(ev.body.clone())
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(e) if e.is_connect() => Err("connection refused or unreachable".into()),
        Err(_) => Err("request failed".into()),
    }
}

async fn record(
    state: &AppState,
    cfg: &WebhookConfig,
    ev: &OutboxEvent,
    outcome: Result<(), String>,
) -> Result<(), StoreError> {
    let now_ms = wall_ms();
    let seq = ev.seq;
    let attempts = ev.attempts.saturating_add(1);
    let attempt = match outcome {
        Ok(()) => {
            tracing::info!(event = %ev.event_id, kind = %ev.kind, attempts, "shop webhook delivered");
            Attempt {
                seq,
                attempts,
                delivered_at: Some(sql_i64(now_ms / 1000)),
                error: None,
                next_attempt_ms: 0,
                failed_at: None,
            }
        }
        Err(reason) => {
            let give_up = now_ms.saturating_sub(ev.created_ms)
                >= u64::try_from(cfg.retry_for.as_millis()).unwrap_or(u64::MAX);
            let next = now_ms.saturating_add(
                u64::try_from(backoff(cfg, attempts).as_millis()).unwrap_or(u64::MAX),
            );
            if give_up {
                tracing::error!(event = %ev.event_id, attempts, %reason, "shop webhook given up");
            } else {
                tracing::warn!(event = %ev.event_id, attempts, %reason, "shop webhook failed; will retry");
            }
            Attempt {
                seq,
                attempts,
                delivered_at: None,
                error: Some(reason),
                next_attempt_ms: sql_i64(next),
                failed_at: give_up.then_some(sql_i64(now_ms / 1000)),
            }
        }
    };
    state.with_store(move |s| s.outbox_record(&attempt)).await
}

/// The outcome of one delivery attempt, as stored.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The event.
    pub seq: i64,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// Unix seconds, when this attempt delivered it.
    pub delivered_at: Option<i64>,
    /// Why this attempt failed.
    pub error: Option<String>,
    /// Unix ms of the next attempt (after a failure).
    pub next_attempt_ms: i64,
    /// Unix seconds, when it was given up.
    pub failed_at: Option<i64>,
}

/// SQLite: store an attempt's outcome.
pub(crate) fn record_attempt(c: &Connection, a: &Attempt) -> Result<(), StoreError> {
    if let Some(at) = a.delivered_at {
        c.execute(
            "UPDATE outbox SET delivered_at = ?2, attempts = ?3, last_error = NULL WHERE seq = ?1",
            params![a.seq, at, a.attempts],
        )?;
    } else {
        c.execute(
            "UPDATE outbox SET attempts = ?2, last_error = ?3, next_attempt_ms = ?4, \
             failed_at = ?5 WHERE seq = ?1",
            params![a.seq, a.attempts, a.error, a.next_attempt_ms, a.failed_at],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Reservation, Store};

    fn invoice(store: &Store, id: &str) -> Invoice {
        store
            .reserve(&Reservation {
                id,
                order_id: None,
                amount_msat: 1000,
                description: "",
                expiry_secs: 60,
                idempotency_key: [id.len() as u8; 16],
                provider: "demo",
                now: 1,
                grace_secs: 0,
                fiat: None,
            })
            .unwrap();
        store.get(id).unwrap().unwrap()
    }

    #[test]
    fn an_invoice_s_next_event_waits_for_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = invoice(&store, "inv_a");
        let b = invoice(&store, "inv_bb");
        let store = store.sqlite().unwrap();
        store
            .with_writer(|c| {
                enqueue(c, &a, EventType::Expired)?;
                enqueue(c, &a, EventType::Paid)?;
                enqueue(c, &b, EventType::Paid)
            })
            .unwrap();
        let far = 4_000_000_000_000;
        let ids = |v: Vec<OutboxEvent>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
        // a's second event is held back; b's is independent.
        assert_eq!(ids(store.with_reader(|c| due(c, far)).unwrap()), vec![1, 3]);
        // a's first event failed and is rescheduled later: a's second still waits.
        store
            .with_writer(|c| {
                c.execute(
                    "UPDATE outbox SET attempts = 1, next_attempt_ms = ?1 WHERE seq = 1",
                    params![sql_i64(far + 1)],
                )?;
                c.execute("UPDATE outbox SET delivered_at = 1 WHERE seq = 3", [])?;
                Ok(())
            })
            .unwrap();
        assert!(store.with_reader(|c| due(c, far)).unwrap().is_empty());
        store
            .with_writer(|c| {
                c.execute("UPDATE outbox SET delivered_at = 1 WHERE seq = 1", [])?;
                Ok(())
            })
            .unwrap();
        assert_eq!(ids(store.with_reader(|c| due(c, far)).unwrap()), vec![2]);
    }

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1767225600.{"id":"evt_1"}' | openssl dgst -sha256 -hmac key
        let s = signature(b"key", 1_767_225_600, br#"{"id":"evt_1"}"#);
        assert_eq!(s, format!("t=1767225600,v1={}", EXPECTED_SIG));
    }

    const EXPECTED_SIG: &str = "1453ddff01e19f7d7248a2bf974fcfd9b8977ed31341c45e0323501470e1a8d5";
}
