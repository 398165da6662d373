//! Exports as CSV or JSON, streamed: rows go from a database cursor
//! (`fetch`) through a small bounded channel into the response body, so a
//! 100k-submission export holds a few chunks in memory, never the whole set,
//! and a slow client slows the cursor down instead of filling memory.

use std::convert::Infallible;
use std::fmt::Write;

use futures::{Stream, StreamExt};
use sqlx::{PgPool, Row};
use tokio::sync::mpsc;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// How a column's text becomes JSON.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Number,
    Bool,
}

/// A row-per-record export of a cohort, read with one query.
#[derive(Clone, Copy, Debug)]
pub struct Export {
    sql: &'static str,
    columns: &'static [(&'static str, Kind)],
}

/// Every submission of the cohort's learners (code left out).
pub const SUBMISSIONS: Export = Export {
    sql: "SELECT s.id::text, s.user_id::text, u.email, s.exercise_id, s.mode, s.status,
                 s.verdict_status, s.tests_passed::text, s.tests_total::text,
                 to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 to_char(s.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 coalesce((SELECT string_agg(flag, ' ')
                             FROM jsonb_array_elements_text(s.verdict->'integrity') flag), '')
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN submissions s ON s.user_id = m.user_id
           WHERE m.cohort_id = $1
           ORDER BY s.id",
    columns: &[
        ("id", Kind::Number),
        ("user_id", Kind::Number),
        ("email", Kind::Text),
        ("exercise_id", Kind::Text),
        ("mode", Kind::Text),
        ("status", Kind::Text),
        ("verdict_status", Kind::Text),
        ("tests_passed", Kind::Number),
        ("tests_total", Kind::Number),
        ("created_at", Kind::Text),
        ("finished_at", Kind::Text),
        // Space-separated `IntegrityFlag`s: what a run did that no solution needs.
        ("integrity_flags", Kind::Text),
    ],
};

/// Every test result of every graded submission (mode `submit`). The job
/// words are spelled in the SQL because an export binds only the cohort
/// (see [`Export::stream`]); they are the column's checked vocabulary
/// (`crate::grading::job`).
pub const TEST_RESULTS: Export = Export {
    sql: "SELECT s.id::text, s.user_id::text, u.email, s.exercise_id,
                 to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 t->>'name', coalesce(t->>'hidden', 'false'), t->>'status'
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN submissions s ON s.user_id = m.user_id AND s.mode = 'submit' AND s.status = 'done'
           CROSS JOIN LATERAL jsonb_array_elements(s.verdict->'tests') t
           WHERE m.cohort_id = $1
           ORDER BY s.id",
    columns: &[
        ("submission_id", Kind::Number),
        ("user_id", Kind::Number),
        ("email", Kind::Text),
        ("exercise_id", Kind::Text),
        ("created_at", Kind::Text),
        ("test", Kind::Text),
        ("hidden", Kind::Bool),
        ("status", Kind::Text),
    ],
};

/// Every concept-check attempt of the cohort's learners, oldest first; the
/// answer is its option indices (0-based) or line number, space-separated.
pub const CONCEPT_CHECKS: Export = Export {
    sql: "SELECT a.id::text, a.user_id::text, u.email, a.module_id, a.lesson_id, a.question_id,
                 array_to_string(a.answer, ' '), a.correct::text,
                 to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN concept_check_attempts a ON a.user_id = m.user_id
           WHERE m.cohort_id = $1
           ORDER BY a.id",
    columns: &[
        ("id", Kind::Number),
        ("user_id", Kind::Number),
        ("email", Kind::Text),
        ("module_id", Kind::Text),
        ("lesson_id", Kind::Text),
        ("question_id", Kind::Text),
        ("answer", Kind::Text),
        ("correct", Kind::Bool),
        ("created_at", Kind::Text),
    ],
};

/// Every written hand-in of the cohort's learners (the text left out) and
/// how its review stands.
pub const WRITTEN: Export = Export {
    sql: "SELECT w.id::text, w.user_id::text, u.email, w.exercise_id, w.state,
                 w.points::text, w.max_points::text, r.email,
                 to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 to_char(w.reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN written_submissions w ON w.user_id = m.user_id
            LEFT JOIN users r ON r.id = w.reviewer_id
           WHERE m.cohort_id = $1
           ORDER BY w.id",
    columns: &[
        ("id", Kind::Number),
        ("user_id", Kind::Number),
        ("email", Kind::Text),
        ("exercise_id", Kind::Text),
        // awaiting_review, changes_requested or accepted.
        ("state", Kind::Text),
        ("points", Kind::Number),
        ("max_points", Kind::Number),
        ("reviewer_email", Kind::Text),
        ("created_at", Kind::Text),
        ("reviewed_at", Kind::Text),
    ],
};

/// Every code-review hand-in of the cohort's learners and its score.
pub const REVIEWS: Export = Export {
    sql: "SELECT v.id::text, v.user_id::text, u.email, v.exercise_id,
                 round(v.score::numeric, 3)::text, v.passed::text,
                 array_to_string(v.findings, ' '),
                 to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN review_submissions v ON v.user_id = m.user_id
           WHERE m.cohort_id = $1
           ORDER BY v.id",
    columns: &[
        ("id", Kind::Number),
        ("user_id", Kind::Number),
        ("email", Kind::Text),
        ("exercise_id", Kind::Text),
        ("score", Kind::Number),
        ("passed", Kind::Bool),
        // Per planted defect, in the exercise's order: found, half or missed.
        ("findings", Kind::Text),
        ("created_at", Kind::Text),
    ],
};

/// One row per learner × exercise they opened or submitted (the matrix, long form).
pub const PROGRESS: Export = Export {
    sql: "SELECT u.id::text, u.display_name, u.email, p.exercise_id,
                 CASE WHEN p.passed_at IS NOT NULL THEN 'passed'
                      WHEN p.review_state = 'awaiting_review' THEN 'awaiting-review'
                      WHEN p.review_state = 'changes_requested' THEN 'changes-requested'
                      WHEN p.attempts > 0 THEN 'attempted' ELSE 'not-started' END,
                 p.attempts::text, p.best_passed::text, p.best_total::text,
                 to_char(p.first_opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 to_char(p.passed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 to_char(p.last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
            FROM cohort_members m
            JOIN users u ON u.id = m.user_id
            JOIN exercise_progress p ON p.user_id = m.user_id
           WHERE m.cohort_id = $1
           ORDER BY u.id, p.exercise_id",
    columns: &[
        ("user_id", Kind::Number),
        ("display_name", Kind::Text),
        ("email", Kind::Text),
        ("exercise_id", Kind::Text),
        ("state", Kind::Text),
        ("attempts", Kind::Number),
        ("best_passed", Kind::Number),
        ("best_total", Kind::Number),
        ("first_opened_at", Kind::Text),
        ("passed_at", Kind::Text),
        ("last_activity_at", Kind::Text),
    ],
};

/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 32 * 1024;

impl Export {
    /// Streams the export of `cohort_id` in `format`. The query runs in its
    /// own task; errors end the stream early (and are logged), since the
    /// status line has already gone out.
    pub fn stream(
        self,
        db: PgPool,
        cohort_id: i64,
        format: Format,
    ) -> impl Stream<Item = Result<String, Infallible>> + Send + 'static {
        let (sender, receiver) = mpsc::channel::<String>(4);
        tokio::spawn(async move {
            let mut chunk = String::with_capacity(CHUNK + 1024);
            match format {
                Format::Csv => {
                    let header: Vec<&str> = self.columns.iter().map(|c| c.0).collect();
                    chunk.push_str(&header.join(","));
                    chunk.push_str("\r\n");
                }
                Format::Json => chunk.push('['),
            }
            // Not a checked macro: which of the SQL texts above runs is
            // chosen at run time, and every column is read the same generic
            // way; `tests/instructor_dashboard.rs` runs each export.
            let mut rows = sqlx::query(self.sql).bind(cohort_id).fetch(&db);
            let mut first = true;
            while let Some(row) = rows.next().await {
                let row = match row {
                    Ok(row) => row,
                    Err(error) => {
                        tracing::error!(%error, "export query failed");
                        return;
                    }
                };
                match format {
                    Format::Csv => self.csv_row(&row, &mut chunk),
                    Format::Json => {
                        if !first {
                            chunk.push(',');
                        }
                        self.json_row(&row, &mut chunk);
                    }
                }
                first = false;
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, String::with_capacity(CHUNK + 1024));
                    if sender.send(full).await.is_err() {
                        return; // the client went away
                    }
                }
            }
            if format == Format::Json {
                chunk.push_str("]\n");
            }
            let _ = sender.send(chunk).await;
        });
        // Fused: the compression layer polls once more after the end, and a
        // bare `unfold` panics when polled past its end.
        futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (Ok(chunk), receiver))
        })
        .fuse()
    }

    fn csv_row(&self, row: &sqlx::postgres::PgRow, out: &mut String) {
        for i in 0..self.columns.len() {
            if i > 0 {
                out.push(',');
            }
            if let Ok(Some(value)) = row.try_get::<Option<String>, _>(i) {
                csv_field(&value, out);
            }
        }
        out.push_str("\r\n");
    }

    fn json_row(&self, row: &sqlx::postgres::PgRow, out: &mut String) {
        out.push('{');
        for (i, (name, kind)) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":");
            match (row.try_get::<Option<String>, _>(i), kind) {
                (Ok(Some(value)), Kind::Number) if value.parse::<f64>().is_ok() => {
                    out.push_str(&value)
                }
                (Ok(Some(value)), Kind::Bool) => {
                    out.push_str(if value == "true" { "true" } else { "false" })
                }
                (Ok(Some(value)), _) => out.push_str(&serde_json::Value::String(value).to_string()),
                _ => out.push_str("null"),
            }
        }
        out.push('}');
    }
}

/// Appends `value` as a CSV field, quoted when it must be. A leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run a
/// learner's display name as a formula.
pub fn csv_field(value: &str, out: &mut String) {
    let guarded = value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err();
    if guarded || value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if guarded {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}
