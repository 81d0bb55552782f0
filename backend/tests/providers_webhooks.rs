//! Webhook refusals for every adapter: missing header, wrong signature, re-serialized body, old
//! and future timestamps, Kraken JWT alg/kid/iss/exp, no secret configured: all refused and the
//! store unchanged. Replays and duplicates change nothing; a validly signed "paid" is believed
//! only if the provider, asked again, agrees.

mod common;
mod provider_support;

use axum::http::StatusCode;
use common::{Answer, T0};
use hmac::{Hmac, Mac};
use provider_support::{setup, Setup};
use serde_json::{json, Value};
use testkit::{creds, Event, FakeStatus, Kind, Webhook};

fn hmac_hex<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> String {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    hex::encode(m.finalize().into_bytes())
}

fn without(h: &[(String, String)], name: &str) -> Vec<(String, String)> {
    h.iter().filter(|(k, _)| k != name).cloned().collect()
}

fn with(h: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out = without(h, name);
    out.push((name.to_owned(), value.to_owned()));
    out
}

fn compact(body: &[u8]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(body).unwrap();
    let out = serde_json::to_vec(&v).unwrap();
    assert_ne!(out, body, "the fake must send a non-canonical body");
    out
}

/// Flip the last hex digit of a signature.
fn flip(sig: &str) -> String {
    let mut s = sig.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    s
}

async fn expect_refused(s: &Setup, id: &str, a: Answer, status: StatusCode, what: &str) {
    assert_eq!(
        a.status,
        status,
        "{what}: {}",
        String::from_utf8_lossy(&a.bytes)
    );
    let row = s.row(id);
    assert_eq!(row.status.as_str(), "pending", "{what}: store changed");
    assert_eq!(row.paid_at, None, "{what}");
}

/// Create an invoice, mark it paid at the fake (silently) and return its id and the fake's
/// signed "paid" webhook.
async fn paid_at_provider(s: &Setup) -> (String, Webhook) {
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    let inv = s.fake.invoices().pop().unwrap();
    s.fake.mark(Some(&inv.handle), FakeStatus::Paid);
    let inv = s.fake.invoices().pop().unwrap();
    let w = s.fake.webhook(&inv, Event::Paid).expect("webhook");
    (id, w)
}

async fn accept_then_replays_change_nothing(s: &Setup, id: &str, w: &Webhook) {
    let a = s.post_webhook(w).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    let paid = s.row(id);
    assert_eq!(paid.status.as_str(), "paid");
    s.advance(30);
    for _ in 0..2 {
        // Acknowledged as a duplicate, or (Amboss, near the window's edge) refused as stale.
        let st = s.post_webhook(w).await.status;
        assert!(
            st == StatusCode::OK || st == StatusCode::UNAUTHORIZED,
            "{st}"
        );
    }
    assert_eq!(s.row(id), paid, "a replay changed the row");
    // A later, validly signed "expired" for a paid invoice changes nothing either.
    let inv = s.fake.invoices().pop().unwrap();
    if let Some(exp) = s.fake.webhook(&inv, Event::Expired) {
        assert_eq!(s.post_webhook(&exp).await.status, StatusCode::OK);
        assert_eq!(s.row(id), paid);
    }
}

#[tokio::test]
async fn amboss_webhooks() {
    let s = setup(Kind::Amboss, &[]).await;
    let (id, w) = paid_at_provider(&s).await;
    let sig = w
        .headers
        .iter()
        .find(|(k, _)| k == "x-webhook-signature")
        .unwrap()
        .1
        .clone();
    for (what, h) in [
        ("no signature", without(&w.headers, "x-webhook-signature")),
        ("no timestamp", without(&w.headers, "x-webhook-timestamp")),
        (
            "wrong signature",
            with(&w.headers, "x-webhook-signature", &flip(&sig)),
        ),
        ("not hex", with(&w.headers, "x-webhook-signature", "zz")),
        (
            "other timestamp",
            with(&w.headers, "x-webhook-timestamp", &(T0 + 1).to_string()),
        ),
    ] {
        let a = s.post_webhook_parts(&w.body, &h).await;
        expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, what).await;
    }
    let other =
        hmac_hex::<Hmac<sha2::Sha256>>(b"whsec_other", &[T0.to_string().as_bytes(), b".", &w.body]);
    let a = s
        .post_webhook_parts(&w.body, &with(&w.headers, "x-webhook-signature", &other))
        .await;
    expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, "other secret").await;
    let a = s.post_webhook_parts(&compact(&w.body), &w.headers).await;
    expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, "re-serialized").await;
    // Correctly signed, but outside ±300 s.
    for ts in [T0 - 301, T0 + 301] {
        let ts = ts.to_string();
        let sig = hmac_hex::<Hmac<sha2::Sha256>>(
            creds::AMBOSS_WEBHOOK_SECRET.as_bytes(),
            &[ts.as_bytes(), b".", &w.body],
        );
        let h = with(
            &with(&w.headers, "x-webhook-timestamp", &ts),
            "x-webhook-signature",
            &sig,
        );
        let a = s.post_webhook_parts(&w.body, &h).await;
        expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, "stale timestamp").await;
    }
    // At the edge of the window it is fine.
    let ts = (T0 - 300).to_string();
    let sig = hmac_hex::<Hmac<sha2::Sha256>>(
        creds::AMBOSS_WEBHOOK_SECRET.as_bytes(),
        &[ts.as_bytes(), b".", &w.body],
    );
    let edge = Webhook {
        body: w.body.clone(),
        headers: with(
            &with(&w.headers, "x-webhook-timestamp", &ts),
            "x-webhook-signature",
            &sig,
        ),
        url: None,
    };
    accept_then_replays_change_nothing(&s, &id, &edge).await;
    assert!(s.fake.rejections().is_empty());
}

#[tokio::test]
async fn alphapo_webhooks() {
    let s = setup(Kind::Alphapo, &[]).await;
    let (id, w) = paid_at_provider(&s).await;
    let sig = w
        .headers
        .iter()
        .find(|(k, _)| k == "x-processing-signature")
        .unwrap()
        .1
        .clone();
    for (what, h) in [
        (
            "no signature",
            without(&w.headers, "x-processing-signature"),
        ),
        ("no key", without(&w.headers, "x-processing-key")),
        (
            "wrong signature",
            with(&w.headers, "x-processing-signature", &flip(&sig)),
        ),
        (
            "other key",
            with(&w.headers, "x-processing-key", "someone_else"),
        ),
    ] {
        let a = s.post_webhook_parts(&w.body, &h).await;
        expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, what).await;
    }
    let a = s.post_webhook_parts(&compact(&w.body), &w.headers).await;
    expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, "re-serialized").await;
    // A validly signed "not_confirmed" is no payment.
    let mut v: Value = serde_json::from_slice(&w.body).unwrap();
    v["status"] = json!("not_confirmed");
    let body = serde_json::to_vec(&v).unwrap();
    let sig = hmac_hex::<Hmac<sha2::Sha512>>(creds::ALPHAPO_SECRET.as_bytes(), &[&body]);
    let a = s
        .post_webhook_parts(&body, &with(&w.headers, "x-processing-signature", &sig))
        .await;
    expect_refused(&s, &id, a, StatusCode::OK, "not_confirmed").await;
    accept_then_replays_change_nothing(&s, &id, &w).await;
}

#[tokio::test]
async fn btcpay_webhooks() {
    let s = setup(Kind::Btcpay, &[]).await;
    let (id, w) = paid_at_provider(&s).await;
    let sig = w
        .headers
        .iter()
        .find(|(k, _)| k == "btcpay-sig")
        .unwrap()
        .1
        .clone();
    for (what, h) in [
        ("no signature", without(&w.headers, "btcpay-sig")),
        (
            "no prefix",
            with(&w.headers, "btcpay-sig", sig.trim_start_matches("sha256=")),
        ),
        (
            "wrong signature",
            with(&w.headers, "btcpay-sig", &flip(&sig)),
        ),
    ] {
        let a = s.post_webhook_parts(&w.body, &h).await;
        expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, what).await;
    }
    let a = s.post_webhook_parts(&compact(&w.body), &w.headers).await;
    expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, "re-serialized").await;
    // Another store's event, validly signed: ignored.
    let mut v: Value = serde_json::from_slice(&w.body).unwrap();
    v["storeId"] = json!("OtherStore");
    let body = serde_json::to_vec_pretty(&v).unwrap();
    let sig = format!(
        "sha256={}",
        hmac_hex::<Hmac<sha2::Sha256>>(creds::BTCPAY_WEBHOOK_SECRET.as_bytes(), &[&body])
    );
    let a = s
        .post_webhook_parts(&body, &with(&w.headers, "btcpay-sig", &sig))
        .await;
    expect_refused(&s, &id, a, StatusCode::OK, "other store").await;
    accept_then_replays_change_nothing(&s, &id, &w).await;
    // A redelivery (new deliveryId, same originalDeliveryId) is a duplicate.
    let mut v: Value = serde_json::from_slice(&w.body).unwrap();
    v["deliveryId"] = json!("redelivered1");
    v["isRedelivery"] = json!(true);
    let body = serde_json::to_vec_pretty(&v).unwrap();
    let sig = format!(
        "sha256={}",
        hmac_hex::<Hmac<sha2::Sha256>>(creds::BTCPAY_WEBHOOK_SECRET.as_bytes(), &[&body])
    );
    let before = s.row(&id);
    let a = s
        .post_webhook_parts(&body, &with(&w.headers, "btcpay-sig", &sig))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(s.row(&id), before);
}

/// A validly signed "paid" while the provider, asked, says it is not paid: nothing changes.
#[tokio::test]
async fn signed_paid_is_refetched_before_it_is_believed() {
    for kind in [Kind::Amboss, Kind::Btcpay] {
        let s = setup(kind, &[]).await;
        let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
        let inv = s.fake.invoices().pop().unwrap();
        // The fake still has it pending.
        let w = s.fake.webhook(&inv, Event::Paid).unwrap();
        let a = s.post_webhook(&w).await;
        expect_refused(&s, &id, a, StatusCode::OK, "paid by webhook only").await;
        // Once the provider agrees, a new delivery settles it.
        s.fake.mark(None, FakeStatus::Paid);
        let inv = s.fake.invoices().pop().unwrap();
        let w = s.fake.webhook(&inv, Event::Paid).unwrap();
        assert_eq!(s.post_webhook(&w).await.status, StatusCode::OK);
        assert_eq!(s.row(&id).status.as_str(), "paid", "{kind:?}");
    }
}

#[tokio::test]
async fn no_secret_configured_fails_closed() {
    for (kind, var) in [
        (Kind::Amboss, "AMBOSS_WEBHOOK_SECRET"),
        (Kind::Btcpay, "BTCPAY_WEBHOOK_SECRET"),
    ] {
        let s = setup(kind, &[(var, "")]).await;
        let (id, w) = paid_at_provider(&s).await;
        let a = s.post_webhook(&w).await;
        assert_eq!(a.code(), "webhook_not_configured");
        expect_refused(&s, &id, a, StatusCode::SERVICE_UNAVAILABLE, var).await;
    }
    // LNbits hints are accepted only with LNBITS_WEBHOOK_URL.
    let s = setup(Kind::Lnbits, &[]).await;
    let (id, w) = paid_at_provider(&s).await;
    let a = s.post_webhook(&w).await;
    expect_refused(&s, &id, a, StatusCode::SERVICE_UNAVAILABLE, "lnbits").await;
    // Kraken: keys that cannot be fetched are a 503, so Kraken retries.
    let s = setup(
        Kind::Kraken,
        &[("KRAKEN_JWKS_URL", "http://127.0.0.1:9/jwks.json")],
    )
    .await;
    let (id, w) = paid_at_provider(&s).await;
    let a = s.post_webhook(&w).await;
    assert_eq!(a.code(), "webhook_unavailable");
    expect_refused(&s, &id, a, StatusCode::SERVICE_UNAVAILABLE, "kraken jwks").await;
    // Node providers take no webhooks.
    for kind in [Kind::Lnd, Kind::Cln] {
        let s = setup(kind, &[]).await;
        let (id, _) = s.create(r#"{"amount_sat": 1}"#).await;
        let a = s
            .post_webhook_parts(
                br#"{"state":"SETTLED"}"#,
                &[("content-type".into(), "application/json".into())],
            )
            .await;
        expect_refused(&s, &id, a, StatusCode::NOT_FOUND, kind.as_str()).await;
    }
}

fn claims(ext: &str, status: &str, exp: u64) -> Value {
    json!({"iss": "kraken-pay", "aud": null, "exp": exp,
           "payload": {"external_id": ext, "status": status, "customer_kraktag": "bob"}})
}

#[tokio::test]
async fn kraken_jwts() {
    let s = setup(Kind::Kraken, &[]).await;
    let (id, w) = paid_at_provider(&s).await;
    let ext = s.fake.invoices()[0].handle.clone();
    let good_header = json!({"alg": "ES256", "kid": creds::KRAKEN_KID, "typ": "JWT"});
    let exp = T0 + 3600;
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let other_key = {
        let other = testkit::Fake::start(Kind::Kraken).await;
        other.sign_jwt(&good_header, &claims(&ext, "success", exp))
    };
    let good = s.fake.sign_jwt(&good_header, &claims(&ext, "success", exp));
    let (gh, gp, gs) = {
        let p: Vec<&str> = good.split('.').collect();
        (p[0].to_owned(), p[1].to_owned(), p[2].to_owned())
    };
    let cases: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("not a JWT", "hello".into()),
        ("alg HS256", s.fake.sign_jwt(&json!({"alg": "HS256", "kid": creds::KRAKEN_KID}), &claims(&ext, "success", exp))),
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "kid": creds::KRAKEN_KID})), gp)),
        ("alg none, good signature kept", format!("{}.{}.{}", b64(&json!({"alg": "none", "kid": creds::KRAKEN_KID})), gp, gs)),
        ("unknown kid", s.fake.sign_jwt(&json!({"alg": "ES256", "kid": "nope"}), &claims(&ext, "success", exp))),
        ("no kid", s.fake.sign_jwt(&json!({"alg": "ES256"}), &claims(&ext, "success", exp))),
        ("wrong iss", s.fake.sign_jwt(&good_header, &json!({"iss": "kraken", "exp": exp, "payload": {"external_id": ext, "status": "success"}}))),
        ("no iss", s.fake.sign_jwt(&good_header, &json!({"exp": exp, "payload": {"external_id": ext, "status": "success"}}))),
        ("expired", s.fake.sign_jwt(&good_header, &claims(&ext, "success", T0))),
        ("long expired", s.fake.sign_jwt(&good_header, &claims(&ext, "success", T0 - 86_400))),
        ("no exp", s.fake.sign_jwt(&good_header, &json!({"iss": "kraken-pay", "payload": {"external_id": ext, "status": "success"}}))),
        ("other key, same kid", other_key),
        ("payload swapped", format!("{gh}.{}.{gs}", b64(&claims(&ext, "success", exp + 1)))),
        ("signature truncated", format!("{gh}.{gp}.{}", &gs[..gs.len() - 4])),
    ];
    for (what, token) in cases {
        let a = s
            .post_webhook_parts(
                token.as_bytes(),
                &[("content-type".into(), "application/jwt".into())],
            )
            .await;
        expect_refused(&s, &id, a, StatusCode::UNAUTHORIZED, what).await;
    }
    // Other statuses are final but not paid; unknown external ids are ignored.
    let a = s
        .post_webhook_parts(
            s.fake
                .sign_jwt(
                    &good_header,
                    &claims("AAAAAAAAAAAAAAAAAAAAAA", "success", exp),
                )
                .as_bytes(),
            &[],
        )
        .await;
    expect_refused(&s, &id, a, StatusCode::OK, "unknown external_id").await;
    // As a JSON string body too.
    let quoted = serde_json::to_vec(&Value::String(good.clone())).unwrap();
    let w2 = Webhook {
        body: quoted,
        headers: vec![],
        url: None,
    };
    accept_then_replays_change_nothing(&s, &id, &w2).await;
    // The fake's own delivery of the same event is a duplicate by then.
    assert_eq!(s.post_webhook(&w).await.status, StatusCode::OK);
}

#[tokio::test]
async fn kraken_declined_expires_and_inline_jwks_works() {
    // Inline keys only (no URL): another key set's JWKS.
    let other = testkit::Fake::start(Kind::Kraken).await;
    let jwks = other.jwks().to_string();
    let s = setup(
        Kind::Kraken,
        &[("KRAKEN_JWKS_URL", ""), ("KRAKEN_JWKS", &jwks)],
    )
    .await;
    // The fake's own key is not in them, so its webhooks fail...
    let (id, w) = paid_at_provider(&s).await;
    let a = s.post_webhook(&w).await;
    expect_refused(
        &s,
        &id,
        a,
        StatusCode::UNAUTHORIZED,
        "key not in the inline JWKS",
    )
    .await;
    // ...and one signed by the inline key is believed: declined is final, not paid.
    let ext = s.fake.invoices()[0].handle.clone();
    let token = other.sign_jwt(
        &json!({"alg": "ES256", "kid": creds::KRAKEN_KID}),
        &claims(&ext, "declined", T0 + 60),
    );
    let a = s.post_webhook_parts(token.as_bytes(), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"code": "Success"}));
    assert_eq!(s.row(&id).status.as_str(), "expired");
}

#[tokio::test]
async fn lnbits_hints_are_only_hints() {
    let s = setup(
        Kind::Lnbits,
        &[("LNBITS_WEBHOOK_URL", "{base}/api/webhooks/lnbits")],
    )
    .await;
    let (id, v) = s.create(r#"{"amount_sat": 2500}"#).await;
    let hash = v["payment_hash"].as_str().unwrap();
    // Anyone can post one: while LNbits says unpaid, nothing changes.
    let forged = json!({"payment_hash": hash, "status": "success", "paid": true, "preimage": "00".repeat(32)});
    let h = [("content-type".to_owned(), "application/json".to_owned())];
    let a = s
        .post_webhook_parts(forged.to_string().as_bytes(), &h)
        .await;
    expect_refused(&s, &id, a, StatusCode::OK, "forged hint").await;
    let a = s.post_webhook_parts(b"[1,2", &h).await;
    expect_refused(&s, &id, a, StatusCode::BAD_REQUEST, "garbage").await;
    let a = s
        .post_webhook_parts(
            json!({"payment_hash": "11".repeat(32)})
                .to_string()
                .as_bytes(),
            &h,
        )
        .await;
    expect_refused(&s, &id, a, StatusCode::OK, "unknown hash").await;
    // Paid at LNbits: a plain-object hint (not the double-encoded one) works too.
    s.fake.mark(None, FakeStatus::Paid);
    let a = s
        .post_webhook_parts(json!({"payment_hash": hash}).to_string().as_bytes(), &h)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let row = s.row(&id);
    assert_eq!(row.status.as_str(), "paid");
    assert!(row.preimage.is_some(), "the preimage comes from the lookup");
}
