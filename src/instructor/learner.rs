//! One learner in depth: the timeline of lessons read, submissions made and
//! written work and reviews handed in,
//! and any submission with its verdict and the one before it (the diff
//! between them is [`crate::progress::diff`]'s; instructors' comments on it
//! are kept on the learner's side, in [`crate::progress::comments`]).

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::grading::job::{JobStatus, Mode, Outcome};
use crate::grading::verdict::Verdict;

/// Something the learner did.
#[derive(Clone, Debug)]
pub enum Event {
    /// Opened a lesson (first visit).
    Lesson {
        /// Its module.
        module_id: String,
        /// The lesson.
        lesson_id: String,
        /// First visit.
        at: OffsetDateTime,
    },
    /// Handed in code.
    Submission {
        /// `submissions.id`
        id: i64,
        /// What was asked.
        mode: Mode,
        /// The exercise (none for runs).
        exercise_id: Option<String>,
        /// How it came out; none while grading.
        verdict_status: Option<Outcome>,
        /// Tests passed.
        tests_passed: Option<i32>,
        /// Tests run.
        tests_total: Option<i32>,
        /// When.
        at: OffsetDateTime,
    },
    /// Handed in written work for an instructor to score.
    Written {
        /// `written_submissions.id`
        id: i64,
        /// The exercise.
        exercise_id: String,
        /// `awaiting_review`, `changes_requested` or `accepted`.
        state: String,
        /// The rubric's points, once scored.
        points: Option<i32>,
        /// The rubric's most points.
        max_points: i32,
        /// When.
        at: OffsetDateTime,
    },
    /// Handed in a code review (scored against its key at once).
    Review {
        /// The exercise.
        exercise_id: String,
        /// Between 0 and 1.
        score: f64,
        /// Whether it passed.
        passed: bool,
        /// When.
        at: OffsetDateTime,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            Event::Lesson { at, .. }
            | Event::Submission { at, .. }
            | Event::Written { at, .. }
            | Event::Review { at, .. } => *at,
        }
    }
}

/// Most events shown on a timeline (the newest).
pub const TIMELINE_LIMIT: i64 = 400;

/// The learner's newest events, newest first.
pub async fn timeline(db: &PgPool, learner_id: i64) -> sqlx::Result<Vec<Event>> {
    let (visits, submissions, written, reviews) = tokio::try_join!(
        sqlx::query!(
            "SELECT module_id, lesson_id, first_at FROM lesson_visits WHERE user_id = $1
              ORDER BY first_at DESC LIMIT $2",
            learner_id,
            TIMELINE_LIMIT,
        )
        .fetch_all(db),
        sqlx::query!(
            r#"SELECT id, mode AS "mode: Mode", exercise_id,
                      verdict_status AS "verdict_status: Outcome", tests_passed, tests_total,
                      created_at
                 FROM submissions WHERE user_id = $1 ORDER BY id DESC LIMIT $2"#,
            learner_id,
            TIMELINE_LIMIT,
        )
        .fetch_all(db),
        sqlx::query!(
            "SELECT id, exercise_id, state, points, max_points, created_at
               FROM written_submissions WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            learner_id,
            TIMELINE_LIMIT,
        )
        .fetch_all(db),
        sqlx::query!(
            "SELECT exercise_id, score, passed, created_at
               FROM review_submissions WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            learner_id,
            TIMELINE_LIMIT,
        )
        .fetch_all(db),
    )?;
    let mut events: Vec<Event> = visits
        .into_iter()
        .map(|visit| Event::Lesson {
            module_id: visit.module_id,
            lesson_id: visit.lesson_id,
            at: visit.first_at,
        })
        .chain(submissions.into_iter().map(|s| Event::Submission {
            id: s.id,
            mode: s.mode,
            exercise_id: s.exercise_id,
            verdict_status: s.verdict_status,
            tests_passed: s.tests_passed,
            tests_total: s.tests_total,
            at: s.created_at,
        }))
        .chain(written.into_iter().map(|w| Event::Written {
            id: w.id,
            exercise_id: w.exercise_id,
            state: w.state,
            points: w.points,
            max_points: w.max_points,
            at: w.created_at,
        }))
        .chain(reviews.into_iter().map(|r| Event::Review {
            exercise_id: r.exercise_id,
            score: r.score,
            passed: r.passed,
            at: r.created_at,
        }))
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at()));
    events.truncate(TIMELINE_LIMIT as usize);
    Ok(events)
}

/// A submission in full.
#[derive(Clone, Debug)]
pub struct Submission {
    /// `submissions.id`
    pub id: i64,
    /// Whose.
    pub user_id: i64,
    /// What was asked.
    pub mode: Mode,
    /// The exercise (none for runs).
    pub exercise_id: Option<String>,
    /// The code.
    pub code: String,
    /// Where the job is.
    pub status: JobStatus,
    /// The verdict, once done.
    pub verdict: Option<Verdict>,
    /// When.
    pub created_at: OffsetDateTime,
}

/// The submission `id`, if it exists (and has an author: anonymous program
/// runs are nobody's to show).
pub async fn submission(db: &PgPool, id: i64) -> sqlx::Result<Option<Submission>> {
    let row = sqlx::query!(
        r#"SELECT id, user_id, mode AS "mode: Mode", exercise_id, code,
                  status AS "status: JobStatus", verdict AS "verdict: sqlx::types::Json<Verdict>",
                  created_at
             FROM submissions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|row| {
        Some(Submission {
            id: row.id,
            user_id: row.user_id?,
            mode: row.mode,
            exercise_id: row.exercise_id,
            code: row.code,
            status: row.status,
            verdict: row.verdict.map(|v| v.0),
            created_at: row.created_at,
        })
    }))
}

/// The submission just before another: what the diff is taken against.
#[derive(Clone, Debug)]
pub struct Previous {
    /// `submissions.id`
    pub id: i64,
    /// Its code.
    pub code: String,
}

/// The same learner's submission just before `submission` on the same
/// exercise (or the previous run, for runs).
pub async fn previous(db: &PgPool, submission: &Submission) -> sqlx::Result<Option<Previous>> {
    sqlx::query_as!(
        Previous,
        "SELECT id, code FROM submissions
          WHERE user_id = $1 AND exercise_id IS NOT DISTINCT FROM $2 AND id < $3
          ORDER BY id DESC LIMIT 1",
        submission.user_id,
        submission.exercise_id,
        submission.id,
    )
    .fetch_optional(db)
    .await
}
