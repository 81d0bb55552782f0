//! Exact amount and time conversions shared by the adapters: integers and decimal strings only,
//! never a float.

/// Satoshis in one bitcoin.
pub const SAT_PER_BTC: u64 = 100_000_000;

/// Whole sat as a BTC decimal with at most 8 decimals and no trailing zeros:
/// 1 → `0.00000001`, 4 500 000 → `0.045`, 100 000 000 → `1`, 123 457 → `0.00123457`.
/// Valid both as a JSON number (AlphaPo) and as a decimal string (Kraken).
pub fn sat_to_btc(sat: u64) -> String {
    let whole = sat / SAT_PER_BTC;
    let frac = sat % SAT_PER_BTC;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:08}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A BTC decimal (`"0.00123457"`, `"1"`, `"0.045"`) as msat, exactly; `None` for anything else
/// (signs, exponents, more than 11 decimals, overflow). A JSON number's text works too.
pub fn btc_to_msat(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 11
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut frac_msat: u64 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(11) {
        frac_msat = frac_msat * 10 + u64::from(b - b'0');
    }
    whole
        .checked_mul(SAT_PER_BTC * 1000)?
        .checked_add(frac_msat)
}

/// msat that must be a whole number of sat (what the backend always asks for).
pub fn whole_sat(msat: u64) -> u64 {
    debug_assert_eq!(msat % 1000, 0, "amounts are whole sat");
    msat / 1000
}

/// A non-negative integer that a provider sends as a JSON number or a decimal string
/// (LND's int64s are strings).
pub fn json_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// An RFC 3339 UTC time (`2026-06-02T13:30:00.000Z`, `…+00:00`, or without a zone, read as UTC)
/// as Unix seconds; fractions are dropped. Other offsets are applied.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = std::str::from_utf8(b.get(r)?).ok()?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = i64::from(h1 - b'0') * 36_000
                + i64::from(h2 - b'0') * 3600
                + i64::from(m1 - b'0') * 600
                + i64::from(m2 - b'0') * 60;
            if *sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sat_to_btc_edges() {
        for (sat, btc) in [
            (1, "0.00000001"),
            (10, "0.0000001"),
            (2500, "0.000025"),
            (10_000, "0.0001"),
            (123_457, "0.00123457"),
            (4_500_000, "0.045"),
            (4_500_001, "0.04500001"),
            (99_999_999, "0.99999999"),
            (100_000_000, "1"),
            (100_000_001, "1.00000001"),
            (2_100_000_000_000_000, "21000000"),
        ] {
            assert_eq!(sat_to_btc(sat), btc, "{sat}");
            assert_eq!(btc_to_msat(btc), Some(sat * 1000), "{btc}");
        }
    }

    #[test]
    fn btc_to_msat_is_exact_and_strict() {
        assert_eq!(btc_to_msat("0.00000000001"), Some(1));
        assert_eq!(btc_to_msat("0.045"), Some(4_500_000_000));
        assert_eq!(btc_to_msat("6.53157512"), Some(653_157_512_000));
        for bad in [
            "",
            ".1",
            "1.",
            "-1",
            "+1",
            "1e-8",
            "0.000000000001",
            "1,5",
            " ",
            "abc",
            "1.2.3",
            "184467440737.09551616",
        ] {
            assert_eq!(btc_to_msat(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00.123Z"),
            Some(1_767_225_600)
        );
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(
            parse_rfc3339("2025-12-31T23:00:00-01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00"), Some(1_767_225_600));
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00X",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn json_integers() {
        assert_eq!(json_u64(&serde_json::json!("1000")), Some(1000));
        assert_eq!(json_u64(&serde_json::json!(1000)), Some(1000));
        assert_eq!(json_u64(&serde_json::json!("-1")), None);
        assert_eq!(json_u64(&serde_json::json!(1.5)), None);
    }
}
