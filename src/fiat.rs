//! PURE: a fiat price as the shop states it and the backend answers it. The widget never
//! converts money: it sends the price (`currency` + `fiat_amount`, decimal text), and shows the
//! backend's answer (`fiat.amount` in `fiat.currency`) beside the sats the invoice asks for.

use serde::{Deserialize, Serialize};

/// Longest amount text accepted (digits and one point).
const MAX_AMOUNT_LEN: usize = 24;

/// A price in a currency, as text: `EUR` and `4.50`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiatPrice {
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
    /// A plain decimal (`4.50`, `500`): digits, at most one point with digits after it.
    pub amount: String,
}

impl FiatPrice {
    /// A price from a currency code and a decimal text, or `None` if either is malformed (the
    /// backend decides which currencies and how many decimals it takes).
    pub fn parse(currency: &str, amount: &str) -> Option<FiatPrice> {
        let code_ok = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
        let (int, frac) = amount.split_once('.').unwrap_or((amount, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (code_ok && amount.len() <= MAX_AMOUNT_LEN && digits(int) && digits(frac)).then(|| {
            FiatPrice {
                currency: String::from(currency),
                amount: String::from(amount),
            }
        })
    }

    /// Whether `other` states the same price (`4.5` and `4.50` are the same).
    pub fn same_as(&self, other: &FiatPrice) -> bool {
        self.currency == other.currency && normal(&self.amount) == normal(&other.amount)
    }

    /// The line shown under the sat amount (its English text lives here only).
    pub fn approx_line(&self) -> String {
        format!("≈ {} {}", self.currency, self.amount)
    }
}

/// Leading zeros of the integer part and trailing zeros of the fraction dropped.
fn normal(a: &str) -> (&str, &str) {
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    let int = int.trim_start_matches('0');
    (int, frac.trim_end_matches('0'))
}
