//! Limits against abusive clients: their settings, the per-client-IP rate limit on creates, and
//! the concurrency cap (the timeouts and the connection cap are in [`crate::server`]).
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `HEADER_READ_TIMEOUT_SECS` | `10` | a connection must send a request's headers within this (slowloris) |
//! | `REQUEST_TIMEOUT_SECS` | `60` | a whole request, body and provider call included (above the 40 s provider timeout) |
//! | `MAX_CONNECTIONS` | `1024` | open connections; beyond it new ones wait to be accepted |
//! | `MAX_CONCURRENT_REQUESTS` | `256` | requests handled at once; beyond it `503 overloaded` |
//! | `CREATE_RATE_PER_MIN` | `60` | invoice creates per client IP per minute (token bucket); `0` = no limit |
//! | `CREATE_RATE_BURST` | `30` | creates one IP may make at once |
//! | `TRUSTED_PROXIES` | empty | comma-separated proxy IPs whose `X-Forwarded-For` names the client |
//! | `LOOKUP_CACHE_MS` | `2000` | at most one provider lookup per invoice per this period |
//! | `POLL_WAIT_MS` | `3000` | longest a poll waits for the provider before answering from the store |
//! | `RETENTION_DAYS` | `30` | expired, never-paid invoices and webhook event ids older than this are deleted; `0` = keep |
//! | `RETENTION_INTERVAL_SECS` | `3600` | how often retention runs |

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::config::ConfigError;
use crate::error::{AppError, ErrorCode};

/// Above this many tracked IPs, full buckets are forgotten.
const PRUNE_ABOVE: usize = 4096;

/// The limits' settings (see the module docs for the variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time to receive a request's headers.
    pub header_read_timeout: Duration,
    /// Time for a whole request.
    pub request_timeout: Duration,
    /// Open connections.
    pub max_connections: usize,
    /// Requests in progress.
    pub max_concurrent_requests: usize,
    /// Creates per IP per minute; 0 = unlimited.
    pub create_rate_per_min: u32,
    /// Creates one IP may make at once.
    pub create_rate_burst: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Per-invoice lookup cache.
    pub lookup_cache: Duration,
    /// Longest a poll waits for a provider lookup.
    pub poll_wait: Duration,
    /// Age after which unpaid expired invoices and webhook events are deleted; `None` = keep.
    pub retention: Option<Duration>,
    /// How often retention runs.
    pub retention_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_concurrent_requests: 256,
            create_rate_per_min: 60,
            create_rate_burst: 30,
            trusted_proxies: Vec::new(),
            lookup_cache: Duration::from_millis(2000),
            poll_wait: Duration::from_millis(3000),
            retention: Some(Duration::from_secs(30 * 86_400)),
            retention_interval: Duration::from_secs(3600),
        }
    }
}

impl Limits {
    /// Read the variables through `get` (unset or empty: default).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let num = |name, min, max| crate::config::whole_number(get, name, min, max);
        let mut l = Self::default();
        if let Some(s) = num("HEADER_READ_TIMEOUT_SECS", 1, 3600)? {
            l.header_read_timeout = Duration::from_secs(s);
        }
        if let Some(s) = num("REQUEST_TIMEOUT_SECS", 1, 3600)? {
            l.request_timeout = Duration::from_secs(s);
        }
        if let Some(n) = num("MAX_CONNECTIONS", 1, 1_000_000)? {
            l.max_connections = n as usize;
        }
        if let Some(n) = num("MAX_CONCURRENT_REQUESTS", 1, 1_000_000)? {
            l.max_concurrent_requests = n as usize;
        }
        if let Some(n) = num("CREATE_RATE_PER_MIN", 0, 1_000_000)? {
            l.create_rate_per_min = n as u32;
        }
        if let Some(n) = num("CREATE_RATE_BURST", 1, 1_000_000)? {
            l.create_rate_burst = n as u32;
        }
        if let Some(v) = var("TRUSTED_PROXIES") {
            l.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| {
                        ConfigError::new("TRUSTED_PROXIES", format!("{s:?} is not an IP address"))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(ms) = num("LOOKUP_CACHE_MS", 0, 60_000)? {
            l.lookup_cache = Duration::from_millis(ms);
        }
        if let Some(ms) = num("POLL_WAIT_MS", 1, 14_000)? {
            l.poll_wait = Duration::from_millis(ms);
        }
        if let Some(d) = num("RETENTION_DAYS", 0, 36_500)? {
            l.retention = (d > 0).then(|| Duration::from_secs(d * 86_400));
        }
        if let Some(s) = num("RETENTION_INTERVAL_SECS", 1, 86_400 * 7)? {
            l.retention_interval = Duration::from_secs(s);
        }
        Ok(l)
    }
}

/// The client's IP: the TCP peer, or, when the peer is a trusted proxy, the right-most address
/// of `X-Forwarded-For` that is not itself a trusted proxy. `None` without a peer address (an
/// in-process call).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return Some(client);
        };
        for item in value.rsplit(',') {
            match item.trim().parse::<IpAddr>() {
                Ok(ip) if trusted.contains(&ip) => client = ip,
                Ok(ip) => return Some(ip),
                // Garbage from an untrusted hop: stop at the last address we can vouch for.
                Err(_) => return Some(client),
            }
        }
    }
    Some(client)
}

/// A token bucket per client IP.
pub struct RateLimiter {
    per_min: u32,
    burst: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_min", &self.per_min)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// `per_min` tokens a minute, at most `burst` saved up; `per_min == 0`: no limit.
    pub fn new(per_min: u32, burst: u32) -> Self {
        Self {
            per_min,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `ip`; `Err(seconds to wait)` when there is none.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.per_min == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let rate = f64::from(self.per_min) / 60.0;
        let burst = f64::from(self.burst);
        let mut m = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > PRUNE_ABOVE {
            m.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = m.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// `429 rate_limited` with `Retry-After`.
pub fn rate_limited(retry_after_secs: u64) -> Response {
    let mut res = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        "Too many invoices were asked for from your address. Please wait a moment and try again.",
    )
    .into_response();
    res.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs),
    );
    res
}

/// Middleware for `POST /api/invoices`: one token of the client's bucket per request.
pub async fn limit_creates(
    State(state): State<crate::state::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let limits = &state.config().limits;
    if let Some(ip) = client_ip(peer, req.headers(), &limits.trusted_proxies) {
        if let Err(wait) = state.rate_limiter().check(ip) {
            return rate_limited(wait);
        }
    }
    next.run(req).await
}

/// Middleware capping requests in progress: beyond the cap, `503 overloaded` at once.
pub async fn cap_concurrency(
    State(permits): State<Arc<Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    match permits.try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => {
            let mut res = AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Overloaded,
                "The server is busy. Please try again in a moment.",
            )
            .into_response();
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(1u64));
            res
        }
    }
}

/// Middleware bounding a whole request: `503 timeout` past `REQUEST_TIMEOUT_SECS`.
pub async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Timeout,
            "The request took too long. Please try again.",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.7".parse().unwrap());
        // Not trusted: the peer, whatever the header says.
        assert_eq!(client_ip(Some(client), &h, &[proxy]), Some(client));
        // Trusted: the right-most untrusted hop (the left one is the client's own claim).
        assert_eq!(client_ip(Some(proxy), &h, &[proxy]), Some(client));
        assert_eq!(
            client_ip(Some(proxy), &HeaderMap::new(), &[proxy]),
            Some(proxy)
        );
        assert_eq!(client_ip(None, &h, &[proxy]), None);
    }

    #[test]
    fn bucket_refuses_past_the_burst() {
        let r = RateLimiter::new(60, 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(r.check(a).is_ok());
        }
        assert_eq!(r.check(a), Err(1));
        assert!(r.check(b).is_ok());
        assert!(RateLimiter::new(0, 1).check(a).is_ok());
    }
}
