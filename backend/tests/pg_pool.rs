//! The PostgreSQL pool hands out its connections without testing each one (no `SELECT ''` round
//! trip per request), and still recovers by itself after the database restarts. Counted on the
//! wire: the store talks to a real PostgreSQL through a loopback TCP relay that counts the empty
//! simple queries (r2d2's connection test) the store sends.

mod pg;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lightning_checkout_backend::store::{PgOptions, Store};

/// The frontend message of an empty simple query: `Q`, length 5, the empty string.
const EMPTY_QUERY: &[u8] = b"Q\0\0\0\x05\0";

/// Relays 127.0.0.1:<port it returns> to `upstream`, counting [`EMPTY_QUERY`]s sent upstream.
fn counting_relay(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let seen = seen.clone();
            std::thread::spawn(move || copy(client, server, Some(&seen)));
            std::thread::spawn(move || copy(s2, c2, None));
        }
    });
    (port, count)
}

/// Bytes from `from` to `to` until either side ends, then both are shut.
fn copy(mut from: TcpStream, mut to: TcpStream, count: Option<&AtomicUsize>) {
    let mut buf = [0u8; 16 * 1024];
    // The last bytes of the previous read: a message may straddle two reads.
    let mut tail: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(count) = count {
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(&buf[..n]);
            let hits = window
                .windows(EMPTY_QUERY.len())
                .filter(|w| *w == EMPTY_QUERY)
                .count();
            count.fetch_add(hits, Ordering::SeqCst);
            let keep = window.len().min(EMPTY_QUERY.len() - 1);
            tail = window[window.len() - keep..].to_vec();
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
fn checkouts_are_not_tested_and_the_pool_recovers_after_a_restart() {
    let pg = pg::Pg::start();
    let url = pg.create_db("pool");
    let (relay, tests) = counting_relay(pg.port);
    let url = url.replace(&format!(":{}/", pg.port), &format!(":{relay}/"));
    let store = Store::open_pg(&PgOptions::new(url)).unwrap();
    for _ in 0..50 {
        assert!(store.get("inv_none").unwrap().is_none());
    }
    assert_eq!(
        tests.load(Ordering::SeqCst),
        0,
        "a connection test per checkout"
    );

    // A crash and a restart: the pooled connection is stale. Requests may fail while the
    // database is down and just after; then the pool works again by itself.
    pg.stop();
    pg.start_server();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut failures = 0;
    while let Err(e) = store.get("inv_none") {
        failures += 1;
        assert!(
            Instant::now() < deadline,
            "no recovery after {failures} failures: {e}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Working again, and again without a test per checkout.
    let after = tests.load(Ordering::SeqCst);
    for _ in 0..50 {
        assert!(store.get("inv_none").unwrap().is_none());
    }
    assert_eq!(tests.load(Ordering::SeqCst), after);
}
