//! A learner's submissions for one exercise, newest first and a page at a
//! time, the instructors' comments on each, the change each made (computed
//! only when asked for, one at a time: see [`change`]) and the state of
//! their pass.
//!
//! What a page costs does not grow with what the learner handed in: the list
//! reads a digest of each submission's code, never the code, and a diff is
//! one bounded comparison ([`crate::progress::diff`]).

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::grading::job::{JobStatus, Mode, Outcome};
use crate::progress::comments::{self, Comment};

/// How many submissions one page of the history lists.
pub const PAGE_SIZE: i64 = 10;

/// One graded (or pending) submission, as the history lists it.
#[derive(Debug)]
pub struct Submission {
    /// Its id.
    pub id: i64,
    /// [`Mode::Submit`] (every test) or [`Mode::Visible`] (visible tests only).
    pub mode: Mode,
    /// Where the job is.
    pub status: JobStatus,
    /// How it came out, once done.
    pub verdict_status: Option<Outcome>,
    /// Tests passed, once done.
    pub tests_passed: Option<i32>,
    /// Tests run, once done.
    pub tests_total: Option<i32>,
    /// The exercise version it was graded against.
    pub exercise_hash: Option<String>,
    /// An MD5 of what was handed in: enough to tell "same code as before".
    pub code_digest: String,
    /// When it was handed in.
    pub created_at: OffsetDateTime,
}

/// A submission in the list, with how it relates to the one before it.
#[derive(Debug)]
pub struct Entry {
    /// The submission.
    pub submission: Submission,
    /// An earlier submission exists, so there is a change to show.
    pub has_previous: bool,
    /// Its code is exactly that of the previous submission.
    pub same_as_previous: bool,
    /// Instructors' comments on it, oldest first.
    pub comments: Vec<Comment>,
}

/// One page of the history.
#[derive(Debug, Default)]
pub struct HistoryPage {
    /// At most [`PAGE_SIZE`] submissions, newest first.
    pub entries: Vec<Entry>,
    /// When older submissions exist: the `before` that lists them.
    pub older: Option<i64>,
    /// This is not the first page (it was asked for with `before`).
    pub is_continuation: bool,
}

/// `2024-05-01 14:03 UTC`: how the exercise page shows a time.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `t` as RFC 3339, for `<time datetime>`.
pub fn datetime(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Submission {
    /// When it was handed in, as [`when`] shows it.
    pub fn when(&self) -> String {
        when(self.created_at)
    }

    /// `created_at` as RFC 3339, for `<time datetime>`.
    pub fn datetime(&self) -> String {
        datetime(self.created_at)
    }

    /// What the verdict badge says — the outcome and the count in one
    /// phrase (`3 of 5 tests pass`), where a badge "failed" beside a
    /// "3 / 5 tests" read as "3 of 5 tests failed" under a panel saying
    /// "3 of 5 tests pass".
    pub fn result(&self) -> String {
        match (self.status, self.verdict_status) {
            (JobStatus::Done, Some(Outcome::Pass)) => match self.tests_total {
                Some(1) => "the test passes".to_string(),
                Some(total) => format!("all {total} tests pass"),
                None => "passed".to_string(),
            },
            (JobStatus::Done, Some(Outcome::Fail)) => match (self.tests_passed, self.tests_total) {
                (Some(passed), Some(total)) => format!("{passed} of {total} tests pass"),
                _ => "failed".to_string(),
            },
            (JobStatus::Done, _) => "error".to_string(),
            // Not done yet: the badge shows where the job is.
            (JobStatus::Running | JobStatus::Queued, _) => self.status.as_str().to_string(),
        }
    }

    /// The badge class for the verdict: pass, fail, error or pending.
    pub fn badge(&self) -> &str {
        match (self.status, self.verdict_status) {
            (JobStatus::Done, Some(outcome)) => outcome.as_str(),
            (JobStatus::Done, None) => Outcome::Error.as_str(),
            (JobStatus::Queued | JobStatus::Running, _) => "pending",
        }
    }

    /// Whether every test was run (a graded submission, not a visible-tests run).
    pub fn is_graded_against_every_test(&self) -> bool {
        self.mode == Mode::Submit
    }

    /// Whether it was graded against the exercise version `hash`.
    pub fn graded_against(&self, hash: &str) -> bool {
        self.exercise_hash.as_deref() == Some(hash)
    }
}

/// The learner's submissions for the exercise (graded and visible-tests
/// runs) older than `before` (all when `None`), newest first, a page of
/// them, with their comments (fetched for all of them in one query).
pub async fn page(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
    before: Option<i64>,
) -> sqlx::Result<HistoryPage> {
    // One extra row: it says whether an older page exists, and whether the
    // oldest listed submission has a predecessor (and the same code).
    let mut rows = sqlx::query_as!(
        Submission,
        r#"SELECT id, mode AS "mode: Mode", status AS "status: JobStatus",
                  verdict_status AS "verdict_status: Outcome", tests_passed, tests_total,
                  exercise_hash, md5(code) AS "code_digest!", created_at
             FROM submissions
            WHERE user_id = $1 AND exercise_id = $2 AND mode <> $4
              AND ($5::bigint IS NULL OR id < $5)
            ORDER BY id DESC LIMIT $3"#,
        user_id,
        exercise_id,
        PAGE_SIZE + 1,
        Mode::Run as Mode,
        before,
    )
    .fetch_all(db)
    .await?;
    let extra = (rows.len() as i64 > PAGE_SIZE)
        .then(|| rows.pop())
        .flatten();
    let older = extra.as_ref().and_then(|_| rows.last().map(|s| s.id));
    let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let mut comments = comments::on_each(db, &ids).await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut previous_digest = extra.map(|s| s.code_digest);
    for submission in rows.into_iter().rev() {
        let has_previous = previous_digest.is_some();
        let same_as_previous = previous_digest.as_deref() == Some(submission.code_digest.as_str());
        previous_digest = Some(submission.code_digest.clone());
        entries.push(Entry {
            comments: comments.remove(&submission.id).unwrap_or_default(),
            submission,
            has_previous,
            same_as_previous,
        });
    }
    entries.reverse();
    Ok(HistoryPage {
        entries,
        older,
        is_continuation: before.is_some(),
    })
}

/// A submission's code and that of the one before it: what its diff compares.
#[derive(Debug)]
pub struct Change {
    /// The earlier submission's code (none for the first one).
    pub previous: Option<String>,
    /// The submission's code.
    pub code: String,
}

/// The learner's submission `id` on the exercise and its predecessor's
/// code; `None` unless it is theirs, on this exercise, and not a program run.
pub async fn change(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
    id: i64,
) -> sqlx::Result<Option<Change>> {
    sqlx::query_as!(
        Change,
        "SELECT s.code,
                (SELECT p.code FROM submissions p
                  WHERE p.user_id = s.user_id AND p.exercise_id = s.exercise_id
                    AND p.mode <> $4 AND p.id < s.id
                  ORDER BY p.id DESC LIMIT 1) AS previous
           FROM submissions s
          WHERE s.id = $1 AND s.user_id = $2 AND s.exercise_id = $3 AND s.mode <> $4",
        id,
        user_id,
        exercise_id,
        Mode::Run as Mode,
    )
    .fetch_optional(db)
    .await
}

/// A passing graded submission: what passed, and against which version.
#[derive(Debug, Clone)]
pub struct Pass {
    /// `submissions.id`
    pub id: i64,
    /// The code that passed.
    pub code: String,
    /// The exercise version it passed against.
    pub exercise_hash: Option<String>,
}

/// The learner's most recent passing graded submission, if any.
pub async fn last_pass(db: &PgPool, user_id: i64, exercise_id: &str) -> sqlx::Result<Option<Pass>> {
    sqlx::query_as!(
        Pass,
        "SELECT id, code, exercise_hash FROM submissions
          WHERE user_id = $1 AND exercise_id = $2 AND mode = $3 AND verdict_status = $4
          ORDER BY id DESC LIMIT 1",
        user_id,
        exercise_id,
        Mode::Submit as Mode,
        Outcome::Pass as Outcome,
    )
    .fetch_optional(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(verdict: Outcome, passed: i32, total: i32) -> Submission {
        Submission {
            id: 1,
            mode: Mode::Submit,
            status: JobStatus::Done,
            verdict_status: Some(verdict),
            tests_passed: Some(passed),
            tests_total: Some(total),
            exercise_hash: None,
            code_digest: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_result_says_the_outcome_and_the_count_once() {
        assert_eq!(graded(Outcome::Fail, 3, 6).result(), "3 of 6 tests pass");
        assert_eq!(graded(Outcome::Pass, 6, 6).result(), "all 6 tests pass");
        assert_eq!(graded(Outcome::Error, 0, 0).result(), "error");
    }
}
