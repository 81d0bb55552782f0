//! The live status stream in the state machine (issue 11): a stream message and a poll answer go
//! through the same rules ("paid" once and final, preimage checked, stale answers dropped);
//! while the stream is alive polls are rare, and when it fails or falls silent polling takes over.

mod common;

use common::{make, Spec, NOW_SECS};
use lightning_checkout::amount::Bounds;
use lightning_checkout::contract::{Created, Payable, Status, StatusReply};
use lightning_checkout::invoice::Network;
use lightning_checkout::state::*;
use lightning_invoice::Currency;

const T0: u64 = NOW_SECS * 1000;
const HASH: [u8; 32] = [0x11; 32];

fn open() -> Checkout {
    let mut c = Checkout::new(Options {
        fixed_amount_sat: Some(2500),
        bounds: Bounds::default(),
        network: Network::Regtest,
        description: None,
        order_id: None,
        expiry_secs: Some(900),
        fiat: None,
        unified: false,
    });
    let fx = c.handle(
        Event::Start {
            restored: None,
            fresh_id: "wc_a".into(),
        },
        T0,
    );
    let seq = fx
        .iter()
        .find_map(|e| match e {
            Effect::Create { seq, .. } => Some(*seq),
            _ => None,
        })
        .expect("a create");
    let pr = make(&Spec {
        currency: Currency::Regtest,
        amount_msat: Some(2_500_000),
        payment_hash: HASH,
        timestamp_secs: NOW_SECS,
        expiry_secs: Some(900),
        ..Spec::default()
    });
    let created = Created {
        id: "inv_test1".into(),
        payable: Payable::Bolt11 {
            payment_request: pr,
            payment_hash: HASH,
        },
        amount_sat: 2500,
        expires_at: NOW_SECS + 900,
        fiat: None,
        onchain_address: None,
    };
    c.handle(
        Event::Created {
            seq,
            result: Ok(created),
        },
        T0 + 100,
    );
    assert_eq!(c.phase(), &Phase::Open);
    assert_eq!(c.stream_id(), Some("inv_test1"));
    c
}

fn reply(status: Status, preimage: Option<&str>) -> StatusReply {
    StatusReply {
        id: "inv_test1".into(),
        status,
        preimage: preimage.map(String::from),
        onchain: None,
    }
}

fn pushed(c: &mut Checkout, status: Option<Status>, alive_ms: u64, now: u64) -> Vec<Effect> {
    c.handle(
        Event::Stream {
            reply: status.map(|s| reply(s, None)),
            alive_ms,
        },
        now,
    )
}

fn fetch_seq(fx: &[Effect]) -> Option<u64> {
    fx.iter().find_map(|e| match e {
        Effect::FetchStatus { seq, .. } => Some(*seq),
        _ => None,
    })
}

fn paid_events(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Emit(Emit::Paid { .. })))
        .count()
}

#[test]
fn stream_paid_is_paid_once_and_the_poll_in_flight_is_dropped() {
    let mut c = open();
    let seq = fetch_seq(&c.handle(Event::Tick, T0 + 100 + POLL_INTERVAL_MS)).expect("a poll");
    let fx = pushed(&mut c, Some(Status::Paid), 30_000, T0 + 2500);
    assert_eq!(paid_events(&fx), 1);
    assert_eq!(c.phase(), &Phase::Paid);
    assert_eq!(c.stream_id(), None, "the stream is closed once paid");
    // The poll sent before the event answers "pending": stale, dropped.
    let fx = c.handle(
        Event::Status {
            seq,
            result: Ok(reply(Status::Pending, None)),
        },
        T0 + 2600,
    );
    assert!(fx.is_empty());
    assert_eq!(c.phase(), &Phase::Paid);
    // The same event again (a reconnected stream sends the status first): nothing more.
    assert_eq!(
        paid_events(&pushed(&mut c, Some(Status::Paid), 30_000, T0 + 2700)),
        0
    );
    assert_eq!(c.next_wake(T0 + 2700), None, "nothing left to poll");
}

#[test]
fn a_poll_answer_paid_then_the_stream_paid_is_one_paid() {
    let mut c = open();
    let seq = fetch_seq(&c.handle(Event::Tick, T0 + 100 + POLL_INTERVAL_MS)).unwrap();
    let fx = c.handle(
        Event::Status {
            seq,
            result: Ok(reply(Status::Paid, None)),
        },
        T0 + 2200,
    );
    assert_eq!(paid_events(&fx), 1);
    assert_eq!(
        paid_events(&pushed(&mut c, Some(Status::Paid), 30_000, T0 + 2300)),
        0
    );
}

#[test]
fn a_streamed_paid_with_a_wrong_preimage_is_not_believed() {
    let mut c = open();
    let fx = c.handle(
        Event::Stream {
            reply: Some(reply(Status::Paid, Some(&"00".repeat(32)))),
            alive_ms: 30_000,
        },
        T0 + 500,
    );
    assert_eq!(paid_events(&fx), 0);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Emit(Emit::Error(f)) if f.code == "preimage_mismatch")));
    assert_eq!(c.phase(), &Phase::Open);
}

#[test]
fn while_the_stream_is_alive_polls_are_rare() {
    let mut c = open();
    let mut polls = 0;
    let mut now = T0 + 200;
    // A ping every 10 s, each saying 30 s of silence is fine.
    while now < T0 + 100 + STREAM_POLL_INTERVAL_MS + 5_000 {
        if (now - T0 - 200) % 10_000 == 0 {
            pushed(&mut c, None, 30_000, now);
        }
        if let Some(seq) = fetch_seq(&c.handle(Event::Tick, now)) {
            polls += 1;
            c.handle(
                Event::Status {
                    seq,
                    result: Ok(reply(Status::Pending, None)),
                },
                now + 10,
            );
        }
        now += 100;
    }
    // Polling alone would have polled about 17 times.
    assert_eq!(polls, 1, "one safety-net poll in {} s", (now - T0) / 1000);
}

#[test]
fn a_silent_stream_hands_over_to_polling() {
    let mut c = open();
    pushed(&mut c, None, 5_000, T0 + 200);
    let mut now = T0 + 300;
    let polled_at = loop {
        if fetch_seq(&c.handle(Event::Tick, now)).is_some() {
            break now;
        }
        now += 100;
        assert!(now < T0 + 10_000, "no poll after the stream fell silent");
    };
    // Not while it was alive; at once when its announced silence ran out.
    assert_eq!(polled_at, T0 + 5_200);
}

#[test]
fn a_stream_that_fails_hands_over_to_polling_within_the_poll_interval() {
    let mut c = open();
    pushed(&mut c, None, 30_000, T0 + 200);
    assert_eq!(fetch_seq(&c.handle(Event::Tick, T0 + 5_000)), None);
    c.handle(Event::StreamDown, T0 + 6_000);
    let mut now = T0 + 6_000;
    while fetch_seq(&c.handle(Event::Tick, now)).is_none() {
        now += 100;
        assert!(
            now <= T0 + 6_000 + POLL_INTERVAL_MS,
            "polling did not take over"
        );
    }
}

#[test]
fn a_streamed_expired_is_the_backends_decision_and_pending_changes_nothing() {
    let mut c = open();
    assert!(pushed(&mut c, Some(Status::Pending), 30_000, T0 + 300).is_empty());
    assert_eq!(c.phase(), &Phase::Open);
    let fx = pushed(&mut c, Some(Status::Expired), 30_000, T0 + 400);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Emit(Emit::Expired { .. }))));
    assert_eq!(c.phase(), &Phase::Expired);
    assert_eq!(c.stream_id(), None);
    // A late "paid" (a payment confirmed after all) still turns it paid.
    assert_eq!(
        paid_events(&pushed(&mut c, Some(Status::Paid), 30_000, T0 + 500)),
        1
    );
}

#[test]
fn a_message_about_another_invoice_changes_nothing() {
    let mut c = open();
    let fx = c.handle(
        Event::Stream {
            reply: Some(StatusReply {
                id: "inv_other".into(),
                status: Status::Paid,
                preimage: None,
                onchain: None,
            }),
            alive_ms: 30_000,
        },
        T0 + 300,
    );
    assert!(fx.is_empty());
    assert_eq!(c.phase(), &Phase::Open);
}

#[test]
fn a_pushed_pending_that_saw_an_onchain_payment_says_so() {
    let mut c = open();
    let mut r = reply(Status::Pending, None);
    r.onchain = Some(lightning_checkout::contract::OnchainSeen {
        confirmations: 0,
        required: 1,
    });
    c.handle(
        Event::Stream {
            reply: Some(r),
            alive_ms: 30_000,
        },
        T0 + 500,
    );
    assert_eq!(c.phase(), &Phase::Open);
    assert_eq!(
        c.view(T0 + 500).status,
        "Payment seen on-chain; waiting for a confirmation…"
    );
}
