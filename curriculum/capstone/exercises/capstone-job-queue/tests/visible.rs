use capstone_job_queue::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// Tracks how many jobs run at once and the maximum seen.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    async fn work(&self, d: Duration) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        sleep(d).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn each_job_gets_its_own_result() {
    let svc = JobService::new(2);
    let handles: Vec<_> = (0..5u32).map(|i| svc.submit(async move { i * 10 })).collect();
    let mut results = Vec::new();
    for h in handles {
        let r = timeout(Duration::from_secs(5), h.result())
            .await
            .expect("a job result never arrived: is the oneshot sender dropped without sending?");
        results.push(r.unwrap());
    }
    assert_eq!(results, vec![0, 10, 20, 30, 40]);
}

#[tokio::test(start_paused = true)]
async fn at_most_max_concurrent_jobs_run_at_once() {
    let svc = JobService::new(3);
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let g = gauge.clone();
            svc.submit(async move { g.work(Duration::from_millis(100)).await })
        })
        .collect();
    for h in handles {
        timeout(Duration::from_secs(5), h.result()).await.expect("job never finished").unwrap();
    }
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "expected at most 3 jobs in flight, saw {peak}");
    assert_eq!(peak, 3, "the service should use all 3 slots, peak was {peak}");
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(400),
        "10 jobs of 100ms with 3 slots take 4 waves (400ms of paused time)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_job_reports_failed_and_frees_its_slot() {
    let svc = JobService::new(1);
    let bad = svc.submit(async {
        sleep(Duration::from_millis(10)).await;
        panic!("job blew up (this panic is expected by the test)");
    });
    let good = svc.submit(async { "still running" });
    let r = timeout(Duration::from_secs(5), bad.result()).await.expect("the failed job's handle hung");
    assert_eq!(r, Err(JobError::Failed));
    let r = timeout(Duration::from_secs(5), good.result())
        .await
        .expect("the next job never ran: was the permit of the panicking job leaked?");
    assert_eq!(r, Ok("still running"));
}
