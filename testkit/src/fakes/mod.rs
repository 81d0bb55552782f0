//! One module per provider: request checks, answers and webhooks.

pub mod alphapo;
pub mod amboss;
pub mod btcpay;
pub mod cln;
pub mod kraken;
pub mod lnbits;
pub mod lnd;
pub mod lnd_chain;
pub mod streams;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand::RngCore;

use crate::{Event, FakeInvoice, Kind, Shared, Webhook};

/// A request as the fakes see it.
pub struct Req {
    pub method: Method,
    pub path: String,
    #[allow(dead_code)]
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"))
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub async fn handle(shared: &Shared, req: Req) -> Response {
    match shared.kind {
        Kind::Amboss => amboss::handle(shared, req),
        Kind::Alphapo => alphapo::handle(shared, req),
        Kind::Kraken => kraken::handle(shared, req),
        Kind::Lnd => lnd::handle(shared, req),
        Kind::Cln => cln::handle(shared, req),
        Kind::Lnbits => lnbits::handle(shared, req),
        Kind::Btcpay => btcpay::handle(shared, req),
    }
}

pub fn webhook_for(shared: &Shared, inv: &FakeInvoice, event: Event) -> Option<Webhook> {
    match shared.kind {
        Kind::Amboss => Some(amboss::webhook(shared, inv, event)),
        Kind::Alphapo => alphapo::webhook(inv, event),
        Kind::Kraken => Some(kraken::webhook(shared, inv, event)),
        Kind::Lnd | Kind::Cln => None,
        Kind::Lnbits => lnbits::webhook(inv, event),
        Kind::Btcpay => Some(btcpay::webhook(inv, event)),
    }
}

pub fn hmac256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    for p in parts {
        m.update(p);
    }
    hex::encode(m.finalize().into_bytes())
}

pub fn hmac512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<sha2::Sha512> as Mac>::new_from_slice(key).expect("any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A random alphanumeric id.
pub fn random_id(n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| A[*x as usize % A.len()] as char).collect()
}

/// Whether `s` is a positive integer in decimal, no sign, no leading zero.
pub fn positive_int(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    //! The fakes sign and check with their own code: it must agree with providers.md's vectors.
    use super::{hmac256_hex, hmac512};

    #[test]
    fn vectors() {
        assert_eq!(
            super::kraken::api_sign(
                "/0/private/Pay/request/create",
                "1767225600000",
                br#"{"nonce":"1767225600000","amount":"0.0001","asset":"BTC","external_id":"AAECAwQFBgcICQoLDA0ODw","expire_after_seconds":900,"note":"Order 42"}"#
            ),
            "hlwtjtR+XFFHXw0ZlujrekWEpaeQYGC+/QaCD2Hqcphekw5/TItwv/orVLz8wR+bTzP91wEGL7eTYFKx8Fd4Cg=="
        );
        assert_eq!(
            hex::encode(hmac512(
                b"AbCdEfG123456",
                &[br#"{"currency":"BTCLN","foreign_id":"order-42","end_user_reference":"user-7","amount":0.0001}"#]
            )),
            "275ca8e1feb192f8c6ca8f958f9a9ddd3b0f6be3ce1dbd955379ae7daf44eca529ba8f3f14cd92bd8ff27f0f2a94088a0fa23c2500b0f96cda37516906b9c1d2"
        );
        assert_eq!(
            hmac256_hex(
                b"whsec_test_secret",
                &[b"1767225600", b".", br#"{"id":"evt_1","event_type":"payment.completed","wallet_id":"w1","data":{"id":"tx1","status":"completed","direction":"receive"}}"#]
            ),
            "754830fa4567c334f80bf4cecdfe6d320dc23816d8450b5af06837bfc0c4ae24"
        );
        assert_eq!(
            hmac256_hex(
                b"btcpay_test_secret",
                &[br#"{"deliveryId":"d1","webhookId":"wh1","originalDeliveryId":"d1","isRedelivery":false,"type":"InvoiceSettled","timestamp":1767225600,"storeId":"S1","invoiceId":"I1","metadata":{"orderId":"42"},"manuallyMarked":false,"overPaid":false}"#]
            ),
            "4f8c1fd890f9d3babca684b927f7c152d4eeadf1177342ae703282e607d8e9d9"
        );
    }
}
