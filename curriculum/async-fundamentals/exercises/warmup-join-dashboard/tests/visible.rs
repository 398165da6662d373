use std::time::Duration;
use tokio::time::Instant;
use warmup_join_dashboard::*;

#[tokio::test(start_paused = true)]
async fn dashboard_has_all_three_parts() {
    let backend = Backend::new();
    let d = dashboard(&backend, 9).await;
    assert_eq!(d, Ok(Dashboard { name: "user-9".into(), orders: vec![90, 91], unread: 2 }));
}

#[tokio::test(start_paused = true)]
async fn takes_as_long_as_the_slowest_call() {
    let backend = Backend::new();
    let start = Instant::now();
    dashboard(&backend, 1).await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "calls of 200, 300 and 100 ms run concurrently take 300 ms, not 600"
    );
}

#[tokio::test(start_paused = true)]
async fn fails_as_soon_as_orders_fail() {
    let backend = Backend::with_orders_down();
    let start = Instant::now();
    let d = dashboard(&backend, 1).await;
    assert_eq!(d, Err(BackendError::Unavailable("orders")));
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(50),
        "the orders call fails at 50 ms; nothing else is worth waiting for"
    );
}
