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
    // Start every task first: each begins running as soon as it is spawned.
    // The task owns its `String`, which is what the `'static` bound asks for.
    let handles: Vec<_> = names
        .iter()
        .map(|name| tokio::spawn(greet(name.to_string())))
        .collect();
    // Then wait for them in input order. A panic inside a task is caught at
    // the task boundary and comes back here as a JoinError.
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await);
    }
    results
}
