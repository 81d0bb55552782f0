//! PURE: decode a BOLT 11 invoice and check it against what was asked (amount, network,
//! payment hash, expiry), before anything payable is shown.
//!
//! Parse, then validate, in two typed steps (the rust-lightning model):
//! [`decode`] turns text into a [`DecodedInvoice`] (every structural rule of BOLT 11), and
//! [`check_invoice`] turns that into a [`CheckedInvoice`] only if it is exactly the payment
//! the widget asked for. The view only ever renders a `CheckedInvoice`.
//!
//! # Why the signature is not checked here
//!
//! `lightning-invoice` is used without `Bolt11Invoice::from_signed`: it parses a
//! `SignedRawBolt11Invoice` and this module re-implements the checks `from_signed` makes
//! besides the signature (exactly one payment hash, exactly one description or description
//! hash, exactly one payment secret, feature bits present with `payment_secret` supported and
//! no unknown required bit, a whole number of millisatoshis).
//!
//! - A signature check proves that *some* node key signed the invoice. The widget has no
//!   pinned payee key to compare it with, so in the browser it proves nothing about *who* is
//!   paid: an attacker who can swap the invoice signs their own with their own key.
//! - What does bind the invoice to the order is checked here: the amount, the network, the
//!   payment hash the backend reported, and the expiry. Success is only ever shown when the
//!   backend reports the order's own payment hash as settled.
//! - The reference backend verifies provider invoices natively (with the signature) before
//!   handing them out.
//! - Signature verification would pull secp256k1's precomputed tables (about 1 MB) into the
//!   wasm, far beyond the widget's 100 KB budget. Nothing here calls `check_signature`,
//!   `recover_payee_pub_key`, `from_signed` or `Bolt11Invoice::from_str`.
//!
//! Consequently an invoice whose signature is wrong (the BOLT 11 "invalid signature" vector)
//! *decodes*; the widget never claims that a signature is valid.
//!
//! # Time
//!
//! No clock is read here: `now_ms` (milliseconds since the Unix epoch, `Date.now()` in the
//! browser, possibly corrected by the server's clock) is an argument. `lightning-invoice`'s
//! `is_expired()`, `duration_until_expiry()` and `timestamp()` read `SystemTime`, which panics
//! on `wasm32-unknown-unknown`; they are never called.

use core::fmt;

use bech32::primitives::decode::{CheckedHrpstring, CheckedHrpstringError, ChecksumError};
use bech32::primitives::iter::Fe32IterExt;
use bech32::Fe32;
use bitcoin_hashes::Hash;
use lightning_invoice::{
    Bolt11Bech32, Bolt11ParseError, Bolt11SemanticError, Currency, RawBolt11Invoice, TaggedField,
    DEFAULT_EXPIRY_TIME,
};

use crate::amount::format_msat;
// The contract's hex and prefix helpers, also under the names this module gave them before.
pub use lightning_checkout_contract::{hex_encode as hash_to_hex, parse_hash_hex};
use lightning_checkout_contract::{hex_encode, strip_prefix_ignore_case};

/// Longest invoice accepted, in characters (= `lightning_invoice::MAX_LENGTH`, LND's limit).
/// Checked before any parsing.
pub const MAX_INVOICE_LEN: usize = lightning_invoice::MAX_LENGTH;

/// URI scheme of BOLT 11 invoices (`lightning:`, not `lightning://`).
pub const LIGHTNING_SCHEME: &str = "lightning:";

/// A Bitcoin network the widget can be configured for. Simnet is never accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// Bitcoin mainnet: invoices start with `lnbc`.
    Bitcoin,
    /// Testnet (3 and 4): invoices start with `lntb`.
    Testnet,
    /// Signet: invoices start with `lntbs`.
    Signet,
    /// Regtest: invoices start with `lnbcrt`.
    Regtest,
}

impl Network {
    /// Parses a configured network name, ignoring ASCII case and surrounding whitespace:
    /// `bitcoin` (or `mainnet`), `testnet`, `signet`, `regtest`.
    pub fn parse(s: &str) -> Option<Network> {
        let s = s.trim();
        [
            ("bitcoin", Network::Bitcoin),
            ("mainnet", Network::Bitcoin),
            ("testnet", Network::Testnet),
            ("signet", Network::Signet),
            ("regtest", Network::Regtest),
        ]
        .into_iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, n)| n)
    }

    /// The canonical lower-case name: `bitcoin`, `testnet`, `signet` or `regtest`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The invoice prefix: `lnbc`, `lntb`, `lntbs` or `lnbcrt`.
    pub fn invoice_prefix(&self) -> &'static str {
        match self {
            Network::Bitcoin => "lnbc",
            Network::Testnet => "lntb",
            Network::Signet => "lntbs",
            Network::Regtest => "lnbcrt",
        }
    }

    /// The `lightning-invoice` currency: `bc`, `tb`, `tbs`, `bcrt`.
    pub fn currency(&self) -> Currency {
        match self {
            Network::Bitcoin => Currency::Bitcoin,
            Network::Testnet => Currency::BitcoinTestnet,
            Network::Signet => Currency::Signet,
            Network::Regtest => Currency::Regtest,
        }
    }

    /// The network of a `lightning-invoice` currency, compared as a whole (never by prefix,
    /// so `lnbcrt` is never taken for `lnbc`, nor `lntbs` for `lntb`); `None` for Simnet.
    pub fn from_currency(currency: &Currency) -> Option<Network> {
        match currency {
            Currency::Bitcoin => Some(Network::Bitcoin),
            Currency::BitcoinTestnet => Some(Network::Testnet),
            Currency::Signet => Some(Network::Signet),
            Currency::Regtest => Some(Network::Regtest),
            Currency::Simnet => None,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the widget asked for: the invoice must match all of it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The amount, in millisatoshis (the order's sats × 1000).
    pub amount_msat: u64,
    /// The configured network.
    pub network: Network,
    /// The payment hash the backend reported alongside the invoice.
    pub payment_hash: [u8; 32],
}

/// Why an invoice was refused. Precise inside; [`InvoiceError::message`] is the one
/// sentence for the payer and [`InvoiceError::code`] the stable code for the error event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceError {
    /// Nothing (or only whitespace, or only `lightning:`) was given.
    Empty,
    /// Longer than [`MAX_INVOICE_LEN`] characters; refused before parsing.
    TooLong {
        /// Length of the invoice (after trimming and removing the URI scheme), in bytes.
        len: usize,
    },
    /// A `bitcoin:` URI without a `lightning=` parameter.
    NoLightningInvoice,
    /// Both upper- and lower-case letters (BIP 173 forbids it).
    MixedCase,
    /// The bech32 checksum does not match: the text was damaged.
    Checksum,
    /// Any other parse error, as `lightning-invoice` reports it (bad prefix, unknown SI
    /// prefix, missing separator, too short, bad field…).
    Parse(Bolt11ParseError),
    /// Decoded, but breaks a BOLT 11 rule (missing or repeated hash, secret or description,
    /// invalid features, sub-millisatoshi amount). Never `InvalidSignature`: the signature is
    /// not checked (see the module documentation).
    Semantic(Bolt11SemanticError),
    /// The signature part is not 64 bytes and a recovery id from 0 to 3.
    MalformedSignature,
    /// The currency is one the widget never accepts (simnet `lnsb`) or an unknown one.
    UnknownNetwork,
    /// The invoice is for another network than the configured one.
    WrongNetwork {
        /// The configured network.
        expected: Network,
        /// The invoice's network.
        found: Network,
    },
    /// The invoice has no amount (the payer would choose it).
    NoAmount,
    /// The invoice's amount differs from the requested amount.
    WrongAmount {
        /// Requested amount, in millisatoshis.
        expected_msat: u64,
        /// Invoice amount, in millisatoshis.
        found_msat: u64,
    },
    /// The invoice's payment hash differs from the one the backend reported.
    HashMismatch,
    /// The invoice's expiry (timestamp + expiry) is not after `now`.
    Expired {
        /// When it expired, in Unix seconds.
        expired_at_secs: u64,
    },
    /// `lightning:` + the upper-case invoice does not fit in a QR code (even version 40-L).
    TooLongForQr,
}

impl InvoiceError {
    /// Stable snake_case code, for the `lightning-checkout:error` event.
    pub fn code(&self) -> &'static str {
        match self {
            InvoiceError::Empty => "invoice_empty",
            InvoiceError::TooLong { .. } => "invoice_too_long",
            InvoiceError::NoLightningInvoice => "invoice_not_lightning",
            InvoiceError::MixedCase => "invoice_mixed_case",
            InvoiceError::Checksum => "invoice_checksum",
            InvoiceError::Parse(_) => "invoice_malformed",
            InvoiceError::Semantic(_) => "invoice_invalid",
            InvoiceError::MalformedSignature => "invoice_malformed",
            InvoiceError::UnknownNetwork => "invoice_unknown_network",
            InvoiceError::WrongNetwork { .. } => "invoice_wrong_network",
            InvoiceError::NoAmount => "invoice_no_amount",
            InvoiceError::WrongAmount { .. } => "invoice_wrong_amount",
            InvoiceError::HashMismatch => "invoice_hash_mismatch",
            InvoiceError::Expired { .. } => "invoice_expired",
            InvoiceError::TooLongForQr => "invoice_too_long_for_qr",
        }
    }

    /// One plain English sentence for the payer.
    pub fn message(&self) -> String {
        match self {
            InvoiceError::Empty => "The shop sent an empty invoice, so there is nothing to pay.".into(),
            InvoiceError::TooLong { .. } => {
                "The invoice from the shop is too long to be valid, so it is not shown.".into()
            }
            InvoiceError::NoLightningInvoice => {
                "The shop sent a Bitcoin address without a Lightning invoice, so it is not shown."
                    .into()
            }
            InvoiceError::MixedCase
            | InvoiceError::Parse(_)
            | InvoiceError::MalformedSignature
            | InvoiceError::Semantic(_) => {
                "The shop sent an invoice that is not valid, so it is not shown.".into()
            }
            InvoiceError::Checksum => {
                "The invoice from the shop is damaged (its checksum does not match), so it is not shown."
                    .into()
            }
            InvoiceError::UnknownNetwork => {
                "The invoice is for a network this checkout does not support, so it is not shown."
                    .into()
            }
            InvoiceError::WrongNetwork { expected, found } => format!(
                "The invoice is for another Bitcoin network ({found}), not {expected}."
            ),
            InvoiceError::NoAmount => {
                "The invoice from the shop has no amount, so it is not shown.".into()
            }
            InvoiceError::WrongAmount {
                expected_msat,
                found_msat,
            } => format!(
                "The invoice from the shop is for {}, not the {} you asked for, so it is not shown.",
                format_msat(*found_msat),
                format_msat(*expected_msat)
            ),
            InvoiceError::HashMismatch => {
                "The invoice does not match the payment the shop created, so it is not shown."
                    .into()
            }
            InvoiceError::Expired { .. } => "The invoice has already expired. Ask for a new one.".into(),
            InvoiceError::TooLongForQr => {
                "The invoice is too long to show as a QR code, so it is not shown.".into()
            }
        }
    }
}

impl fmt::Display for InvoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// A structurally valid BOLT 11 invoice (all of BOLT 11 except the signature), not yet
/// compared with what was asked. Made by [`decode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedInvoice {
    payment_request: String,
    network: Network,
    amount_msat: Option<u64>,
    payment_hash: [u8; 32],
    timestamp_secs: u64,
    expiry_secs: u64,
    description: Option<String>,
    description_hash: Option<[u8; 32]>,
    min_final_cltv_expiry_delta: Option<u64>,
}

impl DecodedInvoice {
    /// The invoice in lower case, trimmed, without `lightning:` (what Copy copies).
    pub fn payment_request(&self) -> &str {
        &self.payment_request
    }

    /// The network (from the currency of the human-readable part).
    pub fn network(&self) -> Network {
        self.network
    }

    /// The amount in millisatoshis, `None` for an amount-less invoice.
    pub fn amount_msat(&self) -> Option<u64> {
        self.amount_msat
    }

    /// The payment hash (`p` field).
    pub fn payment_hash(&self) -> [u8; 32] {
        self.payment_hash
    }

    /// The payment hash, 64 lower-case hex characters.
    pub fn payment_hash_hex(&self) -> String {
        hex_encode(&self.payment_hash)
    }

    /// Creation time, Unix seconds.
    pub fn timestamp_secs(&self) -> u64 {
        self.timestamp_secs
    }

    /// Expiry in seconds after the timestamp (`x` field; 3600 when absent, per BOLT 11).
    pub fn expiry_secs(&self) -> u64 {
        self.expiry_secs
    }

    /// Expiry time, Unix seconds (saturating).
    pub fn expires_at_secs(&self) -> u64 {
        self.timestamp_secs.saturating_add(self.expiry_secs)
    }

    /// Expiry time, Unix milliseconds (saturating), comparable with `Date.now()`.
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_secs().saturating_mul(1000)
    }

    /// True once `now_ms >= expires_at_ms()`: at the expiry instant the invoice is expired.
    pub fn is_expired_at(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms()
    }

    /// Milliseconds left until expiry (0 once expired).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        self.expires_at_ms().saturating_sub(now_ms)
    }

    /// Whole seconds left until expiry, rounded up, so a countdown shows 00:00 only once
    /// the invoice is really expired (0 once expired).
    pub fn remaining_secs(&self, now_ms: u64) -> u64 {
        self.remaining_ms(now_ms).div_ceil(1000)
    }

    /// The description (`d` field), verbatim; `None` when the invoice only commits to a
    /// description hash. Untrusted text: render it with `textContent`, never as HTML.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The description hash (`h` field), if the invoice has one instead of a description.
    pub fn description_hash(&self) -> Option<[u8; 32]> {
        self.description_hash
    }

    /// The `c` field, if present (BOLT 11 default 18 applies when absent).
    pub fn min_final_cltv_expiry_delta(&self) -> Option<u64> {
        self.min_final_cltv_expiry_delta
    }

    /// The QR payload: `lightning:` + the invoice in UPPER case, so that everything after
    /// the scheme is QR alphanumeric mode (about 45 % denser than byte mode).
    pub fn qr_payload(&self) -> String {
        let mut s = String::with_capacity(LIGHTNING_SCHEME.len() + self.payment_request.len());
        s.push_str(LIGHTNING_SCHEME);
        s.push_str(&self.payment_request.to_ascii_uppercase());
        s
    }

    /// The link for "Open wallet": `lightning:` + the lower-case invoice (many wallets only
    /// register the lower-case scheme).
    pub fn wallet_uri(&self) -> String {
        let mut s = String::with_capacity(LIGHTNING_SCHEME.len() + self.payment_request.len());
        s.push_str(LIGHTNING_SCHEME);
        s.push_str(&self.payment_request);
        s
    }
}

/// An invoice that is exactly what was asked: right network, amount, payment hash, not
/// expired at the time of the check, and small enough for a QR code. Made by
/// [`check_invoice`]; the only kind of invoice the view shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedInvoice {
    inner: DecodedInvoice,
    amount_msat: u64,
}

impl CheckedInvoice {
    /// The decoded invoice underneath.
    pub fn decoded(&self) -> &DecodedInvoice {
        &self.inner
    }

    /// The invoice in lower case, trimmed, without `lightning:` (what Copy copies).
    pub fn payment_request(&self) -> &str {
        self.inner.payment_request()
    }

    /// The payment hash (equal to the expected one).
    pub fn payment_hash(&self) -> [u8; 32] {
        self.inner.payment_hash()
    }

    /// The payment hash, 64 lower-case hex characters.
    pub fn payment_hash_hex(&self) -> String {
        self.inner.payment_hash_hex()
    }

    /// The amount in millisatoshis (equal to the expected one).
    pub fn amount_msat(&self) -> u64 {
        self.amount_msat
    }

    /// The network (equal to the configured one).
    pub fn network(&self) -> Network {
        self.inner.network()
    }

    /// Creation time, Unix seconds.
    pub fn timestamp_secs(&self) -> u64 {
        self.inner.timestamp_secs()
    }

    /// Expiry in seconds after the timestamp (3600 when the `x` field is absent).
    pub fn expiry_secs(&self) -> u64 {
        self.inner.expiry_secs()
    }

    /// Expiry time, Unix seconds (saturating).
    pub fn expires_at_secs(&self) -> u64 {
        self.inner.expires_at_secs()
    }

    /// Expiry time, Unix milliseconds (saturating), comparable with `Date.now()`.
    pub fn expires_at_ms(&self) -> u64 {
        self.inner.expires_at_ms()
    }

    /// True once `now_ms >= expires_at_ms()`.
    pub fn is_expired_at(&self, now_ms: u64) -> bool {
        self.inner.is_expired_at(now_ms)
    }

    /// Milliseconds left until expiry (0 once expired).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        self.inner.remaining_ms(now_ms)
    }

    /// Whole seconds left until expiry, rounded up (0 once expired).
    pub fn remaining_secs(&self, now_ms: u64) -> u64 {
        self.inner.remaining_secs(now_ms)
    }

    /// The description, verbatim (untrusted: render as text only); `None` when the invoice
    /// only has a description hash.
    pub fn description(&self) -> Option<&str> {
        self.inner.description()
    }

    /// `lightning:` + the UPPER-case invoice, for the QR code.
    pub fn qr_payload(&self) -> String {
        self.inner.qr_payload()
    }

    /// `lightning:` + the lower-case invoice, for the "Open wallet" link.
    pub fn wallet_uri(&self) -> String {
        self.inner.wallet_uri()
    }
}

/// The BOLT 11 text inside the input: trimmed, without a `lightning:` scheme (any case), or
/// the `lightning=` parameter of a BIP 21/321 `bitcoin:` URI (scheme and key in any case).
fn extract_invoice(input: &str) -> Result<&str, InvoiceError> {
    let s = input.trim();
    if let Some(rest) = strip_prefix_ignore_case(s, LIGHTNING_SCHEME) {
        return Ok(rest.trim());
    }
    if let Some(rest) = strip_prefix_ignore_case(s, "bitcoin:") {
        let query = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
        return query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case("lightning"))
            .map(|(_, v)| v.trim())
            .ok_or(InvoiceError::NoLightningInvoice);
    }
    Ok(s)
}

fn count_fields(raw: &RawBolt11Invoice, pred: fn(&TaggedField) -> bool) -> usize {
    raw.known_tagged_fields().filter(|f| pred(f)).count()
}

/// `Bolt11Invoice::from_signed`'s checks without the signature (same order, same errors).
fn check_semantics(raw: &RawBolt11Invoice) -> Result<(), Bolt11SemanticError> {
    match count_fields(raw, |f| matches!(f, TaggedField::PaymentHash(_))) {
        0 => return Err(Bolt11SemanticError::NoPaymentHash),
        1 => {}
        _ => return Err(Bolt11SemanticError::MultiplePaymentHashes),
    }
    match count_fields(raw, |f| {
        matches!(
            f,
            TaggedField::Description(_) | TaggedField::DescriptionHash(_)
        )
    }) {
        0 => return Err(Bolt11SemanticError::NoDescription),
        1 => {}
        _ => return Err(Bolt11SemanticError::MultipleDescriptions),
    }
    match count_fields(raw, |f| matches!(f, TaggedField::PaymentSecret(_))) {
        0 => return Err(Bolt11SemanticError::NoPaymentSecret),
        1 => {}
        _ => return Err(Bolt11SemanticError::MultiplePaymentSecrets),
    }
    // "A writer MUST set an s field if and only if the payment_secret feature is set";
    // like lightning-invoice, require the feature field and no unknown required (even) bit.
    match raw.features() {
        Some(features)
            if features.supports_payment_secret() && !features.requires_unknown_bits() => {}
        _ => return Err(Bolt11SemanticError::InvalidFeatures),
    }
    if let Some(pico) = raw.amount_pico_btc() {
        if pico % 10 != 0 {
            return Err(Bolt11SemanticError::ImpreciseAmount);
        }
    }
    Ok(())
}

/// `lightning_invoice::SignedRawBolt11Invoice::from_str`, composed from the same public
/// parsers with the same errors, minus two steps the widget has no use for: lower-casing the
/// HRP with `str::to_lowercase` (the HRP is ASCII; the Unicode tables it drags in weigh 18 KB of
/// wasm) and the SHA-256 of the signed data (needed only to verify the signature, which the
/// widget does not do; see the module docs). The signature is still parsed, so a malformed one
/// is refused as before.
fn parse_raw(text: &str) -> Result<RawBolt11Invoice, InvoiceError> {
    /// 65 bytes of signature and recovery id, in 5-bit groups.
    const SIGNATURE_LEN_5: usize = 104;
    let parsed = CheckedHrpstring::new::<Bolt11Bech32>(text)
        .map_err(|e| map_parse_error(Bolt11ParseError::Bech32Error(e)))?;
    let data: Vec<Fe32> = parsed.fe32_iter::<&mut dyn Iterator<Item = u8>>().collect();
    if data.len() < SIGNATURE_LEN_5 {
        return Err(InvoiceError::Parse(Bolt11ParseError::TooShortDataPart));
    }
    let (body, signature) = data.split_at(data.len() - SIGNATURE_LEN_5);
    // The signature's encoding: 64 bytes, then a recovery id from 0 to 3.
    let signature: Vec<u8> = signature.iter().copied().fes_to_bytes().collect();
    if signature.get(64).is_none_or(|&id| id > 3) {
        return Err(InvoiceError::MalformedSignature);
    }
    let hrp = parsed.hrp().to_string().to_ascii_lowercase();
    RawBolt11Invoice::from_raw(&hrp, body).map_err(map_parse_error)
}

fn map_parse_error(e: Bolt11ParseError) -> InvoiceError {
    match e {
        Bolt11ParseError::Bech32Error(CheckedHrpstringError::Checksum(
            ChecksumError::InvalidResidue,
        )) => InvoiceError::Checksum,
        Bolt11ParseError::UnknownCurrency => InvoiceError::UnknownNetwork,
        other => InvoiceError::Parse(other),
    }
}

/// Decodes a BOLT 11 invoice with every structural check and none of the expected-value
/// checks (see [`check_invoice`] for those).
///
/// Accepts surrounding whitespace, an optional `lightning:` scheme in any case, or a
/// `bitcoin:…?lightning=…` URI. Refuses, in this order: an empty input, more than
/// [`MAX_INVOICE_LEN`] characters (before parsing), mixed case, any `lightning-invoice`
/// parse error (checksum and unknown currency reported separately), the semantic rules of
/// BOLT 11 except the signature, an amount too large for `u64` picobitcoin, and Simnet.
pub fn decode(input: &str) -> Result<DecodedInvoice, InvoiceError> {
    let text = extract_invoice(input)?;
    if text.is_empty() {
        return Err(InvoiceError::Empty);
    }
    if text.len() > MAX_INVOICE_LEN {
        return Err(InvoiceError::TooLong { len: text.len() });
    }
    let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = text.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower {
        return Err(InvoiceError::MixedCase);
    }

    let raw = &parse_raw(text)?;
    check_semantics(raw).map_err(InvoiceError::Semantic)?;

    let network = Network::from_currency(&raw.currency()).ok_or(InvoiceError::UnknownNetwork)?;
    // amount_pico_btc() is None both without an amount and when the amount overflows
    // (possible without an SI prefix); only the first is "no amount".
    let amount_msat = match (raw.hrp.raw_amount, raw.amount_pico_btc()) {
        (None, _) => None,
        (Some(_), Some(pico)) => Some(pico / 10),
        (Some(_), None) => return Err(InvoiceError::Parse(Bolt11ParseError::IntegerOverflowError)),
    };
    let payment_hash = raw
        .payment_hash()
        .map(|h| h.0.to_byte_array())
        .ok_or(InvoiceError::Semantic(Bolt11SemanticError::NoPaymentHash))?;
    let expiry_secs = raw
        .expiry_time()
        .map(|x| x.as_seconds())
        .unwrap_or(DEFAULT_EXPIRY_TIME);
    let description = raw.description().map(|d| d.as_inner().0.clone());
    let description_hash = raw.description_hash().map(|h| h.0.to_byte_array());
    let min_final_cltv_expiry_delta = raw.min_final_cltv_expiry_delta().map(|c| c.0);
    // Unknown fields (`RawTaggedField::UnknownSemantics`) are skipped, as BOLT 11 requires.

    Ok(DecodedInvoice {
        payment_request: text.to_ascii_lowercase(),
        network,
        amount_msat,
        payment_hash,
        timestamp_secs: raw.data.timestamp.as_unix_timestamp(),
        expiry_secs,
        description,
        description_hash,
        min_final_cltv_expiry_delta,
    })
}

impl DecodedInvoice {
    /// Checks this invoice against what was asked, at `now_ms` (Unix milliseconds). Order:
    /// network, amount present, amount equal, payment hash, expiry, QR capacity.
    pub fn check(self, expected: &Expected, now_ms: u64) -> Result<CheckedInvoice, InvoiceError> {
        if self.network != expected.network {
            return Err(InvoiceError::WrongNetwork {
                expected: expected.network,
                found: self.network,
            });
        }
        let amount_msat = self.amount_msat.ok_or(InvoiceError::NoAmount)?;
        if amount_msat != expected.amount_msat {
            return Err(InvoiceError::WrongAmount {
                expected_msat: expected.amount_msat,
                found_msat: amount_msat,
            });
        }
        if self.payment_hash != expected.payment_hash {
            return Err(InvoiceError::HashMismatch);
        }
        if self.is_expired_at(now_ms) {
            return Err(InvoiceError::Expired {
                expired_at_secs: self.expires_at_secs(),
            });
        }
        if !crate::qr::fits(&self.qr_payload()) {
            return Err(InvoiceError::TooLongForQr);
        }
        Ok(CheckedInvoice {
            inner: self,
            amount_msat,
        })
    }
}

/// Decodes `input` ([`decode`]) and checks it against `expected` at `now_ms` (Unix
/// milliseconds, e.g. `Date.now()`): same network, an amount exactly equal to
/// `expected.amount_msat`, the expected payment hash, not expired (`now_ms >= expiry` is
/// expired), and a QR payload that fits in a QR code.
pub fn check_invoice(
    input: &str,
    expected: &Expected,
    now_ms: u64,
) -> Result<CheckedInvoice, InvoiceError> {
    decode(input)?.check(expected, now_ms)
}

/// True when `preimage_hex` is exactly 32 bytes of hex whose SHA-256 is `payment_hash`:
/// the proof of payment. Anything else (wrong length, not hex, wrong hash) is false.
pub fn preimage_matches(preimage_hex: &str, payment_hash: &[u8; 32]) -> bool {
    match parse_hash_hex(preimage_hex) {
        Some(preimage) => crate::sha256::sha256(&preimage) == *payment_hash,
        None => false,
    }
}
