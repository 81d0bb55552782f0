//! LND REST: `POST /v1/invoices` (int64 fields as JSON strings, `value` in sat), `GET
//! /v1/invoice/{hex}`; `Grpc-Metadata-macaroon` hex. States OPEN / ACCEPTED / SETTLED /
//! CANCELED (never "expired": an OPEN invoice past its expiry stays OPEN here, as in LND until it
//! is auto-cancelled).

use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::{positive_int, random_hex, Req};
use crate::creds::LND_MACAROON_HEX;
use crate::{json_response, FakeInvoice, FakeStatus, Shared};

pub(crate) fn rpc_error(
    shared: &Shared,
    reason: &str,
    status: u16,
    code: u32,
    message: &str,
) -> Response {
    shared.reject(
        format!("lnd: {reason}"),
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

fn digits(v: &Value) -> Option<u64> {
    // int64 on the wire is a JSON string of digits.
    v.as_str()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    match req.header("grpc-metadata-macaroon") {
        None => return rpc_error(shared, "no macaroon", 500, 2, "expected 1 macaroon, got 0"),
        Some(m) if !m.eq_ignore_ascii_case(LND_MACAROON_HEX) => {
            return rpc_error(
                shared,
                "wrong macaroon",
                500,
                2,
                "verification failed: signature mismatch after caveat verification",
            )
        }
        Some(_) => {}
    }
    if req.method == "POST" && req.path == "/v1/invoices" {
        return create(shared, &req);
    }
    if let Some(r) = super::lnd_chain::handle(shared, &req) {
        return r;
    }
    if req.method == "POST" && req.path == "/v2/invoices/cancel" {
        return cancel(shared, &req);
    }
    if req.method == "GET" {
        if let Some(h) = req.path.strip_prefix("/v1/invoice/") {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return rpc_error(shared, "r_hash_str is not 64 hex", 400, 3, "invalid hash");
            }
            let g = shared.inner.lock().unwrap();
            if let Some(i) = g
                .invoices
                .iter()
                .find(|i| i.handle == h.to_ascii_lowercase())
            {
                return json_response(200, &invoice_json(i));
            }
            drop(g);
            return rpc_error(
                shared,
                "unknown invoice",
                404,
                5,
                "unable to locate invoice",
            );
        }
    }
    rpc_error(
        shared,
        &format!("{} {}", req.method, req.path),
        404,
        5,
        "Not Found",
    )
}

fn create(shared: &Shared, req: &Req) -> Response {
    if !req.is_json() {
        return rpc_error(
            shared,
            "content-type is not JSON",
            400,
            3,
            "bad content type",
        );
    }
    let Some(body) = req.json() else {
        return rpc_error(shared, "body is not JSON", 400, 3, "invalid JSON");
    };
    if !body["value_msat"].is_null() && body["value_msat"] != "0" {
        return rpc_error(
            shared,
            "value_msat sent (we send value in sat)",
            400,
            3,
            "value and value_msat are mutually exclusive",
        );
    }
    let Some(sat) = body["value"].as_str().and_then(positive_int) else {
        return rpc_error(
            shared,
            "value is not a JSON string of a positive integer of sat",
            400,
            3,
            "invalid value",
        );
    };
    let expiry = match &body["expiry"] {
        Value::Null => 86_400,
        v => match digits(v).filter(|e| *e > 0) {
            Some(e) => e,
            None => {
                return rpc_error(
                    shared,
                    "expiry is not a string of digits",
                    400,
                    3,
                    "invalid expiry",
                )
            }
        },
    };
    let memo = body["memo"].as_str().unwrap_or_default().to_owned();
    let lose = {
        shared.inner.lock().unwrap().create_calls += 1;
        shared.lose_answer()
    };
    let now = shared.now();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(sat * 1000, &memo, expiry) {
        Ok(v) => v,
        Err(e) => return rpc_error(shared, &e, 500, 2, "invoice"),
    };
    let seq = shared.next_seq();
    let addr = random_hex(32);
    shared.inner.lock().unwrap().invoices.push(FakeInvoice {
        handle: hex::encode(hash),
        key: None,
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11.clone()),
        amount_msat: sat * 1000,
        description: memo,
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + expiry,
        paid_at: None,
        webhook_url: None,
        extra: json!({"payment_addr": addr}),
        seq,
    });
    if lose {
        return json_response(
            503,
            &json!({"code": 14, "message": "unavailable", "details": []}),
        );
    }
    json_response(
        200,
        &json!({
            "r_hash": STANDARD.encode(hash),
            "payment_request": bolt11,
            "add_index": seq.to_string(),
            "payment_addr": STANDARD.encode(hex::decode(addr).unwrap_or_default()),
        }),
    )
}

pub(crate) fn invoice_json(i: &FakeInvoice) -> Value {
    let state = match i.status {
        FakeStatus::Pending => "OPEN",
        FakeStatus::Accepted => "ACCEPTED",
        FakeStatus::Paid => "SETTLED",
        FakeStatus::Expired => "CANCELED",
    };
    let paid = i.status == FakeStatus::Paid;
    // What arrived: the amount asked, unless a test settled it with less.
    let received = i.extra["amount_paid_msat"]
        .as_u64()
        .unwrap_or(i.amount_msat);
    let htlc_state = match i.status {
        FakeStatus::Accepted => Some("ACCEPTED"),
        FakeStatus::Paid => Some("SETTLED"),
        _ => None,
    };
    json!({
        "memo": i.description,
        "r_preimage": i.preimage.map(|p| STANDARD.encode(p)),
        "r_hash": i.payment_hash.map(|h| STANDARD.encode(h)),
        "value": (i.amount_msat / 1000).to_string(),
        "value_msat": i.amount_msat.to_string(),
        "settled": paid,
        "creation_date": i.created_at.to_string(),
        "settle_date": i.paid_at.unwrap_or(0).to_string(),
        "payment_request": i.bolt11,
        "description_hash": null,
        "expiry": (i.expires_at - i.created_at).to_string(),
        "fallback_addr": "",
        "cltv_expiry": "18",
        "route_hints": [],
        "private": false,
        "add_index": i.seq.to_string(),
        "settle_index": crate::pay_index(i).to_string(),
        "amt_paid": if paid { received.to_string() } else { "0".into() },
        "amt_paid_sat": if paid { (received / 1000).to_string() } else { "0".into() },
        "amt_paid_msat": if paid { received.to_string() } else { "0".into() },
        "state": state,
        "htlcs": htlc_state.map(|s| vec![json!({"chan_id": "1", "amt_msat": i.amount_msat.to_string(), "state": s})]).unwrap_or_default(),
        "features": {},
        "is_keysend": false,
        "payment_addr": i.extra["payment_addr"],
        "is_amp": false,
    })
}

/// invoicesrpc `CancelInvoice`: `{"payment_hash": base64}`; a settled invoice is refused.
fn cancel(shared: &Shared, req: &Req) -> Response {
    let hash = req
        .json()
        .and_then(|b| b["payment_hash"].as_str().map(str::to_owned))
        .and_then(|h| STANDARD.decode(h).ok())
        .filter(|h| h.len() == 32);
    let Some(hash) = hash else {
        return rpc_error(
            shared,
            "payment_hash is not 32 bytes of base64",
            400,
            3,
            "invalid hash",
        );
    };
    let mut g = shared.inner.lock().unwrap();
    let g = &mut *g;
    let Some(i) = g
        .invoices
        .iter_mut()
        .find(|i| i.payment_hash.map(|h| h.to_vec()) == Some(hash.clone()))
    else {
        return rpc_error(
            shared,
            "unknown invoice",
            404,
            5,
            "unable to locate invoice",
        );
    };
    if i.status == FakeStatus::Paid {
        return json_response(
            500,
            &json!({"code": 2, "message": "invoice already settled", "details": []}),
        );
    }
    i.status = FakeStatus::Expired;
    g.cancels += 1;
    json_response(200, &json!({}))
}
