//! Every adapter on its production code path against its testkit fake: create → status →
//! settle at the fake → webhook or poll → paid; amounts in each provider's unit at the edges;
//! lost answers retried with the same idempotency key; LND's ACCEPTED; expiry.

mod common;
mod provider_support;

use std::str::FromStr;

use axum::http::StatusCode;
use bitcoin::hashes::{sha256, Hash};
use common::T0;
use lightning_invoice::{Bolt11Invoice, Currency};
use provider_support::{setup, setup_with};
use testkit::{Fake, TlsMode};
use testkit::{FakeStatus, Kind};

/// Extra env each provider needs for its webhook to be accepted in the flow.
fn flow_env(kind: Kind) -> Vec<(&'static str, &'static str)> {
    match kind {
        Kind::Lnbits => vec![("LNBITS_WEBHOOK_URL", "{base}/api/webhooks/lnbits")],
        _ => vec![],
    }
}

async fn full_flow(kind: Kind) {
    let s = setup(kind, &flow_env(kind)).await;
    let (id, v) = s
        .create(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "order-42", "description": "Order 42"}"#,
        ))
        .await;
    assert_eq!(v["amount_sat"], 2500);
    assert_eq!(v["status"], "pending");
    let fake_inv = s.fake.invoices();
    assert_eq!(fake_inv.len(), 1, "{kind:?}");
    assert_eq!(fake_inv[0].amount_msat, 2_500_000, "{kind:?}: unit");
    if kind == Kind::Kraken {
        let url = v["pay_url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/pay/", s.fake.url())), "{url}");
        assert!(v["payment_request"].is_null());
    } else {
        let pr = v["payment_request"].as_str().unwrap();
        let inv = Bolt11Invoice::from_str(pr).unwrap();
        assert_eq!(inv.currency(), Currency::Regtest);
        assert_eq!(inv.amount_milli_satoshis(), Some(2_500_000));
        assert_eq!(inv.payee_pub_key(), Some(&s.fake.node_id()));
        assert_eq!(
            inv.payment_hash().to_string(),
            v["payment_hash"].as_str().unwrap()
        );
        assert_eq!(fake_inv[0].bolt11.as_deref(), Some(pr));
    }
    assert_eq!(s.status(&id).await["status"], "pending");

    s.advance(5);
    let deliveries = s.fake.settle(None).await;
    if kind.sends_webhooks() {
        assert_eq!(deliveries.len(), 1, "{kind:?}");
        assert_eq!(deliveries[0].status, 200, "{kind:?}: {:?}", deliveries[0]);
        // The webhook alone (no poll) has settled it in the store.
        assert_eq!(s.row(&id).status.as_str(), "paid", "{kind:?}");
        if kind == Kind::Kraken {
            assert_eq!(deliveries[0].answer, r#"{"code":"Success"}"#);
        }
    } else {
        assert!(deliveries.is_empty());
        assert_eq!(s.row(&id).status.as_str(), "pending");
    }
    let st = s.status(&id).await;
    assert_eq!(st["status"], "paid", "{kind:?}: {st}");
    if matches!(kind, Kind::Lnd | Kind::Cln | Kind::Lnbits) {
        // Node-backed providers report the preimage; it is checked and served.
        let p = hex::decode(st["preimage"].as_str().expect("preimage")).unwrap();
        assert_eq!(
            hex::encode(sha256::Hash::hash(&p).to_byte_array()),
            v["payment_hash"].as_str().unwrap()
        );
    }
    assert!(st["paid_at"].as_u64().unwrap() >= T0);
    // A paid order is never invoiced again.
    let a = s
        .app
        .create(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "order-42"}"#,
        ))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "order_paid");
    assert_eq!(s.fake.invoices().len(), 1);
    s.assert_no_rejections();
}

#[tokio::test]
async fn amboss_flow() {
    full_flow(Kind::Amboss).await;
}
#[tokio::test]
async fn alphapo_flow() {
    full_flow(Kind::Alphapo).await;
}
#[tokio::test]
async fn kraken_flow() {
    full_flow(Kind::Kraken).await;
}
#[tokio::test]
async fn lnd_flow() {
    full_flow(Kind::Lnd).await;
}
#[tokio::test]
async fn cln_flow() {
    full_flow(Kind::Cln).await;
}
#[tokio::test]
async fn lnbits_flow() {
    full_flow(Kind::Lnbits).await;
}
#[tokio::test]
async fn btcpay_flow() {
    full_flow(Kind::Btcpay).await;
}

#[tokio::test]
async fn lnbits_without_webhook_settles_by_polling() {
    let s = setup(Kind::Lnbits, &[]).await;
    let (id, _) = s.create(r#"{"amount_sat": 1}"#).await;
    let d = s.fake.settle(None).await;
    // Without LNBITS_WEBHOOK_URL the backend takes no LNbits webhooks at all (fail closed).
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, 503, "{d:?}");
    assert!(d[0].answer.contains("webhook_not_configured"));
    assert_eq!(s.row(&id).status.as_str(), "pending");
    assert_eq!(s.status(&id).await["status"], "paid");
    s.assert_no_rejections();
}

/// Amounts reach each provider in its own unit, exactly: the fake parses them back.
#[tokio::test]
async fn amounts_in_each_unit_at_the_edges() {
    for kind in Kind::ALL {
        let s = setup(kind, &[]).await;
        for sat in [1u64, 3, 999, 1001, 123_457, 4_500_000] {
            let (_, v) = s.create(&format!(r#"{{"amount_sat": {sat}}}"#)).await;
            assert_eq!(v["amount_sat"], sat);
            let last = s.fake.invoices().pop().unwrap();
            assert_eq!(last.amount_msat, sat * 1000, "{kind:?} {sat}");
        }
        s.assert_no_rejections();
    }
}

#[tokio::test]
async fn alphapo_ceiling_is_refused_before_any_call() {
    let s = setup(Kind::Alphapo, &[("MAX_AMOUNT_SAT", "100000000")]).await;
    let a = s.app.create(r#"{"amount_sat": 4500001}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "amount_too_large");
    assert_eq!(s.fake.create_calls(), 0);
    s.create(r#"{"amount_sat": 4500000}"#).await;
    assert_eq!(s.fake.invoices()[0].amount_msat, 4_500_000_000);
    s.assert_no_rejections();
}

#[tokio::test]
async fn alphapo_deadline_is_at_most_15_minutes() {
    let s = setup(Kind::Alphapo, &[]).await;
    let (id, v) = s.create(r#"{"amount_sat": 10, "expiry_secs": 3600}"#).await;
    assert_eq!(v["expires_at"], T0 + 900);
    // Known only by callback: pending for the callback grace after the deadline (a payment made
    // just before it may still be confirmed), then expired.
    s.advance(900);
    assert_eq!(s.status(&id).await["status"], "pending");
    s.advance(lightning_checkout_backend::providers::CALLBACK_GRACE_SECS);
    assert_eq!(s.status(&id).await["status"], "expired");
}

#[tokio::test]
async fn lnd_accepted_is_not_paid_and_open_past_expiry_is_expired() {
    let s = setup(Kind::Lnd, &[]).await;
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    s.fake.accept(None).await;
    assert_eq!(s.fake.invoices()[0].status, FakeStatus::Accepted);
    assert_eq!(s.status(&id).await["status"], "pending");
    s.fake.settle(None).await;
    assert_eq!(s.status(&id).await["status"], "paid");

    let (id, v) = s.create(r#"{"amount_sat": 2500, "expiry_secs": 60}"#).await;
    assert_eq!(v["expires_at"], T0 + 60);
    s.advance(59);
    assert_eq!(s.status(&id).await["status"], "pending");
    s.advance(1);
    // LND still says OPEN: the deadline is ours.
    assert_eq!(s.status(&id).await["status"], "expired");
    s.assert_no_rejections();
}

#[tokio::test]
async fn provider_reported_expiry() {
    // CLN says "expired" itself; Amboss and BTCPay say it by webhook (re-fetched); Kraken's
    // callback decides.
    for kind in [Kind::Cln, Kind::Amboss, Kind::Btcpay, Kind::Kraken] {
        let s = setup(kind, &[]).await;
        let (id, _) = s.create(r#"{"amount_sat": 7}"#).await;
        let d = s.fake.expire(None).await;
        if kind != Kind::Cln {
            assert_eq!(d[0].status, 200, "{kind:?} {d:?}");
            assert_eq!(s.row(&id).status.as_str(), "expired", "{kind:?}");
        }
        assert_eq!(s.status(&id).await["status"], "expired", "{kind:?}");
        s.assert_no_rejections();
    }
}

async fn lost_answer_is_one_invoice(kind: Kind) {
    let s = setup(kind, &[]).await;
    s.fake.fail_next_creates(1);
    let body = &common::signed(r#"{"amount_sat": 2500, "order_id": "lost-1"}"#);
    let a = s.app.create(body).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{kind:?}");
    assert_eq!(s.fake.invoices().len(), 1, "the first call did create");
    let (id, v) = s.create(body).await;
    assert_eq!(s.fake.create_calls(), 2, "{kind:?}");
    assert_eq!(
        s.fake.invoices().len(),
        1,
        "{kind:?}: one invoice at the provider"
    );
    assert_eq!(
        s.fake.invoices()[0].bolt11.as_deref(),
        v["payment_request"].as_str()
    );
    s.fake.settle(None).await;
    assert_eq!(s.status(&id).await["status"], "paid");
}

#[tokio::test]
async fn amboss_lost_answer_retry_is_idempotent() {
    lost_answer_is_one_invoice(Kind::Amboss).await;
}

#[tokio::test]
async fn cln_lost_answer_retry_reads_the_label_back() {
    lost_answer_is_one_invoice(Kind::Cln).await;
}

#[tokio::test]
async fn kraken_lost_answer_never_makes_a_second_request() {
    let s = setup(Kind::Kraken, &[]).await;
    s.fake.fail_next_creates(1);
    let body = &common::signed(r#"{"amount_sat": 2500, "order_id": "lost-k"}"#);
    assert_eq!(s.app.create(body).await.status, StatusCode::BAD_GATEWAY);
    let first = s.fake.invoices();
    assert_eq!(first.len(), 1);
    let reserved = &s.app.state.store().invoices_for_order("lost-k").unwrap()[0];
    assert_eq!(
        first[0].handle,
        lightning_checkout_backend::providers::kraken::external_id(&reserved.idempotency_key),
        "external_id is the key committed before the call"
    );
    // The retry sends the same external_id: Kraken refuses it, so still one request, which we
    // cancel (its link was never shown) while retiring the reservation.
    let a = s.app.create(body).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert_eq!(s.fake.invoices().len(), 1, "no second request");
    assert_eq!(s.fake.cancels(), 1);
    assert_eq!(s.fake.invoices()[0].status, FakeStatus::Expired);
    assert_eq!(s.row(&reserved.id).status.as_str(), "expired");
    // The next attempt starts afresh with a new key.
    let (id, v) = s.create(body).await;
    assert!(v["pay_url"].as_str().is_some());
    let all = s.fake.invoices();
    assert_eq!(all.len(), 2);
    assert_ne!(all[0].handle, all[1].handle);
    assert_eq!(
        all.iter()
            .filter(|i| i.status == FakeStatus::Pending)
            .count(),
        1
    );
    s.fake.settle(None).await;
    assert_eq!(s.status(&id).await["status"], "paid");
}

#[tokio::test]
async fn same_order_while_open_does_not_call_the_provider_again() {
    for kind in Kind::ALL {
        let s = setup(kind, &[]).await;
        let body = &common::signed(r#"{"amount_sat": 50, "order_id": "o"}"#);
        let (_, first) = s.create(body).await;
        let again = s.app.create(body).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json(), first);
        assert_eq!(s.fake.create_calls(), 1, "{kind:?}");
    }
}

#[tokio::test]
async fn provider_refusals_and_outages_are_502_without_details() {
    // A fake pointed at with the wrong credential refuses; the client sees a generic 502.
    for (kind, var) in [
        (Kind::Amboss, "AMBOSS_API_KEY"),
        (Kind::Alphapo, "ALPHAPO_SECRET"),
        (Kind::Kraken, "KRAKEN_API_SECRET"),
        (Kind::Lnd, "LND_MACAROON_HEX"),
        (Kind::Cln, "CLN_RUNE"),
        (Kind::Lnbits, "LNBITS_API_KEY"),
        (Kind::Btcpay, "BTCPAY_API_KEY"),
    ] {
        let wrong = if var == "KRAKEN_API_SECRET" {
            "d3Jvbmdfc2VjcmV0X3dyb25nX3NlY3JldA=="
        } else if var == "LND_MACAROON_HEX" {
            "00ff"
        } else {
            "wrong-credential-value"
        };
        let s = setup(kind, &[(var, wrong)]).await;
        let a = s.app.create(r#"{"amount_sat": 5}"#).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{kind:?}");
        assert_eq!(a.code(), "provider_error");
        let text = String::from_utf8_lossy(&a.bytes).to_string();
        assert!(
            !text.contains(wrong) && !text.contains(&s.fake.url()),
            "{text}"
        );
        assert_eq!(s.fake.rejections().len(), 1, "{kind:?}");
        assert!(s.fake.invoices().is_empty());
    }
    // Nobody listening at all.
    let s = setup(Kind::Lnd, &[("LND_URL", "http://127.0.0.1:9")]).await;
    let a = s.app.create(r#"{"amount_sat": 5}"#).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
}

/// LND serves HTTPS with its own self-signed (CA-flagged) `tls.cert`: pinned, it works; any other
/// certificate, or the web PKI, is refused before a request is sent.
#[tokio::test]
async fn lnd_over_https_with_a_pinned_certificate() {
    let files = tempfile::tempdir().unwrap();
    let (fake, pem) = Fake::start_tls(Kind::Lnd, TlsMode::SelfSigned).await;
    assert!(fake.url().starts_with("https://127.0.0.1:"));
    let cert = files.path().join("tls.cert");
    std::fs::write(&cert, &pem).unwrap();
    let s = setup_with(fake, &[("LND_TLS_CERT_PATH", cert.to_str().unwrap())]).await;
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    s.fake.settle(None).await;
    assert_eq!(s.status(&id).await["status"], "paid");
    s.assert_no_rejections();

    // Pinned to another certificate, or trusting only the web PKI: nothing reaches the node.
    let (_, other_pem) = Fake::start_tls(Kind::Lnd, TlsMode::SelfSigned).await;
    let other = files.path().join("other.cert");
    std::fs::write(&other, &other_pem).unwrap();
    for extra in [vec![("LND_TLS_CERT_PATH", other.to_str().unwrap())], vec![]] {
        let (fake, _) = Fake::start_tls(Kind::Lnd, TlsMode::SelfSigned).await;
        let s = setup_with(fake, &extra).await;
        let a = s.app.create(r#"{"amount_sat": 2500}"#).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{extra:?}");
        assert_eq!(s.fake.create_calls(), 0);
        assert!(s.fake.rejections().is_empty());
    }
}

/// clnrest's certificate is issued by its own CA: that CA as the only root, names checked.
#[tokio::test]
async fn cln_over_https_with_its_own_ca() {
    let files = tempfile::tempdir().unwrap();
    let (fake, ca) = Fake::start_tls(Kind::Cln, TlsMode::CaSigned).await;
    assert!(fake.url().starts_with("https://localhost:"));
    let ca_path = files.path().join("ca.pem");
    std::fs::write(&ca_path, &ca).unwrap();
    let s = setup_with(fake, &[("CLN_TLS_CA_PATH", ca_path.to_str().unwrap())]).await;
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    s.fake.settle(None).await;
    assert_eq!(s.status(&id).await["status"], "paid");
    s.assert_no_rejections();

    // Another CA: refused.
    let (fake, _) = Fake::start_tls(Kind::Cln, TlsMode::CaSigned).await;
    let s = setup_with(fake, &[("CLN_TLS_CA_PATH", ca_path.to_str().unwrap())]).await;
    assert_eq!(
        s.app.create(r#"{"amount_sat": 1}"#).await.status,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(s.fake.create_calls(), 0);
}
