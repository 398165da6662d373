use capstone_job_status_versions::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout};

const LIMIT: Duration = Duration::from_secs(30);
const LATENCY: Duration = Duration::from_millis(10);

#[tokio::test(start_paused = true)]
async fn concurrent_updates_with_the_same_version_conflict() {
    let store = JobStore::new(LATENCY);
    let id = store.create();
    let (a, b) = timeout(LIMIT, async {
        tokio::join!(store.update(id, 1, Status::Running), store.update(id, 1, Status::Cancelled))
    })
    .await
    .expect("updates hung");
    let ok = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        ok, 1,
        "two writers both read version 1; exactly one compare-and-swap may win, the other must get Conflict. Got {a:?} and {b:?}"
    );
    assert!(
        matches!(a, Err(StoreError::Conflict { .. })) || matches!(b, Err(StoreError::Conflict { .. })),
        "the loser must see StoreError::Conflict, got {a:?} and {b:?}"
    );
    assert_eq!(store.get(id).unwrap().version, 2, "one successful update means version 2");
}

#[tokio::test(start_paused = true)]
async fn a_cancel_is_not_overwritten_by_a_finishing_worker() {
    let store = Arc::new(JobStore::new(LATENCY));
    let id = store.create();
    store.update(id, 1, Status::Running).await.unwrap();

    // An operator cancels the job at t=0 ...
    let admin = {
        let store = store.clone();
        tokio::spawn(async move {
            store.transition(id, |s| if s.is_terminal() { None } else { Some(Status::Cancelled) }).await
        })
    };
    // ... and the worker finishes 5ms later, while the cancel is still being persisted.
    let worker = {
        let store = store.clone();
        tokio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            store.transition(id, |s| if s.is_terminal() { None } else { Some(Status::Succeeded) }).await
        })
    };
    let admin = timeout(LIMIT, admin).await.expect("admin hung").unwrap();
    let worker = timeout(LIMIT, worker).await.expect("worker hung").unwrap();
    let rec = store.get(id).unwrap();
    assert_eq!(
        rec.status,
        Status::Cancelled,
        "the cancel was committed first; the worker must see it and leave the record alone (lost update!). admin: {admin:?}, worker: {worker:?}"
    );
    assert_eq!(worker, Ok(None), "the worker's transition should decide not to write");
    assert_eq!(rec.version, 3, "Queued v1, Running v2, Cancelled v3");
}

#[tokio::test(start_paused = true)]
async fn a_successful_job_records_its_lifecycle() {
    let store = Arc::new(JobStore::new(LATENCY));
    let svc = JobService::new(2, Duration::ZERO, store.clone());
    let h = svc.submit(async { sleep(Duration::from_millis(100)).await; 42 });
    let id = h.id();
    assert_eq!(store.get(id), Some(Record { status: Status::Queued, version: 1 }));
    assert_eq!(timeout(LIMIT, h.result()).await.expect("job hung"), Ok(42));
    timeout(LIMIT, svc.shutdown(Duration::from_secs(1))).await.expect("shutdown hung");
    assert_eq!(store.get(id), Some(Record { status: Status::Succeeded, version: 3 }));
}
