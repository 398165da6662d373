//! Reference tests for `retry`.

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

/// Runs `retry` with an operation that returns `outcomes` in order (and keeps
/// returning the last one), and returns the result plus the virtual time
/// (relative to the start) of every call.
async fn run(
    policy: &RetryPolicy,
    outcomes: Vec<Result<u32, FetchError>>,
) -> (Result<u32, FetchError>, Vec<Duration>) {
    let start = Instant::now();
    let mut calls: Vec<Duration> = Vec::new();
    let result = retry(policy, || {
        let outcome = outcomes[calls.len().min(outcomes.len() - 1)].clone();
        calls.push(start.elapsed());
        async move { outcome }
    })
    .await;
    (result, calls)
}

fn ms(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&m| Duration::from_millis(m)).collect()
}

fn transient(msg: &str) -> FetchError {
    FetchError::Transient(msg.to_string())
}

#[tokio::test(start_paused = true)]
async fn returns_value_on_first_success_without_waiting() {
    let (result, calls) = run(&policy(3), vec![Ok(7)]).await;
    assert_eq!(result, Ok(7));
    assert_eq!(calls, ms(&[0]), "a successful first call must not be retried or delayed");
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_last_error() {
    let outcomes = vec![
        Err(transient("first")),
        Err(transient("second")),
        Err(transient("third")),
        Err(transient("fourth")),
    ];
    let (result, calls) = run(&policy(4), outcomes).await;
    assert_eq!(calls.len(), 4, "max_attempts = 4 means exactly 4 calls, saw {}", calls.len());
    assert_eq!(result, Err(transient("fourth")), "the last error should be returned");
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_between_attempts() {
    let (_, calls) = run(&policy(4), vec![Err(transient("down"))]).await;
    assert_eq!(
        calls,
        ms(&[0, 100, 300, 700]),
        "expected delays of 100, 200, 400 ms between attempts"
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_immediately_after_last_attempt() {
    let start = Instant::now();
    let (result, _) = run(&policy(3), vec![Err(transient("down"))]).await;
    assert!(result.is_err());
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "3 attempts need 100 + 200 ms of waiting and nothing after the last one"
    );
}

#[tokio::test(start_paused = true)]
async fn succeeds_after_transient_failures() {
    let outcomes = vec![Err(transient("a")), Err(transient("b")), Ok(42)];
    let (result, calls) = run(&policy(5), outcomes).await;
    assert_eq!(result, Ok(42));
    assert_eq!(calls, ms(&[0, 100, 300]));
}

#[tokio::test(start_paused = true)]
async fn permanent_error_is_not_retried() {
    let outcomes = vec![Err(FetchError::Permanent("404".into())), Ok(1)];
    let (result, calls) = run(&policy(5), outcomes).await;
    assert_eq!(result, Err(FetchError::Permanent("404".into())));
    assert_eq!(calls.len(), 1, "a permanent error must not be retried, saw {} calls", calls.len());
}

#[tokio::test(start_paused = true)]
async fn delay_is_capped_at_max_delay() {
    let policy = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(250),
    };
    let (_, calls) = run(&policy, vec![Err(transient("down"))]).await;
    assert_eq!(
        calls,
        ms(&[0, 100, 300, 550, 800]),
        "delays should be 100, 200, 250, 250 ms (capped at max_delay)"
    );
}
