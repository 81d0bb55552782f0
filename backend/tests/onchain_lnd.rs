//! Unified invoices with LND (issue 12 #4): the backend gets the address from LND's `NewAddress`
//! and watches it itself through `GetTransactions` (crate::onchain), against the testkit LND
//! fake over real HTTP: mempool → pending with the payment seen → paid at
//! `ONCHAIN_CONFIRMATIONS`; underpaid; other addresses ignored; confirmed after the Lightning
//! deadline; Lightning paid first; LND down or answering garbage; LND before 0.15/0.16.

mod common;
mod provider_support;

use std::str::FromStr;

use lightning_checkout_backend::onchain;
use provider_support::{setup, Setup};
use serde_json::{json, Value};
use testkit::Kind;

/// The fake's chain tip when the tests start.
const TIP: i64 = 800;

async fn lnd(confirmations: &str) -> Setup {
    setup(Kind::Lnd, &[("ONCHAIN_CONFIRMATIONS", confirmations)]).await
}

async fn unified(s: &Setup, amount_sat: u64, expiry_secs: u32) -> (String, String) {
    let (id, v) = s
        .create(
            &json!({"amount_sat": amount_sat, "expiry_secs": expiry_secs, "unified": true})
                .to_string(),
        )
        .await;
    let addr = v["onchain_address"]
        .as_str()
        .unwrap_or_else(|| panic!("an on-chain address: {v}"))
        .to_owned();
    (id, addr)
}

fn onchain(st: &Value) -> &Value {
    &st["onchain"]
}

#[tokio::test]
async fn mempool_then_confirmations_then_paid() {
    let s = lnd("3").await;
    let (id, addr) = unified(&s, 2500, 900).await;
    // LND's fresh P2WPKH address of the backend's network, the one the fake's wallet made.
    assert!(addr.starts_with("bcrt1q"), "{addr}");
    bitcoin::Address::from_str(&addr)
        .unwrap()
        .require_network(bitcoin::Network::Regtest)
        .unwrap();
    assert_eq!(s.fake.chain_addresses(), vec![addr.clone()]);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert!(onchain(&st).is_null(), "{st}");
    // The lookup listed the wallet from the tip at the address's making, mempool included.
    assert_eq!(s.fake.chain_queries(), vec![(TIP, -1)]);

    s.fake.chain_pay(&addr, 2500);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert_eq!(*onchain(&st), json!({"confirmations": 0, "required": 3}));
    assert!(s.row(&id).onchain_seen_at.is_some());

    s.fake.mine(1);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert_eq!(*onchain(&st), json!({"confirmations": 1, "required": 3}));

    s.fake.mine(2);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "paid", "{st}");
    let row = s.row(&id);
    assert_eq!(row.amount_paid_msat, Some(2_500_000));
    assert!(!row.paid_late);
    assert!(
        row.preimage.is_none(),
        "an on-chain payment has no preimage"
    );
    // Its Lightning invoice is cancelled at LND: it cannot be paid a second time.
    assert_eq!(s.fake.cancels(), 1);
    assert_eq!(s.fake.invoices()[0].status, testkit::FakeStatus::Expired);
    // Paid: no longer watched, and never asked about again.
    let queries = s.fake.chain_queries().len();
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(0));
    assert_eq!(s.status(&id).await["status"], "paid");
    assert_eq!(s.fake.chain_queries().len(), queries);
    s.assert_no_rejections();
}

#[tokio::test]
async fn underpaid_on_chain_stays_pending_until_topped_up() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 2500, 900).await;
    s.fake.chain_pay(&addr, 2000);
    s.fake.mine(1);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending", "{st}");
    let row = s.row(&id);
    assert_eq!(row.amount_received_msat, Some(2_000_000));
    assert!(row.underpaid_at.is_some());
    // The rest arrives: the outputs to the address are summed.
    s.fake.chain_pay(&addr, 500);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert_eq!(*onchain(&st), json!({"confirmations": 0, "required": 1}));
    s.fake.mine(1);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "paid", "{st}");
    assert_eq!(s.row(&id).amount_paid_msat, Some(2_500_000));
}

#[tokio::test]
async fn payments_to_other_addresses_are_ignored() {
    let s = lnd("1").await;
    let (a, addr_a) = unified(&s, 1000, 900).await;
    let (b, _addr_b) = unified(&s, 1000, 900).await;
    let (plain, v) = s.create(r#"{"amount_sat": 1000}"#).await;
    assert!(v.get("onchain_address").is_none(), "opt-in only: {v}");
    // A payment to an address of the wallet that no invoice has, and one to a stranger's.
    let stray = bitcoin::Address::p2wpkh(
        &bitcoin::CompressedPublicKey::from_slice(
            &hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
                .unwrap(),
        )
        .unwrap(),
        bitcoin::Network::Regtest,
    )
    .to_string();
    s.fake.chain_pay(&stray, 1000);
    s.fake.chain_pay(&addr_a, 1000);
    s.fake.mine(1);
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(2));
    assert_eq!(s.status(&a).await["status"], "paid");
    let st = s.status(&b).await;
    assert_eq!(st["status"], "pending");
    assert!(onchain(&st).is_null(), "{st}");
    assert!(s.row(&b).onchain_seen_at.is_none());
    assert_eq!(s.status(&plain).await["status"], "pending");
    // One listing for all watched invoices, from the lowest height.
    assert!(s.fake.chain_queries().iter().all(|q| *q == (TIP, -1)));
}

#[tokio::test]
async fn in_the_mempool_at_the_deadline_then_confirmed_is_paid() {
    let s = lnd("2").await;
    let (id, addr) = unified(&s, 3000, 600).await;
    s.advance(500);
    s.fake.chain_pay(&addr, 3000);
    // Nobody polled since the payment: the deadline passes, and the first poll after it asks
    // LND, which sees the payment: not expired, it waits for its confirmations.
    s.advance(200);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending", "{st}");
    assert_eq!(*onchain(&st), json!({"confirmations": 0, "required": 2}));
    s.advance(3600);
    assert_eq!(s.status(&id).await["status"], "pending");
    s.fake.mine(2);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "paid", "{st}");
    assert!(!s.row(&id).paid_late);
}

#[tokio::test]
async fn sent_after_expiry_is_still_seen_within_the_window_and_paid_late() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 3000, 600).await;
    let (gone, addr_gone) = unified(&s, 3000, 600).await;
    s.advance(700);
    assert_eq!(s.status(&id).await["status"], "expired");
    assert_eq!(s.status(&gone).await["status"], "expired");
    // Paid on-chain after the deadline: the watch (not a poll: the widget stopped) finds it.
    s.fake.chain_pay(&addr, 3000);
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(2));
    assert_eq!(s.row(&id).status.as_str(), "expired", "mempool only");
    s.fake.mine(1);
    onchain::watch_once(&s.app.state).await.unwrap();
    let row = s.row(&id);
    assert_eq!(row.status.as_str(), "paid");
    assert!(row.paid_late);
    // After the window, an expired invoice's address is no longer watched.
    s.advance(onchain::WATCH_AFTER_EXPIRY_SECS);
    s.fake.chain_pay(&addr_gone, 3000);
    s.fake.mine(1);
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(0));
    assert_eq!(s.row(&gone).status.as_str(), "expired");
}

#[tokio::test]
async fn lightning_paid_first_then_on_chain_stays_paid_once() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 2500, 900).await;
    s.fake.settle(None).await;
    let st = s.status(&id).await;
    assert_eq!(st["status"], "paid");
    let paid = s.row(&id);
    assert!(paid.preimage.is_some());
    s.fake.chain_pay(&addr, 2500);
    s.fake.mine(1);
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(1));
    // Still the one Lightning payment; the second is kept for a person (and logged).
    let row = s.row(&id);
    assert_eq!(row.status.as_str(), "paid");
    assert_eq!(row.paid_at, paid.paid_at);
    assert_eq!(row.amount_paid_msat, paid.amount_paid_msat);
    assert!(row.onchain_seen_at.is_none());
    let second = s.app.state.store().second_payment(&id).unwrap();
    assert_eq!(second.map(|p| p.0), Some(2500));
    // Seen again: nothing new.
    onchain::watch_once(&s.app.state).await.unwrap();
    assert_eq!(s.row(&id), row);
    // The shop heard of one payment.
    let paid_events = s
        .app
        .state
        .store()
        .outbox_all()
        .unwrap()
        .iter()
        .filter(|e| e.kind == "invoice.paid")
        .count();
    assert!(paid_events <= 1);
}

#[tokio::test]
async fn lnd_down_or_answering_garbage_changes_nothing_and_recovers() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 2500, 600).await;
    s.fake.chain_pay(&addr, 2500);
    s.fake.set_down(true);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert!(onchain(&st).is_null());
    assert!(onchain::watch_once(&s.app.state).await.is_err());
    s.fake.set_down(false);
    s.fake.set_chain_garbage(true);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert!(onchain(&st).is_null());
    assert!(onchain::watch_once(&s.app.state).await.is_err());
    // Past the deadline while the wallet cannot be read: not expired (a payment may be there).
    s.advance(700);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending", "{st}");
    assert_eq!(s.row(&id).status.as_str(), "pending");
    // LND answers again: the payment is seen, then paid.
    s.fake.set_chain_garbage(false);
    let st = s.status(&id).await;
    assert_eq!(st["status"], "pending");
    assert_eq!(*onchain(&st), json!({"confirmations": 0, "required": 1}));
    s.fake.mine(1);
    assert_eq!(s.status(&id).await["status"], "paid");
}

#[tokio::test]
async fn no_usable_address_leaves_the_invoice_lightning_only() {
    let s = lnd("1").await;
    s.fake.set_chain_garbage(true);
    let (id, v) = s.create(r#"{"amount_sat": 2500, "unified": true}"#).await;
    assert!(v.get("onchain_address").is_none(), "{v}");
    assert!(v["payment_request"].as_str().is_some());
    assert_eq!(s.status(&id).await["status"], "pending");
    assert!(s.fake.chain_queries().is_empty(), "nothing to watch");
}

#[tokio::test]
async fn older_lnd_without_output_details_or_chainkit() {
    for version in ["0.15", "0.14"] {
        let s = lnd("1").await;
        s.fake.set_lnd_version(version);
        // The tip from GetInfo (no ChainKit before 0.16).
        s.fake.mine(5);
        let (id, addr) = unified(&s, 2500, 900).await;
        let (other, addr_other) = unified(&s, 2500, 900).await;
        s.fake.chain_pay(&addr, 2500);
        s.fake.mine(1);
        let st = s.status(&id).await;
        assert_eq!(st["status"], "paid", "{version}: {st}");
        assert!(s.fake.chain_queries().iter().all(|q| *q == (TIP + 5, -1)));
        // Before 0.15 a transaction's amount is its total: one paying two watched addresses
        // cannot be split, and is credited to neither.
        let (third, addr_third) = unified(&s, 2500, 900).await;
        s.fake
            .chain_pay_outputs(&[(&addr_other, 2500), (&addr_third, 2500)]);
        s.fake.mine(1);
        onchain::watch_once(&s.app.state).await.unwrap();
        for inv in [&other, &third] {
            let row = s.row(inv);
            if version == "0.14" {
                assert_eq!(row.status.as_str(), "pending", "{version}");
                assert!(row.onchain_seen_at.is_none());
            } else {
                assert_eq!(row.status.as_str(), "paid", "{version}");
            }
        }
        // The only refusals: ChainKit's, which the adapter then does without.
        assert!(s.fake.rejections().iter().all(|r| r.contains("ChainKit")));
    }
}

#[tokio::test]
async fn the_watch_task_finds_payments_without_any_poll_and_tells_subscribers() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 2500, 900).await;
    let mut changes = s.app.state.store().changes();
    let task = onchain::spawn_every(&s.app.state, std::time::Duration::from_millis(50));
    s.fake.chain_pay(&addr, 2500);
    // Seen in the mempool: a change the status streams push.
    let changed = tokio::time::timeout(std::time::Duration::from_secs(10), changes.recv())
        .await
        .expect("a change within 10 s")
        .unwrap();
    assert_eq!(changed, id);
    assert_eq!(s.row(&id).onchain_confirmations, Some(0));
    // Seen again by the next rounds: nothing new to tell.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        changes.try_recv().is_err(),
        "no change while nothing changed"
    );
    s.fake.mine(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.row(&id).status.as_str() != "paid" {
        assert!(std::time::Instant::now() < deadline, "paid within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
}

#[tokio::test]
async fn listings_start_at_the_invoices_own_height_and_a_round_at_the_lowest() {
    let s = lnd("1").await;
    let (_a, _) = unified(&s, 1000, 900).await;
    s.fake.mine(5);
    let (b, _) = unified(&s, 1000, 900).await;
    s.status(&b).await;
    assert_eq!(s.fake.chain_queries(), vec![(TIP + 5, -1)], "a poll of b");
    assert_eq!(onchain::watch_once(&s.app.state).await, Ok(2));
    assert_eq!(
        s.fake.chain_queries(),
        vec![(TIP + 5, -1), (TIP, -1)],
        "one listing for both, from a's height"
    );
}

#[tokio::test]
async fn lnds_wallet_stream_starts_a_round_at_once() {
    let s = lnd("1").await;
    let (id, addr) = unified(&s, 2500, 900).await;
    // Timed rounds an hour apart: only the stream can start one.
    let task = onchain::spawn_every(&s.app.state, std::time::Duration::from_secs(3600));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.fake.chain_subscribers() == 0 {
        assert!(std::time::Instant::now() < deadline, "the stream opens");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    s.fake.chain_pay(&addr, 2500);
    while s.row(&id).onchain_seen_at.is_none() {
        assert!(std::time::Instant::now() < deadline, "seen within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    s.fake.mine(1);
    while s.row(&id).status.as_str() != "paid" {
        assert!(std::time::Instant::now() < deadline, "paid within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // A cut stream is opened again.
    s.fake.drop_streams();
    while s.fake.chain_subscribers() < 2 {
        assert!(std::time::Instant::now() < deadline, "reconnected");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
}
