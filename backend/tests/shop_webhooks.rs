//! Payment notifications to the shop (issue 9 #2): a real HTTP receiver on 127.0.0.1 that is
//! down, then slow, then up, with a backend restart in between. Every event arrives, signed,
//! none lost; duplicates carry the same event id and body.

mod common;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use bitcoin::hashes::{sha256, Hash};
use common::{TestApp, T0};
use hmac::{Hmac, Mac};
use lightning_checkout_backend::config::Secret;
use lightning_checkout_backend::outbox;
use lightning_checkout_backend::shop::WebhookConfig;
use lightning_checkout_backend::{AppState, ManualClock};
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "shop-webhook-secret-for-the-tests-0123456789";
const UP: u8 = 0;
const SLOW: u8 = 1;

#[derive(Clone, Default)]
struct Receiver {
    mode: Arc<AtomicU8>,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let sig = headers
        .get("lightning-checkout-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    r.got
        .lock()
        .unwrap()
        .push((sig, String::from_utf8_lossy(&body).into_owned()));
    if r.mode.load(Ordering::SeqCst) == SLOW {
        // Longer than the backend's timeout: it gives up on this attempt and retries, though the
        // shop did receive it.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    StatusCode::OK
}

/// Verify a Stripe-style signature the way a shop would.
fn verify(sig: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<u64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(t) > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let want = hex::encode(mac.finalize().into_bytes());
    v1.contains(&want)
}

fn webhook_config(port: u16) -> WebhookConfig {
    let mut w = WebhookConfig::new(format!("http://127.0.0.1:{port}/hook"), Secret::new(SECRET));
    w.backoff = Duration::from_millis(40);
    w.max_backoff = Duration::from_millis(200);
    w.timeout = Duration::from_millis(400);
    w.poll = Duration::from_millis(20);
    w
}

fn backend(dir: &tempfile::TempDir, port: u16, clock: Arc<ManualClock>) -> AppState {
    let mut c = common::config(dir);
    c.shop.webhook = Some(webhook_config(port));
    AppState::with_clock(c, clock).expect("state")
}

async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_then_slow_then_up_across_a_restart_loses_nothing() {
    // A port for the shop, with nothing listening on it yet: the shop is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));

    // First run: three status changes while the shop is down.
    let state = backend(&dir, port, clock.clone());
    let worker = outbox::spawn(&state).expect("webhooks configured");
    let app = TestApp {
        state: state.clone(),
        clock: clock.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let paid1 = app
        .create_ok(&common::signed(
            r#"{"amount_sat": 2500, "order_id": "order-1", "description": "One"}"#,
        ))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expiring = app
        .create_ok(r#"{"amount_sat": 700, "order_id": "order-2", "expiry_secs": 60}"#)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let paid3 = app.create_ok(r#"{"amount_sat": 21}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.pay(&paid1).await.status, StatusCode::OK);
    assert_eq!(app.pay(&paid3).await.status, StatusCode::OK);
    clock.advance(61);
    assert_eq!(app.status(&expiring).await.json()["status"], "expired");
    // Several attempts fail (connection refused) and are rescheduled.
    wait_for("failed attempts", 20, || {
        outbox::all_events(&state)
            .unwrap()
            .iter()
            .all(|e| e.attempts >= 2 && e.delivered_at.is_none())
    })
    .await;
    let first_run = outbox::all_events(&state).unwrap();
    assert_eq!(first_run.len(), 3);
    assert!(first_run.iter().all(|e| e.last_error.is_some()));

    // Restart: the first process is gone; the shop comes back, but slow.
    worker.abort();
    let _ = worker.await;
    drop(app);
    drop(state);
    let receiver = Receiver::default();
    receiver.mode.store(SLOW, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let server = tokio::spawn({
        let r = receiver.clone();
        async move {
            let router = Router::new().route("/hook", post(hook)).with_state(r);
            let _ = axum::serve(listener, router).await;
        }
    });
    let state = backend(&dir, port, clock.clone());
    let worker = outbox::spawn(&state).expect("webhooks configured");
    let app = TestApp {
        state: state.clone(),
        clock: clock.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    // A fourth change after the restart.
    let paid4 = app
        .create_ok(&common::signed(
            r#"{"amount_sat": 99, "order_id": "order-4"}"#,
        ))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.pay(&paid4).await.status, StatusCode::OK);
    // The slow shop receives attempts the backend counts as failed.
    wait_for("slow receipts", 20, || {
        receiver.got.lock().unwrap().len() >= 2
    })
    .await;
    wait_for("an attempt timed out", 20, || {
        outbox::all_events(&state)
            .unwrap()
            .iter()
            .any(|e| e.last_error.as_deref() == Some("timeout"))
    })
    .await;
    // The shop is up: everything is delivered.
    receiver.mode.store(UP, Ordering::SeqCst);
    wait_for("every event delivered", 30, || {
        outbox::all_events(&state)
            .unwrap()
            .iter()
            .all(|e| e.delivered_at.is_some())
    })
    .await;
    worker.abort();
    let _ = worker.await;
    server.abort();

    let events = outbox::all_events(&state).unwrap();
    assert_eq!(events.len(), 4);
    let got = receiver.got.lock().unwrap().clone();
    assert!(
        got.len() > events.len(),
        "the slow phase made duplicates: {}",
        got.len()
    );
    let mut bodies: std::collections::HashMap<String, String> = Default::default();
    for (sig, body) in &got {
        assert!(verify(sig, body), "bad signature {sig} on {body}");
        let v: Value = serde_json::from_str(body).unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        // A duplicate is the same event: same id, same body.
        if let Some(prev) = bodies.insert(id.clone(), body.clone()) {
            assert_eq!(&prev, body, "duplicate of {id} differs");
        }
    }
    let mut want: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let mut have: Vec<&str> = bodies.keys().map(String::as_str).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want, "every event arrived, none invented");
    // What the shop learns.
    let by_invoice = |id: &str| -> Value {
        let b = bodies
            .values()
            .find(|b| b.contains(id))
            .unwrap_or_else(|| panic!("no event for {id}"));
        serde_json::from_str(b).unwrap()
    };
    let e1 = by_invoice(&paid1);
    assert_eq!(e1["type"], "invoice.paid");
    assert_eq!(e1["order_id"], "order-1");
    assert_eq!(e1["amount_msat"], 2_500_000);
    assert_eq!(e1["amount_paid_msat"], 2_500_000);
    assert_eq!(e1["description"], "One");
    assert_eq!(e1["late"], false);
    let pre: [u8; 32] = hex::decode(e1["preimage"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        hex::encode(sha256::Hash::hash(&pre).to_byte_array()),
        e1["payment_hash"].as_str().unwrap()
    );
    let e2 = by_invoice(&expiring);
    assert_eq!(e2["type"], "invoice.expired");
    assert_eq!(e2["status"], "expired");
    assert_eq!(
        e2["preimage"],
        Value::Null,
        "no preimage for an unpaid invoice"
    );
    assert_eq!(by_invoice(&paid3)["order_id"], Value::Null);
    assert_eq!(by_invoice(&paid4)["order_id"], "order-4");
}

#[tokio::test]
async fn no_outbox_rows_without_a_webhook_url() {
    let app = TestApp::new();
    let id = app.create_ok(r#"{"amount_sat": 5}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.pay(&id).await;
    assert!(outbox::all_events(&app.state).unwrap().is_empty());
}

#[test]
fn backoff_doubles_up_to_the_ceiling() {
    let w = webhook_config(1);
    assert_eq!(outbox::backoff(&w, 1), Duration::from_millis(40));
    assert_eq!(outbox::backoff(&w, 2), Duration::from_millis(80));
    assert_eq!(outbox::backoff(&w, 3), Duration::from_millis(160));
    assert_eq!(outbox::backoff(&w, 4), Duration::from_millis(200));
    assert_eq!(outbox::backoff(&w, 80), Duration::from_millis(200));
    let d = WebhookConfig::new("http://x", Secret::new(SECRET));
    // 5 s doubling to 1 h: the 72 h default is reached after ~80 attempts, never sooner than 24 h.
    assert_eq!(outbox::backoff(&d, 12), Duration::from_secs(3600));
    assert!(d.retry_for >= Duration::from_secs(24 * 3600));
}
