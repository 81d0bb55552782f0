//! Issue 10: a paid invoice is never expired without asking the provider, underpayments and late
//! payments are recorded, polls are coalesced, and the limits hold against hostile clients (over
//! real TCP where the limit lives in the server).

mod common;
mod provider_support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{TestApp, T0};
use lightning_checkout_backend::store::Status;
use lightning_checkout_backend::{app, AppState, Config, ManualClock};
use provider_support::setup;
use testkit::{Event, FakeStatus, Kind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ORDER: &str = r#"{"amount_sat": 2500, "order_id": "order-7", "expiry_secs": 60}"#;

// ---- 1. Never expire a paid invoice ------------------------------------------------------------

#[tokio::test]
async fn paid_at_the_last_second_is_found_not_reissued() {
    let s = setup(Kind::Lnd, &[]).await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.advance(59);
    // Paid at 0:59 of a 1:00 invoice; the widget never polled again.
    s.fake.mark(None, FakeStatus::Paid);
    s.advance(5);
    let again = s.app.create(&common::signed(ORDER)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "order_paid");
    assert_eq!(s.row(&id).status, Status::Paid);
    assert_eq!(s.fake.create_calls(), 1, "no second invoice");
    s.assert_no_rejections();
}

#[tokio::test]
async fn provider_down_keeps_the_invoice_pending_and_the_order_blocked() {
    let s = setup(Kind::Lnd, &[]).await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.advance(61);
    s.fake.set_down(true);
    let again = s.app.create(&common::signed(ORDER)).await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(again.code(), "provider_unreachable");
    // A poll answers the stored state and does not guess.
    assert_eq!(s.status(&id).await["status"], "pending");
    assert_eq!(s.row(&id).status, Status::Pending);
    assert_eq!(s.fake.create_calls(), 1);
    // Back up, and the invoice is still open at the node: now it may expire.
    s.fake.set_down(false);
    assert_eq!(s.status(&id).await["status"], "expired");
    let (second, _) = s.create(&common::signed(ORDER)).await;
    assert_ne!(second, id);
    assert_eq!(s.fake.create_calls(), 2);
}

#[tokio::test]
async fn demo_order_paid_before_the_deadline_stays_paid() {
    let app = TestApp::new();
    let first = app.create_ok(&common::signed(ORDER)).await;
    let id = first["id"].as_str().unwrap();
    app.clock.advance(59);
    assert_eq!(app.pay(id).await.status, StatusCode::OK);
    app.clock.advance(10);
    let again = app.create(&common::signed(ORDER)).await;
    assert_eq!(again.code(), "order_paid");
    assert_eq!(app.status(id).await.json()["status"], "paid");
}

// ---- 2. Underpayment ---------------------------------------------------------------------------

#[tokio::test]
async fn underpayment_is_recorded_never_paid() {
    let s = setup(Kind::Lnd, SHOP_WEBHOOK).await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.fake.settle_with_amount(None, 1_000_000);
    let v = s.status(&id).await;
    assert_eq!(v["status"], "pending", "{v}");
    let row = s.row(&id);
    assert_eq!(row.status, Status::Pending);
    assert_eq!(row.amount_received_msat, Some(1_000_000));
    assert_eq!(row.underpaid_at, Some(T0));
    assert_eq!(row.paid_at, None);
    // The shop hears of it (issue 9's outbox, in the same transaction), and not as paid.
    let events = outbox(&s, &id);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "invoice.underpaid");
    assert_eq!(events[0]["status"], "pending");
    assert_eq!(events[0]["amount_received_msat"], 1_000_000);
    assert_eq!(events[0]["amount_msat"], 2_500_000);
    // Past the deadline it expires as unpaid, keeping what arrived for a person.
    s.advance(61);
    assert_eq!(s.status(&id).await["status"], "expired");
    let row = s.row(&id);
    assert_eq!(row.amount_received_msat, Some(1_000_000));
    assert!(row.underpaid_at.is_some());
    // Retention never deletes it.
    s.advance(400 * 86_400);
    lightning_checkout_backend::server::retention_pass(&s.app.state)
        .await
        .unwrap();
    assert!(s.app.state.store().get(&id).unwrap().is_some());
}

/// A shop webhook configured (its receiver is never reached here: no delivery task runs), so
/// that every transition writes its event to the outbox.
const SHOP_WEBHOOK: &[(&str, &str)] = &[
    ("SHOP_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
    (
        "SHOP_WEBHOOK_SECRET",
        "whsec_test_0123456789abcdef0123456789abcdef",
    ),
];

/// The outbox events of invoice `id`, oldest first (their JSON bodies).
fn outbox(s: &provider_support::Setup, id: &str) -> Vec<serde_json::Value> {
    let conn = rusqlite::Connection::open(s.app.state.store().path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT body FROM outbox WHERE invoice_id = ?1 ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([id], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|b| serde_json::from_str(&b.unwrap()).unwrap());
    rows.collect()
}

// ---- 3. Late payment ---------------------------------------------------------------------------

#[tokio::test]
async fn late_payment_on_an_expired_invoice_is_recorded() {
    let mut env = vec![("LNBITS_WEBHOOK_URL", "{base}/api/webhooks/lnbits")];
    env.extend_from_slice(SHOP_WEBHOOK);
    let s = setup(Kind::Lnbits, &env).await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.advance(61);
    assert_eq!(s.status(&id).await["status"], "expired");
    // The payment arrives late; LNbits says so by webhook and by lookup.
    let d = s.fake.settle(None).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, 200, "{:?}", d[0]);
    let row = s.row(&id);
    assert_eq!(row.status, Status::Paid);
    assert!(row.paid_late);
    assert_eq!(s.status(&id).await["status"], "paid");
    // The shop hears both: expired, then paid (late).
    let events = outbox(&s, &id);
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["invoice.expired", "invoice.paid"], "{events:?}");
    assert_eq!(events[1]["late"], true);
    // Paid is final: nothing moves it back.
    s.fake.mark(None, FakeStatus::Expired);
    s.advance(600);
    assert_eq!(s.status(&id).await["status"], "paid");
    assert_eq!(
        s.app.create(&common::signed(ORDER)).await.code(),
        "order_paid"
    );
}

// ---- 5. Coalescing -----------------------------------------------------------------------------

#[tokio::test]
async fn a_hundred_polls_make_one_provider_call() {
    let s = setup(Kind::Lnd, &[("LOOKUP_CACHE_MS", "2000")]).await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.fake.set_lookup_delay(Duration::from_millis(200));
    for a in s.app.concurrent_polls(&id, 100).await {
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json()["status"], "pending");
    }
    assert_eq!(s.fake.lookup_calls(), 1);
    // Within the cache period, another poll is answered without a call.
    s.status(&id).await;
    assert_eq!(s.fake.lookup_calls(), 1);
}

#[tokio::test]
async fn a_slow_provider_is_answered_from_the_store_within_the_bound() {
    let s = setup(
        Kind::Lnd,
        &[("LOOKUP_CACHE_MS", "2000"), ("POLL_WAIT_MS", "300")],
    )
    .await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    s.fake.set_lookup_delay(Duration::from_secs(5));
    let start = Instant::now();
    for a in s.app.concurrent_polls(&id, 20).await {
        assert_eq!(a.json()["status"], "pending");
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(s.fake.lookup_calls(), 1);
}

#[tokio::test]
async fn unsigned_hints_cannot_drive_lookups() {
    let s = setup(
        Kind::Lnbits,
        &[
            ("LOOKUP_CACHE_MS", "2000"),
            ("LNBITS_WEBHOOK_URL", "{base}/api/webhooks/lnbits"),
        ],
    )
    .await;
    let (id, _) = s.create(&common::signed(ORDER)).await;
    let inv = s.fake.invoices()[0].clone();
    let hint = s.fake.webhook(&inv, Event::Paid).expect("LNbits hint");
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let app = s.app.router();
        let hint = hint.clone();
        sends.spawn(async move {
            let mut req = axum::http::Request::post("/api/webhooks/lnbits");
            for (k, v) in &hint.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            common::send(app, req.body(axum::body::Body::from(hint.body)).unwrap()).await
        });
    }
    while let Some(a) = sends.join_next().await {
        let a = a.unwrap();
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.bytes)
        );
    }
    // Each hint needed an answer asked after it arrived: at most one lookup per cache period.
    assert!(s.fake.lookup_calls() <= 3, "{}", s.fake.lookup_calls());
    assert_eq!(
        s.row(&id).status,
        Status::Pending,
        "the hint alone pays nothing"
    );
}

// ---- 6. Demo on mainnet ------------------------------------------------------------------------

#[test]
fn demo_provider_is_refused_on_mainnet_even_when_built_directly() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::config(&dir);
    c.network = lightning_checkout_backend::config::Network::Bitcoin;
    let err = AppState::with_clock(c, Arc::new(ManualClock::new(T0))).unwrap_err();
    assert!(err.to_string().contains("NETWORK=bitcoin"), "{err}");
}

// ---- 7. pay_url --------------------------------------------------------------------------------

#[tokio::test]
async fn pay_link_on_another_host_is_refused() {
    // The fake's links point to 127.0.0.1; an operator who pins Kraken's pay host elsewhere
    // gets no link from anywhere else.
    let s = setup(Kind::Kraken, &[("PAY_LINK_HOST", "pay.kraken.example")]).await;
    let a = s.app.create(&common::signed(ORDER)).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert_eq!(a.code(), "provider_error");
    // Default: the configured provider host, exactly.
    let s = setup(Kind::Kraken, &[]).await;
    let (_, v) = s.create(&common::signed(ORDER)).await;
    assert!(v["pay_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/", s.fake.url())));
}

// ---- 4. Limits over real TCP -------------------------------------------------------------------

struct Served {
    addr: SocketAddr,
    state: AppState,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(vars: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("DATA_DIR".to_string(), data)])
        .collect();
    let config = Config::from_lookup(|k| map.get(k).cloned()).unwrap();
    let limits = config.limits.clone();
    let state = AppState::with_clock(config, Arc::new(ManualClock::new(T0))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        let _ = lightning_checkout_backend::server::serve(
            listener,
            router,
            &limits,
            std::future::pending(),
        )
        .await;
    });
    Served {
        addr,
        state,
        _dir: dir,
        task,
    }
}

#[tokio::test]
async fn slow_headers_are_disconnected() {
    let srv = serve(&[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    // A well-behaved client is served.
    let ok = reqwest::get(format!("http://{}/api/health", srv.addr))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Slowloris: a header line every 300 ms, never the blank line.
    let mut sock = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let start = Instant::now();
    sock.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut closed = false;
    for i in 0..30 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if sock
            .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(1), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => {
                // hyper may answer 408 before closing; that ends the request too.
                assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the slow client was never disconnected");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

async fn create_from(srv: &Served, local: IpAddr, xff: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .local_address(local)
        .build()
        .unwrap();
    let mut req = client
        .post(format!("http://{}/api/invoices", srv.addr))
        .header("content-type", "application/json")
        .body(r#"{"amount_sat": 1}"#);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_create_flood_gets_429_while_another_ip_is_served() {
    let srv = serve(&[
        ("CREATE_RATE_PER_MIN", "6"),
        ("CREATE_RATE_BURST", "5"),
        ("TRUSTED_PROXIES", "127.0.0.3"),
    ])
    .await;
    let flooder: IpAddr = "127.0.0.1".parse().unwrap();
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..20 {
        let r = create_from(&srv, flooder, None).await;
        match r.status().as_u16() {
            201 => ok += 1,
            429 => {
                refused += 1;
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait), "{wait}");
                let v: serde_json::Value =
                    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                assert_eq!(v["error"]["code"], "rate_limited");
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!((ok, refused), (5, 15));
    // Another client is served.
    let other = create_from(&srv, "127.0.0.2".parse().unwrap(), None).await;
    assert_eq!(other.status(), 201);
    // The flooder cannot escape by claiming another address: it is not a trusted proxy.
    let spoof = create_from(&srv, flooder, Some("198.51.100.9")).await;
    assert_eq!(spoof.status(), 429);
    // Through the trusted proxy, the forwarded client is who counts.
    let proxied = create_from(&srv, "127.0.0.3".parse().unwrap(), Some("198.51.100.9")).await;
    assert_eq!(proxied.status(), 201);
    assert!(srv.state.store().path().exists());
}

// ---- 4. Retention ------------------------------------------------------------------------------

#[tokio::test]
async fn retention_deletes_only_old_unpaid_expired_rows_and_old_events() {
    let app = TestApp::new();
    let body = r#"{"amount_sat": 10, "expiry_secs": 60}"#;
    let old_expired = app.create_ok(body).await["id"].as_str().unwrap().to_owned();
    let old_paid = app.create_ok(body).await["id"].as_str().unwrap().to_owned();
    let old_pending = app
        .create_ok(r#"{"amount_sat": 10, "expiry_secs": 86400}"#)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.pay(&old_paid).await.status, StatusCode::OK);
    let store = app.state.store();
    store.record_event("demo", "evt-old", T0).unwrap();
    app.clock.advance(120);
    assert_eq!(app.status(&old_expired).await.json()["status"], "expired");
    // 31 days later: a recent expired invoice and a recent event.
    app.clock.advance(31 * 86_400);
    let recent = app.create_ok(body).await["id"].as_str().unwrap().to_owned();
    app.clock.advance(120);
    assert_eq!(app.status(&recent).await.json()["status"], "expired");
    store
        .record_event("demo", "evt-new", app.state.now())
        .unwrap();
    let (invoices, events) = lightning_checkout_backend::server::retention_pass(&app.state)
        .await
        .unwrap();
    assert_eq!((invoices, events), (1, 1));
    assert!(store.get(&old_expired).unwrap().is_none());
    assert!(store.get(&old_paid).unwrap().is_some(), "never a paid row");
    assert!(
        store.get(&old_pending).unwrap().is_some(),
        "never a pending row"
    );
    assert!(store.get(&recent).unwrap().is_some());
    assert!(!store.event_seen("demo", "evt-old").unwrap());
    assert!(store.event_seen("demo", "evt-new").unwrap());
}
