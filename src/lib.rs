//! Lockstep: a web learning platform for async Rust.
//!
//! The binary (`src/main.rs`) parses the command line and calls into these
//! modules: [`curriculum`] loads the programme, [`db`] owns the database, [`auth`] says who
//! may do what (and [`mail`] sends its password-reset links),
//! [`app`] assembles the web application from the handlers in [`web`],
//! [`application`] starts it (and the grading pool) and stops it on one
//! [`shutdown::Shutdown`], and [`server`] holds the `serve` and `worker`
//! commands. [`instructor`] computes the
//! instructor's dashboard; [`demo`] seeds a cohort to look at.

pub mod app;
pub mod application;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod curriculum;
pub mod db;
pub mod demo;
pub mod grading;
pub mod housekeeping;
pub mod instructor;
pub mod learn;
pub mod mail;
pub mod metrics;
pub mod progress;
pub mod server;
pub mod shutdown;
pub mod web;
