//! The embedded SQLite store (`DATA_DIR/checkout.sqlite3`, WAL mode), the default. The rules it
//! keeps are in [`crate::store`]; this file is how SQLite keeps them.
//!
//! # Concurrency
//! One writer connection behind a mutex (so writers never see `SQLITE_BUSY` from each other) and
//! a few read-only connections; WAL lets readers run beside the writer. The methods block: call
//! them from `tokio::task::spawn_blocking`. `synchronous=FULL`: a "paid" survives a power cut.
//! Creates and status changes go through group commit ([`super::batch`]): the writer thread runs
//! every write waiting in one transaction (a savepoint each) and one fsync, and a method returns
//! only after that commit, so an `Ok` is on disk.
//!
//! # Migrations
//! `PRAGMA user_version` is the schema version; each step is idempotent and all run in one
//! `BEGIN IMMEDIATE` transaction at open (a second process opening the file waits for it).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};

mod watch;

use super::batch::Batcher;
use super::{hex_array, to_i64, to_u64};
use super::{
    Completion, Invoice, InvoiceKey, OptionalRow, Reservation, Reserved, Status, StoreError,
    Transition,
};

/// The database file inside `DATA_DIR`.
pub const DB_FILE: &str = "checkout.sqlite3";
/// Read-only connections kept open beside the writer.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Schema version in `PRAGMA user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 6;

/// Migration step 4 (issue 11): where the provider subscriptions resume (LND's `settle_index`,
/// Core Lightning's `lastpay_index`), by name. Idempotent.
const MIGRATION_4_CURSORS: &str = "
CREATE TABLE IF NOT EXISTS cursors (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
";

/// Migration step 6 (issue 12, unified QR with LND): the on-chain addresses the backend watches
/// itself ([`crate::onchain`]): from which block height, until when after the invoice's
/// deadline, and a payment that arrived there after the invoice was paid by Lightning.
/// Idempotent.
pub(crate) const MIGRATION_6_ONCHAIN_WATCH: &str = "
CREATE TABLE IF NOT EXISTS onchain_watch (
    invoice_id    TEXT PRIMARY KEY NOT NULL,
    from_height   INTEGER NOT NULL,
    watch_until   INTEGER NOT NULL,
    extra_sat     INTEGER,
    extra_seen_at INTEGER
);
";

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

pub(crate) const COLUMNS: &str =
    "id, order_id, amount_msat, description, expiry_secs, payment_request, \
    pay_url, payment_hash, preimage, status, created_at, expires_at, paid_at, amount_paid_msat, \
    provider, provider_ref, idempotency_key, amount_received_msat, underpaid_at, paid_late, \
    fiat_currency, fiat_amount, fiat_rate, fiat_rate_source, fiat_rate_at, onchain_address, \
    onchain_seen_at, onchain_confirmations";

/// The invoice database.
pub struct SqliteStore {
    batch: Batcher,
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: PathBuf,
    outbox: AtomicBool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock dropped its Transaction, which rolled back: the
    // connection is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SqliteStore {
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
        tx.execute_batch(MIGRATION_4_CURSORS)?;
        tx.execute_batch(MIGRATION_6_ONCHAIN_WATCH)?;
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
        let writer = Arc::new(Mutex::new(writer));
        let batch = Batcher::start(writer.clone()).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            batch,
            writer,
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

    /// Run a status change `update(conn, id)` (rows changed) in the next batch, with its shop
    /// notification of `kind` in the same transaction.
    fn change(
        &self,
        id: &str,
        kind: crate::outbox::EventType,
        update: impl FnOnce(&Connection, &str) -> Result<usize, StoreError> + Send + 'static,
    ) -> Result<Option<Transition>, StoreError> {
        let outbox = self.outbox.load(Ordering::Relaxed);
        let id = id.to_owned();
        self.batch.run(move |conn| {
            let n = update(conn, &id)?;
            let t = transition(conn, &id, n)?;
            if let (true, Some(Transition::Applied(inv))) = (outbox, &t) {
                crate::outbox::enqueue(conn, inv, kind)?;
            }
            Ok(t)
        })
    }

    /// Transactions the group commit has committed so far (each holds one or more writes).
    pub fn commits(&self) -> u64 {
        self.batch.commits()
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
        let (id, order_id) = (r.id.to_owned(), r.order_id.map(str::to_owned));
        let (description, provider) = (r.description.to_owned(), r.provider.to_owned());
        let fiat = r.fiat.cloned();
        let Reservation {
            amount_msat,
            expiry_secs,
            idempotency_key,
            now,
            grace_secs,
            ..
        } = *r;
        self.batch.run(move |conn| {
            reserve_in(
                conn,
                &Reservation {
                    id: &id,
                    order_id: order_id.as_deref(),
                    amount_msat,
                    description: &description,
                    expiry_secs,
                    idempotency_key,
                    provider: &provider,
                    now,
                    grace_secs,
                    fiat: fiat.as_ref(),
                },
            )
        })
    }

    /// Store the provider's answer for a reserved row. Only a pending row that has no answer yet
    /// is changed; the row as it now is comes back (`None` for an unknown id).
    pub fn complete(&self, id: &str, c: &Completion) -> Result<Option<Invoice>, StoreError> {
        let (id, c) = (id.to_owned(), c.clone());
        self.batch.run(move |conn| {
            conn.prepare_cached(
                "UPDATE invoices SET payment_request = ?2, pay_url = ?3, payment_hash = ?4, \
                 preimage = ?5, provider_ref = ?6, expires_at = ?7, onchain_address = ?8 \
                 WHERE id = ?1 AND status = 'pending' AND payment_request IS NULL AND pay_url IS NULL",
            )?
            .execute(params![
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
            get_in(conn, &id)
        })
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
        .optional_row()
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
        self.change(id, crate::outbox::EventType::Paid, move |conn, id| {
            Ok(conn.execute(
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
            )?)
        })
    }

    /// See [`crate::store::Store::record_onchain`].
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

    /// Record an underpayment (`received_msat` below the amount asked) on a pending or expired
    /// invoice; its status does not change. `Applied` the first time (or when the amount
    /// changed), `Unchanged` for a repeat of the same report.
    pub fn record_underpayment(
        &self,
        id: &str,
        received_msat: u64,
        now: u64,
    ) -> Result<Option<Transition>, StoreError> {
        self.change(id, crate::outbox::EventType::Underpaid, move |conn, id| {
            Ok(conn.execute(
                "UPDATE invoices SET amount_received_msat = ?2, underpaid_at = COALESCE(underpaid_at, ?3) \
                 WHERE id = ?1 AND status IN ('pending', 'expired') AND ?2 < amount_msat \
                 AND (underpaid_at IS NULL OR amount_received_msat IS NOT ?2)",
                params![id, to_i64(received_msat)?, to_i64(now)?],
            )?)
        })
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
        self.change(id, crate::outbox::EventType::Expired, move |conn, id| {
            Ok(conn.execute(
                "UPDATE invoices SET status = 'expired' \
                 WHERE id = ?1 AND status = 'pending' AND expires_at <= ?2",
                params![id, to_i64(now)?],
            )?)
        })
    }

    /// `pending → expired` whatever the deadline (the provider says it was cancelled or expired).
    pub fn mark_expired(&self, id: &str) -> Result<Option<Transition>, StoreError> {
        self.change(id, crate::outbox::EventType::Expired, |conn, id| {
            Ok(conn.execute(
                "UPDATE invoices SET status = 'expired' WHERE id = ?1 AND status = 'pending'",
                params![id],
            )?)
        })
    }

    /// A subscription's resume point, by name (`None`: never set).
    pub fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT value FROM cursors WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Keep a subscription's resume point.
    pub fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        lock(&self.writer).execute(
            "INSERT INTO cursors (name, value) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
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
        let (provider, event_id) = (provider.to_owned(), event_id.to_owned());
        self.batch.run(move |conn| {
            let n = conn.execute(
                "INSERT OR IGNORE INTO webhook_events (provider, event_id, received_at) VALUES (?1, ?2, ?3)",
                params![provider, event_id, to_i64(now)?],
            )?;
            Ok(n == 1)
        })
    }
}

/// [`SqliteStore::reserve`] inside the batch's transaction.
fn reserve_in(conn: &Connection, r: &Reservation<'_>) -> Result<Reserved, StoreError> {
    if let Some(order_id) = r.order_id {
        let paid = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM invoices WHERE order_id = ?1 AND status = 'paid' \
                         ORDER BY paid_at LIMIT 1"
            ))?
            .query_row(params![order_id], read_row)
            .optional_row()?;
        let open = if paid.is_some() {
            None
        } else {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM invoices WHERE order_id = ?1 AND status = 'pending'"
            ))?
            .query_row(params![order_id], read_row)
            .optional_row()?
        };
        if let Some(existing) = super::existing(paid, open, r) {
            return Ok(existing);
        }
    }
    let expires_at = r.now.saturating_add(u64::from(r.expiry_secs));
    conn.prepare_cached(
        "INSERT INTO invoices (id, order_id, amount_msat, description, expiry_secs, status, \
             created_at, expires_at, provider, idempotency_key, fiat_currency, fiat_amount, \
             fiat_rate, fiat_rate_source, fiat_rate_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
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
    ])?;
    let row = get_in(conn, r.id)?.ok_or_else(|| StoreError::Corrupt("insert vanished".into()))?;
    Ok(Reserved::New(row))
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
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM invoices WHERE id = ?1"))?
        .query_row(params![id], read_row)
        .optional_row()
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
            fiat: super::fiat_quote(
                fiat_currency,
                fiat_amount,
                fiat_rate,
                fiat_rate_source,
                fiat_rate_at
                    .map(|v| to_u64(v, "fiat_rate_at"))
                    .transpose()?,
            )?,
            onchain_address,
            onchain_seen_at: onchain_seen_at
                .map(|v| to_u64(v, "onchain_seen_at"))
                .transpose()?,
            onchain_confirmations,
        })
    })())
}
