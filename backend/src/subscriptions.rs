//! Provider → backend push: the node's own stream of settled invoices, for the providers that
//! send no webhooks.
//!
//! * LND: `GET /v1/invoices/subscribe?settle_index=N` (lnrpc `SubscribeInvoices` over REST):
//!   newline-delimited JSON objects `{"result": Invoice}` (or `{"error": …}`), first every invoice
//!   settled after `settle_index`, then each new event.
//! * Core Lightning: `POST /v1/waitanyinvoice {"lastpay_index": N, "timeout": 60}` through clnrest,
//!   in a loop: the next invoice paid after `pay_index` N (error 904 when the timeout passes).
//!
//! A settled invoice of ours goes through the same transition as a lookup's answer
//! ([`crate::checkout`]): applied once, whatever else reported it, and fanned out to its open
//! status streams through the store's change feed. The index is kept in the store (`cursors`:
//! `lnd.settle_index`, `cln.lastpay_index`) only after the payment was applied, so a restart
//! resumes where it stopped and misses no payment (one replayed is applied once). A dropped
//! connection is retried with backoff (0.25 s doubling to 30 s); meanwhile the status polls ask
//! the provider as before.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::providers::http::{Api, HttpClient};
use crate::providers::units::json_u64;
use crate::providers::{cln, lnd, ProviderSettings};
use crate::state::{AppState, WeakState};
use crate::store::InvoiceKey;

/// First delay before reconnecting.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest delay before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// `waitanyinvoice`'s `timeout`: a long poll ends (error 904) after this and is sent again.
const LONG_POLL_SECS: u64 = 60;
/// Longest line of LND's stream (an invoice is a few KiB).
const MAX_LINE: usize = 1024 * 1024;
/// Core Lightning's error code for `waitanyinvoice`'s timeout.
const CLN_WAIT_TIMED_OUT: i64 = 904;

/// The store's cursor names.
pub const LND_CURSOR: &str = "lnd.settle_index";
/// The store's cursor names.
pub const CLN_CURSOR: &str = "cln.lastpay_index";
/// The lease that makes one instance of several on one PostgreSQL database the one that holds
/// the provider's stream ([`crate::store::Store::try_lease`]); the others keep polling and try
/// again every [`LEASE_RETRY`], so one of them takes over when the holder dies.
pub const LEASE: &str = "provider-subscription";
/// How often an instance without the lease tries to take it.
const LEASE_RETRY: Duration = Duration::from_secs(5);

enum Source {
    Lnd(Api),
    Cln(Api),
}

/// Start the provider's subscription, if it has one (LND, Core Lightning); `None` otherwise.
/// The one place that starts it, so that a lease can later decide which of several instances
/// holds it. The task ends when the app is dropped.
pub fn spawn(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let built = match &state.config().provider_settings {
        ProviderSettings::Lnd(s) => HttpClient::streaming(&s.tls, None)
            .and_then(|http| lnd::api(s, http))
            .map(Source::Lnd),
        ProviderSettings::Cln(s) => {
            HttpClient::streaming(&s.tls, Some(Duration::from_secs(LONG_POLL_SECS + 30)))
                .and_then(|http| cln::api(s, http))
                .map(Source::Cln)
        }
        _ => return None,
    };
    let source = match built {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "provider subscription not started");
            return None;
        }
    };
    let weak = state.downgrade();
    Some(tokio::spawn(run(weak, source)))
}

async fn run(weak: WeakState, source: Source) {
    let mut backoff = FIRST_BACKOFF;
    let mut lease = None;
    loop {
        // Checked before each (re)connection: CLN's long polls end every minute, and an LND
        // stream that outlives a lost lease only applies payments a second time, which the
        // store's compare-and-set transitions make harmless.
        lease = match held(&weak, lease.take()).await {
            Some(l) => Some(l),
            None => {
                tokio::time::sleep(LEASE_RETRY).await;
                if weak.upgrade().is_none() {
                    return;
                }
                continue;
            }
        };
        let mut connected = false;
        let result = match &source {
            Source::Lnd(api) => lnd_stream(&weak, api, &mut connected).await,
            Source::Cln(api) => cln_wait(&weak, api, &mut connected).await,
        };
        if weak.upgrade().is_none() {
            return;
        }
        if connected {
            backoff = FIRST_BACKOFF;
        }
        match result {
            // CLN: one long poll done; LND: the stream ended cleanly. Go on at once.
            Ok(()) if connected => continue,
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "provider subscription interrupted")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The lease, still held or newly taken; `None` when another instance holds it or the store
/// cannot say. Both checks open or ask a database connection, so they run off the async workers.
async fn held(weak: &WeakState, lease: Option<crate::store::Lease>) -> Option<crate::store::Lease> {
    let state = weak.upgrade()?;
    let result = state
        .with_store(move |s| {
            if let Some(mut l) = lease {
                if l.is_held() {
                    return Ok(Some(l));
                }
            }
            s.try_lease(LEASE)
        })
        .await;
    match result {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "provider subscription: lease not taken");
            None
        }
    }
}

fn alive(weak: &WeakState) -> Result<AppState, String> {
    weak.upgrade().ok_or_else(|| "the app stopped".to_owned())
}

async fn cursor(state: &AppState, name: &'static str) -> Result<u64, String> {
    let v = state
        .with_store(move |s| s.cursor(name))
        .await
        .map_err(|e| e.to_string())?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Apply a settled invoice of ours named by `key` (unknown ones, the node's other invoices, are
/// skipped), then keep `index` as the cursor `name`.
async fn settled(
    state: &AppState,
    key: InvoiceKey,
    status: crate::provider::ProviderStatus,
    name: &'static str,
    index: u64,
) -> Result<(), String> {
    let provider = state.provider().name();
    let found = state
        .with_store(move |s| s.find(provider, &key))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(inv) = found {
        crate::checkout::apply_reported(state, &inv, status)
            .await
            .map_err(|e| format!("could not apply a payment: {}", e.code))?;
        tracing::info!(id = %inv.id, index, "payment heard from the provider's subscription");
    }
    let value = index.to_string();
    state
        .with_store(move |s| s.set_cursor(name, &value))
        .await
        .map_err(|e| e.to_string())
}

fn transport(who: &str, e: &reqwest::Error) -> String {
    // Never the URL or a header: the kind of failure only.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection lost"
    };
    format!("{who}: {kind}")
}

async fn lnd_stream(weak: &WeakState, api: &Api, connected: &mut bool) -> Result<(), String> {
    let mut index = cursor(&alive(weak)?, LND_CURSOR).await?;
    let path = format!("/v1/invoices/subscribe?settle_index={index}");
    let mut res = api
        .request(Method::GET, &path)
        .send()
        .await
        .map_err(|e| transport("LND", &e))?;
    if !res.status().is_success() {
        return Err(format!("LND answered HTTP {}", res.status().as_u16()));
    }
    *connected = true;
    tracing::info!(settle_index = index, "LND invoice subscription open");
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = match res.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => return Err("LND: the stream ended".into()),
            Err(e) => return Err(transport("LND", &e)),
        };
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            lnd_line(weak, &line, &mut index).await?;
        }
        if buf.len() > MAX_LINE {
            return Err("LND: a line of the stream is too long".into());
        }
    }
}

async fn lnd_line(weak: &WeakState, line: &[u8], index: &mut u64) -> Result<(), String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let v: Value =
        serde_json::from_slice(line).map_err(|_| "LND: a stream line is not JSON".to_owned())?;
    if v["error"].is_object() {
        let code = v["error"]["code"].as_i64().unwrap_or(0);
        return Err(format!("LND: the stream said error {code}"));
    }
    let inv = &v["result"];
    let settle_index = json_u64(&inv["settle_index"]).unwrap_or(0);
    if inv["state"] != "SETTLED" || settle_index <= *index {
        // An added invoice, or one already applied.
        return Ok(());
    }
    let Some(hash) = lnd::hash_of(inv) else {
        return Err("LND: a settled invoice without r_hash".into());
    };
    let status = lnd::status_of(inv).map_err(|e| e.to_string())?;
    let state = alive(weak)?;
    settled(
        &state,
        InvoiceKey::PaymentHash(hash),
        status,
        LND_CURSOR,
        settle_index,
    )
    .await?;
    *index = settle_index;
    Ok(())
}

async fn cln_wait(weak: &WeakState, api: &Api, connected: &mut bool) -> Result<(), String> {
    let index = cursor(&alive(weak)?, CLN_CURSOR).await?;
    let body = json!({ "lastpay_index": index, "timeout": LONG_POLL_SECS });
    let reply = api
        .send(api.request(Method::POST, "/v1/waitanyinvoice"), Some(&body))
        .await
        .map_err(|e| e.to_string())?;
    if !reply.ok() {
        let code = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["code"].as_i64());
        if code == Some(CLN_WAIT_TIMED_OUT) {
            *connected = true;
            return Ok(());
        }
        return Err(format!(
            "CLN answered HTTP {} (code {})",
            reply.status,
            code.unwrap_or(0)
        ));
    }
    *connected = true;
    let v = reply.json("CLN").map_err(|e| e.to_string())?;
    let Some(pay_index) = json_u64(&v["pay_index"]).filter(|i| *i > index) else {
        return Err("CLN: waitanyinvoice answered without a new pay_index".into());
    };
    let Some(label) = v["label"].as_str() else {
        return Err("CLN: a paid invoice without a label".into());
    };
    let status = cln::status_of(&v).map_err(|e| e.to_string())?;
    let state = alive(weak)?;
    settled(
        &state,
        InvoiceKey::ProviderRef(label.to_owned()),
        status,
        CLN_CURSOR,
        pay_index,
    )
    .await
}
