//! One exercise across a cohort: who got how far (partial credit, hidden
//! tests included), pass rate, attempts and time until passing, hints, and
//! the tests that fail most — where the class struggles.

use sqlx::PgPool;

use crate::grading::job::{JobStatus, Mode};

/// One learner's standing on the exercise.
#[derive(Clone, Debug)]
pub struct Credit {
    /// `users.id`
    pub id: i64,
    /// Their name.
    pub display_name: String,
    /// Graded submissions.
    pub attempts: i32,
    /// Most tests passed in one submission (hidden included).
    pub best_passed: i32,
    /// Tests in the exercise (hidden included).
    pub best_total: i32,
    /// Whether they passed.
    pub passed: bool,
    /// Graded submissions up to and including the first pass.
    pub attempts_to_pass: Option<i64>,
    /// Minutes from first opening to passing.
    pub minutes_to_pass: Option<f64>,
    /// Hints revealed.
    pub hints: i64,
    /// Their latest graded submission.
    pub last_submission: Option<i64>,
}

/// A test and how often it failed.
#[derive(Clone, Debug)]
pub struct FailingTest {
    /// The test's name as the verdict gives it.
    pub name: String,
    /// A hidden test (no message is ever shown for those).
    pub hidden: bool,
    /// Failed (or errored) in this many graded submissions.
    pub failures: i64,
    /// By this many learners.
    pub learners: i64,
    /// The latest failure message.
    pub example: Option<String>,
}

/// The exercise's report for a cohort.
#[derive(Clone, Debug)]
pub struct ExerciseReport {
    /// Every member, by name.
    pub credits: Vec<Credit>,
    /// Members who submitted at least once.
    pub attempted: usize,
    /// Members who passed.
    pub passed: usize,
    /// Attempts until passing, median and 90th percentile.
    pub attempts_median: Option<f64>,
    /// 90th percentile.
    pub attempts_p90: Option<f64>,
    /// Median minutes from first opening to passing.
    pub minutes_median: Option<f64>,
    /// Hints revealed in total.
    pub hints_total: i64,
    /// Members who revealed at least one hint.
    pub hints_learners: usize,
    /// Tests ranked by failures (top 10).
    pub failing_tests: Vec<FailingTest>,
}

impl ExerciseReport {
    /// Passed / attempted, in percent.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.attempted > 0).then(|| 100.0 * self.passed as f64 / self.attempted as f64)
    }
}

/// The report of `exercise_id` for `cohort_id`.
pub async fn report(
    db: &PgPool,
    cohort_id: i64,
    exercise_id: &str,
) -> sqlx::Result<ExerciseReport> {
    let (rows, tests) = tokio::try_join!(
        sqlx::query!(
            r#"SELECT u.id, u.display_name, p.attempts AS "attempts?", p.best_passed AS "best_passed?",
                      p.best_total AS "best_total?", p.passed_at IS NOT NULL AS "passed!",
                      CASE WHEN p.passed_at IS NOT NULL THEN
                        (SELECT count(*) FROM submissions s
                          WHERE s.user_id = u.id AND s.exercise_id = $2 AND s.mode = $3
                            AND s.finished_at <= p.passed_at) END AS attempts_to_pass,
                      extract(epoch FROM p.passed_at - coalesce(p.first_opened_at,
                        (SELECT min(s.created_at) FROM submissions s
                          WHERE s.user_id = u.id AND s.exercise_id = $2)))::float8 / 60 AS minutes_to_pass,
                      (SELECT count(*) FROM hint_reveals h
                        WHERE h.user_id = u.id AND h.exercise_id = $2) AS "hints!",
                      p.last_submission_id AS "last_submission?"
                 FROM cohort_members m
                 JOIN users u ON u.id = m.user_id
                 LEFT JOIN exercise_progress p ON p.user_id = u.id AND p.exercise_id = $2
                WHERE m.cohort_id = $1
                ORDER BY lower(u.display_name), u.id"#,
            cohort_id,
            exercise_id,
            Mode::Submit as Mode,
        )
        .fetch_all(db),
        sqlx::query_as!(
            FailingTest,
            r#"SELECT t->>'name' AS "name!", bool_or(coalesce((t->>'hidden')::bool, false)) AS "hidden!",
                      count(*) AS "failures!", count(DISTINCT s.user_id) AS "learners!",
                      (array_agg(t->>'message' ORDER BY s.id DESC)
                         FILTER (WHERE t->>'message' IS NOT NULL))[1] AS example
                 FROM cohort_members m
                 JOIN submissions s ON s.user_id = m.user_id
                  AND s.exercise_id = $2 AND s.mode = $3 AND s.status = $4
                CROSS JOIN LATERAL jsonb_array_elements(s.verdict->'tests') t
                WHERE m.cohort_id = $1 AND t->>'status' <> 'pass'
                GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 10"#,
            cohort_id,
            exercise_id,
            Mode::Submit as Mode,
            JobStatus::Done as JobStatus,
        )
        .fetch_all(db),
    )?;
    let credits: Vec<Credit> = rows
        .into_iter()
        .map(|row| Credit {
            id: row.id,
            display_name: row.display_name,
            attempts: row.attempts.unwrap_or(0),
            best_passed: row.best_passed.unwrap_or(0),
            best_total: row.best_total.unwrap_or(0),
            passed: row.passed,
            attempts_to_pass: row.attempts_to_pass,
            minutes_to_pass: row.minutes_to_pass,
            hints: row.hints,
            last_submission: row.last_submission,
        })
        .collect();
    let mut to_pass: Vec<f64> = credits
        .iter()
        .filter_map(|c| c.attempts_to_pass.map(|a| a as f64))
        .collect();
    let mut minutes: Vec<f64> = credits.iter().filter_map(|c| c.minutes_to_pass).collect();
    Ok(ExerciseReport {
        attempted: credits.iter().filter(|c| c.attempts > 0).count(),
        passed: credits.iter().filter(|c| c.passed).count(),
        attempts_median: percentile(&mut to_pass, 50.0),
        attempts_p90: percentile(&mut to_pass, 90.0),
        minutes_median: percentile(&mut minutes, 50.0),
        hints_total: credits.iter().map(|c| c.hints).sum(),
        hints_learners: credits.iter().filter(|c| c.hints > 0).count(),
        failing_tests: tests,
        credits,
    })
}

/// The nearest-rank percentile (`p` in 0..=100): a value someone actually
/// had, which reads better than an interpolated 2.7 attempts.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}
