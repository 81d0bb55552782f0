//! Live status: `GET /api/invoices/{id}/events`, Server-Sent Events (the browser's
//! `EventSource`).
//!
//! A stream sends, in this order: `event: ping` (`data:` the heartbeat period in ms, so the client
//! knows how long a silence means the stream is dead), `event: status` with the invoice's status
//! answer (the body of `GET /api/invoices/{id}`), then a `status` for each change and a `ping`
//! every heartbeat. It ends after a `paid` or `expired` status, and after
//! `EVENT_STREAM_MAX_SECS` (the client reconnects by itself; `retry:` says after how long).
//!
//! Bounds: at most `MAX_EVENT_STREAMS` open at once (beyond it `503 too_many_streams` with
//! `Retry-After`: the widget polls instead); opening a stream reads the row once; a stream never
//! calls the provider and never reads the store itself: one task ([`spawn`]) listens to
//! [`crate::store::Store::changes`], reads each changed row once and fans it out to every open
//! stream of that invoice (many tabs on one invoice: one read, one message each).
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `MAX_EVENT_STREAMS` | `512` | open streams (each holds a connection: keep it under `MAX_CONNECTIONS`); `0` turns the route off (503) |
//! | `EVENT_STREAM_MAX_SECS` | `300` | a stream's lifetime; the client reconnects |
//! | `EVENT_STREAM_HEARTBEAT_MS` | `15000` | a `ping` after this much silence |

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};

use crate::config::ConfigError;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{Invoice, Status};

/// Messages buffered per invoice for a slow stream (a stream that lags re-reads nothing: it
/// gets the newest row, which is all it needs).
const PER_INVOICE_BUFFER: usize = 8;
/// The client's reconnection delay after a stream ends (`retry:`).
const RETRY_MS: u64 = 2000;

/// The streams' settings (see the module docs for the variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Open streams at most.
    pub max_streams: usize,
    /// A stream's lifetime.
    pub max_age: Duration,
    /// A `ping` after this much silence.
    pub heartbeat: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_streams: 512,
            max_age: Duration::from_secs(300),
            heartbeat: Duration::from_millis(15_000),
        }
    }
}

impl Settings {
    /// Read the variables through `get` (unset or empty: default).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let num = |name, min, max| crate::config::whole_number(get, name, min, max);
        let mut s = Self::default();
        if let Some(n) = num("MAX_EVENT_STREAMS", 0, 1_000_000)? {
            s.max_streams = n as usize;
        }
        if let Some(n) = num("EVENT_STREAM_MAX_SECS", 1, 86_400)? {
            s.max_age = Duration::from_secs(n);
        }
        if let Some(n) = num("EVENT_STREAM_HEARTBEAT_MS", 100, 600_000)? {
            s.heartbeat = Duration::from_millis(n);
        }
        Ok(s)
    }
}

/// The open streams, by invoice (one per app).
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Invoice>>>>,
    permits: Arc<Semaphore>,
    max_streams: usize,
    fanned_out: AtomicU64,
    rows_read: AtomicU64,
    started: std::sync::atomic::AtomicBool,
    closing: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("max_streams", &self.max_streams)
            .field("open", &self.open())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub for at most `max_streams` open streams.
    pub fn new(max_streams: usize) -> Self {
        Self {
            channels: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_streams)),
            max_streams,
            fanned_out: AtomicU64::new(0),
            rows_read: AtomicU64::new(0),
            started: std::sync::atomic::AtomicBool::new(false),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// End every open stream now and refuse new ones (the server is shutting down: a graceful
    /// shutdown would otherwise wait for streams that last minutes). Browsers reconnect by
    /// themselves to whichever instance answers next.
    pub fn close_all(&self) {
        self.permits.close();
        self.closing.send_replace(true);
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.max_streams - self.permits.available_permits()
    }

    /// Store reads the hub made for changes (one per change of a watched invoice; for tests and
    /// the bench).
    pub fn rows_read(&self) -> u64 {
        self.rows_read.load(Ordering::Relaxed)
    }

    /// Status messages handed to streams (one per stream per change).
    pub fn fanned_out(&self) -> u64 {
        self.fanned_out.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<Invoice>>>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn subscribe(&self, id: &str) -> broadcast::Receiver<Arc<Invoice>> {
        self.lock()
            .entry(id.to_owned())
            .or_insert_with(|| broadcast::channel(PER_INVOICE_BUFFER).0)
            .subscribe()
    }

    /// A stream of `id` ended: forget the channel when it was the last.
    fn release(&self, id: &str) {
        let mut m = self.lock();
        if m.get(id).is_some_and(|tx| tx.receiver_count() == 0) {
            m.remove(id);
        }
    }

    fn watched(&self, id: &str) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    fn watched_ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn deliver(&self, inv: Invoice) {
        if let Some(tx) = self.lock().get(&inv.id) {
            let n = tx.send(Arc::new(inv)).unwrap_or(0);
            self.fanned_out.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// Fan committed changes out to the open streams: for each changed invoice that has a stream,
/// one store read, one message to each of its streams. A listener that fell behind re-reads
/// every watched invoice once. Started by the first stream; runs until the app is gone.
fn ensure_started(state: &AppState) {
    if state.events().started.swap(true, Ordering::SeqCst) {
        return;
    }
    let mut changes = state.store().changes();
    let weak = state.downgrade();
    tokio::spawn(async move {
        loop {
            let change = changes.recv().await;
            let Some(state) = weak.upgrade() else { return };
            let ids = match change {
                Ok(id) => vec![id],
                Err(broadcast::error::RecvError::Lagged(_)) => state.events().watched_ids(),
                Err(broadcast::error::RecvError::Closed) => return,
            };
            for id in ids {
                if !state.events().watched(&id) {
                    continue;
                }
                state.events().rows_read.fetch_add(1, Ordering::Relaxed);
                let read = {
                    let id = id.clone();
                    state.with_store(move |s| s.get(&id)).await
                };
                match read {
                    Ok(Some(inv)) => state.events().deliver(inv),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(%id, error = %e, "status stream: could not read a changed invoice")
                    }
                }
            }
        }
    });
}

/// `GET /api/invoices/{id}/events`.
pub async fn stream(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|_| AppError::invoice_not_found())?;
    if !crate::checkout::is_invoice_id(&id) {
        return Err(AppError::invoice_not_found());
    }
    ensure_started(&state);
    let Ok(permit) = state.events().permits.clone().try_acquire_owned() else {
        let mut res = AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            lightning_checkout_contract::ErrorCode::TooManyStreams.as_str(),
            "Too many live status streams are open; ask for the status instead.",
        )
        .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(30u64));
        return Ok(res);
    };
    // Listen first, then read: a change between the two is not missed.
    let guard = Guard {
        rx: Some(state.events().subscribe(&id)),
        state: state.clone(),
        id: id.clone(),
        _permit: permit,
    };
    let read = {
        let id = id.clone();
        state.with_store(move |s| s.get(&id)).await
    };
    let first = match read {
        Ok(Some(inv)) => inv,
        Ok(None) => return Err(AppError::invoice_not_found()),
        Err(e) => return Err(AppError::from(e)),
    };
    let settings = state.config().events.clone();
    let mut head = format!(
        "retry: {RETRY_MS}\nevent: ping\ndata: {}\n\n",
        settings.heartbeat.as_millis()
    );
    head.push_str(&status_event(&state, &first));
    let open = Open {
        closing: state.events().closing.subscribe(),
        state,
        guard,
        heartbeat: settings.heartbeat,
        deadline: tokio::time::Instant::now() + settings.max_age,
        last: shown(&first),
        done: is_final(first.status),
    };
    let body = futures_util::stream::unfold((Some(head), Some(open)), |(head, open)| async move {
        if let Some(head) = head {
            return Some((Ok::<_, Infallible>(Bytes::from(head)), (None, open)));
        }
        let mut open = open?;
        let chunk = open.next().await?;
        Some((Ok(Bytes::from(chunk)), (None, Some(open))))
    });
    let mut res = Response::new(Body::from_stream(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    // nginx: pass each event on at once instead of buffering the answer.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// What the payer's screen shows of an invoice: its status, and the confirmations of an
/// on-chain payment seen (which change while the status stays pending).
fn shown(inv: &Invoice) -> (Status, Option<u32>) {
    (inv.status, inv.onchain_confirmations)
}

fn is_final(s: Status) -> bool {
    matches!(s, Status::Paid | Status::Expired)
}

fn status_event(state: &AppState, inv: &Invoice) -> String {
    let body =
        crate::api::status_response(inv, state.now_ms(), state.config().onchain_confirmations);
    let json = serde_json::to_string(&body).unwrap_or_default();
    format!("event: status\ndata: {json}\n\n")
}

/// Releases the stream's slot and its channel when the body is dropped (client gone, or ended).
struct Guard {
    rx: Option<broadcast::Receiver<Arc<Invoice>>>,
    state: AppState,
    id: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Guard {
    fn drop(&mut self) {
        drop(self.rx.take());
        self.state.events().release(&self.id);
    }
}

struct Open {
    state: AppState,
    guard: Guard,
    closing: tokio::sync::watch::Receiver<bool>,
    heartbeat: Duration,
    deadline: tokio::time::Instant,
    last: (Status, Option<u32>),
    done: bool,
}

impl Open {
    /// The next chunk to send; `None` ends the stream.
    async fn next(&mut self) -> Option<String> {
        loop {
            if self.done || *self.closing.borrow() {
                return None;
            }
            let wake = tokio::time::sleep(self.heartbeat);
            tokio::select! {
                () = tokio::time::sleep_until(self.deadline) => return None,
                _ = self.closing.changed() => return None,
                () = wake => return Some(format!("event: ping\ndata: {}\n\n", self.heartbeat.as_millis())),
                msg = recv(&mut self.guard.rx) => match msg {
                    Ok(inv) => {
                        // An underpayment changes nothing the payer sees: no event.
                        if shown(&inv) == self.last {
                            continue;
                        }
                        self.last = shown(&inv);
                        self.done = is_final(inv.status);
                        return Some(status_event(&self.state, &inv));
                    }
                    // Fell behind: the newest message is still queued; read on.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

async fn recv(
    rx: &mut Option<broadcast::Receiver<Arc<Invoice>>>,
) -> Result<Arc<Invoice>, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => Err(broadcast::error::RecvError::Closed),
    }
}
