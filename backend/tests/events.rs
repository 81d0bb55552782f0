//! Live status (issue 11): `GET /api/invoices/{id}/events` over real TCP, the store's change
//! feed, and the LND / Core Lightning subscriptions against the testkit fakes (disconnects, a
//! backend restart between a payment and its event).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use lightning_checkout_backend::store::Status;
use lightning_checkout_backend::{app, AppState, Config};
use serde_json::Value;
use testkit::{Fake, Kind};

/// A backend served on 127.0.0.1 (system clock), stopped when dropped.
struct Served {
    state: AppState,
    base: String,
    server: tokio::task::JoinHandle<()>,
    subscription: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(s) = &self.subscription {
            s.abort();
        }
    }
}

async fn serve(env: &HashMap<String, String>, subscribe: bool) -> Served {
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let state = AppState::new(config).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let subscription = if subscribe {
        Some(lightning_checkout_backend::subscriptions::spawn(&state).expect("a subscription"))
    } else {
        None
    };
    Served {
        state,
        base,
        server,
        subscription,
    }
}

fn env_for(
    dir: &tempfile::TempDir,
    fake: Option<&Fake>,
    extra: &[(&str, &str)],
) -> HashMap<String, String> {
    let fake_env = fake
        .map(|f| f.env().into_iter().collect())
        .unwrap_or_default();
    let mut env = common::test_env(dir, fake_env);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    env
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn create(base: &str, amount_sat: u64) -> String {
    let v = common::http_create(base, &format!(r#"{{"amount_sat":{amount_sat}}}"#)).await;
    v["id"].as_str().unwrap().to_owned()
}

/// `GET {base}/api/invoices/{id}/events`: the answer, its body not read yet.
async fn get_events(base: &str, id: &str) -> reqwest::Response {
    client()
        .get(format!("{base}/api/invoices/{id}/events"))
        .send()
        .await
        .unwrap()
}

/// An open event stream, read event by event.
struct Sse {
    res: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(base: &str, id: &str) -> Sse {
        let res = get_events(base, id).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        assert_eq!(res.headers()["cache-control"].to_str().unwrap(), "no-store");
        Sse {
            res,
            buf: String::new(),
        }
    }

    /// The next event as (name, data); `None` when the stream ended. Panics past `within`.
    async fn next(&mut self, within: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if block.lines().all(|l| l.starts_with("retry:")) {
                    continue;
                }
                return Some((name, data));
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .expect("an event in time")
                .expect("the stream reads");
            match chunk {
                Some(c) => self.buf.push_str(std::str::from_utf8(&c).unwrap()),
                None => return None,
            }
        }
    }

    /// The next `status` event's body (pings skipped).
    async fn status(&mut self, within: Duration) -> Value {
        loop {
            let (name, data) = self.next(within).await.expect("a status event");
            if name == "status" {
                return serde_json::from_str(&data).unwrap();
            }
            assert_eq!(name, "ping");
        }
    }
}

const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn change_feed_hears_each_committed_transition_once() {
    let app = common::TestApp::new();
    let mut changes = app.state.store().changes();
    let id = app.create_ok(r#"{"amount_sat":10}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(changes.try_recv().is_err(), "a create is no status change");
    assert_eq!(app.pay(&id).await.status, 200);
    assert_eq!(changes.try_recv().unwrap(), id);
    // Paying again changes nothing, and says nothing.
    assert_eq!(app.pay(&id).await.status, 200);
    assert!(changes.try_recv().is_err());
}

#[tokio::test]
async fn a_stream_sends_the_status_at_once_then_paid_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    let id = create(&s.base, 2500).await;
    let mut sse = Sse::open(&s.base, &id).await;
    let (name, data) = sse.next(SOON).await.unwrap();
    assert_eq!((name.as_str(), data.as_str()), ("ping", "15000"));
    let first = sse.status(SOON).await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["id"], id.as_str());
    assert!(first["server_time"].as_u64().unwrap() > 0);
    let paid_at = Instant::now();
    common::http_pay(&s.base, &id).await;
    let paid = sse.status(SOON).await;
    let latency = paid_at.elapsed();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["preimage"].as_str().unwrap().len(), 64);
    assert!(latency < Duration::from_secs(1), "{latency:?}");
    // Final: the stream ends.
    assert!(sse.next(SOON).await.is_none());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.state.events().open(), 0, "the slot is given back");
    // A stream of a paid invoice: its status, then the end.
    let mut again = Sse::open(&s.base, &id).await;
    assert_eq!(again.status(SOON).await["status"], "paid");
    assert!(again.next(SOON).await.is_none());
}

#[tokio::test]
async fn two_tabs_on_one_invoice_both_hear_one_change_from_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    let id = create(&s.base, 100).await;
    let mut a = Sse::open(&s.base, &id).await;
    let mut b = Sse::open(&s.base, &id).await;
    assert_eq!(a.status(SOON).await["status"], "pending");
    assert_eq!(b.status(SOON).await["status"], "pending");
    let reads = s.state.events().rows_read();
    common::http_pay(&s.base, &id).await;
    assert_eq!(a.status(SOON).await["status"], "paid");
    assert_eq!(b.status(SOON).await["status"], "paid");
    assert_eq!(s.state.events().rows_read() - reads, 1, "one read for both");
    assert_eq!(s.state.events().fanned_out(), 2);
}

#[tokio::test]
async fn past_the_cap_a_stream_is_refused_503_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[("MAX_EVENT_STREAMS", "1")]), false).await;
    let id = create(&s.base, 100).await;
    let mut first = Sse::open(&s.base, &id).await;
    first.status(SOON).await;
    let res = get_events(&s.base, &id).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "30");
    let v: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], "too_many_streams");
    drop(first);
    let deadline = Instant::now() + SOON;
    while s.state.events().open() != 0 {
        assert!(
            Instant::now() < deadline,
            "the closed stream's slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut next = Sse::open(&s.base, &id).await;
    assert_eq!(next.status(SOON).await["status"], "pending");
}

#[tokio::test]
async fn heartbeats_and_a_bounded_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(
        &dir,
        None,
        &[
            ("EVENT_STREAM_HEARTBEAT_MS", "100"),
            ("EVENT_STREAM_MAX_SECS", "1"),
        ],
    );
    let s = serve(&env, false).await;
    let id = create(&s.base, 100).await;
    let opened = Instant::now();
    let mut sse = Sse::open(&s.base, &id).await;
    sse.status(SOON).await;
    let mut pings = 0;
    while let Some((name, data)) = sse.next(SOON).await {
        assert_eq!((name.as_str(), data.as_str()), ("ping", "100"));
        pings += 1;
    }
    let lived = opened.elapsed();
    assert!(pings >= 5, "{pings} pings");
    assert!(
        lived >= Duration::from_millis(900) && lived < Duration::from_secs(3),
        "{lived:?}"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_json() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    for id in ["inv_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope"] {
        let res = get_events(&s.base, id).await;
        assert_eq!(res.status(), 404);
        let v: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
    }
    assert_eq!(s.state.events().open(), 0);
}

#[tokio::test]
async fn bad_stream_settings_are_refused_at_start() {
    for (k, v) in [
        ("MAX_EVENT_STREAMS", "-1"),
        ("EVENT_STREAM_MAX_SECS", "0"),
        ("EVENT_STREAM_HEARTBEAT_MS", "5"),
    ] {
        let err = Config::from_lookup(|name| (name == k).then(|| v.to_owned())).unwrap_err();
        assert!(err.to_string().contains(k), "{err}");
    }
}

/// A payment at the node reaches an open stream through the provider's subscription, with no
/// status lookup; the cursor is kept in the store.
async fn pushed(kind: Kind, cursor: &str) {
    let fake = Fake::start(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(&dir, Some(&fake), &[]);
    let s = serve(&env, true).await;
    // LND sends no backlog for index 0: pay only once the first subscription is open.
    let deadline = Instant::now() + SOON;
    while fake.stream_connects() == 0 {
        assert!(
            Instant::now() < deadline,
            "the subscription never connected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = create(&s.base, 2500).await;
    let mut sse = Sse::open(&s.base, &id).await;
    assert_eq!(sse.status(SOON).await["status"], "pending");
    let row = s.state.store().get(&id).unwrap().unwrap();
    let handle = row.provider_ref.clone().unwrap();
    let settled = Instant::now();
    fake.settle(Some(&handle)).await;
    let paid = sse.status(SOON).await;
    assert_eq!(paid["status"], "paid");
    assert!(
        settled.elapsed() < Duration::from_secs(1),
        "{:?}",
        settled.elapsed()
    );
    // The preimage came from the node, and it is the invoice's.
    let fake_inv = fake
        .invoices()
        .into_iter()
        .find(|i| i.handle == handle)
        .unwrap();
    assert_eq!(paid["preimage"], hex::encode(fake_inv.preimage.unwrap()));
    assert_eq!(
        fake.lookup_calls(),
        0,
        "no status lookup: the subscription told"
    );
    wait_cursor(&s.state, cursor, "1").await;

    // The node's connection breaks; a payment made meanwhile still arrives.
    let connects = fake.stream_connects();
    fake.drop_streams();
    let id2 = create(&s.base, 300).await;
    let handle2 = s
        .state
        .store()
        .get(&id2)
        .unwrap()
        .unwrap()
        .provider_ref
        .unwrap();
    fake.settle(Some(&handle2)).await;
    wait_paid(&s.state, &id2).await;
    assert!(fake.stream_connects() > connects, "it reconnected");
    wait_cursor(&s.state, cursor, "2").await;

    // A restart between a payment and its event: the backend is down when the node settles.
    let id3 = create(&s.base, 400).await;
    let handle3 = s
        .state
        .store()
        .get(&id3)
        .unwrap()
        .unwrap()
        .provider_ref
        .unwrap();
    let store_path = s.state.store().path().to_owned();
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    fake.settle(Some(&handle3)).await;
    let asked_before = fake.stream_from().len();
    let restarted = serve(&env, true).await;
    assert_eq!(restarted.state.store().path(), store_path);
    wait_paid(&restarted.state, &id3).await;
    wait_cursor(&restarted.state, cursor, "3").await;
    // It resumed from the index it had kept, not from the start.
    assert_eq!(
        fake.stream_from()[asked_before],
        2,
        "{:?}",
        fake.stream_from()
    );
    assert_eq!(
        fake.lookup_calls(),
        0,
        "no lookup needed, before or after the restart"
    );
    // The first two were not applied twice (one paid_at each, status unchanged).
    for id in [&id, &id2] {
        assert_eq!(
            restarted.state.store().get(id).unwrap().unwrap().status,
            Status::Paid
        );
    }
    assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
}

/// The cursor is kept right after the payment was applied (a moment after the stream heard it).
async fn wait_cursor(state: &AppState, name: &str, want: &str) {
    let deadline = Instant::now() + SOON;
    while state.store().cursor(name).unwrap().as_deref() != Some(want) {
        assert!(
            Instant::now() < deadline,
            "cursor {name} never reached {want}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_paid(state: &AppState, id: &str) {
    let deadline = Instant::now() + SOON;
    loop {
        if state.store().get(id).unwrap().unwrap().status == Status::Paid {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became paid");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lnd_subscription_pushes_resumes_and_survives_a_restart() {
    pushed(Kind::Lnd, "lnd.settle_index").await;
}

#[tokio::test]
async fn cln_waitanyinvoice_pushes_resumes_and_survives_a_restart() {
    pushed(Kind::Cln, "cln.lastpay_index").await;
}

#[tokio::test]
async fn no_subscription_for_providers_that_push_by_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    assert!(lightning_checkout_backend::subscriptions::spawn(&s.state).is_none());
}

#[tokio::test]
async fn at_shutdown_open_streams_end_and_new_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    let id = create(&s.base, 100).await;
    let mut sse = Sse::open(&s.base, &id).await;
    sse.status(SOON).await;
    s.state.events().close_all();
    assert!(sse.next(SOON).await.is_none(), "the stream ended");
    let res = get_events(&s.base, &id).await;
    assert_eq!(res.status(), 503);
}

/// The events of `fixtures/status_events.txt`, as (name, data).
fn fixture_events() -> Vec<(String, String)> {
    common::fixture_text("status_events.txt")
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), data.to_owned()))
        })
        .collect()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn the_stream_matches_its_fixture() {
    let fixture = fixture_events();
    assert_eq!(
        fixture.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["ping", "status", "ping", "status"]
    );
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    let id = create(&s.base, 100).await;
    let mut sse = Sse::open(&s.base, &id).await;
    let (name, data) = sse.next(SOON).await.unwrap();
    assert_eq!(name, fixture[0].0);
    assert_eq!(data, fixture[0].1, "the heartbeat period, in ms");
    let pending = sse.status(SOON).await;
    common::http_pay(&s.base, &id).await;
    let paid = sse.status(SOON).await;
    // Every fixture key is sent, with the same JSON type; the extras are the status answer's.
    let extras = [
        "payment_request",
        "payment_hash",
        "amount_sat",
        "expires_at",
        "paid_at",
    ];
    for (sent, (_, want)) in [(pending, &fixture[1]), (paid, &fixture[3])] {
        let want: Value = serde_json::from_str(want).unwrap();
        for k in keys(&want) {
            assert_eq!(
                std::mem::discriminant(&sent[&k]),
                std::mem::discriminant(&want[&k]),
                "{k} in {sent}"
            );
        }
        assert!(keys(&sent)
            .iter()
            .all(|k| want.get(k).is_some() || extras.contains(&k.as_str())));
    }
    assert!(sse.next(SOON).await.is_none());
}

/// An on-chain payment seen for a unified invoice changes what the payer sees while the status
/// stays pending: the stream says it (mempool, then the confirmation that makes it paid).
#[tokio::test]
async fn an_onchain_payment_seen_is_pushed_while_pending() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&env_for(&dir, None, &[]), false).await;
    let v = common::http_create(&s.base, r#"{"amount_sat":2100,"unified":true}"#).await;
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(v["onchain_address"].is_string(), "{v}");
    let mut sse = Sse::open(&s.base, &id).await;
    assert_eq!(sse.status(SOON).await["status"], "pending");
    let onchain = |confirmations: u64| {
        let url = format!("{}/api/dev/invoices/{id}/onchain", s.base);
        async move {
            let res = client()
                .post(url)
                .header("content-type", "application/json")
                .body(format!(r#"{{"confirmations":{confirmations}}}"#))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }
    };
    onchain(0).await;
    let seen = sse.status(SOON).await;
    assert_eq!(seen["status"], "pending", "{seen}");
    assert_eq!(seen["onchain"]["confirmations"], 0, "{seen}");
    onchain(1).await;
    // The confirmation is recorded, then it makes the invoice paid: one or two events.
    let mut last = sse.status(SOON).await;
    if last["status"] == "pending" {
        assert_eq!(last["onchain"]["confirmations"], 1, "{last}");
        last = sse.status(SOON).await;
    }
    assert_eq!(last["status"], "paid", "{last}");
}
