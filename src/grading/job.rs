//! The vocabulary of a grading job, in one place: what is asked ([`Mode`]),
//! where the job is ([`JobStatus`], and while it runs, its [`Phase`]), how a
//! finished one came out ([`Outcome`]) and what web nodes hear about it
//! ([`JobEvent`]).
//!
//! Each enum is stored in a `TEXT` column of `submissions` that a `CHECK`
//! constraint limits to the same words (`migrations/0001_schema.sql`,
//! `0004_job_phase.sql`), and crosses the wire as the same lowercase words, so
//! the database, the JSON API, `NOTIFY` payloads and the browser all spell a
//! state one way. Rust code compares these enums, never strings; the browser
//! has the mirror of this module in `static/js/job.js`. SQL in
//! [`super::queue`] spells a few states out where the planner must see a
//! constant (the partial index `submissions_pending`).
//!
//! The enums derive `sqlx::Type` as `text`, so the checked query macros read
//! them with a column override (`status AS "status: JobStatus"`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::verdict;

/// Defines `as_str`, [`fmt::Display`] and [`FromStr`] from one word list, so
/// the spelling in Rust cannot drift from the serde and sqlx spelling (a unit
/// test below checks the three agree).
macro_rules! words {
    ($type:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $type {
            /// Every value.
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The word stored in the database and sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $type {
            type Err = UnknownWord;

            fn from_str(text: &str) -> Result<Self, UnknownWord> {
                match text {
                    $($word => Ok($type::$variant),)+
                    _ => Err(UnknownWord(text.to_string())),
                }
            }
        }
    };
}

/// A word that names no value of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown word {0:?}")]
pub struct UnknownWord(pub String);

/// What is asked of the grader (`submissions.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Mode {
    /// Grade an exercise against every test, hidden ones included.
    Submit,
    /// Grade an exercise against its visible tests only (the editor's "Run visible tests").
    Visible,
    /// Run a program (a lesson's example or a scratch pad); no exercise.
    Run,
}

words!(Mode { Submit => "submit", Visible => "visible", Run => "run" });

impl Mode {
    /// Whether this job grades an exercise (and so has one).
    pub fn is_graded(self) -> bool {
        matches!(self, Mode::Submit | Mode::Visible)
    }
}

/// Where a job is in its life (`submissions.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Ended, with a verdict.
    Done,
}

words!(JobStatus { Queued => "queued", Running => "running", Done => "done" });

/// What a running job is doing (`submissions.phase`, NULL unless running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Phase {
    /// Compiling the learner's code or the tests.
    Compiling,
    /// Running the program or the tests.
    Running,
}

words!(Phase { Compiling => "compiling", Running => "running" });

/// How a finished job came out (`submissions.verdict_status`): the
/// [`verdict::Status`] of its verdict, kept in a column so lists and
/// dashboards need not read the verdict's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Outcome {
    /// Every test passed (a program: exit 0).
    Pass,
    /// Some test failed (a program: non-zero exit or panic).
    Fail,
    /// Could not be judged.
    Error,
}

words!(Outcome { Pass => "pass", Fail => "fail", Error => "error" });

impl From<verdict::Status> for Outcome {
    fn from(status: verdict::Status) -> Self {
        match status {
            verdict::Status::Pass => Outcome::Pass,
            verdict::Status::Fail => Outcome::Fail,
            verdict::Status::Error => Outcome::Error,
        }
    }
}

/// Where a piece of written work is in its review (`written_submissions.state`,
/// and `exercise_progress.review_state` for the learner's latest). Written
/// work never enters the sandbox queue: it waits for an instructor, who
/// accepts it or asks for changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ReviewState {
    /// Handed in; in the review queue of the learner's instructors.
    AwaitingReview,
    /// Scored; the learner is asked to revise and hand in again.
    ChangesRequested,
    /// Scored and accepted: the exercise is passed.
    Accepted,
}

words!(ReviewState {
    AwaitingReview => "awaiting_review",
    ChangesRequested => "changes_requested",
    Accepted => "accepted",
});

impl ReviewState {
    /// How the state reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            ReviewState::AwaitingReview => "awaiting review",
            ReviewState::ChangesRequested => "changes requested",
            ReviewState::Accepted => "accepted",
        }
    }
}

/// A job's state as pages follow it: the status, with the phase only where
/// there is one. Serialised with the status as its tag, so a running job
/// reads `{"status": "running", "phase": "compiling"}` and a queued one
/// `{"status": "queued"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker is on it.
    Running {
        /// What it is doing.
        phase: Phase,
    },
    /// Ended, with a verdict.
    Done,
}

impl JobState {
    /// The status column's value.
    pub fn status(self) -> JobStatus {
        match self {
            JobState::Queued => JobStatus::Queued,
            JobState::Running { .. } => JobStatus::Running,
            JobState::Done => JobStatus::Done,
        }
    }

    /// The phase column's value.
    pub fn phase(self) -> Option<Phase> {
        match self {
            JobState::Running { phase } => Some(phase),
            JobState::Queued | JobState::Done => None,
        }
    }
}

/// A progress announcement, as sent on [`super::queue::EVENTS_CHANNEL`] and
/// on to browsers as server-sent events: which job, whose, and its new
/// [`JobState`] (flattened: `status` and `phase` sit beside `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    /// The submission.
    pub id: i64,
    /// Its author (None for anonymous program runs).
    pub user_id: Option<i64>,
    /// The exercise, for graded jobs.
    pub exercise_id: Option<String>,
    /// Where the job is now.
    #[serde(flatten)]
    pub state: JobState,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of `as_str`, serde and `FromStr` agree for every value.
    fn agree<T>(all: &[T])
    where
        T: Copy + fmt::Debug + PartialEq + Serialize + FromStr + fmt::Display,
        <T as FromStr>::Err: fmt::Debug,
    {
        for value in all {
            let word = value.to_string();
            assert_eq!(serde_json::to_value(value).unwrap(), word.as_str());
            assert_eq!(word.parse::<T>().unwrap(), *value);
        }
    }

    #[test]
    fn every_value_is_spelled_one_way() {
        agree(Mode::ALL);
        agree(JobStatus::ALL);
        agree(Phase::ALL);
        agree(Outcome::ALL);
        agree(ReviewState::ALL);
        assert!("compiled".parse::<Phase>().is_err());
    }

    #[test]
    fn an_event_carries_its_state_as_a_tag() {
        let event = JobEvent {
            id: 7,
            user_id: Some(3),
            exercise_id: None,
            state: JobState::Running {
                phase: Phase::Compiling,
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": 7, "user_id": 3, "exercise_id": null,
                "status": "running", "phase": "compiling"
            })
        );
        assert_eq!(serde_json::from_value::<JobEvent>(json).unwrap(), event);
        let done =
            serde_json::json!({"id": 7, "user_id": null, "exercise_id": null, "status": "done"});
        assert_eq!(
            serde_json::from_value::<JobEvent>(done).unwrap().state,
            JobState::Done
        );
    }
}
