//! Kraken Pay: `POST /0/private/Pay/request/create|cancel` signed with `API-Key`/`API-Sign`
//! (nonce strictly increasing), `external_id` unique forever; the JWKS at
//! `/.well-known/pay-callback-keys.json`; a pay page at `/pay/{external_id}`; callbacks are ES256
//! JWTs.

use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{hmac512, Req};
use crate::creds::{KRAKEN_API_KEY, KRAKEN_API_SECRET, KRAKEN_KID};
use crate::util::btc_to_msat;
use crate::{json_response, Event, FakeInvoice, FakeStatus, Shared, Webhook};

const CREATE: &str = "/0/private/Pay/request/create";
const CANCEL: &str = "/0/private/Pay/request/cancel";

fn spot_error(shared: &Shared, reason: &str, err: &str) -> Response {
    shared.reject(
        format!("kraken: {reason}"),
        200,
        &json!({"error": [err], "result": null}),
    )
}

fn pay_error(shared: &Shared, reason: &str, class: &str, message: &str) -> Response {
    shared.reject(
        format!("kraken: {reason}"),
        400,
        &json!({"error": [{"severity": "E", "errorClass": class, "type": "InvalidArguments", "errorMessage": message}], "result": null}),
    )
}

/// API-Sign as Kraken computes it.
pub fn api_sign(path: &str, nonce: &str, body: &[u8]) -> String {
    let secret = STANDARD.decode(KRAKEN_API_SECRET).expect("base64 secret");
    let mut inner = Sha256::new();
    inner.update(nonce.as_bytes());
    inner.update(body);
    STANDARD.encode(hmac512(&secret, &[path.as_bytes(), &inner.finalize()]))
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    if req.method == "GET" && req.path == "/.well-known/pay-callback-keys.json" {
        return json_response(200, &jwks_of(shared));
    }
    if req.method == "GET" {
        if let Some(ext) = req.path.strip_prefix("/pay/") {
            let known = shared
                .inner
                .lock()
                .unwrap()
                .invoices
                .iter()
                .any(|i| i.handle == ext);
            let html = format!(
                "<!doctype html><title>Kraken Pay (fake)</title><h1>Kraken Pay (test fake)</h1><p>Request {}: {}</p>",
                ext.replace(['<', '>', '&', '"'], ""),
                if known { "open" } else { "unknown" }
            );
            return ([("content-type", "text/html; charset=utf-8")], html).into_response();
        }
    }
    if req.method != "POST" || (req.path != CREATE && req.path != CANCEL) {
        return spot_error(
            shared,
            &format!("{} {}", req.method, req.path),
            "EGeneral:Unknown method",
        );
    }
    if req.header("api-key") != Some(KRAKEN_API_KEY) {
        return spot_error(shared, "bad or missing API-Key", "EAPI:Invalid key");
    }
    if !req.is_json() {
        return spot_error(
            shared,
            "content-type is not JSON",
            "EGeneral:Invalid arguments",
        );
    }
    let Some(body) = req.json() else {
        return spot_error(shared, "body is not JSON", "EGeneral:Invalid arguments");
    };
    let Some(nonce) = body["nonce"]
        .as_str()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    else {
        return spot_error(
            shared,
            "nonce missing or not a decimal string",
            "EAPI:Invalid nonce",
        );
    };
    let expected = api_sign(&req.path, nonce, &req.body);
    if req.header("api-sign") != Some(expected.as_str()) {
        return spot_error(shared, "API-Sign does not verify", "EAPI:Invalid signature");
    }
    let nonce: u64 = match nonce.parse() {
        Ok(n) => n,
        Err(_) => return spot_error(shared, "nonce overflows", "EAPI:Invalid nonce"),
    };
    {
        let mut g = shared.inner.lock().unwrap();
        if nonce <= g.kraken_nonce {
            drop(g);
            return spot_error(shared, "nonce not increasing", "EAPI:Invalid nonce");
        }
        g.kraken_nonce = nonce;
    }
    let Some(ext) = body["external_id"].as_str() else {
        return pay_error(
            shared,
            "no external_id",
            "EGeneral",
            "external_id is required",
        );
    };
    let decoded = if ext.contains('=') {
        None
    } else {
        STANDARD_NO_PAD.decode(ext).ok()
    };
    if !decoded.is_some_and(|d| (1..=16).contains(&d.len())) {
        return pay_error(
            shared,
            "external_id is not 1-16 bytes of unpadded base64",
            "EGeneral",
            "invalid external_id",
        );
    }
    if req.path == CANCEL {
        let mut g = shared.inner.lock().unwrap();
        g.cancels += 1;
        if let Some(i) = g.invoices.iter_mut().find(|i| i.handle == ext) {
            if i.status == FakeStatus::Pending {
                i.status = FakeStatus::Expired;
            }
            return json_response(200, &json!({"error": [], "result": {}}));
        }
        drop(g);
        return pay_error(
            shared,
            "cancel of an unknown external_id",
            "EGeneral",
            "unknown request",
        );
    }
    let Some(msat) = body["amount"]
        .as_str()
        .and_then(btc_to_msat)
        .filter(|m| *m > 0)
    else {
        return pay_error(
            shared,
            "amount is not a decimal string with at most 8 decimals",
            "EGeneral",
            "invalid amount",
        );
    };
    if body["asset"] != "BTC" {
        return pay_error(shared, "asset is not BTC", "EGeneral", "invalid asset");
    }
    let expiry = match &body["expire_after_seconds"] {
        Value::Null => 900,
        v => match v.as_u64().filter(|e| *e > 0) {
            Some(e) => e,
            None => {
                return pay_error(
                    shared,
                    "expire_after_seconds not a positive integer",
                    "EGeneral",
                    "invalid expire_after_seconds",
                )
            }
        },
    };
    if !body["note"].is_null() && !body["note"].is_string() {
        return pay_error(shared, "note not a string", "EGeneral", "invalid note");
    }
    let lose = {
        let mut g = shared.inner.lock().unwrap();
        g.create_calls += 1;
        if g.invoices.iter().any(|i| i.handle == ext) {
            drop(g);
            return pay_error(
                shared,
                "external_id already used",
                "EGeneral",
                "external_id already used",
            );
        }
        drop(g);
        shared.lose_answer()
    };
    let now = shared.now();
    let inv = FakeInvoice {
        handle: ext.to_owned(),
        key: Some(ext.to_owned()),
        payment_hash: None,
        preimage: None,
        bolt11: None,
        amount_msat: msat,
        description: body["note"].as_str().unwrap_or_default().to_owned(),
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + expiry,
        paid_at: None,
        webhook_url: None,
        extra: Value::Null,
        seq: shared.next_seq(),
    };
    shared.inner.lock().unwrap().invoices.push(inv);
    if lose {
        return json_response(
            503,
            &json!({"error": ["EService:Unavailable"], "result": null}),
        );
    }
    json_response(
        200,
        &json!({"error": [], "result": {"view_link": format!("{}/pay/{ext}", shared.url())}}),
    )
}

fn jwk(kid: &str, key: &SigningKey) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    })
}

/// The JWKS holding the fake's callback keys: the first, then any rotated in.
pub fn jwks_of(shared: &Shared) -> Value {
    let mut keys = vec![jwk(KRAKEN_KID, &shared.jwt_key)];
    for (kid, key) in shared.rotated_jwt_keys.lock().unwrap().iter() {
        keys.push(jwk(kid, key));
    }
    json!({ "keys": keys })
}

/// A compact JWS over `header` and `claims` with ES256 (whatever `header.alg` says: tests use
/// that to send lies).
pub fn sign_jwt(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

pub fn webhook(shared: &Shared, inv: &FakeInvoice, event: Event) -> Webhook {
    let status = match event {
        Event::Paid => "success",
        Event::Expired => "expired",
    };
    let claims = json!({
        "iss": "kraken-pay",
        "aud": null,
        "exp": shared.now() + 86_400,
        "payload": {
            "external_id": inv.handle,
            "status": status,
            "customer_kraktag": if event == Event::Paid { json!("bob") } else { Value::Null },
        },
    });
    let token = sign_jwt(
        &shared.jwt_key,
        &json!({"alg": "ES256", "kid": KRAKEN_KID, "typ": "JWT"}),
        &claims,
    );
    Webhook {
        body: token.into_bytes(),
        headers: vec![("content-type".into(), "application/jwt".into())],
        url: None,
    }
}
