//! Structure-aware mutation testing of the widget's invoice pipeline (the spirit of Core
//! Lightning's `fuzz-bolt11.c` custom mutator, on stable Rust and deterministic, so CI runs it):
//! each seed is split into its HRP and 5-bit data, mutated, and re-encoded with a VALID bech32
//! checksum, so the mutations reach the field parser instead of dying at the checksum.
//!
//! Properties: `decode` never panics (a panic kills the widget for the page's life); it agrees
//! with lightning-invoice, the reference decoder, on every mutant (the same fields or the same
//! error; `common::assert_same_as_reference`); whatever it accepts passes `check_invoice` against its own fields at its own timestamp (or is refused only
//! for not fitting a QR code), and its QR payload encodes without panicking.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use bech32::primitives::decode::CheckedHrpstring;
use bech32::primitives::iter::Fe32IterExt;
use bech32::{Fe32, Hrp};
use common::{assert_same_as_reference, make, Desc, Spec, NOW_SECS};
use lightning_checkout::invoice::{check_invoice, decode, Expected, InvoiceError};
use lightning_checkout::qr::Qr;
use lightning_invoice::{Bolt11Bech32, Currency};

const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<String> {
    let mut s = vec![
        // BOLT 11 examples (valid).
        "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh".to_string(),
        "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql".to_string(),
    ];
    for (currency, hints, desc) in [
        (Currency::Regtest, 0, Desc::Text("Order 42 <script>".into())),
        (Currency::Signet, 2, Desc::Hash([7; 32])),
        (Currency::BitcoinTestnet, 1, Desc::Text(String::new())),
    ] {
        s.push(make(&Spec {
            currency,
            route_hints: hints,
            description: desc,
            ..Spec::default()
        }));
    }
    s
}

const HRPS: &[&str] = &[
    "lnbc",
    "lntb",
    "lntbs",
    "lnbcrt",
    "lnsb",
    "ln",
    "lnbc1",
    "lnbc0",
    "lnbc2500u",
    "lnbc1p",
    "lnbc10p",
    "lnbc0p",
    "lnbc1m",
    "lnbc99999999999999999999",
    "lnbc18446744073709551615p",
    "lnbc2500x",
    "lnbcrt1n",
    "lnxyz",
    "bc",
    "lnbc-1",
];

fn mutate(rng: &mut Rng, hrp: &str, data: &[u8]) -> (String, Vec<u8>) {
    let mut hrp = hrp.to_string();
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(3) {
        match rng.below(8) {
            0 | 1 => {
                // replace some characters
                for _ in 0..1 + rng.below(4) {
                    if !d.is_empty() {
                        let i = rng.below(d.len());
                        d[i] = CHARSET[rng.below(32)];
                    }
                }
            }
            2 => {
                // delete a range
                if !d.is_empty() {
                    let i = rng.below(d.len());
                    let n = 1 + rng.below(20);
                    d.drain(i..(i + n).min(d.len()));
                }
            }
            3 => {
                // insert random characters
                let i = rng.below(d.len() + 1);
                for _ in 0..1 + rng.below(20) {
                    d.insert(i, CHARSET[rng.below(32)]);
                }
            }
            4 => {
                // duplicate a chunk (repeated tagged fields)
                if d.len() > 10 {
                    let i = rng.below(d.len() - 5);
                    let n = 1 + rng.below(60).min(d.len() - i - 1);
                    let chunk: Vec<u8> = d[i..i + n].to_vec();
                    let at = rng.below(d.len());
                    d.splice(at..at, chunk);
                }
            }
            5 => d.truncate(rng.below(d.len() + 1)),
            6 => hrp = HRPS[rng.below(HRPS.len())].to_string(),
            _ => {
                // a tagged field's length characters (after the 7-char timestamp)
                if d.len() > 12 {
                    let i = 7 + rng.below(d.len() - 10);
                    d[i] = CHARSET[rng.below(32)];
                }
            }
        }
    }
    (hrp, d)
}

fn encode(hrp: &str, data: &[u8]) -> Option<String> {
    let hrp = Hrp::parse(hrp).ok()?;
    let fes: Vec<Fe32> = data
        .iter()
        .map(|&c| Fe32::from_char(c as char).ok())
        .collect::<Option<_>>()?;
    Some(
        fes.into_iter()
            .with_checksum::<Bolt11Bech32>(&hrp)
            .chars()
            .collect(),
    )
}

#[test]
fn mutated_invoices_never_panic_and_accepted_ones_are_consistent() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut accepted, mut refused, mut off_curve) = (0usize, 0usize, 0usize);
    for seed in seeds() {
        let checked = CheckedHrpstring::new::<Bolt11Bech32>(&seed).expect("seed decodes");
        let hrp = checked.hrp().to_string();
        let data = checked.data_part_ascii_no_checksum().to_vec();
        for _ in 0..1000 {
            let (h, d) = mutate(&mut rng, &hrp, &data);
            let Some(s) = encode(&h, &d) else { continue };
            let input = if rng.below(4) == 0 {
                s.to_uppercase()
            } else {
                s
            };
            let result = catch_unwind(AssertUnwindSafe(|| decode(&input)))
                .unwrap_or_else(|_| panic!("decode panicked on {input}"));
            if assert_same_as_reference(&input) {
                off_curve += 1;
            }
            match result {
                Err(_) => refused += 1,
                Ok(inv) => {
                    accepted += 1;
                    let expected = Expected {
                        amount_msat: inv.amount_msat().unwrap_or(0),
                        network: inv.network(),
                        payment_hash: inv.payment_hash(),
                    };
                    let now = inv.timestamp_secs().saturating_mul(1000);
                    let checked =
                        catch_unwind(AssertUnwindSafe(|| check_invoice(&input, &expected, now)))
                            .unwrap_or_else(|_| panic!("check_invoice panicked on {input}"));
                    match checked {
                        Ok(c) => {
                            let qr = c.qr_payload();
                            catch_unwind(AssertUnwindSafe(|| Qr::encode(&qr)))
                                .unwrap_or_else(|_| panic!("QR panicked on {qr}"))
                                .expect("a checked invoice fits a QR code");
                        }
                        // Amount-less or expired-at-birth (expiry 0) mutants: refused, fine.
                        Err(InvoiceError::NoAmount)
                        | Err(InvoiceError::Expired { .. })
                        | Err(InvoiceError::TooLongForQr) => {}
                        Err(e) => panic!("decode accepted but check refused {input}: {e:?}"),
                    }
                }
            }
        }
    }
    // The mutator must exercise both paths, or the test proves little.
    assert!(accepted > 200, "only {accepted} mutants decoded");
    assert!(refused > 2000, "only {refused} mutants refused");
    eprintln!(
        "mutants: {accepted} accepted, {refused} refused, {off_curve} with an off-curve node id"
    );
    let _ = NOW_SECS;
}
