use std::time::Duration;
use tokio::time::{Instant, sleep};
use warmup_join_dashboard::*;

#[tokio::test(start_paused = true)]
async fn unknown_user_fails_when_the_profile_does() {
    let backend = Backend::new();
    let start = Instant::now();
    assert_eq!(dashboard(&backend, 0).await, Err(BackendError::NotFound(0)));
    assert_eq!(start.elapsed(), Duration::from_millis(200), "do not wait for the 300 ms orders call");
}

#[tokio::test(start_paused = true)]
async fn the_other_calls_are_abandoned_on_failure() {
    let backend = Backend::with_orders_down();
    let _ = dashboard(&backend, 1).await;
    sleep(Duration::from_secs(1)).await;
    assert_eq!(
        backend.finished_calls(),
        1,
        "after the first error the other calls are dropped, not left to finish"
    );
}

#[tokio::test(start_paused = true)]
async fn each_call_is_made_once() {
    let backend = Backend::new();
    dashboard(&backend, 42).await.unwrap();
    assert_eq!(backend.finished_calls(), 3);
}
