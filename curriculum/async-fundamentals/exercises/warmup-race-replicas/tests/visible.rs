use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};
use warmup_race_replicas::*;

fn answer_after(ms: u64, text: &'static str) -> impl Future<Output = String> {
    async move {
        sleep(Duration::from_millis(ms)).await;
        text.to_string()
    }
}

async fn race_within_a_minute(
    primary: impl Future<Output = String>,
    replica: impl Future<Output = String>,
    budget_ms: u64,
) -> Answer {
    timeout(Duration::from_secs(60), race(primary, replica, Duration::from_millis(budget_ms)))
        .await
        .expect("race() did not return within 60 s of virtual time")
}

#[tokio::test(start_paused = true)]
async fn faster_primary_wins() {
    let start = Instant::now();
    let a = race_within_a_minute(answer_after(100, "from primary"), answer_after(300, "from replica"), 500).await;
    assert_eq!(a, Answer::Primary("from primary".into()));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn faster_replica_wins() {
    let start = Instant::now();
    let a = race_within_a_minute(answer_after(400, "from primary"), answer_after(80, "from replica"), 500).await;
    assert_eq!(a, Answer::Replica("from replica".into()));
    assert_eq!(start.elapsed(), Duration::from_millis(80));
}

#[tokio::test(start_paused = true)]
async fn neither_in_time_is_a_timeout_at_the_deadline() {
    let start = Instant::now();
    let a = race_within_a_minute(answer_after(1000, "p"), answer_after(2000, "r"), 200).await;
    assert_eq!(a, Answer::TimedOut);
    assert_eq!(start.elapsed(), Duration::from_millis(200), "give up at the 200 ms budget");
}
