//! Every file in `fixtures/` read with the contract's types and checked as the widget checks it.
//! (The backend's tests check that what it serves has the fixtures' shapes; the signatures of
//! `order_tokens.json` need the backend's HMAC and are checked there, `signed_orders.rs`.)

use lightning_checkout_contract::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

#[test]
fn create_requests() {
    let full: CreateRequest = serde_json::from_str(&fixture("create_request.json")).unwrap();
    assert_eq!(full.amount_sat, 250_000);
    assert_eq!(full.description.as_deref(), Some("1 cup coffee"));
    assert_eq!(full.order_id.as_deref(), Some("order-42"));
    assert_eq!(full.expiry_secs, Some(60));
    assert!(is_order_id(full.order_id.as_deref().unwrap()));
    let min: CreateRequest = serde_json::from_str(&fixture("create_request_minimal.json")).unwrap();
    assert_eq!(min.description, None);
    // What is sent for the minimal request is exactly the fixture.
    let ours = serde_json::to_value(&min).unwrap();
    let theirs: serde_json::Value =
        serde_json::from_str(&fixture("create_request_minimal.json")).unwrap();
    assert_eq!(ours, theirs);
    // Requests are strict: a misspelt field is refused, not ignored.
    let typo = fixture("create_request.json").replace("expiry_secs", "expiry_sec");
    assert!(serde_json::from_str::<CreateRequest>(&typo).is_err());
}

#[test]
fn create_responses() {
    let w: CreateResponse = serde_json::from_str(&fixture("create_response.json")).unwrap();
    assert_eq!(w.server_time, Some(1_496_314_660_250));
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

    let link: CreateResponse =
        serde_json::from_str(&fixture("create_response_pay_url.json")).unwrap();
    assert!(link.payment_request.is_none());
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
        let w: StatusResponse = serde_json::from_str(&fixture(file)).unwrap();
        assert!(w.server_time.is_some(), "{file}");
        let r = StatusReply::from_wire(w, "inv_7f3a9c2e51d04b8a").unwrap();
        assert_eq!(r.status, status, "{file}");
        assert_eq!(Status::parse(status.as_str()), Some(status));
    }
    // An answer about another invoice is refused.
    let w: StatusResponse = serde_json::from_str(&fixture("status_paid.json")).unwrap();
    assert_eq!(
        StatusReply::from_wire(w, "inv_other"),
        Err(ContractError::WrongId)
    );
    // fixtures/README.md: the preimage of status_paid.json is 32 zero bytes, not the preimage of
    // create_response.json's hash; the widget's tests/contract.rs checks it refuses to claim paid.
    let w: StatusResponse = serde_json::from_str(&fixture("status_paid.json")).unwrap();
    assert_eq!(
        parse_hash_hex(w.preimage.as_deref().unwrap()),
        Some([0; 32])
    );
}

#[test]
fn errors() {
    let e: ErrorResponse = serde_json::from_str(&fixture("error.json")).unwrap();
    assert_eq!(
        ErrorCode::parse(&e.error.code),
        Some(ErrorCode::AmountTooLarge)
    );
    assert_eq!(clean_message("a\u{0}b\nc"), "abc");
    let long = "x".repeat(500);
    assert!(clean_message(&long).chars().count() <= MAX_MESSAGE_LEN + 1);
}

#[test]
fn the_valid_order_token_claims_pass_the_claim_checks() {
    let f: serde_json::Value = serde_json::from_str(&fixture("order_tokens.json")).unwrap();
    let now = f["now"].as_u64().unwrap();
    for v in f["valid"].as_array().unwrap() {
        let c = &v["claims"];
        let u = |k: &str| c.get(k).and_then(serde_json::Value::as_u64);
        OrderClaims::check_times(u("exp"), u("iat"), u("nbf"), now).unwrap();
        OrderClaims::check_order_id(c["order_id"].as_str()).unwrap();
        OrderClaims::check_description(c["description"].as_str()).unwrap();
        TokenAmount::from_claims(
            u("amount_sat"),
            u("min_sat"),
            u("max_sat"),
            DEFAULT_MAX_AMOUNT_SAT,
        )
        .unwrap();
        if let Some(aud) = c.get("aud") {
            assert_eq!(aud, order::AUDIENCE);
        }
    }
}

#[test]
fn bad_answers_are_refused() {
    let base: CreateResponse = serde_json::from_str(&fixture("create_response.json")).unwrap();
    let mut w = base.clone();
    w.payment_hash = Some("zz".into());
    assert_eq!(Created::from_wire(w), Err(ContractError::BadHash));
    let mut w = base.clone();
    w.status = "paid".into();
    assert_eq!(Created::from_wire(w), Err(ContractError::BadStatus));
    let mut w = base.clone();
    w.id = "../admin".into();
    assert_eq!(Created::from_wire(w), Err(ContractError::BadId));
    let mut w = base.clone();
    w.payment_request = None;
    assert_eq!(Created::from_wire(w), Err(ContractError::NoPayable));
    let mut w = base;
    w.payment_request = None;
    w.pay_url = Some("javascript:alert(1)".into());
    assert_eq!(Created::from_wire(w), Err(ContractError::BadPayUrl));
    // A float amount is not an integer number of sats.
    let text = fixture("create_response.json").replace("250000,", "250000.5,");
    assert!(serde_json::from_str::<CreateResponse>(&text).is_err());
}
