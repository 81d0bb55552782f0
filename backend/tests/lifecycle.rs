//! Idempotent creation by order, every status transition, expiry by the injected clock, the demo
//! pay endpoint, and a restart on the same DATA_DIR.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use bitcoin::hashes::{sha256, Hash};
use common::{TestApp, T0};
use lightning_checkout_backend::{AppState, ManualClock};

fn id_of(v: &serde_json::Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn ids_are_random_and_url_safe() {
    let app = TestApp::new();
    let a = id_of(&app.create_ok(r#"{"amount_sat": 1}"#).await);
    let b = id_of(&app.create_ok(r#"{"amount_sat": 1}"#).await);
    assert_ne!(a, b);
    for id in [&a, &b] {
        assert!(id.starts_with("inv_") && id.len() == 30, "{id}");
        assert!(
            id[4..]
                .bytes()
                .all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7')),
            "{id}"
        );
    }
}

#[tokio::test]
async fn same_order_gives_the_same_open_invoice() {
    let app = TestApp::new();
    let body = r#"{"amount_sat": 2500, "order_id": "order-1"}"#;
    let first = app.create_ok(body).await;
    let again = app.create(body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), first);
    // A different description or expiry does not make a second invoice either.
    let again = app
        .create(
            r#"{"amount_sat": 2500, "order_id": "order-1", "description": "x", "expiry_secs": 60}"#,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], first["id"]);
    // Another order is another invoice.
    let other = app
        .create_ok(r#"{"amount_sat": 2500, "order_id": "order-2"}"#)
        .await;
    assert_ne!(other["id"], first["id"]);
}

#[tokio::test]
async fn same_order_other_amount_conflicts() {
    let app = TestApp::new();
    app.create_ok(r#"{"amount_sat": 2500, "order_id": "o"}"#)
        .await;
    let a = app.create(r#"{"amount_sat": 2501, "order_id": "o"}"#).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "order_conflict");
}

#[tokio::test]
async fn expired_order_gets_a_new_invoice() {
    let app = TestApp::new();
    let body = r#"{"amount_sat": 2500, "order_id": "o", "expiry_secs": 60}"#;
    let first = app.create_ok(body).await;
    app.clock.advance(59);
    assert_eq!(app.create(body).await.status, StatusCode::OK);
    // At the deadline and not yet marked expired by any poll: create marks it and makes a new one.
    app.clock.advance(1);
    let second = app.create_ok(body).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(app.status(&id_of(&first)).await.json()["status"], "expired");
    // And once expired, even another amount is fine.
    app.clock.advance(60);
    app.create_ok(r#"{"amount_sat": 1, "order_id": "o"}"#).await;
    let all = app.state.store().invoices_for_order("o").unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter().filter(|i| i.is_open_at(app.clock_now())).count(),
        1
    );
}

#[tokio::test]
async fn paid_order_is_never_invoiced_again() {
    // A second invoice for a paid order could be paid too: refuse it, whatever the amount, and
    // even once the paid invoice's deadline has passed.
    let app = TestApp::new();
    let body = r#"{"amount_sat": 5, "order_id": "o", "expiry_secs": 60}"#;
    let first = app.create_ok(body).await;
    assert_eq!(app.pay(&id_of(&first)).await.status, StatusCode::OK);
    for body in [body, r#"{"amount_sat": 6, "order_id": "o"}"#] {
        let a = app.create(body).await;
        assert_eq!(a.status, StatusCode::CONFLICT);
        assert_eq!(a.code(), "order_paid");
        assert_eq!(
            a.json()["error"]["message"],
            "This order has already been paid."
        );
    }
    app.clock.advance(3600);
    let a = app.create(body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::CONFLICT, "order_paid")
    );
    assert_eq!(app.state.store().invoices_for_order("o").unwrap().len(), 1);
    // Other orders are unaffected.
    app.create_ok(r#"{"amount_sat": 5, "order_id": "o2"}"#)
        .await;
}

trait Now {
    fn clock_now(&self) -> u64;
}
impl Now for TestApp {
    fn clock_now(&self) -> u64 {
        lightning_checkout_backend::Clock::now(&*self.clock)
    }
}

#[tokio::test]
async fn pending_then_paid_carries_the_preimage() {
    let app = TestApp::new();
    let created = app.create_ok(r#"{"amount_sat": 2500}"#).await;
    let id = id_of(&created);
    let s = app.status(&id).await;
    assert_eq!(s.status, StatusCode::OK);
    let s = s.json();
    assert_eq!(s["status"], "pending");
    assert!(
        s.get("preimage").is_none() && s.get("paid_at").is_none(),
        "{s}"
    );

    app.clock.advance(10);
    let paid = app.pay(&id).await;
    assert_eq!(paid.status, StatusCode::OK);
    let paid = paid.json();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_at"], T0 + 10);
    let preimage = hex::decode(paid["preimage"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(sha256::Hash::hash(&preimage).to_byte_array()),
        created["payment_hash"].as_str().unwrap()
    );
    assert_eq!(app.status(&id).await.json(), paid);

    // Paying twice: 200, same preimage, same paid_at.
    app.clock.advance(10);
    let again = app.pay(&id).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), paid);

    // Paid never goes back, even long past the deadline.
    app.clock.advance(100_000);
    assert_eq!(app.status(&id).await.json(), paid);
}

#[tokio::test]
async fn pending_then_expired_by_the_clock() {
    let app = TestApp::new();
    let created = app
        .create_ok(r#"{"amount_sat": 2500, "expiry_secs": 1}"#)
        .await;
    let id = id_of(&created);
    assert_eq!(app.status(&id).await.json()["status"], "pending");
    app.clock.advance(1);
    let s = app.status(&id).await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.json()["status"], "expired");
    assert!(s.json().get("preimage").is_none());

    // Expired never becomes paid through the demo endpoint, and stays expired.
    let a = app.pay(&id).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "invoice_expired");
    assert_eq!(app.status(&id).await.json()["status"], "expired");
}

#[tokio::test]
async fn paying_past_the_deadline_before_any_poll_is_refused() {
    let app = TestApp::new();
    let id = id_of(
        &app.create_ok(r#"{"amount_sat": 2500, "expiry_secs": 30}"#)
            .await,
    );
    app.clock.advance(30);
    let a = app.pay(&id).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "invoice_expired");
    assert_eq!(app.status(&id).await.json()["status"], "expired");
    // One second before the deadline it could still be paid.
    let id = id_of(
        &app.create_ok(r#"{"amount_sat": 2500, "expiry_secs": 30}"#)
            .await,
    );
    app.clock.advance(29);
    assert_eq!(app.pay(&id).await.json()["status"], "paid");
}

#[tokio::test]
async fn store_transitions_are_compare_and_set() {
    let app = TestApp::new();
    let id = id_of(
        &app.create_ok(r#"{"amount_sat": 7, "expiry_secs": 10}"#)
            .await,
    );
    let store = app.state.store();
    use lightning_checkout_backend::store::{Status, Transition};
    assert!(matches!(
        store.expire_if_due(&id, T0 + 9).unwrap(),
        Some(Transition::Unchanged(_))
    ));
    assert!(matches!(
        store.mark_paid(&id, T0 + 1, None, None).unwrap(),
        Some(Transition::Applied(_))
    ));
    // paid -> expired and paid -> paid are refused.
    assert!(
        matches!(store.mark_expired(&id).unwrap(), Some(Transition::Unchanged(ref i)) if i.status == Status::Paid)
    );
    assert!(
        matches!(store.expire_if_due(&id, T0 + 99).unwrap(), Some(Transition::Unchanged(ref i)) if i.status == Status::Paid)
    );
    assert!(
        matches!(store.mark_paid(&id, T0 + 2, None, None).unwrap(), Some(Transition::Unchanged(ref i)) if i.paid_at == Some(T0 + 1))
    );
    // expired -> paid is refused.
    let id2 = id_of(&app.create_ok(r#"{"amount_sat": 7}"#).await);
    assert!(matches!(
        store.mark_expired(&id2).unwrap(),
        Some(Transition::Applied(_))
    ));
    assert!(
        matches!(store.mark_paid(&id2, T0, None, None).unwrap(), Some(Transition::Unchanged(ref i)) if i.status == Status::Expired)
    );
    assert!(store
        .mark_paid("inv_nope", T0, None, None)
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::new();
    for id in [
        "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "inv_7f3a9c2e51d04b8a",
        "nope",
        "inv_AAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%00",
        "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa%2F..",
        &"x".repeat(5000),
    ] {
        let a = app.status(id).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(a.code(), "not_found");
        let a = app.pay(id).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(a.code(), "not_found");
    }
}

#[tokio::test]
async fn restart_keeps_invoices_status_and_node_key() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let key_path = dir.path().join("data").join("node_key");
    let (paid_id, pending_id, paid_body, pending_body, key) = {
        let state = AppState::with_clock(common::config(&dir), clock.clone()).unwrap();
        let app = TestApp {
            state,
            clock: clock.clone(),
            dir: tempfile::tempdir().unwrap(),
        };
        let paid = id_of(
            &app.create_ok(r#"{"amount_sat": 2500, "order_id": "r1"}"#)
                .await,
        );
        let pending = id_of(
            &app.create_ok(r#"{"amount_sat": 3000, "order_id": "r2"}"#)
                .await,
        );
        app.pay(&paid).await;
        let key = std::fs::read_to_string(&key_path).unwrap();
        (
            paid.clone(),
            pending.clone(),
            app.status(&paid).await.json(),
            app.status(&pending).await.json(),
            key,
        )
    };
    // Everything from the first state is dropped here; open the same directory again.
    let state = AppState::with_clock(common::config(&dir), clock.clone()).unwrap();
    let app = TestApp {
        state,
        clock,
        dir: tempfile::tempdir().unwrap(),
    };
    assert_eq!(app.status(&paid_id).await.json(), paid_body);
    assert_eq!(app.status(&pending_id).await.json(), pending_body);
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap(),
        key,
        "same node key"
    );
    // The open order is still found by its order id.
    let again = app
        .create(r#"{"amount_sat": 3000, "order_id": "r2"}"#)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], pending_body["id"]);
    // The demo can still pay the invoice created before the restart, with its original preimage.
    let paid = app.pay(&pending_id).await.json();
    let preimage = hex::decode(paid["preimage"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(sha256::Hash::hash(&preimage).to_byte_array()),
        pending_body["payment_hash"].as_str().unwrap()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn node_key_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::new();
    app.create_ok(r#"{"amount_sat": 1}"#).await;
    let data = app.dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("node_key")), 0o600);
    assert_eq!(mode(&data.join("checkout.sqlite3")), 0o600);
    assert_eq!(mode(&data), 0o700);
}

#[tokio::test]
async fn a_corrupt_node_key_stops_start_up_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("node_key"), "secret-looking-garbage").unwrap();
    let err = AppState::new(common::config(&dir)).unwrap_err().to_string();
    assert!(err.contains("node_key"), "{err}");
    assert!(!err.contains("secret-looking-garbage"), "{err}");
    // The file is not overwritten.
    assert_eq!(
        std::fs::read_to_string(data.join("node_key")).unwrap(),
        "secret-looking-garbage"
    );
}
