//! LND REST: `POST /v1/invoices` (`value` in sat as a string), `GET /v1/invoice/{hex hash}`;
//! macaroon in `Grpc-Metadata-macaroon` (hex). Only `SETTLED` is paid (`ACCEPTED`, a held HTLC,
//! is not); `CANCELED` is expired; an `OPEN` invoice past its deadline is expired by the backend's
//! own clock (LND never says "expired"). No webhooks: status comes from polling.

use std::fmt;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::json;

use super::http::{read_cert, status_error, HttpClient, TlsTrust};
use super::units::{json_u64, whole_sat};
use super::Env;
use crate::config::{ConfigError, Secret};
use crate::provider::{
    BoxFuture, CreatedInvoice, NewInvoice, Provider, ProviderError, ProviderStatus, WebhookError,
    WebhookEvent,
};
use crate::store::Invoice;

const WHO: &str = "LND";

/// `LND_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `LND_URL`, e.g. `https://127.0.0.1:8080`.
    pub url: String,
    /// The macaroon as hex: `LND_MACAROON_HEX`, or the file at `LND_MACAROON_PATH` hex-encoded.
    pub macaroon_hex: Secret,
    /// `LND_TLS_CERT_PATH`: LND's `tls.cert`, pinned; unset = public web PKI.
    pub tls: TlsTrust,
}

impl Settings {
    /// Read them.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let macaroon_hex = match (env.opt("LND_MACAROON_HEX"), env.opt("LND_MACAROON_PATH")) {
            (Some(h), _) => {
                if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ConfigError::new("LND_MACAROON_HEX", "is not hex"));
                }
                Secret::new(h.to_ascii_lowercase())
            }
            (None, Some(path)) => {
                let bytes = std::fs::read(&path).map_err(|e| {
                    ConfigError::new(
                        "LND_MACAROON_PATH",
                        format!("cannot read {path:?}: {}", e.kind()),
                    )
                })?;
                Secret::new(hex::encode(bytes))
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "LND_MACAROON_HEX",
                    "or LND_MACAROON_PATH is required for this PROVIDER (an invoice macaroon)",
                ))
            }
        };
        let tls = match env.opt("LND_TLS_CERT_PATH") {
            Some(p) => TlsTrust::Pinned(read_cert("LND_TLS_CERT_PATH", &p)?),
            None => TlsTrust::WebPki,
        };
        Ok(Self {
            url: env.url("LND_URL", None)?,
            macaroon_hex,
            tls,
        })
    }
}

/// The adapter.
pub struct Lnd {
    s: Settings,
    http: HttpClient,
}

impl fmt::Debug for Lnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lnd").field("settings", &self.s).finish()
    }
}

impl Lnd {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        Ok(Self {
            http: HttpClient::new(&s.tls)?,
            s,
        })
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, &format!("{}{path}", self.s.url))
            .header("grpc-metadata-macaroon", self.s.macaroon_hex.expose())
    }
}

fn b64_32(v: &serde_json::Value) -> Option<[u8; 32]> {
    let s = v.as_str()?;
    let bytes = STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .ok()?;
    bytes.try_into().ok()
}

impl Provider for Lnd {
    fn name(&self) -> &'static str {
        "lnd"
    }

    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>> {
        Box::pin(async move {
            let body = json!({
                "memo": req.description,
                "value": whole_sat(req.amount_msat).to_string(),
                "expiry": req.expiry_secs.to_string(),
                "private": false,
            });
            let r = self
                .req(Method::POST, "/v1/invoices")
                .header("content-type", "application/json")
                .body(body.to_string());
            let reply = self.http.send(r, WHO).await?;
            if !reply.ok() {
                return Err(status_error(WHO, reply.status));
            }
            let v = reply.json(WHO)?;
            let hash = b64_32(&v["r_hash"])
                .ok_or_else(|| ProviderError::BadResponse("LND: bad r_hash".into()))?;
            let pr = v["payment_request"]
                .as_str()
                .ok_or_else(|| ProviderError::BadResponse("LND: no payment_request".into()))?;
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
            let r = self.req(Method::GET, &format!("/v1/invoice/{}", hex::encode(hash)));
            let reply = self.http.send(r, WHO).await?;
            if !reply.ok() {
                return Err(status_error(WHO, reply.status));
            }
            let v = reply.json(WHO)?;
            Ok(Some(match v["state"].as_str() {
                Some("SETTLED") => ProviderStatus::Paid {
                    preimage: b64_32(&v["r_preimage"]),
                    amount_paid_msat: json_u64(&v["amt_paid_msat"]).filter(|a| *a > 0),
                    paid_at: json_u64(&v["settle_date"]).filter(|t| *t > 0),
                },
                Some("CANCELED") => ProviderStatus::Expired,
                // OPEN, and ACCEPTED (a held HTLC is not a payment); the deadline is ours.
                Some(_) => ProviderStatus::Pending,
                None => return Err(ProviderError::BadResponse("LND: no state".into())),
            }))
        })
    }

    fn verify_webhook<'a>(
        &'a self,
        _body: &'a [u8],
        _headers: &'a HeaderMap,
        _now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>> {
        Box::pin(async { Err(WebhookError::NotSupported) })
    }
}
