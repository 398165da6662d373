//! The router and its middleware stack, assembled from the handlers in
//! [`crate::web`] (which also defines the [`AppState`] they share).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::{HttpLabels, Metrics};
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
pub fn router(state: AppState) -> Router {
    let static_files = Router::new()
        .route("/static/{*path}", get(assets::serve))
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
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics_here))
        .route("/api/exercises/{exercise}/submissions", post(submissions::submit))
        .route("/api/run", post(submissions::run))
        .route("/api/submissions/{id}", get(submissions::show))
        .route("/api/events", get(crate::web::events::stream))
        .merge(crate::web::auth::routes())
        .merge(crate::web::password_reset::routes())
        .merge(crate::web::oidc::routes())
        .merge(crate::web::account::routes())
        .merge(crate::web::cohorts::routes())
        .merge(crate::web::learn::routes())
        .merge(crate::web::checks::routes())
        .merge(crate::web::drafts::routes())
        .merge(crate::web::progress::routes())
        .merge(crate::web::workspace::routes())
        .route("/api/openapi.json", get(crate::web::openapi::document))
        .merge(crate::web::instructor::routes())
        .merge(crate::web::written::routes())
        .merge(crate::web::review::routes())
        .merge(crate::web::certificates::routes())
        .fallback(error::not_found)
        .merge(static_files)
        // Inside the error pages, so a refused form gets a friendly 403 page.
        .layer(middleware::from_fn(crate::web::csrf::guard))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_error_pages))
        // Outermost of ours: everything inside knows who is asking.
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::visitor::identify))
        // Outside that, so every answer is counted as the client got it.
        .layer(middleware::from_fn_with_state(state.metrics.clone(), record_request))
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

/// `/metrics` on the web address, unless `--metrics-listen` moved it to an
/// address of its own.
async fn metrics_here(State(probe): State<health::Probe>) -> Result<Response, error::AppError> {
    if probe.metrics.served_elsewhere() {
        return Err(error::AppError::NotFound);
    }
    Ok(health::metrics(State(probe)).await.into_response())
}

/// Counts every request by the route it matched (the pattern, so ids do not
/// make a series each), its method and its status, with its latency.
async fn record_request(
    State(metrics): State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    // Clients choose the method: anything unusual is one series, not one each.
    let method = match *request.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::OPTIONS => request.method().as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = HttpLabels {
        route,
        method,
        status: response.status().as_u16().to_string(),
    };
    metrics.observe_request(labels, started.elapsed());
    response
}
