//! Provider adapters, chosen by `PROVIDER`: the embedded [`demo`] provider and one adapter per
//! real provider. Each adapter's settings are read from the environment at start-up
//! ([`ProviderSettings::from_lookup`]); a missing or unusable variable is a start-up error that
//! names it. Each adapter's module docs state the provider's wire format as the adapter uses it;
//! what to configure: `backend/PROVIDERS.md`.

pub mod alphapo;
pub mod amboss;
pub mod btcpay;
pub mod cln;
pub mod demo;
pub mod http;
pub mod kraken;
pub mod lnbits;
pub mod lnd;
pub mod units;

use std::sync::Arc;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};

use crate::config::{Config, ConfigError, ProviderKind, Secret};
use crate::provider::{Provider, WebhookError};
use crate::state::StartupError;

pub use demo::DemoProvider;

/// The selected provider's settings.
#[derive(Debug, Clone, Default)]
pub enum ProviderSettings {
    /// The embedded demo provider (no settings).
    #[default]
    Demo,
    /// Amboss Payments.
    Amboss(amboss::Settings),
    /// AlphaPo.
    Alphapo(alphapo::Settings),
    /// Kraken Pay.
    Kraken(kraken::Settings),
    /// LND REST.
    Lnd(lnd::Settings),
    /// Core Lightning clnrest.
    Cln(cln::Settings),
    /// LNbits.
    Lnbits(lnbits::Settings),
    /// BTCPay Server Greenfield.
    Btcpay(btcpay::Settings),
}

impl ProviderSettings {
    /// Read the settings of provider `kind` through `get` (unset and empty are the same).
    pub fn from_lookup(
        kind: ProviderKind,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = Env { get };
        Ok(match kind {
            ProviderKind::Demo => Self::Demo,
            ProviderKind::Amboss => Self::Amboss(amboss::Settings::from_env(&env)?),
            ProviderKind::Alphapo => Self::Alphapo(alphapo::Settings::from_env(&env)?),
            ProviderKind::Kraken => Self::Kraken(kraken::Settings::from_env(&env)?),
            ProviderKind::Lnd => Self::Lnd(lnd::Settings::from_env(&env)?),
            ProviderKind::Cln => Self::Cln(cln::Settings::from_env(&env)?),
            ProviderKind::Lnbits => Self::Lnbits(lnbits::Settings::from_env(&env)?),
            ProviderKind::Btcpay => Self::Btcpay(btcpay::Settings::from_env(&env)?),
        })
    }

    /// Which provider these settings are for.
    pub fn kind(&self) -> ProviderKind {
        match self {
            Self::Demo => ProviderKind::Demo,
            Self::Amboss(_) => ProviderKind::Amboss,
            Self::Alphapo(_) => ProviderKind::Alphapo,
            Self::Kraken(_) => ProviderKind::Kraken,
            Self::Lnd(_) => ProviderKind::Lnd,
            Self::Cln(_) => ProviderKind::Cln,
            Self::Lnbits(_) => ProviderKind::Lnbits,
            Self::Btcpay(_) => ProviderKind::Btcpay,
        }
    }
}

/// The provider `config` asks for, ready to use.
pub fn build(config: &Config) -> Result<Arc<dyn Provider>, StartupError> {
    let settings = &config.provider_settings;
    if settings.kind() != config.provider {
        return Err(StartupError::Provider(format!(
            "PROVIDER is {} but the settings read are for {}",
            config.provider.as_str(),
            settings.kind().as_str()
        )));
    }
    let e = |e: String| StartupError::Provider(e);
    Ok(match settings {
        ProviderSettings::Demo => Arc::new(DemoProvider::load_or_create(
            &config.data_dir,
            config.network,
        )?),
        ProviderSettings::Amboss(s) => {
            if let Some(warning) = amboss::check_network(&s.api_key, config.network).map_err(e)? {
                tracing::warn!("{warning}");
            }
            Arc::new(
                amboss::Amboss::new(s.clone())
                    .map_err(e)?
                    .with_network(config.network),
            )
        }
        ProviderSettings::Alphapo(s) => Arc::new(alphapo::Alphapo::new(s.clone()).map_err(e)?),
        ProviderSettings::Kraken(s) => Arc::new(kraken::Kraken::new(s.clone()).map_err(e)?),
        ProviderSettings::Lnd(s) => Arc::new(lnd::Lnd::new(s.clone()).map_err(e)?),
        ProviderSettings::Cln(s) => Arc::new(cln::Cln::new(s.clone()).map_err(e)?),
        ProviderSettings::Lnbits(s) => Arc::new(lnbits::Lnbits::new(s.clone()).map_err(e)?),
        ProviderSettings::Btcpay(s) => Arc::new(btcpay::Btcpay::new(s.clone()).map_err(e)?),
    })
}

/// Reads one provider's variables; every error names the variable and never its value.
pub struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    /// An optional variable (trimmed; empty is unset).
    pub fn opt(&self, name: &'static str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A required variable.
    pub fn req(&self, name: &'static str) -> Result<String, ConfigError> {
        self.opt(name)
            .ok_or_else(|| ConfigError::new(name, "is required for this PROVIDER"))
    }

    /// A required credential.
    pub fn secret(&self, name: &'static str) -> Result<Secret, ConfigError> {
        self.req(name).map(Secret::new)
    }

    /// An optional credential.
    pub fn opt_secret(&self, name: &'static str) -> Option<Secret> {
        self.opt(name).map(Secret::new)
    }

    /// A base URL (default if unset): `https://…`, or `http://` to a loopback host (tests, a
    /// node on the same machine), or any `http://` with `ALLOW_INSECURE_HTTP=true`. No trailing
    /// slash, no query, no user info.
    pub fn url(&self, name: &'static str, default: Option<&str>) -> Result<String, ConfigError> {
        let v = match (self.opt(name), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_owned(),
            (None, None) => return Err(ConfigError::new(name, "is required for this PROVIDER")),
        };
        let insecure_ok = self
            .opt("ALLOW_INSECURE_HTTP")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        check_url(&v, insecure_ok).map_err(|reason| ConfigError::new(name, reason))
    }
}

/// A provider's base URL: read by the contract's URL parser (`contract/src/payurl.rs`: scheme in
/// any case, host and port characters, no user info), with the same loopback rule for plain
/// `http://` as a pay link, unless `ALLOW_INSECURE_HTTP` says otherwise; no query or fragment
/// (paths are appended to it).
fn check_url(v: &str, insecure_ok: bool) -> Result<String, String> {
    use lightning_checkout_contract::{strip_prefix_ignore_case, HttpUrl};
    let v = v.trim_end_matches('/');
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    if strip_prefix_ignore_case(v, "https://")
        .or_else(|| strip_prefix_ignore_case(v, "http://"))
        .is_none()
    {
        return Err("must start with https:// (or http:// for a loopback host)".into());
    }
    let url = HttpUrl::parse(v)
        .filter(|_| !v.contains(['?', '#']))
        .ok_or("must be a base URL: scheme://host[:port][/path], no user info or query")?;
    if !url.is_secure() && !insecure_ok {
        return Err(
            "plain http:// is only allowed to a loopback host (set ALLOW_INSECURE_HTTP=true to override)"
                .into(),
        );
    }
    Ok(v.to_owned())
}

/// A header's value as text, if present and ASCII.
pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Check a hex HMAC (any case) over `parts` in constant time.
pub(crate) fn verify_hmac<M>(key: &[u8], parts: &[&[u8]], sig_hex: &str) -> Result<(), WebhookError>
where
    M: Mac + hmac::digest::KeyInit,
{
    let sig = hex::decode(sig_hex.trim()).map_err(|_| WebhookError::BadSignature)?;
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .map_err(|_| WebhookError::BadSignature)?;
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(&sig)
        .map_err(|_| WebhookError::BadSignature)
}

/// HMAC-SHA256.
pub(crate) type HmacSha256 = Hmac<sha2::Sha256>;
/// HMAC-SHA512.
pub(crate) type HmacSha512 = Hmac<sha2::Sha512>;

/// Lower-case hex HMAC of `msg`.
pub(crate) fn hmac_hex<M>(key: &[u8], msg: &[u8]) -> String
where
    M: Mac + hmac::digest::KeyInit,
{
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

/// A JSON string literal (for bodies we sign and must send byte for byte).
pub(crate) fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// 32 bytes from hex, or `None`.
pub(crate) fn hash_from_hex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok().map(|()| out)
}

/// Grace after the deadline for providers known only by callback (AlphaPo, Kraken Pay): the
/// first callback normally arrives within seconds; two minutes covers a slow one (AlphaPo's
/// first retry comes after one minute).
pub const CALLBACK_GRACE_SECS: u64 = 120;

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn base_urls() {
        assert_eq!(
            check_url("https://rails.amboss.tech/graphql/", false).unwrap(),
            "https://rails.amboss.tech/graphql"
        );
        assert!(check_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_url("http://localhost:3000/x", false).is_ok());
        assert!(check_url("http://[::1]:3000", false).is_ok());
        assert!(check_url("http://node.lan:8080", false).is_err());
        assert!(check_url("http://node.lan:8080", true).is_ok());
        assert!(check_url("ftp://x", true).is_err());
        assert!(check_url("https://user:pw@x", false).is_err());
        assert!(check_url("https://x/?api-key=1", false).is_err());
        assert!(check_url("https://", false).is_err());
        // The contract's URL rules apply: scheme in any case, a real port, a host of host
        // characters, loopback only as written.
        assert!(check_url("HTTPS://rails.amboss.tech", false).is_ok());
        assert!(check_url("https://x:abc", false).is_err());
        assert!(check_url("https://x:99999", false).is_err());
        assert!(check_url("http://127.0.0.1.attacker.example", false).is_err());
        assert!(check_url("http://[0:0:0:0:0:0:0:1]:8080", false).is_err());
        assert!(check_url("https://a b", false).is_err());
    }
}
