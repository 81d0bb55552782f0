//! The message catalogue: every locale file (`js/locales/*.json`) has every key of the English
//! catalogue (`src/i18n.rs`, plus the element shim's three `load_*` sentences) and no other, with
//! the same placeholders; every key the code asks for exists; the TypeScript key list matches.

use std::collections::BTreeSet;
use std::path::Path;

use lightning_checkout::i18n::{english, entries, tf};

const SHIM_KEYS: [&str; 3] = ["load_csp_blocked", "load_wasm_not_found", "load_network"];
const LOCALES: [&str; 10] = [
    "es", "pt-BR", "de", "fr", "it", "ja", "zh-CN", "ru", "tr", "ar",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn english_keys() -> BTreeSet<String> {
    entries()
        .map(|(k, _)| k.to_string())
        .chain(SHIM_KEYS.iter().map(|k| k.to_string()))
        .collect()
}

/// The `{name}` placeholders of a template.
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.insert(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    out
}

#[test]
fn every_locale_has_every_key_and_no_other_with_the_same_placeholders() {
    let dir = root().join("js/locales");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("js/locales")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = LOCALES.iter().map(|l| format!("{l}.json")).collect();
    expected.sort();
    assert_eq!(files, expected, "the locale files");
    let keys = english_keys();
    for locale in LOCALES {
        let text = std::fs::read_to_string(dir.join(format!("{locale}.json"))).unwrap();
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{locale}.json: {e}"));
        let got: BTreeSet<String> = map.keys().cloned().collect();
        let missing: Vec<_> = keys.difference(&got).collect();
        let extra: Vec<_> = got.difference(&keys).collect();
        assert!(missing.is_empty(), "{locale}.json lacks {missing:?}");
        assert!(extra.is_empty(), "{locale}.json has unknown keys {extra:?}");
        for (key, value) in &map {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{locale}.json: {key} is not text"));
            assert!(!value.trim().is_empty(), "{locale}.json: {key} is empty");
            if !SHIM_KEYS.contains(&key.as_str()) {
                assert_eq!(
                    placeholders(value),
                    placeholders(english(key).unwrap()),
                    "{locale}.json: the placeholders of {key}"
                );
            }
        }
    }
}

/// Every `t("…")` / `tf("…"` / `Some("…")` key in the widget's code is in the catalogue, so no
/// sentence shows as its key.
#[test]
fn every_key_the_code_uses_is_in_the_catalogue() {
    let keys = english_keys();
    let mut used = 0;
    for file in [
        "state.rs",
        "view.rs",
        "api.rs",
        "widget.rs",
        "amount.rs",
        "invoice.rs",
    ] {
        let text = std::fs::read_to_string(root().join("src").join(file)).unwrap();
        for pattern in ["t(\"", "tf(\""] {
            for (at, _) in text.match_indices(pattern) {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' || before == '.' {
                    continue; // `get("…")`, `x.t("…")`: not the catalogue
                }
                let rest = &text[at + pattern.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                assert!(
                    keys.contains(key),
                    "src/{file} uses the unknown key {key:?}"
                );
                used += 1;
            }
        }
    }
    assert!(used > 30, "found only {used} uses");
}

#[test]
fn the_english_catalogue_is_well_formed() {
    let keys: Vec<_> = entries().map(|(k, _)| k).collect();
    assert_eq!(
        keys.len(),
        english_keys().len() - SHIM_KEYS.len(),
        "no key twice"
    );
    assert_eq!(
        keys.len(),
        lightning_checkout::i18n::ENGLISH.lines().count(),
        "one key=text a line"
    );
    for (k, v) in entries() {
        assert!(
            k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{k}"
        );
        assert!(!v.is_empty(), "{k}");
    }
}

#[test]
fn the_typescript_key_list_is_the_catalogue() {
    let dts = std::fs::read_to_string(root().join("js/lightning-checkout.d.ts")).unwrap();
    let start = dts.find("export type MessageKey =").expect("MessageKey");
    let list = &dts[start..start + dts[start..].find(';').unwrap()];
    let typed: BTreeSet<String> = list
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    assert_eq!(typed, english_keys());
}

#[test]
fn english_fills_placeholders_and_keeps_the_sentences() {
    assert_eq!(
        tf("paid_amount", &[("amount", "2,500 sat")]),
        "Paid 2,500 sat. Thank you!"
    );
    assert_eq!(tf("expires_in", &[("time", "14:59")]), "Expires in 14:59");
    assert_eq!(
        lightning_checkout::amount::format_sat(1234),
        "1,234 sat",
        "without a catalogue, commas"
    );
}

#[test]
fn a_catalogue_replaces_texts_and_numbers_while_in_force() {
    use lightning_checkout::i18n::{with, Catalogue};
    use std::rc::Rc;
    let de = Rc::new(Catalogue {
        texts: vec![
            ("sat", String::from("{amount} sat")),
            ("paid", String::from("Bezahlt.")),
        ],
        number: Some(Box::new(|msat| format!("<{msat}>"))),
        fiat: Some(Box::new(|currency, amount| {
            (currency == "EUR").then(|| format!("{amount} €"))
        })),
    });
    with(&de, || {
        assert_eq!(lightning_checkout::i18n::t("paid"), "Bezahlt.");
        assert_eq!(lightning_checkout::amount::format_sat(2), "<2000> sat");
        // A key the catalogue does not replace stays English.
        assert_eq!(lightning_checkout::i18n::t("copy"), "Copy");
        // A fiat price as the language writes money; a currency it cannot write: plain.
        let price = |currency: &str| lightning_checkout::fiat::FiatPrice {
            currency: currency.into(),
            amount: "4.50".into(),
        };
        assert_eq!(
            lightning_checkout::fiat::approx_line(&price("EUR")),
            "≈ 4.50 €"
        );
        assert_eq!(
            lightning_checkout::fiat::approx_line(&price("XXX")),
            "≈ XXX 4.50"
        );
        assert_eq!(lightning_checkout::amount::format_count(3), "<3000>");
    });
    assert_eq!(
        lightning_checkout::fiat::approx_line(&price_eur()),
        "≈ EUR 4.50"
    );
    assert_eq!(lightning_checkout::i18n::t("paid"), "Paid. Thank you!");
}

/// The amount and invoice errors write their sentence from the catalogue by their code: each
/// code the payer can meet has a sentence (never the bare code).
#[test]
fn error_codes_have_sentences() {
    use lightning_checkout::amount::AmountError;
    use lightning_checkout::invoice::{InvoiceError, Network};
    let amount = [
        AmountError::Empty,
        AmountError::NotANumber,
        AmountError::Fractional,
        AmountError::Negative,
        AmountError::BadGrouping,
        AmountError::TooSmall { min_sat: 10 },
        AmountError::TooLarge { max_sat: 10 },
        AmountError::InvalidBounds,
    ];
    for e in amount {
        assert_ne!(e.message(), e.code(), "{e:?}");
        assert!(e.message().ends_with('.'), "{e:?}");
    }
    assert_eq!(
        AmountError::TooSmall { min_sat: 1000 }.message(),
        "Enter an amount of at least 1,000 sat."
    );
    let invoice = [
        InvoiceError::Empty,
        InvoiceError::NoLightningInvoice,
        InvoiceError::MixedCase,
        InvoiceError::Checksum,
        InvoiceError::MalformedSignature,
        InvoiceError::UnknownNetwork,
        InvoiceError::WrongNetwork {
            expected: Network::Bitcoin,
            found: Network::Testnet,
        },
        InvoiceError::NoAmount,
        InvoiceError::WrongAmount {
            expected_msat: 2_500_000,
            found_msat: 2_500_001,
        },
        InvoiceError::HashMismatch,
        InvoiceError::Expired { expired_at_secs: 1 },
        InvoiceError::TooLongForQr,
    ];
    for e in invoice {
        assert_ne!(e.message(), e.code(), "{e:?}");
        assert!(!e.message().contains('{'), "{e:?}");
    }
    assert_eq!(
        InvoiceError::WrongAmount {
            expected_msat: 2_500_000,
            found_msat: 2_500_001,
        }
        .message(),
        "The invoice from the shop is for 2,500.001 sat, not the 2,500 sat you asked for, so it is not shown."
    );
}

fn price_eur() -> lightning_checkout::fiat::FiatPrice {
    lightning_checkout::fiat::FiatPrice {
        currency: "EUR".into(),
        amount: "4.50".into(),
    }
}

#[test]
fn placeholders_are_filled_by_name_and_anything_else_is_kept_as_written() {
    use lightning_checkout::i18n::{with, Catalogue};
    use std::rc::Rc;
    let odd = Rc::new(Catalogue {
        texts: vec![(
            "paid",
            String::from("{a}{b} – {unknown}, {a} {{b}} {b no close ñ{a"),
        )],
        ..Catalogue::default()
    });
    let filled = with(&odd, || tf("paid", &[("a", "ä"), ("b", "{a}")]));
    // Values are inserted as they are (a value's own braces are not filled again), an unknown
    // name and an unclosed brace stay as written, non-ASCII text around them is kept.
    assert_eq!(filled, "ä{a} – {unknown}, ä {{a}} {b no close ñ{a");
}
