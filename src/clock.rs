//! PURE: the backend's clock, learned from the `server_time` of its answers.
//!
//! The payer's clock can be minutes off (a phone set by hand, a laptop after a long sleep); a
//! phone 20 minutes fast would refuse every invoice as expired and count down wrongly. The
//! backend's answers carry `server_time` (Unix milliseconds); [`ServerClock`] keeps the offset
//! between that clock and the payer's, and the glue hands the state machine the corrected time
//! (`ServerClock::now(Date.now())`) for every decision: expiry checks, the countdown, polls.
//! Without any `server_time` (an older backend) the offset stays 0: the payer's clock as is.

/// A sample whose request took longer than this replaces a better one only if it is no worse:
/// the server's reading lies somewhere in the round trip, so its error is up to half of it.
pub const GOOD_RTT_MS: u64 = 1_000;

/// Smallest `server_time` taken as milliseconds (September 2001): a backend that sends Unix
/// seconds by mistake is ignored rather than believed 50 years away.
pub const MIN_SERVER_TIME_MS: u64 = 1_000_000_000_000;

/// Largest time taken as Unix milliseconds (year 5138): beyond, a reading is nonsense.
pub const MAX_TIME_MS: u64 = 1 << 47;

/// Offset of the backend's clock from the payer's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerClock {
    offset_ms: i64,
    /// Round trip of the sample the offset comes from (None: no sample yet).
    rtt_ms: Option<u64>,
}

impl ServerClock {
    /// Learns from one answer: the request left at `sent_ms` and its answer, stamped
    /// `server_time_ms` by the backend, arrived at `received_ms` (both by the payer's clock).
    /// The backend read its clock somewhere in between: the middle is the best guess. A sample
    /// replaces the current one when its round trip is at most [`GOOD_RTT_MS`] or no longer
    /// than the current one's (so a slow answer never spoils a good estimate, and a clock the
    /// payer changes meanwhile is followed at the next quick answer).
    pub fn observe(&mut self, sent_ms: u64, received_ms: u64, server_time_ms: u64) {
        if sent_ms == 0
            || received_ms < sent_ms
            || !(MIN_SERVER_TIME_MS..=MAX_TIME_MS).contains(&server_time_ms)
            || received_ms > MAX_TIME_MS
        {
            return;
        }
        let rtt = received_ms - sent_ms;
        if self
            .rtt_ms
            .is_some_and(|best| rtt > best && rtt > GOOD_RTT_MS)
        {
            return;
        }
        // Both are Unix milliseconds, far below 2^63.
        let middle = (sent_ms + rtt / 2) as i64;
        self.offset_ms = (server_time_ms as i64).saturating_sub(middle);
        self.rtt_ms = Some(rtt);
    }

    /// The backend's time now, given the payer's clock `local_ms`.
    pub fn now(&self, local_ms: u64) -> u64 {
        local_ms.saturating_add_signed(self.offset_ms)
    }

    /// Backend clock minus payer clock, in milliseconds (0 until an answer said otherwise).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }
}
