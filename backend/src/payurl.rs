//! A pay link (`pay_url`, Kraken Pay's `view_link`) the backend may store and hand out: the
//! contract's one rule for a link a payer may be sent to (`contract/src/payurl.rs`, which the
//! widget applies too, and whose docs say why each part of it is there), and, what only the
//! backend can know, the host must equal the provider's configured host exactly
//! (case-insensitive; the port is not compared): a provider cannot send the payer anywhere else.

pub use lightning_checkout_contract::payurl::{is_loopback_host, pay_url_host, HttpUrl};
pub use lightning_checkout_contract::MAX_PAY_URL_LEN;

/// Whether `url` is a pay link the backend may store and hand out for a provider configured at
/// `provider_host` (see the module docs).
pub fn pay_url_allowed(url: &str, provider_host: &str) -> bool {
    pay_url_host(url)
        .is_some_and(|h| !provider_host.is_empty() && h.eq_ignore_ascii_case(provider_host))
}

/// The host of a configured base URL (`https://api.kraken.com/x` → `api.kraken.com`), lower case.
pub fn host_of(base_url: &str) -> Option<String> {
    HttpUrl::parse(base_url).map(|u| u.host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheme, host and loopback cases are the contract's (`contract/tests/rules.rs`); here,
    /// the pin to the provider's host.
    #[test]
    fn links_must_be_on_the_providers_host() {
        let host = "pay.example.com";
        assert!(pay_url_allowed("https://pay.example.com/p/abc", host));
        assert!(pay_url_allowed("HTTPS://Pay.Example.com:8443/p?x=1", host));
        for bad in [
            "https://evil.example/p",
            "https://pay.example.com.evil.example/p",
            "https://evil.example@pay.example.com/p",
            "http://pay.example.com/p",
        ] {
            assert!(!pay_url_allowed(bad, host), "{bad}");
        }
        assert!(pay_url_allowed("http://127.0.0.1:9000/pay/x", "127.0.0.1"));
        assert!(pay_url_allowed("http://localhost:9000/pay/x", "localhost"));
        assert!(pay_url_allowed("http://[::1]:9000/pay/x", "[::1]"));
        assert!(!pay_url_allowed("http://127.0.0.1:9000/pay/x", "localhost"));
        assert!(!pay_url_allowed("https://x.example/", ""));
        assert_eq!(
            host_of("https://api.kraken.com/0").as_deref(),
            Some("api.kraken.com")
        );
        assert_eq!(host_of("http://127.0.0.1:9/").as_deref(), Some("127.0.0.1"));
        assert_eq!(
            host_of("HTTPS://API.Kraken.com").as_deref(),
            Some("api.kraken.com")
        );
    }
}
