//! The backend's own watch of on-chain addresses (unified invoices whose provider gives an address
//! but no status for it: LND). BTCPay watches its own addresses and reports through its invoice
//! status; the demo provider is told by its control ([`crate::checkout::simulate_onchain`]).
//!
//! * **Which addresses**: those written to the store's watch list when the invoice was made
//!   ([`crate::store::Store::watch_onchain`], before the address is shown), with the chain tip of
//!   that moment: pending invoices, and for [`WATCH_AFTER_EXPIRY_SECS`] after the Lightning
//!   deadline expired ones (a payment still in the mempool then, or sent late, becomes paid when
//!   it confirms, `paid_late` if the invoice had been marked expired) and Lightning-paid ones (a
//!   second payment is recorded for a person, never a second "paid").
//! * **Bounded cost**: one wallet listing from the lowest height of the watched invoices
//!   (`GetTransactions` from that height to the mempool) serves all of them in one round
//!   ([`watch_once`], run by [`spawn`] every [`POLL_EVERY`] and at once when LND's wallet stream
//!   tells of a transaction); a status poll of one invoice lists from
//!   that invoice's height only ([`check_one`], coalesced like every lookup). Heights are at most
//!   the invoice's expiry plus the window old, so the wallet's older history is never listed.
//! * **What counts** ([`tally`]): the outputs paying the address, summed. Seen at all (the mempool
//!   included): the invoice records the sighting (`onchain_seen_at`, the fewest confirmations of
//!   those outputs; pushed live as any change) and is not expired while it waits. The outputs
//!   with at least `ONCHAIN_CONFIRMATIONS` summing to the invoice's exact amount (or more): paid,
//!   `amount_paid_msat` what they sum to. All outputs confirmed and still short: an underpayment
//!   (the store's, as for Lightning), the invoice stays unpaid. A provider that says only which
//!   addresses a transaction paid and its total (LND before 0.15) is believed for a transaction
//!   paying one watched address only; one paying several is credited to none and logged.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use reqwest::Method;
use tokio::sync::Notify;

use crate::error::AppError;
use crate::provider::{ChainReceipt, ProviderError};
use crate::state::AppState;
use crate::store::{Invoice, Status, Transition};

/// How long after its Lightning deadline an invoice's address is still watched (BTCPay's
/// "monitoring expiration" default: a day).
pub const WATCH_AFTER_EXPIRY_SECS: u64 = 24 * 3600;
/// How often [`spawn`]'s task lists the wallet for all watched addresses.
pub const POLL_EVERY: Duration = Duration::from_secs(10);
/// Most invoices watched in one round (lowest heights first; the rest in later rounds once
/// these are settled).
pub const WATCH_LIMIT: u32 = 1000;

/// What the wallet received at one address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// All outputs paying it, the mempool included, in sat.
    pub seen_sat: u64,
    /// Those with at least the required confirmations, in sat.
    pub confirmed_sat: u64,
    /// The fewest confirmations among the outputs paying it (`None`: nothing seen).
    pub confirmations: Option<u32>,
}

/// Sum what `receipts` pay to `address` (see the module docs); `watched` are all the addresses
/// being watched, to tell which whole-transaction amounts are unambiguous.
pub fn tally(
    receipts: &[ChainReceipt],
    address: &str,
    watched: &HashSet<&str>,
    required: u32,
) -> Tally {
    let mut t = Tally::default();
    for r in receipts.iter().filter(|r| r.address == address) {
        if !r.per_output {
            let shared = receipts
                .iter()
                .filter(|o| o.txid == r.txid && o.address != address)
                .any(|o| watched.contains(o.address.as_str()));
            if shared {
                tracing::error!(txid = %r.txid, "a transaction pays several watched addresses and the provider gives no per-output amounts: credited to none; a person must settle it");
                continue;
            }
        }
        t.seen_sat = t.seen_sat.saturating_add(r.amount_sat);
        if r.confirmations >= required {
            t.confirmed_sat = t.confirmed_sat.saturating_add(r.amount_sat);
        }
        t.confirmations = Some(
            t.confirmations
                .map_or(r.confirmations, |c| c.min(r.confirmations)),
        );
    }
    t
}

/// Apply what was received at `inv`'s address; the row afterwards.
pub async fn apply(state: &AppState, inv: &Invoice, t: Tally) -> Result<Invoice, AppError> {
    let Some(confirmations) = t.confirmations else {
        return Ok(inv.clone());
    };
    let (id, now, amount_sat) = (inv.id.clone(), state.now(), inv.amount_sat());
    let full = t.confirmed_sat >= amount_sat;
    let all_confirmed = t.confirmed_sat == t.seen_sat;
    let paid_msat = t.confirmed_sat.saturating_mul(1000);
    // Told once per change: every round sees the same payment again.
    let news = inv.onchain_seen_at.is_none() || inv.onchain_confirmations != Some(confirmations);
    match inv.status {
        Status::Pending | Status::Expired => {
            let from = inv.status;
            let (row, paid_here, underpaid_news) = state
                .with_store(
                    move |s| -> Result<Option<(Invoice, bool, bool)>, AppError> {
                        let mut t = if from == Status::Pending && news {
                            s.record_onchain(&id, confirmations, now)?
                        } else {
                            None
                        };
                        let (mut paid_here, mut underpaid_news) = (false, false);
                        if full {
                            t = if from == Status::Pending {
                                s.mark_paid(&id, now, None, Some(paid_msat))?
                            } else {
                                s.mark_paid_late(&id, now, None, Some(paid_msat))?
                            };
                            paid_here = matches!(&t, Some(Transition::Applied(_)));
                            if paid_here {
                                s.unwatch_onchain(&id)?;
                            }
                        } else if all_confirmed {
                            t = s.record_underpayment(&id, paid_msat, now)?;
                            underpaid_news = matches!(&t, Some(Transition::Applied(_)));
                        }
                        Ok(match t {
                            Some(t) => Some((t.into_invoice(), paid_here, underpaid_news)),
                            None => s.get(&id)?.map(|r| (r, false, false)),
                        })
                    },
                )
                .await?
                .ok_or_else(AppError::invoice_not_found)?;
            if paid_here {
                if row.paid_late {
                    tracing::warn!(id = %row.id, order_id = ?row.order_id, "late payment: an invoice already marked expired was paid on-chain");
                } else {
                    tracing::info!(id = %row.id, "invoice paid on-chain");
                }
                // Its Lightning invoice can no longer be paid (a refusal means it was: the
                // Lightning payment is then told as a second one when it is reported).
                if let Err(e) = state.provider().cancel_lightning(&row).await {
                    tracing::warn!(id = %row.id, error = %e, "the Lightning invoice of an invoice paid on-chain was not cancelled");
                }
            } else if row.status == Status::Paid {
                // Paid by Lightning meanwhile: this one is a second payment.
                return second_payment(state, row, t.seen_sat).await;
            } else if underpaid_news {
                tracing::error!(id = %row.id, order_id = ?row.order_id, amount_sat, received_sat = t.confirmed_sat, "underpayment on-chain: less than the amount asked was received; the invoice is not paid and needs a person");
            }
            Ok(row)
        }
        Status::Paid => second_payment(state, inv.clone(), t.seen_sat).await,
    }
}

/// A payment to the address of an invoice already paid by Lightning: recorded for a person.
async fn second_payment(state: &AppState, row: Invoice, sat: u64) -> Result<Invoice, AppError> {
    if row.preimage.is_none() {
        // Not paid by Lightning (LND gives the preimage of every settled invoice): paid here.
        return Ok(row);
    }
    let (id, now) = (row.id.clone(), state.now());
    let news = state
        .with_store(move |s| s.record_second_payment(&id, sat, now))
        .await?;
    if news {
        tracing::error!(id = %row.id, order_id = ?row.order_id, received_sat = sat, "paid twice: an on-chain payment arrived for an invoice already paid by Lightning; it stays paid once and the second payment needs a refund by a person");
    }
    Ok(row)
}

/// The addresses watched now, for [`tally`]'s ambiguity rule.
async fn watched(state: &AppState) -> Result<Vec<crate::store::Watched>, AppError> {
    let (provider, now) = (state.provider().name(), state.now());
    Ok(state
        .with_store(move |s| s.onchain_watched(provider, now, WATCH_LIMIT))
        .await?)
}

/// A status lookup's part for one invoice with a watched address: list the wallet from its
/// height and apply what its address received. `Ok(None)`: its address is not watched here.
pub async fn check_one(state: &AppState, inv: &Invoice) -> Result<Option<Invoice>, ProviderError> {
    let Some(address) = inv.onchain_address.clone() else {
        return Ok(None);
    };
    let id = inv.id.clone();
    let from = state
        .with_store(move |s| s.onchain_from_height(&id))
        .await
        .map_err(|e| ProviderError::Unavailable(format!("store: {e}")))?;
    let Some(from) = from else {
        return Ok(None);
    };
    let receipts = state.provider().wallet_receipts(from).await?;
    let mut all = HashSet::new();
    let others;
    if receipts
        .iter()
        .any(|r| !r.per_output && r.address == address)
    {
        others = watched(state)
            .await
            .map_err(|e| ProviderError::Unavailable(format!("store: {}", e.code)))?;
        all.extend(
            others
                .iter()
                .filter_map(|w| w.invoice.onchain_address.as_deref()),
        );
    }
    all.insert(address.as_str());
    let t = tally(
        &receipts,
        &address,
        &all,
        state.config().onchain_confirmations,
    );
    apply(state, inv, t)
        .await
        .map(Some)
        .map_err(|e| ProviderError::Unavailable(format!("store: {}", e.code)))
}

/// One round for every watched address: one wallet listing, then each invoice's tally applied.
/// A pending invoice past its deadline with nothing seen is settled as a poll would
/// ([`crate::checkout::status`]: the provider is asked, then it is expired or not). Returns how
/// many invoices were watched.
pub async fn watch_once(state: &AppState) -> Result<usize, String> {
    let list = watched(state).await.map_err(|e| e.to_string())?;
    let Some(from) = list.iter().map(|w| w.from_height).min() else {
        return Ok(0);
    };
    let receipts = state
        .provider()
        .wallet_receipts(from)
        .await
        .map_err(|e| e.to_string())?;
    let addresses: HashSet<&str> = list
        .iter()
        .filter_map(|w| w.invoice.onchain_address.as_deref())
        .collect();
    let required = state.config().onchain_confirmations;
    let mut by_address: HashMap<&str, Tally> = HashMap::new();
    for a in &addresses {
        by_address.insert(a, tally(&receipts, a, &addresses, required));
    }
    let grace = state.provider().callback_grace_secs();
    for w in &list {
        let inv = &w.invoice;
        let Some(t) = inv
            .onchain_address
            .as_deref()
            .and_then(|a| by_address.get(a).copied())
        else {
            continue;
        };
        let due = inv.status == Status::Pending
            && inv.onchain_seen_at.is_none()
            && state.now() >= inv.expires_at.saturating_add(grace);
        let result = if due && t.confirmations.is_none() {
            crate::checkout::status(state, &inv.id).await.map(|_| ())
        } else {
            apply(state, inv, t).await.map(|_| ())
        };
        if let Err(e) = result {
            tracing::warn!(id = %inv.id, error = %e, "on-chain watch: not applied");
        }
    }
    Ok(list.len())
}

/// The lease that makes one instance of several on one PostgreSQL database the one that runs
/// the rounds ([`crate::store::Store::try_lease`]); the others still check the invoices their
/// clients poll.
pub const LEASE: &str = "onchain-watch";

/// Start the watch task (a round every [`POLL_EVERY`], by the instance holding [`LEASE`]); it
/// ends when the app is dropped. It runs for every provider: without watched addresses a round
/// is one store query.
pub fn spawn(state: &AppState) -> tokio::task::JoinHandle<()> {
    spawn_every(state, POLL_EVERY)
}

/// [`spawn`] with a round every `every` (tests).
pub fn spawn_every(state: &AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    let weak = state.downgrade();
    let nudge = Arc::new(Notify::new());
    let stream = wallet_stream(state, Arc::downgrade(&nudge));
    tokio::spawn(async move {
        let _stream = stream.map(AbortOnDrop);
        let mut lease: Option<crate::store::Lease> = None;
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = nudge.notified() => {}
            }
            let Some(state) = weak.upgrade() else {
                return;
            };
            let held = lease.take();
            lease = state
                .with_store(move |s| {
                    if let Some(mut l) = held {
                        if l.is_held() {
                            return Ok(Some(l));
                        }
                    }
                    s.try_lease(LEASE)
                })
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "on-chain watch: lease not taken");
                    None
                });
            if lease.is_none() {
                continue;
            }
            if let Err(e) = watch_once(&state).await {
                tracing::warn!(error = %e, "on-chain watch round failed; the next one retries");
            }
        }
    })
}

/// Aborts its task when dropped (the stream task ends with the watch task).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// First delay before reconnecting the wallet stream.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest delay before reconnecting it.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest line of the stream (a transaction is a few KiB).
const MAX_LINE: usize = 1024 * 1024;

/// LND's wallet stream (`GET /v1/transactions/subscribe`, lnrpc `SubscribeTransactions`,
/// `onchain:read`): each transaction entering the mempool or confirming starts a round at once,
/// so a payment is seen in about a second instead of at the next [`POLL_EVERY`]. The stream is
/// only a hint: the round lists the wallet as always. Reconnected with backoff (0.25 s doubling
/// to 30 s); the timed rounds go on meanwhile. `None` for other providers.
fn wallet_stream(state: &AppState, nudge: Weak<Notify>) -> Option<tokio::task::JoinHandle<()>> {
    let crate::providers::ProviderSettings::Lnd(s) = &state.config().provider_settings else {
        return None;
    };
    let api = match crate::providers::http::HttpClient::streaming(&s.tls, None)
        .and_then(|http| crate::providers::lnd::api(s, http))
    {
        Ok(api) => api,
        Err(e) => {
            tracing::error!(error = %e, "LND wallet stream not started");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let mut connected = false;
            let result = follow(&api, &nudge, &mut connected).await;
            if nudge.upgrade().is_none() {
                return;
            }
            if connected {
                backoff = FIRST_BACKOFF;
            }
            tracing::warn!(error = %result, retry_in_ms = backoff.as_millis() as u64, "LND wallet stream interrupted");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }))
}

/// Read the stream until it breaks; why it ended.
async fn follow(
    api: &crate::providers::http::Api,
    nudge: &Weak<Notify>,
    connected: &mut bool,
) -> String {
    let mut res = match api
        .request(Method::GET, "/v1/transactions/subscribe")
        .send()
        .await
    {
        Ok(r) => r,
        // Never the URL or a header: the kind of failure only.
        Err(e) if e.is_connect() => return "LND: cannot connect".into(),
        Err(_) => return "LND: connection lost".into(),
    };
    if !res.status().is_success() {
        return format!("LND answered HTTP {}", res.status().as_u16());
    }
    *connected = true;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = match res.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => return "LND: the stream ended".into(),
            Err(_) => return "LND: connection lost".into(),
        };
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
                return "LND: a stream line is not JSON".into();
            };
            if v["error"].is_object() {
                return format!(
                    "LND: the stream said error {}",
                    v["error"]["code"].as_i64().unwrap_or(0)
                );
            }
            let Some(n) = nudge.upgrade() else {
                return "the watch stopped".into();
            };
            if v["result"].is_object() {
                n.notify_one();
            }
        }
        if buf.len() > MAX_LINE {
            return "LND: a line of the stream is too long".into();
        }
    }
}
