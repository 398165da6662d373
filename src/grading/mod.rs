//! The grader: everything that turns submitted code into a verdict.
//!
//! [`sandbox`] isolates every compile and run, [`deps`] prepares the crates
//! learner code links against, [`judge`] decides which steps to run and reads
//! their results into a [`verdict::Verdict`].

pub mod code;
pub mod deps;
pub mod judge;
pub mod pool;
pub mod queue;
pub mod sandbox;
pub mod verdict;
