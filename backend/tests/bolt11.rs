//! The demo provider's invoices decode with lightning-invoice, signature included, and say
//! exactly what was asked.

mod common;

use std::str::FromStr;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use common::{TestApp, T0};
use lightning_checkout_backend::config::Network;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef, Currency};

fn node_id(app: &TestApp) -> PublicKey {
    let hex_key = std::fs::read_to_string(app.dir.path().join("data/node_key")).unwrap();
    let key = SecretKey::from_slice(&hex::decode(hex_key.trim()).unwrap()).unwrap();
    PublicKey::from_secret_key(&Secp256k1::new(), &key)
}

#[tokio::test]
async fn invoice_matches_the_request_and_is_signed_by_the_node_key() {
    let app = TestApp::new();
    let v = app
        .create_ok(r#"{"amount_sat": 250000, "description": "1 cup coffee <script>", "order_id": "order-42", "expiry_secs": 60}"#)
        .await;
    let pr = v["payment_request"].as_str().unwrap();
    assert!(pr.starts_with("lnbcrt2500u1"), "{pr}");
    let inv = Bolt11Invoice::from_str(pr).expect("decodes");
    assert!(inv.check_signature().is_ok());
    assert_eq!(inv.recover_payee_pub_key(), node_id(&app));
    // The `n` field carries the node key, and the signature verifies against it.
    assert_eq!(inv.payee_pub_key(), Some(&node_id(&app)));
    assert_eq!(inv.get_payee_pub_key(), node_id(&app));
    assert_eq!(inv.currency(), Currency::Regtest);
    assert_eq!(inv.amount_milli_satoshis(), Some(250_000_000));
    assert_eq!(
        inv.payment_hash().to_string(),
        v["payment_hash"].as_str().unwrap()
    );
    assert_eq!(inv.duration_since_epoch().as_secs(), T0);
    assert_eq!(inv.expiry_time().as_secs(), 60);
    assert_eq!(v["expires_at"], T0 + 60);
    assert_eq!(inv.min_final_cltv_expiry_delta(), 18);
    match inv.description() {
        Bolt11InvoiceDescriptionRef::Direct(d) => {
            assert_eq!(d.to_string(), "1 cup coffee <script>")
        }
        other => panic!("{other:?}"),
    }
    assert!(inv.payment_secret().0 != [0u8; 32]);
    assert!(!inv.would_expire(std::time::Duration::from_secs(T0 + 60)));
    assert!(inv.would_expire(std::time::Duration::from_secs(T0 + 61)));
}

#[tokio::test]
async fn every_network_gets_its_prefix() {
    // Mainnet (`lnbc`) is refused for the demo provider at start-up (config_env tests that); the
    // prefix itself is lightning-invoice's.
    let _ = (Network::Bitcoin, Currency::Bitcoin);
    for (net, prefix, currency) in [
        (Network::Testnet, "lntb", Currency::BitcoinTestnet),
        (Network::Signet, "lntbs", Currency::Signet),
        (Network::Regtest, "lnbcrt", Currency::Regtest),
    ] {
        let app = TestApp::with_config(|c| c.network = net);
        let v = app.create_ok(r#"{"amount_sat": 1}"#).await;
        let pr = v["payment_request"].as_str().unwrap();
        assert!(pr.starts_with(&format!("{prefix}10n1")), "{pr}");
        let inv = Bolt11Invoice::from_str(pr).unwrap();
        assert_eq!(inv.currency(), currency);
        assert_eq!(inv.amount_milli_satoshis(), Some(1000));
    }
}

#[tokio::test]
async fn amount_edges_and_longest_description() {
    let app = TestApp::new();
    let long = "é".repeat(319) + "a";
    assert_eq!(long.len(), 639);
    for amount in [1u64, 3, 999, 1001, 123_457, 4_500_000] {
        let v = app
            .create_ok(&format!(
                r#"{{"amount_sat": {amount}, "description": "{long}"}}"#
            ))
            .await;
        let inv = Bolt11Invoice::from_str(v["payment_request"].as_str().unwrap()).unwrap();
        assert!(inv.check_signature().is_ok());
        assert_eq!(inv.amount_milli_satoshis(), Some(amount * 1000));
        assert_eq!(v["amount_sat"], amount);
    }
}

#[tokio::test]
async fn each_invoice_has_its_own_hash_and_secret() {
    let app = TestApp::new();
    let a = app.create_ok(r#"{"amount_sat": 1}"#).await;
    let b = app.create_ok(r#"{"amount_sat": 1}"#).await;
    let ia = Bolt11Invoice::from_str(a["payment_request"].as_str().unwrap()).unwrap();
    let ib = Bolt11Invoice::from_str(b["payment_request"].as_str().unwrap()).unwrap();
    assert_ne!(ia.payment_hash(), ib.payment_hash());
    assert_ne!(ia.payment_secret(), ib.payment_secret());
    assert_eq!(ia.recover_payee_pub_key(), ib.recover_payee_pub_key());
}
