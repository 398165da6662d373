//! What load balancers and monitoring poll: `GET /healthz` (the process is
//! alive and serving), `GET /readyz` (it can do its work: the database
//! answers, and where it grades, the grader is ready and its workers run)
//! and `GET /metrics` (Prometheus text, see [`crate::metrics`]).
//!
//! They are served by the web router, and by [`router`] alone on
//! `--metrics-listen` (so a `lockstep worker`, which has no web server, can
//! be watched too, and a web node can keep them off its public address).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::PgPool;

use crate::metrics::Metrics;
use crate::web::AppState;

/// How long the database may take to answer before the node reports itself
/// unready: well under the 1 s a load balancer's probe usually allows.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// What the probes read.
#[derive(Clone)]
pub struct Probe {
    /// The database pool.
    pub db: PgPool,
    /// The process's metrics and readiness.
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Probe {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            metrics: state.metrics.clone(),
        }
    }
}

/// The probes and `/metrics`, for a listener of their own.
pub fn router(probe: Probe) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probe)
}

/// Liveness: answering at all is the answer. It touches nothing a restart
/// would not fix by itself, so an outage of the database does not make an
/// orchestrator restart every node.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: 200 when this process can do its work, else 503 with the
/// reasons, one per line. Load balancers poll it; it stays cheap and never
/// hangs.
pub async fn readyz(State(probe): State<Probe>) -> (StatusCode, String) {
    let mut problems = Vec::new();
    let query = sqlx::query_scalar!("SELECT 1 AS one").fetch_one(&probe.db);
    if !matches!(tokio::time::timeout(PROBE_TIMEOUT, query).await, Ok(Ok(_))) {
        problems.push("database unavailable".to_string());
    }
    problems.extend(probe.metrics.grading_unready());
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            problems.iter().map(|p| format!("{p}\n")).collect(),
        )
    }
}

/// The metrics in Prometheus' text exposition format.
pub async fn metrics(State(probe): State<Probe>) -> Response {
    let body = probe.metrics.render(&probe.db, PROBE_TIMEOUT).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
