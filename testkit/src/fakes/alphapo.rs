//! AlphaPo: `POST /api/v2/addresses/take` (`BTCLN`), `X-Processing-Key` and
//! `X-Processing-Signature` = hex HMAC-SHA512 of the raw body; callbacks signed the same way.
//! `foreign_id` and `end_user_reference` must name the payer persistently: a per-invoice id
//! (`inv_…`) is refused, and so is a pair that differs from an earlier request's.

use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::{hmac512, Req};
use crate::creds::{ALPHAPO_KEY, ALPHAPO_SECRET};
use crate::util::btc_to_msat;
use crate::{json_response, msat_to_btc, Event, FakeInvoice, FakeStatus, Shared, Webhook};

/// The Lightning ceiling, msat.
const MAX_MSAT: u64 = 4_500_000_000;

#[derive(Deserialize)]
struct Take<'a> {
    currency: Option<String>,
    foreign_id: Option<String>,
    end_user_reference: Option<String>,
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
}

fn field_error(shared: &Shared, field: &str, msg: &str) -> Response {
    shared.reject(
        format!("alphapo: {field}: {msg}"),
        400,
        &json!({"errors": {field: msg}}),
    )
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    if req.method != "POST" || req.path != "/api/v2/addresses/take" {
        return shared.reject(
            format!("alphapo: {} {}", req.method, req.path),
            404,
            &json!({"error": "Not found", "code": "not_found"}),
        );
    }
    if req.header("x-processing-key") != Some(ALPHAPO_KEY) {
        return shared.reject(
            "alphapo: bad or missing X-Processing-Key",
            403,
            &json!({"error": "Bad key header", "code": "bad_header_key"}),
        );
    }
    let expected = hex::encode(hmac512(ALPHAPO_SECRET.as_bytes(), &[&req.body]));
    if req.header("x-processing-signature") != Some(expected.as_str()) {
        return shared.reject(
            "alphapo: X-Processing-Signature is not HMAC-SHA512(secret, body)",
            403,
            &json!({"error": "Bad signature header", "code": "bad_header_signature"}),
        );
    }
    if !req.is_json() {
        return field_error(shared, "content-type", "must be application/json");
    }
    let Ok(take) = serde_json::from_slice::<Take>(&req.body) else {
        return field_error(shared, "body", "is not a JSON object");
    };
    if take.currency.as_deref() != Some("BTCLN") {
        return field_error(shared, "currency", "The selected currency is invalid.");
    }
    let Some(foreign_id) = take.foreign_id.filter(|f| !f.is_empty()) else {
        return field_error(shared, "foreign_id", "The foreign id field is required.");
    };
    let Some(user) = take.end_user_reference.filter(|f| !f.is_empty()) else {
        return field_error(
            shared,
            "end_user_reference",
            "The end user reference field is required.",
        );
    };
    // Both identify the payer, persistently (AlphaPo: "a persistent internal user ID …
    // consistent across requests"): never a per-invoice id such as the checkout's `inv_…`, and
    // one payer keeps one foreign_id.
    for (field, v) in [("foreign_id", &foreign_id), ("end_user_reference", &user)] {
        if v.starts_with("inv_") {
            return field_error(
                shared,
                field,
                "must be the payer's persistent id, not a per-invoice id",
            );
        }
    }
    let inconsistent = shared.inner.lock().unwrap().invoices.iter().any(|i| {
        let (k, u) = (i.key.as_deref(), i.extra["end_user_reference"].as_str());
        (u == Some(user.as_str())) != (k == Some(foreign_id.as_str()))
    });
    if inconsistent {
        return field_error(
            shared,
            "end_user_reference",
            "one payer, one foreign_id: this pair differs from an earlier request's",
        );
    }
    // A JSON number (not a string), up to 8 decimals, no exponent.
    let Some(raw) = take.amount.map(RawValue::get) else {
        return field_error(shared, "amount", "The amount field is required.");
    };
    if raw.starts_with('"') {
        return field_error(shared, "amount", "The amount must be a number.");
    }
    let Some(msat) = btc_to_msat(raw).filter(|m| *m > 0) else {
        return field_error(
            shared,
            "amount",
            "The amount must be a positive number with at most 8 decimals.",
        );
    };
    if msat > MAX_MSAT {
        return field_error(
            shared,
            "amount",
            "The amount may not be greater than 0.045.",
        );
    }
    let lose = {
        shared.inner.lock().unwrap().create_calls += 1;
        shared.lose_answer()
    };
    let now = shared.now();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(msat, "AlphaPo deposit", 900) {
        Ok(v) => v,
        Err(e) => return field_error(shared, "amount", &e),
    };
    let seq = shared.next_seq();
    let id = 240_407_000 + seq;
    let inv = FakeInvoice {
        handle: id.to_string(),
        key: Some(foreign_id.clone()),
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11.clone()),
        amount_msat: msat,
        description: String::new(),
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + 900,
        paid_at: None,
        webhook_url: None,
        extra: json!({"end_user_reference": user}),
        seq,
    };
    shared.inner.lock().unwrap().invoices.push(inv);
    if lose {
        return json_response(
            500,
            &json!({"error": "Server error", "code": "server_error"}),
        );
    }
    json_response(
        201,
        &json!({"data": {"id": id, "currency": "BTCLN", "address": bolt11, "tag": null,
                         "foreign_id": foreign_id, "end_user_reference": user}}),
    )
}

pub fn webhook(inv: &FakeInvoice, event: Event) -> Option<Webhook> {
    let status = match event {
        Event::Paid => "confirmed",
        // AlphaPo sends nothing when a Lightning invoice lapses.
        Event::Expired => return None,
    };
    let amount = msat_to_btc(inv.amount_msat);
    // Pretty-printed on purpose: a verifier that re-serializes fails.
    let body = json!({
        "status": status,
        "id": 9_000_000 + inv.seq,
        "end_user_reference": inv.extra["end_user_reference"],
        "type": "deposit",
        "crypto_address": {"id": inv.handle.parse::<u64>().unwrap_or(0), "currency": "BTCLN",
                           "address": inv.bolt11, "foreign_id": inv.key, "tag": null},
        "currency_sent": {"currency": "BTCLN", "amount": amount},
        "currency_received": {"currency": "BTCLN", "amount": amount, "amount_minus_fee": amount},
        "transactions": [{"id": 1, "currency": "BTCLN", "transaction_type": "internal", "type": "deposit",
                          "address": inv.bolt11, "tag": null, "amount": amount,
                          "txid": inv.payment_hash.map(hex::encode), "riskscore": "0", "confirmations": 1}],
        "fees": [],
        "error": "",
    });
    let body = serde_json::to_vec_pretty(&body).expect("JSON");
    let sig = hex::encode(hmac512(ALPHAPO_SECRET.as_bytes(), &[&body]));
    Some(Webhook {
        body,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-processing-key".into(), ALPHAPO_KEY.into()),
            ("x-processing-signature".into(), sig),
        ],
        url: None,
    })
}
