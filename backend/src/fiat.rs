//! Fiat prices in exact decimal arithmetic: currencies, amounts in integer minor units, BTC rates
//! as decimals, and the one conversion rule. No floating point anywhere.
//!
//! **Rounding:** a fiat price becomes sat by rounding **up** to the next whole sat
//! (`ceil(amount × 100,000,000 / rate)`), so the shop is never short of what it priced; the payer
//! pays at most one sat more than the exact value.
//!
//! Currencies are ISO 4217 codes with their minor digits: EUR, USD, GBP, CHF, CAD, AUD (2), JPY
//! (0), KWD (3). An amount is written with at most the currency's minor digits (`4.5` and `4.50`
//! are EUR 4.50; `4.505` is refused), no sign, no exponent.

use std::fmt;

// The shape of a price (currency code, decimal text) and the answer's quote are the contract's
// (`contract/src/fiat.rs`), shared with the widget; the arithmetic stays here.
use lightning_checkout_contract::fiat::split_decimal;
pub use lightning_checkout_contract::fiat::{FiatPrice, FiatQuote};

/// Sat in one bitcoin.
pub const SAT_PER_BTC: u128 = 100_000_000;
/// Largest fiat amount, in minor units (10^15: ten trillion euro): keeps every product below in
/// `u128`.
pub const MAX_MINOR_UNITS: u64 = 1_000_000_000_000_000;
/// Most fractional digits a rate may have.
pub const MAX_RATE_SCALE: u32 = 12;
/// Most digits a rate may have in all.
const MAX_RATE_DIGITS: usize = 24;

/// Supported currencies and their minor digits.
const CURRENCIES: [(&str, u32); 8] = [
    ("EUR", 2),
    ("USD", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("JPY", 0),
    ("KWD", 3),
];

/// A supported ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    minor_digits: u32,
}

impl Currency {
    /// The currency for `code` (upper case, as ISO 4217 writes it), if supported.
    pub fn parse(code: &str) -> Option<Self> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, minor_digits)| Self { code, minor_digits })
    }

    /// The ISO code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point (EUR 2, JPY 0, KWD 3).
    pub fn minor_digits(self) -> u32 {
        self.minor_digits
    }

    /// Every supported code, for error messages.
    pub fn supported() -> String {
        CURRENCIES
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An amount of a currency, in integer minor units (EUR 4.50 = 450).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiatAmount {
    /// The currency.
    pub currency: Currency,
    /// Minor units, 1 to [`MAX_MINOR_UNITS`].
    pub minor: u64,
}

/// Why a fiat amount or a rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiatError {
    /// Not a supported currency code.
    #[error("unsupported currency")]
    Currency,
    /// Not a plain positive decimal with at most the currency's minor digits, or out of bounds.
    #[error("invalid amount")]
    Amount,
    /// A rate that is not a positive decimal.
    #[error("invalid rate")]
    Rate,
}

impl FiatAmount {
    /// Parse `amount` (`"4.50"`) in `currency` (`"EUR"`).
    pub fn parse(currency: &str, amount: &str) -> Result<Self, FiatError> {
        let currency = Currency::parse(currency).ok_or(FiatError::Currency)?;
        let (int, frac) = split_decimal(amount).ok_or(FiatError::Amount)?;
        if frac.len() > currency.minor_digits as usize || int.len() > 16 {
            return Err(FiatError::Amount);
        }
        let mut minor: u64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            minor = minor * 10 + u64::from(b - b'0');
        }
        for _ in frac.len()..currency.minor_digits as usize {
            minor = minor.checked_mul(10).ok_or(FiatError::Amount)?;
        }
        if !(1..=MAX_MINOR_UNITS).contains(&minor) {
            return Err(FiatError::Amount);
        }
        Ok(Self { currency, minor })
    }

    /// [`Self::parse`] of a contract price (a request's or an order token's).
    pub fn from_price(p: &FiatPrice) -> Result<Self, FiatError> {
        Self::parse(&p.currency, &p.amount)
    }

    /// The price as the contract writes it (the amount with the currency's minor digits).
    pub fn price(&self) -> FiatPrice {
        FiatPrice {
            currency: self.currency.code.to_owned(),
            amount: self.amount_string(),
        }
    }

    /// The amount written with exactly the currency's minor digits (`4.50`, `500`, `1.250`).
    pub fn amount_string(&self) -> String {
        let d = self.currency.minor_digits;
        if d == 0 {
            return self.minor.to_string();
        }
        let p = 10u64.pow(d);
        format!(
            "{}.{:0width$}",
            self.minor / p,
            self.minor % p,
            width = d as usize
        )
    }
}

impl fmt::Display for FiatAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code, self.amount_string())
    }
}

/// A positive exact decimal: `mantissa / 10^scale` (the price of one bitcoin in a currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    mantissa: u128,
    scale: u32,
}

impl Rate {
    /// Parse a plain decimal (`"60000.10000"`): digits, at most one point, at most
    /// [`MAX_RATE_SCALE`] fractional digits; it must be above zero.
    pub fn parse(s: &str) -> Result<Self, FiatError> {
        let (int, frac) = split_decimal(s).ok_or(FiatError::Rate)?;
        if frac.len() > MAX_RATE_SCALE as usize || int.len() + frac.len() > MAX_RATE_DIGITS {
            return Err(FiatError::Rate);
        }
        let mut mantissa: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa * 10 + u128::from(b - b'0');
        }
        if mantissa == 0 {
            return Err(FiatError::Rate);
        }
        Ok(Self {
            mantissa,
            scale: frac.len() as u32,
        })
    }

    /// Written back as a plain decimal, with its scale (`60000.10000` stays so).
    pub fn to_decimal_string(&self) -> String {
        if self.scale == 0 {
            return self.mantissa.to_string();
        }
        let p = 10u128.pow(self.scale);
        format!(
            "{}.{:0width$}",
            self.mantissa / p,
            self.mantissa % p,
            width = self.scale as usize
        )
    }
}

/// `amount` in sat at `rate` (price of one BTC in the amount's currency), rounded **up** to a whole
/// sat. `None` if it would not fit in a `u64` (no real amount comes near).
pub fn to_sat(amount: FiatAmount, rate: Rate) -> Option<u64> {
    // sat = minor / 10^d / (mantissa / 10^s) × 10^8 = minor × 10^s × 10^8 / (mantissa × 10^d)
    let num = u128::from(amount.minor)
        .checked_mul(10u128.pow(rate.scale))?
        .checked_mul(SAT_PER_BTC)?;
    let den = rate
        .mantissa
        .checked_mul(10u128.pow(amount.currency.minor_digits))?;
    u64::try_from(num.div_ceil(den)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> FiatAmount {
        FiatAmount::parse("EUR", s).unwrap()
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(eur("4.50").minor, 450);
        assert_eq!(eur("4.5").minor, 450);
        assert_eq!(eur("4").minor, 400);
        assert_eq!(eur("0.01").minor, 1);
        assert_eq!(eur("4.5").amount_string(), "4.50");
        assert_eq!(FiatAmount::parse("JPY", "500").unwrap().minor, 500);
        assert_eq!(
            FiatAmount::parse("JPY", "500").unwrap().amount_string(),
            "500"
        );
        assert_eq!(FiatAmount::parse("KWD", "1.25").unwrap().minor, 1250);
        assert_eq!(
            FiatAmount::parse("KWD", "1.25").unwrap().amount_string(),
            "1.250"
        );
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e3", " 1", "1,50", "4.505", "0", "0.00", "١",
        ] {
            assert_eq!(
                FiatAmount::parse("EUR", bad),
                Err(FiatError::Amount),
                "{bad:?}"
            );
        }
        assert_eq!(FiatAmount::parse("JPY", "1.5"), Err(FiatError::Amount));
        assert_eq!(FiatAmount::parse("KWD", "1.2345"), Err(FiatError::Amount));
        assert_eq!(FiatAmount::parse("eur", "1"), Err(FiatError::Currency));
        assert_eq!(FiatAmount::parse("XXX", "1"), Err(FiatError::Currency));
        assert_eq!(
            FiatAmount::parse("EUR", "10000000000000.00").unwrap().minor,
            MAX_MINOR_UNITS
        );
        assert_eq!(
            FiatAmount::parse("EUR", "10000000000000.01"),
            Err(FiatError::Amount)
        );
        assert_eq!(
            FiatAmount::parse("EUR", "99999999999999999999"),
            Err(FiatError::Amount)
        );
    }

    #[test]
    fn conversion_rounds_up_to_whole_sat() {
        let r = Rate::parse("60000.00").unwrap();
        // 4.50 / 60000 BTC = 7500 sat exactly.
        assert_eq!(to_sat(eur("4.50"), r), Some(7500));
        // 0.01 / 60000 BTC = 16.666… sat → 17.
        assert_eq!(to_sat(eur("0.01"), r), Some(17));
        // Exactly on a boundary stays; one minor unit above rounds up.
        let r = Rate::parse("100000").unwrap();
        assert_eq!(to_sat(eur("1.00"), r), Some(1000));
        assert_eq!(to_sat(eur("1.01"), r), Some(1010));
        let r = Rate::parse("99999.99").unwrap();
        // 1.00 / 99999.99 × 10^8 = 1000.0001… → 1001.
        assert_eq!(to_sat(eur("1.00"), r), Some(1001));
        // A rate with many decimals (Kraken's five).
        let r = Rate::parse("87123.45678").unwrap();
        // 4.50 × 10^13 / 8712345678 = 5165.082… → 5166 (computed by hand: 45e12 / 8712345678).
        assert_eq!(to_sat(eur("4.50"), r), Some(5166));
        // JPY, 0 minor digits: 500 JPY at 15,000,000 JPY/BTC = 3333.33… → 3334.
        let jpy = FiatAmount::parse("JPY", "500").unwrap();
        assert_eq!(to_sat(jpy, Rate::parse("15000000").unwrap()), Some(3334));
        // KWD, 3 minor digits: 1.250 KWD at 20000.000 = 6250 sat exactly.
        let kwd = FiatAmount::parse("KWD", "1.250").unwrap();
        assert_eq!(to_sat(kwd, Rate::parse("20000.000").unwrap()), Some(6250));
        // Tiny: one cent at an enormous rate is still at least one sat.
        assert_eq!(
            to_sat(eur("0.01"), Rate::parse("999999999999").unwrap()),
            Some(1)
        );
        // Huge: the largest amount at a tiny rate does not overflow silently.
        let huge = eur("10000000000000.00");
        assert_eq!(to_sat(huge, Rate::parse("0.000000000001").unwrap()), None);
        assert_eq!(
            to_sat(huge, Rate::parse("60000").unwrap()),
            Some(16_666_666_666_666_667)
        );
    }

    #[test]
    fn rates_parse_strictly() {
        assert_eq!(
            Rate::parse("60000.10000").unwrap().to_decimal_string(),
            "60000.10000"
        );
        assert_eq!(Rate::parse("60000").unwrap().to_decimal_string(), "60000");
        assert_eq!(Rate::parse("0.5").unwrap().to_decimal_string(), "0.5");
        for bad in [
            "",
            "0",
            "0.000",
            "-1",
            "1e5",
            "NaN",
            "inf",
            "1.2.3",
            "60 000",
            "1.0000000000001",
        ] {
            assert_eq!(Rate::parse(bad), Err(FiatError::Rate), "{bad:?}");
        }
    }
}
