//! The rules, with the cases of every copy they replace (the widget's `src/contract.rs`, the
//! backend's `payurl.rs` and its provider base-URL check in `providers/mod.rs`).

use lightning_checkout_contract::*;

#[test]
fn ids() {
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
}

#[test]
fn order_ids() {
    for ok in [
        "order-42",
        "a",
        "A.b_c:d-9",
        &"x".repeat(128),
        "wc_0123456789abcdef01234567",
    ] {
        assert!(is_order_id(ok), "{ok}");
    }
    for bad in ["", "a b", "a/b", "é", "a?b", "<script>", &"x".repeat(129)] {
        assert!(!is_order_id(bad), "{bad}");
    }
    assert!(is_widget_key("wc_0123456789abcdef01234567"));
    for bad in [
        "wc_0123456789ABCDEF01234567",
        "wc_0123",
        "order-1",
        "wc_0123456789abcdef0123456g",
    ] {
        assert!(!is_widget_key(bad), "{bad}");
    }
    // A shop may not sign a widget-made id.
    assert_eq!(
        OrderClaims::check_order_id(Some("wc_0123456789abcdef01234567")),
        Err(ClaimError::Claim("order_id"))
    );
}

#[test]
fn claims() {
    let a = |x, lo, hi| TokenAmount::from_claims(x, lo, hi, 1000);
    assert_eq!(a(Some(5), None, None), Ok(TokenAmount::Exact(5)));
    assert_eq!(
        a(None, Some(1), Some(1000)),
        Ok(TokenAmount::Range {
            min_sat: 1,
            max_sat: 1000
        })
    );
    for bad in [
        a(Some(0), None, None),
        a(Some(1001), None, None),
        a(Some(5), Some(1), Some(9)),
        a(None, Some(9), Some(1)),
        a(None, Some(1), None),
        a(None, None, None),
    ] {
        assert_eq!(bad, Err(ClaimError::Claim("amount_sat")));
    }
    let t = OrderClaims::check_times;
    assert_eq!(t(None, None, None, 100), Err(ClaimError::Claim("exp")));
    assert_eq!(t(Some(100), None, None, 159), Ok(()));
    assert_eq!(t(Some(100), None, None, 160), Err(ClaimError::Expired));
    assert_eq!(t(Some(500), Some(160), None, 100), Ok(()));
    assert_eq!(
        t(Some(500), Some(161), None, 100),
        Err(ClaimError::NotYetValid)
    );
    assert_eq!(
        t(Some(500), None, Some(161), 100),
        Err(ClaimError::NotYetValid)
    );
    let long = "é".repeat(320);
    assert_eq!(
        OrderClaims::check_description(Some(&long)),
        Err(ClaimError::Claim("description"))
    );
    assert_eq!(OrderClaims::check_description(None), Ok(String::new()));
}

#[test]
fn error_codes_round_trip() {
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
        assert!(c
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_'));
    }
    assert_eq!(ErrorCode::parse("nope"), None);
}

/// The README's list of `/api` error codes is the enum's, no more, no less.
#[test]
fn the_readme_lists_every_error_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("Error codes of `/api`:")
        .expect("the README's list of codes");
    let para = &readme[start
        ..readme[start..]
            .find("\n\n")
            .map_or(readme.len(), |e| start + e)];
    let listed: std::collections::BTreeSet<&str> = para
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .filter(|w| w.contains('_') || ErrorCode::parse(w).is_some())
        .collect();
    let ours: std::collections::BTreeSet<&str> =
        ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, ours);
}

#[test]
fn text_helpers() {
    assert_eq!(hex_encode(&[0, 0xab, 0x7f]), "00ab7f");
    assert_eq!(
        strip_prefix_ignore_case("LIGHTNING:lnbc1", "lightning:"),
        Some("lnbc1")
    );
    assert_eq!(strip_prefix_ignore_case("light", "lightning:"), None);
    assert_eq!(strip_prefix_ignore_case("é", "x"), None);
    let h = "0001020304050607080900010203040506070809000102030405060708090102";
    assert_eq!(hex_encode(&parse_hash_hex(h).unwrap()), h);
    assert!(parse_hash_hex(&h.to_uppercase()).is_some());
    assert!(parse_hash_hex(&h[1..]).is_none());
    assert!(parse_hash_hex(&format!("{}g", &h[1..])).is_none());
}

/// The widget's cases (tests/contract.rs before) and the backend's (payurl.rs), under the one rule.
#[test]
fn pay_links() {
    for ok in [
        "https://pay.kraken.com/r/abc",
        "http://127.0.0.1:9000/pay",
        "http://localhost/x",
        "http://LocalHost:80/x",
        "http://[::1]:9000/x",
        "HTTPS://pay.kraken.com:443/r",
        "https://pay.example.com/p/abc",
        "HTTPS://Pay.Example.com:8443/p?x=1",
        "https://pay.example.com?x=1",
        "https://pay.example.com#frag",
        "http://127.255.0.1/x",
        "https://[2001:db8::1]:8443/x",
        "https://xn--pay-0na.example/x",
        "https://pay.example.com:65535/x",
    ] {
        assert!(valid_pay_url(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "http://evil.example/pay",
        "http://pay.example.com/p",
        "https://user:pw@host/",
        "https://evil.example@pay.example.com/p",
        "https://pay.example.com@evil.example/p",
        "https:// host",
        "https://pay.example.com/p q",
        "https://pay.example.com/\tp",
        "data:text/html,x",
        "https://",
        "https:///p",
        "//host/x",
        "//pay.example.com/p",
        "https://host:port/x",
        "https://pay.example.com:x/p",
        "https://pay.example.com:/p",
        "https://pay.example.com:65536/p",
        "https://pay.example.com:000443/p",
        "https://evil.example\\@pay.example.com/",
        "https://evil.example\\pay.example.com/",
        // Hostile loopback look-alikes (issue 10 #7).
        "http://127.attacker.example/x",
        "http://127.0.0.1.attacker.example/x",
        "http://localhost.attacker.example/x",
        "http://127.0.0.1@attacker.example/x",
        "http://[::2]/x",
        // The widget took these before: a character other than ':' after "]", and a written
        // address that a browser reads as octal.
        "http://[::1]x80/x",
        "http://127.0.0.010/x",
        "http://127.000.0.1/x",
        "http://0177.0.0.1/x",
        "http://127.1/x",
        "http://2130706433/x",
        // The backend took the long spelling of ::1.
        "http://[0:0:0:0:0:0:0:1]/x",
        // Look-alike letters and escapes in the host.
        "https://pаy.example.com/x",
        "https://pay.example.com%2F@evil/x",
        "https://pay_example.com/x",
        "https://[]/x",
        "https://[::1/x",
        "https://[g::1]/x",
        // Only printable ASCII: a right-to-left override or a non-breaking space in the path.
        "https://pay.example.com/\u{202e}fdp.exe",
        "https://pay.example.com/a\u{a0}b",
        "https://pay.example.com/é",
    ] {
        assert!(!valid_pay_url(bad), "{bad}");
        assert!(pay_url_host(bad).is_none(), "{bad}");
    }
    assert!(!valid_pay_url(&format!(
        "https://pay.example.com/{}",
        "x".repeat(2048)
    )));
    assert_eq!(
        pay_url_host("HTTPS://Pay.Example.com:8443/p").as_deref(),
        Some("pay.example.com")
    );
    assert_eq!(pay_url_host("http://[::1]:9/").as_deref(), Some("[::1]"));
}

#[test]
fn loopback_hosts() {
    for ok in [
        "localhost",
        "LOCALHOST",
        "[::1]",
        "127.0.0.1",
        "127.0.0.0",
        "127.255.255.255",
    ] {
        assert!(is_loopback_host(ok), "{ok}");
    }
    for bad in [
        "127.0.0.256",
        "127.0.0",
        "127.0.0.1.2",
        "128.0.0.1",
        "127.0.0.01",
        "localhost.",
        "[::2]",
        "::1",
        "",
    ] {
        assert!(!is_loopback_host(bad), "{bad}");
    }
}

#[test]
fn parsed_parts() {
    let u = HttpUrl::parse("https://api.kraken.com:8443/0/private?x#y").unwrap();
    assert!(u.https);
    assert_eq!(
        (u.host, u.port, u.rest),
        ("api.kraken.com", "8443", "/0/private?x#y")
    );
    let u = HttpUrl::parse("http://node.lan:8080").unwrap();
    assert!(!u.https && !u.is_secure());
    assert_eq!((u.host, u.port, u.rest), ("node.lan", "8080", ""));
    assert!(HttpUrl::parse("ftp://x").is_none());
}

#[test]
fn fiat_prices() {
    for (c, a) in [
        ("EUR", "4.50"),
        ("EUR", "4.5"),
        ("JPY", "500"),
        ("XYZ", "0.001"),
    ] {
        let p = FiatPrice::parse(c, a).expect(a);
        assert_eq!((p.currency.as_str(), p.amount.as_str()), (c, a));
    }
    for (c, a) in [
        ("eur", "4.50"),
        ("EURO", "4.50"),
        ("EU", "4.50"),
        ("EUR", ""),
        ("EUR", "4."),
        ("EUR", ".5"),
        ("EUR", "-4.50"),
        ("EUR", "+4"),
        ("EUR", "4,50"),
        ("EUR", "4.5.0"),
        ("EUR", "1e3"),
        ("EUR", " 4.50"),
        ("EUR", &"9".repeat(25)),
    ] {
        assert_eq!(FiatPrice::parse(c, a), None, "{c} {a:?}");
    }
    assert_eq!(split_decimal("4.50"), Some(("4", "50")));
    assert_eq!(split_decimal("500"), Some(("500", "")));
    let eur = |a| FiatPrice::parse("EUR", a).unwrap();
    assert!(eur("4.5").same_as(&eur("4.50")));
    assert!(eur("04.50").same_as(&eur("4.5")));
    assert!(eur("4").same_as(&eur("4.00")));
    assert!(!eur("4.5").same_as(&eur("45")));
    assert!(!eur("4.5").same_as(&FiatPrice::parse("USD", "4.5").unwrap()));
}

#[test]
fn fiat_claims() {
    let f = |c, a, sat| TokenAmount::from_claims_with_fiat(c, a, sat, None, None, 1000);
    assert_eq!(
        f(Some("EUR"), Some("4.50"), None),
        Ok(TokenAmount::Fiat(FiatPrice::parse("EUR", "4.50").unwrap()))
    );
    // Without a fiat price, the sat rule.
    assert_eq!(f(None, None, Some(5)), Ok(TokenAmount::Exact(5)));
    assert_eq!(f(None, None, None), Err(ClaimError::Claim("amount_sat")));
    for bad in [
        f(Some("EUR"), None, None),
        f(None, Some("4.50"), None),
        f(Some("EUR"), Some("4.50"), Some(5)),
        f(Some("eur"), Some("4.50"), None),
        f(Some("EUR"), Some("4.5.0"), None),
    ] {
        assert_eq!(bad, Err(ClaimError::Claim("fiat_amount")));
    }
    assert_eq!(
        TokenAmount::from_claims_with_fiat(Some("EUR"), Some("4"), None, Some(1), Some(9), 1000),
        Err(ClaimError::Claim("fiat_amount"))
    );
}

#[test]
fn onchain_addresses() {
    for ok in [
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    ] {
        assert!(valid_onchain_address(ok), "{ok}");
    }
    for bad in [
        "",
        "bc1short",
        "bc1q w508d6qejxtdg4y5r3zarvary0c5xw7k",
        &"a".repeat(91),
        "bc1q<script>alert(1)</script>",
    ] {
        assert!(!valid_onchain_address(bad), "{bad}");
    }
}

#[test]
fn fiat_and_unified_codes() {
    for s in [
        "invalid_fiat_amount",
        "unsupported_currency",
        "invalid_unified",
        "fiat_not_configured",
        "rate_unavailable",
    ] {
        assert_eq!(ErrorCode::parse(s).map(ErrorCode::as_str), Some(s));
    }
}

#[test]
fn created_keeps_only_well_formed_fiat_and_address() {
    let wire = |currency: &str, amount: &str, address: &str| CreateResponse {
        id: "inv_1".into(),
        payment_request: None,
        pay_url: Some("https://pay.example/i/1".into()),
        payment_hash: None,
        amount_sat: 7500,
        expires_at: 1,
        status: "pending".into(),
        onchain_address: Some(address.into()),
        fiat: Some(FiatQuote {
            currency: currency.into(),
            amount: amount.into(),
            rate: "60000.00".into(),
            rate_source: "fixed".into(),
            rate_at: 1,
        }),
        server_time: None,
    };
    let good = Created::from_wire(wire(
        "EUR",
        "4.50",
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
    ))
    .unwrap();
    assert_eq!(good.fiat, FiatPrice::parse("EUR", "4.50"));
    assert_eq!(
        good.onchain_address.as_deref(),
        Some("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
    );
    // Kept across a reload: the price and address come back the same.
    assert_eq!(Created::from_wire(good.to_wire()), Ok(good));
    let bad = Created::from_wire(wire("EUR", "4,50", "bc1<b>")).unwrap();
    assert_eq!((bad.fiat, bad.onchain_address), (None, None));
}
