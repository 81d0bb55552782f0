//! When a link is safe to hand to a payer: the one rule for a pay link (`pay_url`, Kraken Pay's
//! `view_link`), which the widget applies before it shows or opens one and the backend before it
//! stores one; the backend's provider base URLs are read with the same parser.
//!
//! A pay link is accepted when it is all of:
//!
//! * at most [`MAX_PAY_URL_LEN`] bytes of printable ASCII: no white space or control characters
//!   (a browser strips some of them, so what is shown would not be what is opened), nothing
//!   outside ASCII (a right-to-left override in the path can make a link read as another; a
//!   provider's link is percent-encoded anyway);
//! * `https://` (the scheme in any case, as browsers read it), or plain `http://` only to a
//!   loopback host **written as one**: `localhost`, `[::1]`, or a dotted-decimal IPv4 address in
//!   `127.0.0.0/8` without leading zeros. Plain http elsewhere can be read and rewritten on the
//!   way; `127.attacker.example` and `127.0.0.1.attacker.example` are names, resolved by DNS;
//!   `127.0.0.010` is octal to a browser; the long spellings of `[::1]` are refused because no
//!   test host needs them and refusing is safe;
//! * an authority without user info (`https://pay.example@evil.example/` opens `evil.example`)
//!   and without a backslash (a browser reads `\` as `/`, which moves the host): both are
//!   characters a host cannot have;
//! * a host of ASCII letters, digits, `-` and `.` (an internationalised host must come in its
//!   `xn--` form, so a look-alike letter cannot pose as the provider's), or a bracketed IPv6
//!   literal; a port, if any, of 1 to 5 digits up to 65535.
//!
//! The backend further pins the host to the provider's own (`backend/src/payurl.rs`): the widget
//! cannot know it.
//!
//! The three copies this replaces disagreed: the widget took `http://[::1]x80/` (it never looked
//! at the character after `]`), any host characters and format characters such as U+202E; the
//! backend took the long spellings of `[::1]` and ports above 65535; the provider base-URL check
//! took the scheme in lower case only and any port text. This rule is the strictest of the three
//! on every point.

use alloc::string::String;

use crate::limits::MAX_PAY_URL_LEN;
use crate::text::strip_prefix_ignore_case;

/// An `http(s)` URL split at its authority, as [`HttpUrl::parse`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// `https://` rather than `http://`.
    pub https: bool,
    /// The host as written (IPv6 in brackets); compare it case-insensitively.
    pub host: &'a str,
    /// The port's digits, empty when none is given.
    pub port: &'a str,
    /// Everything after the authority (path, query, fragment), possibly empty.
    pub rest: &'a str,
}

impl<'a> HttpUrl<'a> {
    /// Reads `url` under the rules of the module docs (printable ASCII, scheme, host and port
    /// characters, so no user info or backslash); does not check the length or whether plain
    /// http goes to a loopback host.
    #[inline]
    pub fn parse(url: &'a str) -> Option<HttpUrl<'a>> {
        if !url.bytes().all(|b| matches!(b, b'!'..=b'~')) {
            return None;
        }
        let (https, after) = match strip_prefix_ignore_case(url, "https://") {
            Some(r) => (true, r),
            None => (false, strip_prefix_ignore_case(url, "http://")?),
        };
        // Printable ASCII only (checked above), so every byte index is a character boundary:
        // the checked splits below never fail, and have no panic path (a slice's panic message
        // costs the widget's wasm Unicode tables).
        let end = after
            .bytes()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        let (authority, rest) = after.split_at_checked(end)?;
        let (host, port) = if authority.starts_with('[') {
            let close = authority.bytes().position(|b| b == b']')?;
            let (host, tail) = authority.split_at_checked(close + 1)?;
            let ok = close > 1
                && host
                    .get(1..close)?
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
            match tail.as_bytes().first() {
                _ if !ok => return None,
                None => (host, ""),
                Some(b':') => (host, tail.get(1..)?),
                Some(_) => return None,
            }
        } else {
            let (host, port) = match authority.bytes().rposition(|b| b == b':') {
                Some(i) if i + 1 == authority.len() => return None,
                Some(i) => (authority.get(..i)?, authority.get(i + 1..)?),
                None => (authority, ""),
            };
            let ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
            if !ok {
                return None;
            }
            (host, port)
        };
        let port_ok = port.is_empty()
            || (port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.bytes().fold(0u32, |v, b| v * 10 + u32::from(b - b'0')) <= 65_535);
        port_ok.then_some(HttpUrl {
            https,
            host,
            port,
            rest,
        })
    }

    /// `https`, or plain `http` to a loopback host written as one ([`is_loopback_host`]).
    #[inline]
    pub fn is_secure(&self) -> bool {
        self.https || is_loopback_host(self.host)
    }
}

/// `localhost` (any case), `[::1]`, or a dotted-decimal IPv4 literal in `127.0.0.0/8` without
/// leading zeros (`127.0.0.1`, not `127.0.0.01`). Written out rather than with `core::net`'s
/// parsers, which would cost the widget's wasm about 1.5 KB.
#[inline]
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    let octet = |p: &str| {
        let b = p.as_bytes();
        !b.is_empty()
            && b.len() <= 3
            && b.iter().all(u8::is_ascii_digit)
            && (b.len() == 1 || b[0] != b'0')
            && b.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0')) <= 255
    };
    let mut parts = host.split('.');
    matches!(parts.next(), Some("127"))
        && (0..3).all(|_| parts.next().is_some_and(octet))
        && parts.next().is_none()
}

/// `url` read as a pay link, if it is one a payer may be sent to (see the module docs).
#[inline]
pub fn pay_url(url: &str) -> Option<HttpUrl<'_>> {
    if url.len() > MAX_PAY_URL_LEN {
        return None;
    }
    HttpUrl::parse(url).filter(HttpUrl::is_secure)
}

/// Is `url` a pay link a payer may be sent to? (The widget's whole check.)
#[inline]
pub fn valid_pay_url(url: &str) -> bool {
    pay_url(url).is_some()
}

/// The host of pay link `url` in lower case (IPv6 in brackets), if it is one a payer may be sent
/// to; the backend compares it with the provider's host.
#[inline]
pub fn pay_url_host(url: &str) -> Option<String> {
    pay_url(url).map(|u| u.host.to_ascii_lowercase())
}
