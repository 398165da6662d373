//! The JSON API behind `lockstep learn` (see [`crate::learn`]): what a
//! learner's own editor needs beyond the grading and draft APIs — an
//! exercise as the files of a Cargo project, the hints revealed so far, and
//! the learner's progress through the programme.
//!
//! Everything here only reads (a read-only API token may use it); handing
//! work in goes through [`crate::web::submissions`], [`crate::web::drafts`]
//! and the hint API of [`crate::web::learn`], which a token needs the
//! `submit` scope for.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::curriculum::{ExerciseKind, Item, Work};
use crate::grading::deps::PinnedCrate;
use crate::progress::drafts;
use crate::progress::record;
use crate::progress::summary::LearnerProgress;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/exercises/{exercise}/workspace", get(workspace))
        .route("/api/progress", get(progress))
}

/// The learner's draft: the code and the version it is at (0: no draft yet,
/// the code is the starter).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftState {
    /// The code.
    pub code: String,
    /// The version a save must name (optimistic locking).
    pub version: i64,
}

/// An exercise as the files of a Cargo project, for the learner's own
/// machine: the same crate name, edition, cfg flags and crate versions the
/// grader compiles with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExerciseWorkspace {
    /// The exercise's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `implement`, `fix` or `tests` (the learner writes the tests).
    #[schema(value_type = String, example = "implement")]
    pub kind: ExerciseKind,
    /// The library crate's name, as tests `use` it.
    pub crate_name: String,
    /// The Rust edition the grader compiles with.
    pub edition: String,
    /// Extra `--cfg` flags of every compile (`feature="x"` is Cargo feature x).
    pub cfg: Vec<String>,
    /// Extra environment of the test run.
    pub env: std::collections::BTreeMap<String, String>,
    /// Whether `unsafe` code is allowed (otherwise `unsafe_code` is forbidden).
    pub allow_unsafe: bool,
    /// The statement, in markdown.
    pub statement: String,
    /// Kinds `implement`/`fix`: the tests the learner may read
    /// (`tests/visible.rs`, starting with `use <crate>::*;`).
    pub visible_tests: Option<String>,
    /// Kind `tests`: the implementation the learner's tests run against.
    pub implementation: Option<String>,
    /// The learner's draft, or the starter at version 0.
    pub draft: DraftState,
    /// The hints revealed so far, in order.
    pub hints: Vec<String>,
    /// How many hints the exercise has.
    pub hints_total: usize,
    /// The crates learner code may use, at the grader's versions.
    pub crates: Vec<PinnedCrate>,
    /// The grader's `Cargo.lock` (registry packages only), so a local build
    /// resolves the same versions of indirect dependencies too.
    pub cargo_lock: String,
    /// The exercise's page, relative to the server.
    pub url: String,
}

/// `GET /api/exercises/{exercise}/workspace`: the exercise as a Cargo
/// project (the first download counts as opening it, as the page does).
#[utoipa::path(
    get,
    path = "/api/exercises/{exercise}/workspace",
    tag = "learn",
    params(("exercise" = String, Path, description = "The exercise's id")),
    responses(
        (status = 200, description = "The exercise as a Cargo project", body = ExerciseWorkspace),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such exercise"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
) -> Result<Json<ExerciseWorkspace>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    if !exercise.runs_code() {
        return Err(AppError::Unprocessable(format!(
            "{} is not code: it is handed in on the web, at /exercises/{}",
            exercise.id, exercise.id
        )));
    }
    record::open_exercise(&state.db, user.id, &exercise.id).await?;
    let draft = match drafts::load(&state.db, user.id, &exercise.id).await? {
        Some(draft) => DraftState {
            code: draft.code,
            version: draft.version,
        },
        None => DraftState {
            code: exercise.starter.clone(),
            version: 0,
        },
    };
    let revealed = record::hints_revealed(&state.db, user.id, &exercise.id)
        .await?
        .min(exercise.hints.len());
    Ok(Json(ExerciseWorkspace {
        id: exercise.id.clone(),
        title: exercise.title.clone(),
        kind: exercise.kind,
        crate_name: exercise.crate_name.clone(),
        edition: crate::grading::judge::EDITION.to_string(),
        cfg: exercise.cfg.clone(),
        env: exercise.env.clone(),
        allow_unsafe: exercise.allow_unsafe,
        statement: exercise.statement.clone(),
        visible_tests: exercise.visible_tests().map(str::to_string),
        implementation: match &exercise.work {
            Work::LearnerTests(work) => Some(work.implementation.clone()),
            Work::GivenTests(_) | Work::Written(_) | Work::Review(_) => None,
        },
        draft,
        hints: exercise.hints[..revealed].to_vec(),
        hints_total: exercise.hints.len(),
        crates: state.crates.crates.clone(),
        cargo_lock: state.crates.lock.clone(),
        url: format!("/exercises/{}", exercise.id),
    }))
}

/// The hints of an exercise the learner has revealed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevealedHints {
    /// The hints revealed so far, in order.
    pub revealed: Vec<String>,
    /// How many hints the exercise has.
    pub total: usize,
}

/// `GET /api/exercises/{exercise}/hints`: the hints revealed so far (the
/// next one is revealed with `POST` and `{"index": revealed.len()}`).
#[utoipa::path(
    get,
    path = "/api/exercises/{exercise}/hints",
    tag = "learn",
    params(("exercise" = String, Path, description = "The exercise's id")),
    responses(
        (status = 200, description = "The hints revealed so far", body = RevealedHints),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such exercise"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn hints(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
) -> Result<Json<RevealedHints>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let revealed = record::hints_revealed(&state.db, user.id, &exercise.id)
        .await?
        .min(exercise.hints.len());
    Ok(Json(RevealedHints {
        revealed: exercise.hints[..revealed].to_vec(),
        total: exercise.hints.len(),
    }))
}

/// One lesson or exercise with the learner's mark.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressItem {
    /// `lesson` or `exercise`.
    pub kind: String,
    /// The lesson's id (within its module) or the exercise's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its page, relative to the server.
    pub url: String,
    /// `new`, `started`, `done` or `out-of-date` (passed an older version).
    pub mark: String,
}

/// One module with the learner's completion.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressModule {
    /// The module's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Items done (read or passed).
    pub done: usize,
    /// Items in it.
    pub total: usize,
    /// Its lessons and exercises in order.
    pub items: Vec<ProgressItem>,
}

/// The learner's progress through the programme.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgrammeProgress {
    /// The account's display name.
    pub learner: String,
    /// Items done in the whole programme.
    pub done: usize,
    /// Items in the whole programme.
    pub total: usize,
    /// The modules in order.
    pub modules: Vec<ProgressModule>,
}

/// `GET /api/progress`: every module and item with the learner's mark (the
/// dashboard's content, as JSON).
#[utoipa::path(
    get,
    path = "/api/progress",
    tag = "learn",
    responses(
        (status = 200, description = "The learner's progress", body = ProgrammeProgress),
        (status = 401, description = "No valid session or API token"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn progress(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ProgrammeProgress>, AppError> {
    let progress = LearnerProgress::load(&state.db, user.id).await?;
    let modules: Vec<ProgressModule> = state
        .programme
        .modules
        .iter()
        .map(|module| {
            let summary = progress.module(module);
            ProgressModule {
                id: module.id.clone(),
                title: module.title.clone(),
                done: summary.done,
                total: summary.total,
                items: module
                    .items
                    .iter()
                    .map(|item| ProgressItem {
                        kind: match item {
                            Item::Lesson(_) => "lesson",
                            Item::Exercise(_) => "exercise",
                        }
                        .to_string(),
                        id: match item {
                            Item::Lesson(lesson) => lesson.id.clone(),
                            Item::Exercise(exercise) => exercise.id.clone(),
                        },
                        title: item.title().to_string(),
                        url: item.url(),
                        mark: progress.mark(item).slug().to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Json(ProgrammeProgress {
        learner: user.display_name.to_string(),
        done: modules.iter().map(|m| m.done).sum(),
        total: modules.iter().map(|m| m.total).sum(),
        modules,
    }))
}
