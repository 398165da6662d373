//! "Forgot your password?": the request form, and the page a reset link
//! opens (see [`crate::auth::password_reset`]).
//!
//! The request always gets the same answer, whether or not an account has
//! the email, and the lookup and mail happen after the answer is sent, so
//! neither the page nor its timing tells who has an account. Requests are
//! throttled per address and per email. Both pages answer 404 when password
//! reset is not configured (no SMTP relay or public URL).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::auth::password::{self, NewPassword};
use crate::auth::{password_reset, rate_limit};
use crate::web::AppState;
use crate::web::auth::{FieldErrors, sign_in, too_many};
use crate::web::error::AppError;
use crate::web::templates::{Layout, render};
use crate::web::visitor::Visitor;

/// `/password/forgot`, `/password/reset`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(request_form).post(request))
        .route("/password/reset", get(reset_form).post(reset))
}

/// `GET /password/forgot`, and the answer to a request.
#[derive(Template)]
#[template(path = "auth/forgot.html")]
pub struct ForgotPage {
    layout: Layout,
    email: String,
    sent: bool,
    minutes: u64,
    errors: FieldErrors,
}

/// `GET /password/reset?token=…` and its re-rendering.
#[derive(Template)]
#[template(path = "auth/reset.html")]
pub struct ResetPage {
    layout: Layout,
    /// `None`: the link is spent, expired or unknown.
    token: Option<String>,
    email: String,
    errors: FieldErrors,
}

/// The request form's field.
#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
}

/// The reset link's token.
#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The reset form's fields.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

fn forgot_page(state: &AppState, email: String, sent: bool, errors: FieldErrors) -> ForgotPage {
    ForgotPage {
        layout: Layout::new(state, "Forgot your password?"),
        email,
        sent,
        minutes: password_reset::LIFETIME.as_secs() / 60,
        errors,
    }
}

/// `GET /password/forgot`
pub async fn request_form(State(state): State<AppState>) -> Result<Response, AppError> {
    if state.sign_in.password_reset().is_none() {
        return Err(AppError::NotFound);
    }
    let page = forgot_page(&state, String::new(), false, FieldErrors::default());
    Ok(Html(render(&page)?).into_response())
}

/// `POST /password/forgot`: counted against the throttles, then answered
/// at once; the account is looked up and mailed in the background.
pub async fn request(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<RequestForm>,
) -> Result<Response, AppError> {
    let Some((mailer, public_url)) = state.sign_in.password_reset() else {
        return Err(AppError::NotFound);
    };
    let email = form.email.trim().to_string();
    if email.is_empty() || email.len() > 320 {
        let errors = FieldErrors {
            email: Some("Enter the email address of your account.".into()),
            ..FieldErrors::default()
        };
        let page = forgot_page(&state, String::new(), false, errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response());
    }
    if let Err(refused) =
        rate_limit::attempt_password_reset(&state.db, &state.auth.limits, &email, visitor.address)
            .await?
    {
        return Err(too_many(refused));
    }
    let (db, mailer, link_base) = (
        state.db.clone(),
        mailer.clone(),
        format!("{public_url}/password/reset?token="),
    );
    let wanted = email.clone();
    tokio::spawn(async move {
        if let Err(error) = mail_reset_link(&db, &mailer, &link_base, &wanted).await {
            tracing::error!(
                error = format!("{error:#}"),
                "cannot send a password-reset link"
            );
        }
    });
    let page = forgot_page(&state, email, true, FieldErrors::default());
    Ok(Html(render(&page)?).into_response())
}

/// Mails a reset link to the account with `email`, if there is one.
async fn mail_reset_link(
    db: &sqlx::PgPool,
    mailer: &crate::mail::Mailer,
    link_base: &str,
    email: &str,
) -> anyhow::Result<()> {
    let Some(user) = crate::auth::users::find_by_email(db, email).await? else {
        return Ok(());
    };
    let token = password_reset::issue(db, user.id).await?;
    let minutes = password_reset::LIFETIME.as_secs() / 60;
    let body = format!(
        "Hello {name},\n\n\
         someone (we hope you) asked to set a new password for your Lockstep account.\n\
         Open this link within {minutes} minutes to choose one; it works once:\n\n\
         {link_base}{token}\n\n\
         Setting a new password signs your account out everywhere.\n\
         If you did not ask, ignore this mail: your password stays as it is.\n",
        name = user.display_name,
    );
    mailer
        .send(&user.email, "Set a new Lockstep password", body)
        .await?;
    tracing::info!(user_id = user.id, "password-reset link sent");
    Ok(())
}

/// `GET /password/reset?token=…`: the new-password form, or why the link
/// no longer works (410).
pub async fn reset_form(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AppError> {
    if state.sign_in.password_reset().is_none() {
        return Err(AppError::NotFound);
    }
    let user = password_reset::find(&state.db, &query.token).await?;
    let live = user.is_some();
    let page = ResetPage {
        layout: Layout::new(&state, "Set a new password"),
        email: user.map(|user| user.email).unwrap_or_default(),
        token: live.then_some(query.token),
        errors: FieldErrors::default(),
    };
    let status = if live {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok((status, Html(render(&page)?)).into_response())
}

/// `POST /password/reset`: spends the token, sets the password, ends every
/// session and API token of the account, and signs this browser in.
pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    if state.sign_in.password_reset().is_none() {
        return Err(AppError::NotFound);
    }
    let page = |token: Option<String>, email: String, errors: FieldErrors| ResetPage {
        layout: Layout::new(&state, "Set a new password"),
        token,
        email,
        errors,
    };
    // Checked before the (costly) hashing; spent atomically after it.
    let Some(user) = password_reset::find(&state.db, &form.token).await? else {
        let page = page(None, String::new(), FieldErrors::default());
        return Ok((StatusCode::GONE, Html(render(&page)?)).into_response());
    };
    let password = match NewPassword::parse(&form.password) {
        Ok(password) => password,
        Err(message) => {
            let errors = FieldErrors {
                password: Some(message),
                ..FieldErrors::default()
            };
            let page = page(Some(form.token), user.email, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response());
        }
    };
    let hash = password::hash(&password).await?;
    let Some(user) = password_reset::redeem(&state.db, &form.token, &hash).await? else {
        let page = page(None, String::new(), FieldErrors::default());
        return Ok((StatusCode::GONE, Html(render(&page)?)).into_response());
    };
    // Other web nodes hear of it by NOTIFY; this one forgets at once.
    state.auth.sessions.forget_user(user.id);
    tracing::info!(user_id = user.id, "password reset by link");
    sign_in(&state, &visitor, &user, "/").await
}
