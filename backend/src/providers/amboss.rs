//! Amboss Payments ("Rails"), GraphQL: `create_receive` with our idempotency key (a replay
//! returns the original invoice), `find_one` for status, `payment.*` webhooks signed with
//! HMAC-SHA256 over `timestamp + "." + raw body`, accepted within ±300 s.
//!
//! **Keys and networks.** Sandbox keys (`amb_test_…`) mint regtest invoices (`lnbcrt…`, as in the
//! SDK's sandbox fixtures), live keys (`amb_live_…`) mainnet ones. [`check_network`] refuses at
//! start-up a key whose kind contradicts `NETWORK` (a sandbox key on `bitcoin`, a live key on
//! anything else), and an invoice for another network than `NETWORK` is refused with an error
//! that names both networks and the key's kind.

use std::str::FromStr;

use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::http::{Api, TlsTrust};
use super::units::{json_u64, parse_rfc3339, whole_sat};
use super::{hash_from_hex, header, verify_hmac, Env, HmacSha256};
use crate::config::{ConfigError, Network, Secret};
use crate::provider::{
    Adapter, CreatedInvoice, NewInvoice, ProviderError, ProviderStatus, WebhookError, WebhookEvent,
};
use crate::store::{Invoice, InvoiceKey};

/// Default GraphQL endpoint.
pub const DEFAULT_URL: &str = "https://rails.amboss.tech/graphql";
/// How far a webhook's timestamp may be from our clock.
pub const TOLERANCE_SECS: u64 = 300;
const WHO: &str = "Amboss";

const CREATE: &str = "mutation($input: CreateReceiveTransactionInput!) { payment { transaction { create_receive(input: $input) { id status payment_request payment_hash expires_at amount_sats idempotency_key } } } }";
const FIND: &str = "query($id: String!) { payment { transaction { find_one(id: $id) { id status settled_at payment_hash amount_sats } } } }";

/// `AMBOSS_*` settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `AMBOSS_URL`: the GraphQL endpoint itself.
    pub url: String,
    /// `AMBOSS_API_KEY`, sent as `x-api-key`.
    pub api_key: Secret,
    /// `AMBOSS_WALLET_ID`.
    pub wallet_id: String,
    /// `AMBOSS_WEBHOOK_SECRET` (`whsec_…`); without it webhooks are refused.
    pub webhook_secret: Option<Secret>,
}

impl Settings {
    /// Reads them through `env` at start-up: an error names the variable, never its value.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            url: env.url("AMBOSS_URL", Some(DEFAULT_URL))?,
            api_key: env.secret("AMBOSS_API_KEY")?,
            wallet_id: env.req("AMBOSS_WALLET_ID")?,
            webhook_secret: env.opt_secret("AMBOSS_WEBHOOK_SECRET"),
        })
    }
}

/// What an Amboss API key is for, from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `amb_test_…`: the sandbox, regtest invoices.
    Sandbox,
    /// `amb_live_…`: real payments, mainnet invoices.
    Live,
    /// Another prefix: nothing is assumed.
    Unknown,
}

impl KeyKind {
    /// The kind of `key`.
    pub fn of(key: &str) -> Self {
        if key.starts_with("amb_test_") {
            Self::Sandbox
        } else if key.starts_with("amb_live_") {
            Self::Live
        } else {
            Self::Unknown
        }
    }

    /// The `NETWORK` this kind of key needs, if known.
    pub fn network(self) -> Option<Network> {
        match self {
            Self::Sandbox => Some(Network::Regtest),
            Self::Live => Some(Network::Bitcoin),
            Self::Unknown => None,
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Sandbox => "AMBOSS_API_KEY is a sandbox key (amb_test_): its invoices are regtest (lnbcrt), so set NETWORK=regtest",
            Self::Live => "AMBOSS_API_KEY is a live key (amb_live_): its invoices are mainnet (lnbc), so set NETWORK=bitcoin",
            Self::Unknown => "set NETWORK to the network of this Amboss key's invoices",
        }
    }
}

/// The start-up check of the key against `NETWORK`: `Err` when they cannot go together (a
/// sandbox key on mainnet, a live key anywhere but mainnet); `Ok(Some(warning))` when the
/// sandbox key is used on testnet or signet (its invoices are regtest as far as is known: the
/// first invoice will tell).
pub fn check_network(key: &Secret, network: Network) -> Result<Option<String>, String> {
    let kind = KeyKind::of(key.expose());
    match (kind, network) {
        (KeyKind::Sandbox, Network::Bitcoin)
        | (KeyKind::Live, Network::Testnet | Network::Signet | Network::Regtest) => {
            Err(format!("{} (NETWORK is {})", kind.hint(), network.as_str()))
        }
        (KeyKind::Sandbox, Network::Testnet | Network::Signet) => Ok(Some(format!(
            "{} (NETWORK is {}); an invoice for another network will be refused",
            kind.hint(),
            network.as_str()
        ))),
        _ => Ok(None),
    }
}

fn network_of(payment_request: &str) -> Option<Network> {
    use lightning_invoice::Currency;
    let inv = lightning_invoice::Bolt11Invoice::from_str(payment_request.trim()).ok()?;
    Some(match inv.currency() {
        Currency::Bitcoin => Network::Bitcoin,
        Currency::BitcoinTestnet => Network::Testnet,
        Currency::Signet => Network::Signet,
        Currency::Regtest | Currency::Simnet => Network::Regtest,
    })
}

/// The Amboss Payments adapter: its settings and the API it calls (`Debug` shows no credential).
#[derive(Debug)]
pub struct Amboss {
    s: Settings,
    api: Api,
    /// The configured `NETWORK`, when known: invoices for another are refused with a hint.
    network: Option<Network>,
}

impl Amboss {
    /// An adapter with these settings.
    pub fn new(s: Settings) -> Result<Self, String> {
        let key = ("x-api-key", s.api_key.clone());
        Ok(Self {
            api: Api::new(WHO, &s.url, &TlsTrust::WebPki, vec![key])?,
            s,
            network: None,
        })
    }

    /// Check each invoice against `network` (`NETWORK`), with an error that says which network
    /// this kind of key needs.
    pub fn with_network(mut self, network: Network) -> Self {
        self.network = Some(network);
        self
    }

    async fn graphql(&self, query: &str, variables: Value) -> Result<Value, ProviderError> {
        let body = json!({ "query": query, "variables": variables });
        let v = self.api.call(Method::POST, "", Some(&body)).await?;
        if v["errors"].as_array().is_some_and(|e| !e.is_empty()) {
            return Err(ProviderError::Rejected(
                "Amboss answered a GraphQL error".into(),
            ));
        }
        Ok(v)
    }
}

fn status_of(s: &str, settled_at: Option<u64>, amount_sats: Option<u64>) -> ProviderStatus {
    match s.to_ascii_uppercase().as_str() {
        "COMPLETED" => ProviderStatus::Paid {
            preimage: None,
            amount_paid_msat: amount_sats.and_then(|a| a.checked_mul(1000)),
            paid_at: settled_at,
        },
        "EXPIRED" | "FAILED" => ProviderStatus::Expired,
        _ => ProviderStatus::Pending,
    }
}

impl Adapter for Amboss {
    fn name(&self) -> &'static str {
        "amboss"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let metadata = json!({ "invoice_id": req.invoice_id, "order_id": req.order_id });
        let input = json!({
            "wallet_id": self.s.wallet_id,
            "amount": whole_sat(req.amount_msat).to_string(),
            "description": req.description,
            "expires_in_seconds": req.expiry_secs,
            "idempotency_key": hex::encode(req.idempotency_key),
            "metadata": metadata.to_string(),
        });
        let v = self.graphql(CREATE, json!({ "input": input })).await?;
        let t = &v["data"]["payment"]["transaction"]["create_receive"];
        let bad = |m: &str| ProviderError::BadResponse(format!("Amboss: {m}"));
        let pr = t["payment_request"]
            .as_str()
            .ok_or_else(|| bad("no payment_request"))?;
        if let (Some(want), Some(got)) = (self.network, network_of(pr)) {
            if want != got {
                return Err(bad(&format!(
                    "the invoice is for {} but NETWORK is {}: {}",
                    got.as_str(),
                    want.as_str(),
                    KeyKind::of(self.s.api_key.expose()).hint()
                )));
            }
        }
        let id = t["id"].as_str().ok_or_else(|| bad("no id"))?;
        let hash = match t["payment_hash"].as_str() {
            Some(h) => Some(hash_from_hex(h).ok_or_else(|| bad("bad payment_hash"))?),
            None => None,
        };
        Ok(CreatedInvoice {
            payment_request: Some(pr.to_owned()),
            payment_hash: hash,
            provider_ref: Some(id.to_owned()),
            expires_at: t["expires_at"].as_str().and_then(parse_rfc3339),
            ..CreatedInvoice::default()
        })
    }

    async fn lookup(&self, invoice: &Invoice) -> Result<Option<ProviderStatus>, ProviderError> {
        let Some(id) = &invoice.provider_ref else {
            return Ok(None);
        };
        let v = self.graphql(FIND, json!({ "id": id })).await?;
        let t = &v["data"]["payment"]["transaction"]["find_one"];
        let status = t["status"]
            .as_str()
            .ok_or_else(|| ProviderError::BadResponse("Amboss: find_one without status".into()))?;
        Ok(Some(status_of(
            status,
            t["settled_at"].as_str().and_then(parse_rfc3339),
            json_u64(&t["amount_sats"]),
        )))
    }

    async fn verify_webhook(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Option<WebhookEvent>, WebhookError> {
        verify(self.s.webhook_secret.as_ref(), body, headers, now)
    }
}

/// Check an Amboss webhook (signature first, then the timestamp window) and read it.
pub fn verify(
    secret: Option<&Secret>,
    body: &[u8],
    headers: &HeaderMap,
    now: u64,
) -> Result<Option<WebhookEvent>, WebhookError> {
    let secret = secret.ok_or(WebhookError::NotConfigured)?;
    let sig = header(headers, "x-webhook-signature")
        .ok_or(WebhookError::MissingSignature("x-webhook-signature"))?;
    let ts = header(headers, "x-webhook-timestamp")
        .ok_or(WebhookError::MissingSignature("x-webhook-timestamp"))?;
    verify_hmac::<HmacSha256>(
        secret.expose().as_bytes(),
        &[ts.as_bytes(), b".", body],
        sig,
    )?;
    let ts: u64 = ts.parse().map_err(|_| WebhookError::StaleTimestamp)?;
    if ts.abs_diff(now) > TOLERANCE_SECS {
        return Err(WebhookError::StaleTimestamp);
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("not JSON".into()))?;
    let data = &v["data"];
    if data["direction"]
        .as_str()
        .is_some_and(|d| !d.eq_ignore_ascii_case("receive"))
    {
        return Ok(None);
    }
    let Some(tx) = data["id"].as_str() else {
        return Err(WebhookError::Malformed("no data.id".into()));
    };
    let status = data["status"]
        .as_str()
        .or_else(|| {
            v["event_type"]
                .as_str()
                .and_then(|e| e.strip_prefix("payment."))
        })
        .ok_or_else(|| WebhookError::Malformed("no status".into()))?;
    Ok(Some(WebhookEvent {
        event_id: v["id"].as_str().map(|e| format!("amboss:{e}")),
        invoice: InvoiceKey::ProviderRef(tx.to_owned()),
        status: status_of(
            status,
            data["settled_at"].as_str().and_then(parse_rfc3339),
            None,
        ),
    }))
}
