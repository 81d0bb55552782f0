//! Invoices in an embedded SQLite database (`DATA_DIR/checkout.sqlite3`, WAL mode).
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
//! runs in one `BEGIN IMMEDIATE` transaction: it refuses an order that already has a paid invoice,
//! returns the open invoice of the order, reports an open-but-past-its-deadline one as
//! [`Reserved::Due`] (the caller asks the provider, then expires it or not), or inserts a new row.
//!
//! # Reserve, then complete
//! A row is inserted (with its provider idempotency key) *before* the provider is called, and
//! [`Store::complete`] fills in the invoice afterwards. A retry after a lost provider answer
//! finds the reserved row and calls the provider again with the same key, which is what Kraken
//! Pay's `external_id` and Amboss's `idempotency_key` need.
//!
//! # Shop notifications
//! With `SHOP_WEBHOOK_URL` set ([`Store::set_outbox`]), every applied transition (the three
//! transition functions and the expiry inside [`Store::reserve`]) writes its event to the
//! `outbox` table in the same transaction ([`crate::outbox`]); a transition that changed nothing
//! writes nothing.
//!
//! # Concurrency
//! One writer connection behind a mutex (so writers never see `SQLITE_BUSY` from each other) and
//! a few read-only connections; WAL lets readers run beside the writer. The methods block: call
//! them from `tokio::task::spawn_blocking`. `synchronous=FULL`: a "paid" survives a power cut.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};

/// The database file inside `DATA_DIR`.
pub const DB_FILE: &str = "checkout.sqlite3";
/// Read-only connections kept open beside the writer.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Schema version in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 5;

/// Migration step 3 (issue 10): what arrived for an underpaid invoice, and late payments.
/// Each column is added only if missing, so the step is idempotent.
const MIGRATION_3_COLUMNS: [(&str, &str); 3] = [
    ("amount_received_msat", "INTEGER"),
    ("underpaid_at", "INTEGER"),
    ("paid_late", "INTEGER NOT NULL DEFAULT 0"),
];

/// Migration step 5 (fiat branch, issue 12): the fiat price of an invoice and the rate it was
/// converted at (all NULL for a sat-priced invoice); the on-chain address of a unified invoice and
/// what was seen paid to it. Idempotent as step 3.
const MIGRATION_5_COLUMNS: [(&str, &str); 8] = [
    ("fiat_currency", "TEXT"),
    ("fiat_amount", "TEXT"),
    ("fiat_rate", "TEXT"),
    ("fiat_rate_source", "TEXT"),
    ("fiat_rate_at", "INTEGER"),
    ("onchain_address", "TEXT"),
    ("onchain_seen_at", "INTEGER"),
    ("onchain_confirmations", "INTEGER"),
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS invoices (
    id               TEXT PRIMARY KEY NOT NULL,
    order_id         TEXT,
    amount_msat      INTEGER NOT NULL CHECK (amount_msat > 0),
    description      TEXT NOT NULL,
    expiry_secs      INTEGER NOT NULL CHECK (expiry_secs > 0),
    payment_request  TEXT,
    pay_url          TEXT,
    payment_hash     TEXT,
    preimage         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired')),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    paid_at          INTEGER,
    amount_paid_msat INTEGER,
    provider         TEXT NOT NULL,
    provider_ref     TEXT,
    idempotency_key  TEXT NOT NULL UNIQUE
);
CREATE UNIQUE INDEX IF NOT EXISTS invoices_one_open_per_order
    ON invoices (order_id) WHERE status = 'pending' AND order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS invoices_order ON invoices (order_id);
CREATE INDEX IF NOT EXISTS invoices_provider_ref ON invoices (provider, provider_ref);
CREATE INDEX IF NOT EXISTS invoices_payment_hash ON invoices (payment_hash);
CREATE TABLE IF NOT EXISTS webhook_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
);
";

/// Migration step 2 (shop branch, issue 9): the outbox of shop notifications (see
/// [`crate::outbox`]). Idempotent.
const MIGRATION_2_OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,
    invoice_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER,
    failed_at       INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_invoice ON outbox (invoice_id, seq);
CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox (next_attempt_ms)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS invoices_paid_at ON invoices (paid_at, id) WHERE status = 'paid';
";

const COLUMNS: &str = "id, order_id, amount_msat, description, expiry_secs, payment_request, \
    pay_url, payment_hash, preimage, status, created_at, expires_at, paid_at, amount_paid_msat, \
    provider, provider_ref, idempotency_key, amount_received_msat, underpaid_at, paid_late, \
    fiat_currency, fiat_amount, fiat_rate, fiat_rate_source, fiat_rate_at, onchain_address, \
    onchain_seen_at, onchain_confirmations";

/// Where an invoice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for payment (or, before [`Store::complete`], for the provider).
    Pending,
    /// Settled: final.
    Paid,
    /// Past its deadline unpaid (as the provider confirmed), or cancelled by the provider. Only
    /// a full payment the provider confirms later moves it on, to `Paid` with `paid_late`.
    Expired,
}

impl Status {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "paid" => Some(Self::Paid),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

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
    pub fn invoice(&self) -> &Invoice {
        match self {
            Self::Applied(i) | Self::Unchanged(i) => i,
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
    #[error("database schema version {0} is newer than this program ({SCHEMA_VERSION})")]
    NewerSchema(i64),
}

/// The invoice database.
pub struct Store {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: PathBuf,
    outbox: AtomicBool,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock dropped its Transaction, which rolled back: the
    // connection is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// Open (creating if needed) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        crate::fsutil::ensure_private_dir(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        // The database holds preimages: create it owner-only (SQLite gives its -wal and -shm
        // files the database file's permissions).
        crate::fsutil::create_private_file(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let mut writer = Connection::open(&path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        let version: i64 = writer.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema(version));
        }
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(MIGRATION_2_OUTBOX)?;
        for (column, decl) in MIGRATION_3_COLUMNS.into_iter().chain(MIGRATION_5_COLUMNS) {
            add_column_if_missing(&tx, "invoices", column, decl)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.busy_timeout(BUSY_TIMEOUT)?;
            r.pragma_update(None, "query_only", true)?;
            readers.push(Mutex::new(r));
        }
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            path,
            outbox: AtomicBool::new(false),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether status changes write shop notifications to the outbox (`SHOP_WEBHOOK_URL` set).
    pub fn set_outbox(&self, enabled: bool) {
        self.outbox.store(enabled, Ordering::Relaxed);
    }

    /// Record a shop notification for an applied transition, in the transition's transaction.
    fn notify(
        &self,
        conn: &Connection,
        t: &Option<Transition>,
        kind: crate::outbox::EventType,
    ) -> Result<(), StoreError> {
        if let (true, Some(Transition::Applied(inv))) = (self.outbox.load(Ordering::Relaxed), t) {
            crate::outbox::enqueue(conn, inv, kind)?;
        }
        Ok(())
    }

    /// Run `f` on the writer connection (the outbox worker's bookkeeping).
    pub(crate) fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut lock(&self.writer))
    }

    /// Run `f` on a read-only connection.
    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&self.reader())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(c) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return c;
            }
        }
        lock(&self.readers[start % self.readers.len()])
    }

    /// Return the order's open invoice, or insert a new pending row (see the module docs).
    pub fn reserve(&self, r: &Reservation<'_>) -> Result<Reserved, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(order_id) = r.order_id {
            let paid = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM invoices WHERE order_id = ?1 AND status = 'paid' \
                         ORDER BY paid_at LIMIT 1"
                    ),
                    params![order_id],
                    read_row,
                )
                .optional()?
                .transpose()?;
            if let Some(paid) = paid {
                return Ok(Reserved::Paid(paid));
            }
            let open = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM invoices WHERE order_id = ?1 AND status = 'pending'"
                    ),
                    params![order_id],
                    read_row,
                )
                .optional()?
                .transpose()?;
            if let Some(open) = open {
                if open.expires_at <= r.now && r.now < open.expires_at.saturating_add(r.grace_secs)
                {
                    return Ok(Reserved::Settling(open));
                }
                if open.expires_at <= r.now {
                    // Past its deadline but not yet marked: never expired here without asking the
                    // provider (it may have been paid at the last second).
                    return Ok(Reserved::Due(open));
                } else if match (r.fiat, &open.fiat) {
                    // A fiat order is the same order at its same price, whatever the rate now.
                    (Some(f), Some(o)) => (&f.currency, &f.amount) != (&o.currency, &o.amount),
                    (Some(_), None) | (None, Some(_)) => true,
                    (None, None) => open.amount_msat != r.amount_msat,
                } {
                    return Ok(Reserved::Conflict(open));
                } else {
                    return Ok(Reserved::Open(open));
                }
            }
        }
        let expires_at = r.now.saturating_add(u64::from(r.expiry_secs));
        tx.execute(
            "INSERT INTO invoices (id, order_id, amount_msat, description, expiry_secs, status, \
             created_at, expires_at, provider, idempotency_key, fiat_currency, fiat_amount, \
             fiat_rate, fiat_rate_source, fiat_rate_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                r.id,
                r.order_id,
                to_i64(r.amount_msat)?,
                r.description,
                r.expiry_secs,
                to_i64(r.now)?,
                to_i64(expires_at)?,
                r.provider,
                hex::encode(r.idempotency_key),
                r.fiat.map(|f| &f.currency),
                r.fiat.map(|f| &f.amount),
                r.fiat.map(|f| &f.rate),
                r.fiat.map(|f| &f.rate_source),
                r.fiat.map(|f| to_i64(f.rate_at)).transpose()?,
            ],
        )?;
        let row =
            get_in(&tx, r.id)?.ok_or_else(|| StoreError::Corrupt("insert vanished".into()))?;
        tx.commit()?;
        Ok(Reserved::New(row))
    }

    /// Store the provider's answer for a reserved row. Only a pending row that has no answer yet
    /// is changed; the row as it now is comes back (`None` for an unknown id).
    pub fn complete(&self, id: &str, c: &Completion) -> Result<Option<Invoice>, StoreError> {
        let conn = lock(&self.writer);
        conn.execute(
            "UPDATE invoices SET payment_request = ?2, pay_url = ?3, payment_hash = ?4, \
             preimage = ?5, provider_ref = ?6, expires_at = ?7, onchain_address = ?8 \
             WHERE id = ?1 AND status = 'pending' AND payment_request IS NULL AND pay_url IS NULL",
            params![
                id,
                c.payment_request,
                c.pay_url,
                c.payment_hash.map(hex::encode),
                c.preimage.map(hex::encode),
                c.provider_ref,
                to_i64(c.expires_at)?,
                c.onchain_address,
            ],
        )?;
        get_in(&conn, id)
    }

    /// One invoice by id.
    pub fn get(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        get_in(&self.reader(), id)
    }

    /// One invoice of `provider` by a key a notification carries.
    pub fn find(&self, provider: &str, key: &InvoiceKey) -> Result<Option<Invoice>, StoreError> {
        let conn = self.reader();
        let (clause, value) = match key {
            InvoiceKey::Id(id) => ("id = ?2", id.clone()),
            InvoiceKey::ProviderRef(r) => ("provider_ref = ?2", r.clone()),
            InvoiceKey::PaymentHash(h) => ("payment_hash = ?2", hex::encode(h)),
            InvoiceKey::IdempotencyKey(k) => ("idempotency_key = ?2", hex::encode(k)),
        };
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM invoices WHERE provider = ?1 AND {clause} LIMIT 1"),
            params![provider, value],
            read_row,
        )
        .optional()?
        .transpose()
    }

    /// Every invoice of an order, oldest first.
    pub fn invoices_for_order(&self, order_id: &str) -> Result<Vec<Invoice>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM invoices WHERE order_id = ?1 ORDER BY created_at, rowid"
        ))?;
        let rows = stmt.query_map(params![order_id], read_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Paid invoices with `(paid_at, id)` after `(since, after_id)` in that order, at most `limit`.
    pub fn paid_since(
        &self,
        since: u64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<Invoice>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM invoices WHERE status = 'paid' \
             AND (paid_at > ?1 OR (paid_at = ?1 AND id > ?2)) ORDER BY paid_at, id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![to_i64(since)?, after_id, limit], read_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
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
        self.pay(id, Status::Pending, paid_at, preimage, amount_paid_msat)
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
        let conn = lock(&self.writer);
        let n = conn.execute(
            "UPDATE invoices SET onchain_seen_at = COALESCE(onchain_seen_at, ?2), \
             onchain_confirmations = ?3 \
             WHERE id = ?1 AND status = 'pending' AND onchain_address IS NOT NULL",
            params![id, to_i64(now)?, confirmations],
        )?;
        transition(&conn, id, n)
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
        self.pay(id, Status::Expired, paid_at, preimage, amount_paid_msat)
    }

    /// `from → paid` (`paid_late` when `from` is expired), with the shop's `invoice.paid` event in
    /// the same transaction.
    fn pay(
        &self,
        id: &str,
        from: Status,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE invoices SET status = 'paid', paid_late = (?5 = 'expired'), paid_at = ?2, \
             preimage = COALESCE(preimage, ?3), amount_paid_msat = ?4 \
             WHERE id = ?1 AND status = ?5 AND (?4 IS NULL OR ?4 >= amount_msat)",
            params![
                id,
                to_i64(paid_at)?,
                preimage.map(hex::encode),
                amount_paid_msat.map(to_i64).transpose()?,
                from.as_str(),
            ],
        )?;
        let t = transition(&tx, id, n)?;
        self.notify(&tx, &t, crate::outbox::EventType::Paid)?;
        tx.commit()?;
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
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE invoices SET amount_received_msat = ?2, underpaid_at = COALESCE(underpaid_at, ?3) \
             WHERE id = ?1 AND status IN ('pending', 'expired') AND ?2 < amount_msat \
             AND (underpaid_at IS NULL OR amount_received_msat IS NOT ?2)",
            params![id, to_i64(received_msat)?, to_i64(now)?],
        )?;
        let t = transition(&tx, id, n)?;
        self.notify(&tx, &t, crate::outbox::EventType::Underpaid)?;
        tx.commit()?;
        Ok(t)
    }

    /// Retention: delete expired invoices that were never paid and hold no underpayment, whose
    /// deadline is before `before` (Unix seconds). Pending and paid rows are never deleted.
    pub fn delete_expired_unpaid(&self, before: u64) -> Result<usize, StoreError> {
        let conn = lock(&self.writer);
        Ok(conn.execute(
            "DELETE FROM invoices WHERE status = 'expired' AND paid_at IS NULL \
             AND underpaid_at IS NULL AND amount_received_msat IS NULL AND expires_at < ?1",
            params![to_i64(before)?],
        )?)
    }

    /// Retention: forget webhook event ids received before `before` (Unix seconds).
    pub fn delete_webhook_events(&self, before: u64) -> Result<usize, StoreError> {
        let conn = lock(&self.writer);
        Ok(conn.execute(
            "DELETE FROM webhook_events WHERE received_at < ?1",
            params![to_i64(before)?],
        )?)
    }

    /// `pending → expired` if the deadline has passed at `now`. Callers ask the provider first.
    pub fn expire_if_due(&self, id: &str, now: u64) -> Result<Option<Transition>, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE invoices SET status = 'expired' \
             WHERE id = ?1 AND status = 'pending' AND expires_at <= ?2",
            params![id, to_i64(now)?],
        )?;
        let t = transition(&tx, id, n)?;
        self.notify(&tx, &t, crate::outbox::EventType::Expired)?;
        tx.commit()?;
        Ok(t)
    }

    /// `pending → expired` whatever the deadline (the provider says it was cancelled or expired).
    pub fn mark_expired(&self, id: &str) -> Result<Option<Transition>, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE invoices SET status = 'expired' WHERE id = ?1 AND status = 'pending'",
            params![id],
        )?;
        let t = transition(&tx, id, n)?;
        self.notify(&tx, &t, crate::outbox::EventType::Expired)?;
        tx.commit()?;
        Ok(t)
    }

    /// Whether a webhook event id of `provider` was already processed.
    pub fn event_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        let conn = self.reader();
        Ok(conn
            .query_row(
                "SELECT 1 FROM webhook_events WHERE provider = ?1 AND event_id = ?2",
                params![provider, event_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Remember a processed webhook event id; `false` if it was already there.
    pub fn record_event(
        &self,
        provider: &str,
        event_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let conn = lock(&self.writer);
        let n = conn.execute(
            "INSERT OR IGNORE INTO webhook_events (provider, event_id, received_at) VALUES (?1, ?2, ?3)",
            params![provider, event_id, to_i64(now)?],
        )?;
        Ok(n == 1)
    }
}

fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    decl: &str,
) -> Result<(), StoreError> {
    let exists: bool = conn.query_row(
        &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
        params![column],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !exists {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

fn transition(
    conn: &Connection,
    id: &str,
    changed: usize,
) -> Result<Option<Transition>, StoreError> {
    Ok(get_in(conn, id)?.map(|inv| {
        if changed == 1 {
            Transition::Applied(inv)
        } else {
            Transition::Unchanged(inv)
        }
    }))
}

fn get_in(conn: &Connection, id: &str) -> Result<Option<Invoice>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM invoices WHERE id = ?1"),
        params![id],
        read_row,
    )
    .optional()?
    .transpose()
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} does not fit in SQLite")))
}

fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

fn hex_array<const N: usize>(s: Option<String>, what: &str) -> Result<Option<[u8; N]>, StoreError> {
    s.map(|s| {
        let mut out = [0u8; N];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|_| StoreError::Corrupt(format!("bad {what}")))?;
        Ok(out)
    })
    .transpose()
}

/// Row → `Invoice`. The outer `Result` is SQLite's, the inner one ours.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<Invoice, StoreError>> {
    let status: String = row.get("status")?;
    let amount_msat: i64 = row.get("amount_msat")?;
    let created_at: i64 = row.get("created_at")?;
    let expires_at: i64 = row.get("expires_at")?;
    let paid_at: Option<i64> = row.get("paid_at")?;
    let amount_paid_msat: Option<i64> = row.get("amount_paid_msat")?;
    let payment_hash: Option<String> = row.get("payment_hash")?;
    let preimage: Option<String> = row.get("preimage")?;
    let key: String = row.get("idempotency_key")?;
    let id: String = row.get("id")?;
    let order_id: Option<String> = row.get("order_id")?;
    let description: String = row.get("description")?;
    let expiry_secs: u32 = row.get("expiry_secs")?;
    let payment_request: Option<String> = row.get("payment_request")?;
    let pay_url: Option<String> = row.get("pay_url")?;
    let provider: String = row.get("provider")?;
    let provider_ref: Option<String> = row.get("provider_ref")?;
    let amount_received_msat: Option<i64> = row.get("amount_received_msat")?;
    let underpaid_at: Option<i64> = row.get("underpaid_at")?;
    let paid_late: i64 = row.get("paid_late")?;
    let fiat_currency: Option<String> = row.get("fiat_currency")?;
    let fiat_amount: Option<String> = row.get("fiat_amount")?;
    let fiat_rate: Option<String> = row.get("fiat_rate")?;
    let fiat_rate_source: Option<String> = row.get("fiat_rate_source")?;
    let fiat_rate_at: Option<i64> = row.get("fiat_rate_at")?;
    let onchain_address: Option<String> = row.get("onchain_address")?;
    let onchain_seen_at: Option<i64> = row.get("onchain_seen_at")?;
    let onchain_confirmations: Option<u32> = row.get("onchain_confirmations")?;
    Ok((|| {
        Ok(Invoice {
            status: Status::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            amount_msat: to_u64(amount_msat, "amount")?,
            created_at: to_u64(created_at, "created_at")?,
            expires_at: to_u64(expires_at, "expires_at")?,
            paid_at: paid_at.map(|v| to_u64(v, "paid_at")).transpose()?,
            amount_paid_msat: amount_paid_msat
                .map(|v| to_u64(v, "amount_paid_msat"))
                .transpose()?,
            payment_hash: hex_array(payment_hash, "payment_hash")?,
            preimage: hex_array(preimage, "preimage")?,
            idempotency_key: hex_array(Some(key), "idempotency_key")?
                .ok_or_else(|| StoreError::Corrupt("idempotency_key".into()))?,
            id,
            order_id,
            description,
            expiry_secs,
            payment_request,
            pay_url,
            provider,
            provider_ref,
            amount_received_msat: amount_received_msat
                .map(|v| to_u64(v, "amount_received_msat"))
                .transpose()?,
            underpaid_at: underpaid_at
                .map(|v| to_u64(v, "underpaid_at"))
                .transpose()?,
            paid_late: paid_late != 0,
            fiat: match (
                fiat_currency,
                fiat_amount,
                fiat_rate,
                fiat_rate_source,
                fiat_rate_at,
            ) {
                (Some(currency), Some(amount), Some(rate), Some(rate_source), Some(at)) => {
                    Some(crate::fiat::FiatQuote {
                        currency,
                        amount,
                        rate,
                        rate_source,
                        rate_at: to_u64(at, "fiat_rate_at")?,
                    })
                }
                (None, None, None, None, None) => None,
                _ => return Err(StoreError::Corrupt("partial fiat columns".into())),
            },
            onchain_address,
            onchain_seen_at: onchain_seen_at
                .map(|v| to_u64(v, "onchain_seen_at"))
                .transpose()?,
            onchain_confirmations,
        })
    })())
}
