//! PURE: the backend JSON contract (see `fixtures/` and the README). It lives in the
//! `lightning-checkout-contract` crate (`contract/`), which the backend shares, so each rule is
//! written once; this module keeps the widget's names for it.
//!
//! Bodies arrive as the browser's `JSON.parse` objects, read field by field in `api.rs`;
//! [`Created::from_wire`] and [`StatusReply::check`] turn them into types that prove the fields
//! the widget relies on are well formed (ids safe to put in a URL, hashes of the right length,
//! links safe to open). Nothing else in the widget ever touches a raw string from the network.

pub use lightning_checkout_contract::wire::{
    clean_message, valid_id, valid_onchain_address, ContractError, CreateRequest, Created,
    ErrorBody, OnchainSeen, Payable, Status, StatusReply, StatusResponse,
};
pub use lightning_checkout_contract::{
    hex_encode, valid_pay_url, CreateResponse as CreatedWire, ErrorResponse as ErrorWire,
    FiatPrice, FiatQuote, MAX_ID_LEN, MAX_MESSAGE_LEN, MAX_PAY_URL_LEN,
};
