//! LND REST: `POST /v1/invoices` (`value` in sat as a string), `GET /v1/invoice/{hex hash}`;
//! macaroon in `Grpc-Metadata-macaroon` (hex). Only `SETTLED` is paid (`ACCEPTED`, a held HTLC,
//! is not); `CANCELED` is expired; an `OPEN` invoice past its deadline is expired by the backend's
//! own clock (LND never says "expired"). No webhooks: status comes from polling.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::json;

use super::http::{read_cert, Api, TlsTrust};
use super::units::{json_u64, whole_sat};
use super::Env;
use crate::config::{ConfigError, Secret};
use crate::provider::{Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus};
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
    /// Reads them through `env` at start-up: an error names the variable, never its value.
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

/// The LND (REST) adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Lnd {
    api: Api,
}

impl Lnd {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let macaroon = ("grpc-metadata-macaroon", s.macaroon_hex);
        Ok(Self {
            api: Api::new(WHO, &s.url, &s.tls, vec![macaroon])?,
        })
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

/// What an `lnrpc.Invoice` (a lookup's answer, a subscription's `result`) says.
pub(crate) fn status_of(v: &serde_json::Value) -> Result<ProviderStatus, ProviderError> {
    Ok(match v["state"].as_str() {
        Some("SETTLED") => ProviderStatus::Paid {
            preimage: b64_32(&v["r_preimage"]),
            amount_paid_msat: json_u64(&v["amt_paid_msat"]).filter(|a| *a > 0),
            paid_at: json_u64(&v["settle_date"]).filter(|t| *t > 0),
        },
        Some("CANCELED") => ProviderStatus::Expired,
        // OPEN, and ACCEPTED (a held HTLC is not a payment); the deadline is ours.
        Some(_) => ProviderStatus::Pending,
        None => return Err(ProviderError::BadResponse("LND: no state".into())),
    })
}

/// The payment hash of an `lnrpc.Invoice` (base64 `r_hash`).
pub(crate) fn hash_of(v: &serde_json::Value) -> Option<[u8; 32]> {
    b64_32(&v["r_hash"])
}

/// The API with the macaroon, through `http` (the subscription's streaming client).
pub(crate) fn api(s: &Settings, http: super::http::HttpClient) -> Result<Api, String> {
    let macaroon = ("grpc-metadata-macaroon", s.macaroon_hex.clone());
    Ok(Api::new(WHO, &s.url, &s.tls, vec![macaroon])?.with_client(http))
}

impl Adapter for Lnd {
    fn name(&self) -> &'static str {
        "lnd"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let body = json!({
            "memo": req.description,
            "value": whole_sat(req.amount_msat).to_string(),
            "expiry": req.expiry_secs.to_string(),
            "private": false,
        });
        let v = self
            .api
            .call(Method::POST, "/v1/invoices", Some(&body))
            .await?;
        let hash = b64_32(&v["r_hash"])
            .ok_or_else(|| ProviderError::BadResponse("LND: bad r_hash".into()))?;
        let pr = v["payment_request"]
            .as_str()
            .ok_or_else(|| ProviderError::BadResponse("LND: no payment_request".into()))?;
        Ok(CreatedInvoice::keyed_by_hash(pr, hash))
    }

    async fn lookup(&self, invoice: &Invoice) -> Result<Option<ProviderStatus>, ProviderError> {
        let Some(hash) = invoice.payment_hash else {
            return Ok(None);
        };
        let path = format!("/v1/invoice/{}", hex::encode(hash));
        let v = self.api.call(Method::GET, &path, None).await?;
        status_of(&v).map(Some)
    }
}
