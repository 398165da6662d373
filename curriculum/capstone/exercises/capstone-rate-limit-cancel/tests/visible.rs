use capstone_rate_limit_cancel::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

const LIMIT: Duration = Duration::from_secs(30);

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

#[tokio::test(start_paused = true)]
async fn job_starts_are_spaced_by_the_rate_limit() {
    let svc = JobService::new(10, Duration::from_millis(100));
    let t0 = Instant::now();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let starts = starts.clone();
            svc.submit(async move { starts.lock().unwrap().push(ms(t0.elapsed())) })
        })
        .collect();
    for h in handles {
        timeout(LIMIT, h.result()).await.expect("a job never finished").unwrap();
    }
    let starts = starts.lock().unwrap().clone();
    assert_eq!(
        starts,
        vec![0, 100, 200, 300, 400],
        "with min_start_interval = 100ms, 5 jobs must start at 0, 100, 200, 300, 400 ms even with 10 free slots"
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_queued_job_means_it_never_runs() {
    let svc = JobService::new(1, Duration::ZERO);
    let t0 = Instant::now();
    let ran = Arc::new(AtomicBool::new(false));
    let first = svc.submit(async { sleep(Duration::from_secs(1)).await; "first" });
    let r = ran.clone();
    let second = svc.submit(async move { r.store(true, Ordering::SeqCst); "second" });
    let third = svc.submit(async move { ms(t0.elapsed()) });
    second.cancel();
    assert_eq!(timeout(LIMIT, first.result()).await.expect("first job hung"), Ok("first"));
    assert_eq!(
        timeout(LIMIT, second.result()).await.expect("a cancelled job's handle must resolve, not hang"),
        Err(JobError::Cancelled)
    );
    assert!(!ran.load(Ordering::SeqCst), "the cancelled job's body ran anyway");
    assert_eq!(
        timeout(LIMIT, third.result()).await.expect("third job hung"),
        Ok(1000),
        "the third job should start as soon as the first one ends (t = 1000ms)"
    );
}

/// Sets a flag when dropped: proves the job's future was dropped, not left running.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_running_job_stops_it_promptly() {
    let svc = JobService::new(1, Duration::ZERO);
    let t0 = Instant::now();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let h = svc.submit(async move {
        let _flag = flag;
        sleep(Duration::from_secs(10)).await;
        "finished"
    });
    sleep(Duration::from_secs(1)).await;
    h.cancel();
    let r = timeout(LIMIT, h.result()).await.expect("a cancelled running job's handle hung");
    assert_eq!(r, Err(JobError::Cancelled));
    assert_eq!(ms(t0.elapsed()), 1000, "cancellation should take effect immediately, not after the 10s job");
    assert!(dropped.load(Ordering::SeqCst), "the job's future must be dropped when it is cancelled");
}
