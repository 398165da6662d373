//! Cohort pages: instructors create cohorts and see the ones they teach;
//! learners join with a code (`/join/{code}` or the form on `/cohorts`).
//!
//! A cohort someone does not teach answers 404, exactly like one that does
//! not exist, so ids cannot be probed.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::cohorts::{self, Cohort, CohortName, Person};
use crate::auth::users;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::templates::{Layout, render};

/// `/cohorts…`, `/join…` and `POST /api/cohorts/join`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cohorts", get(index).post(create))
        .route("/cohorts/{id}", get(show))
        .route("/cohorts/{id}/instructors", post(add_instructor))
        .route("/join", post(join_with_form))
        .route("/join/{code}", get(join_page).post(join_with_link))
        .route("/api/cohorts/join", post(join_api))
}

/// `GET /cohorts`: the cohorts you teach (all, for an admin) and the ones you joined.
#[derive(Template)]
#[template(path = "cohorts/index.html")]
pub struct CohortsPage {
    layout: Layout,
    user: CurrentUser,
    teaching: Vec<Cohort>,
    joined: Vec<Cohort>,
    name: String,
    name_error: Option<String>,
    code: String,
    code_error: Option<String>,
}

impl CohortsPage {
    async fn load(state: &AppState, user: CurrentUser) -> Result<Self, AppError> {
        Ok(Self {
            layout: Layout::new(state, "Cohorts"),
            teaching: cohorts::teaching(&state.db, &user).await?,
            joined: cohorts::joined(&state.db, user.id).await?,
            user,
            name: String::new(),
            name_error: None,
            code: String::new(),
            code_error: None,
        })
    }
}

/// `GET /cohorts/{id}`: a cohort's roster, for its instructors.
#[derive(Template)]
#[template(path = "cohorts/show.html")]
pub struct CohortPage {
    layout: Layout,
    cohort: Cohort,
    instructors: Vec<Person>,
    members: Vec<Person>,
    email: String,
    email_error: Option<String>,
}

/// `GET /join/{code}`: "join this cohort?"
#[derive(Template)]
#[template(path = "cohorts/join.html")]
pub struct JoinPage {
    layout: Layout,
    cohort: Cohort,
}

/// `GET /cohorts`
pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    Ok(Html(render(&CohortsPage::load(&state, user).await?)?))
}

/// The new-cohort form.
#[derive(Deserialize)]
pub struct CohortForm {
    #[serde(default)]
    name: String,
}

/// `POST /cohorts`: instructors and admins only (403 for learners).
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CohortForm>,
) -> Result<Response, AppError> {
    user.require_teacher()?;
    match CohortName::parse(&form.name) {
        Ok(name) => {
            let cohort = cohorts::create(&state.db, &user, &name).await?;
            Ok(Redirect::to(&format!("/cohorts/{}", cohort.id)).into_response())
        }
        Err(message) => {
            let mut page = CohortsPage::load(&state, user).await?;
            page.name = form.name.trim().to_string();
            page.name_error = Some(message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
        }
    }
}

async fn cohort_page(state: &AppState, cohort: Cohort) -> Result<CohortPage, AppError> {
    Ok(CohortPage {
        layout: Layout::new(state, &cohort.name),
        instructors: cohorts::instructors(&state.db, &cohort).await?,
        members: cohorts::members(&state.db, cohort.id).await?,
        cohort,
        email: String::new(),
        email_error: None,
    })
}

/// `GET /cohorts/{id}`: 404 unless you teach it (or are an admin).
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let cohort = cohorts::find_taught(&state.db, &user, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Html(render(&cohort_page(&state, cohort).await?)?))
}

/// The add-a-co-teacher form.
#[derive(Deserialize)]
pub struct InstructorForm {
    #[serde(default)]
    email: String,
}

/// `POST /cohorts/{id}/instructors`: adds a co-teacher, who must already
/// have an instructor (or admin) account.
pub async fn add_instructor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<InstructorForm>,
) -> Result<Response, AppError> {
    let cohort = cohorts::find_taught(&state.db, &user, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let error = match users::find_by_email(&state.db, &form.email).await? {
        Some(teacher) if teacher.role.can_teach() => {
            cohorts::add_instructor(&state.db, cohort.id, teacher.id).await?;
            return Ok(Redirect::to(&format!("/cohorts/{}", cohort.id)).into_response());
        }
        Some(_) => "That account is not an instructor; an administrator can change its role.",
        None => "No account has this email.",
    };
    let mut page = cohort_page(&state, cohort).await?;
    page.email = form.email.trim().to_string();
    page.email_error = Some(error.to_string());
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
}

/// `GET /join/{code}`: asks before joining (a GET never changes anything).
pub async fn join_page(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let cohort = cohorts::find_by_code(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = JoinPage {
        layout: Layout::new(&state, &format!("Join {}", cohort.name)),
        cohort,
    };
    Ok(Html(render(&page)?))
}

/// `POST /join/{code}`
pub async fn join_with_link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Redirect, AppError> {
    let cohort = cohorts::find_by_code(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    cohorts::join(&state.db, cohort.id, user.id).await?;
    Ok(Redirect::to("/cohorts"))
}

/// The join form (also the JSON body of `POST /api/cohorts/join`).
#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    code: String,
}

/// `POST /join`: the form on `/cohorts`; an unknown code re-renders it with a message.
pub async fn join_with_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<JoinForm>,
) -> Result<Response, AppError> {
    if let Some(cohort) = cohorts::find_by_code(&state.db, &form.code).await? {
        cohorts::join(&state.db, cohort.id, user.id).await?;
        return Ok(Redirect::to("/cohorts").into_response());
    }
    let mut page = CohortsPage::load(&state, user).await?;
    page.code = form.code.trim().to_string();
    page.code_error = Some("No cohort has this code: check it with your instructor.".into());
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
}

/// `POST /api/cohorts/join` with `{"code": "…"}`: 404 for an unknown code.
pub async fn join_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(form): Json<JoinForm>,
) -> Result<Json<Value>, AppError> {
    let cohort = cohorts::find_by_code(&state.db, &form.code)
        .await?
        .ok_or(AppError::NotFound)?;
    cohorts::join(&state.db, cohort.id, user.id).await?;
    Ok(Json(
        json!({ "cohort": { "id": cohort.id, "name": cohort.name } }),
    ))
}
