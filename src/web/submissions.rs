//! The grading API: submit code for an exercise or run a program, then
//! follow the job to its verdict.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{Role, can_view_learner};
use crate::grading::code::{self, CodeProblem};
use crate::grading::job::{JobStatus, Mode};
use crate::grading::queue::{self, NewJob};
use crate::web::AppState;
use crate::web::CurrentUser;
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
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    /// The learner's file (kinds `implement`/`fix`: the library; `tests`: the tests).
    code: String,
    /// `submit` (visible and hidden tests, the default) or `visible`.
    #[serde(default)]
    #[schema(example = "submit")]
    mode: Option<String>,
}

/// `{"code": "..."}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    code: String,
}

/// Learner code to grade must be non-empty, and acceptable anywhere ([`code::check`]).
fn check_code(code: &str) -> Result<(), AppError> {
    if code.trim().is_empty() {
        return Err(AppError::Unprocessable("code is empty".into()));
    }
    code::check(code).map_err(|problem| code_error(problem, "code", ""))
}

/// The response for code that cannot be taken: `"{subject} {problem}{after}"`.
pub fn code_error(problem: CodeProblem, subject: &str, after: &str) -> AppError {
    let message = format!("{subject} {problem}{after}");
    match problem {
        CodeProblem::TooLarge { .. } => AppError::PayloadTooLarge(message),
        CodeProblem::Nul => AppError::Unprocessable(message),
    }
}

/// Counts a job against the learner's allowance.
fn rate_limit(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    state
        .auth
        .submission_limiter
        .try_acquire(user.id)
        .map_err(|wait| AppError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        })
}

/// `POST /api/exercises/{exercise}/submissions` → 201 `{"id": …}`
#[utoipa::path(
    post,
    path = "/api/exercises/{exercise}/submissions",
    tag = "grading",
    params(("exercise" = String, Path, description = "The exercise's id")),
    request_body = SubmissionBody,
    responses(
        (status = 201, description = "Queued: `{\"id\", \"status\": \"queued\", \"url\"}`; follow it at `url` or on `/api/events`"),
        (status = 401, description = "No valid session or API token"),
        (status = 403, description = "The API token is read-only"),
        (status = 404, description = "No such exercise"),
        (status = 413, description = "The code is too large"),
        (status = 422, description = "Empty code or an unknown mode"),
        (status = 429, description = "Too many jobs queued (see `Retry-After`)"),
    ),
    security(("api_token" = ["submit"]))
)]
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<SubmissionBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    if !exercise.runs_code() {
        return Err(AppError::Unprocessable(format!(
            "{:?} is {}: hand it in with POST /api/exercises/{}/{}",
            exercise.id,
            exercise.kind.label(),
            exercise.id,
            exercise.kind.slug()
        )));
    }
    // Programs are run through `/api/run`; here only the graded modes are accepted.
    let mode = match body
        .mode
        .as_deref()
        .map(|word| (word, word.parse::<Mode>()))
    {
        None => Mode::Submit,
        Some((_, Ok(mode))) if mode.is_graded() => mode,
        Some((word, _)) => {
            return Err(AppError::Unprocessable(format!(
                "unknown mode {word:?}: use \"{}\" or \"{}\"",
                Mode::Submit,
                Mode::Visible
            )));
        }
    };
    let job = NewJob {
        user_id: Some(user.id),
        mode,
        exercise_id: Some(&exercise.id),
        exercise_hash: Some(&exercise.content_hash),
        code: &body.code,
    };
    accept(&state, &user, job).await
}

/// `POST /api/run` → 201 `{"id": …}`: runs a program (a lesson's example).
pub async fn run(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let job = NewJob {
        user_id: Some(user.id),
        mode: Mode::Run,
        exercise_id: None,
        exercise_hash: None,
        code: &body.code,
    };
    accept(&state, &user, job).await
}

/// Checks the code and the learner's allowance, then queues the job: 201 `{"id": …}`.
async fn accept(
    state: &AppState,
    user: &CurrentUser,
    job: NewJob<'_>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    check_code(job.code)?;
    rate_limit(state, user)?;
    let id = queue::enqueue(&state.db, job, state.jobs)
        .await
        .map_err(|refused| match refused {
            queue::Refused::LearnerBusy(_) => AppError::TooManyJobs {
                message: refused.to_string(),
                retry_after_secs: 5,
            },
            queue::Refused::QueueFull(_) => AppError::TooManyJobs {
                message: refused.to_string(),
                retry_after_secs: 30,
            },
            queue::Refused::Database(error) => error.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "id": id, "status": JobStatus::Queued, "url": format!("/api/submissions/{id}") }),
        ),
    ))
}

/// `GET /api/submissions/{id}`: status, and the verdict once done. Only its
/// author, the author's cohort instructors and admins see it; for anyone else
/// it does not exist (404, not 403, so ids cannot be probed).
#[utoipa::path(
    get,
    path = "/api/submissions/{id}",
    tag = "grading",
    params(("id" = i64, Path, description = "The submission's id")),
    responses(
        (status = 200, description = "`{id, status: queued|running|done, phase: compiling|running|null, mode, exercise_id, exercise_hash, created_at, finished_at, verdict}`; the verdict (once done) has Exercism's results.json shape: `status` pass|fail|error, `tests` [{name, status, message, hidden}], `compile_output`, `message`"),
        (status = 401, description = "No valid session or API token"),
        (status = 404, description = "No such submission of yours"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let row = queue::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let visible = match row.user_id {
        Some(author) => can_view_learner(&user, author, &state.db).await?,
        None => user.role == Role::Admin,
    };
    if !visible {
        return Err(AppError::NotFound);
    }
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    Ok(Json(json!({
        "id": row.id,
        "status": row.status,
        "phase": row.phase,
        "mode": row.mode,
        "exercise_id": row.exercise_id,
        "exercise_hash": row.exercise_hash,
        "created_at": rfc3339(row.created_at),
        "finished_at": row.finished_at.and_then(rfc3339),
        "verdict": row.verdict,
    })))
}
