//! Benchmark hooks (feature `bench` only; never in the published package): the widget's own
//! decode-and-check and QR code paths, called in a loop from the benchmark page so that they
//! are timed in the same browser page as the JavaScript alternatives.

use wasm_bindgen::prelude::*;

use crate::invoice::{check_invoice, decode, parse_hash_hex, Expected};
use crate::qr::{Qr, QUIET_ZONE};

/// Decodes and checks `invoice` `n` times against its own amount, network and hash at its own
/// timestamp (every check runs and passes); returns how many passed.
#[wasm_bindgen]
pub fn bench_decode_check(invoice: &str, n: u32) -> u32 {
    let Ok(d) = decode(invoice) else { return 0 };
    let Some(hash) = parse_hash_hex(&d.payment_hash_hex()) else {
        return 0;
    };
    let expected = Expected {
        amount_msat: d.amount_msat().unwrap_or(0),
        network: d.network(),
        payment_hash: hash,
    };
    let now = d.timestamp_secs() * 1000;
    (0..n)
        .filter(|_| check_invoice(invoice, &expected, now).is_ok())
        .count() as u32
}

/// Encodes `payload` as a QR code and builds its SVG path `n` times; returns the path length of
/// the last one (so the work cannot be optimised away).
#[wasm_bindgen]
pub fn bench_qr_path(payload: &str, n: u32) -> u32 {
    let mut len = 0;
    for _ in 0..n {
        len = Qr::encode(payload).map_or(0, |q| q.svg_path_data(QUIET_ZONE).len() as u32);
    }
    len
}
