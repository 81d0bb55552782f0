//! The JSON bodies of the contract (see `fixtures/` and the README's "The backend contract"),
//! and what the widget proves about an answer before it relies on it.
//!
//! The backend serialises these types; the widget reads the same fields from the browser's own
//! `JSON.parse` (no serde parser in the wasm) and hands them to [`Created::from_wire`] and
//! [`StatusReply::check`], which turn them into types whose fields are known to be well formed
//! (ids safe in a URL, hashes of the right length, links safe to open).

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::fiat::{FiatPrice, FiatQuote};
use crate::limits::{MAX_ID_LEN, MAX_MESSAGE_LEN};
use crate::payurl::valid_pay_url;
use crate::text::{hex_encode, parse_hash_hex};

/// `POST {endpoint}/invoices` request body. Unknown fields are refused (`unknown_field`): a
/// misspelt `expiry_sec` must not silently give the default lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// Whole satoshis.
    pub amount_sat: u64,
    /// What the payer buys; it becomes the invoice's `d` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The shop's order id, or one the widget made for this checkout attempt (`wc_…`), so that a
    /// retried request after a lost answer returns the same invoice instead of a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Requested invoice lifetime in seconds; the backend bounds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_secs: Option<u32>,
    /// The shop's signed order (a JWT); with it, order id, amount and description are the
    /// token's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_token: Option<String>,
    /// A fiat price's ISO 4217 currency (with `fiat_amount`, instead of `amount_sat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// A fiat price as a decimal string (`"4.50"`), converted by the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiat_amount: Option<String>,
    /// Ask for an on-chain address too (a unified BIP21 QR), where the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified: Option<bool>,
}

/// `201`/`200` answer to a create (also what the widget keeps in `sessionStorage` to show the
/// same invoice after a reload, without `server_time`).
///
/// It repeats five of [`StatusResponse`]'s fields (`payment_request` … `expires_at`) on purpose:
/// here they are the invoice and `amount_sat` / `expires_at` are required, while a status answer
/// may leave them all out (`fixtures/status_*.json` have none), so one shared struct would make one
/// answer's rule wrong. A shared struct under `#[serde(flatten)]` was measured too: the same
/// wasm (182,128 bytes; the widget reads these fields through `Reflect`, never serde), 8 bytes
/// more gzip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateResponse {
    /// The backend's invoice id.
    pub id: String,
    /// BOLT 11 invoice; `null` for pay-link providers.
    #[serde(default)]
    pub payment_request: Option<String>,
    /// Link to a hosted payment page (pay-link providers such as Kraken Pay); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    /// Hex payment hash; `null` when the provider has none.
    #[serde(default)]
    pub payment_hash: Option<String>,
    /// Amount invoiced.
    pub amount_sat: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Always `pending` for a usable invoice.
    pub status: String,
    /// A unified invoice's on-chain address (for `bitcoin:ADDRESS?amount=…&lightning=…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain_address: Option<String>,
    /// A fiat-priced invoice: its price, and the rate, source and time of the conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiat: Option<FiatQuote>,
    /// The backend's clock when it answered, Unix milliseconds: the widget measures the payer's
    /// clock against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<u64>,
}

/// `GET {endpoint}/invoices/{id}` answer. The widget reads `id`, `status` and `preimage`; the
/// invoice's own fields come too, so a page reloaded with only the id could show it again.
/// Those five fields are [`CreateResponse`]'s, but optional here (defaulted when absent): not one
/// shared struct, see there why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// The backend's invoice id.
    pub id: String,
    /// `pending`, `paid` or `expired`.
    pub status: String,
    /// Hex preimage, only when paid and known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preimage: Option<String>,
    /// BOLT 11 invoice; `null` for a pay-link provider.
    #[serde(default)]
    pub payment_request: Option<String>,
    /// Pay link; absent for BOLT 11 providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    /// Hex payment hash.
    #[serde(default)]
    pub payment_hash: Option<String>,
    /// Amount invoiced.
    #[serde(default)]
    pub amount_sat: u64,
    /// Unix seconds.
    #[serde(default)]
    pub expires_at: u64,
    /// Unix seconds, only when paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<u64>,
    /// A unified invoice's on-chain address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain_address: Option<String>,
    /// An on-chain payment seen to that address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain: Option<OnchainSeen>,
    /// A fiat-priced invoice: its price, and the rate, source and time of the conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiat: Option<FiatQuote>,
    /// The backend's clock when it answered, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<u64>,
}

/// An on-chain payment seen to a unified invoice's address: its confirmations and the shop's
/// count (`ONCHAIN_CONFIRMATIONS`) at which the invoice is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnchainSeen {
    /// Confirmations so far (0: in the mempool).
    pub confirmations: u32,
    /// Confirmations that make the invoice paid.
    pub required: u32,
}

/// `{"error": {"code", "message"}}`, the body of every 4xx/5xx.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong: a code to branch on and a sentence to show.
    pub error: ErrorBody,
}

/// Body of [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `amount_too_large` ([`crate::ErrorCode`]).
    pub code: String,
    /// One sentence for people.
    pub message: String,
}

/// What a created invoice asks the payer to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payable {
    /// A BOLT 11 invoice, still unchecked here (the widget decodes and checks it).
    Bolt11 {
        /// The invoice string as sent.
        payment_request: String,
        /// The payment hash the backend claims for it.
        payment_hash: [u8; 32],
    },
    /// A pay link, safe to open ([`valid_pay_url`]).
    Link {
        /// The link as sent; [`valid_pay_url`] holds for it.
        url: String,
    },
}

/// A checked create answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The backend's invoice id, safe to put into a URL path.
    pub id: String,
    /// What to pay.
    pub payable: Payable,
    /// Amount the backend says it invoiced.
    pub amount_sat: u64,
    /// Unix seconds (the BOLT 11 invoice's own expiry wins for a BOLT 11 payable).
    pub expires_at: u64,
    /// The fiat price the backend converted, if any (well formed, else dropped).
    pub fiat: Option<FiatPrice>,
    /// A unified invoice's on-chain address ([`valid_onchain_address`], else dropped).
    pub onchain_address: Option<String>,
}

/// Status of an invoice. The backend's store keeps this same type, with [`Status::as_str`] as
/// its database text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not paid yet.
    Pending,
    /// Settled.
    Paid,
    /// Past its expiry, unpaid.
    Expired,
}

impl Status {
    /// The status as sent.
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Expired => "expired",
        }
    }

    /// The status `s` names, if it is one of the contract's.
    #[inline]
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "paid" => Some(Status::Paid),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }
}

/// A checked status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReply {
    /// The backend's invoice id.
    pub id: String,
    /// The status, one the contract defines (anything else refused the answer).
    pub status: Status,
    /// Hex preimage (64 lower-case hex characters) when the backend gave one; anything else is
    /// dropped, not trusted.
    pub preimage: Option<String>,
    /// An on-chain payment seen to a unified invoice's address ([`StatusResponse::onchain`]).
    pub onchain: Option<OnchainSeen>,
}

/// Why a backend answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractError {
    /// The id is empty, too long or has characters outside `[A-Za-z0-9._~-]`.
    BadId,
    /// `status` is not one the contract defines (or not `pending` for a create).
    BadStatus,
    /// Neither a usable `payment_request` with its `payment_hash`, nor a `pay_url`.
    NoPayable,
    /// `payment_hash` is not 64 hex characters.
    BadHash,
    /// `pay_url` is not a link a payer may be sent to.
    BadPayUrl,
    /// The answer is for another invoice than the one asked about.
    WrongId,
}

/// Is `id` safe to use as one URL path segment without encoding?
#[inline]
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
        && id != "."
        && id != ".."
}

/// Is `a` shaped like an on-chain address the widget may put into a BIP21 URI: 14 to 90 ASCII
/// letters and digits (base58 or bech32; the backend checks the network, the wallet the rest)?
#[inline]
pub fn valid_onchain_address(a: &str) -> bool {
    (14..=90).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Created {
    /// Checks a create answer.
    #[inline]
    pub fn from_wire(w: CreateResponse) -> Result<Created, ContractError> {
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
                .and_then(|f| FiatPrice::parse(&f.currency, &f.amount)),
            onchain_address: w.onchain_address.filter(|a| valid_onchain_address(a)),
        })
    }

    /// Back to the wire form (what the widget keeps in `sessionStorage` across a reload; of a
    /// fiat price only `currency` and `amount`, the rate fields are left empty).
    #[inline]
    pub fn to_wire(&self) -> CreateResponse {
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
        CreateResponse {
            id: self.id.clone(),
            payment_request,
            pay_url,
            payment_hash,
            amount_sat: self.amount_sat,
            expires_at: self.expires_at,
            status: String::from(Status::Pending.as_str()),
            onchain_address: self.onchain_address.clone(),
            fiat: self.fiat.as_ref().map(|f| FiatQuote {
                currency: f.currency.clone(),
                amount: f.amount.clone(),
                rate: String::new(),
                rate_source: String::new(),
                rate_at: 0,
            }),
            server_time: None,
        }
    }
}

impl StatusReply {
    /// Checks the fields the widget reads of a status answer for invoice `expected_id`.
    #[inline]
    pub fn check(
        id: String,
        status: &str,
        preimage: Option<String>,
        expected_id: &str,
    ) -> Result<StatusReply, ContractError> {
        if id != expected_id {
            return Err(ContractError::WrongId);
        }
        let status = Status::parse(status).ok_or(ContractError::BadStatus)?;
        let preimage = preimage
            .filter(|p| p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|p| p.to_ascii_lowercase());
        Ok(StatusReply {
            id,
            status,
            preimage,
            onchain: None,
        })
    }

    /// [`Self::check`] of a whole status answer, with its `onchain`.
    #[inline]
    pub fn from_wire(w: StatusResponse, expected_id: &str) -> Result<StatusReply, ContractError> {
        let onchain = w.onchain;
        let mut reply = StatusReply::check(w.id, &w.status, w.preimage, expected_id)?;
        reply.onchain = onchain;
        Ok(reply)
    }
}

/// Cuts a backend-supplied message to [`MAX_MESSAGE_LEN`] bytes at a character boundary and
/// drops control characters; the widget renders it as text, never as HTML.
#[inline]
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
