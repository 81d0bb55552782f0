//! PURE: the payer-typed amount: parse integer sats, check bounds, format sats (never floats).
//!
//! # What [`parse_amount_sat`] accepts
//!
//! The grammar is deliberately small, so that what the payer typed and what is charged
//! cannot differ:
//!
//! - Leading and trailing whitespace is ignored, and so is a trailing unit `sat` or `sats`
//!   (any case), so the output of [`format_sat`] parses back to the same number.
//! - Only ASCII digits `0`–`9`. Other Unicode digits (Arabic-Indic, full-width…) are refused.
//! - Digits may be grouped in threes with **one** kind of separator: `,` `_` `'`, a space,
//!   a no-break space (U+00A0), a narrow no-break space (U+202F) or a thin space (U+2009).
//!   The grouping must be valid (`2,500`, `1 000 000`): a first group of 1–3 digits, then
//!   groups of exactly 3. Separators are *not* simply stripped, because a European payer
//!   who types `1,5` means one and a half, not fifteen.
//! - No sign: `-5` is [`AmountError::Negative`], `+5` is [`AmountError::NotANumber`].
//! - No decimals (`1.5`, `2500.00`, `1,5`): [`AmountError::Fractional`]; no exponent (`1e3`).
//! - A number too large for `u64` is [`AmountError::TooLarge`], like any number above the
//!   maximum; the value is built with checked integer arithmetic only.

use core::fmt;

/// Default minimum amount a payer may type: the contract's smallest, 1 sat.
pub const DEFAULT_MIN_SAT: u64 = lightning_checkout_contract::MIN_AMOUNT_SAT;

/// Default maximum amount a payer may type: the backend's default ceiling, 4,500,000 sat (the
/// 0.045 BTC that AlphaPo sets for Lightning payments).
pub const DEFAULT_MAX_SAT: u64 = lightning_checkout_contract::DEFAULT_MAX_AMOUNT_SAT;

/// Largest maximum [`Bounds::new`] accepts: 21 million BTC, in sats.
pub const MAX_SUPPLY_SAT: u64 = 2_100_000_000_000_000;

/// Millisatoshis per satoshi.
pub const MSAT_PER_SAT: u64 = 1_000;

/// Inclusive bounds for a payer-typed amount, in sats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Smallest accepted amount (at least 1).
    pub min_sat: u64,
    /// Largest accepted amount (at least `min_sat`, at most [`MAX_SUPPLY_SAT`]).
    pub max_sat: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            min_sat: DEFAULT_MIN_SAT,
            max_sat: DEFAULT_MAX_SAT,
        }
    }
}

impl Bounds {
    /// Bounds from `min_sat..=max_sat`, refused ([`AmountError::InvalidBounds`]) unless
    /// `1 <= min_sat <= max_sat <= MAX_SUPPLY_SAT`.
    pub fn new(min_sat: u64, max_sat: u64) -> Result<Bounds, AmountError> {
        if min_sat < 1 || min_sat > max_sat || max_sat > MAX_SUPPLY_SAT {
            return Err(AmountError::InvalidBounds);
        }
        Ok(Bounds { min_sat, max_sat })
    }

    /// Checks an amount that did not come from text (e.g. the `amount-sat` attribute
    /// after its own parsing): `Ok(sat)` when `min_sat <= sat <= max_sat`.
    pub fn check(&self, sat: u64) -> Result<u64, AmountError> {
        if sat < self.min_sat {
            Err(AmountError::TooSmall {
                min_sat: self.min_sat,
            })
        } else if sat > self.max_sat {
            Err(AmountError::TooLarge {
                max_sat: self.max_sat,
            })
        } else {
            Ok(sat)
        }
    }
}

/// Why a typed amount (or a pair of bounds) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Nothing but whitespace (or only the unit) was typed.
    Empty,
    /// Not a number in the accepted grammar (letters, a `+` sign, an exponent, Unicode digits…).
    NotANumber,
    /// A decimal point or a decimal comma: only whole sats are accepted.
    Fractional,
    /// A minus sign.
    Negative,
    /// Separators not in groups of three (`1,00,000`, `2,,500`, `2_500,000`).
    BadGrouping,
    /// Below the minimum.
    TooSmall {
        /// The minimum, in sats.
        min_sat: u64,
    },
    /// Above the maximum (including numbers too large for `u64`).
    TooLarge {
        /// The maximum, in sats.
        max_sat: u64,
    },
    /// The bounds themselves are invalid (min 0, min above max, or max above 21 M BTC).
    InvalidBounds,
}

impl AmountError {
    /// Stable snake_case code, for the `lightning-checkout:error` event.
    pub fn code(&self) -> &'static str {
        match self {
            AmountError::Empty => "amount_empty",
            AmountError::NotANumber => "amount_not_a_number",
            AmountError::Fractional => "amount_fractional",
            AmountError::Negative => "amount_negative",
            AmountError::BadGrouping => "amount_bad_grouping",
            AmountError::TooSmall { .. } => "amount_too_small",
            AmountError::TooLarge { .. } => "amount_too_large",
            AmountError::InvalidBounds => "amount_invalid_bounds",
        }
    }

    /// One plain sentence for the payer, in the widget's language.
    pub fn message(&self) -> String {
        match self {
            AmountError::TooSmall { min_sat: n } | AmountError::TooLarge { max_sat: n } => {
                crate::i18n::tf(self.code(), &[("amount", &format_sat(*n))])
            }
            _ => crate::i18n::t(self.code()),
        }
    }
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// True for the characters accepted as thousands separators.
fn is_group_separator(c: char) -> bool {
    matches!(
        c,
        ',' | '_' | '\'' | ' ' | '\u{00A0}' | '\u{202F}' | '\u{2009}'
    )
}

/// True for a minus sign: ASCII hyphen-minus or U+2212.
fn is_minus(c: char) -> bool {
    c == '-' || c == '\u{2212}'
}

/// Strips a trailing `sat`/`sats` unit (any ASCII case) and the whitespace before it.
fn strip_unit(s: &str) -> &str {
    for unit in ["sats", "sat"] {
        let Some(split) = s.len().checked_sub(unit.len()) else {
            continue;
        };
        if let (Some(head), Some(tail)) = (s.get(..split), s.get(split..)) {
            if tail.eq_ignore_ascii_case(unit) {
                return head.trim_end();
            }
        }
    }
    s
}

/// Parses a payer-typed amount in whole sats and checks it against `bounds`.
///
/// See the [module documentation](self) for the accepted grammar. Errors are checked in
/// this order: empty, not a number, negative, fractional, bad grouping, too large for
/// `u64`, then the bounds.
pub fn parse_amount_sat(input: &str, bounds: Bounds) -> Result<u64, AmountError> {
    let s = strip_unit(input.trim());
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let (negative, body) = match s.chars().next() {
        Some(c) if is_minus(c) => (true, s.get(c.len_utf8()..).unwrap_or("").trim_start()),
        _ => (false, s),
    };

    // One pass: digits into groups, at most one kind of separator, at most one '.'.
    let mut groups: Vec<usize> = vec![0];
    let mut separator: Option<char> = None;
    let mut mixed_separators = false;
    let mut fraction: Option<usize> = None;
    for c in body.chars() {
        if c.is_ascii_digit() {
            match fraction.as_mut() {
                Some(n) => *n += 1,
                None => {
                    if let Some(last) = groups.last_mut() {
                        *last += 1;
                    }
                }
            }
        } else if c == '.' && fraction.is_none() {
            fraction = Some(0);
        } else if is_group_separator(c) && fraction.is_none() {
            match separator {
                None => separator = Some(c),
                Some(prev) if prev != c => mixed_separators = true,
                Some(_) => {}
            }
            groups.push(0);
        } else {
            return Err(AmountError::NotANumber);
        }
    }
    let digit_count = groups.iter().sum::<usize>() + fraction.unwrap_or(0);
    if digit_count == 0 {
        // "-", ".", ",": signs and separators without a single digit.
        return Err(AmountError::NotANumber);
    }
    if negative {
        return Err(AmountError::Negative);
    }
    if fraction.is_some() {
        return Err(AmountError::Fractional);
    }
    // A lone decimal comma ("1,5", "12,50") reads as a fraction, not as a bad grouping.
    if separator == Some(',') && groups.len() == 2 && matches!(groups.get(1), Some(1..=2)) {
        return Err(AmountError::Fractional);
    }
    if groups.len() > 1 {
        let first_ok = matches!(groups.first(), Some(1..=3));
        let rest_ok = groups.iter().skip(1).all(|&g| g == 3);
        if mixed_separators || !first_ok || !rest_ok {
            return Err(AmountError::BadGrouping);
        }
    }

    let mut value: u64 = 0;
    for d in body.bytes().filter(u8::is_ascii_digit) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(AmountError::TooLarge {
                max_sat: bounds.max_sat,
            })?;
    }
    bounds.check(value)
}

/// Groups the digits of `n` in threes with commas: `2500` -> `"2,500"`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats sats for people: `2500` -> `"2,500 sat"`.
pub fn format_sat(sat: u64) -> String {
    let number = msat_from_sat(sat)
        .and_then(crate::i18n::number_msat)
        .unwrap_or_else(|| group_thousands(sat));
    crate::i18n::tf("sat", &[("amount", &number)])
}

/// A count (of confirmations, say) as the widget's language writes numbers.
pub fn format_count(n: u64) -> String {
    n.checked_mul(MSAT_PER_SAT)
        .and_then(crate::i18n::number_msat)
        .unwrap_or_else(|| group_thousands(n))
}

/// Formats millisats as sats, exactly: `2_500_000` -> `"2,500 sat"`,
/// `2_500_001` -> `"2,500.001 sat"` (trailing zeros of the fraction dropped).
pub fn format_msat(msat: u64) -> String {
    let number = crate::i18n::number_msat(msat).unwrap_or_else(|| {
        let (sat, frac) = (msat / MSAT_PER_SAT, msat % MSAT_PER_SAT);
        if frac == 0 {
            group_thousands(sat)
        } else {
            let frac = format!("{frac:03}");
            format!("{}.{}", group_thousands(sat), frac.trim_end_matches('0'))
        }
    });
    crate::i18n::tf("sat", &[("amount", &number)])
}

/// Sats to millisats; `None` on overflow.
pub fn msat_from_sat(sat: u64) -> Option<u64> {
    sat.checked_mul(MSAT_PER_SAT)
}

/// Millisats to sats when `msat` is a whole number of sats; `None` otherwise.
pub fn sat_from_msat(msat: u64) -> Option<u64> {
    if msat % MSAT_PER_SAT == 0 {
        Some(msat / MSAT_PER_SAT)
    } else {
        None
    }
}
