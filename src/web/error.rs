//! The one place where errors become responses.
//!
//! Handlers return [`AppError`]; it becomes a JSON body (`{"error": "..."}`)
//! with the right status. For pages (anything outside `/api/`) the
//! [`render_error_pages`] middleware swaps that body for a friendly HTML page.
//! Internal causes are logged with the request's span and never sent out.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::web::AppState;
use crate::web::templates::{ErrorPage, Layout, render};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: sign in first.
    #[error("please sign in")]
    Unauthorized,
    /// 403: not allowed (e.g. a missing CSRF token).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing (or not yours to see).
    #[error("not found")]
    NotFound,
    /// 409: a newer version exists.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: well-formed but invalid input.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: slow down.
    #[error("too many requests: try again in {retry_after_secs} s")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 429: the grader will not take another job now (fair use).
    #[error("{message}")]
    TooManyJobs {
        /// What to do about it.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 503: a dependency (the database) is down.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// 500: a bug or an outage; details go to the log only.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::error!(%error, "database unavailable");
                AppError::Unavailable
            }
            // Class 57P: the server is shutting down or restarting (operator
            // intervention), which a retry in a moment gets past.
            sqlx::Error::Database(ref e) if e.code().is_some_and(|c| c.starts_with("57P")) => {
                tracing::error!(%error, "database restarting");
                AppError::Unavailable
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl AppError {
    /// The status code this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } | AppError::TooManyJobs { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Marks a response as an error so pages can be rendered in its place.
#[derive(Clone, Debug)]
pub struct ErrorMessage(pub String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let status = self.status();
        let message = self.to_string();
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if let AppError::TooManyRequests { retry_after_secs }
        | AppError::TooManyJobs {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response.extensions_mut().insert(ErrorMessage(message));
        response
    }
}

/// Replaces error responses to page requests with an HTML page; API clients
/// (`/api/…`, or asking for JSON) keep the JSON body.
pub async fn render_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Probes answer in plain text for machines, never as a page.
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let wants_json = request.uri().path().starts_with("/api/")
        || request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("application/json"));
    let response = next.run(request).await;
    let status = response.status();
    // A handler that answered with its own page (a form re-rendered with its
    // errors, status 422) keeps it.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if wants_json {
        return json_error(response).await;
    }
    let message = match response.extensions().get::<ErrorMessage>() {
        Some(ErrorMessage(message)) => message.clone(),
        None if status == StatusCode::NOT_FOUND => "not found".to_string(),
        // Responses from middleware (body limits, timeouts) carry plain text already.
        None => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let page = ErrorPage {
        layout: Layout::new(&state, status.canonical_reason().unwrap_or("Error")),
        status: status.as_u16(),
        message,
    };
    let mut html = match render(&page) {
        Ok(html) => Html(html).into_response(),
        Err(_) => return response,
    };
    *html.status_mut() = status;
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            html.headers_mut().insert(name, value.clone());
        }
    }
    html
}

/// Longest body of a non-JSON error response (an extractor's rejection, a
/// middleware's refusal) that is carried into the JSON error; they are a
/// sentence long, and a longer one is cut rather than buffered whole.
const MAX_REJECTION_BYTES: usize = 1024;

/// Gives an error response that did not come from [`AppError`] (axum's
/// extractor rejections, 405s, body limits, timeouts) the API's JSON shape
/// `{"error": "..."}`, keeping its status and headers. The rejection's text
/// describes the client's own input (`Invalid URL: Cannot parse "abc"…`),
/// so it is passed on; a server error's text is not.
async fn json_error(response: Response) -> Response {
    // A handler's own JSON (an AppError, or a 409 carrying the newer
    // draft) is already in the API's shape, with more than a message.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || response.extensions().get::<ErrorMessage>().is_some() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let status = parts.status;
    let text = match axum::body::to_bytes(body, MAX_REJECTION_BYTES).await {
        Ok(bytes) if status.is_client_error() => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = axum::body::Body::from(json!({ "error": message }).to_string());
    let mut json = Response::from_parts(parts, body);
    json.extensions_mut().insert(ErrorMessage(message));
    json
}

/// The fallback for unknown routes.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
