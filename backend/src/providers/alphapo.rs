//! AlphaPo (the CoinsPaid / CryptoProcessing "X-Processing" API), Lightning as `BTCLN`.
//!
//! * `POST /api/v2/addresses/take` with `{"currency":"BTCLN","foreign_id","end_user_reference",
//!   "amount"}`: the amount is a JSON number of BTC with at most 8 decimals, written from whole
//!   sat by integer arithmetic (never a float); the invoice comes back in `data.address`.
//! * `foreign_id` and `end_user_reference` identify the payer, persistently ("a persistent
//!   internal user ID … consistent across requests"), not one invoice. The checkout knows no
//!   payer (guest checkout), so both are the one reference `ALPHAPO_END_USER_REFERENCE`
//!   (default [`DEFAULT_END_USER_REFERENCE`]). Callbacks are matched by the invoice's payment
//!   hash, or else by AlphaPo's address id, never by `foreign_id`.
//! * Signed with `X-Processing-Key` and `X-Processing-Signature` = hex HMAC-SHA512 of the exact
//!   body bytes sent.
//! * No status endpoint: a verified callback with `status: "confirmed"` settles the invoice; the
//!   deadline is the earlier of the invoice's own and 15 minutes (AlphaPo's fixed expiry).
//! * At most 0.045 BTC (4 500 000 sat), refused before any call.

use std::str::FromStr;

use axum::http::HeaderMap;
use lightning_invoice::Bolt11Invoice;
use reqwest::Method;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::http::{Api, TlsTrust};
use super::units::{btc_to_msat, sat_to_btc, whole_sat};
use super::{header, hmac_hex, json_str, verify_hmac, Env, HmacSha512};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus, WebhookError, WebhookEvent,
};
use crate::providers::CALLBACK_GRACE_SECS;
use crate::store::InvoiceKey;

/// Default API host.
pub const DEFAULT_URL: &str = "https://app.alphapo.net";
/// AlphaPo's Lightning ceiling: 0.045 BTC.
pub const MAX_AMOUNT_SAT: u64 = 4_500_000;
/// AlphaPo Lightning invoices expire after 15 minutes.
pub const EXPIRY_SECS: u64 = 900;
/// The payer reference sent when `ALPHAPO_END_USER_REFERENCE` is unset.
pub const DEFAULT_END_USER_REFERENCE: &str = "checkout-guest";
const WHO: &str = "AlphaPo";
const PATH: &str = "/api/v2/addresses/take";

/// `ALPHAPO_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ALPHAPO_URL`: the host, without `/api/v2`.
    pub url: String,
    /// `ALPHAPO_KEY`: the public key, sent as `X-Processing-Key` and expected on callbacks.
    pub key: Secret,
    /// `ALPHAPO_SECRET`: signs requests and verifies callbacks.
    pub secret: Secret,
    /// `ALPHAPO_END_USER_REFERENCE`: the payer's persistent reference, sent as `foreign_id` and
    /// `end_user_reference` (no personal data).
    pub end_user_reference: String,
}

impl Settings {
    /// Reads them through `env` at start-up: an error names the variable, never its value.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            url: env.url("ALPHAPO_URL", Some(DEFAULT_URL))?,
            key: env.secret("ALPHAPO_KEY")?,
            secret: env.secret("ALPHAPO_SECRET")?,
            end_user_reference: end_user_reference(env)?,
        })
    }
}

fn end_user_reference(env: &Env<'_>) -> Result<String, ConfigError> {
    let Some(r) = env.opt("ALPHAPO_END_USER_REFERENCE") else {
        return Ok(DEFAULT_END_USER_REFERENCE.to_owned());
    };
    let ok = r.len() <= 100
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(r)
    } else {
        Err(ConfigError::new(
            "ALPHAPO_END_USER_REFERENCE",
            "must be 1 to 100 characters of A-Z a-z 0-9 . _ : - (and no personal data)",
        ))
    }
}

/// The AlphaPo adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Alphapo {
    s: Settings,
    api: Api,
}

/// `X-Processing-Signature` of a body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    hmac_hex::<HmacSha512>(secret.as_bytes(), body)
}

/// The exact `addresses/take` body for a BTCLN invoice (key order as documented).
pub fn take_body(foreign_id: &str, end_user_reference: &str, amount_sat: u64) -> String {
    format!(
        r#"{{"currency":"BTCLN","foreign_id":{},"end_user_reference":{},"amount":{}}}"#,
        json_str(foreign_id),
        json_str(end_user_reference),
        sat_to_btc(amount_sat)
    )
}

impl Alphapo {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let key = ("x-processing-key", s.key.clone());
        Ok(Self {
            api: Api::new(WHO, &s.url, &TlsTrust::WebPki, vec![key])?,
            s,
        })
    }
}

impl Adapter for Alphapo {
    fn name(&self) -> &'static str {
        "alphapo"
    }

    fn max_amount_sat(&self) -> Option<u64> {
        Some(MAX_AMOUNT_SAT)
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let sat = whole_sat(req.amount_msat);
        if sat > MAX_AMOUNT_SAT {
            return Err(ProviderError::Unsupported(
                "AlphaPo takes at most 0.045 BTC over Lightning".into(),
            ));
        }
        // Both name the payer persistently (AlphaPo's docs), not this invoice: the one
        // configured reference of this guest checkout.
        let user = &self.s.end_user_reference;
        let body = take_body(user, user, sat);
        let signature = sign(self.s.secret.expose(), body.as_bytes());
        let http_req = self
            .api
            .request(Method::POST, PATH)
            .header("content-type", "application/json")
            .header("x-processing-signature", signature)
            .body(body);
        let v = self.api.send(http_req, None).await?.ok_json(WHO)?;
        let data = &v["data"];
        let address = data["address"]
            .as_str()
            .ok_or_else(|| ProviderError::BadResponse("AlphaPo: no data.address".into()))?;
        let reference = match &data["id"] {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        Ok(CreatedInvoice {
            payment_request: Some(address.to_owned()),
            provider_ref: reference,
            // The expiry field's name is not documented: 15 minutes from now, or the
            // invoice's own deadline if earlier.
            expires_at: Some(req.now.saturating_add(EXPIRY_SECS)),
            ..CreatedInvoice::default()
        })
    }

    fn callback_grace_secs(&self) -> u64 {
        // No documented status endpoint for deposits (the default `lookup`): only the callback
        // tells a payment (see Provider docs).
        CALLBACK_GRACE_SECS
    }

    async fn verify_webhook(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        _now: u64,
    ) -> Result<Option<WebhookEvent>, WebhookError> {
        verify(&self.s.key, &self.s.secret, body, headers)
    }
}

/// Check a callback (our key in `X-Processing-Key`, HMAC-SHA512 of the raw body) and read it.
pub fn verify(
    key: &Secret,
    secret: &Secret,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<Option<WebhookEvent>, WebhookError> {
    if key.expose().is_empty() || secret.expose().is_empty() {
        return Err(WebhookError::NotConfigured);
    }
    let their_key = header(headers, "x-processing-key")
        .ok_or(WebhookError::MissingSignature("x-processing-key"))?;
    let sig = header(headers, "x-processing-signature")
        .ok_or(WebhookError::MissingSignature("x-processing-signature"))?;
    let key_ok: bool = their_key.as_bytes().ct_eq(key.expose().as_bytes()).into();
    let sig_ok = verify_hmac::<HmacSha512>(secret.expose().as_bytes(), &[body], sig);
    if !key_ok || sig_ok.is_err() {
        return Err(WebhookError::BadSignature);
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("not JSON".into()))?;
    if v["type"].as_str().is_some_and(|t| t != "deposit") {
        return Ok(None);
    }
    let addr = &v["crypto_address"];
    let invoice = if let Some(hash) = addr["address"]
        .as_str()
        .and_then(|a| Bolt11Invoice::from_str(a.trim()).ok())
        .map(|i| {
            use bitcoin::hashes::Hash;
            i.payment_hash().to_byte_array()
        }) {
        InvoiceKey::PaymentHash(hash)
    } else if let Some(id) = match &addr["id"] {
        // AlphaPo's address id, kept as the invoice's provider reference (`foreign_id` names
        // the payer, not the invoice).
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    } {
        InvoiceKey::ProviderRef(id)
    } else {
        return Ok(None);
    };
    let status = v["status"]
        .as_str()
        .ok_or_else(|| WebhookError::Malformed("no status".into()))?;
    let status = match status {
        "confirmed" => ProviderStatus::Paid {
            preimage: None,
            amount_paid_msat: v["currency_sent"]["amount"].as_str().and_then(btc_to_msat),
            paid_at: None,
        },
        "cancelled" => ProviderStatus::Expired,
        _ => ProviderStatus::Pending,
    };
    let id = match &v["id"] {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    Ok(Some(WebhookEvent {
        // One transaction may be reported `not_confirmed`, then `confirmed`: both count.
        event_id: id.map(|id| format!("{id}:{}", v["status"].as_str().unwrap_or_default())),
        invoice,
        status,
    }))
}
