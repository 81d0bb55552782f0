//! PURE: a fiat price as the shop states it and the backend answers it. The widget never
//! converts money: it sends the price (`currency` + `fiat_amount`, decimal text), and shows the
//! backend's answer (`fiat.amount` in `fiat.currency`) beside the sats the invoice asks for. The
//! price's shape is the contract's ([`FiatPrice`], shared with the backend); the text shown is
//! the widget's.

pub use lightning_checkout_contract::fiat::FiatPrice;

/// The line shown under the sat amount (its English text lives here only).
pub fn approx_line(p: &FiatPrice) -> String {
    format!("≈ {} {}", p.currency, p.amount)
}
