//! Tests for `retry`. Your tests must pass against the correct implementation
//! and each buggy variant must fail at least one of them.

use std::time::Duration;
use test_retry_backoff::*;
use tokio::time::Instant;

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(10),
    }
}

#[tokio::test(start_paused = true)]
async fn returns_value_on_first_success_without_waiting() {
    let start = Instant::now();
    let mut calls = 0;
    let result = retry(&policy(3), || {
        calls += 1;
        async { Ok::<_, FetchError>("hello") }
    })
    .await;
    assert_eq!(result, Ok("hello"));
    assert_eq!(calls, 1, "a successful first call must not be retried");
    assert_eq!(start.elapsed(), Duration::ZERO, "no back-off before the first attempt");
}

// TODO: an operation that always fails with a Transient error is called
//       exactly `max_attempts` times, and the last error is returned.

// TODO: record *when* each attempt happens (push `Instant::now()` into a Vec
//       inside the closure) and assert the whole schedule: with a 100 ms base,
//       attempts happen at +0, +100, +300, +700 ms.

// TODO: after the last attempt `retry` gives up at once (no extra sleep).

// TODO: a Permanent error is returned after a single call.

// TODO: the delay is capped at `max_delay`.
