//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::web::AppState;

/// Load balancers poll this; it must stay cheap and never hang.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let probe = sqlx::query_scalar!("SELECT 1 AS one").fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
