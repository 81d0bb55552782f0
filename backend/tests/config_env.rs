//! Configuration from environment variables.

use std::collections::HashMap;
use std::path::PathBuf;

use lightning_checkout_backend::config::{
    Config, CorsOrigins, Network, ProviderKind, Secret, DEFAULT_MAX_AMOUNT_SAT,
};

fn from(vars: &[(&str, &str)]) -> Result<Config, String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).map_err(|e| e.to_string())
}

#[test]
fn defaults() {
    let c = from(&[]).unwrap();
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 8080);
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.provider, ProviderKind::Demo);
    assert_eq!(c.network, Network::Regtest);
    assert_eq!(c.max_amount_sat, DEFAULT_MAX_AMOUNT_SAT);
    assert_eq!(c.cors_origins, CorsOrigins::SameOrigin);
    assert_eq!(c.www_dir, PathBuf::from("www"));
    assert_eq!(c.pkg_dir, PathBuf::from("pkg"));
}

#[test]
fn every_variable() {
    let c = from(&[
        ("HOST", "0.0.0.0"),
        ("PORT", "0"),
        ("DATA_DIR", "/var/lib/checkout"),
        ("PROVIDER", "DEMO"),
        ("NETWORK", "signet"),
        ("MAX_AMOUNT_SAT", "1000"),
        ("CORS_ORIGINS", "https://a.example, https://b.example:8443"),
        ("WWW_DIR", "site"),
        ("PKG_DIR", "dist"),
    ])
    .unwrap();
    assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 0));
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/checkout"));
    assert_eq!(c.network, Network::Signet);
    assert_eq!(c.max_amount_sat, 1000);
    assert_eq!(
        c.cors_origins,
        CorsOrigins::List(vec![
            "https://a.example".into(),
            "https://b.example:8443".into()
        ])
    );
    assert_eq!(c.www_dir, PathBuf::from("site"));
    assert_eq!(c.pkg_dir, PathBuf::from("dist"));
    assert_eq!(
        from(&[("CORS_ORIGINS", "*")]).unwrap().cors_origins,
        CorsOrigins::Any
    );
    assert_eq!(
        from(&[("CORS_ORIGINS", " ")]).unwrap().cors_origins,
        CorsOrigins::SameOrigin
    );
}

#[test]
fn bad_values_name_the_variable() {
    for (k, v) in [
        ("PORT", "80a"),
        ("PORT", "70000"),
        ("PROVIDER", "paypal"),
        ("NETWORK", "liquid"),
        ("MAX_AMOUNT_SAT", "0"),
        ("MAX_AMOUNT_SAT", "1.5"),
        ("MAX_AMOUNT_SAT", "2100000000000001"),
        ("CORS_ORIGINS", "*, https://a.example"),
        ("CORS_ORIGINS", "shop.example"),
        ("CORS_ORIGINS", "https://shop.example/"),
        ("CORS_ORIGINS", "https://shop.example/path"),
    ] {
        let err = from(&[(k, v)]).unwrap_err();
        assert!(err.starts_with(k), "{k}={v}: {err}");
    }
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
    assert_eq!(s.expose(), "hunter2");
    let c = from(&[]).unwrap();
    assert!(format!("{c:?}").contains("Config"));
}
