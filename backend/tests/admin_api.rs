//! The reconciliation API (issue 9 #3): bearer `ADMIN_TOKEN`, an order's invoices, paid
//! invoices since a time, paged; the payer-facing status stays status only.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{signed, TestApp, T0};
use lightning_checkout_backend::config::Secret;
use serde_json::Value;

const TOKEN: &str = "admin-token-for-the-tests-0123";

async fn admin(app: &TestApp, path: &str, token: Option<&str>) -> common::Answer {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn app() -> TestApp {
    TestApp::with_config(|c| c.shop.admin_token = Some(Secret::new(TOKEN)))
}

async fn create_and_pay(app: &TestApp, body: &str) -> String {
    let id = app.create_ok(body).await["id"].as_str().unwrap().to_owned();
    assert_eq!(app.pay(&id).await.status, StatusCode::OK);
    id
}

#[tokio::test]
async fn refused_without_the_token_and_when_unset() {
    let app = app();
    for path in ["/api/admin/orders/o-1", "/api/admin/payments"] {
        let a = admin(&app, path, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.code(), "unauthorized");
        let a = admin(&app, path, Some("admin-token-for-the-tests-0124")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        let a = admin(&app, path, Some("")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    }
    let off = TestApp::new();
    let a = admin(&off, "/api/admin/payments", Some(TOKEN)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.code(), "admin_not_configured");
}

#[tokio::test]
async fn an_order_s_invoices_and_what_was_paid() {
    let app = app();
    let first = app
        .create_ok(&signed(
            r#"{"amount_sat": 2500, "order_id": "order-8", "expiry_secs": 60}"#,
        ))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(61);
    let second = create_and_pay(
        &app,
        &signed(r#"{"amount_sat": 2500, "order_id": "order-8", "description": "Eight"}"#),
    )
    .await;
    let a = admin(&app, "/api/admin/orders/order-8", Some(TOKEN)).await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["order_id"], "order-8");
    assert_eq!(v["paid"], true);
    let inv = v["invoices"].as_array().unwrap();
    assert_eq!(inv.len(), 2);
    assert_eq!(inv[0]["invoice_id"], first.as_str());
    assert_eq!(inv[0]["status"], "expired");
    assert_eq!(inv[0]["preimage"], Value::Null);
    assert_eq!(inv[1]["invoice_id"], second.as_str());
    assert_eq!(inv[1]["status"], "paid");
    assert_eq!(inv[1]["amount_msat"], 2_500_000);
    assert_eq!(inv[1]["amount_paid_msat"], 2_500_000);
    assert_eq!(inv[1]["paid_at"], T0 + 61);
    assert_eq!(inv[1]["preimage"].as_str().unwrap().len(), 64);
    let a = admin(&app, "/api/admin/orders/order-9", Some(TOKEN)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "not_found");
    // The payer-facing status answer is status only: no order id, no amounts received.
    let s = app.status(&second).await.json();
    assert!(s.get("order_id").is_none() && s.get("amount_paid_msat").is_none());
    assert!(s.get("description").is_none());
}

#[tokio::test]
async fn payments_since_a_time_paged() {
    let app = app();
    let mut paid = Vec::new();
    for i in 0..5u64 {
        app.clock.set(T0 + i * 10);
        paid.push(create_and_pay(&app, &format!(r#"{{"amount_sat": {}}}"#, i + 1)).await);
    }
    // An unpaid one is never listed.
    app.create_ok(r#"{"amount_sat": 9}"#).await;
    let all = admin(&app, "/api/admin/payments", Some(TOKEN)).await.json();
    assert_eq!(all["payments"].as_array().unwrap().len(), 5);
    assert_eq!(all["next_cursor"], Value::Null);
    // since is inclusive.
    let v = admin(
        &app,
        &format!("/api/admin/payments?since={}&limit=2", T0 + 20),
        Some(TOKEN),
    )
    .await
    .json();
    let ids = |v: &Value| -> Vec<String> {
        v["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["invoice_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&v), paid[2..4].to_vec());
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    let v = admin(
        &app,
        &format!("/api/admin/payments?cursor={cursor}&limit=2"),
        Some(TOKEN),
    )
    .await
    .json();
    assert_eq!(ids(&v), paid[4..].to_vec());
    assert_eq!(v["next_cursor"], Value::Null);
    for bad in ["limit=0", "limit=501", "since=-1", "cursor=zzz"] {
        let a = admin(&app, &format!("/api/admin/payments?{bad}"), Some(TOKEN)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.code(), "invalid_query");
    }
}
