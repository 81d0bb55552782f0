//! PostgreSQL side of [`crate::store::watch`].

use super::{PgStore, COLUMNS};
use crate::store::{to_i64, to_u64, Invoice, StoreError, Watched};

impl PgStore {
    /// See [`crate::store::Store::watch_onchain`].
    pub fn watch_onchain(
        &self,
        id: &str,
        from_height: u64,
        watch_until: u64,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO onchain_watch (invoice_id, from_height, watch_until) VALUES ($1, $2, $3) \
             ON CONFLICT (invoice_id) DO UPDATE SET \
             from_height = LEAST(onchain_watch.from_height, EXCLUDED.from_height), \
             watch_until = GREATEST(onchain_watch.watch_until, EXCLUDED.watch_until)",
            &[&id, &to_i64(from_height)?, &to_i64(watch_until)?],
        )?;
        Ok(())
    }

    /// See [`crate::store::Store::onchain_from_height`].
    pub fn onchain_from_height(&self, id: &str) -> Result<Option<u64>, StoreError> {
        self.conn()?
            .query_opt(
                "SELECT from_height FROM onchain_watch WHERE invoice_id = $1",
                &[&id],
            )?
            .map(|r| to_u64(r.get(0), "from_height"))
            .transpose()
    }

    /// See [`crate::store::Store::onchain_watched`].
    pub fn onchain_watched(
        &self,
        provider: &str,
        now: u64,
        limit: u32,
    ) -> Result<Vec<Watched>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS}, w.from_height AS from_height FROM onchain_watch w \
                 JOIN invoices ON invoices.id = w.invoice_id \
                 WHERE provider = $1 AND onchain_address IS NOT NULL \
                 AND (status = 'pending' OR w.watch_until > $2) \
                 ORDER BY w.from_height, w.invoice_id COLLATE \"C\" LIMIT $3"
            ),
            &[&provider, &to_i64(now)?, &i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Watched {
                    invoice: Invoice::try_from(r)?,
                    from_height: to_u64(r.get("from_height"), "from_height")?,
                })
            })
            .collect()
    }

    /// See [`crate::store::Store::unwatch_onchain`].
    pub fn unwatch_onchain(&self, id: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute("DELETE FROM onchain_watch WHERE invoice_id = $1", &[&id])?;
        Ok(())
    }

    /// See [`crate::store::Store::record_second_payment`].
    pub fn record_second_payment(&self, id: &str, sat: u64, now: u64) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "UPDATE onchain_watch SET extra_sat = $2, extra_seen_at = COALESCE(extra_seen_at, $3) \
             WHERE invoice_id = $1 AND extra_sat IS DISTINCT FROM $2",
            &[&id, &to_i64(sat)?, &to_i64(now)?],
        )?;
        Ok(n > 0)
    }

    /// See [`crate::store::Store::delete_onchain_watches`].
    pub fn delete_onchain_watches(&self, before: u64) -> Result<usize, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM onchain_watch WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_id) \
             OR (watch_until < $1 AND extra_sat IS NULL \
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_id AND i.status = 'pending'))",
            &[&to_i64(before)?],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// See [`crate::store::Store::second_payment`].
    pub fn second_payment(&self, id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        let row = self.conn()?.query_opt(
            "SELECT extra_sat, extra_seen_at FROM onchain_watch WHERE invoice_id = $1",
            &[&id],
        )?;
        match row.map(|r| (r.get::<_, Option<i64>>(0), r.get::<_, Option<i64>>(1))) {
            Some((Some(sat), Some(at))) => Ok(Some((
                to_u64(sat, "extra_sat")?,
                to_u64(at, "extra_seen_at")?,
            ))),
            _ => Ok(None),
        }
    }
}
