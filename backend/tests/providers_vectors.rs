//! The signature vectors of providers.md (official and local), the exact bodies we sign, each
//! provider's configuration (a missing variable is named), and secrets kept out of Debug output
//! and error texts.

mod common;

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue};
use lightning_checkout_backend::config::{Config, Secret};
use lightning_checkout_backend::provider::{NewInvoice, WebhookError};
use lightning_checkout_backend::providers::{
    alphapo, amboss, btcpay, cln, kraken, lnbits, lnd, ProviderSettings,
};

fn adapter_debug(s: &ProviderSettings) -> String {
    match s {
        ProviderSettings::Demo => String::new(),
        ProviderSettings::Amboss(x) => format!("{:?}", amboss::Amboss::new(x.clone()).unwrap()),
        ProviderSettings::Alphapo(x) => format!("{:?}", alphapo::Alphapo::new(x.clone()).unwrap()),
        ProviderSettings::Kraken(x) => format!("{:?}", kraken::Kraken::new(x.clone()).unwrap()),
        ProviderSettings::Lnd(x) => format!("{:?}", lnd::Lnd::new(x.clone()).unwrap()),
        ProviderSettings::Cln(x) => format!("{:?}", cln::Cln::new(x.clone()).unwrap()),
        ProviderSettings::Lnbits(x) => format!("{:?}", lnbits::Lnbits::new(x.clone()).unwrap()),
        ProviderSettings::Btcpay(x) => format!("{:?}", btcpay::Btcpay::new(x.clone()).unwrap()),
    }
}
use lightning_checkout_backend::store::InvoiceKey;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn alphapo_official_and_btcln_vectors() {
    assert_eq!(
        alphapo::sign("AbCdEfG123456", br#"{"currency":"BTC","foreign_id":"123456"}"#),
        "03c25fcf7cd35e7d995e402cd5d51edd72d48e1471e865907967809a0c189ba55b90815f20e2bb10f82c7a9e9d865546fda58989c2ae9e8e2ff7bc29195fa1ec"
    );
    let body = alphapo::take_body("order-42", "user-7", 10_000);
    assert_eq!(
        body,
        r#"{"currency":"BTCLN","foreign_id":"order-42","end_user_reference":"user-7","amount":0.0001}"#
    );
    assert_eq!(
        alphapo::sign("AbCdEfG123456", body.as_bytes()),
        "275ca8e1feb192f8c6ca8f958f9a9ddd3b0f6be3ce1dbd955379ae7daf44eca529ba8f3f14cd92bd8ff27f0f2a94088a0fa23c2500b0f96cda37516906b9c1d2"
    );
    // Amount edges as JSON numbers, built from integer sat.
    for (sat, text) in [
        (1, "0.00000001"),
        (4_500_000, "0.045"),
        (123_457, "0.00123457"),
        (100_000_000, "1"),
    ] {
        let b = alphapo::take_body("f", "u", sat);
        assert!(b.ends_with(&format!(r#""amount":{text}}}"#)), "{b}");
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert!(v["amount"].is_number());
    }
}

#[test]
fn alphapo_callback_verification() {
    let key = Secret::new("pub");
    let secret = Secret::new("AbCdEfG123456");
    // No BOLT 11 to read: matched by AlphaPo's address id (foreign_id names the payer).
    let body = br#"{"id":7,"type":"deposit","crypto_address":{"id":240407213,"foreign_id":"checkout-guest"},"status":"confirmed","currency_sent":{"currency":"BTCLN","amount":"0.000025"}}"#;
    let sig = alphapo::sign("AbCdEfG123456", body);
    let ev = alphapo::verify(
        &key,
        &secret,
        body,
        &headers(&[
            ("x-processing-key", "pub"),
            ("x-processing-signature", &sig),
        ]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(ev.invoice, InvoiceKey::ProviderRef("240407213".into()));
    assert_eq!(ev.event_id.as_deref(), Some("7:confirmed"));
    match ev.status {
        lightning_checkout_backend::provider::ProviderStatus::Paid {
            amount_paid_msat, ..
        } => {
            assert_eq!(amount_paid_msat, Some(2_500_000))
        }
        other => panic!("{other:?}"),
    }
    // Upper-case hex is the same signature.
    assert!(alphapo::verify(
        &key,
        &secret,
        body,
        &headers(&[
            ("x-processing-key", "pub"),
            ("x-processing-signature", &sig.to_uppercase())
        ])
    )
    .is_ok());
    assert_eq!(
        alphapo::verify(
            &key,
            &secret,
            body,
            &headers(&[("x-processing-key", "pu"), ("x-processing-signature", &sig)])
        ),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn kraken_official_and_json_vectors() {
    let secret =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
    assert_eq!(
        kraken::api_sign(
            secret,
            "/0/private/AddOrder",
            "1616492376594",
            b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
        )
        .unwrap(),
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    );
    let key: [u8; 16] = core::array::from_fn(|i| i as u8);
    let ext = kraken::external_id(&key);
    assert_eq!(ext, "AAECAwQFBgcICQoLDA0ODw");
    let body = kraken::create_body("1767225600000", 10_000, "BTC", &ext, 900, "Order 42");
    assert_eq!(
        body,
        r#"{"nonce":"1767225600000","amount":"0.0001","asset":"BTC","external_id":"AAECAwQFBgcICQoLDA0ODw","expire_after_seconds":900,"note":"Order 42"}"#
    );
    assert_eq!(
        kraken::api_sign(
            secret,
            kraken::CREATE_PATH,
            "1767225600000",
            body.as_bytes()
        )
        .unwrap(),
        "hlwtjtR+XFFHXw0ZlujrekWEpaeQYGC+/QaCD2Hqcphekw5/TItwv/orVLz8wR+bTzP91wEGL7eTYFKx8Fd4Cg=="
    );
    // Amount edges as decimal strings; no note when there is no description.
    assert!(kraken::create_body("1", 1, "BTC", &ext, 60, "").contains(r#""amount":"0.00000001","#));
    assert!(kraken::create_body("1", 4_500_000, "BTC", &ext, 60, "")
        .ends_with(r#""expire_after_seconds":60}"#));
}

#[test]
fn amboss_local_vector() {
    let body = br#"{"id":"evt_1","event_type":"payment.completed","wallet_id":"w1","data":{"id":"tx1","status":"completed","direction":"receive"}}"#;
    let sig = "754830fa4567c334f80bf4cecdfe6d320dc23816d8450b5af06837bfc0c4ae24";
    let secret = Secret::new("whsec_test_secret");
    let h = headers(&[
        ("x-webhook-signature", sig),
        ("x-webhook-timestamp", "1767225600"),
    ]);
    for now in [1_767_225_600, 1_767_225_600 - 300, 1_767_225_600 + 300] {
        let ev = amboss::verify(Some(&secret), body, &h, now)
            .unwrap()
            .unwrap();
        assert_eq!(ev.invoice, InvoiceKey::ProviderRef("tx1".into()));
    }
    for now in [1_767_225_600 - 301, 1_767_225_600 + 301] {
        assert_eq!(
            amboss::verify(Some(&secret), body, &h, now),
            Err(WebhookError::StaleTimestamp)
        );
    }
    assert_eq!(
        amboss::verify(None, body, &h, 1_767_225_600),
        Err(WebhookError::NotConfigured)
    );
    let other = Secret::new("whsec_test_secreT");
    assert_eq!(
        amboss::verify(Some(&other), body, &h, 1_767_225_600),
        Err(WebhookError::BadSignature)
    );
    // Outgoing payments are authentic but not ours.
    let send = br#"{"id":"evt_2","data":{"id":"tx2","status":"completed","direction":"send"}}"#;
    let sig = {
        use hmac::Mac;
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec_test_secret").unwrap();
        m.update(b"1767225600.");
        m.update(send);
        hex::encode(m.finalize().into_bytes())
    };
    let h = headers(&[
        ("x-webhook-signature", &sig),
        ("x-webhook-timestamp", "1767225600"),
    ]);
    assert_eq!(
        amboss::verify(Some(&secret), send, &h, 1_767_225_600),
        Ok(None)
    );
}

#[test]
fn btcpay_local_vector() {
    let body = br#"{"deliveryId":"d1","webhookId":"wh1","originalDeliveryId":"d1","isRedelivery":false,"type":"InvoiceSettled","timestamp":1767225600,"storeId":"S1","invoiceId":"I1","metadata":{"orderId":"42"},"manuallyMarked":false,"overPaid":false}"#;
    let h = headers(&[(
        "btcpay-sig",
        "sha256=4f8c1fd890f9d3babca684b927f7c152d4eeadf1177342ae703282e607d8e9d9",
    )]);
    let secret = Secret::new("btcpay_test_secret");
    let ev = btcpay::verify(Some(&secret), "S1", body, &h)
        .unwrap()
        .unwrap();
    assert_eq!(ev.invoice, InvoiceKey::ProviderRef("I1".into()));
    assert_eq!(ev.event_id.as_deref(), Some("d1"));
    assert_eq!(btcpay::verify(Some(&secret), "S2", body, &h), Ok(None));
    assert_eq!(
        btcpay::verify(None, "S1", body, &h),
        Err(WebhookError::NotConfigured)
    );
}

fn lookup(vars: &[(&str, &str)]) -> Result<Config, String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).map_err(|e| e.to_string())
}

fn full_env(provider: &str) -> Vec<(&'static str, &'static str)> {
    match provider {
        "amboss" => vec![
            ("AMBOSS_API_KEY", "s3cr3t-amboss-key"),
            ("AMBOSS_WALLET_ID", "w"),
            ("AMBOSS_WEBHOOK_SECRET", "s3cr3t-whsec"),
        ],
        "alphapo" => vec![
            ("ALPHAPO_KEY", "s3cr3t-alphapo-key"),
            ("ALPHAPO_SECRET", "s3cr3t-alphapo"),
        ],
        "kraken" => vec![
            ("KRAKEN_API_KEY", "s3cr3t-kraken-key"),
            ("KRAKEN_API_SECRET", "U0VDUkVULWtyYWtlbg=="),
        ],
        "lnd" => vec![
            ("LND_URL", "https://127.0.0.1:8080"),
            ("LND_MACAROON_HEX", "5345435245540a"),
        ],
        "cln" => vec![
            ("CLN_URL", "https://127.0.0.1:3010"),
            ("CLN_RUNE", "s3cr3t-rune"),
        ],
        "lnbits" => vec![
            ("LNBITS_URL", "https://lnbits.example"),
            ("LNBITS_API_KEY", "s3cr3t-lnbits"),
        ],
        "btcpay" => vec![
            ("BTCPAY_URL", "https://btcpay.example"),
            ("BTCPAY_API_KEY", "s3cr3t-btcpay"),
            ("BTCPAY_STORE_ID", "S1"),
            ("BTCPAY_WEBHOOK_SECRET", "s3cr3t-btcpay-wh"),
        ],
        _ => vec![],
    }
}

const SECRET_VALUES: [&str; 3] = ["s3cr3t", "5345435245540a", "U0VDUkVULWtyYWtlbg"];

#[test]
fn every_provider_configures_and_names_what_is_missing() {
    let optional = ["AMBOSS_WEBHOOK_SECRET", "BTCPAY_WEBHOOK_SECRET"];
    for p in [
        "amboss", "alphapo", "kraken", "lnd", "cln", "lnbits", "btcpay",
    ] {
        let mut vars = vec![("PROVIDER", p)];
        vars.extend(full_env(p));
        let c = lookup(&vars).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(c.provider.as_str(), p);
        assert_eq!(c.provider_settings.kind(), c.provider);
        let debug = format!("{c:?} {}", adapter_debug(&c.provider_settings));
        assert!(debug.contains("[redacted]"), "{debug}");
        for s in SECRET_VALUES {
            assert!(!debug.contains(s), "{p}: {debug}");
        }
        // The adapter builds, and its Debug hides secrets too.
        let dir = tempfile::tempdir().unwrap();
        let mut c = c;
        c.data_dir = dir.path().to_owned();
        let provider = lightning_checkout_backend::providers::build(&c).unwrap();
        assert_eq!(provider.name(), p);
        for (name, _) in full_env(p) {
            if optional.contains(&name) {
                continue;
            }
            let rest: Vec<_> = vars.iter().filter(|(k, _)| *k != name).cloned().collect();
            let err = lookup(&rest).unwrap_err();
            assert!(err.starts_with(name), "{p} without {name}: {err}");
            for s in SECRET_VALUES {
                assert!(!err.contains(s), "{err}");
            }
        }
    }
    // Defaults for the hosted providers.
    let mut vars = vec![("PROVIDER", "kraken")];
    vars.extend(full_env("kraken"));
    let c = lookup(&vars).unwrap();
    let ProviderSettings::Kraken(k) = &c.provider_settings else {
        panic!()
    };
    assert_eq!(k.url, "https://api.kraken.com");
    assert_eq!(
        k.jwks_url.as_deref(),
        Some("https://www.kraken.com/.well-known/pay-callback-keys.json")
    );
    let mut vars = vec![("PROVIDER", "amboss")];
    vars.extend(full_env("amboss"));
    let ProviderSettings::Amboss(a) = lookup(&vars).unwrap().provider_settings else {
        panic!()
    };
    assert_eq!(a.url, "https://rails.amboss.tech/graphql");
    let mut vars = vec![("PROVIDER", "alphapo")];
    vars.extend(full_env("alphapo"));
    let ProviderSettings::Alphapo(a) = lookup(&vars).unwrap().provider_settings else {
        panic!()
    };
    assert_eq!(a.url, "https://app.alphapo.net");
}

#[test]
fn bad_provider_values_are_named() {
    for (p, var, value) in [
        ("lnd", "LND_URL", "http://node.lan:8080"),
        ("lnd", "LND_MACAROON_HEX", "not-hex"),
        ("lnd", "LND_MACAROON_PATH", "/nonexistent/admin.macaroon"),
        ("lnd", "LND_TLS_CERT_PATH", "/nonexistent/tls.cert"),
        ("cln", "CLN_TLS_CA_PATH", "/nonexistent/ca.pem"),
        ("kraken", "KRAKEN_API_SECRET", "not base64!"),
        ("kraken", "KRAKEN_JWKS", "{\"keys\": 3}"),
        ("btcpay", "BTCPAY_STORE_ID", "../x"),
        ("amboss", "AMBOSS_URL", "ftp://x"),
    ] {
        let mut vars: Vec<(&str, &str)> = vec![("PROVIDER", p)];
        vars.extend(full_env(p).into_iter().filter(|(k, _)| {
            *k != var && !(var == "LND_MACAROON_PATH" && *k == "LND_MACAROON_HEX")
        }));
        vars.push((var, value));
        let err = lookup(&vars).unwrap_err();
        assert!(err.starts_with(var), "{var}={value}: {err}");
    }
    // LND needs one of the two macaroon variables.
    let err = lookup(&[("PROVIDER", "lnd"), ("LND_URL", "https://127.0.0.1:8080")]).unwrap_err();
    assert!(
        err.contains("LND_MACAROON_HEX") && err.contains("LND_MACAROON_PATH"),
        "{err}"
    );
    // Plain http to a LAN host only when allowed explicitly.
    let mut vars = vec![("PROVIDER", "lnbits"), ("ALLOW_INSECURE_HTTP", "true")];
    vars.extend(
        full_env("lnbits")
            .into_iter()
            .filter(|(k, _)| *k != "LNBITS_URL"),
    );
    vars.push(("LNBITS_URL", "http://lnbits.lan:5000/"));
    let ProviderSettings::Lnbits(l) = lookup(&vars).unwrap().provider_settings else {
        panic!()
    };
    assert_eq!(l.url, "http://lnbits.lan:5000");
}

#[test]
fn lnd_macaroon_and_cert_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let mac = dir.path().join("invoice.macaroon");
    std::fs::write(&mac, [0x02u8, 0x01, 0xff]).unwrap();
    let cert = dir.path().join("tls.cert");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUOdq0xOjJ5T8VmAp3eKqBFZ4n0lEwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n").unwrap();
    let c = lookup(&[
        ("PROVIDER", "lnd"),
        ("LND_URL", "https://127.0.0.1:8080"),
        ("LND_MACAROON_PATH", mac.to_str().unwrap()),
    ])
    .unwrap();
    let ProviderSettings::Lnd(l) = &c.provider_settings else {
        panic!()
    };
    assert_eq!(l.macaroon_hex.expose(), "0201ff");
    assert!(!format!("{c:?}").contains("0201ff"));
}

#[tokio::test]
async fn adapter_errors_never_carry_secrets() {
    // Every adapter pointed at a closed port: the error names the provider and the failure only.
    for p in [
        "amboss", "alphapo", "kraken", "lnd", "cln", "lnbits", "btcpay",
    ] {
        let mut vars: Vec<(&str, &str)> = vec![("PROVIDER", p)];
        let url_var = match p {
            "amboss" => "AMBOSS_URL",
            "alphapo" => "ALPHAPO_URL",
            "kraken" => "KRAKEN_URL",
            "lnd" => "LND_URL",
            "cln" => "CLN_URL",
            "lnbits" => "LNBITS_URL",
            _ => "BTCPAY_URL",
        };
        vars.extend(full_env(p).into_iter().filter(|(k, _)| *k != url_var));
        vars.push((url_var, "http://127.0.0.1:9/secret-path"));
        let mut c = lookup(&vars).unwrap();
        let dir = tempfile::tempdir().unwrap();
        c.data_dir = dir.path().to_owned();
        let provider = lightning_checkout_backend::providers::build(&c).unwrap();
        let req = NewInvoice {
            invoice_id: "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            idempotency_key: [7; 16],
            amount_msat: 1000,
            description: "x".into(),
            expiry_secs: 60,
            order_id: None,
            now: common::T0,
            unified: false,
        };
        let err = provider.create_invoice(&req).await.unwrap_err();
        let text = format!("{err} {err:?}");
        for s in SECRET_VALUES
            .iter()
            .chain(["secret-path", "127.0.0.1"].iter())
        {
            assert!(!text.contains(s), "{p}: {text}");
        }
        assert!(
            matches!(
                err,
                lightning_checkout_backend::provider::ProviderError::Unavailable(_)
            ),
            "{p}: {err:?}"
        );
    }
}
