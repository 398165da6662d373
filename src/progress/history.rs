//! A learner's submissions for one exercise, newest first, each with a diff
//! against the one before it and the instructors' comments on it, and the
//! state of their pass.

use similar::{ChangeTag, TextDiff};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::grading::job::{JobStatus, Mode, Outcome};
use crate::progress::comments::{self, Comment};

/// How many submissions the exercise page lists.
pub const HISTORY_LENGTH: i64 = 50;

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
    /// What was handed in.
    pub code: String,
    /// When it was handed in.
    pub created_at: OffsetDateTime,
}

/// A submission with the change since the previous one.
#[derive(Debug)]
pub struct Entry {
    /// The submission.
    pub submission: Submission,
    /// `similar`'s line diff against the previous submission, as HTML
    /// (empty for the first one).
    pub diff_html: String,
    /// Lines added and removed since the previous submission.
    pub added: usize,
    /// See `added`.
    pub removed: usize,
    /// Instructors' comments on it, oldest first.
    pub comments: Vec<Comment>,
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

/// The learner's latest submissions for the exercise (graded and
/// visible-tests runs), newest first, each diffed against its predecessor
/// and with its comments (fetched for all of them in one query).
pub async fn for_exercise(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
) -> sqlx::Result<Vec<Entry>> {
    // One extra row so the oldest listed submission has something to diff against.
    let mut rows = sqlx::query_as!(
        Submission,
        r#"SELECT id, mode AS "mode: Mode", status AS "status: JobStatus",
                  verdict_status AS "verdict_status: Outcome", tests_passed, tests_total,
                  exercise_hash, code, created_at
             FROM submissions
            WHERE user_id = $1 AND exercise_id = $2 AND mode <> $4
            ORDER BY id DESC LIMIT $3"#,
        user_id,
        exercise_id,
        HISTORY_LENGTH + 1,
        Mode::Run as Mode,
    )
    .fetch_all(db)
    .await?;
    let extra = (rows.len() as i64 > HISTORY_LENGTH)
        .then(|| rows.pop())
        .flatten();
    let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let mut comments = comments::on_each(db, &ids).await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut older = extra.map(|s| s.code);
    for submission in rows.into_iter().rev() {
        let (diff_html, added, removed) = match &older {
            Some(previous) => diff(previous, &submission.code),
            None => (String::new(), 0, 0),
        };
        older = Some(submission.code.clone());
        entries.push(Entry {
            comments: comments.remove(&submission.id).unwrap_or_default(),
            submission,
            diff_html,
            added,
            removed,
        });
    }
    entries.reverse();
    Ok(entries)
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

/// A line diff rendered as HTML (every line escaped, changed lines marked
/// with `diff-add` / `diff-del` and a `+`/`-` sign for readers who cannot
/// tell the colours apart), with unchanged stretches shortened to three lines
/// of context. Also returns the counts of added and removed lines.
pub fn diff(old: &str, new: &str) -> (String, usize, usize) {
    let diff = TextDiff::from_lines(old, new);
    let mut html = String::new();
    let (mut added, mut removed) = (0, 0);
    for (index, group) in diff.grouped_ops(3).iter().enumerate() {
        if index > 0 {
            html.push_str("<span class=\"diff-gap\">⋯\n</span>");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (class, sign) = match change.tag() {
                    ChangeTag::Insert => {
                        added += 1;
                        ("diff-add", '+')
                    }
                    ChangeTag::Delete => {
                        removed += 1;
                        ("diff-del", '-')
                    }
                    ChangeTag::Equal => ("diff-same", ' '),
                };
                let line = change.value();
                html.push_str(&format!(
                    "<span class=\"{class}\">{sign} {}{}</span>",
                    escape(line.trim_end_matches('\n')),
                    '\n'
                ));
            }
        }
    }
    (html, added, removed)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_marks_added_and_removed_lines_and_escapes_them() {
        let (html, added, removed) = diff("fn a() {}\nlet x = 1;\n", "fn a() {}\nlet x = 2 < 3;\n");
        assert_eq!((added, removed), (1, 1));
        assert!(html.contains("<span class=\"diff-del\">- let x = 1;"));
        assert!(html.contains("<span class=\"diff-add\">+ let x = 2 &lt; 3;"));
    }

    fn graded(verdict: Outcome, passed: i32, total: i32) -> Submission {
        Submission {
            id: 1,
            mode: Mode::Submit,
            status: JobStatus::Done,
            verdict_status: Some(verdict),
            tests_passed: Some(passed),
            tests_total: Some(total),
            exercise_hash: None,
            code: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_result_says_the_outcome_and_the_count_once() {
        assert_eq!(graded(Outcome::Fail, 3, 6).result(), "3 of 6 tests pass");
        assert_eq!(graded(Outcome::Pass, 6, 6).result(), "all 6 tests pass");
        assert_eq!(graded(Outcome::Error, 0, 0).result(), "error");
    }

    #[test]
    fn identical_code_has_an_empty_diff() {
        assert_eq!(diff("a\n", "a\n"), (String::new(), 0, 0));
    }
}
