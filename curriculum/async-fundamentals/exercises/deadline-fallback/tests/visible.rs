use deadline_fallback::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn fast_primary_wins_and_fallback_is_not_called() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let primary = async {
        sleep(50 * MS).await;
        Ok::<u32, String>(120)
    };
    let a = with_fallback(primary, 200 * MS, move || {
        c.fetch_add(1, Ordering::SeqCst);
        async { 99 }
    })
    .await;
    assert_eq!(a, Answer { value: 120, source: Source::Primary });
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the fallback must not be called when the primary succeeds");
}

#[tokio::test(start_paused = true)]
async fn slow_primary_times_out() {
    let start = Instant::now();
    let primary = async {
        sleep(Duration::from_secs(30)).await;
        Ok::<u32, String>(120)
    };
    let a = timeout(Duration::from_secs(60), with_fallback(primary, 200 * MS, || async { 99 }))
        .await
        .expect("with_fallback took more than 60 s");
    assert_eq!(a, Answer { value: 99, source: Source::Fallback(Reason::TimedOut) });
    let took = start.elapsed().as_millis();
    assert_eq!(took, 200, "the answer should come at the 200 ms budget, came after {took} ms");
}

#[tokio::test(start_paused = true)]
async fn failing_primary_falls_back_immediately() {
    let start = Instant::now();
    let primary = async {
        sleep(10 * MS).await;
        Err::<u32, String>("503 Service Unavailable".into())
    };
    let a = with_fallback(primary, 200 * MS, || async { 99 }).await;
    assert_eq!(a, Answer { value: 99, source: Source::Fallback(Reason::Failed("503 Service Unavailable".into())) });
    assert_eq!(start.elapsed().as_millis(), 10, "an error should trigger the fallback right away, not after the budget");
}
