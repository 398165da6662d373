//! The review queue: written work waiting for the instructors of the
//! learner's cohorts, and the page where one of them scores it against the
//! exercise's rubric, comments on its lines and accepts it or asks for
//! changes.
//!
//! Learners get 403 (as on every instructor page); a submission from a
//! learner the instructor does not teach answers 404, like a missing id.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::cohorts::can_view_learner;
use crate::auth::users;
use crate::curriculum::Exercise;
use crate::curriculum::rubric::Rubric;
use crate::grading::judge::written::{Decision, score};
use crate::grading::written::{self, WrittenSubmission};
use crate::progress::comments::MAX_COMMENT_CHARS;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::instructor::{ago, when};
use crate::web::templates::{Layout, render};
use crate::web::written::Review;

/// One row of the queue.
pub struct QueueRow {
    id: i64,
    learner: String,
    exercise: String,
    handed_in: String,
    waiting: String,
}

/// `GET /instructor/reviews`.
#[derive(Template)]
#[template(path = "instructor/reviews.html")]
pub struct QueuePage {
    layout: Layout,
    rows: Vec<QueueRow>,
}

/// How many submissions wait for `user` (for the dashboard's link).
pub async fn waiting_count(state: &AppState, user: &CurrentUser) -> Result<usize, AppError> {
    Ok(written::queue(&state.db, user).await?.len())
}

/// `GET /instructor/reviews`: what waits for review, oldest first.
pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    user.require_teacher()?;
    let rows = written::queue(&state.db, &user)
        .await?
        .into_iter()
        .map(|waiting| QueueRow {
            id: waiting.id,
            learner: waiting.learner,
            exercise: state
                .programme
                .exercise(&waiting.exercise_id)
                .map_or(waiting.exercise_id, |e| e.title.clone()),
            handed_in: when(waiting.created_at),
            waiting: ago(Some(waiting.created_at)),
        })
        .collect();
    let page = QueuePage {
        layout: Layout::new(&state, "Review queue"),
        rows,
    };
    Ok(Html(render(&page)?))
}

/// `GET /api/instructor/reviews` → the queue as JSON, oldest first.
pub async fn queue_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    user.require_teacher()?;
    let rows: Vec<Value> = written::queue(&state.db, &user)
        .await?
        .into_iter()
        .map(|w| {
            json!({
                "id": w.id, "learner_id": w.user_id, "learner": w.learner,
                "exercise_id": w.exercise_id,
                "created_at": w.created_at.format(&time::format_description::well_known::Rfc3339).ok(),
            })
        })
        .collect();
    Ok(Json(json!(rows)))
}

/// Submission `id` and its exercise if `user` may review it: 403 for
/// learners, 404 when it is missing, the instructor does not teach its
/// author, or it is their own.
async fn reviewable<'a>(
    state: &'a AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<(WrittenSubmission, &'a Exercise), AppError> {
    user.require_teacher()?;
    let submission = written::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if submission.user_id == user.id
        || !can_view_learner(user, submission.user_id, &state.db).await?
    {
        return Err(AppError::NotFound);
    }
    let exercise = state
        .programme
        .exercise(&submission.exercise_id)
        .filter(|e| e.rubric().is_some())
        .ok_or(AppError::NotFound)?;
    Ok((submission, exercise))
}

/// `GET /instructor/reviews/{id}`.
#[derive(Template)]
#[template(path = "instructor/review.html")]
pub struct ScoringPage<'a> {
    layout: Layout,
    exercise: &'a Exercise,
    rubric: &'a Rubric,
    learner: String,
    review: Review,
    max_comment: usize,
}

/// `GET /instructor/reviews/{id}`: the note rendered with line numbers and
/// comments, the rubric to score, and the decision.
pub async fn scoring_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (submission, exercise) = reviewable(&state, &user, id).await?;
    let rubric = exercise.rubric().ok_or(AppError::NotFound)?;
    let learner = users::display_name(&state.db, submission.user_id).await?;
    let review = Review::load(&state, submission, Some(rubric)).await?;
    let page = ScoringPage {
        layout: Layout::new(&state, &format!("Review: {}", exercise.title)),
        exercise,
        rubric,
        learner,
        review,
        max_comment: MAX_COMMENT_CHARS,
    };
    Ok(Html(render(&page)?))
}

/// `line=…&body=…`: a comment on one line.
#[derive(Deserialize)]
pub struct LineCommentForm {
    line: i32,
    body: String,
}

/// `POST /instructor/reviews/{id}/comments` → back to the scoring page.
pub async fn comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LineCommentForm>,
) -> Result<Redirect, AppError> {
    let (submission, _) = reviewable(&state, &user, id).await?;
    let lines = submission.body.lines().count().max(1);
    let line = usize::try_from(form.line).unwrap_or(0);
    if !(1..=lines).contains(&line) {
        return Err(AppError::Unprocessable(format!(
            "line {} is not in the note: it has lines 1 to {lines}",
            form.line
        )));
    }
    let body = form.body.trim();
    if body.is_empty() || body.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::Unprocessable(format!(
            "a comment is 1 to {MAX_COMMENT_CHARS} characters"
        )));
    }
    written::comment_on_line(&state.db, id, form.line, user.id, body).await?;
    Ok(Redirect::to(&format!(
        "/instructor/reviews/{id}#s{id}-L{line}"
    )))
}

/// `POST /instructor/reviews/{id}/decision`: `level.<criterion>=<points>`
/// for every criterion, `overall=…`, and `decision=accept|request_changes`.
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let (_, exercise) = reviewable(&state, &user, id).await?;
    let rubric = exercise.rubric().ok_or(AppError::NotFound)?;
    let mut levels = BTreeMap::new();
    let mut decision = None;
    let mut overall = None;
    for (name, value) in fields {
        if let Some(criterion) = name.strip_prefix("level.") {
            let points = value.parse::<u32>().map_err(|_| {
                AppError::Unprocessable(format!("choose a level for criterion {criterion:?}"))
            })?;
            levels.insert(criterion.to_string(), points);
        } else if name == "decision" {
            decision = Some(match value.as_str() {
                "accept" => Decision::Accept,
                "request_changes" => Decision::RequestChanges,
                other => {
                    return Err(AppError::Unprocessable(format!(
                        "unknown decision {other:?}: accept or request_changes"
                    )));
                }
            });
        } else if name == "overall" {
            let text = value.trim().to_string();
            if text.chars().count() > MAX_COMMENT_CHARS {
                return Err(AppError::Unprocessable(format!(
                    "the overall comment is at most {MAX_COMMENT_CHARS} characters"
                )));
            }
            overall = Some(text).filter(|t| !t.is_empty());
        }
    }
    let decision =
        decision.ok_or_else(|| AppError::Unprocessable("accept, or ask for changes".into()))?;
    let card = score(rubric, &levels, decision).map_err(AppError::Unprocessable)?;
    if !written::decide(&state.db, id, user.id, &card, decision, overall.as_deref()).await? {
        return Err(AppError::Conflict(
            "this submission was already reviewed".into(),
        ));
    }
    Ok(Redirect::to("/instructor/reviews"))
}
