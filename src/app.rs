//! The router and its middleware stack, assembled from the handlers in
//! [`crate::web`] (which also defines the [`AppState`] they share).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::middleware;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::web::assets;
use crate::web::{error, health, pages, submissions};

pub use crate::web::state::{AppState, MAX_BODY_BYTES, REQUEST_TIMEOUT};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Pages may load scripts, styles and images from this origin only; nothing
/// may frame them.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Builds the router with its middleware.
pub fn router(state: AppState, static_dir: &std::path::Path) -> Router {
    let static_files = Router::new()
        .nest_service("/static", ServeDir::new(static_dir))
        .layer(middleware::from_fn(assets::cache_headers));

    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ));

    Router::new()
        .route("/", get(pages::catalogue))
        .route("/modules/{module}", get(pages::module))
        .route("/healthz", get(health::healthz))
        .route("/api/exercises/{exercise}/submissions", post(submissions::submit))
        .route("/api/run", post(submissions::run))
        .route("/api/submissions/{id}", get(submissions::show))
        .route("/api/events", get(crate::web::events::stream))
        .merge(crate::web::auth::routes())
        .merge(crate::web::password_reset::routes())
        .merge(crate::web::account::routes())
        .merge(crate::web::cohorts::routes())
        .merge(crate::web::learn::routes())
        .merge(crate::web::drafts::routes())
        .merge(crate::web::progress::routes())
        .merge(crate::web::instructor::routes())
        .fallback(error::not_found)
        .merge(static_files)
        // Inside the error pages, so a refused form gets a friendly 403 page.
        .layer(middleware::from_fn(crate::web::csrf::guard))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_error_pages))
        // Outermost of ours: everything inside knows who is asking.
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::visitor::identify))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(security_headers)
                .layer(CompressionLayer::new())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .with_state(state)
}
