//! The account page (profile and personal API tokens) and `GET /api/me`.
//!
//! Tokens are created and revoked only from a browser session: a request
//! authenticated by a token gets 403 there, so a leaked token cannot mint
//! more tokens or outlive its own revocation through a fresh one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::api_tokens::{self, ApiToken, TokenName, TokenScope};
use crate::auth::cohorts::{self, Cohort};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::templates::{Layout, render};
use crate::web::visitor::Visitor;

/// `/account…` and `/api/me`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/api/me", get(me))
}

/// `GET /account`
#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    layout: Layout,
    user: CurrentUser,
    tokens: Vec<ApiToken>,
    cohorts: Vec<Cohort>,
    /// A token just created: its secret, shown this once.
    new_token: Option<String>,
    token_name: String,
    token_error: Option<String>,
}

impl AccountPage {
    async fn load(state: &AppState, user: CurrentUser) -> Result<Self, AppError> {
        Ok(Self {
            layout: Layout::new(state, "Your account"),
            tokens: api_tokens::list(&state.db, user.id).await?,
            cohorts: cohorts::joined(&state.db, user.id).await?,
            user,
            new_token: None,
            token_name: String::new(),
            token_error: None,
        })
    }
}

/// `GET /account`
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    let page = AccountPage::load(&state, user).await?;
    Ok(Html(render(&page)?))
}

/// The new-token form.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    /// `read` (the default) or `submit`.
    #[serde(default)]
    scope: Option<String>,
    /// Days until it expires; empty for never.
    #[serde(default)]
    expires_in_days: String,
}

/// Token management needs a browser session, not a token.
fn require_session(visitor: &Visitor) -> Result<(), AppError> {
    if visitor.via_api_token() {
        return Err(AppError::Forbidden(
            "API tokens are managed from a signed-in browser on /account, not with a token".into(),
        ));
    }
    Ok(())
}

/// `POST /account/tokens`: answers with the account page showing the new
/// token once (it is not stored, so it cannot be shown again).
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    visitor: Visitor,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    require_session(&visitor)?;
    let parsed = TokenName::parse(&form.name).and_then(|name| {
        let scope = TokenScope::parse(form.scope.as_deref().unwrap_or("read"))?;
        let lifetime = api_tokens::parse_lifetime(&form.expires_in_days)?;
        Ok((name, scope, lifetime))
    });
    let created = match parsed {
        Ok((name, scope, lifetime)) => {
            match api_tokens::create(&state.db, user.id, &name, scope, lifetime).await {
                Ok((_, secret)) => Ok(secret),
                Err(api_tokens::CreateError::TooMany) => {
                    Err(api_tokens::CreateError::TooMany.to_string())
                }
                Err(api_tokens::CreateError::Database(error)) => return Err(error.into()),
            }
        }
        Err(message) => Err(message),
    };
    let mut page = AccountPage::load(&state, user).await?;
    match created {
        Ok(secret) => {
            page.new_token = Some(secret);
            Ok(Html(render(&page)?).into_response())
        }
        Err(message) => {
            page.token_name = form.name.trim().to_string();
            page.token_error = Some(message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
        }
    }
}

/// `POST /account/tokens/{id}/revoke`: 404 unless it is a live token of yours.
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    visitor: Visitor,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    require_session(&visitor)?;
    if !api_tokens::revoke(&state.db, user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/account"))
}

/// `GET /api/me`: who the session or token belongs to.
pub async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
    }))
}
