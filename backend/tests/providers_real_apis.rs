//! The adapters against the providers' real APIs where they differ from the first reading
//! (issue 10, items 8 and 12–16): Kraken key rotation and `nbf`/`iat`; BTCPay 1.x and lazy
//! payment methods; clnrest's `cln`/`localhost` certificates; Amboss sandbox keys and `NETWORK`;
//! AlphaPo's persistent payer reference. Each against its testkit fake, over real HTTP.

mod common;
mod provider_support;

use axum::http::StatusCode;
use common::T0;
use provider_support::setup;
use serde_json::{json, Value};
use testkit::{creds, Kind};

fn kraken_claims(ext: &str, status: &str) -> Value {
    json!({"iss": "kraken-pay", "aud": null, "exp": T0 + 86_400,
           "payload": {"external_id": ext, "status": status, "customer_kraktag": "bob"}})
}

/// Item 8: a callback signed with a key Kraken has just rotated in, arriving while the JWKS
/// refetch is throttled, is answered 503 (Kraken retries) rather than 401, and is accepted once
/// the keys may be fetched again.
#[tokio::test]
async fn kraken_callback_after_key_rotation_is_retried_not_refused() {
    let s = setup(Kind::Kraken, &[]).await;
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    let ext = s.fake.invoices()[0].handle.clone();
    // An authentic callback about something else: the keys are fetched now.
    let other = s.fake.sign_jwt(
        &json!({"alg": "ES256", "kid": creds::KRAKEN_KID}),
        &kraken_claims("AAAAAAAAAAAAAAAAAAAAAA", "success"),
    );
    let a = s.post_webhook_parts(other.as_bytes(), &[]).await;
    assert_eq!(a.status, StatusCode::OK);

    // Kraken rotates its key and signs this payment's callback with the new one.
    s.fake.rotate_jwt_key("kraken-pay-2");
    let token = s.fake.sign_jwt_with(
        "kraken-pay-2",
        &json!({"alg": "ES256", "kid": "kraken-pay-2"}),
        &kraken_claims(&ext, "success"),
    );
    s.advance(10);
    let a = s.post_webhook_parts(token.as_bytes(), &[]).await;
    assert_eq!(
        a.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.code(), "webhook_unavailable");
    assert_eq!(s.row(&id).status.as_str(), "pending");

    // Kraken's retry, after the throttle: the new key is fetched and the payment recorded.
    s.advance(60);
    let a = s.post_webhook_parts(token.as_bytes(), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"code": "Success"}));
    assert_eq!(s.row(&id).status.as_str(), "paid");

    // A kid that is still unknown after a fresh fetch is refused outright.
    s.advance(60);
    let forged = s.fake.sign_jwt(
        &json!({"alg": "ES256", "kid": "never-published"}),
        &kraken_claims(&ext, "success"),
    );
    let a = s.post_webhook_parts(forged.as_bytes(), &[]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

/// Item 8: `nbf` and `iat` in the future (beyond 60 s of clock skew) are refused.
#[tokio::test]
async fn kraken_nbf_and_iat_are_checked() {
    let s = setup(Kind::Kraken, &[]).await;
    let (id, _) = s.create(r#"{"amount_sat": 2500}"#).await;
    let ext = s.fake.invoices()[0].handle.clone();
    let header = json!({"alg": "ES256", "kid": creds::KRAKEN_KID});
    let with = |name: &str, v: Value| {
        let mut c = kraken_claims(&ext, "success");
        c[name] = v;
        s.fake.sign_jwt(&header, &c)
    };
    for (what, token) in [
        ("nbf in an hour", with("nbf", json!(T0 + 3600))),
        ("iat in an hour", with("iat", json!(T0 + 3600))),
        ("nbf 61 s ahead", with("nbf", json!(T0 + 61))),
        ("nbf not a number", with("nbf", json!("soon"))),
        ("iat not a number", with("iat", json!(-5))),
    ] {
        let a = s.post_webhook_parts(token.as_bytes(), &[]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(s.row(&id).status.as_str(), "pending", "{what}");
    }
    // Within the leeway, and issued in the past: accepted.
    let mut c = kraken_claims(&ext, "success");
    c["nbf"] = json!(T0 + 30);
    c["iat"] = json!(T0 - 5);
    let a = s
        .post_webhook_parts(s.fake.sign_jwt(&header, &c).as_bytes(), &[])
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(s.row(&id).status.as_str(), "paid");
}
