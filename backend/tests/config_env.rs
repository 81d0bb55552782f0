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

#[test]
fn demo_provider_is_refused_on_mainnet() {
    for vars in [
        &[("NETWORK", "bitcoin")][..],
        &[("NETWORK", "mainnet"), ("PROVIDER", "demo")][..],
    ] {
        let err = from(vars).unwrap_err();
        assert!(err.starts_with("PROVIDER: "), "{err}");
        assert!(err.contains("NETWORK=bitcoin"), "{err}");
    }
    // Other networks keep the demo; a real provider may run on mainnet.
    assert!(from(&[("NETWORK", "signet")]).is_ok());
    let lnd = from(&[
        ("NETWORK", "bitcoin"),
        ("PROVIDER", "lnd"),
        ("LND_URL", "https://127.0.0.1:8080"),
        ("LND_MACAROON_HEX", "0201"),
    ]);
    assert!(lnd.is_ok() || !lnd.unwrap_err().contains("demo"));
}

#[test]
fn limits_variables() {
    use std::time::Duration;
    let c = from(&[
        ("HEADER_READ_TIMEOUT_SECS", "5"),
        ("REQUEST_TIMEOUT_SECS", "20"),
        ("MAX_CONNECTIONS", "100"),
        ("MAX_CONCURRENT_REQUESTS", "10"),
        ("CREATE_RATE_PER_MIN", "12"),
        ("CREATE_RATE_BURST", "3"),
        ("TRUSTED_PROXIES", "10.0.0.1, ::1"),
        ("LOOKUP_CACHE_MS", "1500"),
        ("POLL_WAIT_MS", "2000"),
        ("RETENTION_DAYS", "7"),
        ("RETENTION_INTERVAL_SECS", "600"),
        ("PAY_LINK_HOST", "Pay.Example.com"),
    ])
    .unwrap();
    let l = &c.limits;
    assert_eq!(l.header_read_timeout, Duration::from_secs(5));
    assert_eq!(l.request_timeout, Duration::from_secs(20));
    assert_eq!((l.max_connections, l.max_concurrent_requests), (100, 10));
    assert_eq!((l.create_rate_per_min, l.create_rate_burst), (12, 3));
    assert_eq!(l.trusted_proxies.len(), 2);
    assert_eq!(l.lookup_cache, Duration::from_millis(1500));
    assert_eq!(l.poll_wait, Duration::from_millis(2000));
    assert_eq!(l.retention, Some(Duration::from_secs(7 * 86_400)));
    assert_eq!(l.retention_interval, Duration::from_secs(600));
    assert_eq!(c.pay_link_host.as_deref(), Some("pay.example.com"));
    assert_eq!(
        from(&[("RETENTION_DAYS", "0")]).unwrap().limits.retention,
        None
    );
    for (k, v) in [
        ("POLL_WAIT_MS", "15000"),
        ("TRUSTED_PROXIES", "proxy.example"),
        ("MAX_CONNECTIONS", "0"),
        ("PAY_LINK_HOST", "https://x.example/"),
    ] {
        let err = from(&[(k, v)]).unwrap_err();
        assert!(err.starts_with(k), "{err}");
    }
}

#[test]
fn database_url_selects_postgres_and_is_checked() {
    assert!(from(&[]).unwrap().database.is_none());
    let c = from(&[
        (
            "DATABASE_URL",
            "postgres://shop:hunter2-secret@db.internal:5432/checkout",
        ),
        ("DATABASE_POOL_SIZE", "4"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "2500"),
    ])
    .unwrap();
    let db = c.database.as_ref().unwrap();
    assert_eq!(db.pool_size, 4);
    assert_eq!(db.statement_timeout, std::time::Duration::from_millis(2500));
    // The URL holds a password: never printed.
    assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
    let d = from(&[("DATABASE_URL", "postgres://db/x")]).unwrap();
    assert_eq!(d.database.unwrap().pool_size, 16);
    for (vars, name) in [
        (vec![("DATABASE_URL", "mysql://db/x")], "DATABASE_URL"),
        (
            vec![("DATABASE_URL", "postgres://db/x?sslmode=bogus")],
            "DATABASE_URL",
        ),
        (
            vec![
                ("DATABASE_URL", "postgres://db/x"),
                ("DATABASE_POOL_SIZE", "0"),
            ],
            "DATABASE_POOL_SIZE",
        ),
        (
            vec![
                ("DATABASE_URL", "postgres://db/x"),
                ("DATABASE_STATEMENT_TIMEOUT_MS", "5"),
            ],
            "DATABASE_STATEMENT_TIMEOUT_MS",
        ),
    ] {
        let e = from(&vars).unwrap_err();
        assert!(e.starts_with(name), "{vars:?}: {e}");
        assert!(!e.contains("db/x"), "the URL is not repeated: {e}");
    }
}
