//! The provider trait with a fake adapter: pay links, lost answers retried with the same
//! idempotency key, answers checked before they are stored, status lookups and webhooks
//! (verified, fail closed, de-duplicated, re-fetched before "paid").

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::SecretKey;
use common::{TestApp, T0};
use lightning_checkout_backend::config::Network;
use lightning_checkout_backend::provider::{
    BoxFuture, CreatedInvoice, NewInvoice, Provider, ProviderError, ProviderStatus, WebhookError,
    WebhookEvent,
};
use lightning_checkout_backend::providers::DemoProvider;
use lightning_checkout_backend::store::{Invoice, InvoiceKey};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Bolt11,
    PayLink,
    WrongAmount,
    WrongNetwork,
}

struct Fake {
    mode: Mode,
    signer: DemoProvider,
    /// Fail this many create calls (after "creating" on the provider side: a lost answer).
    fail_creates: AtomicUsize,
    keys_seen: Mutex<Vec<[u8; 16]>>,
    lookup: Mutex<Option<ProviderStatus>>,
    lookups: AtomicUsize,
    secret: Option<&'static str>,
    max_sat: Option<u64>,
    /// Preimages by provider_ref, as a node would keep them.
    preimages: Mutex<HashMap<String, [u8; 32]>>,
    settle_with_preimage: AtomicBool,
    /// `callback_grace_secs`: as AlphaPo and Kraken Pay, known only by callback.
    grace: u64,
}

impl Fake {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            signer: DemoProvider::from_key(
                SecretKey::from_slice(&[7u8; 32]).unwrap(),
                Network::Regtest,
            ),
            fail_creates: AtomicUsize::new(0),
            keys_seen: Mutex::new(Vec::new()),
            lookup: Mutex::new(None),
            lookups: AtomicUsize::new(0),
            secret: Some("s3cret"),
            max_sat: None,
            preimages: Mutex::new(HashMap::new()),
            settle_with_preimage: AtomicBool::new(false),
            grace: 0,
        }
    }
}

impl Provider for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn max_amount_sat(&self) -> Option<u64> {
        self.max_sat
    }

    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>> {
        Box::pin(async move {
            self.keys_seen.lock().unwrap().push(req.idempotency_key);
            if self
                .fail_creates
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(ProviderError::Unavailable("timeout".into()));
            }
            let reference = Some(format!("ref-{}", hex::encode(req.idempotency_key)));
            match self.mode {
                Mode::PayLink => Ok(CreatedInvoice {
                    pay_url: Some(format!(
                        "https://pay.example/r/{}",
                        hex::encode(req.idempotency_key)
                    )),
                    provider_ref: reference,
                    ..CreatedInvoice::default()
                }),
                Mode::Bolt11 | Mode::WrongAmount | Mode::WrongNetwork => {
                    let mut r = req.clone();
                    if self.mode == Mode::WrongAmount {
                        r.amount_msat += 1000;
                    }
                    let mut c = if self.mode == Mode::WrongNetwork {
                        DemoProvider::from_key(
                            SecretKey::from_slice(&[7u8; 32]).unwrap(),
                            Network::Bitcoin,
                        )
                        .create_invoice(&r)
                        .await?
                    } else {
                        self.signer.create_invoice(&r).await?
                    };
                    // A real node keeps the preimage until settlement.
                    if let (Some(p), Some(r)) = (c.preimage.take(), reference.clone()) {
                        self.preimages.lock().unwrap().insert(r, p);
                    }
                    c.provider_ref = reference;
                    Ok(c)
                }
            }
        })
    }

    fn lookup<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<Option<ProviderStatus>, ProviderError>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let mut s = self.lookup.lock().unwrap().clone();
        if self.settle_with_preimage.load(Ordering::SeqCst) {
            let r = invoice.provider_ref.clone().unwrap_or_default();
            s = Some(ProviderStatus::Paid {
                preimage: self.preimages.lock().unwrap().get(&r).copied(),
                amount_paid_msat: Some(invoice.amount_msat),
                paid_at: Some(T0 + 1),
            });
        }
        Box::pin(async move { Ok(s) })
    }

    fn verify_webhook<'a>(
        &'a self,
        body: &'a [u8],
        headers: &'a HeaderMap,
        _now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>> {
        Box::pin(async move {
            let secret = self.secret.ok_or(WebhookError::NotConfigured)?;
            let sig = headers
                .get("x-test-signature")
                .ok_or(WebhookError::MissingSignature("x-test-signature"))?;
            if sig.as_bytes() != secret.as_bytes() {
                return Err(WebhookError::BadSignature);
            }
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("json".into()))?;
            let status = match v["status"].as_str() {
                Some("paid") => ProviderStatus::Paid {
                    preimage: None,
                    amount_paid_msat: None,
                    paid_at: Some(T0 + 5),
                },
                Some("expired") => ProviderStatus::Expired,
                Some("ignore") => return Ok(None),
                _ => ProviderStatus::Pending,
            };
            Ok(Some(WebhookEvent {
                event_id: v["event_id"].as_str().map(str::to_owned),
                invoice: InvoiceKey::ProviderRef(v["ref"].as_str().unwrap_or_default().to_owned()),
                status,
            }))
        })
    }

    fn webhook_ack(&self) -> serde_json::Value {
        serde_json::json!({ "code": "Success" })
    }

    fn callback_grace_secs(&self) -> u64 {
        self.grace
    }

    fn pay_link_host(&self) -> Option<String> {
        Some("pay.example".into())
    }
}

fn fake_app(fake: Fake) -> (TestApp, Arc<Fake>) {
    let fake = Arc::new(fake);
    (TestApp::with_provider(fake.clone(), |_| {}), fake)
}

async fn hook(app: &TestApp, sig: Option<&str>, body: &str) -> common::Answer {
    let mut req = Request::post("/api/webhooks/fake").header("content-type", "application/json");
    if let Some(sig) = sig {
        req = req.header("x-test-signature", sig);
    }
    app.send(req.body(Body::from(body.to_owned())).unwrap())
        .await
}

#[tokio::test]
async fn pay_link_provider_matches_its_fixture() {
    let (app, _) = fake_app(Fake::new(Mode::PayLink));
    let v = app
        .create(r#"{"amount_sat": 10000}"#)
        .await
        .json_with_time();
    let fixture = common::fixture("create_response_pay_url.json");
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let (mut a, mut b) = (keys(&v), keys(&fixture));
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(v["payment_request"].is_null() && v["payment_hash"].is_null());
    assert!(v["pay_url"]
        .as_str()
        .unwrap()
        .starts_with("https://pay.example/r/"));
    assert_eq!(v["expires_at"], T0 + 900);
    let s = app.status(v["id"].as_str().unwrap()).await.json();
    assert_eq!(s["pay_url"], v["pay_url"]);
}

#[tokio::test]
async fn dev_pay_exists_only_for_the_demo_provider() {
    let (app, _) = fake_app(Fake::new(Mode::Bolt11));
    let id = app.create_ok(r#"{"amount_sat": 1}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = app.pay(&id).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "not_found");
    assert_eq!(app.status(&id).await.json()["status"], "pending");
}

#[tokio::test]
async fn lost_answer_is_retried_with_the_same_idempotency_key() {
    let fake = Fake::new(Mode::Bolt11);
    fake.fail_creates.store(1, Ordering::SeqCst);
    let (app, fake) = fake_app(fake);
    let body = &common::signed(r#"{"amount_sat": 2500, "order_id": "o-1"}"#);
    let a = app.create(body).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert_eq!(a.code(), "provider_error");
    assert!(
        !String::from_utf8_lossy(&a.bytes).contains("timeout"),
        "no internals"
    );
    let v = app.create_ok(body).await;
    let keys = fake.keys_seen.lock().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the retry reuses the committed key");
    assert_eq!(
        app.state.store().invoices_for_order("o-1").unwrap().len(),
        1
    );
    assert_eq!(app.create(body).await.json(), v);
    assert_eq!(
        fake.keys_seen.lock().unwrap().len(),
        2,
        "no third provider call"
    );
}

#[tokio::test]
async fn provider_answers_are_checked_before_they_are_stored() {
    for mode in [Mode::WrongAmount, Mode::WrongNetwork] {
        let (app, _) = fake_app(Fake::new(mode));
        let a = app.create(r#"{"amount_sat": 2500}"#).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY);
        assert_eq!(a.code(), "provider_error");
    }
}

#[tokio::test]
async fn provider_ceiling_is_applied_before_the_call() {
    let mut fake = Fake::new(Mode::Bolt11);
    fake.max_sat = Some(1000);
    let (app, fake) = fake_app(fake);
    let a = app.create(r#"{"amount_sat": 1001}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "amount_too_large");
    assert!(fake.keys_seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn polling_asks_the_provider_and_checks_the_preimage() {
    let (app, fake) = fake_app(Fake::new(Mode::Bolt11));
    let v = app.create_ok(r#"{"amount_sat": 2500}"#).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(app.status(id).await.json()["status"], "pending");
    assert!(fake.lookups.load(Ordering::SeqCst) >= 1);
    // A wrong preimage is not stored, but the provider's "paid" is.
    *fake.lookup.lock().unwrap() = Some(ProviderStatus::Paid {
        preimage: Some([0u8; 32]),
        amount_paid_msat: Some(2_600_000),
        paid_at: None,
    });
    app.clock.advance(3);
    let s = app.status(id).await.json();
    assert_eq!(s["status"], "paid");
    assert!(s.get("preimage").is_none(), "{s}");
    assert_eq!(s["paid_at"], T0 + 3);
    let stored = app.state.store().get(id).unwrap().unwrap();
    assert_eq!(
        stored.amount_paid_msat,
        Some(2_600_000),
        "overpayment recorded"
    );
    // Once paid, the provider is not asked again and nothing moves back.
    let before = fake.lookups.load(Ordering::SeqCst);
    *fake.lookup.lock().unwrap() = Some(ProviderStatus::Expired);
    assert_eq!(app.status(id).await.json()["status"], "paid");
    assert_eq!(fake.lookups.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn a_matching_preimage_from_the_provider_is_served() {
    let (app, fake) = fake_app(Fake::new(Mode::Bolt11));
    let v = app.create_ok(r#"{"amount_sat": 2500}"#).await;
    let id = v["id"].as_str().unwrap();
    fake.settle_with_preimage.store(true, Ordering::SeqCst);
    let s = app.status(id).await.json();
    assert_eq!(s["status"], "paid");
    let preimage = hex::decode(s["preimage"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(sha256::Hash::hash(&preimage).to_byte_array()),
        v["payment_hash"].as_str().unwrap()
    );
}

#[tokio::test]
async fn provider_reported_expiry_is_final() {
    let (app, fake) = fake_app(Fake::new(Mode::Bolt11));
    let id = app.create_ok(r#"{"amount_sat": 2500}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    *fake.lookup.lock().unwrap() = Some(ProviderStatus::Expired);
    assert_eq!(app.status(&id).await.json()["status"], "expired");
    fake.settle_with_preimage.store(true, Ordering::SeqCst);
    assert_eq!(
        app.status(&id).await.json()["status"],
        "expired",
        "never back"
    );
}

#[tokio::test]
async fn webhook_refusals_change_nothing() {
    let (app, _) = fake_app(Fake::new(Mode::Bolt11));
    let id = app.create_ok(r#"{"amount_sat": 2500}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reference = app
        .state
        .store()
        .get(&id)
        .unwrap()
        .unwrap()
        .provider_ref
        .unwrap();
    let body = format!(r#"{{"event_id": "e1", "ref": "{reference}", "status": "paid"}}"#);
    let a = hook(&app, None, &body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_signature")
    );
    let a = hook(&app, Some("wrong"), &body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_signature")
    );
    let a = hook(&app, Some("s3cret"), "{not json").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_webhook")
    );
    let a = app.post_json("/api/webhooks/other", &body).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(app.status(&id).await.json()["status"], "pending");

    let mut fake = Fake::new(Mode::Bolt11);
    fake.secret = None;
    let (app, _) = fake_app(fake);
    let id = app.create_ok(r#"{"amount_sat": 2500}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = hook(&app, Some("s3cret"), &body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "webhook_not_configured")
    );
    assert_eq!(app.status(&id).await.json()["status"], "pending");
}

#[tokio::test]
async fn webhook_paid_is_refetched_applied_once_and_replays_change_nothing() {
    let (app, fake) = fake_app(Fake::new(Mode::Bolt11));
    let id = app.create_ok(r#"{"amount_sat": 2500}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reference = app
        .state
        .store()
        .get(&id)
        .unwrap()
        .unwrap()
        .provider_ref
        .unwrap();
    let body = format!(r#"{{"event_id": "e1", "ref": "{reference}", "status": "paid"}}"#);

    // The provider, asked, says it is still pending: the notification alone does not settle.
    *fake.lookup.lock().unwrap() = Some(ProviderStatus::Pending);
    let a = hook(&app, Some("s3cret"), &body).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), serde_json::json!({"code": "Success"}));
    assert_eq!(
        app.state.store().get(&id).unwrap().unwrap().status.as_str(),
        "pending"
    );

    // A new delivery once the provider confirms: paid.
    *fake.lookup.lock().unwrap() = None;
    let body2 = format!(r#"{{"event_id": "e2", "ref": "{reference}", "status": "paid"}}"#);
    assert_eq!(
        hook(&app, Some("s3cret"), &body2).await.status,
        StatusCode::OK
    );
    let s = app.status(&id).await.json();
    assert_eq!(s["status"], "paid");
    assert_eq!(s["paid_at"], T0 + 5);

    // Replays and late "expired" change nothing.
    let lookups = fake.lookups.load(Ordering::SeqCst);
    assert_eq!(
        hook(&app, Some("s3cret"), &body2).await.status,
        StatusCode::OK
    );
    let expired = format!(r#"{{"event_id": "e3", "ref": "{reference}", "status": "expired"}}"#);
    assert_eq!(
        hook(&app, Some("s3cret"), &expired).await.status,
        StatusCode::OK
    );
    assert_eq!(app.status(&id).await.json(), s);
    assert_eq!(
        fake.lookups.load(Ordering::SeqCst),
        lookups,
        "replay did not even re-fetch"
    );

    // Unknown invoices and irrelevant events are acknowledged and ignored.
    let unknown = r#"{"event_id": "e4", "ref": "nope", "status": "paid"}"#;
    assert_eq!(
        hook(&app, Some("s3cret"), unknown).await.status,
        StatusCode::OK
    );
    assert_eq!(
        hook(&app, Some("s3cret"), r#"{"status": "ignore"}"#)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_callback_just_after_the_deadline_still_settles_within_the_grace() {
    // A provider known only by callback (no lookup), with a grace of 120 s.
    let (app, _) = fake_app(Fake {
        grace: 120,
        ..Fake::new(Mode::Bolt11)
    });
    let v = app
        .create_ok(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "late-1", "expiry_secs": 60}"#,
        ))
        .await;
    let id = v["id"].as_str().unwrap().to_owned();
    let reference = app
        .state
        .store()
        .get(&id)
        .unwrap()
        .unwrap()
        .provider_ref
        .unwrap();

    // Past the deadline, within the grace: still pending, and no new invoice for the order.
    app.clock.advance(60 + 30);
    assert_eq!(app.status(&id).await.json()["status"], "pending");
    let again = app
        .create(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "late-1"}"#,
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["code"], "order_settling");

    // The callback of a payment made before the deadline lands: paid, and the payer sees it.
    let body = format!(r#"{{"event_id": "late", "ref": "{reference}", "status": "paid"}}"#);
    assert_eq!(
        hook(&app, Some("s3cret"), &body).await.status,
        StatusCode::OK
    );
    assert_eq!(app.status(&id).await.json()["status"], "paid");
    // And the order stays paid.
    let after = app
        .create(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "late-1"}"#,
        ))
        .await;
    assert_eq!(after.json()["error"]["code"], "order_paid");
}

#[tokio::test]
async fn after_the_grace_the_invoice_expires_and_the_order_gets_a_new_one() {
    let (app, _) = fake_app(Fake {
        grace: 120,
        ..Fake::new(Mode::Bolt11)
    });
    let v = app
        .create_ok(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "late-2", "expiry_secs": 60}"#,
        ))
        .await;
    let id = v["id"].as_str().unwrap().to_owned();
    app.clock.advance(60 + 120);
    assert_eq!(app.status(&id).await.json()["status"], "expired");
    let fresh = app
        .create_ok(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "late-2"}"#,
        ))
        .await;
    assert_ne!(fresh["id"].as_str().unwrap(), id);
    // Providers that can be asked have no grace: the demo provider expires on the second.
    let demo = TestApp::new();
    let d = demo
        .create_ok(r#"{"amount_sat": 1, "expiry_secs": 60}"#)
        .await;
    demo.clock.advance(60);
    assert_eq!(
        demo.status(d["id"].as_str().unwrap()).await.json()["status"],
        "expired"
    );
}
