//! The connection pool's manager: a connection is checked (`SELECT ''`, one round trip) before it
//! is handed out only when a connection to the database was seen to break since it was last
//! known good, not on every checkout.
//!
//! Each instance's `LISTEN` thread holds a connection that is always waiting on the server, so it
//! notices a database restart (or a dropped connection) at once and counts it in [`Breaks`]. A
//! pooled connection remembers the count at which it was last known good; at checkout, the same
//! count means nothing happened since and it is handed out untested, a higher one means it is
//! tested first (a stale one is dropped and r2d2 opens another). A connection that fails while in
//! use is closed (`Client::is_closed`) and not put back (`has_broken`). So after a restart the
//! pool recovers by itself, as it did when every checkout was tested, without a round trip per
//! request the rest of the time.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

/// How many times a connection to the database was seen to break (shared by the pool and the
/// `LISTEN` thread).
#[derive(Debug, Clone, Default)]
pub(crate) struct Breaks(Arc<AtomicU64>);

impl Breaks {
    /// A connection broke: test each pooled connection before its next use.
    pub(crate) fn seen(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A pooled client and the [`Breaks`] count at which it was last known good.
pub(crate) struct Conn {
    client: postgres::Client,
    good_at: u64,
}

impl Deref for Conn {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.client
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// r2d2's manager for the store's pool (see the module's text).
#[derive(Debug)]
pub(crate) struct Manager {
    inner: PostgresConnectionManager<NoTls>,
    breaks: Breaks,
}

impl Manager {
    pub(crate) fn new(config: postgres::Config, breaks: Breaks) -> Self {
        Self {
            inner: PostgresConnectionManager::new(config, NoTls),
            breaks,
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        // The count before connecting: a break seen meanwhile gets this connection tested.
        let good_at = self.breaks.count();
        Ok(Conn {
            client: self.inner.connect()?,
            good_at,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        let now = self.breaks.count();
        if conn.good_at != now {
            self.inner.is_valid(&mut conn.client)?;
            conn.good_at = now;
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        let closed = conn.client.is_closed();
        if closed {
            // The others may be stale too (a restart this request noticed before the listener).
            self.breaks.seen();
        }
        closed
    }
}

/// A client checked out of the pool (back into it when dropped).
pub(crate) struct Pooled(pub(crate) r2d2::PooledConnection<Manager>);

impl Deref for Pooled {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.0.client
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.0.client
    }
}
