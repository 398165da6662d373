//! Sign-up, log-in and log-out pages.
//!
//! Forms re-render with a message per rejected field and their values
//! filled back in — except passwords, which are never echoed. A failed
//! log-in says only "email or password is incorrect", and costs the same
//! time whether or not the email exists (see [`password::verify`]).
//! With `--sso-only` the password forms are refused (403) and the log-in
//! page offers only single sign-on ([`crate::web::oidc`]).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::auth::password::{self, NewPassword};
use crate::auth::rate_limit;
use crate::auth::users::{self, DisplayName, Email, Role, User};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::templates::{Layout, render};
use crate::web::visitor::{self, Visitor};

/// `/signup`, `/login`, `/logout`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_form).post(signup))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

/// Where to go after signing in (`?next=` on the form pages).
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    /// The local path to go to.
    pub next: Option<String>,
}

/// A message per rejected field, plus one for the whole form.
#[derive(Debug, Default)]
pub struct FieldErrors {
    /// About `email`.
    pub email: Option<String>,
    /// About `display_name`.
    pub display_name: Option<String>,
    /// About `password`.
    pub password: Option<String>,
    /// About the form as a whole.
    pub form: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.email.is_some()
            || self.display_name.is_some()
            || self.password.is_some()
            || self.form.is_some()
    }
}

/// `GET /signup` and its re-rendering.
#[derive(Template)]
#[template(path = "auth/signup.html")]
pub struct SignupPage {
    layout: Layout,
    email: String,
    display_name: String,
    next: String,
    errors: FieldErrors,
}

/// `GET /login` and its re-rendering.
#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    errors: FieldErrors,
    /// Whether "Forgot your password?" is offered.
    password_reset: bool,
    /// The single sign-on button's label, when it is configured.
    single_sign_on: Option<String>,
    /// Whether the password form is offered (not with `--sso-only`).
    local_passwords: bool,
}

impl LoginPage {
    fn new(state: &AppState, email: String, next: String, errors: FieldErrors) -> Self {
        Self {
            layout: Layout::new(state, "Log in"),
            email,
            next,
            errors,
            password_reset: state.sign_in.password_reset().is_some(),
            single_sign_on: state.sign_in.single_sign_on_name().map(str::to_string),
            local_passwords: state.sign_in.local_passwords(),
        }
    }
}

/// The refusal of a password form under `--sso-only`.
fn passwords_off(state: &AppState) -> AppError {
    let name = state
        .sign_in
        .single_sign_on_name()
        .unwrap_or("single sign-on");
    AppError::Forbidden(format!(
        "Lockstep passwords are off here: Log in with {name} from the log-in page."
    ))
}

/// The sign-up form's fields.
#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The log-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `GET /signup`
pub async fn signup_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, AppError> {
    let next = visitor::local_path(query.next.as_deref());
    if visitor.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    if !state.sign_in.local_passwords() {
        return Err(passwords_off(&state));
    }
    let page = SignupPage {
        layout: Layout::new(&state, "Sign up"),
        email: String::new(),
        display_name: String::new(),
        next,
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /signup`: creates a learner account and signs it in. Throttled
/// per client address (429 with `Retry-After`), counted before the password
/// is hashed.
pub async fn signup(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<SignupForm>,
) -> Result<Response, AppError> {
    if !state.sign_in.local_passwords() {
        return Err(passwords_off(&state));
    }
    let next = visitor::local_path(form.next.as_deref());
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.email = Some(e))
        .ok();
    let name = DisplayName::parse(&form.display_name)
        .map_err(|e| errors.display_name = Some(e))
        .ok();
    let password = NewPassword::parse(&form.password)
        .map_err(|e| errors.password = Some(e))
        .ok();
    let refill = |errors: FieldErrors| -> Result<Response, AppError> {
        let page = SignupPage {
            layout: Layout::new(&state, "Sign up"),
            email: form.email.trim().to_string(),
            display_name: form.display_name.trim().to_string(),
            next: next.clone(),
            errors,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
    };
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return refill(errors);
    };
    if let Err(refused) =
        rate_limit::attempt_sign_up(&state.db, &state.auth.limits, visitor.address).await?
    {
        return Err(too_many(refused));
    }
    let hash = password::hash(&password).await?;
    let user = match users::create(&state.db, &email, &name, &hash, Role::Learner).await {
        Ok(user) => user,
        Err(users::CreateError::EmailTaken) => {
            errors.email = Some("An account with this email exists: log in instead.".into());
            return refill(errors);
        }
        Err(users::CreateError::Database(error)) => return Err(error.into()),
    };
    sign_in(&state, &visitor, &user, &next).await
}

/// `GET /login`
pub async fn login_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, AppError> {
    let next = visitor::local_path(query.next.as_deref());
    if visitor.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let page = LoginPage::new(&state, String::new(), next, FieldErrors::default());
    Ok(Html(render(&page)?).into_response())
}

/// `POST /login`: throttled per account and per address (429 with
/// `Retry-After` once either has run out), then checks the password.
pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    if !state.sign_in.local_passwords() {
        return Err(passwords_off(&state));
    }
    let next = visitor::local_path(form.next.as_deref());
    let email = form.email.trim();
    let mut errors = FieldErrors::default();
    if email.is_empty() {
        errors.email = Some("Enter your email address.".into());
    }
    if form.password.is_empty() {
        errors.password = Some("Enter your password.".into());
    }
    let limits = &state.auth.limits;
    if !errors.any() {
        // Counted before the password is checked, so parallel guesses are too.
        if let Err(refused) =
            rate_limit::attempt_log_in(&state.db, limits, email, visitor.address).await?
        {
            return Err(too_many(refused));
        }
        let found = users::find_with_hash(&state.db, email).await?;
        let (user, hash) = found.unzip();
        // Over-long input is refused without hashing it, after the same lookup.
        let matches = form.password.len() <= 4 * password::MAX_LENGTH
            && password::verify(&form.password, hash).await?;
        match user {
            Some(user) if matches => {
                rate_limit::logged_in(&state.db, email, visitor.address).await?;
                return sign_in(&state, &visitor, &user, &next).await;
            }
            _ => errors.form = Some("Email or password is incorrect.".into()),
        }
    }
    let page = LoginPage::new(&state, email.to_string(), next, errors);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
}

pub(crate) fn too_many(refused: rate_limit::Refused) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: refused.retry_after.as_secs().max(1),
    }
}

/// Starts a fresh session for `user` (ending the visitor's current one, if
/// any: a new id at every log-in) and goes to `next`.
pub(crate) async fn sign_in(
    state: &AppState,
    visitor: &Visitor,
    user: &User,
    next: &str,
) -> Result<Response, AppError> {
    if let Some(key) = &visitor.session_key {
        state.auth.sessions.end(&state.db, key).await?;
    }
    let (id, session) = state.auth.sessions.start(&state.db, user).await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok((
        [(
            header::SET_COOKIE,
            visitor::session_cookie_value(&id, &session, visitor.https),
        )],
        Redirect::to(next),
    )
        .into_response())
}

/// `POST /logout`: deletes the session row, so the cookie is worthless even
/// if it is replayed, and removes the cookie.
pub async fn logout(State(state): State<AppState>, visitor: Visitor) -> Result<Response, AppError> {
    if let Some(key) = &visitor.session_key {
        state.auth.sessions.end(&state.db, key).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            visitor::clear_session_cookie(visitor.https),
        )],
        Redirect::to("/"),
    )
        .into_response())
}
