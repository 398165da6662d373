//! Code reviews, the learner's side: the exercise page of a `review`
//! exercise (the pull request's context and its diff, every new-side line a
//! button that adds a mark with a category and a comment), handing a review
//! in, and reading a result back.
//!
//! The answer key — which lines hold a defect, and why — reaches the page
//! and the API only with a result: the learner's own, after handing in. A
//! result is readable by whoever [`can_view_learner`] allows (the author,
//! the instructors of their cohorts, admins); anyone else gets 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::cohorts::can_view_learner;
use crate::curriculum::review::{DefectCategory, Mark, Review};
use crate::curriculum::{Exercise, Item, Module};
use crate::grading::judge::review::{
    MAX_COMMENT_CHARS, MAX_MARKS, MarkInput, Outcome, check_marks, outcome,
};
use crate::grading::review::{self as reviews, ReviewSubmission};
use crate::progress::summary::LearnerProgress;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::instructor::when;
use crate::web::learn::{SidebarItem, sidebar};
use crate::web::submissions::ApiJson;
use crate::web::templates::{Layout, render};

/// The learner's routes for reviews.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/exercises/{exercise}/review",
            post(hand_in).get(latest),
        )
        .route("/api/reviews/{id}", get(show))
}

/// The review exercise `id` with its pull request and key, or 404.
fn review_exercise<'a>(
    state: &'a AppState,
    id: &str,
) -> Result<(&'a Exercise, &'a Review), AppError> {
    let exercise = state.programme.exercise(id).ok_or(AppError::NotFound)?;
    let review = exercise.review().ok_or(AppError::NotFound)?;
    Ok((exercise, review))
}

/// A handed-in review with its key, as the learner reads it.
pub struct ReviewResult {
    /// The stored review.
    pub submission: ReviewSubmission,
    /// Its marks scored against the exercise's key, defect by defect.
    pub outcome: Outcome,
    /// Whether the exercise changed since (the key shown is the current one).
    pub outdated: bool,
    /// "2026-03-01 14:05"
    pub handed_in: String,
}

impl ReviewResult {
    fn new(submission: ReviewSubmission, exercise: &Exercise, review: &Review) -> Self {
        let mut outcome = outcome(review, &submission.marks);
        // The score is the one given when handed in, against that version's key.
        outcome.score = submission.score;
        outcome.passed = submission.passed;
        Self {
            outdated: submission.exercise_hash != exercise.content_hash,
            handed_in: when(submission.created_at),
            outcome,
            submission,
        }
    }

    /// The score as a percentage, for the page.
    pub fn percent(&self) -> String {
        format!("{:.0}%", self.outcome.score * 100.0)
    }

    fn json(&self) -> Value {
        let s = &self.submission;
        json!({
            "id": s.id,
            "exercise_id": s.exercise_id,
            "score": self.outcome.score,
            "passed": self.outcome.passed,
            "found": self.outcome.found,
            "half": self.outcome.half,
            "missed": self.outcome.missed,
            "defects": self.outcome.defects,
            "false_alarms": self.outcome.false_alarms,
            "marks": s.marks,
            "outdated": self.outdated,
            "created_at": s.created_at.format(&time::format_description::well_known::Rfc3339).ok(),
        })
    }
}

/// The exercise page of a `review` exercise.
#[derive(Template)]
#[template(path = "review/exercise.html")]
pub struct ReviewPage<'a> {
    layout: Layout,
    module: &'a Module,
    exercise: &'a Exercise,
    review: &'a Review,
    sidebar: Vec<SidebarItem>,
    done: usize,
    previous: Option<&'a Item>,
    next: Option<&'a Item>,
    /// The learner's result, once handed in: only then is the key on the page.
    result: Option<ReviewResult>,
    categories: &'static [DefectCategory],
    script: String,
    max_marks: usize,
    max_comment: usize,
}

impl ReviewPage<'_> {
    /// The learner's mark on `line` of `file`, once handed in.
    fn mark_on(&self, file: &str, line: &Option<u32>) -> Option<&Mark> {
        let line = (*line)?;
        self.result
            .as_ref()?
            .submission
            .marks
            .iter()
            .find(|mark| mark.file == file && mark.line == line)
    }
}

/// `GET /exercises/{exercise}` for a `review` exercise (called by
/// [`crate::web::learn::exercise`]).
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    exercise: &Exercise,
) -> Result<Html<String>, AppError> {
    let review = exercise.review().ok_or(AppError::NotFound)?;
    let (module, previous, next) = crate::web::pages::exercise_place(state, exercise)?;
    crate::progress::record::open_exercise(&state.db, user.id, &exercise.id).await?;
    let (progress, latest) = tokio::try_join!(
        LearnerProgress::load(&state.db, user.id),
        reviews::latest(&state.db, user.id, &exercise.id),
    )?;
    let url = format!("/exercises/{}", exercise.id);
    let page = ReviewPage {
        layout: Layout::new(state, &exercise.title),
        sidebar: sidebar(module, Some(&progress), &url),
        done: progress.module(module).done,
        module,
        exercise,
        review,
        previous,
        next,
        result: latest.map(|submission| ReviewResult::new(submission, exercise, review)),
        categories: DefectCategory::ALL,
        script: state.assets.url("review.js"),
        max_marks: MAX_MARKS,
        max_comment: MAX_COMMENT_CHARS,
    };
    Ok(Html(render(&page)?))
}

/// `{"marks": [{"file", "line", "category", "comment"}]}`
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The learner's marks: at most 50, one per line.
    marks: Vec<MarkInput>,
}

/// What a result holds, for the OpenAPI description.
const RESULT: &str = "`{id, exercise_id, score (0–1), passed (score ≥ 0.8), found, half, missed, defects: [{file, lines, category, category_label, finding: found|half|missed, explanation_html}], false_alarms: [mark], marks: [mark], outdated, created_at}`";

/// `POST /api/exercises/{exercise}/review` → 201 with the score and the key.
#[utoipa::path(
    post,
    path = "/api/exercises/{exercise}/review",
    tag = "review",
    params(("exercise" = String, Path, description = "A `review` exercise's id")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = RESULT),
        (status = 401, description = "No valid session or API token"),
        (status = 403, description = "The API token is read-only"),
        (status = 404, description = "No such review exercise"),
        (status = 409, description = "This version of the exercise was already reviewed (its key has been shown)"),
        (status = 422, description = "A mark is invalid: none or more than 50, a file or line the diff does not show on its new side, a blank line, a line marked twice, an unknown category, a comment over 2000 characters; the message says which mark"),
    ),
    security(("api_token" = ["submit"]))
)]
pub async fn hand_in(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let (exercise, review) = review_exercise(&state, &exercise_id)?;
    let marks = check_marks(review, body.marks).map_err(AppError::Unprocessable)?;
    let graded = review.score(&marks);
    let id = reviews::hand_in(&state.db, user.id, exercise, &marks, &graded)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "you have already handed in a review of this pull request; its key is on the exercise page".into(),
            )
        })?;
    let submission = reviews::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let result = ReviewResult::new(submission, exercise, review);
    Ok((StatusCode::CREATED, Json(result.json())))
}

/// `GET /api/exercises/{exercise}/review` → the learner's own latest result
/// with the key (404 before they have handed one in).
#[utoipa::path(
    get,
    path = "/api/exercises/{exercise}/review",
    tag = "review",
    params(("exercise" = String, Path, description = "A `review` exercise's id")),
    responses(
        (status = 200, description = RESULT),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such review exercise, or no review of it handed in yet"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn latest(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let (exercise, review) = review_exercise(&state, &exercise_id)?;
    let submission = reviews::latest(&state.db, user.id, &exercise.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(ReviewResult::new(submission, exercise, review).json()))
}

/// `GET /api/reviews/{id}` → review `id` with the key, if `user` may see it.
#[utoipa::path(
    get,
    path = "/api/reviews/{id}",
    tag = "review",
    params(("id" = i64, Path, description = "The review's id")),
    responses(
        (status = 200, description = RESULT),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such review that you may read"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let submission = reviews::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can_view_learner(&user, submission.user_id, &state.db).await? {
        return Err(AppError::NotFound);
    }
    let (exercise, review) = review_exercise(&state, &submission.exercise_id)?;
    Ok(Json(ReviewResult::new(submission, exercise, review).json()))
}
