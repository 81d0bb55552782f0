//! PURE: the widget's configuration, from element attributes or `mount()` options.
//!
//! Attributes are strings; [`parse`] checks them all and gives one sentence naming the
//! attribute for the first bad one. A misconfigured widget shows that sentence (it is a shop
//! developer's mistake, not the payer's) and requests nothing.

use crate::amount::{parse_amount_sat, Bounds, DEFAULT_MAX_SAT, DEFAULT_MIN_SAT};
use crate::invoice::Network;
use crate::state::Options;

pub use lightning_checkout_contract::{MAX_DESCRIPTION_BYTES, MAX_EXPIRY_SECS, MAX_ORDER_ID_LEN};

/// The attributes as given (absent = None). Numbers arrive as decimal strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOptions {
    /// `endpoint`
    pub endpoint: Option<String>,
    /// `amount-sat`
    pub amount_sat: Option<String>,
    /// `min-sat`
    pub min_sat: Option<String>,
    /// `max-sat`
    pub max_sat: Option<String>,
    /// `description`
    pub description: Option<String>,
    /// `order-id`
    pub order_id: Option<String>,
    /// `expiry-secs`
    pub expiry_secs: Option<String>,
    /// `network`
    pub network: Option<String>,
    /// `order-token`: the shop's signed order (a JWT; only the backend checks its signature).
    pub order_token: Option<String>,
    /// The token's claims as read by `embed.rs`; `None` with a token = unreadable.
    pub token_claims: Option<TokenClaims>,
    /// `currency`: a fiat price's ISO 4217 code (with `fiat-amount`).
    pub currency: Option<String>,
    /// `fiat-amount`: a fiat price as decimal text, converted by the backend.
    pub fiat_amount: Option<String>,
    /// `unified`: present (and not `false`) for a unified BIP21 QR where the backend gives an
    /// on-chain address.
    pub unified: Option<String>,
}

/// What an order token states (read, not verified: the backend verifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenClaims {
    /// `order_id`
    pub order_id: Option<String>,
    /// `amount_sat`, as decimal text
    pub amount_sat: Option<String>,
    /// `min_sat`, as decimal text
    pub min_sat: Option<String>,
    /// `max_sat`, as decimal text
    pub max_sat: Option<String>,
    /// `description`
    pub description: Option<String>,
    /// `currency` (a fiat price)
    pub currency: Option<String>,
    /// `fiat_amount` (a fiat price, decimal text)
    pub fiat_amount: Option<String>,
}

/// A checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Backend base URL without a trailing slash, e.g. `/api` or `https://shop.example/api`.
    pub endpoint: String,
    /// The state machine's options.
    pub options: Options,
    /// Sent as `order_token` with every create.
    pub order_token: Option<String>,
}

/// With an `order-token`, its claims replace the amount, bounds, description and order id; an
/// attribute that states something else is a setup error (the backend would refuse it anyway).
fn apply_token(raw: &RawOptions) -> Result<RawOptions, String> {
    const UNREADABLE: &str = "The checkout is not set up: order-token is not a readable order token with an order id and an amount.";
    const DIFFERS: &str = "The checkout is not set up: an attribute (order-id, amount-sat, min-sat, max-sat, currency, fiat-amount or description) differs from the order token's.";
    let mut out = raw.clone();
    let Some(token) = raw
        .order_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(out);
    };
    let c = match &raw.token_claims {
        Some(c)
            if c.order_id.is_some()
                && (c.amount_sat.is_some()
                    || (c.min_sat.is_some() && c.max_sat.is_some())
                    || (c.currency.is_some() && c.fiat_amount.is_some())) =>
        {
            c
        }
        _ => return Err(String::from(UNREADABLE)),
    };
    out.order_token = Some(String::from(token));
    for (attr, claim) in [
        (&mut out.order_id, &c.order_id),
        (&mut out.amount_sat, &c.amount_sat),
        (&mut out.min_sat, &c.min_sat),
        (&mut out.max_sat, &c.max_sat),
        (&mut out.description, &c.description),
        (&mut out.currency, &c.currency),
        (&mut out.fiat_amount, &c.fiat_amount),
    ] {
        let given = attr.as_deref().map(str::trim).filter(|v| !v.is_empty());
        if given.is_some() && given != claim.as_deref() {
            return Err(String::from(DIFFERS));
        }
        attr.clone_from(claim);
    }
    Ok(out)
}

/// Checks every attribute; the error is one sentence for the shop's developer.
pub fn parse(raw: &RawOptions) -> Result<Config, String> {
    let raw = &apply_token(raw)?;
    let endpoint = match raw.endpoint.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(String::from(
                "The checkout is not set up: add endpoint=\"/api\" (your backend's URL) to <lightning-checkout>.",
            ))
        }
        Some(e) => e.trim_end_matches('/'),
    };
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        || !(endpoint.starts_with('/')
            || endpoint.starts_with("https://")
            || endpoint.starts_with("http://"))
        || endpoint.starts_with("//")
    {
        return Err(format!(
            "The checkout is not set up: endpoint must be a path such as /api or an http(s) URL, not \"{}\".",
            shorten(endpoint)
        ));
    }
    let whole = |name: &str, v: &Option<String>| -> Result<Option<u64>, String> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "The checkout is not set up: {name} must be a whole number above 0, not \"{}\".",
                        shorten(s)
                    )
                }),
        }
    };
    let min = whole("min-sat", &raw.min_sat)?.unwrap_or(DEFAULT_MIN_SAT);
    let max = whole("max-sat", &raw.max_sat)?.unwrap_or(DEFAULT_MAX_SAT);
    let bounds = Bounds::new(min, max).map_err(|_| {
        format!("The checkout is not set up: min-sat ({min}) must not be above max-sat ({max}).")
    })?;
    let fixed_amount_sat = match raw.amount_sat.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(parse_amount_sat(s, bounds).map_err(|e| {
            format!(
                "The checkout is not set up: amount-sat \"{}\" is not usable. {}",
                shorten(s),
                e.message()
            )
        })?),
    };
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let fiat = match (trimmed(&raw.currency), trimmed(&raw.fiat_amount)) {
        (None, None) => None,
        (Some(c), Some(a)) if fixed_amount_sat.is_none() => {
            Some(crate::fiat::FiatPrice::parse(&c, &a).ok_or_else(|| {
                format!(
                    "The checkout is not set up: currency and fiat-amount must be a code such as EUR and a decimal such as 4.50, not \"{}\" \"{}\".",
                    shorten(&c),
                    shorten(&a)
                )
            })?)
        }
        (Some(_), Some(_)) => {
            return Err(String::from(
                "The checkout is not set up: give amount-sat or a fiat price (currency and fiat-amount), not both.",
            ))
        }
        _ => {
            return Err(String::from(
                "The checkout is not set up: a fiat price needs both currency and fiat-amount.",
            ))
        }
    };
    let network = match raw.network.as_deref().map(str::trim) {
        None | Some("") => Network::Bitcoin,
        Some(s) => Network::parse(s).ok_or_else(|| {
            format!(
                "The checkout is not set up: network must be bitcoin, testnet, signet or regtest, not \"{}\".",
                shorten(s)
            )
        })?,
    };
    let description = match raw.description.as_deref() {
        None | Some("") => None,
        Some(d) if d.len() > MAX_DESCRIPTION_BYTES => {
            return Err(format!(
                "The checkout is not set up: description is {} bytes long; a Lightning invoice holds at most {MAX_DESCRIPTION_BYTES}.",
                d.len()
            ))
        }
        Some(d) => Some(String::from(d)),
    };
    let order_id = match raw.order_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(o) if lightning_checkout_contract::is_order_id(o) => Some(String::from(o)),
        Some(o) => {
            return Err(format!(
                "The checkout is not set up: order-id must be 1 to {MAX_ORDER_ID_LEN} letters, digits or . _ : -, not \"{}\".",
                shorten(o)
            ))
        }
    };
    let expiry_secs = match whole("expiry-secs", &raw.expiry_secs)? {
        None => None,
        Some(s) if s <= u64::from(MAX_EXPIRY_SECS) => u32::try_from(s).ok(),
        Some(_) => {
            return Err(format!(
            "The checkout is not set up: expiry-secs must be at most {MAX_EXPIRY_SECS} (one day)."
        ))
        }
    };
    Ok(Config {
        endpoint: String::from(endpoint),
        options: Options {
            fixed_amount_sat,
            bounds,
            network,
            description,
            order_id,
            expiry_secs,
            fiat,
            unified: raw
                .unified
                .as_deref()
                .is_some_and(|u| !u.trim().eq_ignore_ascii_case("false")),
        },
        order_token: raw.order_token.clone(),
    })
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}
