//! Amboss Payments: `POST /graphql` with `x-api-key`; `create_receive` (idempotency_key replays
//! return the original), `find_one`; webhooks signed HMAC-SHA256 over `ts + "." + body`.

use axum::response::Response;
use serde_json::{json, Value};

use super::{hmac256_hex, positive_int, random_hex, Req};
use crate::creds::{AMBOSS_API_KEY, AMBOSS_WALLET_ID, AMBOSS_WEBHOOK_SECRET};
use crate::{json_response, rfc3339, Event, FakeInvoice, FakeStatus, Shared, Webhook};

fn gql_error(shared: &Shared, reason: &str, status: u16, message: &str) -> Response {
    shared.reject(
        format!("amboss: {reason}"),
        status,
        &json!({"errors": [{"message": message, "path": ["payment"], "extensions": {"code": "BAD_USER_INPUT"}}], "data": null}),
    )
}

fn status_word(s: FakeStatus) -> &'static str {
    match s {
        FakeStatus::Pending | FakeStatus::Accepted => "PENDING",
        FakeStatus::Paid => "COMPLETED",
        FakeStatus::Expired => "EXPIRED",
    }
}

fn tx_json(i: &FakeInvoice) -> Value {
    json!({
        "id": i.handle,
        "status": status_word(i.status),
        "payment_request": i.bolt11,
        "payment_hash": i.payment_hash.map(hex::encode),
        "expires_at": rfc3339(i.expires_at),
        "settled_at": i.paid_at.map(rfc3339),
        "amount": {"full_amount": (i.amount_msat / 1000).to_string(), "display_amount": (i.amount_msat / 1000).to_string()},
        "amount_sats": (i.amount_msat / 1000).to_string(),
        "idempotency_key": i.key,
        "created_at": rfc3339(i.created_at),
    })
}

pub fn handle(shared: &Shared, req: Req) -> Response {
    if req.method != "POST" || req.path != "/graphql" {
        return gql_error(
            shared,
            &format!("{} {}", req.method, req.path),
            404,
            "Not found",
        );
    }
    if req.header("x-api-key") != Some(AMBOSS_API_KEY) {
        return shared.reject(
            "amboss: bad or missing x-api-key",
            401,
            &json!({"errors": [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}]}),
        );
    }
    if req.header("authorization").is_some() {
        return gql_error(
            shared,
            "Authorization header sent (the key goes in x-api-key)",
            400,
            "Use x-api-key",
        );
    }
    if !req.is_json() {
        return gql_error(shared, "content-type is not JSON", 400, "Bad content type");
    }
    let Some(body) = req.json() else {
        return gql_error(shared, "body is not JSON", 400, "Bad request");
    };
    let query = body["query"].as_str().unwrap_or_default();
    if query.contains("create_receive(input: $input)") && query.starts_with("mutation") {
        create(shared, &body["variables"]["input"])
    } else if query.contains("find_one(id: $id)") {
        let id = body["variables"]["id"].as_str().unwrap_or_default();
        let g = shared.inner.lock().unwrap();
        match g.invoices.iter().find(|i| i.handle == id) {
            Some(i) => json_response(
                200,
                &json!({"data": {"payment": {"transaction": {"find_one": tx_json(i)}}}}),
            ),
            None => {
                drop(g);
                gql_error(
                    shared,
                    "find_one of an unknown id",
                    200,
                    "Transaction not found",
                )
            }
        }
    } else {
        gql_error(shared, "unknown operation", 400, "Unknown operation")
    }
}

fn create(shared: &Shared, input: &Value) -> Response {
    if input["wallet_id"] != AMBOSS_WALLET_ID {
        return gql_error(shared, "wrong wallet_id", 200, "Wallet not found");
    }
    let Some(sats) = input["amount"].as_str().and_then(positive_int) else {
        return gql_error(
            shared,
            "amount is not a string of a positive integer (sats)",
            200,
            "amount must be a positive integer string",
        );
    };
    let Some(key) = input["idempotency_key"]
        .as_str()
        .filter(|k| (1..=255).contains(&k.len()))
    else {
        return gql_error(
            shared,
            "idempotency_key missing or too long",
            200,
            "idempotency_key",
        );
    };
    let expiry = match &input["expires_in_seconds"] {
        Value::Null => 600,
        v => match v.as_u64().filter(|e| (1..=2_592_000).contains(e)) {
            Some(e) => e,
            None => {
                return gql_error(
                    shared,
                    "expires_in_seconds out of range",
                    200,
                    "expires_in_seconds",
                )
            }
        },
    };
    let description = input["description"].as_str().unwrap_or_default();
    if description.chars().count() > 640 {
        return gql_error(
            shared,
            "description over 640 characters",
            200,
            "description",
        );
    }
    if let Some(m) = input["metadata"].as_str() {
        if m.len() > 2048 || serde_json::from_str::<Value>(m).is_err() {
            return gql_error(
                shared,
                "metadata is not a JSON string of at most 2048",
                200,
                "metadata",
            );
        }
    } else if !input["metadata"].is_null() {
        return gql_error(shared, "metadata is not a string", 200, "metadata");
    }
    let lose = {
        let mut g = shared.inner.lock().unwrap();
        g.create_calls += 1;
        if let Some(existing) = g.invoices.iter().find(|i| i.key.as_deref() == Some(key)) {
            // Replay: the original invoice, nothing new.
            let t = tx_json(existing);
            return json_response(
                200,
                &json!({"data": {"payment": {"transaction": {"create_receive": t}}}}),
            );
        }
        drop(g);
        shared.lose_answer()
    };
    let now = shared.now();
    let (bolt11, hash, preimage) = match shared.issue_bolt11(sats * 1000, description, expiry) {
        Ok(v) => v,
        Err(e) => return gql_error(shared, &e, 200, "invoice"),
    };
    let inv = FakeInvoice {
        handle: format!("tx_{}", random_hex(12)),
        key: Some(key.to_owned()),
        payment_hash: Some(hash),
        preimage: Some(preimage),
        bolt11: Some(bolt11),
        amount_msat: sats * 1000,
        description: description.to_owned(),
        status: FakeStatus::Pending,
        created_at: now,
        expires_at: now + expiry,
        paid_at: None,
        webhook_url: None,
        extra: json!({"metadata": input["metadata"]}),
        seq: shared.next_seq(),
    };
    let t = tx_json(&inv);
    shared.inner.lock().unwrap().invoices.push(inv);
    if lose {
        return json_response(502, &json!({"errors": [{"message": "Bad gateway"}]}));
    }
    json_response(
        200,
        &json!({"data": {"payment": {"transaction": {"create_receive": t}}}}),
    )
}

pub fn webhook(shared: &Shared, inv: &FakeInvoice, event: Event) -> Webhook {
    let (etype, status) = match event {
        Event::Paid => ("payment.completed", "completed"),
        Event::Expired => ("payment.expired", "expired"),
    };
    let sats = (inv.amount_msat / 1000).to_string();
    let metadata: Value = inv.extra["metadata"]
        .as_str()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null);
    // Pretty-printed on purpose: a verifier that re-serializes fails.
    let body = serde_json::to_string_pretty(&json!({
        "id": format!("evt_{}", random_hex(8)),
        "wallet_id": AMBOSS_WALLET_ID,
        "node_id": null,
        "event_type": etype,
        "environment": "sandbox",
        "environment_id": "env_fake",
        "data": {
            "id": inv.handle,
            "direction": "receive",
            "status": status,
            "amount": {"amount": sats, "asset_id": "btc", "precision": 8, "asset_symbol": "BTC"},
            "fee": null,
            "settle_amount": {"amount": sats, "asset_id": "btc", "precision": 8, "asset_symbol": "BTC"},
            "expires_at": rfc3339(inv.expires_at),
            "settled_at": inv.paid_at.map(rfc3339),
            "description": inv.description,
            "exchange_rate": null,
            "metadata": metadata,
            "payment_details": {
                "payment_hash": inv.payment_hash.map(hex::encode),
                "payment_type": "bolt11",
                "payment_request": inv.bolt11,
            },
        },
    }))
    .expect("JSON")
    .into_bytes();
    let ts = shared.now().to_string();
    let sig = hmac256_hex(
        AMBOSS_WEBHOOK_SECRET.as_bytes(),
        &[ts.as_bytes(), b".", &body],
    );
    Webhook {
        body,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-webhook-signature".into(), sig),
            ("x-webhook-timestamp".into(), ts),
            ("x-webhook-event".into(), etype.into()),
        ],
        url: None,
    }
}
