//! CSRF protection for every state-changing request: the [`guard`] layer.
//!
//! A POST, PUT, PATCH or DELETE passes only if it carries the visitor's CSRF
//! token — in the `X-CSRF-Token` header (scripts, JSON clients) or in a
//! `csrf_token` field of a URL-encoded form — or if it was authenticated by a
//! Bearer API token (which a browser never attaches on its own) whose scope
//! allows changes (a read-only token gets 403 here). Anything
//! else gets 403 before a handler runs, so nothing changes and no handler can
//! forget the check. The token is tied to the session (signed in) or to the
//! CSRF cookie (signed out: log-in and sign-up forms), see
//! [`crate::web::visitor`].

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::secret;
use crate::web::error::AppError;
use crate::web::state::MAX_BODY_BYTES;
use crate::web::visitor::Visitor;

/// The form field that carries the token.
pub const FORM_FIELD: &str = "csrf_token";
/// The header that carries the token.
pub const HEADER: &str = "x-csrf-token";

/// The middleware; see the module documentation. Must run inside
/// [`crate::web::visitor::identify`].
pub async fn guard(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next.run(request).await;
    }
    let Some(visitor) = request.extensions().get::<Visitor>().cloned() else {
        return refuse();
    };
    if visitor.read_only() {
        return AppError::Forbidden(
            "this API token is read-only: make one that may submit code on /account".into(),
        )
        .into_response();
    }
    if visitor.via_api_token() {
        return next.run(request).await;
    }
    if let Some(sent) = request.headers().get(HEADER) {
        let sent = sent.to_str().unwrap_or_default();
        return if secret::same_secret(sent, &visitor.csrf_token) {
            next.run(request).await
        } else {
            refuse()
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refuse();
    }
    // Read the form to find the field, then hand the same bytes on to the handler.
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return AppError::PayloadTooLarge(format!(
                "the request body is larger than {} KiB",
                MAX_BODY_BYTES / 1024
            ))
            .into_response();
        }
    };
    let valid = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FORM_FIELD)
        .is_some_and(|(_, sent)| secret::same_secret(&sent, &visitor.csrf_token));
    if !valid {
        return refuse();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn refuse() -> Response {
    AppError::Forbidden(
        "this form has expired or did not come from Lockstep: reload the page and try again".into(),
    )
    .into_response()
}
