//! `GET/PUT /api/exercises/{exercise}/draft`: the editor's autosave.
//!
//! A save names the version it was based on; a stale one is answered 409
//! with the newer draft, and the page asks the learner which to keep (see
//! [`crate::progress::drafts`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::grading::code;
use crate::progress::drafts::{self, Draft, Saved};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::submissions::ApiJson;
use crate::web::submissions::code_error;

/// The draft API.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/exercises/{exercise}/draft", get(show).put(save))
}

/// `{"code": "...", "version": n}`: `version` is the one the editor was
/// loaded at (0 when it started from the starter code).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// The learner's file.
    code: String,
    /// The version the code was loaded at (0: the starter).
    version: i64,
}

fn draft_json(draft: &Draft) -> Value {
    json!({
        "code": draft.code,
        "version": draft.version,
        "updated_at": draft
            .updated_at
            .format(&time::format_description::well_known::Rfc3339)
            .ok(),
    })
}

/// `GET /api/exercises/{exercise}/draft` → `{code, version, updated_at}`;
/// the starter code at version 0 when there is no draft yet.
#[utoipa::path(
    get,
    path = "/api/exercises/{exercise}/draft",
    tag = "drafts",
    params(("exercise" = String, Path, description = "The exercise's id")),
    responses(
        (status = 200, description = "`{code, version, updated_at}` (the starter at version 0 when there is no draft)"),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such exercise"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    Ok(Json(
        match drafts::load(&state.db, user.id, &exercise.id).await? {
            Some(draft) => draft_json(&draft),
            None => json!({ "code": exercise.starter, "version": 0, "updated_at": null }),
        },
    ))
}

/// `PUT /api/exercises/{exercise}/draft` → 200 `{code, version, updated_at}`,
/// or 409 `{"error", "draft": {…the newer one…}}` when `version` is stale.
#[utoipa::path(
    put,
    path = "/api/exercises/{exercise}/draft",
    tag = "drafts",
    params(("exercise" = String, Path, description = "The exercise's id")),
    request_body = DraftBody,
    responses(
        (status = 200, description = "Saved: `{code, version, updated_at}` with the new version"),
        (status = 401, description = "No valid session or API token"),
        (status = 403, description = "The API token is read-only"),
        (status = 404, description = "No such exercise"),
        (status = 409, description = "`version` is stale: `{error, draft: {code, version, updated_at}}` holds the newer draft, which was not overwritten"),
        (status = 422, description = "A negative version or unacceptable code"),
    ),
    security(("api_token" = ["submit"]))
)]
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<Response, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    if body.version < 0 {
        return Err(AppError::Unprocessable(
            "version must be 0 (no draft yet) or the version last loaded".into(),
        ));
    }
    code::check(&body.code)
        .map_err(|problem| code_error(problem, "the draft", " — it was not saved"))?;
    match drafts::save(&state.db, user.id, &exercise.id, &body.code, body.version).await? {
        Saved::Saved(draft) => Ok(Json(draft_json(&draft)).into_response()),
        Saved::Stale(newer) => Ok((
            StatusCode::CONFLICT,
            Json(json!({
                "error": "this draft was changed elsewhere (another tab or device) since you loaded it",
                "draft": newer.as_ref().map(draft_json),
            })),
        )
            .into_response()),
    }
}
