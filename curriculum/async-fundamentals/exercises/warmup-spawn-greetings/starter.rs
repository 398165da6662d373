use std::time::Duration;
use tokio::task::JoinError;

/// The slow call behind each request: 100 ms, then the greeting.
/// It panics on an empty name (a bug elsewhere; not yours to fix today).
pub async fn greet(name: String) -> String {
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!name.is_empty(), "empty name");
    format!("hello, {name}")
}

/// Runs `greet` for every name, each in its own spawned task, all at once,
/// and returns the tasks' results in the order of `names`. A task that
/// panicked shows up as its `Err(JoinError)`; the others are unaffected.
pub async fn greet_all(names: &[&str]) -> Vec<Result<String, JoinError>> {
    // TODO: one spawned task per name, all running at the same time.
    let mut results = Vec::new();
    for name in names {
        results.push(Ok(greet(name.to_string()).await));
    }
    results
}
