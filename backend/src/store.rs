//! The invoice store: one interface ([`Store`]), two databases. Without `DATABASE_URL` it is the
//! embedded SQLite file ([`sqlite`], the default: nothing to run); with `DATABASE_URL=postgres://…`
//! it is PostgreSQL ([`pg`]), which several backend instances can share.
//!
//! # The state machine
//! `status` is `pending`, `paid` or `expired`, and moves only `pending → paid`,
//! `pending → expired` (only after the provider was asked: see [`crate::checkout`]) or
//! `expired → paid` (a full payment confirmed late, recorded with `paid_late`). Every transition
//! is one compare-and-set `UPDATE … WHERE status = …`, so two racing writers (a poll that sees
//! the deadline pass and a provider webhook saying paid) produce exactly one transition, and
//! `paid` never moves again. An underpayment changes no status: [`Store::record_underpayment`]
//! keeps what arrived (`amount_received_msat`, `underpaid_at`) for a person to settle.
//!
//! # One open invoice per order
//! A partial unique index allows at most one `pending` row per `order_id`. [`Store::reserve`]
//! runs in one transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction lock on the
//! order, `pg_advisory_xact_lock`, which every instance takes): it refuses an order that already
//! has a paid invoice, returns the open invoice of the order, reports an open-but-past-its-deadline
//! one as [`Reserved::Due`] (the caller asks the provider, then expires it or not), or inserts a
//! new row. That decision is [`existing`], shared by both databases.
//!
//! # Reserve, then complete
//! A row is inserted (with its provider idempotency key) *before* the provider is called, and
//! [`Store::complete`] fills in the invoice afterwards. A retry after a lost provider answer
//! finds the reserved row and calls the provider again with the same key, which is what Kraken
//! Pay's `external_id` and Amboss's `idempotency_key` need. `complete` only fills a row that has
//! no answer yet, so two instances racing on one reservation store one invoice.
//!
//! # Shop notifications and changes
//! With `SHOP_WEBHOOK_URL` set ([`Store::set_outbox`]), every applied transition writes its event
//! to the `outbox` table in the same transaction ([`crate::outbox`]); a transition that changed
//! nothing writes nothing. [`Store::changes`] tells subscribers the id of each invoice whose status
//! changed, after the commit (PostgreSQL: through `NOTIFY`, so from every instance).
//!
//! The methods block: call them from `tokio::task::spawn_blocking` ([`crate::state::AppState::with_store`]).

use std::fmt;
use std::path::{Path, PathBuf};

pub mod batch;
pub mod pg;
pub mod sqlite;

pub use pg::{PgOptions, PgStore};
pub use sqlite::{SqliteStore, DB_FILE};

/// Where an invoice is in its life: the contract's [`Status`](lightning_checkout_contract::Status),
/// the one the API answers, so the stored and the answered status cannot drift apart. Its
/// `as_str` / `parse` are also the database's text (`pending`, `paid`, `expired`). In the store,
/// `Pending` also covers a row reserved before [`Store::complete`]; `Expired` is set only after
/// the provider confirmed the deadline passed unpaid (or cancelled it), and only a full payment it
/// confirms later moves it on, to `Paid` with `paid_late` (see the state machine above).
pub use lightning_checkout_contract::Status;

/// One stored invoice. `Debug` leaves the preimage out.
#[derive(Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Our id, `inv_` + 26 base32 characters.
    pub id: String,
    /// The shop's order id, if given.
    pub order_id: Option<String>,
    /// The amount asked, in msat (always a whole number of sat here).
    pub amount_msat: u64,
    /// The description (BOLT 11 `d`), possibly empty.
    pub description: String,
    /// The expiry asked for, in seconds.
    pub expiry_secs: u32,
    /// The BOLT 11 invoice; `None` before completion and for pay-link providers.
    pub payment_request: Option<String>,
    /// A pay link (Kraken Pay) instead of an invoice.
    pub pay_url: Option<String>,
    /// The payment hash, when the provider uses one.
    pub payment_hash: Option<[u8; 32]>,
    /// The preimage: kept from creation by the demo provider, filled at settlement by others.
    pub preimage: Option<[u8; 32]>,
    /// Where it is in its life.
    pub status: Status,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds; the invoice is expired from this second on.
    pub expires_at: u64,
    /// Unix seconds, when paid.
    pub paid_at: Option<u64>,
    /// What the provider reported as received, if it reports it (overpayment is recorded, not refused).
    pub amount_paid_msat: Option<u64>,
    /// The provider that made it (`demo`, …).
    pub provider: String,
    /// The provider's own id for it.
    pub provider_ref: Option<String>,
    /// Sent to the provider as its idempotency key / external id, committed before the call.
    pub idempotency_key: [u8; 16],
    /// What arrived for an underpaid invoice (less than asked), in msat; never makes it paid.
    pub amount_received_msat: Option<u64>,
    /// Unix seconds, when an underpayment was first recorded: a person has to settle it.
    pub underpaid_at: Option<u64>,
    /// Paid after it had been marked expired (a late payment the provider confirmed).
    pub paid_late: bool,
    /// A fiat-priced invoice's price and the rate it was converted at.
    pub fiat: Option<crate::fiat::FiatQuote>,
    /// A unified invoice's on-chain address (BIP21 beside the Lightning invoice).
    pub onchain_address: Option<String>,
    /// Unix seconds, when a payment to that address was first seen (in the mempool).
    pub onchain_seen_at: Option<u64>,
    /// Confirmations of that payment when last told.
    pub onchain_confirmations: Option<u32>,
}

impl Invoice {
    /// The amount in whole sat.
    pub fn amount_sat(&self) -> u64 {
        self.amount_msat / 1000
    }

    /// Whether the provider has answered (a payment request or a pay link is stored).
    pub fn is_complete(&self) -> bool {
        self.payment_request.is_some() || self.pay_url.is_some()
    }

    /// Pending and before its deadline at `now`.
    pub fn is_open_at(&self, now: u64) -> bool {
        self.status == Status::Pending && now < self.expires_at
    }
}

impl fmt::Debug for Invoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoice")
            .field("id", &self.id)
            .field("order_id", &self.order_id)
            .field("amount_msat", &self.amount_msat)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("paid_at", &self.paid_at)
            .field("provider", &self.provider)
            .field("provider_ref", &self.provider_ref)
            .field("payment_hash", &self.payment_hash.map(hex::encode))
            .field("preimage", &self.preimage.map(|_| "[redacted]"))
            .field("amount_received_msat", &self.amount_received_msat)
            .field("underpaid_at", &self.underpaid_at)
            .field("paid_late", &self.paid_late)
            .field("fiat", &self.fiat)
            .field("onchain_address", &self.onchain_address)
            .field("onchain_confirmations", &self.onchain_confirmations)
            .finish_non_exhaustive()
    }
}

/// What [`Store::reserve`] inserts.
#[derive(Debug, Clone)]
pub struct Reservation<'a> {
    /// The new invoice's id.
    pub id: &'a str,
    /// The order, if any.
    pub order_id: Option<&'a str>,
    /// Amount in msat.
    pub amount_msat: u64,
    /// Description.
    pub description: &'a str,
    /// Expiry in seconds.
    pub expiry_secs: u32,
    /// Provider idempotency key.
    pub idempotency_key: [u8; 16],
    /// Provider name.
    pub provider: &'a str,
    /// Unix seconds.
    pub now: u64,
    /// Seconds a past-deadline invoice stays pending (see `Provider::callback_grace_secs`).
    pub grace_secs: u64,
    /// The fiat price and its rate, for a fiat-priced invoice.
    pub fiat: Option<&'a crate::fiat::FiatQuote>,
}

/// The answer of [`Store::reserve`].
#[derive(Debug, Clone)]
pub enum Reserved {
    /// A new row was inserted.
    New(Invoice),
    /// The order already has an open invoice for the same amount: this one.
    Open(Invoice),
    /// The order has an open invoice for a different amount.
    Conflict(Invoice),
    /// The order already has a paid invoice: no new one may be made (double-pay risk).
    Paid(Invoice),
    /// The order's invoice is past its deadline but within the provider's callback grace: its
    /// payment may still be confirmed, so no new one is made yet.
    Settling(Invoice),
    /// The order's open invoice is past its deadline (and grace) but still pending: the provider
    /// must be asked before it may be expired; nothing was changed.
    Due(Invoice),
}

/// The provider's answer, stored by [`Store::complete`].
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// BOLT 11 invoice.
    pub payment_request: Option<String>,
    /// Pay link.
    pub pay_url: Option<String>,
    /// Payment hash.
    pub payment_hash: Option<[u8; 32]>,
    /// Preimage, when the provider hands it out at creation (demo).
    pub preimage: Option<[u8; 32]>,
    /// Provider's id.
    pub provider_ref: Option<String>,
    /// Deadline, Unix seconds.
    pub expires_at: u64,
    /// On-chain address of a unified invoice.
    pub onchain_address: Option<String>,
}

/// The result of a compare-and-set.
#[derive(Debug, Clone)]
pub enum Transition {
    /// The status changed; the row after the change.
    Applied(Invoice),
    /// Nothing changed (not pending, or not due); the row as it is.
    Unchanged(Invoice),
}

impl Transition {
    /// The row, whichever way it went.
    fn applied_id(&self) -> Option<&str> {
        match self {
            Self::Applied(i) => Some(&i.id),
            Self::Unchanged(_) => None,
        }
    }

    /// The row, whichever way it went.
    pub fn into_invoice(self) -> Invoice {
        match self {
            Self::Applied(i) | Self::Unchanged(i) => i,
        }
    }
}

/// How an incoming notification names an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceKey {
    /// Our id (a provider that echoes metadata back).
    Id(String),
    /// The provider's id ([`Invoice::provider_ref`]).
    ProviderRef(String),
    /// The payment hash.
    PaymentHash([u8; 32]),
    /// The idempotency key we sent (Kraken's `external_id`).
    IdempotencyKey([u8; 16]),
}

/// A database failure. Its text is for logs only: the API answers a generic 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no (a constraint, a bad statement: not a connection problem).
    #[error("database: {0}")]
    Postgres(String),
    /// The database cannot be reached now (connection refused or lost, the pool's wait or the
    /// statement timeout ran out, the server shutting down). Answered `503 database_unavailable`;
    /// the pool reconnects by itself.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A row that this code could not have written.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A schema from a newer version of this program.
    #[error("database schema version {0} is newer than this program knows")]
    NewerSchema(i64),
}

pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{v} does not fit in a signed 64-bit column")))
}

pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

pub(crate) fn hex_array<const N: usize>(
    s: Option<String>,
    what: &str,
) -> Result<Option<[u8; N]>, StoreError> {
    s.map(|s| {
        let mut out = [0u8; N];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|_| StoreError::Corrupt(format!("bad {what}")))?;
        Ok(out)
    })
    .transpose()
}

/// Rows a broadcast subscriber may fall behind by before it misses ids (it then re-reads).
const CHANGES_CAPACITY: usize = 1024;

/// Issue 16's "optional row": a query for at most one row whose mapping can itself fail, as one
/// `Result<Option<_>>` instead of `.optional()?.transpose()?` at every call.
pub(crate) trait OptionalRow<T> {
    /// `Ok(None)` when there was no row.
    fn optional_row(self) -> Result<Option<T>, StoreError>;
}

impl<T> OptionalRow<T> for rusqlite::Result<Result<T, StoreError>> {
    fn optional_row(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(row) => row.map(Some),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl<T> OptionalRow<T> for Result<Option<postgres::Row>, postgres::Error>
where
    T: for<'r> TryFrom<&'r postgres::Row, Error = StoreError>,
{
    fn optional_row(self) -> Result<Option<T>, StoreError> {
        self?.as_ref().map(T::try_from).transpose()
    }
}

/// A row's fiat columns (`fiat_currency`, `fiat_amount`, `fiat_rate`, `fiat_rate_source`,
/// `fiat_rate_at`) as its quote: all set, or all NULL (a sat-priced invoice). Both databases.
pub(crate) fn fiat_quote(
    currency: Option<String>,
    amount: Option<String>,
    rate: Option<String>,
    rate_source: Option<String>,
    rate_at: Option<u64>,
) -> Result<Option<crate::fiat::FiatQuote>, StoreError> {
    match (currency, amount, rate, rate_source, rate_at) {
        (Some(currency), Some(amount), Some(rate), Some(rate_source), Some(rate_at)) => {
            Ok(Some(crate::fiat::FiatQuote {
                currency,
                amount,
                rate,
                rate_source,
                rate_at,
            }))
        }
        (None, None, None, None, None) => Ok(None),
        _ => Err(StoreError::Corrupt("partial fiat columns".into())),
    }
}

/// What [`Store::reserve`] answers when the order already has an invoice that decides it (paid, or
/// open), or `None` when a new row may be inserted. `paid` is the order's paid invoice, `open` its
/// pending one. The one place this rule lives, for both databases.
pub(crate) fn existing(
    paid: Option<Invoice>,
    open: Option<Invoice>,
    r: &Reservation<'_>,
) -> Option<Reserved> {
    if let Some(paid) = paid {
        return Some(Reserved::Paid(paid));
    }
    let open = open?;
    Some(
        if open.expires_at <= r.now && r.now < open.expires_at.saturating_add(r.grace_secs) {
            Reserved::Settling(open)
        } else if open.expires_at <= r.now {
            // Past its deadline but not yet marked: never expired here without asking the
            // provider (it may have been paid at the last second).
            Reserved::Due(open)
        } else if match (r.fiat, &open.fiat) {
            // A fiat order is the same order at its same price, whatever the rate now.
            (Some(f), Some(o)) => (&f.currency, &f.amount) != (&o.currency, &o.amount),
            (Some(_), None) | (None, Some(_)) => true,
            (None, None) => open.amount_msat != r.amount_msat,
        } {
            Reserved::Conflict(open)
        } else {
            Reserved::Open(open)
        },
    )
}

/// The invoice database: SQLite or PostgreSQL, one interface.
pub struct Store {
    db: Db,
    changes: tokio::sync::broadcast::Sender<String>,
    leases: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

enum Db {
    Sqlite(SqliteStore),
    Pg(PgStore),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.db {
            Db::Sqlite(s) => s.fmt(f),
            Db::Pg(s) => s.fmt(f),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match &$self.db {
            Db::Sqlite($s) => $e,
            Db::Pg($s) => $e,
        }
    };
}

impl Store {
    /// Open (creating if needed) the SQLite database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Ok(Self::with(Db::Sqlite(SqliteStore::open(data_dir)?), None))
    }

    /// Connect to PostgreSQL and bring its schema up to date (see [`pg`]).
    pub fn open_pg(options: &PgOptions) -> Result<Self, StoreError> {
        let (tx, _) = tokio::sync::broadcast::channel(CHANGES_CAPACITY);
        // On a thread of its own: the sync client blocks on a runtime of its own, which may not
        // start on a Tokio worker (the app opens its state inside `main`'s runtime).
        let pg = std::thread::scope(|scope| {
            scope
                .spawn(|| PgStore::open(options, tx.clone()))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })?;
        Ok(Self::with(Db::Pg(pg), Some(tx)))
    }

    /// `DATABASE_URL`'s PostgreSQL when configured, else SQLite in `data_dir`.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, StoreError> {
        match &config.database {
            Some(options) => Self::open_pg(options),
            None => Self::open(&config.data_dir),
        }
    }

    fn with(db: Db, changes: Option<tokio::sync::broadcast::Sender<String>>) -> Self {
        Self {
            db,
            changes: changes.unwrap_or_else(|| tokio::sync::broadcast::channel(CHANGES_CAPACITY).0),
            leases: Default::default(),
        }
    }

    /// Whether this is the PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Pg(_))
    }

    /// The SQLite file; an empty path for PostgreSQL.
    pub fn path(&self) -> &Path {
        match &self.db {
            Db::Sqlite(s) => s.path(),
            Db::Pg(_) => Path::new(""),
        }
    }

    /// Whether status changes write shop notifications to the outbox (`SHOP_WEBHOOK_URL` set).
    pub fn set_outbox(&self, enabled: bool) {
        dispatch!(self, s => s.set_outbox(enabled))
    }

    /// The ids of invoices whose status changed (paid, expired), each sent after its commit. With
    /// PostgreSQL this includes the changes other instances made (`LISTEN`/`NOTIFY`); a subscriber
    /// that falls behind gets `Lagged` and should re-read what it watches.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    /// Try to become the one holder of `name` (e.g. the provider's payment stream). SQLite: one
    /// holder per process. PostgreSQL: one holder across every instance on the database, through
    /// a session advisory lock on a connection of its own; when the holder dies (or its
    /// connection does) the lock is released and another instance's next try gets it.
    pub fn try_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let inner = match &self.db {
            Db::Sqlite(_) => None,
            Db::Pg(s) => match s.try_lease(name)? {
                Some(client) => Some(client),
                None => return Ok(None),
            },
        };
        let mut held = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if !held.insert(name.to_owned()) {
            return Ok(None);
        }
        Ok(Some(Lease {
            name: name.to_owned(),
            held: self.leases.clone(),
            pg: inner,
        }))
    }

    fn changed(&self, t: &Option<Transition>) {
        // PostgreSQL's changes come back through its LISTEN connection (from every instance).
        if let (Db::Sqlite(_), Some(id)) = (&self.db, t.as_ref().and_then(Transition::applied_id)) {
            let _ = self.changes.send(id.to_owned());
        }
    }

    /// Return the order's open invoice, or insert a new pending row (see the module docs).
    pub fn reserve(&self, r: &Reservation<'_>) -> Result<Reserved, StoreError> {
        dispatch!(self, s => s.reserve(r))
    }

    /// Store the provider's answer for a reserved row. Only a pending row that has no answer yet
    /// is changed; the row as it now is comes back (`None` for an unknown id).
    pub fn complete(&self, id: &str, c: &Completion) -> Result<Option<Invoice>, StoreError> {
        dispatch!(self, s => s.complete(id, c))
    }

    /// One invoice by id.
    pub fn get(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        dispatch!(self, s => s.get(id))
    }

    /// One invoice of `provider` by a key a notification carries.
    pub fn find(&self, provider: &str, key: &InvoiceKey) -> Result<Option<Invoice>, StoreError> {
        dispatch!(self, s => s.find(provider, key))
    }

    /// Every invoice of an order, oldest first.
    pub fn invoices_for_order(&self, order_id: &str) -> Result<Vec<Invoice>, StoreError> {
        dispatch!(self, s => s.invoices_for_order(order_id))
    }

    /// Paid invoices with `(paid_at, id)` after `(since, after_id)` in that order, at most `limit`.
    pub fn paid_since(
        &self,
        since: u64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<Invoice>, StoreError> {
        dispatch!(self, s => s.paid_since(since, after_id, limit))
    }

    /// `pending → paid`. A preimage already stored (demo) is kept; otherwise `preimage` is stored.
    /// A reported amount below the amount asked never makes it paid (see
    /// [`Store::record_underpayment`]).
    pub fn mark_paid(
        &self,
        id: &str,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        let t = dispatch!(self, s => s.mark_paid(id, paid_at, preimage, amount_paid_msat))?;
        self.changed(&t);
        Ok(t)
    }

    /// `expired → paid`, with `paid_late` set: a full payment the provider confirmed after the
    /// invoice had been marked expired. The shop must hear of it (it may have sold the goods
    /// again, or issued another invoice for the order).
    pub fn mark_paid_late(
        &self,
        id: &str,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        let t = dispatch!(self, s => s.mark_paid_late(id, paid_at, preimage, amount_paid_msat))?;
        self.changed(&t);
        Ok(t)
    }

    /// Record an underpayment (`received_msat` below the amount asked) on a pending or expired
    /// invoice; its status does not change. `Applied` the first time (or when the amount
    /// changed), `Unchanged` for a repeat of the same report.
    pub fn record_underpayment(
        &self,
        id: &str,
        received_msat: u64,
        now: u64,
    ) -> Result<Option<Transition>, StoreError> {
        dispatch!(self, s => s.record_underpayment(id, received_msat, now))
    }

    /// A payment to a pending invoice's on-chain address was seen with `confirmations` (0: in
    /// the mempool); `seen_at` is kept from the first sighting. Paid only through
    /// [`Store::mark_paid`] once the shop's confirmation count is reached.
    pub fn record_onchain(
        &self,
        id: &str,
        confirmations: u32,
        now: u64,
    ) -> Result<Option<Transition>, StoreError> {
        let t = dispatch!(self, s => s.record_onchain(id, confirmations, now))?;
        self.changed(&t);
        Ok(t)
    }

    /// Retention: delete expired invoices that were never paid and hold no underpayment, whose
    /// deadline is before `before` (Unix seconds). Pending and paid rows are never deleted.
    pub fn delete_expired_unpaid(&self, before: u64) -> Result<usize, StoreError> {
        dispatch!(self, s => s.delete_expired_unpaid(before))
    }

    /// Retention: forget webhook event ids received before `before` (Unix seconds).
    pub fn delete_webhook_events(&self, before: u64) -> Result<usize, StoreError> {
        dispatch!(self, s => s.delete_webhook_events(before))
    }

    /// `pending → expired` if the deadline has passed at `now`. Callers ask the provider first.
    pub fn expire_if_due(&self, id: &str, now: u64) -> Result<Option<Transition>, StoreError> {
        let t = dispatch!(self, s => s.expire_if_due(id, now))?;
        self.changed(&t);
        Ok(t)
    }

    /// `pending → expired` whatever the deadline (the provider says it was cancelled or expired).
    pub fn mark_expired(&self, id: &str) -> Result<Option<Transition>, StoreError> {
        let t = dispatch!(self, s => s.mark_expired(id))?;
        self.changed(&t);
        Ok(t)
    }

    /// A provider subscription's resume point (LND's `settle_index`, Core Lightning's
    /// `lastpay_index`), by name; `None` when never set.
    pub fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.cursor(name))
    }

    /// Keep a subscription's resume point, once the payments up to it are applied.
    pub fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_cursor(name, value))
    }

    /// Whether a webhook event id of `provider` was already processed.
    pub fn event_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.event_seen(provider, event_id))
    }

    /// Remember a processed webhook event id; `false` if it was already there.
    pub fn record_event(
        &self,
        provider: &str,
        event_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.record_event(provider, event_id, now))
    }

    /// Claim the outbox events due at `now_ms` (at most one per invoice, oldest first). With
    /// PostgreSQL they are picked `FOR UPDATE SKIP LOCKED` and pushed `claim_ms` into the future,
    /// so no other instance picks them while this one delivers; if this one dies, they are due
    /// again after `claim_ms`.
    pub fn outbox_due(
        &self,
        now_ms: u64,
        claim_ms: u64,
    ) -> Result<Vec<crate::outbox::OutboxEvent>, StoreError> {
        match &self.db {
            Db::Sqlite(s) => s.with_reader(|c| crate::outbox::due(c, now_ms)),
            Db::Pg(s) => s.outbox_due(now_ms, claim_ms),
        }
    }

    /// The earliest next attempt of any undelivered event, Unix ms.
    pub fn outbox_next_due(&self) -> Result<Option<u64>, StoreError> {
        match &self.db {
            Db::Sqlite(s) => s.with_reader(crate::outbox::next_due),
            Db::Pg(s) => s.outbox_next_due(),
        }
    }

    /// Record one delivery attempt of event `seq` (see [`crate::outbox::Attempt`]).
    pub fn outbox_record(&self, a: &crate::outbox::Attempt) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(s) => s.with_writer(|c| crate::outbox::record_attempt(c, a)),
            Db::Pg(s) => s.outbox_record(a),
        }
    }

    /// Every outbox event, oldest first (tests and the reconciliation view).
    pub fn outbox_all(&self) -> Result<Vec<crate::outbox::OutboxEvent>, StoreError> {
        match &self.db {
            Db::Sqlite(s) => s.with_reader(crate::outbox::all),
            Db::Pg(s) => s.outbox_all(),
        }
    }

    /// The SQLite store, for the code and tests that are about SQLite itself.
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        match &self.db {
            Db::Sqlite(s) => Some(s),
            Db::Pg(_) => None,
        }
    }
}

/// The right to be the one instance doing something (see [`Store::try_lease`]); released on drop.
pub struct Lease {
    name: String,
    held: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    pg: Option<postgres::Client>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease").field("name", &self.name).finish()
    }
}

impl Lease {
    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is still held: with PostgreSQL, whether its connection (and so its lock) is still
    /// alive. A holder checks this now and then and stops its work when it is lost.
    pub fn is_held(&mut self) -> bool {
        match &mut self.pg {
            None => true,
            Some(c) => c.is_valid(std::time::Duration::from_secs(2)).is_ok(),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // PostgreSQL: closing the connection releases the advisory lock.
        if let Some(client) = self.pg.take() {
            pg::close(client);
        }
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.name);
    }
}

mod watch;
pub use watch::Watched;
