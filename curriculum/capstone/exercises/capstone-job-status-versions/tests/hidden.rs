use capstone_job_status_versions::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(start_paused = true)]
async fn only_one_of_many_racing_claims_wins() {
    let store = Arc::new(JobStore::new(Duration::from_millis(10)));
    let id = store.create();
    let claims: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                store.transition(id, |s| (s == Status::Queued).then_some(Status::Running)).await
            })
        })
        .collect();
    let mut won = 0;
    for c in claims {
        if let Ok(Some(_)) = timeout(LIMIT, c).await.expect("a claim hung").unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1, "8 workers raced to claim a queued job; exactly one may move it to Running, {won} did");
    assert_eq!(store.get(id).unwrap(), Record { status: Status::Running, version: 2 });
}

#[tokio::test(start_paused = true)]
async fn terminal_statuses_are_final_and_stale_versions_conflict() {
    let store = JobStore::new(Duration::from_millis(1));
    let id = store.create();
    store.update(id, 1, Status::Running).await.unwrap();
    store.update(id, 2, Status::Failed).await.unwrap();
    assert_eq!(
        store.update(id, 3, Status::Running).await,
        Err(StoreError::Illegal { from: Status::Failed, to: Status::Running })
    );
    assert_eq!(
        store.update(id, 2, Status::Succeeded).await,
        Err(StoreError::Conflict { current: Record { status: Status::Failed, version: 3 } })
    );
    assert_eq!(store.update(999, 1, Status::Running).await, Err(StoreError::NotFound));
}

#[tokio::test(start_paused = true)]
async fn cancelled_and_panicking_jobs_are_recorded() {
    let store = Arc::new(JobStore::new(Duration::from_millis(10)));
    let svc = JobService::new(1, Duration::ZERO, store.clone());
    let slow = svc.submit(async { sleep(Duration::from_secs(10)).await; 1 });
    let boom = svc.submit(async { panic!("expected panic from a test job") });
    let queued = svc.submit(async { 3 });
    queued.cancel();
    sleep(Duration::from_secs(1)).await;
    slow.cancel();
    let (slow_id, boom_id, queued_id) = (slow.id(), boom.id(), queued.id());
    assert_eq!(timeout(LIMIT, slow.result()).await.expect("hung"), Err(JobError::Cancelled));
    assert_eq!(timeout(LIMIT, boom.result()).await.expect("hung"), Err(JobError::Failed));
    assert_eq!(timeout(LIMIT, queued.result()).await.expect("hung"), Err(JobError::Cancelled));
    timeout(LIMIT, svc.shutdown(Duration::from_secs(1))).await.expect("shutdown hung");
    assert_eq!(store.get(slow_id).unwrap().status, Status::Cancelled);
    assert_eq!(store.get(boom_id).unwrap().status, Status::Failed);
    assert_eq!(store.get(queued_id).unwrap(), Record { status: Status::Cancelled, version: 2 }, "a job cancelled while queued goes straight from Queued to Cancelled");
}
