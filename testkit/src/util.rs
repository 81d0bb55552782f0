//! Small exact conversions for the fakes (independent of the backend's own, on purpose).

/// A BTC decimal with at most `max_dp` decimals (digits and one dot only) as msat.
pub fn btc_to_msat_dp(s: &str, max_dp: usize) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || (s.contains('.') && frac.is_empty())
        || frac.len() > max_dp
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut padded = frac.to_owned();
    while padded.len() < 11 {
        padded.push('0');
    }
    let w: u64 = whole.parse().ok()?;
    let f: u64 = padded.parse().ok()?;
    w.checked_mul(100_000_000_000)?.checked_add(f)
}

/// A BTC decimal with at most 8 decimals as msat.
pub fn btc_to_msat(s: &str) -> Option<u64> {
    btc_to_msat_dp(s, 8)
}

/// msat as a BTC decimal string with 8 decimals (sat precision; msat below a sat dropped).
pub fn msat_to_btc(msat: u64) -> String {
    let sat = msat / 1000;
    format!("{}.{:08}", sat / 100_000_000, sat % 100_000_000)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS.000Z`.
pub fn rfc3339(t: u64) -> String {
    let days = i64::try_from(t / 86_400).unwrap_or(0);
    let secs = t % 86_400;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_208_000), "2024-02-29T12:00:00.000Z");
        assert_eq!(btc_to_msat("0.00000001"), Some(1000));
        assert_eq!(btc_to_msat("0.045"), Some(4_500_000_000));
        assert_eq!(btc_to_msat("0.000000001"), None);
        assert_eq!(btc_to_msat("1e-8"), None);
        assert_eq!(msat_to_btc(2_500_000), "0.00002500");
    }
}
