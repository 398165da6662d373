use manual_clock_seam::*;
use std::time::Duration;
use tokio_test::task;
use tokio_test::{assert_pending, assert_ready};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn now_starts_at_zero_and_clones_share_time() {
    let clock = ManualClock::new();
    let other = clock.clone();
    assert_eq!(clock.now(), Duration::ZERO);
    clock.advance(secs(3));
    other.advance(secs(2));
    assert_eq!(clock.now(), secs(5), "advancing either clone must move the shared time");
    assert_eq!(other.now(), secs(5));
}

#[test]
fn sleep_completes_exactly_at_its_deadline() {
    let clock = ManualClock::new();
    let mut sleep = task::spawn(clock.sleep(secs(10)));
    assert_pending!(sleep.poll(), "nothing has advanced the clock yet");
    clock.advance(secs(9));
    assert_pending!(sleep.poll(), "9s of a 10s sleep have passed: it must still be pending");
    clock.advance(secs(1));
    assert!(sleep.is_woken(), "advance() must wake the sleeping task, or the runtime would never poll it again");
    assert_ready!(sleep.poll(), "the deadline has been reached");
}

#[test]
fn sleep_is_measured_from_the_time_it_was_called() {
    let clock = ManualClock::new();
    clock.advance(secs(100));
    let mut sleep = task::spawn(clock.sleep(secs(5)));
    assert_pending!(sleep.poll(), "a 5s sleep started at t=100s must not be ready at t=100s");
    clock.advance(secs(4));
    assert_pending!(sleep.poll(), "t=104s: 1s still to go");
    clock.advance(secs(1));
    assert_ready!(sleep.poll());
}

#[test]
fn zero_sleep_is_ready_immediately() {
    let clock = ManualClock::new();
    let mut sleep = task::spawn(clock.sleep(Duration::ZERO));
    assert_ready!(sleep.poll(), "sleep(0) must not wait for an advance");
}
