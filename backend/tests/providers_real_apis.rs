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

/// Create, settle by webhook and poll against a BTCPay of this version; the ids it was asked.
async fn btcpay_flow(version: &str, lazy: bool) -> Vec<String> {
    let s = setup(Kind::Btcpay, &[]).await;
    s.fake.set_btcpay_mode(version, lazy);
    let (id, v) = s
        .create(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "o-1", "description": "Order 1"}"#,
        ))
        .await;
    let inv = s.fake.invoices();
    assert_eq!(inv.len(), 1, "{version}");
    assert_eq!(inv[0].bolt11.as_deref(), v["payment_request"].as_str());
    assert_eq!(
        s.fake.activations(),
        usize::from(lazy),
        "{version} lazy={lazy}"
    );
    let d = s.fake.settle(None).await;
    assert_eq!(d[0].status, 200, "{d:?}");
    assert_eq!(s.row(&id).status.as_str(), "paid");
    assert_eq!(s.status(&id).await["status"], "paid");
    // A second invoice reuses the generation read once.
    s.create(r#"{"amount_sat": 10}"#).await;
    s.assert_no_rejections();
    s.fake
        .invoices()
        .iter()
        .map(|i| {
            i.extra["checkout"]["paymentMethods"][0]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Item 12: BTCPay 1.x refuses `BTC-LN` and answers `paymentMethod`; 2.x wants `BTC-LN`.
#[tokio::test]
async fn btcpay_1x_and_2x_servers() {
    assert_eq!(
        btcpay_flow("1.13.7", false).await,
        ["BTC-LightningNetwork"; 2]
    );
    assert_eq!(
        btcpay_flow("v1.12.5", false).await,
        ["BTC-LightningNetwork"; 2]
    );
    assert_eq!(btcpay_flow("2.0.0", false).await, ["BTC-LN"; 2]);
    assert_eq!(btcpay_flow("2.1.3-rc1", false).await, ["BTC-LN"; 2]);
}

/// Item 13: a store with lazy payment methods answers `destination: null` until the Lightning
/// method is activated, on both generations.
#[tokio::test]
async fn btcpay_lazy_payment_methods_are_activated() {
    btcpay_flow("2.0.0", true).await;
    btcpay_flow("1.13.7", true).await;
}

/// Item 12: a server whose version cannot be read is refused before any invoice is made, with
/// a reason in the error.
#[tokio::test]
async fn btcpay_unknown_version_makes_no_invoice() {
    for version in ["", "0.21.0", "banana"] {
        let s = setup(Kind::Btcpay, &[]).await;
        s.fake.set_btcpay_mode(version, false);
        let a = s.app.create(r#"{"amount_sat": 5}"#).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{version}");
        assert_eq!(s.fake.create_calls(), 0, "{version}");
    }
    let s = setup(Kind::Btcpay, &[]).await;
    let adapter = btcpay_adapter(&s.fake, "banana").await;
    let e = adapter.generation().await.unwrap_err().to_string();
    assert!(e.contains("server/info"), "{e}");
}

async fn btcpay_adapter(
    fake: &testkit::Fake,
    version: &str,
) -> lightning_checkout_backend::providers::btcpay::Btcpay {
    use lightning_checkout_backend::providers::{btcpay, ProviderSettings};
    fake.set_btcpay_mode(version, false);
    let env: std::collections::HashMap<String, String> = fake.env().into_iter().collect();
    let ProviderSettings::Btcpay(settings) = ProviderSettings::from_lookup(
        lightning_checkout_backend::config::ProviderKind::Btcpay,
        &|k| env.get(k).cloned(),
    )
    .unwrap() else {
        unreachable!()
    };
    btcpay::Btcpay::new(settings).unwrap()
}

fn settings_of<T>(
    kind: lightning_checkout_backend::config::ProviderKind,
    env: &[(String, String)],
    extra: &[(&str, &str)],
    pick: impl FnOnce(lightning_checkout_backend::providers::ProviderSettings) -> Option<T>,
) -> T {
    let mut map: std::collections::HashMap<String, String> = env.iter().cloned().collect();
    for (k, v) in extra {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    let s = lightning_checkout_backend::providers::ProviderSettings::from_lookup(kind, &|k| {
        map.get(k).cloned()
    })
    .unwrap();
    pick(s).unwrap()
}

fn new_invoice(invoice_id: &str) -> lightning_checkout_backend::provider::NewInvoice {
    lightning_checkout_backend::provider::NewInvoice {
        invoice_id: invoice_id.to_owned(),
        idempotency_key: [7; 16],
        amount_msat: 2_500_000,
        description: "Order".into(),
        expiry_secs: 600,
        order_id: None,
        now: T0,
        unified: false,
    }
}

/// Item 14: clnrest's certificates name only `cln` and `localhost`. With its CA trusted,
/// `https://localhost:PORT` works; `https://127.0.0.1:PORT` fails the name check, and the error
/// says so and what to use.
#[tokio::test]
async fn cln_certificate_names_only_cln_and_localhost() {
    use lightning_checkout_backend::config::ProviderKind;
    use lightning_checkout_backend::provider::Provider;
    use lightning_checkout_backend::providers::{cln, ProviderSettings};
    let files = tempfile::tempdir().unwrap();
    let (fake, ca) = testkit::Fake::start_tls(Kind::Cln, testkit::TlsMode::CaSigned).await;
    let ca_path = files.path().join("ca.pem");
    std::fs::write(&ca_path, &ca).unwrap();
    let ca_path = ca_path.to_str().unwrap();
    let port = fake.addr().port();
    let pick = |s| match s {
        ProviderSettings::Cln(c) => Some(c),
        _ => None,
    };
    let by_name = settings_of(
        ProviderKind::Cln,
        &fake.env(),
        &[("CLN_TLS_CA_PATH", ca_path)],
        pick,
    );
    assert_eq!(by_name.url, format!("https://localhost:{port}"));
    let ok = cln::Cln::new(by_name)
        .unwrap()
        .create_invoice(&new_invoice("inv_by_name"))
        .await;
    assert!(ok.is_ok(), "{ok:?}");

    let ip_url = format!("https://127.0.0.1:{port}");
    let by_ip = settings_of(
        ProviderKind::Cln,
        &fake.env(),
        &[("CLN_TLS_CA_PATH", ca_path), ("CLN_URL", &ip_url)],
        pick,
    );
    let e = cln::Cln::new(by_ip)
        .unwrap()
        .create_invoice(&new_invoice("inv_by_ip"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("certificate does not name the host"), "{e}");
    assert!(e.contains("CLN_URL=https://localhost:"), "{e}");
    assert!(!e.contains("127.0.0.1"), "no URL in errors: {e}");
    assert_eq!(
        fake.create_calls(),
        1,
        "nothing reached the node over the IP URL"
    );

    // Another CA entirely: an untrusted certificate, said as such (not as a name problem).
    let (other, _) = testkit::Fake::start_tls(Kind::Cln, testkit::TlsMode::CaSigned).await;
    let s = settings_of(
        ProviderKind::Cln,
        &other.env(),
        &[("CLN_TLS_CA_PATH", ca_path)],
        pick,
    );
    let e = cln::Cln::new(s)
        .unwrap()
        .create_invoice(&new_invoice("inv_other"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not trusted"), "{e}");
}

/// Start the backend's state with `fake`'s environment plus `extra`; the start-up error, if any.
fn startup_error(fake: &testkit::Fake, extra: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut env: std::collections::HashMap<String, String> = fake.env().into_iter().collect();
    env.insert("DATA_DIR".into(), dir.path().display().to_string());
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = lightning_checkout_backend::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    lightning_checkout_backend::AppState::with_clock(
        config,
        std::sync::Arc::new(lightning_checkout_backend::ManualClock::new(T0)),
    )
    .err()
    .map(|e| e.to_string())
}

/// Item 15: Amboss sandbox keys (`amb_test_`) mint regtest invoices, live keys (`amb_live_`)
/// mainnet ones: a key that contradicts `NETWORK` stops the start-up, naming the NETWORK it
/// needs; an invoice for another network than `NETWORK` is refused with the same hint.
#[tokio::test]
async fn amboss_key_kind_and_network() {
    use lightning_checkout_backend::config::ProviderKind;
    use lightning_checkout_backend::provider::Provider;
    use lightning_checkout_backend::providers::{amboss, ProviderSettings};
    let fake = testkit::Fake::start(Kind::Amboss).await;
    assert!(creds::AMBOSS_API_KEY.starts_with("amb_test_"));
    // The sandbox key: regtest starts; mainnet does not.
    assert_eq!(startup_error(&fake, &[("NETWORK", "regtest")]), None);
    let e = startup_error(&fake, &[("NETWORK", "bitcoin")]).expect("refused");
    assert!(
        e.contains("sandbox key") && e.contains("NETWORK=regtest"),
        "{e}"
    );
    assert!(
        !e.contains(creds::AMBOSS_API_KEY),
        "never the key itself: {e}"
    );
    // A live key: mainnet only.
    for network in ["regtest", "testnet", "signet"] {
        let e = startup_error(
            &fake,
            &[
                ("NETWORK", network),
                ("AMBOSS_API_KEY", "amb_live_0123456789"),
            ],
        )
        .expect("refused");
        assert!(
            e.contains("live key") && e.contains("NETWORK=bitcoin"),
            "{e}"
        );
        assert!(!e.contains("0123456789"), "{e}");
    }
    assert_eq!(
        startup_error(
            &fake,
            &[
                ("NETWORK", "bitcoin"),
                ("AMBOSS_API_KEY", "amb_live_0123456789")
            ]
        ),
        None
    );

    // The sandbox key on testnet starts (with a warning), but its regtest invoice is refused
    // with the reason.
    assert_eq!(startup_error(&fake, &[("NETWORK", "testnet")]), None);
    let settings = settings_of(ProviderKind::Amboss, &fake.env(), &[], |s| match s {
        ProviderSettings::Amboss(a) => Some(a),
        _ => None,
    });
    let adapter = amboss::Amboss::new(settings)
        .unwrap()
        .with_network(lightning_checkout_backend::config::Network::Testnet);
    let e = adapter
        .create_invoice(&new_invoice("inv_amboss"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the invoice is for regtest but NETWORK is testnet")
            && e.contains("NETWORK=regtest"),
        "{e}"
    );
    // Through the API: a 502, and no invoice shown.
    let s = setup(Kind::Amboss, &[("NETWORK", "testnet")]).await;
    let a = s.app.create(r#"{"amount_sat": 5}"#).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
}

/// Item 16: AlphaPo's `foreign_id` and `end_user_reference` name the payer persistently, not one
/// invoice: every invoice carries the configured reference, and callbacks still find their
/// invoice (by payment hash, or by AlphaPo's address id).
#[tokio::test]
async fn alphapo_sends_the_persistent_payer_reference() {
    for (extra, want) in [
        (vec![], "checkout-guest"),
        (
            vec![("ALPHAPO_END_USER_REFERENCE", "shop-7:guest")],
            "shop-7:guest",
        ),
    ] {
        let s = setup(Kind::Alphapo, &extra).await;
        let (a, _) = s.create(r#"{"amount_sat": 100}"#).await;
        let (b, _) = s
            .create(&common::signed(
                r#"{"amount_sat": 200, "order_id": "order-9"}"#,
            ))
            .await;
        s.assert_no_rejections();
        for inv in s.fake.invoices() {
            assert_eq!(inv.key.as_deref(), Some(want), "foreign_id");
            assert_eq!(inv.extra["end_user_reference"], want);
        }
        // The fake's callbacks (payment hash) settle the right invoice.
        let first = s.fake.invoices()[0].handle.clone();
        s.fake.settle(Some(&first)).await;
        assert_eq!(s.row(&a).status.as_str(), "paid");
        assert_eq!(s.row(&b).status.as_str(), "pending");
        // A callback whose address is no BOLT 11 is matched by AlphaPo's address id.
        let inv = s.fake.invoices()[1].clone();
        let w = s.fake.webhook(&inv, testkit::Event::Paid).unwrap();
        let mut body: Value = serde_json::from_slice(&w.body).unwrap();
        body["crypto_address"]["address"] = json!("not-a-bolt11");
        let body = serde_json::to_vec(&body).unwrap();
        let sig = {
            use hmac::{Hmac, Mac};
            let mut m =
                Hmac::<sha2::Sha512>::new_from_slice(creds::ALPHAPO_SECRET.as_bytes()).unwrap();
            m.update(&body);
            hex::encode(m.finalize().into_bytes())
        };
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-processing-key".to_owned(), creds::ALPHAPO_KEY.to_owned()),
            ("x-processing-signature".to_owned(), sig),
        ];
        let a2 = s.post_webhook_parts(&body, &headers).await;
        assert_eq!(a2.status, StatusCode::OK);
        assert_eq!(s.row(&b).status.as_str(), "paid");
    }
    // A reference with personal-data room or odd characters is refused at start-up.
    let fake = testkit::Fake::start(Kind::Alphapo).await;
    let e = startup_config_error(
        &fake,
        &[("ALPHAPO_END_USER_REFERENCE", "jane doe@example.com")],
    );
    assert!(e.contains("ALPHAPO_END_USER_REFERENCE"), "{e}");
}

fn startup_config_error(fake: &testkit::Fake, extra: &[(&str, &str)]) -> String {
    let mut env: std::collections::HashMap<String, String> = fake.env().into_iter().collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    lightning_checkout_backend::Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_err()
        .to_string()
}

/// Item 12: a server upgraded from 1.x to 2.x while the backend runs: the first invoice after
/// the upgrade is refused (400), the version is read again, and the next one is made.
#[tokio::test]
async fn btcpay_upgrade_is_noticed() {
    let s = setup(Kind::Btcpay, &[]).await;
    s.fake.set_btcpay_mode("1.13.7", false);
    s.create(r#"{"amount_sat": 10}"#).await;
    s.fake.set_btcpay_mode("2.0.0", false);
    let a = s.app.create(r#"{"amount_sat": 11}"#).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert_eq!(s.fake.rejections().len(), 1);
    s.create(r#"{"amount_sat": 12}"#).await;
    let methods: Vec<Value> = s
        .fake
        .invoices()
        .iter()
        .map(|i| i.extra["checkout"]["paymentMethods"][0].clone())
        .collect();
    assert_eq!(methods, [json!("BTC-LightningNetwork"), json!("BTC-LN")]);
}
