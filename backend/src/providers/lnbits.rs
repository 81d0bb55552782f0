//! LNbits: `POST /api/v1/payments` with `out: false`, `amount` in sat and `unit: "sat"`;
//! `GET /api/v1/payments/{hash}` for status (`paid` + `preimage`); `X-Api-Key` (the wallet's
//! invoice key is enough). The deadline is ours (LNbits reports none we rely on).
//!
//! LNbits webhooks are **unsigned**: anyone can post one. They are taken only as a hint to ask
//! LNbits now; the answer to that lookup, never the body, decides. They are accepted only when
//! `LNBITS_WEBHOOK_URL` is set (which is also what we ask LNbits to call); otherwise 503. The body
//! may be a JSON object or a JSON string holding the object (LNbits sends `payment.json()`
//! through `json=`): both are read.

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::http::{Api, TlsTrust};
use super::units::{json_u64, whole_sat};
use super::{hash_from_hex, Env};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus, WebhookError, WebhookEvent,
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
    /// Reads them through `env` at start-up: an error names the variable, never its value.
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

/// The LNbits adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Lnbits {
    s: Settings,
    api: Api,
}

impl Lnbits {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let key = ("x-api-key", s.api_key.clone());
        Ok(Self {
            api: Api::new(WHO, &s.url, &TlsTrust::WebPki, vec![key])?,
            s,
        })
    }
}

impl Adapter for Lnbits {
    fn name(&self) -> &'static str {
        "lnbits"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
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
        let v = self
            .api
            .call(Method::POST, "/api/v1/payments", Some(&body))
            .await?;
        let bad = |m: &str| ProviderError::BadResponse(format!("LNbits: {m}"));
        let pr = v["payment_request"]
            .as_str()
            .or_else(|| v["bolt11"].as_str())
            .ok_or_else(|| bad("no payment_request"))?;
        let hash = v["payment_hash"]
            .as_str()
            .and_then(hash_from_hex)
            .ok_or_else(|| bad("bad payment_hash"))?;
        Ok(CreatedInvoice::keyed_by_hash(pr, hash))
    }

    async fn lookup(&self, invoice: &Invoice) -> Result<Option<ProviderStatus>, ProviderError> {
        let Some(hash) = invoice.payment_hash else {
            return Ok(None);
        };
        let path = format!("/api/v1/payments/{}", hex::encode(hash));
        let v = self.api.call(Method::GET, &path, None).await?;
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
    }

    async fn verify_webhook(
        &self,
        body: &[u8],
        _headers: &HeaderMap,
        _now: u64,
    ) -> Result<Option<WebhookEvent>, WebhookError> {
        if self.s.webhook_url.is_none() {
            Err(WebhookError::NotConfigured)
        } else {
            read_hint(body)
        }
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
