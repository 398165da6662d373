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
        queue::JobLimits::NONE,
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

// --- fair use ----------------------------------------------------------

fn program_of(user_id: Option<i64>) -> NewJob<'static> {
    NewJob {
        user_id,
        mode: Mode::Run,
        exercise_id: None,
        exercise_hash: None,
        code: "fn main() {}",
    }
}

#[tokio::test]
async fn a_learner_past_their_jobs_in_flight_gets_a_clear_429() {
    use common::auth::signed_in;
    use lockstep::auth::Role;
    let (db, _) = fresh_database().await;
    let limits = queue::JobLimits {
        per_learner: 2,
        queued: 100,
    };
    let app = common::spawn_app_with_limits(db, limits).await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let (bo, _) = signed_in(&app, "bo@example.com", Role::Learner).await;
    let run = serde_json::json!({ "code": "fn main() {}" });
    for _ in 0..2 {
        assert_eq!(ada.post_json("/api/run", &run).await.status(), 201);
    }
    let refused = ada.post_json("/api/run", &run).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("2 jobs queued or running"),
        "{body}"
    );
    // Another learner is not held up by Ada's jobs.
    assert_eq!(bo.post_json("/api/run", &run).await.status(), 201);
}

#[tokio::test]
async fn parallel_requests_cannot_slip_past_the_learner_cap() {
    use lockstep::auth::Role;
    let (db, _) = fresh_database().await;
    let ada = common::auth::create_user(&db, "ada@example.com", "Ada", Role::Learner).await;
    let limits = queue::JobLimits {
        per_learner: 3,
        queued: 1000,
    };
    let attempts = (0..12).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { queue::enqueue(&db, program_of(Some(ada.id)), limits).await })
    });
    let mut accepted = 0;
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(queue::Refused::LearnerBusy(_)) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((accepted, refused), (3, 9));
}

#[tokio::test]
async fn workers_serve_learners_in_turn() {
    use lockstep::auth::Role;
    let (db, _) = fresh_database().await;
    let ada = common::auth::create_user(&db, "ada@example.com", "Ada", Role::Learner).await;
    let bo = common::auth::create_user(&db, "bo@example.com", "Bo", Role::Learner).await;
    let mut ada_jobs = Vec::new();
    for _ in 0..3 {
        ada_jobs.push(
            queue::enqueue(&db, program_of(Some(ada.id)), queue::JobLimits::NONE)
                .await
                .unwrap(),
        );
    }
    let bo_job = queue::enqueue(&db, program_of(Some(bo.id)), queue::JobLimits::NONE)
        .await
        .unwrap();
    let mut order = Vec::new();
    while let Some(job) = queue::claim(&db, "worker", Duration::from_secs(30))
        .await
        .unwrap()
    {
        order.push(job.id);
    }
    // Bo's one job goes before Ada's second, although Ada queued first.
    assert_eq!(order, vec![ada_jobs[0], bo_job, ada_jobs[1], ada_jobs[2]]);
}

#[tokio::test]
async fn the_queue_as_a_whole_is_capped() {
    let (db, _) = fresh_database().await;
    let limits = queue::JobLimits {
        per_learner: i64::MAX,
        queued: 3,
    };
    for _ in 0..3 {
        queue::enqueue(&db, program_of(None), limits).await.unwrap();
    }
    match queue::enqueue(&db, program_of(None), limits).await {
        Err(queue::Refused::QueueFull(3)) => {}
        other => panic!("expected a full queue, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_claims_take_each_job_once() {
    use lockstep::auth::Role;
    let (db, _) = fresh_database().await;
    let mut users = Vec::new();
    for n in 0..4 {
        let email = format!("learner{n}@example.com");
        users.push(
            common::auth::create_user(&db, &email, "L", Role::Learner)
                .await
                .id,
        );
    }
    for i in 0..60 {
        queue::enqueue(&db, program_of(Some(users[i % 4])), queue::JobLimits::NONE)
            .await
            .unwrap();
    }
    let claimers = (0..6).map(|n| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut taken = Vec::new();
            while let Some(job) = queue::claim(&db, &format!("worker-{n}"), Duration::from_secs(30))
                .await
                .unwrap()
            {
                taken.push(job.id);
            }
            taken
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!((claimed, all.len()), (60, 60), "a job was claimed twice");
}
