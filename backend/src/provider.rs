//! The provider trait: what the backend needs from whoever makes and settles invoices.
//!
//! The backend owns the invoice record, the state machine and the HTTP surface; a provider only
//! (1) creates an invoice or pay link, (2) reports the state of one it made, and (3) turns a
//! webhook's raw bytes and headers into a verified event. Adapters (the providers issue) implement
//! this trait; the backend holds one as `Arc<dyn Provider>`, so the trait is object-safe: async
//! methods return a boxed future.
//!
//! # Rules for adapters
//! * Errors never carry a credential, a signature, a full request or response body, or a URL with
//!   a token in it: build their text from status codes and fixed words. The API turns every
//!   [`ProviderError`] into a generic 502 and logs its text at `warn`.
//! * Amounts arrive in msat and are whole sat; convert exactly (integers or decimal strings, never
//!   floats).
//! * [`NewInvoice::idempotency_key`] is already committed to the database when `create_invoice`
//!   runs; send it as the provider's idempotency key / external id where there is one, so that a
//!   retry after a lost answer cannot make a second invoice.
//! * `verify_webhook` checks the signature over the raw bytes, in constant time, before parsing,
//!   with `now` from the backend's clock; it fails closed ([`WebhookError::NotConfigured`]) when
//!   no secret is configured.
//! * What the backend checks itself, for every adapter: a returned BOLT 11 invoice must decode, be
//!   for the configured network and exactly the asked amount, and carry the returned payment hash;
//!   a preimage must hash to the payment hash; expiry is computed from the stored deadline when a
//!   provider never reports it.
//!
//! An adapter implements [`Adapter`] (plain `async fn`s, defaults for what most providers lack);
//! every `Adapter` is a `Provider` through the one blanket impl at the end, which does the boxing.

use std::future::Future;
use std::pin::Pin;

use axum::http::HeaderMap;

use crate::store::{Invoice, InvoiceKey};

/// A boxed, sendable future: what the trait's async methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the backend asks a provider to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    /// Our id (`inv_…`), for provider metadata.
    pub invoice_id: String,
    /// Committed to the store before this call; stable across retries for one invoice.
    pub idempotency_key: [u8; 16],
    /// Amount in msat, a whole number of sat, from 1 sat to the configured maximum.
    pub amount_msat: u64,
    /// BOLT 11 `d`, at most 639 UTF-8 bytes, possibly empty.
    pub description: String,
    /// Seconds until expiry, 1..=86400.
    pub expiry_secs: u32,
    /// The shop's order id, if any.
    pub order_id: Option<String>,
    /// The backend's clock, Unix seconds.
    pub now: u64,
    /// A unified invoice: an on-chain address is wanted too (providers that make it with the
    /// invoice, BTCPay, return it in [`CreatedInvoice::onchain_address`]).
    pub unified: bool,
}

/// A provider's answer to [`Provider::create_invoice`]: exactly one of `payment_request` and
/// `pay_url` is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreatedInvoice {
    /// BOLT 11 invoice (lower case).
    pub payment_request: Option<String>,
    /// Pay link, for providers that hand out no invoice (Kraken Pay).
    pub pay_url: Option<String>,
    /// Payment hash; for a BOLT 11 invoice it must equal the invoice's (taken from it if `None`).
    pub payment_hash: Option<[u8; 32]>,
    /// The preimage, only if the provider gives it out at creation (the demo provider).
    pub preimage: Option<[u8; 32]>,
    /// The provider's id of the invoice, used to look it up and to match webhooks.
    pub provider_ref: Option<String>,
    /// Deadline in Unix seconds; for BOLT 11 the invoice's own timestamp + expiry wins, for a pay
    /// link `None` means `now + expiry_secs`.
    pub expires_at: Option<u64>,
    /// The on-chain address made with the invoice for a unified one (BTCPay's `BTC-CHAIN`
    /// method), whose payments the provider watches itself.
    pub onchain_address: Option<String>,
}

impl CreatedInvoice {
    /// A BOLT 11 invoice the provider knows by its payment hash (LND, LNbits): the hash, hex,
    /// is also the reference it is looked up by.
    pub fn keyed_by_hash(payment_request: &str, payment_hash: [u8; 32]) -> Self {
        Self {
            payment_request: Some(payment_request.to_owned()),
            payment_hash: Some(payment_hash),
            provider_ref: Some(hex::encode(payment_hash)),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for CreatedInvoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedInvoice")
            .field("payment_request", &self.payment_request)
            .field("pay_url", &self.pay_url)
            .field("payment_hash", &self.payment_hash.map(hex::encode))
            .field("preimage", &self.preimage.map(|_| "[redacted]"))
            .field("provider_ref", &self.provider_ref)
            .field("expires_at", &self.expires_at)
            .field("onchain_address", &self.onchain_address)
            .finish()
    }
}

/// A fresh on-chain address for a unified invoice ([`Provider::onchain_address`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnchainAddress {
    /// The address, as the provider gave it (the backend checks it is one of its network).
    pub address: String,
    /// `Some(h)`: the backend watches the address itself ([`crate::onchain`]), through the
    /// provider's wallet transactions from block height `h` on (the chain tip when the address
    /// was made: nothing can have paid it earlier). `None`: nobody watches it here (the demo
    /// provider, whose payments are told by its control).
    pub watch_from_height: Option<u64>,
}

/// One output of a wallet transaction that pays one of the wallet's addresses
/// ([`Provider::wallet_receipts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReceipt {
    /// The transaction id (hex).
    pub txid: String,
    /// The address paid.
    pub address: String,
    /// What this output pays, in sat.
    pub amount_sat: u64,
    /// Confirmations (0: in the mempool).
    pub confirmations: u32,
    /// `false` when the provider only says which addresses a transaction paid and what it
    /// brought the wallet in all (LND before 0.15: `dest_addresses` and `amount`, no
    /// `output_details`): `amount_sat` is then the whole transaction's, right only when it pays
    /// one address of ours.
    pub per_output: bool,
}

/// The state of an invoice as a provider reports it.
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Not paid yet (LND's ACCEPTED/held counts as pending: only SETTLED is paid).
    Pending,
    /// Settled.
    Paid {
        /// The preimage, if the provider reports it; checked against the payment hash.
        preimage: Option<[u8; 32]>,
        /// What was received, if reported (recorded; overpayment is not refused).
        amount_paid_msat: Option<u64>,
        /// When, if reported; otherwise the backend's `now`.
        paid_at: Option<u64>,
    },
    /// Expired, cancelled or failed: final, not paid.
    Expired,
}

impl std::fmt::Debug for ProviderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pending => f.write_str("Pending"),
            Self::Expired => f.write_str("Expired"),
            Self::Paid {
                preimage,
                amount_paid_msat,
                paid_at,
            } => f
                .debug_struct("Paid")
                .field("preimage", &preimage.map(|_| "[redacted]"))
                .field("amount_paid_msat", amount_paid_msat)
                .field("paid_at", paid_at)
                .finish(),
        }
    }
}

/// A verified webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The provider's event or delivery id, for de-duplication (`None` if the scheme has none).
    pub event_id: Option<String>,
    /// Which invoice it is about.
    pub invoice: InvoiceKey,
    /// What it says happened.
    pub status: ProviderStatus,
}

/// A provider call that failed. The text must never hold a credential (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Network error, timeout, 5xx, rate limit: may work later.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (4xx, GraphQL error, "already used").
    #[error("provider refused the request: {0}")]
    Rejected(String),
    /// An answer we could not read, or one that fails our checks (wrong amount, network, hash).
    #[error("provider answered something unusable: {0}")]
    BadResponse(String),
    /// A request this provider can never serve (e.g. above its amount ceiling).
    #[error("not supported by this provider: {0}")]
    Unsupported(String),
    /// The reserved request can never be completed: a retry after a lost answer was refused
    /// because the idempotency key is already used and the first answer cannot be fetched again
    /// (Kraken Pay's `external_id`). The backend marks the reservation expired, so the next
    /// create for the order starts afresh with a new key.
    #[error("the earlier request cannot be recovered: {0}")]
    Abandoned(String),
}

/// Why a webhook was refused. Nothing changes in the store for any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// This provider has no webhooks (answered 404).
    #[error("this provider takes no webhooks")]
    NotSupported,
    /// No secret or key configured: refuse rather than skip verification (answered 503).
    #[error("webhook verification is not configured")]
    NotConfigured,
    /// A signature header is missing (answered 401).
    #[error("missing signature header: {0}")]
    MissingSignature(&'static str),
    /// The signature does not verify (answered 401).
    #[error("signature does not verify")]
    BadSignature,
    /// The signed timestamp is outside the tolerance (answered 401).
    #[error("timestamp outside tolerance")]
    StaleTimestamp,
    /// Signed but unreadable (answered 400).
    #[error("malformed webhook: {0}")]
    Malformed(String),
    /// The keys to check it could not be fetched now (answered 503, so the provider retries).
    #[error("verification keys unavailable: {0}")]
    Unavailable(String),
}

/// An invoice provider. See the module docs for the rules adapters follow.
pub trait Provider: Send + Sync {
    /// Lower-case name: `PROVIDER`'s value, the `{provider}` of `/api/webhooks/{provider}`, and
    /// the `provider` column of the invoices it made.
    fn name(&self) -> &'static str;

    /// The largest amount this provider accepts, in sat, if it has a ceiling (AlphaPo: 0.045
    /// BTC). Requests above it are refused with `amount_too_large` before any call.
    fn max_amount_sat(&self) -> Option<u64> {
        None
    }

    /// Create an invoice (or pay link).
    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>>;

    /// The provider's view of an invoice it made; `Ok(None)` when it cannot be asked (no status
    /// endpoint, or the demo provider, whose state is the store). Called when a client polls a
    /// pending invoice, once more at its deadline, and before a webhook's "paid" or "expired" is
    /// believed (the answer decides, not the notification).
    fn lookup<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<Option<ProviderStatus>, ProviderError>>;

    /// Verify a webhook over its raw bytes and headers at time `now` (Unix seconds), then parse
    /// it. `Ok(None)`: authentic but about nothing we track (e.g. an outgoing payment).
    fn verify_webhook<'a>(
        &'a self,
        body: &'a [u8],
        headers: &'a HeaderMap,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>>;

    /// The JSON body that acknowledges an accepted webhook (Kraken Pay wants `{"code":"Success"}`).
    fn webhook_ack(&self) -> serde_json::Value {
        serde_json::json!({ "received": true })
    }

    /// Whether `POST /api/dev/invoices/{id}/pay` may settle this provider's invoices from the
    /// store alone. Only the demo provider says yes.
    fn simulates_payments(&self) -> bool {
        false
    }

    /// Seconds an invoice stays pending after its deadline, for providers that tell payments
    /// only by callback (no status lookup): a payment made just before the deadline whose
    /// callback arrives a little later is then still recorded as paid, and the widget, which
    /// keeps checking for that long, shows "paid". No new invoice is made for the order meanwhile
    /// (`409 order_settling`). Providers that can be asked need none (0).
    fn callback_grace_secs(&self) -> u64 {
        0
    }

    /// The only host this provider's pay links may point to (see [`crate::payurl`]): for Kraken
    /// Pay, the host of its configured URL unless `PAY_LINK_HOST` says otherwise. `None`: this
    /// provider hands out no pay links, and any it returned is refused.
    fn pay_link_host(&self) -> Option<String> {
        None
    }

    /// A fresh on-chain address for `req` (a unified BIP21 QR, asked for with `unified`), for
    /// the backend's network; `Ok(None)`: this provider gives none (the invoice stays
    /// Lightning-only).
    fn onchain_address<'a>(
        &'a self,
        _req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<Option<OnchainAddress>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }

    /// Cancel the Lightning invoice of `invoice`, paid another way (on-chain), so that it cannot
    /// be paid a second time. By default nothing (it expires at its deadline).
    fn cancel_lightning<'a>(
        &'a self,
        _invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }

    /// The wallet's incoming transaction outputs from block height `from_height` on, the
    /// mempool included: how the backend watches the addresses of [`OnchainAddress`]es with a
    /// `watch_from_height`. Only providers that give such addresses implement it.
    fn wallet_receipts<'a>(
        &'a self,
        _from_height: u64,
    ) -> BoxFuture<'a, Result<Vec<ChainReceipt>, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::Unsupported(
                "this provider has no wallet to watch".into(),
            ))
        })
    }
}

/// What an adapter writes: [`Provider`] with plain `async fn`s and defaults for the parts most
/// providers do not have (no status lookup, no webhooks). The methods mean what their namesakes
/// on [`Provider`] mean.
pub trait Adapter: Send + Sync {
    /// See [`Provider::name`].
    fn name(&self) -> &'static str;

    /// See [`Provider::max_amount_sat`].
    fn max_amount_sat(&self) -> Option<u64> {
        None
    }

    /// See [`Provider::create_invoice`].
    fn create_invoice(
        &self,
        req: &NewInvoice,
    ) -> impl Future<Output = Result<CreatedInvoice, ProviderError>> + Send;

    /// See [`Provider::lookup`]; by default the provider cannot be asked (`Ok(None)`).
    fn lookup(
        &self,
        _invoice: &Invoice,
    ) -> impl Future<Output = Result<Option<ProviderStatus>, ProviderError>> + Send {
        async { Ok(None) }
    }

    /// See [`Provider::verify_webhook`]; by default the provider takes none (404).
    fn verify_webhook(
        &self,
        _body: &[u8],
        _headers: &HeaderMap,
        _now: u64,
    ) -> impl Future<Output = Result<Option<WebhookEvent>, WebhookError>> + Send {
        async { Err(WebhookError::NotSupported) }
    }

    /// See [`Provider::webhook_ack`].
    fn webhook_ack(&self) -> serde_json::Value {
        serde_json::json!({ "received": true })
    }

    /// See [`Provider::simulates_payments`].
    fn simulates_payments(&self) -> bool {
        false
    }

    /// See [`Provider::callback_grace_secs`].
    fn callback_grace_secs(&self) -> u64 {
        0
    }

    /// See [`Provider::pay_link_host`].
    fn pay_link_host(&self) -> Option<String> {
        None
    }

    /// See [`Provider::onchain_address`]; by default none.
    fn onchain_address(
        &self,
        _req: &NewInvoice,
    ) -> impl Future<Output = Result<Option<OnchainAddress>, ProviderError>> + Send {
        async { Ok(None) }
    }

    /// See [`Provider::cancel_lightning`]; by default nothing.
    fn cancel_lightning(
        &self,
        _invoice: &Invoice,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        async { Ok(()) }
    }

    /// See [`Provider::wallet_receipts`]; by default unsupported.
    fn wallet_receipts(
        &self,
        _from_height: u64,
    ) -> impl Future<Output = Result<Vec<ChainReceipt>, ProviderError>> + Send {
        async {
            Err(ProviderError::Unsupported(
                "this provider has no wallet to watch".into(),
            ))
        }
    }
}

impl<A: Adapter> Provider for A {
    fn name(&self) -> &'static str {
        Adapter::name(self)
    }

    fn max_amount_sat(&self) -> Option<u64> {
        Adapter::max_amount_sat(self)
    }

    fn create_invoice<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<CreatedInvoice, ProviderError>> {
        Box::pin(Adapter::create_invoice(self, req))
    }

    fn lookup<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<Option<ProviderStatus>, ProviderError>> {
        Box::pin(Adapter::lookup(self, invoice))
    }

    fn verify_webhook<'a>(
        &'a self,
        body: &'a [u8],
        headers: &'a HeaderMap,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<WebhookEvent>, WebhookError>> {
        Box::pin(Adapter::verify_webhook(self, body, headers, now))
    }

    fn webhook_ack(&self) -> serde_json::Value {
        Adapter::webhook_ack(self)
    }

    fn simulates_payments(&self) -> bool {
        Adapter::simulates_payments(self)
    }

    fn callback_grace_secs(&self) -> u64 {
        Adapter::callback_grace_secs(self)
    }

    fn pay_link_host(&self) -> Option<String> {
        Adapter::pay_link_host(self)
    }

    fn onchain_address<'a>(
        &'a self,
        req: &'a NewInvoice,
    ) -> BoxFuture<'a, Result<Option<OnchainAddress>, ProviderError>> {
        Box::pin(Adapter::onchain_address(self, req))
    }

    fn cancel_lightning<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(Adapter::cancel_lightning(self, invoice))
    }

    fn wallet_receipts<'a>(
        &'a self,
        from_height: u64,
    ) -> BoxFuture<'a, Result<Vec<ChainReceipt>, ProviderError>> {
        Box::pin(Adapter::wallet_receipts(self, from_height))
    }
}
