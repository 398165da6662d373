//! The instructor's dashboard: what a cohort's progress, struggles and
//! history look like, computed from `exercise_progress` (the maintained
//! per-learner×exercise table) and, for detail, from `submissions` (and
//! `concept_check_attempts` for concept checks).
//!
//! Handlers in [`crate::web::instructor`] check who may see what; the
//! functions here take an already-authorised cohort or learner.

pub mod charts;
pub mod checks;
pub mod exercise;
pub mod export;
pub mod learner;
pub mod overview;
pub mod stuck;
