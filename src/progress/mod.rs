//! The learner's side of the programme: drafts, what they have read and
//! opened, the hints they took, their submission history and how far along
//! each module they are.
//!
//! This is the one place that talks SQL for `drafts`, `lesson_visits`,
//! `hint_reveals`, `exercise_versions`, `concept_check_attempts`, `submission_comments` and the learner's reads of
//! `exercise_progress` and `submissions` (the grader owns their writes, see
//! [`crate::grading::queue`]). The web handlers in [`crate::web::learn`],
//! [`crate::web::drafts`] and [`crate::web::progress`] stay thin on top.

pub mod certificate;
pub mod checks;
pub mod comments;
pub mod diff;
pub mod drafts;
pub mod history;
pub mod record;
pub mod summary;
