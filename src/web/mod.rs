//! HTTP handlers, one module per area, plus the pieces every area shares.

pub mod account;
pub mod assets;
pub mod auth;
pub mod cohorts;
pub mod drafts;
pub mod error;
pub mod events;
pub mod health;
pub mod instructor;
pub mod learn;
pub mod pages;
pub mod progress;
pub mod submissions;
pub mod templates;
