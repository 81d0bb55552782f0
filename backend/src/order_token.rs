//! Signed orders: a JWT (RFC 7519) the shop's server signs with `CHECKOUT_SECRET` and the widget
//! carries to `POST /api/invoices` as `order_token`.
//!
//! * **HS256 only.** The algorithm is pinned here, never read from the token: a header whose `alg`
//!   is anything but `HS256` (`none`, `RS256`, `HS512` …) is refused before any signature work.
//!   A `crit` header is refused (we understand no extension). `typ`, if present, must be `JWT`.
//! * **Strict encoding.** Three base64url parts without padding, canonical (no stray trailing
//!   bits), at most [`MAX_TOKEN_LEN`] bytes; header and claims must be JSON objects.
//! * **Constant-time** HMAC-SHA256 comparison (`hmac`'s `verify_slice`).
//! * **Claims.** `order_id` (same rules as the request field, not starting with `wc_`: that prefix
//!   is the widget's own), either `amount_sat` or
//!   `min_sat` + `max_sat` (a payer-chosen amount), or `currency` + `fiat_amount` (a fiat price
//!   such as `"EUR"` + `"4.50"`, a string: no float ever carries money), `description` (optional, ≤ 639 bytes), `exp`
//!   (required), `iat` / `nbf` (optional, checked), `aud` (optional; if present it must be
//!   [`AUDIENCE`]). Other claims are ignored. [`LEEWAY_SECS`] of clock skew is allowed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::api::{MAX_DESCRIPTION_BYTES, MAX_ORDER_ID_CHARS};
use crate::config::Secret;

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Shortest `CHECKOUT_SECRET`, in bytes (RFC 8725: at least the hash size for HS256).
pub const MIN_SECRET_LEN: usize = 32;
/// Allowed clock skew between the shop's server and this one.
pub const LEEWAY_SECS: u64 = 60;
/// The `aud` value the CLI writes; a token carrying another audience is refused.
pub const AUDIENCE: &str = "lightning-checkout";

type HmacSha256 = Hmac<Sha256>;

/// The amount an order token states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// converted to sat by the backend at invoice time ([`crate::fiat`]).
    Fiat(crate::fiat::FiatAmount),
}

/// The verified claims of an order token.
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

/// Why a token was refused. The API maps these to `invalid_token` / `token_expired`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three strict base64url parts, too long, or not JSON objects.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm (or none), or a `crit` extension.
    #[error("algorithm not accepted: only HS256")]
    Algorithm,
    /// The signature does not match.
    #[error("bad signature")]
    Signature,
    /// A claim is missing or invalid.
    #[error("invalid claim: {0}")]
    Claim(&'static str),
    /// Past `exp`.
    #[error("expired")]
    Expired,
    /// `nbf` / `iat` in the future.
    #[error("not yet valid")]
    NotYetValid,
}

/// Check `secret` is usable as `CHECKOUT_SECRET`.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(format!(
            "must be at least {MIN_SECRET_LEN} bytes (e.g. `openssl rand -hex 32`)"
        ));
    }
    Ok(())
}

/// Verify `token` with `secret` at `now`; `max_amount_sat` bounds the stated amounts.
pub fn verify(
    token: &str,
    secret: &Secret,
    now: u64,
    max_amount_sat: u64,
) -> Result<OrderClaims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(c64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three parts"));
    };
    let header = json_object(h64)?;
    match header.get("alg") {
        Some(Value::String(a)) if a == "HS256" => {}
        _ => return Err(TokenError::Algorithm),
    }
    if header.contains_key("crit") {
        return Err(TokenError::Algorithm);
    }
    if let Some(t) = header.get("typ") {
        if !t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT")) {
            return Err(TokenError::Malformed("typ is not JWT"));
        }
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| TokenError::Malformed("signature is not base64url"))?;
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .map_err(|_| TokenError::Signature)?;
    mac.update(h64.as_bytes());
    mac.update(b".");
    mac.update(c64.as_bytes());
    mac.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
    let claims = json_object(c64)?;
    read_claims(&claims, now, max_amount_sat)
}

fn json_object(part: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed("a part is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::Malformed("a part is not a JSON object")),
    }
}

fn uint(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(TokenError::Claim(name)),
    }
}

fn read_claims(
    c: &Map<String, Value>,
    now: u64,
    max_amount_sat: u64,
) -> Result<OrderClaims, TokenError> {
    let exp = uint(c, "exp")?.ok_or(TokenError::Claim("exp"))?;
    if now >= exp.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::Expired);
    }
    let iat = uint(c, "iat")?;
    for t in [iat, uint(c, "nbf")?].into_iter().flatten() {
        if t > now.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(aud) = c.get("aud") {
        let ok = match aud {
            Value::String(s) => s == AUDIENCE,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(AUDIENCE)),
            _ => false,
        };
        if !ok {
            return Err(TokenError::Claim("aud"));
        }
    }
    let order_id = match c.get("order_id") {
        Some(Value::String(s)) if is_order_id(s) && !s.starts_with(WIDGET_KEY_PREFIX) => s.clone(),
        _ => return Err(TokenError::Claim("order_id")),
    };
    let description = match c.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.len() <= MAX_DESCRIPTION_BYTES => s.clone(),
        _ => return Err(TokenError::Claim("description")),
    };
    let in_bounds = |v: u64| (1..=max_amount_sat).contains(&v);
    let text = |name: &'static str| match c.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(TokenError::Claim(name)),
    };
    let fiat = match (text("currency")?, text("fiat_amount")?) {
        (None, None) => None,
        (Some(cur), Some(amount)) => Some(
            crate::fiat::FiatAmount::parse(cur, amount)
                .map_err(|_| TokenError::Claim("fiat_amount"))?,
        ),
        _ => return Err(TokenError::Claim("fiat_amount")),
    };
    let amount = match (
        fiat,
        uint(c, "amount_sat")?,
        uint(c, "min_sat")?,
        uint(c, "max_sat")?,
    ) {
        (Some(f), None, None, None) => TokenAmount::Fiat(f),
        (Some(_), ..) => return Err(TokenError::Claim("fiat_amount")),
        (None, Some(a), None, None) if in_bounds(a) => TokenAmount::Exact(a),
        (None, None, Some(min_sat), Some(max_sat))
            if in_bounds(min_sat) && in_bounds(max_sat) && min_sat <= max_sat =>
        {
            TokenAmount::Range { min_sat, max_sat }
        }
        _ => return Err(TokenError::Claim("amount_sat")),
    };
    Ok(OrderClaims {
        order_id,
        amount,
        description,
        exp,
        iat,
    })
}

/// Prefix of the ids the widget makes for a checkout the shop did not name (`wc_` + 24 hex
/// digits): idempotency keys of unsigned checkouts, never shop order ids.
pub const WIDGET_KEY_PREFIX: &str = "wc_";

/// Whether `s` is a widget-made id (`wc_` + 24 lower-case hex digits). Unsigned creates may carry
/// one under a real provider: it names no shop order, only the payer's own retry.
pub fn is_widget_key(s: &str) -> bool {
    s.strip_prefix(WIDGET_KEY_PREFIX)
        .is_some_and(|h| h.len() == 24 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The `order_id` rule shared with the request field: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
pub fn is_order_id(s: &str) -> bool {
    (1..=MAX_ORDER_ID_CHARS).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Sign an order token (HS256) for `claims`; what `sign-order` and the demo's dev route print.
pub fn sign(claims: &OrderClaims, secret: &Secret) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let mut body = serde_json::json!({
        "aud": AUDIENCE,
        "order_id": claims.order_id,
        "exp": claims.exp,
    });
    if let Some(iat) = claims.iat {
        body["iat"] = iat.into();
    }
    if !claims.description.is_empty() {
        body["description"] = claims.description.clone().into();
    }
    match claims.amount {
        TokenAmount::Exact(a) => body["amount_sat"] = a.into(),
        TokenAmount::Range { min_sat, max_sat } => {
            body["min_sat"] = min_sat.into();
            body["max_sat"] = max_sat.into();
        }
        TokenAmount::Fiat(f) => {
            body["currency"] = f.currency.code().into();
            body["fiat_amount"] = f.amount_string().into();
        }
    }
    let payload = URL_SAFE_NO_PAD.encode(body.to_string());
    let signing_input = format!("{header}.{payload}");
    // HMAC accepts a key of any length.
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}
