//! The grading API: submit code for an exercise or run a program, then
//! follow the job to its verdict.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::cli::MAX_CODE_BYTES;
use crate::grading::queue::{self, JobMode, NewJob};
use crate::web::error::AppError;

/// A JSON body whose rejections become [`AppError`]s with a clear message.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::BytesRejection(_)
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    AppError::PayloadTooLarge("the request body is too large".into())
                }
                JsonRejection::MissingJsonContentType(_) => {
                    AppError::BadRequest("send JSON with Content-Type: application/json".into())
                }
                JsonRejection::JsonDataError(error) => AppError::Unprocessable(error.body_text()),
                other => AppError::BadRequest(other.body_text()),
            }),
        }
    }
}

/// `{"code": "...", "mode": "submit" | "visible"}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    code: String,
    #[serde(default)]
    mode: Option<String>,
}

/// `{"code": "..."}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    code: String,
}

/// Learner code must be non-empty text that PostgreSQL can store, within the size cap.
fn check_code(code: &str) -> Result<(), AppError> {
    if code.trim().is_empty() {
        return Err(AppError::Unprocessable("code is empty".into()));
    }
    if code.len() > MAX_CODE_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "code is {} KiB; the limit is {} KiB",
            code.len().div_ceil(1024),
            MAX_CODE_BYTES / 1024
        )));
    }
    if code.contains('\0') {
        return Err(AppError::Unprocessable(
            "code contains a NUL character".into(),
        ));
    }
    Ok(())
}

/// `POST /api/exercises/{exercise}/submissions` → 201 `{"id": …}`
pub async fn submit(
    State(state): State<AppState>,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<SubmissionBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let mode = match body.mode.as_deref() {
        None | Some("submit") => JobMode::Submit,
        Some("visible") => JobMode::Visible,
        Some(other) => {
            return Err(AppError::Unprocessable(format!(
                "unknown mode {other:?}: use \"submit\" or \"visible\""
            )));
        }
    };
    check_code(&body.code)?;
    let id = queue::enqueue(
        &state.db,
        NewJob {
            user_id: None,
            mode,
            exercise_id: Some(&exercise.id),
            exercise_hash: Some(&exercise.content_hash),
            code: &body.code,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "status": "queued", "url": format!("/api/submissions/{id}") })),
    ))
}

/// `POST /api/run` → 201 `{"id": …}`: runs a program (a lesson's example).
pub async fn run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    check_code(&body.code)?;
    let id = queue::enqueue(
        &state.db,
        NewJob {
            user_id: None,
            mode: JobMode::Run,
            exercise_id: None,
            exercise_hash: None,
            code: &body.code,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "status": "queued", "url": format!("/api/submissions/{id}") })),
    ))
}

/// `GET /api/submissions/{id}`: status, and the verdict once done.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    type Row = (
        i64,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<Value>,
        time::OffsetDateTime,
        Option<time::OffsetDateTime>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, status, phase, mode, exercise_id, exercise_hash, verdict, created_at, finished_at
           FROM submissions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (id, status, phase, mode, exercise_id, exercise_hash, verdict, created_at, finished_at) =
        row.ok_or(AppError::NotFound)?;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    Ok(Json(json!({
        "id": id,
        "status": status,
        "phase": phase,
        "mode": mode,
        "exercise_id": exercise_id,
        "exercise_hash": exercise_hash,
        "created_at": rfc3339(created_at),
        "finished_at": finished_at.and_then(rfc3339),
        "verdict": verdict,
    })))
}
