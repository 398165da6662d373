use deadline_fallback::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

const MS: Duration = Duration::from_millis(1);

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn timed_out_primary_is_cancelled_before_fallback_runs() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(Arc::clone(&dropped));
    let primary = async move {
        let _g = guard;
        sleep(Duration::from_secs(30)).await;
        Ok::<u32, String>(1)
    };
    let d = Arc::clone(&dropped);
    let a = timeout(
        Duration::from_secs(60),
        with_fallback(primary, 100 * MS, move || {
            let was_dropped = d.load(Ordering::SeqCst);
            async move {
                assert!(was_dropped, "the primary call must be cancelled (dropped) before the fallback starts");
                7
            }
        }),
    )
    .await
    .expect("with_fallback took more than 60 s");
    assert_eq!(a.value, 7);
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn ready_primary_wins_with_zero_budget() {
    let a = with_fallback(async { Ok::<u32, String>(5) }, Duration::ZERO, || async { 0 }).await;
    assert_eq!(a, Answer { value: 5, source: Source::Primary });
}

#[tokio::test(start_paused = true)]
async fn slow_fallback_time_adds_to_budget() {
    let start = Instant::now();
    let primary = std::future::pending::<Result<u32, String>>();
    let a = timeout(
        Duration::from_secs(60),
        with_fallback(primary, 300 * MS, || async {
            sleep(50 * MS).await;
            42
        }),
    )
    .await
    .expect("with_fallback never returned for a primary that never completes");
    assert_eq!(a, Answer { value: 42, source: Source::Fallback(Reason::TimedOut) });
    assert_eq!(start.elapsed().as_millis(), 350);
}
