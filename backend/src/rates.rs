//! BTC exchange rates for fiat prices (`RATE_SOURCE`), cached, with a maximum age after which fiat
//! pricing is refused rather than guessed.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `RATE_SOURCE` | `kraken` (public ticker `GET /0/public/Ticker?pair=XBT{CUR}`, the last trade `c[0]`), `coinbase` (`GET /v2/prices/BTC-{CUR}/spot`, `data.amount`), or `fixed:EUR=60000.00,USD=65000.00` | `fixed:…` demo rates with the demo provider; unset otherwise (fiat refused, `503 fiat_not_configured`) |
//! | `RATE_KRAKEN_URL`, `RATE_COINBASE_URL` | base URLs (tests point them at local servers) | `https://api.kraken.com`, `https://api.coinbase.com` |
//! | `RATE_REFRESH_SECS` | a cached rate younger than this is used without asking again | `60` |
//! | `RATE_MAX_AGE_SECS` | when the source fails, a cached rate up to this old is still used; older: `503 rate_unavailable` | `300` |
//! | `RATE_TIMEOUT_MS` | one request to the source | `3000` |
//!
//! A source that failed is not asked again for that currency for
//! [`RETRY_AFTER_FAILURE_SECS`]: one slow or dead source costs one request per period, not a
//! wait per create.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::config::ConfigError;
use crate::fiat::{Currency, FiatQuote, Rate};

/// Longest rate answer read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// After a failed fetch, the source is not asked again for a currency for this long: a source
/// that is down or slow costs one request per period, not one per create.
pub const RETRY_AFTER_FAILURE_SECS: u64 = 10;

/// Where rates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateSource {
    /// Kraken's public ticker.
    Kraken {
        /// Base URL, e.g. `https://api.kraken.com`.
        base: String,
    },
    /// Coinbase's spot price.
    Coinbase {
        /// Base URL, e.g. `https://api.coinbase.com`.
        base: String,
    },
    /// Fixed rates (tests and the demo): `(currency, rate)`.
    Fixed(Vec<(Currency, Rate)>),
}

impl RateSource {
    /// The name recorded as `rate_source`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kraken { .. } => "kraken",
            Self::Coinbase { .. } => "coinbase",
            Self::Fixed(_) => "fixed",
        }
    }
}

/// The demo's fixed rates (the default with the demo provider).
pub const DEMO_RATES: &str =
    "fixed:EUR=60000.00,USD=65000.00,GBP=52000.00,JPY=10000000,KWD=20000.000";

/// Rate settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateConfig {
    /// `None`: fiat prices are refused.
    pub source: Option<RateSource>,
    /// A cached rate younger than this is used as is.
    pub refresh_secs: u64,
    /// Oldest cached rate used when the source cannot answer.
    pub max_age_secs: u64,
    /// One request's limit.
    pub timeout: Duration,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            source: None,
            refresh_secs: 60,
            max_age_secs: 300,
            timeout: Duration::from_millis(3000),
        }
    }
}

impl RateConfig {
    /// Read `RATE_*` through `get`; `demo` chooses the default source.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        demo: bool,
    ) -> Result<Self, ConfigError> {
        let var = |n: &str| {
            get(n)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut c = Self::default();
        let secs = |n, d: u64| -> Result<u64, ConfigError> {
            Ok(crate::config::whole_number(get, n, 1, u64::MAX)?.unwrap_or(d))
        };
        c.refresh_secs = secs("RATE_REFRESH_SECS", c.refresh_secs)?;
        c.max_age_secs = secs("RATE_MAX_AGE_SECS", c.max_age_secs)?;
        c.timeout = Duration::from_millis(secs("RATE_TIMEOUT_MS", 3000)?);
        let kraken = var("RATE_KRAKEN_URL").unwrap_or_else(|| "https://api.kraken.com".into());
        let coinbase =
            var("RATE_COINBASE_URL").unwrap_or_else(|| "https://api.coinbase.com".into());
        for (n, u) in [
            ("RATE_KRAKEN_URL", &kraken),
            ("RATE_COINBASE_URL", &coinbase),
        ] {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ConfigError::new(n, "must be an http(s) URL"));
            }
        }
        let source = var("RATE_SOURCE").or_else(|| demo.then(|| DEMO_RATES.to_owned()));
        c.source = match source.as_deref() {
            None => None,
            Some("kraken") => Some(RateSource::Kraken {
                base: kraken.trim_end_matches('/').to_owned(),
            }),
            Some("coinbase") => Some(RateSource::Coinbase {
                base: coinbase.trim_end_matches('/').to_owned(),
            }),
            Some(s) => Some(parse_fixed(s).map_err(|e| ConfigError::new("RATE_SOURCE", e))?),
        };
        Ok(c)
    }
}

fn parse_fixed(s: &str) -> Result<RateSource, String> {
    let usage = "must be kraken, coinbase or fixed:EUR=60000.00,USD=65000.00";
    let list = s.strip_prefix("fixed:").ok_or(usage)?;
    let mut rates = Vec::new();
    for pair in list.split(',') {
        let (cur, rate) = pair.trim().split_once('=').ok_or(usage)?;
        let cur = Currency::parse(cur.trim()).ok_or_else(|| {
            format!(
                "{cur:?} is not a supported currency ({})",
                Currency::supported()
            )
        })?;
        let rate = Rate::parse(rate.trim())
            .map_err(|_| format!("the rate of {} is not a positive decimal", cur.code()))?;
        rates.push((cur, rate));
    }
    Ok(RateSource::Fixed(rates))
}

/// Why no rate can be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// No `RATE_SOURCE`.
    #[error("no rate source configured")]
    NotConfigured,
    /// The source has no rate for this currency (a fixed list without it).
    #[error("no rate for this currency")]
    NoRate,
    /// The source failed and no cached rate is young enough.
    #[error("no rate younger than RATE_MAX_AGE_SECS: {0}")]
    Unavailable(String),
}

/// A rate and when it was fetched.
#[derive(Debug, Clone, Copy)]
struct Cached {
    rate: Rate,
    at: u64,
}

/// The rate cache (one per app).
#[derive(Debug)]
pub struct Rates {
    config: RateConfig,
    client: reqwest::Client,
    cache: tokio::sync::Mutex<HashMap<&'static str, Cached>>,
    failed_at: std::sync::Mutex<HashMap<&'static str, u64>>,
}

impl Rates {
    /// A cache for `config`.
    pub fn new(config: RateConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            config,
            client,
            cache: tokio::sync::Mutex::new(HashMap::new()),
            failed_at: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The rate of `currency` at `now` (Unix seconds): the cached one while younger than
    /// `RATE_REFRESH_SECS`, else a fresh one, else (the source failing) a cached one up to
    /// `RATE_MAX_AGE_SECS` old, else refused.
    pub async fn quote(
        &self,
        currency: Currency,
        now: u64,
    ) -> Result<(Rate, &'static str, u64), RateError> {
        let source = self
            .config
            .source
            .as_ref()
            .ok_or(RateError::NotConfigured)?;
        let name = source.name();
        let base = match source {
            RateSource::Fixed(list) => {
                return list
                    .iter()
                    .find(|(c, _)| *c == currency)
                    .map(|(_, r)| (*r, name, now))
                    .ok_or(RateError::NoRate)
            }
            RateSource::Kraken { base } | RateSource::Coinbase { base } => base,
        };
        // One fetch per currency at a time; the others wait and take its result.
        let mut cache = self.cache.lock().await;
        let cached = cache.get(currency.code()).copied();
        if let Some(c) = cached.filter(|c| now.saturating_sub(c.at) < self.config.refresh_secs) {
            return Ok((c.rate, name, c.at));
        }
        let failed_recently = self
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(currency.code())
            .is_some_and(|t| now.saturating_sub(*t) < RETRY_AFTER_FAILURE_SECS);
        let fetched = if failed_recently {
            Err(String::from("failed moments ago"))
        } else {
            match source {
                RateSource::Kraken { .. } => self.kraken(base, currency).await,
                _ => self.coinbase(base, currency).await,
            }
        };
        match fetched {
            Ok(rate) => {
                cache.insert(currency.code(), Cached { rate, at: now });
                Ok((rate, name, now))
            }
            Err(reason) => {
                if !failed_recently {
                    tracing::warn!(source = name, currency = currency.code(), %reason, "rate source failed");
                    self.failed_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(currency.code(), now);
                }
                match cached.filter(|c| now.saturating_sub(c.at) <= self.config.max_age_secs) {
                    Some(c) => Ok((c.rate, name, c.at)),
                    None => Err(RateError::Unavailable(reason)),
                }
            }
        }
    }

    /// The quote recorded on an invoice priced `amount`.
    pub async fn fiat_quote(
        &self,
        amount: crate::fiat::FiatAmount,
        now: u64,
    ) -> Result<(FiatQuote, Rate), RateError> {
        let (rate, source, at) = self.quote(amount.currency, now).await?;
        Ok((
            FiatQuote {
                currency: amount.currency.code().to_owned(),
                amount: amount.amount_string(),
                rate: rate.to_decimal_string(),
                rate_source: source.to_owned(),
                rate_at: at,
            },
            rate,
        ))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let res = self
            .client
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timed out".to_owned()
                } else {
                    "unreachable".to_owned()
                }
            })?;
        let status = res.status();
        if res
            .content_length()
            .is_some_and(|l| l > MAX_ANSWER_BYTES as u64)
        {
            return Err("answer too large".into());
        }
        let body = res.bytes().await.map_err(|_| "answer cut off".to_owned())?;
        if body.len() > MAX_ANSWER_BYTES {
            return Err("answer too large".into());
        }
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        serde_json::from_slice(&body).map_err(|_| "answer is not JSON".to_owned())
    }

    /// Kraken: `{"error":[],"result":{"XXBTZEUR":{"a":[…],"b":[…],"c":["87123.45000","0.001"],…}}}`;
    /// the last trade price `c[0]`.
    async fn kraken(&self, base: &str, currency: Currency) -> Result<Rate, String> {
        let v = self
            .get_json(&format!(
                "{base}/0/public/Ticker?pair=XBT{}",
                currency.code()
            ))
            .await?;
        parse_kraken(&v)
    }

    /// Coinbase: `{"data":{"amount":"87123.45","base":"BTC","currency":"EUR"}}`.
    async fn coinbase(&self, base: &str, currency: Currency) -> Result<Rate, String> {
        let v = self
            .get_json(&format!("{base}/v2/prices/BTC-{}/spot", currency.code()))
            .await?;
        parse_coinbase(&v, currency)
    }
}

/// The last trade price of Kraken's ticker answer (the one pair in `result`).
pub fn parse_kraken(v: &Value) -> Result<Rate, String> {
    if let Some(errs) = v.get("error").and_then(Value::as_array) {
        if let Some(e) = errs.first() {
            return Err(format!(
                "Kraken error {}",
                e.as_str()
                    .unwrap_or("?")
                    .chars()
                    .take(80)
                    .collect::<String>()
            ));
        }
    }
    let result = v
        .get("result")
        .and_then(Value::as_object)
        .ok_or("no result")?;
    if result.len() != 1 {
        return Err("not exactly one pair in result".into());
    }
    let price = result
        .values()
        .next()
        .and_then(|p| p.get("c"))
        .and_then(|c| c.get(0))
        .and_then(Value::as_str)
        .ok_or("no last trade price c[0]")?;
    Rate::parse(price).map_err(|_| "last trade price is not a positive decimal".into())
}

/// The spot price of Coinbase's answer, for `currency`.
pub fn parse_coinbase(v: &Value, currency: Currency) -> Result<Rate, String> {
    let data = v.get("data").ok_or("no data")?;
    if data.get("base").and_then(Value::as_str) != Some("BTC")
        || data.get("currency").and_then(Value::as_str) != Some(currency.code())
    {
        return Err("answer is not for BTC in this currency".into());
    }
    let amount = data
        .get("amount")
        .and_then(Value::as_str)
        .ok_or("no data.amount")?;
    Rate::parse(amount).map_err(|_| "data.amount is not a positive decimal".into())
}
