//! Core Lightning clnrest: `POST /v1/invoice` and `POST /v1/listinvoices` with a `Rune` header;
//! success is 201; a duplicate label is error 900 (HTTP 500). Unpaid invoices past their
//! deadline read as `expired`, as in CLN.

use axum::response::Response;
use serde_json::{json, Value};

use super::{random_hex, Req};
use crate::creds::CLN_RUNE;
use crate::{json_response, FakeInvoice, FakeStatus, Shared};

pub(crate) fn rpc_error(
    shared: &Shared,
    reason: &str,
    status: u16,
    code: i64,
    message: &str,
) -> Response {
    shared.reject(
        format!("cln: {reason}"),
        status,
        &json!({"code": code, "message": message}),
    )
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    match req.header("rune") {
        None => return rpc_error(shared, "no rune", 403, 1501, "Not authorized: Missing rune"),
        Some(r) if r != CLN_RUNE => {
            return rpc_error(shared, "wrong rune", 401, 1502, "Rune is not valid")
        }
        Some(_) => {}
    }
    if req.method != "POST" {
        return rpc_error(
            shared,
            &format!("{} {}", req.method, req.path),
            405,
            -32601,
            "Method not allowed",
        );
    }
    if !req.is_json() {
        return rpc_error(
            shared,
            "content-type is not JSON",
            500,
            -32602,
            "bad content type",
        );
    }
    let Some(body) = req.json().filter(Value::is_object) else {
        return rpc_error(
            shared,
            "body is not a JSON object",
            500,
            -32602,
            "params must be an object",
        );
    };
    match req.path.as_str() {
        "/v1/invoice" => create(shared, &body),
        "/v1/listinvoices" => {
            let now = shared.now();
            let label = body["label"].as_str();
            let g = shared.inner.lock().unwrap();
            let list: Vec<Value> = g
                .invoices
                .iter()
                .filter(|i| label.is_none_or(|l| i.key.as_deref() == Some(l)))
                .map(|i| invoice_json(i, now))
                .collect();
            json_response(201, &json!({"invoices": list}))
        }
        other => rpc_error(
            shared,
            &format!("unknown method {other}"),
            404,
            -32601,
            "Unknown command",
        ),
    }
}

fn create(shared: &Shared, body: &Value) -> Response {
    // Our adapter sends an integer number of msat.
    let Some(msat) = body["amount_msat"].as_u64().filter(|m| *m > 0) else {
        return rpc_error(
            shared,
            "amount_msat is not a positive integer (msat)",
            500,
            -32602,
            "amount_msat: should be a millisatoshi amount",
        );
    };
    let Some(label) = body["label"].as_str().filter(|l| !l.is_empty()) else {
        return rpc_error(shared, "no label", 500, -32602, "label: should be a string");
    };
    let Some(description) = body["description"].as_str() else {
        return rpc_error(
            shared,
            "no description",
            500,
            -32602,
            "description: should be a string",
        );
    };
    let expiry = match &body["expiry"] {
        Value::Null => 604_800,
        v => match v.as_u64().filter(|e| *e > 0) {
            Some(e) => e,
            None => {
                return rpc_error(
                    shared,
                    "expiry not a positive integer",
                    500,
                    -32602,
                    "expiry: should be an integer",
                )
            }
        },
    };
    let lose = {
        let mut g = shared.inner.lock().unwrap();
        g.create_calls += 1;
        if g.invoices.iter().any(|i| i.key.as_deref() == Some(label)) {
            drop(g);
            return rpc_error(
                shared,
                "duplicate label",
                500,
                900,
                &format!("Duplicate label '{label}'"),
            );
        }
        drop(g);
        shared.lose_answer()
    };
    let now = shared.now();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(msat, description, expiry) {
        Ok(v) => v,
        Err(e) => return rpc_error(shared, &e, 500, -1, "invoice"),
    };
    let seq = shared.next_seq();
    let secret = random_hex(32);
    shared.inner.lock().unwrap().invoices.push(FakeInvoice {
        handle: label.to_owned(),
        key: Some(label.to_owned()),
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11.clone()),
        amount_msat: msat,
        description: description.to_owned(),
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + expiry,
        paid_at: None,
        webhook_url: None,
        extra: json!({"payment_secret": secret}),
        seq,
    });
    if lose {
        return json_response(502, &json!({"code": -1, "message": "Bad gateway"}));
    }
    json_response(
        201,
        &json!({"payment_hash": hex::encode(hash), "expires_at": now + expiry, "bolt11": bolt11,
                "payment_secret": secret, "created_index": seq}),
    )
}

pub(crate) fn invoice_json(i: &FakeInvoice, now: u64) -> Value {
    let status = match i.status {
        FakeStatus::Paid => "paid",
        FakeStatus::Expired => "expired",
        _ if now >= i.expires_at => "expired",
        _ => "unpaid",
    };
    let mut v = json!({
        "label": i.handle,
        "description": i.description,
        "payment_hash": i.payment_hash.map(hex::encode),
        "amount_msat": i.amount_msat,
        "status": status,
        "expires_at": i.expires_at,
        "bolt11": i.bolt11,
        "created_index": i.seq,
    });
    if status == "paid" {
        v["pay_index"] = json!(crate::pay_index(i));
        v["amount_received_msat"] = json!(i.amount_msat);
        v["paid_at"] = json!(i.paid_at);
        v["payment_preimage"] = json!(i.preimage.map(hex::encode));
        v["updated_index"] = json!(i.seq);
    }
    v
}
