use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use surface_task_panics::*;

fn ok(v: u64) -> Job {
    Box::pin(async move { v })
}

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn all_jobs_succeed() {
    let r = run_batch(vec![ok(1), ok(2), ok(39)]).await;
    assert_eq!(r, Ok(42));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_job_is_reported() {
    let jobs: Vec<Job> = vec![ok(10), Box::pin(async { panic!("disk full") }), ok(5)];
    let r = tokio::time::timeout(Duration::from_secs(10), run_batch(jobs))
        .await
        .expect("run_batch did not return");
    assert_eq!(
        r,
        Err(JobPanicked { job: 1, message: "disk full".into() }),
        "a panicked job must turn into an error, not a partial sum reported as success"
    );
}

#[tokio::test(start_paused = true)]
async fn formatted_panic_messages_are_kept() {
    let jobs: Vec<Job> = vec![Box::pin(async {
        let row = 7;
        panic!("bad row {row}")
    })];
    let r = tokio::time::timeout(Duration::from_secs(10), run_batch(jobs))
        .await
        .expect("run_batch did not return");
    assert_eq!(r, Err(JobPanicked { job: 0, message: "bad row 7".into() }), "panic!(\"bad row {{row}}\") carries a String payload, not a &str");
}

#[tokio::test(start_paused = true)]
async fn other_jobs_are_stopped_on_failure() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(Arc::clone(&dropped));
    let jobs: Vec<Job> = vec![
        Box::pin(async { panic!("disk full") }),
        Box::pin(async move {
            let _guard = guard;
            std::future::pending::<u64>().await
        }),
    ];
    let r = tokio::time::timeout(Duration::from_secs(3600), run_batch(jobs)).await;
    let r = r.expect(
        "run_batch was still waiting after an hour of (paused) time: after job 0 panicked it kept awaiting job 1, which never finishes",
    );
    assert_eq!(r, Err(JobPanicked { job: 0, message: "disk full".into() }));
    assert!(
        dropped.load(Ordering::SeqCst),
        "job 1 was still alive when run_batch returned: abort() the remaining handles and await them so their futures are dropped"
    );
}
