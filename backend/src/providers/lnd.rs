//! LND REST: `POST /v1/invoices` (`value` in sat as a string), `GET /v1/invoice/{hex hash}`;
//! macaroon in `Grpc-Metadata-macaroon` (hex). Only `SETTLED` is paid (`ACCEPTED`, a held HTLC,
//! is not); `CANCELED` is expired; an `OPEN` invoice past its deadline is expired by the backend's
//! own clock (LND never says "expired"). No webhooks: status comes from polling.
//!
//! Unified invoices: `GET /v1/newaddress?type=WITNESS_PUBKEY_HASH` (a fresh P2WPKH address,
//! bech32, valid upper case in a QR; `address:write`, in the invoice macaroon), with the chain tip
//! of that moment from `GET /v2/chainkit/bestblock` (`onchain:read`, LND 0.16+ release builds),
//! else `GET /v1/getinfo` (`info:read`, not in the invoice macaroon). The backend watches the
//! address ([`crate::onchain`]) through `GET /v1/transactions?start_height=H&end_height=-1`
//! (`onchain:read`): per-output `output_details` (LND 0.15+), else `dest_addresses` and the
//! transaction's `amount` (older); `GET /v1/transactions/subscribe` tells it when to look. An invoice paid on-chain has its Lightning invoice cancelled
//! (`POST /v2/invoices/cancel`, `invoices:write`), so that it cannot be paid twice.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::json;

use super::http::{read_cert, Api, TlsTrust};
use super::units::{json_u64, whole_sat};
use super::Env;
use crate::config::{ConfigError, Secret};
use crate::provider::{
    Adapter, ChainReceipt, CreatedInvoice, NewInvoice, OnchainAddress, ProviderError,
    ProviderStatus,
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

/// A JSON int64 (a string of digits, possibly negative) or a number.
fn json_i64(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The wallet's incoming outputs in a `GetTransactions` answer (`lnrpc.TransactionDetails`).
pub(crate) fn receipts_of(v: &serde_json::Value) -> Result<Vec<ChainReceipt>, ProviderError> {
    let bad = |m: &str| ProviderError::BadResponse(format!("LND: {m}"));
    let txs = match &v["transactions"] {
        // grpc-gateway may leave out an empty list.
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(a) => a,
        _ => return Err(bad("transactions is not a list")),
    };
    let mut out = Vec::new();
    for tx in txs {
        let txid = tx["tx_hash"]
            .as_str()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| bad("a transaction without a tx_hash"))?;
        let confirmations = match &tx["num_confirmations"] {
            serde_json::Value::Null => 0,
            c => json_i64(c)
                .and_then(|c| u32::try_from(c.max(0)).ok())
                .ok_or_else(|| bad("bad num_confirmations"))?,
        };
        if let Some(outputs) = tx["output_details"].as_array() {
            for o in outputs {
                let amount = json_i64(&o["amount"]).ok_or_else(|| bad("bad output amount"))?;
                let (Some(address), Ok(amount_sat)) = (
                    o["address"].as_str().filter(|a| !a.is_empty()),
                    u64::try_from(amount),
                ) else {
                    continue;
                };
                if amount_sat > 0 {
                    out.push(ChainReceipt {
                        txid: txid.to_owned(),
                        address: address.to_owned(),
                        amount_sat,
                        confirmations,
                        per_output: true,
                    });
                }
            }
        } else {
            // Before 0.15: the addresses the transaction paid and its net amount to the wallet.
            let amount = json_i64(&tx["amount"]).ok_or_else(|| bad("bad amount"))?;
            let Ok(amount_sat) = u64::try_from(amount) else {
                continue; // an outgoing transaction
            };
            let dests = tx["dest_addresses"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for d in dests.iter().filter_map(|d| d.as_str()) {
                if amount_sat > 0 && !d.is_empty() {
                    out.push(ChainReceipt {
                        txid: txid.to_owned(),
                        address: d.to_owned(),
                        amount_sat,
                        confirmations,
                        per_output: false,
                    });
                }
            }
        }
    }
    Ok(out)
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

    async fn onchain_address(
        &self,
        _req: &NewInvoice,
    ) -> Result<Option<OnchainAddress>, ProviderError> {
        // The tip first: a payment to the address can only be in a later block.
        let height = self.chain_tip().await?;
        let v = self
            .api
            .call(Method::GET, "/v1/newaddress?type=WITNESS_PUBKEY_HASH", None)
            .await?;
        let address = v["address"]
            .as_str()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ProviderError::BadResponse("LND: no address".into()))?;
        Ok(Some(OnchainAddress {
            address: address.to_owned(),
            watch_from_height: Some(height),
        }))
    }

    async fn cancel_lightning(&self, invoice: &Invoice) -> Result<(), ProviderError> {
        let Some(hash) = invoice.payment_hash else {
            return Ok(());
        };
        // invoicesrpc CancelInvoice (`invoices:write`, in the invoice macaroon).
        let body = json!({ "payment_hash": STANDARD.encode(hash) });
        self.api
            .call(Method::POST, "/v2/invoices/cancel", Some(&body))
            .await
            .map(|_| ())
    }

    async fn wallet_receipts(&self, from_height: u64) -> Result<Vec<ChainReceipt>, ProviderError> {
        // start_height is an int32; end_height -1: up to the tip, and the mempool.
        let from = from_height.min(i32::MAX as u64);
        let path = format!("/v1/transactions?start_height={from}&end_height=-1");
        let v = self.api.call(Method::GET, &path, None).await?;
        receipts_of(&v)
    }
}

impl Lnd {
    /// The chain tip's height: ChainKit's `GetBestBlock` (the invoice macaroon may call it), else
    /// `GetInfo` (LND before 0.16, or built without chainrpc; needs `info:read`).
    async fn chain_tip(&self) -> Result<u64, ProviderError> {
        let best = self
            .api
            .call(Method::GET, "/v2/chainkit/bestblock", None)
            .await
            .and_then(|v| {
                json_u64(&v["block_height"])
                    .ok_or_else(|| ProviderError::BadResponse("LND: no block_height".into()))
            });
        match best {
            Ok(h) => Ok(h),
            Err(ProviderError::Unavailable(e)) => Err(ProviderError::Unavailable(e)),
            Err(_) => {
                let v = self.api.call(Method::GET, "/v1/getinfo", None).await?;
                json_u64(&v["block_height"]).ok_or_else(|| {
                    ProviderError::BadResponse("LND: getinfo without block_height".into())
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::receipts_of;

    /// `GetTransactions` as LND 0.18 answers over REST (int64 as strings, int32 as numbers): an
    /// incoming payment in the mempool, an outgoing transaction with change, and one in LND 0.14's
    /// shape (no `output_details`).
    #[test]
    fn reads_lnds_transactions_in_both_shapes() {
        let v = serde_json::json!({"transactions": [
            {"tx_hash": "aa".repeat(32), "amount": "2500", "num_confirmations": 0, "block_hash": "",
             "block_height": 0, "time_stamp": "1700000000", "total_fees": "0",
             "dest_addresses": ["bcrt1qours", "bcrt1qpayerchange"],
             "output_details": [
                {"output_type": "SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH", "address": "bcrt1qours",
                 "pk_script": "0014", "output_index": "0", "amount": "2500", "is_our_address": true},
                {"output_type": "SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH", "address": "bcrt1qpayerchange",
                 "pk_script": "0014", "output_index": "1", "amount": "90000", "is_our_address": false}],
             "raw_tx_hex": "", "label": "", "previous_outpoints": []},
            {"tx_hash": "bb".repeat(32), "amount": "-20000", "num_confirmations": 7,
             "block_height": 801, "dest_addresses": ["bcrt1qchange"],
             "output_details": [{"address": "", "amount": "0"}]},
            {"tx_hash": "cc".repeat(32), "amount": "1000", "num_confirmations": 3,
             "block_height": 799, "dest_addresses": ["bcrt1qold"]}
        ]});
        let r = receipts_of(&v).unwrap();
        let got: Vec<_> = r
            .iter()
            .map(|r| {
                (
                    r.address.as_str(),
                    r.amount_sat,
                    r.confirmations,
                    r.per_output,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("bcrt1qours", 2500, 0, true),
                ("bcrt1qpayerchange", 90_000, 0, true),
                ("bcrt1qold", 1000, 3, false),
            ]
        );
        assert!(receipts_of(&serde_json::json!({})).unwrap().is_empty());
        assert!(receipts_of(&serde_json::json!({"transactions": "x"})).is_err());
        assert!(receipts_of(&serde_json::json!({"transactions": [{"tx_hash": "zz"}]})).is_err());
        let bad_amount = serde_json::json!({"transactions": [{"tx_hash": "aa".repeat(32),
            "output_details": [{"address": "a", "amount": 2.5}]}]});
        assert!(receipts_of(&bad_amount).is_err());
    }
}
