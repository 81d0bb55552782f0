//! PURE: the backend JSON contract (see `fixtures/` and the README), parsed then validated.
//!
//! Bodies arrive as untrusted wire structs (`*Wire`); [`Created::from_wire`] and
//! [`StatusReply::from_wire`] turn them into types that prove the fields the widget relies on
//! are well formed (ids safe to put in a URL, hashes of the right length, links of a safe
//! scheme). Nothing else in the widget ever touches a raw string from the network.

use serde::{Deserialize, Serialize};

use crate::invoice::parse_hash_hex;

/// Longest invoice id the widget accepts from a backend (it goes into a URL path).
pub const MAX_ID_LEN: usize = 128;
/// Longest pay link (Kraken Pay's `view_link`) the widget accepts and draws as a QR code.
pub const MAX_PAY_URL_LEN: usize = 2048;
/// Longest backend error message shown to the payer; longer ones are cut at a character boundary.
pub const MAX_MESSAGE_LEN: usize = 200;

/// `POST {endpoint}/invoices` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// Whole satoshis, already checked against the widget's bounds.
    pub amount_sat: u64,
    /// What the payer buys; the backend puts it into the invoice's `d` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The shop's order id, or one the widget made for this checkout attempt (`wc_…`), so that a
    /// retried request after a lost answer returns the same invoice instead of a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Requested invoice lifetime in seconds; the backend bounds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_secs: Option<u32>,
    /// A fiat price, sent as `currency` + `fiat_amount` instead of `amount_sat`.
    #[serde(default, skip)]
    pub fiat: Option<crate::fiat::FiatPrice>,
    /// Ask for an on-chain address too (sent as `unified: true`).
    #[serde(default, skip)]
    pub unified: bool,
}

/// `201`/`200` answer to a create, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWire {
    /// Backend's invoice id.
    pub id: String,
    /// BOLT 11 invoice; `null` for pay-link providers.
    #[serde(default)]
    pub payment_request: Option<String>,
    /// Link to a hosted payment page (pay-link providers such as Kraken Pay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    /// Hex payment hash of the BOLT 11 invoice.
    #[serde(default)]
    pub payment_hash: Option<String>,
    /// Amount the backend says it invoiced.
    pub amount_sat: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Always `pending` for a usable invoice.
    pub status: String,
    /// A fiat-priced invoice's price (`currency`, `amount`; the rate fields are not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiat: Option<crate::fiat::FiatPrice>,
    /// A unified invoice's on-chain address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain_address: Option<String>,
}

/// `GET {endpoint}/invoices/{id}` answer, as sent (extra fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusWire {
    /// Backend's invoice id.
    pub id: String,
    /// `pending`, `paid` or `expired`.
    pub status: String,
    /// Hex preimage, when the backend knows it.
    #[serde(default)]
    pub preimage: Option<String>,
    /// An on-chain payment seen: `(confirmations, required)`.
    #[serde(default, skip)]
    pub onchain: Option<(u64, u64)>,
}

/// `{"error": {"code", "message"}}` of every 4xx/5xx.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorWire {
    /// The error.
    pub error: ErrorBody,
}

/// Body of [`ErrorWire`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `amount_too_large`.
    pub code: String,
    /// One sentence for people.
    pub message: String,
}

/// What a created invoice asks the payer to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payable {
    /// A BOLT 11 invoice, still unchecked here (see [`crate::invoice::check_invoice`]).
    Bolt11 {
        /// The invoice string as sent.
        payment_request: String,
        /// The payment hash the backend claims for it.
        payment_hash: [u8; 32],
    },
    /// A pay link (`https:` only, `http:` only for loopback test hosts).
    Link {
        /// The link.
        url: String,
    },
}

/// A validated create answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Backend's invoice id, safe to put into a URL path.
    pub id: String,
    /// What to pay.
    pub payable: Payable,
    /// Amount the backend says it invoiced.
    pub amount_sat: u64,
    /// Unix seconds (the BOLT 11 invoice's own expiry wins for a BOLT 11 payable).
    pub expires_at: u64,
    /// The fiat price the backend converted, if any (well formed, else dropped).
    pub fiat: Option<crate::fiat::FiatPrice>,
    /// A unified invoice's on-chain address (well formed, else dropped).
    pub onchain_address: Option<String>,
}

/// Status of an invoice as the backend reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not paid yet.
    Pending,
    /// Settled.
    Paid,
    /// Past its expiry, unpaid.
    Expired,
}

/// A validated status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReply {
    /// Backend's invoice id.
    pub id: String,
    /// The status.
    pub status: Status,
    /// Hex preimage (64 hex chars) when the backend gave one; anything else is dropped.
    pub preimage: Option<String>,
    /// An on-chain payment seen to a unified invoice's address: `(confirmations, required)`.
    pub onchain: Option<(u64, u64)>,
}

/// Why a backend answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractError {
    /// The id is empty, too long or has characters outside `[A-Za-z0-9._~-]`.
    BadId,
    /// `status` is not one the contract defines.
    BadStatus,
    /// Neither a usable `payment_request` with its `payment_hash`, nor a safe `pay_url`.
    NoPayable,
    /// `payment_hash` is not 64 hex characters.
    BadHash,
    /// `pay_url` is not an `https:` link.
    BadPayUrl,
    /// The answer is for another invoice than the one asked about.
    WrongId,
}

/// Is `id` safe to use as one URL path segment without encoding?
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
        && id != "."
        && id != ".."
}

/// Is `url` a link the widget may show and open: `https://host…`, or `http://` to a loopback
/// host written as such (`localhost` exactly, an IPv4 literal in `127.0.0.0/8`, `[::1]`; never
/// `127.attacker.example`)? No credentials, no whitespace or control characters. The same
/// scheme and loopback rules as the backend's `payurl` module, which also pins the host to the
/// provider's.
pub fn valid_pay_url(url: &str) -> bool {
    if url.len() > MAX_PAY_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let (https, rest) = if let Some(r) = strip_prefix_ignore_case(url, "https://") {
        (true, r)
    } else if let Some(r) = strip_prefix_ignore_case(url, "http://") {
        (false, r)
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return false;
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], &authority[end + 1..]),
            None => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, _)) => (h, &authority[h.len()..]),
            None => (authority, ""),
        }
    };
    let port_ok = port.is_empty()
        || (port.len() > 1 && port.len() <= 6 && port[1..].bytes().all(|b| b.is_ascii_digit()));
    !host.is_empty() && port_ok && (https || is_loopback_host(host))
}

/// `localhost` exactly, an IPv4 literal in `127.0.0.0/8` (four decimal octets), or `[::1]`.
/// Written out rather than with `core::net`'s parsers, which would cost the wasm ~1.5 KB.
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    let octet = |p: &str| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.bytes().fold(0u32, |v, b| v * 10 + u32::from(b - b'0')) <= 255
    };
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| octet(p))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

impl Created {
    /// Validates a create answer.
    pub fn from_wire(w: CreatedWire) -> Result<Created, ContractError> {
        if !valid_id(&w.id) {
            return Err(ContractError::BadId);
        }
        if w.status != "pending" {
            return Err(ContractError::BadStatus);
        }
        let payable = match (w.payment_request, w.pay_url) {
            (Some(pr), _) if !pr.trim().is_empty() => {
                let hash = w.payment_hash.ok_or(ContractError::BadHash)?;
                let payment_hash = parse_hash_hex(&hash).ok_or(ContractError::BadHash)?;
                Payable::Bolt11 {
                    payment_request: pr,
                    payment_hash,
                }
            }
            (_, Some(url)) => {
                if !valid_pay_url(&url) {
                    return Err(ContractError::BadPayUrl);
                }
                Payable::Link { url }
            }
            _ => return Err(ContractError::NoPayable),
        };
        Ok(Created {
            id: w.id,
            payable,
            amount_sat: w.amount_sat,
            expires_at: w.expires_at,
            fiat: w
                .fiat
                .and_then(|f| crate::fiat::FiatPrice::parse(&f.currency, &f.amount)),
            onchain_address: w
                .onchain_address
                .filter(|a| crate::unified::valid_address(a)),
        })
    }

    /// Back to the wire form (what the widget keeps in `sessionStorage` across a reload).
    pub fn to_wire(&self) -> CreatedWire {
        let (payment_request, payment_hash, pay_url) = match &self.payable {
            Payable::Bolt11 {
                payment_request,
                payment_hash,
            } => (
                Some(payment_request.clone()),
                Some(hex_encode(payment_hash)),
                None,
            ),
            Payable::Link { url } => (None, None, Some(url.clone())),
        };
        CreatedWire {
            id: self.id.clone(),
            payment_request,
            pay_url,
            payment_hash,
            amount_sat: self.amount_sat,
            expires_at: self.expires_at,
            status: String::from("pending"),
            fiat: self.fiat.clone(),
            onchain_address: self.onchain_address.clone(),
        }
    }
}

impl StatusReply {
    /// Validates a status answer for invoice `expected_id`.
    pub fn from_wire(w: StatusWire, expected_id: &str) -> Result<StatusReply, ContractError> {
        if w.id != expected_id {
            return Err(ContractError::WrongId);
        }
        let status = match w.status.as_str() {
            "pending" => Status::Pending,
            "paid" => Status::Paid,
            "expired" => Status::Expired,
            _ => return Err(ContractError::BadStatus),
        };
        let preimage = w
            .preimage
            .filter(|p| p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|p| p.to_ascii_lowercase());
        Ok(StatusReply {
            id: w.id,
            status,
            preimage,
            onchain: w.onchain,
        })
    }
}

/// Cuts a backend-supplied message to [`MAX_MESSAGE_LEN`] bytes at a character boundary and
/// drops control characters; the view renders it as text, never as HTML.
pub fn clean_message(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_control() {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_MESSAGE_LEN {
            out.push('…');
            break;
        }
        out.push(c);
    }
    String::from(out.trim())
}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}
