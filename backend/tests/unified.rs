//! Unified invoices (issue 12 #4), demo provider: `unified: true` adds an on-chain address of the
//! backend's network, derived from the node key per invoice; the demo control reports an
//! on-chain payment in the mempool (still pending, with what was seen) and confirmed (paid at
//! `ONCHAIN_CONFIRMATIONS`).

mod common;

use std::str::FromStr;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::{json, Value};

async fn onchain(app: &TestApp, id: &str, confirmations: u64) -> common::Answer {
    app.post_json(
        &format!("/api/dev/invoices/{id}/onchain"),
        &json!({ "confirmations": confirmations }).to_string(),
    )
    .await
}

fn regtest_address(v: &Value) -> String {
    let a = v["onchain_address"]
        .as_str()
        .expect("onchain_address")
        .to_owned();
    bitcoin::Address::from_str(&a)
        .unwrap()
        .require_network(bitcoin::Network::Regtest)
        .expect("a regtest address");
    assert!(a.starts_with("bcrt1q"), "P2WPKH: {a}");
    a
}

#[tokio::test]
async fn unified_invoices_carry_an_address_of_the_network_and_pay_on_chain() {
    let app = TestApp::new();
    let plain = app.create_ok(r#"{"amount_sat": 2500}"#).await;
    assert!(
        plain.get("onchain_address").is_none(),
        "opt-in only: {plain}"
    );
    let v = app
        .create_ok(r#"{"amount_sat": 2500, "unified": true}"#)
        .await;
    let addr = regtest_address(&v);
    let w = app
        .create_ok(r#"{"amount_sat": 2500, "unified": true}"#)
        .await;
    assert_ne!(regtest_address(&w), addr, "one address per invoice");
    let id = v["id"].as_str().unwrap();
    // The same invoice keeps its address (stored), also in the status answer.
    let st = app.status(id).await.json();
    assert_eq!(st["onchain_address"], addr.as_str());
    assert!(st.get("onchain").is_none());

    // Seen in the mempool: still pending, the answer says so.
    let a = onchain(&app, id, 0).await;
    assert_eq!(a.status, StatusCode::OK);
    let st = app.status(id).await.json();
    assert_eq!(st["status"], "pending");
    assert_eq!(st["onchain"], json!({"confirmations": 0, "required": 1}));
    // Confirmed: paid.
    let a = onchain(&app, id, 1).await.json();
    assert_eq!(a["status"], "paid");
    assert_eq!(app.status(id).await.json()["status"], "paid");

    // A Lightning-only invoice has no on-chain control.
    let a = onchain(&app, plain["id"].as_str().unwrap(), 1).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // A bad flag is refused.
    let a = app.create(r#"{"amount_sat": 1, "unified": "yes"}"#).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_unified")
    );
}

#[tokio::test]
async fn the_shops_confirmation_count_decides() {
    let app = TestApp::with_config(|c| c.onchain_confirmations = 3);
    let v = app
        .create_ok(r#"{"amount_sat": 2500, "unified": true}"#)
        .await;
    let id = v["id"].as_str().unwrap();
    for n in [0, 1, 2] {
        let a = onchain(&app, id, n).await.json();
        assert_eq!(a["status"], "pending", "{n} confirmations");
        assert_eq!(a["onchain"], json!({"confirmations": n, "required": 3}));
    }
    assert_eq!(onchain(&app, id, 3).await.json()["status"], "paid");
}

mod provider_support;

#[tokio::test]
async fn btcpay_makes_the_address_with_the_invoice_and_lnd_gives_one_from_its_wallet() {
    use testkit::Kind;
    let s = provider_support::setup(Kind::Btcpay, &[]).await;
    let v = s
        .app
        .create_ok(r#"{"amount_sat": 2500, "unified": true}"#)
        .await;
    let inv = s.fake.invoices().pop().expect("a BTCPay invoice");
    assert!(
        inv.extra["checkout"]["paymentMethods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "BTC-CHAIN"),
        "BTC-CHAIN asked for: {}",
        inv.extra["checkout"]
    );
    assert_eq!(
        regtest_address(&v),
        testkit::btcpay_chain_address(&inv.handle),
        "the BTC-CHAIN method's destination"
    );
    // Without unified, BTCPay is asked for Lightning only.
    let v = s.app.create_ok(r#"{"amount_sat": 2500}"#).await;
    assert!(v.get("onchain_address").is_none());
    let inv = s.fake.invoices().pop().unwrap();
    assert_eq!(inv.extra["checkout"]["paymentMethods"], json!(["BTC-LN"]));

    // LND gives a fresh address from its wallet, which the backend watches itself (see
    // tests/onchain_lnd.rs).
    let s = provider_support::setup(Kind::Lnd, &[]).await;
    let v = s
        .app
        .create_ok(r#"{"amount_sat": 2500, "unified": true}"#)
        .await;
    assert_eq!(vec![regtest_address(&v)], s.fake.chain_addresses());
}

#[tokio::test]
async fn an_onchain_payment_seen_keeps_the_invoice_past_its_deadline_and_a_late_one_is_paid_late() {
    let app = TestApp::new();
    let v = app
        .create_ok(r#"{"amount_sat": 2500, "unified": true, "expiry_secs": 60, "order_id": "o-1"}"#)
        .await;
    let id = v["id"].as_str().unwrap();
    onchain(&app, id, 0).await;
    app.clock.advance(3600);
    // An hour past its deadline, in the mempool: still pending, not expired.
    assert_eq!(app.status(id).await.json()["status"], "pending");
    // And no second invoice for its order meanwhile.
    let a = app
        .create(r#"{"amount_sat": 2500, "order_id": "o-1"}"#)
        .await;
    assert_eq!(
        a.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(onchain(&app, id, 1).await.json()["status"], "paid");

    // Expired with nothing seen, then confirmed on-chain: paid, late.
    let v = app
        .create_ok(r#"{"amount_sat": 2500, "unified": true, "expiry_secs": 60}"#)
        .await;
    let id = v["id"].as_str().unwrap();
    app.clock.advance(120);
    assert_eq!(app.status(id).await.json()["status"], "expired");
    assert_eq!(onchain(&app, id, 1).await.json()["status"], "paid");
    assert!(app.state.store().get(id).unwrap().unwrap().paid_late);
}
