//! The numbers both sides enforce. The backend refuses a request outside them with the code named
//! here; the widget refuses the same values before it asks, so a payer never waits for a refusal
//! the page could have foreseen.

/// Smallest amount: 1 sat (`amount_too_small`; BOLT 11 could say less, no provider takes it).
pub const MIN_AMOUNT_SAT: u64 = 1;
/// Default largest amount: AlphaPo's 0.045 BTC Lightning ceiling, the lowest of the providers'
/// (the backend's `MAX_AMOUNT_SAT`, the widget's default `max-sat`).
pub const DEFAULT_MAX_AMOUNT_SAT: u64 = 4_500_000;
/// Longest description in bytes: BOLT 11's `d` field has a 10-bit length of 5-bit groups.
pub const MAX_DESCRIPTION_BYTES: usize = 639;
/// Longest order id (`order_id`, `order-id`, an order token's claim).
pub const MAX_ORDER_ID_LEN: usize = 128;
/// Longest invoice id the widget accepts from a backend (it goes into a URL path).
pub const MAX_ID_LEN: usize = 128;
/// Default invoice lifetime: 15 minutes, as AlphaPo's fixed Lightning expiry.
pub const DEFAULT_EXPIRY_SECS: u32 = 900;
/// Longest invoice lifetime a create may ask for: one day.
pub const MAX_EXPIRY_SECS: u32 = 86_400;
/// Longest pay link (Kraken Pay's `view_link`) accepted, stored and drawn as a QR code.
pub const MAX_PAY_URL_LEN: usize = 2048;
/// Longest backend error message the widget shows; longer ones are cut at a character boundary.
pub const MAX_MESSAGE_LEN: usize = 200;
