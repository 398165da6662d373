use capstone_job_queue::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

#[tokio::test(start_paused = true)]
async fn with_one_slot_jobs_run_in_submission_order() {
    let svc = JobService::new(1);
    let log = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..5)
        .map(|i| {
            let log = log.clone();
            svc.submit(async move {
                log.lock().unwrap().push(format!("start {i}"));
                sleep(Duration::from_millis(10)).await;
                log.lock().unwrap().push(format!("end {i}"));
            })
        })
        .collect();
    for h in handles {
        timeout(Duration::from_secs(5), h.result()).await.expect("job never finished").unwrap();
    }
    let log = log.lock().unwrap().clone();
    let expected: Vec<String> = (0..5).flat_map(|i| [format!("start {i}"), format!("end {i}")]).collect();
    assert_eq!(log, expected, "with max_concurrent = 1 jobs must not overlap and must start in FIFO order");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_handle_does_not_stall_the_queue() {
    let svc = JobService::new(2);
    let start = Instant::now();
    drop(svc.submit(async { sleep(Duration::from_millis(50)).await }));
    let h = svc.submit(async { sleep(Duration::from_millis(50)).await; 7 });
    let r = timeout(Duration::from_secs(5), h.result()).await.expect("job never finished");
    assert_eq!(r, Ok(7));
    assert_eq!(start.elapsed(), Duration::from_millis(50), "both jobs fit in the 2 slots and run together");
}

#[tokio::test(start_paused = true)]
async fn slow_jobs_do_not_block_submission() {
    let svc = JobService::new(1);
    let first = svc.submit(async { sleep(Duration::from_secs(60)).await; 1 });
    // submit is synchronous: queuing behind a slow job must not wait for it.
    let second = svc.submit(async { 2 });
    assert_eq!(timeout(Duration::from_secs(120), first.result()).await.expect("hung"), Ok(1));
    assert_eq!(timeout(Duration::from_secs(5), second.result()).await.expect("hung"), Ok(2));
}
