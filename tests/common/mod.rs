//! Test helper: BOLT 11 invoices with chosen fields, signed with a fixed key.
//!
//! Uses the `bitcoin` dev-dependency (secp256k1 signing): never part of the widget itself.
#![allow(dead_code)]

use std::time::Duration;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
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
