//! What handlers ask for: [`CurrentUser`], [`MaybeUser`], and the
//! [`require_signed_in`] route layer.
//!
//! ```text
//! async fn handler(user: CurrentUser) -> … { /* user.id, user.role … */ }
//! async fn public(MaybeUser(user): MaybeUser) -> … { /* Option<User> */ }
//! ```
//!
//! `CurrentUser` rejects with [`AppError::Unauthorized`]: 401 JSON for the
//! API, a redirect to `/login?next=…` for pages (done by the identify layer).

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::users::User;
use crate::web::error::AppError;
use crate::web::visitor::Visitor;

/// The signed-in account (session cookie or Bearer token), as an extractor:
/// a handler taking it cannot run for signed-out visitors.
pub type CurrentUser = User;

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Visitor>()
            .and_then(|visitor| visitor.user.clone())
            .ok_or(AppError::Unauthorized)
    }
}

/// The signed-in account if there is one; never rejects.
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<User>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(MaybeUser(
            parts
                .extensions
                .get::<Visitor>()
                .and_then(|visitor| visitor.user.clone()),
        ))
    }
}

impl User {
    /// `Ok` for instructors and admins; 403 for learners.
    pub fn require_teacher(&self) -> Result<(), AppError> {
        if self.role.can_teach() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only instructors can do this; ask an administrator for the instructor role".into(),
            ))
        }
    }
}

/// A route layer for routes whose handlers do not take [`CurrentUser`] but
/// must not be seen signed out (e.g. exercise pages):
/// `get(handler).route_layer(middleware::from_fn(require_signed_in))`.
pub async fn require_signed_in(_user: CurrentUser, request: Request, next: Next) -> Response {
    next.run(request).await
}
