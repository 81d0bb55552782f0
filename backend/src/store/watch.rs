//! The on-chain addresses the backend watches itself (migration step 6, `onchain_watch`): one row
//! per unified invoice whose provider gives no status for its address (LND), written before the
//! address is shown. See [`crate::onchain`] for what is done with them.

use super::{Db, Invoice, Store, StoreError};

/// An invoice whose on-chain address is watched, and the block height to look from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The invoice as stored.
    pub invoice: Invoice,
    /// The chain tip when its address was made: no payment to it can be older.
    pub from_height: u64,
}

impl Store {
    /// Watch invoice `id`'s address from block height `from_height` until `watch_until` (Unix
    /// seconds; an expired invoice is watched until then, a pending one always). Written again
    /// for the same invoice (a retried create), the lower height is kept.
    pub fn watch_onchain(
        &self,
        id: &str,
        from_height: u64,
        watch_until: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.watch_onchain(id, from_height, watch_until))
    }

    /// The block height invoice `id`'s address is watched from (`None`: not watched here).
    pub fn onchain_from_height(&self, id: &str) -> Result<Option<u64>, StoreError> {
        dispatch!(self, s => s.onchain_from_height(id))
    }

    /// The invoices of `provider` whose addresses are watched at `now`: pending ones, and expired
    /// or Lightning-paid ones until their `watch_until`; lowest height first, at most `limit`.
    pub fn onchain_watched(
        &self,
        provider: &str,
        now: u64,
        limit: u32,
    ) -> Result<Vec<Watched>, StoreError> {
        dispatch!(self, s => s.onchain_watched(provider, now, limit))
    }

    /// Stop watching invoice `id`'s address (it was paid there).
    pub fn unwatch_onchain(&self, id: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.unwatch_onchain(id))
    }

    /// `sat` arrived on-chain for invoice `id`, already paid by Lightning: kept for a person (a
    /// refund). `true` when this is news (first sighting, or a different amount).
    pub fn record_second_payment(&self, id: &str, sat: u64, now: u64) -> Result<bool, StoreError> {
        dispatch!(self, s => s.record_second_payment(id, sat, now))
    }

    /// Retention: forget the watches whose window ended before `before` (Unix seconds), except a
    /// pending invoice's and one holding a second payment, and those of deleted invoices.
    pub fn delete_onchain_watches(&self, before: u64) -> Result<usize, StoreError> {
        dispatch!(self, s => s.delete_onchain_watches(before))
    }

    /// What [`Store::record_second_payment`] kept for invoice `id`: `(sat, first seen at)`.
    pub fn second_payment(&self, id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        dispatch!(self, s => s.second_payment(id))
    }
}
