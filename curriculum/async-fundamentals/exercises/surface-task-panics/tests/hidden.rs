use std::time::Duration;
use surface_task_panics::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn lowest_index_failure_wins() {
    let jobs: Vec<Job> = vec![
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            panic!("late")
        }),
        Box::pin(async { 1 }),
        Box::pin(async { panic!("early") }),
    ];
    let r = tokio::time::timeout(Duration::from_secs(10), run_batch(jobs))
        .await
        .expect("run_batch did not return");
    assert_eq!(r, Err(JobPanicked { job: 0, message: "late".into() }), "report the lowest-index failing job, even if another failed first");
}

#[tokio::test(start_paused = true)]
async fn non_string_panic_payload() {
    let jobs: Vec<Job> = vec![Box::pin(async { std::panic::panic_any(42u32) })];
    let r = tokio::time::timeout(Duration::from_secs(10), run_batch(jobs))
        .await
        .expect("run_batch did not return");
    assert_eq!(r, Err(JobPanicked { job: 0, message: "<non-string panic>".into() }));
}

#[tokio::test(start_paused = true)]
async fn jobs_still_run_concurrently() {
    let jobs: Vec<Job> = (0..10)
        .map(|i| -> Job {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                i
            })
        })
        .collect();
    let start = Instant::now();
    let r = run_batch(jobs).await;
    assert_eq!(r, Ok(45));
    assert_eq!(start.elapsed().as_secs(), 1, "ten 1 s jobs should take 1 s when they run concurrently");
}

#[tokio::test(start_paused = true)]
async fn empty_batch_is_zero() {
    assert_eq!(run_batch(Vec::new()).await, Ok(0));
}
