//! Signed orders (issue 9 #1): the squat refused, tokens forged / expired / for another amount /
//! `alg` none and RS256 / reused for another order, the test vectors of `fixtures/`, the
//! `sign-order` command and the demo's dev route.

mod common;
mod provider_support;

use std::collections::HashMap;

use axum::http::StatusCode;
use common::{base64_url, order_token as token, signed, TestApp, T0};
use lightning_checkout_backend::config::{Config, Secret};
use lightning_checkout_backend::order_token::{self, OrderClaims, TokenAmount, TokenError};
use provider_support::setup;
use serde_json::{json, Value};
use testkit::Kind;

fn body(v: Value) -> String {
    v.to_string()
}

async fn refused(app: &TestApp, body: &str, status: StatusCode, code: &str) {
    app.create_refused(body, status, code).await;
}

#[tokio::test]
async fn the_squat_is_refused_under_a_real_provider() {
    let s = setup(Kind::Lnd, &[]).await;
    // A stranger names the shop's order without a token.
    let squat = r#"{"amount_sat": 1, "order_id": "order-43", "expiry_secs": 86400}"#;
    refused(&s.app, squat, StatusCode::UNAUTHORIZED, "missing_token").await;
    assert_eq!(s.fake.create_calls(), 0, "the provider was never asked");
    assert!(s
        .app
        .state
        .store()
        .invoices_for_order("order-43")
        .unwrap()
        .is_empty());
    // The real buyer, with the shop's token, is not blocked.
    let t = token("order-43", TokenAmount::Exact(2500), "Order 43", T0 + 600);
    let (id, v) = s.create(&body(json!({ "order_token": t }))).await;
    assert_eq!(v["amount_sat"], 2500);
    let row = s.row(&id);
    assert_eq!(row.order_id.as_deref(), Some("order-43"));
    assert_eq!(row.description, "Order 43");
    // Still refused while that invoice is open: the token is the only way in.
    refused(&s.app, squat, StatusCode::UNAUTHORIZED, "missing_token").await;
    // Unsigned tips without an order id stay possible, with no order id stored, and so do the
    // widget's own retry keys (`wc_` + 24 hex), which name no shop order.
    let (tip, _) = s.create(r#"{"amount_sat": 21}"#).await;
    assert_eq!(s.row(&tip).order_id, None);
    let widget = r#"{"amount_sat": 21, "order_id": "wc_0123456789abcdef01234567"}"#;
    let (w1, _) = s.create(widget).await;
    assert_eq!(s.app.create(widget).await.json()["id"], w1.as_str());
    for almost in [
        "wc_0123456789abcdef0123456",
        "wc_0123456789ABCDEF01234567",
        "wc_order-43",
    ] {
        let b = body(json!({ "amount_sat": 21, "order_id": almost }));
        refused(&s.app, &b, StatusCode::UNAUTHORIZED, "missing_token").await;
    }
    // A shop cannot sign a widget-made id.
    let wc = token(
        "wc_0123456789abcdef01234567",
        TokenAmount::Exact(1),
        "",
        T0 + 600,
    );
    s.app
        .token_refused(&wc, StatusCode::UNAUTHORIZED, "invalid_token")
        .await;
    let h = s.app.get("/api/health").await.json();
    assert_eq!(h["unsigned_orders"], "without_order_id");
    assert_eq!(h["signed_orders"], true);
    // No demo token mint under a real provider.
    let a = s
        .app
        .post_json("/api/dev/orders", r#"{"amount_sat": 5}"#)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_forged_expired_other_amount_other_order_and_other_algorithms() {
    let s = setup(Kind::Lnbits, &[]).await;
    let app = &s.app;
    let good = token("order-9", TokenAmount::Exact(2500), "Nine", T0 + 600);
    let bad = StatusCode::UNAUTHORIZED;
    // Forged: the claims changed to 1 sat, the signature kept.
    let (h, rest) = good.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let cheap = base64_url(
        json!({"order_id": "order-9", "amount_sat": 1, "description": "Nine", "exp": T0 + 600})
            .to_string(),
    );
    let forged = format!("{h}.{cheap}.{sig}");
    app.token_refused(&forged, bad, "invalid_token").await;
    // Signed with another key.
    let other = order_token::sign(
        &OrderClaims {
            order_id: "order-9".into(),
            amount: TokenAmount::Exact(1),
            description: String::new(),
            exp: T0 + 600,
            iat: None,
        },
        &Secret::new("another-secret-which-is-long-enough-000"),
    );
    app.token_refused(&other, bad, "invalid_token").await;
    // alg none (no signature) and RS256 with the claims intact.
    let claims = rest.split_once('.').unwrap().0;
    let none = format!("{}.{claims}.", base64_url(r#"{"alg":"none","typ":"JWT"}"#));
    app.token_refused(&none, bad, "invalid_token").await;
    let rs = format!(
        "{}.{claims}.{sig}",
        base64_url(r#"{"alg":"RS256","typ":"JWT"}"#)
    );
    app.token_refused(&rs, bad, "invalid_token").await;
    // Not a string, empty, garbage.
    refused(app, r#"{"order_token": 5}"#, bad, "invalid_token").await;
    refused(app, r#"{"order_token": ""}"#, bad, "invalid_token").await;
    refused(app, r#"{"order_token": "a.b.c"}"#, bad, "invalid_token").await;
    // Oversized.
    let huge = "a".repeat(order_token::MAX_TOKEN_LEN + 1);
    app.token_refused(&huge, bad, "invalid_token").await;
    // Expired (beyond the allowed clock skew).
    let old = token("order-9", TokenAmount::Exact(2500), "Nine", T0 - 120);
    app.token_refused(&old, bad, "token_expired").await;
    // Another amount, another order, another description in the body: refused.
    let conflict = StatusCode::CONFLICT;
    for other in [
        json!({ "order_token": good, "amount_sat": 1 }),
        json!({ "order_token": good, "order_id": "order-10" }),
        json!({ "order_token": good, "description": "free" }),
    ] {
        refused(app, &body(other), conflict, "token_mismatch").await;
    }
    assert_eq!(s.fake.create_calls(), 0);
    // The body may repeat the token's values; the same token twice gives the same invoice.
    let (id, _) = s
        .create(&body(
            json!({ "order_token": good, "amount_sat": 2500, "order_id": "order-9" }),
        ))
        .await;
    let again = app.create(&body(json!({ "order_token": good }))).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], id.as_str());
    // The token is for order-9 only: it cannot open order-10.
    refused(
        app,
        &body(json!({ "order_token": good, "order_id": "order-10" })),
        conflict,
        "token_mismatch",
    )
    .await;
    assert!(app
        .state
        .store()
        .invoices_for_order("order-10")
        .unwrap()
        .is_empty());
    // The clock moves past exp: the token no longer opens anything.
    s.advance(600 + order_token::LEEWAY_SECS);
    app.token_refused(&good, bad, "token_expired").await;
}

#[tokio::test]
async fn range_tokens_bound_the_payer_amount() {
    let app = TestApp::new();
    let t = token(
        "tip-1",
        TokenAmount::Range {
            min_sat: 100,
            max_sat: 5000,
        },
        "Tip",
        T0 + 600,
    );
    refused(
        &app,
        &body(json!({ "order_token": t })),
        StatusCode::BAD_REQUEST,
        "invalid_amount",
    )
    .await;
    for a in [99, 5001] {
        refused(
            &app,
            &body(json!({ "order_token": t, "amount_sat": a })),
            StatusCode::BAD_REQUEST,
            "amount_out_of_range",
        )
        .await;
    }
    let v = app
        .create_ok(&body(json!({ "order_token": t, "amount_sat": 5000 })))
        .await;
    assert_eq!(v["amount_sat"], 5000);
}

#[tokio::test]
async fn unsigned_creates_can_be_switched_off_and_a_short_secret_is_refused() {
    let s = setup(Kind::Cln, &[("ALLOW_UNSIGNED", "false")]).await;
    refused(
        &s.app,
        r#"{"amount_sat": 21}"#,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;
    assert_eq!(
        s.app.get("/api/health").await.json()["unsigned_orders"],
        "none"
    );
    s.create(&signed(r#"{"amount_sat": 21, "order_id": "o-1"}"#))
        .await;

    let lookup = |vars: &[(&str, &str)]| {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned()).map_err(|e| e.to_string())
    };
    let e = lookup(&[("CHECKOUT_SECRET", "too-short")]).unwrap_err();
    assert!(e.starts_with("CHECKOUT_SECRET:"), "{e}");
    assert!(!e.contains("too-short"), "the value is not printed: {e}");
    assert!(lookup(&[("ALLOW_UNSIGNED", "maybe")]).is_err());
    assert!(lookup(&[("CHECKOUT_SECRET", &"k".repeat(32))]).is_ok());
}

#[tokio::test]
async fn without_checkout_secret_a_real_provider_takes_no_order_ids() {
    let s = setup(Kind::Amboss, &[("CHECKOUT_SECRET", "")]).await;
    refused(
        &s.app,
        &signed(r#"{"amount_sat": 21, "order_id": "o-1"}"#),
        StatusCode::SERVICE_UNAVAILABLE,
        "signing_not_configured",
    )
    .await;
    refused(
        &s.app,
        r#"{"amount_sat": 21, "order_id": "o-1"}"#,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;
    assert_eq!(
        s.app.get("/api/health").await.json()["signed_orders"],
        false
    );
}

#[tokio::test]
async fn fixture_vectors() {
    let f = common::fixture("order_tokens.json");
    let secret = Secret::new(f["secret"].as_str().unwrap());
    let now = f["now"].as_u64().unwrap();
    for v in f["valid"].as_array().unwrap() {
        let claims = order_token::verify(v["token"].as_str().unwrap(), &secret, now, 4_500_000)
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        let c = &v["claims"];
        assert_eq!(claims.order_id, c["order_id"].as_str().unwrap());
        assert_eq!(claims.description, c["description"].as_str().unwrap_or(""));
        assert_eq!(claims.exp, c["exp"].as_u64().unwrap());
        let expected = match c["amount_sat"].as_u64() {
            Some(a) => TokenAmount::Exact(a),
            None => TokenAmount::Range {
                min_sat: c["min_sat"].as_u64().unwrap(),
                max_sat: c["max_sat"].as_u64().unwrap(),
            },
        };
        assert_eq!(claims.amount, expected);
    }
    // Through the API, on a server with the fixture's secret at the fixture's time.
    let app = TestApp::with_config(|c| c.shop.checkout_secret = Some(secret.clone()));
    app.clock.set(now);
    for v in f["invalid"].as_array().unwrap() {
        let t = v["token"].as_str().unwrap();
        let r = order_token::verify(t, &secret, now, 4_500_000);
        assert!(r.is_err(), "{}: accepted", v["why"]);
        let expected = v["code"].as_str().unwrap();
        assert_eq!(
            r.unwrap_err() == TokenError::Expired,
            expected == "token_expired",
            "{}",
            v["why"]
        );
        let a = app
            .create(&body(json!({ "order_token": t, "amount_sat": 2500 })))
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", v["why"]);
        assert_eq!(a.code(), expected, "{}", v["why"]);
    }
    let v = app
        .create_ok(&body(json!({ "order_token": f["valid"][0]["token"] })))
        .await;
    assert_eq!(v["amount_sat"], 2500);
}

#[test]
fn sign_order_command_prints_a_token_this_backend_accepts() {
    let (c, now) = common::sign_order_claims(&[
        "--order-id",
        "order-77",
        "--amount-sat",
        "1500",
        "--description",
        "Two stickers",
        "--ttl",
        "120",
    ]);
    assert_eq!(c.order_id, "order-77");
    assert_eq!(c.amount, TokenAmount::Exact(1500));
    assert_eq!(c.description, "Two stickers");
    assert!(c.exp > now && c.exp <= now + 121);
    // A short secret is refused, and not printed.
    let out = common::sign_order_command(&["--order-id", "o", "--amount-sat", "1"], "short");
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("short\n"));
}

#[tokio::test]
async fn the_demo_mints_tokens_and_keeps_unsigned_orders() {
    // No CHECKOUT_SECRET: the demo signs with a key of its own run.
    let app = TestApp::with_config(|c| c.shop.checkout_secret = None);
    let h = app.get("/api/health").await.json();
    assert_eq!(h["unsigned_orders"], "any");
    assert_eq!(h["signed_orders"], true);
    let m = app
        .post_json(
            "/api/dev/orders",
            r#"{"amount_sat": 4200, "description": "Sticker pack"}"#,
        )
        .await;
    assert_eq!(m.status, StatusCode::OK);
    let m = m.json();
    let v = app
        .create_ok(&body(json!({ "order_token": m["order_token"] })))
        .await;
    assert_eq!(v["amount_sat"], 4200);
    let row = app
        .state
        .store()
        .get(v["id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(row.order_id.as_deref(), m["order_id"].as_str());
    assert_eq!(row.description, "Sticker pack");
    // Unsigned orders with an id stay possible on the demo.
    app.create_ok(r#"{"amount_sat": 5, "order_id": "plain-1"}"#)
        .await;
}
