use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::{sleep, timeout};
use warmup_race_replicas::*;

const MS: Duration = Duration::from_millis(1);

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_tie_always_goes_to_the_primary() {
    // Both answer at the same instant; run it often enough that a coin flip
    // would lose at least once.
    for round in 0..32 {
        let primary = async {
            sleep(100 * MS).await;
            "p".to_string()
        };
        let replica = async {
            sleep(100 * MS).await;
            "r".to_string()
        };
        let a = timeout(Duration::from_secs(60), race(primary, replica, 500 * MS)).await.expect("race() hung");
        assert_eq!(a, Answer::Primary("p".into()), "round {round}: a tie must go to the primary");
    }
}

#[tokio::test(start_paused = true)]
async fn losers_are_dropped_when_race_returns() {
    let replica_dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(Arc::clone(&replica_dropped));
    let replica = async move {
        let _guard = guard;
        sleep(Duration::from_secs(30)).await;
        "r".to_string()
    };
    let primary = async {
        sleep(10 * MS).await;
        "p".to_string()
    };
    let a = timeout(Duration::from_secs(60), race(primary, replica, 500 * MS)).await.expect("race() hung");
    assert_eq!(a, Answer::Primary("p".into()));
    assert!(replica_dropped.load(Ordering::SeqCst), "the replica call must be cancelled, not left running");
}

#[tokio::test(start_paused = true)]
async fn a_ready_answer_beats_a_zero_budget() {
    for _ in 0..32 {
        let a = race(async { "cached".to_string() }, std::future::pending(), Duration::ZERO).await;
        assert_eq!(a, Answer::Primary("cached".into()));
    }
}
