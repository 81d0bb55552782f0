//! Two backend instances (the real binary, two processes) on one real PostgreSQL (`tests/pg`):
//! one invoice per order across them, a provider's webhook on one seen by a payer polling the
//! other, the outbox delivered once and taken over when its deliverer is killed, and the
//! database restarted under load.

mod pg;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WEBHOOK_SECRET: &str = "0123456789abcdef0123456789abcdef-shop";

struct Instance {
    child: Child,
    base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Instance {
    fn spawn(name: &str, env: &[(String, String)]) -> Self {
        Self::spawn_on(name, free_port(), env)
    }

    fn spawn_on(name: &str, port: u16, env: &[(String, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_lightning-checkout-backend"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DATA_DIR", dir.path().join("data"))
            .env("CREATE_RATE_PER_MIN", "0")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            base: format!("http://127.0.0.1:{port}/api"),
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/health", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("instance exited ({status}):\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn post_json(
    http: &reqwest::Client,
    url: String,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    http.post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
}

async fn read_json(r: reqwest::Response) -> Value {
    let bytes = r.bytes().await.expect("an answer body");
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes)))
}

fn db_env(url: &str) -> Vec<(String, String)> {
    vec![
        ("DATABASE_URL".into(), url.into()),
        ("DATABASE_STATEMENT_TIMEOUT_MS".into(), "1000".into()),
        ("DATABASE_POOL_SIZE".into(), "8".into()),
    ]
}

async fn two(http: &reqwest::Client, env: &[(String, String)]) -> (Instance, Instance) {
    // Started together: their migrations meet on a fresh database.
    let mut a = Instance::spawn("a", env);
    let mut b = Instance::spawn("b", env);
    a.ready(http).await;
    b.ready(http).await;
    (a, b)
}

async fn create(http: &reqwest::Client, base: &str, body: &Value) -> (u16, Value) {
    let r = post_json(http, format!("{base}/invoices"), body)
        .await
        .unwrap();
    (r.status().as_u16(), read_json(r).await)
}

async fn status(http: &reqwest::Client, base: &str, id: &str) -> Value {
    read_json(
        http.get(format!("{base}/invoices/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_for_one_order_through_both_make_one_invoice() {
    let pg = pg::Pg::start();
    let url = pg.create_db("creates");
    let http = reqwest::Client::new();
    let (a, b) = two(&http, &db_env(&url)).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            create(
                &http,
                &base,
                &json!({"amount_sat": 2500, "order_id": "order-both"}),
            )
            .await
        }));
    }
    let mut ids = HashMap::new();
    for t in tasks {
        let (code, v) = t.await.unwrap();
        assert!(code == 200 || code == 201, "{code} {v}");
        *ids.entry((v["id"].as_str().unwrap().to_owned(), code))
            .or_insert(0) += 1;
    }
    let distinct: std::collections::HashSet<_> = ids.keys().map(|(id, _)| id.clone()).collect();
    assert_eq!(distinct.len(), 1, "{ids:?}");
    assert_eq!(
        ids.iter()
            .filter(|((_, c), _)| *c == 201)
            .map(|(_, n)| n)
            .sum::<i32>(),
        1
    );
    // And the order is shared: paid on A, refused on B.
    let id = distinct.into_iter().next().unwrap();
    let r = http
        .post(format!("{}/dev/invoices/{id}/pay", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(status(&http, &b.base, &id).await["status"], "paid");
    let (code, v) = create(
        &http,
        &b.base,
        &json!({"amount_sat": 2500, "order_id": "order-both"}),
    )
    .await;
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (409, Some("order_paid"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_webhook_on_a_turns_the_payer_on_b_paid_on_its_stream() {
    let pg = pg::Pg::start();
    let url = pg.create_db("webhook");
    let http = reqwest::Client::new();
    let fake = testkit::Fake::start(testkit::Kind::Lnbits).await;
    let port_a = free_port();
    let mut env = db_env(&url);
    env.extend(fake.env());
    // Both name A as LNbits' webhook target.
    env.push((
        "LNBITS_WEBHOOK_URL".into(),
        format!("http://127.0.0.1:{port_a}/api/webhooks/lnbits"),
    ));
    env.push(("LOOKUP_CACHE_MS".into(), "0".into()));
    let mut a = Instance::spawn_on("a", port_a, &env);
    let mut b = Instance::spawn("b", &env);
    a.ready(&http).await;
    b.ready(&http).await;
    // The payer's invoice is made by B and polled on B.
    let (code, v) = create(&http, &b.base, &json!({"amount_sat": 2100})).await;
    assert_eq!(code, 201, "{v}\n{}", b.log());
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(status(&http, &b.base, &id).await["status"], "pending");
    // The payer's live status stream is open on B (issue 11).
    let mut stream = http
        .get(format!("{}/invoices/{id}/events", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200, "{}", b.log());
    let mut seen = String::new();
    while !seen.contains("pending") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("the stream's first status")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // LNbits settles it and calls A.
    let deliveries = fake.settle(None).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].status, 200, "{deliveries:?}\n{}", a.log());
    assert!(deliveries[0].url.starts_with(&a.base), "{deliveries:?}");
    // A's change reaches B's stream through LISTEN/NOTIFY, without B asking anyone.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("\"paid\"") {
            match stream.chunk().await.unwrap() {
                Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                None => break,
            }
        }
    })
    .await
    .expect("B's stream hears of the payment made on A");
    assert!(seen.contains("\"paid\""), "{seen}\n{}", b.log());
    // B cannot ask LNbits now: only the shared database can tell it.
    fake.set_down(true);
    let v = status(&http, &b.base, &id).await;
    assert_eq!(v["status"], "paid", "{v}\n{}", b.log());
    assert!(v["preimage"].is_string());
}

/// A shop endpoint that records each delivery; `hang_first` leaves the first request unanswered.
#[derive(Clone, Default)]
struct Shop {
    got: Arc<Mutex<Vec<(String, Instant)>>>,
    hang_first: Arc<std::sync::atomic::AtomicBool>,
}

async fn shop_server(shop: Shop) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let shop = shop.clone();
            async move {
                let v: Value = serde_json::from_str(&body).unwrap();
                shop.got
                    .lock()
                    .unwrap()
                    .push((v["id"].as_str().unwrap().to_owned(), Instant::now()));
                if shop
                    .hang_first
                    .swap(false, std::sync::atomic::Ordering::SeqCst)
                {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

fn webhook_env(url: &str, hook: &str) -> Vec<(String, String)> {
    let mut env = db_env(url);
    env.extend([
        ("SHOP_WEBHOOK_URL".into(), hook.into()),
        ("SHOP_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
        ("SHOP_WEBHOOK_TIMEOUT_MS".into(), "1000".into()),
        ("SHOP_WEBHOOK_POLL_MS".into(), "100".into()),
    ]);
    env
}

async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_outbox_event_is_delivered_by_one_instance() {
    let pg = pg::Pg::start();
    let url = pg.create_db("outbox_once");
    let http = reqwest::Client::new();
    let shop = Shop::default();
    let hook = shop_server(shop.clone()).await;
    let (a, b) = two(&http, &webhook_env(&url, &hook)).await;
    for i in 0..20 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let (code, v) = create(&http, base, &json!({"amount_sat": 1000 + i})).await;
        assert_eq!(code, 201, "{v}");
        let id = v["id"].as_str().unwrap();
        let r = http
            .post(format!("{base}/dev/invoices/{id}/pay"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    wait_for("20 deliveries", 30, || shop.got.lock().unwrap().len() >= 20).await;
    // Both instances poll the outbox every 100 ms: give a second delivery the time to happen.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = shop.got.lock().unwrap().clone();
    let mut ids: Vec<_> = got.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (20, 20), "delivered twice: {got:?}");
    let a_log = a.log();
    let b_log = b.log();
    assert!(
        a_log.contains("shop webhook delivered") || b_log.contains("shop webhook delivered"),
        "{a_log}\n{b_log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_delivery_leaves_the_event_to_the_other() {
    let pg = pg::Pg::start();
    let url = pg.create_db("outbox_takeover");
    let http = reqwest::Client::new();
    let shop = Shop::default();
    shop.hang_first
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let hook = shop_server(shop.clone()).await;
    let env = webhook_env(&url, &hook);
    // Only A runs while the event is made and first sent, so A is the one delivering it.
    let mut a = Instance::spawn("a", &env);
    a.ready(&http).await;
    let (code, v) = create(&http, &a.base, &json!({"amount_sat": 777})).await;
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let r = http
        .post(format!("{}/dev/invoices/{id}/pay", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    wait_for("A's delivery", 20, || !shop.got.lock().unwrap().is_empty()).await;
    a.kill();
    let mut b = Instance::spawn("b", &env);
    b.ready(&http).await;
    wait_for("B's delivery", 30, || shop.got.lock().unwrap().len() >= 2).await;
    let got = shop.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, got[1].0, "the same event, the same id");
    // B waited for A's claim (2 × 1 s timeout + 1 s from A's pick) rather than sending at once.
    assert!(
        got[1].1 >= got[0].1 + Duration::from_millis(2900),
        "{got:?}"
    );
    // Recorded as delivered: no third attempt.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(shop.got.lock().unwrap().len(), 2, "{}", b.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_restarted_under_load_loses_no_acknowledged_invoice() {
    let pg = Arc::new(pg::Pg::start());
    let url = pg.create_db("restart");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (a, b) = two(&http, &db_env(&url)).await;
    let bases = [a.base.clone(), b.base.clone()];
    let stop_at = Instant::now() + Duration::from_secs(9);
    let mut clients = Vec::new();
    for c in 0..8 {
        let (http, bases) = (http.clone(), bases.clone());
        clients.push(tokio::spawn(async move {
            let mut acked: Vec<String> = Vec::new();
            let mut answers: Vec<(u16, String, Instant)> = Vec::new();
            let mut n = 0;
            while Instant::now() < stop_at {
                n += 1;
                let base = &bases[n % 2];
                let body = json!({"amount_sat": 100, "order_id": format!("load-{c}-{n}")});
                let r = post_json(&http, format!("{base}/invoices"), &body).await;
                let r = r.unwrap_or_else(|e| panic!("no answer from {base}: {e}"));
                let code = r.status().as_u16();
                let v = read_json(r).await;
                let err = v["error"]["code"].as_str().unwrap_or("").to_owned();
                if code == 201 {
                    acked.push(v["id"].as_str().unwrap().to_owned());
                    let base = &bases[(n + 1) % 2];
                    let r = http
                        .get(format!("{base}/invoices/{}", v["id"].as_str().unwrap()))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("no answer from {base}: {e}"));
                    let code = r.status().as_u16();
                    let v = read_json(r).await;
                    let err = v["error"]["code"].as_str().unwrap_or("").to_owned();
                    answers.push((code, err, Instant::now()));
                }
                answers.push((code, err, Instant::now()));
            }
            (acked, answers)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let down_at = Instant::now();
    {
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || pg.stop())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let up_at = Instant::now();
    {
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || pg.start_server())
            .await
            .unwrap();
    }
    let mut acked: Vec<String> = Vec::new();
    let mut answers = Vec::new();
    for c in clients {
        let (ids, a) = c.await.unwrap();
        acked.extend(ids);
        answers.extend(a);
    }
    let mut by_kind: HashMap<(u16, String), usize> = HashMap::new();
    for (code, err, _) in &answers {
        *by_kind.entry((*code, err.clone())).or_default() += 1;
    }
    eprintln!("answers: {by_kind:?}");
    for ((code, err), n) in &by_kind {
        assert!(
            (200..300).contains(code) || (*code == 503 && err == "database_unavailable"),
            "{n} answers {code} {err}\nA:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
    }
    assert!(
        by_kind.keys().any(|(c, _)| *c == 503),
        "the restart was not felt: {by_kind:?}"
    );
    // Answers came before the restart and again after it: it recovered by itself.
    assert!(answers.iter().any(|(c, _, t)| *c == 201 && *t < down_at));
    assert!(
        answers
            .iter()
            .any(|(c, _, t)| *c == 201 && *t > up_at + Duration::from_secs(1)),
        "no invoice made after the restart: {by_kind:?}"
    );
    // Every invoice a client was given is there, on both instances.
    for id in &acked {
        for base in &bases {
            let v = status(&http, base, id).await;
            assert_eq!(v["status"], "pending", "{id} on {base}: {v}");
        }
    }
    eprintln!("{} acknowledged invoices, all found", acked.len());
}

/// One instance of several holds LND's invoice stream (an advisory lock); when it dies, another
/// takes the stream over, and a payment made after that reaches the payer through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_holds_the_provider_stream_and_another_takes_over() {
    let pg = pg::Pg::start();
    let url = pg.create_db("lease");
    let http = reqwest::Client::new();
    let fake = testkit::Fake::start(testkit::Kind::Lnd).await;
    let mut env = db_env(&url);
    env.extend(fake.env());
    let mut a = Instance::spawn("a", &env);
    a.ready(&http).await;
    wait_for("A's subscription", 10, || fake.stream_connects() == 1).await;
    let mut b = Instance::spawn("b", &env);
    b.ready(&http).await;
    // B tries the lease every 5 s; two tries later it still has not opened a stream.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(fake.stream_connects(), 1, "{}", b.log());
    a.kill();
    wait_for("B takes the stream over", 20, || {
        fake.stream_connects() == 2
    })
    .await;
    // LND sends no backlog for index 0, so the payment is made once B's stream is open.
    let (code, v) = create(&http, &b.base, &json!({"amount_sat": 1234})).await;
    assert_eq!(code, 201, "{v}\n{}", b.log());
    let id = v["id"].as_str().unwrap().to_owned();
    let mut stream = http
        .get(format!("{}/invoices/{id}/events", b.base))
        .send()
        .await
        .unwrap();
    let lookups = fake.lookup_calls();
    let handle = fake.invoices().last().unwrap().handle.clone();
    fake.settle(Some(&handle)).await;
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("\"paid\"") {
            match stream.chunk().await.unwrap() {
                Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                None => break,
            }
        }
    })
    .await
    .expect("the payment arrives on B's stream");
    assert!(seen.contains("\"paid\""), "{seen}\n{}", b.log());
    assert_eq!(
        fake.lookup_calls(),
        lookups,
        "told by the stream, not a lookup"
    );
}
