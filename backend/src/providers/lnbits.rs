//! LNbits: `POST /api/v1/payments` with `out: false`, `amount` in sat and `unit: "sat"`;
//! `GET /api/v1/payments/{hash}` for status (`paid` + `preimage`); `X-Api-Key` (the wallet's
//! invoice key is enough). The deadline is ours (LNbits reports none we rely on).
//!
//! LNbits webhooks are **unsigned**: anyone can post one. They are taken only as a hint to ask
//! LNbits now; the answer to that lookup, never the body, decides. They are accepted only when
//! `LNBITS_WEBHOOK_URL` is set (which is also what we ask LNbits to call); otherwise 503. The body
//! may be a JSON object or a JSON string holding the object (LNbits sends `payment.json()`
//! through `json=`): both are read.

use std::fmt;

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::http::{status_error, HttpClient, TlsTrust};
use super::units::{json_u64, whole_sat};
use super::{hash_from_hex, Env};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    BoxFuture, CreatedInvoice, NewInvoice, Provider, ProviderError, ProviderStatus, WebhookError,
    WebhookEvent,
};
use crate::store::{Invoice, InvoiceKey};

const WHO: &str = "LNbits";

/// `LNBITS_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `LNBITS_URL`, the instance's base URL.
    pub url: String,
    /// `LNBITS_API_KEY`: the wallet's invoice/read key.
    pub api_key: Secret,
    /// `LNBITS_WEBHOOK_URL`: our public `…/api/webhooks/lnbits`, sent as `webhook` with each
    /// invoice; unset = no webhooks (status by polling only).
    pub webhook_url: Option<String>,
}

impl Settings {
    /// Read them.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let webhook_url = match env.opt("LNBITS_WEBHOOK_URL") {
            Some(_) => Some(env.url("LNBITS_WEBHOOK_URL", None)?),
            None => None,
        };
        Ok(Self {
            url: env.url("LNBITS_URL", None)?,
            api_key: env.secret("LNBITS_API_KEY")?,
            webhook_url,
        })
    }
}

/// The adapter.
pub struct Lnbits {
    s: Settings,
    http: HttpClient,
}

impl fmt::Debug for Lnbits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lnbits").field("settings", &self.s).finish()
    }
}

impl Lnbits {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        Ok(Self {
            http: HttpClient::new(&TlsTrust::WebPki)?,
            s,
        })
    }
}

impl Provider for Lnbits {
    fn name(&self) -> &'static str {
        "lnbits"
    }

    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>> {
        Box::pin(async move {
            let mut body = json!({
                "out": false,
                "amount": whole_sat(req.amount_msat),
                "unit": "sat",
                "memo": req.description,
                "expiry": req.expiry_secs,
                "extra": { "invoice_id": req.invoice_id, "order_id": req.order_id },
            });
            if let Some(w) = &self.s.webhook_url {
                body["webhook"] = Value::String(w.clone());
            }
            let r = self
                .http
                .request(Method::POST, &format!("{}/api/v1/payments", self.s.url))
                .header("x-api-key", self.s.api_key.expose())
                .header("content-type", "application/json")
                .body(body.to_string());
            let reply = self.http.send(r, WHO).await?;
            if !reply.ok() {
                return Err(status_error(WHO, reply.status));
            }
            let v = reply.json(WHO)?;
            let bad = |m: &str| ProviderError::BadResponse(format!("LNbits: {m}"));
            let pr = v["payment_request"]
                .as_str()
                .or_else(|| v["bolt11"].as_str())
                .ok_or_else(|| bad("no payment_request"))?;
            let hash = v["payment_hash"]
                .as_str()
                .and_then(hash_from_hex)
                .ok_or_else(|| bad("bad payment_hash"))?;
            Ok(CreatedInvoice {
                payment_request: Some(pr.to_owned()),
                payment_hash: Some(hash),
                provider_ref: Some(hex::encode(hash)),
                ..CreatedInvoice::default()
            })
        })
    }

    fn lookup<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<Option<ProviderStatus>, ProviderError>> {
        Box::pin(async move {
            let Some(hash) = invoice.payment_hash else {
                return Ok(None);
            };
            let url = format!("{}/api/v1/payments/{}", self.s.url, hex::encode(hash));
            let r = self
                .http
                .request(Method::GET, &url)
                .header("x-api-key", self.s.api_key.expose());
            let reply = self.http.send(r, WHO).await?;
            if !reply.ok() {
                return Err(status_error(WHO, reply.status));
            }
            let v = reply.json(WHO)?;
            if v["paid"] == true {
                return Ok(Some(ProviderStatus::Paid {
                    preimage: v["preimage"].as_str().and_then(hash_from_hex),
                    amount_paid_msat: json_u64(&v["details"]["amount"]),
                    paid_at: None,
                }));
            }
            Ok(Some(match v["status"].as_str() {
                Some("failed") => ProviderStatus::Expired,
                _ => ProviderStatus::Pending,
            }))
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        body: &'a [u8],
        _headers: &'a HeaderMap,
        _now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>> {
        let result = if self.s.webhook_url.is_none() {
            Err(WebhookError::NotConfigured)
        } else {
            read_hint(body)
        };
        Box::pin(async move { result })
    }
}

/// Read an (unsigned) LNbits webhook: which payment to ask about. Its "paid" is re-checked by
/// a lookup before anything changes.
pub fn read_hint(body: &[u8]) -> Result<Option<WebhookEvent>, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("not JSON".into()))?;
    let v = match v {
        Value::String(inner) => serde_json::from_str(&inner)
            .map_err(|_| WebhookError::Malformed("string without JSON".into()))?,
        other => other,
    };
    let Some(hash) = v["payment_hash"].as_str().and_then(hash_from_hex) else {
        return Err(WebhookError::Malformed("no payment_hash".into()));
    };
    Ok(Some(WebhookEvent {
        // Unsigned, so nothing from it is remembered: every hint triggers a lookup while the
        // invoice is pending, and none once it is settled.
        event_id: None,
        invoice: InvoiceKey::PaymentHash(hash),
        status: ProviderStatus::Paid {
            preimage: None,
            amount_paid_msat: None,
            paid_at: None,
        },
    }))
}
