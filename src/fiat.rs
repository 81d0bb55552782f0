//! PURE: a fiat price as the shop states it and the backend answers it. The widget never
//! converts money: it sends the price (`currency` + `fiat_amount`, decimal text), and shows the
//! backend's answer (`fiat.amount` in `fiat.currency`) beside the sats the invoice asks for. The
//! price's shape is the contract's ([`FiatPrice`], shared with the backend); the text shown is
//! the widget's.

pub use lightning_checkout_contract::fiat::FiatPrice;

/// A price as the widget's language writes money (`Intl.NumberFormat` in the browser: `€4.50`,
/// `4,50 €`); without one, `EUR 4.50`.
pub fn format_price(p: &FiatPrice) -> String {
    crate::i18n::fiat_price(&p.currency, &p.amount)
        .unwrap_or_else(|| format!("{} {}", p.currency, p.amount))
}

/// The line shown under the sat amount: `≈ €4.50`.
pub fn approx_line(p: &FiatPrice) -> String {
    format!("≈ {}", format_price(p))
}
