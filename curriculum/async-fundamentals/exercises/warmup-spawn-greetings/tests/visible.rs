use std::time::Duration;
use tokio::time::{Instant, sleep};
use warmup_spawn_greetings::*;

fn ok(results: Vec<Result<String, tokio::task::JoinError>>) -> Vec<String> {
    results.into_iter().map(|r| r.expect("no task should fail here")).collect()
}

#[tokio::test(start_paused = true)]
async fn greetings_come_back_in_input_order() {
    let results = greet_all(&["ada", "grace", "barbara"]).await;
    assert_eq!(ok(results), vec!["hello, ada", "hello, grace", "hello, barbara"]);
}

#[tokio::test(start_paused = true)]
async fn the_slow_calls_overlap() {
    let start = Instant::now();
    let results = greet_all(&["a", "b", "c", "d", "e"]).await;
    assert_eq!(results.len(), 5);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100),
        "five 100 ms calls running at the same time take 100 ms, not 500"
    );
}

#[tokio::test(start_paused = true)]
async fn each_name_gets_its_own_task() {
    // Halfway through the calls, count the tasks alive on this runtime.
    let probe = async {
        sleep(Duration::from_millis(50)).await;
        tokio::runtime::Handle::current().metrics().num_alive_tasks()
    };
    let (results, alive) = tokio::join!(greet_all(&["x", "y", "z"]), probe);
    assert_eq!(ok(results).len(), 3);
    assert_eq!(alive, 3, "expected one spawned task per name while the calls are in flight");
}
