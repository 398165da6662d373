//! Single sign-on pages: `GET /auth/oidc/start` sends the browser to the
//! OpenID provider, `GET /auth/oidc/callback` takes it back and signs in
//! (see [`crate::auth::oidc`] for the protocol, [`crate::auth::identities`]
//! for the accounts).
//!
//! The `state` also goes into a short-lived cookie, and the callback wants
//! both to agree: a sign-in finishes only in the browser that started it, so
//! nobody can sign a victim in to the attacker's account by sending them a
//! callback link (login CSRF).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::identities::{self, LinkError};
use crate::auth::oidc::{self, SignInError};
use crate::auth::secret;
use crate::web::AppState;
use crate::web::auth::{Next, sign_in};
use crate::web::error::AppError;
use crate::web::visitor::{self, Visitor};

/// The cookie that binds a sign-in's `state` to the browser.
pub const STATE_COOKIE: &str = "lockstep_oidc_state";

/// `/auth/oidc/start`, `/auth/oidc/callback`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        .route(oidc::CALLBACK_PATH, get(callback))
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/oidc/start?next=…`: to the provider.
pub async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, AppError> {
    let sso = state
        .sign_in
        .single_sign_on
        .as_ref()
        .ok_or(AppError::NotFound)?;
    let next = visitor::local_path(query.next.as_deref());
    let (url, sign_in_state) = sso.begin(&state.db, &next).await?;
    let max_age = oidc::SIGN_IN_LIFETIME.as_secs();
    Ok((
        [(
            header::SET_COOKIE,
            visitor::cookie(STATE_COOKIE, &sign_in_state, Some(max_age), visitor.https),
        )],
        Redirect::to(&url),
    )
        .into_response())
}

/// `GET /auth/oidc/callback?state=…&code=…`: verifies, links, signs in.
pub async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let sso = state
        .sign_in
        .single_sign_on
        .as_ref()
        .ok_or(AppError::NotFound)?;
    let cookie_name = visitor::cookie_name(STATE_COOKIE, visitor.https);
    let bound = visitor::read_cookie(&headers, &cookie_name);
    let sign_in_state = query.state.as_deref().unwrap_or_default();
    if sign_in_state.is_empty()
        || !bound.is_some_and(|bound| secret::same_secret(bound, sign_in_state))
    {
        return Err(AppError::BadRequest(
            "Single sign-on refused: this sign-in did not start in this browser (or its state is missing). Start again from the log-in page.".into(),
        ));
    }
    if let Some(error) = &query.error {
        let detail = query.error_description.as_deref().unwrap_or(error);
        return Err(AppError::Forbidden(format!(
            "The identity provider did not sign you in: {detail}"
        )));
    }
    let code = query
        .code
        .as_deref()
        .filter(|code| !code.is_empty())
        .ok_or_else(|| AppError::BadRequest("The identity provider sent no code.".into()))?;
    let (identity, next) = match sso.finish(&state.db, sign_in_state, code).await {
        Ok(done) => done,
        Err(SignInError::UnknownState) => {
            return Err(AppError::BadRequest(
                "Single sign-on refused: this sign-in is unknown, used or expired. Start again from the log-in page.".into(),
            ));
        }
        Err(SignInError::Provider(message)) => {
            tracing::warn!(%message, "single sign-on refused");
            return Err(AppError::Forbidden(format!(
                "Single sign-on failed: {message}"
            )));
        }
        Err(SignInError::Database(error)) => return Err(error.into()),
    };
    let user = match identities::sign_in(&state.db, &identity).await {
        Ok(user) => user,
        Err(LinkError::Internal(error)) => return Err(AppError::Internal(error)),
        Err(refused) => return Err(AppError::Conflict(format!("Single sign-on: {refused}."))),
    };
    let mut response = sign_in(&state, &visitor, &user, &next).await?;
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor::cookie(STATE_COOKIE, "", Some(0), visitor.https),
    );
    Ok(response)
}
