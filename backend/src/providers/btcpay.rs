//! BTCPay Server Greenfield: `POST /api/v1/stores/{store}/invoices` in `SATS` with the server's
//! Lightning payment method, then the BOLT 11 from `GET …/invoices/{id}/payment-methods`
//! (`destination`); status from `GET …/invoices/{id}` (`Settled` = paid, `Expired`/`Invalid` =
//! expired); `Authorization: token …`. Webhooks carry `BTCPay-Sig: sha256=<hex HMAC-SHA256 of
//! the raw body>`; the invoice is re-fetched before anything changes.
//!
//! * **Both server generations.** Before its first invoice the adapter reads
//!   `GET /api/v1/server/info` (`version`, once). 2.x takes `BTC-LN` and names methods
//!   `paymentMethodId`; 1.x (through v1.13) refuses `BTC-LN` (its parser knows
//!   `LightningLike`/`LightningNetwork`/`offchain`), so it is sent `BTC-LightningNetwork`, and
//!   names methods `paymentMethod`. Both names are read, whatever the version.
//! * **Lazy payment methods.** A store with them leaves Lightning inactive (`destination: null`)
//!   until `POST …/invoices/{id}/payment-methods/{method}/activate`: the adapter activates it and
//!   reads the methods again.

use std::sync::Mutex;

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::http::{status_error, Api, TlsTrust};
use super::units::whole_sat;
use super::{hash_from_hex, header, verify_hmac, Env, HmacSha256};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus, WebhookError, WebhookEvent,
};
use crate::store::{Invoice, InvoiceKey};

const WHO: &str = "BTCPay";

/// Which BTCPay Server API generation the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// 1.x (through v1.13): Lightning is `BTC-LightningNetwork`, methods named `paymentMethod`.
    V1,
    /// 2.x and later: Lightning is `BTC-LN`, methods named `paymentMethodId`.
    V2,
}

impl Generation {
    /// From `server/info`'s `version` (`1.13.7`, `v2.0.1`, `2.1.0-rc1`…): `None` if unreadable.
    pub fn from_version(version: &str) -> Option<Self> {
        let major: u32 = version
            .trim()
            .trim_start_matches(['v', 'V'])
            .split(['.', '-', '+'])
            .next()?
            .parse()
            .ok()?;
        match major {
            0 => None,
            1 => Some(Self::V1),
            _ => Some(Self::V2),
        }
    }

    /// The Lightning payment method id this generation accepts in `checkout.paymentMethods`.
    pub fn lightning_method(self) -> &'static str {
        match self {
            Self::V1 => "BTC-LightningNetwork",
            Self::V2 => "BTC-LN",
        }
    }
}

/// Whether a payment method id (either generation's spelling) is BTC over Lightning: `BTC-LN`,
/// or `BTC` with `LightningLike`/`LightningNetwork`/`offchain` after `-` or `_`. LNURL is not.
pub fn is_lightning_method(id: &str) -> bool {
    let Some((crypto, kind)) = id.split_once(['-', '_']) else {
        return false;
    };
    crypto.eq_ignore_ascii_case("BTC")
        && ["LN", "LightningLike", "LightningNetwork", "offchain"]
            .iter()
            .any(|k| kind.eq_ignore_ascii_case(k))
}

/// `BTCPAY_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `BTCPAY_URL`, the server's base URL.
    pub url: String,
    /// `BTCPAY_API_KEY`: a Greenfield key with `btcpay.store.cancreateinvoice` and
    /// `btcpay.store.canviewinvoices`.
    pub api_key: Secret,
    /// `BTCPAY_STORE_ID`.
    pub store_id: String,
    /// `BTCPAY_WEBHOOK_SECRET`: the secret of the store webhook; without it webhooks are refused.
    pub webhook_secret: Option<Secret>,
}

impl Settings {
    /// Reads them through `env` at start-up: an error names the variable, never its value.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let store_id = env.req("BTCPAY_STORE_ID")?;
        if !store_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::new("BTCPAY_STORE_ID", "is not a store id"));
        }
        Ok(Self {
            url: env.url("BTCPAY_URL", None)?,
            api_key: env.secret("BTCPAY_API_KEY")?,
            store_id,
            webhook_secret: env.opt_secret("BTCPAY_WEBHOOK_SECRET"),
        })
    }
}

/// The BTCPay Server (Greenfield API) adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Btcpay {
    s: Settings,
    api: Api,
    /// Read from `server/info` before the first invoice.
    generation: Mutex<Option<Generation>>,
}

fn is_invoice_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Btcpay {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let token = Secret::new(format!("token {}", s.api_key.expose()));
        Ok(Self {
            api: Api::new(
                WHO,
                &s.url,
                &TlsTrust::WebPki,
                vec![("authorization", token)],
            )?,
            s,
            generation: Mutex::new(None),
        })
    }

    /// A store-scoped call (`/api/v1/stores/{store}{path}`); its JSON answer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ProviderError> {
        let path = format!("/api/v1/stores/{}{path}", self.s.store_id);
        self.api.call(method, &path, body.as_ref()).await
    }

    /// The server's API generation, from `GET /api/v1/server/info` (asked once; a failure is
    /// asked again next time).
    pub async fn generation(&self) -> Result<Generation, ProviderError> {
        if let Some(g) = *self.generation.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(g);
        }
        let v = self
            .api
            .call(Method::GET, "/api/v1/server/info", None)
            .await?;
        let g = v["version"]
            .as_str()
            .and_then(Generation::from_version)
            .ok_or_else(|| {
                ProviderError::BadResponse(
                    "BTCPay: server/info has no version this adapter knows (1.x or 2.x and later)"
                        .into(),
                )
            })?;
        if g == Generation::V1 {
            tracing::info!("BTCPay Server 1.x: Lightning is asked for as BTC-LightningNetwork");
        }
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = Some(g);
        Ok(g)
    }

    /// The `destination` (an address) of the invoice's active `BTC-CHAIN` method, if it has one.
    async fn chain_address(&self, id: &str) -> Result<Option<String>, ProviderError> {
        let methods = self
            .call(
                Method::GET,
                &format!("/invoices/{id}/payment-methods"),
                None,
            )
            .await?;
        Ok(methods.as_array().and_then(|a| {
            a.iter()
                .find(|m| m["paymentMethodId"].as_str() == Some("BTC-CHAIN"))
                .and_then(destination)
                .map(str::to_owned)
        }))
    }

    /// The invoice's Lightning payment method, if it has one.
    async fn lightning_method(&self, id: &str) -> Result<Option<Value>, ProviderError> {
        let methods = self
            .call(
                Method::GET,
                &format!("/invoices/{id}/payment-methods"),
                None,
            )
            .await?;
        Ok(methods.as_array().and_then(|a| {
            a.iter()
                .find(|m| {
                    // 2.x: paymentMethodId; 1.x: paymentMethod.
                    m["paymentMethodId"]
                        .as_str()
                        .or_else(|| m["paymentMethod"].as_str())
                        .is_some_and(is_lightning_method)
                })
                .cloned()
        }))
    }
}

/// The BOLT 11 of an active Lightning method (`None` while inactive: lazy payment methods).
fn destination(method: &Value) -> Option<&str> {
    if method["activated"] == Value::Bool(false) {
        return None;
    }
    method["destination"].as_str().filter(|d| !d.is_empty())
}

impl Adapter for Btcpay {
    fn name(&self) -> &'static str {
        "btcpay"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let generation = self.generation().await?;
        let body = json!({
            "amount": whole_sat(req.amount_msat).to_string(),
            "currency": "SATS",
            "metadata": {
                "orderId": req.order_id.as_deref().unwrap_or(&req.invoice_id),
                "checkoutInvoiceId": req.invoice_id,
                "itemDesc": req.description,
            },
            "checkout": {
                // A unified invoice (2.x) also takes BTC on-chain, which BTCPay watches itself
                // (its status covers the payment: Processing, then Settled).
                "paymentMethods": if req.unified && generation == Generation::V2 {
                    json!([generation.lightning_method(), "BTC-CHAIN"])
                } else {
                    json!([generation.lightning_method()])
                },
                "expirationMinutes": req.expiry_secs.div_ceil(60),
            },
        });
        let bad = |m: &str| ProviderError::BadResponse(format!("BTCPay: {m}"));
        let inv = match self.call(Method::POST, "/invoices", Some(body)).await {
            Err(e @ ProviderError::Rejected(_)) => {
                // Perhaps the server was upgraded (or downgraded) since its version was
                // read: read it again before the next invoice.
                *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = None;
                return Err(e);
            }
            other => other?,
        };
        let id = inv["id"]
            .as_str()
            .filter(|i| is_invoice_id(i))
            .ok_or_else(|| bad("no invoice id"))?;
        let mut ln = self
            .lightning_method(id)
            .await?
            .ok_or_else(|| bad("no Lightning payment method on the invoice"))?;
        if destination(&ln).is_none() {
            // Lazy payment methods: activate Lightning, then read it again.
            let method = ln["paymentMethodId"]
                .as_str()
                .or_else(|| ln["paymentMethod"].as_str())
                .filter(|m| {
                    m.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                .unwrap_or(generation.lightning_method())
                .to_owned();
            let path = format!(
                "/api/v1/stores/{}/invoices/{id}/payment-methods/{method}/activate",
                self.s.store_id
            );
            let reply = self
                .api
                .send(self.api.request(Method::POST, &path), None)
                .await?;
            if !reply.ok() {
                return Err(status_error(WHO, reply.status));
            }
            ln = self
                .lightning_method(id)
                .await?
                .ok_or_else(|| bad("no Lightning payment method on the invoice"))?;
        }
        let destination = destination(&ln)
            .ok_or_else(|| bad("the Lightning payment method has no destination, even activated"))?
            .to_owned();
        let hash = match ln["additionalData"]["paymentHash"].as_str() {
            Some(h) => Some(hash_from_hex(h).ok_or_else(|| bad("bad paymentHash"))?),
            None => None,
        };
        let onchain_address = if req.unified && generation == Generation::V2 {
            self.chain_address(id).await?
        } else {
            None
        };
        Ok(CreatedInvoice {
            payment_request: Some(destination),
            payment_hash: hash,
            provider_ref: Some(id.to_owned()),
            expires_at: inv["expirationTime"].as_u64(),
            onchain_address,
            ..CreatedInvoice::default()
        })
    }

    async fn lookup(&self, invoice: &Invoice) -> Result<Option<ProviderStatus>, ProviderError> {
        let Some(id) = invoice.provider_ref.as_deref().filter(|i| is_invoice_id(i)) else {
            return Ok(None);
        };
        let v = self
            .call(Method::GET, &format!("/invoices/{id}"), None)
            .await?;
        Ok(Some(match v["status"].as_str() {
            Some("Settled") => ProviderStatus::Paid {
                preimage: None,
                amount_paid_msat: None,
                paid_at: None,
            },
            Some("Expired" | "Invalid") => ProviderStatus::Expired,
            Some(_) => ProviderStatus::Pending,
            None => return Err(ProviderError::BadResponse("BTCPay: no status".into())),
        }))
    }

    async fn verify_webhook(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        _now: u64,
    ) -> Result<Option<WebhookEvent>, WebhookError> {
        verify(
            self.s.webhook_secret.as_ref(),
            &self.s.store_id,
            body,
            headers,
        )
    }
}

/// Check a BTCPay webhook (`BTCPay-Sig`) and read it. Events of another store are ignored.
pub fn verify(
    secret: Option<&Secret>,
    store_id: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<Option<WebhookEvent>, WebhookError> {
    let secret = secret.ok_or(WebhookError::NotConfigured)?;
    let sig = header(headers, "btcpay-sig").ok_or(WebhookError::MissingSignature("BTCPay-Sig"))?;
    let hex_sig = sig
        .strip_prefix("sha256=")
        .ok_or(WebhookError::BadSignature)?;
    verify_hmac::<HmacSha256>(secret.expose().as_bytes(), &[body], hex_sig)?;
    let v: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("not JSON".into()))?;
    if v["storeId"].as_str().is_some_and(|s| s != store_id) {
        return Ok(None);
    }
    let status = match v["type"].as_str() {
        Some("InvoiceSettled" | "InvoicePaymentSettled") => ProviderStatus::Paid {
            preimage: None,
            amount_paid_msat: None,
            paid_at: None,
        },
        Some("InvoiceExpired" | "InvoiceInvalid") => ProviderStatus::Expired,
        _ => return Ok(None),
    };
    let Some(invoice_id) = v["invoiceId"].as_str() else {
        return Err(WebhookError::Malformed("no invoiceId".into()));
    };
    let delivery = v["originalDeliveryId"]
        .as_str()
        .or_else(|| v["deliveryId"].as_str());
    Ok(Some(WebhookEvent {
        event_id: delivery.map(str::to_owned),
        invoice: InvoiceKey::ProviderRef(invoice_id.to_owned()),
        status,
    }))
}
