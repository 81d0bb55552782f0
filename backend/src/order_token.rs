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

use crate::config::Secret;

// The claims and their checks are the contract's (`contract/src/order.rs`), shared with the
// widget; the JWT encoding and the HMAC stay here.
pub use lightning_checkout_contract::order::{
    is_order_id, is_widget_key, ClaimError, OrderClaims, TokenAmount, AUDIENCE, LEEWAY_SECS,
    WIDGET_KEY_PREFIX,
};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Shortest `CHECKOUT_SECRET`, in bytes (RFC 8725: at least the hash size for HS256).
pub const MIN_SECRET_LEN: usize = 32;
type HmacSha256 = Hmac<Sha256>;

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

impl From<ClaimError> for TokenError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::Claim(name) => TokenError::Claim(name),
            ClaimError::Expired => TokenError::Expired,
            ClaimError::NotYetValid => TokenError::NotYetValid,
        }
    }
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
    let (exp, iat) = (uint(c, "exp")?, uint(c, "iat")?);
    OrderClaims::check_times(exp, iat, uint(c, "nbf")?, now)?;
    let exp = exp.unwrap_or_default(); // check_times refused a token without one
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
    let text = |name: &'static str| match c.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(TokenError::Claim(name)),
    };
    let order_id = OrderClaims::check_order_id(text("order_id")?)?;
    let description = OrderClaims::check_description(text("description")?)?;
    let amount = TokenAmount::from_claims_with_fiat(
        text("currency")?,
        text("fiat_amount")?,
        uint(c, "amount_sat")?,
        uint(c, "min_sat")?,
        uint(c, "max_sat")?,
        max_amount_sat,
    )?;
    // The shape is the contract's; which currencies and how many decimals, this backend's.
    if let TokenAmount::Fiat(f) = &amount {
        crate::fiat::FiatAmount::parse(&f.currency, &f.amount)
            .map_err(|_| TokenError::Claim("fiat_amount"))?;
    }
    Ok(OrderClaims {
        order_id,
        amount,
        description,
        exp,
        iat,
    })
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
    match &claims.amount {
        TokenAmount::Exact(a) => body["amount_sat"] = (*a).into(),
        TokenAmount::Range { min_sat, max_sat } => {
            body["min_sat"] = (*min_sat).into();
            body["max_sat"] = (*max_sat).into();
        }
        TokenAmount::Fiat(f) => {
            body["currency"] = f.currency.clone().into();
            body["fiat_amount"] = f.amount.clone().into();
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
