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
//! The decoder is the widget's own (about 300 lines below: bech32 checksum, human-readable
//! part, tagged fields). It makes every check `lightning-invoice`'s `Bolt11Invoice::from_str`
//! makes except the signature (exactly one payment hash, exactly one description or description
//! hash, exactly one payment secret, feature bits present with `payment_secret` supported and
//! no unknown required bit, a whole number of millisatoshis), with the same errors in the same
//! order. `lightning-invoice` is its reference, natively: every spec vector and thousands of
//! mutants are decoded by both and compared (`tests/invoice_vectors.rs`,
//! `tests/decode_mutations.rs`). One difference, on purpose: node ids (the payee key `n`,
//! route-hint hops) are kept as 33 bytes and refused only when malformed as an encoding (a
//! prefix other than 02 or 03, an x coordinate not below the field prime), not decompressed as
//! curve points. That decompression was 40% of a route-hint invoice's decode and linked
//! secp256k1's C field code into the wasm; the widget never uses a node id, and a wallet
//! that pays the invoice checks its keys itself.
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
//!   wasm, far beyond the widget's size budget.
//!
//! Consequently an invoice whose signature is wrong (the BOLT 11 "invalid signature" vector)
//! *decodes*; the widget never claims that a signature is valid.
//!
//! # Time
//!
//! No clock is read here: `now_ms` (milliseconds since the Unix epoch) is an argument. In the
//! browser it is `Date.now()` moved by the offset `clock.rs` learned from the backend's
//! `server_time` (unchanged while no answer carried one); `SystemTime` panics on
//! `wasm32-unknown-unknown`.

use core::fmt;

use crate::amount::format_msat;
// The contract's hex and prefix helpers, also under the names this module gave them before.
pub use lightning_checkout_contract::{hex_encode as hash_to_hex, parse_hash_hex};
use lightning_checkout_contract::{hex_encode, strip_prefix_ignore_case};

/// Longest invoice accepted, in characters (= `lightning_invoice::MAX_LENGTH`, LND's limit).
/// Checked before any parsing.
pub const MAX_INVOICE_LEN: usize = 7089;

/// BOLT 11's expiry when the `x` field is absent, in seconds.
pub const DEFAULT_EXPIRY_SECS: u64 = 3600;

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

    /// The currency part of the invoice prefix: `bc`, `tb`, `tbs` or `bcrt`.
    pub fn currency_code(&self) -> &'static str {
        // Written out, not `&prefix[2..]`: a slice's panic path costs the wasm Unicode tables.
        match self {
            Network::Bitcoin => "bc",
            Network::Testnet => "tb",
            Network::Signet => "tbs",
            Network::Regtest => "bcrt",
        }
    }

    /// The network of an invoice's currency code, compared as a whole (never by prefix, so
    /// `bcrt` is never taken for `bc`, nor `tbs` for `tb`); `None` for any other code.
    pub fn from_currency_code(code: &str) -> Option<Network> {
        [
            Network::Bitcoin,
            Network::Testnet,
            Network::Signet,
            Network::Regtest,
        ]
        .into_iter()
        .find(|n| n.currency_code() == code)
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

/// Why a text is not a BOLT 11 invoice, by the name of the `Bolt11ParseError` that
/// `lightning-invoice` (the decoder's reference in the tests) gives for the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not bech32: no `1` separator, a character outside the bech32 set, a human-readable part
    /// that is empty, longer than 83 characters or not printable ASCII, no room for a checksum.
    Bech32,
    /// Too short for a timestamp and a signature.
    TooShortDataPart,
    /// The human-readable part is not `ln` + currency + optional amount and multiplier.
    MalformedHrp,
    /// The amount's multiplier is not `m`, `u`, `n` or `p`.
    UnknownSiPrefix,
    /// The amount's digits do not fit in 64 bits.
    AmountTooLarge,
    /// A number (the amount in picobitcoin, `x`, `c`) overflows 64 bits.
    IntegerOverflow,
    /// A tagged field runs past the end, or a route hint is not whole hops.
    UnexpectedEndOfTaggedFields,
    /// The description is not UTF-8.
    DescriptionNotUtf8,
    /// A node id (payee `n`, route-hint hop) is not a compressed public key encoding.
    MalformedPubKey,
    /// A fallback witness program is not 2 to 40 bytes.
    InvalidSegWitProgramLength,
    /// A P2PKH fallback is not 20 bytes.
    InvalidPubKeyHashLength,
    /// A P2SH fallback is not 20 bytes.
    InvalidScriptHashLength,
}

/// A decoded invoice that breaks a rule of BOLT 11 (`lightning-invoice`'s
/// `Bolt11SemanticError`, without `InvalidSignature`: signatures are not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SemanticError {
    /// No `p` field.
    NoPaymentHash,
    /// More than one `p` field.
    MultiplePaymentHashes,
    /// Neither `d` nor `h`.
    NoDescription,
    /// More than one of `d` and `h`.
    MultipleDescriptions,
    /// No `s` field.
    NoPaymentSecret,
    /// More than one `s` field.
    MultiplePaymentSecrets,
    /// No `9` field, `payment_secret` not set in it, or an unknown required (even) bit.
    InvalidFeatures,
    /// An amount that is not a whole number of millisatoshis.
    ImpreciseAmount,
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
    /// Any other parse error (not bech32, bad prefix, unknown SI prefix, too short, bad
    /// field…); the same as `lightning-invoice`'s `Bolt11ParseError` for the same text.
    Parse(ParseError),
    /// Decoded, but breaks a BOLT 11 rule (missing or repeated hash, secret or description,
    /// invalid features, sub-millisatoshi amount). Never `InvalidSignature`: the signature is
    /// not checked (see the module documentation).
    Semantic(SemanticError),
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

    /// One plain sentence for the payer, in the widget's language ([`crate::i18n`], keyed by
    /// the code; the malformed kinds share `invoice_invalid`).
    pub fn message(&self) -> String {
        use crate::i18n::tf;
        match self {
            InvoiceError::WrongNetwork { expected, found } => tf(
                self.code(),
                &[("found", found.as_str()), ("expected", expected.as_str())],
            ),
            InvoiceError::WrongAmount {
                expected_msat,
                found_msat,
            } => tf(
                self.code(),
                &[
                    ("found", &format_msat(*found_msat)),
                    ("expected", &format_msat(*expected_msat)),
                ],
            ),
            InvoiceError::MixedCase
            | InvoiceError::Parse(_)
            | InvoiceError::MalformedSignature
            | InvoiceError::Semantic(_) => tf("invoice_invalid", &[]),
            _ => tf(self.code(), &[]),
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

// ---------------------------------------------------------------------------------------------
// The decoder: bech32, the human-readable part, the tagged fields.

/// Bech32's alphabet: the value of each lower-case character, 32 for the other ASCII ones.
const BECH32_VALUES: [u8; 128] = {
    let alphabet = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut t = [32u8; 128];
    let mut i = 0;
    while i < 32 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Bech32's BCH generator, folded into a table: entry `t` is the XOR of the generator words
/// selected by the 5 bits of `t` (what BIP 173's `polymod` XORs in bit by bit).
const POLYMOD_TABLE: [u32; 32] = {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut t = [0u32; 32];
    let mut top = 0;
    while top < 32 {
        let mut i = 0;
        while i < 5 {
            if top >> i & 1 == 1 {
                t[top] ^= GEN[i];
            }
            i += 1;
        }
        top += 1;
    }
    t
};

/// One step of bech32's BCH checksum (BIP 173 `polymod`), by table: one lookup instead of five
/// conditional XORs per character (this runs for every character of the invoice).
#[inline]
fn polymod(c: u32, v: u8) -> u32 {
    POLYMOD_TABLE[(c >> 25 & 31) as usize] ^ ((c & 0x01ff_ffff) << 5) ^ u32::from(v)
}

/// Packs 5-bit values into bytes (big-endian), dropping the bits that do not fill a byte, as
/// BOLT 11 does; calls `out` with each byte.
#[inline]
fn pack(fes: &[u8], mut out: impl FnMut(u8)) {
    // Eight values are five whole bytes.
    let mut chunks = fes.chunks_exact(8);
    for chunk in &mut chunks {
        let acc = chunk.iter().fold(0u64, |a, &v| a << 5 | u64::from(v));
        for k in (0..5).rev() {
            out((acc >> (8 * k)) as u8);
        }
    }
    let (mut acc, mut bits) = (0u32, 0u32);
    for &v in chunks.remainder() {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
}

/// The first `N` bytes of `fes` (which hold at least `N`).
fn bytes<const N: usize>(fes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    pack(fes, |b| {
        if let Some(o) = out.get_mut(i) {
            *o = b;
        }
        i += 1;
    });
    out
}

/// A big-endian number of 5-bit digits; `None` when it overflows 64 bits.
fn be_u64(fes: &[u8]) -> Option<u64> {
    fes.iter().try_fold(0u64, |acc, &v| {
        acc.checked_mul(32)?.checked_add(u64::from(v))
    })
}

/// A node id as BOLT 11 carries it: 33 bytes of a compressed secp256k1 key, checked as an
/// encoding (prefix 02 or 03, x below the field prime), not decompressed (module docs).
fn check_node_id(key: &[u8]) -> Result<(), ParseError> {
    const P: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff,
        0xfc, 0x2f,
    ];
    match key.split_first() {
        Some((2 | 3, x)) if x.len() == 32 && x < &P[..] => Ok(()),
        _ => Err(ParseError::MalformedPubKey),
    }
}

/// The signature's encoding (what secp256k1's compact parser accepts): r and s below the
/// group order, then a recovery id from 0 to 3. Not verified (module docs).
fn check_signature_encoding(sig: &[u8; 65]) -> Result<(), InvoiceError> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];
    if sig[64] > 3 || sig[..32] >= N[..] || sig[32..64] >= N[..] {
        return Err(InvoiceError::MalformedSignature);
    }
    Ok(())
}

/// The human-readable part: the network (`None` for Simnet, which parses but is never
/// accepted), the amount and its multiplier (picobitcoin per unit).
struct Hrp {
    network: Option<Network>,
    amount: Option<u64>,
    multiplier: u64,
}

/// `ln` + currency + optional amount digits + optional multiplier, read as `lightning-invoice`'s
/// state machine reads it (the same errors for the same text).
fn parse_hrp(hrp: &[u8]) -> Result<Hrp, InvoiceError> {
    use ParseError::*;
    let err = |e| Err(InvoiceError::Parse(e));
    #[derive(PartialEq)]
    enum S {
        Start,
        L,
        N,
        Currency,
        Amount,
        Multiplier,
    }
    let mut state = S::Start;
    let (mut currency, mut amount, mut multiplier) = (0..0, 0..0, None);
    for (i, &b) in hrp.iter().enumerate() {
        state = match (state, b) {
            (S::Start, b'l') => S::L,
            (S::L, b'n') => S::N,
            (S::N | S::Currency | S::Amount, b'0'..=b'9') => {
                if amount.is_empty() {
                    amount = i..i;
                }
                amount.end = i + 1;
                S::Amount
            }
            (S::N | S::Currency, _) => {
                if currency.is_empty() {
                    currency = i..i;
                }
                currency.end = i + 1;
                S::Currency
            }
            (S::Amount, b'm' | b'u' | b'n' | b'p') => {
                multiplier = Some(b);
                S::Multiplier
            }
            (S::Amount, _) => return err(UnknownSiPrefix),
            _ => return err(MalformedHrp),
        };
    }
    if matches!(state, S::L | S::N) {
        return err(MalformedHrp);
    }
    let network = match &hrp[currency] {
        b"sb" => None,
        code => Some(
            core::str::from_utf8(code)
                .ok()
                .and_then(Network::from_currency_code)
                .ok_or(InvoiceError::UnknownNetwork)?,
        ),
    };
    let amount = match &hrp[amount] {
        [] => None,
        digits => Some(
            digits
                .iter()
                .try_fold(0u64, |a, &d| {
                    a.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
                .ok_or(InvoiceError::Parse(AmountTooLarge))?,
        ),
    };
    let multiplier = match multiplier {
        None => 1_000_000_000_000,
        Some(b'm') => 1_000_000_000,
        Some(b'u') => 1_000_000,
        Some(b'n') => 1_000,
        Some(_) => 1,
    };
    if let (Some(a), true) = (amount, multiplier < 1_000_000_000_000) {
        a.checked_mul(multiplier)
            .ok_or(InvoiceError::Parse(IntegerOverflow))?;
    }
    Ok(Hrp {
        network,
        amount,
        multiplier,
    })
}

/// What [`parse`] reads: the first of each field (as `lightning-invoice`'s accessors give
/// it) and how many of the fields that must appear once were there.
#[derive(Default)]
struct Fields {
    timestamp: u64,
    payment_hash: Option<[u8; 32]>,
    payment_hashes: usize,
    description: Option<String>,
    description_hash: Option<[u8; 32]>,
    descriptions: usize,
    payment_secrets: usize,
    expiry: Option<u64>,
    min_final_cltv: Option<u64>,
    /// Of the first `9` field: `payment_secret` set, an unknown required bit set.
    features: Option<(bool, bool)>,
}

/// The feature bits of a `9` field: (`payment_secret`, bit 14 or 15, is set; an even bit
/// other than BOLT 11's known ones, 8, 14, 16, 48 and 56, is set).
fn features(fes: &[u8]) -> (bool, bool) {
    let (mut secret, mut unknown_required) = (false, false);
    for (j, &v) in fes.iter().rev().enumerate() {
        for k in 0..5 {
            if v >> k & 1 == 1 {
                let bit = 5 * j + k;
                secret |= bit == 14 || bit == 15;
                unknown_required |= bit % 2 == 0 && !matches!(bit, 8 | 14 | 16 | 48 | 56);
            }
        }
    }
    (secret, unknown_required)
}

/// The tagged fields. Unknown tags, and known ones of a length BOLT 11 says to skip (`p`,
/// `h`, `s` not 52 characters, `n` not 53), are skipped; malformed known ones are errors.
#[inline(never)] // its own entry in the bench's CPU profile
fn parse_fields(mut rest: &[u8], f: &mut Fields) -> Result<(), ParseError> {
    while !rest.is_empty() {
        let (tag, len) = match rest {
            [tag, hi, lo, ..] => (*tag, usize::from(*hi) * 32 + usize::from(*lo)),
            _ => return Err(ParseError::UnexpectedEndOfTaggedFields),
        };
        let data = rest
            .get(3..3 + len)
            .ok_or(ParseError::UnexpectedEndOfTaggedFields)?;
        rest = &rest[3 + len..];
        match (tag, len) {
            // p: payment hash
            (1, 52) => {
                f.payment_hashes += 1;
                f.payment_hash.get_or_insert(bytes(data));
            }
            // d: description
            (13, _) => {
                let mut v = Vec::with_capacity(len * 5 / 8);
                pack(data, |b| v.push(b));
                let d = String::from_utf8(v).map_err(|_| ParseError::DescriptionNotUtf8)?;
                f.descriptions += 1;
                f.description.get_or_insert(d);
            }
            // h: description hash
            (23, 52) => {
                f.descriptions += 1;
                f.description_hash.get_or_insert(bytes(data));
            }
            // n: payee node id
            (19, 53) => check_node_id(&bytes::<33>(data))?,
            // x: expiry, c: min_final_cltv_expiry_delta
            (6 | 24, _) => {
                let v = be_u64(data).ok_or(ParseError::IntegerOverflow)?;
                if tag == 6 {
                    f.expiry.get_or_insert(v);
                } else {
                    f.min_final_cltv.get_or_insert(v);
                }
            }
            // f: fallback address
            (9, _) => {
                let (&version, program) = data
                    .split_first()
                    .ok_or(ParseError::UnexpectedEndOfTaggedFields)?;
                let n = program.len() * 5 / 8;
                match version {
                    0..=16 if !(2..=40).contains(&n) => {
                        return Err(ParseError::InvalidSegWitProgramLength)
                    }
                    17 if n != 20 => return Err(ParseError::InvalidPubKeyHashLength),
                    18 if n != 20 => return Err(ParseError::InvalidScriptHashLength),
                    _ => {}
                }
            }
            // r: route hints, hops of 51 bytes (node id, channel, fees, cltv delta)
            (3, _) => {
                if len * 5 / 8 % 51 != 0 {
                    return Err(ParseError::UnexpectedEndOfTaggedFields);
                }
                let mut hop = [0u8; 51];
                let mut i = 0;
                let mut result = Ok(());
                pack(data, |b| {
                    hop[i] = b;
                    i += 1;
                    if i == 51 {
                        i = 0;
                        result = result.and(check_node_id(&hop[..33]));
                    }
                });
                result?;
            }
            // s: payment secret
            (16, 52) => f.payment_secrets += 1,
            // 9: features
            (5, _) => {
                f.features.get_or_insert_with(|| features(data));
            }
            // m (payment metadata), unknown tags, skipped lengths
            _ => {}
        }
    }
    Ok(())
}

/// Bech32's checksum: the last 6 values of the data part.
const CHECKSUM_LEN: usize = 6;

/// The data part's 5-bit values, checksum included, once bech32's checksum over `hrp` and
/// `data` is verified (at least the 6 values of the checksum).
#[inline(never)] // its own entry in the bench's CPU profile
fn bech32_values(hrp: &[u8], data: &[u8]) -> Result<Vec<u8>, InvoiceError> {
    let bech32 = InvoiceError::Parse(ParseError::Bech32);
    let mut c = 1u32;
    for &b in hrp {
        c = polymod(c, b >> 5);
    }
    c = polymod(c, 0);
    for &b in hrp {
        c = polymod(c, b & 31);
    }
    // Without a branch per character: a character outside the alphabet (or not ASCII) sets
    // bit 5 of its value, and `invalid` collects it.
    let mut fes = vec![0u8; data.len()];
    let mut invalid = 0;
    for (f, &b) in fes.iter_mut().zip(data) {
        let v = BECH32_VALUES[usize::from(b & 0x7f)] | (b & 0x80) >> 2;
        invalid |= v;
        c = polymod(c, v & 31);
        *f = v;
    }
    if invalid & 32 != 0 || fes.len() < CHECKSUM_LEN {
        return Err(bech32);
    }
    if c != 1 {
        return Err(InvoiceError::Checksum);
    }
    Ok(fes)
}

/// One pass over the text, 8 bytes at a time: whether it has upper-case and lower-case ASCII
/// letters, and where its last `1` is (bech32's separator: the data part has none).
fn scan(text: &[u8]) -> (bool, bool, Option<usize>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f * ONES;
    let (mut upper, mut lower, mut separator) = (0u64, 0u64, None);
    let mut chunks = text.chunks_exact(8);
    for (i, chunk) in (&mut chunks).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Per byte, on its low 7 bits (no carry between bytes): bit 7 of t + 0x3f is set from
        // 'A' (0x41) up, of t + 0x25 from '[' (0x5b) up; the same for 'a' to 'z'. Bytes with
        // bit 7 set (not ASCII) are neither.
        let (t, ascii) = (w & LOW7, !w & (0x80 * ONES));
        upper |= (t + 0x3f * ONES) & !(t + 0x25 * ONES) & ascii;
        lower |= (t + 0x1f * ONES) & !(t + 0x05 * ONES) & ascii;
        // Bit 7 set exactly in the bytes equal to '1'.
        let x = w ^ (b'1' as u64 * ONES);
        let ones = !(((x & LOW7) + LOW7) | x | LOW7);
        if ones != 0 {
            separator = Some(8 * i + (63 - ones.leading_zeros() as usize) / 8);
        }
    }
    let tail = text.len() - chunks.remainder().len();
    for (i, &b) in chunks.remainder().iter().enumerate() {
        upper |= u64::from(b.is_ascii_uppercase());
        lower |= u64::from(b.is_ascii_lowercase());
        if b == b'1' {
            separator = Some(tail + i);
        }
    }
    (upper != 0, lower != 0, separator)
}

/// Everything of BOLT 11 but the semantics and the signature's validity, on the lower-case
/// text: the checksum, the human-readable part, the tagged fields, the signature's encoding.
fn parse(text: &[u8], separator: Option<usize>, f: &mut Fields) -> Result<Hrp, InvoiceError> {
    /// 65 bytes of signature and recovery id, in 5-bit groups.
    const SIGNATURE_LEN_5: usize = 104;
    let bech32 = InvoiceError::Parse(ParseError::Bech32);
    let sep = separator.ok_or(bech32.clone())?;
    let (hrp, data) = (&text[..sep], &text[sep + 1..]);
    if hrp.is_empty() || hrp.len() > 83 || hrp.iter().any(|b| !(33..=126).contains(b)) {
        return Err(bech32);
    }
    let mut fes = bech32_values(hrp, data)?;
    fes.truncate(fes.len() - CHECKSUM_LEN);
    if fes.len() < SIGNATURE_LEN_5 {
        return Err(InvoiceError::Parse(ParseError::TooShortDataPart));
    }
    let hrp = parse_hrp(hrp)?;
    let (body, signature) = fes.split_at(fes.len() - SIGNATURE_LEN_5);
    let (timestamp, fields) = match body.split_at_checked(7) {
        Some(split) => split,
        None => return Err(InvoiceError::Parse(ParseError::TooShortDataPart)),
    };
    f.timestamp = be_u64(timestamp).unwrap_or(0);
    parse_fields(fields, f).map_err(InvoiceError::Parse)?;
    check_signature_encoding(&bytes(signature))?;
    Ok(hrp)
}

/// `Bolt11Invoice::from_signed`'s checks without the signature (same order, same errors).
fn check_semantics(f: &Fields, amount_pico: Option<u64>) -> Result<(), SemanticError> {
    use SemanticError::*;
    let once = |n: usize, none, many| match n {
        0 => Err(none),
        1 => Ok(()),
        _ => Err(many),
    };
    once(f.payment_hashes, NoPaymentHash, MultiplePaymentHashes)?;
    once(f.descriptions, NoDescription, MultipleDescriptions)?;
    once(f.payment_secrets, NoPaymentSecret, MultiplePaymentSecrets)?;
    // "A writer MUST set an s field if and only if the payment_secret feature is set";
    // like lightning-invoice, require the feature field and no unknown required (even) bit.
    if f.features != Some((true, false)) {
        return Err(InvalidFeatures);
    }
    if amount_pico.is_some_and(|p| p % 10 != 0) {
        return Err(ImpreciseAmount);
    }
    Ok(())
}

/// Decodes a BOLT 11 invoice with every structural check and none of the expected-value
/// checks (see [`check_invoice`] for those).
///
/// Accepts surrounding whitespace, an optional `lightning:` scheme in any case, or a
/// `bitcoin:…?lightning=…` URI. Refuses, in this order: an empty input, more than
/// [`MAX_INVOICE_LEN`] characters (before parsing), mixed case, any `lightning-invoice`
/// parse error (checksum and unknown currency reported separately), the semantic rules of
/// BOLT 11 except the signature, Simnet, and an amount too large for `u64` picobitcoin.
pub fn decode(input: &str) -> Result<DecodedInvoice, InvoiceError> {
    let text = extract_invoice(input)?;
    if text.is_empty() {
        return Err(InvoiceError::Empty);
    }
    if text.len() > MAX_INVOICE_LEN {
        return Err(InvoiceError::TooLong { len: text.len() });
    }
    let (has_upper, has_lower, separator) = scan(text.as_bytes());
    if has_upper && has_lower {
        return Err(InvoiceError::MixedCase);
    }

    // Invoices are mostly lower case already: then a plain copy.
    let payment_request = if has_upper {
        text.to_ascii_lowercase()
    } else {
        text.to_owned()
    };
    let mut f = Fields::default();
    let hrp = parse(payment_request.as_bytes(), separator, &mut f)?;
    let amount_pico = hrp.amount.and_then(|a| a.checked_mul(hrp.multiplier));
    check_semantics(&f, amount_pico).map_err(InvoiceError::Semantic)?;
    let network = hrp.network.ok_or(InvoiceError::UnknownNetwork)?;
    // The amount in picobitcoin overflows u64 only without a multiplier; that is not "no
    // amount".
    let amount_msat = match (hrp.amount, amount_pico) {
        (None, _) => None,
        (Some(_), Some(pico)) => Some(pico / 10),
        (Some(_), None) => return Err(InvoiceError::Parse(ParseError::IntegerOverflow)),
    };
    Ok(DecodedInvoice {
        payment_request,
        network,
        amount_msat,
        payment_hash: f
            .payment_hash
            .ok_or(InvoiceError::Semantic(SemanticError::NoPaymentHash))?,
        timestamp_secs: f.timestamp,
        expiry_secs: f.expiry.unwrap_or(DEFAULT_EXPIRY_SECS),
        description: f.description,
        description_hash: f.description_hash,
        min_final_cltv_expiry_delta: f.min_final_cltv,
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
        // = crate::qr::fits(&self.qr_payload()), without building it (tests/qr.rs).
        if !crate::qr::fits_lightning_uri(self.payment_request.len()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Random bytes (ASCII letters of both cases, digits, '1', and bytes above 0x7f), lengths
    /// around the 8-byte word and its remainder.
    fn samples() -> Vec<Vec<u8>> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZRY1@[`{\x7f\x80\xc3\xa9\xff ";
        (0..3000)
            .map(|i| {
                let len = i % 40;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn scan_finds_cases_and_the_last_separator_as_a_byte_loop_does() {
        for s in samples() {
            let expected = (
                s.iter().any(u8::is_ascii_uppercase),
                s.iter().any(u8::is_ascii_lowercase),
                s.iter().rposition(|&b| b == b'1'),
            );
            assert_eq!(scan(&s), expected, "{s:?}");
        }
    }

    #[test]
    fn pack_by_eight_values_matches_packing_bit_by_bit() {
        for s in samples() {
            let fes: Vec<u8> = s.iter().map(|b| b & 31).collect();
            let mut bits: Vec<bool> = Vec::new();
            for v in &fes {
                bits.extend((0..5).rev().map(|k| v >> k & 1 == 1));
            }
            let expected: Vec<u8> = bits
                .chunks_exact(8)
                .map(|b| b.iter().fold(0u8, |a, &bit| a << 1 | u8::from(bit)))
                .collect();
            let mut got = Vec::new();
            pack(&fes, |b| got.push(b));
            assert_eq!(got, expected, "{fes:?}");
        }
    }
}
