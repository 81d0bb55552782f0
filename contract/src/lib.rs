//! The Lightning checkout's backend contract, written once.
//!
//! The widget (`lightning-checkout`, compiled to wasm32) and the reference backend
//! (`lightning-checkout-backend`) both depend on this crate, so a rule they share is one function
//! here and the fixtures in `fixtures/` are tested once, in this crate's tests:
//!
//! * [`wire`]: the JSON bodies of `POST /invoices` and `GET /invoices/{id}`, and the error body;
//!   what the widget checks in an answer before it relies on it ([`wire::Created`],
//!   [`wire::StatusReply`]);
//! * [`limits`]: amounts, description length, ids, expiry;
//! * [`order`]: the order-id rule and an order token's claims (the HMAC stays in the backend);
//! * [`fiat`]: a fiat price as text (currency code + decimal) and the answer's quote (the
//!   conversion stays in the backend);
//! * [`payurl`]: when a pay link is safe to show a payer;
//! * [`code`]: every error code, with its string;
//! * [`text`]: the two small text helpers both sides need (hex, a case-insensitive prefix).
//!
//! `no_std` with `alloc` and serde's derive only: nothing here may pull a formatter, a float
//! parser or `std::net` into the widget (each would cost the wasm kilobytes). Every public
//! function is `#[inline]`: then it is compiled in its caller's crate, with that crate's copies
//! of `core`'s small helpers (`char::is_whitespace`, UTF-8 decoding, `Vec` growth); compiled
//! here, LTO kept a second copy of each and the widget's wasm grew by 1.1 KB gzip.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub mod code;
pub mod fiat;
pub mod limits;
pub mod order;
pub mod payurl;
pub mod text;
pub mod wire;

pub use code::ErrorCode;
pub use fiat::{is_currency_code, split_decimal, FiatPrice, FiatQuote, MAX_FIAT_AMOUNT_LEN};
pub use limits::*;
pub use order::{is_order_id, is_widget_key, ClaimError, OrderClaims, TokenAmount};
pub use payurl::{is_loopback_host, pay_url_host, valid_pay_url, HttpUrl};
pub use text::{hex_encode, parse_hash_hex, strip_prefix_ignore_case};
pub use wire::*;
