//! Tests for `TtlCache`. They must pass against the correct implementation,
//! and each buggy variant must fail at least one of them.

use std::time::Duration;
use tokio::time::advance;
use warmup_first_tokio_test::*;

const TTL: Duration = Duration::from_millis(1000);

// `start_paused = true`: tokio's clock stands still unless a test moves it
// (`advance`) or every task is waiting on a timer (then it jumps to the next).
#[tokio::test(start_paused = true)]
async fn a_second_read_within_the_ttl_does_not_reload() {
    let mut cache = TtlCache::new(TTL);
    let mut loads = 0;

    let first = cache.get_or_load("user:1", || { loads += 1; async { "ada".to_string() } }).await;
    advance(Duration::from_millis(500)).await;
    let second = cache.get_or_load("user:1", || { loads += 1; async { "grace".to_string() } }).await;

    assert_eq!(first, "ada");
    assert_eq!(second, "ada", "still fresh at 500 ms: the cached value, not a new load");
    assert_eq!(loads, 1);
}

// TODO: after the ttl has passed, the next read loads again.

// TODO: the boundary: fresh at ttl - 1 ms, expired at exactly ttl.

// TODO: reading an entry does not extend its life.

// TODO: two keys are cached independently.

// TODO: the stamp is the time the load *finished* (use a loader that sleeps).
