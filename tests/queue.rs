//! The queue's lease guarantees, without a sandbox: only the worker holding
//! a job's lease may report its progress, renew it or end it.

mod common;

use std::time::Duration;

use common::fresh_database;
use lockstep::grading::job::{JobStatus, Mode, Phase};
use lockstep::grading::queue::{self, NewJob};
use lockstep::grading::verdict::{Status, Verdict};

async fn enqueue_program(db: &sqlx::PgPool) -> i64 {
    queue::enqueue(
        db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code: "fn main() {}",
        },
    )
    .await
    .expect("enqueue")
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_change_the_phase() {
    let (db, _) = fresh_database().await;
    let id = enqueue_program(&db).await;
    let lease = Duration::from_millis(500);
    let first = queue::claim(&db, "worker-a", lease)
        .await
        .unwrap()
        .expect("a job");
    assert!(
        queue::set_phase(&db, &first, "worker-a", Phase::Running)
            .await
            .unwrap(),
        "the lease holder reports progress"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let second = queue::claim(&db, "worker-b", lease)
        .await
        .unwrap()
        .expect("the expired lease is claimable");
    assert_eq!(second.id, id);

    assert!(
        !queue::set_phase(&db, &first, "worker-a", Phase::Running)
            .await
            .unwrap(),
        "the old owner cannot report progress for a job it lost"
    );
    let job = queue::find(&db, id).await.unwrap().expect("the job");
    assert_eq!(
        (job.status, job.phase),
        (JobStatus::Running, Some(Phase::Compiling)),
        "the new owner's phase stands"
    );
    assert!(
        !queue::renew(&db, id, "worker-a", lease).await.unwrap(),
        "nor renew it"
    );

    let verdict = Verdict::new(Status::Pass, None, None);
    assert!(
        queue::finish(&db, &second, "worker-b", &verdict)
            .await
            .unwrap()
    );
    assert!(
        !queue::set_phase(&db, &second, "worker-b", Phase::Running)
            .await
            .unwrap(),
        "a finished job has no phase to change"
    );
    let job = queue::find(&db, id).await.unwrap().expect("the job");
    assert_eq!((job.status, job.phase), (JobStatus::Done, None));
}

#[tokio::test]
async fn the_api_words_for_a_job_are_the_vocabulary() {
    let (db, _) = fresh_database().await;
    let id = enqueue_program(&db).await;
    let queued = queue::find(&db, id).await.unwrap().expect("the job");
    assert_eq!(
        (queued.status, queued.phase, queued.mode),
        (JobStatus::Queued, None, Mode::Run)
    );
    let claimed = queue::claim(&db, "worker-a", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(claimed.mode, Mode::Run);
    let running = queue::find(&db, id).await.unwrap().expect("the job");
    assert_eq!(
        (running.status, running.phase),
        (JobStatus::Running, Some(Phase::Compiling))
    );
    assert_eq!(queue::release(&db, "worker-a").await.unwrap(), 1);
    let released = queue::find(&db, id).await.unwrap().expect("the job");
    assert_eq!((released.status, released.phase), (JobStatus::Queued, None));
}
