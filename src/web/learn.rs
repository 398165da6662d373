//! The learner's pages: lessons with runnable examples and a progress
//! sidebar, and the exercise workspace (statement, editor, hints, live
//! results, history, solution).
//!
//! The pages are rendered complete on the server, so they read without
//! JavaScript; `static/learn.js` then adds the editor, autosave, the Run and
//! Submit buttons and live results over the grading API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::curriculum::highlight::highlight;
use crate::curriculum::{Exercise, Item, Lesson, Module};
use crate::progress::diff::{self, LineDiff};
use crate::progress::drafts;
use crate::progress::history::{self, HistoryPage};
use crate::progress::record::{self, HintRefused};
use crate::progress::summary::{LearnerProgress, Mark};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::submissions::ApiJson;
use crate::web::templates::{Layout, render};
use crate::web::{CurrentUser, MaybeUser};

/// Lesson and exercise pages and their small APIs.
pub fn routes() -> Router<AppState> {
    let signed_in = Router::new()
        .route("/exercises/{exercise}", get(exercise))
        .route("/exercises/{exercise}/history", get(history_fragment))
        .route("/exercises/{exercise}/history/{id}/diff", get(change))
        .route("/exercises/{exercise}/hints", post(reveal_hint_form))
        .route_layer(middleware::from_fn(crate::web::require_signed_in));
    Router::new()
        .route("/lessons/{module}/{lesson}", get(lesson))
        .route(
            "/api/exercises/{exercise}/hints",
            get(crate::web::workspace::hints).post(reveal_hint_api),
        )
        .merge(signed_in)
}

/// One line of a module's table of contents, with the learner's mark.
pub struct SidebarItem {
    /// The item's page.
    pub url: String,
    /// Its title.
    pub title: String,
    /// `lesson` or `exercise`.
    pub kind: &'static str,
    /// The learner's mark (none for visitors who are not signed in).
    pub mark: Option<Mark>,
    /// This is the page being shown.
    pub current: bool,
}

/// The module's items for the sidebar, marked with `progress` when known.
pub fn sidebar(
    module: &Module,
    progress: Option<&LearnerProgress>,
    current_url: &str,
) -> Vec<SidebarItem> {
    module
        .items
        .iter()
        .map(|item| {
            let url = item.url();
            SidebarItem {
                current: url == current_url,
                url,
                title: item.title().to_string(),
                kind: match item {
                    Item::Lesson(_) => "lesson",
                    Item::Exercise(_) => "exercise",
                },
                mark: progress.map(|p| p.mark(item)),
            }
        })
        .collect()
}

/// `GET /lessons/{module}/{lesson}`.
#[derive(Template)]
#[template(path = "learn/lesson.html")]
pub struct LessonPage<'a> {
    layout: Layout,
    module: &'a Module,
    lesson: &'a Lesson,
    sidebar: Vec<SidebarItem>,
    done: usize,
    previous: Option<&'a Item>,
    next: Option<&'a Item>,
    script: String,
    editor_url: String,
    checks: Vec<crate::web::checks::CheckView<'a>>,
}

/// `GET /lessons/{module}/{lesson}`: the lesson, its module's contents with
/// the learner's marks, and previous/next. A signed-in visit is recorded.
pub async fn lesson(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((module_id, lesson_id)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    let module = state
        .programme
        .module(&module_id)
        .ok_or(AppError::NotFound)?;
    let position = module
        .items
        .iter()
        .position(|item| matches!(item, Item::Lesson(lesson) if lesson.id == lesson_id))
        .ok_or(AppError::NotFound)?;
    let Item::Lesson(lesson) = &module.items[position] else {
        return Err(AppError::NotFound);
    };
    let (progress, check_results) = match &user {
        Some(user) => {
            record::visit_lesson(&state.db, user.id, &module.id, &lesson.id).await?;
            let results = if lesson.checks.is_empty() {
                Default::default()
            } else {
                crate::progress::checks::lesson_results(&state.db, user.id, &module.id, &lesson.id)
                    .await?
            };
            (
                Some(LearnerProgress::load(&state.db, user.id).await?),
                results,
            )
        }
        None => (None, Default::default()),
    };
    let (previous, next) = crate::web::pages::neighbours(&state, module, position);
    let url = format!("/lessons/{module_id}/{lesson_id}");
    let page = LessonPage {
        layout: Layout::new(&state, &lesson.title),
        done: progress.as_ref().map_or(0, |p| p.module(module).done),
        sidebar: sidebar(module, progress.as_ref(), &url),
        module,
        lesson,
        previous,
        next,
        script: state.assets.url("learn.js"),
        editor_url: state.assets.url("editor.js"),
        checks: crate::web::checks::views(&lesson.checks, check_results),
    };
    Ok(Html(render(&page)?))
}

/// What the learner has handed in and what it unlocked: the part of the
/// exercise page that changes after every graded submission.
pub struct AfterWork<'a> {
    exercise: &'a Exercise,
    history: HistoryPage,
    /// Passed at some version: the solution and discussion are shown.
    passed: bool,
    solution_html: String,
    /// The last passing code, for the one-click re-run when out of date.
    passing_code: String,
    out_of_date: Option<OutOfDate>,
}

/// The learner passed an earlier version of the exercise.
pub struct OutOfDate {
    /// The submission that passed.
    pub submission_id: i64,
    /// A diff of what the learner sees of the exercise, old → new (when the
    /// old version was recorded).
    pub changes: Option<LineDiff>,
}

impl<'a> AfterWork<'a> {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        exercise: &'a Exercise,
        before: Option<i64>,
    ) -> Result<Self, AppError> {
        let history = history::page(&state.db, user.id, &exercise.id, before).await?;
        let last_pass = history::last_pass(&state.db, user.id, &exercise.id).await?;
        let mut out_of_date = None;
        let mut passing_code = String::new();
        if let Some(pass) = &last_pass {
            passing_code = pass.code.clone();
            if pass.exercise_hash.as_deref() != Some(exercise.content_hash.as_str()) {
                let old = match &pass.exercise_hash {
                    Some(hash) => record::version_text(&state.db, hash).await?,
                    None => None,
                };
                out_of_date = Some(OutOfDate {
                    submission_id: pass.id,
                    // The programme's own text, not the learner's: small and trusted.
                    changes: old.map(|old| diff::line_diff(&old, &record::visible_text(exercise))),
                });
            }
        }
        Ok(Self {
            exercise,
            history,
            passed: last_pass.is_some(),
            solution_html: highlight("rust", &exercise.solution),
            passing_code,
            out_of_date,
        })
    }
}

/// `GET /exercises/{exercise}`.
#[derive(Template)]
#[template(path = "learn/exercise.html")]
pub struct ExercisePage<'a> {
    layout: Layout,
    module: &'a Module,
    exercise: &'a Exercise,
    sidebar: Vec<SidebarItem>,
    done: usize,
    previous: Option<&'a Item>,
    next: Option<&'a Item>,
    code: String,
    version: i64,
    visible_tests_html: String,
    hints: &'a [String],
    revealed: usize,
    after: AfterWork<'a>,
    script: String,
    editor_url: String,
}

/// `?before=ID`: which page of the history to show (the newest without it).
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    before: Option<i64>,
}

/// `GET /exercises/{exercise}`: the workspace. The first visit is recorded
/// in `exercise_progress`.
pub async fn exercise(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Html<String>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    if exercise.rubric().is_some() {
        return crate::web::written::page(&state, &user, exercise).await;
    }
    if exercise.review().is_some() {
        return crate::web::review::page(&state, &user, exercise).await;
    }
    let (module, previous, next) = crate::web::pages::exercise_place(&state, exercise)?;
    record::open_exercise(&state.db, user.id, &exercise.id).await?;
    let draft = drafts::load(&state.db, user.id, &exercise.id).await?;
    let progress = LearnerProgress::load(&state.db, user.id).await?;
    let revealed = record::hints_revealed(&state.db, user.id, &exercise.id)
        .await?
        .min(exercise.hints.len());
    let (code, version) = match draft {
        Some(draft) => (draft.code, draft.version),
        None => (exercise.starter.clone(), 0),
    };
    let page = ExercisePage {
        layout: Layout::new(&state, &exercise.title),
        sidebar: sidebar(
            module,
            Some(&progress),
            &format!("/exercises/{exercise_id}"),
        ),
        done: progress.module(module).done,
        module,
        exercise,
        previous,
        next,
        code,
        version,
        visible_tests_html: highlight("rust", exercise.visible_tests().unwrap_or_default()),
        hints: &exercise.hints,
        revealed,
        after: AfterWork::load(&state, &user, exercise, query.before).await?,
        script: state.assets.url("learn.js"),
        editor_url: state.assets.url("editor.js"),
    };
    Ok(Html(render(&page)?))
}

/// The history, solution and out-of-date notice alone (fetched by the page
/// after each verdict).
#[derive(Template)]
#[template(path = "learn/_after.html")]
pub struct AfterFragment<'a> {
    after: AfterWork<'a>,
}

/// `GET /exercises/{exercise}/history[?before=ID]`: [`AfterFragment`] as HTML.
pub async fn history_fragment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Html<String>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let fragment = AfterFragment {
        after: AfterWork::load(&state, &user, exercise, query.before).await?,
    };
    Ok(Html(render(&fragment)?))
}

/// One submission's changes, alone (fetched by the page when the learner
/// opens them).
#[derive(Template)]
#[template(path = "learn/_diff.html")]
pub struct DiffFragment {
    diff: LineDiff,
}

/// One submission's changes as a page of its own (without scripts).
#[derive(Template)]
#[template(path = "learn/diff.html")]
pub struct DiffPage {
    layout: Layout,
    exercise_id: String,
    submission_id: i64,
    diff: LineDiff,
}

/// `?partial`: the fragment alone, for the page's script.
#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    partial: Option<String>,
}

/// `GET /exercises/{exercise}/history/{id}/diff`: what submission `id`
/// changed since the learner's previous one — one bounded diff, computed
/// off the async workers. 404 unless it is the learner's own.
pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((exercise_id, id)): Path<(String, i64)>,
    Query(query): Query<DiffQuery>,
) -> Result<Html<String>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let change = history::change(&state.db, user.id, &exercise.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let diff = match change.previous {
        Some(previous) => {
            crate::web::cpu::run(move || diff::line_diff(&previous, &change.code)).await?
        }
        None => LineDiff::default(),
    };
    if query.partial.is_some() {
        return Ok(Html(render(&DiffFragment { diff })?));
    }
    let page = DiffPage {
        layout: Layout::new(&state, &format!("Changes in submission {id}")),
        exercise_id: exercise.id.clone(),
        submission_id: id,
        diff,
    };
    Ok(Html(render(&page)?))
}

/// `{"index": n}`: the hint to reveal, from 0.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HintBody {
    /// The hint to reveal, from 0: the number revealed so far.
    index: usize,
}

/// Reveals a hint, mapping refusals to clear errors.
async fn reveal(
    state: &AppState,
    user: &CurrentUser,
    exercise_id: &str,
    index: usize,
) -> Result<(String, usize), AppError> {
    let exercise = state
        .programme
        .exercise(exercise_id)
        .ok_or(AppError::NotFound)?;
    match record::reveal_hint(&state.db, user.id, exercise, index).await? {
        Ok(revealed) => Ok((exercise.hints[index].clone(), revealed)),
        Err(HintRefused::NoSuchHint) => Err(AppError::Unprocessable(format!(
            "this exercise has {} hints; there is no hint {}",
            exercise.hints.len(),
            index + 1
        ))),
        Err(HintRefused::OutOfOrder { revealed }) => Err(AppError::Conflict(format!(
            "hints come one at a time: reveal hint {} first",
            revealed + 1
        ))),
    }
}

/// `POST /api/exercises/{exercise}/hints` `{"index": n}` → `{"index", "hint", "revealed"}`.
#[utoipa::path(
    post,
    path = "/api/exercises/{exercise}/hints",
    tag = "learn",
    params(("exercise" = String, Path, description = "The exercise's id")),
    request_body = HintBody,
    responses(
        (status = 200, description = "`{index, hint, revealed}`: the hint, recorded as revealed"),
        (status = 401, description = "No valid session or API token"),
        (status = 403, description = "The API token is read-only"),
        (status = 404, description = "No such exercise"),
        (status = 409, description = "Hints come one at a time: an earlier one is not revealed yet"),
        (status = 422, description = "There is no hint with that index"),
    ),
    security(("api_token" = ["submit"]))
)]
pub async fn reveal_hint_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<HintBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let (hint, revealed) = reveal(&state, &user, &exercise_id, body.index).await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "index": body.index, "hint": hint, "revealed": revealed })),
    ))
}

/// The form behind the hint button when scripts are off.
#[derive(Deserialize)]
pub struct HintForm {
    index: usize,
}

/// `POST /exercises/{exercise}/hints` (form) → back to the page, at the hint.
pub async fn reveal_hint_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    Form(form): Form<HintForm>,
) -> Result<Redirect, AppError> {
    reveal(&state, &user, &exercise_id, form.index).await?;
    Ok(Redirect::to(&format!(
        "/exercises/{exercise_id}#hint-{}",
        form.index + 1
    )))
}
