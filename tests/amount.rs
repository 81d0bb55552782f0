//! The payer-typed amount: grammar table, bounds edges, formatting round trips.

use lightning_checkout::amount::{
    format_msat, format_sat, group_thousands, msat_from_sat, parse_amount_sat, sat_from_msat,
    AmountError, Bounds, DEFAULT_MAX_SAT, DEFAULT_MIN_SAT, MAX_SUPPLY_SAT,
};

fn parse(s: &str) -> Result<u64, AmountError> {
    parse_amount_sat(s, Bounds::default())
}

#[test]
fn grammar_table() {
    use AmountError::*;
    let max = TooLarge {
        max_sat: DEFAULT_MAX_SAT,
    };
    let min = TooSmall {
        min_sat: DEFAULT_MIN_SAT,
    };
    let table: &[(&str, Result<u64, AmountError>)] = &[
        ("2500", Ok(2500)),
        ("  2500\n", Ok(2500)),
        ("\t2500 ", Ok(2500)),
        ("0002500", Ok(2500)),
        ("1", Ok(1)),
        // Grouped in threes, one kind of separator.
        ("2,500", Ok(2500)),
        ("2_500", Ok(2500)),
        ("2 500", Ok(2500)),
        ("2'500", Ok(2500)),
        ("2\u{00A0}500", Ok(2500)),
        ("2\u{202F}500", Ok(2500)),
        ("2\u{2009}500", Ok(2500)),
        ("1,000,000", Ok(1_000_000)),
        ("4 500 000", Ok(4_500_000)),
        ("999", Ok(999)),
        // The unit, as format_sat writes it.
        ("2,500 sat", Ok(2500)),
        ("2500sat", Ok(2500)),
        ("2500 sats", Ok(2500)),
        ("2500 SATS", Ok(2500)),
        ("2500 Sat", Ok(2500)),
        // Empty.
        ("", Err(Empty)),
        ("   ", Err(Empty)),
        ("\u{3000}", Err(Empty)),
        ("sat", Err(Empty)),
        (" sats ", Err(Empty)),
        // Not numbers.
        ("abc", Err(NotANumber)),
        ("1e3", Err(NotANumber)),
        ("1E3", Err(NotANumber)),
        ("+5", Err(NotANumber)),
        ("0x10", Err(NotANumber)),
        ("2500 btc", Err(NotANumber)),
        ("2500 msat", Err(NotANumber)),
        ("12 3a", Err(NotANumber)),
        ("NaN", Err(NotANumber)),
        ("inf", Err(NotANumber)),
        ("-", Err(NotANumber)),
        (".", Err(NotANumber)),
        (",", Err(NotANumber)),
        ("--5", Err(NotANumber)),
        ("5-", Err(NotANumber)),
        ("1.5.0", Err(NotANumber)),
        ("1.5,0", Err(NotANumber)),
        ("<script>", Err(NotANumber)),
        // Unicode digits are refused (full-width, Arabic-Indic, Devanagari, superscript).
        ("２５００", Err(NotANumber)),
        ("٢٥٠٠", Err(NotANumber)),
        ("२५००", Err(NotANumber)),
        ("2⁵", Err(NotANumber)),
        // Signs.
        ("-5", Err(Negative)),
        ("-0", Err(Negative)),
        ("- 5", Err(Negative)),
        ("\u{2212}5", Err(Negative)),
        ("-1.5", Err(Negative)),
        ("-99999999999999999999999", Err(Negative)),
        // Decimals.
        ("1.5", Err(Fractional)),
        ("2500.00", Err(Fractional)),
        ("2500.", Err(Fractional)),
        (".5", Err(Fractional)),
        ("2,500.5", Err(Fractional)),
        ("1,5", Err(Fractional)),
        ("12,50", Err(Fractional)),
        ("1.000", Err(Fractional)),
        // Bad groupings.
        ("1,00,000", Err(BadGrouping)),
        ("2,,500", Err(BadGrouping)),
        ("2500,000", Err(BadGrouping)),
        (",500", Err(BadGrouping)),
        ("500,", Err(BadGrouping)),
        ("2_500,000", Err(BadGrouping)),
        ("2  500", Err(BadGrouping)),
        ("1,5000", Err(BadGrouping)),
        ("2 5", Err(BadGrouping)),
        ("1_5", Err(BadGrouping)),
        // Bounds and overflow.
        ("0", Err(min)),
        ("000", Err(min)),
        ("4500000", Ok(4_500_000)),
        ("4500001", Err(max)),
        ("18446744073709551615", Err(max)),
        ("18446744073709551616", Err(max)),
        ("99999999999999999999999999999999999999", Err(max)),
    ];
    for (input, want) in table {
        assert_eq!(parse(input), *want, "{input:?}");
    }
}

#[test]
fn bounds_edges() {
    let b = Bounds::new(1_000, 50_000).expect("valid");
    for (sat, want) in [
        (999, Err(AmountError::TooSmall { min_sat: 1_000 })),
        (1_000, Ok(1_000)),
        (50_000, Ok(50_000)),
        (50_001, Err(AmountError::TooLarge { max_sat: 50_000 })),
        (0, Err(AmountError::TooSmall { min_sat: 1_000 })),
        (u64::MAX, Err(AmountError::TooLarge { max_sat: 50_000 })),
    ] {
        assert_eq!(parse_amount_sat(&sat.to_string(), b), want, "{sat}");
        assert_eq!(b.check(sat), want, "{sat}");
    }
    // Overflow reports the configured maximum.
    assert_eq!(
        parse_amount_sat("1".repeat(40).as_str(), b),
        Err(AmountError::TooLarge { max_sat: 50_000 })
    );

    // Single-value bounds.
    let one = Bounds::new(2500, 2500).expect("valid");
    assert_eq!(parse_amount_sat("2,500", one), Ok(2500));
    assert!(parse_amount_sat("2,499", one).is_err());

    // The whole supply.
    let all = Bounds::new(1, MAX_SUPPLY_SAT).expect("valid");
    assert_eq!(
        parse_amount_sat("2,100,000,000,000,000", all),
        Ok(MAX_SUPPLY_SAT)
    );
    assert_eq!(
        parse_amount_sat("2100000000000001", all),
        Err(AmountError::TooLarge {
            max_sat: MAX_SUPPLY_SAT
        })
    );
}

#[test]
fn bounds_constructor() {
    assert_eq!(
        Bounds::default(),
        Bounds {
            min_sat: 1,
            max_sat: 4_500_000
        }
    );
    assert_eq!(Bounds::new(1, 4_500_000), Ok(Bounds::default()));
    for (min, max) in [
        (0, 10),
        (11, 10),
        (1, MAX_SUPPLY_SAT + 1),
        (1, u64::MAX),
        (0, 0),
    ] {
        assert_eq!(
            Bounds::new(min, max),
            Err(AmountError::InvalidBounds),
            "{min}..{max}"
        );
    }
    assert!(Bounds::new(MAX_SUPPLY_SAT, MAX_SUPPLY_SAT).is_ok());
}

#[test]
fn formatting() {
    for (n, s) in [
        (0, "0"),
        (1, "1"),
        (999, "999"),
        (1000, "1,000"),
        (2500, "2,500"),
        (100_000, "100,000"),
        (1_000_000, "1,000,000"),
        (u64::MAX, "18,446,744,073,709,551,615"),
    ] {
        assert_eq!(group_thousands(n), s);
        assert_eq!(format_sat(n), format!("{s} sat"));
    }
    assert_eq!(format_msat(2_500_000), "2,500 sat");
    assert_eq!(format_msat(2_500_001), "2,500.001 sat");
    assert_eq!(format_msat(2_500_010), "2,500.01 sat");
    assert_eq!(format_msat(2_500_100), "2,500.1 sat");
    assert_eq!(format_msat(1), "0.001 sat");
    assert_eq!(format_msat(0), "0 sat");
    assert_eq!(format_msat(u64::MAX), "18,446,744,073,709,551.615 sat");

    assert_eq!(msat_from_sat(2500), Some(2_500_000));
    assert_eq!(
        msat_from_sat(MAX_SUPPLY_SAT),
        Some(2_100_000_000_000_000_000)
    );
    assert_eq!(msat_from_sat(u64::MAX / 1000 + 1), None);
    assert_eq!(sat_from_msat(2_500_000), Some(2500));
    assert_eq!(sat_from_msat(2_500_001), None);
    assert_eq!(sat_from_msat(0), Some(0));
}

/// Deterministic xorshift, so the sample is the same on every run.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn format_sat_parses_back() {
    let all = Bounds::new(1, MAX_SUPPLY_SAT).expect("valid");
    // Exhaustive over the first 200,000 values (every grouping shape up to 6 digits)…
    for x in 1..=200_000u64 {
        assert_eq!(parse_amount_sat(&format_sat(x), all), Ok(x), "{x}");
        assert_eq!(parse_amount_sat(&group_thousands(x), all), Ok(x), "{x}");
        assert_eq!(parse_amount_sat(&x.to_string(), all), Ok(x), "{x}");
    }
    // …then powers of ten and their neighbours, and a sample of every magnitude.
    let mut p = 1u64;
    while p <= MAX_SUPPLY_SAT / 10 {
        p *= 10;
        for x in [p - 1, p, p + 1] {
            assert_eq!(parse_amount_sat(&format_sat(x), all), Ok(x), "{x}");
        }
    }
    let mut state = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200_000 {
        let r = xorshift(&mut state);
        let x = 1 + (r >> (r % 50)) % MAX_SUPPLY_SAT;
        assert_eq!(parse_amount_sat(&format_sat(x), all), Ok(x), "{x}");
        // With any accepted separator.
        let sep = [" ", "_", "\u{00A0}", "\u{202F}", "'"][(r % 5) as usize];
        let s = group_thousands(x).replace(',', sep);
        assert_eq!(parse_amount_sat(&s, all), Ok(x), "{s:?}");
    }
}

#[test]
fn every_u64_and_random_text_never_panics() {
    let mut state = 0x1234_5678_9abc_def0;
    let alphabet: Vec<char> = "0123456789,._ '-+e\u{00A0}\u{2212}sat٢２\u{0}"
        .chars()
        .collect();
    for _ in 0..100_000 {
        let r = xorshift(&mut state);
        let len = (r % 24) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(xorshift(&mut state) % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(v) = parse(&s) {
            assert!((DEFAULT_MIN_SAT..=DEFAULT_MAX_SAT).contains(&v), "{s:?}");
            assert!(!s.contains('.') && !s.contains('-'), "{s:?}");
        }
    }
}

#[test]
fn messages_for_the_payer() {
    use AmountError::*;
    for (e, code, message) in [
        (
            TooSmall { min_sat: 1000 },
            "amount_too_small",
            "Enter an amount of at least 1,000 sat.",
        ),
        (
            TooLarge { max_sat: 4_500_000 },
            "amount_too_large",
            "Enter an amount of at most 4,500,000 sat.",
        ),
        (
            Fractional,
            "amount_fractional",
            "Enter a whole number of sats, without decimals.",
        ),
        (Empty, "amount_empty", "Enter an amount in sats."),
        (
            NotANumber,
            "amount_not_a_number",
            "Enter the amount as a whole number of sats, for example 2,500.",
        ),
        (Negative, "amount_negative", "Enter an amount above zero."),
        (
            BadGrouping,
            "amount_bad_grouping",
            "Write the amount as plain digits, like 2500, or in groups of three, like 2,500.",
        ),
        (
            InvalidBounds,
            "amount_invalid_bounds",
            "This checkout has invalid amount limits, so it cannot take a payment.",
        ),
    ] {
        assert_eq!(e.code(), code);
        assert_eq!(e.message(), message);
        assert_eq!(e.to_string(), message);
    }
}
