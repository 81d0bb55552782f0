//! The PostgreSQL store (`DATABASE_URL=postgres://…`), for several backend instances on one
//! database. The rules it keeps are in [`crate::store`]; this file is how PostgreSQL keeps them
//! across instances.
//!
//! * **Connections:** the sync `postgres` client (the same blocking shape as rusqlite, called
//!   from `spawn_blocking`, so no call site changes) in a bounded `r2d2` pool of
//!   `DATABASE_POOL_SIZE` connections. A request waits at most `DATABASE_STATEMENT_TIMEOUT_MS` for
//!   a connection, and each statement runs at most that long (`SET statement_timeout`). A
//!   connection is checked before it is handed out only after a connection was seen to break
//!   ([`pool`]: no extra round trip per request otherwise), so after the database restarts the
//!   pool reconnects by itself; meanwhile the API answers `503 database_unavailable`.
//! * **Migrations:** numbered steps, the same numbers as SQLite's (`PRAGMA user_version` there,
//!   the `schema_migrations` table here), each applied once in one transaction that first takes
//!   `pg_advisory_xact_lock(MIGRATION_LOCK)`: two instances starting at once apply them once, the
//!   second waits and finds them done. DDL is transactional in PostgreSQL, so a step applies
//!   whole or not at all.
//! * **One open invoice per order:** [`PgStore::reserve`] takes `pg_advisory_xact_lock` on the
//!   order (a key from its id) before reading it, so instances creating for one order take turns;
//!   the partial unique index stays the guarantee underneath.
//! * **Changes:** each transition that changed a status sends `NOTIFY` on `CHANNEL` with the
//!   invoice id in its transaction (delivered at commit). A thread of each instance `LISTEN`s on a
//!   connection of its own, reconnecting when it drops, and passes the ids to
//!   [`crate::store::Store::changes`]. Ids sent while it was disconnected are not replayed: a
//!   subscriber that must not miss one re-reads the invoice it watches now and then.
//! * **Outbox:** see [`PgStore::outbox_due`] (`FOR UPDATE SKIP LOCKED`).
//!
//! Plain SQL of PostgreSQL 15, nothing an extension or a superuser provides.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod watch;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{GenericClient, NoTls, Row};
use sha2::{Digest, Sha256};

use super::sqlite::COLUMNS;
use super::{
    hex_array, to_i64, to_u64, Completion, Invoice, InvoiceKey, OptionalRow, Reservation, Reserved,
    Status, StoreError, Transition,
};
use crate::config::Secret;
use crate::outbox::{Attempt, EventType, NewEvent, OutboxEvent};

mod pool;
use pool::{Breaks, Manager};

/// `DATABASE_POOL_SIZE` when unset.
pub const DEFAULT_POOL_SIZE: u32 = 16;
/// `DATABASE_STATEMENT_TIMEOUT_MS` when unset.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening one connection may take (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The `NOTIFY` channel of status changes; the payload is the invoice id.
pub const CHANNEL: &str = "lightning_checkout_changes";
/// The advisory lock key the migrations run under (any constant no other key collides with:
/// the others are hashes of a prefixed name).
const MIGRATION_LOCK: i64 = 0x4c43_4d49_4752_0001;

/// The schema version this program writes (`schema_migrations`' highest `version`).
pub const SCHEMA_VERSION: i64 = 6;

/// The migration steps, in order: `(version, what, SQL)`. The numbers match SQLite's steps
/// (`crate::store::sqlite`). Add a step at the end; never change one that shipped.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "invoices and provider webhook ids",
        "
CREATE TABLE invoices (
    id               TEXT PRIMARY KEY,
    order_id         TEXT,
    amount_msat      BIGINT NOT NULL CHECK (amount_msat > 0),
    description      TEXT NOT NULL,
    expiry_secs      INTEGER NOT NULL CHECK (expiry_secs > 0),
    payment_request  TEXT,
    pay_url          TEXT,
    payment_hash     TEXT,
    preimage         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired')),
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    paid_at          BIGINT,
    amount_paid_msat BIGINT,
    provider         TEXT NOT NULL,
    provider_ref     TEXT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    -- insertion order (SQLite's rowid), the tie-break of invoices_for_order
    created_seq      BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX invoices_one_open_per_order
    ON invoices (order_id) WHERE status = 'pending' AND order_id IS NOT NULL;
CREATE INDEX invoices_order ON invoices (order_id);
CREATE INDEX invoices_provider_ref ON invoices (provider, provider_ref);
CREATE INDEX invoices_payment_hash ON invoices (payment_hash);
CREATE TABLE webhook_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
",
    ),
    (
        2,
        "the outbox of shop notifications",
        "
CREATE TABLE outbox (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    invoice_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    created_ms      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT,
    delivered_at    BIGINT,
    failed_at       BIGINT
);
CREATE INDEX outbox_invoice ON outbox (invoice_id, seq);
CREATE INDEX outbox_undelivered ON outbox (next_attempt_ms)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX invoices_paid_at ON invoices (paid_at, id) WHERE status = 'paid';
",
    ),
    (
        3,
        "underpayments and late payments",
        "
ALTER TABLE invoices ADD COLUMN amount_received_msat BIGINT;
ALTER TABLE invoices ADD COLUMN underpaid_at BIGINT;
ALTER TABLE invoices ADD COLUMN paid_late BOOLEAN NOT NULL DEFAULT false;
",
    ),
    (
        4,
        "where the provider subscriptions resume",
        "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    ),
    (
        5,
        "fiat prices and unified (on-chain) invoices",
        "
ALTER TABLE invoices ADD COLUMN fiat_currency TEXT;
ALTER TABLE invoices ADD COLUMN fiat_amount TEXT;
ALTER TABLE invoices ADD COLUMN fiat_rate TEXT;
ALTER TABLE invoices ADD COLUMN fiat_rate_source TEXT;
ALTER TABLE invoices ADD COLUMN fiat_rate_at BIGINT;
ALTER TABLE invoices ADD COLUMN onchain_address TEXT;
ALTER TABLE invoices ADD COLUMN onchain_seen_at BIGINT;
ALTER TABLE invoices ADD COLUMN onchain_confirmations INTEGER;
",
    ),
    (
        6,
        "on-chain addresses the backend watches (unified invoices with LND)",
        "
CREATE TABLE onchain_watch (
    invoice_id    TEXT PRIMARY KEY,
    from_height   BIGINT NOT NULL,
    watch_until   BIGINT NOT NULL,
    extra_sat     BIGINT,
    extra_seen_at BIGINT
);
",
    ),
];

/// `DATABASE_URL` and its pool settings.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/db?…` (libpq's URL form; `host=/run/dir` for a socket).
    pub url: Secret,
    /// Connections at most (`DATABASE_POOL_SIZE`).
    pub pool_size: u32,
    /// Longest wait for a connection, and longest statement (`DATABASE_STATEMENT_TIMEOUT_MS`).
    pub statement_timeout: Duration,
}

impl PgOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: Secret::new(url),
            pool_size: DEFAULT_POOL_SIZE,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// The URL parsed, with a connect timeout; an error names no part of the URL.
    pub fn client_config(&self) -> Result<postgres::Config, String> {
        let url = self.url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("must start with postgres:// or postgresql://".into());
        }
        let mut c = postgres::Config::from_str(url)
            .map_err(|_| "is not a PostgreSQL connection URL".to_owned())?;
        if c.get_connect_timeout().is_none() {
            c.connect_timeout(CONNECT_TIMEOUT);
        }
        if c.get_application_name().is_none() {
            c.application_name("lightning-checkout-backend");
        }
        Ok(c)
    }
}

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &self.url)
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The server's own message ("db error" alone says nothing), for the log.
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), ToString::to_string);
        match e.code() {
            // Connection exceptions (08…), the server shutting down or starting (57P0…), a
            // statement cancelled by statement_timeout (57014), too many connections (53300).
            Some(code)
                if code.code().starts_with("08")
                    || code.code().starts_with("57P")
                    || code.code() == "57014"
                    || code.code() == "53300" =>
            {
                StoreError::Unavailable(detail)
            }
            Some(_) => StoreError::Postgres(detail),
            // No SQLSTATE: the socket (refused, reset, closed, timed out). Row decoding errors
            // never come here: `col` maps them to `Corrupt`.
            None => StoreError::Unavailable(detail),
        }
    }
}

type Pool = r2d2::Pool<Manager>;

/// The PostgreSQL store.
pub struct PgStore {
    /// `None` only while dropping (see `Drop`).
    pool: Option<Pool>,
    config: postgres::Config,
    outbox: AtomicBool,
    stop: Arc<AtomicBool>,
    pool_size: u32,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Closing a sync client blocks on its own runtime, which panics on a Tokio worker (where
        // the app's state may be dropped): close the pool's connections on a thread of their own.
        if let Some(pool) = self.pool.take() {
            off_async(pool);
        }
    }
}

/// Drop `value` (sync PostgreSQL clients) here, or on a thread of its own when this thread runs
/// Tokio tasks (see `PgStore`'s `Drop`).
fn off_async<T: Send + 'static>(value: T) {
    if tokio::runtime::Handle::try_current().is_err() {
        drop(value);
    } else {
        let _ = std::thread::Builder::new()
            .name("pg-close".into())
            .spawn(move || drop(value));
    }
}

/// Close a lease's connection, which releases its advisory lock.
pub(crate) fn close(client: postgres::Client) {
    off_async(client);
}

#[derive(Debug)]
struct Session {
    statement_timeout_ms: u128,
}

impl r2d2::CustomizeConnection<pool::Conn, postgres::Error> for Session {
    fn on_acquire(&self, c: &mut pool::Conn) -> Result<(), postgres::Error> {
        c.batch_execute(&format!(
            "SET statement_timeout = {}",
            self.statement_timeout_ms
        ))
    }
}

#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, e: postgres::Error) {
        tracing::warn!(error = %e, "database connection failed");
    }
}

/// A stable advisory-lock key for `name` in the namespace `kind`.
fn lock_key(kind: &str, name: &str) -> i64 {
    let d = Sha256::new()
        .chain_update(kind)
        .chain_update(b":")
        .chain_update(name)
        .finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Apply the steps this database lacks, under the migration lock.
fn migrate(client: &mut postgres::Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )?
        .get(0);
    if current > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema(current));
    }
    for (version, what, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
            &[version, what],
        )?;
        tracing::info!(version, what, "database migrated");
    }
    tx.commit()?;
    Ok(())
}

fn col<'a, T: postgres::types::FromSql<'a>>(r: &'a Row, name: &str) -> Result<T, StoreError> {
    r.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
}

fn to_i32(v: u32) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} does not fit in INTEGER")))
}

impl TryFrom<&Row> for Invoice {
    type Error = StoreError;

    fn try_from(r: &Row) -> Result<Self, StoreError> {
        let status: String = col(r, "status")?;
        let expiry_secs: i32 = col(r, "expiry_secs")?;
        let opt_u64 = |name: &str| -> Result<Option<u64>, StoreError> {
            col::<Option<i64>>(r, name)?
                .map(|v| to_u64(v, name))
                .transpose()
        };
        Ok(Invoice {
            status: Status::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            amount_msat: to_u64(col(r, "amount_msat")?, "amount")?,
            created_at: to_u64(col(r, "created_at")?, "created_at")?,
            expires_at: to_u64(col(r, "expires_at")?, "expires_at")?,
            paid_at: opt_u64("paid_at")?,
            amount_paid_msat: opt_u64("amount_paid_msat")?,
            payment_hash: hex_array(col(r, "payment_hash")?, "payment_hash")?,
            preimage: hex_array(col(r, "preimage")?, "preimage")?,
            idempotency_key: hex_array(Some(col(r, "idempotency_key")?), "idempotency_key")?
                .ok_or_else(|| StoreError::Corrupt("idempotency_key".into()))?,
            id: col(r, "id")?,
            order_id: col(r, "order_id")?,
            description: col(r, "description")?,
            expiry_secs: u32::try_from(expiry_secs)
                .map_err(|_| StoreError::Corrupt("expiry_secs".into()))?,
            payment_request: col(r, "payment_request")?,
            pay_url: col(r, "pay_url")?,
            provider: col(r, "provider")?,
            provider_ref: col(r, "provider_ref")?,
            amount_received_msat: opt_u64("amount_received_msat")?,
            underpaid_at: opt_u64("underpaid_at")?,
            paid_late: col(r, "paid_late")?,
            fiat: super::fiat_quote(
                col(r, "fiat_currency")?,
                col(r, "fiat_amount")?,
                col(r, "fiat_rate")?,
                col(r, "fiat_rate_source")?,
                opt_u64("fiat_rate_at")?,
            )?,
            onchain_address: col(r, "onchain_address")?,
            onchain_seen_at: opt_u64("onchain_seen_at")?,
            onchain_confirmations: col::<Option<i32>>(r, "onchain_confirmations")?
                .map(|v| {
                    u32::try_from(v)
                        .map_err(|_| StoreError::Corrupt("onchain_confirmations".into()))
                })
                .transpose()?,
        })
    }
}

fn read_event(r: &Row) -> Result<OutboxEvent, StoreError> {
    let opt = |name: &str| -> Result<Option<u64>, StoreError> {
        Ok(col::<Option<i64>>(r, name)?.map(|v| u64::try_from(v).unwrap_or(0)))
    };
    Ok(OutboxEvent {
        seq: col(r, "seq")?,
        event_id: col(r, "event_id")?,
        invoice_id: col(r, "invoice_id")?,
        kind: col(r, "type")?,
        body: col(r, "body")?,
        attempts: u32::try_from(col::<i32>(r, "attempts")?).unwrap_or(0),
        created_ms: u64::try_from(col::<i64>(r, "created_ms")?).unwrap_or(0),
        delivered_at: opt("delivered_at")?,
        failed_at: opt("failed_at")?,
        last_error: col(r, "last_error")?,
    })
}

const EVENT_COLUMNS: &str =
    "seq, event_id, invoice_id, type, body, attempts, created_ms, delivered_at, failed_at, last_error";

fn get_in(c: &mut impl GenericClient, id: &str) -> Result<Option<Invoice>, StoreError> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM invoices WHERE id = $1"),
        &[&id],
    )
    .optional_row()
}

fn transition(
    c: &mut impl GenericClient,
    id: &str,
    changed: u64,
) -> Result<Option<Transition>, StoreError> {
    Ok(get_in(c, id)?.map(|inv| {
        if changed == 1 {
            Transition::Applied(inv)
        } else {
            Transition::Unchanged(inv)
        }
    }))
}

fn invoices(rows: Vec<Row>) -> Result<Vec<Invoice>, StoreError> {
    rows.iter().map(Invoice::try_from).collect()
}

impl PgStore {
    /// Connect, migrate, start the `LISTEN` thread that feeds `changes`.
    pub fn open(
        options: &PgOptions,
        changes: tokio::sync::broadcast::Sender<String>,
    ) -> Result<Self, StoreError> {
        let config = options
            .client_config()
            .map_err(|e| StoreError::Postgres(format!("DATABASE_URL {e}")))?;
        migrate(&mut config.connect(NoTls)?)?;
        let breaks = Breaks::default();
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(0))
            .connection_timeout(options.statement_timeout)
            // Tested only after a break was seen: `Manager::is_valid`.
            .test_on_check_out(true)
            .error_handler(Box::new(LogErrors))
            .connection_customizer(Box::new(Session {
                statement_timeout_ms: options.statement_timeout.as_millis(),
            }))
            .build(Manager::new(config.clone(), breaks.clone()))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (config, stop) = (config.clone(), stop.clone());
            std::thread::Builder::new()
                .name("pg-listen".into())
                .spawn(move || listen(&config, &changes, &stop, &breaks))
                .map_err(|e| StoreError::Unavailable(format!("cannot start the listener: {e}")))?;
        }
        Ok(Self {
            pool: Some(pool),
            config,
            outbox: AtomicBool::new(false),
            stop,
            pool_size: options.pool_size,
        })
    }

    fn conn(&self) -> Result<pool::Pooled, StoreError> {
        self.pool
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("closing".into()))?
            .get()
            .map(pool::Pooled)
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Whether status changes write shop notifications to the outbox.
    pub fn set_outbox(&self, enabled: bool) {
        self.outbox.store(enabled, Ordering::Relaxed);
    }

    /// The outbox event and the `NOTIFY` of an applied transition, in its transaction.
    fn announce(
        &self,
        tx: &mut postgres::Transaction<'_>,
        t: &Option<Transition>,
        kind: EventType,
    ) -> Result<(), StoreError> {
        let Some(Transition::Applied(inv)) = t else {
            return Ok(());
        };
        if self.outbox.load(Ordering::Relaxed) {
            let e = NewEvent::new(inv, kind);
            tx.execute(
                "INSERT INTO outbox (event_id, invoice_id, type, body, created_at, created_ms, \
                 next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                &[
                    &e.event_id,
                    &inv.id,
                    &kind.as_str(),
                    &e.body,
                    &e.created,
                    &e.created_ms,
                ],
            )?;
        }
        if kind != EventType::Underpaid {
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &inv.id])?;
        }
        Ok(())
    }

    /// See [`crate::store::Store::reserve`].
    pub fn reserve(&self, r: &Reservation<'_>) -> Result<Reserved, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        if let Some(order_id) = r.order_id {
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&lock_key("order", order_id)],
            )?;
            let paid = tx
                .query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM invoices WHERE order_id = $1 AND status = 'paid' \
                         ORDER BY paid_at LIMIT 1"
                    ),
                    &[&order_id],
                )
                .optional_row()?;
            let open = if paid.is_some() {
                None
            } else {
                tx.query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM invoices WHERE order_id = $1 AND status = 'pending'"
                    ),
                    &[&order_id],
                )
                .optional_row()?
            };
            if let Some(existing) = super::existing(paid, open, r) {
                return Ok(existing);
            }
        }
        let expires_at = r.now.saturating_add(u64::from(r.expiry_secs));
        tx.execute(
            "INSERT INTO invoices (id, order_id, amount_msat, description, expiry_secs, status, \
             created_at, expires_at, provider, idempotency_key, fiat_currency, fiat_amount, \
             fiat_rate, fiat_rate_source, fiat_rate_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &r.id,
                &r.order_id,
                &to_i64(r.amount_msat)?,
                &r.description,
                &to_i32(r.expiry_secs)?,
                &to_i64(r.now)?,
                &to_i64(expires_at)?,
                &r.provider,
                &hex::encode(r.idempotency_key),
                &r.fiat.map(|f| &f.currency),
                &r.fiat.map(|f| &f.amount),
                &r.fiat.map(|f| &f.rate),
                &r.fiat.map(|f| &f.rate_source),
                &r.fiat.map(|f| to_i64(f.rate_at)).transpose()?,
            ],
        )?;
        let row =
            get_in(&mut tx, r.id)?.ok_or_else(|| StoreError::Corrupt("insert vanished".into()))?;
        tx.commit()?;
        Ok(Reserved::New(row))
    }

    /// See [`crate::store::Store::complete`].
    pub fn complete(&self, id: &str, c: &Completion) -> Result<Option<Invoice>, StoreError> {
        let mut conn = self.conn()?;
        conn.execute(
            "UPDATE invoices SET payment_request = $2, pay_url = $3, payment_hash = $4, \
             preimage = $5, provider_ref = $6, expires_at = $7, onchain_address = $8 \
             WHERE id = $1 AND status = 'pending' AND payment_request IS NULL AND pay_url IS NULL",
            &[
                &id,
                &c.payment_request,
                &c.pay_url,
                &c.payment_hash.map(hex::encode),
                &c.preimage.map(hex::encode),
                &c.provider_ref,
                &to_i64(c.expires_at)?,
                &c.onchain_address,
            ],
        )?;
        get_in(&mut *conn, id)
    }

    /// One invoice by id.
    pub fn get(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        get_in(&mut *self.conn()?, id)
    }

    /// One invoice of `provider` by a key a notification carries.
    pub fn find(&self, provider: &str, key: &InvoiceKey) -> Result<Option<Invoice>, StoreError> {
        let (clause, value) = match key {
            InvoiceKey::Id(id) => ("id = $2", id.clone()),
            InvoiceKey::ProviderRef(r) => ("provider_ref = $2", r.clone()),
            InvoiceKey::PaymentHash(h) => ("payment_hash = $2", hex::encode(h)),
            InvoiceKey::IdempotencyKey(k) => ("idempotency_key = $2", hex::encode(k)),
        };
        self.conn()?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM invoices WHERE provider = $1 AND {clause} LIMIT 1"),
                &[&provider, &value],
            )
            .optional_row()
    }

    /// Every invoice of an order, oldest first.
    pub fn invoices_for_order(&self, order_id: &str) -> Result<Vec<Invoice>, StoreError> {
        invoices(self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM invoices WHERE order_id = $1 ORDER BY created_at, created_seq"
            ),
            &[&order_id],
        )?)
    }

    /// Paid invoices after `(since, after_id)`, at most `limit` (ids compared bytewise, as SQLite).
    pub fn paid_since(
        &self,
        since: u64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<Invoice>, StoreError> {
        invoices(self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM invoices WHERE status = 'paid' \
                 AND (paid_at > $1 OR (paid_at = $1 AND id COLLATE \"C\" > $2)) \
                 ORDER BY paid_at, id COLLATE \"C\" LIMIT $3"
            ),
            &[&to_i64(since)?, &after_id, &i64::from(limit)],
        )?)
    }

    /// `pending → paid`.
    pub fn mark_paid(
        &self,
        id: &str,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        self.pay(id, Status::Pending, paid_at, preimage, amount_paid_msat)
    }

    /// `expired → paid`, `paid_late`.
    pub fn mark_paid_late(
        &self,
        id: &str,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        self.pay(id, Status::Expired, paid_at, preimage, amount_paid_msat)
    }

    fn pay(
        &self,
        id: &str,
        from: Status,
        paid_at: u64,
        preimage: Option<[u8; 32]>,
        amount_paid_msat: Option<u64>,
    ) -> Result<Option<Transition>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE invoices SET status = 'paid', paid_late = ($5::TEXT = 'expired'), \
             paid_at = $2, preimage = COALESCE(preimage, $3), amount_paid_msat = $4 \
             WHERE id = $1 AND status = $5 AND ($4::BIGINT IS NULL OR $4 >= amount_msat)",
            &[
                &id,
                &to_i64(paid_at)?,
                &preimage.map(hex::encode),
                &amount_paid_msat.map(to_i64).transpose()?,
                &from.as_str(),
            ],
        )?;
        let t = transition(&mut tx, id, n)?;
        self.announce(&mut tx, &t, EventType::Paid)?;
        tx.commit()?;
        Ok(t)
    }

    /// See [`crate::store::Store::record_onchain`]; announced as a change (every instance's
    /// payers see the on-chain payment), with no shop event.
    pub fn record_onchain(
        &self,
        id: &str,
        confirmations: u32,
        now: u64,
    ) -> Result<Option<Transition>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE invoices SET onchain_seen_at = COALESCE(onchain_seen_at, $2), \
             onchain_confirmations = $3 \
             WHERE id = $1 AND status = 'pending' AND onchain_address IS NOT NULL",
            &[&id, &to_i64(now)?, &to_i32(confirmations)?],
        )?;
        let t = transition(&mut tx, id, n)?;
        if let Some(Transition::Applied(inv)) = &t {
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &inv.id])?;
        }
        tx.commit()?;
        Ok(t)
    }

    /// Record an underpayment; no status change.
    pub fn record_underpayment(
        &self,
        id: &str,
        received_msat: u64,
        now: u64,
    ) -> Result<Option<Transition>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE invoices SET amount_received_msat = $2, \
             underpaid_at = COALESCE(underpaid_at, $3) \
             WHERE id = $1 AND status IN ('pending', 'expired') AND $2 < amount_msat \
             AND (underpaid_at IS NULL OR amount_received_msat IS DISTINCT FROM $2)",
            &[&id, &to_i64(received_msat)?, &to_i64(now)?],
        )?;
        let t = transition(&mut tx, id, n)?;
        self.announce(&mut tx, &t, EventType::Underpaid)?;
        tx.commit()?;
        Ok(t)
    }

    /// Retention of expired, unpaid rows.
    pub fn delete_expired_unpaid(&self, before: u64) -> Result<usize, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM invoices WHERE status = 'expired' AND paid_at IS NULL \
             AND underpaid_at IS NULL AND amount_received_msat IS NULL AND expires_at < $1",
            &[&to_i64(before)?],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Retention of webhook event ids.
    pub fn delete_webhook_events(&self, before: u64) -> Result<usize, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM webhook_events WHERE received_at < $1",
            &[&to_i64(before)?],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// `pending → expired` if due at `now`.
    pub fn expire_if_due(&self, id: &str, now: u64) -> Result<Option<Transition>, StoreError> {
        self.expire(
            "UPDATE invoices SET status = 'expired' \
             WHERE id = $1 AND status = 'pending' AND expires_at <= $2",
            id,
            Some(to_i64(now)?),
        )
    }

    /// `pending → expired`.
    pub fn mark_expired(&self, id: &str) -> Result<Option<Transition>, StoreError> {
        self.expire(
            "UPDATE invoices SET status = 'expired' WHERE id = $1 AND status = 'pending'",
            id,
            None,
        )
    }

    fn expire(
        &self,
        sql: &str,
        id: &str,
        now: Option<i64>,
    ) -> Result<Option<Transition>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let n = match &now {
            Some(now) => tx.execute(sql, &[&id, now])?,
            None => tx.execute(sql, &[&id])?,
        };
        let t = transition(&mut tx, id, n)?;
        self.announce(&mut tx, &t, EventType::Expired)?;
        tx.commit()?;
        Ok(t)
    }

    /// A subscription's resume point, by name (`None`: never set).
    pub fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()?
            .query_opt("SELECT value FROM cursors WHERE name = $1", &[&name])?
            .map(|r| r.get(0)))
    }

    /// Keep a subscription's resume point.
    pub fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO cursors (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&name, &value],
        )?;
        Ok(())
    }

    /// Whether a provider's webhook event id was processed.
    pub fn event_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM webhook_events WHERE provider = $1 AND event_id = $2",
                &[&provider, &event_id],
            )?
            .is_some())
    }

    /// Remember a processed webhook event id; `false` if it was already there.
    pub fn record_event(
        &self,
        provider: &str,
        event_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "INSERT INTO webhook_events (provider, event_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&provider, &event_id, &to_i64(now)?],
        )?;
        Ok(n == 1)
    }

    /// Claim the events due at `now_ms` whose invoice has no earlier undelivered event: rows
    /// another instance is claiming are skipped (`FOR UPDATE SKIP LOCKED`), and the claimed ones
    /// get `next_attempt_ms = now_ms + claim_ms` in the same statement, so after the commit no
    /// instance picks them until the claim runs out (which only matters when this one died
    /// before recording the attempt).
    pub fn outbox_due(&self, now_ms: u64, claim_ms: u64) -> Result<Vec<OutboxEvent>, StoreError> {
        let now = to_i64(now_ms)?;
        let until = to_i64(now_ms.saturating_add(claim_ms))?;
        let rows = self.conn()?.query(
            &format!(
                "UPDATE outbox SET next_attempt_ms = $2 WHERE seq IN ( \
                   SELECT o.seq FROM outbox o \
                   WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_ms <= $1 \
                   AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.invoice_id = o.invoice_id \
                       AND p.seq < o.seq AND p.delivered_at IS NULL AND p.failed_at IS NULL) \
                   ORDER BY o.seq LIMIT $3 FOR UPDATE OF o SKIP LOCKED) \
                 RETURNING {EVENT_COLUMNS}"
            ),
            &[&now, &until, &i64::from(crate::outbox::BATCH)],
        )?;
        let mut out = rows.iter().map(read_event).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    /// The earliest next attempt of any undelivered event, Unix ms.
    pub fn outbox_next_due(&self) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = self
            .conn()?
            .query_one(
                "SELECT MIN(next_attempt_ms) FROM outbox \
                 WHERE delivered_at IS NULL AND failed_at IS NULL",
                &[],
            )?
            .get(0);
        Ok(v.map(|v| u64::try_from(v).unwrap_or(0)))
    }

    /// Store an attempt's outcome.
    pub fn outbox_record(&self, a: &Attempt) -> Result<(), StoreError> {
        let attempts = i32::try_from(a.attempts).unwrap_or(i32::MAX);
        let mut c = self.conn()?;
        if let Some(at) = a.delivered_at {
            c.execute(
                "UPDATE outbox SET delivered_at = $2, attempts = $3, last_error = NULL WHERE seq = $1",
                &[&a.seq, &at, &attempts],
            )?;
        } else {
            c.execute(
                "UPDATE outbox SET attempts = $2, last_error = $3, next_attempt_ms = $4, \
                 failed_at = $5 WHERE seq = $1",
                &[
                    &a.seq,
                    &attempts,
                    &a.error,
                    &a.next_attempt_ms,
                    &a.failed_at,
                ],
            )?;
        }
        Ok(())
    }

    /// Every outbox event, oldest first.
    pub fn outbox_all(&self) -> Result<Vec<OutboxEvent>, StoreError> {
        self.conn()?
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM outbox ORDER BY seq"),
                &[],
            )?
            .iter()
            .map(read_event)
            .collect()
    }

    /// A connection of its own holding `pg_try_advisory_lock` on `name`, or `None` when another
    /// session holds it.
    pub fn try_lease(&self, name: &str) -> Result<Option<postgres::Client>, StoreError> {
        let mut c = self.config.connect(NoTls)?;
        let got: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock($1)",
                &[&lock_key("lease", name)],
            )?
            .get(0);
        Ok(got.then_some(c))
    }
}

/// The `LISTEN` loop: ids from `NOTIFY` into `changes`, reconnecting (backing off to 5 s) when
/// the connection drops (counted in `breaks`: the pool then tests its connections), until `stop`.
fn listen(
    config: &postgres::Config,
    changes: &tokio::sync::broadcast::Sender<String>,
    stop: &AtomicBool,
    breaks: &Breaks,
) {
    let mut backoff = Duration::from_millis(100);
    while !stop.load(Ordering::Relaxed) {
        let mut client = match config.connect(NoTls) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "change listener cannot connect; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")) {
            tracing::warn!(error = %e, "change listener: LISTEN failed");
            continue;
        }
        backoff = Duration::from_millis(100);
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let next = client
                .notifications()
                .timeout_iter(Duration::from_millis(250))
                .next()
                .map(|n| n.map(|n| n.payload().to_owned()));
            match next {
                Ok(Some(id)) => {
                    let _ = changes.send(id);
                }
                Ok(None) if !client.is_closed() => {}
                Ok(None) | Err(_) => {
                    breaks.seen();
                    tracing::warn!("change listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}
