//! Every refusal of `POST /api/invoices`, with its exact status and code.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::TestApp;

async fn refused(app: &TestApp, body: &str, status: StatusCode, code: &str) {
    let a = app.create_refused(body, status, code).await;
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn amount_refusals() {
    let app = TestApp::new();
    let bad = StatusCode::BAD_REQUEST;
    refused(&app, r#"{}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": null}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": 1.5}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": 1.0}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": 1e3}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": "2500"}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": true}"#, bad, "invalid_amount").await;
    refused(&app, r#"{"amount_sat": [1]}"#, bad, "invalid_amount").await;
    refused(
        &app,
        r#"{"amount_sat": 18446744073709551616}"#,
        bad,
        "invalid_amount",
    )
    .await;
    refused(&app, r#"{"amount_sat": 0}"#, bad, "amount_too_small").await;
    refused(&app, r#"{"amount_sat": -5}"#, bad, "amount_too_small").await;
    refused(&app, r#"{"amount_sat": 4500001}"#, bad, "amount_too_large").await;
    // The bounds themselves are accepted.
    app.create_ok(r#"{"amount_sat": 1}"#).await;
    app.create_ok(r#"{"amount_sat": 4500000}"#).await;
}

#[tokio::test]
async fn amount_too_large_message_matches_the_fixture() {
    let app = TestApp::new();
    let a = app.create(r#"{"amount_sat": 4500001}"#).await;
    assert_eq!(a.json(), common::fixture("error.json"));
}

#[tokio::test]
async fn configured_maximum_is_honoured() {
    let app = TestApp::with_config(|c| c.max_amount_sat = 1000);
    app.create_ok(r#"{"amount_sat": 1000}"#).await;
    refused(
        &app,
        r#"{"amount_sat": 1001}"#,
        StatusCode::BAD_REQUEST,
        "amount_too_large",
    )
    .await;
}

#[tokio::test]
async fn description_refusals() {
    let app = TestApp::new();
    let bad = StatusCode::BAD_REQUEST;
    refused(
        &app,
        r#"{"amount_sat": 1, "description": 5}"#,
        bad,
        "invalid_description",
    )
    .await;
    refused(
        &app,
        r#"{"amount_sat": 1, "description": {}}"#,
        bad,
        "invalid_description",
    )
    .await;
    let too_long = "a".repeat(640);
    refused(
        &app,
        &format!(r#"{{"amount_sat": 1, "description": "{too_long}"}}"#),
        bad,
        "description_too_long",
    )
    .await;
    // 320 two-byte characters are 640 bytes: counted in bytes, not characters.
    let wide = "é".repeat(320);
    refused(
        &app,
        &format!(r#"{{"amount_sat": 1, "description": "{wide}"}}"#),
        bad,
        "description_too_long",
    )
    .await;
    let max = "a".repeat(639);
    app.create_ok(&format!(r#"{{"amount_sat": 1, "description": "{max}"}}"#))
        .await;
    app.create_ok(r#"{"amount_sat": 1, "description": null}"#)
        .await;
}

#[tokio::test]
async fn order_id_refusals() {
    let app = TestApp::new();
    let bad = StatusCode::BAD_REQUEST;
    for body in [
        r#"{"amount_sat": 1, "order_id": ""}"#,
        r#"{"amount_sat": 1, "order_id": "has space"}"#,
        r#"{"amount_sat": 1, "order_id": "a/b"}"#,
        r#"{"amount_sat": 1, "order_id": "<script>"}"#,
        r#"{"amount_sat": 1, "order_id": "café"}"#,
        r#"{"amount_sat": 1, "order_id": 42}"#,
    ] {
        refused(&app, body, bad, "invalid_order_id").await;
    }
    let long = "a".repeat(129);
    refused(
        &app,
        &format!(r#"{{"amount_sat": 1, "order_id": "{long}"}}"#),
        bad,
        "invalid_order_id",
    )
    .await;
    let max = "A".repeat(128);
    app.create_ok(&format!(r#"{{"amount_sat": 1, "order_id": "{max}"}}"#))
        .await;
    app.create_ok(r#"{"amount_sat": 1, "order_id": "Order.42_x:y-z"}"#)
        .await;
}

#[tokio::test]
async fn expiry_refusals() {
    let app = TestApp::new();
    let bad = StatusCode::BAD_REQUEST;
    for e in ["0", "86401", "-1", "1.5", "\"60\"", "true", "4294967296"] {
        refused(
            &app,
            &format!(r#"{{"amount_sat": 1, "expiry_secs": {e}}}"#),
            bad,
            "invalid_expiry",
        )
        .await;
    }
    let v = app
        .create_ok(r#"{"amount_sat": 1, "expiry_secs": 1}"#)
        .await;
    assert_eq!(v["expires_at"], common::T0 + 1);
    let v = app
        .create_ok(r#"{"amount_sat": 1, "expiry_secs": 86400}"#)
        .await;
    assert_eq!(v["expires_at"], common::T0 + 86400);
    let v = app.create_ok(r#"{"amount_sat": 1}"#).await;
    assert_eq!(v["expires_at"], common::T0 + 900, "default 900 s");
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let app = TestApp::new();
    let a = app.create(r#"{"amount_sat": 1, "expiry_sec": 60}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "unknown_field");
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expiry_sec"));
    refused(
        &app,
        r#"{"amount_sat": 1, "amount_msat": 1000}"#,
        StatusCode::BAD_REQUEST,
        "unknown_field",
    )
    .await;
}

#[tokio::test]
async fn malformed_bodies() {
    let app = TestApp::new();
    let bad = StatusCode::BAD_REQUEST;
    for body in [
        "",
        "{",
        "not json",
        r#"{"amount_sat": 1,}"#,
        "[1]",
        "2500",
        "null",
        r#""x""#,
    ] {
        refused(&app, body, bad, "invalid_json").await;
    }
}

#[tokio::test]
async fn body_limit() {
    let app = TestApp::new();
    let pad = "a".repeat(17 * 1024);
    let a = app
        .create(&format!(r#"{{"amount_sat": 1, "description": "{pad}"}}"#))
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.code(), "body_too_large");
    // Just under the limit, it is the description rule that refuses.
    let pad = "a".repeat(15 * 1024);
    refused(
        &app,
        &format!(r#"{{"amount_sat": 1, "description": "{pad}"}}"#),
        StatusCode::BAD_REQUEST,
        "description_too_long",
    )
    .await;
}

#[tokio::test]
async fn body_limit_without_content_length() {
    // A streamed (chunked) body is cut at the limit too.
    let app = TestApp::new();
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..40).map(|_| Ok("a".repeat(1024))).collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let a = app
        .send(
            Request::post("/api/invoices")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.code(), "body_too_large");
}

#[tokio::test]
async fn content_type_is_required() {
    let app = TestApp::new();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut req = Request::post("/api/invoices");
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let a = app
            .send(req.body(Body::from(r#"{"amount_sat": 1}"#)).unwrap())
            .await;
        assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert_eq!(a.code(), "unsupported_media_type");
    }
    let a = app
        .send(
            Request::post("/api/invoices")
                .header(header::CONTENT_TYPE, "Application/JSON; charset=utf-8")
                .body(Body::from(r#"{"amount_sat": 1}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
}
