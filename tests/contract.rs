//! The backend JSON contract: every fixture in fixtures/ (shared with the backend's tests) is
//! read with the widget's wire types and validated as the widget does.

use lightning_checkout::contract::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

#[test]
fn create_requests() {
    let full: CreateRequest = serde_json::from_str(&fixture("create_request.json")).unwrap();
    assert_eq!(full.amount_sat, 250_000);
    assert_eq!(full.order_id.as_deref(), Some("order-42"));
    assert_eq!(full.expiry_secs, Some(60));
    let min: CreateRequest = serde_json::from_str(&fixture("create_request_minimal.json")).unwrap();
    assert_eq!(min.description, None);
    // What the widget sends for the minimal request is exactly the fixture.
    let ours = serde_json::to_value(&min).unwrap();
    let theirs: serde_json::Value =
        serde_json::from_str(&fixture("create_request_minimal.json")).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn create_responses() {
    let w: CreatedWire = serde_json::from_str(&fixture("create_response.json")).unwrap();
    let c = Created::from_wire(w.clone()).unwrap();
    assert_eq!(c.id, "inv_7f3a9c2e51d04b8a");
    assert_eq!(c.amount_sat, 250_000);
    match &c.payable {
        Payable::Bolt11 {
            payment_request,
            payment_hash,
        } => {
            assert!(payment_request.starts_with("lnbc2500u1"));
            assert_eq!(payment_hash[31], 0x02);
        }
        other => panic!("{other:?}"),
    }
    // What is kept across a reload reads back the same.
    assert_eq!(Created::from_wire(c.to_wire()).unwrap(), c);

    let link: CreatedWire = serde_json::from_str(&fixture("create_response_pay_url.json")).unwrap();
    let c = Created::from_wire(link).unwrap();
    assert!(matches!(c.payable, Payable::Link { ref url } if url.starts_with("https://")));
}

#[test]
fn statuses() {
    for (file, status) in [
        ("status_pending.json", Status::Pending),
        ("status_paid.json", Status::Paid),
        ("status_expired.json", Status::Expired),
    ] {
        let w: StatusWire = serde_json::from_str(&fixture(file)).unwrap();
        let r = StatusReply::from_wire(w, "inv_7f3a9c2e51d04b8a").unwrap();
        assert_eq!(r.status, status, "{file}");
    }
    // An answer about another invoice is refused.
    let w: StatusWire = serde_json::from_str(&fixture("status_paid.json")).unwrap();
    assert_eq!(
        StatusReply::from_wire(w, "inv_other"),
        Err(ContractError::WrongId)
    );
}

#[test]
fn the_fixture_preimage_is_not_the_fixture_hash_preimage() {
    // fixtures/README.md: the widget must refuse to claim paid from status_paid.json.
    let w: StatusWire = serde_json::from_str(&fixture("status_paid.json")).unwrap();
    let hash = lightning_checkout::invoice::parse_hash_hex(
        "0001020304050607080900010203040506070809000102030405060708090102",
    )
    .unwrap();
    assert!(!lightning_checkout::invoice::preimage_matches(
        &w.preimage.unwrap(),
        &hash
    ));
}

#[test]
fn errors() {
    let e: ErrorWire = serde_json::from_str(&fixture("error.json")).unwrap();
    assert_eq!(e.error.code, "amount_too_large");
    assert_eq!(clean_message("a\u{0}b\nc"), "abc");
    let long = "x".repeat(500);
    assert!(clean_message(&long).chars().count() <= MAX_MESSAGE_LEN + 1);
}

#[test]
fn ids_and_links_are_checked() {
    for ok in ["inv_abc", "a", "A-Z.0_9~"] {
        assert!(valid_id(ok), "{ok}");
    }
    for bad in [
        "",
        ".",
        "..",
        "../admin",
        "a/b",
        "a b",
        "é",
        "a?b",
        &"x".repeat(129),
    ] {
        assert!(!valid_id(bad), "{bad}");
    }
    for ok in [
        "https://pay.kraken.com/r/abc",
        "http://127.0.0.1:9000/pay",
        "http://localhost/x",
        "http://[::1]:9000/x",
        "HTTPS://pay.kraken.com:443/r",
    ] {
        assert!(valid_pay_url(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "http://evil.example/pay",
        "https://user:pw@host/",
        "https:// host",
        "data:text/html,x",
        "https://",
        "//host/x",
        // Hostile loopback look-alikes (issue 10 #7).
        "http://127.attacker.example/x",
        "http://127.0.0.1.attacker.example/x",
        "http://localhost.attacker.example/x",
        "http://127.0.0.1@attacker.example/x",
        "http://[::2]/x",
        "https://host:port/x",
    ] {
        assert!(!valid_pay_url(bad), "{bad}");
    }
}

#[test]
fn bad_answers_are_refused() {
    let base: CreatedWire = serde_json::from_str(&fixture("create_response.json")).unwrap();
    let mut w = base.clone();
    w.payment_hash = Some("zz".into());
    assert_eq!(Created::from_wire(w), Err(ContractError::BadHash));
    let mut w = base.clone();
    w.status = "paid".into();
    assert_eq!(Created::from_wire(w), Err(ContractError::BadStatus));
    let mut w = base.clone();
    w.payment_request = None;
    assert_eq!(Created::from_wire(w), Err(ContractError::NoPayable));
    let mut w = base;
    w.payment_request = None;
    w.pay_url = Some("javascript:alert(1)".into());
    assert_eq!(Created::from_wire(w), Err(ContractError::BadPayUrl));
    // A float amount is not an integer number of sats.
    let text = fixture("create_response.json").replace("250000,", "250000.5,");
    assert!(serde_json::from_str::<CreatedWire>(&text).is_err());
}
