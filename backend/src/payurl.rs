//! The one rule for a pay link (`pay_url`, Kraken Pay's `view_link`), used wherever the backend
//! checks one; the widget's `contract::valid_pay_url` applies the same scheme and loopback rules
//! (it cannot know the provider's host).
//!
//! * At most 2048 bytes; no whitespace or control characters; no user info (`user@host`).
//! * `https://` — or plain `http://` only to a loopback host written as such: `localhost`
//!   exactly, an IPv4 literal in `127.0.0.0/8`, or `[::1]` (never `127.attacker.example`).
//! * The host must equal the provider's configured host exactly (case-insensitive; the port is
//!   not compared): a provider cannot send the payer anywhere else.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest pay link accepted.
pub const MAX_PAY_URL_LEN: usize = 2048;

/// The host of `url` (lower case, IPv6 in brackets) if `url` is a well-formed `http(s)` link
/// under the scheme rules above; `None` otherwise.
pub fn pay_url_host(url: &str) -> Option<String> {
    if url.len() > MAX_PAY_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (https, rest) = if let Some(r) = strip_prefix_ignore_case(url, "https://") {
        (true, r)
    } else {
        (false, strip_prefix_ignore_case(url, "http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        (&authority[..=end], &authority[end + 1..])
    } else {
        match authority.rsplit_once(':') {
            Some((h, _)) => (h, &authority[h.len()..]),
            None => (authority, ""),
        }
    };
    if !(port.is_empty()
        || (port.len() > 1
            && port.len() <= 6
            && port[1..].bytes().all(|b| b.is_ascii_digit())
            && port.starts_with(':')))
    {
        return None;
    }
    let host = host.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    if !https && !is_loopback_host(&host) {
        return None;
    }
    Some(host)
}

/// `localhost` exactly, an IPv4 literal in `127.0.0.0/8`, or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` is a pay link the backend may store and hand out for a provider configured at
/// `provider_host` (see the module docs).
pub fn pay_url_allowed(url: &str, provider_host: &str) -> bool {
    pay_url_host(url)
        .is_some_and(|h| !provider_host.is_empty() && h.eq_ignore_ascii_case(provider_host))
}

/// The host of a configured base URL (`https://api.kraken.com/x` → `api.kraken.com`).
pub fn host_of(base_url: &str) -> Option<String> {
    let rest = strip_prefix_ignore_case(base_url, "https://")
        .or_else(|| strip_prefix_ignore_case(base_url, "http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if authority.starts_with('[') {
        &authority[..=authority.find(']')?]
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_links_are_refused() {
        let host = "pay.example.com";
        assert!(pay_url_allowed("https://pay.example.com/p/abc", host));
        assert!(pay_url_allowed("HTTPS://Pay.Example.com:8443/p?x=1", host));
        for bad in [
            "https://evil.example/p",
            "https://pay.example.com.evil.example/p",
            "https://evil.example@pay.example.com/p",
            "https://pay.example.com@evil.example/p",
            "http://pay.example.com/p",
            "javascript:alert(1)",
            "https://pay.example.com/p q",
            "https://pay.example.com:x/p",
            "https:///p",
            "//pay.example.com/p",
        ] {
            assert!(!pay_url_allowed(bad, host), "{bad}");
        }
        // Plain http only to a real loopback host.
        assert!(pay_url_allowed("http://127.0.0.1:9000/pay/x", "127.0.0.1"));
        assert!(pay_url_allowed("http://localhost:9000/pay/x", "localhost"));
        assert!(pay_url_allowed("http://[::1]:9000/pay/x", "[::1]"));
        for bad in [
            "http://127.attacker.example/x",
            "http://127.0.0.1.attacker.example/x",
            "http://localhost.attacker.example/x",
            "http://127.0.0.1@attacker.example/x",
        ] {
            assert!(pay_url_host(bad).is_none(), "{bad}");
            assert!(!pay_url_allowed(bad, "127.0.0.1"), "{bad}");
        }
        assert!(!pay_url_allowed("https://x.example/", ""));
        assert_eq!(
            host_of("https://api.kraken.com/0").as_deref(),
            Some("api.kraken.com")
        );
        assert_eq!(host_of("http://127.0.0.1:9/").as_deref(), Some("127.0.0.1"));
    }
}
