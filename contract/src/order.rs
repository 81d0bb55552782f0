//! Orders: the order-id rule and what a signed order (an order token) may claim.
//!
//! The shop's server signs the claims (a JWT, HS256); the widget reads them to show the amount
//! and description, the backend verifies the signature (`backend/src/order_token.rs`, which keeps
//! the crypto) and then applies the checks here, so both read an order the same way.

use alloc::string::String;

use crate::fiat::FiatPrice;
use crate::limits::{MAX_DESCRIPTION_BYTES, MAX_ORDER_ID_LEN, MIN_AMOUNT_SAT};

/// Prefix of the ids the widget makes for a checkout the shop did not name (`wc_` + 24 hex
/// digits): idempotency keys of unsigned checkouts, never shop order ids.
pub const WIDGET_KEY_PREFIX: &str = "wc_";
/// Clock skew allowed between the shop's server (which stamps `exp`, `iat`, `nbf`) and ours.
pub const LEEWAY_SECS: u64 = 60;
/// The `aud` value the backend's signer writes; a token carrying another audience is refused.
pub const AUDIENCE: &str = "lightning-checkout";

/// The `order_id` rule (request field, `order-id` attribute, token claim): 1 to
/// [`MAX_ORDER_ID_LEN`] of `A-Z a-z 0-9 . _ : -`, which is safe in a URL, a log line and a
/// provider's reference field without escaping.
#[inline]
pub fn is_order_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ORDER_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Whether `s` is a widget-made id (`wc_` + 24 lower-case hex digits). Unsigned creates may carry
/// one under a real provider: it names no shop order, only the payer's own retry.
#[inline]
pub fn is_widget_key(s: &str) -> bool {
    s.strip_prefix(WIDGET_KEY_PREFIX)
        .is_some_and(|h| h.len() == 24 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The amount an order token states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAmount {
    /// Exactly this many sat.
    Exact(u64),
    /// The payer chooses, within these bounds (inclusive).
    Range {
        /// Smallest.
        min_sat: u64,
        /// Largest.
        max_sat: u64,
    },
    /// A fiat price (claims `currency` + `fiat_amount`, a decimal string such as `"4.50"`),
    /// converted to sat by the backend at invoice time (which also decides whether it takes the
    /// currency and its decimals).
    Fiat(FiatPrice),
}

impl TokenAmount {
    /// The amount claimed by `amount_sat` alone, or by `min_sat` with `max_sat` (never both
    /// forms), each from 1 to `max_amount_sat` and `min_sat <= max_sat`.
    #[inline]
    pub fn from_claims(
        amount_sat: Option<u64>,
        min_sat: Option<u64>,
        max_sat: Option<u64>,
        max_amount_sat: u64,
    ) -> Result<TokenAmount, ClaimError> {
        let in_bounds = |v: u64| (MIN_AMOUNT_SAT..=max_amount_sat).contains(&v);
        match (amount_sat, min_sat, max_sat) {
            (Some(a), None, None) if in_bounds(a) => Ok(TokenAmount::Exact(a)),
            (None, Some(min_sat), Some(max_sat))
                if in_bounds(min_sat) && in_bounds(max_sat) && min_sat <= max_sat =>
            {
                Ok(TokenAmount::Range { min_sat, max_sat })
            }
            _ => Err(ClaimError::Claim("amount_sat")),
        }
    }

    /// As [`Self::from_claims`], or a fiat price: `currency` with `fiat_amount` (both, well
    /// formed by [`FiatPrice::parse`], and none of the sat claims beside them).
    #[inline]
    pub fn from_claims_with_fiat(
        currency: Option<&str>,
        fiat_amount: Option<&str>,
        amount_sat: Option<u64>,
        min_sat: Option<u64>,
        max_sat: Option<u64>,
        max_amount_sat: u64,
    ) -> Result<TokenAmount, ClaimError> {
        match (currency, fiat_amount) {
            (None, None) => TokenAmount::from_claims(amount_sat, min_sat, max_sat, max_amount_sat),
            (Some(c), Some(a))
                if amount_sat.is_none() && min_sat.is_none() && max_sat.is_none() =>
            {
                FiatPrice::parse(c, a)
                    .map(TokenAmount::Fiat)
                    .ok_or(ClaimError::Claim("fiat_amount"))
            }
            _ => Err(ClaimError::Claim("fiat_amount")),
        }
    }
}

/// The checked claims of an order token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderClaims {
    /// The shop's order id.
    pub order_id: String,
    /// What is to be paid.
    pub amount: TokenAmount,
    /// The description (BOLT 11 `d`), possibly empty.
    pub description: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds, if stated.
    pub iat: Option<u64>,
}

/// Why a token's claims are refused (the backend answers `token_expired` for [`Self::Expired`],
/// `invalid_token` for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    /// The named claim is missing or breaks its rule.
    Claim(&'static str),
    /// Past `exp` (plus [`LEEWAY_SECS`]).
    Expired,
    /// `nbf` or `iat` later than now (plus [`LEEWAY_SECS`]).
    NotYetValid,
}

impl OrderClaims {
    /// The time claims at `now` (Unix seconds): `exp` is required, `iat` and `nbf` optional, each
    /// with [`LEEWAY_SECS`] of skew.
    #[inline]
    pub fn check_times(
        exp: Option<u64>,
        iat: Option<u64>,
        nbf: Option<u64>,
        now: u64,
    ) -> Result<(), ClaimError> {
        let exp = exp.ok_or(ClaimError::Claim("exp"))?;
        if now >= exp.saturating_add(LEEWAY_SECS) {
            return Err(ClaimError::Expired);
        }
        if [iat, nbf]
            .into_iter()
            .flatten()
            .any(|t| t > now.saturating_add(LEEWAY_SECS))
        {
            return Err(ClaimError::NotYetValid);
        }
        Ok(())
    }

    /// An order id a shop may sign: [`is_order_id`], and not a widget-made id (`wc_…`).
    #[inline]
    pub fn check_order_id(order_id: Option<&str>) -> Result<String, ClaimError> {
        match order_id {
            Some(s) if is_order_id(s) && !s.starts_with(WIDGET_KEY_PREFIX) => Ok(String::from(s)),
            _ => Err(ClaimError::Claim("order_id")),
        }
    }

    /// An optional description of at most [`MAX_DESCRIPTION_BYTES`]; absent is empty.
    #[inline]
    pub fn check_description(description: Option<&str>) -> Result<String, ClaimError> {
        match description {
            None => Ok(String::new()),
            Some(s) if s.len() <= MAX_DESCRIPTION_BYTES => Ok(String::from(s)),
            Some(_) => Err(ClaimError::Claim("description")),
        }
    }
}
