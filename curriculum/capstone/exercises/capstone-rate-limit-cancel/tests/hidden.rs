use capstone_rate_limit_cancel::*;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(start_paused = true)]
async fn shutdown_drains_in_flight_and_cancels_queued_jobs() {
    let svc = JobService::new(2, Duration::ZERO);
    let t0 = Instant::now();
    let running: Vec<_> = (0..2)
        .map(|i| svc.submit(async move { sleep(Duration::from_millis(500)).await; i }))
        .collect();
    let queued: Vec<_> = (0..2).map(|i| svc.submit(async move { i })).collect();
    sleep(Duration::from_millis(10)).await; // let the first two start
    timeout(LIMIT, svc.shutdown(Duration::from_secs(5)))
        .await
        .expect("shutdown never returned: does it wait for the dispatcher and the jobs?");
    assert_eq!(t0.elapsed().as_millis(), 500, "shutdown should return as soon as the in-flight jobs are done");
    for (i, h) in running.into_iter().enumerate() {
        assert_eq!(h.result().await, Ok(i), "in-flight jobs must be allowed to finish during the grace period");
    }
    for h in queued {
        assert_eq!(h.result().await, Err(JobError::Cancelled), "queued jobs must be cancelled on shutdown, not started");
    }
    let late = svc.submit(async { 99 });
    assert_eq!(
        timeout(LIMIT, late.result()).await.expect("a job submitted after shutdown hung"),
        Err(JobError::ShuttingDown)
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_jobs_that_outlive_the_grace_period() {
    let svc = JobService::new(1, Duration::ZERO);
    let t0 = Instant::now();
    let slow = svc.submit(async { sleep(Duration::from_secs(3600)).await; "done" });
    sleep(Duration::from_millis(1)).await;
    timeout(LIMIT, svc.shutdown(Duration::from_secs(2)))
        .await
        .expect("shutdown must not wait for a job beyond the grace period");
    assert_eq!(t0.elapsed().as_millis(), 2001, "shutdown should give up after the 2s grace period");
    assert_eq!(slow.result().await, Err(JobError::Cancelled));
}

#[tokio::test(start_paused = true)]
async fn an_idle_period_does_not_allow_a_burst() {
    let svc = JobService::new(10, Duration::from_millis(100));
    let first = svc.submit(async {});
    timeout(LIMIT, first.result()).await.unwrap().unwrap();
    sleep(Duration::from_secs(1)).await;
    let t0 = Instant::now();
    let handles: Vec<_> = (0..3).map(|_| svc.submit(async move { t0.elapsed().as_millis() })).collect();
    let mut starts = Vec::new();
    for h in handles {
        starts.push(timeout(LIMIT, h.result()).await.expect("job hung").unwrap());
    }
    assert_eq!(starts, vec![0, 100, 200], "after an idle second, starts must still be spaced by 100ms (no catch-up burst)");
}

#[tokio::test(start_paused = true)]
async fn panics_are_failures_not_cancellations() {
    let svc = JobService::new(1, Duration::ZERO);
    let bad = svc.submit(async { panic!("expected panic from a test job") });
    let good = svc.submit(async { 1 });
    assert_eq!(timeout(LIMIT, bad.result()).await.expect("hung"), Err(JobError::Failed));
    assert_eq!(timeout(LIMIT, good.result()).await.expect("the slot of the panicking job leaked"), Ok(1));
}
