//! The dashboard's data as JSON (session or API token), and the streamed
//! CSV/JSON exports.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::pages::{OverviewQuery, StuckQuery};
use super::{cohort_learner, taught_cohort};
use crate::auth::cohorts;
use crate::instructor::export::{self, Export, Format};
use crate::instructor::learner;
use crate::instructor::overview::{self, Matrix, SortKey};
use crate::instructor::stuck::{self, StuckReason};
use crate::progress::comments;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;

/// `GET /api/instructor/cohorts`
pub async fn cohorts(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    user.require_teacher()?;
    let cohorts = cohorts::teaching(&state.db, &user).await?;
    Ok(Json(json!({
        "cohorts": cohorts.iter().map(|c| json!({
            "id": c.id, "name": c.name, "learners": c.members,
        })).collect::<Vec<_>>()
    })))
}

fn matrix_json(matrix: &Matrix) -> Value {
    json!({
        "exercises": matrix.columns.iter().enumerate().map(|(i, c)| json!({
            "id": c.exercise_id, "title": c.title, "module_id": c.module_id,
            "passed": matrix.column_passed[i], "attempted": matrix.column_attempted[i],
        })).collect::<Vec<_>>(),
        "learners": matrix.rows.iter().map(|r| json!({
            "id": r.id, "display_name": r.display_name, "email": r.email,
            "passed": r.passed, "attempted": r.attempted,
            "last_activity_at": r.last_activity.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
            "cells": r.cells.iter().map(|c| json!({
                "state": c.state.as_str(), "attempts": c.attempts,
                "best_passed": c.best_passed, "best_total": c.best_total,
                "label": c.describe(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/instructor/cohorts/{cohort}/matrix?module=&sort=`
pub async fn matrix(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(cohort_id): Path<i64>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Value>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let (module, sort) = query.parts();
    if module
        .as_deref()
        .is_some_and(|m| state.programme.module(m).is_none())
    {
        return Err(AppError::NotFound);
    }
    let matrix = overview::matrix(
        &state.db,
        &state.programme,
        cohort.id,
        module.as_deref(),
        SortKey::parse(sort.as_deref()),
        None,
    )
    .await?;
    Ok(Json(matrix_json(&matrix)))
}

/// `GET /api/instructor/cohorts/{cohort}/learners/{learner}/progress`: one
/// row of the matrix (the overview refreshes a row with it when the
/// learner's submission is graded).
pub async fn learner_progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((cohort_id, learner_id)): Path<(i64, i64)>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Value>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let id = cohort_learner(&state, &cohort, learner_id).await?.id;
    let (module, _) = query.parts();
    let module = module.filter(|m| state.programme.module(m).is_some());
    let matrix = overview::matrix(
        &state.db,
        &state.programme,
        cohort.id,
        module.as_deref(),
        SortKey::Name,
        Some(id),
    )
    .await?;
    Ok(Json(matrix_json(&matrix)))
}

/// `GET /api/instructor/cohorts/{cohort}/stuck?failures=&minutes=&days=`
pub async fn stuck(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(cohort_id): Path<i64>,
    Query(query): Query<StuckQuery>,
) -> Result<Json<Value>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let learners = stuck::stuck(&state.db, cohort.id, query.thresholds()).await?;
    Ok(Json(json!({
        "learners": learners.iter().map(|l| json!({
            "id": l.id,
            "display_name": l.display_name,
            "latest_submission_id": l.latest_submission,
            "reasons": l.reasons.iter().map(|r| match r {
                StuckReason::Failing { exercise_id, attempts, submission_id } => json!({
                    "kind": "failing", "exercise_id": exercise_id, "attempts": attempts,
                    "submission_id": submission_id,
                }),
                StuckReason::Slow { exercise_id, minutes, submission_id } => json!({
                    "kind": "slow", "exercise_id": exercise_id, "minutes": minutes,
                    "submission_id": submission_id,
                }),
                StuckReason::Inactive { days } => json!({ "kind": "inactive", "days": days }),
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })))
}

fn named_export(name: &str) -> Option<Export> {
    match name {
        "matrix" | "progress" => Some(export::PROGRESS),
        "tests" | "test-results" => Some(export::TEST_RESULTS),
        "submissions" => Some(export::SUBMISSIONS),
        "concept-checks" => Some(export::CONCEPT_CHECKS),
        "written" => Some(export::WRITTEN),
        "reviews" => Some(export::REVIEWS),
        _ => None,
    }
}

/// `GET /instructor/cohorts/{cohort}/export/{matrix|tests|submissions|concept-checks|written|reviews}.csv`
pub async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((cohort_id, file)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let export = file
        .strip_suffix(".csv")
        .and_then(named_export)
        .ok_or(AppError::NotFound)?;
    let body = Body::from_stream(export.stream(state.db.clone(), cohort.id, Format::Csv));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"cohort-{}-{file}\"", cohort.id),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/instructor/cohorts/{cohort}/{progress|tests|submissions}`: the
/// exports as a streamed JSON array.
pub async fn export_json(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((cohort_id, name)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let export = named_export(&name).ok_or(AppError::NotFound)?;
    let body = Body::from_stream(export.stream(state.db.clone(), cohort.id, Format::Json));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/submissions/{id}/comments`: for the submission's author, the
/// instructors of their cohorts and admins; 404 for anyone else.
pub async fn comments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let submission = learner::submission(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !crate::auth::can_view_learner(&user, submission.user_id, &state.db).await? {
        return Err(AppError::NotFound);
    }
    let comments = comments::on(&state.db, submission.id).await?;
    Ok(Json(json!({ "comments": comments })))
}
