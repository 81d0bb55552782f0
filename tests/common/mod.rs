//! Test helper: BOLT 11 invoices with chosen fields, signed with a fixed key.
//!
//! Uses the `bitcoin` dev-dependency (secp256k1 signing): never part of the widget itself.
#![allow(dead_code)]

use std::time::Duration;

use bech32::primitives::decode::{CheckedHrpstringError, ChecksumError};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lightning_checkout::invoice::{
    DecodedInvoice, InvoiceError, Network, ParseError, SemanticError, MAX_INVOICE_LEN,
};
use lightning_invoice::{
    Currency, InvoiceBuilder, PaymentSecret, RawBolt11Invoice, RouteHint, RouteHintHop, RoutingFees,
};

/// 2017-06-01T10:57:38Z, the BOLT 11 examples' timestamp.
pub const SPEC_TIMESTAMP: u64 = 1_496_314_658;

/// A fixed "now" for generated invoices: 2025-01-01T00:00:00Z.
pub const NOW_SECS: u64 = 1_735_689_600;

/// The description or the description hash of an invoice.
#[derive(Clone, Debug)]
pub enum Desc {
    /// `d` field.
    Text(String),
    /// `h` field.
    Hash([u8; 32]),
}

/// The fields of a generated invoice.
#[derive(Clone, Debug)]
pub struct Spec {
    pub currency: Currency,
    pub amount_msat: Option<u64>,
    pub payment_hash: [u8; 32],
    pub timestamp_secs: u64,
    /// `None`: no `x` field (BOLT 11 default 3600 s).
    pub expiry_secs: Option<u64>,
    pub description: Desc,
    /// Number of 12-hop route hints, to make long invoices.
    pub route_hints: usize,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            currency: Currency::Bitcoin,
            amount_msat: Some(2_500_000),
            payment_hash: [0x11; 32],
            timestamp_secs: NOW_SECS,
            expiry_secs: Some(900),
            description: Desc::Text("Order 42".into()),
            route_hints: 0,
        }
    }
}

pub fn secret_key() -> SecretKey {
    SecretKey::from_slice(&[0x42; 32]).expect("valid key")
}

fn route_hint(n: u8) -> RouteHint {
    let secp = Secp256k1::new();
    let hops = (0..12u8)
        .map(|i| {
            let sk = SecretKey::from_slice(&[n.wrapping_mul(16).wrapping_add(i).max(1); 32])
                .expect("valid key");
            RouteHintHop {
                src_node_id: PublicKey::from_secret_key(&secp, &sk),
                short_channel_id: (700_000u64 << 40) | (u64::from(i) << 16) | u64::from(n),
                fees: RoutingFees {
                    base_msat: 1000,
                    proportional_millionths: 100,
                },
                cltv_expiry_delta: 40,
                htlc_minimum_msat: None,
                htlc_maximum_msat: None,
            }
        })
        .collect();
    RouteHint(hops)
}

/// A valid, correctly signed invoice with the given fields, as a lower-case string.
pub fn make(spec: &Spec) -> String {
    let mut b = InvoiceBuilder::new(spec.currency.clone())
        .payment_hash(sha256::Hash::from_byte_array(spec.payment_hash))
        .payment_secret(PaymentSecret([0x22; 32]))
        .duration_since_epoch(Duration::from_secs(spec.timestamp_secs))
        .min_final_cltv_expiry_delta(144);
    if let Some(msat) = spec.amount_msat {
        b = b.amount_milli_satoshis(msat);
    }
    if let Some(x) = spec.expiry_secs {
        b = b.expiry_time(Duration::from_secs(x));
    }
    for n in 0..spec.route_hints {
        b = b.private_route(route_hint(n as u8 + 1));
    }
    let b = match &spec.description {
        Desc::Text(d) => b.description(d.clone()),
        Desc::Hash(h) => b.description_hash(sha256::Hash::from_byte_array(*h)),
    };
    let secp = Secp256k1::new();
    b.build_signed(|msg| secp.sign_ecdsa_recoverable(msg, &secret_key()))
        .expect("builds")
        .to_string()
}

/// Signs a raw invoice (which may break BOLT 11 rules) with the fixed key.
pub fn sign_raw(raw: RawBolt11Invoice) -> String {
    let secp = Secp256k1::new();
    raw.sign::<_, ()>(|msg| Ok(secp.sign_ecdsa_recoverable(msg, &secret_key())))
        .expect("signs")
        .to_string()
}

/// What both decoders are compared on: every field the widget reads.
pub type Fields = (
    String,
    Network,
    Option<u64>,
    [u8; 32],
    u64,
    u64,
    Option<String>,
    Option<[u8; 32]>,
    Option<u64>,
);

/// The fields of the widget's decode.
pub fn fields(d: &DecodedInvoice) -> Fields {
    (
        d.payment_request().to_string(),
        d.network(),
        d.amount_msat(),
        d.payment_hash(),
        d.timestamp_secs(),
        d.expiry_secs(),
        d.description().map(String::from),
        d.description_hash(),
        d.min_final_cltv_expiry_delta(),
    )
}

/// The reference decoder: lightning-invoice's `SignedRawBolt11Invoice::from_str` and
/// `Bolt11Invoice::from_signed`'s rules but the signature's validity, its errors named as the
/// widget names them. The widget's own pre-checks (empty, too long, mixed case) come first, as
/// in `decode`; `text` is a bare invoice (no scheme, no whitespace).
pub fn reference_decode(text: &str) -> Result<Fields, InvoiceError> {
    use lightning_invoice::{
        Bolt11ParseError as P, Bolt11SemanticError as S, SignedRawBolt11Invoice, TaggedField,
    };
    if text.is_empty() {
        return Err(InvoiceError::Empty);
    }
    if text.len() > MAX_INVOICE_LEN {
        return Err(InvoiceError::TooLong { len: text.len() });
    }
    if text.bytes().any(|b| b.is_ascii_uppercase()) && text.bytes().any(|b| b.is_ascii_lowercase())
    {
        return Err(InvoiceError::MixedCase);
    }
    let signed: SignedRawBolt11Invoice = text.parse().map_err(|e| match e {
        P::Bech32Error(CheckedHrpstringError::Checksum(ChecksumError::InvalidResidue)) => {
            InvoiceError::Checksum
        }
        P::Bech32Error(_) => InvoiceError::Parse(ParseError::Bech32),
        P::UnknownCurrency => InvoiceError::UnknownNetwork,
        P::MalformedSignature(bitcoin::secp256k1::Error::InvalidPublicKey) => {
            InvoiceError::Parse(ParseError::MalformedPubKey)
        }
        P::MalformedSignature(_) => InvoiceError::MalformedSignature,
        P::MalformedHRP => InvoiceError::Parse(ParseError::MalformedHrp),
        P::UnknownSiPrefix => InvoiceError::Parse(ParseError::UnknownSiPrefix),
        P::ParseAmountError(_) => InvoiceError::Parse(ParseError::AmountTooLarge),
        P::IntegerOverflowError => InvoiceError::Parse(ParseError::IntegerOverflow),
        P::TooShortDataPart => InvoiceError::Parse(ParseError::TooShortDataPart),
        P::UnexpectedEndOfTaggedFields => {
            InvoiceError::Parse(ParseError::UnexpectedEndOfTaggedFields)
        }
        P::DescriptionDecodeError(_) => InvoiceError::Parse(ParseError::DescriptionNotUtf8),
        P::InvalidSegWitProgramLength => {
            InvoiceError::Parse(ParseError::InvalidSegWitProgramLength)
        }
        P::InvalidPubKeyHashLength => InvoiceError::Parse(ParseError::InvalidPubKeyHashLength),
        P::InvalidScriptHashLength => InvoiceError::Parse(ParseError::InvalidScriptHashLength),
        other => {
            panic!("the reference gave an error the widget does not name: {other:?} for {text}")
        }
    })?;
    let raw = signed.raw_invoice();
    let count =
        |pred: fn(&TaggedField) -> bool| raw.known_tagged_fields().filter(|f| pred(f)).count();
    let once = |n: usize, none: S, many: S| match n {
        0 => Err(none),
        1 => Ok(()),
        _ => Err(many),
    };
    let semantic = || -> Result<(), S> {
        once(
            count(|f| matches!(f, TaggedField::PaymentHash(_))),
            S::NoPaymentHash,
            S::MultiplePaymentHashes,
        )?;
        once(
            count(|f| {
                matches!(
                    f,
                    TaggedField::Description(_) | TaggedField::DescriptionHash(_)
                )
            }),
            S::NoDescription,
            S::MultipleDescriptions,
        )?;
        once(
            count(|f| matches!(f, TaggedField::PaymentSecret(_))),
            S::NoPaymentSecret,
            S::MultiplePaymentSecrets,
        )?;
        match raw.features() {
            Some(f) if f.supports_payment_secret() && !f.requires_unknown_bits() => {}
            _ => return Err(S::InvalidFeatures),
        }
        if raw.amount_pico_btc().is_some_and(|p| p % 10 != 0) {
            return Err(S::ImpreciseAmount);
        }
        Ok(())
    };
    semantic().map_err(|e| {
        InvoiceError::Semantic(match e {
            S::NoPaymentHash => SemanticError::NoPaymentHash,
            S::MultiplePaymentHashes => SemanticError::MultiplePaymentHashes,
            S::NoDescription => SemanticError::NoDescription,
            S::MultipleDescriptions => SemanticError::MultipleDescriptions,
            S::NoPaymentSecret => SemanticError::NoPaymentSecret,
            S::MultiplePaymentSecrets => SemanticError::MultiplePaymentSecrets,
            S::InvalidFeatures => SemanticError::InvalidFeatures,
            S::ImpreciseAmount => SemanticError::ImpreciseAmount,
            other => panic!("unexpected semantic error {other:?}"),
        })
    })?;
    let network = match raw.currency() {
        Currency::Bitcoin => Network::Bitcoin,
        Currency::BitcoinTestnet => Network::Testnet,
        Currency::Signet => Network::Signet,
        Currency::Regtest => Network::Regtest,
        Currency::Simnet => return Err(InvoiceError::UnknownNetwork),
    };
    let amount_msat = match (raw.hrp.raw_amount, raw.amount_pico_btc()) {
        (None, _) => None,
        (Some(_), Some(pico)) => Some(pico / 10),
        (Some(_), None) => return Err(InvoiceError::Parse(ParseError::IntegerOverflow)),
    };
    Ok((
        text.to_ascii_lowercase(),
        network,
        amount_msat,
        raw.payment_hash().expect("checked").0.to_byte_array(),
        raw.data.timestamp.as_unix_timestamp(),
        raw.expiry_time().map_or(3600, |x| x.as_seconds()),
        raw.description().map(|d| d.as_inner().0.clone()),
        raw.description_hash().map(|h| h.0.to_byte_array()),
        raw.min_final_cltv_expiry_delta().map(|c| c.0),
    ))
}

/// True when `text` holds a node id (payee `n`, route-hint hop) with a valid encoding (02 or
/// 03, then x below the field prime) that is not a point of the curve, found by walking its
/// fields with the bech32 crate and asking secp256k1.
pub fn has_off_curve_node_id(text: &str) -> bool {
    use bech32::primitives::decode::CheckedHrpstring;
    use bech32::primitives::iter::Fe32IterExt;
    let Ok(checked) = CheckedHrpstring::new::<lightning_invoice::Bolt11Bech32>(text) else {
        return false;
    };
    let fes: Vec<u8> = checked
        .fe32_iter::<std::vec::IntoIter<u8>>()
        .map(|f| f.to_u8())
        .collect();
    let Some(fields) = fes.get(7..fes.len().saturating_sub(104)) else {
        return false;
    };
    // p = 2^256 - 2^32 - 977, the field prime: a valid encoding has x below it.
    let p = hex_bytes("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
    let off_curve = |key: &[u8]| {
        matches!(key[0], 2 | 3)
            && key[1..] < p[..]
            && bitcoin::secp256k1::PublicKey::from_slice(key).is_err()
    };
    let bytes = |d: &[u8]| -> Vec<u8> {
        d.iter()
            .map(|&v| bech32::Fe32::try_from(v).expect("5 bits"))
            .fes_to_bytes()
            .collect()
    };
    let mut rest = fields;
    while rest.len() >= 3 {
        let len = usize::from(rest[1]) * 32 + usize::from(rest[2]);
        let Some(data) = rest.get(3..3 + len) else {
            return false;
        };
        match (rest[0], len) {
            (19, 53) if off_curve(&bytes(data)) => return true,
            (3, _)
                if bytes(data)
                    .chunks_exact(51)
                    .any(|hop| off_curve(&hop[..33])) =>
            {
                return true
            }
            _ => {}
        }
        rest = &rest[3 + len..];
    }
    false
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Decodes `text` with both decoders and asserts that they agree: the same fields, or the same
/// error. The one difference allowed (src/invoice.rs's docs): a node id with a valid encoding
/// that is not a point of the curve, which the reference refuses and the widget keeps as bytes
/// (it then accepts the invoice, or refuses it for a later field); the test proves that such a
/// node id is there. Returns true for such a case.
pub fn assert_same_as_reference(text: &str) -> bool {
    let ours = lightning_checkout::invoice::decode(text).map(|d| fields(&d));
    let reference = reference_decode(text);
    if ours != reference && reference == Err(InvoiceError::Parse(ParseError::MalformedPubKey)) {
        assert!(
            has_off_curve_node_id(text),
            "the decoders differ on {text}: {ours:?} / {reference:?}, and no node id is off the curve"
        );
        return true;
    }
    assert_eq!(ours, reference, "the decoders differ on {text}");
    false
}
