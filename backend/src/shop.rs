//! The shop's own server at both ends: its settings (signed orders in, signed notifications out,
//! the reconciliation API's token).
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `CHECKOUT_SECRET` | unset | HS256 key of order tokens, at least 32 bytes (start-up refused otherwise). Unset with a real provider: no create may name an `order_id` |
//! | `ALLOW_UNSIGNED` | `true` | whether creates without a token (and without an `order_id`, under a real provider) are accepted, within `MAX_AMOUNT_SAT` |
//! | `SHOP_WEBHOOK_URL` | unset | where payment notifications are POSTed (http(s)) |
//! | `SHOP_WEBHOOK_SECRET` | unset | their HMAC-SHA256 key, at least 32 bytes; required with the URL |
//! | `SHOP_WEBHOOK_BACKOFF_MS` | `5000` | first retry delay; doubles each attempt |
//! | `SHOP_WEBHOOK_MAX_BACKOFF_MS` | `3600000` | longest retry delay |
//! | `SHOP_WEBHOOK_RETRY_HOURS` | `72` | an event is retried this long (at least 24) |
//! | `SHOP_WEBHOOK_TIMEOUT_MS` | `10000` | one delivery attempt's time limit |
//! | `SHOP_WEBHOOK_POLL_MS` | `1000` | how often the outbox is looked at |
//! | `ADMIN_TOKEN` | unset | bearer token of `/api/admin/…`, at least 16 bytes; unset: those routes answer 503 |

use std::fmt;
use std::time::Duration;

use crate::config::{ConfigError, Secret};

/// Shortest `SHOP_WEBHOOK_SECRET`.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 32;
/// Shortest `ADMIN_TOKEN`.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// Settings of the shop integration.
#[derive(Clone)]
pub struct ShopConfig {
    /// `CHECKOUT_SECRET`.
    pub checkout_secret: Option<Secret>,
    /// `ALLOW_UNSIGNED`.
    pub allow_unsigned: bool,
    /// Payment notifications, when configured.
    pub webhook: Option<WebhookConfig>,
    /// `ADMIN_TOKEN`.
    pub admin_token: Option<Secret>,
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            checkout_secret: None,
            allow_unsigned: true,
            webhook: None,
            admin_token: None,
        }
    }
}

/// Where and how notifications are delivered.
#[derive(Clone)]
pub struct WebhookConfig {
    /// `SHOP_WEBHOOK_URL`.
    pub url: String,
    /// `SHOP_WEBHOOK_SECRET`.
    pub secret: Secret,
    /// First retry delay.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How long an event is retried.
    pub retry_for: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
    /// Outbox poll interval.
    pub poll: Duration,
}

impl WebhookConfig {
    /// A configuration with the default timings.
    pub fn new(url: impl Into<String>, secret: Secret) -> Self {
        Self {
            url: url.into(),
            secret,
            backoff: Duration::from_millis(5000),
            max_backoff: Duration::from_secs(3600),
            retry_for: Duration::from_secs(72 * 3600),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

impl fmt::Debug for ShopConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopConfig")
            .field(
                "checkout_secret",
                &self.checkout_secret.as_ref().map(|_| "set"),
            )
            .field("allow_unsigned", &self.allow_unsigned)
            .field("webhook", &self.webhook)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "set"))
            .finish()
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("retry_for", &self.retry_for)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ShopConfig {
    /// Read the variables above through `get` (unset and empty are the same).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut c = Self::default();
        if let Some(v) = var("CHECKOUT_SECRET") {
            crate::order_token::check_secret(&v)
                .map_err(|e| ConfigError::new("CHECKOUT_SECRET", e))?;
            c.checkout_secret = Some(Secret::new(v));
        }
        if let Some(v) = var("ALLOW_UNSIGNED") {
            c.allow_unsigned = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return Err(ConfigError::new("ALLOW_UNSIGNED", "must be true or false")),
            };
        }
        if let Some(v) = var("ADMIN_TOKEN") {
            if v.len() < MIN_ADMIN_TOKEN_LEN {
                return Err(ConfigError::new(
                    "ADMIN_TOKEN",
                    format!("must be at least {MIN_ADMIN_TOKEN_LEN} bytes"),
                ));
            }
            c.admin_token = Some(Secret::new(v));
        }
        match (var("SHOP_WEBHOOK_URL"), var("SHOP_WEBHOOK_SECRET")) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "SHOP_WEBHOOK_SECRET",
                    "required with SHOP_WEBHOOK_URL",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "SHOP_WEBHOOK_URL",
                    "required with SHOP_WEBHOOK_SECRET",
                ))
            }
            (Some(url), Some(secret)) => {
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.chars().any(char::is_whitespace)
                {
                    return Err(ConfigError::new(
                        "SHOP_WEBHOOK_URL",
                        "must be an http(s) URL",
                    ));
                }
                if secret.len() < MIN_WEBHOOK_SECRET_LEN {
                    return Err(ConfigError::new(
                        "SHOP_WEBHOOK_SECRET",
                        format!("must be at least {MIN_WEBHOOK_SECRET_LEN} bytes"),
                    ));
                }
                let mut w = WebhookConfig::new(url, Secret::new(secret));
                let ms = |name, min| -> Result<Option<Duration>, ConfigError> {
                    Ok(crate::config::whole_number(get, name, min, u64::MAX)?
                        .map(Duration::from_millis))
                };
                if let Some(d) = ms("SHOP_WEBHOOK_BACKOFF_MS", 1)? {
                    w.backoff = d;
                }
                if let Some(d) = ms("SHOP_WEBHOOK_MAX_BACKOFF_MS", 1)? {
                    w.max_backoff = d;
                }
                if let Some(d) = ms("SHOP_WEBHOOK_TIMEOUT_MS", 1)? {
                    w.timeout = d;
                }
                if let Some(d) = ms("SHOP_WEBHOOK_POLL_MS", 1)? {
                    w.poll = d;
                }
                if let Some(h) =
                    crate::config::whole_number(get, "SHOP_WEBHOOK_RETRY_HOURS", 24, u64::MAX)?
                {
                    w.retry_for = Duration::from_secs(h * 3600);
                }
                c.webhook = Some(w);
            }
        }
        Ok(c)
    }
}
