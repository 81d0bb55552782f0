//! Kraken Pay: a pay link, not an invoice.
//!
//! * `POST /0/private/Pay/request/create` with a strictly increasing `nonce`, `API-Key` and
//!   `API-Sign` = base64(HMAC-SHA512(base64decode(secret), path || SHA256(nonce || body))).
//! * `external_id` = our stored 16-byte idempotency key, base64 without padding, committed to the
//!   store before the call. Kraken refuses a reused id, so a retry after a lost answer cannot
//!   create a second request; the lost one is cancelled and the reservation retired
//!   ([`ProviderError::Abandoned`]).
//! * The answer's `view_link` becomes `pay_url`. No status endpoint: the callback decides.
//! * Callbacks are compact JWTs: `alg` must be `ES256` (nothing else is even parsed), the `kid`
//!   must be in the configured JWKS (inline `KRAKEN_JWKS`, and/or fetched from `KRAKEN_JWKS_URL`
//!   for an unknown kid, at most once a minute), `iss == "kraken-pay"`, `exp` not passed, and
//!   `nbf`/`iat`, when present, not in the future (60 s leeway for clock skew).
//! * A kid we cannot check now (the refetch is throttled, or the JWKS cannot be fetched) is
//!   answered 503, not 401, so Kraken retries: a genuine callback signed just after a key
//!   rotation is then accepted on a later attempt. A kid still unknown after a fresh fetch is 401.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::Mac;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http::{status_error, Api, TlsTrust};
use super::units::{sat_to_btc, whole_sat};
use super::{json_str, Env, HmacSha512};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus, WebhookError, WebhookEvent,
};
use crate::providers::CALLBACK_GRACE_SECS;
use crate::store::InvoiceKey;

/// Default API host.
pub const DEFAULT_URL: &str = "https://api.kraken.com";
/// Default JWKS of callback keys.
pub const DEFAULT_JWKS_URL: &str = "https://www.kraken.com/.well-known/pay-callback-keys.json";
/// Path signed and called for create.
pub const CREATE_PATH: &str = "/0/private/Pay/request/create";
/// Path for cancel.
pub const CANCEL_PATH: &str = "/0/private/Pay/request/cancel";
/// The issuer every callback must name.
pub const ISSUER: &str = "kraken-pay";
const WHO: &str = "Kraken";
/// Least time between two JWKS fetches for unknown kids, seconds.
pub const JWKS_REFETCH_SECS: u64 = 60;
/// How far in the future `nbf` and `iat` may be (clock skew), seconds.
pub const CLOCK_LEEWAY_SECS: u64 = 60;

/// `KRAKEN_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `KRAKEN_URL`: the API host, without `/0`.
    pub url: String,
    /// `KRAKEN_API_KEY`.
    pub api_key: Secret,
    /// `KRAKEN_API_SECRET`: base64, as Kraken shows it.
    pub api_secret: Secret,
    /// `KRAKEN_ASSET` (default `BTC`): the asset the amount is in.
    pub asset: String,
    /// `KRAKEN_JWKS_URL`: fetched for unknown kids; default Kraken's, none if only
    /// `KRAKEN_JWKS` is set.
    pub jwks_url: Option<String>,
    /// `KRAKEN_JWKS`: inline JWKS JSON (`{"keys":[…]}`), parsed at start-up.
    pub jwks: Vec<Jwk>,
}

/// One P-256 key of a JWKS.
#[derive(Clone, PartialEq, Eq)]
pub struct Jwk {
    /// Its `kid`.
    pub kid: String,
    /// SEC1 uncompressed point.
    pub sec1: Vec<u8>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jwk({})", self.kid)
    }
}

impl Settings {
    /// Reads them through `env` at start-up: an error names the variable, never its value.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let api_secret = env.secret("KRAKEN_API_SECRET")?;
        if STANDARD.decode(api_secret.expose()).is_err() {
            return Err(ConfigError::new(
                "KRAKEN_API_SECRET",
                "is not base64 (copy it as Kraken shows it)",
            ));
        }
        let jwks = match env.opt("KRAKEN_JWKS") {
            Some(text) => parse_jwks(text.as_bytes()).map_err(|e| {
                ConfigError::new("KRAKEN_JWKS", format!("is not a usable JWKS: {e}"))
            })?,
            None => Vec::new(),
        };
        let jwks_url = match (env.opt("KRAKEN_JWKS_URL"), jwks.is_empty()) {
            (Some(_), _) => Some(env.url("KRAKEN_JWKS_URL", None)?),
            (None, true) => Some(DEFAULT_JWKS_URL.to_owned()),
            (None, false) => None,
        };
        Ok(Self {
            url: env.url("KRAKEN_URL", Some(DEFAULT_URL))?,
            api_key: env.secret("KRAKEN_API_KEY")?,
            api_secret,
            asset: env.opt("KRAKEN_ASSET").unwrap_or_else(|| "BTC".into()),
            jwks_url,
            jwks,
        })
    }
}

/// Parse a JWKS, keeping its P-256 signing keys (`kty` EC, `crv` P-256, `alg` ES256 if given).
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| "not JSON".to_owned())?;
    let keys = v["keys"].as_array().ok_or("no keys array")?;
    let mut out = Vec::new();
    for k in keys {
        let usable = k["kty"] == "EC"
            && k["crv"] == "P-256"
            && (k["alg"].is_null() || k["alg"] == "ES256")
            && (k["use"].is_null() || k["use"] == "sig");
        let (Some(kid), Some(x), Some(y)) = (k["kid"].as_str(), k["x"].as_str(), k["y"].as_str())
        else {
            continue;
        };
        if !usable {
            continue;
        }
        let (Ok(x), Ok(y)) = (URL_SAFE_NO_PAD.decode(x), URL_SAFE_NO_PAD.decode(y)) else {
            return Err(format!("key {kid:?} has bad coordinates"));
        };
        if x.len() != 32 || y.len() != 32 {
            return Err(format!("key {kid:?} has bad coordinates"));
        }
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        VerifyingKey::from_sec1_bytes(&sec1)
            .map_err(|_| format!("key {kid:?} is not a P-256 point"))?;
        out.push(Jwk {
            kid: kid.to_owned(),
            sec1,
        });
    }
    Ok(out)
}

/// `API-Sign` for `path` and the exact body, with the body's nonce.
pub fn api_sign(secret_b64: &str, path: &str, nonce: &str, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret_b64)
        .map_err(|_| "the API secret is not base64".to_owned())?;
    let mut inner = Sha256::new();
    inner.update(nonce.as_bytes());
    inner.update(body);
    let mut mac = <HmacSha512 as hmac::digest::KeyInit>::new_from_slice(&key)
        .map_err(|_| "bad key".to_owned())?;
    mac.update(path.as_bytes());
    mac.update(&inner.finalize());
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// The exact `Pay/request/create` body (key order as documented; `note` only if non-empty).
pub fn create_body(
    nonce: &str,
    amount_sat: u64,
    asset: &str,
    external_id: &str,
    expiry_secs: u32,
    note: &str,
) -> String {
    let mut body = format!(
        r#"{{"nonce":{},"amount":"{}","asset":{},"external_id":{},"expire_after_seconds":{expiry_secs}"#,
        json_str(nonce),
        sat_to_btc(amount_sat),
        json_str(asset),
        json_str(external_id),
    );
    if !note.is_empty() {
        body.push_str(&format!(r#","note":{}"#, json_str(note)));
    }
    body.push('}');
    body
}

/// `external_id` for an idempotency key: base64 without padding (22 characters).
pub fn external_id(key: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(key)
}

/// An entry of the `error` array of Kraken's answer, in either of its envelopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KrakenError {
    /// Spot style, `"EAPI:Invalid nonce"`: severity and category (`EAPI`), then the message.
    Spot {
        /// `EAPI`, `EService`, `EGeneral`…
        category: String,
        /// `Invalid nonce`, `Unavailable`…
        message: String,
    },
    /// Pay style, `{"severity","errorClass","type","errorMessage"}`.
    Pay {
        /// `errorClass`.
        class: String,
        /// `type`.
        kind: String,
        /// `errorMessage`.
        message: String,
    },
}

/// What an error means for the request, least to most decisive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Refused for good (bad key, bad arguments…).
    Refused,
    /// May work later: a nonce race, the service unavailable or busy.
    Temporary,
    /// The `external_id` was already used: our earlier request exists.
    ExternalIdUsed,
}

impl KrakenError {
    /// Read one entry of the `error` array.
    pub fn parse(v: &Value) -> Self {
        match v {
            Value::String(text) => {
                let (category, message) = text.split_once(':').unwrap_or(("", text));
                Self::Spot {
                    category: category.to_owned(),
                    message: message.to_owned(),
                }
            }
            other => {
                let field = |name: &str| other[name].as_str().unwrap_or_default().to_owned();
                Self::Pay {
                    class: field("errorClass"),
                    kind: field("type"),
                    message: field("errorMessage"),
                }
            }
        }
    }

    /// What it means. Spot errors are known by category and message (`EAPI:Invalid nonce`,
    /// `EService:Unavailable`, `EService:Busy`); the Pay API documents no code for a reused
    /// `external_id`, only its message ("already used"), so that one is known by its words.
    pub fn fault(&self) -> Fault {
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        match self {
            Self::Spot { category, message } => {
                let temporary = (is(category, "EAPI") && is(message, "Invalid nonce"))
                    || (is(category, "EService")
                        && (is(message, "Unavailable") || is(message, "Busy")));
                if temporary {
                    Fault::Temporary
                } else {
                    Fault::Refused
                }
            }
            Self::Pay { message, .. } => {
                if message.to_ascii_lowercase().ends_with("already used") {
                    Fault::ExternalIdUsed
                } else {
                    Fault::Refused
                }
            }
        }
    }
}

/// The errors of an answer (none when it holds no `error` array or is not JSON).
pub fn answer_errors(v: Option<&Value>) -> Vec<KrakenError> {
    v.and_then(|v| v["error"].as_array())
        .map(|a| a.iter().map(KrakenError::parse).collect())
        .unwrap_or_default()
}

/// The Kraken Pay adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Kraken {
    s: Settings,
    api: Api,
    last_nonce: AtomicU64,
    keys: Mutex<HashMap<String, VerifyingKey>>,
    /// When the JWKS was last fetched (the backend's clock, Unix seconds).
    last_fetch: Mutex<Option<u64>>,
}

impl Kraken {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let mut keys = HashMap::new();
        for k in &s.jwks {
            let vk = VerifyingKey::from_sec1_bytes(&k.sec1).map_err(|_| "bad JWKS key")?;
            keys.insert(k.kid.clone(), vk);
        }
        let auth = vec![("api-key", s.api_key.clone())];
        Ok(Self {
            api: Api::new(WHO, &s.url, &TlsTrust::WebPki, auth)?,
            s,
            last_nonce: AtomicU64::new(0),
            keys: Mutex::new(keys),
            last_fetch: Mutex::new(None),
        })
    }

    /// Milliseconds since the epoch, strictly increasing within this process.
    fn nonce(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut prev = self.last_nonce.load(Ordering::SeqCst);
        loop {
            let next = now.max(prev + 1);
            match self
                .last_nonce
                .compare_exchange(prev, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next.to_string(),
                Err(p) => prev = p,
            }
        }
    }

    async fn private(&self, path: &str, body: String, nonce: &str) -> Result<Value, ProviderError> {
        let sign = api_sign(self.s.api_secret.expose(), path, nonce, body.as_bytes())
            .map_err(|e| ProviderError::Unsupported(format!("Kraken: {e}")))?;
        let req = self
            .api
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .header("api-sign", sign)
            .body(body);
        let reply = self.api.send(req, None).await?;
        let v = serde_json::from_slice::<Value>(&reply.body).ok();
        let fault = answer_errors(v.as_ref())
            .iter()
            .map(KrakenError::fault)
            .max();
        match fault {
            Some(Fault::ExternalIdUsed) => {
                return Err(ProviderError::Abandoned(
                    "Kraken: external_id already used".into(),
                ))
            }
            Some(Fault::Temporary) => {
                return Err(ProviderError::Unavailable(
                    "Kraken answered a temporary error".into(),
                ))
            }
            Some(Fault::Refused) => {
                return Err(ProviderError::Rejected("Kraken refused the request".into()))
            }
            None => {}
        }
        if !reply.ok() {
            return Err(status_error(WHO, reply.status));
        }
        v.ok_or_else(|| ProviderError::BadResponse("Kraken answered something not JSON".into()))
    }

    /// The key for `kid`: known, or fetched from the JWKS URL (at most once a minute). An unknown
    /// kid that cannot be looked up now is `Unavailable` (503: Kraken retries), not a bad
    /// signature: it may be a key Kraken has just rotated in.
    async fn key_for(&self, kid: &str, now: u64) -> Result<VerifyingKey, WebhookError> {
        if let Some(k) = self.keys.lock().unwrap_or_else(|e| e.into_inner()).get(kid) {
            return Ok(*k);
        }
        let Some(url) = &self.s.jwks_url else {
            // Inline keys only: nothing to fetch, so the kid is simply not ours.
            return Err(WebhookError::BadSignature);
        };
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| now < t.saturating_add(JWKS_REFETCH_SECS)) {
                return Err(WebhookError::Unavailable(
                    "unknown key id; the callback keys were fetched less than a minute ago".into(),
                ));
            }
            *last = Some(now);
        }
        let http = self.api.client();
        let reply = http
            .send(http.request(Method::GET, url), WHO)
            .await
            .map_err(|_| WebhookError::Unavailable("the JWKS could not be fetched".into()))?;
        if !reply.ok() {
            // Let the next attempt fetch again.
            *self.last_fetch.lock().unwrap_or_else(|e| e.into_inner()) = None;
            return Err(WebhookError::Unavailable(format!(
                "the JWKS answered HTTP {}",
                reply.status
            )));
        }
        let fetched = parse_jwks(&reply.body)
            .map_err(|_| WebhookError::Unavailable("the JWKS is unusable".into()))?;
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        for k in fetched {
            if let Ok(vk) = VerifyingKey::from_sec1_bytes(&k.sec1) {
                // A kid always names the same key: never replace one already known.
                keys.entry(k.kid).or_insert(vk);
            }
        }
        keys.get(kid).copied().ok_or(WebhookError::BadSignature)
    }
}

impl Adapter for Kraken {
    fn name(&self) -> &'static str {
        "kraken"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let nonce = self.nonce();
        let ext = external_id(&req.idempotency_key);
        let body = create_body(
            &nonce,
            whole_sat(req.amount_msat),
            &self.s.asset,
            &ext,
            req.expiry_secs,
            &req.description,
        );
        let v = match self.private(CREATE_PATH, body, &nonce).await {
            Err(ProviderError::Abandoned(m)) => {
                // The first request exists but its link is lost: cancel it (best effort)
                // so nobody can pay it, then let the backend retire the reservation.
                let nonce = self.nonce();
                let cancel = format!(r#"{{"nonce":"{nonce}","external_id":"{ext}"}}"#);
                if let Err(e) = self.private(CANCEL_PATH, cancel, &nonce).await {
                    tracing::warn!(error = %e, "cancelling the lost Kraken Pay request failed");
                }
                return Err(ProviderError::Abandoned(m));
            }
            other => other?,
        };
        let link = v["result"]["view_link"]
            .as_str()
            .ok_or_else(|| ProviderError::BadResponse("Kraken: no result.view_link".into()))?;
        Ok(CreatedInvoice {
            pay_url: Some(link.to_owned()),
            provider_ref: Some(ext),
            expires_at: Some(req.now.saturating_add(u64::from(req.expiry_secs))),
            ..CreatedInvoice::default()
        })
    }

    fn callback_grace_secs(&self) -> u64 {
        // No status lookup (the default `lookup`): only the callback tells a payment.
        CALLBACK_GRACE_SECS
    }

    fn pay_link_host(&self) -> Option<String> {
        crate::payurl::host_of(&self.s.url)
    }

    async fn verify_webhook(
        &self,
        body: &[u8],
        _headers: &HeaderMap,
        now: u64,
    ) -> Result<Option<WebhookEvent>, WebhookError> {
        if self.s.jwks.is_empty() && self.s.jwks_url.is_none() {
            return Err(WebhookError::NotConfigured);
        }
        let token = read_token(body)?;
        let (header, _, _) = split_jwt(&token)?;
        let kid = header["kid"]
            .as_str()
            .ok_or(WebhookError::BadSignature)?
            .to_owned();
        let key = self.key_for(&kid, now).await?;
        let claims = verify_jwt(&token, &key, now)?;
        Ok(event_from_claims(&token, &claims))
    }

    fn webhook_ack(&self) -> Value {
        serde_json::json!({ "code": "Success" })
    }
}

/// The token from a callback body: the compact JWT itself, or a JSON string holding it.
fn read_token(body: &[u8]) -> Result<String, WebhookError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| WebhookError::Malformed("not UTF-8".into()))?
        .trim();
    let text = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|_| WebhookError::Malformed("bad JSON string".into()))?
    } else {
        text.to_owned()
    };
    if text.is_empty() {
        return Err(WebhookError::MissingSignature("JWT body"));
    }
    Ok(text)
}

/// Split a compact JWT and check its header: `alg` must be exactly `ES256`.
fn split_jwt(token: &str) -> Result<(Value, Value, Vec<u8>), WebhookError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(WebhookError::BadSignature);
    };
    let decode = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| WebhookError::BadSignature)
    };
    let header: Value =
        serde_json::from_slice(&decode(h)?).map_err(|_| WebhookError::BadSignature)?;
    if header["alg"] != "ES256" {
        return Err(WebhookError::BadSignature);
    }
    let payload: Value =
        serde_json::from_slice(&decode(p)?).map_err(|_| WebhookError::BadSignature)?;
    Ok((header, payload, decode(s)?))
}

/// Verify an ES256 JWT with `key` and check `iss`, `exp` and (when present) `nbf` and `iat` at
/// `now`; its claims.
pub fn verify_jwt(token: &str, key: &VerifyingKey, now: u64) -> Result<Value, WebhookError> {
    let (_, claims, sig) = split_jwt(token)?;
    let signed_len = token.rfind('.').ok_or(WebhookError::BadSignature)?;
    let sig = Signature::from_slice(&sig).map_err(|_| WebhookError::BadSignature)?;
    key.verify(&token.as_bytes()[..signed_len], &sig)
        .map_err(|_| WebhookError::BadSignature)?;
    if claims["iss"] != ISSUER {
        return Err(WebhookError::BadSignature);
    }
    let exp = claims["exp"].as_u64().ok_or(WebhookError::StaleTimestamp)?;
    if now >= exp {
        return Err(WebhookError::StaleTimestamp);
    }
    // Not yet valid, or issued in the future: refused, with a little leeway for clock skew.
    for name in ["nbf", "iat"] {
        match &claims[name] {
            Value::Null => {}
            v => {
                let t = v.as_u64().ok_or(WebhookError::StaleTimestamp)?;
                if t > now.saturating_add(CLOCK_LEEWAY_SECS) {
                    return Err(WebhookError::StaleTimestamp);
                }
            }
        }
    }
    Ok(claims)
}

fn event_from_claims(token: &str, claims: &Value) -> Option<WebhookEvent> {
    let p = &claims["payload"];
    let ext = p["external_id"].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(ext.trim_end_matches('='))
        .or_else(|_| URL_SAFE_NO_PAD.decode(ext.trim_end_matches('=')))
        .ok()?;
    // Ours are always 16 bytes; anything else is not one of our requests.
    let key: [u8; 16] = bytes.try_into().ok()?;
    let status = match p["status"].as_str()? {
        "success" => ProviderStatus::Paid {
            preimage: None,
            amount_paid_msat: None,
            paid_at: None,
        },
        "failed" | "cancelled" | "expired" | "declined" => ProviderStatus::Expired,
        _ => ProviderStatus::Pending,
    };
    Some(WebhookEvent {
        event_id: Some(hex::encode(Sha256::digest(token.as_bytes()))),
        invoice: InvoiceKey::IdempotencyKey(key),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fault_of(answer: Value) -> Option<Fault> {
        answer_errors(Some(&answer))
            .iter()
            .map(KrakenError::fault)
            .max()
    }

    #[test]
    fn errors_are_read_in_both_envelopes_and_classified() {
        assert_eq!(
            KrakenError::parse(&json!("EAPI:Invalid nonce")),
            KrakenError::Spot {
                category: "EAPI".into(),
                message: "Invalid nonce".into()
            }
        );
        let used = json!({"severity": "E", "errorClass": "EGeneral",
            "type": "InvalidArguments", "errorMessage": "external_id already used"});
        assert_eq!(
            fault_of(json!({"error": [used.clone()]})),
            Some(Fault::ExternalIdUsed)
        );
        assert_eq!(
            fault_of(json!({"error": ["EAPI:Invalid nonce"]})),
            Some(Fault::Temporary)
        );
        assert_eq!(
            fault_of(json!({"error": ["EService:Unavailable"]})),
            Some(Fault::Temporary)
        );
        assert_eq!(
            fault_of(json!({"error": ["EService:Busy"]})),
            Some(Fault::Temporary)
        );
        assert_eq!(
            fault_of(json!({"error": ["EAPI:Invalid key"]})),
            Some(Fault::Refused)
        );
        let bad = json!({"errorClass": "EGeneral", "type": "InvalidArguments",
            "errorMessage": "invalid note"});
        assert_eq!(fault_of(json!({"error": [bad]})), Some(Fault::Refused));
        // The most decisive wins: a reused id beats a temporary error beside it.
        assert_eq!(
            fault_of(json!({"error": ["EService:Busy", used]})),
            Some(Fault::ExternalIdUsed)
        );
        assert_eq!(fault_of(json!({"error": [], "result": {}})), None);
        assert_eq!(fault_of(json!("not an object")), None);
    }
}
