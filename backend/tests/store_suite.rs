//! One suite of the store's rules, run against both stores: SQLite (a temporary `DATA_DIR`) and a
//! real PostgreSQL started by the test (`tests/pg`). Each case gets a fresh database and may open
//! it twice, as two instances would.

mod pg;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use lightning_checkout_backend::outbox::Attempt;
use lightning_checkout_backend::store::{
    Completion, InvoiceKey, PgOptions, Reservation, Reserved, Status, Store, Transition,
};

/// Opens the case's database (again, for a second "instance").
type Open<'a> = &'a (dyn Fn() -> Store + Sync);

const NOW: u64 = 1_767_225_600;

fn res<'a>(id: &'a str, order: Option<&'a str>, amount_msat: u64) -> Reservation<'a> {
    let mut key = [0u8; 16];
    key[..id.len().min(16)].copy_from_slice(&id.as_bytes()[..id.len().min(16)]);
    Reservation {
        id,
        order_id: order,
        amount_msat,
        description: "coffee",
        expiry_secs: 600,
        idempotency_key: key,
        provider: "demo",
        now: NOW,
        grace_secs: 0,
        fiat: None,
    }
}

fn completion(n: u8) -> Completion {
    Completion {
        payment_request: Some(format!("lnbcrt{n}")),
        payment_hash: Some([n; 32]),
        provider_ref: Some(format!("ref-{n}")),
        expires_at: NOW + 600,
        ..Completion::default()
    }
}

fn new_invoice(s: &Store, id: &str, order: Option<&str>) -> String {
    match s.reserve(&res(id, order, 1_000_000)).unwrap() {
        Reserved::New(inv) => inv.id,
        other => panic!("expected a new row, got {other:?}"),
    }
}

fn applied(t: Option<Transition>) -> bool {
    matches!(t.expect("row exists"), Transition::Applied(_))
}

fn idempotent_creates_per_order(open: Open) {
    let s = open();
    let id = new_invoice(&s, "inv_a", Some("o-1"));
    // The same order again: its open invoice, not a new one.
    match s.reserve(&res("inv_b", Some("o-1"), 1_000_000)).unwrap() {
        Reserved::Open(inv) => assert_eq!(inv.id, id),
        other => panic!("{other:?}"),
    }
    // Another amount for the open order: refused.
    assert!(matches!(
        s.reserve(&res("inv_c", Some("o-1"), 2_000_000)).unwrap(),
        Reserved::Conflict(_)
    ));
    // complete fills a reservation once: a second answer (another instance's) changes nothing.
    let first = s.complete(&id, &completion(1)).unwrap().unwrap();
    let second = s.complete(&id, &completion(2)).unwrap().unwrap();
    assert_eq!(first.payment_request.as_deref(), Some("lnbcrt1"));
    assert_eq!(second, first);
    assert!(applied(
        s.mark_paid(&id, NOW + 1, Some([7; 32]), None).unwrap()
    ));
    // Paid: never a second invoice for the order.
    assert!(matches!(
        s.reserve(&res("inv_d", Some("o-1"), 1_000_000)).unwrap(),
        Reserved::Paid(_)
    ));
    // Without an order id, every create is new.
    new_invoice(&s, "inv_e", None);
    new_invoice(&s, "inv_f", None);
    assert_eq!(s.invoices_for_order("o-1").unwrap().len(), 1);
    assert_eq!(
        s.find("demo", &InvoiceKey::ProviderRef("ref-1".into()))
            .unwrap()
            .map(|i| i.id),
        Some(id.clone())
    );
    assert_eq!(
        s.find("demo", &InvoiceKey::PaymentHash([1; 32]))
            .unwrap()
            .map(|i| i.id),
        Some(id)
    );
    assert!(s
        .find("other", &InvoiceKey::ProviderRef("ref-1".into()))
        .unwrap()
        .is_none());
}

fn concurrent_creates_from_two_instances_make_one_invoice(open: Open) {
    let (a, b) = (open(), open());
    let barrier = Barrier::new(16);
    let ids: Vec<(bool, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                let barrier = &barrier;
                scope.spawn(move || {
                    let id = format!("inv_c{i}");
                    barrier.wait();
                    match s.reserve(&res(&id, Some("shared"), 1_000_000)).unwrap() {
                        Reserved::New(inv) => (true, inv.id),
                        Reserved::Open(inv) => (false, inv.id),
                        other => panic!("{other:?}"),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(ids.iter().filter(|(new, _)| *new).count(), 1, "{ids:?}");
    let distinct: HashSet<_> = ids.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 1, "{ids:?}");
    assert_eq!(a.invoices_for_order("shared").unwrap().len(), 1);
}

fn compare_and_set_transitions(open: Open) {
    let s = open();
    let id = new_invoice(&s, "inv_t", Some("o-t"));
    s.complete(&id, &completion(3)).unwrap();
    // Not due yet: expire_if_due changes nothing.
    assert!(!applied(s.expire_if_due(&id, NOW + 599).unwrap()));
    // Less than asked never pays.
    assert!(!applied(
        s.mark_paid(&id, NOW + 1, None, Some(999_999)).unwrap()
    ));
    assert!(applied(
        s.record_underpayment(&id, 500_000, NOW + 2).unwrap()
    ));
    assert!(!applied(
        s.record_underpayment(&id, 500_000, NOW + 3).unwrap()
    ));
    let inv = s.get(&id).unwrap().unwrap();
    assert_eq!(inv.status, Status::Pending);
    assert_eq!(
        (inv.amount_received_msat, inv.underpaid_at),
        (Some(500_000), Some(NOW + 2))
    );
    // Two racing transitions from two instances: exactly one applies.
    let other = open();
    let (x, y) = std::thread::scope(|scope| {
        let x = scope.spawn(|| s.expire_if_due(&id, NOW + 600).unwrap());
        let y = scope.spawn(|| {
            other
                .mark_paid(&id, NOW + 600, None, Some(1_000_000))
                .unwrap()
        });
        (applied(x.join().unwrap()), applied(y.join().unwrap()))
    });
    assert!(x ^ y, "expired applied: {x}, paid applied: {y}");
    let inv = s.get(&id).unwrap().unwrap();
    if x {
        // Expired first: a full payment confirmed later is recorded as late.
        assert_eq!(inv.status, Status::Expired);
        assert!(applied(
            s.mark_paid_late(&id, NOW + 700, None, None).unwrap()
        ));
        let inv = s.get(&id).unwrap().unwrap();
        assert!(inv.paid_late);
        assert_eq!(inv.status, Status::Paid);
    } else {
        assert_eq!(inv.status, Status::Paid);
        assert!(!inv.paid_late);
        assert_eq!(inv.amount_paid_msat, Some(1_000_000));
    }
}

fn never_back_from_paid(open: Open) {
    let s = open();
    let id = new_invoice(&s, "inv_p", None);
    s.complete(&id, &completion(4)).unwrap();
    assert!(applied(
        s.mark_paid(&id, NOW + 5, Some([9; 32]), None).unwrap()
    ));
    assert!(!applied(
        s.mark_paid(&id, NOW + 6, Some([8; 32]), None).unwrap()
    ));
    assert!(!applied(s.mark_expired(&id).unwrap()));
    assert!(!applied(s.expire_if_due(&id, NOW + 10_000).unwrap()));
    assert!(!applied(
        s.mark_paid_late(&id, NOW + 7, None, None).unwrap()
    ));
    assert!(!applied(s.record_underpayment(&id, 1, NOW + 8).unwrap()));
    let inv = s.get(&id).unwrap().unwrap();
    assert_eq!(inv.status, Status::Paid);
    assert_eq!((inv.paid_at, inv.preimage), (Some(NOW + 5), Some([9; 32])));
    // Retention never deletes it.
    assert_eq!(s.delete_expired_unpaid(NOW + 1_000_000).unwrap(), 0);
    assert_eq!(
        s.paid_since(0, "", 10)
            .unwrap()
            .iter()
            .map(|i| &i.id)
            .collect::<Vec<_>>(),
        vec![&id]
    );
    assert!(s.paid_since(NOW + 5, &id, 10).unwrap().is_empty());
    assert!(s
        .mark_paid("inv_unknown", NOW, None, None)
        .unwrap()
        .is_none());
}

fn outbox_events_in_the_transition_and_in_order(open: Open) {
    let s = open();
    s.set_outbox(true);
    let a = new_invoice(&s, "inv_oa", None);
    let b = new_invoice(&s, "inv_ob", None);
    assert!(applied(s.record_underpayment(&a, 1, NOW).unwrap()));
    assert!(applied(s.mark_paid(&a, NOW, None, None).unwrap()));
    assert!(!applied(s.mark_paid(&a, NOW, None, None).unwrap())); // nothing changed: no event
    assert!(applied(s.mark_expired(&b).unwrap()));
    let all = s.outbox_all().unwrap();
    let kinds: Vec<_> = all
        .iter()
        .map(|e| (e.invoice_id.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (a.as_str(), "invoice.underpaid"),
            (a.as_str(), "invoice.paid"),
            (b.as_str(), "invoice.expired")
        ]
    );
    let body: serde_json::Value = serde_json::from_str(&all[1].body).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["invoice_id"].as_str()),
        (Some("invoice.paid"), Some(a.as_str()))
    );
    // One due per invoice: a's second waits for its first.
    let far = 4_000_000_000_000;
    let due = s.outbox_due(far, 60_000).unwrap();
    assert_eq!(
        due.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![all[0].seq, all[2].seq]
    );
    for e in &due {
        s.outbox_record(&Attempt {
            seq: e.seq,
            attempts: 1,
            delivered_at: Some(1),
            error: None,
            next_attempt_ms: 0,
            failed_at: None,
        })
        .unwrap();
    }
    let due = s.outbox_due(far, 60_000).unwrap();
    assert_eq!(
        due.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![all[1].seq]
    );
    s.outbox_record(&Attempt {
        seq: all[1].seq,
        attempts: 1,
        delivered_at: None,
        error: Some("HTTP 500".into()),
        next_attempt_ms: far as i64 + 5,
        failed_at: None,
    })
    .unwrap();
    assert!(s.outbox_due(far, 60_000).unwrap().is_empty());
    assert_eq!(s.outbox_next_due().unwrap(), Some(far + 5));
    let ev = &s.outbox_all().unwrap()[1];
    assert_eq!(
        (ev.attempts, ev.last_error.as_deref()),
        (1, Some("HTTP 500"))
    );
}

fn provider_webhook_ids_are_deduplicated(open: Open) {
    let (s, other) = (open(), open());
    assert!(!s.event_seen("lnbits", "evt-1").unwrap());
    assert!(s.record_event("lnbits", "evt-1", NOW).unwrap());
    assert!(!other.record_event("lnbits", "evt-1", NOW).unwrap());
    assert!(other.event_seen("lnbits", "evt-1").unwrap());
    assert!(!s.event_seen("btcpay", "evt-1").unwrap());
    assert_eq!(s.delete_webhook_events(NOW + 1).unwrap(), 1);
    assert!(!s.event_seen("lnbits", "evt-1").unwrap());
}

fn subscription_cursors_are_kept(open: Open) {
    let (s, other) = (open(), open());
    assert_eq!(s.cursor("lnd.settle_index").unwrap(), None);
    s.set_cursor("lnd.settle_index", "41").unwrap();
    other.set_cursor("lnd.settle_index", "42").unwrap();
    assert_eq!(s.cursor("lnd.settle_index").unwrap().as_deref(), Some("42"));
    assert_eq!(other.cursor("cln.lastpay_index").unwrap(), None);
}

fn status_changes_reach_subscribers(open: Open) {
    let (a, b) = (open(), open());
    let mut on_a = a.changes();
    let mut on_b = b.changes();
    let id = new_invoice(&a, "inv_ch", None);
    assert!(applied(a.mark_paid(&id, NOW, None, None).unwrap()));
    let recv = |rx: &mut tokio::sync::broadcast::Receiver<String>| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match rx.try_recv() {
                Ok(id) => return Some(id),
                Err(tokio::sync::broadcast::error::TryRecvError::Empty)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return None,
            }
        }
    };
    assert_eq!(recv(&mut on_a).as_deref(), Some(id.as_str()));
    if a.is_postgres() {
        // Another instance hears of it through NOTIFY.
        assert_eq!(recv(&mut on_b).as_deref(), Some(id.as_str()));
    }
}

fn one_lease_holder(open: Open) {
    let (a, b) = (open(), open());
    let lease = a
        .try_lease("provider-stream")
        .unwrap()
        .expect("first holder");
    assert!(a.try_lease("provider-stream").unwrap().is_none());
    if a.is_postgres() {
        // Across instances too, and taken over when the holder's connection goes.
        assert!(b.try_lease("provider-stream").unwrap().is_none());
    }
    assert!(b.try_lease("other").unwrap().is_some());
    drop(lease);
    let taken = if a.is_postgres() { &b } else { &a };
    let mut l = taken
        .try_lease("provider-stream")
        .unwrap()
        .expect("taken over");
    assert!(l.is_held());
}

/// A named case of the suite.
type Case = (&'static str, fn(Open));

const CASES: &[Case] = &[
    ("onchain_watch_list", onchain_watch_list),
    ("idempotent_creates_per_order", idempotent_creates_per_order),
    (
        "concurrent_creates_from_two_instances_make_one_invoice",
        concurrent_creates_from_two_instances_make_one_invoice,
    ),
    ("compare_and_set_transitions", compare_and_set_transitions),
    ("never_back_from_paid", never_back_from_paid),
    (
        "outbox_events_in_the_transition_and_in_order",
        outbox_events_in_the_transition_and_in_order,
    ),
    (
        "provider_webhook_ids_are_deduplicated",
        provider_webhook_ids_are_deduplicated,
    ),
    (
        "status_changes_reach_subscribers",
        status_changes_reach_subscribers,
    ),
    ("one_lease_holder", one_lease_holder),
    (
        "subscription_cursors_are_kept",
        subscription_cursors_are_kept,
    ),
    ("fiat_and_onchain_columns", fiat_and_onchain_columns),
];

/// Step 5: a fiat-priced invoice keeps its price and rate; the same order at the same price is
/// its open invoice whatever the sats now, another price a conflict; a unified invoice keeps its
/// address and what was seen paid to it.
fn fiat_and_onchain_columns(open: Open) {
    use lightning_checkout_backend::fiat::FiatQuote;
    let s = open();
    let quote = |amount: &str, rate: &str| FiatQuote {
        currency: "EUR".into(),
        amount: amount.into(),
        rate: rate.into(),
        rate_source: "fixed".into(),
        rate_at: NOW - 5,
    };
    let q = quote("4.50", "60000.00");
    let id = match s
        .reserve(&Reservation {
            fiat: Some(&q),
            ..res("inv_f", Some("o-f"), 7_500_000)
        })
        .unwrap()
    {
        Reserved::New(inv) => {
            assert_eq!(inv.fiat.as_ref(), Some(&q));
            inv.id
        }
        other => panic!("{other:?}"),
    };
    // The rate moved: same order, same price, another sat amount: the open invoice.
    let moved = quote("4.50", "61000.00");
    assert!(matches!(
        s.reserve(&Reservation { fiat: Some(&moved), ..res("inv_g", Some("o-f"), 7_377_000) })
            .unwrap(),
        Reserved::Open(inv) if inv.id == id
    ));
    let other = quote("5.00", "60000.00");
    assert!(matches!(
        s.reserve(&Reservation {
            fiat: Some(&other),
            ..res("inv_h", Some("o-f"), 7_500_000)
        })
        .unwrap(),
        Reserved::Conflict(_)
    ));
    // No address yet: nothing to record.
    assert!(!applied(s.record_onchain(&id, 0, NOW + 1).unwrap()));
    let done = Completion {
        onchain_address: Some("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".into()),
        ..completion(9)
    };
    let inv = s.complete(&id, &done).unwrap().unwrap();
    assert_eq!(inv.onchain_address, done.onchain_address);
    assert!(applied(s.record_onchain(&id, 0, NOW + 1).unwrap()));
    assert!(applied(s.record_onchain(&id, 2, NOW + 9).unwrap()));
    let inv = open().get(&id).unwrap().unwrap();
    assert_eq!(
        (inv.onchain_seen_at, inv.onchain_confirmations),
        (Some(NOW + 1), Some(2))
    );
    assert_eq!(inv.fiat, Some(q));
}

/// Migration step 6: the watched on-chain addresses (crate::onchain).
fn onchain_watch_list(open: Open) {
    let s = open();
    let addressed = |id: &str, n: u8| {
        let id = new_invoice(&s, id, None);
        s.watch_onchain(&id, 800 + u64::from(n), NOW + 600 + 86_400)
            .unwrap();
        let done = Completion {
            onchain_address: Some(format!("bcrt1qaddress{n}")),
            ..completion(n)
        };
        s.complete(&id, &done).unwrap();
        id
    };
    let a = addressed("inv_wa", 1);
    let b = addressed("inv_wb", 2);
    let plain = new_invoice(&s, "inv_wc", None);
    s.complete(&plain, &completion(3)).unwrap();
    // A retried create keeps the lower height.
    s.watch_onchain(&b, 900, NOW).unwrap();
    assert_eq!(s.onchain_from_height(&b).unwrap(), Some(802));
    assert_eq!(s.onchain_from_height(&plain).unwrap(), None);
    let ids = |now| -> Vec<(String, u64)> {
        open()
            .onchain_watched("demo", now, 10)
            .unwrap()
            .into_iter()
            .map(|w| (w.invoice.id, w.from_height))
            .collect()
    };
    assert_eq!(ids(NOW), vec![(a.clone(), 801), (b.clone(), 802)]);
    assert!(open().onchain_watched("lnd", NOW, 10).unwrap().is_empty());
    // Expired: watched until its window ends; pending: always.
    assert!(applied(s.mark_expired(&a).unwrap()));
    assert_eq!(ids(NOW + 600 + 86_399).len(), 2);
    assert_eq!(ids(NOW + 600 + 86_400), vec![(b.clone(), 802)]);
    // Paid there: no longer watched.
    s.unwatch_onchain(&b).unwrap();
    assert_eq!(ids(NOW), vec![(a.clone(), 801)]);
    // A second payment is news once per amount.
    assert!(s.record_second_payment(&a, 2500, NOW + 5).unwrap());
    assert!(!s.record_second_payment(&a, 2500, NOW + 6).unwrap());
    assert!(s.record_second_payment(&a, 3000, NOW + 7).unwrap());
    assert_eq!(open().second_payment(&a).unwrap(), Some((3000, NOW + 5)));
    assert_eq!(open().second_payment(&b).unwrap(), None);
    // Retention: a pending invoice's watch and one holding a second payment are kept.
    let c = addressed("inv_wd", 4);
    assert!(applied(s.mark_expired(&c).unwrap()));
    s.watch_onchain(&b, 802, NOW).unwrap();
    let end = NOW + 600 + 86_400;
    assert_eq!(s.delete_onchain_watches(end).unwrap(), 0);
    assert_eq!(s.delete_onchain_watches(end + 1).unwrap(), 1);
    assert_eq!(s.onchain_from_height(&c).unwrap(), None);
    assert_eq!(s.onchain_from_height(&a).unwrap(), Some(801));
    assert_eq!(s.onchain_from_height(&b).unwrap(), Some(802));
}

fn run_all(open_for: impl Fn(&str) -> Box<dyn Fn() -> Store + Sync>) {
    for (name, case) in CASES {
        eprintln!("case {name}");
        let open = open_for(name);
        case(&*open);
    }
}

#[test]
fn sqlite_store_keeps_every_rule() {
    run_all(|_| {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Box::new(move || Store::open(dir.path()).unwrap())
    });
}

#[test]
fn postgres_store_keeps_every_rule() {
    let pg = pg::Pg::start();
    run_all(|name| {
        let url = pg.create_db(name);
        Box::new(move || Store::open_pg(&PgOptions::new(url.clone())).unwrap())
    });
}

#[test]
fn postgres_migrations_run_once_when_instances_start_together() {
    let pg = pg::Pg::start();
    let url = pg.create_db("migrate");
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                barrier.wait();
                Store::open_pg(&PgOptions::new(url.clone())).unwrap()
            });
        }
    });
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let versions: Vec<i64> = c
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    // Over the Unix socket too (the README's form of DATABASE_URL).
    let socket = format!(
        "postgres:///migrate?host={}&port={}&user={}",
        pg.dir().display(),
        pg.port,
        pg::ROLE
    );
    assert!(Store::open_pg(&PgOptions::new(socket))
        .unwrap()
        .get("inv_none")
        .unwrap()
        .is_none());
    // A database from a newer program is refused, not altered.
    c.batch_execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'future')")
        .unwrap();
    let err = Store::open_pg(&PgOptions::new(url.clone())).unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");
}

#[test]
fn postgres_outbox_events_are_claimed_by_one_instance() {
    let pg = pg::Pg::start();
    let url = pg.create_db("claims");
    let open = || Store::open_pg(&PgOptions::new(url.clone())).unwrap();
    let (a, b) = (open(), open());
    a.set_outbox(true);
    for i in 0..40 {
        let id = new_invoice(&a, &format!("inv_claim{i}"), None);
        a.mark_paid(&id, NOW, None, None).unwrap();
    }
    let far = 4_000_000_000_000;
    let (x, y) = std::thread::scope(|scope| {
        let x = scope.spawn(|| {
            let mut got = Vec::new();
            for _ in 0..5 {
                got.extend(
                    a.outbox_due(far, 60_000)
                        .unwrap()
                        .into_iter()
                        .map(|e| e.seq),
                );
            }
            got
        });
        let y = scope.spawn(|| {
            let mut got = Vec::new();
            for _ in 0..5 {
                got.extend(
                    b.outbox_due(far, 60_000)
                        .unwrap()
                        .into_iter()
                        .map(|e| e.seq),
                );
            }
            got
        });
        (x.join().unwrap(), y.join().unwrap())
    });
    let mut all: Vec<i64> = x.iter().chain(&y).copied().collect();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!(n, all.len(), "an event was claimed twice: {x:?} {y:?}");
    assert_eq!(n, 40);
    // Claimed: not due again until the claim runs out (a holder that died).
    assert!(a.outbox_due(far, 60_000).unwrap().is_empty());
    assert_eq!(b.outbox_due(far + 60_000, 60_000).unwrap().len(), 32);
}

#[test]
fn postgres_down_is_unavailable_then_recovers() {
    let pg = pg::Pg::start();
    let url = pg.create_db("down");
    let mut opts = PgOptions::new(url);
    opts.statement_timeout = Duration::from_millis(1500);
    let s = Store::open_pg(&opts).unwrap();
    let id = new_invoice(&s, "inv_down", None);
    pg.stop();
    let err = s.get(&id).unwrap_err();
    assert!(
        matches!(
            err,
            lightning_checkout_backend::store::StoreError::Unavailable(_)
        ),
        "{err:?}"
    );
    pg.start_server();
    // The pool reconnects by itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match s.get(&id) {
            Ok(inv) => {
                assert_eq!(inv.unwrap().id, id);
                break;
            }
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("not yet: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("did not recover: {e}\n{}", pg.log()),
        }
    }
}
