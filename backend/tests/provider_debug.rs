//! Every adapter's `Debug` (derived since the adapters share `providers::http::Api`) prints no
//! credential: each is configured with a distinctive value and its `Debug` text is searched.

use lightning_checkout_backend::config::ProviderKind;
use lightning_checkout_backend::providers::{
    alphapo, amboss, btcpay, cln, kraken, lnbits, lnd, ProviderSettings,
};

/// Base64 of "kraken-secret-never-printed": its text appears in neither form.
const KRAKEN_SECRET_B64: &str = "a3Jha2VuLXNlY3JldC1uZXZlci1wcmludGVk";

fn vars(kind: ProviderKind) -> Vec<(&'static str, &'static str)> {
    match kind {
        ProviderKind::Lnd => vec![
            ("LND_URL", "https://127.0.0.1:8080"),
            ("LND_MACAROON_HEX", "deadbeefcafe0123456789"),
        ],
        ProviderKind::Cln => vec![
            ("CLN_URL", "https://localhost:3010"),
            ("CLN_RUNE", "rune-never-printed"),
        ],
        ProviderKind::Lnbits => vec![
            ("LNBITS_URL", "https://lnbits.example"),
            ("LNBITS_API_KEY", "lnbits-key-never-printed"),
        ],
        ProviderKind::Btcpay => vec![
            ("BTCPAY_URL", "https://btcpay.example"),
            ("BTCPAY_API_KEY", "btcpay-key-never-printed"),
            ("BTCPAY_STORE_ID", "store1"),
            ("BTCPAY_WEBHOOK_SECRET", "btcpay-hook-never-printed"),
        ],
        ProviderKind::Amboss => vec![
            ("AMBOSS_API_KEY", "amb_test_amboss-key-never-printed"),
            ("AMBOSS_WALLET_ID", "wallet1"),
            ("AMBOSS_WEBHOOK_SECRET", "amboss-hook-never-printed"),
        ],
        ProviderKind::Alphapo => vec![
            ("ALPHAPO_KEY", "alphapo-key-never-printed"),
            ("ALPHAPO_SECRET", "alphapo-secret-never-printed"),
        ],
        ProviderKind::Kraken => vec![
            ("KRAKEN_API_KEY", "kraken-key-never-printed"),
            ("KRAKEN_API_SECRET", KRAKEN_SECRET_B64),
        ],
        ProviderKind::Demo => vec![],
    }
}

fn debug_of(settings: ProviderSettings) -> String {
    match settings {
        ProviderSettings::Lnd(s) => format!("{:?}", lnd::Lnd::new(s).unwrap()),
        ProviderSettings::Cln(s) => format!("{:?}", cln::Cln::new(s).unwrap()),
        ProviderSettings::Lnbits(s) => format!("{:?}", lnbits::Lnbits::new(s).unwrap()),
        ProviderSettings::Btcpay(s) => format!("{:?}", btcpay::Btcpay::new(s).unwrap()),
        ProviderSettings::Amboss(s) => format!("{:?}", amboss::Amboss::new(s).unwrap()),
        ProviderSettings::Alphapo(s) => format!("{:?}", alphapo::Alphapo::new(s).unwrap()),
        ProviderSettings::Kraken(s) => format!("{:?}", kraken::Kraken::new(s).unwrap()),
        ProviderSettings::Demo => unreachable!("no credentials"),
    }
}

#[test]
fn adapter_debug_prints_no_credential() {
    let kinds = [
        ProviderKind::Lnd,
        ProviderKind::Cln,
        ProviderKind::Lnbits,
        ProviderKind::Btcpay,
        ProviderKind::Amboss,
        ProviderKind::Alphapo,
        ProviderKind::Kraken,
    ];
    for kind in kinds {
        let vars = vars(kind);
        let get = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let settings = ProviderSettings::from_lookup(kind, &get).unwrap();
        let text = debug_of(settings);
        assert!(text.contains("[redacted]"), "{kind:?}: {text}");
        for (name, value) in &vars {
            let secret = name.ends_with("_KEY")
                || name.ends_with("_SECRET")
                || name.ends_with("_RUNE")
                || name.ends_with("_HEX");
            if secret {
                assert!(!text.contains(value), "{kind:?} prints {name}: {text}");
            }
        }
        assert!(!text.contains("never-printed"), "{kind:?}: {text}");
        assert!(!text.contains("deadbeef"), "{kind:?}: {text}");
    }
}
