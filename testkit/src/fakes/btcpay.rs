//! BTCPay Server Greenfield: store-scoped invoices with `Authorization: token …`; the BOLT 11 in
//! the `BTC-LN` payment method's `destination`; webhooks serialized indented and signed
//! `BTCPay-Sig: sha256=<hex HMAC-SHA256>`.
//!
//! Two generations ([`Mode`]): 2.x (ids `BTC-LN`, `BTC-CHAIN`, answered as `paymentMethodId`) and
//! 1.x through v1.13 (ids parsed as `{crypto}[-_]{type}` with type `LightningLike`,
//! `LightningNetwork` or `offchain` for Lightning, so `BTC-LN` is a 400 "Invalid payment
//! method"; answered as `paymentMethod: "BTC-LightningNetwork"` with `cryptoCode`). Either can
//! have lazy payment methods: Lightning stays inactive (`activated: false`, `destination: null`)
//! until `POST …/invoices/{id}/payment-methods/{id}/activate`.

use axum::response::Response;
use serde_json::{json, Value};

use super::{hmac256_hex, positive_int, random_hex, random_id, Req};
use crate::creds::{BTCPAY_API_KEY, BTCPAY_STORE_ID, BTCPAY_WEBHOOK_SECRET};
use crate::{json_response, msat_to_btc, Event, FakeInvoice, FakeStatus, Shared, Webhook};

/// Which BTCPay the fake plays.
#[derive(Debug, Clone)]
pub struct Mode {
    /// `GET /api/v1/server/info`'s `version`; below 2 the 1.x wire format.
    pub version: String,
    /// Lazy payment methods: Lightning inactive until activated.
    pub lazy: bool,
}

impl Default for Mode {
    fn default() -> Self {
        Self {
            version: "2.0.0".into(),
            lazy: false,
        }
    }
}

impl Mode {
    fn legacy(&self) -> bool {
        self.version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m < 2)
    }
}

/// What a payment method id names, as the server generation parses it.
#[derive(Debug, PartialEq, Eq)]
enum Method {
    Lightning,
    Other,
}

/// 1.x `PaymentMethodId.TryParse`: `{crypto}` or `{crypto}[-_]{type}`.
fn parse_v1(id: &str) -> Option<Method> {
    let parts: Vec<&str> = id.split(['-', '_']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [_] => Some(Method::Other),
        [_, t] => match t.to_ascii_lowercase().as_str() {
            "lightninglike" | "lightningnetwork" | "offchain" => Some(Method::Lightning),
            "btclike" | "onchain" | "lnurlpay" => Some(Method::Other),
            _ => None,
        },
        _ => None,
    }
}

/// 2.x ids.
fn parse_v2(id: &str) -> Option<Method> {
    match id {
        "BTC-LN" => Some(Method::Lightning),
        "BTC-CHAIN" | "BTC-LNURL" => Some(Method::Other),
        _ => None,
    }
}

fn problem(shared: &Shared, reason: &str, status: u16, code: &str, message: &str) -> Response {
    shared.reject(
        format!("btcpay: {reason}"),
        status,
        &json!({"code": code, "message": message}),
    )
}

fn validation(shared: &Shared, path: &str, message: &str) -> Response {
    shared.reject(
        format!("btcpay: {path}: {message}"),
        400,
        &json!([{"path": path, "message": message}]),
    )
}

fn status_word(i: &FakeInvoice) -> &'static str {
    match i.status {
        FakeStatus::Paid => "Settled",
        FakeStatus::Expired => "Expired",
        _ => "New",
    }
}

fn invoice_json(shared: &Shared, i: &FakeInvoice) -> Value {
    json!({
        "id": i.handle,
        "storeId": BTCPAY_STORE_ID,
        "amount": (i.amount_msat / 1000).to_string(),
        "paidAmount": if i.status == FakeStatus::Paid { (i.amount_msat / 1000).to_string() } else { "0".into() },
        "currency": "SATS",
        "type": "Standard",
        "checkoutLink": format!("{}/i/{}", shared.url(), i.handle),
        "createdTime": i.created_at,
        "expirationTime": i.expires_at,
        "monitoringExpiration": i.expires_at + 3600,
        "status": status_word(i),
        "additionalStatus": "None",
        "archived": false,
        "metadata": i.extra["metadata"],
        "checkout": i.extra["checkout"],
    })
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    let auth = req.header("authorization");
    if auth != Some(format!("token {BTCPAY_API_KEY}").as_str()) {
        return problem(
            shared,
            "bad or missing Authorization: token",
            401,
            "unauthenticated",
            "Authentication is required for accessing this endpoint",
        );
    }
    if req.method == "GET" && req.path == "/api/v1/server/info" {
        let mode = shared.btcpay_mode.lock().unwrap().clone();
        let methods = if mode.legacy() {
            json!(["BTC", "BTC_LightningLike"])
        } else {
            json!(["BTC-CHAIN", "BTC-LN"])
        };
        return json_response(
            200,
            &json!({"version": mode.version, "onion": null, "supportedPaymentMethods": methods,
                    "fullySynched": true, "syncStatus": []}),
        );
    }
    let Some(rest) = req.path.strip_prefix("/api/v1/stores/") else {
        return problem(
            shared,
            &format!("{} {}", req.method, req.path),
            404,
            "not-found",
            "Not found",
        );
    };
    let (store, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if store != BTCPAY_STORE_ID {
        return problem(
            shared,
            "wrong store id",
            403,
            "missing-permission",
            "Forbidden",
        );
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["invoices"]) => create(shared, &req),
        ("GET", ["invoices", id]) => with_invoice(shared, id, |i| invoice_json(shared, i)),
        ("GET", ["invoices", id, "payment-methods"]) => {
            let mode = shared.btcpay_mode.lock().unwrap().clone();
            with_invoice(shared, id, |i| payment_methods(i, &mode))
        }
        ("POST", ["invoices", id, "payment-methods", method, "activate"]) => {
            activate(shared, id, method)
        }
        _ => problem(
            shared,
            &format!("{} {}", req.method, req.path),
            404,
            "not-found",
            "Not found",
        ),
    }
}

fn payment_methods(i: &FakeInvoice, mode: &Mode) -> Value {
    let paid = i.status == FakeStatus::Paid;
    let activated = i.extra["activated"].as_bool().unwrap_or(true);
    let destination = i.bolt11.as_ref().filter(|_| activated);
    let mut m = json!({
        "activated": activated,
        "destination": destination,
        "paymentLink": destination.map(|b| format!("lightning:{}", b.to_lowercase())),
        "rate": "1",
        "paymentMethodPaid": if paid { msat_to_btc(i.amount_msat) } else { "0".into() },
        "totalPaid": if paid { msat_to_btc(i.amount_msat) } else { "0".into() },
        "due": if paid { "0".into() } else { msat_to_btc(i.amount_msat) },
        "amount": msat_to_btc(i.amount_msat),
        "payments": [],
    });
    if mode.legacy() {
        // 1.x `InvoicePaymentMethodDataModel`: `paymentMethod` + `cryptoCode`, `networkFee`.
        m["paymentMethod"] = json!("BTC-LightningNetwork");
        m["cryptoCode"] = json!("BTC");
        m["networkFee"] = json!("0");
    } else {
        m["paymentMethodId"] = json!("BTC-LN");
        m["currency"] = json!("BTC");
        m["paymentMethodFee"] = json!("0");
        m["additionalData"] = json!({
            "paymentHash": if activated { i.payment_hash.map(hex::encode) } else { None },
            "preimage": null,
            "invoiceId": i.handle,
            "nodeInfo": "fake@127.0.0.1:9735",
        });
    }
    let mut all = vec![m];
    let chain = i.extra["checkout"]["paymentMethods"]
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m == "BTC-CHAIN"));
    if chain && !mode.legacy() {
        // The on-chain method of a unified invoice: an address of its own (regtest P2WPKH,
        // derived from the invoice id).
        all.push(json!({
            "paymentMethodId": "BTC-CHAIN", "currency": "BTC", "activated": true,
            "destination": chain_address(&i.handle),
            "paymentLink": format!("bitcoin:{}?amount={}", chain_address(&i.handle), msat_to_btc(i.amount_msat)),
            "rate": "1", "paymentMethodPaid": "0", "totalPaid": "0",
            "due": msat_to_btc(i.amount_msat), "amount": msat_to_btc(i.amount_msat),
            "paymentMethodFee": "0", "payments": [], "additionalData": {},
        }));
    }
    json!(all)
}

/// A regtest P2WPKH address for `handle`: the key is sha256 of it.
pub fn chain_address(handle: &str) -> String {
    use bitcoin::hashes::{sha256, Hash};
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let key = bitcoin::secp256k1::SecretKey::from_slice(
        &sha256::Hash::hash(handle.as_bytes()).to_byte_array(),
    )
    .expect("a sha256 is a valid key");
    let pk =
        bitcoin::CompressedPublicKey(bitcoin::secp256k1::PublicKey::from_secret_key(&secp, &key));
    bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest).to_string()
}

fn activate(shared: &Shared, id: &str, method: &str) -> Response {
    let mode = shared.btcpay_mode.lock().unwrap().clone();
    let parsed = if mode.legacy() {
        parse_v1(method)
    } else {
        parse_v2(method)
    };
    if parsed != Some(Method::Lightning) {
        return problem(
            shared,
            &format!("activate: {method:?} is not this server's Lightning payment method id"),
            404,
            "paymentmethod-not-found",
            "The payment method was not found",
        );
    }
    let mut g = shared.inner.lock().unwrap();
    let Some(i) = g.invoices.iter_mut().find(|i| i.handle == id) else {
        drop(g);
        return problem(
            shared,
            "activate: unknown invoice id",
            404,
            "invoice-not-found",
            "The invoice was not found",
        );
    };
    i.extra["activated"] = json!(true);
    g.activations += 1;
    json_response(200, &Value::Null)
}

fn with_invoice(shared: &Shared, id: &str, f: impl FnOnce(&FakeInvoice) -> Value) -> Response {
    let g = shared.inner.lock().unwrap();
    match g.invoices.iter().find(|i| i.handle == id) {
        Some(i) => json_response(200, &f(i)),
        None => {
            drop(g);
            problem(
                shared,
                "unknown invoice id",
                404,
                "invoice-not-found",
                "The invoice was not found",
            )
        }
    }
}

fn create(shared: &Shared, req: &Req) -> Response {
    if !req.is_json() {
        return validation(shared, "body", "content-type must be application/json");
    }
    let Some(body) = req.json() else {
        return validation(shared, "body", "not JSON");
    };
    if body["currency"] != "SATS" {
        return validation(shared, "currency", "expected SATS");
    }
    // A decimal string; in SATS it must be a whole positive number.
    let Some(sat) = body["amount"].as_str().and_then(positive_int) else {
        return validation(shared, "amount", "must be a decimal string of whole sats");
    };
    let mode = shared.btcpay_mode.lock().unwrap().clone();
    let Some(methods) = body["checkout"]["paymentMethods"].as_array() else {
        return validation(shared, "checkout.paymentMethods", "must be an array");
    };
    let mut lightning = false;
    for (n, m) in methods.iter().enumerate() {
        let id = m.as_str().unwrap_or_default();
        let parsed = if mode.legacy() {
            parse_v1(id)
        } else {
            parse_v2(id)
        };
        match parsed {
            // What BTCPay answers: 1.x for "BTC-LN", 2.x for "BTC-LightningNetwork".
            None => {
                return validation(
                    shared,
                    &format!("checkout.paymentMethods[{n}]"),
                    "Invalid payment method",
                )
            }
            Some(Method::Lightning) => lightning = true,
            Some(Method::Other) => {}
        }
    }
    if !lightning {
        return validation(
            shared,
            "checkout.paymentMethods",
            "the fake serves Lightning only: include this server's Lightning id",
        );
    }
    if !body["metadata"].is_object() {
        return validation(shared, "metadata", "must be an object");
    }
    let minutes = match &body["checkout"]["expirationMinutes"] {
        Value::Null => 15,
        v => match v.as_u64().filter(|m| *m > 0) {
            Some(m) => m,
            None => {
                return validation(
                    shared,
                    "checkout.expirationMinutes",
                    "must be a positive integer",
                )
            }
        },
    };
    let lose = {
        shared.inner.lock().unwrap().create_calls += 1;
        shared.lose_answer()
    };
    let now = shared.now();
    let desc = body["metadata"]["itemDesc"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(sat * 1000, &desc, minutes * 60) {
        Ok(v) => v,
        Err(e) => return validation(shared, "amount", &e),
    };
    let inv = FakeInvoice {
        handle: random_id(22),
        key: body["metadata"]["orderId"].as_str().map(str::to_owned),
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11),
        amount_msat: sat * 1000,
        description: desc,
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + minutes * 60,
        paid_at: None,
        webhook_url: None,
        extra: json!({"metadata": body["metadata"], "checkout": body["checkout"], "activated": !mode.lazy}),
        seq: shared.next_seq(),
    };
    let answer = invoice_json(shared, &inv);
    shared.inner.lock().unwrap().invoices.push(inv);
    if lose {
        return json_response(
            502,
            &json!({"code": "bad-gateway", "message": "Bad gateway"}),
        );
    }
    json_response(200, &answer)
}

pub fn webhook(inv: &FakeInvoice, event: Event) -> Webhook {
    let delivery = random_hex(11);
    let mut body = json!({
        "deliveryId": delivery,
        "webhookId": "fakewebhook1",
        "originalDeliveryId": delivery,
        "isRedelivery": false,
        "timestamp": inv.paid_at.unwrap_or(inv.expires_at),
        "storeId": BTCPAY_STORE_ID,
        "invoiceId": inv.handle,
        "metadata": inv.extra["metadata"],
    });
    match event {
        Event::Paid => {
            body["type"] = json!("InvoiceSettled");
            body["manuallyMarked"] = json!(false);
            body["overPaid"] = json!(false);
        }
        Event::Expired => {
            body["type"] = json!("InvoiceExpired");
            body["partiallyPaid"] = json!(false);
        }
    }
    // Indented, as BTCPay (Newtonsoft Formatting.Indented) sends it.
    let body = serde_json::to_vec_pretty(&body).expect("JSON");
    let sig = format!(
        "sha256={}",
        hmac256_hex(BTCPAY_WEBHOOK_SECRET.as_bytes(), &[&body])
    );
    Webhook {
        body,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("btcpay-sig".into(), sig),
        ],
        url: None,
    }
}
