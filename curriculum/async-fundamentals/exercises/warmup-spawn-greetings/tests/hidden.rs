use std::time::Duration;
use tokio::time::Instant;
use warmup_spawn_greetings::*;

#[tokio::test(start_paused = true)]
async fn a_panicking_task_is_reported_not_propagated() {
    let results = greet_all(&["ann", "", "bob"]).await;
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().ok().map(String::as_str), Some("hello, ann"));
    let err = results[1].as_ref().expect_err("the empty name's task panicked");
    assert!(err.is_panic(), "the JoinError should say the task panicked");
    assert_eq!(results[2].as_ref().ok().map(String::as_str), Some("hello, bob"));
}

#[tokio::test(start_paused = true)]
async fn no_names_means_no_tasks_and_no_waiting() {
    let start = Instant::now();
    let results = greet_all(&[]).await;
    assert!(results.is_empty());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_hundred_names_still_take_one_call() {
    let names: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let start = Instant::now();
    let results = greet_all(&refs).await;
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(results[99].as_ref().ok().map(String::as_str), Some("hello, n99"));
}
