//! LNbits: `POST /api/v1/payments` (`out: false`, `amount` in `unit`), `GET
//! /api/v1/payments/{hash}`; `X-Api-Key`. The paid webhook is unsigned and its body is a JSON
//! *string* holding the payment JSON (LNbits's `json=payment.json()` quirk).

use axum::response::Response;
use serde_json::{json, Value};

use super::{random_hex, Req};
use crate::creds::LNBITS_API_KEY;
use crate::{json_response, rfc3339, Event, FakeInvoice, FakeStatus, Shared, Webhook};

fn detail(shared: &Shared, reason: &str, status: u16, message: &str) -> Response {
    shared.reject(
        format!("lnbits: {reason}"),
        status,
        &json!({"detail": message}),
    )
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    match req.header("x-api-key") {
        None => return detail(shared, "no X-Api-Key", 401, "Missing api key."),
        Some(k) if k != LNBITS_API_KEY => {
            return detail(shared, "wrong X-Api-Key", 401, "Invalid key.")
        }
        Some(_) => {}
    }
    if req.method == "POST" && req.path == "/api/v1/payments" {
        return create(shared, &req);
    }
    if req.method == "GET" {
        if let Some(h) = req.path.strip_prefix("/api/v1/payments/") {
            let g = shared.inner.lock().unwrap();
            let Some(i) = g.invoices.iter().find(|i| i.handle == h) else {
                drop(g);
                return detail(
                    shared,
                    "unknown payment hash",
                    404,
                    "Payment does not exist.",
                );
            };
            let paid = i.status == FakeStatus::Paid;
            let status = match i.status {
                FakeStatus::Paid => "success",
                FakeStatus::Expired => "failed",
                _ => "pending",
            };
            return json_response(
                200,
                &json!({"paid": paid, "status": status,
                        "preimage": if paid { i.preimage.map(hex::encode) } else { None },
                        "details": payment_json(i)}),
            );
        }
    }
    detail(
        shared,
        &format!("{} {}", req.method, req.path),
        404,
        "Not Found",
    )
}

fn create(shared: &Shared, req: &Req) -> Response {
    if !req.is_json() {
        return detail(shared, "content-type is not JSON", 400, "bad content type");
    }
    let Some(body) = req.json() else {
        return detail(shared, "body is not JSON", 400, "invalid JSON");
    };
    if body["out"] != false {
        return detail(
            shared,
            "out is not false (an outgoing payment was asked)",
            400,
            "out must be false to create an invoice",
        );
    }
    if body["unit"] != "sat" {
        return detail(shared, "unit is not sat", 400, "unit must be sat");
    }
    let Some(sat) = body["amount"].as_u64().filter(|a| *a > 0) else {
        return detail(
            shared,
            "amount is not a positive whole number of sat",
            400,
            "invalid amount",
        );
    };
    let memo = body["memo"].as_str().unwrap_or_default().to_owned();
    if memo.chars().count() > 640 {
        return detail(shared, "memo over 640", 400, "memo too long");
    }
    let expiry = match &body["expiry"] {
        Value::Null => 3600,
        v => match v.as_u64().filter(|e| *e > 0) {
            Some(e) => e,
            None => {
                return detail(
                    shared,
                    "expiry not a positive integer",
                    400,
                    "invalid expiry",
                )
            }
        },
    };
    let webhook = match &body["webhook"] {
        Value::Null => None,
        Value::String(s) if s.starts_with("http") => Some(s.clone()),
        _ => return detail(shared, "webhook not a URL", 400, "invalid webhook"),
    };
    let lose = {
        shared.inner.lock().unwrap().create_calls += 1;
        shared.lose_answer()
    };
    let now = shared.now();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(sat * 1000, &memo, expiry) {
        Ok(v) => v,
        Err(e) => return detail(shared, &e, 520, "invoice"),
    };
    let inv = FakeInvoice {
        handle: hex::encode(hash),
        key: None,
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11),
        amount_msat: sat * 1000,
        description: memo,
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + expiry,
        paid_at: None,
        webhook_url: webhook,
        extra: json!({"extra": body["extra"], "wallet_id": random_hex(16)}),
        seq: shared.next_seq(),
    };
    let answer = payment_json(&inv);
    shared.inner.lock().unwrap().invoices.push(inv);
    if lose {
        return json_response(520, &json!({"detail": "backend error", "status": "failed"}));
    }
    json_response(201, &answer)
}

fn payment_json(i: &FakeInvoice) -> Value {
    let paid = i.status == FakeStatus::Paid;
    json!({
        "checking_id": i.handle,
        "payment_hash": i.handle,
        "wallet_id": i.extra["wallet_id"],
        "amount": i.amount_msat,
        "fee": 0,
        "bolt11": i.bolt11,
        "payment_request": i.bolt11,
        "status": match i.status { FakeStatus::Paid => "success", FakeStatus::Expired => "failed", _ => "pending" },
        "memo": i.description,
        "expiry": rfc3339(i.expires_at),
        "webhook": i.webhook_url,
        "webhook_status": null,
        "preimage": if paid { i.preimage.map(hex::encode) } else { None },
        "tag": null,
        "extension": null,
        "time": rfc3339(i.created_at),
        "created_at": rfc3339(i.created_at),
        "updated_at": rfc3339(i.paid_at.unwrap_or(i.created_at)),
        "labels": [],
        "extra": i.extra["extra"],
    })
}

pub fn webhook(inv: &FakeInvoice, event: Event) -> Option<Webhook> {
    if event != Event::Paid {
        return None;
    }
    // The quirk: a JSON string whose content is the payment JSON.
    let inner = payment_json(inv).to_string();
    let body = serde_json::to_vec(&Value::String(inner)).expect("JSON");
    Some(Webhook {
        body,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "lnbits/fake".into()),
        ],
        url: inv.webhook_url.clone(),
    })
}
