//! The checkout state machine, driven natively with invented times: every payer-protecting
//! rule (one request in flight, stale replies dropped, paid is final, preimage checked, final
//! check at expiry, backoff, reload recovery) without a browser or a clock.

mod common;

use common::{make, Spec, NOW_SECS};
use lightning_checkout::amount::Bounds;
use lightning_checkout::contract::{Created, Payable, Status, StatusReply};
use lightning_checkout::invoice::Network;
use lightning_checkout::state::*;
use lightning_invoice::Currency;

const T0: u64 = NOW_SECS * 1000;
const HASH: [u8; 32] = [0x11; 32];

fn opts() -> Options {
    Options {
        fixed_amount_sat: None,
        bounds: Bounds::default(),
        network: Network::Regtest,
        description: Some("Coffee".into()),
        order_id: None,
        expiry_secs: Some(900),
        fiat: None,
        unified: false,
    }
}

fn created(amount_sat: u64) -> Created {
    let pr = make(&Spec {
        currency: Currency::Regtest,
        amount_msat: Some(amount_sat * 1000),
        payment_hash: HASH,
        timestamp_secs: NOW_SECS,
        expiry_secs: Some(900),
        ..Spec::default()
    });
    Created {
        id: "inv_test1".into(),
        payable: Payable::Bolt11 {
            payment_request: pr,
            payment_hash: HASH,
        },
        amount_sat,
        expires_at: NOW_SECS + 900,
        fiat: None,
        onchain_address: None,
    }
}

fn reply(status: Status, preimage: Option<&str>) -> StatusReply {
    StatusReply {
        id: "inv_test1".into(),
        status,
        preimage: preimage.map(String::from),
        onchain: None,
    }
}

fn started(o: Options) -> Checkout {
    let mut c = Checkout::new(o);
    let fx = c.handle(
        Event::Start {
            restored: None,
            fresh_id: "wc_a".into(),
        },
        T0,
    );
    assert!(fx.is_empty() || matches!(fx[0], Effect::Create { .. }));
    c
}

/// The payer submits `amount` (a new attempt gets order id `fresh_id`).
fn submit(c: &mut Checkout, amount: &str, fresh_id: &str, now: u64) -> Vec<Effect> {
    c.handle(
        Event::Submit {
            amount_text: amount.into(),
            fresh_id: fresh_id.into(),
        },
        now,
    )
}

/// The backend answers status request `seq`.
fn answer(
    c: &mut Checkout,
    seq: u64,
    result: Result<StatusReply, Failure>,
    now: u64,
) -> Vec<Effect> {
    c.handle(Event::Status { seq, result }, now)
}

fn create_seq(fx: &[Effect]) -> (u64, lightning_checkout::contract::CreateRequest) {
    fx.iter()
        .find_map(|e| match e {
            Effect::Create { seq, request } => Some((*seq, request.clone())),
            _ => None,
        })
        .expect("a Create effect")
}

fn fetch_seq(fx: &[Effect]) -> Option<u64> {
    fx.iter().find_map(|e| match e {
        Effect::FetchStatus { seq, .. } => Some(*seq),
        _ => None,
    })
}

fn emitted(fx: &[Effect]) -> Vec<&Emit> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Emit(x) => Some(x),
            _ => None,
        })
        .collect()
}

/// A checkout showing an invoice for 2,500 sat, polled once already at T0 + 2 s (answer pending).
fn open() -> Checkout {
    let mut c = started(opts());
    let fx = submit(&mut c, "2500", "wc_a", T0);
    let (seq, _) = create_seq(&fx);
    c.handle(
        Event::Created {
            seq,
            result: Ok(created(2500)),
        },
        T0 + 100,
    );
    assert_eq!(c.phase(), &Phase::Open);
    c
}

#[test]
fn submit_checks_the_amount_before_any_request() {
    let mut c = started(Options {
        bounds: Bounds::new(100, 10_000).unwrap(),
        ..opts()
    });
    for bad in ["", "abc", "1.5", "99", "10001", "-5"] {
        let fx = c.handle(
            Event::Submit {
                amount_text: bad.into(),
                fresh_id: "wc_a".into(),
            },
            T0,
        );
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Create { .. })),
            "{bad:?} requested"
        );
        assert!(c.view(T0).form_error.is_some(), "{bad:?} has no message");
        assert_eq!(c.phase(), &Phase::Form);
    }
    let fx = submit(&mut c, " 2,500 ", "wc_a", T0);
    let (_, req) = create_seq(&fx);
    assert_eq!(req.amount_sat, 2500);
    assert_eq!(req.order_id.as_deref(), Some("wc_a"));
    assert_eq!(req.description.as_deref(), Some("Coffee"));
    assert_eq!(req.expiry_secs, Some(900));
}

#[test]
fn created_invoice_is_shown_saved_and_announced_then_polled() {
    let mut c = started(opts());
    let fx = submit(&mut c, "2500", "wc_a", T0);
    let (seq, _) = create_seq(&fx);
    assert!(c.view(T0).busy);
    let fx = c.handle(
        Event::Created {
            seq,
            result: Ok(created(2500)),
        },
        T0 + 100,
    );
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Save(_, Some(o)) if o == "wc_a")));
    assert!(matches!(
        emitted(&fx)[..],
        [Emit::Invoice {
            amount_sat: 2500,
            ..
        }]
    ));
    let vm = c.view(T0 + 100);
    let inv = vm.invoice.expect("invoice shown");
    let qr = inv.qr_payload.unwrap();
    assert!(qr.starts_with("lightning:LNBCRT25U1"), "{qr}");
    assert!(inv.text.starts_with("lnbcrt25u1"));
    assert_eq!(inv.action_href, format!("lightning:{}", inv.text));
    assert_eq!(inv.countdown.as_deref(), Some("15:00"));
    assert_eq!(inv.amount, "2,500 sat");
    assert!(
        !inv.new_tab,
        "lightning: links open the wallet app, not a tab"
    );
    // The first poll comes after the poll interval, not at once.
    assert_eq!(c.next_wake(T0 + 100), Some(T0 + 1000));
    assert_eq!(fetch_seq(&c.handle(Event::Tick, T0 + 1000)), None);
    assert!(fetch_seq(&c.handle(Event::Tick, T0 + 100 + POLL_INTERVAL_MS)).is_some());
}

#[test]
fn never_two_requests_in_flight_and_stale_replies_are_dropped() {
    let mut c = open();
    let s1 = fetch_seq(&c.handle(Event::Tick, T0 + 3000)).unwrap();
    // Ticks and "page visible" while a poll is out do not start another.
    assert_eq!(fetch_seq(&c.handle(Event::Tick, T0 + 9000)), None);
    assert_eq!(fetch_seq(&c.handle(Event::PageVisible, T0 + 9000)), None);
    // A reply to a request that is not the one in flight is ignored.
    answer(&mut c, s1 + 99, Ok(reply(Status::Paid, None)), T0 + 9100);
    assert_eq!(c.phase(), &Phase::Open);
    answer(&mut c, s1, Ok(reply(Status::Pending, None)), T0 + 9200);
    assert!(!c.busy());
}

#[test]
fn paid_is_final() {
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 3000)).unwrap();
    let fx = answer(&mut c, s, Ok(reply(Status::Paid, None)), T0 + 3100);
    assert_eq!(c.phase(), &Phase::Paid);
    assert!(matches!(
        emitted(&fx)[..],
        [Emit::Paid { preimage: None, .. }]
    ));
    // Nothing brings it back: no more polls, a late "pending" or "expired" is dropped.
    assert_eq!(c.next_wake(T0 + 3100), None);
    for status in [Status::Pending, Status::Expired] {
        answer(&mut c, s, Ok(reply(status, None)), T0 + 4000);
        assert_eq!(c.phase(), &Phase::Paid);
    }
    assert!(fetch_seq(&c.handle(Event::Tick, T0 + 901_000)).is_none());
    let vm = c.view(T0 + 5000);
    assert!(vm.paid);
    assert_eq!(vm.status, "Paid 2,500 sat. Thank you!");
    assert!(
        vm.invoice.unwrap().qr_payload.is_none(),
        "nothing payable after paid"
    );
}

#[test]
fn a_preimage_must_hash_to_the_payment_hash() {
    let preimage = "00".repeat(32); // hashes to 66687aad…, not 1111…
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 3000)).unwrap();
    let fx = answer(
        &mut c,
        s,
        Ok(reply(Status::Paid, Some(&preimage))),
        T0 + 3100,
    );
    assert_eq!(c.phase(), &Phase::Open, "not claimed paid");
    assert!(matches!(emitted(&fx)[..], [Emit::Error(f)] if f.code == "preimage_mismatch"));
    assert!(c.view(T0 + 3100).invoice.unwrap().payable);

    // With the real preimage it is paid, and the preimage is passed on.
    use bitcoin::hashes::{sha256, Hash};
    let pre = [7u8; 32];
    let hash = sha256::Hash::hash(&pre).to_byte_array();
    let mut c = started(opts());
    let fx = submit(&mut c, "2500", "wc_b", T0);
    let (seq, _) = create_seq(&fx);
    let mut cr = created(2500);
    let pr = make(&Spec {
        currency: Currency::Regtest,
        payment_hash: hash,
        ..Spec::default()
    });
    cr.payable = Payable::Bolt11 {
        payment_request: pr,
        payment_hash: hash,
    };
    c.handle(
        Event::Created {
            seq,
            result: Ok(cr),
        },
        T0,
    );
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 3000)).unwrap();
    let hex_pre = "07".repeat(32);
    let fx = answer(
        &mut c,
        s,
        Ok(reply(Status::Paid, Some(&hex_pre))),
        T0 + 3100,
    );
    assert_eq!(c.phase(), &Phase::Paid);
    assert!(matches!(emitted(&fx)[..], [Emit::Paid { preimage: Some(p), .. }] if *p == hex_pre));
}

#[test]
fn failed_polls_back_off_and_honour_retry_after() {
    let mut c = open();
    let mut t = T0 + 2100;
    let mut waits = Vec::new();
    for i in 0..7 {
        let s = fetch_seq(&c.handle(Event::Tick, t)).expect("poll");
        let mut f = Failure::new("backend_unreachable", "down");
        if i == 6 {
            f.retry_after_secs = Some(60);
        }
        answer(&mut c, s, Err(f), t);
        let next = c.next_wake(t).unwrap();
        // next_wake also wakes for the countdown: find the next poll by ticking.
        let mut probe = t;
        let poll_at = loop {
            probe = c.next_wake(probe).unwrap();
            let mut cc = c.clone();
            if fetch_seq(&cc.handle(Event::Tick, probe)).is_some() {
                break probe;
            }
            c.handle(Event::Tick, probe);
        };
        assert!(next <= poll_at);
        waits.push(poll_at - t);
        t = poll_at;
    }
    assert_eq!(
        waits,
        vec![4000, 8000, 16000, 30000, 30000, 30000, 60000],
        "exponential, capped at 30 s, Retry-After wins"
    );
    assert!(c.view(t).status.contains("connection problems"));
    // One good answer resets the backoff.
    let s = fetch_seq(&c.handle(Event::Tick, t)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Pending, None)), t);
    assert!(fetch_seq(&c.handle(Event::Tick, t + POLL_INTERVAL_MS)).is_some());
}

#[test]
fn at_expiry_a_final_check_catches_a_late_payment() {
    let expiry = T0 + 900_000;
    // Unpaid: the final check says pending -> expired, announced once.
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).expect("final check at expiry");
    let fx = answer(&mut c, s, Ok(reply(Status::Pending, None)), expiry + 50);
    assert_eq!(c.phase(), &Phase::Expired);
    assert!(matches!(emitted(&fx)[..], [Emit::Expired { .. }]));
    assert!(fx.contains(&Effect::Forget));
    let vm = c.view(expiry + 50);
    assert!(vm.new_invoice);
    assert!(
        vm.invoice.unwrap().qr_payload.is_none(),
        "QR hidden at expiry"
    );

    // Paid in the last seconds: the final check sees it.
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Paid, None)), expiry + 50);
    assert_eq!(c.phase(), &Phase::Paid);

    // Network down at expiry: retried, then expired.
    let mut c = open();
    let mut t = expiry;
    let mut checks = 0;
    while c.phase() == &Phase::Open {
        if let Some(s) = fetch_seq(&c.handle(Event::Tick, t)) {
            checks += 1;
            answer(
                &mut c,
                s,
                Err(Failure::new("backend_unreachable", "down")),
                t,
            );
        }
        t += FINAL_CHECK_RETRY_MS;
        assert!(t < expiry + 60_000, "stuck");
    }
    assert_eq!(checks, FINAL_CHECK_ATTEMPTS);
    assert_eq!(c.phase(), &Phase::Expired);
}

#[test]
fn refused_invoices_are_failures_with_a_retry_that_reuses_the_order_id() {
    let mut c = started(opts());
    let fx = submit(&mut c, "2500", "wc_a", T0);
    let (seq, req) = create_seq(&fx);
    // The backend answers an invoice for 2,501 sat.
    let fx = c.handle(
        Event::Created {
            seq,
            result: Ok(created(2501)),
        },
        T0,
    );
    assert!(matches!(c.phase(), Phase::Failed { amount_sat: 2500 }));
    assert!(matches!(emitted(&fx)[..], [Emit::Error(f)] if f.code == "invoice_wrong_amount"));
    let vm = c.view(T0);
    assert!(vm.retry && vm.invoice.is_none() && vm.error.is_some());
    // Try again: the same order id, so a lost first answer cannot make a second invoice.
    let (_, again) = create_seq(&c.handle(Event::Retry, T0 + 10));
    assert_eq!(again.order_id, req.order_id);
    assert_eq!(again.amount_sat, 2500);
}

#[test]
fn wrong_network_and_expired_invoices_are_refused() {
    for (o, inv, code) in [
        (
            Options {
                network: Network::Bitcoin,
                ..opts()
            },
            created(2500),
            "invoice_wrong_network",
        ),
        (
            opts(),
            {
                let mut cr = created(2500);
                cr.payable = Payable::Bolt11 {
                    payment_request: make(&Spec {
                        currency: Currency::Regtest,
                        timestamp_secs: NOW_SECS - 1000,
                        ..Spec::default()
                    }),
                    payment_hash: HASH,
                };
                cr
            },
            "invoice_expired",
        ),
        (
            opts(),
            {
                let mut cr = created(2500);
                if let Payable::Bolt11 { payment_hash, .. } = &mut cr.payable {
                    payment_hash[0] ^= 1;
                }
                cr
            },
            "invoice_hash_mismatch",
        ),
    ] {
        let mut c = started(o);
        let (seq, _) = create_seq(&submit(&mut c, "2500", "wc", T0));
        let fx = c.handle(
            Event::Created {
                seq,
                result: Ok(inv),
            },
            T0,
        );
        assert!(
            matches!(emitted(&fx)[..], [Emit::Error(f)] if f.code == code),
            "{code}: {fx:?}"
        );
        assert!(c.view(T0).invoice.is_none());
    }
}

#[test]
fn a_stale_create_answer_is_ignored_after_change_amount() {
    let mut c = started(opts());
    let (seq, _) = create_seq(&submit(&mut c, "2500", "wc_a", T0));
    // The payer cannot change the amount while creating; after a failure they can.
    c.handle(
        Event::Created {
            seq,
            result: Err(Failure::new("backend_error", "x")),
        },
        T0,
    );
    let fx = c.handle(Event::ChangeAmount, T0);
    assert!(fx.contains(&Effect::Forget));
    assert_eq!(c.phase(), &Phase::Form);
    c.handle(
        Event::Created {
            seq,
            result: Ok(created(2500)),
        },
        T0,
    );
    assert_eq!(
        c.phase(),
        &Phase::Form,
        "an answer to an abandoned request changes nothing"
    );
    // A new amount is a new attempt with a new order id.
    let (_, req) = create_seq(&submit(&mut c, "3000", "wc_b", T0));
    assert_eq!(req.order_id.as_deref(), Some("wc_b"));
}

#[test]
fn fixed_amount_requests_at_once_with_the_shop_order_id() {
    let mut c = Checkout::new(Options {
        fixed_amount_sat: Some(1234),
        order_id: Some("order-42".into()),
        ..opts()
    });
    let fx = c.handle(
        Event::Start {
            restored: None,
            fresh_id: "wc_x".into(),
        },
        T0,
    );
    let (_, req) = create_seq(&fx);
    assert_eq!(req.amount_sat, 1234);
    assert_eq!(req.order_id.as_deref(), Some("order-42"));
    let vm = c.view(T0);
    assert!(!vm.form, "no form for a fixed amount");
    assert!(!vm.change_amount);
}

#[test]
fn reload_shows_the_kept_invoice_and_checks_its_status_at_once() {
    let mut c = Checkout::new(opts());
    let fx = c.handle(
        Event::Start {
            restored: Some((created(2500), Some("wc_a".into()))),
            fresh_id: "wc_new".into(),
        },
        T0 + 5000,
    );
    assert_eq!(c.phase(), &Phase::Open);
    assert!(fetch_seq(&fx).is_some(), "status checked at once");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Create { .. })),
        "no new invoice"
    );

    // Kept but expired meanwhile: the check decides (paid shows paid).
    let mut c = Checkout::new(opts());
    let fx = c.handle(
        Event::Start {
            restored: Some((created(2500), None)),
            fresh_id: "wc_new".into(),
        },
        T0 + 2_000_000,
    );
    let s = fetch_seq(&fx).expect("final check");
    answer(&mut c, s, Ok(reply(Status::Paid, None)), T0 + 2_000_100);
    assert_eq!(c.phase(), &Phase::Paid);

    // A kept invoice that no longer passes the checks is forgotten.
    let mut c = Checkout::new(Options {
        network: Network::Bitcoin,
        ..opts()
    });
    let fx = c.handle(
        Event::Start {
            restored: Some((created(2500), None)),
            fresh_id: "wc_new".into(),
        },
        T0,
    );
    assert!(fx.contains(&Effect::Forget));
    assert_eq!(c.phase(), &Phase::Form);
}

#[test]
fn new_invoice_after_expiry_is_a_new_attempt() {
    let mut c = open();
    let expiry = T0 + 900_000;
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Expired, None)), expiry);
    let fx = c.handle(
        Event::NewInvoice {
            fresh_id: "wc_b".into(),
        },
        expiry + 10,
    );
    let (_, req) = create_seq(&fx);
    assert_eq!(req.amount_sat, 2500);
    assert_eq!(req.order_id.as_deref(), Some("wc_b"));
}

#[test]
fn copy_and_open_wallet_feedback() {
    let mut c = open();
    let fx = c.handle(Event::Copy, T0 + 500);
    let text = match &fx[..] {
        [Effect::Copy(t)] => t.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        text.starts_with("lnbcrt"),
        "plain lower-case invoice, no prefix"
    );
    c.handle(Event::CopyDone { ok: true }, T0 + 600);
    assert!(c.view(T0 + 700).invoice.unwrap().copied);
    assert!(!c.view(T0 + 600 + COPIED_MS).invoice.unwrap().copied);

    // A blocked clipboard is said, with what to do instead.
    c.handle(Event::Copy, T0 + 700);
    c.handle(Event::CopyDone { ok: false }, T0 + 800);
    let inv = c.view(T0 + 800).invoice.unwrap();
    assert!(inv.copy_failed && !inv.copied);
    c.handle(Event::Copy, T0 + 900);
    c.handle(Event::CopyDone { ok: true }, T0 + 950);
    assert!(!c.view(T0 + 950).invoice.unwrap().copy_failed);

    // Open wallet; the page stays visible -> hint after the check delay.
    c.handle(Event::OpenWallet, T0 + 1000);
    assert!(c.next_wake(T0 + 1000).unwrap() <= T0 + 1000 + WALLET_CHECK_MS);
    c.handle(Event::Tick, T0 + 1000 + WALLET_CHECK_MS);
    assert!(
        c.view(T0 + 1000 + WALLET_CHECK_MS)
            .invoice
            .unwrap()
            .wallet_hint
    );
    // The page was hidden (a wallet app opened): no hint.
    let mut c = open();
    c.handle(Event::OpenWallet, T0 + 1000);
    c.handle(Event::PageHidden, T0 + 1500);
    c.handle(Event::Tick, T0 + 1000 + WALLET_CHECK_MS);
    assert!(!c.view(T0 + 4000).invoice.unwrap().wallet_hint);
}

#[test]
fn pay_links_show_a_link_and_need_no_hash() {
    let mut c = started(opts());
    let (seq, _) = create_seq(&submit(&mut c, "10000", "wc", T0));
    let link = Created {
        id: "inv_test1".into(),
        payable: Payable::Link {
            url: "https://pay.kraken.com/r/abc".into(),
        },
        amount_sat: 10_000,
        expires_at: NOW_SECS + 600,
        fiat: None,
        onchain_address: None,
    };
    c.handle(
        Event::Created {
            seq,
            result: Ok(link),
        },
        T0,
    );
    let inv = c.view(T0).invoice.unwrap();
    assert_eq!(
        inv.qr_payload.as_deref(),
        Some("https://pay.kraken.com/r/abc")
    );
    assert_eq!(inv.action_label, "Pay with Kraken");
    assert!(
        inv.new_tab,
        "a pay link opens in a new tab; this page keeps polling"
    );
    assert_eq!(inv.countdown.as_deref(), Some("10:00"));
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 2000)).unwrap();
    let fx = answer(&mut c, s, Ok(reply(Status::Paid, None)), T0 + 2100);
    assert!(matches!(
        emitted(&fx)[..],
        [Emit::Paid {
            payment_hash: None,
            ..
        }]
    ));
}

#[test]
fn countdown_format() {
    assert_eq!(countdown(0), "00:00");
    assert_eq!(countdown(1), "00:01");
    assert_eq!(countdown(59_001), "01:00");
    assert_eq!(countdown(900_000), "15:00");
    assert_eq!(countdown(3_600_000), "1:00:00");
    assert_eq!(countdown(86_400_000), "24:00:00");
}

#[test]
fn a_payment_confirmed_after_expiry_is_still_shown_as_paid() {
    let expiry = T0 + 900_000;
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Pending, None)), expiry + 50);
    assert_eq!(c.phase(), &Phase::Expired);
    // Checks go on quietly, every few seconds, while the backend still says pending.
    assert!(c.next_wake(expiry + 50).unwrap() <= expiry + 50 + LATE_POLL_INTERVAL_MS);
    let s =
        fetch_seq(&c.handle(Event::Tick, expiry + 50 + LATE_POLL_INTERVAL_MS)).expect("late check");
    answer(&mut c, s, Ok(reply(Status::Pending, None)), expiry + 5_100);
    assert_eq!(c.phase(), &Phase::Expired);
    // The provider's confirmation lands: the payer learns that they paid.
    let s = fetch_seq(&c.handle(Event::Tick, expiry + 10_100)).expect("late check");
    let fx = answer(&mut c, s, Ok(reply(Status::Paid, None)), expiry + 10_200);
    assert_eq!(c.phase(), &Phase::Paid);
    assert!(matches!(emitted(&fx)[..], [Emit::Paid { .. }]));
    assert!(c.view(expiry + 10_200).status.starts_with("Paid"));
}

#[test]
fn late_checks_end_with_their_window_or_the_backends_word() {
    let expiry = T0 + 900_000;
    // The window ends: no more checks.
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(
        &mut c,
        s,
        Err(Failure::new("backend_unreachable", "down")),
        expiry,
    );
    let mut t = expiry;
    let mut checks = 0;
    while let Some(w) = c.next_wake(t) {
        t = w;
        if let Some(s) = fetch_seq(&c.handle(Event::Tick, t)) {
            checks += 1;
            answer(&mut c, s, Ok(reply(Status::Pending, None)), t);
        }
        assert!(t < expiry + 10 * LATE_PAYMENT_WINDOW_MS, "never stops");
    }
    assert!(t <= expiry + 2 * FINAL_CHECK_RETRY_MS * 3 + LATE_PAYMENT_WINDOW_MS);
    assert!(checks > 10, "{checks} checks");
    assert_eq!(c.phase(), &Phase::Expired);

    // The backend says expired: that is final, no late checks.
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Expired, None)), expiry);
    assert_eq!(c.next_wake(expiry), None);

    // "New invoice" stops them too: a late answer about the old invoice is dropped.
    let mut c = open();
    let s = fetch_seq(&c.handle(Event::Tick, expiry)).unwrap();
    answer(&mut c, s, Ok(reply(Status::Pending, None)), expiry);
    let late = fetch_seq(&c.handle(Event::Tick, expiry + LATE_POLL_INTERVAL_MS)).unwrap();
    c.handle(
        Event::NewInvoice {
            fresh_id: "wc_n".into(),
        },
        expiry + 5_100,
    );
    answer(&mut c, late, Ok(reply(Status::Paid, None)), expiry + 5_200);
    assert!(matches!(c.phase(), Phase::Creating { .. }));
}

/// Issue 10, item 9: a payer whose clock is 20 minutes fast (or slow) gets the invoice, and the
/// countdown counts the invoice's real time left. The glue hands the machine the payer's clock
/// corrected by the backend's `server_time` (lightning_checkout::clock).
#[test]
fn a_payer_clock_20_minutes_off_is_corrected_by_the_server_time() {
    use lightning_checkout::clock::ServerClock;
    const MIN20: u64 = 20 * 60 * 1000;
    for local_t0 in [T0 + MIN20, T0 - MIN20] {
        // Uncorrected, a clock 20 minutes fast refuses the 15-minute invoice as expired.
        let mut raw = started(opts());
        let (seq, _) = create_seq(&submit(&mut raw, "2500", "wc_a", local_t0));
        raw.handle(
            Event::Created {
                seq,
                result: Ok(created(2500)),
            },
            local_t0 + 100,
        );
        if local_t0 > T0 {
            assert!(matches!(raw.phase(), Phase::Failed { .. }), "the bug");
        }

        // The create answer said server_time T0 + 50, midway through a 100 ms round trip.
        let mut clock = ServerClock::default();
        clock.observe(local_t0, local_t0 + 100, T0 + 50);
        let mut c = started(opts());
        let (seq, _) = create_seq(&submit(&mut c, "2500", "wc_a", clock.now(local_t0)));
        c.handle(
            Event::Created {
                seq,
                result: Ok(created(2500)),
            },
            clock.now(local_t0 + 100),
        );
        assert_eq!(
            c.phase(),
            &Phase::Open,
            "accepted with a clock {local_t0} vs {T0}"
        );
        let vm = c.view(clock.now(local_t0 + 100));
        assert_eq!(vm.invoice.unwrap().countdown.as_deref(), Some("15:00"));
        let vm = c.view(clock.now(local_t0 + 60_100));
        assert_eq!(vm.invoice.unwrap().countdown.as_deref(), Some("14:00"));
        // It expires when the invoice does, not 20 minutes early or late.
        assert!(c.next_wake(clock.now(local_t0 + 100)).unwrap() <= T0 + 900_000);
    }
}

/// Issue 10, item 10: a kept invoice is compared with the current attributes, not with itself.
#[test]
fn a_kept_invoice_of_another_purchase_is_not_restored() {
    let start = |o: Options, order: Option<&str>| {
        let mut c = Checkout::new(o);
        let fx = c.handle(
            Event::Start {
                restored: Some((created(2500), order.map(String::from))),
                fresh_id: "wc_new".into(),
            },
            T0 + 5000,
        );
        (c, fx)
    };
    // Outside the current bounds of a payer-typed amount.
    let (c, fx) = start(
        Options {
            bounds: Bounds::new(3000, 10_000).unwrap(),
            ..opts()
        },
        Some("wc_a"),
    );
    assert!(fx.contains(&Effect::Forget));
    assert_eq!(c.phase(), &Phase::Form);
    // Another fixed amount: a new invoice is requested.
    let (_, fx) = start(
        Options {
            fixed_amount_sat: Some(3000),
            ..opts()
        },
        None,
    );
    assert!(fx.contains(&Effect::Forget));
    assert_eq!(create_seq(&fx).1.amount_sat, 3000);
    // Kept for another shop order id.
    let (_, fx) = start(
        Options {
            fixed_amount_sat: Some(2500),
            order_id: Some("order-2".into()),
            ..opts()
        },
        Some("order-1"),
    );
    assert_eq!(create_seq(&fx).1.order_id.as_deref(), Some("order-2"));
    // The same purchase is restored.
    let (c, _) = start(
        Options {
            fixed_amount_sat: Some(2500),
            order_id: Some("order-1".into()),
            ..opts()
        },
        Some("order-1"),
    );
    assert_eq!(c.phase(), &Phase::Open);
}

#[test]
fn every_attribute_of_a_purchase_changes_its_text() {
    let base = Options {
        fixed_amount_sat: Some(2500),
        ..opts()
    };
    let text = |o: &Options| purchase_text("/api", o);
    let variants = [
        purchase_text("https://other.example/api", &base),
        text(&Options {
            fixed_amount_sat: Some(2501),
            ..base.clone()
        }),
        text(&Options {
            fixed_amount_sat: None,
            ..base.clone()
        }),
        text(&Options {
            fixed_amount_sat: None,
            bounds: Bounds::new(2, 9).unwrap(),
            ..base.clone()
        }),
        text(&Options {
            description: Some("Tea".into()),
            ..base.clone()
        }),
        text(&Options {
            description: None,
            ..base.clone()
        }),
        text(&Options {
            network: Network::Bitcoin,
            ..base.clone()
        }),
        text(&Options {
            order_id: Some("order-1".into()),
            ..base.clone()
        }),
    ];
    let mut all = vec![text(&base)];
    for v in variants {
        assert!(!all.contains(&v), "{v:?} repeats");
        all.push(v);
    }
    assert_eq!(text(&base), text(&base.clone()));
}

fn eur(amount: &str) -> Option<lightning_checkout::fiat::FiatPrice> {
    lightning_checkout::fiat::FiatPrice::parse("EUR", amount)
}

#[test]
fn a_fiat_price_is_sent_as_text_and_the_backends_sats_are_what_is_checked_and_shown() {
    let o = Options {
        fiat: eur("4.50"),
        order_id: Some("order-eur".into()),
        ..opts()
    };
    let mut c = Checkout::new(o.clone());
    let fx = c.handle(
        Event::Start {
            restored: None,
            fresh_id: "wc_x".into(),
        },
        T0,
    );
    let (seq, req) = create_seq(&fx);
    assert_eq!(
        (req.currency.as_deref(), req.fiat_amount.as_deref()),
        (Some("EUR"), Some("4.50")),
        "the price goes to the backend as text"
    );
    let vm = c.view(T0);
    assert!(!vm.form, "no form for a fiat price");
    assert_eq!(vm.status, "Creating an invoice for EUR 4.50…");
    // The backend converted it to 7,500 sat; the invoice asks exactly that.
    let mut answer = created(7500);
    answer.fiat = eur("4.5");
    c.handle(
        Event::Created {
            seq,
            result: Ok(answer.clone()),
        },
        T0 + 100,
    );
    assert_eq!(c.phase(), &Phase::Open);
    let inv = c.view(T0 + 100).invoice.expect("invoice shown");
    assert_eq!(inv.amount, "7,500 sat");
    assert_eq!(inv.fiat.as_deref(), Some("≈ EUR 4.5"));
    assert!(!c.view(T0 + 100).change_amount);

    // An answer for another price (or none) is not shown.
    for other in [
        eur("4.49"),
        lightning_checkout::fiat::FiatPrice::parse("USD", "4.50"),
        None,
    ] {
        let mut c = Checkout::new(o.clone());
        let fx = c.handle(
            Event::Start {
                restored: None,
                fresh_id: "wc_x".into(),
            },
            T0,
        );
        let (seq, _) = create_seq(&fx);
        let mut bad = created(7500);
        bad.fiat = other.clone();
        c.handle(
            Event::Created {
                seq,
                result: Ok(bad),
            },
            T0 + 100,
        );
        assert!(matches!(c.phase(), Phase::Failed { .. }), "{other:?}");
        assert!(c.view(T0 + 100).invoice.is_none());
    }

    // Kept across a reload: shown again only for the same price.
    let mut c = Checkout::new(o.clone());
    c.handle(
        Event::Start {
            restored: Some((answer.clone(), Some("order-eur".into()))),
            fresh_id: "wc_new".into(),
        },
        T0 + 5000,
    );
    assert_eq!(c.phase(), &Phase::Open);
    let mut c = Checkout::new(Options {
        fiat: eur("5.00"),
        ..o.clone()
    });
    let fx = c.handle(
        Event::Start {
            restored: Some((answer, Some("order-eur".into()))),
            fresh_id: "wc_new".into(),
        },
        T0 + 5000,
    );
    assert_eq!(
        create_seq(&fx).1.fiat_amount.as_deref(),
        Some("5.00"),
        "a new invoice for the new price"
    );
    assert_ne!(
        purchase_text("/api", &o),
        purchase_text(
            "/api",
            &Options {
                fiat: eur("5.00"),
                ..o.clone()
            }
        )
    );
}

#[test]
fn unified_shows_the_bip21_qr_offers_the_address_and_says_an_onchain_payment_was_seen() {
    const ADDR: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    let with_addr = || {
        let mut c = created(2500);
        c.onchain_address = Some(ADDR.into());
        c
    };
    // Not asked for: the address is ignored, the QR stays Lightning-only.
    let mut c = started(opts());
    let (seq, req) = create_seq(&submit(&mut c, "2500", "wc_a", T0));
    assert_eq!(req.unified, None);
    c.handle(
        Event::Created {
            seq,
            result: Ok(with_addr()),
        },
        T0 + 100,
    );
    let inv = c.view(T0 + 100).invoice.unwrap();
    assert!(inv.qr_payload.unwrap().starts_with("lightning:"));
    assert_eq!(inv.address, None);

    let mut c = started(Options {
        unified: true,
        ..opts()
    });
    let (seq, req) = create_seq(&submit(&mut c, "2500", "wc_a", T0));
    assert_eq!(req.unified, Some(true), "asked for");
    c.handle(
        Event::Created {
            seq,
            result: Ok(with_addr()),
        },
        T0 + 100,
    );
    let inv = c.view(T0 + 100).invoice.unwrap();
    let qr = inv.qr_payload.unwrap();
    assert!(
        qr.starts_with("BITCOIN:BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080?amount=0.000025&lightning=LNBCRT25U1"),
        "{qr}"
    );
    assert_eq!(inv.address.as_deref(), Some(ADDR));
    // Copy gives the invoice, Copy address the address.
    let fx = c.handle(Event::CopyAddress, T0 + 200);
    assert!(fx.contains(&Effect::Copy(ADDR.into())));
    c.handle(Event::CopyDone { ok: true }, T0 + 210);
    let inv = c.view(T0 + 220).invoice.unwrap();
    assert!(inv.address_copied && !inv.copied);
    let fx = c.handle(Event::Copy, T0 + 300);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Copy(t) if t.starts_with("lnbcrt25u1"))));

    // A status answer saying an on-chain payment is in the mempool, then paid.
    let poll = c.handle(Event::Tick, T0 + 2_100);
    let s = fetch_seq(&poll).expect("polled");
    let mut r = reply(Status::Pending, None);
    r.onchain = Some(lightning_checkout::contract::OnchainSeen {
        confirmations: 0,
        required: 1,
    });
    answer(&mut c, s, Ok(r), T0 + 2_200);
    assert_eq!(
        c.view(T0 + 2_200).status,
        "Payment seen on-chain; waiting for a confirmation…"
    );
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 4_300)).expect("polled");
    answer(&mut c, s, Ok(reply(Status::Paid, None)), T0 + 4_400);
    assert_eq!(c.phase(), &Phase::Paid);
}

#[test]
fn an_onchain_payment_seen_keeps_the_checkout_open_past_expiry_until_paid() {
    let mut c = started(Options {
        unified: true,
        ..opts()
    });
    let (seq, _) = create_seq(&submit(&mut c, "2500", "wc_a", T0));
    let mut cr = created(2500);
    cr.onchain_address = Some("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".into());
    c.handle(
        Event::Created {
            seq,
            result: Ok(cr),
        },
        T0 + 100,
    );
    let s = fetch_seq(&c.handle(Event::Tick, T0 + 2_100)).expect("polled");
    let mut r = reply(Status::Pending, None);
    r.onchain = Some(lightning_checkout::contract::OnchainSeen {
        confirmations: 0,
        required: 1,
    });
    answer(&mut c, s, Ok(r.clone()), T0 + 2_200);
    // Long past the invoice's 900 s: still open, still polled, never "expired".
    let mut now = T0 + 1_000_000;
    for _ in 0..5 {
        let s = fetch_seq(&c.handle(Event::Tick, now)).expect("still polled");
        answer(&mut c, s, Ok(r.clone()), now + 50);
        assert_eq!(c.phase(), &Phase::Open);
        now += 2_100;
    }
    let s = fetch_seq(&c.handle(Event::Tick, now)).expect("polled");
    answer(&mut c, s, Ok(reply(Status::Paid, None)), now + 50);
    assert_eq!(c.phase(), &Phase::Paid);
}
