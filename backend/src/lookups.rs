//! Coalesced provider lookups: however many clients poll one invoice (or however many unsigned
//! webhook hints name it), the provider is asked about it at most once at a time, and at most once
//! per `LOOKUP_CACHE_MS` (a short per-invoice cache). A caller waits for the answer at most a
//! bound (`POLL_WAIT_MS`, well under the widget's 15 s) and otherwise answers from the store; the
//! lookup carries on in the background and its answer is applied to the store when it arrives.
//!
//! A flight is applied by the task that runs it ([`crate::checkout`]'s transitions), so nothing a
//! provider says is lost because the client that caused the lookup went away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::provider::{ProviderError, ProviderStatus};
use crate::state::AppState;
use crate::store::Invoice;

/// Above this many remembered flights, finished ones older than the cache period are dropped.
const PRUNE_ABOVE: usize = 1024;

/// What one provider lookup found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The backend's clock (Unix seconds) when the provider was asked.
    pub asked_at: u64,
    /// The provider's answer: `Ok(None)` when it cannot be asked (the demo provider, callback-only
    /// providers), `Err` when it could not answer.
    pub result: Result<Option<ProviderStatus>, ProviderError>,
}

impl Outcome {
    /// Whether the provider answered (or has nothing to say): its answer may decide an expiry.
    pub fn answered(&self) -> bool {
        self.result.is_ok()
    }
}

/// Which answers a caller accepts.
#[derive(Debug, Clone, Copy)]
pub enum Freshness {
    /// One in flight, or one started within the cache period (polls).
    Recent,
    /// Only one started at or after this instant (a webhook hint, an expiry decision); if the
    /// last one started earlier, a new one starts once the cache period since it has passed.
    StartedAfter(Instant),
}

#[derive(Clone)]
struct Flight {
    start: Instant,
    rx: watch::Receiver<Option<Arc<Outcome>>>,
}

impl Flight {
    fn in_flight(&self) -> bool {
        self.rx.borrow().is_none()
    }
}

/// The single-flight table (one per app).
pub struct Lookups {
    flights: Mutex<HashMap<String, Flight>>,
    cache_for: Duration,
    calls: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups")
            .field("cache_for", &self.cache_for)
            .finish_non_exhaustive()
    }
}

impl Lookups {
    /// A table whose answers are reused for `cache_for`.
    pub fn new(cache_for: Duration) -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
            cache_for,
            calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Provider lookups started so far (for tests and the bench).
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ask the provider about `inv` (or join the flight that is asking), waiting at most `wait`.
    /// `None`: no answer within `wait` (the flight carries on and applies its answer later).
    pub(crate) async fn lookup(
        &self,
        state: &AppState,
        inv: &Invoice,
        fresh: Freshness,
        wait: Duration,
    ) -> Option<Arc<Outcome>> {
        let mut rx = {
            let mut m = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let joinable = m.get(&inv.id).filter(|f| match fresh {
                Freshness::Recent => {
                    f.in_flight()
                        || now
                            .checked_sub(self.cache_for)
                            .is_none_or(|oldest| f.start >= oldest)
                }
                Freshness::StartedAfter(t) => f.start >= t,
            });
            match joinable {
                Some(f) => f.rx.clone(),
                None => {
                    // Never two lookups of one invoice closer than the cache period.
                    let start = m
                        .get(&inv.id)
                        .map_or(now, |f| (f.start + self.cache_for).max(now));
                    let (tx, rx) = watch::channel(None);
                    if m.len() > PRUNE_ABOVE {
                        let cache_for = self.cache_for;
                        m.retain(|_, f| f.in_flight() || f.start + cache_for > now);
                    }
                    m.insert(
                        inv.id.clone(),
                        Flight {
                            start,
                            rx: rx.clone(),
                        },
                    );
                    self.calls
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::spawn(run(state.clone(), inv.clone(), start, tx));
                    rx
                }
            }
        };
        let waited = tokio::time::timeout(wait, async {
            rx.wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|o| o.clone())
        })
        .await;
        waited.ok().flatten()
    }
}

async fn run(
    state: AppState,
    inv: Invoice,
    start: Instant,
    tx: watch::Sender<Option<Arc<Outcome>>>,
) {
    tokio::time::sleep_until(start.into()).await;
    let asked_at = state.now();
    let mut result = if inv.is_complete() {
        state.provider().lookup(&inv).await
    } else {
        // A reservation whose provider answer was lost: nothing the payer could have paid.
        Ok(None)
    };
    let mut inv = inv;
    if inv.is_complete()
        && inv.onchain_address.is_some()
        && !matches!(result, Ok(Some(ProviderStatus::Paid { .. })))
    {
        // A unified invoice whose address the backend watches: its on-chain payments too. One
        // that cannot be checked leaves the answer unanswered (nothing is expired on it).
        match crate::onchain::check_one(&state, &inv).await {
            Ok(Some(row)) => inv = row,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(id = %inv.id, error = %e, "on-chain lookup failed");
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
    }
    match &result {
        Ok(Some(reported)) => {
            if let Err(e) = crate::checkout::apply_reported(&state, &inv, reported.clone()).await {
                tracing::warn!(id = %inv.id, error = %e, "could not apply the provider's answer");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(id = %inv.id, error = %e, "status lookup failed"),
    }
    let _ = tx.send(Some(Arc::new(Outcome { asked_at, result })));
}
