//! HTTP handlers, one module per area, plus the pieces every area shares:
//! the state ([`state`]), who is asking ([`visitor`], [`extract`]), the CSRF
//! guard ([`csrf`]), errors, templates and static files.
//!
//! Everything HTTP-shaped lives here; the domain modules it calls
//! ([`crate::auth`], [`crate::progress`], [`crate::instructor`],
//! [`crate::grading`]) know nothing of axum.

pub mod account;
pub mod assets;
pub mod auth;
pub mod certificates;
pub mod checks;
pub mod cohorts;
pub mod cpu;
pub mod csrf;
pub mod drafts;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod instructor;
pub mod learn;
pub mod oidc;
pub mod openapi;
pub mod pages;
pub mod password_reset;
pub mod progress;
pub mod review;
pub mod state;
pub mod submissions;
pub mod templates;
pub mod visitor;
pub mod workspace;
pub mod written;

pub use extract::{CurrentUser, MaybeUser, require_signed_in};
pub use state::AppState;
pub use visitor::Visitor;
