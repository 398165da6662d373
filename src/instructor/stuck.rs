//! Stuck learners: who keeps failing an exercise, who has been on one too
//! long without passing, and who has gone quiet — with thresholds the
//! instructor adjusts.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::grading::job::Mode;

/// The thresholds; each one is a separate reason to be listed.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Failed an exercise at least this many times without passing it.
    pub failures: i32,
    /// Opened an exercise more than this many minutes ago without passing it.
    pub minutes: i64,
    /// No activity for at least this many days.
    pub inactive_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failures: 5,
            minutes: 24 * 60,
            inactive_days: 7,
        }
    }
}

/// Why a learner is listed.
#[derive(Clone, Debug, PartialEq)]
pub enum StuckReason {
    /// Failed `exercise_id` `attempts` times.
    Failing {
        /// The exercise.
        exercise_id: String,
        /// Failed attempts.
        attempts: i32,
        /// Their latest submission for it.
        submission_id: Option<i64>,
    },
    /// On `exercise_id` for `minutes` without passing.
    Slow {
        /// The exercise.
        exercise_id: String,
        /// Minutes since it was first opened.
        minutes: i64,
        /// Their latest submission for it.
        submission_id: Option<i64>,
    },
    /// No activity for `days` days (`None`: never active).
    Inactive {
        /// Whole days since the last activity.
        days: Option<i64>,
    },
}

/// A learner with at least one reason.
#[derive(Clone, Debug)]
pub struct StuckLearner {
    /// `users.id`
    pub id: i64,
    /// Their name.
    pub display_name: String,
    /// Every reason that applies.
    pub reasons: Vec<StuckReason>,
    /// Their latest submission, any exercise.
    pub latest_submission: Option<i64>,
    /// Their latest activity (submission or lesson visit).
    pub last_activity: Option<OffsetDateTime>,
}

/// The cohort's stuck learners, those with the most reasons first.
pub async fn stuck(
    db: &PgPool,
    cohort_id: i64,
    thresholds: Thresholds,
) -> sqlx::Result<Vec<StuckLearner>> {
    // When nothing recorded the first opening, the first submission stands in.
    let (open, people) = tokio::try_join!(
        sqlx::query!(
            r#"SELECT p.user_id, p.exercise_id, p.attempts,
                      extract(epoch FROM now() - coalesce(p.first_opened_at,
                          (SELECT min(s.created_at) FROM submissions s
                            WHERE s.user_id = p.user_id AND s.exercise_id = p.exercise_id)))::float8 / 60
                        AS minutes,
                      p.last_submission_id
                 FROM cohort_members m JOIN exercise_progress p ON p.user_id = m.user_id
                WHERE m.cohort_id = $1 AND p.passed_at IS NULL
                ORDER BY p.user_id, p.exercise_id"#,
            cohort_id,
        )
        .fetch_all(db),
        sqlx::query!(
            r#"SELECT u.id, u.display_name,
                      greatest((SELECT max(p.last_activity_at) FROM exercise_progress p
                                 WHERE p.user_id = u.id AND p.attempts > 0),
                               (SELECT max(v.last_at) FROM lesson_visits v WHERE v.user_id = u.id))
                        AS last_activity,
                      (SELECT max(s.id) FROM submissions s WHERE s.user_id = u.id AND s.mode <> $2)
                        AS latest_submission
                 FROM cohort_members m JOIN users u ON u.id = m.user_id
                WHERE m.cohort_id = $1"#,
            cohort_id,
            Mode::Run as Mode,
        )
        .fetch_all(db),
    )?;
    let now = OffsetDateTime::now_utc();
    let mut learners: Vec<StuckLearner> = people
        .into_iter()
        .map(|person| {
            let (last_activity, latest_submission) =
                (person.last_activity, person.latest_submission);
            let days = last_activity.map(|t| (now - t).whole_days());
            let mut reasons = Vec::new();
            if days.is_none_or(|d| d >= thresholds.inactive_days) {
                reasons.push(StuckReason::Inactive { days });
            }
            StuckLearner {
                id: person.id,
                display_name: person.display_name,
                reasons,
                latest_submission,
                last_activity,
            }
        })
        .collect();
    let position: std::collections::HashMap<i64, usize> = learners
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id, i))
        .collect();
    for open in open {
        let (exercise_id, attempts, minutes, submission_id) = (
            open.exercise_id,
            open.attempts,
            open.minutes,
            open.last_submission_id,
        );
        let Some(&i) = position.get(&open.user_id) else {
            continue;
        };
        if attempts >= thresholds.failures {
            learners[i].reasons.push(StuckReason::Failing {
                exercise_id: exercise_id.clone(),
                attempts,
                submission_id,
            });
        }
        if let Some(minutes) = minutes
            && minutes > thresholds.minutes as f64
        {
            learners[i].reasons.push(StuckReason::Slow {
                exercise_id,
                minutes: minutes as i64,
                submission_id,
            });
        }
    }
    learners.retain(|l| !l.reasons.is_empty());
    learners.sort_by(|a, b| {
        b.reasons
            .len()
            .cmp(&a.reasons.len())
            .then_with(|| a.display_name.cmp(&b.display_name))
    });
    Ok(learners)
}
