//! `order-token`: the widget takes order id, amount (or range) and description from the token's
//! claims and refuses attributes that state something else (issue 9).

use lightning_checkout::config::{parse, RawOptions, TokenClaims};

fn raw(claims: Option<TokenClaims>) -> RawOptions {
    RawOptions {
        endpoint: Some("/api".into()),
        order_token: Some("h.c.s".into()),
        token_claims: claims,
        ..RawOptions::default()
    }
}

fn exact() -> TokenClaims {
    TokenClaims {
        order_id: Some("order-43".into()),
        amount_sat: Some("2500".into()),
        description: Some("1 cup of coffee".into()),
        ..TokenClaims::default()
    }
}

#[test]
fn an_exact_token_fixes_amount_order_and_description() {
    let c = parse(&raw(Some(exact()))).unwrap();
    assert_eq!(c.order_token.as_deref(), Some("h.c.s"));
    assert_eq!(c.options.fixed_amount_sat, Some(2500));
    assert_eq!(c.options.order_id.as_deref(), Some("order-43"));
    assert_eq!(c.options.description.as_deref(), Some("1 cup of coffee"));
    // Repeating the token's values is fine.
    let mut r = raw(Some(exact()));
    r.amount_sat = Some("2500".into());
    r.order_id = Some("order-43".into());
    assert!(parse(&r).is_ok());
}

#[test]
fn a_range_token_bounds_the_form() {
    let c = parse(&raw(Some(TokenClaims {
        order_id: Some("tip-1".into()),
        min_sat: Some("100".into()),
        max_sat: Some("5000".into()),
        ..TokenClaims::default()
    })))
    .unwrap();
    assert_eq!(c.options.fixed_amount_sat, None);
    assert_eq!(
        (c.options.bounds.min_sat, c.options.bounds.max_sat),
        (100, 5000)
    );
    assert_eq!(c.options.description, None);
}

#[test]
fn attributes_that_disagree_and_unreadable_tokens_are_setup_errors() {
    let mut r = raw(Some(exact()));
    r.amount_sat = Some("1".into());
    assert!(parse(&r).unwrap_err().contains("differs"));
    let mut r = raw(Some(exact()));
    r.order_id = Some("order-44".into());
    assert!(parse(&r).unwrap_err().contains("differs"));
    let mut r = raw(Some(exact()));
    r.description = Some("free".into());
    assert!(parse(&r).unwrap_err().contains("differs"));
    assert!(parse(&raw(None)).unwrap_err().contains("order-token"));
    let no_amount = TokenClaims {
        order_id: Some("o".into()),
        ..TokenClaims::default()
    };
    assert!(parse(&raw(Some(no_amount))).is_err());
    // Without a token nothing changes.
    let plain = RawOptions {
        endpoint: Some("/api".into()),
        amount_sat: Some("21".into()),
        ..RawOptions::default()
    };
    assert_eq!(parse(&plain).unwrap().order_token, None);
}

#[test]
fn a_fiat_price_from_a_token_or_attributes() {
    use lightning_checkout::fiat::FiatPrice;
    let eur = FiatPrice::parse("EUR", "4.50");
    let token = TokenClaims {
        order_id: Some("order-eur".into()),
        currency: Some("EUR".into()),
        fiat_amount: Some("4.50".into()),
        ..TokenClaims::default()
    };
    let c = parse(&raw(Some(token.clone()))).unwrap();
    assert_eq!(c.options.fiat, eur);
    assert_eq!(c.options.fixed_amount_sat, None);
    // A page that states another price than its token is a setup error.
    let mut r = raw(Some(token.clone()));
    r.fiat_amount = Some("0.01".into());
    assert!(parse(&r).unwrap_err().contains("differs"));
    let mut r = raw(Some(token));
    r.amount_sat = Some("1".into());
    assert!(parse(&r).is_err());
    // Unsigned (tips): the attributes.
    let plain = |cur: Option<&str>, amt: Option<&str>, sat: Option<&str>| RawOptions {
        endpoint: Some("/api".into()),
        currency: cur.map(String::from),
        fiat_amount: amt.map(String::from),
        amount_sat: sat.map(String::from),
        ..RawOptions::default()
    };
    assert_eq!(
        parse(&plain(Some("EUR"), Some("4.50"), None))
            .unwrap()
            .options
            .fiat,
        eur
    );
    for bad in [
        plain(Some("EUR"), None, None),
        plain(None, Some("4.50"), None),
        plain(Some("eur"), Some("4.50"), None),
        plain(Some("EUR"), Some("4,50"), None),
        plain(Some("EUR"), Some("-4.50"), None),
        plain(Some("EUR"), Some("not a whole number"), None),
        plain(Some("EUR"), Some("4.50"), Some("100")),
    ] {
        assert!(parse(&bad).is_err(), "{bad:?}");
    }
}
