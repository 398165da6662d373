use limiter_permit_leak::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

#[tokio::test(start_paused = true)]
async fn limits_concurrency() {
    let limiter = Arc::new(Limiter::new(2));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut hs = Vec::new();
    for _ in 0..5 {
        let (l, f, p) = (limiter.clone(), in_flight.clone(), peak.clone());
        hs.push(tokio::spawn(async move {
            l.call(async {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                sleep(Duration::from_millis(100)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ()>(())
            })
            .await
        }));
    }
    timeout(Duration::from_secs(10), async {
        for h in hs { h.await.unwrap().unwrap(); }
    })
    .await
    .expect("5 calls through a limit of 2 should finish in ~300 ms");
    let peak = peak.load(Ordering::SeqCst);
    assert_eq!(peak, 2, "expected at most 2 calls in flight at once (and 2 reached), saw {peak}");
    assert_eq!(start.elapsed(), Duration::from_millis(300));
    assert_eq!(limiter.available(), 2);
}

#[tokio::test(start_paused = true)]
async fn errors_are_returned_and_do_not_leak_permits() {
    let limiter = Limiter::new(2);
    let r: Result<u32, &str> = limiter.call(async { Err("502 Bad Gateway") }).await;
    assert_eq!(r, Err("502 Bad Gateway"), "the job's error must reach the caller unchanged");
    assert_eq!(
        limiter.available(),
        2,
        "after one failed call the limiter has {} of 2 permits: the error path never gave its permit back",
        limiter.available()
    );
}

#[tokio::test(start_paused = true)]
async fn service_keeps_working_after_many_errors() {
    let limiter = Limiter::new(2);
    for i in 0..3 {
        let r = timeout(Duration::from_secs(10), limiter.call(async { Err::<(), _>("boom") })).await;
        assert!(
            r.is_ok(),
            "failed call #{} could not even get a permit: the previous {} errors leaked every permit \
             (capacity 2), so the limiter is stuck at 0 forever",
            i + 1,
            i
        );
    }
    let ok = timeout(Duration::from_secs(10), limiter.call(async { Ok::<_, ()>(42) })).await;
    assert_eq!(ok, Ok(Ok(42)), "a healthy call after 3 errors should go straight through");
}
