//! Local fake servers for the checkout backend's invoice providers (tests only).
//!
//! [`Fake::start`] binds one provider's fake on `127.0.0.1:0`. Each fake speaks the wire format
//! described in `shared/docs/providers.md` and **checks** every request the backend sends: path,
//! auth header, signature (recomputed over the exact bytes), body fields, amounts in the right
//! unit. Anything off is refused with that provider's error shape and recorded in
//! [`Fake::rejections`]. BOLT 11 providers issue real invoices signed with the fake's own node
//! key (regtest, payee key in `n`).
//!
//! Control endpoints (also for the JS end-to-end tests, through the `testkit-fake` binary):
//!
//! | route | what |
//! | --- | --- |
//! | `GET /_test/env` | the environment the backend needs to use this fake (`PROVIDER`, URL, credentials) |
//! | `GET /_test/state` | invoices, create calls, rejections, webhook deliveries |
//! | `POST /_test/config` | `{"webhook_url"?, "now"?, "fail_next_creates"?, "btcpay_version"?, "btcpay_lazy_payment_methods"?, "lookup_delay_ms"?, "down"?, "lnd_version"?}` |
//! | `POST /_test/settle` | `{"id"?}`: mark paid (all pending without `id`) and deliver the signed webhook, for providers that send one |
//! | `POST /_test/accept` | LND only: `ACCEPTED` (a held HTLC: not paid) |
//! | `POST /_test/expire` | mark expired (and deliver the provider's expiry webhook, if it has one) |
//! | `POST /_test/chain_pay` | LND only: `{"address", "sat"}`, a payment into the mempool (see `fakes::lnd_chain`) |
//! | `POST /_test/mine` | LND only: `{"blocks"}`, mine blocks (the mempool confirms in the first) |
//! | `POST /_test/drop_streams` | LND, CLN: cut every open subscription (`/v1/invoices/subscribe`, `waitanyinvoice`) |
//!
//! LND and CLN push too, as the daemons do: `GET /v1/invoices/subscribe?settle_index=N` streams
//! newline-delimited `{"result": Invoice}` objects (every invoice settled after `N`, then each
//! new or settled one); clnrest's `POST /v1/waitanyinvoice {"lastpay_index", "timeout"}` answers
//! the first invoice paid after that `pay_index` (error 904 at the timeout). A settled invoice
//! gets the next `settle_index` / `pay_index` (its own sequence, apart from `add_index`).
//!
//! `id` matches an invoice's provider id, its idempotency key/label, its payment hash (hex) or its
//! BOLT 11.

mod fakes;
mod tls;
mod util;

pub use tls::TlsMode;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use p256::ecdsa::SigningKey;
use rand::RngCore;
use serde_json::{json, Value};

pub use fakes::btcpay::chain_address as btcpay_chain_address;
pub use util::{btc_to_msat, msat_to_btc, rfc3339};

/// Which provider a fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Amboss Payments (GraphQL).
    Amboss,
    /// AlphaPo.
    Alphapo,
    /// Kraken Pay.
    Kraken,
    /// LND REST.
    Lnd,
    /// Core Lightning clnrest.
    Cln,
    /// LNbits.
    Lnbits,
    /// BTCPay Server Greenfield.
    Btcpay,
}

impl Kind {
    /// Every provider.
    pub const ALL: [Kind; 7] = [
        Kind::Amboss,
        Kind::Alphapo,
        Kind::Kraken,
        Kind::Lnd,
        Kind::Cln,
        Kind::Lnbits,
        Kind::Btcpay,
    ];

    /// `PROVIDER`'s value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Amboss => "amboss",
            Kind::Alphapo => "alphapo",
            Kind::Kraken => "kraken",
            Kind::Lnd => "lnd",
            Kind::Cln => "cln",
            Kind::Lnbits => "lnbits",
            Kind::Btcpay => "btcpay",
        }
    }

    /// Parse `PROVIDER`'s value.
    pub fn parse(s: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the fake delivers webhooks when an invoice is settled.
    pub fn sends_webhooks(self) -> bool {
        !matches!(self, Kind::Lnd | Kind::Cln)
    }
}

/// The fakes' credentials (test values, never real ones).
pub mod creds {
    /// Amboss `x-api-key`.
    pub const AMBOSS_API_KEY: &str = "amb_test_fake_key_0001";
    /// Amboss wallet id.
    pub const AMBOSS_WALLET_ID: &str = "5e4b1e2a-9f3c-4a5b-8c7d-1234567890ab";
    /// Amboss webhook secret (the providers.md local vector's).
    pub const AMBOSS_WEBHOOK_SECRET: &str = "whsec_test_secret";
    /// AlphaPo public key.
    pub const ALPHAPO_KEY: &str = "alphapo_test_public_key";
    /// AlphaPo secret (the providers.md official vector's).
    pub const ALPHAPO_SECRET: &str = "AbCdEfG123456";
    /// Kraken API key.
    pub const KRAKEN_API_KEY: &str = "kraken_test_api_key";
    /// Kraken API secret (the providers.md official vector's).
    pub const KRAKEN_API_SECRET: &str =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
    /// The kid of the fake's callback key.
    pub const KRAKEN_KID: &str = "fake-kraken-pay-1";
    /// LND macaroon (hex).
    pub const LND_MACAROON_HEX: &str = "0201036c6e640258030a10fa4e0bd3c2a7e7a5f1e3c0c6d8b2a1f41201301a160a0761646472657373120472656164120577726974651a170a08696e766f6963657312047265616412057772697465";
    /// CLN rune.
    pub const CLN_RUNE: &str = "fake_rune_QwErTy0123456789_method=invoice";
    /// LNbits invoice key.
    pub const LNBITS_API_KEY: &str = "lnbits_test_invoice_key_0123456789";
    /// BTCPay API key.
    pub const BTCPAY_API_KEY: &str = "btcpay_test_api_key_0123456789";
    /// BTCPay store id.
    pub const BTCPAY_STORE_ID: &str = "FakeStore7Xy";
    /// BTCPay webhook secret (the providers.md local vector's).
    pub const BTCPAY_WEBHOOK_SECRET: &str = "btcpay_test_secret";
}

/// Where an invoice is, at the fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeStatus {
    /// Open.
    Pending,
    /// LND hold invoice with an accepted HTLC: not paid.
    Accepted,
    /// Settled.
    Paid,
    /// Expired or cancelled.
    Expired,
}

/// One invoice (or Kraken pay request) the fake made.
#[derive(Debug, Clone)]
pub struct FakeInvoice {
    /// The provider's id: Amboss tx id, AlphaPo address id, Kraken external_id, LND/LNbits hex
    /// hash, CLN label, BTCPay invoice id.
    pub handle: String,
    /// Idempotency key / label / foreign_id as received.
    pub key: Option<String>,
    /// Payment hash (BOLT 11 providers).
    pub payment_hash: Option<[u8; 32]>,
    /// Preimage (BOLT 11 providers).
    pub preimage: Option<[u8; 32]>,
    /// The invoice.
    pub bolt11: Option<String>,
    /// Amount in msat, as parsed from the request in the provider's unit.
    pub amount_msat: u64,
    /// Description / memo / note.
    pub description: String,
    /// Status.
    pub status: FakeStatus,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Unix seconds.
    pub paid_at: Option<u64>,
    /// A per-invoice webhook URL (LNbits `webhook`).
    pub webhook_url: Option<String>,
    /// Extra request data kept for answers (metadata, end_user_reference…).
    pub extra: Value,
    /// Creation order (add_index, created_index…).
    pub seq: u64,
}

/// A webhook, as the fake would deliver it.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Exact body bytes.
    pub body: Vec<u8>,
    /// Headers (signature, timestamp, content type).
    pub headers: Vec<(String, String)>,
    /// Where it goes (if known).
    pub url: Option<String>,
}

/// What a webhook says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Paid.
    Paid,
    /// Expired / cancelled.
    Expired,
}

/// A webhook delivery the fake made.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Target.
    pub url: String,
    /// HTTP status answered (0: not delivered).
    pub status: u16,
    /// Answer body.
    pub answer: String,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub invoices: Vec<FakeInvoice>,
    pub create_calls: usize,
    pub cancels: usize,
    pub activations: usize,
    pub rejections: Vec<String>,
    pub deliveries: Vec<Delivery>,
    pub kraken_nonce: u64,
    pub seq: u64,
    /// The last settle_index / pay_index given.
    pub pay_seq: u64,
    /// Subscriptions opened (LND stream, CLN waitanyinvoice calls).
    pub stream_connects: usize,
    /// The index each subscription asked to resume after (`settle_index`, `lastpay_index`).
    pub stream_from: Vec<u64>,
    /// LND's on-chain wallet (unified invoices).
    pub chain: fakes::lnd_chain::Chain,
}

/// The shared state of one fake.
pub struct Shared {
    /// Which provider.
    pub kind: Kind,
    pub(crate) url: String,
    pub(crate) inner: Mutex<Inner>,
    now: AtomicU64,
    webhook_url: Mutex<Option<String>>,
    pub(crate) fail_next_creates: AtomicUsize,
    /// Status lookups received (any request that reads an invoice's state).
    lookup_calls: AtomicUsize,
    /// Delay before answering a status lookup, in ms (a slow provider).
    lookup_delay_ms: AtomicU64,
    /// Answer every provider request 503 (a provider that is down).
    pub(crate) down: std::sync::atomic::AtomicBool,
    /// Bumped to cut every open subscription.
    pub(crate) stream_generation: AtomicU64,
    node_key: SecretKey,
    secp: Secp256k1<bitcoin::secp256k1::All>,
    pub(crate) jwt_key: SigningKey,
    /// Kraken: keys published after a rotation (kid, key), besides `jwt_key`.
    pub(crate) rotated_jwt_keys: Mutex<Vec<(String, SigningKey)>>,
    /// BTCPay: which server generation the fake plays, and lazy payment methods.
    pub(crate) btcpay_mode: Mutex<fakes::btcpay::Mode>,
    http: reqwest::Client,
}

/// A running fake.
pub struct Fake {
    /// Its state (also reachable through the control endpoints).
    pub shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    /// Start a fake of `kind` on `127.0.0.1:0`.
    pub async fn start(kind: Kind) -> Fake {
        Self::start_on(kind, "127.0.0.1:0").await
    }

    /// Start a fake of `kind` on `addr`.
    pub async fn start_on(kind: Kind, addr: &str) -> Fake {
        Self::start_inner(kind, addr, None).await.0
    }

    /// Start a fake of `kind` serving HTTPS on `127.0.0.1:0`. `SelfSigned` mimics LND (one
    /// self-signed CA-flagged certificate for `localhost`/`127.0.0.1`, URL with `127.0.0.1`);
    /// `CaSigned` mimics clnrest (a server certificate for `cln` and `localhost` only, issued by
    /// its own CA, URL with `localhost`). Returns the PEM to trust: the certificate itself, or the CA.
    pub async fn start_tls(kind: Kind, mode: TlsMode) -> (Fake, String) {
        let (fake, pem) = Self::start_inner(kind, "127.0.0.1:0", Some(mode)).await;
        (fake, pem.expect("TLS material"))
    }

    async fn start_inner(kind: Kind, addr: &str, tls: Option<TlsMode>) -> (Fake, Option<String>) {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the fake");
        let addr = listener.local_addr().expect("local addr");
        let (scheme_host, acceptor, pem) = match tls {
            None => (format!("http://{addr}"), None, None),
            Some(mode) => {
                let (acceptor, pem) = tls::acceptor(mode);
                let host = match mode {
                    TlsMode::SelfSigned => format!("https://{addr}"),
                    TlsMode::CaSigned => format!("https://localhost:{}", addr.port()),
                };
                (host, Some(acceptor), Some(pem))
            }
        };
        let mut node = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut node);
        let mut jwt = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut jwt);
        let shared = Arc::new(Shared {
            kind,
            url: scheme_host,
            inner: Mutex::new(Inner::default()),
            now: AtomicU64::new(0),
            webhook_url: Mutex::new(None),
            fail_next_creates: AtomicUsize::new(0),
            lookup_calls: AtomicUsize::new(0),
            lookup_delay_ms: AtomicU64::new(0),
            down: std::sync::atomic::AtomicBool::new(false),
            stream_generation: AtomicU64::new(0),
            node_key: SecretKey::from_slice(&node).expect("random key"),
            secp: Secp256k1::new(),
            jwt_key: SigningKey::from_slice(&jwt).expect("random P-256 key"),
            rotated_jwt_keys: Mutex::new(Vec::new()),
            btcpay_mode: Mutex::new(fakes::btcpay::Mode::default()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        });
        let app = Router::new().fallback(dispatch).with_state(shared.clone());
        let task = match acceptor {
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }),
            Some(acceptor) => tokio::spawn(tls::serve(listener, acceptor, app)),
        };
        (Fake { shared, addr, task }, pem)
    }

    /// `http://127.0.0.1:PORT` (or the `https://` URL of a TLS fake).
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The environment the backend needs to use this fake.
    pub fn env(&self) -> Vec<(String, String)> {
        self.shared.env()
    }

    /// Where settle/expire webhooks go (LNbits: unless the invoice named its own).
    pub fn set_webhook_url(&self, url: &str) {
        *self.shared.webhook_url.lock().unwrap() = Some(url.to_owned());
    }

    /// The fake's clock (invoice timestamps, webhook timestamps); 0 = the system clock.
    pub fn set_now(&self, now: u64) {
        self.shared.now.store(now, Ordering::SeqCst);
    }

    /// The fake's current time.
    pub fn now(&self) -> u64 {
        self.shared.now()
    }

    /// Make the next `n` creates happen at the fake but answer 500 (a lost answer).
    pub fn fail_next_creates(&self, n: usize) {
        self.shared.fail_next_creates.store(n, Ordering::SeqCst);
    }

    /// Status lookups received so far (GETs of an invoice, CLN `listinvoices`).
    pub fn lookup_calls(&self) -> usize {
        self.shared.lookup_calls.load(Ordering::SeqCst)
    }

    /// Answer status lookups only after `delay` (a slow provider).
    pub fn set_lookup_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.lookup_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Answer every provider request 503 while `down` (a provider that cannot answer).
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// LND: settle matching invoices with only `amount_msat` received (an underpayment as the
    /// node reports it in `amt_paid_msat`), sending nothing.
    pub fn settle_with_amount(&self, id: Option<&str>, amount_msat: u64) {
        let now = self.shared.now();
        let mut g = self.shared.inner.lock().unwrap();
        let Inner {
            invoices, pay_seq, ..
        } = &mut *g;
        for i in invoices.iter_mut().filter(|i| Shared::matches(i, id)) {
            i.status = FakeStatus::Paid;
            i.paid_at = Some(now);
            i.extra["amount_paid_msat"] = json!(amount_msat);
            give_pay_index(i, pay_seq);
        }
    }

    /// LND, CLN: cut every open subscription (the stream or long poll ends with a broken
    /// connection, as when the node restarts).
    pub fn drop_streams(&self) {
        self.shared.stream_generation.fetch_add(1, Ordering::SeqCst);
    }

    /// LND, CLN: subscriptions opened so far.
    pub fn stream_connects(&self) -> usize {
        self.shared.inner.lock().unwrap().stream_connects
    }

    /// LND, CLN: the index each subscription asked to resume after, in order.
    pub fn stream_from(&self) -> Vec<u64> {
        self.shared.inner.lock().unwrap().stream_from.clone()
    }

    /// Every invoice made.
    pub fn invoices(&self) -> Vec<FakeInvoice> {
        self.shared.inner.lock().unwrap().invoices.clone()
    }

    /// Create calls that reached the handler with valid auth (including refused duplicates).
    pub fn create_calls(&self) -> usize {
        self.shared.inner.lock().unwrap().create_calls
    }

    /// Cancel calls (Kraken).
    pub fn cancels(&self) -> usize {
        self.shared.inner.lock().unwrap().cancels
    }

    /// Every refused request, with the reason.
    pub fn rejections(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().rejections.clone()
    }

    /// Every webhook delivered.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.inner.lock().unwrap().deliveries.clone()
    }

    /// Settle matching pending invoices (`None`: all) and deliver their webhooks.
    pub async fn settle(&self, id: Option<&str>) -> Vec<Delivery> {
        self.shared.transition(id, FakeStatus::Paid).await
    }

    /// Set the status of matching invoices at the fake, sending nothing (tests then craft
    /// webhooks themselves).
    pub fn mark(&self, id: Option<&str>, status: FakeStatus) {
        let now = self.shared.now();
        let mut g = self.shared.inner.lock().unwrap();
        let Inner {
            invoices, pay_seq, ..
        } = &mut *g;
        for i in invoices.iter_mut().filter(|i| Shared::matches(i, id)) {
            i.status = status;
            if status == FakeStatus::Paid {
                i.paid_at = Some(now);
                give_pay_index(i, pay_seq);
            }
        }
    }

    /// LND: mark matching invoices ACCEPTED (held, not paid).
    pub async fn accept(&self, id: Option<&str>) -> Vec<Delivery> {
        self.shared.transition(id, FakeStatus::Accepted).await
    }

    /// Expire matching pending invoices and deliver expiry webhooks where the provider sends one.
    pub async fn expire(&self, id: Option<&str>) -> Vec<Delivery> {
        self.shared.transition(id, FakeStatus::Expired).await
    }

    /// The webhook the fake would send for `inv` (signed as the provider signs), without
    /// sending it: tests tamper with it.
    pub fn webhook(&self, inv: &FakeInvoice, event: Event) -> Option<Webhook> {
        fakes::webhook_for(&self.shared, inv, event)
    }

    /// Kraken: a compact ES256 JWT over `header` and `claims`, signed with the fake's key.
    pub fn sign_jwt(&self, header: &Value, claims: &Value) -> String {
        fakes::kraken::sign_jwt(&self.shared.jwt_key, header, claims)
    }

    /// BTCPay: play a server of this `version` (`GET /api/v1/server/info`; below 2.0 the 1.x
    /// wire format: payment method ids `BTC-LightningNetwork`/`BTC_LightningLike`, refusing
    /// `BTC-LN`, and `paymentMethod` instead of `paymentMethodId`), with or without "lazy
    /// payment methods" (Lightning inactive, `destination: null`, until `…/activate`).
    pub fn set_btcpay_mode(&self, version: &str, lazy_payment_methods: bool) {
        *self.shared.btcpay_mode.lock().unwrap() = fakes::btcpay::Mode {
            version: version.to_owned(),
            lazy: lazy_payment_methods,
        };
    }

    /// BTCPay: how many `…/payment-methods/{id}/activate` calls were served.
    pub fn activations(&self) -> usize {
        self.shared.inner.lock().unwrap().activations
    }

    /// Kraken: the fake's JWKS (the first key, and any rotated in since).
    pub fn jwks(&self) -> Value {
        fakes::kraken::jwks_of(&self.shared)
    }

    /// Kraken: publish a new callback key under `kid` (a key rotation); sign with it through
    /// [`Fake::sign_jwt_with`].
    pub fn rotate_jwt_key(&self, kid: &str) {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        let key = SigningKey::from_slice(&k).expect("random P-256 key");
        self.shared
            .rotated_jwt_keys
            .lock()
            .unwrap()
            .push((kid.to_owned(), key));
    }

    /// Kraken: as [`Fake::sign_jwt`], with the key published under `kid` (the first key for
    /// [`creds::KRAKEN_KID`]).
    pub fn sign_jwt_with(&self, kid: &str, header: &Value, claims: &Value) -> String {
        if kid == creds::KRAKEN_KID {
            return self.sign_jwt(header, claims);
        }
        let keys = self.shared.rotated_jwt_keys.lock().unwrap();
        let key = &keys
            .iter()
            .find(|(k, _)| k == kid)
            .expect("a rotated-in kid")
            .1;
        fakes::kraken::sign_jwt(key, header, claims)
    }

    /// The public key that signs the fake's BOLT 11 invoices.
    pub fn node_id(&self) -> PublicKey {
        PublicKey::from_secret_key(&self.shared.secp, &self.shared.node_key)
    }
}

impl Shared {
    pub(crate) fn now(&self) -> u64 {
        match self.now.load(Ordering::SeqCst) {
            0 => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            t => t,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn webhook_url(&self) -> Option<String> {
        self.webhook_url.lock().unwrap().clone()
    }

    /// Record a refusal and answer it.
    pub(crate) fn reject(&self, reason: impl Into<String>, status: u16, body: &Value) -> Response {
        let reason = reason.into();
        eprintln!("[fake {}] refused: {reason}", self.kind.as_str());
        self.inner.lock().unwrap().rejections.push(reason);
        json_response(status, body)
    }

    /// Whether this create should "lose" its answer (consumes one).
    pub(crate) fn lose_answer(&self) -> bool {
        self.fail_next_creates
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let mut g = self.inner.lock().unwrap();
        g.seq += 1;
        g.seq
    }

    /// A real, signed regtest BOLT 11 invoice; (invoice, hash, preimage).
    pub(crate) fn issue_bolt11(
        &self,
        amount_msat: u64,
        description: &str,
        expiry_secs: u64,
    ) -> Result<(String, [u8; 32], [u8; 32]), String> {
        let mut preimage = [0u8; 32];
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut preimage);
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let hash = sha256::Hash::hash(&preimage);
        let node_id = PublicKey::from_secret_key(&self.secp, &self.node_key);
        let inv = InvoiceBuilder::new(Currency::Regtest)
            .description(description.to_owned())
            .payee_pub_key(node_id)
            .payment_hash(hash)
            .payment_secret(PaymentSecret(secret))
            .duration_since_epoch(Duration::from_secs(self.now()))
            .min_final_cltv_expiry_delta(18)
            .expiry_time(Duration::from_secs(expiry_secs))
            .amount_milli_satoshis(amount_msat)
            .build_signed(|h| self.secp.sign_ecdsa_recoverable(h, &self.node_key))
            .map_err(|e| format!("invoice not buildable: {e}"))?;
        Ok((inv.to_string(), hash.to_byte_array(), preimage))
    }

    pub(crate) fn env(&self) -> Vec<(String, String)> {
        use creds::*;
        let u = self.url.clone();
        let v: Vec<(&str, String)> = match self.kind {
            Kind::Amboss => vec![
                ("AMBOSS_URL", format!("{u}/graphql")),
                ("AMBOSS_API_KEY", AMBOSS_API_KEY.into()),
                ("AMBOSS_WALLET_ID", AMBOSS_WALLET_ID.into()),
                ("AMBOSS_WEBHOOK_SECRET", AMBOSS_WEBHOOK_SECRET.into()),
            ],
            Kind::Alphapo => vec![
                ("ALPHAPO_URL", u),
                ("ALPHAPO_KEY", ALPHAPO_KEY.into()),
                ("ALPHAPO_SECRET", ALPHAPO_SECRET.into()),
            ],
            Kind::Kraken => vec![
                ("KRAKEN_URL", u.clone()),
                ("KRAKEN_API_KEY", KRAKEN_API_KEY.into()),
                ("KRAKEN_API_SECRET", KRAKEN_API_SECRET.into()),
                (
                    "KRAKEN_JWKS_URL",
                    format!("{u}/.well-known/pay-callback-keys.json"),
                ),
            ],
            Kind::Lnd => vec![
                ("LND_URL", u),
                ("LND_MACAROON_HEX", LND_MACAROON_HEX.into()),
            ],
            Kind::Cln => vec![("CLN_URL", u), ("CLN_RUNE", CLN_RUNE.into())],
            Kind::Lnbits => vec![("LNBITS_URL", u), ("LNBITS_API_KEY", LNBITS_API_KEY.into())],
            Kind::Btcpay => vec![
                ("BTCPAY_URL", u),
                ("BTCPAY_API_KEY", BTCPAY_API_KEY.into()),
                ("BTCPAY_STORE_ID", BTCPAY_STORE_ID.into()),
                ("BTCPAY_WEBHOOK_SECRET", BTCPAY_WEBHOOK_SECRET.into()),
            ],
        };
        let mut out = vec![("PROVIDER".to_owned(), self.kind.as_str().to_owned())];
        out.extend(v.into_iter().map(|(k, v)| (k.to_owned(), v)));
        out
    }

    fn matches(inv: &FakeInvoice, id: Option<&str>) -> bool {
        match id {
            None | Some("") | Some("*") => true,
            Some(id) => {
                inv.handle == id
                    || inv.key.as_deref() == Some(id)
                    || inv.payment_hash.is_some_and(|h| hex::encode(h) == id)
                    || inv
                        .bolt11
                        .as_deref()
                        .is_some_and(|b| b.eq_ignore_ascii_case(id))
            }
        }
    }

    pub(crate) async fn transition(&self, id: Option<&str>, to: FakeStatus) -> Vec<Delivery> {
        let now = self.now();
        let changed: Vec<FakeInvoice> = {
            let mut g = self.inner.lock().unwrap();
            let Inner {
                invoices, pay_seq, ..
            } = &mut *g;
            invoices
                .iter_mut()
                .filter(|i| Self::matches(i, id))
                .filter(|i| matches!(i.status, FakeStatus::Pending | FakeStatus::Accepted))
                .filter(|i| !(to == FakeStatus::Accepted && i.status == FakeStatus::Accepted))
                .map(|i| {
                    i.status = to;
                    if to == FakeStatus::Paid {
                        i.paid_at = Some(now);
                        give_pay_index(i, pay_seq);
                    }
                    i.clone()
                })
                .collect()
        };
        let event = match to {
            FakeStatus::Paid => Event::Paid,
            FakeStatus::Expired => Event::Expired,
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        for inv in changed {
            if let Some(w) = fakes::webhook_for(self, &inv, event) {
                out.push(self.deliver(w).await);
            }
        }
        out
    }

    async fn deliver(&self, w: Webhook) -> Delivery {
        let Some(url) = w.url.clone().or_else(|| self.webhook_url()) else {
            return Delivery {
                url: String::new(),
                status: 0,
                answer: "no webhook URL configured".into(),
            };
        };
        let mut req = self.http.post(&url).body(w.body);
        for (k, v) in &w.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let d = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let answer = res.text().await.unwrap_or_default();
                Delivery {
                    url,
                    status,
                    answer,
                }
            }
            Err(e) => Delivery {
                url,
                status: 0,
                answer: format!("not delivered: {e}"),
            },
        };
        self.inner.lock().unwrap().deliveries.push(d.clone());
        d
    }

    fn state_json(&self) -> Value {
        let g = self.inner.lock().unwrap();
        json!({
            "provider": self.kind.as_str(),
            "create_calls": g.create_calls,
            "lookup_calls": self.lookup_calls.load(Ordering::SeqCst),
            "cancels": g.cancels,
            "stream_connects": g.stream_connects,
            "rejections": g.rejections,
            "deliveries": g.deliveries.iter().map(|d| json!({"url": d.url, "status": d.status, "answer": d.answer})).collect::<Vec<_>>(),
            "invoices": g.invoices.iter().map(|i| json!({
                "handle": i.handle,
                "key": i.key,
                "payment_hash": i.payment_hash.map(hex::encode),
                "bolt11": i.bolt11,
                "amount_msat": i.amount_msat,
                "status": format!("{:?}", i.status).to_lowercase(),
                "created_at": i.created_at,
                "expires_at": i.expires_at,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A settled invoice's place in the node's settle order (LND `settle_index`, CLN `pay_index`).
fn give_pay_index(i: &mut FakeInvoice, pay_seq: &mut u64) {
    if i.extra["pay_index"].is_null() {
        *pay_seq += 1;
        i.extra["pay_index"] = json!(*pay_seq);
    }
}

/// An invoice's `settle_index` / `pay_index`, 0 while unpaid.
pub(crate) fn pay_index(i: &FakeInvoice) -> u64 {
    i.extra["pay_index"].as_u64().unwrap_or(0)
}

/// A JSON answer.
pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if let Some(control) = path.strip_prefix("/_test/") {
        return control_endpoint(&shared, &method, control, &body).await;
    }
    if let Some(r) =
        fakes::streams::route(&shared, &method, &path, uri.query(), &headers, &body).await
    {
        return r;
    }
    let is_lookup = method == Method::GET || path.ends_with("/listinvoices");
    if is_lookup {
        shared.lookup_calls.fetch_add(1, Ordering::SeqCst);
        let delay = shared.lookup_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }
    if shared.down.load(Ordering::SeqCst) {
        return json_response(
            503,
            &json!({"error": "service unavailable (testkit: down)"}),
        );
    }
    let req = fakes::Req {
        method,
        path,
        query: uri.query().map(str::to_owned),
        headers,
        body,
    };
    fakes::handle(&shared, req).await
}

async fn control_endpoint(shared: &Shared, method: &Method, what: &str, body: &[u8]) -> Response {
    let args: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return json_response(400, &json!({"error": "control body is not JSON"})),
        }
    };
    let id = args["id"].as_str();
    match (method.as_str(), what) {
        ("GET", "env") => {
            let map: HashMap<String, String> = shared.env().into_iter().collect();
            json_response(200, &json!(map))
        }
        ("GET", "state") => json_response(200, &shared.state_json()),
        ("POST", "drop_streams") => {
            shared.stream_generation.fetch_add(1, Ordering::SeqCst);
            json_response(200, &json!({"ok": true}))
        }
        ("POST", "config") => {
            if let Some(u) = args["webhook_url"].as_str() {
                *shared.webhook_url.lock().unwrap() = Some(u.to_owned());
            }
            if let Some(t) = args["now"].as_u64() {
                shared.now.store(t, Ordering::SeqCst);
            }
            if let Some(v) = args["btcpay_version"].as_str() {
                shared.btcpay_mode.lock().unwrap().version = v.to_owned();
            }
            if let Some(l) = args["btcpay_lazy_payment_methods"].as_bool() {
                shared.btcpay_mode.lock().unwrap().lazy = l;
            }
            if let Some(ms) = args["lookup_delay_ms"].as_u64() {
                shared.lookup_delay_ms.store(ms, Ordering::SeqCst);
            }
            if let Some(d) = args["down"].as_bool() {
                shared.down.store(d, Ordering::SeqCst);
            }
            if let Some(v) = args["lnd_version"].as_str() {
                shared.inner.lock().unwrap().chain.version = v.to_owned();
            }
            if let Some(n) = args["fail_next_creates"].as_u64() {
                shared
                    .fail_next_creates
                    .store(usize::try_from(n).unwrap_or(0), Ordering::SeqCst);
            }
            json_response(200, &json!({"ok": true}))
        }
        ("POST", "settle" | "accept" | "expire") => {
            let to = match what {
                "settle" => FakeStatus::Paid,
                "accept" => FakeStatus::Accepted,
                _ => FakeStatus::Expired,
            };
            let before = shared.inner.lock().unwrap().invoices.clone();
            let deliveries = shared.transition(id, to).await;
            let after = shared.inner.lock().unwrap().invoices.clone();
            let changed: Vec<&str> = after
                .iter()
                .zip(before.iter())
                .filter(|(a, b)| a.status != b.status)
                .map(|(a, _)| a.handle.as_str())
                .collect();
            json_response(
                200,
                &json!({
                    "changed": changed,
                    "deliveries": deliveries.iter().map(|d| json!({"url": d.url, "status": d.status, "answer": d.answer})).collect::<Vec<_>>(),
                }),
            )
        }
        ("POST", "chain_pay" | "mine") if shared.kind == Kind::Lnd => {
            fakes::lnd_chain::control(shared, what, &args).unwrap_or_else(|| {
                json_response(404, &json!({"error": "unknown control endpoint"}))
            })
        }
        _ => json_response(404, &json!({"error": "unknown control endpoint"})),
    }
}
