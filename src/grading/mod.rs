//! The grader: everything that turns submitted code into a verdict.
//!
//! [`sandbox`] isolates every compile and run, [`deps`] prepares the crates
//! learner code links against, [`judge`] decides which steps to run and reads
//! their results into a [`verdict::Verdict`]. [`queue`] keeps jobs in
//! PostgreSQL and [`pool`] runs the workers that take them; [`job`] is the
//! vocabulary they share (mode, status, phase, events).

pub mod code;
pub mod deps;
pub mod job;
pub mod judge;
pub mod pool;
pub mod queue;
pub mod sandbox;
pub mod verdict;
