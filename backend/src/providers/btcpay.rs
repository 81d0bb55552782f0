//! BTCPay Server Greenfield: `POST /api/v1/stores/{store}/invoices` in `SATS` with payment
//! method `BTC-LN`, then the BOLT 11 from `GET …/invoices/{id}/payment-methods` (`destination`);
//! status from `GET …/invoices/{id}` (`Settled` = paid, `Expired`/`Invalid` = expired);
//! `Authorization: token …`. Webhooks carry `BTCPay-Sig: sha256=<hex HMAC-SHA256 of the raw
//! body>`; the invoice is re-fetched before anything changes.

use std::fmt;

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::http::{status_error, HttpClient, TlsTrust};
use super::units::whole_sat;
use super::{hash_from_hex, header, verify_hmac, Env, HmacSha256};
use crate::config::{ConfigError, Secret};
use crate::provider::{
    BoxFuture, CreatedInvoice, NewInvoice, Provider, ProviderError, ProviderStatus, WebhookError,
    WebhookEvent,
};
use crate::store::{Invoice, InvoiceKey};

const WHO: &str = "BTCPay";
/// Lightning payment method ids, current and older servers.
const LN_METHODS: [&str; 2] = ["BTC-LN", "BTC-LightningNetwork"];

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
    /// Read them.
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

/// The adapter.
pub struct Btcpay {
    s: Settings,
    http: HttpClient,
}

impl fmt::Debug for Btcpay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btcpay").field("settings", &self.s).finish()
    }
}

fn is_invoice_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Btcpay {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        Ok(Self {
            http: HttpClient::new(&TlsTrust::WebPki)?,
            s,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ProviderError> {
        let url = format!("{}/api/v1/stores/{}{path}", self.s.url, self.s.store_id);
        let mut r = self.http.request(method, &url).header(
            "authorization",
            format!("token {}", self.s.api_key.expose()),
        );
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let reply = self.http.send(r, WHO).await?;
        if !reply.ok() {
            return Err(status_error(WHO, reply.status));
        }
        reply.json(WHO)
    }
}

impl Provider for Btcpay {
    fn name(&self) -> &'static str {
        "btcpay"
    }

    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>> {
        Box::pin(async move {
            let body = json!({
                "amount": whole_sat(req.amount_msat).to_string(),
                "currency": "SATS",
                "metadata": {
                    "orderId": req.order_id.as_deref().unwrap_or(&req.invoice_id),
                    "checkoutInvoiceId": req.invoice_id,
                    "itemDesc": req.description,
                },
                "checkout": {
                    "paymentMethods": ["BTC-LN"],
                    "expirationMinutes": req.expiry_secs.div_ceil(60),
                },
            });
            let bad = |m: &str| ProviderError::BadResponse(format!("BTCPay: {m}"));
            let inv = self.call(Method::POST, "/invoices", Some(body)).await?;
            let id = inv["id"]
                .as_str()
                .filter(|i| is_invoice_id(i))
                .ok_or_else(|| bad("no invoice id"))?;
            let methods = self
                .call(
                    Method::GET,
                    &format!("/invoices/{id}/payment-methods"),
                    None,
                )
                .await?;
            let ln = methods
                .as_array()
                .and_then(|a| {
                    a.iter().find(|m| {
                        m["paymentMethodId"]
                            .as_str()
                            .is_some_and(|p| LN_METHODS.contains(&p))
                    })
                })
                .ok_or_else(|| bad("no Lightning payment method on the invoice"))?;
            let destination = ln["destination"]
                .as_str()
                .ok_or_else(|| bad("no Lightning destination"))?;
            let hash = match ln["additionalData"]["paymentHash"].as_str() {
                Some(h) => Some(hash_from_hex(h).ok_or_else(|| bad("bad paymentHash"))?),
                None => None,
            };
            Ok(CreatedInvoice {
                payment_request: Some(destination.to_owned()),
                payment_hash: hash,
                provider_ref: Some(id.to_owned()),
                expires_at: inv["expirationTime"].as_u64(),
                ..CreatedInvoice::default()
            })
        })
    }

    fn lookup<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<Option<ProviderStatus>, ProviderError>> {
        Box::pin(async move {
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
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        body: &'a [u8],
        headers: &'a HeaderMap,
        _now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>> {
        let result = verify(
            self.s.webhook_secret.as_ref(),
            &self.s.store_id,
            body,
            headers,
        );
        Box::pin(async move { result })
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
