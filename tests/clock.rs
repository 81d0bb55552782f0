//! The backend's clock (`server_time`) against the payer's: the offset the widget corrects
//! every time by, learned from answers whose round trip bounds its error.

use lightning_checkout::clock::{ServerClock, GOOD_RTT_MS};

const SERVER: u64 = 1_735_689_600_000;
const MIN20: u64 = 20 * 60 * 1000;

#[test]
fn no_server_time_means_the_payers_clock() {
    let c = ServerClock::default();
    assert_eq!(c.offset_ms(), 0);
    assert_eq!(c.now(SERVER), SERVER);
}

#[test]
fn a_clock_20_minutes_fast_or_slow_is_corrected_to_the_middle_of_the_round_trip() {
    // The request left at local t, the answer came back 200 ms later; the server read its
    // clock in between: the middle (t + 100 ms) is SERVER.
    for local_middle in [SERVER + MIN20, SERVER - MIN20] {
        let mut c = ServerClock::default();
        c.observe(local_middle - 100, local_middle + 100, SERVER);
        assert_eq!(c.now(local_middle), SERVER);
        assert_eq!(c.now(local_middle + 5_000), SERVER + 5_000);
        assert_eq!(c.offset_ms(), SERVER as i64 - local_middle as i64);
    }
}

#[test]
fn a_slow_answer_does_not_spoil_a_quick_one_but_a_changed_clock_is_followed() {
    let mut c = ServerClock::default();
    c.observe(SERVER - 50, SERVER + 50, SERVER); // offset 0, rtt 100 ms
                                                 // 10 s round trip, reading 4 s off the middle: ignored.
    c.observe(SERVER + 1_000, SERVER + 11_000, SERVER + 10_000);
    assert_eq!(c.offset_ms(), 0);
    // The payer sets their clock 20 minutes back; the next quick answer says so.
    let local = SERVER + 60_000 - MIN20;
    c.observe(
        local,
        local + GOOD_RTT_MS,
        SERVER + 60_000 + GOOD_RTT_MS / 2,
    );
    assert_eq!(c.offset_ms(), MIN20 as i64);
}

#[test]
fn nonsense_is_ignored() {
    let mut c = ServerClock::default();
    c.observe(SERVER, SERVER + 10, SERVER / 1000); // seconds sent by mistake
    c.observe(SERVER + 10, SERVER, SERVER); // answer before the request
    c.observe(0, SERVER, SERVER); // no local clock
    assert_eq!(c, ServerClock::default());
    c.observe(SERVER, SERVER, u64::MAX / 4); // beyond any real clock
    c.observe(u64::MAX / 4, u64::MAX / 4, SERVER);
    assert_eq!(c, ServerClock::default());
    // A payer's clock years ahead: the corrected time never underflows.
    c.observe(SERVER * 2, SERVER * 2, SERVER);
    assert_eq!(c.now(0), 0);
}
