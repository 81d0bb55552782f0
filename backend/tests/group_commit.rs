//! Group commit in the SQLite store (issue 15): one failing write does not fail the others of its
//! batch, and what was answered survives a `kill -9` of the real backend process.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lightning_checkout_backend::store::batch::Batcher;
use lightning_checkout_backend::store::{Reservation, Reserved, Store, StoreError};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// A fresh SQLite file set up by `sql`: its directory (kept alive), its path and the connection.
fn open_db(
    sql: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Arc<Mutex<Connection>>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    (dir, path, Arc::new(Mutex::new(conn)))
}

/// Three writes in one batch, the middle one failing on a unique index after a first insert:
/// the other two are committed, the failing one is rolled back whole and its caller alone gets
/// the error.
#[test]
fn a_failing_write_does_not_fail_its_batch() {
    let (_dir, path, conn) = open_db("PRAGMA journal_mode=WAL; CREATE TABLE t (k TEXT NOT NULL UNIQUE); INSERT INTO t VALUES ('dup');");
    let batcher = Arc::new(Batcher::start(conn.clone()).unwrap());

    // Hold the connection: the writer thread takes the first write and waits for it, the others
    // queue behind, so all three meet in one batch once it is released.
    let held = conn.lock().unwrap();
    let insert = |keys: &'static [&'static str]| {
        let b = batcher.clone();
        std::thread::spawn(move || {
            b.run(move |c| {
                for k in keys {
                    c.execute("INSERT INTO t (k) VALUES (?1)", params![k])?;
                }
                Ok(())
            })
        })
    };
    let a = insert(&["a"]);
    let b = insert(&["b1", "dup"]);
    let c = insert(&["c"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while batcher.submitted() < 3 {
        assert!(
            Instant::now() < deadline,
            "the three writes were not queued"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(batcher.commits(), 0);
    drop(held);

    assert!(a.join().unwrap().is_ok());
    assert!(c.join().unwrap().is_ok());
    match b.join().unwrap() {
        Err(StoreError::Sqlite(e)) => assert!(e.to_string().contains("UNIQUE"), "{e}"),
        other => panic!("the conflicting write answered {other:?}"),
    }
    assert_eq!(
        batcher.commits(),
        1,
        "the three writes shared one transaction"
    );

    let check = Connection::open(&path).unwrap();
    let mut keys: Vec<String> = check
        .prepare("SELECT k FROM t ORDER BY k")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["a", "c", "dup"], "b1 went with its failed write");
}

/// Through the store: 64 concurrent reservations, two by two with the same idempotency key
/// (a unique column). Of each pair exactly one is stored; the other's caller gets an error; the
/// writes shared transactions.
#[test]
fn concurrent_reservations_with_conflicts_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let threads: Vec<_> = (0..64u8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let id = format!("inv_{i}");
                let r = Reservation {
                    id: &id,
                    order_id: None,
                    amount_msat: 1000,
                    description: "",
                    expiry_secs: 900,
                    idempotency_key: [i / 2; 16],
                    provider: "demo",
                    now: 1_700_000_000,
                    grace_secs: 0,
                    fiat: None,
                };
                (id.clone(), store.reserve(&r))
            })
        })
        .collect();
    let mut stored_per_key = HashMap::new();
    for (i, t) in threads.into_iter().enumerate() {
        let (id, r) = t.join().unwrap();
        match r {
            Ok(Reserved::New(inv)) => {
                assert_eq!(inv.id, id);
                assert!(store.get(&id).unwrap().is_some());
                *stored_per_key.entry(i / 2).or_insert(0) += 1;
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                assert!(e.to_string().contains("UNIQUE"), "{e}");
                assert!(store.get(&id).unwrap().is_none());
            }
        }
    }
    assert_eq!(stored_per_key.len(), 32);
    assert!(
        stored_per_key.values().all(|n| *n == 1),
        "{stored_per_key:?}"
    );
    let commits = store.sqlite().unwrap().commits();
    assert!(commits < 64, "64 writes took {commits} transactions");
    // Reservations alone: none of those commits waited for an fsync.
    assert_eq!(store.sqlite().unwrap().unsynced_commits(), commits);
}

/// An unsynced write (an invoice's reservation) commits without an fsync of its own only in a
/// batch of unsynced writes: a batch with one synced write is synced whole. After an unsynced
/// batch the connection is back at `synchronous=FULL`, so writes made on it outside the batcher
/// (the outbox worker's bookkeeping) stay durable.
#[test]
fn unsynced_writes_commit_without_their_own_fsync_and_leave_the_connection_synced() {
    let (_dir, path, conn) = open_db("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (k TEXT NOT NULL UNIQUE);");
    let batcher = Arc::new(Batcher::start(conn.clone()).unwrap());
    let insert = |k: &'static str, synced: bool| {
        let b = batcher.clone();
        std::thread::spawn(move || {
            let op = move |c: &Connection| {
                c.execute("INSERT INTO t (k) VALUES (?1)", params![k])?;
                Ok(())
            };
            if synced {
                b.run(op)
            } else {
                b.run_unsynced(op)
            }
        })
    };
    let synchronous = || -> i64 {
        conn.lock()
            .unwrap()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    };

    // Alone: committed unsynced, visible to another connection at once.
    insert("a", false).join().unwrap().unwrap();
    assert_eq!((batcher.commits(), batcher.unsynced_commits()), (1, 1));
    assert_eq!(synchronous(), 2, "the connection is back at FULL");
    let other = Connection::open(&path).unwrap();
    let seen: i64 = other
        .query_row("SELECT COUNT(*) FROM t WHERE k = 'a'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1, "an unsynced commit is visible at once");

    // Beside a synced write in one batch: the batch is synced.
    let held = conn.lock().unwrap();
    let (b, c) = (insert("b", false), insert("c", true));
    let deadline = Instant::now() + Duration::from_secs(30);
    while batcher.submitted() < 3 {
        assert!(Instant::now() < deadline, "the writes were not queued");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(held);
    b.join().unwrap().unwrap();
    c.join().unwrap().unwrap();
    assert_eq!(
        batcher.unsynced_commits(),
        1,
        "a batch with a synced write is synced"
    );
    assert_eq!(synchronous(), 2);

    // A synced write alone: synced.
    insert("d", true).join().unwrap().unwrap();
    assert_eq!(batcher.unsynced_commits(), 1);
    assert_eq!(synchronous(), 2);
}

/// Not in WAL mode an unsynced commit could be lost with a later synced one: every batch is synced.
#[test]
fn outside_wal_mode_every_batch_is_synced() {
    let (_dir, _, conn) =
        open_db("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL; CREATE TABLE t (k TEXT);");
    let batcher = Batcher::start(conn).unwrap();
    batcher
        .run_unsynced(|c| {
            c.execute("INSERT INTO t (k) VALUES ('a')", [])?;
            Ok(())
        })
        .unwrap();
    assert_eq!((batcher.commits(), batcher.unsynced_commits()), (1, 0));
}

struct Backend {
    child: Child,
    base: String,
}

impl Backend {
    async fn start(data: &Path, http: &reqwest::Client) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_lightning-checkout-backend"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DATA_DIR", data)
            .env("PROVIDER", "demo")
            .env("CREATE_RATE_PER_MIN", "0")
            // Every status change writes its shop event to the outbox (never delivered here).
            .env("SHOP_WEBHOOK_URL", "http://127.0.0.1:9/hook")
            .env(
                "SHOP_WEBHOOK_SECRET",
                "whsec_test_0123456789abcdef0123456789abcdef",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut b = Self {
            child,
            base: format!("http://127.0.0.1:{port}/api"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/health", b.base)).send().await {
                if r.status().is_success() {
                    return b;
                }
            }
            assert!(b.child.try_wait().unwrap().is_none(), "backend exited");
            assert!(Instant::now() < deadline, "backend not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: no shutdown, no flush.
    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create(
    http: &reqwest::Client,
    base: &str,
    order_id: &str,
) -> reqwest::Result<(u16, Value)> {
    let r = http
        .post(format!("{base}/invoices"))
        .header("content-type", "application/json")
        .body(json!({ "amount_sat": 1000, "order_id": order_id }).to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, read_json(r).await?))
}

async fn read_json(r: reqwest::Response) -> reqwest::Result<Value> {
    let bytes = r.bytes().await?;
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answered_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let mut backend = Backend::start(&data, &http).await;

    // 32 clients create invoices in a loop; the backend is killed in the middle of it.
    let answered: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..32 {
        let (http, base, answered) = (http.clone(), backend.base.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let order = format!("order-{c}-{i}");
                match create(&http, &base, &order).await {
                    Ok((201, body)) => answered.lock().unwrap().push((
                        order,
                        body["id"].as_str().unwrap().to_owned(),
                        body["payment_request"].as_str().unwrap().to_owned(),
                    )),
                    Ok((status, body)) => panic!("create answered {status}: {body}"),
                    Err(_) => return, // killed
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.lock().unwrap().len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    backend.kill9();
    for c in clients {
        c.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 32,
        "only {} creates answered",
        answered.len()
    );

    let mut backend = Backend::start(&data, &http).await;
    for (_, id, pr) in &answered {
        let r = http
            .get(format!("{}/invoices/{id}", backend.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{id} answered 201 and is gone");
        let body = read_json(r).await.unwrap();
        assert_eq!(body["payment_request"].as_str(), Some(pr.as_str()), "{id}");
    }

    // No half-written row: every row is either completed or a clean reservation, and a clean
    // reservation's order gets its invoice on the next create.
    let db = Connection::open(data.join("checkout.sqlite3")).unwrap();
    // id, order, payment_request, the demo's answer fully stored, no answer field set.
    type Row = (String, String, Option<String>, bool, bool);
    let rows: Vec<Row> = db
        .prepare(
            "SELECT id, order_id, payment_request, \
             payment_request IS NOT NULL AND payment_hash IS NOT NULL AND preimage IS NOT NULL, \
             payment_request IS NULL AND pay_url IS NULL AND payment_hash IS NULL \
             AND preimage IS NULL AND provider_ref IS NULL FROM invoices",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.len() >= answered.len());
    let mut reservations = 0;
    for (id, order, pr, complete, clean) in &rows {
        if *complete {
            continue;
        }
        assert!(clean, "{id} is half-written: {pr:?}");
        reservations += 1;
        let (status, body) = create(&http, &backend.base, order).await.unwrap();
        assert!(status == 200 || status == 201, "{order}: {status} {body}");
        assert!(body["payment_request"].is_string(), "{order}: {body}");
        assert_eq!(body["id"].as_str(), Some(id.as_str()), "{order} resumed");
    }
    eprintln!(
        "{} creates answered 201 before kill -9, {} rows, {reservations} clean reservations",
        answered.len(),
        rows.len()
    );

    // A status change: paid, then kill -9 right after the 200; paid after restart, with its
    // outbox event.
    let (_, id, _) = &answered[0];
    let r = http
        .post(format!("{}/dev/invoices/{id}/pay", backend.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    backend.kill9();
    let backend = Backend::start(&data, &http).await;
    let r = http
        .get(format!("{}/invoices/{id}", backend.base))
        .send()
        .await
        .unwrap();
    let body = read_json(r).await.unwrap();
    assert_eq!(body["status"], "paid", "{body}");
    let events: Vec<String> = db
        .prepare("SELECT type FROM outbox WHERE invoice_id = ?1")
        .unwrap()
        .query_map(params![id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(events, ["invoice.paid"]);
}

/// Writes that arrive while a batch runs join it before its COMMIT (one commit, not two); an
/// unsynced batch takes only unsynced ones, and a synced write arriving meanwhile begins the next
/// batch, which is synced.
#[test]
fn writes_arriving_during_a_batch_join_it() {
    let (_dir, _, conn) =
        open_db("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (k TEXT);");
    let batcher = Arc::new(Batcher::start(conn).unwrap());
    let running = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let write = |k: &'static str, synced: bool, wait_for: u64| {
        let (b, seen, running) = (batcher.clone(), batcher.clone(), running.clone());
        std::thread::spawn(move || {
            let op = move |c: &Connection| {
                running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // The first write waits (inside its batch) until the others are queued.
                let deadline = Instant::now() + Duration::from_secs(30);
                while seen.submitted() < wait_for && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                c.execute("INSERT INTO t (k) VALUES (?1)", params![k])?;
                Ok(())
            };
            if synced {
                b.run(op)
            } else {
                b.run_unsynced(op)
            }
        })
    };
    // Until `n` writes have started running (the first one is inside its batch).
    let started = |n: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while running.load(std::sync::atomic::Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "not started");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let queued = |n: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while batcher.submitted() < n {
            assert!(Instant::now() < deadline, "not queued");
            std::thread::sleep(Duration::from_millis(2));
        }
    };

    // Synced: the three queued during the first write's batch share its transaction.
    let first = write("a", true, 4);
    started(1);
    let others: Vec<_> = ["b", "c", "d"].map(|k| write(k, false, 0)).into();
    for t in std::iter::once(first).chain(others) {
        t.join().unwrap().unwrap();
    }
    assert_eq!((batcher.commits(), batcher.unsynced_commits()), (1, 0));

    // Unsynced: a synced write queued during it is not taken in; it begins a synced batch.
    let first = write("e", false, 6);
    started(5);
    let synced = write("f", true, 0);
    queued(6);
    for t in [first, synced] {
        t.join().unwrap().unwrap();
    }
    assert_eq!((batcher.commits(), batcher.unsynced_commits()), (3, 1));
}
