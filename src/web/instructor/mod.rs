//! The instructor's dashboard over HTTP: pages under `/instructor/…`, the
//! same data as JSON under `/api/instructor/…`, streamed CSV exports, and
//! submission comments.
//!
//! Every route asks the same two questions first, through [`taught_cohort`]
//! and [`cohort_learner`]: does the viewer teach this cohort (admins: any),
//! and is this learner in it? Anything else answers 404, exactly like a
//! missing id, so ids cannot be probed.

mod api;
mod pages;
pub mod reviews;

use axum::Router;
use axum::routing::{get, post};
use time::OffsetDateTime;

use crate::auth::cohorts::{self, Cohort, Person};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/instructor", get(pages::index))
        .route("/instructor/cohorts/{cohort}", get(pages::overview))
        .route("/instructor/cohorts/{cohort}/stuck", get(pages::stuck))
        .route("/instructor/cohorts/{cohort}/charts", get(pages::charts))
        .route(
            "/instructor/cohorts/{cohort}/exercises/{exercise}",
            get(pages::exercise),
        )
        .route(
            "/instructor/cohorts/{cohort}/learners/{learner}",
            get(pages::learner),
        )
        .route(
            "/instructor/cohorts/{cohort}/export/{file}",
            get(api::export_csv),
        )
        .route("/instructor/submissions/{id}", get(pages::submission))
        .route(
            "/instructor/submissions/{id}/comments",
            post(pages::comment),
        )
        .route("/api/instructor/cohorts", get(api::cohorts))
        .route("/api/instructor/cohorts/{cohort}/matrix", get(api::matrix))
        .route("/api/instructor/cohorts/{cohort}/stuck", get(api::stuck))
        .route(
            "/api/instructor/cohorts/{cohort}/learners/{learner}/progress",
            get(api::learner_progress),
        )
        .route(
            "/api/instructor/cohorts/{cohort}/{export}",
            get(api::export_json),
        )
        .route("/api/submissions/{id}/comments", get(api::comments))
        .route("/instructor/reviews", get(reviews::queue))
        .route("/api/instructor/reviews", get(reviews::queue_api))
        .route("/instructor/reviews/{id}", get(reviews::scoring_page))
        .route("/instructor/reviews/{id}/comments", post(reviews::comment))
        .route("/instructor/reviews/{id}/decision", post(reviews::decide))
}

/// The cohort `id` if the viewer teaches it: 403 for learners, 404 for a
/// cohort they do not teach (or that does not exist).
pub async fn taught_cohort(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Cohort, AppError> {
    user.require_teacher()?;
    cohorts::find_taught(&state.db, user, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A learner of `cohort`; 404 for anyone else.
pub async fn cohort_learner(
    state: &AppState,
    cohort: &Cohort,
    learner_id: i64,
) -> Result<Person, AppError> {
    cohorts::member(&state.db, cohort.id, learner_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// "2026-03-01 14:05" (UTC), the dashboard's one way of showing a time.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// "3 h ago" style age of `t`.
pub fn ago(t: Option<OffsetDateTime>) -> String {
    let Some(t) = t else {
        return "never".into();
    };
    let minutes = (OffsetDateTime::now_utc() - t).whole_minutes();
    match minutes {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / 1440),
    }
}
