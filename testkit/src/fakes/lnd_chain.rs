//! LND's on-chain wallet, as far as a unified invoice needs it: `GET /v1/newaddress?type=…` (a
//! fresh regtest P2WPKH or P2TR address), the chain tip (`GET /v2/chainkit/bestblock` from LND
//! 0.16, `GET /v1/getinfo`'s `block_height`), and `GET /v1/transactions?start_height=&end_height=`
//! (`lnrpc.TransactionDetails`: int64 fields as JSON strings, int32 as numbers; `end_height` -1
//! includes the mempool; `output_details` from LND 0.15, only `dest_addresses` and the
//! transaction's net `amount` before).
//!
//! Tests pay an address ([`Fake::chain_pay`]: a transaction in the mempool, with a change output
//! to an address that is not the wallet's), mine blocks ([`Fake::mine`]: every mempool
//! transaction confirms in the first), and choose the version played ([`Fake::set_lnd_version`]:
//! `0.14` has neither `output_details` nor ChainKit; `0.15` has `output_details` but no ChainKit).
//! `garbage` makes the wallet calls answer 200 with an unusable body. `GET
//! /v1/transactions/subscribe` (`fakes::streams`) streams `{"result": Transaction}` lines: each
//! transaction when it enters the mempool and when it confirms, no backlog.

use std::str::FromStr;

use axum::response::Response;
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use serde_json::{json, Value};

use super::lnd::rpc_error;
use super::{random_hex, Req};
use crate::{json_response, Fake, Shared};

/// The chain the fake's wallet sees.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub height: u64,
    pub addresses: Vec<String>,
    pub txs: Vec<FakeTx>,
    /// "0.14", "0.15", or the newest (empty).
    pub version: String,
    pub garbage: bool,
    /// `(start_height, end_height)` of each `GetTransactions`.
    pub queries: Vec<(i64, i64)>,
    /// What `SubscribeTransactions` sends, in order: a transaction when it enters the mempool
    /// and when it confirms.
    pub events: Vec<Value>,
    /// `SubscribeTransactions` streams opened.
    pub subscribers: usize,
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            height: 800,
            addresses: Vec::new(),
            txs: Vec::new(),
            version: String::new(),
            garbage: false,
            queries: Vec::new(),
            events: Vec::new(),
            subscribers: 0,
        }
    }
}

/// A wallet transaction: its outputs (address, sat, ours) and the block it is in.
#[derive(Debug, Clone)]
pub(crate) struct FakeTx {
    pub txid: String,
    pub outputs: Vec<(String, u64, bool)>,
    pub block_height: Option<u64>,
}

fn regtest_p2wpkh() -> String {
    let secp = Secp256k1::new();
    let key = SecretKey::new(&mut rand::rngs::OsRng);
    let pk = bitcoin::CompressedPublicKey(PublicKey::from_secret_key(&secp, &key));
    bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest).to_string()
}

fn regtest_p2tr() -> String {
    let secp = Secp256k1::new();
    let key = SecretKey::new(&mut rand::rngs::OsRng);
    let (xonly, _) = PublicKey::from_secret_key(&secp, &key).x_only_public_key();
    bitcoin::Address::p2tr(&secp, xonly, None, bitcoin::Network::Regtest).to_string()
}

fn query_param<'a>(req: &'a Req, name: &str) -> Option<&'a str> {
    req.query.as_deref()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

/// The wallet's routes; `None` for the others.
pub(crate) fn handle(shared: &Shared, req: &Req) -> Option<Response> {
    if req.method != "GET" {
        return None;
    }
    let mut g = shared.inner.lock().unwrap();
    let chain = &mut g.chain;
    let old = |v: &str| chain.version.as_str() == v;
    let wallet = matches!(
        req.path.as_str(),
        "/v2/chainkit/bestblock" | "/v1/getinfo" | "/v1/newaddress" | "/v1/transactions"
    );
    if wallet && chain.garbage && req.path != "/v1/transactions" {
        return Some(json_response(
            200,
            &json!({"address": 42, "block_height": "tip"}),
        ));
    }
    match req.path.as_str() {
        "/v2/chainkit/bestblock" => {
            if old("0.14") || old("0.15") {
                drop(g);
                return Some(rpc_error(
                    shared,
                    "no ChainKit before 0.16",
                    404,
                    5,
                    "Not Found",
                ));
            }
            Some(json_response(
                200,
                &json!({"block_hash": "AAAA", "block_height": chain.height}),
            ))
        }
        "/v1/getinfo" => Some(json_response(
            200,
            &json!({
                "version": "0.18.3-beta",
                "identity_pubkey": "02".to_owned() + &"11".repeat(32),
                "block_height": chain.height,
                "synced_to_chain": true,
                "chains": [{"chain": "bitcoin", "network": "regtest"}],
            }),
        )),
        "/v1/newaddress" => {
            let address = match query_param(req, "type") {
                None | Some("WITNESS_PUBKEY_HASH" | "0") => regtest_p2wpkh(),
                Some("TAPROOT_PUBKEY" | "4") => regtest_p2tr(),
                Some(_) => {
                    drop(g);
                    return Some(rpc_error(
                        shared,
                        "unknown address type",
                        400,
                        3,
                        "invalid address type",
                    ));
                }
            };
            chain.addresses.push(address.clone());
            Some(json_response(200, &json!({"address": address})))
        }
        "/v1/transactions" => {
            let start = query_param(req, "start_height").and_then(|s| s.parse::<i64>().ok());
            let end = query_param(req, "end_height").and_then(|s| s.parse::<i64>().ok());
            let (start, end) = (start.unwrap_or(0), end.unwrap_or(-1));
            chain.queries.push((start, end));
            if chain.garbage {
                return Some(json_response(200, &json!({"transactions": "garbage"})));
            }
            let tip = chain.height;
            let old_shape = old("0.14");
            let txs: Vec<Value> = chain
                .txs
                .iter()
                .filter(|t| match t.block_height {
                    None => end == -1,
                    Some(h) => {
                        i64::try_from(h).unwrap_or(i64::MAX) >= start
                            && (end == -1 || i64::try_from(h).unwrap_or(0) <= end)
                    }
                })
                .map(|t| tx_json(t, tip, old_shape))
                .collect();
            Some(json_response(
                200,
                &json!({"transactions": txs, "last_index": "0", "first_index": "0"}),
            ))
        }
        _ => None,
    }
}

pub(crate) fn tx_json(t: &FakeTx, tip: u64, old_shape: bool) -> Value {
    let confirmations = t.block_height.map_or(0, |h| tip.saturating_sub(h) + 1);
    // What the transaction brought the wallet: its outputs to the wallet's addresses.
    let net: u64 = t.outputs.iter().filter(|o| o.2).map(|o| o.1).sum();
    let mut v = json!({
        "tx_hash": t.txid,
        "amount": net.to_string(),
        "num_confirmations": confirmations,
        "block_hash": if t.block_height.is_some() { random_hex(32) } else { String::new() },
        "block_height": t.block_height.unwrap_or(0),
        "time_stamp": "1700000000",
        "total_fees": "0",
        "dest_addresses": t.outputs.iter().map(|o| o.0.clone()).collect::<Vec<_>>(),
        "raw_tx_hex": "",
        "label": "",
    });
    if !old_shape {
        v["output_details"] = json!(t
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| json!({
                "output_type": "SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH",
                "address": o.0,
                "pk_script": "",
                "output_index": i.to_string(),
                "amount": o.1.to_string(),
                "is_our_address": o.2,
            }))
            .collect::<Vec<_>>());
        v["previous_outpoints"] = json!([]);
    }
    v
}

impl Shared {
    fn chain_pay_outputs(&self, outputs: &[(&str, u64)]) -> String {
        let txid = random_hex(32);
        let mut g = self.inner.lock().unwrap();
        let chain = &mut g.chain;
        let mut outs: Vec<(String, u64, bool)> = outputs
            .iter()
            .map(|(a, s)| ((*a).to_owned(), *s, chain.addresses.iter().any(|x| x == a)))
            .collect();
        outs.push((regtest_p2wpkh(), 12_345, false));
        let tx = FakeTx {
            txid: txid.clone(),
            outputs: outs,
            block_height: None,
        };
        let event = tx_json(&tx, chain.height, chain.version == "0.14");
        chain.events.push(event);
        chain.txs.push(tx);
        txid
    }

    fn mine(&self, n: u64) -> u64 {
        let mut g = self.inner.lock().unwrap();
        let chain = &mut g.chain;
        if n > 0 {
            let first = chain.height + 1;
            let old_shape = chain.version == "0.14";
            for t in chain.txs.iter_mut().filter(|t| t.block_height.is_none()) {
                t.block_height = Some(first);
                chain.events.push(tx_json(t, first, old_shape));
            }
            chain.height += n;
        }
        chain.height
    }
}

impl Fake {
    /// A payment of `sat` to `address` enters the mempool (with the payer's change to another
    /// address); its txid.
    pub fn chain_pay(&self, address: &str, sat: u64) -> String {
        self.shared.chain_pay_outputs(&[(address, sat)])
    }

    /// One transaction paying several outputs (each counted as the wallet's when the wallet made
    /// that address), plus the payer's change; into the mempool; its txid.
    pub fn chain_pay_outputs(&self, outputs: &[(&str, u64)]) -> String {
        self.shared.chain_pay_outputs(outputs)
    }

    /// Mine `n` blocks: the mempool confirms in the first.
    pub fn mine(&self, n: u64) {
        self.shared.mine(n);
    }

    /// The chain tip.
    pub fn chain_height(&self) -> u64 {
        self.shared.inner.lock().unwrap().chain.height
    }

    /// The addresses `NewAddress` gave.
    pub fn chain_addresses(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().chain.addresses.clone()
    }

    /// `(start_height, end_height)` of every `GetTransactions` so far.
    pub fn chain_queries(&self) -> Vec<(i64, i64)> {
        self.shared.inner.lock().unwrap().chain.queries.clone()
    }

    /// The LND version played: `"0.14"` (no `output_details`, no ChainKit), `"0.15"` (no
    /// ChainKit), `""` (the newest).
    pub fn set_lnd_version(&self, version: &str) {
        self.shared.inner.lock().unwrap().chain.version = version.to_owned();
    }

    /// `SubscribeTransactions` streams opened so far.
    pub fn chain_subscribers(&self) -> usize {
        self.shared.inner.lock().unwrap().chain.subscribers
    }

    /// Wallet calls answer 200 with an unusable body while `on`.
    pub fn set_chain_garbage(&self, on: bool) {
        self.shared.inner.lock().unwrap().chain.garbage = on;
    }
}

/// The control endpoints' part: `POST /_test/chain_pay {"address", "sat"}` → `{"txid"}`,
/// `POST /_test/mine {"blocks"}` → `{"height"}`.
pub(crate) fn control(shared: &Shared, what: &str, args: &Value) -> Option<Response> {
    match what {
        "chain_pay" => {
            let (Some(address), Some(sat)) = (args["address"].as_str(), args["sat"].as_u64())
            else {
                return Some(json_response(400, &json!({"error": "address and sat"})));
            };
            if bitcoin::Address::from_str(address).is_err() {
                return Some(json_response(400, &json!({"error": "not an address"})));
            }
            let txid = shared.chain_pay_outputs(&[(address, sat)]);
            Some(json_response(200, &json!({"txid": txid})))
        }
        "mine" => {
            let height = shared.mine(args["blocks"].as_u64().unwrap_or(1));
            Some(json_response(200, &json!({"height": height})))
        }
        _ => None,
    }
}
