//! The JSON contract in `fixtures/`, as this backend serves it: the request fixtures pass its
//! checks, and its answers have the fixtures' keys with the same JSON types. (The fixtures
//! themselves are read with the contract's types in `contract/tests/fixtures.rs`.)

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use lightning_checkout_backend::api::{parse_create, CreateInvoiceRequest, InvoiceStatusResponse};
use lightning_checkout_backend::clock::Clock;
use lightning_checkout_backend::error::ErrorCode;
use serde_json::Value;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_u64() => "unsigned integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `fixture` is in `ours` with the same JSON type; `ours` has only `allowed_extra` besides.
fn same_shape(ours: &Value, fixture: &Value, allowed_extra: &[&str]) {
    for (k, fv) in fixture.as_object().unwrap() {
        let ov = ours
            .get(k)
            .unwrap_or_else(|| panic!("missing key {k} in {ours}"));
        assert_eq!(kind(ov), kind(fv), "type of {k}: ours {ov}, fixture {fv}");
    }
    let extra: BTreeSet<String> = keys(ours).difference(&keys(fixture)).cloned().collect();
    let allowed: BTreeSet<String> = allowed_extra.iter().map(|s| s.to_string()).collect();
    assert!(
        extra.is_subset(&allowed),
        "unexpected keys {extra:?} in {ours}"
    );
}

#[test]
fn request_fixtures_pass_our_checks() {
    for name in ["create_request.json", "create_request_minimal.json"] {
        let text = common::fixture_text(name);
        let typed: CreateInvoiceRequest = serde_json::from_str(&text).unwrap();
        let checked = parse_create(text.as_bytes(), 4_500_000).unwrap();
        assert_eq!(checked.amount_msat, typed.amount_sat * 1000);
        assert_eq!(checked.order_id, typed.order_id);
        assert_eq!(
            checked.description,
            typed.description.clone().unwrap_or_default()
        );
        assert_eq!(checked.expiry_secs, typed.expiry_secs.unwrap_or(900));
    }
    let full: CreateInvoiceRequest =
        serde_json::from_value(common::fixture("create_request.json")).unwrap();
    assert_eq!(full.amount_sat, 250_000);
    assert_eq!(full.order_id.as_deref(), Some("order-42"));
}

#[tokio::test]
async fn create_response_has_exactly_the_fixture_keys() {
    let app = TestApp::new();
    let body = common::fixture_text("create_request.json");
    let created = app.create(&body).await;
    assert_eq!(created.status, axum::http::StatusCode::CREATED);
    let ours = created.json_with_time();
    let fixture = common::fixture("create_response.json");
    same_shape(&ours, &fixture, &[]);
    assert_eq!(keys(&ours), keys(&fixture));
    assert_eq!(ours["status"], "pending");
    assert_eq!(ours["amount_sat"], 250_000);
    // server_time is the backend's clock in Unix milliseconds (the widget corrects the payer's
    // clock by it).
    assert_eq!(ours["server_time"], app.clock.now() * 1000);
    // The repeat for the same order (200) has the same shape.
    let again = app.create(&body).await;
    assert_eq!(again.status, axum::http::StatusCode::OK);
    assert_eq!(again.json_with_time(), ours);
}

/// Status answers carry the fixture's keys with its types. They also carry the invoice itself
/// (payment_request, payment_hash, amount_sat, expires_at, and paid_at once paid), so a page
/// reloaded with only the id can show it again; the widget ignores keys it does not know.
const STATUS_EXTRA: &[&str] = &[
    "payment_request",
    "payment_hash",
    "amount_sat",
    "expires_at",
    "paid_at",
];

#[tokio::test]
async fn status_responses_have_the_fixture_shapes() {
    let app = TestApp::new();
    let id = app
        .create_ok(r#"{"amount_sat": 2500, "expiry_secs": 60}"#)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = app.status(&id).await.json_with_time();
    same_shape(
        &pending,
        &common::fixture("status_pending.json"),
        STATUS_EXTRA,
    );
    assert!(pending.get("preimage").is_none() && pending.get("paid_at").is_none());
    assert_eq!(pending["server_time"], app.clock.now() * 1000);

    let paid = app.pay(&id).await.json_with_time();
    same_shape(&paid, &common::fixture("status_paid.json"), STATUS_EXTRA);
    assert_eq!(paid["preimage"].as_str().unwrap().len(), 64);
    assert!(paid["paid_at"].is_u64());
    let _: InvoiceStatusResponse = serde_json::from_value(paid).unwrap();

    let id = app
        .create_ok(r#"{"amount_sat": 2500, "expiry_secs": 1}"#)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(1);
    let expired = app.status(&id).await.json_with_time();
    assert_eq!(expired["server_time"], app.clock.now() * 1000);
    same_shape(
        &expired,
        &common::fixture("status_expired.json"),
        STATUS_EXTRA,
    );
    assert!(expired.get("preimage").is_none() && expired.get("paid_at").is_none());
}

#[tokio::test]
async fn error_responses_have_the_fixture_shape() {
    let app = TestApp::new();
    let fixture = common::fixture("error.json");
    for a in [
        app.create(r#"{"amount_sat": 0}"#).await,
        app.create("{").await,
        app.status("inv_aaaaaaaaaaaaaaaaaaaaaaaaaa").await,
        app.get("/api/nope").await,
    ] {
        let v = a.json();
        assert_eq!(keys(&v), keys(&fixture));
        assert_eq!(keys(&v["error"]), keys(&fixture["error"]));
        assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string());
        // Every code is one of the contract's.
        let code = v["error"]["code"].as_str().unwrap();
        assert!(ErrorCode::parse(code).is_some(), "{code}");
    }
}
