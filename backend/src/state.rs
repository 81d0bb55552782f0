//! Shared state of the running app: configuration, store, provider, clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::clock::{Clock, SystemClock};
use rand::RngCore;

use crate::config::{Config, Secret};
use crate::limits::RateLimiter;
use crate::lookups::Lookups;
use crate::provider::Provider;
use crate::providers::{self, demo::NodeKeyError};
use crate::store::{Store, StoreError};

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The demo node key could not be loaded.
    #[error(transparent)]
    NodeKey(#[from] NodeKeyError),
    /// The provider's configuration is unusable.
    #[error("provider configuration: {0}")]
    Provider(String),
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    provider: Arc<dyn Provider>,
    clock: Arc<dyn Clock>,
    order_locks: OrderLocks,
    order_secret: Option<Secret>,
    lookups: Lookups,
    rate_limiter: RateLimiter,
    rates: crate::rates::Rates,
    concurrency: Arc<tokio::sync::Semaphore>,
    events: crate::events::Hub,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.inner.config)
            .field("provider", &self.inner.provider.name())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Open the store in `config.data_dir` and build the configured provider, on the system clock.
    pub fn new(config: Config) -> Result<Self, StartupError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`AppState::new`], with a given clock (tests use [`crate::clock::ManualClock`]).
    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let provider = providers::build(&config)?;
        Self::with_provider(config, provider, clock)
    }

    /// As [`AppState::with_clock`], with a given provider (e.g. an adapter pointed at a test
    /// server). `config.provider` is then not consulted.
    pub fn with_provider(
        config: Config,
        provider: Arc<dyn Provider>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        if provider.simulates_payments() && config.network == crate::config::Network::Bitcoin {
            return Err(StartupError::Provider(
                "the demo provider settles invoices without any payment and must not run with NETWORK=bitcoin: choose a real PROVIDER or another NETWORK".into(),
            ));
        }
        let store = Store::from_config(&config)?;
        store.set_outbox(config.shop.webhook.is_some());
        // The demo provider without CHECKOUT_SECRET signs its demo orders with a key made for
        // this run only (`POST /api/dev/orders`); a real provider never gets one it was not given.
        let order_secret = config.shop.checkout_secret.clone().or_else(|| {
            provider.simulates_payments().then(|| {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                Secret::new(hex::encode(key))
            })
        });
        let limits = &config.limits;
        let lookups = Lookups::new(limits.lookup_cache);
        let rate_limiter = RateLimiter::new(limits.create_rate_per_min, limits.create_rate_burst);
        let concurrency = Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent_requests));
        let events = crate::events::Hub::new(config.events.max_streams);
        let rates = crate::rates::Rates::new(config.rates.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                provider,
                clock,
                order_locks: OrderLocks::default(),
                order_secret,
                lookups,
                rate_limiter,
                rates,
                concurrency,
                events,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The invoice store (blocking: use from `spawn_blocking`).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.inner.provider
    }

    /// The key order tokens are checked with: `CHECKOUT_SECRET`, or the demo provider's key of
    /// this run.
    pub fn order_secret(&self) -> Option<&Secret> {
        self.inner.order_secret.as_ref()
    }

    /// The coalesced provider lookups.
    pub fn lookups(&self) -> &Lookups {
        &self.inner.lookups
    }

    /// The BTC rates of fiat prices (`RATE_SOURCE`).
    pub fn rates(&self) -> &crate::rates::Rates {
        &self.inner.rates
    }

    /// The per-IP create rate limit.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.rate_limiter
    }

    /// Permits for requests in progress (`MAX_CONCURRENT_REQUESTS`).
    pub fn concurrency(&self) -> Arc<tokio::sync::Semaphore> {
        self.inner.concurrency.clone()
    }

    /// The open live status streams ([`crate::events`]).
    pub fn events(&self) -> &crate::events::Hub {
        &self.inner.events
    }

    /// The current time, Unix seconds.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// The current time, Unix milliseconds (`server_time` in answers).
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Run blocking store work off the async threads.
    pub async fn with_store<T, E>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let state = self.clone();
        match tokio::task::spawn_blocking(move || f(&state.inner.store)).await {
            Ok(r) => r,
            Err(join) => {
                if join.is_panic() {
                    std::panic::resume_unwind(join.into_panic());
                }
                Err(E::from(StoreError::Corrupt("store task cancelled".into())))
            }
        }
    }

    /// The lock serializing creations for one order id in this process.
    pub(crate) fn order_lock(&self, order_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner.order_locks.get(order_id)
    }
}

/// An [`AppState`] that does not keep the app alive (background tasks that must end with it).
#[derive(Clone)]
pub(crate) struct WeakState(Weak<Inner>);

impl WeakState {
    /// The app, while it is still alive.
    pub(crate) fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(|inner| AppState { inner })
    }
}

impl AppState {
    /// A handle that does not keep the app alive.
    pub(crate) fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.inner))
    }
}

/// One async mutex per order id while anyone holds it. The database's unique index is the real
/// guarantee of one open invoice per order; this lock makes concurrent creates for one order wait
/// for the first (and get its invoice) instead of failing on the index or calling the provider twice.
#[derive(Default)]
struct OrderLocks {
    map: Mutex<LockMap>,
}

#[derive(Default)]
struct LockMap {
    locks: HashMap<String, Weak<tokio::sync::Mutex<()>>>,
    prune_at: usize,
}

impl OrderLocks {
    fn get(&self, order_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = m.locks.get(order_id).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        m.locks.insert(order_id.to_owned(), Arc::downgrade(&lock));
        if m.locks.len() > m.prune_at {
            m.locks.retain(|_, w| w.strong_count() > 0);
            m.prune_at = (m.locks.len() * 2).max(64);
        }
        lock
    }
}
