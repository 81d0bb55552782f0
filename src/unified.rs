//! PURE: the unified QR (BIP21 with a `lightning=` parameter, as BTCPay and Phoenix read it):
//! `BITCOIN:ADDRESS?amount=0.000025&lightning=LNBC…`. Upper case where BIP21 allows it (the
//! scheme, a bech32 address, the invoice), so a QR code needs fewer modules; the amount is exact
//! BTC written from integer sats, never through a float.

/// Is `a` shaped like an address the widget may put in a URI (the contract's rule, which
/// [`crate::contract::Created::from_wire`] applies to every answer).
pub use lightning_checkout_contract::wire::valid_onchain_address as valid_address;

/// `sat` as exact BTC, the shortest decimal: `2500` → `0.000025`, `100000000` → `1`.
pub fn btc_amount(sat: u64) -> String {
    let (whole, frac) = (sat / 100_000_000, sat % 100_000_000);
    if frac == 0 {
        return format!("{whole}");
    }
    let f = format!("{frac:08}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// The BIP21 URI of an on-chain `address` for `sat` with the Lightning `invoice` beside it.
/// A bech32 address (`bc1`, `tb1`, `bcrt1`) is upper-cased (bech32 allows either case, not
/// both); a base58 one keeps its case. Parameter names stay lower case, as BIP21 writes them.
pub fn bip21(address: &str, sat: u64, invoice: &str) -> String {
    let lower = address.to_ascii_lowercase();
    let bech32 = ["bc1", "tb1", "bcrt1"].iter().any(|p| lower.starts_with(p));
    let addr = if bech32 {
        address.to_ascii_uppercase()
    } else {
        String::from(address)
    };
    format!(
        "BITCOIN:{addr}?amount={}&lightning={}",
        btc_amount(sat),
        invoice.to_ascii_uppercase()
    )
}
