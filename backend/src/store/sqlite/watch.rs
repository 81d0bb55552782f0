//! SQLite side of [`crate::store::watch`].

use rusqlite::{params, OptionalExtension};

use super::{lock, read_row, SqliteStore, COLUMNS};
use crate::store::{to_i64, to_u64, StoreError, Watched};

impl SqliteStore {
    /// See [`crate::store::Store::watch_onchain`].
    pub fn watch_onchain(
        &self,
        id: &str,
        from_height: u64,
        watch_until: u64,
    ) -> Result<(), StoreError> {
        lock(&self.writer).execute(
            "INSERT INTO onchain_watch (invoice_id, from_height, watch_until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (invoice_id) DO UPDATE SET \
             from_height = min(from_height, excluded.from_height), \
             watch_until = max(watch_until, excluded.watch_until)",
            params![id, to_i64(from_height)?, to_i64(watch_until)?],
        )?;
        Ok(())
    }

    /// See [`crate::store::Store::onchain_from_height`].
    pub fn onchain_from_height(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let h: Option<i64> = self
            .reader()
            .query_row(
                "SELECT from_height FROM onchain_watch WHERE invoice_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        h.map(|h| to_u64(h, "from_height")).transpose()
    }

    /// See [`crate::store::Store::onchain_watched`].
    pub fn onchain_watched(
        &self,
        provider: &str,
        now: u64,
        limit: u32,
    ) -> Result<Vec<Watched>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, w.from_height AS from_height FROM onchain_watch w \
             JOIN invoices ON invoices.id = w.invoice_id \
             WHERE provider = ?1 AND onchain_address IS NOT NULL \
             AND (status = 'pending' OR w.watch_until > ?2) \
             ORDER BY w.from_height, w.invoice_id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![provider, to_i64(now)?, limit], |row| {
            let h: i64 = row.get("from_height")?;
            Ok(read_row(row)?.and_then(|invoice| {
                Ok(Watched {
                    invoice,
                    from_height: to_u64(h, "from_height")?,
                })
            }))
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// See [`crate::store::Store::unwatch_onchain`].
    pub fn unwatch_onchain(&self, id: &str) -> Result<(), StoreError> {
        lock(&self.writer).execute(
            "DELETE FROM onchain_watch WHERE invoice_id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// See [`crate::store::Store::record_second_payment`].
    pub fn record_second_payment(&self, id: &str, sat: u64, now: u64) -> Result<bool, StoreError> {
        let n = lock(&self.writer).execute(
            "UPDATE onchain_watch SET extra_sat = ?2, extra_seen_at = COALESCE(extra_seen_at, ?3) \
             WHERE invoice_id = ?1 AND extra_sat IS NOT ?2",
            params![id, to_i64(sat)?, to_i64(now)?],
        )?;
        Ok(n > 0)
    }

    /// See [`crate::store::Store::delete_onchain_watches`].
    pub fn delete_onchain_watches(&self, before: u64) -> Result<usize, StoreError> {
        Ok(lock(&self.writer).execute(
            "DELETE FROM onchain_watch WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_id) \
             OR (watch_until < ?1 AND extra_sat IS NULL \
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_id AND i.status = 'pending'))",
            params![to_i64(before)?],
        )?)
    }

    /// See [`crate::store::Store::second_payment`].
    pub fn second_payment(&self, id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        let v: Option<(Option<i64>, Option<i64>)> = self
            .reader()
            .query_row(
                "SELECT extra_sat, extra_seen_at FROM onchain_watch WHERE invoice_id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match v {
            Some((Some(sat), Some(at))) => Ok(Some((
                to_u64(sat, "extra_sat")?,
                to_u64(at, "extra_seen_at")?,
            ))),
            _ => Ok(None),
        }
    }
}
