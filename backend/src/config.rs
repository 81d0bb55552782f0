//! Configuration from environment variables, checked once at start-up.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `HOST` | `127.0.0.1` | address to bind |
//! | `PORT` | `8080` | port to bind (`0` picks a free one; the printed URL shows it) |
//! | `DATA_DIR` | `./data` | SQLite database and the demo node key |
//! | `DATABASE_URL` | unset | `postgres://…`: invoices in PostgreSQL instead of SQLite, shared by several instances ([`crate::store::pg`]) |
//! | `DATABASE_POOL_SIZE` | `16` | PostgreSQL connections at most, per instance (1-1000) |
//! | `DATABASE_STATEMENT_TIMEOUT_MS` | `5000` | longest wait for a PostgreSQL connection and longest statement (100-600000) |
//! | `PROVIDER` | `demo` | invoice provider: `demo` (embedded, signs its own invoices), `amboss`, `alphapo`, `kraken`, `lnd`, `cln`, `lnbits` or `btcpay` (their variables: `backend/PROVIDERS.md`) |
//! | `NETWORK` | `regtest` | `bitcoin`, `testnet`, `signet` or `regtest` |
//! | `MAX_AMOUNT_SAT` | `4500000` | largest invoice accepted (AlphaPo's 0.045 BTC Lightning ceiling) |
//! | `CORS_ORIGINS` | empty | comma-separated origins allowed to call `/api` from a browser; empty = same origin only; `*` = any |
//! | `WWW_DIR` | `www` | the demo shop page served at `/` |
//! | `PKG_DIR` | `pkg` | the built widget package served at `/pkg/` |
//! | `CHECKOUT_SECRET`, `ALLOW_UNSIGNED`, `SHOP_WEBHOOK_…`, `ADMIN_TOKEN` | | the shop integration: `crate::shop` |
//! | `ONCHAIN_CONFIRMATIONS` | `1` | confirmations that make an on-chain payment of a unified invoice paid |
//! | `RATE_SOURCE`, `RATE_…` | demo: fixed rates | BTC rates for fiat prices: [`crate::rates`] |
//! | `PAY_LINK_HOST` | the provider URL's host | the only host a provider's pay link (`pay_url`, Kraken Pay) may point to |
//!
//! Limits against abusive clients (timeouts, caps, rate limit, lookup cache, retention) are read
//! by [`crate::limits::Limits`]; their variables are listed there.
//!
//! `Config`'s `Debug` never prints a [`Secret`]; provider credentials are held in that type.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use lightning_invoice::Currency;

/// The default largest invoice: 0.045 BTC, the ceiling AlphaPo sets for Lightning.
pub const DEFAULT_MAX_AMOUNT_SAT: u64 = 4_500_000;
/// Every bitcoin there will ever be, in sat: no configured maximum may exceed it, which also
/// keeps every amount in msat inside SQLite's signed 64-bit integers.
pub const MAX_CONFIGURABLE_AMOUNT_SAT: u64 = 2_100_000_000_000_000;

/// Everything the backend reads from its environment.
#[derive(Clone)]
pub struct Config {
    /// Address to bind.
    pub host: String,
    /// Port to bind.
    pub port: u16,
    /// Directory for the database and the demo node key (created if missing).
    pub data_dir: PathBuf,
    /// Which provider creates invoices.
    pub provider: ProviderKind,
    /// That provider's settings (URLs, credentials), read with it.
    pub provider_settings: crate::providers::ProviderSettings,
    /// The Lightning network invoices must be for.
    pub network: Network,
    /// Largest accepted `amount_sat`.
    pub max_amount_sat: u64,
    /// Browser origins allowed to call `/api`.
    pub cors_origins: CorsOrigins,
    /// Directory served at `/`.
    pub www_dir: PathBuf,
    /// Directory served at `/pkg/`.
    pub pkg_dir: PathBuf,
    /// Signed orders, payment notifications, the admin token (`crate::shop`).
    pub shop: crate::shop::ShopConfig,
    /// Timeouts, caps, rate limit, lookup cache, retention.
    pub limits: crate::limits::Limits,
    /// `PAY_LINK_HOST`: overrides the provider's own pay-link host (see [`crate::payurl`]).
    pub pay_link_host: Option<String>,
    /// Live status streams: cap, lifetime, heartbeat ([`crate::events`]).
    pub events: crate::events::Settings,
    /// `RATE_*`: where fiat prices get their BTC rate ([`crate::rates`]).
    pub rates: crate::rates::RateConfig,
    /// `ONCHAIN_CONFIRMATIONS`: confirmations after which an on-chain payment of a unified
    /// invoice makes it paid (1 to 100).
    pub onchain_confirmations: u32,
    /// `DATABASE_URL` and its pool: PostgreSQL instead of SQLite in `data_dir`.
    pub database: Option<crate::store::PgOptions>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            data_dir: PathBuf::from("./data"),
            provider: ProviderKind::Demo,
            provider_settings: crate::providers::ProviderSettings::Demo,
            network: Network::Regtest,
            max_amount_sat: DEFAULT_MAX_AMOUNT_SAT,
            cors_origins: CorsOrigins::SameOrigin,
            www_dir: PathBuf::from("www"),
            pkg_dir: PathBuf::from("pkg"),
            shop: crate::shop::ShopConfig::default(),
            limits: crate::limits::Limits::default(),
            pay_link_host: None,
            events: crate::events::Settings::default(),
            rates: crate::rates::RateConfig {
                source: crate::rates::RateConfig::from_lookup(&|_| None, true)
                    .ok()
                    .and_then(|r| r.source),
                ..crate::rates::RateConfig::default()
            },
            onchain_confirmations: 1,
            database: None,
        }
    }
}

impl fmt::Debug for Config {
    // Written out by hand so that a credential added later cannot slip into a log line
    // through a derive: only the fields listed here are ever printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("data_dir", &self.data_dir)
            .field("provider", &self.provider)
            .field("provider_settings", &self.provider_settings)
            .field("network", &self.network)
            .field("max_amount_sat", &self.max_amount_sat)
            .field("cors_origins", &self.cors_origins)
            .field("www_dir", &self.www_dir)
            .field("pkg_dir", &self.pkg_dir)
            .field("shop", &self.shop)
            .field("limits", &self.limits)
            .field("pay_link_host", &self.pay_link_host)
            .field("events", &self.events)
            .field("rates", &self.rates)
            .field("onchain_confirmations", &self.onchain_confirmations)
            .field("database", &self.database)
            .finish()
    }
}

impl Config {
    /// Defaults with the given data directory (what tests use).
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }

    /// Read the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read variables through `get` (the environment, a file, or a test's map).
    /// An unset or empty variable takes its default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        };
        let mut c = Self::default();
        if let Some((_, v)) = var("HOST") {
            c.host = v;
        }
        if let Some((n, v)) = var("PORT") {
            c.port = v.parse().map_err(|_| {
                ConfigError::new(n, format!("{v:?} is not a port number (0-65535)"))
            })?;
        }
        if let Some((_, v)) = var("DATA_DIR") {
            c.data_dir = v.into();
        }
        if let Some((n, v)) = var("PROVIDER") {
            c.provider = v.parse().map_err(|e| ConfigError::new(n, e))?;
        }
        if let Some((n, v)) = var("NETWORK") {
            c.network = v.parse().map_err(|e| ConfigError::new(n, e))?;
        }
        if let Some((n, v)) = var("MAX_AMOUNT_SAT") {
            let max: u64 = v
                .parse()
                .map_err(|_| ConfigError::new(n, format!("{v:?} is not a whole number of sat")))?;
            if !(1..=MAX_CONFIGURABLE_AMOUNT_SAT).contains(&max) {
                return Err(ConfigError::new(
                    n,
                    format!("must be from 1 to {MAX_CONFIGURABLE_AMOUNT_SAT}"),
                ));
            }
            c.max_amount_sat = max;
        }
        if let Some((n, v)) = var("CORS_ORIGINS") {
            c.cors_origins = v.parse().map_err(|e| ConfigError::new(n, e))?;
        }
        if let Some((_, v)) = var("WWW_DIR") {
            c.www_dir = v.into();
        }
        if let Some((_, v)) = var("PKG_DIR") {
            c.pkg_dir = v.into();
        }
        c.provider_settings =
            crate::providers::ProviderSettings::from_lookup(c.provider, &|name| get(name))?;
        c.shop = crate::shop::ShopConfig::from_lookup(&|name| get(name))?;
        c.limits = crate::limits::Limits::from_lookup(&|name| get(name))?;
        c.events = crate::events::Settings::from_lookup(&|name| get(name))?;
        if let Some((n, v)) = var("PAY_LINK_HOST") {
            let host = v.to_ascii_lowercase();
            if crate::payurl::pay_url_host(&format!("https://{host}/")).as_deref() != Some(&host) {
                return Err(ConfigError::new(
                    n,
                    "must be a host name, such as pay.example.com",
                ));
            }
            c.pay_link_host = Some(host);
        }
        if let Some(n) = whole_number(&get, "ONCHAIN_CONFIRMATIONS", 1, 100)? {
            c.onchain_confirmations = n as u32;
        }
        c.rates = crate::rates::RateConfig::from_lookup(
            &|name| get(name),
            c.provider == ProviderKind::Demo,
        )?;
        if let Some((n, v)) = var("DATABASE_URL") {
            let mut db = crate::store::PgOptions::new(v);
            db.client_config().map_err(|e| ConfigError::new(n, e))?;
            if let Some(n) = whole_number(&get, "DATABASE_POOL_SIZE", 1, 1000)? {
                db.pool_size = n as u32;
            }
            if let Some(ms) = whole_number(&get, "DATABASE_STATEMENT_TIMEOUT_MS", 100, 600_000)? {
                db.statement_timeout = std::time::Duration::from_millis(ms);
            }
            c.database = Some(db);
        }
        if c.provider == ProviderKind::Demo && c.network == Network::Bitcoin {
            return Err(ConfigError::new(
                "PROVIDER",
                "the demo provider settles invoices without any payment and is refused with NETWORK=bitcoin; choose a real provider",
            ));
        }
        Ok(c)
    }
}

/// The one reading of a whole-number variable: unset or blank is `None`; anything but a whole
/// number from `min` to `max` is refused, naming the variable and the range (`max` of
/// `u64::MAX`: no upper bound).
pub fn whole_number(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .map(Some)
        .ok_or_else(|| {
            let range = if max == u64::MAX {
                format!("{min} or more")
            } else {
                format!("from {min} to {max}")
            };
            ConfigError::new(name, format!("must be a whole number {range}"))
        })
}

/// A configuration variable that could not be used. Names the variable, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    /// An error about variable `name`.
    pub fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// The invoice provider behind the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// The embedded demo provider: signs real BOLT 11 invoices, settles only through the dev endpoint.
    Demo,
    /// Amboss Payments (GraphQL).
    Amboss,
    /// AlphaPo (`X-Processing` API, `BTCLN`).
    Alphapo,
    /// Kraken Pay (pay links).
    Kraken,
    /// LND REST.
    Lnd,
    /// Core Lightning clnrest.
    Cln,
    /// LNbits.
    Lnbits,
    /// BTCPay Server Greenfield.
    Btcpay,
}

impl ProviderKind {
    /// Every provider, in the order `PROVIDER`'s error lists them.
    pub const ALL: [ProviderKind; 8] = [
        Self::Demo,
        Self::Amboss,
        Self::Alphapo,
        Self::Kraken,
        Self::Lnd,
        Self::Cln,
        Self::Lnbits,
        Self::Btcpay,
    ];

    /// The name used in `PROVIDER` and in `/api/webhooks/{provider}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::Amboss => "amboss",
            Self::Alphapo => "alphapo",
            Self::Kraken => "kraken",
            Self::Lnd => "lnd",
            Self::Cln => "cln",
            Self::Lnbits => "lnbits",
            Self::Btcpay => "btcpay",
        }
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a known provider (known: demo, amboss, alphapo, kraken, lnd, cln, lnbits, btcpay)"
                )
            })
    }
}

/// The Lightning network invoices are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Mainnet, `lnbc`.
    Bitcoin,
    /// Testnet, `lntb`.
    Testnet,
    /// Signet, `lntbs`.
    Signet,
    /// Regtest, `lnbcrt`.
    Regtest,
}

impl Network {
    /// The BOLT 11 currency of this network.
    pub fn currency(self) -> Currency {
        match self {
            Self::Bitcoin => Currency::Bitcoin,
            Self::Testnet => Currency::BitcoinTestnet,
            Self::Signet => Currency::Signet,
            Self::Regtest => Currency::Regtest,
        }
    }

    /// The name used in `NETWORK`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bitcoin => "bitcoin",
            Self::Testnet => "testnet",
            Self::Signet => "signet",
            Self::Regtest => "regtest",
        }
    }
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "bitcoin" | "mainnet" => Ok(Self::Bitcoin),
            "testnet" => Ok(Self::Testnet),
            "signet" => Ok(Self::Signet),
            "regtest" => Ok(Self::Regtest),
            _ => Err(format!(
                "{s:?} is not a network (bitcoin, testnet, signet or regtest)"
            )),
        }
    }
}

/// Which browser origins may call `/api`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// No CORS headers: only pages served by this backend can call it.
    #[default]
    SameOrigin,
    /// Any origin (`CORS_ORIGINS=*`); no credentials are ever allowed.
    Any,
    /// Exactly these origins, e.g. `https://shop.example`.
    List(Vec<String>),
}

impl FromStr for CorsOrigins {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let items: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(Self::SameOrigin);
        }
        if items.contains(&"*") {
            if items.len() > 1 {
                return Err("`*` must stand alone".into());
            }
            return Ok(Self::Any);
        }
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            let rest = item
                .strip_prefix("https://")
                .or_else(|| item.strip_prefix("http://"))
                .ok_or_else(|| format!("{item:?} is not an origin (http://… or https://…)"))?;
            let ok = !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            if !ok {
                return Err(format!(
                    "{item:?} is not an origin: scheme://host[:port], no path or trailing slash"
                ));
            }
            list.push(item.to_ascii_lowercase());
        }
        Ok(Self::List(list))
    }
}

/// A credential. Its `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for signing or a request header; never for a log line or an error.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
#[cfg(test)]
mod tests {
    use super::whole_number;

    #[test]
    fn a_whole_number_variable_is_read_one_way_everywhere() {
        let env = |v: &'static str| move |_: &str| Some(v.to_owned());
        let read = |v: &'static str, min, max| whole_number(&env(v), "X", min, max);
        assert_eq!(read("  ", 1, 10), Ok(None));
        assert_eq!(read(" 7 ", 1, 10), Ok(Some(7)));
        assert_eq!(read("10", 1, 10), Ok(Some(10)));
        for bad in ["0", "11", "-1", "1.5", "1e3", "ten"] {
            let e = read(bad, 1, 10).unwrap_err();
            assert_eq!(
                (e.name, e.reason.as_str()),
                ("X", "must be a whole number from 1 to 10")
            );
        }
        assert_eq!(read("99999", 24, u64::MAX), Ok(Some(99_999)));
        assert_eq!(
            read("23", 24, u64::MAX).unwrap_err().reason,
            "must be a whole number 24 or more"
        );
        assert_eq!(whole_number(&|_| None, "X", 1, 10), Ok(None));
    }
}
