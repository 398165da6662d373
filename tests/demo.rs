//! `lockstep demo seed`: the simulated history lands in every table it
//! claims to, and the derived progress agrees with the raw submissions, as
//! it would after real grading.

mod common;

use common::{fresh_database, programme};
use lockstep::demo::{SeedOptions, seed};
use lockstep::grading::job::{JobStatus, Mode};

#[tokio::test]
async fn a_seeded_cohort_has_consistent_submissions_and_progress() {
    let (db, _) = fresh_database().await;
    let options = SeedOptions {
        learners: 12,
        days: 5,
        cohort: "Seeded".into(),
        seed: 7,
        whole_programme: false,
    };
    let report = seed(&db, &programme(), &options).await.expect("seeds");
    assert_eq!(report.learners, 12);
    assert!(report.submissions > 0, "{report:?}");

    let members = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM cohort_members WHERE cohort_id = $1"#,
        report.cohort_id
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(members, 12);
    let submissions = sqlx::query!(
        r#"SELECT count(*) AS "total!",
                  count(*) FILTER (WHERE status = $1 AND verdict_status IS NOT NULL) AS "done!",
                  count(*) FILTER (WHERE mode = $2) AS "graded!"
             FROM submissions"#,
        JobStatus::Done as JobStatus,
        Mode::Submit as Mode,
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(submissions.total as usize, report.submissions);
    assert_eq!(submissions.done, submissions.total, "every one is graded");
    // Progress counts the graded submissions (not visible-test runs), per
    // learner and exercise, exactly.
    let attempts = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(attempts), 0)::int8 AS "attempts!" FROM exercise_progress"#
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(attempts, submissions.graded);
    let visits = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM lesson_visits"#)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(visits as usize, report.lesson_visits);
}
