//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::web::AppState;

/// How long the database may take to answer before the node reports itself
/// unhealthy: well under the 1 s a load balancer's probe usually allows.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Load balancers poll this; it must stay cheap and never hang.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let probe = sqlx::query_scalar!("SELECT 1 AS one").fetch_one(&state.db);
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
