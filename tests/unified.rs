//! The unified QR's BIP21 string: exact BTC amounts from integer sats, upper case where allowed.

use lightning_checkout::unified::{bip21, btc_amount, valid_address};

#[test]
fn btc_amounts_are_exact() {
    assert_eq!(btc_amount(1), "0.00000001");
    assert_eq!(btc_amount(2500), "0.000025");
    assert_eq!(btc_amount(7500), "0.000075");
    assert_eq!(btc_amount(100_000_000), "1");
    assert_eq!(btc_amount(123_456_789), "1.23456789");
    assert_eq!(btc_amount(2_100_000_000_000_000), "21000000");
    assert_eq!(btc_amount(u64::MAX), "184467440737.09551615");
}

#[test]
fn bech32_and_invoice_upper_case_base58_kept() {
    assert_eq!(
        bip21("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 2500, "lnbcrt25u1pabc"),
        "BITCOIN:BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080?amount=0.000025&lightning=LNBCRT25U1PABC"
    );
    assert_eq!(
        bip21("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 100_000_000, "lnbc1"),
        "BITCOIN:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2?amount=1&lightning=LNBC1"
    );
    assert!(valid_address(
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
    ));
    for bad in [
        "",
        "bc1q?amount=1",
        "bc1q w508d6qejxtdg4y5r3zarvary0c5xw7",
        "short",
    ] {
        assert!(!valid_address(bad), "{bad:?}");
    }
}
