//! Certificates over HTTP: the learner's own page (`/certificate`), the
//! public verification page an employer opens without signing in
//! (`/certificates/{id}`), and revocation by an admin or an instructor of
//! the learner's cohort. What "completed" means is in
//! [`crate::progress::certificate`].

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::cohorts::can_view_learner;
use crate::curriculum::Exercise;
use crate::progress::certificate::{self, Certificate};
use crate::progress::summary::LearnerProgress;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::instructor::when;
use crate::web::templates::{Layout, render};

/// The certificate routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/certificate", get(mine))
        .route("/certificates/{id}", get(verify))
        .route("/certificates/{id}/revoke", post(revoke))
}

/// `GET /certificate`: the learner's certificate, or what is left to do.
#[derive(Template)]
#[template(path = "certificates/mine.html")]
pub struct MinePage<'a> {
    layout: Layout,
    programme_title: &'a str,
    missing: Vec<&'a Exercise>,
    certificate: Option<Certificate>,
    issued: String,
}

/// `GET /certificate`: issues the certificate the first time a complete
/// learner opens it; otherwise lists the exercises still to pass.
pub async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    let progress = LearnerProgress::load(&state.db, user.id).await?;
    let missing = certificate::missing(&state.programme, &progress);
    let certificate = if missing.is_empty() {
        Some(certificate::issue(&state.db, user.id, &user.display_name, &state.programme).await?)
    } else {
        None
    };
    let page = MinePage {
        layout: Layout::new(&state, "Your certificate"),
        programme_title: &state.programme.title,
        issued: certificate
            .as_ref()
            .map(|c| when(c.issued_at))
            .unwrap_or_default(),
        missing,
        certificate,
    };
    Ok(Html(render(&page)?))
}

/// `GET /certificates/{id}`: the public verification page.
#[derive(Template)]
#[template(path = "certificates/verify.html")]
pub struct VerifyPage {
    layout: Layout,
    certificate: Certificate,
    issued: String,
    revoked: Option<String>,
    /// The visitor may revoke it.
    can_revoke: bool,
}

/// `GET /certificates/{id}`: anyone may open it. 404 for an id that was
/// never issued; a revoked certificate answers 410 and says so.
pub async fn verify(
    State(state): State<AppState>,
    crate::web::MaybeUser(user): crate::web::MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let certificate = certificate::find(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let can_revoke = match &user {
        Some(user) => may_revoke(&state, user, &certificate).await?,
        None => false,
    };
    let status = if certificate.revoked_at.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let page = VerifyPage {
        layout: Layout::new(
            &state,
            &format!("Certificate: {}", certificate.learner_name),
        ),
        issued: when(certificate.issued_at),
        revoked: certificate.revoked_at.map(when),
        certificate,
        can_revoke,
    };
    Ok((status, Html(render(&page)?)).into_response())
}

/// Admins, and instructors of the learner's cohorts, may revoke (never the
/// learner themselves).
async fn may_revoke(
    state: &AppState,
    user: &CurrentUser,
    certificate: &Certificate,
) -> Result<bool, AppError> {
    Ok(user.role.can_teach()
        && user.id != certificate.user_id
        && can_view_learner(user, certificate.user_id, &state.db).await?)
}

/// `POST /certificates/{id}/revoke` → back to the verification page.
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    user.require_teacher()?;
    let certificate = certificate::find(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_revoke(&state, &user, &certificate).await? {
        return Err(AppError::NotFound);
    }
    certificate::revoke(&state.db, &certificate.id, user.id).await?;
    Ok(Redirect::to(&format!("/certificates/{}", certificate.id)))
}
