//! Core Lightning clnrest: `POST /v1/invoice` (`amount_msat`, `label` = our invoice id, unique),
//! `POST /v1/listinvoices {"label"}` for status; `Rune` header; success is HTTP 201. A retry after
//! a lost answer gets error 900 (duplicate label) and reads the first invoice back by its label,
//! so one reservation never makes two invoices. No webhooks: status comes from polling.

use reqwest::Method;
use serde_json::{json, Value};

use super::http::{read_cert, status_error, Api, Reply, TlsTrust, NAME_MISMATCH};
use super::units::json_u64;
use super::{hash_from_hex, Env};
use crate::config::{ConfigError, Secret};
use crate::provider::{Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus};
use crate::store::Invoice;

const WHO: &str = "CLN";
/// clnrest's error code for a duplicate label.
pub const DUPLICATE_LABEL: i64 = 900;

/// `CLN_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `CLN_URL`, e.g. `https://localhost:3010` (clnrest's own certificates name `localhost`,
    /// not `127.0.0.1`).
    pub url: String,
    /// `CLN_RUNE`: a rune allowing at least `invoice` and `listinvoices`.
    pub rune: Secret,
    /// `CLN_TLS_CA_PATH`: clnrest's `ca.pem` as the only root; unset = public web PKI.
    pub tls: TlsTrust,
}

impl Settings {
    /// Reads them through `env` at start-up: an error names the variable, never its value.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let tls = match env.opt("CLN_TLS_CA_PATH") {
            Some(p) => TlsTrust::ExtraRoot(read_cert("CLN_TLS_CA_PATH", &p)?),
            None => TlsTrust::WebPki,
        };
        Ok(Self {
            url: env.url("CLN_URL", None)?,
            rune: env.secret("CLN_RUNE")?,
            tls,
        })
    }
}

/// The Core Lightning (clnrest) adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Cln {
    api: Api,
}

impl Cln {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        Ok(Self {
            api: Api::new(WHO, &s.url, &s.tls, vec![("rune", s.rune)])?,
        })
    }

    async fn call(&self, method: &str, params: Value) -> Result<Reply, ProviderError> {
        let r = self.api.request(Method::POST, &format!("/v1/{method}"));
        self.api
            .send(r, Some(&params))
            .await
            .map_err(name_mismatch_hint)
    }

    async fn by_label(&self, label: &str) -> Result<Option<Value>, ProviderError> {
        let reply = self.call("listinvoices", json!({ "label": label })).await?;
        let v = reply.ok_json(WHO)?;
        Ok(v["invoices"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["label"] == label))
            .cloned())
    }
}

/// A certificate that does not name the URL's host: say what clnrest's certificates name.
fn name_mismatch_hint(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Unavailable(m) if m.contains(NAME_MISMATCH) => {
            ProviderError::Unavailable(format!(
                "{m}: clnrest's certificates (made by cln-grpc) name only `cln` and `localhost`, \
                 not an IP address: set CLN_URL=https://localhost:3010 (your port)"
            ))
        }
        other => other,
    }
}

fn created_from(v: &Value) -> Result<CreatedInvoice, ProviderError> {
    let bad = |m: &str| ProviderError::BadResponse(format!("CLN: {m}"));
    let bolt11 = v["bolt11"].as_str().ok_or_else(|| bad("no bolt11"))?;
    let hash = v["payment_hash"]
        .as_str()
        .and_then(hash_from_hex)
        .ok_or_else(|| bad("bad payment_hash"))?;
    Ok(CreatedInvoice {
        payment_request: Some(bolt11.to_owned()),
        payment_hash: Some(hash),
        provider_ref: v["label"].as_str().map(str::to_owned),
        expires_at: json_u64(&v["expires_at"]),
        ..CreatedInvoice::default()
    })
}

/// What an invoice object (`listinvoices`, `waitanyinvoice`) says.
pub(crate) fn status_of(v: &Value) -> Result<ProviderStatus, ProviderError> {
    Ok(match v["status"].as_str() {
        Some("paid") => ProviderStatus::Paid {
            preimage: v["payment_preimage"].as_str().and_then(hash_from_hex),
            amount_paid_msat: json_u64(&v["amount_received_msat"]),
            paid_at: json_u64(&v["paid_at"]),
        },
        Some("expired") => ProviderStatus::Expired,
        Some(_) => ProviderStatus::Pending,
        None => return Err(ProviderError::BadResponse("CLN: no status".into())),
    })
}

/// The API with the rune, through `http` (the subscription's long-poll client).
pub(crate) fn api(s: &Settings, http: super::http::HttpClient) -> Result<Api, String> {
    Ok(Api::new(WHO, &s.url, &s.tls, vec![("rune", s.rune.clone())])?.with_client(http))
}

impl Adapter for Cln {
    fn name(&self) -> &'static str {
        "cln"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let label = &req.invoice_id;
        let params = json!({
            "amount_msat": req.amount_msat,
            "label": label,
            "description": req.description,
            "expiry": req.expiry_secs,
        });
        let reply = self.call("invoice", params).await?;
        if reply.ok() {
            let mut c = created_from(&reply.json(WHO)?)?;
            c.provider_ref = Some(label.clone());
            return Ok(c);
        }
        let code = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["code"].as_i64());
        if code != Some(DUPLICATE_LABEL) {
            return Err(match code {
                Some(c) => ProviderError::Rejected(format!(
                    "CLN answered HTTP {} with code {c}",
                    reply.status
                )),
                None => status_error(WHO, reply.status),
            });
        }
        // Our earlier call with this label made it: read that invoice back.
        let existing = self.by_label(label).await?.ok_or_else(|| {
            ProviderError::BadResponse("CLN: duplicate label but no such invoice".into())
        })?;
        if existing["status"] != "unpaid" {
            return Err(ProviderError::Abandoned(
                "CLN: the invoice with this label is no longer open".into(),
            ));
        }
        let mut c = created_from(&existing)?;
        c.provider_ref = Some(label.clone());
        Ok(c)
    }

    async fn lookup(&self, invoice: &Invoice) -> Result<Option<ProviderStatus>, ProviderError> {
        let label = invoice.provider_ref.as_deref().unwrap_or(&invoice.id);
        let Some(v) = self.by_label(label).await? else {
            return Err(ProviderError::BadResponse(
                "CLN: no invoice with this label".into(),
            ));
        };
        status_of(&v).map(Some)
    }
}
