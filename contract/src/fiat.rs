//! Fiat prices as the contract carries them: a currency code and a decimal amount, both text.
//!
//! The widget never converts money: it sends the shop's price (`currency` + `fiat_amount`) and
//! shows the backend's answer. The backend converts (`backend/src/fiat.rs`: which currencies, how
//! many decimals, the exact arithmetic and the rounding); this module only holds the shape both
//! sides check before either relies on a price.

use alloc::string::String;

use serde::{Deserialize, Serialize};

/// Longest fiat amount text accepted (digits and one point).
pub const MAX_FIAT_AMOUNT_LEN: usize = 24;

/// Whether `code` looks like an ISO 4217 code: three upper-case ASCII letters (the backend says
/// which it supports: `unsupported_currency`).
#[inline]
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A plain positive decimal (`4.50`, `500`): digits, at most one point with digits on both
/// sides, no sign, no exponent. Returns the integer and fraction digits (`""` without a point).
#[inline]
pub fn split_decimal(s: &str) -> Option<(&str, &str)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (s, ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac)).then_some((int, frac))
}

/// A price in a currency, as text: `EUR` and `4.50` (request `currency` + `fiat_amount`, a
/// signed order's claims of the same names, the answer's `fiat.currency` + `fiat.amount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiatPrice {
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
    /// A plain decimal ([`split_decimal`]), at most [`MAX_FIAT_AMOUNT_LEN`] characters.
    pub amount: String,
}

impl FiatPrice {
    /// A price from a currency code and a decimal text, or `None` if either is malformed (the
    /// backend decides which currencies and how many decimals it takes).
    #[inline]
    pub fn parse(currency: &str, amount: &str) -> Option<FiatPrice> {
        (is_currency_code(currency)
            && amount.len() <= MAX_FIAT_AMOUNT_LEN
            && split_decimal(amount).is_some())
        .then(|| FiatPrice {
            currency: String::from(currency),
            amount: String::from(amount),
        })
    }

    /// Whether `other` states the same price (`4.5` and `4.50` are the same).
    #[inline]
    pub fn same_as(&self, other: &FiatPrice) -> bool {
        self.currency == other.currency && normal(&self.amount) == normal(&other.amount)
    }
}

/// Leading zeros of the integer part and trailing zeros of the fraction dropped.
#[inline]
fn normal(a: &str) -> (&str, &str) {
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    (int.trim_start_matches('0'), frac.trim_end_matches('0'))
}

/// The answer's `fiat`: the price a fiat-priced invoice was converted from, with the rate, its
/// source and time (what the backend records; the widget reads `currency` and `amount` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiatQuote {
    /// ISO 4217 code.
    pub currency: String,
    /// The price, with the currency's minor digits (`"4.50"`).
    pub amount: String,
    /// The price of one BTC in that currency used for the conversion, as its source gave it.
    pub rate: String,
    /// Where the rate came from: `kraken`, `coinbase` or `fixed`.
    pub rate_source: String,
    /// When the rate was fetched (a fixed rate: when it was applied), Unix seconds.
    pub rate_at: u64,
}
