//! Fiat prices (issue 12 #3): rates from local HTTP servers that speak Kraken's and Coinbase's
//! real answer shapes (and garbage, slowness, nothing at all), the cache and its maximum age
//! (stale → refused), conversions recorded on the invoice and answered, signed fiat orders
//! (tampered amount or currency refused), and the unsigned-order policy.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{TestApp, T0, TEST_SECRET};
use lightning_checkout_backend::config::{Config, Secret};
use lightning_checkout_backend::fiat::FiatAmount;
use lightning_checkout_backend::order_token::{self, TokenAmount};
use lightning_checkout_backend::rates::{RateConfig, RateSource};
use serde_json::{json, Value};

/// How the local rate server answers.
#[derive(Debug, Clone)]
enum Mode {
    /// The real shape with this price.
    Price(&'static str),
    /// A 200 with HTML.
    Garbage,
    /// The real shape with a price that is no number.
    BadPrice,
    /// Kraken's error envelope / a 404.
    Error,
    /// Answers after 2 s.
    Slow,
}

#[derive(Clone)]
struct RateServer {
    mode: Arc<Mutex<Mode>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl RateServer {
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

async fn kraken(State(s): State<RateServer>, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    s.calls.lock().unwrap().push(format!("kraken {q}"));
    let mode = s.mode.lock().unwrap().clone();
    // The pair as Kraken names it in `result` (XBTEUR → XXBTZEUR).
    let pair = format!("XXBTZ{}", q.trim_start_matches("pair=XBT"));
    let ticker = |c: &str| {
        json!({"error": [], "result": {pair.clone(): {
            "a": ["87124.10000", "1", "1.000"], "b": ["87124.00000", "3", "3.000"],
            "c": [c, "0.00119000"], "v": ["371.88", "1045.47"], "p": ["86979.1", "87161.2"],
            "t": [12345, 34567], "l": ["86000.00000", "86000.00000"],
            "h": ["88000.00000", "88000.00000"], "o": "86500.00000"}}})
        .to_string()
    };
    match mode {
        Mode::Price(p) => ([("content-type", "application/json")], ticker(p)).into_response(),
        Mode::BadPrice => ([("content-type", "application/json")], ticker("NaN")).into_response(),
        Mode::Garbage => "<html>maintenance</html>".into_response(),
        Mode::Error => (
            [("content-type", "application/json")],
            r#"{"error":["EQuery:Unknown asset pair"]}"#,
        )
            .into_response(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            ticker("1.00").into_response()
        }
    }
}

async fn coinbase(State(s): State<RateServer>, Path(pair): Path<String>) -> Response {
    s.calls.lock().unwrap().push(format!("coinbase {pair}"));
    let mode = s.mode.lock().unwrap().clone();
    let cur = pair.trim_start_matches("BTC-").to_owned();
    let spot = |a: &str| {
        json!({"data": {"amount": a, "base": "BTC", "currency": cur.clone()}}).to_string()
    };
    match mode {
        Mode::Price(p) => ([("content-type", "application/json")], spot(p)).into_response(),
        Mode::BadPrice => ([("content-type", "application/json")], spot("-5")).into_response(),
        Mode::Garbage => {
            ([("content-type", "application/json")], r#"{"data": 42}"#).into_response()
        }
        Mode::Error => (
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"id":"not_found","message":"Invalid currency"}]}"#,
        )
            .into_response(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            spot("1.00").into_response()
        }
    }
}

/// A local server with Kraken's `/0/public/Ticker` and Coinbase's `/v2/prices/{pair}/spot`.
async fn rate_server(mode: Mode) -> (RateServer, String) {
    let s = RateServer {
        mode: Arc::new(Mutex::new(mode)),
        calls: Arc::default(),
    };
    let app = Router::new()
        .route("/0/public/Ticker", get(kraken))
        .route("/v2/prices/{pair}/spot", get(coinbase))
        .with_state(s.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (s, url)
}

fn with_source(source: Option<RateSource>) -> impl FnOnce(&mut Config) {
    move |c| {
        c.rates = RateConfig {
            source,
            refresh_secs: 60,
            max_age_secs: 300,
            timeout: Duration::from_millis(400),
        }
    }
}

const EUR_450: &str = r#"{"currency": "EUR", "fiat_amount": "4.50", "description": "Coffee"}"#;

/// Rows in the invoices table, read from the database file itself.
fn count_invoices(app: &TestApp) -> i64 {
    let c = rusqlite::Connection::open(app.state.store().path()).unwrap();
    c.query_row("SELECT COUNT(*) FROM invoices", [], |r| r.get(0))
        .unwrap()
}

/// A fiat create refused because no rate may price it.
async fn rate_unavailable(app: &TestApp) {
    app.create_refused(EUR_450, StatusCode::SERVICE_UNAVAILABLE, "rate_unavailable")
        .await;
}

#[tokio::test]
async fn kraken_ticker_prices_an_invoice_and_the_rate_is_recorded_and_answered() {
    let (srv, url) = rate_server(Mode::Price("87123.45678")).await;
    let app = TestApp::with_config(with_source(Some(RateSource::Kraken { base: url })));
    let v = app.create_ok(EUR_450).await;
    // ceil(4.50 × 10^8 / 87123.45678) = ceil(5165.08…) = 5166 sat.
    assert_eq!(v["amount_sat"], 5166);
    assert_eq!(
        v["fiat"],
        json!({"currency": "EUR", "amount": "4.50", "rate": "87123.45678",
               "rate_source": "kraken", "rate_at": T0})
    );
    assert_eq!(srv.calls(), vec!["kraken pair=XBTEUR"]);
    let id = v["id"].as_str().unwrap();
    let st = app.status(id).await.json();
    assert_eq!(st["fiat"], v["fiat"]);
    let row = app.state.store().get(id).unwrap().unwrap();
    assert_eq!(row.amount_msat, 5_166_000);
    let f = row.fiat.expect("fiat recorded");
    assert_eq!(
        (f.currency.as_str(), f.rate.as_str()),
        ("EUR", "87123.45678")
    );
    // A sat-priced invoice has no fiat field at all.
    let v = app.create_ok(r#"{"amount_sat": 100}"#).await;
    assert!(v.get("fiat").is_none(), "{v}");
}

#[tokio::test]
async fn coinbase_spot_prices_an_invoice() {
    let (srv, url) = rate_server(Mode::Price("60000.00")).await;
    let app = TestApp::with_config(with_source(Some(RateSource::Coinbase { base: url })));
    let v = app
        .create_ok(r#"{"currency": "USD", "fiat_amount": "0.01"}"#)
        .await;
    // 0.01 / 60000 BTC = 16.67 sat → 17 (rounded up: the shop is never short).
    assert_eq!(v["amount_sat"], 17);
    assert_eq!(v["fiat"]["rate_source"], "coinbase");
    assert_eq!(v["fiat"]["amount"], "0.01");
    assert_eq!(srv.calls(), vec!["coinbase BTC-USD"]);
}

#[tokio::test]
async fn garbage_errors_slow_and_down_sources_refuse_fiat_and_store_nothing() {
    for (mode, kraken) in [
        (Mode::Garbage, true),
        (Mode::Garbage, false),
        (Mode::BadPrice, true),
        (Mode::BadPrice, false),
        (Mode::Error, true),
        (Mode::Error, false),
        (Mode::Slow, true),
        (Mode::Slow, false),
    ] {
        let (_srv, base) = rate_server(mode.clone()).await;
        let source = if kraken {
            RateSource::Kraken { base }
        } else {
            RateSource::Coinbase { base }
        };
        let app = TestApp::with_config(with_source(Some(source)));
        let started = std::time::Instant::now();
        rate_unavailable(&app).await;
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{mode:?}: waited for a slow source"
        );
        assert_eq!(count_invoices(&app), 0, "{mode:?}");
        // Sat prices do not depend on a rate.
        app.create_ok(r#"{"amount_sat": 100}"#).await;
    }
    // A failing source is asked once per RETRY_AFTER_FAILURE_SECS, not once per create.
    let (srv, base) = rate_server(Mode::Slow).await;
    let app = TestApp::with_config(with_source(Some(RateSource::Kraken { base })));
    rate_unavailable(&app).await;
    let started = std::time::Instant::now();
    for _ in 0..5 {
        rate_unavailable(&app).await;
    }
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "not waiting for the slow source again"
    );
    assert_eq!(srv.calls().len(), 1);
    app.clock
        .advance(lightning_checkout_backend::rates::RETRY_AFTER_FAILURE_SECS);
    srv.set(Mode::Price("60000.00"));
    assert_eq!(app.create_ok(EUR_450).await["amount_sat"], 7500);
    assert_eq!(srv.calls().len(), 2);
    // Down: nothing listens there.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let app = TestApp::with_config(with_source(Some(RateSource::Kraken { base })));
    rate_unavailable(&app).await;
}

#[tokio::test]
async fn a_cached_rate_is_reused_then_refused_once_older_than_the_maximum_age() {
    let (srv, url) = rate_server(Mode::Price("60000.00")).await;
    let app = TestApp::with_config(with_source(Some(RateSource::Kraken { base: url })));
    assert_eq!(app.create_ok(EUR_450).await["amount_sat"], 7500);
    // Within RATE_REFRESH_SECS: the cache answers, the source is not asked.
    app.clock.advance(30);
    srv.set(Mode::Price("90000.00"));
    assert_eq!(app.create_ok(EUR_450).await["fiat"]["rate"], "60000.00");
    assert_eq!(srv.calls().len(), 1);
    // Past it: asked again, the new rate is used.
    app.clock.advance(31);
    let v = app.create_ok(EUR_450).await;
    assert_eq!(
        (v["amount_sat"].as_u64(), v["fiat"]["rate"].as_str()),
        (Some(5000), Some("90000.00"))
    );
    assert_eq!(v["fiat"]["rate_at"], T0 + 61);
    // The source breaks: a rate up to RATE_MAX_AGE_SECS old still prices, with its own time.
    srv.set(Mode::Garbage);
    app.clock.advance(200);
    let v = app.create_ok(EUR_450).await;
    assert_eq!(v["fiat"]["rate_at"], T0 + 61);
    app.clock.advance(100);
    let v = app.create_ok(EUR_450).await;
    assert_eq!(
        v["fiat"]["rate_at"],
        T0 + 61,
        "300 s old: still within the maximum age"
    );
    // Older than that: refused, never guessed.
    app.clock.advance(1);
    rate_unavailable(&app).await;
    // The source is back: priced again once it may be asked again.
    srv.set(Mode::Price("60000.00"));
    app.clock
        .advance(lightning_checkout_backend::rates::RETRY_AFTER_FAILURE_SECS);
    assert_eq!(app.create_ok(EUR_450).await["fiat"]["rate_at"], T0 + 372);
}

#[tokio::test]
async fn one_order_keeps_its_open_invoice_when_the_rate_moves() {
    let (srv, url) = rate_server(Mode::Price("60000.00")).await;
    let app = TestApp::with_config(with_source(Some(RateSource::Kraken { base: url })));
    let body = r#"{"currency": "EUR", "fiat_amount": "4.50", "order_id": "cart-1"}"#;
    let first = app.create_ok(body).await;
    srv.set(Mode::Price("70000.00"));
    app.clock.advance(120);
    let again = app.create(body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], first["id"]);
    assert_eq!(again.json()["amount_sat"], 7500);
    // Another price for the same open order is a conflict.
    let other = r#"{"currency": "EUR", "fiat_amount": "5.00", "order_id": "cart-1"}"#;
    app.create_refused(other, StatusCode::CONFLICT, "order_conflict")
        .await;
}

#[tokio::test]
async fn fixed_rates_bad_fiat_bodies_and_minor_digits() {
    // The demo's default: fixed rates (EUR 60000.00, JPY 10000000, KWD 20000.000, …).
    let app = TestApp::new();
    let v = app.create_ok(EUR_450).await;
    assert_eq!(
        (v["amount_sat"].as_u64(), v["fiat"]["rate_source"].as_str()),
        (Some(7500), Some("fixed"))
    );
    let v = app
        .create_ok(r#"{"currency": "JPY", "fiat_amount": "500"}"#)
        .await;
    assert_eq!(v["amount_sat"], 5000);
    assert_eq!(v["fiat"]["amount"], "500");
    let v = app
        .create_ok(r#"{"currency": "KWD", "fiat_amount": "1.5"}"#)
        .await;
    assert_eq!(v["amount_sat"], 7500);
    assert_eq!(v["fiat"]["amount"], "1.500");
    for (body, status, code) in [
        (
            r#"{"currency": "XXX", "fiat_amount": "1"}"#,
            400,
            "unsupported_currency",
        ),
        (
            r#"{"currency": "CHF", "fiat_amount": "1"}"#,
            400,
            "unsupported_currency",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": 4.5}"#,
            400,
            "invalid_fiat_amount",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": "4.505"}"#,
            400,
            "invalid_fiat_amount",
        ),
        (
            r#"{"currency": "JPY", "fiat_amount": "1.5"}"#,
            400,
            "invalid_fiat_amount",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": "-1"}"#,
            400,
            "invalid_fiat_amount",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": "0.00"}"#,
            400,
            "invalid_fiat_amount",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": "1e3"}"#,
            400,
            "invalid_fiat_amount",
        ),
        (r#"{"fiat_amount": "1"}"#, 400, "invalid_fiat_amount"),
        (
            r#"{"currency": "EUR", "fiat_amount": "1", "amount_sat": 1667}"#,
            400,
            "invalid_fiat_amount",
        ),
        // 4,500,000 sat is the ceiling: EUR 2701 is 4,501,667 sat at 60000.
        (
            r#"{"currency": "EUR", "fiat_amount": "2701"}"#,
            400,
            "amount_too_large",
        ),
        (
            r#"{"currency": "EUR", "fiat_amount": "10000000000000.00"}"#,
            400,
            "amount_too_large",
        ),
    ] {
        app.create_refused(body, StatusCode::from_u16(status).unwrap(), code)
            .await;
    }
    assert_eq!(count_invoices(&app), 3);
    // No RATE_SOURCE: fiat refused, sat fine.
    let app = TestApp::with_config(with_source(None));
    app.create_refused(
        EUR_450,
        StatusCode::SERVICE_UNAVAILABLE,
        "fiat_not_configured",
    )
    .await;
    app.create_ok(r#"{"amount_sat": 100}"#).await;
}

fn fiat_token(order_id: &str, currency: &str, amount: &str) -> String {
    let price = FiatAmount::parse(currency, amount).unwrap().price();
    common::order_token(order_id, TokenAmount::Fiat(price), "Mug", T0 + 600)
}

/// `token` with its claims edited and the signature kept: what a page could try.
fn tampered(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{body}.{}", parts[0], parts[2])
}

#[tokio::test]
async fn signed_fiat_orders_carry_their_price_and_refuse_changes() {
    let app = TestApp::new();
    let t = fiat_token("order-eur-1", "EUR", "4.50");
    let c = order_token::verify(&t, &Secret::new(TEST_SECRET), T0, 4_500_000).unwrap();
    assert_eq!(
        c.amount,
        TokenAmount::Fiat(FiatAmount::parse("EUR", "4.50").unwrap().price())
    );
    // The body may repeat the price, never change it, nor name a sat amount.
    for (body, code) in [
        (
            json!({"order_token": t, "currency": "EUR", "fiat_amount": "4.49"}),
            "token_mismatch",
        ),
        (
            json!({"order_token": t, "currency": "USD", "fiat_amount": "4.50"}),
            "token_mismatch",
        ),
        (json!({"order_token": t, "amount_sat": 1}), "token_mismatch"),
    ] {
        app.create_refused(&body.to_string(), StatusCode::CONFLICT, code)
            .await;
    }
    // A sat token with a fiat body is a mismatch too.
    let sat = common::signed(r#"{"order_id": "order-sat", "amount_sat": 2500}"#);
    let mut sat: Value = serde_json::from_str(&sat).unwrap();
    sat["currency"] = "EUR".into();
    sat["fiat_amount"] = "0.01".into();
    app.create_refused(&sat.to_string(), StatusCode::CONFLICT, "token_mismatch")
        .await;
    // Tampered claims (a cheaper amount, another currency, a sat amount added): the signature fails.
    for edit in [
        Box::new(|c: &mut Value| c["fiat_amount"] = "0.01".into()) as Box<dyn FnOnce(&mut Value)>,
        Box::new(|c: &mut Value| c["currency"] = "JPY".into()),
        Box::new(|c: &mut Value| c["amount_sat"] = 1.into()),
    ] {
        app.token_refused(
            &tampered(&t, edit),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
    }
    // A token stating both a fiat price and sat, or a fiat amount as a number, is invalid even
    // when properly signed.
    for claims in [
        json!({"order_id": "o-2", "currency": "EUR", "fiat_amount": "1.00", "amount_sat": 5, "exp": T0 + 60}),
        json!({"order_id": "o-2", "currency": "EUR", "fiat_amount": 1.0, "exp": T0 + 60}),
        json!({"order_id": "o-2", "currency": "EUR", "exp": T0 + 60}),
    ] {
        let t = common::sign_claims(&claims);
        app.token_refused(&t, StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
    }
    assert_eq!(count_invoices(&app), 0);
    // The token alone: priced by the backend.
    let v = app.create_ok(&json!({"order_token": t}).to_string()).await;
    assert_eq!(v["amount_sat"], 7500);
    assert_eq!(v["fiat"]["amount"], "4.50");
    let row = app
        .state
        .store()
        .get(v["id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.order_id.as_deref(), row.description.as_str()),
        (Some("order-eur-1"), "Mug")
    );
}

#[tokio::test]
async fn unsigned_fiat_only_where_unsigned_sat_is_allowed() {
    let app = TestApp::with_config(|c| c.shop.allow_unsigned = false);
    app.create_refused(EUR_450, StatusCode::UNAUTHORIZED, "missing_token")
        .await;
    let t = fiat_token("order-eur-2", "EUR", "4.50");
    app.create_ok(&json!({"order_token": t}).to_string()).await;
}

#[test]
fn rate_source_variables() {
    let read = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Config::from_lookup(move |n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
    };
    let c = read(&[]).unwrap();
    assert!(
        matches!(c.rates.source, Some(RateSource::Fixed(_))),
        "demo: fixed rates"
    );
    let c = read(&[
        ("RATE_SOURCE", "kraken"),
        ("RATE_KRAKEN_URL", "http://127.0.0.1:9/"),
    ])
    .unwrap();
    assert_eq!(
        c.rates.source,
        Some(RateSource::Kraken {
            base: "http://127.0.0.1:9".into()
        })
    );
    let c = read(&[("RATE_SOURCE", "coinbase"), ("RATE_MAX_AGE_SECS", "30")]).unwrap();
    assert_eq!(
        c.rates.source,
        Some(RateSource::Coinbase {
            base: "https://api.coinbase.com".into()
        })
    );
    assert_eq!(c.rates.max_age_secs, 30);
    for (n, v) in [
        ("RATE_SOURCE", "fixed:EUR=abc"),
        ("RATE_SOURCE", "fixed:XXX=1"),
        ("RATE_SOURCE", "bitstamp"),
        ("RATE_MAX_AGE_SECS", "0"),
        ("RATE_KRAKEN_URL", "ftp://x"),
    ] {
        let e = read(&[(n, v)]).unwrap_err();
        assert_eq!(e.name, n);
    }
}

#[test]
fn sign_order_command_signs_a_fiat_price() {
    let (c, _) = common::sign_order_claims(&[
        "--order-id",
        "order-88",
        "--currency",
        "EUR",
        "--fiat-amount",
        "4.5",
    ]);
    assert_eq!(
        c.amount,
        TokenAmount::Fiat(FiatAmount::parse("EUR", "4.50").unwrap().price())
    );
    let out = common::sign_order_command(
        &[
            "--order-id",
            "o",
            "--currency",
            "EUR",
            "--fiat-amount",
            "4.5",
            "--amount-sat",
            "5",
        ],
        TEST_SECRET,
    );
    assert!(!out.status.success());
}

#[tokio::test]
async fn the_shop_sees_the_price_and_rate_in_the_admin_record() {
    let app = TestApp::with_config(|c| {
        c.shop.admin_token = Some(Secret::new("admin-token-0123456789"));
    });
    let v = app
        .create_ok(r#"{"currency": "EUR", "fiat_amount": "4.50", "order_id": "cart-9"}"#)
        .await;
    let a = app
        .send(
            axum::http::Request::get("/api/admin/orders/cart-9")
                .header("authorization", "Bearer admin-token-0123456789")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.json()["invoices"][0]["fiat"], v["fiat"]);
    assert_eq!(a.json()["invoices"][0]["fiat"]["rate_source"], "fixed");
}
